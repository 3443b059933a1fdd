//! This crate's parser against `opentelemetry_sdk`'s `TraceContextPropagator`,
//! on the same headers, in one run. Both read the headers through the same
//! allocation-free extractor, so the comparison is of the parsers alone.
//!
//! Run: `cargo bench -p tracelab-context --features opentelemetry --bench parse`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;

#[path = "support/headers.rs"]
mod headers;
use headers::{tracelab_extract, tracestate_10, Headers, INVALID, VALID};

fn bench(c: &mut Criterion) {
    let tracestate_10 = tracestate_10();
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("valid traceparent", vec![("traceparent", VALID)]),
        (
            "valid traceparent + 10-entry tracestate",
            vec![
                ("traceparent", VALID),
                ("tracestate", tracestate_10.as_str()),
            ],
        ),
        (
            "invalid traceparent (uppercase parent-id)",
            vec![("traceparent", INVALID)],
        ),
    ];
    let sdk = TraceContextPropagator::new();
    for (name, headers) in &cases {
        let headers = Headers(headers);
        // Both must agree on validity, or the comparison is meaningless.
        let ours = tracelab_extract(&headers).is_some();
        let theirs = {
            use opentelemetry::trace::TraceContextExt;
            sdk.extract(&headers).span().span_context().is_valid()
        };
        assert_eq!(ours, theirs, "{name}: parsers disagree on validity");
        let mut group = c.benchmark_group(*name);
        group.bench_function(BenchmarkId::new("tracelab", ""), |b| {
            b.iter(|| tracelab_extract(black_box(&headers)))
        });
        group.bench_function(BenchmarkId::new("opentelemetry_sdk", ""), |b| {
            b.iter(|| sdk.extract(black_box(&headers)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
