//! OTLP JSON out, and its envelopes: Jaeger api_v3's `{"result": …}`,
//! Tempo's `{"batches": […]}` (ids in base64) and the Collector's one
//! request per line. What is written is described at [`to_otlp_json`].

use std::collections::HashMap;

use tracelab_trace::model::{KeyValue, ParentRelation, Span, Status, Trace};

use super::Out;
use crate::otlp::KINDS;

/// How ids are written: OTLP JSON's lowercase hex, or Tempo's base64.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ids {
    Hex,
    Base64,
}

/// The attribute OpenTelemetry's OpenTracing compatibility puts on the
/// link that stands for a follows-from parent.
const FOLLOWS_FROM_LINK_ATTRIBUTES: &str =
    "[{\"key\":\"opentracing.ref_type\",\"value\":{\"stringValue\":\"follows_from\"}}]";

/// About what one span takes in OTLP JSON, to size the buffer once.
const BYTES_PER_SPAN: usize = 640;

/// The trace as one OTLP JSON `ExportTraceServiceRequest`, as the OTLP
/// specification maps it: ids in lowercase hex, 64-bit integers as strings,
/// enums as integers; one `resourceSpans` per resource, one `scopeSpans` per
/// scope, spans in the trace's order within each. A span whose resource or
/// scope index is out of range is written under an empty resource or scope.
pub fn to_otlp_json(trace: &Trace) -> String {
    let mut out = Out::with_capacity(trace.spans.len() * BYTES_PER_SPAN);
    out.raw("{\"resourceSpans\":");
    resource_spans(&mut out, trace, Ids::Hex);
    out.raw("}");
    out.into_string()
}

/// The trace as Jaeger api_v3 answers `GET /api/v3/traces/{id}`:
/// `{"result": <an OTLP JSON export request>}`.
pub fn to_api_v3_json(trace: &Trace) -> String {
    let mut out = Out::with_capacity(trace.spans.len() * BYTES_PER_SPAN);
    out.raw("{\"result\":{\"resourceSpans\":");
    resource_spans(&mut out, trace, Ids::Hex);
    out.raw("}}");
    out.into_string()
}

/// Traces as the OpenTelemetry Collector's file exporter writes them: one
/// OTLP JSON export request per line (here one per trace), each line
/// ending in a newline.
pub fn to_otlp_json_lines(traces: &[Trace]) -> String {
    let n_spans: usize = traces.iter().map(|trace| trace.spans.len()).sum();
    let mut out = Out::with_capacity(n_spans * BYTES_PER_SPAN);
    for trace in traces {
        out.raw("{\"resourceSpans\":");
        resource_spans(&mut out, trace, Ids::Hex);
        out.raw("}\n");
    }
    out.into_string()
}

/// The trace as Tempo answers `GET /api/traces/{id}`: `{"batches": […]}`,
/// each batch an OTLP `ResourceSpans`, trace and span ids (the span's,
/// its parent's and its links') in base64.
pub fn to_tempo_json(trace: &Trace) -> String {
    let mut out = Out::with_capacity(trace.spans.len() * BYTES_PER_SPAN);
    out.raw("{\"batches\":");
    resource_spans(&mut out, trace, Ids::Base64);
    out.raw("}");
    out.into_string()
}

/// The `resourceSpans` list: spans grouped by (resource, scope) in order of
/// first appearance, the groups under their resource in that order too.
fn resource_spans(out: &mut Out, trace: &Trace, ids: Ids) {
    let mut groups: Vec<(u32, Vec<usize>)> = Vec::new();
    let mut group_of: HashMap<(u32, u32), usize> = HashMap::new();
    // Each resource in order of first appearance, with its groups.
    let mut resources: Vec<(u32, Vec<usize>)> = Vec::new();
    let mut resource_of: HashMap<u32, usize> = HashMap::new();
    for (span_idx, span) in trace.spans.iter().enumerate() {
        let group_idx = *group_of
            .entry((span.resource_idx, span.scope_idx))
            .or_insert_with(|| {
                let resource = *resource_of.entry(span.resource_idx).or_insert_with(|| {
                    resources.push((span.resource_idx, Vec::new()));
                    resources.len() - 1
                });
                resources[resource].1.push(groups.len());
                groups.push((span.scope_idx, Vec::new()));
                groups.len() - 1
            });
        groups[group_idx].1.push(span_idx);
    }

    out.raw("[");
    for (resource_position, (resource_idx, group_indices)) in resources.iter().enumerate() {
        if resource_position > 0 {
            out.raw(",");
        }
        out.raw("{\"resource\":{\"attributes\":[");
        if let Some(resource) = trace.resources.get(*resource_idx as usize) {
            // The model pulls `service.name` out; put it back first if the
            // attributes lack it.
            let mut first = true;
            if !resource.service_name.is_empty()
                && !resource
                    .attributes
                    .iter()
                    .any(|attribute| &*attribute.key == "service.name")
            {
                out.raw("{\"key\":\"service.name\",\"value\":{\"stringValue\":");
                out.string(&resource.service_name);
                out.raw("}}");
                first = false;
            }
            for attribute in &resource.attributes {
                if !first {
                    out.raw(",");
                }
                first = false;
                key_value(out, attribute);
            }
        }
        out.raw("]},\"scopeSpans\":[");
        for (group_position, group_idx) in group_indices.iter().enumerate() {
            if group_position > 0 {
                out.raw(",");
            }
            let (scope_idx, span_indices) = &groups[*group_idx];
            out.raw("{\"scope\":");
            match trace.scopes.get(*scope_idx as usize) {
                Some(scope) => {
                    out.raw("{\"attributes\":");
                    attributes(out, &scope.attributes);
                    out.raw(",\"name\":");
                    out.string(&scope.name);
                    out.raw(",\"version\":");
                    out.string(&scope.version);
                    out.raw("}");
                }
                None => out.raw("{}"),
            }
            out.raw(",\"spans\":[");
            for (position, span_idx) in span_indices.iter().enumerate() {
                if position > 0 {
                    out.raw(",");
                }
                span(out, &trace.spans[*span_idx], ids);
            }
            out.raw("]}");
        }
        out.raw("]}");
    }
    out.raw("]");
}

fn id(out: &mut Out, bytes: &[u8], ids: Ids) {
    match ids {
        Ids::Hex => out.hex(bytes),
        Ids::Base64 => out.base64(bytes),
    }
}

fn key_value(out: &mut Out, attribute: &KeyValue) {
    out.raw("{\"key\":");
    out.string(&attribute.key);
    out.raw(",\"value\":");
    out.any_value(&attribute.value);
    out.raw("}");
}

fn attributes(out: &mut Out, attributes: &[KeyValue]) {
    out.raw("[");
    for (position, attribute) in attributes.iter().enumerate() {
        if position > 0 {
            out.raw(",");
        }
        key_value(out, attribute);
    }
    out.raw("]");
}

/// One span, its keys in `BTreeMap` order.
fn span(out: &mut Out, span: &Span, ids: Ids) {
    out.raw("{\"attributes\":");
    attributes(out, &span.attributes);
    out.raw(",\"endTimeUnixNano\":");
    out.u64_string(span.end_unix_nanos);
    out.raw(",\"events\":[");
    for (position, event) in span.events.iter().enumerate() {
        if position > 0 {
            out.raw(",");
        }
        out.raw("{\"attributes\":");
        attributes(out, &event.attributes);
        out.raw(",\"name\":");
        out.string(&event.name);
        out.raw(",\"timeUnixNano\":");
        out.u64_string(event.time_unix_nanos);
        out.raw("}");
    }
    out.raw("],\"flags\":");
    out.u64(u64::from(span.trace_flags));
    out.raw(",\"kind\":");
    let kind = KINDS
        .iter()
        .position(|kind| *kind == span.kind)
        .unwrap_or(0);
    out.u64(kind as u64);
    out.raw(",\"links\":[");
    for (position, link) in span.links.iter().enumerate() {
        if position > 0 {
            out.raw(",");
        }
        out.raw("{\"attributes\":");
        attributes(out, &link.attributes);
        out.raw(",\"spanId\":");
        id(out, &link.span_id.0, ids);
        out.raw(",\"traceId\":");
        id(out, &link.trace_id.0, ids);
        out.raw("}");
    }
    if let (Some(parent), ParentRelation::FollowsFrom) = (span.parent_span_id, span.parent_relation)
    {
        // OTLP has only child-of; OpenTelemetry's OpenTracing compatibility
        // says a follows-from reference is a link with this attribute.
        if !span.links.is_empty() {
            out.raw(",");
        }
        out.raw("{\"attributes\":");
        out.raw(FOLLOWS_FROM_LINK_ATTRIBUTES);
        out.raw(",\"spanId\":");
        id(out, &parent.0, ids);
        out.raw(",\"traceId\":");
        id(out, &span.trace_id.0, ids);
        out.raw("}");
    }
    out.raw("],\"name\":");
    out.string(&span.name);
    if let Some(parent) = span.parent_span_id.filter(|parent| !parent.is_zero()) {
        out.raw(",\"parentSpanId\":");
        id(out, &parent.0, ids);
    }
    out.raw(",\"spanId\":");
    id(out, &span.span_id.0, ids);
    out.raw(",\"startTimeUnixNano\":");
    out.u64_string(span.start_unix_nanos);
    out.raw(",\"status\":");
    match &span.status {
        Status::Unset => out.raw("{}"),
        Status::Ok => out.raw("{\"code\":1}"),
        Status::Error { message } if message.is_empty() => out.raw("{\"code\":2}"),
        Status::Error { message } => {
            out.raw("{\"code\":2,\"message\":");
            out.string(message);
            out.raw("}");
        }
    }
    out.raw(",\"traceId\":");
    id(out, &span.trace_id.0, ids);
    if !span.trace_state.is_empty() {
        out.raw(",\"traceState\":");
        out.string(&span.trace_state);
    }
    out.raw("}");
}
