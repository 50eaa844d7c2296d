//! Common Mutual Authentication, server side (sgp22.md §4): the sans-IO core that the SM-DP+
//! (ES9+) and the SM-DS (ES11) share. Nothing here touches the store, the network, the clock
//! or a random source: the caller passes `now` and the fresh transactionId / serverChallenge.
//!
//! - [`initiate_authentication`]: address → SVN → CI of the signing list(s) for which the server
//!   holds an authentication certificate (none: [`CmaRefusal::CiPkIdNotSupported`]) → that CI
//!   also in the verification list (else [`CmaRefusal::NoCertificateForCi`]) (C-38); then
//!   `serverSigned1` (with `sessionContext` / `serverRspCapability` only from a v3 server),
//!   encoded for the negotiated peer profile and signed with CERT.DPauth / CERT.DSauth.
//! - [`verify_authenticate_client`]: transactionId → eUICC error → EUM certificate → eUICC
//!   certificate (EID) → euiccSignature1 → transactionId / serverChallenge / serverAddress in
//!   `euiccSigned1` → capability tamper checks (v3 servers only). What the eUICC asked for
//!   (`ctxParams1`) is the caller's to interpret: the SM-DP+ wants a download, the SM-DS an
//!   event retrieval or a push registration.
//!
//! The session state the second step needs ([`Initiated`]) is serde-serialisable: each server
//! keeps it in its own procedure rows.

use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::x509::{self, CertPosition, Certificate, Sgp22Role, X509Error};
use rsp_types::{Eid, Oid, Svn};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    AuthenticateClientRequest, AuthenticateServerResponse, Capabilities, CtxParams1, EuiccInfo1,
    EuiccInfo2, EuiccSigned1, Feature, FeatureSet, InitiateAuthenticationOk,
    InitiateAuthenticationRequest, Octet16, Profile, ServerRspCapability, ServerSigned1,
    SessionContext, Signed, TransactionId, negotiate,
};

/// The server's CMA settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmaConfig {
    /// The server's SGP.22 version (`serverSvn`; v3 sends `sessionContext`).
    pub svn: Svn,
    /// The lowest eUICC version accepted.
    pub lowest_svn: Svn,
    /// `serverRspCapability` (v3 servers).
    pub server_rsp_capability: ServerRspCapability,
    /// `supportedPushServices` in `sessionContext` (empty = none).
    pub supported_push_services: Vec<Oid>,
    /// Features the server implements outside the capability bit strings.
    pub features: FeatureSet,
}

impl CmaConfig {
    /// A v2 or v3 server accepting eUICCs from v2.0.0.
    pub fn new(svn: Svn) -> CmaConfig {
        CmaConfig {
            svn,
            lowest_svn: Svn::new(2, 0, 0),
            server_rsp_capability: ServerRspCapability::default(),
            supported_push_services: Vec::new(),
            features: FeatureSet::EMPTY,
        }
    }

    /// Whether the server speaks v3.
    pub fn is_v3(&self) -> bool {
        self.svn.major >= 3
    }

    /// The server side of the capability negotiation.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            server: self.is_v3().then(|| self.server_rsp_capability.clone()),
            other: self.features,
            ..Capabilities::default()
        }
    }
}

/// One CI the server can authenticate under: the CI certificate (trust anchor; its SKI is the
/// `euiccCiPKIdToBeUsed`) and the authentication credential it issued (CERT.DPauth or
/// CERT.DSauth with its key).
#[derive(Debug, Clone, Copy)]
pub struct AuthKey<'a> {
    /// The CI certificate.
    pub ci: &'a Certificate,
    /// CERT.DPauth / CERT.DSauth.
    pub certificate: &'a Certificate,
    /// Its private key (signs `serverSigned1`).
    pub key: &'a PrivateKey,
}

impl AuthKey<'_> {
    /// The CI's subject key identifier.
    pub fn ci_pk_id(&self) -> &[u8] {
        self.ci.subject_key_id().unwrap_or_default()
    }

    /// The curve of the credential (the session's algorithm suite).
    pub fn curve(&self) -> Curve {
        self.key.curve()
    }
}

/// Who the server is in CMA: its address and its credentials per CI, in preference order.
#[derive(Debug, Clone)]
pub struct ServerAuth<'a> {
    /// The server address (FQDN) the eUICC must have signed.
    pub address: &'a str,
    /// The credentials per CI.
    pub keys: Vec<AuthKey<'a>>,
}

impl ServerAuth<'_> {
    /// Every CI certificate: the trust anchors for EUM / eUICC chains.
    pub fn trust_anchors(&self) -> Vec<Certificate> {
        self.keys.iter().map(|k| k.ci.clone()).collect()
    }
}

/// Why CMA refused. Each server maps these to its interface's status codes and error INTEGERs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmaRefusal {
    /// The address in the request or in `euiccSigned1` is not this server's.
    #[error("invalid server address")]
    InvalidServerAddress,
    /// The eUICC's version is outside what the server supports.
    #[error("eUICC version not supported")]
    EuiccVersionNotSupported,
    /// None of the eUICC's CIs for signing is one the server has a credential for.
    #[error("none of the eUICC's CI public key ids is supported")]
    CiPkIdNotSupported,
    /// The CIs found are not in the eUICC's verification list.
    #[error("no server authentication certificate chains to a CI the eUICC can verify")]
    NoCertificateForCi,
    /// CERT.EUM (or an EUM SubCA) does not verify.
    #[error("EUM certificate invalid: {0}")]
    EumCertificateInvalid(String),
    /// CERT.EUM is expired or not yet valid.
    #[error("EUM certificate expired")]
    EumCertificateExpired,
    /// CERT.EUICC does not verify or carries no EID.
    #[error("eUICC certificate invalid: {0}")]
    EuiccCertificateInvalid(String),
    /// CERT.EUICC is expired or not yet valid.
    #[error("eUICC certificate expired")]
    EuiccCertificateExpired,
    /// A signature or a signed challenge does not match.
    #[error("eUICC signature invalid: {0}")]
    EuiccSignatureInvalid(&'static str),
    /// The EUM chain ends at an unknown CI.
    #[error("CI public key unknown")]
    CiPkUnknown,
    /// The transactionId is not the session's.
    #[error("transactionId unknown: {0}")]
    InvalidTransactionId(&'static str),
    /// `euiccRspCapability` in `euiccInfo2` differs from `euiccInfo1`'s (v3).
    #[error("euiccRspCapability has changed")]
    EuiccRspCapabilityChanged,
    /// The signed `lpaRspCapability` differs from InitiateAuthentication's (v3).
    #[error("lpaRspCapability has changed")]
    LpaRspCapabilityChanged,
    /// The eUICC refused the server (`authenticateErrorCode`).
    #[error("the eUICC reported error {0}")]
    EuiccError(i64),
    /// Unexpected: encoding or signing failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CmaRefusal {
    /// The JSON-binding subject / reason code (the same on ES9+ and ES11, sgp22.md §8.4).
    pub fn status(&self) -> rsp_types::StatusCode {
        use rsp_types::codes::sgp22::status;
        match self {
            CmaRefusal::InvalidServerAddress => status::INVALID_DP_ADDRESS,
            CmaRefusal::EuiccVersionNotSupported => status::EUICC_VERSION_NOT_SUPPORTED,
            CmaRefusal::CiPkIdNotSupported => status::CI_PKID_NOT_SUPPORTED,
            CmaRefusal::NoCertificateForCi => status::NO_DP_CERTIFICATE_FOR_CI,
            CmaRefusal::EumCertificateInvalid(_) => status::EUM_CERTIFICATE_INVALID,
            CmaRefusal::EumCertificateExpired => status::EUM_CERTIFICATE_EXPIRED,
            CmaRefusal::EuiccCertificateInvalid(_) => status::EUICC_CERTIFICATE_INVALID,
            CmaRefusal::EuiccCertificateExpired => status::EUICC_CERTIFICATE_EXPIRED,
            CmaRefusal::EuiccSignatureInvalid(_) => status::EUICC_SIGNATURE_INVALID,
            CmaRefusal::CiPkUnknown => status::CI_PK_UNKNOWN,
            CmaRefusal::InvalidTransactionId(_) => status::INVALID_TRANSACTION_ID,
            CmaRefusal::EuiccRspCapabilityChanged => status::EUICC_CAPABILITY_CHANGED,
            CmaRefusal::LpaRspCapabilityChanged => status::LPA_CAPABILITY_CHANGED,
            CmaRefusal::EuiccError(_) => rsp_types::StatusCode::new(
                rsp_types::codes::sgp22::subject::EUICC,
                rsp_types::codes::sgp22::reason::EXECUTION_ERROR,
            ),
            CmaRefusal::Internal(_) => status::INTERNAL_ERROR,
        }
    }

    /// Maps a failed EUM chain.
    pub fn from_eum_chain(e: &X509Error) -> CmaRefusal {
        match e {
            X509Error::Expired { .. } | X509Error::NotYetValid { .. } => {
                CmaRefusal::EumCertificateExpired
            }
            X509Error::UnknownIssuer { .. } | X509Error::UntrustedRoot { .. } => {
                CmaRefusal::CiPkUnknown
            }
            e => CmaRefusal::EumCertificateInvalid(e.to_string()),
        }
    }

    /// Maps a failed eUICC chain (the EUM is the intermediate).
    pub fn from_euicc_chain(e: &X509Error) -> CmaRefusal {
        let at_eum = |w: &CertPosition| matches!(w, CertPosition::Intermediate(_));
        match e {
            X509Error::Expired { which, .. } | X509Error::NotYetValid { which, .. }
                if at_eum(which) =>
            {
                CmaRefusal::EumCertificateExpired
            }
            X509Error::Expired { .. } | X509Error::NotYetValid { .. } => {
                CmaRefusal::EuiccCertificateExpired
            }
            X509Error::UnknownIssuer { which, .. } if at_eum(which) => CmaRefusal::CiPkUnknown,
            e => CmaRefusal::EuiccCertificateInvalid(e.to_string()),
        }
    }
}

/// The negotiated [`Profile`] in storable form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProfile {
    /// The version, `X.Y.Z`.
    pub svn: String,
    /// Feature tag names (`Rpm`, `Dc`, ...).
    pub features: Vec<String>,
}

impl From<&Profile> for StoredProfile {
    fn from(p: &Profile) -> Self {
        StoredProfile {
            svn: p.svn.to_string(),
            features: p
                .features
                .iter()
                .map(|f| f.tag_name().to_string())
                .collect(),
        }
    }
}

impl StoredProfile {
    /// Back to a [`Profile`]; unknown feature names are dropped, an unreadable version is v2.0.0.
    pub fn profile(&self) -> Profile {
        let svn = self.svn.parse::<Svn>().unwrap_or(Svn::new(2, 0, 0));
        let features: FeatureSet = Feature::ALL
            .into_iter()
            .filter(|f| self.features.iter().any(|n| n == f.tag_name()))
            .collect();
        Profile::new(svn).with_features(features)
    }
}

/// What InitiateAuthentication leaves for AuthenticateClient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Initiated {
    /// `euiccChallenge`.
    #[serde(with = "serde_hex::fixed16")]
    pub euicc_challenge: [u8; 16],
    /// `serverChallenge`.
    #[serde(with = "serde_hex::fixed16")]
    pub server_challenge: [u8; 16],
    /// The CI public key id chosen (`euiccCiPKIdToBeUsed`).
    #[serde(with = "serde_hex::bytes")]
    pub ci_pk_id: Vec<u8>,
    /// The curve of the CI and the server's credentials in use.
    #[serde(with = "serde_hex::curve")]
    pub curve: Curve,
    /// The `euiccInfo1` received (DER, `BF20 …`, every known field kept).
    #[serde(with = "serde_hex::bytes")]
    pub euicc_info1: Vec<u8>,
    /// The `lpaRspCapability` received in InitiateAuthentication (BIT STRING content), if any.
    #[serde(default, with = "serde_hex::opt_bytes")]
    pub lpa_rsp_capability: Option<Vec<u8>>,
    /// The negotiated profile of the peer (what the encoder writes for).
    pub peer: StoredProfile,
    /// Whether this server was v3 when it answered: only a v3 server knows the v3 capability
    /// carriers and runs the tamper checks on them (a v2 server ignores them, sgp22.md §6).
    #[serde(default = "yes")]
    pub server_v3: bool,
}

fn yes() -> bool {
    true
}

/// A profile that lets every known field through: how the state keeps the received
/// `euiccInfo1` without losing v3 fields.
fn lossless() -> Profile {
    Profile::new(Svn::new(255, 255, 255)).with_features(FeatureSet::all())
}

/// The eUICC's highest declared SGP.22 version (`highestSvn`, else the v2 `svn`).
pub fn euicc_svn(info1: &EuiccInfo1) -> Svn {
    info1.highest_svn.unwrap_or(info1.lowest_svn)
}

/// Chooses the CI (and so the curve) for the session (C-38); returns the credential and
/// whether its CI came from the v3 signing list only.
pub fn choose_ci<'a>(
    auth: &ServerAuth<'a>,
    info1: &EuiccInfo1,
) -> Result<(AuthKey<'a>, bool), CmaRefusal> {
    let signing = &info1.euicc_ci_pk_id_list_for_signing.0;
    let signing_v3: &[Vec<u8>] = info1
        .euicc_ci_pk_id_list_for_signing_v3
        .as_ref()
        .map_or(&[], |l| l.0.as_slice());
    let verification = &info1.euicc_ci_pk_id_list_for_verification.0;
    let candidates: Vec<(AuthKey<'a>, bool)> = auth
        .keys
        .iter()
        .filter_map(|k| {
            let id = k.ci_pk_id();
            if signing.iter().any(|s| s.as_slice() == id) {
                Some((*k, false))
            } else if signing_v3.iter().any(|s| s.as_slice() == id) {
                Some((*k, true))
            } else {
                None
            }
        })
        .collect();
    if candidates.is_empty() {
        return Err(CmaRefusal::CiPkIdNotSupported);
    }
    candidates
        .into_iter()
        .find(|(k, _)| verification.iter().any(|v| v.as_slice() == k.ci_pk_id()))
        .ok_or(CmaRefusal::NoCertificateForCi)
}

/// InitiateAuthentication accepted.
#[derive(Debug, Clone)]
pub struct InitiateOutcome {
    /// The response (its `serverSigned1` already encoded for `peer`).
    pub response: InitiateAuthenticationOk,
    /// What AuthenticateClient needs.
    pub initiated: Initiated,
    /// The negotiated peer profile (encode the response for it).
    pub peer: Profile,
}

/// InitiateAuthentication (sgp22.md §4 steps 3–5) with the fresh `transaction_id` and
/// `server_challenge` the caller drew.
pub fn initiate_authentication(
    cfg: &CmaConfig,
    auth: &ServerAuth<'_>,
    req: &InitiateAuthenticationRequest,
    transaction_id: TransactionId,
    server_challenge: [u8; 16],
) -> Result<InitiateOutcome, CmaRefusal> {
    if !req.smdp_address.eq_ignore_ascii_case(auth.address) {
        return Err(CmaRefusal::InvalidServerAddress);
    }
    let info1 = &req.euicc_info1;
    let device_svn = euicc_svn(info1);
    if info1.lowest_svn.major > cfg.svn.major || device_svn.major < cfg.lowest_svn.major {
        return Err(CmaRefusal::EuiccVersionNotSupported);
    }
    let (key, from_v3_list) = choose_ci(auth, info1)?;
    let device = Capabilities {
        euicc: info1.euicc_rsp_capability.clone(),
        lpa: req.lpa_rsp_capability.clone(),
        ..Default::default()
    };
    let peer = negotiate(&cfg.capabilities(), Some(&device), cfg.svn, device_svn);
    let server_signed1 = ServerSigned1 {
        transaction_id: transaction_id.clone(),
        euicc_challenge: req.euicc_challenge,
        server_address: auth.address.to_string(),
        server_challenge: Octet16(server_challenge),
        session_context: cfg.is_v3().then(|| SessionContext {
            server_svn: cfg.svn,
            crl_stapling_v3_used: false,
            euicc_ci_pk_id_to_be_used_v3: from_v3_list.then(|| key.ci_pk_id().to_vec()),
            supported_push_services: (!cfg.supported_push_services.is_empty())
                .then(|| cfg.supported_push_services.clone()),
            unknown_tags: vec![],
        }),
        server_rsp_capability: cfg.is_v3().then(|| cfg.server_rsp_capability.clone()),
        unknown_tags: vec![],
    };
    let internal = |e: &dyn std::fmt::Display| CmaRefusal::Internal(e.to_string());
    let signed = Signed::new(server_signed1, &peer).map_err(|e| internal(&e))?;
    let signature = key.key.sign_raw(signed.raw()).map_err(|e| internal(&e))?;
    let response = InitiateAuthenticationOk {
        transaction_id,
        server_signed1: signed,
        server_signature1: signature.to_vec(),
        euicc_ci_pk_id_to_be_used: key.ci_pk_id().to_vec(),
        server_certificate: crate::Certificate(key.certificate.der().to_vec()),
        other_certs_in_chain: None,
        crl_list: None,
        unknown_tags: vec![],
    };
    let lpa_rsp_capability = req.lpa_rsp_capability.as_ref().map(|c| {
        let mut content = Vec::new();
        c.0.write_content(&mut content);
        content
    });
    let initiated = Initiated {
        euicc_challenge: req.euicc_challenge.0,
        server_challenge,
        ci_pk_id: key.ci_pk_id().to_vec(),
        curve: key.curve(),
        euicc_info1: info1.encode(&lossless()).map_err(|e| internal(&e))?,
        lpa_rsp_capability,
        peer: StoredProfile::from(&peer),
        server_v3: cfg.is_v3(),
    };
    Ok(InitiateOutcome {
        response,
        initiated,
        peer,
    })
}

/// What AuthenticateClient proved about the eUICC.
#[derive(Debug, Clone)]
pub struct ClientVerified {
    /// The EID (eUICC certificate subject serialNumber).
    pub eid: Eid,
    /// The verified `euiccSigned1` (its `ctxParams1` says what the eUICC asks for).
    pub euicc_signed1: EuiccSigned1,
    /// CERT.EUICC (DER).
    pub euicc_certificate: Vec<u8>,
    /// CERT.EUM or the EUM SubCA (DER).
    pub eum_certificate: Vec<u8>,
    /// `euiccSignature1` (raw r‖s): the server's next signature covers its TLV.
    pub euicc_signature1: Vec<u8>,
    /// The InitiateAuthentication state.
    pub initiated: Initiated,
}

impl ClientVerified {
    /// The signed `euiccInfo2`.
    pub fn euicc_info2(&self) -> &EuiccInfo2 {
        &self.euicc_signed1.euicc_info2
    }

    /// The negotiated peer profile.
    pub fn peer(&self) -> Profile {
        self.initiated.peer.profile()
    }
}

fn parse_cert(der: &[u8], bad: impl Fn(String) -> CmaRefusal) -> Result<Certificate, CmaRefusal> {
    Certificate::from_der(der).map_err(|e| bad(e.to_string()))
}

/// AuthenticateClient: checks everything the eUICC signed against the session state
/// (`transaction_id` is the session's). [`CmaRefusal::EuiccError`] means the eUICC refused the
/// server: the caller closes the session.
pub fn verify_authenticate_client(
    auth: &ServerAuth<'_>,
    initiated: &Initiated,
    transaction_id: &TransactionId,
    req: &AuthenticateClientRequest,
    now: OffsetDateTime,
) -> Result<ClientVerified, CmaRefusal> {
    if &req.transaction_id != transaction_id {
        return Err(CmaRefusal::InvalidTransactionId(
            "transactionId of the request",
        ));
    }
    let ok = match &req.authenticate_server_response {
        AuthenticateServerResponse::Ok(ok) => ok,
        AuthenticateServerResponse::Error(e) => {
            return Err(CmaRefusal::EuiccError(e.authenticate_error_code));
        }
    };
    let anchors = auth.trust_anchors();
    let others: Vec<Certificate> = match &ok.other_certs_in_chain {
        Some(list) => list
            .iter()
            .map(|c| parse_cert(c.der(), CmaRefusal::EumCertificateInvalid))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let eum = parse_cert(
        ok.next_cert_in_chain.der(),
        CmaRefusal::EumCertificateInvalid,
    )?;
    x509::verify_sgp22_chain(&eum, &others, &anchors, now, Sgp22Role::Eum)
        .map_err(|e| CmaRefusal::from_eum_chain(&e))?;
    let euicc = parse_cert(
        ok.euicc_certificate.der(),
        CmaRefusal::EuiccCertificateInvalid,
    )?;
    let mut intermediates = vec![eum];
    intermediates.extend(others);
    x509::verify_sgp22_chain(&euicc, &intermediates, &anchors, now, Sgp22Role::Euicc)
        .map_err(|e| CmaRefusal::from_euicc_chain(&e))?;
    let eid = euicc
        .eid()
        .and_then(|e| e.parse::<Eid>().ok())
        .ok_or_else(|| CmaRefusal::EuiccCertificateInvalid("no valid EID".into()))?;
    let euicc_key = euicc
        .public_key()
        .map_err(|e| CmaRefusal::EuiccCertificateInvalid(e.to_string()))?;
    euicc_key
        .verify_raw(ok.euicc_signed1.raw(), &ok.euicc_signature1)
        .map_err(|_| CmaRefusal::EuiccSignatureInvalid("euiccSignature1"))?;
    let signed1 = ok.euicc_signed1.value();
    if &signed1.transaction_id != transaction_id {
        return Err(CmaRefusal::InvalidTransactionId(
            "transactionId in euiccSigned1",
        ));
    }
    if signed1.server_challenge.0 != initiated.server_challenge {
        return Err(CmaRefusal::EuiccSignatureInvalid("serverChallenge"));
    }
    if !signed1.server_address.eq_ignore_ascii_case(auth.address) {
        return Err(CmaRefusal::InvalidServerAddress);
    }
    // Tamper checks: the unsigned copies against the signed ones (sgp22.md §0.3). They are
    // v3 checks on v3 carriers: a v2 server does not know these fields and ignores them.
    if initiated.server_v3 {
        let info1 = EuiccInfo1::decode(&initiated.euicc_info1)
            .map_err(|e| CmaRefusal::Internal(format!("stored euiccInfo1: {e}")))?;
        if let Some(c1) = &info1.euicc_rsp_capability
            && *c1 != signed1.euicc_info2.euicc_rsp_capability
        {
            return Err(CmaRefusal::EuiccRspCapabilityChanged);
        }
        // Only ctxParamsForCommonAuthentication carries a deviceInfo (and so a signed
        // lpaRspCapability).
        if let CtxParams1::CommonAuthentication(ctx) = &signed1.ctx_params1 {
            let signed_lpa = ctx.device_info.lpa_rsp_capability.as_ref().map(|c| {
                let mut content = Vec::new();
                c.0.write_content(&mut content);
                content
            });
            if signed_lpa != initiated.lpa_rsp_capability {
                return Err(CmaRefusal::LpaRspCapabilityChanged);
            }
        }
    }
    Ok(ClientVerified {
        eid,
        euicc_signed1: signed1.clone(),
        euicc_certificate: ok.euicc_certificate.der().to_vec(),
        eum_certificate: ok.next_cert_in_chain.der().to_vec(),
        euicc_signature1: ok.euicc_signature1.clone(),
        initiated: initiated.clone(),
    })
}

/// Serde helpers for stored session state: bytes as upper-case hex, curves by name.
pub mod serde_hex {
    /// `Vec<u8>` as hex text.
    pub mod bytes {
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serialises as upper-case hex.
        pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&hex::encode_upper(v))
        }

        /// Reads hex text.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            let text = String::deserialize(d)?;
            hex::decode(text).map_err(serde::de::Error::custom)
        }
    }

    /// `Option<Vec<u8>>` as optional hex text.
    pub mod opt_bytes {
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serialises as upper-case hex or none.
        pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(b) => s.serialize_some(&hex::encode_upper(b)),
                None => s.serialize_none(),
            }
        }

        /// Reads optional hex text.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|t| hex::decode(t).map_err(serde::de::Error::custom))
                .transpose()
        }
    }

    /// `[u8; 16]` as hex text.
    pub mod fixed16 {
        use serde::{Deserializer, Serializer};

        /// Serialises as upper-case hex.
        pub fn serialize<S: Serializer>(v: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
            super::bytes::serialize(v, s)
        }

        /// Reads 16 bytes of hex text.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 16], D::Error> {
            let v = super::bytes::deserialize(d)?;
            <[u8; 16]>::try_from(v.as_slice())
                .map_err(|_| serde::de::Error::custom("need 16 bytes"))
        }
    }

    /// A [`Curve`](rsp_crypto::ecc::Curve) by name.
    pub mod curve {
        use rsp_crypto::ecc::Curve;
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serialises the curve name.
        pub fn serialize<S: Serializer>(c: &Curve, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(c.name())
        }

        /// Reads a curve name.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Curve, D::Error> {
            let name = String::deserialize(d)?;
            [Curve::NistP256, Curve::BrainpoolP256r1]
                .into_iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown curve {name}")))
        }
    }

    /// An [`Svn`](rsp_types::Svn) as `X.Y.Z`.
    pub mod svn {
        use rsp_types::Svn;
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serialises `X.Y.Z`.
        pub fn serialize<S: Serializer>(v: &Svn, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(v)
        }

        /// Reads `X.Y.Z`.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Svn, D::Error> {
            String::deserialize(d)?
                .parse::<Svn>()
                .map_err(serde::de::Error::custom)
        }
    }
}

/// The `5F37` TLV of a raw signature: what the next signature of a CMA exchange covers
/// (`smdpSignature2`, `smdsSignature2`, `euiccSignature2` …) and the JSON form of signatures.
pub fn signature_tlv(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 5);
    out.extend_from_slice(&[0x5F, 0x37]);
    match raw.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n <= 0xFF => out.extend_from_slice(&[0x81, n as u8]),
        n => {
            let n = u16::try_from(n).unwrap_or(u16::MAX);
            out.push(0x82);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    out.extend_from_slice(raw);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn signature_tlv_lengths() {
        assert_eq!(signature_tlv(&[1, 2]), vec![0x5F, 0x37, 2, 1, 2]);
        let long = signature_tlv(&[0; 200]);
        assert_eq!(&long[..4], &[0x5F, 0x37, 0x81, 200]);
        assert_eq!(long.len(), 204);
        let longer = signature_tlv(&[0; 300]);
        assert_eq!(&longer[..5], &[0x5F, 0x37, 0x82, 0x01, 0x2C]);
    }

    #[test]
    fn stored_profile_round_trip() {
        let p = Profile::new(Svn::new(3, 1, 0)).with_features(FeatureSet::of(&[Feature::Rpm]));
        let back = StoredProfile::from(&p).profile();
        assert_eq!(back, p);
        let bad = StoredProfile {
            svn: "x".into(),
            features: vec!["Nope".into()],
        };
        assert_eq!(bad.profile(), Profile::new(Svn::new(2, 0, 0)));
    }
}
