//! ES5 over HTTPS: GlobalPlatform remote application management over HTTP (GP Card Specification
//! Amendment B) under PSK-TLS 1.2 with the SCP81 key set (SGP.02 §2.4.4).
//!
//! - [`identity`]: the PSK identity TLV, the PSK, the [`PskKeyStore`] trait, header values.
//! - [`tls`]: the cipher suites and the OpenSSL contexts.
//! - [`server`]: the SM-SR's listener ([`AdminServer`]), which drains the [`Es5Queue`](crate::queue::Es5Queue).
//! - [`client`]: the card's side ([`CardClient`]), which runs the session loop against a
//!   [`CardEndpoint`].
//!
//! The admin session is driven by the card: it POSTs (first with no body), the SM-SR answers `200`
//! with a script and an `X-Admin-Next-URI`, the card POSTs the response script to that URI, and so
//! on until the SM-SR answers `204` without `X-Admin-Next-URI`.

mod body;
pub mod client;
pub mod identity;
pub mod server;
pub mod tls;

pub use client::{AdminSessionReport, CardClient, CardClientConfig, CardEndpoint, ClientError};
pub use identity::{
    AdminFrom, HeaderValueError, InMemoryPskKeyStore, Psk, PskError, PskIdentity, PskIdentityError,
    PskKeyStore, aid_uri, parse_aid_uri,
};
pub use server::{
    AdminServer, AdminServerConfig, AdminSessionHandler, NoopSessionHandler, SessionEnd,
    SessionError, SessionOpened, SessionSummary,
};
pub use tls::{PskCipherSuite, TlsSetupError};

/// `X-Admin-Protocol` value sent by the card.
pub const ADMIN_PROTOCOL: &str = "globalplatform-remote-admin/1.0";
/// `Content-Type` of a command script (SM-SR → card).
pub const CONTENT_TYPE_SCRIPT: &str = "application/vnd.globalplatform.card-content-mgt;version=1.0";
/// `Content-Type` of a response script (card → SM-SR).
pub const CONTENT_TYPE_RESPONSE: &str =
    "application/vnd.globalplatform.card-content-mgt-response;version=1.0";
/// Header naming the protocol.
pub const HEADER_ADMIN_PROTOCOL: &str = "x-admin-protocol";
/// Header naming the card and its admin agent.
pub const HEADER_ADMIN_FROM: &str = "x-admin-from";
/// Header with the URI of the card's next POST.
pub const HEADER_NEXT_URI: &str = "x-admin-next-uri";
/// Header naming the application (ISD-P) that executes the script.
pub const HEADER_TARGETED_APPLICATION: &str = "x-admin-targeted-application";
/// Header with the result of the previous script.
pub const HEADER_SCRIPT_STATUS: &str = "x-admin-script-status";
/// Default path of the card's first POST (decision U-15).
pub const DEFAULT_ADMIN_PATH: &str = "/es5/ram";
/// Default path of a POST that carries a Default Notification in `?msg=<hex>` (decision U-10).
pub const DEFAULT_NOTIFY_PATH: &str = "/es5/notify";

/// Whether an `X-Admin-Protocol` value names GP remote admin version 1.x (any case, any minor
/// version: lenient on input).
pub fn is_admin_protocol(value: &str) -> bool {
    let v = value.trim();
    let prefix = "globalplatform-remote-admin/";
    v.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        && v.get(prefix.len()..)
            .is_some_and(|version| version == "1" || version.starts_with("1."))
}
