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

use serde_json::Value;
use tracelab_trace::group::TraceGrouper;
use tracelab_trace::model::{
    AttributeValue, Event, KeyValue, Link, ParentRelation, Resource, Scope, Span, SpanKind, Status,
};

use crate::base64;
use crate::path::Path;
use crate::raw::{self, Aliased, Field, Found, List, Scalar};
use crate::read::{
    self, array, found, object, optional_object, string, u64_field, FieldError, IdText, Reader,
};
use crate::{Dropped, MAX_VALUE_DEPTH};

/// One `ExportTraceServiceRequest`: `{"resourceSpans": […]}`.
pub(crate) fn read_request(
    request: &Field<'_, raw::OtlpRequest<'_>>,
    path: &Path,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) {
    match object(request, path) {
        Ok(request) => read_envelope(
            &request.resource_spans,
            "resourceSpans",
            path,
            IdText::Exact,
            builder,
            reader,
        ),
        Err(error) => reader.problems.push(error, Dropped::Batch),
    }
}

/// Jaeger api_v3: `{"result": {"resourceSpans": […]}}`.
pub(crate) fn read_api_v3(
    answer: &Field<'_, raw::ApiV3<'_>>,
    path: &Path,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) {
    let answer = match object(answer, path) {
        Ok(answer) => answer,
        Err(error) => return reader.problems.push(error, Dropped::Batch),
    };
    let result_path = path.field("result");
    if answer.result.is_absent() {
        // api_v3 answers an error as `{"error": {"message": …}}`.
        let message = match &answer.error {
            Field::Absent => "no result".to_string(),
            Field::Ok(raw::ApiError {
                message: Field::Ok(Found::Str(message)),
                ..
            }) => format!("no result; the answer is an error: {message}"),
            Field::Ok(_) => "no result; the answer is an error".to_string(),
            Field::Bad(found) => format!("no result; the answer is an error: {}", found.describe()),
        };
        return reader.problems.at(&result_path, message, Dropped::Batch);
    }
    match object(&answer.result, &result_path) {
        Ok(request) => read_envelope(
            &request.resource_spans,
            "resourceSpans",
            &result_path,
            IdText::Exact,
            builder,
            reader,
        ),
        Err(error) => reader.problems.push(error, Dropped::Batch),
    }
}

/// Tempo: `{"batches": [ResourceSpans, …]}`, ids in base64.
pub(crate) fn read_tempo(
    trace: &Field<'_, raw::Tempo<'_>>,
    path: &Path,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) {
    match object(trace, path) {
        Ok(trace) => read_envelope(
            &trace.resource_spans,
            "batches",
            path,
            IdText::Base64,
            builder,
            reader,
        ),
        Err(error) => reader.problems.push(error, Dropped::Batch),
    }
}

fn read_envelope(
    list: &Aliased<'_, List<'_, raw::ResourceSpans<'_>>>,
    first_name: &str,
    path: &Path,
    how: IdText,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) {
    if list.value.is_absent() {
        return reader
            .problems
            .at(path, format!("no {first_name} field"), Dropped::Batch);
    }
    let items = match array(&list.value, list.name, path) {
        Ok(items) => items,
        Err(error) => return reader.problems.push(error, Dropped::Batch),
    };
    let list_path = path.field(list.name);
    for (index, item) in items.iter().enumerate() {
        let item_path = list_path.index(index);
        if let Err(error) = read_resource_spans(item, &item_path, how, builder, reader) {
            reader.problems.push(error, Dropped::Batch);
        }
    }
}

fn read_resource_spans(
    resource_spans: &Field<'_, raw::ResourceSpans<'_>>,
    path: &Path,
    how: IdText,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) -> Result<(), FieldError> {
    let resource_spans = object(resource_spans, path)?;
    let mut attributes = Vec::new();
    if let Some(resource) = optional_object(&resource_spans.resource, "resource", path)? {
        let resource_path = path.field("resource");
        read_attributes(
            array(&resource.attributes, "attributes", &resource_path)?,
            &resource_path.field("attributes"),
            &mut attributes,
            reader,
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
    let scopes = &resource_spans.scope_spans;
    if scopes.value.is_absent() {
        return Ok(());
    }
    let scopes_path = path.field(scopes.name);
    let scopes = array(&scopes.value, scopes.name, path)?;
    for (scope_index, scope_spans) in scopes.iter().enumerate() {
        let scope_path = scopes_path.index(scope_index);
        if let Err(error) =
            read_scope_spans(scope_spans, &scope_path, resource_idx, how, builder, reader)
        {
            reader.problems.push(error, Dropped::Batch);
        }
    }
    Ok(())
}

fn read_scope_spans(
    scope_spans: &Field<'_, raw::ScopeSpans<'_>>,
    path: &Path,
    resource_idx: u32,
    how: IdText,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) -> Result<(), FieldError> {
    let scope_spans = object(scope_spans, path)?;
    let mut scope = Scope {
        name: Arc::from(""),
        version: Box::from(""),
        attributes: Vec::new(),
    };
    if !scope_spans.scope.value.is_absent() {
        let scope_path = path.field(scope_spans.scope.name);
        let object = object(&scope_spans.scope.value, &scope_path)?;
        scope.name = Arc::from(string(&object.name, "name", &scope_path)?);
        scope.version = Box::from(string(&object.version, "version", &scope_path)?);
        read_attributes(
            array(&object.attributes, "attributes", &scope_path)?,
            &scope_path.field("attributes"),
            &mut scope.attributes,
            reader,
        );
    }
    let scope_idx = builder.scope(scope);
    let spans_path = path.field("spans");
    for (span_index, span) in array(&scope_spans.spans, "spans", path)?.iter().enumerate() {
        let span_path = spans_path.index(span_index);
        match read_span(span, &span_path, how, reader) {
            Ok(mut span) => {
                span.resource_idx = resource_idx;
                span.scope_idx = scope_idx;
                builder.span(span);
            }
            Err(error) => reader.problems.push(error, Dropped::Span),
        }
    }
    Ok(())
}

/// An OTLP enum: an integer, or its name (`SPAN_KIND_SERVER`), as the JSON
/// mapping allows both.
fn enum_value(field: &Scalar<'_>, names: &[&str], path: &Path) -> Result<u64, FieldError> {
    match found(field) {
        None => Ok(0),
        Some(Found::U64(number)) => Ok(*number),
        Some(Found::Str(text)) => names
            .iter()
            .position(|name| name == text)
            .map(|position| position as u64)
            .ok_or_else(|| {
                FieldError::new(
                    path,
                    format!("unknown name {text:?}, expected one of {names:?}"),
                )
            }),
        Some(other) if other.is_number() => Err(FieldError::new(
            path,
            format!("expected an enum number, found {}", other.describe()),
        )),
        Some(other) => Err(FieldError::new(
            path,
            format!(
                "expected an enum number or name, found {}",
                other.describe()
            ),
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
/// OTLP's `SpanKind` numbers, in order: what the reader and the writer
/// (`write::otlp`) both map.
pub(crate) const KINDS: [SpanKind; 6] = [
    SpanKind::Unspecified,
    SpanKind::Internal,
    SpanKind::Server,
    SpanKind::Client,
    SpanKind::Producer,
    SpanKind::Consumer,
];
const STATUS_NAMES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

fn read_span(
    span: &Field<'_, raw::OtlpSpan<'_>>,
    path: &Path,
    how: IdText,
    reader: &mut Reader,
) -> Result<Span, FieldError> {
    let object = object(span, path)?;
    let trace_id = read::trace_id(&object.trace_id, "traceId", path, how)?;
    let span_id = read::span_id(&object.span_id, "spanId", path, how)?;
    let parent_span_id = read::parent_span_id(&object.parent_span_id, "parentSpanId", path, how)?;
    let name = string(&object.name, "name", path)?;
    let start = u64_field(&object.start, "startTimeUnixNano", path)?;
    let end = u64_field(&object.end, "endTimeUnixNano", path)?;
    let name = reader.strings.get(name);
    let mut span = Span::new(trace_id, span_id, parent_span_id, name, start, end);
    span.kind = SpanKind::Unspecified;
    if !object.kind.is_absent() {
        let kind_path = path.field("kind");
        match enum_value(&object.kind, &KIND_NAMES, &kind_path) {
            Ok(number) => match KINDS.get(number as usize) {
                Some(kind) => span.kind = *kind,
                None => reader.problems.at(
                    &kind_path,
                    format!("{number} is no span kind (0 to 5)"),
                    Dropped::Value,
                ),
            },
            Err(error) => reader.problems.push(error, Dropped::Value),
        }
    }
    span.trace_state = Box::from(string(&object.trace_state, "traceState", path)?);
    // Absent flags are kept as "sampled": an exported span almost always
    // was, and OTLP before 1.1 had no flags field.
    if !object.flags.is_absent() {
        span.trace_flags = (u64_field(&object.flags, "flags", path)? & 0xff) as u8;
    }
    if let Some(status) = optional_object(&object.status, "status", path)? {
        let status_path = path.field("status");
        let code = enum_value(&status.code, &STATUS_NAMES, &status_path.field("code"))?;
        span.status = match code {
            0 => Status::Unset,
            1 => Status::Ok,
            2 => Status::Error {
                message: Box::from(string(&status.message, "message", &status_path)?),
            },
            other => {
                reader.problems.at(
                    &status_path.field("code"),
                    format!("{other} is no status code (0 to 2)"),
                    Dropped::Value,
                );
                Status::Unset
            }
        };
    }
    read_attributes(
        array(&object.attributes, "attributes", path)?,
        &path.field("attributes"),
        &mut span.attributes,
        reader,
    );
    let events_path = path.field("events");
    let events = array(&object.events, "events", path)?;
    span.events.reserve_exact(events.len());
    for (index, event) in events.iter().enumerate() {
        let event_path = events_path.index(index);
        match read_event(event, &event_path, reader) {
            Ok(event) => span.events.push(event),
            Err(error) => reader.problems.push(error, Dropped::Event),
        }
    }
    let links_path = path.field("links");
    for (index, link) in array(&object.links, "links", path)?.iter().enumerate() {
        let link_path = links_path.index(index);
        match read_link(link, &link_path, how, reader) {
            Ok(link) => span.links.push(link),
            Err(error) => reader.problems.push(error, Dropped::Link),
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

fn read_event(
    event: &Field<'_, raw::OtlpEvent<'_>>,
    path: &Path,
    reader: &mut Reader,
) -> Result<Event, FieldError> {
    let object = object(event, path)?;
    let mut event = Event {
        time_unix_nanos: u64_field(&object.time, "timeUnixNano", path)?,
        name: reader.strings.get(string(&object.name, "name", path)?),
        attributes: Vec::new(),
    };
    read_attributes(
        array(&object.attributes, "attributes", path)?,
        &path.field("attributes"),
        &mut event.attributes,
        reader,
    );
    Ok(event)
}

fn read_link(
    link: &Field<'_, raw::OtlpLink<'_>>,
    path: &Path,
    how: IdText,
    reader: &mut Reader,
) -> Result<Link, FieldError> {
    let object = object(link, path)?;
    let mut link = Link {
        trace_id: read::trace_id(&object.trace_id, "traceId", path, how)?,
        span_id: read::span_id(&object.span_id, "spanId", path, how)?,
        attributes: Vec::new(),
    };
    read_attributes(
        array(&object.attributes, "attributes", path)?,
        &path.field("attributes"),
        &mut link.attributes,
        reader,
    );
    Ok(link)
}

/// A list of OTLP `KeyValue`s into `out`. A key-value list as a value is
/// flattened into dotted keys (`http.request.header` with `{"accept": …}`
/// becomes `http.request.header.accept`), since the model has no maps. A bad
/// attribute is left out with a problem; the others are kept.
pub(crate) fn read_attributes(
    list: &[Field<'_, raw::KeyValue<'_>>],
    path: &Path,
    out: &mut Vec<KeyValue>,
    reader: &mut Reader,
) {
    // Key-value lists waiting to be flattened: their key prefix, their
    // entries, their path (written out, since it outlives this frame's
    // borrowed `Path`) and how deep they sit. An explicit stack, not
    // recursion.
    struct Pending<'a, 'de> {
        prefix: String,
        entries: &'a [Field<'de, raw::KeyValue<'de>>],
        path: Option<String>,
        depth: usize,
    }
    out.reserve_exact(list.len());
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
                let key = string(&entry_object.key, "key", &here)?;
                let value_path = here.field("value");
                if entry_object.value.is_absent() {
                    return Err(FieldError::new(
                        &value_path,
                        "missing: an attribute needs a value",
                    ));
                }
                match any_value(&entry_object.value, &value_path, depth)? {
                    Read::Value(value) => out.push(if prefix.is_empty() {
                        KeyValue::new(reader.strings.get(key), value)
                    } else {
                        KeyValue::new(format!("{prefix}.{key}"), value)
                    }),
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
                            prefix: if prefix.is_empty() {
                                key.to_string()
                            } else {
                                format!("{prefix}.{key}")
                            },
                            entries,
                            path: Some(format!("{}.kvlistValue.values", value_path.render())),
                            depth: depth + 1,
                        });
                    }
                }
                Ok(())
            };
            if let Err(error) = read_one() {
                reader.problems.push(error, Dropped::Attribute);
            }
        }
    }
}

/// What an `AnyValue` held: a value for the model, or a key-value list
/// still to flatten.
enum Read<'a, 'de> {
    Value(AttributeValue),
    KvList(&'a [Field<'de, raw::KeyValue<'de>>]),
}

/// One level of an `AnyValue`, without descending into arrays.
enum Level<'a, 'de> {
    Scalar(AttributeValue),
    Array(&'a [Field<'de, raw::AnyValue<'de>>]),
    KvList(&'a [Field<'de, raw::KeyValue<'de>>]),
}

fn level<'a, 'de>(
    value: &'a Field<'de, raw::AnyValue<'de>>,
    path: &dyn Fn() -> String,
) -> Result<Level<'a, 'de>, FieldError> {
    let error = |message: String| FieldError {
        path: path(),
        message,
    };
    let value = value.get().map_err(|found| {
        error(format!(
            "expected an AnyValue object, found {}",
            found.describe()
        ))
    })?;
    // Each typed field is present (absent ones are not kept), so `get`
    // fails only with what was found instead.
    let expected = |name: &str, what: &str, found: Found<'_>| {
        error(format!(
            "{name}: expected {what}, found {}",
            found.describe()
        ))
    };
    // A scalar field is present (absent ones are not kept): what it holds.
    let scalar = |field: &'a Scalar<'de>| found(field).cloned().unwrap_or(Found::Null);
    Ok(match value {
        raw::AnyValue::String(field) => match found(field) {
            Some(Found::Str(text)) => Level::Scalar(AttributeValue::String(Arc::from(&**text))),
            _ => return Err(expected("stringValue", "a string", scalar(field))),
        },
        raw::AnyValue::Bool(field) => match found(field).and_then(Found::as_bool) {
            Some(flag) => Level::Scalar(AttributeValue::Bool(flag)),
            None => return Err(expected("boolValue", "true or false", scalar(field))),
        },
        raw::AnyValue::Int(field) => match found(field).and_then(Found::as_i64) {
            Some(int) => Level::Scalar(AttributeValue::Int(int)),
            None => {
                return Err(expected(
                    "intValue",
                    "a signed 64-bit integer (a number or a decimal string)",
                    scalar(field),
                ))
            }
        },
        raw::AnyValue::Double(field) => match found(field).and_then(Found::as_f64) {
            Some(double) => Level::Scalar(AttributeValue::Double(double)),
            None => return Err(expected("doubleValue", "a number", scalar(field))),
        },
        raw::AnyValue::Bytes(field) => match found(field) {
            Some(Found::Str(text)) => Level::Scalar(AttributeValue::Bytes(
                base64::decode(text)
                    .map_err(|message| error(format!("bytesValue: {message}")))?
                    .into_boxed_slice(),
            )),
            _ => return Err(expected("bytesValue", "a base64 string", scalar(field))),
        },
        raw::AnyValue::Array(name, field) => {
            let inner = field
                .get()
                .map_err(|found| expected(name, "an object", found))?;
            match &inner.values {
                Field::Absent => Level::Array(&[]),
                Field::Ok(values) => Level::Array(values),
                Field::Bad(found) => {
                    return Err(expected(&format!("{name}.values"), "an array", (**found).clone()))
                }
            }
        }
        raw::AnyValue::KvList(name, field) => {
            let inner = field
                .get()
                .map_err(|found| expected(name, "an object", found))?;
            match &inner.values {
                Field::Absent => Level::KvList(&[]),
                Field::Ok(values) => Level::KvList(values),
                Field::Bad(found) => {
                    return Err(expected(&format!("{name}.values"), "an array", (**found).clone()))
                }
            }
        }
        raw::AnyValue::Empty => return Err(error(
            "no value: expected one of stringValue, boolValue, intValue, doubleValue, bytesValue, arrayValue, kvlistValue".to_string(),
        )),
    })
}

/// An `AnyValue`, arrays read with an explicit stack and at most
/// [`MAX_VALUE_DEPTH`] deep (counting `depth` levels already above it).
/// A key-value list inside an array cannot be flattened into keys, so it is
/// kept as its JSON text.
fn any_value<'a, 'de>(
    value: &'a Field<'de, raw::AnyValue<'de>>,
    path: &Path,
    depth: usize,
) -> Result<Read<'a, 'de>, FieldError> {
    struct Frame<'a, 'de> {
        items: &'a [Field<'de, raw::AnyValue<'de>>],
        next: usize,
        done: Vec<AttributeValue>,
    }
    // The path of the item being read, written only for an error.
    fn item_path(base: &Path, stack: &[Frame<'_, '_>]) -> String {
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
            Level::KvList(entries) => {
                let text = AttributeValue::String(Arc::from(kvlist_text(entries)));
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

/// A key-value list as the JSON text of its `AnyValue`
/// (`{"kvlistValue":{"values":[…]}}`), each scalar as the file wrote it,
/// with an explicit stack. A value that was not what its field needs is
/// written as `null`.
fn kvlist_text(entries: &[Field<'_, raw::KeyValue<'_>>]) -> String {
    enum Step<'a, 'de> {
        Text(&'static str),
        Entry(&'a Field<'de, raw::KeyValue<'de>>),
        Value(&'a Field<'de, raw::AnyValue<'de>>),
    }
    fn scalar_json(field: &Scalar<'_>) -> String {
        let value = match found(field) {
            Some(Found::Bool(flag)) => Value::from(*flag),
            Some(Found::U64(number)) => Value::from(*number),
            Some(Found::I64(number)) => Value::from(*number),
            Some(Found::F64(number)) => Value::from(*number),
            Some(Found::Str(text)) => Value::from(&**text),
            _ => Value::Null,
        };
        value.to_string()
    }
    fn push_list<'a, 'de, T>(
        stack: &mut Vec<Step<'a, 'de>>,
        items: &'a [T],
        step: impl Fn(&'a T) -> Step<'a, 'de>,
    ) {
        stack.push(Step::Text("]"));
        for (position, item) in items.iter().enumerate().rev() {
            stack.push(step(item));
            if position > 0 {
                stack.push(Step::Text(","));
            }
        }
        stack.push(Step::Text("["));
    }
    let mut text = String::new();
    let mut stack: Vec<Step<'_, '_>> = vec![Step::Text("}}")];
    push_list(&mut stack, entries, Step::Entry);
    stack.push(Step::Text("{\"kvlistValue\":{\"values\":"));
    while let Some(step) = stack.pop() {
        match step {
            Step::Text(piece) => text.push_str(piece),
            Step::Entry(Field::Ok(entry)) => {
                text.push_str("{\"key\":");
                text.push_str(&scalar_json(&entry.key));
                text.push_str(",\"value\":");
                stack.push(Step::Text("}"));
                stack.push(Step::Value(&entry.value));
            }
            Step::Value(Field::Ok(value)) => {
                let (name, field) = match value {
                    raw::AnyValue::String(field) => ("stringValue", field),
                    raw::AnyValue::Bool(field) => ("boolValue", field),
                    raw::AnyValue::Int(field) => ("intValue", field),
                    raw::AnyValue::Double(field) => ("doubleValue", field),
                    raw::AnyValue::Bytes(field) => ("bytesValue", field),
                    raw::AnyValue::Array(_, field) => {
                        text.push_str("{\"arrayValue\":{\"values\":");
                        stack.push(Step::Text("}}"));
                        match field {
                            Field::Ok(raw::Values {
                                values: Field::Ok(values),
                                ..
                            }) => push_list(&mut stack, values, Step::Value),
                            _ => stack.push(Step::Text("[]")),
                        }
                        continue;
                    }
                    raw::AnyValue::KvList(_, field) => {
                        text.push_str("{\"kvlistValue\":{\"values\":");
                        stack.push(Step::Text("}}"));
                        match field {
                            Field::Ok(raw::KvValues {
                                values: Field::Ok(values),
                                ..
                            }) => push_list(&mut stack, values, Step::Entry),
                            _ => stack.push(Step::Text("[]")),
                        }
                        continue;
                    }
                    raw::AnyValue::Empty => {
                        text.push_str("{}");
                        continue;
                    }
                };
                text.push_str("{\"");
                text.push_str(name);
                text.push_str("\":");
                text.push_str(&scalar_json(field));
                text.push('}');
            }
            Step::Entry(_) | Step::Value(_) => text.push_str("null"),
        }
    }
    text
}
