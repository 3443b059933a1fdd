//! A stored OTLP trace as `tracelab-trace`'s model, the shape the app's
//! waterfall draws: what `/api/tracelab/traces/{id}` answers, as JSON.

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

/// The trace in the model: resources and scopes as stored (each once),
/// spans in start order; each log record correlated with a span becomes
/// one of its events (named by the record's body, with `log.severity` and
/// its attributes), so the waterfall's details show it on its span.
pub fn to_model(stored: &StoredTrace, logs: &[StoredLog]) -> Trace {
    let resources = stored
        .resources
        .iter()
        .map(|resource| Resource {
            service_name: Arc::from(resource.service_name.as_str()),
            attributes: attributes(&resource.resource.attributes),
        })
        .collect();
    let scopes = stored
        .scopes
        .iter()
        .map(|scope| Scope {
            name: Arc::from(scope.scope.name.as_str()),
            version: Box::from(scope.scope.version.as_str()),
            attributes: attributes(&scope.scope.attributes),
        })
        .collect();
    let mut spans: Vec<Span> = stored
        .spans
        .iter()
        .map(|stored_span| {
            let span = &stored_span.span;
            Span {
                trace_id: TraceId(fixed(&span.trace_id)),
                span_id: SpanId(fixed(&span.span_id)),
                parent_span_id: (!span.parent_span_id.is_empty())
                    .then(|| SpanId(fixed(&span.parent_span_id))),
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
                resource_idx: u32::try_from(stored_span.resource).unwrap_or(0),
                scope_idx: u32::try_from(stored_span.scope).unwrap_or(0),
            }
        })
        .collect();
    for log in logs {
        let Some(span_id) = log.span_id.as_deref() else {
            continue;
        };
        let Some(span) = spans
            .iter_mut()
            .find(|span| span.span_id.to_string() == span_id)
        else {
            continue;
        };
        let record = &log.record;
        let mut attributes = vec![KeyValue::new(
            "log.severity",
            AttributeValue::string(if record.severity_text.is_empty() {
                "INFO"
            } else {
                &record.severity_text
            }),
        )];
        attributes.extend(self::attributes(&record.attributes));
        span.events.push(Event {
            time_unix_nanos: if record.time_unix_nano != 0 {
                record.time_unix_nano
            } else {
                record.observed_time_unix_nano
            },
            name: Arc::from(
                record
                    .body
                    .as_ref()
                    .map_or_else(String::new, value_to_text)
                    .as_str(),
            ),
            attributes,
        });
        span.events.sort_by_key(|event| event.time_unix_nanos);
    }
    Trace {
        spans,
        resources,
        scopes,
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
