//! The delivery round shared by the SM-DP+'s outbox workers (HandleDownloadProgressInfo in
//! [`crate::es2plus::DeliveryWorker`], ES12 in [`crate::es12::Es12Worker`]): claim due messages
//! of some kinds under a lease, try each once, then mark it delivered, reschedule it with
//! backoff, or dead-letter it.

use std::fmt;

use rsp_store::{FailureOutcome, OutboxMessage, Store, StoreError};
use time::{Duration, OffsetDateTime};

/// What one delivery attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The peer acknowledged it.
    Delivered,
    /// Nothing to send any more (the message is obsolete): done without sending.
    Dropped,
    /// A transient failure: try again after the backoff (dead letter after `max_attempts`).
    Retry(String),
    /// A definitive refusal: dead letter now.
    Refused(String),
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoundReport {
    /// Acknowledged.
    pub delivered: usize,
    /// Dropped unsent (obsolete).
    pub dropped: usize,
    /// Failed and rescheduled.
    pub retried: usize,
    /// Dead letters: refused, or failed for the last time.
    pub dead: usize,
}

/// Claiming, lease and retry settings of a worker.
#[derive(Clone)]
pub struct OutboxRound {
    /// This node's lease-holder name.
    pub holder: String,
    /// Lease per claimed message.
    pub lease: Duration,
    /// Attempts before a message becomes a dead letter.
    pub max_attempts: u32,
    /// Delay before the next attempt after `attempts` failures.
    pub backoff: fn(u32) -> Duration,
    /// Messages claimed per round and kind.
    pub batch: u32,
}

impl fmt::Debug for OutboxRound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxRound")
            .field("holder", &self.holder)
            .field("lease", &self.lease)
            .field("max_attempts", &self.max_attempts)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl OutboxRound {
    /// Claims the due messages of each of `kinds` in turn and hands each to `deliver` once.
    pub async fn run<F, Fut>(
        &self,
        store: &dyn Store,
        kinds: &[&str],
        now: OffsetDateTime,
        deliver: F,
    ) -> Result<RoundReport, StoreError>
    where
        F: Fn(OutboxMessage) -> Fut,
        Fut: Future<Output = Attempt>,
    {
        let mut report = RoundReport::default();
        for kind in kinds {
            let msgs = store
                .claim_due_messages_of(kind, now, &self.holder, self.lease, self.batch)
                .await?;
            for msg in msgs {
                let (id, attempts) = (msg.id, msg.attempts);
                match deliver(msg).await {
                    Attempt::Delivered => {
                        store.mark_delivered(id, &self.holder, now).await?;
                        report.delivered += 1;
                    }
                    Attempt::Dropped => {
                        store.mark_delivered(id, &self.holder, now).await?;
                        report.dropped += 1;
                    }
                    Attempt::Retry(error) => {
                        let next = now + (self.backoff)(attempts.saturating_add(1));
                        match store
                            .mark_failed(id, &self.holder, &error, next, self.max_attempts, now)
                            .await?
                        {
                            FailureOutcome::Retry { .. } => report.retried += 1,
                            FailureOutcome::DeadLettered { .. } => report.dead += 1,
                        }
                    }
                    Attempt::Refused(error) => {
                        tracing::warn!(id, %error, "outbox message refused; dead letter");
                        // One more failed attempt reaches `attempts + 1`: dead at once.
                        store
                            .mark_failed(
                                id,
                                &self.holder,
                                &error,
                                now,
                                attempts.saturating_add(1),
                                now,
                            )
                            .await?;
                        report.dead += 1;
                    }
                }
            }
        }
        Ok(report)
    }
}
