//! Import throughput per format on a generated 20,000-span trace, beside
//! `serde_json` reading the same bytes into a `serde_json::Value` (the
//! issue's bar: import at least as fast as that).
//!
//! `cargo bench -p tracelab-formats --bench import`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tracelab_formats::{import, to_jaeger_json, to_otlp_json, to_zipkin_json};
use tracelab_trace::generate;

fn import_throughput(c: &mut Criterion) {
    let trace = generate(20_000, 1);
    let otlp = to_otlp_json(&trace);
    let jaeger = to_jaeger_json(&trace);
    let zipkin = to_zipkin_json(&trace);
    let mut group = c.benchmark_group("import_20k");
    group.sample_size(10);
    for (name, file) in [
        ("otlp_json", &otlp),
        ("jaeger_json", &jaeger),
        ("zipkin_json", &zipkin),
    ] {
        let imported = import(file.as_bytes());
        assert_eq!(imported.n_skipped, 0, "{name}: {:?}", imported.skipped);
        assert_eq!(
            imported.traces.iter().map(|t| t.spans.len()).sum::<usize>(),
            20_000
        );
        group.throughput(Throughput::Bytes(file.len() as u64));
        group.bench_function(format!("{name}/serde_json_value"), |b| {
            b.iter(|| {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(
                    file.as_bytes(),
                )))
            })
        });
        group.bench_function(format!("{name}/import"), |b| {
            b.iter(|| black_box(import(black_box(file.as_bytes()))))
        });
    }
    group.throughput(Throughput::Elements(trace.spans.len() as u64));
    group.bench_function("otlp_json/export", |b| {
        b.iter(|| black_box(to_otlp_json(black_box(&trace))))
    });
    group.bench_function("jaeger_json/export", |b| {
        b.iter(|| black_box(to_jaeger_json(black_box(&trace))))
    });
    group.finish();
}

criterion_group!(benches, import_throughput);
criterion_main!(benches);
