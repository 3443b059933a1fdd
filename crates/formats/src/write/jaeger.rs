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
///
/// Spans are written as Jaeger's own OTLP translator writes them (the
/// OpenTelemetry Collector's `pkg/translator/jaeger`): the scope's tags,
/// then the attributes, then `span.kind`, the status and `w3c.tracestate`;
/// a link as `FOLLOWS_FROM`, or `CHILD_OF` when it carries
/// `opentracing.ref_type` `child_of`; the duration truncated to
/// microseconds on its own. Where it parts from the translator, it is so
/// that reading the file back loses nothing:
/// - an event keeps its `event` field (its name) even when an attribute is
///   also called `event`, which the translator drops the name for;
/// - `flags` is written when 0, which Jaeger leaves out: a span without
///   `flags` is read as sampled (most files that leave it out were written
///   by hand, of spans that were recorded);
/// - a link keeps its attributes as `tags`, which Jaeger's references do
///   not have (and which tell a link from a parent on reading).
///
/// Two more follow from the model (`tracelab_trace::model`): a map inside an
/// array was read as its JSON text, so it is written as a string in the
/// array; and dropped attribute, event and link counts are not kept, so
/// there is no `otel.dropped_*` tag.
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

/// Whether a link says it is a child-of reference (`opentracing.ref_type`
/// `child_of`, as OpenTracing shims and Jaeger's importers mark it): Jaeger's
/// translator writes it as `CHILD_OF`, any other link as `FOLLOWS_FROM`.
fn is_child_of_link(attributes: &[KeyValue]) -> bool {
    attributes.iter().any(|attribute| {
        &*attribute.key == "opentracing.ref_type"
            && matches!(&attribute.value, AttributeValue::String(text) if &**text == "child_of")
    })
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
    // As Jaeger's translator: the duration in nanoseconds, truncated on its
    // own (not the difference of the two truncated ends).
    out.u64(
        span.clamped_end_unix_nanos()
            .saturating_sub(span.start_unix_nanos)
            / 1000,
    );
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
        out.raw(if is_child_of_link(&link.attributes) {
            "{\"refType\":\"CHILD_OF\",\"spanID\":"
        } else {
            "{\"refType\":\"FOLLOWS_FROM\",\"spanID\":"
        });
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
    // The scope's tags first, then the attributes, then the span's own
    // fields, in the order of Jaeger's translator.
    let mut first = true;
    if let Some(scope) = trace.scopes.get(span.scope_idx as usize) {
        for (key, value) in [
            ("otel.scope.name", &*scope.name),
            ("otel.scope.version", &*scope.version),
        ] {
            if !value.is_empty() {
                if !first {
                    out.raw(",");
                }
                first = false;
                tag(out, scratch, key, TagValue::Text(value));
            }
        }
    }
    attribute_tags(out, scratch, &span.attributes, first);
    let mut first = first && span.attributes.is_empty();
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
    out.raw("],\"traceID\":");
    out.hex(&span.trace_id.0);
    out.raw(",\"warnings\":null}");
}
