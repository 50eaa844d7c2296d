//! Roles and identities of the parties of SGP.02 and SGP.22.

use std::fmt;
use std::str::FromStr;

use crate::oid::{Oid, OidError};
use crate::serde_str::serde_via_str;

/// A party's role. Text names are stable lower-case kebab words (`"sm-sr"`, `"m2m-sp"`,
/// `"sm-dp-plus"`) used in configuration, logs and the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// eUICC Manufacturer.
    Eum,
    /// Mobile network operator (SGP.02 Operator / SGP.22 Operator or Service Provider).
    Operator,
    /// M2M Service Provider (SGP.02).
    M2mSp,
    /// Subscription Manager Data Preparation (SGP.02).
    SmDp,
    /// Subscription Manager Secure Routing (SGP.02).
    SmSr,
    /// Subscription Manager Data Preparation+ (SGP.22).
    SmDpPlus,
    /// Subscription Manager Discovery Server (SGP.22).
    SmDs,
    /// Certificate Issuer (GSMA CI).
    Ci,
}

/// An unknown role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {input:?}; expected one of eum, operator, m2m-sp, sm-dp, sm-sr, sm-dp-plus, sm-ds, ci"
)]
pub struct RoleError {
    /// The rejected text (truncated to 64 characters).
    pub input: String,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 8] = [
        Role::Eum,
        Role::Operator,
        Role::M2mSp,
        Role::SmDp,
        Role::SmSr,
        Role::SmDpPlus,
        Role::SmDs,
        Role::Ci,
    ];

    /// The stable text name (`"sm-dp-plus"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Eum => "eum",
            Role::Operator => "operator",
            Role::M2mSp => "m2m-sp",
            Role::SmDp => "sm-dp",
            Role::SmSr => "sm-sr",
            Role::SmDpPlus => "sm-dp-plus",
            Role::SmDs => "sm-ds",
            Role::Ci => "ci",
        }
    }

    /// The name the GSMA documents use (`"SM-DP+"`, `"M2M SP"`).
    pub const fn spec_name(self) -> &'static str {
        match self {
            Role::Eum => "EUM",
            Role::Operator => "Operator",
            Role::M2mSp => "M2M SP",
            Role::SmDp => "SM-DP",
            Role::SmSr => "SM-SR",
            Role::SmDpPlus => "SM-DP+",
            Role::SmDs => "SM-DS",
            Role::Ci => "CI",
        }
    }
}

impl FromStr for Role {
    type Err = RoleError;

    /// Accepts the stable names and the spec spellings, ignoring case, `-`, `_` and spaces:
    /// `sm-sr`, `SM-SR`, `smsr`, `SM-DP+`, `sm_dp_plus`, `M2M SP`, `MNO` (= operator).
    fn from_str(s: &str) -> Result<Role, RoleError> {
        let key: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Ok(match key.as_str() {
            "eum" => Role::Eum,
            "operator" | "mno" => Role::Operator,
            "m2msp" => Role::M2mSp,
            "smdp" => Role::SmDp,
            "smsr" => Role::SmSr,
            "smdpplus" | "smdp+" => Role::SmDpPlus,
            "smds" => Role::SmDs,
            "ci" => Role::Ci,
            _ => {
                return Err(RoleError {
                    input: s.chars().take(64).collect(),
                });
            }
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

serde_via_str!(Role, "a role name such as sm-sr or sm-dp-plus");

/// An SGP.02 entity identifier (an OID, e.g. in `wsa:From` `EntityId=`, `Smsr-id`, `Mno-id`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(pub Oid);

impl EntityId {
    /// The OID.
    pub fn oid(&self) -> &Oid {
        &self.0
    }
}

impl From<Oid> for EntityId {
    fn from(oid: Oid) -> EntityId {
        EntityId(oid)
    }
}

impl FromStr for EntityId {
    type Err = OidError;
    fn from_str(s: &str) -> Result<EntityId, OidError> {
        s.parse().map(EntityId)
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntityId({})", self.0)
    }
}

serde_via_str!(EntityId, "an entity identifier (OID in dotted text)");

/// Who a party is: its role, its SGP.02 entity id when it has one, and a display name (SGP.02
/// `EntityName`, or the SGP.22 `functionRequesterIdentifier` / operator id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    /// The role.
    pub role: Role,
    /// SGP.02 entity OID (absent for parties identified by name only, e.g. SGP.22 operators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<EntityId>,
    /// Display name or SGP.22 identifier.
    pub name: String,
}

impl Identity {
    /// Builds an identity.
    pub fn new(role: Role, entity_id: Option<EntityId>, name: impl Into<String>) -> Identity {
        Identity {
            role,
            entity_id,
            name: name.into(),
        }
    }
}

impl fmt::Display for Identity {
    /// `sm-sr 1.3.6.1.4.1.99.1 "SR One"` or `operator "test.operator.com"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.role)?;
        if let Some(id) = &self.entity_id {
            write!(f, " {id}")?;
        }
        write!(f, " {:?}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.spec_name().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        assert_eq!("SM_DP_PLUS".parse::<Role>(), Ok(Role::SmDpPlus));
        assert_eq!("MNO".parse::<Role>(), Ok(Role::Operator));
        assert!("sm-xx".parse::<Role>().is_err());
        assert!("".parse::<Role>().is_err());
    }

    #[test]
    fn identity_serde_and_display() {
        let id = Identity::new(
            Role::SmSr,
            Some("1.3.6.1.4.1.99.1".parse().unwrap()),
            "SR One",
        );
        assert_eq!(id.to_string(), "sm-sr 1.3.6.1.4.1.99.1 \"SR One\"");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(
            json,
            r#"{"role":"sm-sr","entity_id":"1.3.6.1.4.1.99.1","name":"SR One"}"#
        );
        assert_eq!(serde_json::from_str::<Identity>(&json).unwrap(), id);
        let op: Identity =
            serde_json::from_str(r#"{"role":"operator","name":"test.operator.com"}"#).unwrap();
        assert_eq!(op.entity_id, None);
        assert_eq!(op.to_string(), "operator \"test.operator.com\"");
        assert!(serde_json::from_str::<Identity>(r#"{"role":"x","name":"n"}"#).is_err());
    }
}
