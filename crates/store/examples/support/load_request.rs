//! The request the collector's benchmarks send, written once: by the load
//! generator over OTLP (`crates/server/examples/otlp_load.rs`) and straight
//! into the store (`ingest_rate` and the `ingest` bench beside it), so
//! that all three measure the same spans. Included with `#[path]`.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

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

/// A request of `size` distinct spans in traces of `spans_per_trace`
/// (each a chain), ids from `seed`, each span with the attributes of an
/// HTTP server span, the first starting at `start_unix_nanos`.
pub fn request(
    seed: u64,
    size: usize,
    spans_per_trace: usize,
    start_unix_nanos: u64,
) -> ExportTraceServiceRequest {
    let now = start_unix_nanos;
    let spans = (0..size)
        .map(|idx| {
            let trace = seed.wrapping_mul(1_000_003) + (idx / spans_per_trace.max(1)) as u64;
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&(trace | 1 << 63).to_be_bytes());
            trace_id[8..].copy_from_slice(&seed.to_be_bytes());
            let span_id = (seed << 24 | idx as u64 | 1 << 62).to_be_bytes();
            // Each trace is a chain: every span but the first has the one
            // before it as parent.
            let parent = if idx % spans_per_trace.max(1) == 0 {
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
