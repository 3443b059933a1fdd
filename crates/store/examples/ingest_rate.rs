//! How fast `Store::ingest_traces` commits, alone (no HTTP, no decoding):
//! requests shaped like `crates/server/examples/otlp_load.rs` sends them
//! (512 distinct spans, traces of 8, 6 attributes each, one resource and
//! scope) ingested into a file store in a fresh temporary directory, one
//! request per transaction or `--group N` requests per transaction
//! ([`Store::ingest_traces_batch`]). Prints spans/s committed and the bytes
//! a span takes.
//!
//! ```sh
//! cargo run --release -p tracelab-store --example ingest_rate -- --requests 400 [--group 4]
//! ```

use std::time::Instant;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tracelab_store::Store;

#[path = "support/load_request.rs"]
mod load_request;
#[path = "support/proc_stat.rs"]
mod proc_stat;

/// `otlp_load`'s `request(seed, 512, 8, …)`, at a fixed time per seed.
fn batch(seed: u64) -> ExportTraceServiceRequest {
    load_request::request(
        seed,
        512,
        8,
        1_800_000_000_000_000_000 + seed * 1_000_000_000,
    )
}

fn main() {
    let mut requests = 400usize;
    let mut group = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value: usize = args
            .next()
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{flag} takes a whole number"));
        match flag.as_str() {
            "--requests" => requests = value,
            "--group" => group = value.max(1),
            other => panic!("unknown option {other}"),
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("store.db");
    let store = Store::open(&path).expect("a store");
    let all: Vec<ExportTraceServiceRequest> =
        (0..requests as u64).map(|seed| batch(seed + 1)).collect();
    let started = Instant::now();
    let cpu_started = proc_stat::own_cpu_seconds();
    for chunk in all.chunks(group) {
        let chunk: Vec<&ExportTraceServiceRequest> = chunk.iter().collect();
        for outcome in store.ingest_traces_batch(&chunk) {
            let outcome = outcome.expect("stored");
            assert_eq!(outcome.accepted_spans, 512);
        }
    }
    let elapsed = started.elapsed();
    let cpu = proc_stat::own_cpu_seconds() - cpu_started;
    let spans = (requests * 512) as f64;
    let stats = store.stats().expect("stats");
    assert_eq!(stats.spans as f64, spans);
    let files: u64 = std::fs::read_dir(dir.path())
        .expect("the directory")
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .map(|metadata| metadata.len())
        .sum();
    println!(
        "{requests} requests of 512 spans, {group} per transaction: {:.0} spans/s ({:.2} ms a request; \
         {:.2} ms of CPU, so {:.0} spans per CPU second); {:.0} bytes a span in use, {:.0} on disk with the WAL",
        spans / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / requests as f64,
        cpu * 1e3 / requests as f64,
        spans / cpu,
        stats.bytes as f64 / spans,
        files as f64 / spans,
    );
}
