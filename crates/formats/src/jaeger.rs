//! Jaeger JSON: the query API's `{"data": [trace, …]}` (Jaeger UI's
//! download is the same), each trace `{traceID, spans, processes}`.
//!
//! Jaeger has no span kind, status, trace state, scope or event name of its
//! own; OpenTelemetry's Jaeger mapping carries them as tags (`span.kind`,
//! `otel.status_code`, `otel.status_description`, `error`, `w3c.tracestate`,
//! `otel.scope.name`, `otel.scope.version`) and events as logs whose `event`
//! field is the name. Both directions use that mapping.
//!
//! Jaeger has no links either: OpenTelemetry writes them as `FOLLOWS_FROM`
//! references (`CHILD_OF` for a link marked `opentracing.ref_type`
//! `child_of`), which Jaeger UI reads as the parent when one comes first. So
//! the parent is always the first reference, and tracelab marks a link's
//! reference with a `tags` list (its attributes), a field Jaeger ignores:
//! a file tracelab wrote reads back with every link and its attributes.
//!
//! Times are microseconds: nanoseconds below a microsecond do not survive a
//! Jaeger file. Arrays are written as their JSON text in a string tag (as
//! OpenTelemetry's mapping does), and scope attributes are not written.

use std::collections::HashMap;
use std::sync::Arc;

use tracelab_trace::group::TraceGrouper;
use tracelab_trace::model::{
    AttributeValue, Event, KeyValue, Link, ParentRelation, Resource, Scope, Span, SpanKind, Status,
    TraceId,
};

use crate::base64;
use crate::path::Path;
use crate::raw::{self, Field, Found, List, Scalar};
use crate::read::{
    self, array, micros_to_nanos, not_i64, object, optional_object, string, u64_field, FieldError,
    IdText, Reader,
};
use crate::Dropped;

pub(crate) fn read(
    file: &Field<'_, raw::JaegerFile<'_>>,
    path: &Path,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) {
    let top = match object(file, path) {
        // Traces as a bare list, without the API's `data` around them.
        Ok(raw::JaegerFile::List(traces)) => return read_traces(traces, path, builder, reader),
        Ok(raw::JaegerFile::Object(top)) => top,
        Err(error) => return reader.problems.push(error, Dropped::File),
    };
    // One trace on its own (`{traceID, spans, processes}`) or the API's list.
    if top.data.is_absent() && !top.spans.is_absent() {
        let trace = TraceFields {
            trace_id: &top.trace_id,
            spans: &top.spans,
            processes: &top.processes,
        };
        if let Err(error) = read_trace(trace, path, builder, reader) {
            reader.problems.push(error, Dropped::Batch);
        }
        return;
    }
    match array(&top.data, "data", path) {
        Ok(traces) => read_traces(traces, &path.field("data"), builder, reader),
        Err(error) => reader.problems.push(error, Dropped::File),
    }
}

fn read_traces(
    traces: &[Field<'_, raw::JaegerTrace<'_>>],
    path: &Path,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) {
    for (index, trace) in traces.iter().enumerate() {
        let trace_path = path.index(index);
        let result = object(trace, &trace_path).and_then(|trace| {
            let trace = TraceFields {
                trace_id: &trace.trace_id,
                spans: &trace.spans,
                processes: &trace.processes,
            };
            read_trace(trace, &trace_path, builder, reader)
        });
        if let Err(error) = result {
            reader.problems.push(error, Dropped::Batch);
        }
    }
}

/// A Jaeger trace's fields, wherever it stands in the file.
struct TraceFields<'a, 'de> {
    trace_id: &'a Scalar<'de>,
    spans: &'a Field<'de, List<'de, raw::JaegerSpan<'de>>>,
    processes: &'a Field<'de, raw::Processes<'de>>,
}

fn read_trace(
    trace: TraceFields<'_, '_>,
    path: &Path,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) -> Result<(), FieldError> {
    // Processes are read when a span first names them, then remembered.
    let processes = optional_object(trace.processes, "processes", path)?;
    let processes_path = path.field("processes");
    let mut resource_of_process: HashMap<&str, u32> = HashMap::new();
    let trace_id_fallback = match trace.trace_id {
        Field::Absent => None,
        field => read::trace_id(field, "traceID", path, IdText::LeftPadded).ok(),
    };
    let spans_path = path.field("spans");
    for (index, span) in array(trace.spans, "spans", path)?.iter().enumerate() {
        let span_path = spans_path.index(index);
        let result = object(span, &span_path).and_then(|span_object| {
            let (mut span, scope) = read_span(span_object, &span_path, trace_id_fallback, reader)?;
            span.scope_idx = builder.scope(scope);
            // The process inline (`process`), or named (`processID`).
            span.resource_idx = if !span_object.process.is_absent() {
                let process_path = span_path.field("process");
                let resource = read_process(&span_object.process, &process_path, reader)?;
                builder.resource(resource)
            } else {
                let process_id = string(&span_object.process_id, "processID", &span_path)?;
                match resource_of_process.get(process_id) {
                    Some(&resource_idx) => resource_idx,
                    None => {
                        let found = processes.and_then(|processes| processes.get(process_id));
                        let resource = match found {
                            Some((key, process)) => {
                                let process_path = processes_path.field(key);
                                read_process(process, &process_path, reader)?
                            }
                            None => {
                                reader.problems.at(
                                    &span_path.field("processID"),
                                    format!("{process_id:?} names no process of this trace, so the span has no service"),
                                    Dropped::Value,
                                );
                                Resource { service_name: Arc::from(""), attributes: Vec::new() }
                            }
                        };
                        let resource_idx = builder.resource(resource);
                        if let Some((key, _)) = found {
                            resource_of_process.insert(key, resource_idx);
                        }
                        resource_idx
                    }
                }
            };
            builder.span(span);
            Ok(())
        });
        if let Err(error) = result {
            reader.problems.push(error, Dropped::Span);
        }
    }
    Ok(())
}

fn read_process(
    process: &Field<'_, raw::JaegerProcess<'_>>,
    path: &Path,
    reader: &mut Reader,
) -> Result<Resource, FieldError> {
    let process = object(process, path)?;
    let service_name = string(&process.service_name, "serviceName", path)?;
    // `service.name` first, as OpenTelemetry's resource has it.
    let mut attributes = vec![KeyValue::new(
        "service.name",
        AttributeValue::string(service_name),
    )];
    read_tags(
        array(&process.tags, "tags", path)?,
        &path.field("tags"),
        &mut attributes,
        reader,
    );
    Ok(Resource {
        service_name: Arc::from(service_name),
        attributes,
    })
}

/// A signed 64-bit integer from a number or a decimal string.
fn i64_of(found: &Found<'_>) -> Option<i64> {
    match found {
        Found::U64(number) => i64::try_from(*number).ok(),
        Found::I64(number) => Some(*number),
        Found::Str(text) => text.parse().ok(),
        _ => None,
    }
}

/// One tag's value by its `type` (or, without one, by its JSON type, as
/// Jaeger UI's own files sometimes are).
fn tag_value(tag: &raw::JaegerTag<'_>, path: &Path) -> Result<AttributeValue, FieldError> {
    let value_path = path.field("value");
    let value = match &tag.value {
        Field::Ok(value) => value,
        _ => return Err(FieldError::new(&value_path, "missing: a tag needs a value")),
    };
    let kind = string(&tag.kind, "type", path)?;
    let mismatch = |expected: &str| {
        FieldError::new(
            &value_path,
            format!("type {kind:?} needs {expected}, found {}", value.describe()),
        )
    };
    let int = || {
        i64_of(value)
            .map(AttributeValue::Int)
            .ok_or_else(|| FieldError::new(&value_path, not_i64(value)))
    };
    Ok(match (kind.to_ascii_lowercase().as_str(), value) {
        ("string" | "", Found::Str(text)) => AttributeValue::String(Arc::from(&**text)),
        ("string", _) => return Err(mismatch("a string")),
        ("bool" | "", Found::Bool(flag)) => AttributeValue::Bool(*flag),
        ("bool", Found::Str(text)) if text == "true" || text == "false" => {
            AttributeValue::Bool(text == "true")
        }
        ("bool", _) => return Err(mismatch("true or false")),
        ("int64", _) | ("", Found::U64(_) | Found::I64(_)) => int()?,
        ("float64", Found::U64(number)) => AttributeValue::Double(*number as f64),
        ("float64", Found::I64(number)) => AttributeValue::Double(*number as f64),
        ("float64" | "", Found::F64(number)) => AttributeValue::Double(*number),
        ("float64", _) => return Err(mismatch("a number")),
        ("binary", Found::Str(text)) => AttributeValue::Bytes(
            base64::decode(text)
                .map_err(|message| FieldError::new(&value_path, message))?
                .into_boxed_slice(),
        ),
        ("binary", _) => return Err(mismatch("a base64 string")),
        ("", _) => {
            return Err(FieldError::new(
                &value_path,
                format!("no type, and {} is no tag value", value.describe()),
            ))
        }
        (other, _) => {
            return Err(FieldError::new(
                &path.field("type"),
                format!("unknown type {other:?}, expected string, bool, int64, float64 or binary"),
            ))
        }
    })
}

fn read_tags(
    list: &[Field<'_, raw::JaegerTag<'_>>],
    path: &Path,
    out: &mut Vec<KeyValue>,
    reader: &mut Reader,
) {
    out.reserve(list.len());
    for (index, tag) in list.iter().enumerate() {
        let tag_path = path.index(index);
        let result = object(tag, &tag_path).and_then(|tag| {
            let key = string(&tag.key, "key", &tag_path)?;
            Ok(KeyValue::new(
                reader.strings.get(key),
                tag_value(tag, &tag_path)?,
            ))
        });
        match result {
            Ok(tag) => out.push(tag),
            Err(error) => reader.problems.push(error, Dropped::Attribute),
        }
    }
}

fn as_text(value: &AttributeValue) -> Option<&str> {
    match value {
        AttributeValue::String(text) => Some(text),
        _ => None,
    }
}

fn read_span(
    object: &raw::JaegerSpan<'_>,
    path: &Path,
    trace_id_fallback: Option<TraceId>,
    reader: &mut Reader,
) -> Result<(Span, Scope), FieldError> {
    let trace_id = match (&object.trace_id, trace_id_fallback) {
        (Field::Absent, Some(trace_id)) => trace_id,
        (field, _) => read::trace_id(field, "traceID", path, IdText::LeftPadded)?,
    };
    let span_id = read::span_id(&object.span_id, "spanID", path, IdText::LeftPadded)?;
    let start_micros = u64_field(&object.start, "startTime", path)?;
    let start = micros_to_nanos(start_micros, &path.field("startTime"))?;
    let duration = micros_to_nanos(
        u64_field(&object.duration, "duration", path)?,
        &path.field("duration"),
    )?;
    let name = reader
        .strings
        .get(string(&object.operation_name, "operationName", path)?);
    let mut span = Span::new(
        trace_id,
        span_id,
        None,
        name,
        start,
        start.saturating_add(duration),
    );
    span.kind = SpanKind::Unspecified;
    if !object.flags.is_absent() {
        // Only Jaeger's bit 0 (sampled) is W3C's; its bit 1 is "debug",
        // which W3C's bit 1 ("random") does not mean.
        span.trace_flags =
            (u64_field(&object.flags, "flags", path)? & u64::from(Span::SAMPLED)) as u8;
    }

    // References: the first is the parent when it is in this trace and not
    // a tracelab link (one with `tags`); every other is a link.
    let references_path = path.field("references");
    for (index, reference) in array(&object.references, "references", path)?
        .iter()
        .enumerate()
    {
        let reference_path = references_path.index(index);
        let result = read::object(reference, &reference_path).and_then(|reference| {
            let ref_type = string(&reference.ref_type, "refType", &reference_path)?;
            let relation = match ref_type {
                "CHILD_OF" | "child_of" => ParentRelation::ChildOf,
                "FOLLOWS_FROM" | "follows_from" => ParentRelation::FollowsFrom,
                other => {
                    return Err(FieldError::new(
                        &reference_path.field("refType"),
                        format!(
                            "{other:?} is no reference type, expected CHILD_OF or FOLLOWS_FROM"
                        ),
                    ))
                }
            };
            let link_trace_id = match &reference.trace_id {
                Field::Absent => trace_id,
                field => read::trace_id(field, "traceID", &reference_path, IdText::LeftPadded)?,
            };
            let link_span_id = read::span_id(
                &reference.span_id,
                "spanID",
                &reference_path,
                IdText::LeftPadded,
            )?;
            let is_link = !reference.tags.is_absent();
            if index == 0 && !is_link && link_trace_id == trace_id {
                span.parent_span_id = Some(link_span_id);
                span.parent_relation = relation;
            } else {
                let mut link = Link {
                    trace_id: link_trace_id,
                    span_id: link_span_id,
                    attributes: Vec::new(),
                };
                read_tags(
                    array(&reference.tags, "tags", &reference_path)?,
                    &reference_path.field("tags"),
                    &mut link.attributes,
                    reader,
                );
                span.links.push(link);
            }
            Ok(())
        });
        if let Err(error) = result {
            reader.problems.push(error, Dropped::Link);
        }
    }

    // Tags, with OpenTelemetry's mapped ones taken out into their fields.
    let mut tags = Vec::new();
    read_tags(
        array(&object.tags, "tags", path)?,
        &path.field("tags"),
        &mut tags,
        reader,
    );
    let mut scope = Scope {
        name: Arc::from(""),
        version: Box::from(""),
        attributes: Vec::new(),
    };
    let mut status_code: Option<String> = None;
    let mut status_message = String::new();
    let mut error_tag = false;
    span.attributes.reserve_exact(tags.len());
    for tag in tags {
        let text = as_text(&tag.value);
        match (&*tag.key, text) {
            ("span.kind", Some(kind)) => {
                span.kind = match kind {
                    "server" => SpanKind::Server,
                    "client" => SpanKind::Client,
                    "producer" => SpanKind::Producer,
                    "consumer" => SpanKind::Consumer,
                    "internal" => SpanKind::Internal,
                    _ => {
                        span.attributes.push(tag);
                        continue;
                    }
                }
            }
            ("otel.status_code", Some(code)) => status_code = Some(code.to_string()),
            ("otel.status_description", Some(message)) => status_message = message.to_string(),
            ("w3c.tracestate", Some(state)) => span.trace_state = Box::from(state),
            ("otel.scope.name" | "otel.library.name", Some(name)) => scope.name = Arc::from(name),
            ("otel.scope.version" | "otel.library.version", Some(version)) => {
                scope.version = Box::from(version)
            }
            ("error", _)
                if matches!(tag.value, AttributeValue::Bool(_))
                    || text == Some("true")
                    || text == Some("false") =>
            {
                error_tag = matches!(tag.value, AttributeValue::Bool(true)) || text == Some("true");
            }
            _ => span.attributes.push(tag),
        }
    }
    span.status = match status_code.as_deref() {
        Some("ERROR") => Status::Error {
            message: Box::from(status_message.as_str()),
        },
        Some("OK") => Status::Ok,
        _ if error_tag => Status::Error {
            message: Box::from(status_message.as_str()),
        },
        _ => Status::Unset,
    };

    let logs_path = path.field("logs");
    for (index, log) in array(&object.logs, "logs", path)?.iter().enumerate() {
        let log_path = logs_path.index(index);
        let result = read::object(log, &log_path).and_then(|log| {
            let time = micros_to_nanos(
                u64_field(&log.timestamp, "timestamp", &log_path)?,
                &log_path.field("timestamp"),
            )?;
            let mut fields = Vec::new();
            read_tags(
                array(&log.fields, "fields", &log_path)?,
                &log_path.field("fields"),
                &mut fields,
                reader,
            );
            // The `event` field names the event, as OpenTelemetry's mapping writes it.
            let mut name: Arc<str> = Arc::from("");
            if let Some(position) = fields
                .iter()
                .position(|field| &*field.key == "event" && as_text(&field.value).is_some())
            {
                let field = fields.remove(position);
                if let AttributeValue::String(text) = field.value {
                    name = text;
                }
            }
            Ok(Event {
                time_unix_nanos: time,
                name,
                attributes: fields,
            })
        });
        match result {
            Ok(event) => span.events.push(event),
            Err(error) => reader.problems.push(error, Dropped::Event),
        }
    }
    Ok((span, scope))
}
