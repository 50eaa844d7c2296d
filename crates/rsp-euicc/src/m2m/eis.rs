//! The card's EIS as the EUM registers it with ES1 `RegisterEIS` (`sgp02.md` §5.2, §6.1, §8.17).
//!
//! [`EisSeed::to_eis`] turns the EUM's facts about a card ([`EisSeed`], from [`M2mCard::issue`] or
//! [`M2mCard::eis_seed`]) into the XML-model [`Eis`] of `rsp-sgp02`: `EumSignedInfo` (EID, `Eum-id`,
//! production date, platform, ISD-P load file and module AIDs, the ECASD with CERT.ECASD.ECKA,
//! capabilities), memory, a `ProfileInfo` per installed profile, and the ISD-R with its SCP80 and
//! SCP81 key sets. `EumSignature` is left empty for the EUM's signer (`rsp-xmlsec`) to fill.
//!
//! # ISD-R keys on ES1 (U-16)
//! The key values never appear in clear: each `KeyComponents@value` is the key encrypted under the
//! EUM–SM-SR transport key ([`Es1TransportKey`]: AES-128, ECB, PKCS#7 padding, the minimum scheme
//! `sgp02.md` §12.6 requires), and `Key@kcv` is the GlobalPlatform key check value of the clear key
//! (first 3 bytes of AES(key, `01`×16)). The SM-SR, configured with the same transport key, gets the
//! clear key sets back with [`open_isd_r_key_sets`], which checks every KCV.
//!
//! # Project choices where the schema leaves room
//! - ECASD: one key set of version [`ECASD_KEY_VERSION`] holding only CERT.ECASD.ECKA (index 1,
//!   `CaId` = the EUM's entity identifier, the certificate's issuer); no `Type`, no TAR.
//! - `Sin`/`Sdin` are empty for both security domains (the simulated card has neither, U-17).
//! - Key component types: `88` (AES) for SCP80 keys, `85` (TLS PSK) for the SCP81 key, as in the
//!   Scenario#3 key types the card accepts.
//! - Profiles loaded at the factory have no SM-DP (`Smdp-id` absent) and an empty POL2; their
//!   `Mno-id` is given by the caller; the wire state of an ISD-P without an installed profile is
//!   `Created` (C-40).

use rsp_crypto::aes::{AesKey, BLOCK_LEN};
use rsp_crypto::scp03::key_check_value;
use rsp_sgp02::common::{DateTime, HexBinary};
use rsp_sgp02::data::{
    Attr, Bounded, Eis, EuiccCapabilities, EumSignature, EumSignedInfo, GpCertificate, HexBinary16,
    Key, KeyComponent, KeyIndex, KeyTypeCoding, Keyset, KeysetUsage, KeysetVersion, Pol2,
    ProfileInfo, ProfileState, SdRole, SecurityDomain, String100, SubscriptionAddress, Tar,
    ThreeDigitVersion,
};
use rsp_sgp02::schema::{NonEmpty, XmlItem};
use rsp_types::EntityId;
use zeroize::Zeroizing;

use super::issue::{EisKeySet, EisSecurityDomain, EisSeed};
use super::state::{IsdPState, KeySet, KeySetKind, KeyValue};

#[cfg(doc)]
use super::card::M2mCard;

/// The element name of a standalone EIS document (as in the `ES1-RegisterEISRequest` body).
pub const EIS_ELEMENT: &str = "Eis";
/// Key version of the ECASD key set that carries CERT.ECASD.ECKA (project choice).
pub const ECASD_KEY_VERSION: u8 = 0x70;
/// GlobalPlatform key type coding of an AES key.
pub const KEY_TYPE_AES: u8 = 0x88;
/// GlobalPlatform key type coding of a TLS pre-shared key (SCP81).
pub const KEY_TYPE_TLS_PSK: u8 = 0x85;
/// Length of the ES1 transport key (AES-128).
pub const TRANSPORT_KEY_LEN: usize = 16;

/// Why an EIS could not be built, read or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EisError {
    /// A fact of the seed does not fit the EIS schema.
    #[error("EIS field {field}: {message}")]
    Invalid {
        /// The EIS element.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The transport key is unusable.
    #[error("ES1 transport key: {0}")]
    TransportKey(String),
    /// A protected key does not decrypt, or does not match its key check value.
    #[error("ISD-R key set {version}, key {index}: {message}")]
    Key {
        /// Key set version.
        version: u8,
        /// Key index.
        index: u8,
        /// What is wrong.
        message: String,
    },
    /// The EIS document is not XML or not an EIS.
    #[error("EIS document: {0}")]
    Document(String),
}

fn invalid(field: &'static str) -> impl Fn(String) -> EisError {
    move |message| EisError::Invalid { field, message }
}

/// The EUM–SM-SR transport key of ES1 (U-16): AES-128, ECB mode, PKCS#7 padding. `Debug` shows only
/// its key check value.
#[derive(Clone)]
pub struct Es1TransportKey {
    key: AesKey,
    bytes: Zeroizing<[u8; TRANSPORT_KEY_LEN]>,
}

impl std::fmt::Debug for Es1TransportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Es1TransportKey(kcv {}, ..)",
            hex::encode_upper(self.kcv())
        )
    }
}

impl Es1TransportKey {
    /// A transport key from its 16 bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, EisError> {
        let array: [u8; TRANSPORT_KEY_LEN] = bytes.try_into().map_err(|_| {
            EisError::TransportKey(format!(
                "{} bytes, AES-128 needs {TRANSPORT_KEY_LEN}",
                bytes.len()
            ))
        })?;
        let key = AesKey::new(&array).map_err(|e| EisError::TransportKey(e.to_string()))?;
        Ok(Self {
            key,
            bytes: Zeroizing::new(array),
        })
    }

    /// A fresh random transport key (operating-system randomness).
    pub fn generate() -> Result<Self, EisError> {
        let mut bytes = Zeroizing::new([0u8; TRANSPORT_KEY_LEN]);
        rsp_crypto::ecc::fill_random(bytes.as_mut())
            .map_err(|e| EisError::TransportKey(e.to_string()))?;
        Self::new(bytes.as_slice())
    }

    /// The key from its text form: 32 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, EisError> {
        let bytes = Zeroizing::new(
            hex::decode(text.trim()).map_err(|_| EisError::TransportKey("not hex".into()))?,
        );
        Self::new(&bytes)
    }

    /// The text form written to a key file: 32 upper-case hex digits and a newline.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}\n", hex::encode_upper(self.bytes.as_slice())))
    }

    /// Key check value (first 3 bytes of AES(key, `01`×16)), to tell keys apart without showing them.
    pub fn kcv(&self) -> [u8; 3] {
        key_check_value(&self.key)
    }

    /// Encrypts `plain` (AES-ECB, PKCS#7 padding: always 1 to 16 padding bytes).
    pub fn protect(&self, plain: &[u8]) -> Result<Vec<u8>, EisError> {
        let pad = BLOCK_LEN - plain.len() % BLOCK_LEN;
        let pad_byte = u8::try_from(pad).map_err(|e| EisError::TransportKey(e.to_string()))?;
        let mut out = Vec::with_capacity(plain.len() + pad);
        out.extend_from_slice(plain);
        out.resize(plain.len() + pad, pad_byte);
        self.key
            .ecb_encrypt_in_place(&mut out)
            .map_err(|e| EisError::TransportKey(e.to_string()))?;
        Ok(out)
    }

    /// Decrypts what [`Self::protect`] wrote; refuses a length that is not whole blocks and bad
    /// padding.
    pub fn unprotect(&self, protected: &[u8]) -> Result<Zeroizing<Vec<u8>>, EisError> {
        if protected.is_empty() || !protected.len().is_multiple_of(BLOCK_LEN) {
            return Err(EisError::TransportKey(format!(
                "{} bytes is not a whole number of AES blocks",
                protected.len()
            )));
        }
        let mut out = Zeroizing::new(protected.to_vec());
        self.key
            .ecb_decrypt_in_place(&mut out)
            .map_err(|e| EisError::TransportKey(e.to_string()))?;
        let bad = || EisError::TransportKey("bad PKCS#7 padding (wrong transport key?)".into());
        let pad = usize::from(*out.last().ok_or_else(bad)?);
        if pad == 0 || pad > BLOCK_LEN {
            return Err(bad());
        }
        let body = out.len() - pad;
        if out
            .get(body..)
            .is_none_or(|tail| tail.iter().any(|&b| usize::from(b) != pad))
        {
            return Err(bad());
        }
        out.truncate(body);
        Ok(out)
    }
}

fn usage(kind: KeySetKind) -> KeysetUsage {
    match kind {
        KeySetKind::Scp80 => KeysetUsage::Scp80,
        KeySetKind::Scp81 => KeysetUsage::Scp81,
    }
}

fn key_type(kind: KeySetKind) -> u8 {
    match kind {
        KeySetKind::Scp80 => KEY_TYPE_AES,
        KeySetKind::Scp81 => KEY_TYPE_TLS_PSK,
    }
}

fn unhex(field: &'static str, s: &str) -> Result<Vec<u8>, EisError> {
    hex::decode(s).map_err(|_| EisError::Invalid {
        field,
        message: format!("not hex: {s:?}"),
    })
}

fn isd_r_key_set(set: &EisKeySet, transport: &Es1TransportKey) -> Result<Keyset, EisError> {
    let mut keys = Vec::with_capacity(set.keys.len());
    for k in &set.keys {
        let value = Zeroizing::new(unhex("Isd-r/Keyset/Key", &k.value)?);
        keys.push(Key {
            kcv: Attr(HexBinary(unhex("Isd-r/Keyset/Key/@kcv", &k.kcv)?)),
            index: KeyIndex::new(k.index).map_err(invalid("Isd-r/Keyset/Key/Index"))?,
            key_components: NonEmpty(vec![KeyComponent {
                key_type: Attr(KeyTypeCoding(key_type(set.kind))),
                value: Attr(HexBinary(transport.protect(&value)?)),
            }]),
        });
    }
    Ok(Keyset {
        version: KeysetVersion::new(set.version).map_err(invalid("Isd-r/Keyset/Version"))?,
        keyset_type: Some(usage(set.kind)),
        cntr: set.counter,
        key: keys,
        certificate: Vec::new(),
    })
}

fn tars(sd: &EisSecurityDomain, field: &'static str) -> Result<Vec<Tar>, EisError> {
    sd.tar
        .iter()
        .map(|t| {
            let bytes = unhex(field, t)?;
            <[u8; 3]>::try_from(bytes.as_slice())
                .map(Tar)
                .map_err(|_| EisError::Invalid {
                    field,
                    message: format!("TAR {t} is not 3 bytes"),
                })
        })
        .collect()
}

fn version(field: &'static str, s: &str) -> Result<ThreeDigitVersion, EisError> {
    s.parse().map_err(invalid(field))
}

impl EisSeed {
    /// The card's EIS for ES1 `RegisterEIS`, naming `smsr_id` as the SM-SR in charge and `mno_id` as
    /// the Operator of the profiles present at issue time. ISD-R key values are encrypted under
    /// `transport` (U-16); `EumSignature` is empty, for the EUM to sign.
    pub fn to_eis(
        &self,
        smsr_id: &EntityId,
        mno_id: &EntityId,
        transport: &Es1TransportKey,
    ) -> Result<Eis, EisError> {
        let eum_id: EntityId =
            self.eum_id
                .parse()
                .map_err(|e: rsp_types::oid::OidError| EisError::Invalid {
                    field: "Eum-id",
                    message: e.to_string(),
                })?;
        let seconds = i64::try_from(self.production_date.0).map_err(|e| EisError::Invalid {
            field: "ProductionDate",
            message: e.to_string(),
        })?;
        let production_date = time::OffsetDateTime::from_unix_timestamp(seconds)
            .map(DateTime)
            .map_err(|e| EisError::Invalid {
                field: "ProductionDate",
                message: e.to_string(),
            })?;

        let certificates = self
            .ecasd
            .certificates
            .iter()
            .map(|c| {
                Ok(GpCertificate {
                    index: KeyIndex::new(c.index).map_err(invalid("Ecasd/Certificate/Index"))?,
                    ca_id: eum_id.clone(),
                    value: HexBinary(unhex("Ecasd/Certificate/Value", &c.value)?),
                })
            })
            .collect::<Result<Vec<_>, EisError>>()?;
        if certificates.is_empty() {
            return Err(EisError::Invalid {
                field: "Ecasd",
                message: "no CERT.ECASD.ECKA".into(),
            });
        }
        let ecasd = SecurityDomain {
            aid: self.ecasd.aid,
            tar: tars(&self.ecasd, "Ecasd/Tar")?,
            sin: HexBinary16::default(),
            sdin: HexBinary16::default(),
            role: SdRole::Ecasd,
            keyset: Bounded(vec![Keyset {
                version: KeysetVersion::new(ECASD_KEY_VERSION)
                    .map_err(invalid("Ecasd/Keyset/Version"))?,
                keyset_type: None,
                cntr: None,
                key: Vec::new(),
                certificate: certificates,
            }]),
        };

        let key_sets = self
            .isd_r
            .key_sets
            .iter()
            .map(|s| isd_r_key_set(s, transport))
            .collect::<Result<Vec<_>, EisError>>()?;
        if key_sets.is_empty() || key_sets.len() > 127 {
            return Err(EisError::Invalid {
                field: "Isd-r/Keyset",
                message: format!("{} key sets (1 to 127)", key_sets.len()),
            });
        }
        let isd_r = SecurityDomain {
            aid: self.isd_r.aid,
            tar: tars(&self.isd_r, "Isd-r/Tar")?,
            sin: HexBinary16::default(),
            sdin: HexBinary16::default(),
            role: SdRole::IsdR,
            keyset: Bounded(key_sets),
        };

        let caps = &self.capabilities;
        let euicc_capabilities = EuiccCapabilities {
            cattp_support: caps.cattp_support,
            cattp_version: caps
                .cattp_version
                .as_deref()
                .map(|v| version("CattpVersion", v))
                .transpose()?,
            http_support: caps.http_support,
            http_version: caps
                .http_version
                .as_deref()
                .map(|v| version("HttpVersion", v))
                .transpose()?,
            secure_packet_version: version("SecurePacketVersion", &caps.secure_packet_version)?,
            remote_provisioning_version: version(
                "RemoteProvisioningVersion",
                &caps.remote_provisioning_version,
            )?,
        };

        let profile_info = self
            .profiles
            .iter()
            .map(|p| ProfileInfo {
                iccid: p.iccid,
                isd_p_aid: p.isd_p_aid,
                mno_id: mno_id.clone(),
                fallback_attribute: p.fall_back,
                emergency_profile_attribute: None,
                test_profile: None,
                subscription_address: SubscriptionAddress {
                    imsi: None,
                    msisdn: None,
                },
                state: match p.state {
                    IsdPState::Enabled => ProfileState::Enabled,
                    IsdPState::Disabled => ProfileState::Disabled,
                    IsdPState::Selectable | IsdPState::Personalized => ProfileState::Created,
                },
                smdp_id: None,
                profile_type: None,
                allocated_memory: p.allocated_memory,
                free_memory: None,
                pol2: Pol2::empty(),
            })
            .collect();

        Ok(Eis {
            eum_signed_info: EumSignedInfo {
                eid: self.eid,
                eum_id,
                production_date,
                platform_type: String100::new(&self.platform_type)
                    .map_err(invalid("PlatformType"))?,
                platform_version: version("PlatformVersion", &self.platform_version)?,
                isd_p_loadfile_aid: self.isd_p_loadfile_aid,
                isd_p_module_aid: self.isd_p_module_aid,
                ecasd,
                euicc_capabilities,
            },
            // Placeholder, as the default-namespace document reads back (no signature yet).
            eum_signature: EumSignature(rsp_sgp02::xml::Element::new(
                Some(rsp_sgp02::DEFAULT_NAMESPACE),
                "EumSignature",
            )),
            remaining_memory: self.remaining_memory,
            available_memory_for_profiles: self.available_memory_for_profiles,
            last_audit_date: None,
            smsr_id: smsr_id.clone(),
            profile_info,
            isd_r,
            audit_trail: None,
            additional_properties: None,
        })
    }
}

/// The EIS as a standalone XML document (`<rps:Eis>` in namespace `ns`, with an XML declaration).
pub fn eis_to_xml(eis: &Eis, ns: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        eis.to_element(ns, EIS_ELEMENT).to_xml()
    )
}

/// Reads a standalone EIS document (root element `Eis` in any namespace), with `rsp-sgp02`'s
/// parser limits.
pub fn eis_from_xml(text: &str) -> Result<Eis, EisError> {
    let el = rsp_sgp02::xml::Element::parse(text).map_err(|e| EisError::Document(e.to_string()))?;
    if el.name != EIS_ELEMENT {
        return Err(EisError::Document(format!(
            "root element {} is not {EIS_ELEMENT}",
            el.name
        )));
    }
    Eis::from_element(&el).map_err(|e| EisError::Document(e.to_string()))
}

/// The SM-SR side of U-16: the clear ISD-R key sets of a registered EIS, decrypted with the EUM's
/// transport key. Every key must decrypt to the key its `@kcv` names; a key set's usage comes from
/// `Type`, else from its version (`40`–`4F` SCP81, `01`–`0F` SCP80).
pub fn open_isd_r_key_sets(
    eis: &Eis,
    transport: &Es1TransportKey,
) -> Result<Vec<KeySet>, EisError> {
    let mut sets = Vec::new();
    for set in &eis.isd_r.keyset.0 {
        let v = set.version.get();
        let kind = match (set.keyset_type, v) {
            (Some(KeysetUsage::Scp80), _) | (None, 0x01..=0x0F) => KeySetKind::Scp80,
            (Some(KeysetUsage::Scp81), _) | (None, 0x40..=0x4F) => KeySetKind::Scp81,
            (other, _) => {
                return Err(EisError::Invalid {
                    field: "Isd-r/Keyset/Type",
                    message: format!("key set {v}: unsupported usage {other:?}"),
                });
            }
        };
        let mut keys = Vec::with_capacity(set.key.len());
        for k in &set.key {
            let index = k.index.get();
            let key_err = |message: String| EisError::Key {
                version: v,
                index,
                message,
            };
            let [component] = k.key_components.0.as_slice() else {
                return Err(key_err("expected exactly one key component".into()));
            };
            let value = transport
                .unprotect(&component.value.0.0)
                .map_err(|e| key_err(e.to_string()))?;
            let aes = AesKey::new(&value).map_err(|e| key_err(e.to_string()))?;
            if key_check_value(&aes).as_slice() != k.kcv.0.0.as_slice() {
                return Err(key_err("key check value does not match".into()));
            }
            keys.push(KeyValue { id: index, value });
        }
        sets.push(KeySet {
            kind,
            version: v,
            keys,
        });
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_key_known_answer_and_padding() {
        // NIST SP 800-38A F.1.1 ECB-AES128.Encrypt, block #1.
        let key = Es1TransportKey::from_hex("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let plain = hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap();
        let protected = key.protect(&plain).unwrap();
        assert_eq!(protected.len(), 32, "a full PKCS#7 padding block follows");
        assert_eq!(
            hex::encode(&protected[..16]),
            "3ad77bb40d7a3660a89ecaf32466ef97"
        );
        assert_eq!(key.unprotect(&protected).unwrap().as_slice(), plain);

        // Short input: padded to one block.
        let p = key.protect(b"abc").unwrap();
        assert_eq!(p.len(), 16);
        assert_eq!(key.unprotect(&p).unwrap().as_slice(), b"abc");

        // Another key does not open it (padding check), a truncated blob is refused.
        let other = Es1TransportKey::new(&[7u8; 16]).unwrap();
        assert!(other.unprotect(&protected).is_err());
        assert!(key.unprotect(&protected[..20]).is_err());
        assert!(key.unprotect(&[]).is_err());
    }

    #[test]
    fn transport_key_text_form_and_length() {
        let k = Es1TransportKey::generate().unwrap();
        let again = Es1TransportKey::from_hex(&k.to_hex()).unwrap();
        assert_eq!(k.kcv(), again.kcv());
        assert!(!format!("{k:?}").contains(&k.to_hex().trim().to_string()));
        assert!(Es1TransportKey::new(&[0u8; 24]).is_err());
        assert!(Es1TransportKey::from_hex("zz").is_err());
    }
}
