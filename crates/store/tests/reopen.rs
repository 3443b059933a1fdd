//! A store on disk: found again after a reopen; refused when it is newer
//! than this build or not a tracelab store at all.

mod common;

use common::*;
use tracelab_store::{Store, StoreError, TraceQuery, SCHEMA_VERSION};

#[test]
fn everything_is_found_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    // The directory does not exist yet: open creates it.
    let path = dir.path().join("data").join("tracelab.db");
    let request = merge(vec![
        common::request(
            "bands-api",
            vec![
                span(1, 1, None, "GET /bands", 0, 100),
                span(1, 2, Some(1), "fetch", 10, 50),
            ],
        ),
        common::request(
            "reviews-api",
            vec![span(1, 3, Some(2), "GET /reviews", 20, 30)],
        ),
    ]);
    let (stored, stats) = {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.path(), Some(path.as_path()));
        store.ingest_traces(&request).unwrap();
        (
            store.trace(&trace_hex(1)).unwrap().unwrap(),
            store.stats().unwrap(),
        )
    };
    assert!(path.is_file());

    let store = Store::open(&path).unwrap();
    assert_eq!(store.trace(&trace_hex(1)).unwrap().unwrap(), stored);
    assert_eq!(store.stats().unwrap(), stats);
    assert_eq!(store.services().unwrap(), ["bands-api", "reviews-api"]);
    assert_eq!(
        store.find_traces(&TraceQuery::default()).unwrap(),
        [trace_hex(1)]
    );
    // Still idempotent across the reopen.
    assert_eq!(store.ingest_traces(&request).unwrap().duplicate_spans, 3);
    assert!(store
        .describe_limits()
        .contains(&path.display().to_string()));
    drop(store);

    // Marked as a tracelab store of this schema version, in WAL mode.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let pragma = |name: &str| {
        conn.query_row(&format!("PRAGMA {name}"), [], |row| {
            row.get::<_, rusqlite::types::Value>(0)
        })
        .unwrap()
    };
    assert_eq!(
        pragma("user_version"),
        rusqlite::types::Value::Integer(SCHEMA_VERSION)
    );
    assert_eq!(
        pragma("application_id"),
        rusqlite::types::Value::Integer(0x7472_6c62)
    );
    assert_eq!(
        pragma("journal_mode"),
        rusqlite::types::Value::Text("wal".into())
    );
    assert_eq!(
        pragma("auto_vacuum"),
        rusqlite::types::Value::Integer(2),
        "incremental"
    );
}

#[test]
fn a_store_from_a_newer_tracelab_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tracelab.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 7").unwrap();
    drop(conn);

    let error = Store::open(&path).expect_err("refused");
    assert!(
        matches!(
            error,
            StoreError::NewerSchema {
                found: 7,
                supported: SCHEMA_VERSION,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "the span store {} has schema version 7, written by a newer tracelab; this build reads versions up to {SCHEMA_VERSION}: \
             upgrade tracelab or use another file",
            path.display()
        )
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 7, "untouched");
}

#[test]
fn someone_elses_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE accounts (id INTEGER)")
        .unwrap();
    drop(conn);
    let error = Store::open(&path).expect_err("refused");
    assert!(matches!(error, StoreError::NotAStore { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "{} is not a tracelab span store (it holds 1 tables or indexes but no tracelab schema version); \
             choose another file or move this one away",
            path.display()
        )
    );
}

#[test]
fn a_file_that_is_not_a_database_is_an_open_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "these are not the pages you are looking for, not even close to a header",
    )
    .unwrap();
    let error = Store::open(&path).expect_err("refused");
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("cannot open the span store {}: ", path.display())),
        "{message}"
    );
    assert!(message.contains("not a database"), "{message}");
}

#[test]
fn a_directory_that_cannot_be_created_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let error = Store::open(&blocker.join("sub").join("tracelab.db")).expect_err("refused");
    assert!(matches!(error, StoreError::CreateDir { .. }), "{error:?}");
    assert!(error.to_string().starts_with(&format!(
        "cannot create the span store's directory {}",
        blocker.join("sub").display()
    )));
}
