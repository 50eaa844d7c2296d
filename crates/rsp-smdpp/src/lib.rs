//! The SGP.22 SM-DP+.
//!
//! - [`order`]: the ES2+ order lifecycle (Available → Allocated → Linked → Confirmed → Released →
//!   Downloaded → Installed / Error), matchingId, confirmation code, counters; persisted in the store.
//! - [`inventory`]: the profiles this SM-DP+ can deliver (UPPs per profile package version).
//! - [`es2plus`]: ES2+ for Operators (JSON over mutual TLS, `X-Admin-Protocol`), and the
//!   HandleDownloadProgressInfo callback.
//! - [`es12`]: ES12 towards the SM-DS: the event registered while an order with an
//!   `smdsAddress` is downloadable, deleted when it is over, delivered from the outbox.
//! - [`outbox`]: the delivery round shared by the outbox workers.
//! - [`identity`]: the server's certificates and keys (CERT.DPauth, CERT.DPpb, CERT.DP.TLS, CI).
//! - [`session`]: RSP sessions (one per transactionId) in the store.
//! - [`es9plus`]: ES9+ towards the LPA: the sans-IO procedure and the JSON / ASN.1 bindings.
//! - [`server`]: the HTTPS listener and router that serve ES9+ and ES2+.

#![forbid(unsafe_code)]

pub mod es12;
pub mod es2plus;
pub mod es9plus;
pub mod identity;
pub mod inventory;
pub mod order;
pub mod outbox;
pub mod server;
pub mod session;
