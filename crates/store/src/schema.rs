//! The schema, its version, and the checks made before touching a file.
//!
//! `PRAGMA user_version` holds the schema version and `PRAGMA
//! application_id` marks the file as tracelab's. [`MIGRATIONS`]`[n]` takes
//! a store from version `n` to `n + 1` (the first creates it), each in its
//! own transaction, so a later version adds a migration and nothing else.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// "trlb": marks a SQLite file as a tracelab store.
pub(crate) const APPLICATION_ID: i32 = 0x7472_6c62;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

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

/// `MIGRATIONS[n]` takes a store from schema version `n` to `n + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [V1];

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
        tx.execute_batch(migration)
            .map_err(sql("creating the schema"))?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {to};"
        ))
        .map_err(sql("recording the schema version"))?;
        tx.commit().map_err(sql("committing a schema migration"))?;
    }
    Ok(())
}
