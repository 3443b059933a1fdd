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
/// Grouped by `tracelab_trace::group` (as the importers group theirs); each
/// trace's resources then keep the order client, bands-api, reviews-api, so
/// that a service has the same colour slot in every trace.
pub fn split_by_trace(spans: &[RecordedSpan]) -> Vec<Trace> {
    let whole = to_trace(spans);
    let service_order: Vec<Arc<str>> = whole
        .resources
        .iter()
        .map(|resource| resource.service_name.clone())
        .collect();
    let mut traces = tracelab_trace::group::merge([whole]);
    for trace in &mut traces {
        in_service_order(trace, &service_order);
    }
    traces.sort_by_key(|trace| {
        let first_start = trace.spans.iter().map(|span| span.start_unix_nanos).min();
        (first_start, trace.spans.first().map(|span| span.trace_id))
    });
    traces
}

/// Puts `trace`'s resources in the order their services have in `order`
/// (a service not in it last), renumbering the spans' resource indices.
fn in_service_order(trace: &mut Trace, order: &[Arc<str>]) {
    let rank = |resource: &Resource| {
        order
            .iter()
            .position(|name| *name == resource.service_name)
            .unwrap_or(order.len())
    };
    // Each resource with its old index, sorted (stably) by its service's rank.
    let mut ranked: Vec<(usize, Resource)> = std::mem::take(&mut trace.resources)
        .into_iter()
        .enumerate()
        .collect();
    ranked.sort_by_key(|(_, resource)| rank(resource));
    let mut new_idx = vec![0_u32; ranked.len()];
    for (new, (old, _)) in ranked.iter().enumerate() {
        new_idx[*old] = u32::try_from(new).unwrap_or(u32::MAX);
    }
    trace.resources = ranked.into_iter().map(|(_, resource)| resource).collect();
    for span in &mut trace.spans {
        if let Some(&idx) = new_idx.get(span.resource_idx as usize) {
            span.resource_idx = idx;
        }
    }
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
