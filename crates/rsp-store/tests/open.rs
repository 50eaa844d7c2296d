//! Opening stores: URL dispatch, the in-memory SQLite store, the SQLite file settings.

use rsp_store::{Backend, EisData, StoreError};
use time::macros::datetime;

#[tokio::test]
async fn unknown_scheme_is_refused() {
    for url in ["mysql://h/db", "no-scheme", "", "file:///tmp/x"] {
        match rsp_store::open(url).await {
            Err(StoreError::UnsupportedUrl(_)) => {}
            Err(e) => panic!("{url}: {e:?}"),
            Ok(_) => panic!("{url} opened"),
        }
    }
}

#[tokio::test]
async fn sqlite_file_store_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.db");
    let store = rsp_store::open(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.set_meta("node_id", "n1").await.unwrap();
    assert!(path.exists());
    assert!(
        dir.path().join("data.db-wal").exists(),
        "the journal is a write-ahead log"
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_file_is_created_unless_the_url_says_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("created.db");
    rsp_store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert!(path.is_file(), "a plain sqlite:// URL creates the store");
    let url = format!(
        "sqlite://{}?mode=rw",
        dir.path().join("absent.db").display()
    );
    assert!(matches!(
        rsp_store::open(&url).await,
        Err(StoreError::Backend(_))
    ));
}

#[tokio::test]
async fn in_memory_store_works_and_is_private() {
    let a = rsp_store::open("sqlite::memory:").await.unwrap();
    let b = rsp_store::open("sqlite::memory:").await.unwrap();
    let data = EisData {
        eid: "89049032123451234512345678901235".into(),
        smsr_id: "1.2.3".into(),
        document: vec![1, 2, 3],
    };
    a.insert_eis(&data, datetime!(2030-01-01 0:00 UTC))
        .await
        .unwrap();
    assert!(a.get_eis(&data.eid).await.unwrap().is_some());
    assert!(b.get_eis(&data.eid).await.unwrap().is_none());
    assert_eq!(a.schema_version().await.unwrap(), rsp_store::SCHEMA_VERSION);
}
