//! OTLP JSON, as the OTLP specification maps the protobuf to JSON: fields in
//! lowerCamelCase (the proto names are taken too), ids in hex of any case,
//! 64-bit integers as strings or numbers, enums as integers or names,
//! unknown fields ignored. Also the envelopes around it: Jaeger api_v3's
//! `{"result": …}` and Tempo's `{"batches": […]}`, whose ids are base64.
//!
//! OTLP has only child-of parents. A follows-from parent is written as
//! OpenTelemetry's OpenTracing compatibility says: an extra link to the
//! parent whose only attribute is `opentracing.ref_type: follows_from`;
//! reading takes such a link back out as the relation.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tracelab_trace::model::{
    AttributeValue, Event, KeyValue, Link, ParentRelation, Resource, Scope, Span, SpanKind, Status,
    Trace,
};

use crate::base64;
use crate::path::Path;
use crate::read::{
    self, array, describe, get, get_any, object, string, u64_field, FieldError, IdText, Problems,
};
use crate::{Dropped, MAX_VALUE_DEPTH};
use tracelab_trace::group::TraceGrouper;

/// One `ExportTraceServiceRequest`: `{"resourceSpans": […]}`.
pub(crate) fn read_request(
    value: &Value,
    path: &Path,
    builder: &mut TraceGrouper,
    problems: &mut Problems,
) {
    read_envelope(
        value,
        path,
        &["resourceSpans", "resource_spans"],
        IdText::Exact,
        builder,
        problems,
    );
}

/// Jaeger api_v3: `{"result": {"resourceSpans": […]}}`.
pub(crate) fn read_api_v3(
    value: &Value,
    path: &Path,
    builder: &mut TraceGrouper,
    problems: &mut Problems,
) {
    let result = match object(value, path) {
        Ok(top) => match get(top, "result") {
            Some(result) => result,
            None => {
                // api_v3 answers an error as `{"error": {…}}`.
                let message = match get(top, "error") {
                    Some(error) => format!("no result; the answer is an error: {error}"),
                    None => "no result".to_string(),
                };
                return problems.at(&path.field("result"), message, Dropped::Batch);
            }
        },
        Err(error) => return problems.push(error, Dropped::Batch),
    };
    let result_path = path.field("result");
    read_envelope(
        result,
        &result_path,
        &["resourceSpans", "resource_spans"],
        IdText::Exact,
        builder,
        problems,
    );
}

/// Tempo: `{"batches": [ResourceSpans, …]}`, ids in base64.
pub(crate) fn read_tempo(
    value: &Value,
    path: &Path,
    builder: &mut TraceGrouper,
    problems: &mut Problems,
) {
    read_envelope(value, path, &["batches"], IdText::Base64, builder, problems);
}

fn read_envelope(
    value: &Value,
    path: &Path,
    names: &[&str],
    how: IdText,
    builder: &mut TraceGrouper,
    problems: &mut Problems,
) {
    let top = match object(value, path) {
        Ok(top) => top,
        Err(error) => return problems.push(error, Dropped::Batch),
    };
    let Some((name, list)) = get_any(top, names) else {
        return problems.at(path, format!("no {} field", names[0]), Dropped::Batch);
    };
    let list_path = path.field(name);
    let Value::Array(items) = list else {
        return problems.at(
            &list_path,
            format!("expected an array, found {}", describe(list)),
            Dropped::Batch,
        );
    };
    for (index, item) in items.iter().enumerate() {
        let item_path = list_path.index(index);
        if let Err(error) = read_resource_spans(item, &item_path, how, builder, problems) {
            problems.push(error, Dropped::Batch);
        }
    }
}

fn read_resource_spans(
    value: &Value,
    path: &Path,
    how: IdText,
    builder: &mut TraceGrouper,
    problems: &mut Problems,
) -> Result<(), FieldError> {
    let resource_spans = object(value, path)?;
    let mut attributes = Vec::new();
    if let Some(resource) = get(resource_spans, "resource") {
        let resource_path = path.field("resource");
        let resource = object(resource, &resource_path)?;
        read_attributes(
            array(resource, "attributes", &resource_path)?,
            &resource_path.field("attributes"),
            &mut attributes,
            problems,
        );
    }
    let service_name = match attributes
        .iter()
        .find(|attribute| &*attribute.key == "service.name")
    {
        Some(KeyValue {
            value: AttributeValue::String(name),
            ..
        }) => name.clone(),
        _ => Arc::from(""),
    };
    let resource_idx = builder.resource(Resource {
        service_name,
        attributes,
    });
    // `instrumentationLibrarySpans` is what OTLP called scopes before 0.15;
    // older Tempo and Jaeger versions still write it.
    let Some((scopes_name, scopes)) = get_any(
        resource_spans,
        &["scopeSpans", "scope_spans", "instrumentationLibrarySpans"],
    ) else {
        return Ok(());
    };
    let scopes_path = path.field(scopes_name);
    let Value::Array(scopes) = scopes else {
        return Err(FieldError::new(
            &scopes_path,
            format!("expected an array, found {}", describe(scopes)),
        ));
    };
    for (scope_index, scope_spans) in scopes.iter().enumerate() {
        let scope_path = scopes_path.index(scope_index);
        if let Err(error) = read_scope_spans(
            scope_spans,
            &scope_path,
            resource_idx,
            how,
            builder,
            problems,
        ) {
            problems.push(error, Dropped::Batch);
        }
    }
    Ok(())
}

fn read_scope_spans(
    value: &Value,
    path: &Path,
    resource_idx: u32,
    how: IdText,
    builder: &mut TraceGrouper,
    problems: &mut Problems,
) -> Result<(), FieldError> {
    let scope_spans = object(value, path)?;
    let mut scope = Scope {
        name: Arc::from(""),
        version: Box::from(""),
        attributes: Vec::new(),
    };
    if let Some((name, value)) = get_any(scope_spans, &["scope", "instrumentationLibrary"]) {
        let scope_path = path.field(name);
        let object = object(value, &scope_path)?;
        scope.name = Arc::from(string(object, "name", &scope_path)?);
        scope.version = Box::from(string(object, "version", &scope_path)?);
        read_attributes(
            array(object, "attributes", &scope_path)?,
            &scope_path.field("attributes"),
            &mut scope.attributes,
            problems,
        );
    }
    let scope_idx = builder.scope(scope);
    let spans_path = path.field("spans");
    for (span_index, span) in array(scope_spans, "spans", path)?.iter().enumerate() {
        let span_path = spans_path.index(span_index);
        match read_span(span, &span_path, how, problems) {
            Ok(mut span) => {
                span.resource_idx = resource_idx;
                span.scope_idx = scope_idx;
                builder.span(span);
            }
            Err(error) => problems.push(error, Dropped::Span),
        }
    }
    Ok(())
}

/// An OTLP enum: an integer, or its name (`SPAN_KIND_SERVER`), as the JSON
/// mapping allows both.
fn enum_value(value: &Value, names: &[&str], path: &Path) -> Result<u64, FieldError> {
    match value {
        Value::Number(number) => number.as_u64().ok_or_else(|| {
            FieldError::new(
                path,
                format!("expected an enum number, found {}", describe(value)),
            )
        }),
        Value::String(text) => names
            .iter()
            .position(|name| name == text)
            .map(|position| position as u64)
            .ok_or_else(|| {
                FieldError::new(
                    path,
                    format!("unknown name {text:?}, expected one of {names:?}"),
                )
            }),
        other => Err(FieldError::new(
            path,
            format!("expected an enum number or name, found {}", describe(other)),
        )),
    }
}

const KIND_NAMES: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const KINDS: [SpanKind; 6] = [
    SpanKind::Unspecified,
    SpanKind::Internal,
    SpanKind::Server,
    SpanKind::Client,
    SpanKind::Producer,
    SpanKind::Consumer,
];
const STATUS_NAMES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

fn read_span(
    value: &Value,
    path: &Path,
    how: IdText,
    problems: &mut Problems,
) -> Result<Span, FieldError> {
    let object = object(value, path)?;
    let trace_id = read::trace_id(object, "traceId", path, how)?;
    let span_id = read::span_id(object, "spanId", path, how)?;
    let parent_span_id = read::parent_span_id(object, "parentSpanId", path, how)?;
    let name = string(object, "name", path)?;
    let start = u64_field(object, "startTimeUnixNano", path)?;
    let end = u64_field(object, "endTimeUnixNano", path)?;
    let mut span = Span::new(trace_id, span_id, parent_span_id, name, start, end);
    span.kind = SpanKind::Unspecified;
    if let Some(kind) = get(object, "kind") {
        let kind_path = path.field("kind");
        match enum_value(kind, &KIND_NAMES, &kind_path) {
            Ok(number) => match KINDS.get(number as usize) {
                Some(kind) => span.kind = *kind,
                None => problems.at(
                    &kind_path,
                    format!("{number} is no span kind (0 to 5)"),
                    Dropped::Value,
                ),
            },
            Err(error) => problems.push(error, Dropped::Value),
        }
    }
    span.trace_state = Box::from(string(object, "traceState", path)?);
    // Absent flags are kept as "sampled": an exported span almost always
    // was, and OTLP before 1.1 had no flags field.
    if get(object, "flags").is_some() {
        span.trace_flags = (u64_field(object, "flags", path)? & 0xff) as u8;
    }
    if let Some(status) = get(object, "status") {
        let status_path = path.field("status");
        let status = read::object(status, &status_path)?;
        let code = match get(status, "code") {
            Some(code) => enum_value(code, &STATUS_NAMES, &status_path.field("code"))?,
            None => 0,
        };
        span.status = match code {
            0 => Status::Unset,
            1 => Status::Ok,
            2 => Status::Error {
                message: Box::from(string(status, "message", &status_path)?),
            },
            other => {
                problems.at(
                    &status_path.field("code"),
                    format!("{other} is no status code (0 to 2)"),
                    Dropped::Value,
                );
                Status::Unset
            }
        };
    }
    read_attributes(
        array(object, "attributes", path)?,
        &path.field("attributes"),
        &mut span.attributes,
        problems,
    );
    let events_path = path.field("events");
    for (index, event) in array(object, "events", path)?.iter().enumerate() {
        let event_path = events_path.index(index);
        match read_event(event, &event_path, problems) {
            Ok(event) => span.events.push(event),
            Err(error) => problems.push(error, Dropped::Event),
        }
    }
    let links_path = path.field("links");
    for (index, link) in array(object, "links", path)?.iter().enumerate() {
        let link_path = links_path.index(index);
        match read_link(link, &link_path, how, problems) {
            Ok(link) => span.links.push(link),
            Err(error) => problems.push(error, Dropped::Link),
        }
    }
    // A follows-from parent, as OpenTelemetry's OpenTracing compatibility
    // writes it: a link to the parent marked `opentracing.ref_type`.
    if let Some(parent) = span.parent_span_id {
        if let Some(position) = span.links.iter().rposition(|link| {
            link.trace_id == span.trace_id && link.span_id == parent && is_follows_from_marker(link)
        }) {
            span.links.remove(position);
            span.parent_relation = ParentRelation::FollowsFrom;
        }
    }
    Ok(span)
}

const REF_TYPE: &str = "opentracing.ref_type";

fn is_follows_from_marker(link: &Link) -> bool {
    matches!(
        link.attributes.as_slice(),
        [KeyValue { key, value: AttributeValue::String(value) }] if &**key == REF_TYPE && &**value == "follows_from"
    )
}

fn read_event(value: &Value, path: &Path, problems: &mut Problems) -> Result<Event, FieldError> {
    let object = object(value, path)?;
    let mut event = Event {
        time_unix_nanos: u64_field(object, "timeUnixNano", path)?,
        name: Arc::from(string(object, "name", path)?),
        attributes: Vec::new(),
    };
    read_attributes(
        array(object, "attributes", path)?,
        &path.field("attributes"),
        &mut event.attributes,
        problems,
    );
    Ok(event)
}

fn read_link(
    value: &Value,
    path: &Path,
    how: IdText,
    problems: &mut Problems,
) -> Result<Link, FieldError> {
    let object = object(value, path)?;
    let mut link = Link {
        trace_id: read::trace_id(object, "traceId", path, how)?,
        span_id: read::span_id(object, "spanId", path, how)?,
        attributes: Vec::new(),
    };
    read_attributes(
        array(object, "attributes", path)?,
        &path.field("attributes"),
        &mut link.attributes,
        problems,
    );
    Ok(link)
}

/// A list of OTLP `KeyValue`s into `out`. A key-value list as a value is
/// flattened into dotted keys (`http.request.header` with `{"accept": …}`
/// becomes `http.request.header.accept`), since the model has no maps. A bad
/// attribute is left out with a problem; the others are kept.
pub(crate) fn read_attributes(
    list: &[Value],
    path: &Path,
    out: &mut Vec<KeyValue>,
    problems: &mut Problems,
) {
    // Key-value lists waiting to be flattened: their key prefix, their
    // entries, their path (written out, since it outlives this frame's
    // borrowed `Path`) and how deep they sit. An explicit stack, not
    // recursion.
    struct Pending<'v> {
        prefix: String,
        entries: &'v [Value],
        path: Option<String>,
        depth: usize,
    }
    let mut pending = vec![Pending {
        prefix: String::new(),
        entries: list,
        path: None,
        depth: 0,
    }];
    while let Some(Pending {
        prefix,
        entries,
        path: written,
        depth,
    }) = pending.pop()
    {
        let base = match &written {
            Some(text) => Path::text(text),
            None => *path,
        };
        for (index, entry) in entries.iter().enumerate() {
            let here = base.index(index);
            let mut read_one = || -> Result<(), FieldError> {
                let entry_object = object(entry, &here)?;
                let key = string(entry_object, "key", &here)?;
                let key = if prefix.is_empty() {
                    key.to_string()
                } else {
                    format!("{prefix}.{key}")
                };
                let value_path = here.field("value");
                let Some(value) = get(entry_object, "value") else {
                    return Err(FieldError::new(
                        &value_path,
                        "missing: an attribute needs a value",
                    ));
                };
                match any_value(value, &value_path, depth)? {
                    Read::Value(value) => out.push(KeyValue::new(key, value)),
                    Read::KvList(entries) => {
                        if depth + 1 >= MAX_VALUE_DEPTH {
                            return Err(FieldError::new(
                                &value_path,
                                format!(
                                    "nested deeper than {MAX_VALUE_DEPTH} levels, tracelab's limit"
                                ),
                            ));
                        }
                        pending.push(Pending {
                            prefix: key,
                            entries,
                            path: Some(format!("{}.kvlistValue.values", value_path.render())),
                            depth: depth + 1,
                        });
                    }
                }
                Ok(())
            };
            if let Err(error) = read_one() {
                problems.push(error, Dropped::Attribute);
            }
        }
    }
}

/// What an `AnyValue` held: a value for the model, or a key-value list
/// still to flatten.
enum Read<'v> {
    Value(AttributeValue),
    KvList(&'v [Value]),
}

/// One level of an `AnyValue`, without descending into arrays.
enum Level<'v> {
    Scalar(AttributeValue),
    Array(&'v [Value]),
    KvList(&'v [Value]),
}

fn level<'v>(value: &'v Value, path: &dyn Fn() -> String) -> Result<Level<'v>, FieldError> {
    let error = |message: String| FieldError {
        path: path(),
        message,
    };
    let Value::Object(object) = value else {
        return Err(error(format!(
            "expected an AnyValue object, found {}",
            describe(value)
        )));
    };
    if let Some((_, value)) = get_any(object, &["stringValue", "string_value"]) {
        return match value {
            Value::String(text) => Ok(Level::Scalar(AttributeValue::String(Arc::from(
                text.as_str(),
            )))),
            other => Err(error(format!(
                "stringValue: expected a string, found {}",
                describe(other)
            ))),
        };
    }
    if let Some((_, value)) = get_any(object, &["boolValue", "bool_value"]) {
        return match value {
            Value::Bool(flag) => Ok(Level::Scalar(AttributeValue::Bool(*flag))),
            other => Err(error(format!(
                "boolValue: expected true or false, found {}",
                describe(other)
            ))),
        };
    }
    if let Some((_, value)) = get_any(object, &["intValue", "int_value"]) {
        let parsed = match value {
            Value::Number(number) => number.as_i64(),
            Value::String(text) => text.parse::<i64>().ok(),
            _ => None,
        };
        return parsed.map(|int| Level::Scalar(AttributeValue::Int(int))).ok_or_else(|| {
            error(format!("intValue: expected a signed 64-bit integer (a number or a decimal string), found {}", describe(value)))
        });
    }
    if let Some((_, value)) = get_any(object, &["doubleValue", "double_value"]) {
        // The JSON mapping spells the non-finite doubles as strings.
        let parsed = match value {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => match text.as_str() {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                other => other.parse::<f64>().ok(),
            },
            _ => None,
        };
        return parsed
            .map(|double| Level::Scalar(AttributeValue::Double(double)))
            .ok_or_else(|| {
                error(format!(
                    "doubleValue: expected a number, found {}",
                    describe(value)
                ))
            });
    }
    if let Some((_, value)) = get_any(object, &["bytesValue", "bytes_value"]) {
        return match value {
            Value::String(text) => base64::decode(text)
                .map(|bytes| Level::Scalar(AttributeValue::Bytes(bytes.into_boxed_slice())))
                .map_err(|message| error(format!("bytesValue: {message}"))),
            other => Err(error(format!(
                "bytesValue: expected a base64 string, found {}",
                describe(other)
            ))),
        };
    }
    for (names, is_array) in [
        (["arrayValue", "array_value"], true),
        (["kvlistValue", "kvlist_value"], false),
    ] {
        if let Some((name, value)) = get_any(object, &names) {
            let Value::Object(inner) = value else {
                return Err(error(format!(
                    "{name}: expected an object, found {}",
                    describe(value)
                )));
            };
            let values: &[Value] = match get(inner, "values") {
                None => &[],
                Some(Value::Array(values)) => values,
                Some(other) => {
                    return Err(error(format!(
                        "{name}.values: expected an array, found {}",
                        describe(other)
                    )))
                }
            };
            return Ok(if is_array {
                Level::Array(values)
            } else {
                Level::KvList(values)
            });
        }
    }
    Err(error(
        "no value: expected one of stringValue, boolValue, intValue, doubleValue, bytesValue, arrayValue, kvlistValue".to_string(),
    ))
}

/// An `AnyValue`, arrays read with an explicit stack and at most
/// [`MAX_VALUE_DEPTH`] deep (counting `depth` levels already above it).
/// A key-value list inside an array cannot be flattened into keys, so it is
/// kept as its JSON text.
fn any_value<'v>(value: &'v Value, path: &Path, depth: usize) -> Result<Read<'v>, FieldError> {
    struct Frame<'v> {
        items: &'v [Value],
        next: usize,
        done: Vec<AttributeValue>,
    }
    // The path of the item being read, written only for an error.
    fn item_path(base: &Path, stack: &[Frame<'_>]) -> String {
        let mut text = base.render();
        for frame in stack {
            text.push_str(&format!(
                ".arrayValue.values[{}]",
                frame.next.saturating_sub(1)
            ));
        }
        text
    }
    let root_path = || path.render();
    let items = match level(value, &root_path)? {
        Level::Scalar(value) => return Ok(Read::Value(value)),
        Level::KvList(entries) => return Ok(Read::KvList(entries)),
        Level::Array(items) => items,
    };
    let too_deep = |at: String| FieldError {
        path: at,
        message: format!("nested deeper than {MAX_VALUE_DEPTH} levels, tracelab's limit"),
    };
    if depth + 1 > MAX_VALUE_DEPTH {
        return Err(too_deep(path.render()));
    }
    let mut stack = vec![Frame {
        items,
        next: 0,
        done: Vec::with_capacity(items.len()),
    }];
    loop {
        let Some(top) = stack.last_mut() else {
            // Unreachable: the loop returns when it pops the last frame.
            return Ok(Read::Value(AttributeValue::Array(Box::new([]))));
        };
        if top.next == top.items.len() {
            let done = std::mem::take(&mut top.done);
            stack.pop();
            let array = AttributeValue::Array(done.into_boxed_slice());
            match stack.last_mut() {
                Some(parent) => parent.done.push(array),
                None => return Ok(Read::Value(array)),
            }
            continue;
        }
        let item = &top.items[top.next];
        top.next += 1;
        let here = || item_path(path, &stack);
        match level(item, &here)? {
            Level::Scalar(value) => {
                if let Some(top) = stack.last_mut() {
                    top.done.push(value);
                }
            }
            Level::KvList(_) => {
                let text = AttributeValue::String(Arc::from(item.to_string()));
                if let Some(top) = stack.last_mut() {
                    top.done.push(text);
                }
            }
            Level::Array(items) => {
                if depth + stack.len() + 1 > MAX_VALUE_DEPTH {
                    return Err(too_deep(item_path(path, &stack)));
                }
                stack.push(Frame {
                    items,
                    next: 0,
                    done: Vec::with_capacity(items.len()),
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Export

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// A model value as an OTLP `AnyValue`, built with an explicit stack; arrays
/// deeper than [`MAX_VALUE_DEPTH`] are written as their text (the model may
/// hold any depth; the JSON writer recurses, so the output must not).
pub(crate) fn any_value_json(value: &AttributeValue) -> Value {
    // Each frame: the array's items, how many are written, what is written.
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
            AttributeValue::Bytes(bytes) => json!({ "bytesValue": base64::encode(bytes) }),
            AttributeValue::Array(_) => json!({ "stringValue": value.to_string() }),
        }
    }
    let AttributeValue::Array(items) = value else {
        return scalar(value);
    };
    let mut stack = vec![Frame {
        items,
        next: 0,
        done: Vec::with_capacity(items.len()),
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
                    done: Vec::with_capacity(items.len()),
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

pub(crate) fn attributes_json(attributes: &[KeyValue]) -> Value {
    Value::Array(
        attributes
            .iter()
            .map(|attribute| json!({ "key": &*attribute.key, "value": any_value_json(&attribute.value) }))
            .collect(),
    )
}

fn span_json(span: &Span) -> Value {
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
    let links: Vec<Value> = span
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
    let mut links = links;
    if let (Some(parent), ParentRelation::FollowsFrom) = (span.parent_span_id, span.parent_relation)
    {
        // OTLP has only child-of; OpenTelemetry's OpenTracing compatibility
        // says a follows-from reference is a link with this attribute.
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

/// The trace as one OTLP JSON `ExportTraceServiceRequest`, as the OTLP
/// specification maps it: ids in lowercase hex, 64-bit integers as strings,
/// enums as integers; one `resourceSpans` per resource, one `scopeSpans` per
/// scope, spans in the trace's order within each. A span whose resource or
/// scope index is out of range is written under an empty resource or scope.
pub fn to_otlp_json(trace: &Trace) -> String {
    to_otlp_value(trace).to_string()
}

pub(crate) fn to_otlp_value(trace: &Trace) -> Value {
    // Group span indices by (resource, scope), in order of first appearance.
    let mut groups: Vec<((u32, u32), Vec<usize>)> = Vec::new();
    let mut group_of: std::collections::HashMap<(u32, u32), usize> =
        std::collections::HashMap::new();
    for (span_idx, span) in trace.spans.iter().enumerate() {
        let key = (span.resource_idx, span.scope_idx);
        let group = *group_of.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[group].1.push(span_idx);
    }
    let mut resource_spans: Vec<Value> = Vec::new();
    let mut resource_slot: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for ((resource_idx, scope_idx), span_indices) in groups {
        let slot = *resource_slot.entry(resource_idx).or_insert_with(|| {
            let mut attributes = Vec::new();
            if let Some(resource) = trace.resources.get(resource_idx as usize) {
                attributes = resource.attributes.clone();
                // The model pulls `service.name` out; put it back if the
                // attributes lack it.
                if !resource.service_name.is_empty()
                    && !attributes
                        .iter()
                        .any(|attribute| &*attribute.key == "service.name")
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
            .map(|&span_idx| span_json(&trace.spans[span_idx]))
            .collect();
        if let Some(Value::Array(scope_spans)) = resource_spans[slot].get_mut("scopeSpans") {
            scope_spans.push(json!({ "scope": scope, "spans": spans }));
        }
    }
    json!({ "resourceSpans": resource_spans })
}
