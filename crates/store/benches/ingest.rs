//! `Store::ingest_traces` on a file store: one request of 512 spans (traces
//! of 8, 6 attributes each, as `crates/server/examples/otlp_load.rs` sends
//! them) per transaction, and four such requests per transaction
//! (`Store::ingest_traces_batch`). Throughput is in spans.
//!
//! Run: `cargo bench -p tracelab-store --bench ingest`. For spans/s over a
//! longer run and the bytes a span takes: `cargo run --release -p
//! tracelab-store --example ingest_rate`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tracelab_store::Store;

#[path = "../examples/support/load_request.rs"]
mod load_request;

const SPANS: usize = 512;

/// Request `seed`: distinct spans for every seed, as `otlp_load` sends them.
fn request(seed: u64) -> ExportTraceServiceRequest {
    load_request::request(seed, SPANS, 8, 1_800_000_000_000_000_000 + seed * 1_000_000)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest_traces");
    group.sample_size(20);
    for per_transaction in [1usize, 4] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.db")).unwrap();
        let mut seed = 0u64;
        group.throughput(Throughput::Elements((SPANS * per_transaction) as u64));
        group.bench_function(
            format!("{per_transaction} x 512 spans per transaction"),
            |b| {
                b.iter_batched(
                    || {
                        (0..per_transaction)
                            .map(|_| {
                                seed += 1;
                                request(seed)
                            })
                            .collect::<Vec<_>>()
                    },
                    |requests| {
                        let refs: Vec<&ExportTraceServiceRequest> = requests.iter().collect();
                        for outcome in store.ingest_traces_batch(&refs) {
                            assert_eq!(outcome.unwrap().accepted_spans, SPANS as u64);
                        }
                    },
                    criterion::BatchSize::LargeInput,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
