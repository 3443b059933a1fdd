//! The span store of tracelab's embedded OTLP collector: decoded OTLP
//! traces, logs and metrics kept in one SQLite file, and the queries the
//! UI and Jaeger's API ask of them.
//!
//! ```
//! use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
//! use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
//! use opentelemetry_proto::tonic::resource::v1::Resource;
//! use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
//! use tracelab_store::{Store, TraceQuery};
//!
//! // What a receiver decoded from an OTLP export: one span of bands-api.
//! let service_name = KeyValue {
//!     key: "service.name".into(),
//!     value: Some(AnyValue { value: Some(any_value::Value::StringValue("bands-api".into())) }),
//!     ..KeyValue::default()
//! };
//! let request = ExportTraceServiceRequest {
//!     resource_spans: vec![ResourceSpans {
//!         resource: Some(Resource { attributes: vec![service_name], ..Resource::default() }),
//!         scope_spans: vec![ScopeSpans {
//!             spans: vec![Span {
//!                 trace_id: vec![0x4b; 16],
//!                 span_id: vec![0x7a; 8],
//!                 name: "GET /bands/{id}".into(),
//!                 kind: 2, // server
//!                 start_time_unix_nano: 1_700_000_000_000_000_000,
//!                 end_time_unix_nano: 1_700_000_000_005_000_000,
//!                 ..Span::default()
//!             }],
//!             ..ScopeSpans::default()
//!         }],
//!         ..ResourceSpans::default()
//!     }],
//! };
//!
//! let store = Store::open_in_memory()?;
//! // Returns once the request is committed: only then may the receiver
//! // acknowledge it.
//! let outcome = store.ingest_traces(&request)?;
//! assert_eq!((outcome.accepted_spans, outcome.rejected_spans), (1, 0));
//!
//! assert_eq!(store.services()?, ["bands-api"]);
//! let query = TraceQuery { service: Some("bands-api".into()), ..TraceQuery::default() };
//! let trace_ids = store.find_traces(&query)?;
//! assert_eq!(trace_ids, ["4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b"]);
//!
//! // The trace, spans exactly as received, with their resource and scope.
//! let trace = store.trace(&trace_ids[0])?.expect("just stored");
//! assert_eq!(trace.spans[0].span.name, "GET /bands/{id}");
//! assert_eq!(trace.resource_of(&trace.spans[0]).service_name, "bands-api");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What it is for:
//! - Storing: [`Store::ingest_traces`], [`Store::ingest_logs`] and
//!   [`Store::ingest_metrics`] write a whole export request in one
//!   transaction and return after it commits (acknowledged means
//!   committed). Spans are idempotent on (trace id, span id), so a retried
//!   export stores nothing twice; invalid items are turned down one by one
//!   with a message that says where they are, for OTLP's partial success.
//!   Everything received is kept, protobuf-encoded, so nothing is lost.
//!   [`Store::ingest_traces_batch`] commits several requests in one
//!   transaction (group commit) and answers each as if stored alone.
//! - Querying: [`Store::services`], [`Store::operations`],
//!   [`Store::find_traces`], [`Store::trace`], [`Store::logs_for_trace`],
//!   [`Store::list_metrics`]; [`jaeger`] has Jaeger's v1 response
//!   envelope (the traces themselves are written by `tracelab-formats`, in
//!   the server).
//! - Retention: [`Store::enforce_retention`] evicts whole traces, oldest
//!   first, to stay under a [`Retention`]'s age and size.
//!
//! What it is not for: it opens no sockets, speaks no HTTP and decodes no
//! OTLP wire format (it takes the decoded `opentelemetry-proto` structs);
//! it has no clock of its own beyond stamping when data arrived, and runs
//! nothing in the background but a file store's WAL checkpoints, on a
//! thread of their own so that a commit never waits for one (see
//! `checkpoint.rs`; the server calls [`Store::enforce_retention`] when it
//! sees fit). No async: every call blocks until SQLite is done, so
//! an async caller runs it on a blocking thread.

mod checkpoint;
mod error;
mod ingest;
pub mod jaeger;
mod query;
mod retention;
mod schema;
mod value;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

pub use error::StoreError;
pub use ingest::{IngestOutcome, LogsOutcome, MetricsOutcome};
pub use jaeger::{JaegerError, JaegerResponse};
pub use query::{
    normalize_trace_id, MetricSummary, Operation, StoredLog, StoredResource, StoredScope,
    StoredSpan, StoredTrace, TraceQuery, DEFAULT_LIMIT, MAX_LIMIT,
};
pub use retention::{Retention, RetentionReport};
pub use schema::SCHEMA_VERSION;
pub use value::{value_to_json, value_to_text, MAX_VALUE_NESTING};

/// How long a statement waits for another connection's write lock (another
/// `tracelab` process on the same file, or this store's reader during a
/// checkpoint) before failing with a transient error.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The durable store: one SQLite file (or an in-memory database for tests).
///
/// Every method takes `&self` and may be called from any thread: writes go
/// through one connection, one at a time; reads of a file store go through
/// a second connection, so a query never waits behind an ingest (SQLite's
/// WAL lets readers see the last commit while a write is under way).
pub struct Store {
    /// Runs the WAL checkpoints of a file store (see [`checkpoint`]);
    /// first, so that it stops before the connections close.
    checkpointer: Option<checkpoint::Checkpointer>,
    writer: Mutex<Connection>,
    /// `None` in memory, where a second connection would be another database.
    reader: Option<Mutex<Connection>>,
    path: Option<PathBuf>,
    location: String,
    retention: Retention,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .field("retention", &self.retention)
            .finish()
    }
}

/// How much a store holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub traces: u64,
    pub spans: u64,
    pub logs: u64,
    pub metrics: u64,
    /// The bytes the database's pages in use take (see [`Store::size_bytes`]).
    pub bytes: u64,
}

impl Store {
    /// Opens the store at `path`, creating the file (and its directory) if
    /// missing, or upgrading its schema if it was written by an older
    /// tracelab. A file written by a newer tracelab, or a SQLite database
    /// that is not a tracelab store, is refused and left untouched.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let location = path.display().to_string();
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut writer = Connection::open(path).map_err(open_error)?;
        writer.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // The first read is where SQLite finds out that a file is not a
        // database at all: report it as an open error, naming the file.
        writer
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| {
                row.get::<_, i64>(0)
            })
            .map_err(open_error)?;
        schema::prepare(&mut writer, &location)?;
        let wal = configure_durability(&writer, &location)?;
        let checkpointer = if wal {
            start_checkpointer(&writer, path, &location)?
        } else {
            None
        };

        let reader = Connection::open(path).map_err(open_error)?;
        reader.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        reader
            .execute_batch("PRAGMA query_only = ON")
            .map_err(|source| StoreError::Sqlite {
                location: location.clone(),
                doing: "opening a reader",
                source,
            })?;
        Ok(Store {
            checkpointer,
            writer: Mutex::new(writer),
            reader: Some(Mutex::new(reader)),
            path: Some(path.to_path_buf()),
            location,
            retention: Retention::default(),
        })
    }

    /// A store that lasts as long as it is open, for tests and throwaway
    /// runs: a temporary SQLite database, which SQLite holds in its page
    /// cache and, past that, in an anonymous temporary file removed when
    /// the store is dropped (see `SQLITE_TMPDIR`).
    ///
    /// Not SQLite's `:memory:`: there, every commit scanned the whole page
    /// cache, which is the whole database (`pcache1TruncateUnsafe`), so
    /// ingest slowed down as the store grew. At 4,000 requests/s through
    /// the traced chain, after 2,500/s for 15 s, the temporary database
    /// kept 99.3% of the spans where `:memory:` kept 89.8%, with p99 6.1 ms
    /// against 12.2 ms (BENCHMARKS.md, "The native chain").
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let location = "(in memory)".to_owned();
        let sql = |source| StoreError::Open {
            path: PathBuf::from("(a temporary database)"),
            source,
        };
        // An empty name is SQLite's temporary database.
        let mut writer = Connection::open("").map_err(sql)?;
        // Nothing to make durable: the file goes with the connection.
        writer
            .execute_batch("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;")
            .map_err(sql)?;
        schema::prepare(&mut writer, &location)?;
        Ok(Store {
            checkpointer: None,
            writer: Mutex::new(writer),
            reader: None,
            path: None,
            location,
            retention: Retention::default(),
        })
    }

    /// The same store, keeping what `retention` allows whenever
    /// [`Store::enforce_retention`] runs.
    pub fn with_retention(mut self, retention: Retention) -> Store {
        self.retention = retention;
        self
    }

    /// The limits [`Store::enforce_retention`] applies.
    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// The file, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The bytes the database's pages in use take: `(page_count -
    /// freelist_count) * page_size`, which counts spans, attributes,
    /// indexes, logs and metrics alike, exactly as SQLite lays them out.
    pub fn size_bytes(&self) -> Result<u64, StoreError> {
        let conn = self.write();
        used_bytes(&conn).map_err(self.sql("measuring the store"))
    }

    /// How many traces, spans, logs and metrics the store holds, and its size.
    pub fn stats(&self) -> Result<StoreStats, StoreError> {
        let conn = self.read();
        let count = |table: &str| -> rusqlite::Result<u64> {
            let sql = if table == "spans" {
                "SELECT coalesce(sum(span_count), 0) FROM traces".to_owned()
            } else {
                format!("SELECT count(*) FROM {table}")
            };
            conn.query_row(&sql, [], |row| row.get::<_, i64>(0))
                .map(to_u64)
        };
        let stats = (|| -> rusqlite::Result<StoreStats> {
            Ok(StoreStats {
                traces: count("traces")?,
                spans: count("spans")?,
                logs: count("logs")?,
                metrics: count("metrics")?,
                bytes: used_bytes(&conn)?,
            })
        })();
        stats.map_err(self.sql("counting what the store holds"))
    }

    /// Runs SQLite's own consistency check (`PRAGMA integrity_check`):
    /// `Ok(())` when it says "ok", otherwise the problems it lists.
    pub fn integrity_check(&self) -> Result<Result<(), Vec<String>>, StoreError> {
        let conn = self.write();
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(self.sql("checking integrity"))?;
        let lines = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
            .map_err(self.sql("checking integrity"))?;
        Ok(if lines == ["ok"] { Ok(()) } else { Err(lines) })
    }

    /// Called by the writer after each commit, with the writer's
    /// connection: wakes the checkpoint thread, and checkpoints here first
    /// if the thread has fallen so far behind that the WAL is over its
    /// bound. A checkpoint that fails here is retried after the next commit.
    fn committed(&self, conn: &Connection) {
        let Some(checkpointer) = &self.checkpointer else {
            return;
        };
        if checkpointer.wal_too_long() {
            if let Ok((_busy, frames, copied)) = checkpoint::checkpoint(conn) {
                checkpointer.writer_checkpointed(frames == copied);
            }
        }
        checkpointer.committed();
    }

    fn write(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held left no transaction open (a
        // dropped `Transaction` rolls back), so the connection is sound.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> MutexGuard<'_, Connection> {
        match &self.reader {
            Some(reader) => reader.lock().unwrap_or_else(PoisonError::into_inner),
            None => self.write(),
        }
    }

    /// Maps a SQLite error to one that says which store and what it was doing.
    fn sql(&self, doing: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            location: self.location.clone(),
            doing,
            source,
        }
    }
}

/// WAL with `synchronous = NORMAL`; `true` if the file is in WAL mode.
///
/// Why this is crash-safe for what a local collector faces (the process
/// killed, a panic, the OOM killer): in WAL mode a commit is complete once
/// its frames are written to the `-wal` file, and a written page sits in
/// the operating system's cache even if the process dies the next instant,
/// so every committed (hence acknowledged) batch survives a process kill,
/// and SQLite recovers the WAL on the next open. What `NORMAL` gives up
/// against `FULL` is the fsync per commit: on a power loss or kernel crash
/// the last few commits may roll back (the database stays consistent; WAL
/// checkpoints are still fsynced). If the file system cannot do WAL (some
/// network file systems), the store falls back to `synchronous = FULL`.
fn configure_durability(conn: &Connection, location: &str) -> Result<bool, StoreError> {
    let sql = |doing: &'static str| {
        move |source| StoreError::Sqlite {
            location: location.to_owned(),
            doing,
            source,
        }
    };
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(sql("switching to WAL"))?;
    let wal = mode.eq_ignore_ascii_case("wal");
    let synchronous = if wal { "NORMAL" } else { "FULL" };
    conn.pragma_update(None, "synchronous", synchronous)
        .map_err(sql("setting synchronous"))?;
    // Truncate the WAL back to 64 MiB after a checkpoint, so a burst of
    // ingest does not leave a huge `-wal` file behind.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .map_err(sql("setting journal_size_limit"))?;
    Ok(wal)
}

/// Starts the checkpoint thread of a WAL store (see [`checkpoint`]) on a
/// connection of its own, and turns off the writer's own checkpoints once
/// it runs. `None` (SQLite's own checkpoints left on) if no thread starts.
fn start_checkpointer(
    writer: &Connection,
    path: &Path,
    location: &str,
) -> Result<Option<checkpoint::Checkpointer>, StoreError> {
    let sql = |doing: &'static str| {
        move |source| StoreError::Sqlite {
            location: location.to_owned(),
            doing,
            source,
        }
    };
    let conn = Connection::open(path).map_err(sql("opening the checkpoint connection"))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(sql("opening the checkpoint connection"))?;
    let Some(checkpointer) = checkpoint::Checkpointer::start(conn) else {
        return Ok(None);
    };
    writer
        .pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(sql("handing checkpoints to their thread"))?;
    Ok(Some(checkpointer))
}

/// `(page_count - freelist_count) * page_size`.
fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let pragma = |name: &str| {
        conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, i64>(0))
            .map(to_u64)
    };
    let pages = pragma("page_count")?.saturating_sub(pragma("freelist_count")?);
    Ok(pages.saturating_mul(pragma("page_size")?))
}

/// Now, in Unix nanoseconds (0 if the clock is before 1970).
pub(crate) fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A stored count or time back to `u64` (stored values are never negative).
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A time or bound to SQLite's signed integer: the store refuses to store
/// times past `i64::MAX`, so a larger bound means "no bound".
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
