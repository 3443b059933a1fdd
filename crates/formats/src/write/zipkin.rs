//! Zipkin v2 JSON out. Zipkin carries less than OTLP, as OpenTelemetry's
//! Zipkin mapping says (`specification/trace/sdk_exporters/zipkin.md`):
//! no links, no follows-from (a parent is a parent), no resource attributes
//! but the service name, no trace state or flags; every tag is a string
//! (an array as its JSON text, bytes as base64); the status is the
//! `otel.status_code` tag, and an error's description the `error` tag;
//! the scope is the `otel.scope.name` and `otel.scope.version` tags; an
//! event is an annotation whose value is its name, or
//! `{"<name>":{<attributes>}}` when it has attributes. Times are
//! microseconds.
//!
//! Tags are a JSON object: written in the order of their keys, a key
//! given twice once with its last value (the status's tags last), as
//! a JSON map holds them.

use tracelab_trace::model::{AttributeValue, SpanKind, Status, Trace};

use super::{Out, Style};

/// About what one span takes in Zipkin JSON, to size the buffer once.
const BYTES_PER_SPAN: usize = 512;

/// A tag's value: an attribute's (as its text), or text of tracelab's own.
enum TagValue<'a> {
    Attribute(&'a AttributeValue),
    Text(&'a str),
}

/// The trace as Zipkin v2 JSON: a list of spans (see the module doc for
/// what Zipkin cannot carry).
pub fn to_zipkin_json(trace: &Trace) -> String {
    let mut out = Out::with_capacity(trace.spans.len() * BYTES_PER_SPAN);
    // Scratch for text written apart: an annotation's value, a tag's.
    let mut scratch = Out::with_capacity(0);
    let mut tags: Vec<(&str, TagValue<'_>)> = Vec::new();
    out.raw("[");
    for (span_idx, span) in trace.spans.iter().enumerate() {
        if span_idx > 0 {
            out.raw(",");
        }
        out.raw("{");
        if !span.events.is_empty() {
            out.raw("\"annotations\":[");
            for (position, event) in span.events.iter().enumerate() {
                if position > 0 {
                    out.raw(",");
                }
                out.raw("{\"timestamp\":");
                out.u64(event.time_unix_nanos / 1000);
                out.raw(",\"value\":");
                if event.attributes.is_empty() {
                    out.string(&event.name);
                } else {
                    scratch.clear();
                    scratch.raw("{");
                    scratch.string(&event.name);
                    scratch.raw(":{");
                    for (position, attribute) in event.attributes.iter().enumerate() {
                        if position > 0 {
                            scratch.raw(",");
                        }
                        scratch.string(&attribute.key);
                        scratch.raw(":");
                        scratch.value(&attribute.value, Style::Unbounded);
                    }
                    scratch.raw("}}");
                    out.string(&scratch.as_str());
                }
                out.raw("}");
            }
            out.raw("],");
        }
        let start_micros = span.start_unix_nanos / 1000;
        out.raw("\"duration\":");
        out.u64((span.clamped_end_unix_nanos() / 1000).saturating_sub(start_micros));
        out.raw(",\"id\":");
        out.hex(&span.span_id.0);
        let kind = match span.kind {
            SpanKind::Client => Some(",\"kind\":\"CLIENT\""),
            SpanKind::Server => Some(",\"kind\":\"SERVER\""),
            SpanKind::Producer => Some(",\"kind\":\"PRODUCER\""),
            SpanKind::Consumer => Some(",\"kind\":\"CONSUMER\""),
            SpanKind::Internal | SpanKind::Unspecified => None,
        };
        if let Some(kind) = kind {
            out.raw(kind);
        }
        out.raw(",\"localEndpoint\":{\"serviceName\":");
        out.string(trace.service_name(span_idx));
        out.raw("},\"name\":");
        out.string(&span.name);
        if let Some(parent) = span.parent_span_id.filter(|parent| !parent.is_zero()) {
            out.raw(",\"parentId\":");
            out.hex(&parent.0);
        }

        tags.clear();
        for attribute in &span.attributes {
            tags.push((&attribute.key, TagValue::Attribute(&attribute.value)));
        }
        if let Some(scope) = trace.scope_of(span_idx) {
            if !scope.name.is_empty() {
                tags.push(("otel.scope.name", TagValue::Text(&scope.name)));
            }
            if !scope.version.is_empty() {
                tags.push(("otel.scope.version", TagValue::Text(&scope.version)));
            }
        }
        match &span.status {
            Status::Unset => {}
            Status::Ok => tags.push(("otel.status_code", TagValue::Text("OK"))),
            Status::Error { message } => {
                tags.push(("otel.status_code", TagValue::Text("ERROR")));
                tags.push(("error", TagValue::Text(message)));
            }
        }
        if !tags.is_empty() {
            // Stable: a repeated key's entries stay in the order given, and
            // the last of them is the one written.
            tags.sort_by_key(|(key, _)| *key);
            out.raw(",\"tags\":{");
            let mut first = true;
            for (position, (key, value)) in tags.iter().enumerate() {
                if tags.get(position + 1).is_some_and(|(next, _)| next == key) {
                    continue;
                }
                if !first {
                    out.raw(",");
                }
                first = false;
                out.string(key);
                out.raw(":");
                match value {
                    TagValue::Text(text) => out.string(text),
                    TagValue::Attribute(AttributeValue::String(text)) => out.string(text),
                    TagValue::Attribute(other) => {
                        scratch.clear();
                        scratch.value(other, Style::Unbounded);
                        out.string(&scratch.as_str());
                    }
                }
            }
            out.raw("}");
        }
        out.raw(",\"timestamp\":");
        out.u64(start_micros);
        out.raw(",\"traceId\":");
        out.hex(&span.trace_id.0);
        out.raw("}");
    }
    out.raw("]");
    out.into_string()
}
