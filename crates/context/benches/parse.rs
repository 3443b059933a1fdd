//! This crate's parser against `opentelemetry_sdk`'s `TraceContextPropagator`,
//! on the same headers, in one run. Both read the headers through the same
//! allocation-free extractor, so the comparison is of the parsers alone.
//!
//! Run: `cargo bench -p tracelab-context --features opentelemetry --bench parse`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracelab_context::{TraceParent, TraceState};

/// Headers as a server framework hands them over: names already lowercase.
struct Headers<'a>(&'a [(&'a str, &'a str)]);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
}

/// What tracelab does with the same headers: parse and validate both, with
/// the tracestate kept as entries.
fn tracelab_extract(headers: &Headers<'_>) -> Option<(TraceParent, Option<TraceState>)> {
    let parent = TraceParent::parse(headers.get("traceparent")?).ok()?;
    let state = headers
        .get("tracestate")
        .and_then(|v| TraceState::parse(v).ok());
    Some((parent, state))
}

fn bench(c: &mut Criterion) {
    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const INVALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01";
    let tracestate_10: String = (0..10)
        .map(|i| format!("vendor{i}=opaque-value-{i:04}"))
        .collect::<Vec<_>>()
        .join(",");
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
