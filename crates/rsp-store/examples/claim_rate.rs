//! Rough throughput of durable-procedure steps: `claim_due_procedures` + `advance_procedure`.
//!
//! ```text
//! cargo run --release -p rsp-store --example claim_rate -- 'sqlite:///tmp/rate.db?mode=rwc' 2000
//! cargo run --release -p rsp-store --example claim_rate -- "$RSP_TEST_POSTGRES_URL" 2000
//! ```
//! Rows it creates are deleted again at the end.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use rsp_store::{NewProcedure, ProcedureUpdate, Store, StoreError};
use time::{Duration, OffsetDateTime};

async fn seed(
    store: &dyn Store,
    run: &str,
    n: usize,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for i in 0..n {
        store
            .create_procedure(
                &NewProcedure {
                    id: format!("{run}-{i:06}"),
                    kind: "bench".into(),
                    state: "Start".into(),
                    data: vec![0; 256],
                    correlation: None,
                    due_at: Some(now),
                },
                now,
            )
            .await?;
    }
    Ok(())
}

/// Claims and advances until nothing is due; returns how many steps were done.
async fn drain(
    store: Arc<dyn Store>,
    holder: String,
    batch: u32,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let claimed = store
            .claim_due_procedures(now, &holder, Duration::minutes(5), batch)
            .await?;
        if claimed.is_empty() {
            return Ok(done);
        }
        for p in claimed {
            let update = ProcedureUpdate {
                state: "Done".into(),
                data: vec![1; 256],
                correlation: None,
                due_at: None,
            };
            store
                .advance_procedure(&p.id, p.version, &update, now)
                .await?;
            done += 1;
        }
    }
}

async fn cleanup(store: &dyn Store, run: &str, n: usize) -> Result<(), StoreError> {
    for i in 0..n {
        let id = format!("{run}-{i:06}");
        if let Some(p) = store.load_procedure(&id).await? {
            store.delete_procedure(&id, p.version).await?;
        }
    }
    Ok(())
}

async fn run(url: &str, n: usize) -> Result<(), StoreError> {
    let store = rsp_store::open(url).await?;
    let now = OffsetDateTime::now_utc();
    for (label, batch, tasks) in [
        ("limit 1, 1 task ", 1u32, 1usize),
        ("limit 16, 1 task", 16, 1),
        ("limit 1, 4 tasks", 1, 4),
    ] {
        let run = format!("bench-{}-{batch}-{tasks}", now.unix_timestamp_nanos());
        seed(store.as_ref(), &run, n, now).await?;
        let started = Instant::now();
        let mut handles = Vec::new();
        for t in 0..tasks {
            handles.push(tokio::spawn(drain(
                Arc::clone(&store),
                format!("bench-{t}"),
                batch,
                now,
            )));
        }
        let mut done = 0;
        for h in handles {
            done += h
                .await
                .map_err(|e| StoreError::InvalidInput(e.to_string()))??;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:?} {label}: {done} claim+advance in {secs:.2} s = {:.0}/s",
            store.backend(),
            done as f64 / secs
        );
        cleanup(store.as_ref(), &run, n).await?;
    }
    store.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: claim_rate <store-url> [rows]");
        return ExitCode::from(2);
    };
    let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    match run(&url, n).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("claim_rate: {e}");
            ExitCode::FAILURE
        }
    }
}
