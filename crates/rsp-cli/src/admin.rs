//! The admin listener: `/healthz` (liveness and store reachability) and `/metrics` (Prometheus text).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// What the admin endpoints need.
#[derive(Clone)]
pub struct AdminState {
    /// The store, checked by `/healthz`.
    pub store: Arc<dyn rsp_store::Store>,
    /// Renders the metrics registry.
    pub metrics: PrometheusHandle,
    /// When the process started serving.
    pub started: Instant,
}

/// Installs the process-wide Prometheus recorder (once) and returns its handle.
pub fn install_metrics() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed already; the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The admin router.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

async fn healthz(State(state): State<AdminState>) -> impl IntoResponse {
    let started = Instant::now();
    let result = state.store.schema_version().await.map(|_| ());
    metrics::histogram!("rsp_store_ping_seconds").record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => (StatusCode::OK, "ok\n".to_string()),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("store unavailable: {e}\n"),
            )
        }
    }
}

async fn metrics_text(State(state): State<AdminState>) -> impl IntoResponse {
    metrics::gauge!("rsp_uptime_seconds").set(state.started.elapsed().as_secs_f64());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
