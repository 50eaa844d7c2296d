//! When WS-Security applies: a mode per peer and per interface, and [`MessageSecurity`], the one object the
//! SOAP service and client consult (policy, signing key, trust roots, replay cache).
//!
//! Modes (C-31, U-32):
//! - `Require`: outgoing messages to the peer are signed; incoming messages must carry a valid signature.
//! - `AcceptIfPresent`: outgoing messages are signed; an incoming signature is verified when present, an
//!   unsigned message is accepted (mutual TLS remains the authentication).
//! - `Off` (the default): nothing is signed; an incoming `wsse:Security` header is parsed and ignored.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use rsp_sgp02::Interface;
use rsp_types::EntityId;
use time::OffsetDateTime;

use crate::replay::{ReplayCache, ReplayError};
use crate::wsse::{VerifiedEnvelope, WsSecurityError, WsSigner, WsVerifier};

/// What WS-Security means for one peer on one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SecurityMode {
    /// Sign outgoing; require and verify incoming.
    Require,
    /// Sign outgoing; verify incoming when present.
    AcceptIfPresent,
    /// Neither sign nor verify.
    #[default]
    Off,
}

impl SecurityMode {
    /// The configuration spelling: `require`, `accept-if-present`, `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Require => "require",
            Self::AcceptIfPresent => "accept-if-present",
            Self::Off => "off",
        }
    }
}

impl fmt::Display for SecurityMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SecurityMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "require" | "required" => Ok(Self::Require),
            "accept-if-present" | "optional" => Ok(Self::AcceptIfPresent),
            "off" | "none" => Ok(Self::Off),
            other => Err(format!(
                "unknown WS-Security mode {other:?} (require, accept-if-present, off)"
            )),
        }
    }
}

/// One rule: a mode for a peer (None: any peer) on an interface (None: any interface).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// The peer's EntityId, or any.
    pub peer: Option<EntityId>,
    /// The interface, or any.
    pub interface: Option<Interface>,
    /// The mode.
    pub mode: SecurityMode,
}

/// Modes per peer and interface. The most specific rule wins: (peer, interface), then (peer, any), then
/// (any, interface), then the default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityPolicy {
    /// Mode when no rule matches.
    pub default: SecurityMode,
    /// The rules.
    pub rules: Vec<PolicyRule>,
}

impl SecurityPolicy {
    /// A policy with one mode everywhere.
    pub fn uniform(mode: SecurityMode) -> Self {
        Self {
            default: mode,
            rules: Vec::new(),
        }
    }

    /// Adds a rule.
    pub fn with_rule(
        mut self,
        peer: Option<EntityId>,
        interface: Option<Interface>,
        mode: SecurityMode,
    ) -> Self {
        self.rules.push(PolicyRule {
            peer,
            interface,
            mode,
        });
        self
    }

    /// The mode for `peer` (None: unidentified) on `interface` (None: unknown).
    pub fn mode(&self, peer: Option<&EntityId>, interface: Option<Interface>) -> SecurityMode {
        let find = |want_peer: bool, want_iface: bool| {
            self.rules.iter().find(|r| {
                let peer_ok = match (&r.peer, want_peer) {
                    (Some(p), true) => Some(p) == peer,
                    (None, false) => true,
                    _ => false,
                };
                let iface_ok = match (r.interface, want_iface) {
                    (Some(i), true) => Some(i) == interface,
                    (None, false) => true,
                    _ => false,
                };
                peer_ok && iface_ok
            })
        };
        find(true, true)
            .or_else(|| find(true, false))
            .or_else(|| find(false, true))
            .map_or(self.default, |r| r.mode)
    }
}

/// Policy, signing key, trust roots and replay cache of one SOAP endpoint or client.
#[derive(Debug, Default)]
pub struct MessageSecurity {
    policy: SecurityPolicy,
    signer: Option<WsSigner>,
    verifier: Option<WsVerifier>,
    replay: ReplayCache,
}

impl MessageSecurity {
    /// Message security with `policy` and no key or trust roots yet.
    pub fn new(policy: SecurityPolicy) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    /// Sets the signing certificate and key.
    pub fn with_signer(mut self, signer: WsSigner) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Sets the trust roots and freshness window for incoming signatures.
    pub fn with_verifier(mut self, verifier: WsVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Replaces the replay cache (e.g. with another capacity).
    pub fn with_replay_cache(mut self, cache: ReplayCache) -> Self {
        self.replay = cache;
        self
    }

    /// The policy.
    pub fn policy(&self) -> &SecurityPolicy {
        &self.policy
    }

    /// The mode for a peer on an interface.
    pub fn mode(&self, peer: Option<&EntityId>, interface: Option<Interface>) -> SecurityMode {
        self.policy.mode(peer, interface)
    }

    /// Checks an incoming envelope `xml` from `peer` on `interface`. `present`: the envelope has a
    /// `wsse:Security` header. `same_identity` says whether a signing certificate (DER) is the TLS client's
    /// identity. With `check_replay`, a signed MessageID is accepted once within its window.
    ///
    /// `Ok(None)`: nothing to verify under the policy; `Ok(Some(_))`: verified.
    #[allow(clippy::too_many_arguments)]
    pub fn check_inbound(
        &self,
        xml: &str,
        peer: Option<&EntityId>,
        interface: Option<Interface>,
        present: bool,
        now: OffsetDateTime,
        same_identity: &dyn Fn(&[u8]) -> bool,
        check_replay: bool,
    ) -> Result<Option<VerifiedEnvelope>, WsSecurityError> {
        let mode = self.mode(peer, interface);
        match (mode, present) {
            (SecurityMode::Off, _) | (SecurityMode::AcceptIfPresent, false) => return Ok(None),
            (SecurityMode::Require, false) => return Err(WsSecurityError::Missing),
            _ => {}
        }
        let verifier = self.verifier.as_ref().ok_or_else(|| {
            WsSecurityError::UntrustedCertificate("no trust roots configured".into())
        })?;
        let verified = verifier.verify_envelope(xml, now)?;
        if !same_identity(&verified.signer) {
            return Err(WsSecurityError::IdentityMismatch);
        }
        if check_replay {
            let message_id = verified
                .message_id
                .as_deref()
                .ok_or_else(|| WsSecurityError::NotCovered("wsa:MessageID (absent)".into()))?;
            let window_end = verified.created + verifier.max_age() + verifier.skew();
            let until = verified
                .expires
                .map_or(window_end, |e| (e + verifier.skew()).max(window_end));
            let key = format!(
                "{}|{message_id}",
                hex(&openssl::sha::sha256(&verified.signer))
            );
            self.replay
                .check_and_record(&key, until, now)
                .map_err(|e| match e {
                    ReplayError::Replayed(_) => WsSecurityError::Replayed(message_id.to_string()),
                    ReplayError::Full => {
                        WsSecurityError::Replayed(format!("{message_id} (replay cache full)"))
                    }
                })?;
        }
        Ok(Some(verified))
    }

    /// Signs an outgoing envelope for `peer` on `interface` when the policy says so. Unchanged when the mode is
    /// `Off`, or `AcceptIfPresent` without a signing key; an error when `Require` has no key.
    pub fn sign_outbound<'a>(
        &self,
        xml: &'a str,
        peer: Option<&EntityId>,
        interface: Option<Interface>,
        now: OffsetDateTime,
    ) -> Result<Cow<'a, str>, WsSecurityError> {
        let mode = self.mode(peer, interface);
        match (mode, &self.signer) {
            (SecurityMode::Off, _) | (SecurityMode::AcceptIfPresent, None) => {
                Ok(Cow::Borrowed(xml))
            }
            (SecurityMode::Require, None) => Err(WsSecurityError::Signing(
                "WS-Security is required but no signing key is configured".into(),
            )),
            (_, Some(signer)) => signer.sign_envelope(xml, now).map(Cow::Owned),
        }
    }
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn most_specific_rule_wins() {
        let op: EntityId = "2.999.20".parse().unwrap();
        let other: EntityId = "2.999.21".parse().unwrap();
        let p = SecurityPolicy::uniform(SecurityMode::Off)
            .with_rule(None, Some(Interface::Es4), SecurityMode::AcceptIfPresent)
            .with_rule(Some(op.clone()), None, SecurityMode::Require)
            .with_rule(Some(op.clone()), Some(Interface::Es2), SecurityMode::Off);
        assert_eq!(p.mode(Some(&op), Some(Interface::Es2)), SecurityMode::Off);
        assert_eq!(
            p.mode(Some(&op), Some(Interface::Es4)),
            SecurityMode::Require
        );
        assert_eq!(
            p.mode(Some(&other), Some(Interface::Es4)),
            SecurityMode::AcceptIfPresent
        );
        assert_eq!(
            p.mode(Some(&other), Some(Interface::Es1)),
            SecurityMode::Off
        );
        assert_eq!(p.mode(None, None), SecurityMode::Off);
        assert_eq!(
            "Accept_If_Present".parse(),
            Ok(SecurityMode::AcceptIfPresent)
        );
        assert!("sometimes".parse::<SecurityMode>().is_err());
    }
}
