//! SGP.22 RSPDefinitions messages, each declared once with [`der_sequence!`](crate::der_sequence)
//! or [`der_choice!`](crate::der_choice): tags, optionality and feature-support gates are data on
//! the fields, and one encoder writes each message for the receiver's negotiated [`Profile`].
//!
//! Tags follow sgp22.md §3–§5, §11–§13 (the ASN.1 of SGP.22 v3.1 and v2.x; v2 names noted where
//! they differ). Decoding is tolerant: unknown elements are skipped and recorded.
//!
//! - [`common`]: small shared types (OperatorId, PprIds, NotificationEvent, …);
//! - [`auth`]: Common Mutual Authentication (EUICCInfo1/2, DeviceInfo, CtxParams1,
//!   InitiateAuthentication, AuthenticateServer, AuthenticateClient, ServerSigned1, …);
//! - [`download`]: profile metadata, PrepareDownload, GetBoundProfilePackage, the Profile
//!   Installation Result, notifications, CancelSession;
//! - [`local`]: the other ES10a/b/c commands between the LPA and the eUICC;
//! - [`smds`]: ES11, the SM-DS's AuthenticateClient response (v2 event list, v3 signed list);
//! - [`binding`]: the ASN.1 binding's RemoteProfileProvisioningRequest / Response.
//!
//! [`Profile`]: crate::version::Profile

pub mod auth;
pub mod binding;
pub mod common;
pub mod download;
pub mod local;
pub mod smds;

pub use auth::*;
pub use binding::*;
pub use common::*;
pub use download::*;
pub use local::*;
pub use smds::*;
