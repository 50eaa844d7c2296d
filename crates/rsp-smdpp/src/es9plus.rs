//! ES9+ (LPA ↔ SM-DP+, sgp22.md §4, §5, §8): the procedure and its two bindings.
//!
//! - [`procedure`]: the sans-IO core. Each function takes the decoded ASN.1 request, the session
//!   (as read from the store), the order and inventory data it needs, `now`, randomness and
//!   [`Es9Config`], and returns the response, the new session and the order change. It never
//!   panics on input and never changes the session on a refusal unless the refusal ends it.
//! - [`service`]: [`Es9Service`], the thin async shell that loads sessions and orders from the
//!   store, calls the core and saves the outcome in one atomic batch.
//! - [`json`]: the JSON binding (`POST /gsma/rsp2/es9plus/<function>`).
//! - [`asn1`]: the ASN.1 binding (`POST /gsma/rsp2/asn1`).
//!
//! Every refusal is an [`Es9Error`]: a [`Refusal`] that names its JSON subject / reason code
//! ([`Refusal::status`]) and its ASN.1-binding error INTEGER for the function
//! ([`Refusal::asn1_code`]).

pub mod asn1;
pub mod json;
pub mod procedure;
pub mod service;

use rsp_crypto::x509::X509Error;
use rsp_sgp22::cma::{CmaConfig, CmaRefusal};
use rsp_sgp22::messages::auth::{
    authenticate_client_error as ac, initiate_authentication_error as ia,
};
use rsp_sgp22::messages::download::{cancel_session_error as cs, get_bpp_error as gb};
use rsp_sgp22::{Capabilities, FeatureSet, ServerRspCapability};
use rsp_types::codes::sgp22::{reason, status, subject};
use rsp_types::{Oid, StatusCode, Svn};
use time::Duration;

use crate::order::OrderError;

pub use procedure::{CancelOutcome, NotificationOutcome};
pub use service::Es9Service;

/// The ES9+ functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `initiateAuthentication`.
    InitiateAuthentication,
    /// `authenticateClient`.
    AuthenticateClient,
    /// `getBoundProfilePackage`.
    GetBoundProfilePackage,
    /// `handleNotification`.
    HandleNotification,
    /// `cancelSession`.
    CancelSession,
}

impl Function {
    /// Every function.
    pub const ALL: [Function; 5] = [
        Function::InitiateAuthentication,
        Function::AuthenticateClient,
        Function::GetBoundProfilePackage,
        Function::HandleNotification,
        Function::CancelSession,
    ];

    /// The JSON binding's path segment.
    pub fn path(self) -> &'static str {
        match self {
            Function::InitiateAuthentication => "initiateAuthentication",
            Function::AuthenticateClient => "authenticateClient",
            Function::GetBoundProfilePackage => "getBoundProfilePackage",
            Function::HandleNotification => "handleNotification",
            Function::CancelSession => "cancelSession",
        }
    }
}

/// ES9+ settings of the SM-DP+.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Es9Config {
    /// The SGP.22 version this server implements (e.g. 2.2.2, 2.5.0, 3.1.0); also the
    /// `X-Admin-Protocol` it answers with.
    pub svn: Svn,
    /// The lowest eUICC major version served (eUICCs whose highest version is of a lower major
    /// get `8.8.3`/`3.1`). Default 2.0.0.
    pub lowest_svn: Svn,
    /// `serverRspCapability` announced when `svn` ≥ 3.0.0 (ignored for a v2 server).
    pub server_rsp_capability: ServerRspCapability,
    /// `supportedPushServices` (OIDs) announced in `sessionContext` to a peer that negotiated Push
    /// Service (empty = none).
    pub supported_push_services: Vec<Oid>,
    /// Optional features this server implements beyond the capability bits (RPM, Device
    /// Change, ...); none are implemented yet.
    pub features: FeatureSet,
    /// How long a session lives after InitiateAuthentication.
    pub session_ttl: Duration,
}

impl Es9Config {
    /// A server at `svn` with defaults: lowest 2.0.0, no server capability bit, no push
    /// service, session TTL 30 minutes.
    pub fn new(svn: Svn) -> Es9Config {
        Es9Config {
            svn,
            lowest_svn: Svn::new(2, 0, 0),
            server_rsp_capability: ServerRspCapability::default(),
            supported_push_services: Vec::new(),
            features: FeatureSet::EMPTY,
            session_ttl: Duration::minutes(30),
        }
    }

    /// Whether this server speaks v3 (sends sessionContext / serverRspCapability to v3 peers).
    pub fn is_v3(&self) -> bool {
        self.svn.major >= 3
    }

    /// What this server declares for [`rsp_sgp22::negotiate`].
    pub fn capabilities(&self) -> Capabilities {
        self.cma().capabilities()
    }

    /// The Common Mutual Authentication settings (shared with the SM-DS).
    pub fn cma(&self) -> CmaConfig {
        CmaConfig {
            svn: self.svn,
            lowest_svn: self.lowest_svn,
            server_rsp_capability: self.server_rsp_capability.clone(),
            supported_push_services: self.supported_push_services.clone(),
            features: self.features,
        }
    }
}

/// Why an ES9+ call is refused: one variant per condition of sgp22.md §4, §5, §8.4.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The SM-DP+ address is not ours (8.8.1/3.8).
    #[error("invalid SM-DP+ address")]
    InvalidDpAddress,
    /// The eUICC's SGP.22 version is not served (8.8.3/3.1).
    #[error("eUICC version not supported")]
    EuiccVersionNotSupported,
    /// No CI of the eUICC's signing list issued our CERT.DPauth (8.8.2/3.1, C-38).
    #[error("none of the eUICC's CI public key ids is supported")]
    CiPkIdNotSupported,
    /// A CI the eUICC can sign with is ours, but no CERT.DPauth chains to a CI the eUICC can
    /// verify (8.8.4/3.7).
    #[error("no CERT.DPauth chains to a CI the eUICC can verify")]
    NoDpCertificateForCi,
    /// EUM certificate invalid (8.1.2/6.1).
    #[error("EUM certificate invalid: {0}")]
    EumCertificateInvalid(String),
    /// EUM certificate expired (8.1.2/6.3, C-39).
    #[error("EUM certificate expired")]
    EumCertificateExpired,
    /// eUICC certificate invalid (8.1.3/6.1).
    #[error("eUICC certificate invalid: {0}")]
    EuiccCertificateInvalid(String),
    /// eUICC certificate expired (8.1.3/6.3).
    #[error("eUICC certificate expired")]
    EuiccCertificateExpired,
    /// A signature of the eUICC (or a signed value such as the serverChallenge) does not
    /// verify (8.1/6.1).
    #[error("eUICC signature invalid: {0}")]
    EuiccSignatureInvalid(&'static str),
    /// The EUM certificate names an unknown CI (8.11.1/3.9).
    #[error("CI public key unknown")]
    CiPkUnknown,
    /// Unknown, expired, replayed or out-of-order transactionId (8.10.1/3.9).
    #[error("transactionId unknown: {0}")]
    InvalidTransactionId(&'static str),
    /// `euiccInfo1.euiccRspCapability` differs from the signed `euiccInfo2` one (8.1/3.11, U-44).
    #[error("euiccRspCapability has changed")]
    EuiccRspCapabilityChanged,
    /// The `lpaRspCapability` of InitiateAuthentication differs from the signed DeviceInfo one
    /// (8.12/3.11, U-44).
    #[error("lpaRspCapability has changed")]
    LpaRspCapabilityChanged,
    /// Device Change / Profile Recovery context (8.10.3/3.1, U-44).
    #[error("device change not supported")]
    DeviceChangeNotSupported,
    /// No common profile package version (8.2.5/4.3, U-39).
    #[error("no eligible profile")]
    NoEligibleProfile,
    /// The order refused (its own code).
    #[error("order: {0}")]
    Order(OrderError),
    /// The smdpOid in the eUICC's signed data is not ours (8.8/3.10).
    #[error("invalid SM-DP+ OID")]
    InvalidSmdpOid,
    /// The eUICC answered with an error code (its AuthenticateServer / PrepareDownload /
    /// CancelSession error); the session ends (8.1/4.2, project choice).
    #[error("the eUICC reported error {0}")]
    EuiccError(i64),
    /// Malformed input (1.6/2.1).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Another node changed the session or order at the same time (1.2/4.4).
    #[error("busy, retry")]
    Busy,
    /// An internal failure (1.2/4.2).
    #[error("internal error: {0}")]
    Internal(String),
}

/// `8.8`/`3.10`: invalid SM-DP+ OID (CancelSession).
pub const INVALID_SMDP_OID: StatusCode =
    StatusCode::new(subject::SM_DP_PLUS, reason::INVALID_ASSOCIATION);
/// `8.1`/`4.2`: the eUICC reported an error (project choice).
pub const EUICC_REPORTED_ERROR: StatusCode =
    StatusCode::new(subject::EUICC, reason::EXECUTION_ERROR);
/// `1.2`/`4.4`: busy.
pub const BUSY: StatusCode = StatusCode::new(subject::FUNCTION_PROVIDER, reason::BUSY);

impl Refusal {
    /// The JSON subject / reason code.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::InvalidDpAddress => status::INVALID_DP_ADDRESS,
            Refusal::EuiccVersionNotSupported => status::EUICC_VERSION_NOT_SUPPORTED,
            Refusal::CiPkIdNotSupported => status::CI_PKID_NOT_SUPPORTED,
            Refusal::NoDpCertificateForCi => status::NO_DP_CERTIFICATE_FOR_CI,
            Refusal::EumCertificateInvalid(_) => status::EUM_CERTIFICATE_INVALID,
            Refusal::EumCertificateExpired => status::EUM_CERTIFICATE_EXPIRED,
            Refusal::EuiccCertificateInvalid(_) => status::EUICC_CERTIFICATE_INVALID,
            Refusal::EuiccCertificateExpired => status::EUICC_CERTIFICATE_EXPIRED,
            Refusal::EuiccSignatureInvalid(_) => status::EUICC_SIGNATURE_INVALID,
            Refusal::CiPkUnknown => status::CI_PK_UNKNOWN,
            Refusal::InvalidTransactionId(_) => status::INVALID_TRANSACTION_ID,
            Refusal::EuiccRspCapabilityChanged => status::EUICC_CAPABILITY_CHANGED,
            Refusal::LpaRspCapabilityChanged => status::LPA_CAPABILITY_CHANGED,
            Refusal::DeviceChangeNotSupported => status::DEVICE_CHANGE_NOT_SUPPORTED,
            Refusal::NoEligibleProfile => status::NO_ELIGIBLE_PROFILE,
            Refusal::Order(e) => e.status(),
            Refusal::InvalidSmdpOid => INVALID_SMDP_OID,
            Refusal::EuiccError(_) => EUICC_REPORTED_ERROR,
            Refusal::InvalidInput(_) => status::INVALID_PARAMETER,
            Refusal::Busy => BUSY,
            Refusal::Internal(_) => status::INTERNAL_ERROR,
        }
    }

    /// The error INTEGER of the ASN.1 binding for `function` (sgp22.md §4, §5; 127 where the
    /// function's list has no value for the condition).
    pub fn asn1_code(&self, function: Function) -> i64 {
        use Function as F;
        let generic = |input: i64, busy: i64, undefined: i64| match self {
            Refusal::InvalidInput(_) => input,
            Refusal::Busy => busy,
            _ => undefined,
        };
        match function {
            F::InitiateAuthentication => match self {
                Refusal::InvalidDpAddress => ia::INVALID_DP_ADDRESS,
                Refusal::EuiccVersionNotSupported => ia::EUICC_VERSION_NOT_SUPPORTED_BY_DP,
                Refusal::CiPkIdNotSupported | Refusal::NoDpCertificateForCi => {
                    ia::CI_PK_ID_NOT_SUPPORTED
                }
                _ => generic(
                    ia::INVALID_INPUT_DATA,
                    ia::FUNCTION_PROVIDER_BUSY,
                    ia::UNDEFINED_ERROR,
                ),
            },
            F::AuthenticateClient => match self {
                Refusal::EumCertificateInvalid(_) => ac::EUM_CERTIFICATE_INVALID,
                Refusal::EumCertificateExpired => ac::EUM_CERTIFICATE_EXPIRED,
                Refusal::EuiccCertificateInvalid(_) => ac::EUICC_CERTIFICATE_INVALID,
                Refusal::EuiccCertificateExpired => ac::EUICC_CERTIFICATE_EXPIRED,
                Refusal::EuiccSignatureInvalid(_) => ac::EUICC_SIGNATURE_INVALID,
                Refusal::CiPkUnknown => ac::CI_PK_UNKNOWN,
                Refusal::InvalidTransactionId(_) => ac::INVALID_TRANSACTION_ID,
                Refusal::EuiccRspCapabilityChanged => ac::EUICC_RSP_CAPABILITY_HAS_CHANGED,
                Refusal::LpaRspCapabilityChanged => ac::LPA_RSP_CAPABILITY_HAS_CHANGED,
                Refusal::DeviceChangeNotSupported => ac::DEVICE_CHANGE_NOT_SUPPORTED,
                Refusal::NoEligibleProfile => ac::NO_ELIGIBLE_PROFILE,
                Refusal::Order(e) => e.authenticate_client_error(),
                _ => generic(
                    ac::INVALID_INPUT_DATA,
                    ac::FUNCTION_PROVIDER_BUSY,
                    ac::UNDEFINED_ERROR,
                ),
            },
            F::GetBoundProfilePackage => match self {
                Refusal::EuiccSignatureInvalid(_) => gb::EUICC_SIGNATURE_INVALID,
                Refusal::InvalidTransactionId(_) => gb::INVALID_TRANSACTION_ID,
                Refusal::Order(e) => e.get_bpp_error(),
                _ => generic(
                    gb::INVALID_INPUT_DATA,
                    gb::FUNCTION_PROVIDER_BUSY,
                    gb::UNDEFINED_ERROR,
                ),
            },
            F::CancelSession => match self {
                Refusal::InvalidTransactionId(_) => cs::INVALID_TRANSACTION_ID,
                Refusal::EuiccSignatureInvalid(_) => cs::EUICC_SIGNATURE_INVALID,
                _ => generic(
                    cs::INVALID_INPUT_DATA,
                    cs::FUNCTION_PROVIDER_BUSY,
                    cs::UNDEFINED_ERROR,
                ),
            },
            // No response body: nothing to number.
            F::HandleNotification => 127,
        }
    }

    /// The refusal for an EUM certificate that did not verify.
    pub fn from_eum_chain(e: &X509Error) -> Refusal {
        CmaRefusal::from_eum_chain(e).into()
    }

    /// Maps a failed eUICC chain (the EUM is the intermediate).
    pub fn from_euicc_chain(e: &X509Error) -> Refusal {
        CmaRefusal::from_euicc_chain(e).into()
    }
}

impl From<CmaRefusal> for Refusal {
    fn from(r: CmaRefusal) -> Refusal {
        match r {
            CmaRefusal::InvalidServerAddress => Refusal::InvalidDpAddress,
            CmaRefusal::EuiccVersionNotSupported => Refusal::EuiccVersionNotSupported,
            CmaRefusal::CiPkIdNotSupported => Refusal::CiPkIdNotSupported,
            CmaRefusal::NoCertificateForCi => Refusal::NoDpCertificateForCi,
            CmaRefusal::EumCertificateInvalid(m) => Refusal::EumCertificateInvalid(m),
            CmaRefusal::EumCertificateExpired => Refusal::EumCertificateExpired,
            CmaRefusal::EuiccCertificateInvalid(m) => Refusal::EuiccCertificateInvalid(m),
            CmaRefusal::EuiccCertificateExpired => Refusal::EuiccCertificateExpired,
            CmaRefusal::EuiccSignatureInvalid(m) => Refusal::EuiccSignatureInvalid(m),
            CmaRefusal::CiPkUnknown => Refusal::CiPkUnknown,
            CmaRefusal::InvalidTransactionId(m) => Refusal::InvalidTransactionId(m),
            CmaRefusal::EuiccRspCapabilityChanged => Refusal::EuiccRspCapabilityChanged,
            CmaRefusal::LpaRspCapabilityChanged => Refusal::LpaRspCapabilityChanged,
            CmaRefusal::EuiccError(c) => Refusal::EuiccError(c),
            CmaRefusal::Internal(m) => Refusal::Internal(m),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{function:?} refused ({}): {refusal}", refusal.status())]
pub struct Es9Error {
    /// The function.
    pub function: Function,
    /// The condition.
    pub refusal: Refusal,
}

impl Es9Error {
    /// `refusal` in `function`.
    pub fn new(function: Function, refusal: Refusal) -> Es9Error {
        Es9Error { function, refusal }
    }

    /// The JSON subject / reason code.
    pub fn status(&self) -> StatusCode {
        self.refusal.status()
    }

    /// The ASN.1-binding error INTEGER.
    pub fn asn1_code(&self) -> i64 {
        self.refusal.asn1_code(self.function)
    }
}

/// The randomness the procedure draws (transactionIds, challenges, hostIds). Signatures and
/// one-time keys use the crypto library's own generator.
pub trait Randomness: Send + Sync {
    /// Fills `out` with unpredictable bytes.
    fn fill(&self, out: &mut [u8]) -> Result<(), Refusal>;
}

/// The system CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRandomness;

impl Randomness for SystemRandomness {
    fn fill(&self, out: &mut [u8]) -> Result<(), Refusal> {
        rsp_crypto::ecc::fill_random(out).map_err(|e| Refusal::Internal(e.to_string()))
    }
}

/// Both ES9+ bindings on one router: `POST /gsma/rsp2/es9plus/{function}` and
/// `POST /gsma/rsp2/asn1`.
pub fn router(service: Es9Service) -> axum::Router {
    json::router(service.clone()).merge(asn1::router(service))
}
