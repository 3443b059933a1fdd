//! Writers for the formats tracelab reads but [`crate::to_otlp_json`] and
//! [`crate::to_jaeger_json`] do not write: Zipkin v2 JSON, Jaeger api_v3,
//! Tempo, and the OpenTelemetry Collector's OTLP JSON lines. They make the
//! sample files in `www/samples/` and let a trace leave tracelab for any
//! of the systems it came from.
//!
//! api_v3, Tempo and the lines are OTLP JSON in another envelope, so they
//! are [`crate::to_otlp_json`]'s output rewrapped (Tempo's ids in base64):
//! they carry everything OTLP does. Zipkin carries less, as OpenTelemetry's
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
//! Nothing recurses: arrays are written with an explicit stack.

use serde_json::{json, Map, Value};
use tracelab_trace::model::{AttributeValue, SpanKind, Status, Trace};

use crate::base64;

/// The trace as Zipkin v2 JSON: a list of spans (see the module doc for
/// what Zipkin cannot carry).
pub fn to_zipkin_json(trace: &Trace) -> String {
    let spans: Vec<Value> = trace
        .spans
        .iter()
        .enumerate()
        .map(|(span_idx, span)| {
            let mut object = Map::new();
            object.insert("traceId".into(), json!(span.trace_id.to_string()));
            object.insert("id".into(), json!(span.span_id.to_string()));
            if let Some(parent) = span.parent_span_id.filter(|parent| !parent.is_zero()) {
                object.insert("parentId".into(), json!(parent.to_string()));
            }
            let kind = match span.kind {
                SpanKind::Client => Some("CLIENT"),
                SpanKind::Server => Some("SERVER"),
                SpanKind::Producer => Some("PRODUCER"),
                SpanKind::Consumer => Some("CONSUMER"),
                SpanKind::Internal | SpanKind::Unspecified => None,
            };
            if let Some(kind) = kind {
                object.insert("kind".into(), json!(kind));
            }
            object.insert("name".into(), json!(&*span.name));
            let start_micros = span.start_unix_nanos / 1000;
            object.insert("timestamp".into(), json!(start_micros));
            object.insert(
                "duration".into(),
                json!((span.clamped_end_unix_nanos() / 1000).saturating_sub(start_micros)),
            );
            object.insert(
                "localEndpoint".into(),
                json!({ "serviceName": trace.service_name(span_idx) }),
            );
            let annotations: Vec<Value> = span
                .events
                .iter()
                .map(|event| {
                    let value = if event.attributes.is_empty() {
                        event.name.to_string()
                    } else {
                        let mut attributes = String::from("{");
                        for (idx, attribute) in event.attributes.iter().enumerate() {
                            if idx > 0 {
                                attributes.push(',');
                            }
                            attributes.push_str(&json!(&*attribute.key).to_string());
                            attributes.push(':');
                            json_text(&attribute.value, &mut attributes);
                        }
                        attributes.push('}');
                        format!("{{{}:{attributes}}}", json!(&*event.name))
                    };
                    json!({ "timestamp": event.time_unix_nanos / 1000, "value": value })
                })
                .collect();
            if !annotations.is_empty() {
                object.insert("annotations".into(), Value::Array(annotations));
            }
            let mut tags = Map::new();
            for attribute in &span.attributes {
                tags.insert(attribute.key.to_string(), json!(tag_text(&attribute.value)));
            }
            if let Some(scope) = trace.scope_of(span_idx) {
                if !scope.name.is_empty() {
                    tags.insert("otel.scope.name".into(), json!(&*scope.name));
                }
                if !scope.version.is_empty() {
                    tags.insert("otel.scope.version".into(), json!(&*scope.version));
                }
            }
            match &span.status {
                Status::Unset => {}
                Status::Ok => {
                    tags.insert("otel.status_code".into(), json!("OK"));
                }
                Status::Error { message } => {
                    tags.insert("otel.status_code".into(), json!("ERROR"));
                    tags.insert("error".into(), json!(&**message));
                }
            }
            if !tags.is_empty() {
                object.insert("tags".into(), Value::Object(tags));
            }
            Value::Object(object)
        })
        .collect();
    Value::Array(spans).to_string()
}

/// A tag's text: a string as it is, anything else as its JSON text.
fn tag_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::String(text) => text.to_string(),
        other => {
            let mut text = String::new();
            json_text(other, &mut text);
            text
        }
    }
}

/// `value` as JSON text (bytes as a base64 string, a double JSON cannot
/// hold as its text in a string), arrays written with an explicit stack.
fn json_text(value: &AttributeValue, out: &mut String) {
    enum Step<'a> {
        Value(&'a AttributeValue),
        Text(&'static str),
    }
    let mut stack = vec![Step::Value(value)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Text(text) => out.push_str(text),
            Step::Value(AttributeValue::String(text)) => out.push_str(&json!(&**text).to_string()),
            Step::Value(AttributeValue::Bool(flag)) => out.push_str(&flag.to_string()),
            Step::Value(AttributeValue::Int(number)) => out.push_str(&number.to_string()),
            Step::Value(AttributeValue::Double(number)) => {
                match serde_json::Number::from_f64(*number) {
                    Some(number) => out.push_str(&number.to_string()),
                    None => out.push_str(&json!(number.to_string()).to_string()),
                }
            }
            Step::Value(AttributeValue::Bytes(bytes)) => {
                out.push_str(&json!(base64::encode(bytes)).to_string())
            }
            Step::Value(AttributeValue::Array(items)) => {
                out.push('[');
                stack.push(Step::Text("]"));
                for (idx, item) in items.iter().enumerate().rev() {
                    stack.push(Step::Value(item));
                    if idx > 0 {
                        stack.push(Step::Text(","));
                    }
                }
            }
        }
    }
}

/// The trace as Jaeger api_v3 answers `GET /api/v3/traces/{id}`:
/// `{"result": <an OTLP JSON export request>}`.
pub fn to_api_v3_json(trace: &Trace) -> String {
    format!("{{\"result\":{}}}", compact(&crate::to_otlp_json(trace)))
}

/// Traces as the OpenTelemetry Collector's file exporter writes them: one
/// OTLP JSON export request per line (here one per trace), each line
/// ending in a newline.
pub fn to_otlp_json_lines(traces: &[Trace]) -> String {
    let mut out = String::new();
    for trace in traces {
        out.push_str(&compact(&crate::to_otlp_json(trace)));
        out.push('\n');
    }
    out
}

/// The trace as Tempo answers `GET /api/traces/{id}`: `{"batches": […]}`,
/// each batch an OTLP `ResourceSpans`, trace and span ids (the span's,
/// its parent's and its links') in base64.
pub fn to_tempo_json(trace: &Trace) -> String {
    let mut request: Value = serde_json::from_str(&crate::to_otlp_json(trace)).unwrap_or_default();
    let mut batches = request
        .get_mut("resourceSpans")
        .map(Value::take)
        .unwrap_or_else(|| Value::Array(Vec::new()));
    for batch in batches.as_array_mut().into_iter().flatten() {
        for scope_spans in array_mut(batch, "scopeSpans") {
            for span in array_mut(scope_spans, "spans") {
                hex_to_base64(span, &["traceId", "spanId", "parentSpanId"]);
                for link in array_mut(span, "links") {
                    hex_to_base64(link, &["traceId", "spanId"]);
                }
            }
        }
    }
    json!({ "batches": batches }).to_string()
}

fn array_mut<'a>(value: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    value
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// Each of `keys` that holds hex, rewritten in base64 (an empty id is
/// left out, as Tempo leaves out a root's parent).
fn hex_to_base64(object: &mut Value, keys: &[&str]) {
    let Some(object) = object.as_object_mut() else {
        return;
    };
    for key in keys {
        let Some(text) = object.get(*key).and_then(Value::as_str) else {
            continue;
        };
        let bytes: Option<Vec<u8>> = (text.len() % 2 == 0)
            .then(|| {
                (0..text.len())
                    .step_by(2)
                    .map(|idx| u8::from_str_radix(text.get(idx..idx + 2)?, 16).ok())
                    .collect()
            })
            .flatten();
        match bytes {
            Some(bytes) if bytes.is_empty() => {
                object.remove(*key);
            }
            Some(bytes) => {
                object.insert((*key).to_owned(), json!(base64::encode(&bytes)));
            }
            None => {}
        }
    }
}

/// JSON text on one line (the exporter's output re-read, should it ever
/// hold a newline).
fn compact(text: &str) -> String {
    if !text.contains('\n') {
        return text.to_owned();
    }
    serde_json::from_str::<Value>(text)
        .map(|value| value.to_string())
        .unwrap_or_else(|_| text.replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{import, Format};

    #[test]
    fn each_writer_reads_back_as_its_format_with_no_problems() {
        let trace = tracelab_trace::generate(300, 18);
        let n_spans = trace.spans.len();
        // Two lines (one alone is plain OTLP JSON), the same spans twice.
        for (format, text, expected) in [
            (Format::ZipkinJson, to_zipkin_json(&trace), n_spans),
            (Format::JaegerApiV3, to_api_v3_json(&trace), n_spans),
            (Format::TempoJson, to_tempo_json(&trace), n_spans),
            (
                Format::OtlpJsonLines,
                to_otlp_json_lines(&[trace.clone(), trace.clone()]),
                2 * n_spans,
            ),
        ] {
            let imported = import(text.as_bytes());
            assert_eq!(imported.format, format);
            assert!(
                imported.skipped.is_empty(),
                "{format}: {:?}",
                imported.skipped
            );
            let spans: usize = imported.traces.iter().map(|trace| trace.spans.len()).sum();
            assert_eq!(spans, expected, "{format}");
        }
    }

    #[test]
    fn otlp_in_another_envelope_keeps_every_span_exactly() {
        let trace = tracelab_trace::generate(300, 7);
        let through_otlp = import(crate::to_otlp_json(&trace).as_bytes()).traces;
        for text in [
            to_api_v3_json(&trace),
            to_tempo_json(&trace),
            to_otlp_json_lines(std::slice::from_ref(&trace)),
        ] {
            assert_eq!(import(text.as_bytes()).traces, through_otlp);
        }
    }

    #[test]
    fn zipkin_keeps_what_zipkin_carries() {
        let trace = tracelab_trace::generate(300, 11);
        let back = &import(to_zipkin_json(&trace).as_bytes()).traces;
        let spans: Vec<_> = back.iter().flat_map(|trace| trace.spans.iter()).collect();
        for (span_idx, span) in trace.spans.iter().enumerate() {
            let read = spans
                .iter()
                .find(|read| read.span_id == span.span_id)
                .unwrap_or_else(|| panic!("span {} is missing", span.span_id));
            assert_eq!(read.trace_id, span.trace_id);
            assert_eq!(read.name, span.name);
            assert_eq!(
                read.parent_span_id.filter(|parent| !parent.is_zero()),
                span.parent_span_id.filter(|parent| !parent.is_zero())
            );
            assert_eq!(read.start_unix_nanos, span.start_unix_nanos / 1000 * 1000);
            assert_eq!(read.events.len(), span.events.len());
            assert_eq!(
                std::mem::discriminant(&read.status),
                std::mem::discriminant(&span.status)
            );
            let service = back
                .iter()
                .find(|trace| trace.spans.iter().any(|read| read.span_id == span.span_id))
                .and_then(|trace| {
                    let idx = trace
                        .spans
                        .iter()
                        .position(|read| read.span_id == span.span_id)?;
                    Some(trace.service_name(idx).to_owned())
                });
            assert_eq!(service.as_deref(), Some(trace.service_name(span_idx)));
            for attribute in &span.attributes {
                let found = read.attributes.iter().find(|kv| kv.key == attribute.key);
                assert_eq!(
                    found.map(|kv| tag_text(&kv.value)),
                    Some(tag_text(&attribute.value)),
                    "{}",
                    attribute.key
                );
            }
        }
    }

    #[test]
    fn arrays_are_json_text_without_recursion() {
        let mut value = AttributeValue::Int(1);
        for _ in 0..10_000 {
            value = AttributeValue::Array(vec![value, AttributeValue::string("a\"b")].into());
        }
        let text = tag_text(&value);
        assert!(text.starts_with("[[[["));
        assert!(text.ends_with(",\"a\\\"b\"]"));
        assert_eq!(
            tag_text(&AttributeValue::Bytes(vec![0, 0, 48, 57].into())),
            "\"AAAwOQ==\""
        );
        assert_eq!(tag_text(&AttributeValue::Double(f64::NAN)), "\"NaN\"");
    }
}
