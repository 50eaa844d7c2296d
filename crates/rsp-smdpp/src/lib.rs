//! The SGP.22 SM-DP+.
//!
//! - [`order`]: the ES2+ order lifecycle (Available → Allocated → Linked → Confirmed → Released →
//!   Downloaded → Installed / Error), matchingId, confirmation code, counters; persisted in the store.
//! - [`inventory`]: the profiles this SM-DP+ can deliver (UPPs per profile package version).
//! - [`es2plus`]: ES2+ for Operators (JSON over mutual TLS, `X-Admin-Protocol`), and the
//!   HandleDownloadProgressInfo callback.
//! - [`identity`]: the server's certificates and keys (CERT.DPauth, CERT.DPpb, CERT.DP.TLS, CI).
//! - [`session`]: RSP sessions (one per transactionId) in the store.
//! - [`es9plus`]: ES9+ towards the LPA: the sans-IO procedure and the JSON / ASN.1 bindings.
//! - [`server`]: the HTTPS listener and router that serve ES9+ and ES2+.

#![forbid(unsafe_code)]

pub mod es2plus;
pub mod es9plus;
pub mod identity;
pub mod inventory;
pub mod order;
pub mod server;
pub mod session;
