//! Jaeger JSON out, as Jaeger's query API answers (`crate::jaeger`'s module
//! doc says what Jaeger cannot carry and how OpenTelemetry's mapping
//! carries the rest as tags). What is written is described at
//! [`to_jaeger_json`].

use std::collections::{HashMap, HashSet};

use tracelab_trace::model::{
    AttributeValue, KeyValue, ParentRelation, Span, SpanKind, Status, Trace, TraceId,
};

use super::{Out, Style};

/// About what one span takes in Jaeger JSON, to size the buffer once.
const BYTES_PER_SPAN: usize = 896;

/// A tag's value: an attribute's, or text of tracelab's own.
#[derive(Clone, Copy)]
enum TagValue<'a> {
    Attribute(&'a AttributeValue),
    Text(&'a str),
    Bool(bool),
}

/// The trace as Jaeger's query API answers it (`{"data": [trace]}`), which
/// Jaeger UI opens: one Jaeger trace per trace id among the spans (usually
/// one), processes `p1`, `p2`, … one per resource, times in microseconds
/// (rounded down). The `jaeger` module doc says what Jaeger cannot carry.
pub fn to_jaeger_json(trace: &Trace) -> String {
    // One Jaeger trace per trace id, in order of first appearance.
    let mut order: Vec<(TraceId, Vec<&Span>)> = Vec::new();
    let mut position_of: HashMap<TraceId, usize> = HashMap::new();
    for span in &trace.spans {
        let position = *position_of.entry(span.trace_id).or_insert_with(|| {
            order.push((span.trace_id, Vec::new()));
            order.len() - 1
        });
        order[position].1.push(span);
    }
    let mut out = Out::with_capacity(trace.spans.len() * BYTES_PER_SPAN);
    // Scratch for a tag value written apart (an array's JSON text).
    let mut scratch = Out::with_capacity(0);
    out.raw("{\"data\":[");
    for (trace_position, (trace_id, spans)) in order.iter().enumerate() {
        if trace_position > 0 {
            out.raw(",");
        }
        out.raw("{\"processes\":{");
        // A JSON map's keys in order: `p10` before `p2`.
        let mut processes: Vec<(String, u32)> = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        for span in spans {
            if seen.insert(span.resource_idx) {
                processes.push((process_id(span.resource_idx), span.resource_idx));
            }
        }
        processes.sort_unstable();
        for (position, (id, resource_idx)) in processes.iter().enumerate() {
            if position > 0 {
                out.raw(",");
            }
            out.string(id);
            let resource = trace.resources.get(*resource_idx as usize);
            out.raw(":{\"serviceName\":");
            out.string(
                resource
                    .map(|resource| &*resource.service_name)
                    .unwrap_or(""),
            );
            out.raw(",\"tags\":[");
            let attributes = resource.map(|resource| resource.attributes.as_slice());
            let mut first = true;
            for attribute in attributes.unwrap_or(&[]) {
                if &*attribute.key == "service.name" {
                    continue;
                }
                if !first {
                    out.raw(",");
                }
                first = false;
                attribute_tag(&mut out, &mut scratch, attribute);
            }
            out.raw("]}");
        }
        out.raw("},\"spans\":[");
        for (position, span) in spans.iter().enumerate() {
            if position > 0 {
                out.raw(",");
            }
            span_json(&mut out, &mut scratch, trace, span);
        }
        out.raw("],\"traceID\":");
        out.hex(&trace_id.0);
        out.raw(",\"warnings\":null}");
    }
    out.raw("],\"errors\":null,\"limit\":0,\"offset\":0,\"total\":0}");
    out.into_string()
}

fn process_id(resource_idx: u32) -> String {
    format!("p{}", u64::from(resource_idx) + 1)
}

/// `{"key":…,"type":…,"value":…}`; `scratch` holds an array's JSON text.
fn tag(out: &mut Out, scratch: &mut Out, key: &str, value: TagValue<'_>) {
    out.raw("{\"key\":");
    out.string(key);
    match value {
        TagValue::Text(text) => {
            out.raw(",\"type\":\"string\",\"value\":");
            out.string(text);
        }
        TagValue::Bool(flag) | TagValue::Attribute(&AttributeValue::Bool(flag)) => {
            out.raw(",\"type\":\"bool\",\"value\":");
            out.raw(if flag { "true" } else { "false" });
        }
        TagValue::Attribute(AttributeValue::String(text)) => {
            out.raw(",\"type\":\"string\",\"value\":");
            out.string(text);
        }
        TagValue::Attribute(AttributeValue::Int(number)) => {
            out.raw(",\"type\":\"int64\",\"value\":");
            out.i64(*number);
        }
        TagValue::Attribute(AttributeValue::Double(number)) if number.is_finite() => {
            out.raw(",\"type\":\"float64\",\"value\":");
            out.finite_f64(*number);
        }
        // JSON has no NaN or infinity; Jaeger's own writer gives up on them.
        TagValue::Attribute(AttributeValue::Double(number)) => {
            out.raw(",\"type\":\"string\",\"value\":");
            out.string(&number.to_string());
        }
        TagValue::Attribute(AttributeValue::Bytes(bytes)) => {
            out.raw(",\"type\":\"binary\",\"value\":");
            out.base64(bytes);
        }
        // OpenTelemetry's Jaeger mapping: an array as its JSON text.
        TagValue::Attribute(array @ AttributeValue::Array(_)) => {
            scratch.clear();
            scratch.value(array, Style::Plain);
            out.raw(",\"type\":\"string\",\"value\":");
            out.string(&scratch.as_str());
        }
    }
    out.raw("}");
}

fn attribute_tag(out: &mut Out, scratch: &mut Out, attribute: &KeyValue) {
    tag(
        out,
        scratch,
        &attribute.key,
        TagValue::Attribute(&attribute.value),
    );
}

/// Tags of attributes, each preceded by a comma unless `first`.
fn attribute_tags(out: &mut Out, scratch: &mut Out, attributes: &[KeyValue], mut first: bool) {
    for attribute in attributes {
        if !first {
            out.raw(",");
        }
        first = false;
        attribute_tag(out, scratch, attribute);
    }
}

/// One span, its keys in `BTreeMap` order.
fn span_json(out: &mut Out, scratch: &mut Out, trace: &Trace, span: &Span) {
    let start_micros = span.start_unix_nanos / 1000;
    out.raw("{\"duration\":");
    out.u64((span.clamped_end_unix_nanos() / 1000).saturating_sub(start_micros));
    out.raw(",\"flags\":");
    out.u64(u64::from(span.trace_flags & Span::SAMPLED));
    out.raw(",\"logs\":[");
    for (position, event) in span.events.iter().enumerate() {
        if position > 0 {
            out.raw(",");
        }
        out.raw("{\"fields\":[");
        tag(out, scratch, "event", TagValue::Text(&event.name));
        attribute_tags(out, scratch, &event.attributes, false);
        out.raw("],\"timestamp\":");
        out.u64(event.time_unix_nanos / 1000);
        out.raw("}");
    }
    out.raw("],\"operationName\":");
    out.string(&span.name);
    out.raw(",\"processID\":\"p");
    out.u64(u64::from(span.resource_idx) + 1);
    out.raw("\",\"references\":[");
    let mut first = true;
    if let Some(parent) = span.parent_span_id.filter(|parent| !parent.is_zero()) {
        out.raw(match span.parent_relation {
            ParentRelation::ChildOf => "{\"refType\":\"CHILD_OF\",\"spanID\":",
            ParentRelation::FollowsFrom => "{\"refType\":\"FOLLOWS_FROM\",\"spanID\":",
        });
        out.hex(&parent.0);
        out.raw(",\"traceID\":");
        out.hex(&span.trace_id.0);
        out.raw("}");
        first = false;
    }
    for link in &span.links {
        if !first {
            out.raw(",");
        }
        first = false;
        out.raw("{\"refType\":\"FOLLOWS_FROM\",\"spanID\":");
        out.hex(&link.span_id.0);
        out.raw(",\"tags\":[");
        attribute_tags(out, scratch, &link.attributes, true);
        out.raw("],\"traceID\":");
        out.hex(&link.trace_id.0);
        out.raw("}");
    }
    out.raw("],\"spanID\":");
    out.hex(&span.span_id.0);
    out.raw(",\"startTime\":");
    out.u64(start_micros);
    out.raw(",\"tags\":[");
    attribute_tags(out, scratch, &span.attributes, true);
    let mut first = span.attributes.is_empty();
    let mut own_tag = |out: &mut Out, key: &str, value: TagValue<'_>| {
        if !first {
            out.raw(",");
        }
        first = false;
        tag(out, scratch, key, value);
    };
    if span.kind != SpanKind::Unspecified {
        own_tag(out, "span.kind", TagValue::Text(span.kind.as_str()));
    }
    match &span.status {
        Status::Unset => {}
        Status::Ok => own_tag(out, "otel.status_code", TagValue::Text("OK")),
        Status::Error { message } => {
            own_tag(out, "otel.status_code", TagValue::Text("ERROR"));
            own_tag(out, "error", TagValue::Bool(true));
            if !message.is_empty() {
                own_tag(out, "otel.status_description", TagValue::Text(message));
            }
        }
    }
    if !span.trace_state.is_empty() {
        own_tag(out, "w3c.tracestate", TagValue::Text(&span.trace_state));
    }
    if let Some(scope) = trace.scopes.get(span.scope_idx as usize) {
        if !scope.name.is_empty() {
            own_tag(out, "otel.scope.name", TagValue::Text(&scope.name));
        }
        if !scope.version.is_empty() {
            own_tag(out, "otel.scope.version", TagValue::Text(&scope.version));
        }
    }
    out.raw("],\"traceID\":");
    out.hex(&span.trace_id.0);
    out.raw(",\"warnings\":null}");
}
