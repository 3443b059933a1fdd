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
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tracelab_store::Store;

const SPANS: usize = 512;

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

/// Request `seed`: distinct spans for every seed.
fn request(seed: u64) -> ExportTraceServiceRequest {
    let spans = (0..SPANS)
        .map(|idx| {
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(
                &((seed.wrapping_mul(1_000_003) + (idx / 8) as u64) | (1 << 63)).to_be_bytes(),
            );
            trace_id[8..].copy_from_slice(&seed.to_be_bytes());
            let start = 1_800_000_000_000_000_000 + seed * 1_000_000 + idx as u64;
            Span {
                trace_id: trace_id.to_vec(),
                span_id: (seed << 24 | idx as u64 | 1 << 62).to_be_bytes().to_vec(),
                name: format!("GET /bands/{}", idx % 16),
                kind: 2,
                start_time_unix_nano: start,
                end_time_unix_nano: start + 2_500_000,
                attributes: vec![
                    text("http.request.method", "GET"),
                    text("url.path", "/bands/553be815-76f3-49db-b9d7-caca4b23cc3e"),
                    text("http.route", "/bands/:id"),
                    text("http.response.status_code", "200"),
                    text("server.address", "127.0.0.1"),
                    text("server.port", "8000"),
                ],
                ..Span::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "load-generator")],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "bench".to_owned(),
                    ..InstrumentationScope::default()
                }),
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
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
