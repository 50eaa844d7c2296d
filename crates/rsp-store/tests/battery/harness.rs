//! Backends for the shared battery: a fresh SQLite file in a temp dir, or a fresh PostgreSQL
//! database on the server named by `RSP_TEST_POSTGRES_URL` (dropped at the end).

use std::io::Write as _;
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use rsp_store::{OpenOptions, Store};
use sqlx::Connection as _;

pub enum Kind {
    Sqlite,
    Postgres { admin_url: String, database: String },
}

pub struct Harness {
    /// URL of this test's database, for `rsp_store::open`.
    pub url: String,
    pub kind: Kind,
    _dir: Option<tempfile::TempDir>,
}

static SKIP_NOTICE: Once = Once::new();
static SEQ: AtomicU32 = AtomicU32::new(0);

/// Replaces the database name (the URL path) of a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..authority_end], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Harness {
    pub async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rsp.db");
        Harness {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            kind: Kind::Sqlite,
            _dir: Some(dir),
        }
    }

    /// `None` (after one notice on stderr) when no PostgreSQL server is configured outside CI.
    pub async fn postgres() -> Option<Harness> {
        let admin_url = match std::env::var("RSP_TEST_POSTGRES_URL") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                let in_ci = std::env::var("CI").map(|v| !v.is_empty()).unwrap_or(false);
                assert!(
                    !in_ci,
                    "CI is set but RSP_TEST_POSTGRES_URL is not: the PostgreSQL store battery must \
                     run in CI (start a server with `eval \"$(scripts/postgres.sh start)\"`)"
                );
                SKIP_NOTICE.call_once(|| {
                    // Written past the test harness's output capture on purpose.
                    let _ = writeln!(
                        std::io::stderr(),
                        "rsp-store: PostgreSQL tests skipped (RSP_TEST_POSTGRES_URL not set)"
                    );
                });
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let database = format!(
            "rsp_test_{}_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to RSP_TEST_POSTGRES_URL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE \"{database}\""
        )))
        .execute(&mut admin)
        .await
        .expect("create test database");
        admin.close().await.expect("close admin connection");
        Some(Harness {
            url: with_database(&admin_url, &database),
            kind: Kind::Postgres {
                admin_url,
                database,
            },
            _dir: None,
        })
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        rsp_store::open(&self.url).await.expect("open store")
    }

    pub async fn open_with(&self, max_connections: u32) -> Arc<dyn Store> {
        let options = OpenOptions {
            max_connections: Some(max_connections),
        };
        rsp_store::open_with(&self.url, &options)
            .await
            .expect("open store")
    }

    /// Runs raw SQL on this test's database, outside the store.
    pub async fn exec(&self, sql: &str) {
        match &self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
            }
            Kind::Postgres { .. } => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
            }
        }
    }

    /// Drops the PostgreSQL database (the SQLite temp dir goes with `self`).
    pub async fn finish(self) {
        if let Kind::Postgres {
            admin_url,
            database,
        } = &self.kind
        {
            let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .expect("drop test database");
            admin.close().await.unwrap();
        }
    }
}

#[test]
fn database_is_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5433/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5433/t1"
    );
    assert_eq!(
        with_database("postgresql://u:p@h/x?sslmode=disable", "t2"),
        "postgresql://u:p@h/t2?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "t3"), "postgres://h:1/t3");
}
