//! The SGP.22 LPA (LPAd): drives a consumer eUICC over ES10 and any SM-DP+ over ES9+.
//!
//! - [`config`]: the LPA's SVN, `LpaRspCapability`, DeviceInfo, ISD-R AID, consent and
//!   Confirmation Code ([`LpaConfig`]).
//! - [`negotiation`]: what the LPA and the eUICC both support ([`DeviceSide`]) and what the
//!   device and the server both support ([`SessionSide`]); every message is the one gated DER
//!   encoding for the receiver's [`rsp_sgp22::Profile`].
//! - [`card`]: ES10a/b/c as typed functions ([`Es10Card`]) over an [`Es10Transport`];
//!   [`ApduTransport`] drives any [`rsp_gp::ApduCard`] (SELECT ISD-R, STORE DATA).
//! - [`es9`]: the [`Es9Client`] trait and [`Es9Error`] (the server's subject/reason codes or
//!   error integer).
//! - [`http`]: [`HttpEs9Client`], ES9+ over HTTPS (JSON or ASN.1 binding), with a [`WireLog`].
//! - [`wire`]: the wire log of every ES9+ exchange, with tag-path helpers for assertions.
//! - `harness` (feature `harness`): a real SM-DP+ over TLS, a consumer card and orders, for
//!   end-to-end and interop tests.
//! - [`es11`], [`discovery`]: [`Es11Client`] ([`HttpEs11Client`] over HTTPS) and
//!   [`Lpa::discover`]: the events of this eUICC at an SM-DS (a v3 list only once the eUICC
//!   verified it), [`Lpa::download_discovered`].
//! - [`download`]: [`Lpa`]: profile download with cancellation on every failure
//!   ([`DownloadError`]), notification delivery, profile list / enable / disable / delete, EID.

#![forbid(unsafe_code)]

pub mod card;
pub mod config;
pub mod discovery;
pub mod download;
pub mod es11;
pub mod es9;
#[cfg(feature = "harness")]
pub mod harness;
pub mod http;
pub mod negotiation;
pub mod wire;

pub use card::{ApduTransport, CardError, Es10Card, Es10Log, Es10Transport};
pub use config::{Consent, DeviceConfig, LpaConfig};
pub use discovery::{DiscoveredEvent, DiscoveryError, DiscoveryStep};
pub use download::{
    CancelReport, DownloadError, DownloadOutcome, DownloadRequest, DownloadStep, FailureKind, Lpa,
    NotificationReport, Progress, ResultDelivery, hash_confirmation_code,
};
pub use es9::{Es9Client, Es9Error, Es9Function};
pub use es11::Es11Client;
pub use http::{HttpConfig, HttpEs9Client, HttpEs11Client};
pub use negotiation::{DeviceSide, SessionSide};
pub use wire::{Binding, WireExchange, WireLog};
