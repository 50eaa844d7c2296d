//! Elliptic-curve keys: ECDSA (SHA-256) and ECKA/ECDH on NIST P-256 and brainpoolP256r1.
//!
//! P-256 runs on aws-lc-rs (the fast path: ~40k signatures/s per core); brainpoolP256r1 on RustCrypto
//! `bp256`, the only maintained Rust implementation of that curve. Both curves share one API:
//! [`PrivateKey`] signs and agrees, [`PublicKey`] verifies and is the peer in an agreement.
//!
//! Signatures come in two forms: raw `r‖s` (64 bytes, as GlobalPlatform tag `5F37` and SGP.22
//! carry them) and ASN.1 DER (as X.509 and XML-DSig carry them). [`raw_to_der`] and [`der_to_raw`]
//! convert between them.
//!
//! Keys load from PEM or DER in SEC1 (`EC PRIVATE KEY`, RFC 5915) or PKCS#8 form; the curve is read
//! from the key. Curves other than the two above (P-192, P-384, P-521, ...) are refused with
//! [`EccError::UnsupportedCurve`], never silently mis-parsed.

use std::fmt;

use aws_lc_rs::agreement;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{self as lc_sig, EcdsaKeyPair, KeyPair};
use bp256::BrainpoolP256r1;
use ecdsa::signature::{Signer, Verifier};
use zeroize::Zeroizing;

/// `id-ecPublicKey` (RFC 5480).
pub const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// `ecdsa-with-SHA256` (RFC 5758).
pub const OID_ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";

/// Length of a raw `r‖s` signature on a 256-bit curve.
pub const RAW_SIGNATURE_LEN: usize = 64;

/// The elliptic curves rsp signs and agrees on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (secp256r1, prime256v1).
    NistP256,
    /// brainpoolP256r1 (RFC 5639).
    BrainpoolP256r1,
}

impl Curve {
    /// Both supported curves.
    pub const ALL: [Self; 2] = [Self::NistP256, Self::BrainpoolP256r1];

    /// The named-curve OID.
    pub fn oid(self) -> &'static str {
        match self {
            Self::NistP256 => "1.2.840.10045.3.1.7",
            Self::BrainpoolP256r1 => "1.3.36.3.3.2.8.1.1.7",
        }
    }

    /// The named-curve OID, DER content octets.
    pub fn oid_der(self) -> &'static [u8] {
        match self {
            Self::NistP256 => &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07],
            Self::BrainpoolP256r1 => &[0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07],
        }
    }

    /// Short name, as OpenSSL and the SGP.26 file names use it.
    pub fn name(self) -> &'static str {
        match self {
            Self::NistP256 => "prime256v1",
            Self::BrainpoolP256r1 => "brainpoolP256r1",
        }
    }

    /// The curve named by a dotted OID. Known but unsupported curves get their own error.
    pub fn from_oid(oid: &str) -> Result<Self, EccError> {
        match oid {
            "1.2.840.10045.3.1.7" => Ok(Self::NistP256),
            "1.3.36.3.3.2.8.1.1.7" => Ok(Self::BrainpoolP256r1),
            other => Err(EccError::UnsupportedCurve(unsupported_curve_name(other))),
        }
    }

    /// The curve named by DER OID content octets.
    pub fn from_oid_der(der: &[u8]) -> Result<Self, EccError> {
        Self::ALL
            .into_iter()
            .find(|c| c.oid_der() == der)
            .ok_or_else(|| {
                EccError::UnsupportedCurve(unsupported_curve_name(&oid_der_to_dotted(der)))
            })
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn unsupported_curve_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.10045.3.1.1" => "P-192 (prime192v1)",
        "1.3.132.0.34" => "P-384 (secp384r1)",
        "1.3.132.0.35" => "P-521 (secp521r1)",
        "1.3.132.0.10" => "secp256k1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        "1.3.36.3.3.2.8.1.1.8" => "brainpoolP256t1",
        _ => "",
    };
    if name.is_empty() {
        oid.to_string()
    } else {
        format!("{name}, OID {oid}")
    }
}

/// Best-effort rendering of DER OID content as dotted text (for error messages only).
fn oid_der_to_dotted(der: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in der {
        acc = acc.saturating_mul(128).saturating_add(u64::from(b & 0x7F));
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let (a, b) = if acc < 40 {
                    (0, acc)
                } else if acc < 80 {
                    (1, acc - 40)
                } else {
                    (2, acc - 80)
                };
                arcs.push(a);
                arcs.push(b);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Errors of key handling, signing, verification and agreement.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EccError {
    /// The key or certificate names a curve rsp does not support.
    #[error("unsupported elliptic curve: {0}")]
    UnsupportedCurve(String),
    /// The key is not an elliptic-curve key at all.
    #[error("not an elliptic-curve key (algorithm {0})")]
    NotAnEcKey(String),
    /// Malformed private key encoding.
    #[error("malformed private key: {0}")]
    BadPrivateKey(String),
    /// Malformed public key encoding (not a valid point on the curve).
    #[error("malformed public key: {0}")]
    BadPublicKey(String),
    /// Malformed signature encoding.
    #[error("malformed signature: {0}")]
    BadSignatureEncoding(String),
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// Key agreement between keys on different curves.
    #[error("curve mismatch: {ours} key with a {theirs} peer")]
    CurveMismatch {
        /// Our curve.
        ours: Curve,
        /// The peer's curve.
        theirs: Curve,
    },
    /// The PEM text holds no key block of a supported kind.
    #[error("no {0} found in PEM text")]
    NoPemBlock(&'static str),
    /// The crypto library failed unexpectedly (randomness, internal state).
    #[error("crypto backend failure: {0}")]
    Backend(&'static str),
}

/// A shared secret from ECKA/ECDH: the x-coordinate of the shared point (32 bytes), wiped on drop.
pub struct SharedSecret(Zeroizing<[u8; 32]>);

impl SharedSecret {
    /// The secret bytes (ShS in SGP.02/SGP.22).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

/// An elliptic-curve public key: verifies signatures and is the peer in an agreement.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    curve: Curve,
    /// Uncompressed SEC1 point `04‖x‖y` (65 bytes).
    point: [u8; 65],
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, {})", self.curve, hex::encode(self.point))
    }
}

impl PublicKey {
    /// A public key from a SEC1 point (uncompressed `04‖x‖y` or compressed `02/03‖x`), checked to lie
    /// on the curve.
    pub fn from_sec1(curve: Curve, bytes: &[u8]) -> Result<Self, EccError> {
        let bad = |e: &dyn fmt::Display| EccError::BadPublicKey(e.to_string());
        let uncompressed: Box<[u8]> = match curve {
            Curve::NistP256 => p256::PublicKey::from_sec1_bytes(bytes)
                .map_err(|e| bad(&e))?
                .to_sec1_bytes(),
            Curve::BrainpoolP256r1 => {
                elliptic_curve::PublicKey::<BrainpoolP256r1>::from_sec1_bytes(bytes)
                    .map_err(|e| bad(&e))?
                    .to_sec1_bytes()
            }
        };
        let point: [u8; 65] = uncompressed
            .as_ref()
            .try_into()
            .map_err(|_| EccError::BadPublicKey("unexpected point length".into()))?;
        Ok(Self { curve, point })
    }

    /// A public key from a DER `SubjectPublicKeyInfo` (the curve is read from its parameters).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, EccError> {
        use der::Decode;
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| EccError::BadPublicKey(e.to_string()))?;
        let alg = spki.algorithm.oid.to_string();
        if alg != OID_EC_PUBLIC_KEY {
            return Err(EccError::NotAnEcKey(alg));
        }
        let params = spki
            .algorithm
            .parameters
            .ok_or_else(|| EccError::BadPublicKey("missing curve parameters".into()))?;
        let curve_oid: der::asn1::ObjectIdentifier = params
            .decode_as()
            .map_err(|e| EccError::BadPublicKey(format!("curve parameters: {e}")))?;
        let curve = Curve::from_oid(&curve_oid.to_string())?;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| EccError::BadPublicKey("unaligned bit string".into()))?;
        Self::from_sec1(curve, bits)
    }

    /// A public key from PEM (`PUBLIC KEY` block, SubjectPublicKeyInfo).
    pub fn from_pem(pem: &str) -> Result<Self, EccError> {
        let der = pem_block(pem, &["PUBLIC KEY"]).ok_or(EccError::NoPemBlock("PUBLIC KEY"))?;
        Self::from_spki_der(&der.1)
    }

    /// DER `SubjectPublicKeyInfo` of this key.
    pub fn to_spki_der(&self) -> Vec<u8> {
        // SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING 00‖point }
        let ec_pk: [u8; 9] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
        let curve_oid = self.curve.oid_der();
        let mut alg = Vec::with_capacity(32);
        alg.extend_from_slice(&ec_pk);
        alg.push(0x06);
        alg.push(curve_oid.len() as u8);
        alg.extend_from_slice(curve_oid);
        let mut body = Vec::with_capacity(96);
        body.push(0x30);
        body.push(alg.len() as u8);
        body.extend_from_slice(&alg);
        body.extend_from_slice(&[0x03, 0x42, 0x00]);
        body.extend_from_slice(&self.point);
        let mut out = Vec::with_capacity(body.len() + 2);
        out.push(0x30);
        out.push(body.len() as u8);
        out.extend_from_slice(&body);
        out
    }

    /// PEM (`PUBLIC KEY`) of this key.
    pub fn to_pem(&self) -> String {
        to_pem("PUBLIC KEY", &self.to_spki_der())
    }

    /// The curve of this key.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// Uncompressed SEC1 point `04‖x‖y` (65 bytes), as GlobalPlatform tag `B0` / SGP.22 otPK carry it.
    pub fn to_sec1_uncompressed(&self) -> [u8; 65] {
        self.point
    }

    /// Verifies a raw `r‖s` (64-byte) ECDSA-SHA256 signature over `message`.
    pub fn verify_raw(&self, message: &[u8], signature: &[u8]) -> Result<(), EccError> {
        if signature.len() != RAW_SIGNATURE_LEN {
            return Err(EccError::BadSignatureEncoding(format!(
                "raw signature must be 64 bytes, got {}",
                signature.len()
            )));
        }
        match self.curve {
            Curve::NistP256 => {
                lc_sig::UnparsedPublicKey::new(&lc_sig::ECDSA_P256_SHA256_FIXED, &self.point)
                    .verify(message, signature)
                    .map_err(|_| EccError::BadSignature)
            }
            Curve::BrainpoolP256r1 => {
                let sig = bp256::r1::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| EccError::BadSignature)?;
                self.bp_verifying_key()?
                    .verify(message, &sig)
                    .map_err(|_| EccError::BadSignature)
            }
        }
    }

    /// Verifies an ASN.1 DER ECDSA-SHA256 signature over `message`.
    pub fn verify_der(&self, message: &[u8], signature: &[u8]) -> Result<(), EccError> {
        match self.curve {
            Curve::NistP256 => {
                // Reject non-canonical DER ourselves so both curves accept exactly the same encodings.
                der_to_raw(signature)?;
                lc_sig::UnparsedPublicKey::new(&lc_sig::ECDSA_P256_SHA256_ASN1, &self.point)
                    .verify(message, signature)
                    .map_err(|_| EccError::BadSignature)
            }
            Curve::BrainpoolP256r1 => self.verify_raw(message, &der_to_raw(signature)?),
        }
    }

    fn bp_verifying_key(&self) -> Result<ecdsa::VerifyingKey<BrainpoolP256r1>, EccError> {
        ecdsa::VerifyingKey::<BrainpoolP256r1>::from_sec1_bytes(&self.point)
            .map_err(|e| EccError::BadPublicKey(e.to_string()))
    }
}

enum Backend {
    P256 {
        signer: EcdsaKeyPair,
        agreement: agreement::PrivateKey,
    },
    Bp256 {
        signer: ecdsa::SigningKey<BrainpoolP256r1>,
        secret: elliptic_curve::SecretKey<BrainpoolP256r1>,
    },
}

/// An elliptic-curve private key: signs (ECDSA-SHA256) and agrees (ECKA). Key bytes are wiped on drop
/// and never printed.
pub struct PrivateKey {
    curve: Curve,
    scalar: Zeroizing<[u8; 32]>,
    public: PublicKey,
    backend: Backend,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({}, public {})",
            self.curve,
            hex::encode(self.public.point)
        )
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], EccError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| EccError::Backend("system randomness unavailable"))?;
    Ok(out)
}

/// Fills `out` with cryptographically secure random bytes (challenges, session identifiers).
pub fn fill_random(out: &mut [u8]) -> Result<(), EccError> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| EccError::Backend("system randomness unavailable"))
}

impl PrivateKey {
    /// Generates a fresh key pair on `curve` (also the way to make an ephemeral ECKA key).
    pub fn generate(curve: Curve) -> Result<Self, EccError> {
        // Rejection sampling: a uniformly random 256-bit string is a valid scalar with probability
        // ~1 - 2^-32 on both curves.
        for _ in 0..64 {
            let candidate = Zeroizing::new(random_bytes::<32>()?);
            if let Ok(key) = Self::from_scalar(curve, candidate.as_ref()) {
                return Ok(key);
            }
        }
        Err(EccError::Backend("could not draw a valid scalar"))
    }

    /// A private key from its big-endian 32-byte scalar.
    pub fn from_scalar(curve: Curve, scalar: &[u8]) -> Result<Self, EccError> {
        let scalar_arr: Zeroizing<[u8; 32]> = Zeroizing::new(scalar.try_into().map_err(|_| {
            EccError::BadPrivateKey(format!("scalar must be 32 bytes, got {}", scalar.len()))
        })?);
        match curve {
            Curve::NistP256 => {
                let secret = p256::SecretKey::from_slice(scalar)
                    .map_err(|_| EccError::BadPrivateKey("scalar out of range".into()))?;
                let public_bytes = secret.public_key().to_sec1_bytes();
                let signer = EcdsaKeyPair::from_private_key_and_public_key(
                    &lc_sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                    scalar,
                    &public_bytes,
                )
                .map_err(|e| EccError::BadPrivateKey(e.to_string()))?;
                let agreement =
                    agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, scalar)
                        .map_err(|e| EccError::BadPrivateKey(e.to_string()))?;
                let public = PublicKey::from_sec1(curve, signer.public_key().as_ref())?;
                Ok(Self {
                    curve,
                    scalar: scalar_arr,
                    public,
                    backend: Backend::P256 { signer, agreement },
                })
            }
            Curve::BrainpoolP256r1 => {
                let secret = elliptic_curve::SecretKey::<BrainpoolP256r1>::from_slice(scalar)
                    .map_err(|_| EccError::BadPrivateKey("scalar out of range".into()))?;
                let public = PublicKey::from_sec1(curve, &secret.public_key().to_sec1_bytes())?;
                let signer = ecdsa::SigningKey::from(&secret);
                Ok(Self {
                    curve,
                    scalar: scalar_arr,
                    public,
                    backend: Backend::Bp256 { signer, secret },
                })
            }
        }
    }

    /// A private key from DER: SEC1 `ECPrivateKey` (RFC 5915) or PKCS#8 `PrivateKeyInfo`.
    /// `default_curve` is used only for a SEC1 key that omits its parameters.
    pub fn from_der(der: &[u8], default_curve: Option<Curve>) -> Result<Self, EccError> {
        use der::Decode;
        if let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(der) {
            let alg = info.algorithm.oid.to_string();
            if alg != OID_EC_PUBLIC_KEY {
                return Err(EccError::NotAnEcKey(alg));
            }
            let params = info.algorithm.parameters.ok_or_else(|| {
                EccError::BadPrivateKey("PKCS#8 key without curve parameters".into())
            })?;
            let curve_oid: der::asn1::ObjectIdentifier = params
                .decode_as()
                .map_err(|e| EccError::BadPrivateKey(format!("curve parameters: {e}")))?;
            let curve = Curve::from_oid(&curve_oid.to_string())?;
            return Self::from_sec1_der(info.private_key.as_bytes(), Some(curve));
        }
        Self::from_sec1_der(der, default_curve)
    }

    fn from_sec1_der(der: &[u8], default_curve: Option<Curve>) -> Result<Self, EccError> {
        use der::Decode;
        let key = sec1::EcPrivateKey::from_der(der)
            .map_err(|e| EccError::BadPrivateKey(e.to_string()))?;
        let curve = match key.parameters.and_then(|p| p.named_curve()) {
            Some(oid) => Curve::from_oid(&oid.to_string())?,
            None => {
                default_curve.ok_or_else(|| EccError::BadPrivateKey("key names no curve".into()))?
            }
        };
        if default_curve.is_some_and(|c| c != curve) {
            return Err(EccError::BadPrivateKey(
                "curve in key differs from its container".into(),
            ));
        }
        // Leading zero bytes may be stripped by some encoders: left-pad to 32.
        let raw = key.private_key;
        if raw.len() > 32 {
            return Err(EccError::BadPrivateKey(format!(
                "scalar of {} bytes",
                raw.len()
            )));
        }
        let mut scalar = Zeroizing::new([0u8; 32]);
        scalar[32 - raw.len()..].copy_from_slice(raw);
        let k = Self::from_scalar(curve, scalar.as_ref())?;
        if let Some(pub_bytes) = key.public_key
            && PublicKey::from_sec1(curve, pub_bytes)? != k.public
        {
            return Err(EccError::BadPrivateKey(
                "embedded public key does not match".into(),
            ));
        }
        Ok(k)
    }

    /// A private key from PEM: `EC PRIVATE KEY` (SEC1, optionally preceded by an `EC PARAMETERS` block
    /// as OpenSSL and the SGP.26 files write it) or `PRIVATE KEY` (PKCS#8).
    pub fn from_pem(pem: &str) -> Result<Self, EccError> {
        let (_, der) = pem_block(pem, &["EC PRIVATE KEY", "PRIVATE KEY"])
            .ok_or(EccError::NoPemBlock("EC PRIVATE KEY or PRIVATE KEY"))?;
        let der = Zeroizing::new(der);
        Self::from_der(&der, None)
    }

    /// PKCS#8 DER of this key (with the public key embedded). Wiped on drop.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let sec1 = self.to_sec1_der_inner(false);
        // PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier, OCTET STRING (ECPrivateKey) }
        let curve_oid = self.curve.oid_der();
        let mut alg = vec![
            0x06,
            0x07,
            0x2A,
            0x86,
            0x48,
            0xCE,
            0x3D,
            0x02,
            0x01,
            0x06,
            curve_oid.len() as u8,
        ];
        alg.extend_from_slice(curve_oid);
        let mut body = Zeroizing::new(Vec::with_capacity(160));
        body.extend_from_slice(&[0x02, 0x01, 0x00, 0x30, alg.len() as u8]);
        body.extend_from_slice(&alg);
        push_der_len_tlv(&mut body, 0x04, &sec1);
        let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 4));
        push_der_len_tlv(&mut out, 0x30, &body);
        out
    }

    /// SEC1 `ECPrivateKey` DER (with curve parameters and public key). Wiped on drop.
    pub fn to_sec1_der(&self) -> Zeroizing<Vec<u8>> {
        self.to_sec1_der_inner(true)
    }

    fn to_sec1_der_inner(&self, with_params: bool) -> Zeroizing<Vec<u8>> {
        let mut body = Zeroizing::new(Vec::with_capacity(128));
        body.extend_from_slice(&[0x02, 0x01, 0x01, 0x04, 0x20]);
        body.extend_from_slice(self.scalar.as_ref());
        if with_params {
            let oid = self.curve.oid_der();
            body.extend_from_slice(&[0xA0, (oid.len() + 2) as u8, 0x06, oid.len() as u8]);
            body.extend_from_slice(oid);
        }
        body.extend_from_slice(&[0xA1, 0x44, 0x03, 0x42, 0x00]);
        body.extend_from_slice(&self.public.point);
        let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 4));
        push_der_len_tlv(&mut out, 0x30, &body);
        out
    }

    /// PEM `PRIVATE KEY` (PKCS#8). Wiped on drop.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(to_pem("PRIVATE KEY", &self.to_pkcs8_der()))
    }

    /// PEM `EC PRIVATE KEY` (SEC1), the form OpenSSL and SGP.26 use. Wiped on drop.
    pub fn to_sec1_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(to_pem("EC PRIVATE KEY", &self.to_sec1_der()))
    }

    /// An independent copy of this key (the backends' key objects are rebuilt from the scalar).
    pub fn try_clone(&self) -> Result<Self, EccError> {
        Self::from_scalar(self.curve, self.scalar.as_ref())
    }

    /// The big-endian scalar. Handle with care: wiped on drop.
    pub fn scalar(&self) -> Zeroizing<[u8; 32]> {
        self.scalar.clone()
    }

    /// The curve of this key.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// ECDSA-SHA256 over `message`, raw `r‖s` (64 bytes).
    pub fn sign_raw(&self, message: &[u8]) -> Result<[u8; 64], EccError> {
        match &self.backend {
            Backend::P256 { signer, .. } => {
                let sig = signer
                    .sign(&SystemRandom::new(), message)
                    .map_err(|_| EccError::Backend("P-256 signing failed"))?;
                sig.as_ref()
                    .try_into()
                    .map_err(|_| EccError::Backend("P-256 signature of unexpected length"))
            }
            Backend::Bp256 { signer, .. } => {
                let sig: bp256::r1::ecdsa::Signature = signer.sign(message);
                Ok(sig.to_bytes().into())
            }
        }
    }

    /// ECDSA-SHA256 over `message`, ASN.1 DER.
    pub fn sign_der(&self, message: &[u8]) -> Result<Vec<u8>, EccError> {
        raw_to_der(&self.sign_raw(message)?)
    }

    /// ECKA (ECDH): the shared secret with `peer` (x-coordinate of the shared point).
    pub fn agree(&self, peer: &PublicKey) -> Result<SharedSecret, EccError> {
        if peer.curve != self.curve {
            return Err(EccError::CurveMismatch {
                ours: self.curve,
                theirs: peer.curve,
            });
        }
        match &self.backend {
            Backend::P256 { agreement: key, .. } => {
                let peer_key =
                    agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &peer.point);
                agreement::agree(
                    key,
                    peer_key,
                    EccError::BadPublicKey("ECDH rejected the point".into()),
                    |s| {
                        let arr: [u8; 32] = s
                            .try_into()
                            .map_err(|_| EccError::Backend("ECDH output of unexpected length"))?;
                        Ok(SharedSecret(Zeroizing::new(arr)))
                    },
                )
            }
            Backend::Bp256 { secret, .. } => {
                let peer_pk =
                    elliptic_curve::PublicKey::<BrainpoolP256r1>::from_sec1_bytes(&peer.point)
                        .map_err(|e| EccError::BadPublicKey(e.to_string()))?;
                let shared = elliptic_curve::ecdh::diffie_hellman(
                    secret.to_nonzero_scalar(),
                    peer_pk.as_affine(),
                );
                let mut arr = Zeroizing::new([0u8; 32]);
                arr.copy_from_slice(shared.raw_secret_bytes().as_slice());
                Ok(SharedSecret(arr))
            }
        }
    }
}

fn push_der_len_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(value);
}

/// Converts a raw `r‖s` signature (64 bytes) to ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`.
pub fn raw_to_der(raw: &[u8]) -> Result<Vec<u8>, EccError> {
    if raw.len() != RAW_SIGNATURE_LEN {
        return Err(EccError::BadSignatureEncoding(format!(
            "raw signature must be 64 bytes, got {}",
            raw.len()
        )));
    }
    let (r, s) = raw.split_at(32);
    let mut body = Vec::with_capacity(72);
    for int in [r, s] {
        let stripped = match int.iter().position(|&b| b != 0) {
            Some(i) => &int[i..],
            None => &int[31..],
        };
        let pad = stripped.first().is_some_and(|&b| b & 0x80 != 0);
        body.push(0x02);
        body.push((stripped.len() + usize::from(pad)) as u8);
        if pad {
            body.push(0);
        }
        body.extend_from_slice(stripped);
    }
    let mut out = Vec::with_capacity(body.len() + 2);
    out.push(0x30);
    out.push(body.len() as u8);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Converts a DER ECDSA signature to raw `r‖s` (64 bytes). Strict DER: minimal integers, no trailing data.
pub fn der_to_raw(der: &[u8]) -> Result<[u8; 64], EccError> {
    let bad = |m: &str| EccError::BadSignatureEncoding(m.to_string());
    let (&tag, rest) = der.split_first().ok_or_else(|| bad("empty"))?;
    if tag != 0x30 {
        return Err(bad("not a SEQUENCE"));
    }
    let (len, rest) = read_short_or_81_len(rest).ok_or_else(|| bad("bad SEQUENCE length"))?;
    if rest.len() != len {
        return Err(bad("SEQUENCE length does not match"));
    }
    let mut out = [0u8; 64];
    let mut cur = rest;
    for half in 0..2 {
        let (&t, r) = cur.split_first().ok_or_else(|| bad("truncated"))?;
        if t != 0x02 {
            return Err(bad("not an INTEGER"));
        }
        let (l, r) = read_short_or_81_len(r).ok_or_else(|| bad("bad INTEGER length"))?;
        let int = r.get(..l).ok_or_else(|| bad("truncated INTEGER"))?;
        cur = r.get(l..).ok_or_else(|| bad("truncated"))?;
        let first = *int.first().ok_or_else(|| bad("empty INTEGER"))?;
        if first & 0x80 != 0 {
            return Err(bad("negative INTEGER"));
        }
        if int.len() > 1 && first == 0 && int.get(1).is_some_and(|b| b & 0x80 == 0) {
            return Err(bad("non-minimal INTEGER"));
        }
        let mag = if first == 0 && int.len() > 1 {
            &int[1..]
        } else {
            int
        };
        if mag.len() > 32 {
            return Err(bad("INTEGER longer than the curve order"));
        }
        let start = half * 32 + (32 - mag.len());
        out[start..half * 32 + 32].copy_from_slice(mag);
    }
    if !cur.is_empty() {
        return Err(bad("trailing data"));
    }
    Ok(out)
}

fn read_short_or_81_len(b: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, rest) = b.split_first()?;
    match first {
        0..=0x7F => Some((usize::from(first), rest)),
        0x81 => {
            let (&l, rest) = rest.split_first()?;
            (l >= 0x80).then_some((usize::from(l), rest))
        }
        _ => None,
    }
}

/// Finds the first PEM block whose label is one of `labels` and returns (label, DER).
pub fn pem_block(text: &str, labels: &[&str]) -> Option<(String, Vec<u8>)> {
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after.find("-----")?;
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let body_start = start + 11 + label_end + 5;
        let end = rest[body_start..].find(&end_marker)? + body_start;
        let block_end = end + end_marker.len();
        if labels.contains(&label) {
            let block = &rest[start..block_end];
            if let Ok((l, der)) = pem_rfc7468::decode_vec(block.as_bytes()) {
                return Some((l.to_string(), der));
            }
            // Lenient: tolerate PEM headers or odd line lengths by decoding the base64 body directly.
            let b64: String = rest[body_start..end]
                .lines()
                .filter(|l| !l.contains(':'))
                .flat_map(|l| l.trim().chars())
                .collect();
            if let Ok(der) = base64ct::Base64::decode_vec(&b64) {
                return Some((label.to_string(), der));
            }
        }
        rest = &rest[block_end..];
    }
    None
}

/// Encodes DER as a PEM block with 64-character lines.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der)
        .unwrap_or_else(|_| String::new())
}

use base64ct::Encoding as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_der_round_trip_with_high_bits_and_leading_zeros() {
        let mut raw = [0u8; 64];
        raw[0] = 0x80; // r needs a 00 pad
        raw[31] = 1;
        raw[32] = 0; // s has a leading zero byte to strip
        raw[33] = 0x7F;
        raw[63] = 2;
        let der = raw_to_der(&raw).unwrap();
        assert_eq!(der_to_raw(&der).unwrap(), raw);
        assert_eq!(der[2..5], [0x02, 0x21, 0x00]);
    }

    #[test]
    fn der_to_raw_refuses_non_minimal_and_trailing() {
        let good = raw_to_der(&[1u8; 64]).unwrap();
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(der_to_raw(&trailing).is_err());
        // INTEGER 00 01 is non-minimal.
        let nonmin = [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01];
        assert!(der_to_raw(&nonmin).is_err());
        assert!(der_to_raw(&[]).is_err());
        assert!(der_to_raw(&[0x30, 0x80]).is_err());
    }

    #[test]
    fn sign_verify_agree_on_both_curves() {
        for curve in Curve::ALL {
            let a = PrivateKey::generate(curve).unwrap();
            let b = PrivateKey::generate(curve).unwrap();
            let sig = a.sign_raw(b"message").unwrap();
            a.public_key().verify_raw(b"message", &sig).unwrap();
            assert_eq!(
                a.public_key().verify_raw(b"messagf", &sig),
                Err(EccError::BadSignature)
            );
            let der = a.sign_der(b"m2").unwrap();
            a.public_key().verify_der(b"m2", &der).unwrap();
            assert_eq!(
                b.public_key().verify_der(b"m2", &der),
                Err(EccError::BadSignature)
            );
            let s1 = a.agree(b.public_key()).unwrap();
            let s2 = b.agree(a.public_key()).unwrap();
            assert_eq!(s1.as_bytes(), s2.as_bytes());
        }
    }

    #[test]
    fn keys_round_trip_through_pkcs8_sec1_and_spki() {
        for curve in Curve::ALL {
            let k = PrivateKey::generate(curve).unwrap();
            let k2 = PrivateKey::from_der(&k.to_pkcs8_der(), None).unwrap();
            let k3 = PrivateKey::from_pem(&k.to_sec1_pem()).unwrap();
            let k4 = PrivateKey::from_pem(&k.to_pkcs8_pem()).unwrap();
            for other in [&k2, &k3, &k4] {
                assert_eq!(other.public_key(), k.public_key());
                assert_eq!(other.curve(), curve);
            }
            let p = PublicKey::from_pem(&k.public_key().to_pem()).unwrap();
            assert_eq!(&p, k.public_key());
            let c = k.try_clone().unwrap();
            assert_eq!(c.public_key(), k.public_key());
        }
    }

    #[test]
    fn cross_curve_agreement_is_refused() {
        let a = PrivateKey::generate(Curve::NistP256).unwrap();
        let b = PrivateKey::generate(Curve::BrainpoolP256r1).unwrap();
        assert!(matches!(
            a.agree(b.public_key()),
            Err(EccError::CurveMismatch { .. })
        ));
    }

    #[test]
    fn unsupported_curves_have_their_own_error() {
        assert!(
            matches!(Curve::from_oid("1.3.132.0.34"), Err(EccError::UnsupportedCurve(n)) if n.contains("P-384"))
        );
        assert!(
            matches!(Curve::from_oid("1.2.840.10045.3.1.1"), Err(EccError::UnsupportedCurve(n)) if n.contains("P-192"))
        );
    }

    #[test]
    fn bad_points_are_refused() {
        assert!(PublicKey::from_sec1(Curve::NistP256, &[4u8; 65]).is_err());
        assert!(PublicKey::from_sec1(Curve::BrainpoolP256r1, &[]).is_err());
        let zero = [0u8; 32];
        assert!(PrivateKey::from_scalar(Curve::NistP256, &zero).is_err());
        assert!(PrivateKey::from_scalar(Curve::BrainpoolP256r1, &[1u8; 31]).is_err());
    }
}
