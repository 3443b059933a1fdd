//! A trace's compact binary form: how the import worker hands a trace to
//! the page, how the page hands one back for export, and what a share link
//! carries (compressed, in the Import page's URL fragment). Also the
//! import's report ([`encode_report`]), in the same form: reading it with
//! `serde_json` would cost the trace pages' app the derived readers.
//!
//! Why not JSON: a 100,000-span trace is tens of megabytes of JSON, and
//! `serde_json` on the page's thread would hold it for seconds in one
//! piece. Here the trace goes in *chunks* of at most [`CHUNK_SPANS`] spans,
//! each a message of its own, so the page decodes one chunk per task and
//! the browser draws between them; a chunk of 2,000 spans decodes in a few
//! milliseconds.
//!
//! ```
//! use tracelab_app::wire::{Decoder, Encoder};
//!
//! let trace = tracelab_trace::generate(3_000, 1);
//! let mut encoder = Encoder::default();
//! let header = encoder.header(&trace);
//! let chunks: Vec<Vec<u8>> = trace.spans.chunks(1_000).map(|spans| encoder.spans(spans)).collect();
//!
//! let mut decoder = Decoder::header(&header).unwrap();
//! for chunk in &chunks {
//!     decoder.spans(chunk).unwrap();
//! }
//! assert_eq!(decoder.finish().unwrap(), trace);
//! ```
//!
//! # Format (version 1)
//!
//! Numbers are LEB128 varints (signed ones zigzagged), doubles 8 bytes
//! little-endian. Strings go through a table that lives across the chunks
//! of one trace: a string's first use writes `len << 1 | 1` and its UTF-8
//! bytes, and every later use `index << 1`. So a name shared by 10,000 spans
//! travels once, and decodes to one `Arc<str>` that every span shares, as
//! the importers made it.
//!
//! - header: the byte [`VERSION`], the span count, the resources (service
//!   name, attributes) and the scopes (name, version, attributes);
//! - a chunk: its span count, then each span: a flags byte (has a parent,
//!   follows-from, same trace id as the span before, kind, status), the
//!   trace id unless it is the same, span id, parent id, start, end minus
//!   start (wrapping, so an end before the start survives), trace flags,
//!   trace state, name, resource and scope index, the status message of an
//!   error, attributes, events (time minus start) and links.
//!
//! Decoding never trusts the bytes (a share link is anyone's text): every
//! read is bounds-checked, counts never reserve more than the bytes left
//! could hold, array values nest at most [`MAX_DEPTH`] deep and are read
//! with an explicit stack, and resource and scope indices must name one.
//! A bad input is an [`Error`] saying where, never a panic.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use tracelab_trace::summary::TraceSummary;

use crate::import::{ImportReport, ListedTrace, ProblemRow};
use tracelab_trace::model::{
    AttributeValue, Event, KeyValue, Link, ParentRelation, Resource, Scope, Span, SpanId, SpanKind,
    Status, Trace, TraceId,
};

/// The first byte of every header; a reader refuses any other.
pub const VERSION: u8 = 1;

/// Spans in one chunk at most: small enough that decoding one takes a few
/// milliseconds on the page's thread.
pub const CHUNK_SPANS: usize = 2_000;

/// How deep array attribute values may nest (as `tracelab_formats`'
/// importers cap them, at 32).
pub const MAX_DEPTH: usize = 32;

/// The most spans a [`Decoder`] makes room for on the header's word (the
/// Sample page's largest trace).
const RESERVE_MAX_SPANS: usize = tracelab_trace::generate::MAX_SPANS;

/// Why bytes could not be read as a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Byte offset in the header or chunk being read.
    pub offset: usize,
    pub message: &'static str,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for Error {}

const FLAG_PARENT: u8 = 1;
const FLAG_FOLLOWS_FROM: u8 = 1 << 1;
const FLAG_SAME_TRACE: u8 = 1 << 2;
const KIND_SHIFT: u8 = 3;
const KIND_MASK: u8 = 0b111;
const STATUS_SHIFT: u8 = 6;

const TAG_STRING: u8 = 0;
const TAG_FALSE: u8 = 1;
const TAG_TRUE: u8 = 2;
const TAG_INT: u8 = 3;
const TAG_DOUBLE: u8 = 4;
const TAG_BYTES: u8 = 5;
const TAG_ARRAY: u8 = 6;

fn kind_code(kind: SpanKind) -> u8 {
    match kind {
        SpanKind::Unspecified => 0,
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn kind_of(code: u8) -> Option<SpanKind> {
    Some(match code {
        0 => SpanKind::Unspecified,
        1 => SpanKind::Internal,
        2 => SpanKind::Server,
        3 => SpanKind::Client,
        4 => SpanKind::Producer,
        5 => SpanKind::Consumer,
        _ => return None,
    })
}

/// Writes one trace: [`Encoder::header`] first, then [`Encoder::spans`] for
/// each chunk, in order (the string table carries over).
#[derive(Default)]
pub struct Encoder {
    strings: HashMap<Arc<str>, u32>,
    previous_trace: Option<TraceId>,
}

impl Encoder {
    /// The header: version, span count, resources and scopes.
    pub fn header(&mut self, trace: &Trace) -> Vec<u8> {
        self.header_of(trace.spans.len(), &trace.resources, &trace.scopes)
    }

    /// The header of a trace of `n_spans` spans still to be made (or read).
    pub fn header_of(
        &mut self,
        n_spans: usize,
        resources: &[Resource],
        scopes: &[Scope],
    ) -> Vec<u8> {
        let mut out = vec![VERSION];
        put_varint(&mut out, n_spans as u64);
        put_varint(&mut out, resources.len() as u64);
        for resource in resources {
            self.string(&mut out, &resource.service_name);
            self.attributes(&mut out, &resource.attributes);
        }
        put_varint(&mut out, scopes.len() as u64);
        for scope in scopes {
            self.string(&mut out, &scope.name);
            self.string(&mut out, &scope.version);
            self.attributes(&mut out, &scope.attributes);
        }
        out
    }

    /// One chunk of spans.
    pub fn spans(&mut self, spans: &[Span]) -> Vec<u8> {
        let mut out = Vec::with_capacity(spans.len() * 64);
        put_varint(&mut out, spans.len() as u64);
        for span in spans {
            self.span(&mut out, span);
        }
        out
    }

    fn span(&mut self, out: &mut Vec<u8>, span: &Span) {
        let same_trace = self.previous_trace == Some(span.trace_id);
        self.previous_trace = Some(span.trace_id);
        let status = match span.status {
            Status::Unset => 0,
            Status::Ok => 1,
            Status::Error { .. } => 2,
        };
        let mut flags = kind_code(span.kind) << KIND_SHIFT | status << STATUS_SHIFT;
        if span.parent_span_id.is_some() {
            flags |= FLAG_PARENT;
        }
        if span.parent_relation == ParentRelation::FollowsFrom {
            flags |= FLAG_FOLLOWS_FROM;
        }
        if same_trace {
            flags |= FLAG_SAME_TRACE;
        }
        out.push(flags);
        if !same_trace {
            out.extend_from_slice(&span.trace_id.0);
        }
        out.extend_from_slice(&span.span_id.0);
        if let Some(parent) = span.parent_span_id {
            out.extend_from_slice(&parent.0);
        }
        put_varint(out, span.start_unix_nanos);
        put_varint(
            out,
            zigzag(span.end_unix_nanos.wrapping_sub(span.start_unix_nanos) as i64),
        );
        out.push(span.trace_flags);
        self.string(out, &span.trace_state);
        self.string(out, &span.name);
        put_varint(out, u64::from(span.resource_idx));
        put_varint(out, u64::from(span.scope_idx));
        if let Status::Error { message } = &span.status {
            self.string(out, message);
        }
        self.attributes(out, &span.attributes);
        put_varint(out, span.events.len() as u64);
        for event in &span.events {
            put_varint(
                out,
                zigzag(event.time_unix_nanos.wrapping_sub(span.start_unix_nanos) as i64),
            );
            self.string(out, &event.name);
            self.attributes(out, &event.attributes);
        }
        put_varint(out, span.links.len() as u64);
        for link in &span.links {
            out.extend_from_slice(&link.trace_id.0);
            out.extend_from_slice(&link.span_id.0);
            self.attributes(out, &link.attributes);
        }
    }

    fn string(&mut self, out: &mut Vec<u8>, text: &str) {
        if let Some(&index) = self.strings.get(text) {
            put_varint(out, u64::from(index) << 1);
            return;
        }
        let index = self.strings.len() as u32;
        self.strings.insert(Arc::from(text), index);
        put_varint(out, (text.len() as u64) << 1 | 1);
        out.extend_from_slice(text.as_bytes());
    }

    fn attributes(&mut self, out: &mut Vec<u8>, attributes: &[KeyValue]) {
        put_varint(out, attributes.len() as u64);
        for attribute in attributes {
            self.string(out, &attribute.key);
            self.value(out, &attribute.value);
        }
    }

    /// A value, arrays written element after element with an explicit
    /// stack: values nest as deep as an exporter sent them.
    fn value(&mut self, out: &mut Vec<u8>, value: &AttributeValue) {
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                AttributeValue::String(text) => {
                    out.push(TAG_STRING);
                    self.string(out, text);
                }
                AttributeValue::Bool(false) => out.push(TAG_FALSE),
                AttributeValue::Bool(true) => out.push(TAG_TRUE),
                AttributeValue::Int(number) => {
                    out.push(TAG_INT);
                    put_varint(out, zigzag(*number));
                }
                AttributeValue::Double(number) => {
                    out.push(TAG_DOUBLE);
                    out.extend_from_slice(&number.to_le_bytes());
                }
                AttributeValue::Bytes(bytes) => {
                    out.push(TAG_BYTES);
                    put_varint(out, bytes.len() as u64);
                    out.extend_from_slice(bytes);
                }
                AttributeValue::Array(values) => {
                    out.push(TAG_ARRAY);
                    put_varint(out, values.len() as u64);
                    stack.extend(values.iter().rev());
                }
            }
        }
    }
}

/// The whole trace in one piece: the header, then every span as one chunk
/// (what a share link carries).
pub fn encode_trace(trace: &Trace) -> Vec<u8> {
    let mut encoder = Encoder::default();
    let mut bytes = encoder.header(trace);
    bytes.extend(encoder.spans(&trace.spans));
    bytes
}

/// An import's report: the format, the problems (path, what), their
/// count, and each listed trace's place and summary, strings through one
/// table.
pub fn encode_report(report: &ImportReport) -> Vec<u8> {
    let mut encoder = Encoder::default();
    let mut out = vec![VERSION];
    encoder.string(&mut out, &report.format);
    put_varint(&mut out, report.n_skipped as u64);
    put_varint(&mut out, report.n_traces as u64);
    put_varint(&mut out, report.problems.len() as u64);
    for problem in &report.problems {
        encoder.string(&mut out, &problem.path);
        encoder.string(&mut out, &problem.what);
    }
    put_varint(&mut out, report.traces.len() as u64);
    for listed in &report.traces {
        let summary = &listed.summary;
        put_varint(&mut out, listed.index as u64);
        encoder.string(&mut out, &summary.trace_id);
        encoder.string(&mut out, &summary.root_service);
        encoder.string(&mut out, &summary.root_name);
        put_varint(&mut out, summary.start_unix_nanos);
        put_varint(&mut out, summary.duration_nanos);
        put_varint(&mut out, summary.spans as u64);
        put_varint(&mut out, summary.errors as u64);
        put_varint(&mut out, summary.services.len() as u64);
        for service in &summary.services {
            encoder.string(&mut out, service);
        }
    }
    out
}

/// Reads [`encode_report`]'s bytes back.
pub fn decode_report(bytes: &[u8]) -> Result<ImportReport, Error> {
    let mut reader = Reader { bytes, offset: 0 };
    if reader.byte()? != VERSION {
        return Err(reader.error("not a report of this version (or not a report)"));
    }
    let mut decoder = Decoder {
        strings: Vec::new(),
        previous_trace: None,
        trace: Trace::default(),
        expected_spans: 0,
    };
    let mut text = |reader: &mut Reader| decoder.string(reader).map(|text| text.to_string());
    let format = text(&mut reader)?;
    let n_skipped = reader.varint()? as usize;
    let n_traces = reader.varint()? as usize;
    let n_problems = reader.count(2)?;
    let mut problems = Vec::with_capacity(n_problems);
    for _ in 0..n_problems {
        let path = text(&mut reader)?;
        let what = text(&mut reader)?;
        problems.push(ProblemRow { path, what });
    }
    let n_listed = reader.count(12)?;
    let mut traces = Vec::with_capacity(n_listed);
    for _ in 0..n_listed {
        let index = reader.varint()? as usize;
        let trace_id = text(&mut reader)?;
        let root_service = text(&mut reader)?;
        let root_name = text(&mut reader)?;
        let start_unix_nanos = reader.varint()?;
        let duration_nanos = reader.varint()?;
        let spans = reader.varint()? as usize;
        let errors = reader.varint()? as usize;
        let n_services = reader.count(1)?;
        let mut services = Vec::with_capacity(n_services);
        for _ in 0..n_services {
            services.push(text(&mut reader)?);
        }
        traces.push(ListedTrace {
            index,
            summary: TraceSummary {
                trace_id,
                root_service,
                root_name,
                start_unix_nanos,
                duration_nanos,
                spans,
                errors,
                services,
            },
        });
    }
    reader.end()?;
    Ok(ImportReport {
        format,
        problems,
        n_skipped,
        traces,
        n_traces,
    })
}

/// Reads [`encode_trace`]'s bytes back.
pub fn decode_trace(bytes: &[u8]) -> Result<Trace, Error> {
    let mut reader = Reader { bytes, offset: 0 };
    let mut decoder = Decoder::read_header(&mut reader)?;
    let rest = &bytes[reader.offset..];
    decoder.spans(rest).map_err(|error| Error {
        offset: error.offset + reader.offset,
        ..error
    })?;
    decoder.finish()
}

/// Reads one trace: [`Decoder::header`], then [`Decoder::spans`] for each
/// chunk in the order they were written, then [`Decoder::finish`].
pub struct Decoder {
    strings: Vec<Arc<str>>,
    previous_trace: Option<TraceId>,
    trace: Trace,
    expected_spans: usize,
}

impl Decoder {
    /// Reads a header.
    pub fn header(bytes: &[u8]) -> Result<Decoder, Error> {
        let mut reader = Reader { bytes, offset: 0 };
        let decoder = Decoder::read_header(&mut reader)?;
        reader.end()?;
        Ok(decoder)
    }

    fn read_header(reader: &mut Reader) -> Result<Decoder, Error> {
        if reader.byte()? != VERSION {
            return Err(reader.error("not a trace of this version (or not a trace)"));
        }
        // The spans come in chunks of their own: nothing here backs this
        // count, so it reserves little (below) and is checked as they come.
        let expected_spans = usize::try_from(reader.varint()?)
            .map_err(|_| reader.error("a span count too large"))?;
        let mut decoder = Decoder {
            strings: Vec::new(),
            previous_trace: None,
            trace: Trace::default(),
            expected_spans,
        };
        let n_resources = reader.count(2)?;
        for _ in 0..n_resources {
            let service_name = decoder.string(reader)?;
            let attributes = decoder.attributes(reader)?;
            decoder.trace.resources.push(Resource {
                service_name,
                attributes,
            });
        }
        let n_scopes = reader.count(3)?;
        for _ in 0..n_scopes {
            let name = decoder.string(reader)?;
            let version = Box::from(&*decoder.string(reader)?);
            let attributes = decoder.attributes(reader)?;
            decoder.trace.scopes.push(Scope {
                name,
                version,
                attributes,
            });
        }
        // Room for every span the header announces, but never more than
        // the first chunk's worth on its word alone.
        decoder
            .trace
            .spans
            .reserve(expected_spans.min(CHUNK_SPANS * 4));
        Ok(decoder)
    }

    /// The span count the header announced.
    pub fn expected_spans(&self) -> usize {
        self.expected_spans
    }

    /// Spans read so far.
    pub fn n_spans(&self) -> usize {
        self.trace.spans.len()
    }

    /// Reads one chunk of spans.
    pub fn spans(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut reader = Reader { bytes, offset: 0 };
        let n_spans = reader.count(SPAN_MIN_BYTES)?;
        if self.trace.spans.len() + n_spans > self.expected_spans {
            return Err(reader.error("more spans than the header announced"));
        }
        if self.trace.spans.is_empty() && n_spans > 0 && self.expected_spans <= RESERVE_MAX_SPANS {
            // Room for all the header announced, at once, rather than
            // growing to it by doubling: at a million spans the last
            // doubling alone copies half a million spans in one task. Only
            // up to a million, as the count is the header's word alone
            // (a share link is anyone's); past that, or if that much cannot
            // be had, the spans grow as they come.
            let _ = self.trace.spans.try_reserve_exact(self.expected_spans);
        }
        self.trace.spans.reserve(n_spans);
        for _ in 0..n_spans {
            let span = self.span(&mut reader)?;
            self.trace.spans.push(span);
        }
        reader.end()
    }

    /// The trace, once every span the header announced has been read.
    pub fn finish(self) -> Result<Trace, Error> {
        if self.trace.spans.len() != self.expected_spans {
            return Err(Error {
                offset: 0,
                message: "fewer spans than the header announced",
            });
        }
        Ok(self.trace)
    }

    fn span(&mut self, reader: &mut Reader) -> Result<Span, Error> {
        let flags = reader.byte()?;
        let kind = kind_of(flags >> KIND_SHIFT & KIND_MASK)
            .ok_or_else(|| reader.error("an unknown span kind"))?;
        let trace_id = if flags & FLAG_SAME_TRACE != 0 {
            self.previous_trace
                .ok_or_else(|| reader.error("the first span refers to a trace id before it"))?
        } else {
            TraceId(reader.array()?)
        };
        self.previous_trace = Some(trace_id);
        let span_id = SpanId(reader.array()?);
        let parent_span_id = if flags & FLAG_PARENT != 0 {
            Some(SpanId(reader.array()?))
        } else {
            None
        };
        let start_unix_nanos = reader.varint()?;
        let end_unix_nanos = start_unix_nanos.wrapping_add(unzigzag(reader.varint()?) as u64);
        let trace_flags = reader.byte()?;
        let trace_state = Box::from(&*self.string(reader)?);
        let name = self.string(reader)?;
        let resource_idx = reader.varint()?;
        if resource_idx >= self.trace.resources.len() as u64 {
            return Err(reader.error("a resource index that names no resource"));
        }
        let scope_idx = reader.varint()?;
        if scope_idx >= self.trace.scopes.len() as u64 {
            return Err(reader.error("a scope index that names no scope"));
        }
        let status = match flags >> STATUS_SHIFT {
            0 => Status::Unset,
            1 => Status::Ok,
            2 => Status::Error {
                message: Box::from(&*self.string(reader)?),
            },
            _ => return Err(reader.error("an unknown status")),
        };
        let attributes = self.attributes(reader)?;
        let n_events = reader.count(3)?;
        let mut events = Vec::with_capacity(n_events);
        for _ in 0..n_events {
            let time_unix_nanos = start_unix_nanos.wrapping_add(unzigzag(reader.varint()?) as u64);
            let name = self.string(reader)?;
            let attributes = self.attributes(reader)?;
            events.push(Event {
                time_unix_nanos,
                name,
                attributes,
            });
        }
        let n_links = reader.count(25)?;
        let mut links = Vec::with_capacity(n_links);
        for _ in 0..n_links {
            let trace_id = TraceId(reader.array()?);
            let span_id = SpanId(reader.array()?);
            let attributes = self.attributes(reader)?;
            links.push(Link {
                trace_id,
                span_id,
                attributes,
            });
        }
        Ok(Span {
            trace_id,
            span_id,
            parent_span_id,
            parent_relation: if flags & FLAG_FOLLOWS_FROM != 0 {
                ParentRelation::FollowsFrom
            } else {
                ParentRelation::ChildOf
            },
            name,
            kind,
            start_unix_nanos,
            end_unix_nanos,
            status,
            trace_state,
            trace_flags,
            attributes,
            events,
            links,
            // Both checked against the lists above.
            resource_idx: resource_idx as u32,
            scope_idx: scope_idx as u32,
        })
    }

    fn string(&mut self, reader: &mut Reader) -> Result<Arc<str>, Error> {
        let code = reader.varint()?;
        if code & 1 == 0 {
            return usize::try_from(code >> 1)
                .ok()
                .and_then(|index| self.strings.get(index))
                .cloned()
                .ok_or_else(|| reader.error("a string index that names no string"));
        }
        let len = usize::try_from(code >> 1).map_err(|_| reader.error("a string too long"))?;
        let at = reader.offset;
        let text = std::str::from_utf8(reader.take(len)?).map_err(|_| Error {
            offset: at,
            message: "a string not UTF-8",
        })?;
        let text: Arc<str> = Arc::from(text);
        self.strings.push(text.clone());
        Ok(text)
    }

    fn attributes(&mut self, reader: &mut Reader) -> Result<Vec<KeyValue>, Error> {
        let n_attributes = reader.count(2)?;
        let mut attributes = Vec::with_capacity(n_attributes);
        for _ in 0..n_attributes {
            let key = self.string(reader)?;
            let value = self.value(reader)?;
            attributes.push(KeyValue { key, value });
        }
        Ok(attributes)
    }

    /// A value, arrays read with an explicit stack of the arrays still
    /// being filled (each with the count it announced).
    fn value(&mut self, reader: &mut Reader) -> Result<AttributeValue, Error> {
        let mut open: Vec<(Vec<AttributeValue>, usize)> = Vec::new();
        loop {
            let mut value = match reader.byte()? {
                TAG_STRING => AttributeValue::String(self.string(reader)?),
                TAG_FALSE => AttributeValue::Bool(false),
                TAG_TRUE => AttributeValue::Bool(true),
                TAG_INT => AttributeValue::Int(unzigzag(reader.varint()?)),
                TAG_DOUBLE => AttributeValue::Double(f64::from_le_bytes(reader.array()?)),
                TAG_BYTES => {
                    let len = reader.count(1)?;
                    AttributeValue::Bytes(Box::from(reader.take(len)?))
                }
                TAG_ARRAY => {
                    let len = reader.count(1)?;
                    if len > 0 {
                        if open.len() >= MAX_DEPTH {
                            return Err(reader.error("array values nested too deep"));
                        }
                        open.push((Vec::with_capacity(len), len));
                        continue;
                    }
                    AttributeValue::Array(Box::new([]))
                }
                _ => return Err(reader.error("an unknown value type")),
            };
            // Close every array this value completes.
            loop {
                let Some((values, len)) = open.last_mut() else {
                    return Ok(value);
                };
                values.push(value);
                if values.len() < *len {
                    break;
                }
                let (values, _) = open.pop().unwrap_or_default();
                value = AttributeValue::Array(values.into_boxed_slice());
            }
        }
    }
}

/// The fewest bytes a span can take (flags, span id, start, end, flags,
/// trace state, name, resource, scope, and three empty lists), so that a
/// count never reserves more spans than the bytes could hold.
const SPAN_MIN_BYTES: usize = 1 + 8 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 3;

struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl Reader<'_> {
    fn error(&self, message: &'static str) -> Error {
        Error {
            offset: self.offset,
            message,
        }
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let byte = *self
            .bytes
            .get(self.offset)
            .ok_or_else(|| self.error("ends too soon"))?;
        self.offset += 1;
        Ok(byte)
    }

    fn take(&mut self, len: usize) -> Result<&[u8], Error> {
        let end = self
            .offset
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.error("ends too soon"))?;
        let taken = &self.bytes[self.offset..end];
        self.offset = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("a number longer than 64 bits"))
    }

    /// A count of items each at least `min_bytes` long: refused when the
    /// bytes left could not hold that many, so no count reserves memory the
    /// input does not back.
    fn count(&mut self, min_bytes: usize) -> Result<usize, Error> {
        let count = self.varint()?;
        let left = (self.bytes.len() - self.offset) as u64;
        if count.saturating_mul(min_bytes.max(1) as u64) > left {
            return Err(self.error("a count larger than the bytes left could hold"));
        }
        Ok(count as usize)
    }

    fn end(&self) -> Result<(), Error> {
        if self.offset == self.bytes.len() {
            Ok(())
        } else {
            Err(self.error("bytes left over after the end"))
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    (value >> 1) as i64 ^ -((value & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(trace: &Trace, chunk: usize) -> Result<Trace, Error> {
        let mut encoder = Encoder::default();
        let header = encoder.header(trace);
        let chunks: Vec<Vec<u8>> = trace
            .spans
            .chunks(chunk.max(1))
            .map(|spans| encoder.spans(spans))
            .collect();
        let mut decoder = Decoder::header(&header)?;
        for chunk in &chunks {
            decoder.spans(chunk)?;
        }
        decoder.finish()
    }

    /// A span with everything the model holds, including what the
    /// generator never makes: a nested array, bytes, a follows-from
    /// parent, an end before its start, a trace state, events and links.
    fn odd_trace() -> Trace {
        let mut trace = tracelab_trace::generate(50, 7);
        let span = &mut trace.spans[3];
        span.parent_relation = ParentRelation::FollowsFrom;
        span.end_unix_nanos = span.start_unix_nanos - 5;
        span.trace_state = Box::from("rojo=00f067aa0ba902b7");
        span.status = Status::Error {
            message: Box::from("boom"),
        };
        span.attributes.push(KeyValue::new(
            "nested",
            AttributeValue::Array(Box::new([
                AttributeValue::Array(Box::new([
                    AttributeValue::Int(-3),
                    AttributeValue::Bool(true),
                ])),
                AttributeValue::Array(Box::new([])),
                AttributeValue::Double(2.5),
                AttributeValue::Bytes(Box::new([0, 255, 7])),
            ])),
        ));
        span.events.push(Event {
            time_unix_nanos: 0,
            name: Arc::from("before the epoch of the span"),
            attributes: vec![KeyValue::new("k", AttributeValue::string("v"))],
        });
        span.links.push(Link {
            trace_id: TraceId([9; 16]),
            span_id: SpanId([8; 8]),
            attributes: vec![KeyValue::new("l", AttributeValue::Bool(false))],
        });
        // A span of another trace in the middle: the "same trace" flag must
        // not carry across it.
        trace.spans[10].trace_id = TraceId([1; 16]);
        trace.spans[20].parent_span_id = None;
        trace
    }

    #[test]
    fn a_trace_reads_back_the_same_in_any_chunking() {
        let trace = odd_trace();
        for chunk in [1, 3, 17, 50, 1000] {
            assert_eq!(
                chunked(&trace, chunk).as_ref(),
                Ok(&trace),
                "chunks of {chunk}"
            );
        }
        assert_eq!(decode_trace(&encode_trace(&trace)), Ok(trace));
    }

    #[test]
    fn a_report_reads_back() {
        let mut traces: Vec<Trace> = (0..3)
            .map(|seed| tracelab_trace::generate(20, seed))
            .collect();
        traces[1].spans[0].trace_id = TraceId([7; 16]);
        let report = ImportReport {
            format: "OTLP JSON".to_owned(),
            problems: vec![
                ProblemRow {
                    path: "resourceSpans[0].scopeSpans[2].spans[17].traceId".to_owned(),
                    what: "30 hex digits, expected 32 (the span was skipped)".to_owned(),
                },
                ProblemRow {
                    path: String::new(),
                    what: "not JSON".to_owned(),
                },
            ],
            n_skipped: 1_234,
            traces: crate::import::list_traces(&traces, 10),
            n_traces: 1_000,
        };
        assert_eq!(report.traces.len(), 3);
        assert_eq!(decode_report(&encode_report(&report)), Ok(report));
        assert_eq!(
            decode_report(&encode_report(&ImportReport::default())),
            Ok(ImportReport::default())
        );
        let bytes = encode_report(&ImportReport::default());
        assert!(decode_report(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_report(&[]).is_err());
    }

    #[test]
    fn an_empty_trace_reads_back() {
        assert_eq!(
            decode_trace(&encode_trace(&Trace::default())),
            Ok(Trace::default())
        );
    }

    #[test]
    fn strings_are_shared_after_decoding() {
        let trace = tracelab_trace::generate(2_000, 3);
        let decoded = chunked(&trace, 500).expect("reads back");
        let first = &decoded.spans[0].attributes[0].key;
        let again = decoded
            .spans
            .iter()
            .skip(1)
            .flat_map(|span| &span.attributes)
            .find(|attribute| attribute.key == *first)
            .expect("a key used twice");
        assert!(
            Arc::ptr_eq(first, &again.key),
            "one allocation per distinct string"
        );
    }

    #[test]
    fn the_form_is_compact() {
        // What a share link's size rests on: a few hundred generated spans
        // in well under 100 bytes each before compression.
        let trace = tracelab_trace::generate(300, 1);
        let bytes = encode_trace(&trace);
        assert!(bytes.len() < 300 * 100, "{} bytes", bytes.len());
    }

    #[test]
    fn bad_input_is_an_error_saying_where() {
        let trace = odd_trace();
        let bytes = encode_trace(&trace);
        // Each case: the bytes, and why they are wrong.
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "ends too soon"),
            (vec![2], "not a trace of this version (or not a trace)"),
            (bytes[..bytes.len() - 1].to_vec(), "ends too soon"),
            (
                [bytes.clone(), vec![0]].concat(),
                "bytes left over after the end",
            ),
            (
                vec![VERSION, 0, 0xff, 0xff, 0x03],
                "a count larger than the bytes left could hold",
            ),
            (
                vec![VERSION, 0, 1, 4, 0],
                "a string index that names no string",
            ),
            (
                vec![VERSION, 0, 0, 0, 1],
                "a count larger than the bytes left could hold",
            ),
            (
                vec![
                    VERSION, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
                ],
                "a number longer than 64 bits",
            ),
        ];
        for (input, message) in cases {
            let error = decode_trace(&input).expect_err("must not read");
            assert_eq!(error.message, message, "{input:?}");
        }
    }

    #[test]
    fn indices_must_name_a_resource_and_a_scope() {
        let mut trace = tracelab_trace::generate(5, 1);
        trace.spans[2].resource_idx = trace.resources.len() as u32;
        let error = decode_trace(&encode_trace(&trace)).expect_err("an index past the list");
        assert_eq!(error.message, "a resource index that names no resource");
    }

    #[test]
    fn deep_arrays_are_refused_without_recursion() {
        // 100,000 nested arrays: read with a stack, refused past MAX_DEPTH.
        let mut value = AttributeValue::Int(1);
        for _ in 0..100_000 {
            value = AttributeValue::Array(Box::new([value]));
        }
        let mut trace = tracelab_trace::generate(1, 1);
        trace.spans[0].attributes = vec![KeyValue::new("deep", value)];
        let error = decode_trace(&encode_trace(&trace)).expect_err("too deep");
        assert_eq!(error.message, "array values nested too deep");
        // Drop the value without recursing either: unwrap it level by level.
        let mut value = trace.spans[0]
            .attributes
            .pop()
            .map(|attribute| attribute.value);
        while let Some(AttributeValue::Array(values)) = value {
            value = values.into_vec().pop();
        }
    }

    #[test]
    fn spans_past_the_announced_count_are_refused() {
        let trace = tracelab_trace::generate(4, 1);
        let mut encoder = Encoder::default();
        let mut header_for_two = encoder.header(&Trace {
            spans: trace.spans[..2].to_vec(),
            ..trace.clone()
        });
        let chunk = encoder.spans(&trace.spans);
        let mut decoder = Decoder::header(&header_for_two).expect("a header");
        assert_eq!(
            decoder.spans(&chunk).map_err(|error| error.message),
            Err("more spans than the header announced")
        );
        header_for_two[1] = 4;
        let decoder = Decoder::header(&header_for_two).expect("a header");
        assert_eq!(
            decoder.finish().map_err(|error| error.message),
            Err("fewer spans than the header announced")
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn any_bytes_give_an_error_or_a_trace_never_a_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = decode_trace(&bytes);
        }

        #[test]
        fn any_bytes_as_a_report_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = decode_report(&bytes);
        }

        #[test]
        fn a_corrupted_byte_never_panics(n_spans in 1usize..40, seed in proptest::prelude::any::<u64>(), at in proptest::prelude::any::<usize>(), byte in proptest::prelude::any::<u8>()) {
            let mut bytes = encode_trace(&tracelab_trace::generate(n_spans, seed));
            let at = at % bytes.len();
            bytes[at] = byte;
            let _ = decode_trace(&bytes);
        }

        #[test]
        fn generated_traces_read_back(n_spans in 1usize..300, seed in proptest::prelude::any::<u64>(), chunk in 1usize..100) {
            let trace = tracelab_trace::generate(n_spans, seed);
            proptest::prop_assert_eq!(chunked(&trace, chunk), Ok(trace));
        }
    }
}
