//! The schema, its version, and the checks made before touching a file.
//!
//! `PRAGMA user_version` holds the schema version and `PRAGMA
//! application_id` marks the file as tracelab's. [`MIGRATIONS`]`[n]` takes
//! a store from version `n` to `n + 1` (the first creates it), each in its
//! own transaction, so a later version adds a migration and nothing else.
//!
//! The tables a version creates are described in its SQL: version 1 is the
//! whole schema as first written, each later version what it changes.

use rusqlite::{params, Connection, Transaction, TransactionBehavior};

use crate::value::tag_hash;
use crate::StoreError;

/// "trlb": marks a SQLite file as a tracelab store.
pub(crate) const APPLICATION_ID: i32 = 0x7472_6c62;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 2;

/// Version 1. Ids are lowercase hex text; times are Unix nanoseconds in
/// SQLite's signed 64-bit integers (so the store refuses times after 2262).
/// Each span, log record and metric is also kept whole, protobuf-encoded,
/// in `encoded`; the other columns are what queries filter and sort on.
const V1: &str = "
-- Resources and instrumentation scopes, each stored once and shared by
-- every span, log and metric that names it. `hash` (FNV-1a of `encoded`
-- and `schema_url`) narrows the lookup; the bytes themselves are compared.
CREATE TABLE resources (
    id INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    service TEXT NOT NULL,
    schema_url TEXT NOT NULL,
    encoded BLOB NOT NULL
);
CREATE INDEX resources_hash ON resources(hash);

-- Each resource attribute, as in `span_attributes`.
CREATE TABLE resource_attributes (
    resource_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX resource_attributes_key_value ON resource_attributes(key, value);

CREATE TABLE scopes (
    id INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    schema_url TEXT NOT NULL,
    encoded BLOB NOT NULL
);
CREATE INDEX scopes_hash ON scopes(hash);

-- One row per trace: when it was received (retention evicts by
-- `last_received_unix_nano`, the store's own clock) and how many spans it has.
CREATE TABLE traces (
    trace_id TEXT PRIMARY KEY,
    first_received_unix_nano INTEGER NOT NULL,
    last_received_unix_nano INTEGER NOT NULL,
    span_count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX traces_last_received ON traces(last_received_unix_nano);

CREATE TABLE spans (
    id INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    start_unix_nano INTEGER NOT NULL,
    end_unix_nano INTEGER NOT NULL,
    duration_nano INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    status_message TEXT NOT NULL,
    flags INTEGER NOT NULL,
    trace_state TEXT NOT NULL,
    resource_id INTEGER NOT NULL REFERENCES resources(id),
    scope_id INTEGER NOT NULL REFERENCES scopes(id),
    encoded BLOB NOT NULL
);
-- Idempotent ingest: a span is (trace id, span id); this also finds a trace.
CREATE UNIQUE INDEX spans_trace ON spans(trace_id, span_id);
CREATE INDEX spans_service ON spans(service, start_unix_nano);
CREATE INDEX spans_operation ON spans(service, name, start_unix_nano);
CREATE INDEX spans_start ON spans(start_unix_nano);
CREATE INDEX spans_duration ON spans(duration_nano);

-- Each span attribute as the text a tag search compares with (a value
-- longer than 64 bytes as a marker and its hash: see `value::index_text`).
CREATE TABLE span_attributes (
    span_row INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX span_attributes_key_value ON span_attributes(key, value);
CREATE INDEX span_attributes_span ON span_attributes(span_row);

-- The services and operations seen, for the search form (Jaeger keeps
-- the same index); pruned when retention removes their last span.
CREATE TABLE operations (
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    PRIMARY KEY (service, name, kind)
) WITHOUT ROWID;

CREATE TABLE logs (
    id INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    trace_id TEXT,
    span_id TEXT,
    service TEXT NOT NULL,
    time_unix_nano INTEGER NOT NULL,
    severity_number INTEGER NOT NULL,
    severity_text TEXT NOT NULL,
    resource_id INTEGER NOT NULL REFERENCES resources(id),
    scope_id INTEGER NOT NULL REFERENCES scopes(id),
    received_unix_nano INTEGER NOT NULL,
    encoded BLOB NOT NULL
);
CREATE INDEX logs_trace ON logs(trace_id, time_unix_nano);
CREATE INDEX logs_hash ON logs(hash);
CREATE INDEX logs_received ON logs(received_unix_nano);

-- One row per metric per export: its data points, encoded with the metric.
CREATE TABLE metrics (
    id INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    unit TEXT NOT NULL,
    point_count INTEGER NOT NULL,
    last_time_unix_nano INTEGER NOT NULL,
    resource_id INTEGER NOT NULL REFERENCES resources(id),
    scope_id INTEGER NOT NULL REFERENCES scopes(id),
    received_unix_nano INTEGER NOT NULL,
    encoded BLOB NOT NULL
);
CREATE INDEX metrics_name ON metrics(service, name);
CREATE INDEX metrics_hash ON metrics(hash);
CREATE INDEX metrics_received ON metrics(received_unix_nano);
";

/// Version 2: the tag index is one small row per span attribute, the hash
/// of its key and text (see `value::tag_hash`), where version 1 kept key and
/// text in a table and two indexes. A third of the bytes per span and a
/// third of the B-tree writes, for the same searches. The hash narrows a
/// search exactly as the text did, save for a 1 in 2^64 chance of a
/// collision adding a trace (the chance version 1 took for long values).
/// Retention finds a span's rows again from its encoded attributes.
const V2: &str = "
CREATE TABLE span_tags (
    hash INTEGER NOT NULL,
    span_row INTEGER NOT NULL,
    PRIMARY KEY (hash, span_row)
) WITHOUT ROWID;
";

/// Rewrites version 1's `span_attributes` rows as `span_tags` rows. The
/// text version 1 kept is [`crate::value::index_text`] of the value, which
/// hashes as the value itself does, so every search finds what it found.
fn v1_to_v2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(V2)?;
    {
        let mut rows = tx.prepare("SELECT span_row, key, value FROM span_attributes")?;
        let mut insert =
            tx.prepare("INSERT OR IGNORE INTO span_tags (hash, span_row) VALUES (?1, ?2)")?;
        let mut rows = rows.query([])?;
        while let Some(row) = rows.next()? {
            let span_row: i64 = row.get(0)?;
            let key = row.get_ref(1)?.as_str()?;
            let text = row.get_ref(2)?.as_str()?;
            insert.execute(params![tag_hash(key, text), span_row])?;
        }
    }
    tx.execute_batch("DROP TABLE span_attributes")
}

/// `MIGRATIONS[n]` takes a store from schema version `n` to `n + 1`.
const MIGRATIONS: [fn(&Transaction<'_>) -> rusqlite::Result<()>; SCHEMA_VERSION as usize] =
    [|tx| tx.execute_batch(V1), v1_to_v2];

/// Checks that `conn` holds a tracelab store this build can read (or an
/// empty database), then brings its schema up to [`SCHEMA_VERSION`].
/// Nothing is written to a file that fails a check.
pub(crate) fn prepare(conn: &mut Connection, location: &str) -> Result<(), StoreError> {
    let sql = |doing: &'static str| {
        move |source| StoreError::Sqlite {
            location: location.to_owned(),
            doing,
            source,
        }
    };
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(sql("reading the schema version"))?;
    let application_id: i32 = conn
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(sql("reading the application id"))?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(StoreError::NotAStore {
            location: location.to_owned(),
            reason: format!("its SQLite application id is {application_id:#x}, not tracelab's"),
        });
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            location: location.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version == 0 {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
            .map_err(sql("reading the schema"))?;
        if tables > 0 {
            return Err(StoreError::NotAStore {
                location: location.to_owned(),
                reason: format!(
                    "it holds {tables} tables or indexes but no tracelab schema version"
                ),
            });
        }
        // Only possible before the first table: lets retention hand freed
        // pages back to the file system (`PRAGMA incremental_vacuum`).
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")
            .map_err(sql("setting auto_vacuum"))?;
    } else if application_id != APPLICATION_ID {
        return Err(StoreError::NotAStore {
            location: location.to_owned(),
            reason: format!("it has schema version {version} but no tracelab application id"),
        });
    }
    for (from, migration) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        let to = from as i64 + 1;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("starting a schema migration"))?;
        // Another process may have migrated while this one waited.
        let current: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(sql("reading the schema version"))?;
        if current >= to {
            continue;
        }
        migration(&tx).map_err(sql("creating or upgrading the schema"))?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {to};"
        ))
        .map_err(sql("recording the schema version"))?;
        tx.commit().map_err(sql("committing a schema migration"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::Span;
    use prost::Message;

    use super::*;
    use crate::value::index_text;
    use crate::{Retention, Store, TraceQuery};

    fn attr(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue { value: Some(value) }),
            key_strindex: 0,
        }
    }

    /// A store written by version 1 (its tables and rows as version 1's
    /// ingest wrote them) opens as version 2, and every tag search finds
    /// what it found; retention then evicts it whole, tags included.
    #[test]
    fn a_version_1_store_is_upgraded_and_searched_alike() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        let trace_id = "ab000000000000000000000000000001";
        let long = "p".repeat(200);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(V1).unwrap();
            conn.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
            ))
            .unwrap();
            let resource = Resource {
                attributes: vec![attr("service.name", Value::StringValue("svc".into()))],
                ..Resource::default()
            };
            let span = Span {
                trace_id: vec![0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                span_id: vec![0xcd, 0, 0, 0, 0, 0, 0, 1],
                name: "work".into(),
                start_time_unix_nano: 1_000,
                end_time_unix_nano: 2_000,
                attributes: vec![
                    attr("customer", Value::StringValue("alice".into())),
                    attr("code", Value::IntValue(200)),
                    attr("payload", Value::StringValue(long.clone())),
                ],
                ..Span::default()
            };
            conn.execute(
                "INSERT INTO resources (id, hash, service, schema_url, encoded) VALUES (1, 0, 'svc', '', ?1)",
                [resource.encode_to_vec()],
            )
            .unwrap();
            conn.execute_batch(
                "INSERT INTO resource_attributes VALUES (1, 'service.name', 'svc');
                 INSERT INTO scopes (id, hash, name, version, schema_url, encoded) VALUES (1, 0, '', '', '', x'');
                 INSERT INTO traces VALUES ('ab000000000000000000000000000001', 5, 5, 1);
                 INSERT INTO operations VALUES ('svc', 'work', 0);",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO spans (id, trace_id, span_id, parent_span_id, service, name, kind, start_unix_nano, \
                 end_unix_nano, duration_nano, status_code, status_message, flags, trace_state, resource_id, \
                 scope_id, encoded) VALUES (7, ?1, 'cd00000000000001', NULL, 'svc', 'work', 0, 1000, 2000, 1000, \
                 0, '', 0, '', 1, 1, ?2)",
                params![trace_id, span.encode_to_vec()],
            )
            .unwrap();
            for (key, text) in [
                ("customer", "alice".to_owned()),
                ("code", "200".to_owned()),
                ("payload", index_text(long.clone())),
            ] {
                conn.execute(
                    "INSERT INTO span_attributes (span_row, key, value) VALUES (7, ?1, ?2)",
                    [key, text.as_str()],
                )
                .unwrap();
            }
        }

        let store = Store::open(&path).unwrap().with_retention(Retention {
            max_age: Some(Duration::from_secs(1)),
            max_bytes: None,
        });
        assert_eq!(store.integrity_check().unwrap(), Ok(()));
        let find = |key: &str, value: &str| {
            store
                .find_traces(&TraceQuery {
                    tags: vec![(key.to_owned(), value.to_owned())],
                    ..TraceQuery::default()
                })
                .unwrap()
        };
        for (key, value) in [
            ("customer", "alice"),
            ("code", "200"),
            ("payload", long.as_str()),
            ("service.name", "svc"),
        ] {
            assert_eq!(find(key, value), [trace_id], "{key}");
        }
        assert!(find("customer", "bob").is_empty());
        assert!(find("code", "201").is_empty());
        assert_eq!(store.trace(trace_id).unwrap().unwrap().spans.len(), 1);

        let report = store.enforce_retention(10_000_000_000).unwrap();
        assert_eq!(report.spans_evicted, 1);
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, i64>(0)).unwrap();
        assert_eq!(count("PRAGMA user_version"), SCHEMA_VERSION);
        assert_eq!(count("SELECT count(*) FROM span_tags"), 0);
        assert_eq!(
            count("SELECT count(*) FROM sqlite_master WHERE name = 'span_attributes'"),
            0
        );
    }
}
