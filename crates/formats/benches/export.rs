//! The writers' throughput on a generated 10,000-span trace (the size the
//! server's `GET /api/traces/{id}` target is set for: under 100 ms), in MB
//! of output per second; the time per call is the criterion estimate.
//!
//! `cargo bench -p tracelab-formats --bench export`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tracelab_formats::{
    to_api_v3_json, to_jaeger_json, to_otlp_json, to_otlp_json_lines, to_tempo_json, to_zipkin_json,
};
use tracelab_trace::generate;
use tracelab_trace::model::Trace;

/// A writer of one trace.
type Writer = fn(&Trace) -> String;

fn export_throughput(c: &mut Criterion) {
    let trace = generate(10_000, 1);
    let mut group = c.benchmark_group("export_10k");
    group.sample_size(10);
    let writers: [(&str, Writer); 5] = [
        ("jaeger_json", to_jaeger_json),
        ("otlp_json", to_otlp_json),
        ("zipkin_json", to_zipkin_json),
        ("api_v3_json", to_api_v3_json),
        ("tempo_json", to_tempo_json),
    ];
    for (name, writer) in writers {
        group.throughput(Throughput::Bytes(writer(&trace).len() as u64));
        group.bench_function(name, |b| b.iter(|| black_box(writer(black_box(&trace)))));
    }
    let lines = std::slice::from_ref(&trace);
    group.throughput(Throughput::Bytes(to_otlp_json_lines(lines).len() as u64));
    group.bench_function("otlp_json_lines", |b| {
        b.iter(|| black_box(to_otlp_json_lines(black_box(lines))))
    });
    group.finish();
}

criterion_group!(benches, export_throughput);
criterion_main!(benches);
