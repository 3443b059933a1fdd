//! Recorded OpenTelemetry spans into `tracelab-trace`'s model, so the app's
//! waterfall draws the simulated trace as it draws an imported one.

use std::sync::Arc;

use opentelemetry::trace::{SpanKind as OtelKind, Status as OtelStatus};
use opentelemetry::{Array, Value};
use tracelab_trace::model::{
    AttributeValue, Event, KeyValue, Link, Resource, Scope, Span, SpanId, SpanKind, Status, Trace,
    TraceId,
};

use crate::net::Service;
use crate::telemetry::{unix_nanos, RecordedSpan, SCOPE_NAME};

/// All `spans` as one trace: one resource per service that recorded any (in
/// the order client, bands-api, reviews-api), one scope.
pub fn to_trace(spans: &[RecordedSpan]) -> Trace {
    let services: Vec<Service> = Service::ALL
        .into_iter()
        .filter(|service| spans.iter().any(|recorded| recorded.service == *service))
        .collect();
    let resources = services
        .iter()
        .map(|service| Resource {
            service_name: Arc::from(service.name()),
            // Sorted by key: the SDK's resource is a hash map, whose order
            // would differ from run to run.
            attributes: vec![
                KeyValue::new("service.name", AttributeValue::string(service.name())),
                KeyValue::new(
                    "service.version",
                    AttributeValue::string(env!("CARGO_PKG_VERSION")),
                ),
            ],
        })
        .collect();
    let scopes = vec![Scope {
        name: Arc::from(SCOPE_NAME),
        version: Box::from(env!("CARGO_PKG_VERSION")),
        attributes: Vec::new(),
    }];
    let spans = spans
        .iter()
        .map(|recorded| {
            let resource_idx = services
                .iter()
                .position(|service| *service == recorded.service)
                .unwrap_or(0);
            to_span(recorded, u32::try_from(resource_idx).unwrap_or(0))
        })
        .collect();
    Trace {
        spans,
        resources,
        scopes,
    }
}

/// One trace per trace-id, the trace whose first span starts earliest first.
pub fn split_by_trace(spans: &[RecordedSpan]) -> Vec<Trace> {
    let mut groups: Vec<(opentelemetry::trace::TraceId, u64, Vec<RecordedSpan>)> = Vec::new();
    for recorded in spans {
        let trace_id = recorded.span.span_context.trace_id();
        let start = unix_nanos(recorded.span.start_time);
        match groups.iter_mut().find(|(id, _, _)| *id == trace_id) {
            Some((_, first_start, members)) => {
                *first_start = (*first_start).min(start);
                members.push(recorded.clone());
            }
            None => groups.push((trace_id, start, vec![recorded.clone()])),
        }
    }
    groups.sort_by_key(|(trace_id, start, _)| (*start, trace_id.to_bytes()));
    groups
        .iter()
        .map(|(_, _, members)| to_trace(members))
        .collect()
}

fn to_span(recorded: &RecordedSpan, resource_idx: u32) -> Span {
    let data = &recorded.span;
    let parent = data.parent_span_id.to_bytes();
    let mut span = Span::new(
        TraceId(data.span_context.trace_id().to_bytes()),
        SpanId(data.span_context.span_id().to_bytes()),
        (parent != [0; 8]).then_some(SpanId(parent)),
        data.name.to_string(),
        unix_nanos(data.start_time),
        unix_nanos(data.end_time),
    );
    span.kind = match data.span_kind {
        OtelKind::Client => SpanKind::Client,
        OtelKind::Server => SpanKind::Server,
        OtelKind::Producer => SpanKind::Producer,
        OtelKind::Consumer => SpanKind::Consumer,
        OtelKind::Internal => SpanKind::Internal,
    };
    span.status = match &data.status {
        OtelStatus::Unset => Status::Unset,
        OtelStatus::Ok => Status::Ok,
        OtelStatus::Error { description } => Status::Error {
            message: Box::from(description.as_ref()),
        },
    };
    span.trace_state = Box::from(data.span_context.trace_state().header().as_str());
    span.trace_flags = data.span_context.trace_flags().to_u8();
    span.attributes = data.attributes.iter().map(to_key_value).collect();
    span.events = data
        .events
        .events
        .iter()
        .map(|event| Event {
            time_unix_nanos: unix_nanos(event.timestamp),
            name: Arc::from(event.name.as_ref()),
            attributes: event.attributes.iter().map(to_key_value).collect(),
        })
        .collect();
    span.links = data
        .links
        .links
        .iter()
        .map(|link| Link {
            trace_id: TraceId(link.span_context.trace_id().to_bytes()),
            span_id: SpanId(link.span_context.span_id().to_bytes()),
            attributes: link.attributes.iter().map(to_key_value).collect(),
        })
        .collect();
    span.resource_idx = resource_idx;
    span.scope_idx = 0;
    span
}

fn to_key_value(attribute: &opentelemetry::KeyValue) -> KeyValue {
    KeyValue::new(attribute.key.as_str(), to_value(&attribute.value))
}

fn to_value(value: &Value) -> AttributeValue {
    match value {
        Value::Bool(value) => AttributeValue::Bool(*value),
        Value::I64(value) => AttributeValue::Int(*value),
        Value::F64(value) => AttributeValue::Double(*value),
        Value::String(value) => AttributeValue::string(value.as_str()),
        Value::Array(Array::Bool(values)) => {
            AttributeValue::Array(values.iter().map(|v| AttributeValue::Bool(*v)).collect())
        }
        Value::Array(Array::I64(values)) => {
            AttributeValue::Array(values.iter().map(|v| AttributeValue::Int(*v)).collect())
        }
        Value::Array(Array::F64(values)) => {
            AttributeValue::Array(values.iter().map(|v| AttributeValue::Double(*v)).collect())
        }
        Value::Array(Array::String(values)) => AttributeValue::Array(
            values
                .iter()
                .map(|v| AttributeValue::string(v.as_str()))
                .collect(),
        ),
        // Both enums are non-exhaustive; a kind added later is kept as text.
        other => AttributeValue::string(&other.to_string()),
    }
}
