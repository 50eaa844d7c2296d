//! Issuing a fresh consumer eUICC from an EUM: a new EID within the EUM's EIN, a new key on the
//! EUM's curve, and CERT.EUICC.ECDSA signed by the EUM (the SGP.26 eUICC certificate profile:
//! subject = the EUM's C and O, serialNumber = EID, CN; AKI = the EUM's SKI; SKI; keyUsage
//! digitalSignature (critical); certificatePolicies id-rspRole-euicc (critical); no expiry,
//! `99991231235959Z`).

use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::x509::{self, Certificate, Sgp22Role};
use rsp_types::tlv;
use rsp_types::{Eid, Oid};
use time::OffsetDateTime;

use super::config::{CardIdentity, Credential};
use super::error::ConsumerError;
use crate::m2m::rng::CardRng;

/// What an EUM needs to issue cards.
pub struct EumIssuer {
    /// SK.EUM.ECDSA.
    pub key: PrivateKey,
    /// CERT.EUM.ECDSA.
    pub certificate: Certificate,
    /// The CI certificates the new card trusts (the EUM's CI among them).
    pub ci_certificates: Vec<Certificate>,
}

impl std::fmt::Debug for EumIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EumIssuer")
            .field("eum", &self.certificate.subject().common_name())
            .field("key", &"<secret>")
            .finish()
    }
}

fn der(tag: u8, content: &[u8]) -> Result<Vec<u8>, ConsumerError> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    tlv::encode_length(content.len(), &mut out)
        .map_err(|e| ConsumerError::Internal(e.to_string()))?;
    out.extend_from_slice(content);
    Ok(out)
}

fn der_cat(tag: u8, parts: &[&[u8]]) -> Result<Vec<u8>, ConsumerError> {
    der(tag, &parts.concat())
}

fn oid_der(dotted: &str) -> Result<Vec<u8>, ConsumerError> {
    let oid: Oid = dotted
        .parse()
        .map_err(|e| ConsumerError::Internal(format!("OID {dotted}: {e}")))?;
    oid.to_der()
        .map_err(|e| ConsumerError::Internal(format!("OID {dotted}: {e}")))
}

fn time_der(t: OffsetDateTime) -> Result<Vec<u8>, ConsumerError> {
    let (tag, year) = if (1950..2050).contains(&t.year()) {
        (0x17, format!("{:02}", t.year() % 100))
    } else {
        (0x18, format!("{:04}", t.year()))
    };
    let s = format!(
        "{year}{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    der(tag, s.as_bytes())
}

/// A new EID: the EUM's first permitted EIN, random digits from `rng`, MOD 97-10 check digits.
pub fn fresh_eid(eum: &Certificate, rng: &mut CardRng) -> Result<Eid, ConsumerError> {
    let ein = eum
        .permitted_eins()
        .into_iter()
        .next()
        .ok_or_else(|| ConsumerError::Identity("EUM certificate permits no EIN".into()))?;
    if ein.len() > 30 || !ein.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConsumerError::Identity(format!("unusable EIN {ein}")));
    }
    let random = rng.bytes(30);
    let body: String = ein
        .chars()
        .chain(random.iter().map(|b| char::from(b'0' + b % 10)))
        .take(30)
        .collect();
    Eid::with_check_digits(&body).map_err(|e| ConsumerError::Identity(format!("EID: {e}")))
}

/// A private key on `curve` from the card's generator.
pub(crate) fn generate_key(curve: Curve, rng: &mut CardRng) -> Result<PrivateKey, ConsumerError> {
    // A random 32-byte string is a valid scalar with overwhelming probability; retry otherwise.
    for _ in 0..16 {
        let scalar = zeroize::Zeroizing::new(rng.bytes(32));
        if let Ok(k) = PrivateKey::from_scalar(curve, &scalar) {
            return Ok(k);
        }
    }
    Err(ConsumerError::Internal("no valid scalar".into()))
}

/// The subject of the eUICC certificate: the EUM subject's RDNs without its CN, then
/// serialNumber = EID and CN.
fn euicc_subject(eum: &Certificate, eid: &Eid) -> Result<Vec<u8>, ConsumerError> {
    let name = tlv::parse_single(eum.subject().raw())
        .map_err(|e| ConsumerError::Identity(format!("EUM subject: {e}")))?;
    let cn_oid = oid_der(x509::OID_AT_COMMON_NAME)?;
    let mut rdns = Vec::new();
    for rdn in name.children() {
        let rdn = rdn.map_err(|e| ConsumerError::Identity(format!("EUM subject: {e}")))?;
        if rdn
            .raw()
            .windows(cn_oid.len())
            .any(|w| w == cn_oid.as_slice())
        {
            continue;
        }
        rdns.extend_from_slice(rdn.raw());
    }
    let attribute = |oid: &str, tag: u8, value: &str| -> Result<Vec<u8>, ConsumerError> {
        der(
            0x31,
            &der_cat(0x30, &[&oid_der(oid)?, &der(tag, value.as_bytes())?])?,
        )
    };
    rdns.extend(attribute(x509::OID_AT_SERIAL_NUMBER, 0x13, eid.as_str())?);
    rdns.extend(attribute(
        x509::OID_AT_COMMON_NAME,
        0x0C,
        "rsp simulated eUICC",
    )?);
    der(0x30, &rdns)
}

/// CERT.EUICC.ECDSA for `key` and `eid`, signed by the EUM, valid from `not_before`.
pub fn mint_euicc_certificate(
    issuer: &EumIssuer,
    key: &PrivateKey,
    eid: &Eid,
    serial: &[u8],
    not_before: OffsetDateTime,
) -> Result<Certificate, ConsumerError> {
    let eum = &issuer.certificate;
    let eum_ski = eum
        .subject_key_id()
        .ok_or_else(|| ConsumerError::Identity("EUM certificate without SKI".into()))?;
    let alg = der(0x30, &oid_der(rsp_crypto::ecc::OID_ECDSA_WITH_SHA256)?)?;
    let ski = x509::key_identifier(key.public_key());
    let boolean_true = [0x01, 0x01, 0xFF];
    let ext = |oid: &str, critical: bool, value: &[u8]| -> Result<Vec<u8>, ConsumerError> {
        let crit: &[u8] = if critical { &boolean_true } else { &[] };
        der_cat(0x30, &[&oid_der(oid)?, crit, &der(0x04, value)?])
    };
    let extensions = [
        ext("2.5.29.35", false, &der(0x30, &der(0x80, eum_ski)?)?)?,
        ext("2.5.29.14", false, &der(0x04, &ski)?)?,
        // keyUsage digitalSignature: BIT STRING, 7 unused bits, 0x80.
        ext("2.5.29.15", true, &[0x03, 0x02, 0x07, 0x80])?,
        ext(
            "2.5.29.32",
            true,
            &der(0x30, &der(0x30, &oid_der(Sgp22Role::Euicc.policy_oid())?)?)?,
        )?,
    ]
    .concat();
    let not_after = time_der(
        OffsetDateTime::from_unix_timestamp(253_402_300_799)
            .map_err(|e| ConsumerError::Internal(e.to_string()))?,
    )?;
    let mut serial = serial.to_vec();
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        serial.insert(0, 0);
    }
    let tbs = der_cat(
        0x30,
        &[
            &[0xA0, 0x03, 0x02, 0x01, 0x02],
            &der(0x02, &serial)?,
            &alg,
            eum.subject().raw(),
            &der_cat(0x30, &[&time_der(not_before)?, &not_after])?,
            &euicc_subject(eum, eid)?,
            &key.public_key().to_spki_der(),
            &der(0xA3, &der(0x30, &extensions)?)?,
        ],
    )?;
    let signature = issuer
        .key
        .sign_der(&tbs)
        .map_err(|e| ConsumerError::Internal(format!("EUM signature: {e}")))?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(&signature);
    let cert = der_cat(0x30, &[&tbs, &alg, &der(0x03, &bits)?])?;
    Certificate::from_der(&cert)
        .map_err(|e| ConsumerError::Internal(format!("minted certificate: {e}")))
}

/// A new card identity issued by `issuer`: fresh EID and key from `rng`, certificate valid from
/// `not_before`, checked against the CI certificates at `not_before`.
pub fn issue_identity(
    issuer: &EumIssuer,
    rng: &mut CardRng,
    not_before: OffsetDateTime,
) -> Result<CardIdentity, ConsumerError> {
    let eum_key = issuer
        .certificate
        .public_key()
        .map_err(|e| ConsumerError::Identity(format!("EUM certificate key: {e}")))?;
    if eum_key.to_sec1_uncompressed() != issuer.key.public_key().to_sec1_uncompressed() {
        return Err(ConsumerError::Identity(
            "the EUM key does not match its certificate".into(),
        ));
    }
    let eid = fresh_eid(&issuer.certificate, rng)?;
    let key = generate_key(issuer.key.curve(), rng)?;
    let mut serial = rng.bytes(9);
    if let Some(b) = serial.first_mut() {
        *b = (*b & 0x7F).max(1);
    }
    let cert = mint_euicc_certificate(issuer, &key, &eid, &serial, not_before)?;
    let identity = CardIdentity {
        eid,
        credentials: vec![Credential::new(key, cert, issuer.certificate.clone())?],
        ci_certificates: issuer.ci_certificates.clone(),
    };
    identity.check(not_before)?;
    Ok(identity)
}
