//! Trace files into the [`tracelab_trace`] model, and the model back out.
//!
//! ```
//! use tracelab_formats::{import, to_otlp_json, Format};
//!
//! // Two spans as Zipkin v2 writes them (times in microseconds).
//! let file = br#"[
//!   {"traceId": "463ac35c9f6413ad", "id": "a2fb4a1d1a96d312", "name": "get /bands",
//!    "kind": "SERVER", "timestamp": 1700000000000000, "duration": 2500,
//!    "localEndpoint": {"serviceName": "bands-api"}},
//!   {"traceId": "463ac35c9f6413ad", "id": "b7ad6b7169203331", "parentId": "a2fb4a1d1a96d312",
//!    "name": "select", "timestamp": 1700000000000500, "duration": 1000,
//!    "localEndpoint": {"serviceName": "bands-api"}, "tags": {"db.system": "sqlite"}}
//! ]"#;
//! let imported = import(file);
//! assert_eq!(imported.format, Format::ZipkinJson);
//! assert!(imported.skipped.is_empty());
//! let trace = &imported.traces[0];
//! assert_eq!(trace.spans.len(), 2);
//! assert_eq!(trace.service_name(1), "bands-api");
//! assert_eq!(trace.spans[1].parent_span_id, Some(trace.spans[0].span_id));
//!
//! // Out again as OTLP JSON, which reads back to the same spans.
//! let otlp = to_otlp_json(trace);
//! let again = import(otlp.as_bytes());
//! assert_eq!(again.format, Format::OtlpJson);
//! assert_eq!(again.traces[0].spans[1].name, trace.spans[1].name);
//! ```
//!
//! What it reads ([`import`], after [`detect`]):
//! - Jaeger JSON: Jaeger UI's download and the query API's
//!   `/api/traces/{id}` (`{"data": [{traceID, spans, processes}]}`, one
//!   trace or several);
//! - Zipkin v2 JSON (a list of spans), with shared client/server span ids
//!   separated as Zipkin means them;
//! - OTLP JSON (`{"resourceSpans": …}`, as the OTLP specification maps the
//!   protobuf to JSON), and the line-delimited form the OpenTelemetry
//!   Collector's file exporter writes (one request per line);
//! - Jaeger's api_v3 (`{"result": {"resourceSpans": …}}`, one per line when
//!   streamed) and Tempo's `{"batches": […]}` with base64 ids.
//!
//! What it writes: [`to_otlp_json`], [`to_jaeger_json`], [`to_zipkin_json`],
//! and OTLP in the other envelopes ([`to_api_v3_json`], [`to_tempo_json`],
//! [`to_otlp_json_lines`]). The JSON is written straight into one buffer,
//! keys in the order a JSON map prints them (no `serde_json::Value` is
//! built: a 10,000-span trace takes a few milliseconds).
//!
//! A partly broken file imports what it can: each [`Problem`] names the
//! field by its path (`resourceSpans[0].scopeSpans[2].spans[17].traceId: 30
//! hex digits, expected 32`) and what was left out because of it.
//!
//! What it is not for: reading files or the network (the caller brings the
//! bytes: the app's import worker, `tracelab import`), building the span
//! tree (that is [`tracelab_trace::tree`]), nor protobuf (the collector
//! decodes that).
//!
//! # Bounds
//!
//! - Time is linear in the input: one pass of `serde_json` into typed
//!   values that borrow their strings from the input (unknown fields are
//!   skipped unbuilt; every field is lenient, so a value of the wrong type
//!   is kept as what was found and reported with its path instead of
//!   failing the file), one pass over them into the model, hash maps for
//!   grouping and interning. Memory is those values (of the order of the
//!   file's size: strings are not copied; a Zipkin file's spans are held
//!   one at a time) plus the model.
//! - Nothing recurses on the input but serde_json's own descent, one level
//!   of it for one level of JSON: JSON nested more than 128 levels where
//!   tracelab reads it is refused by `serde_json`'s limit: the file (or the
//!   line) is not read, and the problem says where. (An unknown field is
//!   skipped by serde_json without descending, however deep.) Attribute
//!   values are walked with an explicit stack and nested at most
//!   [`MAX_VALUE_DEPTH`] deep (a deeper value drops its attribute, with a
//!   problem saying so).
//! - Writing is linear in the trace and recurses on nothing either: nested
//!   array values are written with an explicit stack, at most
//!   [`MAX_VALUE_DEPTH`] levels as arrays in OTLP and Jaeger (deeper
//!   levels as their text), any depth in Zipkin's tags (which are text).
//! - At most [`MAX_PROBLEMS`] problems are kept; [`Imported::n_skipped`]
//!   counts them all.

mod base64;
mod jaeger;
mod otlp;
mod path;
mod raw;
mod read;
mod write;
mod zipkin;

use std::fmt;

use tracelab_trace::model::Trace;

pub use write::{
    to_api_v3_json, to_jaeger_json, to_otlp_json, to_otlp_json_lines, to_tempo_json, to_zipkin_json,
};

use path::Path;
use raw::Field;
use read::Reader;
use tracelab_trace::group::TraceGrouper;

/// How deep attribute values may nest (arrays in arrays, OTLP's key-value
/// lists), on import and on export. No semantic convention nests at all.
pub const MAX_VALUE_DEPTH: usize = 32;

/// How many problems an import keeps; the rest are only counted.
pub const MAX_PROBLEMS: usize = 1000;

/// A trace file format [`detect`] recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Jaeger's query API and Jaeger UI's download: `{"data": [trace, …]}`.
    JaegerJson,
    /// Zipkin's v2 JSON: a list of spans.
    ZipkinJson,
    /// One OTLP `ExportTraceServiceRequest` in JSON: `{"resourceSpans": …}`.
    OtlpJson,
    /// The OpenTelemetry Collector's file exporter: one OTLP JSON request
    /// per line.
    OtlpJsonLines,
    /// Jaeger's api_v3: `{"result": {"resourceSpans": …}}`, possibly one per line.
    JaegerApiV3,
    /// Tempo's trace by id: `{"batches": [resourceSpans, …]}`, ids in base64.
    TempoJson,
    /// Not a format tracelab reads (or not JSON).
    Unknown,
}

impl Format {
    /// The name to show a person ("the file is Zipkin v2 JSON").
    pub fn name(self) -> &'static str {
        match self {
            Format::JaegerJson => "Jaeger JSON",
            Format::ZipkinJson => "Zipkin v2 JSON",
            Format::OtlpJson => "OTLP JSON",
            Format::OtlpJsonLines => "OTLP JSON lines (OpenTelemetry Collector file exporter)",
            Format::JaegerApiV3 => "Jaeger api_v3 JSON",
            Format::TempoJson => "Tempo JSON",
            Format::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a problem cost: the smallest part of the file left out because of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dropped {
    /// Nothing could be read (not JSON, or not a format tracelab reads).
    File,
    /// One line of a line-delimited file.
    Line,
    /// A batch: a resource's or a scope's spans, or a Jaeger trace.
    Batch,
    Span,
    Attribute,
    Event,
    Link,
    /// A field's value was ignored and the span kept without it (an unknown
    /// span kind, a process id that names no process, …).
    Value,
}

impl Dropped {
    fn as_str(self) -> &'static str {
        match self {
            Dropped::File => "nothing was imported",
            Dropped::Line => "the line was skipped",
            Dropped::Batch => "the batch was skipped",
            Dropped::Span => "the span was skipped",
            Dropped::Attribute => "the attribute was skipped",
            Dropped::Event => "the event was skipped",
            Dropped::Link => "the link was skipped",
            Dropped::Value => "the value was ignored",
        }
    }
}

/// One thing an import could not read: where, which rule it broke, and
/// what was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field's path, `resourceSpans[0].scopeSpans[2].spans[17].traceId`;
    /// `line 3: …` in a line-delimited file; `""` for the whole file.
    pub path: String,
    /// What was wrong: `30 hex digits, expected 32`.
    pub message: String,
    pub dropped: Dropped,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} ({})", self.message, self.dropped.as_str())
        } else {
            write!(
                f,
                "{}: {} ({})",
                self.path,
                self.message,
                self.dropped.as_str()
            )
        }
    }
}

/// The result of [`import`]: the traces read and the problems met.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub format: Format,
    /// One per trace id, in the order their first span appears in the file.
    pub traces: Vec<Trace>,
    /// What could not be read, in file order (the first [`MAX_PROBLEMS`]).
    pub skipped: Vec<Problem>,
    /// How many problems there were in all (at least `skipped.len()`).
    pub n_skipped: usize,
}

/// The format of a trace file, from its first top-level keys, without
/// reading the whole file: one pass over the bytes that stops early for
/// everything but OTLP JSON and api_v3 (which read to the end of the first
/// value, to tell a single request from a line-delimited file).
pub fn detect(bytes: &[u8]) -> Format {
    detect_with_lines(bytes).0
}

/// The format, and whether the file holds more than one JSON value (a
/// line-delimited file).
fn detect_with_lines(bytes: &[u8]) -> (Format, bool) {
    scan_first_value(bytes, true)
}

/// The format, from the first keys only: OTLP JSON and api_v3 are told as
/// soon as their key is seen (whether more values follow is not looked
/// for), everything else as [`detect_with_lines`] tells it.
fn detect_quickly(bytes: &[u8]) -> Format {
    scan_first_value(bytes, false).0
}

/// [`detect_with_lines`], or with `to_the_end` false, [`detect_quickly`].
fn scan_first_value(bytes: &[u8], to_the_end: bool) -> (Format, bool) {
    let mut position = 0;
    // A UTF-8 byte order mark, as some editors write.
    if bytes.starts_with(&[0xef, 0xbb, 0xbf]) {
        position = 3;
    }
    while position < bytes.len() && bytes[position].is_ascii_whitespace() {
        position += 1;
    }
    // An object is told by its own keys; a list (Zipkin's spans, or Jaeger
    // traces as a bare list) by the keys of its first element.
    let (key_depth, is_list) = match bytes.get(position) {
        Some(b'[') => (2, true),
        Some(b'{') => (1, false),
        _ => return (Format::Unknown, false),
    };
    // Scan the first value, noting each key at `key_depth`, without building
    // anything: strings are skipped with their escapes, brackets counted.
    let mut depth = 0usize;
    let mut found = Format::Unknown;
    let mut index = position;
    while index < bytes.len() {
        match bytes[index] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                // The end of a list's first element: its keys told nothing.
                if depth == 0 || (is_list && depth == 1) {
                    index += 1;
                    break;
                }
            }
            b'"' => {
                let start = index + 1;
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' {
                    if bytes[index] == b'\\' {
                        index += 1;
                    }
                    index += 1;
                }
                let end = index.min(bytes.len());
                if depth == key_depth && found == Format::Unknown {
                    let mut after = end + 1;
                    while after < bytes.len() && bytes[after].is_ascii_whitespace() {
                        after += 1;
                    }
                    if bytes.get(after) == Some(&b':') && is_list {
                        match &bytes[start..end] {
                            b"traceId" | b"id" | b"parentId" | b"localEndpoint" => {
                                return (Format::ZipkinJson, false)
                            }
                            b"traceID" | b"spans" | b"processes" => {
                                return (Format::JaegerJson, false)
                            }
                            _ => {}
                        }
                    } else if bytes.get(after) == Some(&b':') {
                        found = match &bytes[start..end] {
                            b"resourceSpans" | b"resource_spans" => Format::OtlpJson,
                            b"result" => Format::JaegerApiV3,
                            b"batches" => Format::TempoJson,
                            // `data` for the query API; `traceID`, `spans`,
                            // `processes` for one trace on its own.
                            b"data" | b"traceID" | b"spans" | b"processes" => {
                                return (Format::JaegerJson, false)
                            }
                            _ => Format::Unknown,
                        };
                        if found == Format::TempoJson || (found != Format::Unknown && !to_the_end) {
                            return (found, false);
                        }
                    }
                }
            }
            _ => {}
        }
        index += 1;
    }
    // A list whose first element told nothing (an empty list) is read as
    // Zipkin's, and its problems say what was found.
    if is_list {
        return (Format::ZipkinJson, false);
    }
    // A second value after the first: one request per line.
    let more = bytes[index.min(bytes.len())..]
        .iter()
        .any(|byte| !byte.is_ascii_whitespace());
    match found {
        Format::OtlpJson if more => (Format::OtlpJsonLines, true),
        other => (other, more),
    }
}

/// Reads a trace file: detects its format, reads every span it can, groups
/// them into traces by trace id, and lists what it could not read.
pub fn import(bytes: &[u8]) -> Imported {
    let mut builder = TraceGrouper::new();
    let mut reader = Reader::default();
    let format = read_file(bytes, &mut builder, &mut reader);
    let problems = reader.problems;
    Imported {
        format,
        traces: builder.finish(),
        skipped: problems.list,
        n_skipped: problems.total,
    }
}

/// Reads the whole file, as one value or one per line; its format.
fn read_file(bytes: &[u8], builder: &mut TraceGrouper, reader: &mut Reader) -> Format {
    let without_mark = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    // OTLP JSON and api_v3 may be one value or one per line. Reading the
    // file as one value first spares a scan of the whole file for the
    // common case; only a file that is not one value is scanned to tell.
    let quick = detect_quickly(bytes);
    let first_error = match quick {
        Format::OtlpJson | Format::JaegerApiV3 => {
            match read_document(quick, without_mark, &Path::ROOT, builder, reader) {
                Ok(()) => return quick,
                Err(error) => Some(error),
            }
        }
        _ => None,
    };
    let (format, lines) = detect_with_lines(bytes);
    if lines {
        for (line_idx, line) in without_mark.split(|&byte| byte == b'\n').enumerate() {
            if line.iter().all(|byte| byte.is_ascii_whitespace()) {
                continue;
            }
            let path = Path::line(line_idx + 1);
            if let Err(error) = read_document(format, line, &path, builder, reader) {
                reader
                    .problems
                    .at(&path, format!("not JSON: {error}"), Dropped::Line);
            }
        }
        return format;
    }
    let result = match first_error {
        Some(error) => Err(error),
        None => read_document(format, without_mark, &Path::ROOT, builder, reader),
    };
    if let Err(error) = result {
        reader
            .problems
            .at(&Path::ROOT, format!("not JSON: {error}"), Dropped::File);
    }
    format
}

/// Reads one JSON document of `format` into its typed shape, then walks it.
/// The only error is the document's own: not JSON, or nested too deep
/// (every field is read leniently, see [`raw`]).
fn read_document(
    format: Format,
    bytes: &[u8],
    path: &Path,
    builder: &mut TraceGrouper,
    reader: &mut Reader,
) -> Result<(), serde_json::Error> {
    match format {
        Format::JaegerJson => {
            let mut file: Field<raw::JaegerFile> = Field::Absent;
            raw::read(bytes, &mut file)?;
            jaeger::read(&file, path, builder, reader);
        }
        Format::ZipkinJson => zipkin::read(bytes, path, builder, reader)?,
        Format::OtlpJson | Format::OtlpJsonLines => {
            let mut request: Field<raw::OtlpRequest> = Field::Absent;
            raw::read(bytes, &mut request)?;
            otlp::read_request(&request, path, builder, reader);
        }
        Format::JaegerApiV3 => {
            let mut answer: Field<raw::ApiV3> = Field::Absent;
            raw::read(bytes, &mut answer)?;
            otlp::read_api_v3(&answer, path, builder, reader);
        }
        Format::TempoJson => {
            let mut trace: Field<raw::Tempo> = Field::Absent;
            raw::read(bytes, &mut trace)?;
            otlp::read_tempo(&trace, path, builder, reader);
        }
        Format::Unknown => {
            let mut file: Field<raw::Keys> = Field::Absent;
            raw::read(bytes, &mut file)?;
            let found = match file.get() {
                Ok(raw::Keys(keys)) => {
                    // In the order of their names, as a JSON map lists them.
                    let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                    keys.sort_unstable();
                    keys.dedup();
                    keys.truncate(8);
                    format!("an object with the keys {keys:?}")
                }
                Err(found) => found.describe(),
            };
            reader.problems.at(
                path,
                format!(
                    "not a trace file tracelab reads: expected Jaeger's {{\"data\": …}}, a Zipkin \
                     list of spans, OTLP's {{\"resourceSpans\": …}}, api_v3's {{\"result\": …}} \
                     or Tempo's {{\"batches\": …}}; found {found}"
                ),
                Dropped::File,
            );
        }
    }
    Ok(())
}
