//! The HTTPS administration session trigger: the secured data of an SMS command packet to the
//! ISD-R's TAR asking the card to open the PSK-TLS admin session (GP Amendment B "Administration
//! Session Triggering Parameters", SGP.02 §2.4.4).
//!
//! Encoding (project decision, the layout njiwa uses; tags per GP Amendment B):
//! ```text
//! 81 L                                   Remote Administration Request
//!    [83 L                               Admin Agent Configuration Parameters
//!        [84 L connection parameters]    (TS 102 223 BIP TLVs, opaque here)
//!        [85 L security parameters]      (opaque)
//!        [86 L retry policy]             (opaque)
//!        [89 L                           Admin HTTP POST parameters
//!            [8A L admin host]           (UTF-8)
//!            [8B L agent id]             (UTF-8, e.g. //se-id/eid/<EID>;//aa-id/aid/<ISD-R AID>)
//!            [8C L admin URI]]]          (UTF-8, the initial URI of U-15, default /es5/ram)
//! ```
//! `81 00` asks for a session with the card's stored defaults. Elements are written in this order
//! and only when present; on input unknown elements are skipped.

use rsp_types::tlv::{self, Tag, TlvError};

use super::SmsError;

const T_REQUEST: u32 = 0x81;
const T_AGENT_CONFIG: u32 = 0x83;
const T_CONNECTION: u32 = 0x84;
const T_SECURITY: u32 = 0x85;
const T_RETRY: u32 = 0x86;
const T_POST: u32 = 0x89;
const T_HOST: u32 = 0x8A;
const T_AGENT_ID: u32 = 0x8B;
const T_URI: u32 = 0x8C;

/// Parameters of an HTTPS administration session trigger. All optional: absent values mean the
/// card's configured defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpsTrigger {
    /// Connection parameters (tag `84`), opaque.
    pub connection_parameters: Option<Vec<u8>>,
    /// Security parameters (tag `85`), opaque.
    pub security_parameters: Option<Vec<u8>>,
    /// Retry policy (tag `86`), opaque.
    pub retry_policy: Option<Vec<u8>>,
    /// Administration host (tag `8A`).
    pub admin_host: Option<String>,
    /// Agent identity (tag `8B`).
    pub agent_id: Option<String>,
    /// Administration URI to POST to first (tag `8C`).
    pub admin_uri: Option<String>,
}

fn tag(value: u32) -> Result<Tag, SmsError> {
    Tag::from_u32(value).map_err(tlv_err)
}

fn tlv_err(e: TlvError) -> SmsError {
    SmsError::BadTrigger(e.to_string())
}

fn text(value: &[u8], what: &str) -> Result<String, SmsError> {
    String::from_utf8(value.to_vec())
        .map_err(|_| SmsError::BadTrigger(format!("{what} is not UTF-8")))
}

impl HttpsTrigger {
    /// Whether secured data is a trigger (starts with a complete `81` object) rather than a command
    /// script.
    pub fn is_trigger(data: &[u8]) -> bool {
        data.first() == Some(&0x81) && tlv::parse_single(data).is_ok()
    }

    /// Encodes the trigger.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SmsError> {
        let mut post = Vec::new();
        for (t, v) in [
            (T_HOST, &self.admin_host),
            (T_AGENT_ID, &self.agent_id),
            (T_URI, &self.admin_uri),
        ] {
            if let Some(v) = v {
                tlv::encode_tlv(tag(t)?, v.as_bytes(), &mut post).map_err(tlv_err)?;
            }
        }
        let mut config = Vec::new();
        for (t, v) in [
            (T_CONNECTION, &self.connection_parameters),
            (T_SECURITY, &self.security_parameters),
            (T_RETRY, &self.retry_policy),
        ] {
            if let Some(v) = v {
                tlv::encode_tlv(tag(t)?, v, &mut config).map_err(tlv_err)?;
            }
        }
        if !post.is_empty() {
            tlv::encode_tlv(tag(T_POST)?, &post, &mut config).map_err(tlv_err)?;
        }
        let mut request = Vec::new();
        if !config.is_empty() {
            tlv::encode_tlv(tag(T_AGENT_CONFIG)?, &config, &mut request).map_err(tlv_err)?;
        }
        tlv::encode_tlv_to_vec(tag(T_REQUEST)?, &request).map_err(tlv_err)
    }

    /// Decodes a trigger (the whole secured data must be one `81` object).
    pub fn from_bytes(data: &[u8]) -> Result<HttpsTrigger, SmsError> {
        let request = tlv::parse_single(data)
            .map_err(tlv_err)?
            .expect_tag(tag(T_REQUEST)?)
            .map_err(tlv_err)?;
        let mut out = HttpsTrigger::default();
        for config in request.children() {
            let config = config.map_err(tlv_err)?;
            if config.tag.value() != T_AGENT_CONFIG {
                continue;
            }
            for item in config.children() {
                let item = item.map_err(tlv_err)?;
                match item.tag.value() {
                    T_CONNECTION => out.connection_parameters = Some(item.value.to_vec()),
                    T_SECURITY => out.security_parameters = Some(item.value.to_vec()),
                    T_RETRY => out.retry_policy = Some(item.value.to_vec()),
                    T_POST => {
                        for p in item.children() {
                            let p = p.map_err(tlv_err)?;
                            match p.tag.value() {
                                T_HOST => out.admin_host = Some(text(p.value, "admin host")?),
                                T_AGENT_ID => out.agent_id = Some(text(p.value, "agent id")?),
                                T_URI => out.admin_uri = Some(text(p.value, "admin URI")?),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_trigger_is_81_00() {
        let t = HttpsTrigger::default();
        assert_eq!(t.to_bytes().unwrap(), vec![0x81, 0x00]);
        assert_eq!(HttpsTrigger::from_bytes(&[0x81, 0x00]).unwrap(), t);
        assert!(HttpsTrigger::is_trigger(&[0x81, 0x00]));
        assert!(!HttpsTrigger::is_trigger(&[0xAA, 0x00]));
        assert!(!HttpsTrigger::is_trigger(&[0x81, 0x05, 0x00]));
    }

    #[test]
    fn full_trigger_round_trips() {
        let t = HttpsTrigger {
            connection_parameters: Some(vec![0x35, 0x01, 0x02]),
            security_parameters: Some(vec![0x01]),
            retry_policy: Some(vec![0x00, 0x03]),
            admin_host: Some("smsr.example".into()),
            agent_id: Some("//se-id/eid/89049032123451234512345678901235".into()),
            admin_uri: Some("/es5/ram".into()),
        };
        let bytes = t.to_bytes().unwrap();
        assert_eq!(bytes[0], 0x81);
        assert_eq!(HttpsTrigger::from_bytes(&bytes).unwrap(), t);
        let uri_only = HttpsTrigger {
            admin_uri: Some("/x".into()),
            ..HttpsTrigger::default()
        };
        assert_eq!(
            uri_only.to_bytes().unwrap(),
            vec![0x81, 0x08, 0x83, 0x06, 0x89, 0x04, 0x8C, 0x02, b'/', b'x']
        );
    }

    #[test]
    fn bad_triggers() {
        assert!(HttpsTrigger::from_bytes(&[0x82, 0x00]).is_err());
        assert!(HttpsTrigger::from_bytes(&[0x81, 0x01]).is_err());
        assert!(HttpsTrigger::from_bytes(&[0x81, 0x00, 0x00]).is_err());
        assert!(
            HttpsTrigger::from_bytes(&[0x81, 0x06, 0x83, 0x04, 0x89, 0x02, 0x8C, 0x00]).is_ok()
        );
        assert!(
            HttpsTrigger::from_bytes(&[0x81, 0x07, 0x83, 0x05, 0x89, 0x03, 0x8C, 0x01, 0xFF])
                .is_err()
        );
    }
}
