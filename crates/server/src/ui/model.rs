//! A stored OTLP trace as `tracelab-trace`'s model: what the app's
//! waterfall draws (`/api/tracelab/traces/{id}`, as JSON) and what
//! `tracelab-formats`' exporters write every other trace answer from
//! (Jaeger's v1, the OTLP and Jaeger downloads).
//!
//! The stored spans are protobuf structs, read here field by field (going
//! through OTLP JSON and `tracelab-formats`' reader instead costs about
//! four times as long for a 10,000-span trace). The model means what that
//! reader makes of the same spans in OTLP JSON, down to a follows-from
//! parent (a link to the parent marked `opentracing.ref_type:
//! follows_from`, as OpenTelemetry's OpenTracing compatibility writes
//! it); `tests/query_api.rs` checks that `import ∘ export` through the
//! store keeps every field.

use std::collections::HashMap;
use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::trace::v1::{span, status};
use tracelab_store::{value_to_json, value_to_text, StoredLog, StoredTrace};
use tracelab_trace::model::{
    AttributeValue, Event, KeyValue, Link, ParentRelation, Resource, Scope, Span, SpanId, SpanKind,
    Status, Trace, TraceId,
};

/// How deep arrays inside arrays are kept as arrays; deeper ones (and every
/// key–value list, which the model has no type for) become their JSON text.
/// Bounded, so a hostile attribute cannot exhaust the stack.
const MAX_ARRAY_DEPTH: usize = 4;

/// The attribute that marks a link as a follows-from parent.
const REF_TYPE: &str = "opentracing.ref_type";

/// How a log record correlated with a span is shown on it: as one more
/// event of the span, in time order among its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogEvents {
    /// For the app's waterfall: named by the record's body, with
    /// `log.severity` (its text, or `INFO`) and the record's attributes.
    Waterfall,
    /// As Jaeger shows a log on its span (OpenTracing's log fields): named
    /// by the record's event name (or `log`), with `level` (the severity's
    /// text, or its number), `message` (the body: its text, or its JSON),
    /// the record's attributes, and `otel.log` = `true`, which marks it
    /// apart from the span's own events.
    Jaeger,
}

/// The trace in the model: spans in start order (then span id), with the
/// resources and scopes they name, and each log record correlated with a
/// span as one of its events, shown as `style` says. With no `logs`, the
/// spans exactly as stored: what the export download writes.
pub fn to_model(stored: &StoredTrace, logs: &[StoredLog], style: LogEvents) -> Trace {
    // Resources and scopes that are the same in the model (the store keeps
    // apart what differs only in its schema URL, which the model has no
    // place for) are one, as the reader interns them.
    let (resources, resource_of) = intern(stored.resources.iter().map(|resource| Resource {
        service_name: Arc::from(resource.service_name.as_str()),
        attributes: attributes(&resource.resource.attributes),
    }));
    let (scopes, scope_of) = intern(stored.scopes.iter().map(|scope| Scope {
        name: Arc::from(scope.scope.name.as_str()),
        version: Box::from(scope.scope.version.as_str()),
        attributes: attributes(&scope.scope.attributes),
    }));
    let mut spans: Vec<Span> = stored
        .spans
        .iter()
        .map(|stored_span| {
            let span = &stored_span.span;
            let mut model = Span {
                trace_id: TraceId(fixed(&span.trace_id)),
                span_id: SpanId(fixed(&span.span_id)),
                // An all-zero parent (as some SDKs send for a root) is none.
                parent_span_id: Some(SpanId(fixed(&span.parent_span_id)))
                    .filter(|parent| !parent.is_zero()),
                parent_relation: ParentRelation::ChildOf,
                name: Arc::from(span.name.as_str()),
                kind: kind(span.kind),
                start_unix_nanos: span.start_time_unix_nano,
                end_unix_nanos: span.end_time_unix_nano,
                status: match &span.status {
                    Some(status) if status.code == status::StatusCode::Error as i32 => {
                        Status::Error {
                            message: Box::from(status.message.as_str()),
                        }
                    }
                    Some(status) if status.code == status::StatusCode::Ok as i32 => Status::Ok,
                    _ => Status::Unset,
                },
                trace_state: Box::from(span.trace_state.as_str()),
                // OTLP keeps the W3C flags in the low byte of `flags`.
                trace_flags: (span.flags & 0xff) as u8,
                attributes: attributes(&span.attributes),
                events: span
                    .events
                    .iter()
                    .map(|event| Event {
                        time_unix_nanos: event.time_unix_nano,
                        name: Arc::from(event.name.as_str()),
                        attributes: attributes(&event.attributes),
                    })
                    .collect(),
                links: span
                    .links
                    .iter()
                    .map(|link| Link {
                        trace_id: TraceId(fixed(&link.trace_id)),
                        span_id: SpanId(fixed(&link.span_id)),
                        attributes: attributes(&link.attributes),
                    })
                    .collect(),
                resource_idx: resource_of.get(stored_span.resource).copied().unwrap_or(0),
                scope_idx: scope_of.get(stored_span.scope).copied().unwrap_or(0),
            };
            follows_from_parent(&mut model);
            model
        })
        .collect();
    if !logs.is_empty() {
        add_logs_as_events(&mut spans, logs, style);
    }
    Trace {
        spans,
        resources,
        scopes,
    }
}

/// The distinct items, in order of first appearance, and for each item
/// the index of its equal among them. A trace names a few resources and
/// scopes, so comparing each with those kept is cheap.
fn intern<T: PartialEq>(items: impl Iterator<Item = T>) -> (Vec<T>, Vec<u32>) {
    let mut kept: Vec<T> = Vec::new();
    let mut index_of = Vec::new();
    for item in items {
        let idx = match kept.iter().position(|known| *known == item) {
            Some(idx) => idx,
            None => {
                kept.push(item);
                kept.len() - 1
            }
        };
        index_of.push(u32::try_from(idx).unwrap_or(0));
    }
    (kept, index_of)
}

/// A link to the parent whose only attribute is `opentracing.ref_type:
/// follows_from` makes the parent a follows-from parent, and is no link of
/// its own: the rule of `tracelab-formats`' OTLP reader, so that a trace
/// reads the same from the store as from its OTLP file.
fn follows_from_parent(span: &mut Span) {
    let Some(parent) = span.parent_span_id else {
        return;
    };
    let marker = |link: &Link| {
        link.trace_id == span.trace_id
            && link.span_id == parent
            && matches!(
                link.attributes.as_slice(),
                [KeyValue { key, value: AttributeValue::String(value) }]
                    if &**key == REF_TYPE && &**value == "follows_from"
            )
    };
    if let Some(position) = span.links.iter().rposition(marker) {
        span.links.remove(position);
        span.parent_relation = ParentRelation::FollowsFrom;
    }
}

/// Each log record correlated with a span as one more event of that span
/// (see [`LogEvents`]), in time order among its events.
fn add_logs_as_events(spans: &mut [Span], logs: &[StoredLog], style: LogEvents) {
    let mut by_id: HashMap<String, &mut Span> = spans
        .iter_mut()
        .map(|span| (span.span_id.to_string(), span))
        .collect();
    for log in logs {
        let Some(span) = log.span_id.as_ref().and_then(|id| by_id.get_mut(id)) else {
            continue;
        };
        let record = &log.record;
        let text = |key: &str, text: &str| KeyValue::new(key, AttributeValue::string(text));
        let (name, mut fields) = match style {
            LogEvents::Waterfall => {
                let severity = if record.severity_text.is_empty() {
                    "INFO"
                } else {
                    record.severity_text.as_str()
                };
                let body = record.body.as_ref().map_or_else(String::new, value_to_text);
                (body, vec![text("log.severity", severity)])
            }
            LogEvents::Jaeger => {
                let mut fields = Vec::with_capacity(record.attributes.len() + 3);
                if !record.severity_text.is_empty() {
                    fields.push(text("level", &record.severity_text));
                } else if record.severity_number != 0 {
                    fields.push(KeyValue::new(
                        "level",
                        AttributeValue::Int(i64::from(record.severity_number)),
                    ));
                }
                match record.body.as_ref() {
                    Some(AnyValue {
                        value: Some(any_value::Value::StringValue(body)),
                    }) => fields.push(text("message", body)),
                    Some(body) => fields.push(text("message", &value_to_json(body))),
                    None => {}
                }
                let name = if record.event_name.is_empty() {
                    "log".to_owned()
                } else {
                    record.event_name.clone()
                };
                (name, fields)
            }
        };
        fields.extend(attributes(&record.attributes));
        if style == LogEvents::Jaeger {
            fields.push(text("otel.log", "true"));
        }
        span.events.push(Event {
            time_unix_nanos: if record.time_unix_nano != 0 {
                record.time_unix_nano
            } else {
                record.observed_time_unix_nano
            },
            name: Arc::from(name.as_str()),
            attributes: fields,
        });
    }
    for span in by_id.into_values() {
        span.events.sort_by_key(|event| event.time_unix_nanos);
    }
}

/// An id of exactly `N` bytes (the store only keeps valid ids; anything
/// else is zero-padded rather than trusted).
fn fixed<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (slot, byte) in out.iter_mut().zip(bytes) {
        *slot = *byte;
    }
    out
}

fn kind(kind: i32) -> SpanKind {
    match span::SpanKind::try_from(kind) {
        Ok(span::SpanKind::Internal) => SpanKind::Internal,
        Ok(span::SpanKind::Server) => SpanKind::Server,
        Ok(span::SpanKind::Client) => SpanKind::Client,
        Ok(span::SpanKind::Producer) => SpanKind::Producer,
        Ok(span::SpanKind::Consumer) => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}

fn attributes(list: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> Vec<KeyValue> {
    list.iter()
        .map(|kv| {
            let value = kv
                .value
                .as_ref()
                .map_or(AttributeValue::string(""), |value| attribute(value, 0));
            KeyValue::new(kv.key.as_str(), value)
        })
        .collect()
}

/// One value; recursion is bounded by [`MAX_ARRAY_DEPTH`].
fn attribute(value: &AnyValue, depth: usize) -> AttributeValue {
    match &value.value {
        None => AttributeValue::string(""),
        Some(any_value::Value::StringValue(text)) => AttributeValue::string(text),
        Some(any_value::Value::BoolValue(flag)) => AttributeValue::Bool(*flag),
        Some(any_value::Value::IntValue(number)) => AttributeValue::Int(*number),
        Some(any_value::Value::DoubleValue(number)) => AttributeValue::Double(*number),
        Some(any_value::Value::BytesValue(bytes)) => AttributeValue::Bytes(bytes.clone().into()),
        Some(any_value::Value::ArrayValue(array)) if depth < MAX_ARRAY_DEPTH => {
            AttributeValue::Array(
                array
                    .values
                    .iter()
                    .map(|item| attribute(item, depth + 1))
                    .collect(),
            )
        }
        Some(_) => AttributeValue::string(&value_to_json(value)),
    }
}
