//! The HTTPS edge: serves the SM-DS router over mutual TLS with the listener of
//! `rsp_soap::http` (the verified client chain reaches the handlers as `ConnectInfo<TlsPeer>`,
//! read by [`crate::caller::peer_certificate`]).
//!
//! ES12 / ES15 require a client certificate (the server configuration's client verifier); ES11
//! (phase 2) is server-authenticated only, so it needs a listener whose verifier allows
//! anonymous clients, or a second port.

use std::sync::Arc;

use axum::Router;
use rsp_soap::http::{TlsListener, TlsPeer};
use tokio::net::TcpListener;

/// Serves `router` over TLS on `tcp` until `shutdown` resolves.
pub async fn serve(
    tcp: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = TlsListener::new(tcp, tls)?;
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<TlsPeer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
