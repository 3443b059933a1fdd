//! Builders for OTLP requests, shared by the integration tests.
#![allow(dead_code)]

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{status, ResourceSpans, ScopeSpans, Span, Status};

/// 2023-11-14T22:13:20Z, in Unix nanoseconds.
pub const T0: u64 = 1_700_000_000_000_000_000;
pub const MS: u64 = 1_000_000;

pub fn value(value: Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

pub fn attr(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        key_strindex: 0,
    }
}

pub fn attr_str(key: &str, text: &str) -> KeyValue {
    attr(key, Value::StringValue(text.to_owned()))
}

pub fn resource(service: &str) -> Resource {
    Resource {
        attributes: vec![attr_str("service.name", service)],
        ..Resource::default()
    }
}

pub fn scope(name: &str, version: &str) -> InstrumentationScope {
    InstrumentationScope {
        name: name.to_owned(),
        version: version.to_owned(),
        ..InstrumentationScope::default()
    }
}

/// Trace id `n`: 16 bytes, `n` in the last, 0xab in the first.
pub fn trace_id(n: u8) -> Vec<u8> {
    let mut id = vec![0u8; 16];
    id[0] = 0xab;
    id[15] = n;
    id
}

pub fn trace_hex(n: u8) -> String {
    format!("ab{}{n:02x}", "0".repeat(28))
}

/// Span id `n`: 8 bytes, `n` in the last, 0xcd in the first.
pub fn span_id(n: u8) -> Vec<u8> {
    let mut id = vec![0u8; 8];
    id[0] = 0xcd;
    id[7] = n;
    id
}

pub fn span_hex(n: u8) -> String {
    format!("cd{}{n:02x}", "0".repeat(12))
}

/// A span of trace `trace`, starting `start_ms` after [`T0`] and lasting
/// `duration_ms`.
pub fn span(
    trace: u8,
    span: u8,
    parent: Option<u8>,
    name: &str,
    start_ms: u64,
    duration_ms: u64,
) -> Span {
    Span {
        trace_id: trace_id(trace),
        span_id: span_id(span),
        parent_span_id: parent.map(span_id).unwrap_or_default(),
        name: name.to_owned(),
        kind: 1,
        start_time_unix_nano: T0 + start_ms * MS,
        end_time_unix_nano: T0 + (start_ms + duration_ms) * MS,
        ..Span::default()
    }
}

pub fn error_status(message: &str) -> Option<Status> {
    Some(Status {
        message: message.to_owned(),
        code: status::StatusCode::Error as i32,
    })
}

/// One resource (`service`), one scope, these spans.
pub fn request(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(service)),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope("tests", "1.0")),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// Several requests' resource spans in one request.
pub fn merge(requests: Vec<ExportTraceServiceRequest>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: requests
            .into_iter()
            .flat_map(|request| request.resource_spans)
            .collect(),
    }
}
