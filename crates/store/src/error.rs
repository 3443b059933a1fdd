//! What can go wrong, said with what failed and where.

use std::fmt;
use std::path::PathBuf;

use rusqlite::ErrorCode;

/// Why the store could not do what it was asked. Each message names the
/// store (its file, or "in memory") and what it was doing.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The directory that should hold the store could not be created.
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// SQLite could not open the file, or read it as a database.
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The file is a SQLite database, but not a tracelab store: tracelab
    /// will not write into someone else's database.
    NotAStore { location: String, reason: String },
    /// The store was written by a newer tracelab, whose schema this build
    /// does not know; opening it would risk damaging it.
    NewerSchema {
        location: String,
        found: i64,
        supported: i64,
    },
    /// A SQLite statement failed (the disk is full, the file is locked by
    /// another process beyond the busy timeout, …).
    Sqlite {
        location: String,
        doing: &'static str,
        source: rusqlite::Error,
    },
    /// Something stored does not decode: the file was changed by something
    /// other than tracelab, or damaged.
    Corrupt {
        location: String,
        what: String,
        detail: String,
    },
    /// A query argument is malformed (a trace id that is not hex, …).
    InvalidQuery { message: String },
}

impl StoreError {
    /// Whether trying again later may succeed (the database is busy or
    /// locked, or the disk is full): a receiver answers these with "retry
    /// later" (HTTP 503, gRPC `UNAVAILABLE`) rather than dropping the data.
    pub fn is_transient(&self) -> bool {
        let source = match self {
            StoreError::Sqlite { source, .. } | StoreError::Open { source, .. } => source,
            _ => return false,
        };
        matches!(
            source.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::DiskFull)
        )
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::CreateDir { path, source } => {
                write!(
                    f,
                    "cannot create the span store's directory {}: {source}",
                    path.display()
                )
            }
            StoreError::Open { path, source } => {
                write!(f, "cannot open the span store {}: {source}", path.display())
            }
            StoreError::NotAStore { location, reason } => write!(
                f,
                "{location} is not a tracelab span store ({reason}); \
                 choose another file or move this one away"
            ),
            StoreError::NewerSchema {
                location,
                found,
                supported,
            } => write!(
                f,
                "the span store {location} has schema version {found}, written by a newer \
                 tracelab; this build reads versions up to {supported}: upgrade tracelab or \
                 use another file"
            ),
            StoreError::Sqlite {
                location,
                doing,
                source,
            } => {
                write!(f, "span store {location}: {doing} failed: {source}")
            }
            StoreError::Corrupt {
                location,
                what,
                detail,
            } => {
                write!(
                    f,
                    "span store {location}: {what} does not decode ({detail}); the file is damaged"
                )
            }
            StoreError::InvalidQuery { message } => write!(f, "{message}"),
        }
    }
}

// The source's message is part of each Display (so `{}` alone says it all),
// hence no `source()`: the Rust API guidelines ask for one or the other,
// never both, or a chain printer would say everything twice.
impl std::error::Error for StoreError {}
