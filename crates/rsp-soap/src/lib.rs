//! The SGP.02 off-card binding: SOAP 1.2 over HTTPS with mutual TLS and WS-Addressing 1.0.
//!
//! - [`envelope`]: envelopes, addressing headers and faults (pure).
//! - [`dispatch`]: from an envelope to a catalogue call, role checks, response envelopes (pure).
//! - [`service`]: one SOAP service over a [`service::Handler`], the store (idempotency, stored asynchronous
//!   calls) and the configured peers; no HTTP framework inside.
//! - [`http`]: axum router, mutual-TLS listener exposing the client certificate, rustls configurations.
//! - [`client`]: the typed client for every function, and the registry that awaits asynchronous responses.
//! - [`outbox`]: delivery of queued asynchronous responses and notifications, with retries.
//! - [`table`]: a test double for the business side that answers from a table.

// `FunctionExecutionStatus` is the protocol-level error value handlers return; it is built once per failed call,
// so boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

pub mod client;
pub mod dispatch;
pub mod envelope;
pub mod http;
pub mod identity;
pub mod outbox;
pub mod service;
pub mod table;
