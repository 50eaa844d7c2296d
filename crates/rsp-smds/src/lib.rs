//! The SGP.22 SM-DS (sgp22.md §14): Root or Alternative Subscription Manager – Discovery Server.
//!
//! - [`event`]: the event store (procedure rows of kind `smds.event` in `rsp-store`, SQLite or
//!   PostgreSQL; tombstones on delete) and push service registrations.
//! - [`es12`]: ES12 (SM-DP+ → SM-DS) and ES15 (SM-DS → SM-DS) RegisterEvent / DeleteEvent: the
//!   sans-IO decisions, [`es12::SmdsService`] and the axum [`es12::router`]; an Alternative
//!   SM-DS forwards events with `forwardingIndicator` true to its Root through the outbox.
//! - [`client`]: the ES12 / ES15 client ([`client::Es12Client`]) and the
//!   [`client::ForwardingWorker`] that delivers queued ES15 calls until acknowledged.
//! - [`es11`]: the event list after Common Mutual Authentication (v2 list, v3 signed list) and
//!   push registration, sans-IO.
//! - [`es11_service`]: ES11 Common Mutual Authentication (the shared [`rsp_sgp22::cma`] core
//!   with CERT.DSauth), sessions in the store, the JSON and ASN.1 bindings.
//! - [`caller`]: the caller identity from the mutual-TLS client certificate.
//! - [`server`]: the mutual-TLS listener.

#![forbid(unsafe_code)]

pub mod caller;
pub mod client;
pub mod es11;
pub mod es11_service;
pub mod es12;
pub mod event;
pub mod server;
