//! The writers write exactly what a plain `serde_json::Value` built for the
//! same trace prints: the writers in `src/write/` stream their JSON into a
//! buffer (the server answers a 10,000-span trace through them), and this
//! file keeps the straightforward `Value`-based writers they replaced as the
//! reference, so that a change to either cannot drift silently. Keys come
//! out sorted because a `serde_json::Map` is a `BTreeMap` (no
//! `preserve_order` in the workspace): the streaming writers write them in
//! that order on purpose.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tracelab_formats::{
    to_api_v3_json, to_jaeger_json, to_otlp_json, to_otlp_json_lines, to_tempo_json,
    to_zipkin_json, MAX_VALUE_DEPTH,
};
use tracelab_trace::model::{
    AttributeValue, Event, KeyValue, Link, ParentRelation, Resource, Scope, Span, SpanId, SpanKind,
    Status, Trace, TraceId,
};

// ---------------------------------------------------------------------------
// The reference: the `Value`-based writers as they were at 09a5019, and
// since then the Jaeger span as Jaeger's translator writes it (the scope's
// tags first, a `child_of` link as `CHILD_OF`, the duration truncated on
// its own).

mod reference {
    use super::*;

    const REF_TYPE: &str = "opentracing.ref_type";
    const KINDS: [SpanKind; 6] = [
        SpanKind::Unspecified,
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ];

    pub fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b1 = chunk.get(1).copied().unwrap_or(0);
            let b2 = chunk.get(2).copied().unwrap_or(0);
            let n = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
            out.push(ALPHABET[(n >> 18) as usize & 63] as char);
            out.push(ALPHABET[(n >> 12) as usize & 63] as char);
            out.push(if chunk.len() > 1 {
                ALPHABET[(n >> 6) as usize & 63] as char
            } else {
                '='
            });
            out.push(if chunk.len() > 2 {
                ALPHABET[n as usize & 63] as char
            } else {
                '='
            });
        }
        out
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    // --- OTLP -------------------------------------------------------------

    pub fn any_value_json(value: &AttributeValue) -> Value {
        struct Frame<'a> {
            items: &'a [AttributeValue],
            next: usize,
            done: Vec<Value>,
        }
        fn scalar(value: &AttributeValue) -> Value {
            match value {
                AttributeValue::String(text) => json!({ "stringValue": &**text }),
                AttributeValue::Bool(flag) => json!({ "boolValue": flag }),
                AttributeValue::Int(int) => json!({ "intValue": int.to_string() }),
                AttributeValue::Double(double) if double.is_finite() => {
                    json!({ "doubleValue": double })
                }
                AttributeValue::Double(double) => json!({ "doubleValue": if double.is_nan() {
                    "NaN"
                } else if *double > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                } }),
                AttributeValue::Bytes(bytes) => json!({ "bytesValue": base64(bytes) }),
                AttributeValue::Array(_) => json!({ "stringValue": value.to_string() }),
            }
        }
        let AttributeValue::Array(items) = value else {
            return scalar(value);
        };
        let mut stack = vec![Frame {
            items,
            next: 0,
            done: Vec::new(),
        }];
        loop {
            let Some(top) = stack.last_mut() else {
                return Value::Null;
            };
            if top.next == top.items.len() {
                let done = std::mem::take(&mut top.done);
                stack.pop();
                let array = json!({ "arrayValue": { "values": done } });
                match stack.last_mut() {
                    Some(parent) => parent.done.push(array),
                    None => return array,
                }
                continue;
            }
            let item = &top.items[top.next];
            top.next += 1;
            match item {
                AttributeValue::Array(items) if stack.len() < MAX_VALUE_DEPTH => {
                    stack.push(Frame {
                        items,
                        next: 0,
                        done: Vec::new(),
                    });
                }
                other => {
                    let written = scalar(other);
                    if let Some(top) = stack.last_mut() {
                        top.done.push(written);
                    }
                }
            }
        }
    }

    fn attributes_json(attributes: &[KeyValue]) -> Value {
        Value::Array(
            attributes
                .iter()
                .map(|kv| json!({ "key": &*kv.key, "value": any_value_json(&kv.value) }))
                .collect(),
        )
    }

    fn otlp_span(span: &Span) -> Value {
        let mut object = Map::new();
        object.insert("traceId".into(), hex(&span.trace_id.0).into());
        object.insert("spanId".into(), hex(&span.span_id.0).into());
        if let Some(parent) = span.parent_span_id.filter(|parent| !parent.is_zero()) {
            object.insert("parentSpanId".into(), hex(&parent.0).into());
        }
        if !span.trace_state.is_empty() {
            object.insert("traceState".into(), (*span.trace_state).into());
        }
        object.insert("flags".into(), u32::from(span.trace_flags).into());
        object.insert("name".into(), (*span.name).into());
        let kind = KINDS
            .iter()
            .position(|kind| *kind == span.kind)
            .unwrap_or(0);
        object.insert("kind".into(), kind.into());
        object.insert(
            "startTimeUnixNano".into(),
            span.start_unix_nanos.to_string().into(),
        );
        object.insert(
            "endTimeUnixNano".into(),
            span.end_unix_nanos.to_string().into(),
        );
        object.insert("attributes".into(), attributes_json(&span.attributes));
        let events: Vec<Value> = span
            .events
            .iter()
            .map(|event| {
                json!({
                    "timeUnixNano": event.time_unix_nanos.to_string(),
                    "name": &*event.name,
                    "attributes": attributes_json(&event.attributes),
                })
            })
            .collect();
        object.insert("events".into(), events.into());
        let mut links: Vec<Value> = span
            .links
            .iter()
            .map(|link| {
                json!({
                    "traceId": hex(&link.trace_id.0),
                    "spanId": hex(&link.span_id.0),
                    "attributes": attributes_json(&link.attributes),
                })
            })
            .collect();
        if let (Some(parent), ParentRelation::FollowsFrom) =
            (span.parent_span_id, span.parent_relation)
        {
            links.push(json!({
                "traceId": hex(&span.trace_id.0),
                "spanId": hex(&parent.0),
                "attributes": [{ "key": REF_TYPE, "value": { "stringValue": "follows_from" } }],
            }));
        }
        object.insert("links".into(), links.into());
        let status = match &span.status {
            Status::Unset => json!({}),
            Status::Ok => json!({ "code": 1 }),
            Status::Error { message } if message.is_empty() => json!({ "code": 2 }),
            Status::Error { message } => json!({ "code": 2, "message": &**message }),
        };
        object.insert("status".into(), status);
        Value::Object(object)
    }

    pub fn otlp(trace: &Trace) -> Value {
        let mut groups: Vec<((u32, u32), Vec<usize>)> = Vec::new();
        let mut group_of: HashMap<(u32, u32), usize> = HashMap::new();
        for (span_idx, span) in trace.spans.iter().enumerate() {
            let key = (span.resource_idx, span.scope_idx);
            let group = *group_of.entry(key).or_insert_with(|| {
                groups.push((key, Vec::new()));
                groups.len() - 1
            });
            groups[group].1.push(span_idx);
        }
        let mut resource_spans: Vec<Value> = Vec::new();
        let mut resource_slot: HashMap<u32, usize> = HashMap::new();
        for ((resource_idx, scope_idx), span_indices) in groups {
            let slot = *resource_slot.entry(resource_idx).or_insert_with(|| {
                let mut attributes = Vec::new();
                if let Some(resource) = trace.resources.get(resource_idx as usize) {
                    attributes = resource.attributes.clone();
                    if !resource.service_name.is_empty()
                        && !attributes.iter().any(|kv| &*kv.key == "service.name")
                    {
                        attributes.insert(
                            0,
                            KeyValue::new(
                                "service.name",
                                AttributeValue::String(resource.service_name.clone()),
                            ),
                        );
                    }
                }
                resource_spans.push(json!({
                    "resource": { "attributes": attributes_json(&attributes) },
                    "scopeSpans": [],
                }));
                resource_spans.len() - 1
            });
            let scope = match trace.scopes.get(scope_idx as usize) {
                Some(scope) => json!({
                    "name": &*scope.name,
                    "version": &*scope.version,
                    "attributes": attributes_json(&scope.attributes),
                }),
                None => json!({}),
            };
            let spans: Vec<Value> = span_indices
                .iter()
                .map(|&span_idx| otlp_span(&trace.spans[span_idx]))
                .collect();
            if let Some(Value::Array(scope_spans)) = resource_spans[slot].get_mut("scopeSpans") {
                scope_spans.push(json!({ "scope": scope, "spans": spans }));
            }
        }
        json!({ "resourceSpans": resource_spans })
    }

    pub fn api_v3(trace: &Trace) -> String {
        format!("{{\"result\":{}}}", otlp(trace))
    }

    pub fn otlp_lines(traces: &[Trace]) -> String {
        traces
            .iter()
            .map(|trace| format!("{}\n", otlp(trace)))
            .collect()
    }

    pub fn tempo(trace: &Trace) -> String {
        let mut request = otlp(trace);
        let mut batches = request
            .get_mut("resourceSpans")
            .map(Value::take)
            .unwrap_or_default();
        fn array_mut<'a>(value: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
            value
                .get_mut(key)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
        }
        fn hex_to_base64(object: &mut Value, keys: &[&str]) {
            let Some(object) = object.as_object_mut() else {
                return;
            };
            for key in keys {
                let Some(text) = object.get(*key).and_then(Value::as_str) else {
                    continue;
                };
                let bytes: Vec<u8> = (0..text.len())
                    .step_by(2)
                    .map(|idx| u8::from_str_radix(&text[idx..idx + 2], 16).unwrap())
                    .collect();
                object.insert((*key).to_owned(), json!(base64(&bytes)));
            }
        }
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

    // --- Jaeger -----------------------------------------------------------

    fn tag_json(key: &str, value: &AttributeValue) -> Value {
        match value {
            AttributeValue::String(text) => {
                json!({ "key": key, "type": "string", "value": &**text })
            }
            AttributeValue::Bool(flag) => json!({ "key": key, "type": "bool", "value": flag }),
            AttributeValue::Int(int) => json!({ "key": key, "type": "int64", "value": int }),
            AttributeValue::Double(double) if double.is_finite() => {
                json!({ "key": key, "type": "float64", "value": double })
            }
            AttributeValue::Double(double) => {
                json!({ "key": key, "type": "string", "value": double.to_string() })
            }
            AttributeValue::Bytes(bytes) => {
                json!({ "key": key, "type": "binary", "value": base64(bytes) })
            }
            AttributeValue::Array(_) => {
                let text = any_value_json(value)
                    .get("arrayValue")
                    .map(array_text)
                    .unwrap_or_default();
                json!({ "key": key, "type": "string", "value": text })
            }
        }
    }

    fn array_text(array_value: &Value) -> String {
        fn plain(value: &Value) -> Value {
            let Some(object) = value.as_object() else {
                return Value::Null;
            };
            if let Some(inner) = object.get("arrayValue") {
                let values = inner
                    .get("values")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                return Value::Array(values.iter().map(plain).collect());
            }
            if let Some(int) = object.get("intValue").and_then(Value::as_str) {
                return int.parse::<i64>().map(Value::from).unwrap_or(Value::Null);
            }
            object.values().next().cloned().unwrap_or(Value::Null)
        }
        plain(&json!({ "arrayValue": array_value })).to_string()
    }

    fn tags_json(attributes: &[KeyValue]) -> Vec<Value> {
        attributes
            .iter()
            .map(|kv| tag_json(&kv.key, &kv.value))
            .collect()
    }

    fn jaeger_span(trace: &Trace, span: &Span, process_id: &str) -> Value {
        let mut references = Vec::new();
        if let Some(parent) = span.parent_span_id.filter(|parent| !parent.is_zero()) {
            let ref_type = match span.parent_relation {
                ParentRelation::ChildOf => "CHILD_OF",
                ParentRelation::FollowsFrom => "FOLLOWS_FROM",
            };
            references.push(json!({ "refType": ref_type, "traceID": hex(&span.trace_id.0), "spanID": hex(&parent.0) }));
        }
        for link in &span.links {
            let child_of = link.attributes.iter().any(|kv| {
                &*kv.key == "opentracing.ref_type"
                    && matches!(&kv.value, AttributeValue::String(text) if &**text == "child_of")
            });
            references.push(json!({
                "refType": if child_of { "CHILD_OF" } else { "FOLLOWS_FROM" },
                "traceID": hex(&link.trace_id.0),
                "spanID": hex(&link.span_id.0),
                "tags": tags_json(&link.attributes),
            }));
        }
        let mut tags = Vec::new();
        if let Some(scope) = trace.scopes.get(span.scope_idx as usize) {
            if !scope.name.is_empty() {
                tags.push(tag_json(
                    "otel.scope.name",
                    &AttributeValue::String(scope.name.clone()),
                ));
            }
            if !scope.version.is_empty() {
                tags.push(tag_json(
                    "otel.scope.version",
                    &AttributeValue::string(&scope.version),
                ));
            }
        }
        tags.extend(tags_json(&span.attributes));
        if span.kind != SpanKind::Unspecified {
            tags.push(tag_json(
                "span.kind",
                &AttributeValue::string(span.kind.as_str()),
            ));
        }
        match &span.status {
            Status::Unset => {}
            Status::Ok => tags.push(tag_json("otel.status_code", &AttributeValue::string("OK"))),
            Status::Error { message } => {
                tags.push(tag_json(
                    "otel.status_code",
                    &AttributeValue::string("ERROR"),
                ));
                tags.push(tag_json("error", &AttributeValue::Bool(true)));
                if !message.is_empty() {
                    tags.push(tag_json(
                        "otel.status_description",
                        &AttributeValue::string(message),
                    ));
                }
            }
        }
        if !span.trace_state.is_empty() {
            tags.push(tag_json(
                "w3c.tracestate",
                &AttributeValue::string(&span.trace_state),
            ));
        }
        let logs: Vec<Value> = span
            .events
            .iter()
            .map(|event| {
                let mut fields = vec![tag_json(
                    "event",
                    &AttributeValue::String(event.name.clone()),
                )];
                fields.extend(tags_json(&event.attributes));
                json!({ "timestamp": event.time_unix_nanos / 1000, "fields": fields })
            })
            .collect();
        let start_micros = span.start_unix_nanos / 1000;
        json!({
            "traceID": hex(&span.trace_id.0),
            "spanID": hex(&span.span_id.0),
            "operationName": &*span.name,
            "references": references,
            "flags": span.trace_flags & Span::SAMPLED,
            "startTime": start_micros,
            "duration": span.clamped_end_unix_nanos().saturating_sub(span.start_unix_nanos) / 1000,
            "tags": tags,
            "logs": logs,
            "processID": process_id,
            "warnings": null,
        })
    }

    pub fn jaeger(trace: &Trace) -> String {
        let mut order: Vec<TraceId> = Vec::new();
        let mut spans_of: HashMap<TraceId, Vec<&Span>> = HashMap::new();
        for span in &trace.spans {
            spans_of
                .entry(span.trace_id)
                .or_insert_with(|| {
                    order.push(span.trace_id);
                    Vec::new()
                })
                .push(span);
        }
        let process_id = |resource_idx: u32| format!("p{}", resource_idx as u64 + 1);
        let data: Vec<Value> = order
            .iter()
            .map(|trace_id| {
                let spans = &spans_of[trace_id];
                let mut processes = Map::new();
                for span in spans {
                    let id = process_id(span.resource_idx);
                    if processes.contains_key(&id) {
                        continue;
                    }
                    let resource = trace.resources.get(span.resource_idx as usize);
                    let service_name = resource.map(|resource| &*resource.service_name).unwrap_or("");
                    let tags: Vec<Value> = resource
                        .map(|resource| {
                            resource
                                .attributes
                                .iter()
                                .filter(|kv| &*kv.key != "service.name")
                                .map(|kv| tag_json(&kv.key, &kv.value))
                                .collect()
                        })
                        .unwrap_or_default();
                    processes.insert(id, json!({ "serviceName": service_name, "tags": tags }));
                }
                json!({
                    "traceID": hex(&trace_id.0),
                    "spans": spans.iter().map(|span| jaeger_span(trace, span, &process_id(span.resource_idx))).collect::<Vec<_>>(),
                    "processes": processes,
                    "warnings": null,
                })
            })
            .collect();
        json!({ "data": data, "total": 0, "limit": 0, "offset": 0, "errors": null }).to_string()
    }

    // --- Zipkin -----------------------------------------------------------

    fn json_text(value: &AttributeValue, out: &mut String) {
        enum Step<'a> {
            Value(&'a AttributeValue),
            Text(&'static str),
        }
        let mut stack = vec![Step::Value(value)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Text(text) => out.push_str(text),
                Step::Value(AttributeValue::String(text)) => {
                    out.push_str(&json!(&**text).to_string())
                }
                Step::Value(AttributeValue::Bool(flag)) => out.push_str(&flag.to_string()),
                Step::Value(AttributeValue::Int(number)) => out.push_str(&number.to_string()),
                Step::Value(AttributeValue::Double(number)) => {
                    match serde_json::Number::from_f64(*number) {
                        Some(number) => out.push_str(&number.to_string()),
                        None => out.push_str(&json!(number.to_string()).to_string()),
                    }
                }
                Step::Value(AttributeValue::Bytes(bytes)) => {
                    out.push_str(&json!(base64(bytes)).to_string())
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

    pub fn zipkin(trace: &Trace) -> String {
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
}

// ---------------------------------------------------------------------------
// The comparison.

fn assert_same_bytes(trace: &Trace) {
    assert_eq!(
        to_otlp_json(trace),
        reference::otlp(trace).to_string(),
        "OTLP JSON"
    );
    assert_eq!(
        to_jaeger_json(trace),
        reference::jaeger(trace),
        "Jaeger JSON"
    );
    assert_eq!(
        to_zipkin_json(trace),
        reference::zipkin(trace),
        "Zipkin JSON"
    );
    assert_eq!(to_api_v3_json(trace), reference::api_v3(trace), "api_v3");
    assert_eq!(to_tempo_json(trace), reference::tempo(trace), "Tempo");
    let traces = [trace.clone(), trace.clone()];
    assert_eq!(
        to_otlp_json_lines(&traces),
        reference::otlp_lines(&traces),
        "OTLP lines"
    );
}

/// Arrays `depth` levels deep around `inner`, a string beside each level.
fn nested(depth: usize, inner: AttributeValue) -> AttributeValue {
    let mut value = inner;
    for level in 0..depth {
        value = AttributeValue::Array(Box::new([value, AttributeValue::Int(level as i64)]));
    }
    value
}

/// One trace with every corner the writers have: values of every type and
/// text needing escapes, arrays nested past `MAX_VALUE_DEPTH`, doubles
/// JSON cannot hold, repeated keys and reserved keys among the attributes,
/// two trace ids, follows-from parents, spans whose resource or scope is
/// out of range, empty names, and twelve resources (processes `p1`, `p10`,
/// `p11`, `p12`, `p2`, … in Jaeger's map order).
fn corner_cases() -> Trace {
    let strings = [
        "",
        "plain",
        "é ü ß 漢字 🎉",
        "quote \" backslash \\ slash /",
        "control \u{0}\u{1}\u{1f} tab\t newline\n return\r \u{7f} \u{2028}",
    ];
    let mut values: Vec<AttributeValue> = strings
        .iter()
        .map(|text| AttributeValue::string(text))
        .collect();
    values.extend([
        AttributeValue::Bool(true),
        AttributeValue::Bool(false),
        AttributeValue::Int(0),
        AttributeValue::Int(i64::MIN),
        AttributeValue::Int(i64::MAX),
        AttributeValue::Double(0.0),
        AttributeValue::Double(-0.0),
        AttributeValue::Double(1.5),
        AttributeValue::Double(1e300),
        AttributeValue::Double(-2.5e-300),
        AttributeValue::Double(f64::MIN_POSITIVE),
        AttributeValue::Double(123456789.0),
        AttributeValue::Double(0.1 + 0.2),
        AttributeValue::Double(f64::NAN),
        AttributeValue::Double(f64::INFINITY),
        AttributeValue::Double(f64::NEG_INFINITY),
        AttributeValue::Bytes(Box::new([])),
        AttributeValue::Bytes(Box::new([0])),
        AttributeValue::Bytes(Box::new([0, 255])),
        AttributeValue::Bytes(Box::new([1, 2, 3, 4, 250])),
        AttributeValue::Array(Box::new([])),
        AttributeValue::Array(Box::new([AttributeValue::Array(Box::new([]))])),
    ]);
    let scalars = values.clone();
    values.push(AttributeValue::Array(scalars.clone().into_boxed_slice()));
    values.push(AttributeValue::Array(Box::new([
        AttributeValue::Array(scalars.clone().into_boxed_slice()),
        AttributeValue::string("x"),
    ])));
    for depth in [
        MAX_VALUE_DEPTH - 1,
        MAX_VALUE_DEPTH,
        MAX_VALUE_DEPTH + 1,
        MAX_VALUE_DEPTH + 7,
    ] {
        values.push(nested(depth, AttributeValue::string("in\"ner")));
        values.push(nested(depth, AttributeValue::Double(f64::NAN)));
    }
    let attributes = |prefix: &str| -> Vec<KeyValue> {
        values
            .iter()
            .enumerate()
            .map(|(idx, value)| KeyValue::new(format!("{prefix}{idx} \"ké\u{1}y\""), value.clone()))
            .collect()
    };
    let mut span_attributes = attributes("attr.");
    // Repeated keys, and keys the formats use for their own tags.
    for (key, value) in [
        ("dup", AttributeValue::string("first")),
        ("dup", AttributeValue::Int(2)),
        ("error", AttributeValue::string("attribute")),
        ("otel.status_code", AttributeValue::string("attribute")),
        ("otel.scope.name", AttributeValue::Bool(false)),
        ("span.kind", AttributeValue::string("attribute")),
        ("", AttributeValue::string("empty key")),
        ("Z", AttributeValue::string("upper")),
        ("é", AttributeValue::string("non-ASCII key")),
    ] {
        span_attributes.push(KeyValue::new(key, value));
    }

    let mut resources: Vec<Resource> = (0..12)
        .map(|idx| Resource {
            service_name: Arc::from(format!("service-{idx} ü").as_str()),
            attributes: vec![
                KeyValue::new("host.name", AttributeValue::string("h\"ost")),
                KeyValue::new("service.name", AttributeValue::string("repeated")),
                KeyValue::new("count", AttributeValue::Int(idx)),
                KeyValue::new(
                    "list",
                    AttributeValue::Array(Box::new([AttributeValue::Double(f64::INFINITY)])),
                ),
            ],
        })
        .collect();
    // A resource without `service.name` among its attributes, one with no
    // service name, one with neither.
    resources[1]
        .attributes
        .retain(|kv| &*kv.key != "service.name");
    resources[2].service_name = Arc::from("");
    resources[3].service_name = Arc::from("");
    resources[3].attributes.clear();
    let scopes = vec![
        Scope {
            name: Arc::from("lib \"a\""),
            version: Box::from("1.0"),
            attributes: attributes("scope."),
        },
        Scope {
            name: Arc::from(""),
            version: Box::from(""),
            attributes: Vec::new(),
        },
        Scope {
            name: Arc::from("only-name"),
            version: Box::from(""),
            attributes: Vec::new(),
        },
        Scope {
            name: Arc::from(""),
            version: Box::from("only-version"),
            attributes: Vec::new(),
        },
    ];

    let trace_ids = [TraceId([0xab; 16]), TraceId([0x01; 16])];
    let kinds = [
        SpanKind::Unspecified,
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ];
    let statuses = [
        Status::Unset,
        Status::Ok,
        Status::Error {
            message: Box::from(""),
        },
        Status::Error {
            message: Box::from("bo\"om é\n"),
        },
    ];
    let mut spans = Vec::new();
    for idx in 0..60u64 {
        let parent = match idx % 5 {
            0 => None,
            1 => Some(SpanId([0; 8])),
            _ => Some(SpanId::from_u64(idx / 2 + 1)),
        };
        let start = 1_700_000_000_123_456_789 + idx * 1_234_567;
        let end = if idx % 7 == 3 {
            start - 5_000
        } else {
            start + idx * 999_999
        };
        let mut span = Span::new(
            trace_ids[(idx % 3 == 0) as usize],
            SpanId::from_u64(idx + 1),
            parent,
            ["GET /a\"b", "", "späne 漢字", "\u{1}ctl"][idx as usize % 4],
            start,
            end,
        );
        if idx % 4 == 2 {
            span.parent_relation = ParentRelation::FollowsFrom;
        }
        span.kind = kinds[idx as usize % kinds.len()];
        span.status = statuses[idx as usize % statuses.len()].clone();
        span.trace_state = if idx % 3 == 1 {
            Box::from("vendor=v\"alue")
        } else {
            Box::from("")
        };
        span.trace_flags = (idx % 4) as u8 * 0x41;
        span.resource_idx = match idx {
            13 => 99,
            _ => (idx * 5 % 12) as u32,
        };
        span.scope_idx = match idx {
            17 => 40,
            _ => (idx % 4) as u32,
        };
        if idx % 2 == 0 {
            span.attributes = span_attributes.clone();
        } else {
            span.attributes = vec![KeyValue::new(
                "only",
                values[(idx as usize) % values.len()].clone(),
            )];
        }
        if idx % 3 != 2 {
            span.events = vec![
                Event {
                    time_unix_nanos: start + 1_999,
                    name: Arc::from("exception"),
                    attributes: attributes("event."),
                },
                Event {
                    time_unix_nanos: start + 5,
                    name: Arc::from("plain \"é\""),
                    attributes: Vec::new(),
                },
                Event {
                    time_unix_nanos: start,
                    name: Arc::from(""),
                    attributes: vec![
                        KeyValue::new("k", AttributeValue::Int(1)),
                        KeyValue::new("k", AttributeValue::Int(2)),
                    ],
                },
            ];
        }
        if idx % 4 != 1 {
            span.links = vec![
                Link {
                    trace_id: trace_ids[1],
                    span_id: SpanId::from_u64(3),
                    attributes: attributes("link."),
                },
                Link {
                    trace_id: TraceId([0xfe; 16]),
                    span_id: SpanId([0x10; 8]),
                    attributes: Vec::new(),
                },
            ];
        }
        spans.push(span);
    }
    Trace {
        spans,
        resources,
        scopes,
    }
}

#[test]
fn generated_traces_are_written_as_the_reference_writes_them() {
    for (n_spans, seed) in [(1, 1), (50, 18), (3_000, 7)] {
        assert_same_bytes(&tracelab_trace::generate(n_spans, seed));
    }
}

#[test]
fn every_corner_is_written_as_the_reference_writes_it() {
    assert_same_bytes(&corner_cases());
    assert_same_bytes(&Trace::default());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_traces_are_written_as_the_reference_writes_them(
        otlp in support::trace(support::OTLP),
        jaeger in support::trace(support::JAEGER),
    ) {
        assert_same_bytes(&otlp);
        assert_same_bytes(&jaeger);
    }
}
