//! Acknowledged means committed: a writer killed (SIGKILL on Unix) mid-run
//! loses no batch it acknowledged, leaves no batch half-written, and the
//! file passes SQLite's integrity check.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use tracelab_store::Store;

/// Kills the writer if the test fails before it does, so no writer outlives it.
struct Writer(Child);

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The trace ids of batch `batch`, as `store-crash-writer` makes them.
fn batch_trace_ids(batch: u64) -> [String; 2] {
    [0u8, 1].map(|trace| format!("{:02x}{}{:016x}", 0xc0 + trace, "0".repeat(14), batch))
}

/// Runs the writer on `path` until it has acknowledged `acks` batches,
/// kills it, and returns the acknowledged batch numbers.
fn run_and_kill(path: &Path, acks: usize) -> Vec<u64> {
    let child = Command::new(env!("CARGO_BIN_EXE_store-crash-writer"))
        .arg(path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the writer starts");
    let mut writer = Writer(child);
    let stdout = writer.0.stdout.take().expect("piped");
    let mut acknowledged = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        acknowledged.push(line.trim().parse::<u64>().expect("a batch number"));
        if acknowledged.len() == acks {
            break;
        }
    }
    assert_eq!(acknowledged.len(), acks, "the writer stopped early");
    // Dropping kills it (SIGKILL on Unix) and waits: mid-batch, as it
    // never pauses between batches.
    drop(writer);
    acknowledged
}

fn check(path: &Path, acknowledged: &[u64]) {
    let store = Store::open(path).expect("reopens after the kill");
    assert_eq!(store.integrity_check().unwrap(), Ok(()));
    for batch in acknowledged {
        for trace_id in batch_trace_ids(*batch) {
            let trace = store
                .trace(&trace_id)
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged batch {batch} lost"));
            assert_eq!(
                trace.spans.len(),
                5,
                "batch {batch}: trace {trace_id} partly stored"
            );
        }
    }
    // All or nothing for every batch, the unacknowledged ones included:
    // every stored trace is whole, and both traces of a batch are there.
    let stats = store.stats().unwrap();
    assert_eq!(stats.spans, stats.traces * 5);
    assert_eq!(stats.traces % 2, 0, "a batch's two traces commit together");
}

#[test]
fn every_acknowledged_batch_survives_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    // Three runs on one file: the second and third re-ingest the first
    // batches (a retry after a crash) before writing new ones.
    for acks in [40, 90, 150] {
        let acknowledged = run_and_kill(&path, acks);
        check(&path, &acknowledged);
    }
    let store = Store::open(&path).unwrap();
    assert!(
        store.stats().unwrap().traces >= 300,
        "at least batches 0..150"
    );
}
