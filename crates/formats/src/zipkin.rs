//! Zipkin v2 JSON: a list of spans, times in microseconds, the service in
//! `localEndpoint.serviceName`, tags all strings, annotations as events.
//!
//! Zipkin lets a server span share the id of the client span that called
//! it (`"shared": true`, B3's single-id mode). The model needs distinct ids,
//! so, as Zipkin's own tree builder means it, the server half gets a new id
//! (derived from the shared one, not clashing with any other span of the
//! trace) with the client half as its parent, and the spans of the server's
//! service that named the shared id as their parent move under the server
//! half.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tracelab_trace::model::{
    AttributeValue, Event, KeyValue, Resource, Scope, Span, SpanId, SpanKind, Status, TraceId,
};

use crate::path::Path;
use crate::raw::{self, Field, Found, Map, Seq, Sink, Stop, Text};
use crate::read::{
    self, micros_to_nanos, not_i64, object, optional_object, string, u64_field, FieldError, IdText,
    Reader,
};
use crate::Dropped;
use tracelab_trace::group::TraceGrouper;

/// An annotation's value in the form OpenTelemetry's Zipkin exporters
/// write an event with attributes, `{"<name>":{<attributes>}}` (the
/// specification's Zipkin mapping; the Python SDK's exporter writes it): the
/// event's name and attributes. `None` for any other value, which is the
/// event's name as it stands.
fn event_with_attributes(value: &str) -> Option<(String, Vec<KeyValue>)> {
    if !value.starts_with('{') {
        return None;
    }
    let serde_json::Value::Object(outer) = serde_json::from_str(value).ok()? else {
        return None;
    };
    let mut entries = outer.into_iter();
    let (name, serde_json::Value::Object(fields)) = entries.next()? else {
        return None;
    };
    if entries.next().is_some() {
        return None;
    }
    let mut attributes: Vec<KeyValue> = fields
        .iter()
        .map(|(key, value)| KeyValue {
            key: Arc::from(key.as_str()),
            value: json_attribute(value),
        })
        .collect();
    // In key order, whichever order serde_json's map keeps (a feature of
    // another crate can change it): the same file always reads the same.
    attributes.sort_by(|a, b| a.key.cmp(&b.key));
    Some((name, attributes))
}

/// A JSON value as an attribute value: strings, booleans, integers and
/// other numbers as themselves, arrays item by item (with an explicit
/// stack, at most [`crate::MAX_VALUE_DEPTH`] deep; deeper, and objects and
/// nulls, as their JSON text).
fn json_attribute(value: &serde_json::Value) -> AttributeValue {
    use serde_json::Value;
    let scalar = |value: &Value| match value {
        Value::String(text) => AttributeValue::String(Arc::from(text.as_str())),
        Value::Bool(flag) => AttributeValue::Bool(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(int) => AttributeValue::Int(int),
            None => AttributeValue::Double(number.as_f64().unwrap_or(f64::NAN)),
        },
        other => AttributeValue::String(Arc::from(other.to_string().as_str())),
    };
    let Value::Array(items) = value else {
        return scalar(value);
    };
    let mut stack: Vec<(std::slice::Iter<'_, Value>, Vec<AttributeValue>)> =
        vec![(items.iter(), Vec::new())];
    loop {
        let depth = stack.len();
        let Some((items, built)) = stack.last_mut() else {
            return AttributeValue::Array(Box::default());
        };
        match items.next() {
            Some(Value::Array(inner)) if depth < crate::MAX_VALUE_DEPTH => {
                stack.push((inner.iter(), Vec::new()));
            }
            Some(item) => built.push(scalar(item)),
            None => {
                let done = stack.pop().map(|(_, built)| built).unwrap_or_default();
                let array = AttributeValue::Array(done.into_boxed_slice());
                match stack.last_mut() {
                    Some((_, parent)) => parent.push(array),
                    None => return array,
                }
            }
        }
    }
}

/// A span as read, before shared ids are separated.
struct Read<'de> {
    span: Span,
    /// The service's name, borrowed from the file when it can be.
    service: Text<'de>,
    shared: bool,
}

/// The file's spans, each read as soon as serde_json has it: the file's
/// list is never held whole, only the spans read from it.
struct Spans<'p, 'de> {
    path: &'p Path<'p>,
    /// Kept apart until the whole file is JSON: a file that is not yields
    /// only that problem, as a file read whole would.
    reader: Reader,
    spans: Vec<Read<'de>>,
    /// What the file was when it was not a list.
    not_a_list: Option<Found<'de>>,
}

impl<'de> Sink<'de> for Spans<'_, 'de> {
    fn null(&mut self) {
        self.not_a_list = Some(Found::Null);
    }
    fn scalar(&mut self, value: Found<'de>) {
        self.not_a_list = Some(value);
    }
    fn map(&mut self, map: &mut Map<'_, 'de>) -> Result<(), Stop> {
        map.skip_rest()?;
        self.not_a_list = Some(Found::Object);
        Ok(())
    }
    fn seq(&mut self, seq: &mut Seq<'_, 'de>) -> Result<(), Stop> {
        let mut index = 0;
        loop {
            let mut item = Field::<raw::ZipkinSpan<'de>>::Absent;
            if !seq.next(&mut item)? {
                return Ok(());
            }
            let span_path = self.path.index(index);
            let read = object(&item, &span_path)
                .and_then(|span| read_span(span, &span_path, &mut self.reader));
            match read {
                Ok(read) => self.spans.push(read),
                Err(error) => self.reader.problems.push(error, Dropped::Span),
            }
            index += 1;
        }
    }
}

/// Reads a Zipkin file; the error is the file's own (not JSON, …).
pub(crate) fn read(
    bytes: &[u8],
    path: &Path,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) -> serde_json::Result<()> {
    let mut file = Spans {
        path,
        reader: Reader::default(),
        spans: Vec::new(),
        not_a_list: None,
    };
    raw::read(bytes, &mut file)?;
    let Spans {
        reader: found,
        mut spans,
        not_a_list,
        ..
    } = file;
    if let Some(found) = not_a_list {
        reader.problems.at(
            path,
            format!("expected a list of spans, found {}", found.describe()),
            Dropped::File,
        );
        return Ok(());
    }
    reader.problems.append(found.problems);
    reader.strings = found.strings;
    separate_shared(&mut spans);
    // Zipkin has no scopes: one empty scope; one resource per service.
    let scope_idx = builder.scope(Scope {
        name: Arc::from(""),
        version: Box::from(""),
        attributes: Vec::new(),
    });
    let mut resource_of: HashMap<Text<'_>, u32> = HashMap::new();
    for Read {
        mut span, service, ..
    } in spans
    {
        span.resource_idx = *resource_of.entry(service).or_insert_with_key(|service| {
            let service: Arc<str> = Arc::from(&**service);
            builder.resource(Resource {
                service_name: service.clone(),
                attributes: vec![KeyValue::new(
                    "service.name",
                    AttributeValue::String(service),
                )],
            })
        });
        span.scope_idx = scope_idx;
        builder.span(span);
    }
    Ok(())
}

/// Gives each shared server span its own id; see the module doc.
fn separate_shared(spans: &mut [Read<'_>]) {
    // The client half of each shared id, per trace.
    let clients: HashSet<(TraceId, SpanId)> = spans
        .iter()
        .filter(|read| read.span.kind == SpanKind::Client)
        .map(|read| (read.span.trace_id, read.span.span_id))
        .collect();
    if clients.is_empty() {
        return;
    }
    // Every id taken, per trace: made when the first server half is found
    // (most files have none), before any id has changed.
    let mut taken: Option<HashSet<(TraceId, SpanId)>> = None;
    // (trace, shared id, server's service) -> the server half's new id.
    let mut moved: HashMap<(TraceId, SpanId, Text<'_>), SpanId> = HashMap::new();
    for span_idx in 0..spans.len() {
        let read = &spans[span_idx];
        let key = (read.span.trace_id, read.span.span_id);
        // The server half: marked `shared`, or a server span with a client's
        // id (older Zipkin instrumentation did not mark it).
        let is_server_half = read.span.kind != SpanKind::Client
            && (read.shared || read.span.kind == SpanKind::Server)
            && clients.contains(&key);
        if !is_server_half {
            continue;
        }
        let taken = taken.get_or_insert_with(|| {
            spans
                .iter()
                .map(|read| (read.span.trace_id, read.span.span_id))
                .collect()
        });
        let read = &mut spans[span_idx];
        // SplitMix64 of the shared id, stepped until free: deterministic,
        // and in practice one step.
        let mut candidate = u64::from_be_bytes(read.span.span_id.0);
        let new_id = loop {
            candidate = candidate.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = candidate;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            let id = SpanId::from_u64(z ^ (z >> 31));
            if !id.is_zero() && taken.insert((read.span.trace_id, id)) {
                break id;
            }
        };
        moved.insert(
            (read.span.trace_id, read.span.span_id, read.service.clone()),
            new_id,
        );
        read.span.parent_span_id = Some(read.span.span_id);
        read.span.span_id = new_id;
    }
    if moved.is_empty() {
        return;
    }
    for read in spans.iter_mut() {
        let Some(parent) = read.span.parent_span_id else {
            continue;
        };
        if let Some(&server_id) = moved.get(&(read.span.trace_id, parent, read.service.clone())) {
            // The server half itself keeps the client half as its parent.
            if server_id != read.span.span_id {
                read.span.parent_span_id = Some(server_id);
            }
        }
    }
}

fn read_span<'de>(
    object: &raw::ZipkinSpan<'de>,
    path: &Path,
    reader: &mut Reader,
) -> Result<Read<'de>, FieldError> {
    let trace_id = read::trace_id(&object.trace_id, "traceId", path, IdText::LeftPadded)?;
    let span_id = read::span_id(&object.id, "id", path, IdText::LeftPadded)?;
    let parent_span_id =
        read::parent_span_id(&object.parent_id, "parentId", path, IdText::LeftPadded)?;
    let start = micros_to_nanos(
        u64_field(&object.timestamp, "timestamp", path)?,
        &path.field("timestamp"),
    )?;
    let duration = micros_to_nanos(
        u64_field(&object.duration, "duration", path)?,
        &path.field("duration"),
    )?;
    let name = reader.strings.get(string(&object.name, "name", path)?);
    let mut span = Span::new(
        trace_id,
        span_id,
        parent_span_id,
        name,
        start,
        start.saturating_add(duration),
    );
    span.kind = match string(&object.kind, "kind", path)? {
        "" => SpanKind::Unspecified,
        "CLIENT" => SpanKind::Client,
        "SERVER" => SpanKind::Server,
        "PRODUCER" => SpanKind::Producer,
        "CONSUMER" => SpanKind::Consumer,
        other => {
            reader.problems.at(
                &path.field("kind"),
                format!(
                    "{other:?} is no Zipkin kind, expected CLIENT, SERVER, PRODUCER or CONSUMER"
                ),
                Dropped::Value,
            );
            SpanKind::Unspecified
        }
    };
    let shared = matches!(object.shared, Field::Ok(Found::Bool(true)));
    let mut service = Cow::Borrowed("");
    if let Some(endpoint) = optional_object(&object.local_endpoint, "localEndpoint", path)? {
        let endpoint_path = path.field("localEndpoint");
        // Checked as a string, then kept as the file's text (borrowed).
        string(&endpoint.service_name, "serviceName", &endpoint_path)?;
        if let Field::Ok(Found::Str(name)) = &endpoint.service_name {
            service = name.clone();
        }
    }
    // The remote endpoint as OpenTelemetry's attributes for the peer.
    if let Some(endpoint) = optional_object(&object.remote_endpoint, "remoteEndpoint", path)? {
        let endpoint_path = path.field("remoteEndpoint");
        let peer_service = string(&endpoint.service_name, "serviceName", &endpoint_path)?;
        if !peer_service.is_empty() {
            span.attributes.push(KeyValue::new(
                "peer.service",
                AttributeValue::string(peer_service),
            ));
        }
        for (field, name) in [(&endpoint.ipv4, "ipv4"), (&endpoint.ipv6, "ipv6")] {
            let address = string(field, name, &endpoint_path)?;
            if !address.is_empty() {
                span.attributes.push(KeyValue::new(
                    "network.peer.address",
                    AttributeValue::string(address),
                ));
            }
        }
        if let Some(port) = read::found(&endpoint.port) {
            let port = port
                .as_i64()
                .ok_or_else(|| FieldError::new(&endpoint_path.field("port"), not_i64(port)))?;
            span.attributes.push(KeyValue::new(
                "network.peer.port",
                AttributeValue::Int(port),
            ));
        }
    }
    let mut status_code = String::new();
    let mut error_message: Option<String> = None;
    if let Some(tags) = optional_object(&object.tags, "tags", path)? {
        let tags_path = path.field("tags");
        // In the order of their keys, a repeated key once with its last
        // value, as a JSON object read into a map gives them. Zipkin
        // writes them so (its tags are a sorted map): then nothing moves.
        let entries = &tags.0;
        let in_order = entries.windows(2).all(|pair| pair[0].0 < pair[1].0);
        let order: Vec<usize> = if in_order {
            Vec::new()
        } else {
            let mut order: Vec<usize> = (0..entries.len()).collect();
            // Unique (key, place) pairs: an unstable sort is exact.
            order.sort_unstable_by(|&a, &b| entries[a].0.cmp(&entries[b].0).then(b.cmp(&a)));
            order.dedup_by(|later, earlier| entries[*later].0 == entries[*earlier].0);
            order
        };
        let n_tags = if in_order { entries.len() } else { order.len() };
        span.attributes.reserve_exact(n_tags);
        for position in 0..n_tags {
            let (key, value) = &entries[if in_order { position } else { order[position] }];
            let text = match value {
                Field::Ok(Found::Str(text)) => match &**key {
                    "error" | "otel.status_code" | "otel.status_description" => text.to_string(),
                    _ => {
                        span.attributes.push(KeyValue::new(
                            reader.strings.get(key),
                            AttributeValue::string(text),
                        ));
                        continue;
                    }
                },
                // Zipkin says strings; numbers and booleans are read as their text.
                Field::Ok(Found::Bool(flag)) => flag.to_string(),
                Field::Ok(Found::U64(number)) => number.to_string(),
                Field::Ok(Found::I64(number)) => number.to_string(),
                Field::Ok(Found::F64(number)) => raw::f64_text(*number),
                other => {
                    let found = match other {
                        Field::Ok(found) => found.clone(),
                        _ => other.get().err().unwrap_or(Found::Null),
                    };
                    reader.problems.at(
                        &tags_path.field(key),
                        format!("expected a string, found {}", found.describe()),
                        Dropped::Attribute,
                    );
                    continue;
                }
            };
            match &**key {
                // Zipkin marks a failed span with an `error` tag holding the message.
                "error" => error_message = Some(text),
                "otel.status_code" => status_code = text,
                "otel.status_description" => error_message = Some(text),
                _ => span.attributes.push(KeyValue::new(
                    reader.strings.get(key),
                    AttributeValue::String(Arc::from(text)),
                )),
            }
        }
    }
    span.status = match (status_code.as_str(), error_message) {
        ("OK", _) => Status::Ok,
        ("ERROR", message) => Status::Error {
            message: Box::from(message.unwrap_or_default().as_str()),
        },
        (_, Some(message)) => Status::Error {
            message: Box::from(message.as_str()),
        },
        _ => Status::Unset,
    };
    let annotations_path = path.field("annotations");
    for (index, annotation) in read::array(&object.annotations, "annotations", path)?
        .iter()
        .enumerate()
    {
        let annotation_path = annotations_path.index(index);
        let result = read::object(annotation, &annotation_path).and_then(|annotation| {
            let value = string(&annotation.value, "value", &annotation_path)?;
            let (name, attributes) = match event_with_attributes(value) {
                Some((name, attributes)) => (reader.strings.get(&name), attributes),
                None => (reader.strings.get(value), Vec::new()),
            };
            Ok(Event {
                time_unix_nanos: micros_to_nanos(
                    u64_field(&annotation.timestamp, "timestamp", &annotation_path)?,
                    &annotation_path.field("timestamp"),
                )?,
                name,
                attributes,
            })
        });
        match result {
            Ok(event) => span.events.push(event),
            Err(error) => reader.problems.push(error, Dropped::Event),
        }
    }
    Ok(Read {
        span,
        service,
        shared,
    })
}
