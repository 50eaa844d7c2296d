//! GlobalPlatform Amendment E certificates (SGP.02 CERT.DP.ECDSA, CERT.SR.ECDSA, CERT.ECASD.ECKA).
//!
//! SGP.02 uses this TLV format for the certificates the M2M eUICC must parse itself (`sgp02.md`
//! §16.1): the SM-DP and SM-SR certificates (signed by the CI) and the eUICC's ECASD key-agreement
//! certificate (signed by the EUM). rsp writes exactly one layout:
//!
//! ```text
//! 7F21 {
//!   93   serial number (1..16 bytes)
//!   42   CA identifier: the issuer's key identifier (its X.509 SubjectKeyIdentifier)
//!   5F20 subject identifier: the subject's key identifier (SM-DP, SM-SR) or the EID, 16 BCD bytes (ECASD)
//!   95   key usage, 2 bytes: 00 82 signature verification (SM-DP, SM-SR), 00 80 key agreement (ECASD)
//!   5F25 effective date YYYYMMDD, 4 BCD bytes
//!   5F24 expiration date YYYYMMDD, 4 BCD bytes
//!   73   discretionary data { C8 01 <01 SM-DP | 02 SM-SR> (absent for ECASD), C9 <issuer key identifier> }
//!   7F49 public key { B0 uncompressed point 04‖x‖y, F0 01 key parameter reference }
//!   5F37 signature r‖s, 64 bytes
//! }
//! ```
//!
//! **Signed bytes**: ECDSA-SHA256 over the concatenation of the complete data objects (tag, length,
//! value) inside `7F21` that precede `5F37`, exactly as encoded, without the `7F21` tag and length
//! (their length depends on the signature). Verification uses the received bytes, never a
//! re-encoding.
//!
//! Decisions where the sources are silent (U-19): key parameter reference `00` = NIST P-256, `03` =
//! brainpoolP256r1; key usage `0082` for signature verification [RECALL], `0080` for key agreement
//! (`sgp02.md` §16.1); the ECASD certificate uses the same layout with the EID as subject
//! identifier; tag `42` and `C9` both carry the issuer's key identifier, and the issuer is found
//! by `C9` (by `42` when `C9` is absent), never by name.
//!
//! On input the decoder is lenient where it can be: unknown data objects before `5F37` are kept
//! (and covered by the signature), `5F25`/`5F24` and `73` are optional, long-form lengths are
//! accepted. `5F37` must be the last object and appear once.

use std::fmt;

use rsp_types::Eid;
use rsp_types::tlv::{self, Tag, TlvError};
use time::{Date, Month, OffsetDateTime};

use crate::ecc::{Curve, EccError, PrivateKey, PublicKey};
use crate::x509::{self, X509Error};

const fn tag(value: u32) -> Tag {
    match Tag::from_u32(value) {
        Ok(t) => t,
        Err(_) => panic!("invalid tag constant"),
    }
}

/// `7F21`: the certificate.
pub const TAG_CERTIFICATE: Tag = tag(0x7F21);
/// `93`: certificate serial number.
pub const TAG_SERIAL: Tag = tag(0x93);
/// `42`: CA identifier.
pub const TAG_CA_ID: Tag = tag(0x42);
/// `5F20`: subject identifier.
pub const TAG_SUBJECT_ID: Tag = tag(0x5F20);
/// `95`: key usage.
pub const TAG_KEY_USAGE: Tag = tag(0x95);
/// `5F25`: effective date.
pub const TAG_EFFECTIVE_DATE: Tag = tag(0x5F25);
/// `5F24`: expiration date.
pub const TAG_EXPIRATION_DATE: Tag = tag(0x5F24);
/// `73`: discretionary data.
pub const TAG_DISCRETIONARY: Tag = tag(0x73);
/// `C8` (in `73`): certificate type, `01` SM-DP, `02` SM-SR.
pub const TAG_CERT_TYPE: Tag = tag(0xC8);
/// `C9` (in `73`): authority key identifier.
pub const TAG_AUTHORITY_KEY_ID: Tag = tag(0xC9);
/// `7F49`: public key.
pub const TAG_PUBLIC_KEY: Tag = tag(0x7F49);
/// `B0` (in `7F49`): the public point.
pub const TAG_POINT: Tag = tag(0xB0);
/// `F0` (in `7F49`): key parameter reference (the curve).
pub const TAG_KEY_PARAMETER_REFERENCE: Tag = tag(0xF0);
/// `5F37`: signature.
pub const TAG_SIGNATURE: Tag = tag(0x5F37);

/// Key usage `00 82`: signature verification (CERT.DP.ECDSA, CERT.SR.ECDSA).
pub const KEY_USAGE_SIGNATURE_VERIFICATION: [u8; 2] = [0x00, 0x82];
/// Key usage `00 80`: key agreement (CERT.ECASD.ECKA).
pub const KEY_USAGE_KEY_AGREEMENT: [u8; 2] = [0x00, 0x80];

/// The key parameter reference (`7F49`/`F0`) rsp writes for a curve (U-19).
pub fn key_parameter_reference(curve: Curve) -> u8 {
    match curve {
        Curve::NistP256 => 0x00,
        Curve::BrainpoolP256r1 => 0x03,
    }
}

/// The curve a key parameter reference names (U-19); others are unsupported.
pub fn curve_from_key_parameter_reference(reference: u8) -> Result<Curve, GpCertError> {
    match reference {
        0x00 => Ok(Curve::NistP256),
        0x03 => Ok(Curve::BrainpoolP256r1),
        other => Err(GpCertError::UnsupportedCurve(format!(
            "key parameter reference {other:02X}"
        ))),
    }
}

/// What a GP certificate certifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GpCertRole {
    /// CERT.DP.ECDSA (`73 { C8 01 01 }`), signed by the CI.
    SmDp,
    /// CERT.SR.ECDSA (`73 { C8 01 02 }`), signed by the CI.
    SmSr,
    /// CERT.ECASD.ECKA (no `C8`, key usage `0080`), signed by the EUM.
    Ecasd,
}

impl GpCertRole {
    /// The `C8` certificate type byte, if the role has one.
    pub fn certificate_type(self) -> Option<u8> {
        match self {
            Self::SmDp => Some(0x01),
            Self::SmSr => Some(0x02),
            Self::Ecasd => None,
        }
    }

    /// The key usage the role requires.
    pub fn key_usage(self) -> [u8; 2] {
        match self {
            Self::SmDp | Self::SmSr => KEY_USAGE_SIGNATURE_VERIFICATION,
            Self::Ecasd => KEY_USAGE_KEY_AGREEMENT,
        }
    }
}

impl fmt::Display for GpCertRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SmDp => "SM-DP",
            Self::SmSr => "SM-SR",
            Self::Ecasd => "ECASD",
        })
    }
}

/// Errors of GP certificate encoding, decoding and verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GpCertError {
    /// Not well-formed BER-TLV.
    #[error("malformed GP certificate TLV: {0}")]
    Tlv(#[from] TlvError),
    /// Well-formed TLV, but not a valid certificate.
    #[error("malformed GP certificate: {0}")]
    Malformed(String),
    /// A mandatory data object is missing.
    #[error("GP certificate lacks tag {0}")]
    Missing(Tag),
    /// The key's curve is not supported.
    #[error("unsupported curve: {0}")]
    UnsupportedCurve(String),
    /// The public point is not valid on its curve.
    #[error("bad public key: {0}")]
    BadPublicKey(String),
    /// The signature does not verify with the issuer's key.
    #[error("GP certificate signature does not verify")]
    BadSignature,
    /// The issuer's key identifier differs from the certificate's authority key identifier.
    #[error(
        "issued by key {}, not by the given issuer {}",
        hex::encode(found),
        hex::encode(expected)
    )]
    UnknownIssuer {
        /// The given issuer's key identifier.
        expected: Vec<u8>,
        /// The certificate's `C9` (or `42`).
        found: Vec<u8>,
    },
    /// The issuer certificate cannot be used (not a CA, unusable key).
    #[error("issuer certificate unusable: {0}")]
    Issuer(X509Error),
    /// The certificate's role (`C8`) is not the expected one.
    #[error("expected a {expected} certificate, found {}", found.map(|r| r.to_string()).unwrap_or_else(|| "no role".into()))]
    WrongRole {
        /// The role needed.
        expected: GpCertRole,
        /// The role found.
        found: Option<GpCertRole>,
    },
    /// The key usage (`95`) does not match the role.
    #[error(
        "key usage {} does not allow the use (need {})",
        hex::encode(found),
        hex::encode(expected)
    )]
    WrongKeyUsage {
        /// The key usage required.
        expected: [u8; 2],
        /// The key usage found.
        found: Vec<u8>,
    },
    /// Before the effective date.
    #[error("GP certificate not effective before {0}")]
    NotYetValid(Date),
    /// After the expiration date.
    #[error("GP certificate expired on {0}")]
    Expired(Date),
    /// An ECASD certificate whose subject identifier is not a valid EID.
    #[error("ECASD subject identifier is not a valid EID: {0}")]
    InvalidEid(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The content of a certificate to be signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpCertificateParams {
    /// `93` serial number (1..=16 bytes).
    pub serial: Vec<u8>,
    /// `42` CA identifier (the issuer's key identifier).
    pub ca_id: Vec<u8>,
    /// `5F20` subject identifier.
    pub subject_id: Vec<u8>,
    /// `95` key usage.
    pub key_usage: [u8; 2],
    /// `5F25` effective date.
    pub effective: Date,
    /// `5F24` expiration date.
    pub expiry: Date,
    /// `C8` certificate type (None for ECASD).
    pub certificate_type: Option<u8>,
    /// `C9` authority key identifier (the issuer's key identifier).
    pub authority_key_id: Vec<u8>,
    /// The certified key.
    pub public_key: PublicKey,
}

impl GpCertificateParams {
    /// An SM-DP or SM-SR certificate: subject identifier = the key's identifier
    /// ([`x509::key_identifier`]), issuer identified by `issuer_key_id` (the CI's SKI).
    pub fn for_server(
        role: GpCertRole,
        public_key: PublicKey,
        issuer_key_id: &[u8],
        serial: Vec<u8>,
        effective: Date,
        expiry: Date,
    ) -> Self {
        Self {
            serial,
            ca_id: issuer_key_id.to_vec(),
            subject_id: x509::key_identifier(&public_key).to_vec(),
            key_usage: role.key_usage(),
            effective,
            expiry,
            certificate_type: role.certificate_type(),
            authority_key_id: issuer_key_id.to_vec(),
            public_key,
        }
    }

    /// A CERT.ECASD.ECKA: subject identifier = the EID (16 BCD bytes), key usage key agreement,
    /// issuer identified by `issuer_key_id` (the EUM's SKI).
    pub fn for_ecasd(
        eid: &Eid,
        public_key: PublicKey,
        issuer_key_id: &[u8],
        serial: Vec<u8>,
        effective: Date,
        expiry: Date,
    ) -> Self {
        Self {
            serial,
            ca_id: issuer_key_id.to_vec(),
            subject_id: eid.to_bytes().to_vec(),
            key_usage: KEY_USAGE_KEY_AGREEMENT,
            effective,
            expiry,
            certificate_type: None,
            authority_key_id: issuer_key_id.to_vec(),
            public_key,
        }
    }

    /// The data objects that the signature covers (everything in `7F21` before `5F37`).
    pub fn to_be_signed(&self) -> Result<Vec<u8>, GpCertError> {
        if self.serial.is_empty() || self.serial.len() > 16 {
            return Err(GpCertError::Malformed(
                "serial number must be 1 to 16 bytes".into(),
            ));
        }
        let mut out = Vec::with_capacity(200);
        tlv::encode_tlv(TAG_SERIAL, &self.serial, &mut out)?;
        tlv::encode_tlv(TAG_CA_ID, &self.ca_id, &mut out)?;
        tlv::encode_tlv(TAG_SUBJECT_ID, &self.subject_id, &mut out)?;
        tlv::encode_tlv(TAG_KEY_USAGE, &self.key_usage, &mut out)?;
        tlv::encode_tlv(TAG_EFFECTIVE_DATE, &date_to_bcd(self.effective)?, &mut out)?;
        tlv::encode_tlv(TAG_EXPIRATION_DATE, &date_to_bcd(self.expiry)?, &mut out)?;
        tlv::encode_constructed(TAG_DISCRETIONARY, &mut out, |inner| {
            if let Some(t) = self.certificate_type {
                tlv::encode_tlv(TAG_CERT_TYPE, &[t], inner)?;
            }
            tlv::encode_tlv(TAG_AUTHORITY_KEY_ID, &self.authority_key_id, inner)
        })?;
        tlv::encode_constructed(TAG_PUBLIC_KEY, &mut out, |inner| {
            tlv::encode_tlv(TAG_POINT, &self.public_key.to_sec1_uncompressed(), inner)?;
            tlv::encode_tlv(
                TAG_KEY_PARAMETER_REFERENCE,
                &[key_parameter_reference(self.public_key.curve())],
                inner,
            )
        })?;
        Ok(out)
    }

    /// Signs with the issuer's private key and returns the decoded certificate.
    pub fn sign(&self, issuer_key: &PrivateKey) -> Result<GpCertificate, GpCertError> {
        let mut body = self.to_be_signed()?;
        let signature = issuer_key
            .sign_raw(&body)
            .map_err(|e| GpCertError::Signing(e.to_string()))?;
        tlv::encode_tlv(TAG_SIGNATURE, &signature, &mut body)?;
        let encoded = tlv::encode_tlv_to_vec(TAG_CERTIFICATE, &body)?;
        GpCertificate::from_bytes(&encoded)
    }
}

/// A decoded GP Amendment E certificate (owned; keeps the encoding it was decoded from).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpCertificate {
    raw: Vec<u8>,
    signed_start: usize,
    signed_end: usize,
    serial: Vec<u8>,
    ca_id: Vec<u8>,
    subject_id: Vec<u8>,
    key_usage: Vec<u8>,
    effective: Option<Date>,
    expiry: Option<Date>,
    certificate_type: Option<u8>,
    authority_key_id: Option<Vec<u8>>,
    public_key: PublicKey,
    key_parameter_reference: u8,
    signature: [u8; 64],
}

impl GpCertificate {
    /// Decodes one `7F21` certificate that fills `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GpCertError> {
        let outer = tlv::parse_single(bytes)?.expect_tag(TAG_CERTIFICATE)?;
        let header_len = outer.raw().len() - outer.value.len();

        let mut serial = None;
        let mut ca_id = None;
        let mut subject_id = None;
        let mut key_usage = None;
        let mut effective = None;
        let mut expiry = None;
        let mut discretionary = None;
        let mut key = None;
        let mut signature = None;
        let mut seen: Vec<Tag> = Vec::new();
        let mut offset = 0usize;
        let mut signed_end = 0usize;

        for item in outer.children() {
            let obj = item?;
            if signature.is_some() {
                return Err(GpCertError::Malformed(format!(
                    "tag {} after the signature",
                    obj.tag
                )));
            }
            if seen.contains(&obj.tag) {
                return Err(GpCertError::Malformed(format!("duplicate tag {}", obj.tag)));
            }
            seen.push(obj.tag);
            let value = obj.value;
            match obj.tag {
                t if t == TAG_SERIAL => serial = Some(value.to_vec()),
                t if t == TAG_CA_ID => ca_id = Some(value.to_vec()),
                t if t == TAG_SUBJECT_ID => subject_id = Some(value.to_vec()),
                t if t == TAG_KEY_USAGE => key_usage = Some(value.to_vec()),
                t if t == TAG_EFFECTIVE_DATE => effective = Some(bcd_to_date(value)?),
                t if t == TAG_EXPIRATION_DATE => expiry = Some(bcd_to_date(value)?),
                t if t == TAG_DISCRETIONARY => discretionary = Some(value),
                t if t == TAG_PUBLIC_KEY => key = Some(value),
                t if t == TAG_SIGNATURE => {
                    signed_end = offset;
                    signature = Some(<[u8; 64]>::try_from(value).map_err(|_| {
                        GpCertError::Malformed(format!(
                            "signature of {} bytes, expected 64",
                            value.len()
                        ))
                    })?);
                }
                _ => {}
            }
            offset += obj.raw().len();
        }

        let signature = signature.ok_or(GpCertError::Missing(TAG_SIGNATURE))?;
        let key = key.ok_or(GpCertError::Missing(TAG_PUBLIC_KEY))?;
        let point = tlv::find(key, TAG_POINT)?.ok_or(GpCertError::Missing(TAG_POINT))?;
        let reference = tlv::find(key, TAG_KEY_PARAMETER_REFERENCE)?
            .ok_or(GpCertError::Missing(TAG_KEY_PARAMETER_REFERENCE))?;
        let key_parameter_reference = match reference.value {
            [r] => *r,
            _ => {
                return Err(GpCertError::Malformed(
                    "key parameter reference must be one byte".into(),
                ));
            }
        };
        let curve = curve_from_key_parameter_reference(key_parameter_reference)?;
        let public_key = PublicKey::from_sec1(curve, point.value).map_err(|e| match e {
            EccError::UnsupportedCurve(c) => GpCertError::UnsupportedCurve(c),
            other => GpCertError::BadPublicKey(other.to_string()),
        })?;

        let (certificate_type, authority_key_id) = match discretionary {
            Some(d) => {
                let cert_type = match tlv::find(d, TAG_CERT_TYPE)? {
                    Some(t) => match t.value {
                        [b] => Some(*b),
                        _ => {
                            return Err(GpCertError::Malformed(
                                "certificate type (C8) must be one byte".into(),
                            ));
                        }
                    },
                    None => None,
                };
                (
                    cert_type,
                    tlv::find(d, TAG_AUTHORITY_KEY_ID)?.map(|t| t.value.to_vec()),
                )
            }
            None => (None, None),
        };

        Ok(Self {
            raw: bytes.to_vec(),
            signed_start: header_len,
            signed_end: header_len + signed_end,
            serial: serial.ok_or(GpCertError::Missing(TAG_SERIAL))?,
            ca_id: ca_id.ok_or(GpCertError::Missing(TAG_CA_ID))?,
            subject_id: subject_id.ok_or(GpCertError::Missing(TAG_SUBJECT_ID))?,
            key_usage: key_usage.ok_or(GpCertError::Missing(TAG_KEY_USAGE))?,
            effective,
            expiry,
            certificate_type,
            authority_key_id,
            public_key,
            key_parameter_reference,
            signature,
        })
    }

    /// The encoding, exactly as decoded.
    pub fn to_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The bytes the signature covers.
    pub fn signed_data(&self) -> &[u8] {
        self.raw
            .get(self.signed_start..self.signed_end)
            .unwrap_or_default()
    }

    /// `93` serial number.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// `42` CA identifier.
    pub fn ca_id(&self) -> &[u8] {
        &self.ca_id
    }

    /// `5F20` subject identifier.
    pub fn subject_id(&self) -> &[u8] {
        &self.subject_id
    }

    /// `95` key usage.
    pub fn key_usage(&self) -> &[u8] {
        &self.key_usage
    }

    /// `5F25` effective date.
    pub fn effective(&self) -> Option<Date> {
        self.effective
    }

    /// `5F24` expiration date.
    pub fn expiry(&self) -> Option<Date> {
        self.expiry
    }

    /// `C8` certificate type byte.
    pub fn certificate_type(&self) -> Option<u8> {
        self.certificate_type
    }

    /// The issuer's key identifier: `73`/`C9`, or `42` when `C9` is absent.
    pub fn authority_key_id(&self) -> &[u8] {
        self.authority_key_id.as_deref().unwrap_or(&self.ca_id)
    }

    /// The certified public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// `7F49`/`F0` key parameter reference.
    pub fn key_parameter_reference(&self) -> u8 {
        self.key_parameter_reference
    }

    /// `5F37` signature r‖s.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The role: `C8 01` → SM-DP, `C8 02` → SM-SR, no `C8` with key usage `0080` → ECASD.
    pub fn role(&self) -> Option<GpCertRole> {
        match self.certificate_type {
            Some(0x01) => Some(GpCertRole::SmDp),
            Some(0x02) => Some(GpCertRole::SmSr),
            Some(_) => None,
            None if self.key_usage == KEY_USAGE_KEY_AGREEMENT => Some(GpCertRole::Ecasd),
            None => None,
        }
    }

    /// The EID of an ECASD certificate (subject identifier, 16 BCD bytes).
    pub fn eid(&self) -> Result<Eid, GpCertError> {
        Eid::from_bytes(&self.subject_id).map_err(|e| GpCertError::InvalidEid(e.to_string()))
    }

    /// Verifies only the signature, with the issuer's public key.
    pub fn verify_signature(&self, issuer_key: &PublicKey) -> Result<(), GpCertError> {
        issuer_key
            .verify_raw(self.signed_data(), &self.signature)
            .map_err(|_| GpCertError::BadSignature)
    }

    /// Checks the effective and expiration dates against the UTC date of `at`.
    pub fn check_validity(&self, at: OffsetDateTime) -> Result<(), GpCertError> {
        let today = at.to_offset(time::UtcOffset::UTC).date();
        if let Some(effective) = self.effective
            && today < effective
        {
            return Err(GpCertError::NotYetValid(effective));
        }
        if let Some(expiry) = self.expiry
            && today > expiry
        {
            return Err(GpCertError::Expired(expiry));
        }
        Ok(())
    }

    /// Checks role (`C8`) and key usage (`95`) against `expected` (SGP.02 §14.4: the card accepts
    /// only an SM-DP certificate for ISD-P key establishment and an SM-SR one for ISD-R).
    pub fn check_role(&self, expected: GpCertRole) -> Result<(), GpCertError> {
        let found = self.role();
        if found != Some(expected) {
            return Err(GpCertError::WrongRole { expected, found });
        }
        if self.key_usage != expected.key_usage() {
            return Err(GpCertError::WrongKeyUsage {
                expected: expected.key_usage(),
                found: self.key_usage.clone(),
            });
        }
        if expected == GpCertRole::Ecasd {
            self.eid()?;
        }
        Ok(())
    }

    /// Full check against the issuing X.509 certificate (the CI for SM-DP/SM-SR, the EUM for
    /// ECASD): the issuer is a CA with a usable key, its key identifier is this certificate's
    /// authority key identifier, the signature verifies, the role and key usage are `expected`,
    /// and `at` lies within the dates. The issuer's own chain is checked with
    /// [`x509::verify_chain`] / [`x509::verify_sgp22_chain`].
    pub fn verify(
        &self,
        issuer: &x509::Certificate,
        expected: GpCertRole,
        at: OffsetDateTime,
    ) -> Result<(), GpCertError> {
        let issuer_key = issuer.public_key().map_err(GpCertError::Issuer)?;
        if !issuer.is_ca() {
            return Err(GpCertError::Issuer(X509Error::NotACa {
                which: x509::CertPosition::Leaf,
            }));
        }
        let issuer_id = issuer
            .subject_key_id()
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| x509::key_identifier(issuer_key).to_vec());
        if self.authority_key_id() != issuer_id.as_slice() {
            return Err(GpCertError::UnknownIssuer {
                expected: issuer_id,
                found: self.authority_key_id().to_vec(),
            });
        }
        self.verify_signature(issuer_key)?;
        self.check_role(expected)?;
        self.check_validity(at)
    }
}

fn date_to_bcd(date: Date) -> Result<[u8; 4], GpCertError> {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return Err(GpCertError::Malformed(format!(
            "year {year} cannot be written as 4 BCD digits"
        )));
    }
    let bcd = |v: u32| (((v / 10 % 10) << 4) | (v % 10)) as u8;
    let y = year as u32;
    Ok([
        bcd(y / 100),
        bcd(y % 100),
        bcd(u32::from(u8::from(date.month()))),
        bcd(u32::from(date.day())),
    ])
}

fn bcd_to_date(bytes: &[u8]) -> Result<Date, GpCertError> {
    let bad = || {
        GpCertError::Malformed(format!(
            "date {} is not YYYYMMDD in BCD",
            hex::encode(bytes)
        ))
    };
    if bytes.len() != 4 {
        return Err(bad());
    }
    let mut n = 0u32;
    for &b in bytes {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return Err(bad());
        }
        n = n * 100 + u32::from(hi) * 10 + u32::from(lo);
    }
    let year = i32::try_from(n / 10000).map_err(|_| bad())?;
    let month =
        Month::try_from(u8::try_from(n / 100 % 100).map_err(|_| bad())?).map_err(|_| bad())?;
    let day = u8::try_from(n % 100).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcd_dates_round_trip() {
        let d = Date::from_calendar_date(2031, Month::December, 9).unwrap();
        let bcd = date_to_bcd(d).unwrap();
        assert_eq!(bcd, [0x20, 0x31, 0x12, 0x09]);
        assert_eq!(bcd_to_date(&bcd).unwrap(), d);
        assert!(bcd_to_date(&[0x20, 0x31, 0x13, 0x01]).is_err());
        assert!(bcd_to_date(&[0x20, 0x3A, 0x12, 0x01]).is_err());
        assert!(bcd_to_date(&[0x20, 0x31, 0x02, 0x30]).is_err());
        let max = Date::from_calendar_date(9999, Month::December, 31).unwrap();
        assert_eq!(bcd_to_date(&date_to_bcd(max).unwrap()).unwrap(), max);
    }
}
