//! One store battery, instantiated per backend (STYLE §5.6, HK-5).
//!
//! PostgreSQL: set `RSP_TEST_POSTGRES_URL` to an admin URL (e.g. from
//! `eval "$(scripts/postgres.sh start)"`); each test creates and drops its own database.
//! Without it the PostgreSQL instances are skipped, except when `CI` is set: then they fail.

// Test helpers outside #[test] functions: panicking on a failed step is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod harness;

macro_rules! battery {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let h = crate::harness::Harness::sqlite().await;
                    crate::cases::$case(&h).await;
                    h.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(h) = crate::harness::Harness::postgres().await else {
                        return;
                    };
                    crate::cases::$case(&h).await;
                    h.finish().await;
                }
            )*
        }
    };
}

battery!(
    eis_crud_and_conflict,
    profile_crud_and_conflict,
    procedure_lifecycle,
    claim_due_leasing,
    concurrent_claims_never_double,
    racing_advances_one_wins,
    outbox_retry_and_dead_letter,
    outbox_lease_expiry,
    idempotency_states,
    idempotency_concurrent_begin,
    audit_paging,
    batch_is_atomic,
    meta_and_schema,
    reopen_keeps_data,
    refuses_newer_schema,
    invalid_input_is_typed,
    claims_filter_by_kind,
);
