//! WAL checkpoints on a thread of their own, so the writer never waits for
//! one.
//!
//! In WAL mode a commit appends the pages it changed to the `-wal` file, and
//! a checkpoint copies them back into the database file (fsyncing the WAL
//! before and the database after). By default SQLite runs one inside the
//! commit that takes the WAL past 1,000 pages, on the committing thread: at
//! the collector's rate that is nearly every commit, so its writer thread
//! spent part of each batch copying pages and waiting for two fsyncs
//! instead of writing the next batch.
//!
//! Here the writer's connection does not checkpoint on its own
//! (`wal_autocheckpoint = 0`); after each commit it wakes a thread with its
//! own connection, which runs a passive checkpoint (one that never blocks
//! the writer or the readers). Commits that arrive while one runs are
//! covered by the next.
//!
//! The WAL starts over from its beginning only when a write transaction
//! begins with every page already copied. Under steady load the writer
//! begins its next transaction at once, before the thread has copied the
//! last commit, so the WAL keeps growing; once it passes
//! [`WAL_FRAMES_LIMIT`] the writer checkpoints itself after a commit (by
//! then the thread has copied all but that commit's pages, so it costs
//! little), and its next transaction starts the WAL over. So the WAL, and
//! the disk it takes, stays bounded at about 64 MiB (measured: it cycles
//! from a few hundred pages to just over the limit).
//!
//! Durability is unchanged: a commit is complete once its frames are in the
//! WAL, whether or not a checkpoint has copied them; a checkpoint only moves
//! committed pages, and a process killed in the middle of one leaves a WAL
//! that SQLite recovers on the next open (the crash test kills the writer
//! while this thread runs).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::Connection;

/// The WAL's length, in pages, past which the writer checkpoints itself:
/// 64 MiB with SQLite's 4 KiB pages, as `journal_size_limit`.
pub(crate) const WAL_FRAMES_LIMIT: i64 = 16 * 1024;

/// The handle of the checkpoint thread; dropping it stops the thread
/// (and waits for a checkpoint under way).
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// The WAL's length in pages at the last checkpoint, or 0 after one the
    /// writer ran (whose next commit restarts the WAL).
    wal_frames: AtomicI64,
}

#[derive(Default)]
struct State {
    /// Commits so far: the thread checkpoints when this moved.
    commits: u64,
    stop: bool,
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: (busy, pages in the WAL, pages copied).
pub(crate) fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
}

/// Passive checkpoints until one copies every page of the WAL, or
/// `patience` has passed: another connection's checkpoint under way makes a
/// passive one return busy at once, and a reader's snapshot keeps the pages
/// after it from being copied until the reader is done. Returns whether the
/// last one caught up (on which SQLite also truncates the database file to
/// its size after the last commit).
pub(crate) fn checkpoint_for(
    conn: &Connection,
    patience: std::time::Duration,
) -> rusqlite::Result<bool> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        let (busy, frames, copied) = checkpoint(conn)?;
        if busy == 0 && copied == frames {
            return Ok(true);
        }
        if std::time::Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

impl Checkpointer {
    /// Starts the thread, which checkpoints through `conn` (a connection of
    /// its own to the store's file). `None` if no thread could be started,
    /// in which case the caller leaves SQLite's own checkpoints on.
    pub(crate) fn start(conn: Connection) -> Option<Checkpointer> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            wal_frames: AtomicI64::new(0),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("tracelab-store-checkpoint".to_owned())
                .spawn(move || run(&conn, &shared))
                .ok()?
        };
        Some(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }

    /// Tells the thread that the writer committed.
    pub(crate) fn committed(&self) {
        let mut state = self.shared.lock();
        state.commits = state.commits.wrapping_add(1);
        self.shared.wake.notify_one();
    }

    /// Whether the WAL has outgrown [`WAL_FRAMES_LIMIT`]: the writer should
    /// checkpoint before it writes more.
    pub(crate) fn wal_too_long(&self) -> bool {
        self.shared.wal_frames.load(Ordering::Relaxed) > WAL_FRAMES_LIMIT
    }

    /// The writer checkpointed itself; `caught_up` when it copied every
    /// page, so its next commit restarts the WAL.
    pub(crate) fn writer_checkpointed(&self, caught_up: bool) {
        if caught_up {
            self.shared.wal_frames.store(0, Ordering::Relaxed);
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two plain fields, sound whatever panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn run(conn: &Connection, shared: &Shared) {
    let mut seen = 0u64;
    loop {
        {
            let mut state = shared.lock();
            while state.commits == seen && !state.stop {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.stop {
                return;
            }
            seen = state.commits;
        }
        // An error (the file locked by another process's checkpoint, say)
        // is left for the next commit's checkpoint to retry.
        if let Ok((_busy, frames, _copied)) = checkpoint(conn) {
            shared.wal_frames.store(frames, Ordering::Relaxed);
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
