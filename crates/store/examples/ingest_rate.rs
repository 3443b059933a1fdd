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
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tracelab_store::Store;

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..KeyValue::default()
    }
}

/// The same request as `otlp_load`'s `batch(seed, 512, 8)`.
fn batch(seed: u64, size: usize, spans_per_trace: usize) -> ExportTraceServiceRequest {
    let now = 1_800_000_000_000_000_000 + seed * 1_000_000_000;
    let spans = (0..size)
        .map(|idx| {
            let trace = seed.wrapping_mul(1_000_003) + (idx / spans_per_trace) as u64;
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&(trace | 1 << 63).to_be_bytes());
            trace_id[8..].copy_from_slice(&seed.to_be_bytes());
            let span_id = (seed << 24 | idx as u64 | 1 << 62).to_be_bytes();
            let parent = if idx % spans_per_trace == 0 {
                Vec::new()
            } else {
                (seed << 24 | (idx - 1) as u64 | 1 << 62)
                    .to_be_bytes()
                    .to_vec()
            };
            Span {
                trace_id: trace_id.to_vec(),
                span_id: span_id.to_vec(),
                parent_span_id: parent,
                name: format!("GET /bands/{}", idx % 16),
                kind: 2,
                start_time_unix_nano: now + idx as u64 * 1_000,
                end_time_unix_nano: now + idx as u64 * 1_000 + 2_500_000,
                attributes: vec![
                    text("http.request.method", "GET"),
                    text("url.path", "/bands/553be815-76f3-49db-b9d7-caca4b23cc3e"),
                    text("http.route", "/bands/:id"),
                    int("http.response.status_code", 200),
                    text("server.address", "127.0.0.1"),
                    int("server.port", 8000),
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
                    name: "otlp_load".to_owned(),
                    ..InstrumentationScope::default()
                }),
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
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
    let all: Vec<ExportTraceServiceRequest> = (0..requests as u64)
        .map(|seed| batch(seed + 1, 512, 8))
        .collect();
    let started = Instant::now();
    for chunk in all.chunks(group) {
        let chunk: Vec<&ExportTraceServiceRequest> = chunk.iter().collect();
        for outcome in store.ingest_traces_batch(&chunk) {
            let outcome = outcome.expect("stored");
            assert_eq!(outcome.accepted_spans, 512);
        }
    }
    let elapsed = started.elapsed();
    let spans = (requests * 512) as f64;
    let stats = store.stats().expect("stats");
    assert_eq!(stats.spans as f64, spans);
    let files: u64 = std::fs::read_dir(dir.path())
        .expect("the directory")
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .map(|metadata| metadata.len())
        .sum();
    println!(
        "{requests} requests of 512 spans, {group} per transaction: {:.0} spans/s ({:.2} ms a request); \
         {:.0} bytes a span in use, {:.0} on disk with the WAL",
        spans / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / requests as f64,
        stats.bytes as f64 / spans,
        files as f64 / spans,
    );
}
