//! Delivery of queued SOAP messages (asynchronous responses, notifications) from the store's outbox, with
//! exponential back-off and dead letters.

use std::sync::Arc;

use rsp_store::{FailureOutcome, Store};
use time::OffsetDateTime;

use crate::client::SoapClient;
use crate::service::OUTBOX_SOAP_KIND;

/// Retry policy of the deliverer.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// First retry delay.
    pub initial: time::Duration,
    /// Upper bound of the delay.
    pub max: time::Duration,
    /// Attempts before a message becomes a dead letter.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: time::Duration::seconds(2),
            max: time::Duration::minutes(10),
            max_attempts: 12,
        }
    }
}

/// Delivers due SOAP messages once; returns (delivered, failed).
pub async fn deliver_due(
    store: &Arc<dyn Store>,
    client: &SoapClient,
    node: &str,
    policy: &RetryPolicy,
    now: OffsetDateTime,
) -> Result<(usize, usize), rsp_store::StoreError> {
    let due = store
        .claim_due_messages_of(OUTBOX_SOAP_KIND, now, node, time::Duration::seconds(60), 32)
        .await?;
    let (mut ok, mut failed) = (0, 0);
    for msg in due {
        let payload = String::from_utf8_lossy(&msg.payload);
        match client.post_envelope(&msg.destination, &payload).await {
            Ok(_) => {
                store
                    .mark_delivered(msg.id, node, OffsetDateTime::now_utc())
                    .await?;
                ok += 1;
            }
            Err(e) => {
                let exp = 2i32.saturating_pow(msg.attempts.min(16));
                let delay = (policy.initial * exp).min(policy.max);
                let outcome = store
                    .mark_failed(
                        msg.id,
                        node,
                        &e.to_string(),
                        now + delay,
                        policy.max_attempts,
                        OffsetDateTime::now_utc(),
                    )
                    .await?;
                if let FailureOutcome::DeadLettered { attempts } = outcome {
                    tracing::error!(id = msg.id, destination = %msg.destination, attempts, error = %e, "SOAP message dead-lettered");
                } else {
                    tracing::warn!(id = msg.id, destination = %msg.destination, error = %e, "SOAP delivery failed; will retry");
                }
                failed += 1;
            }
        }
    }
    Ok((ok, failed))
}
