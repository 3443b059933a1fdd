//! The writers: a trace out as JSON text, written straight into one buffer
//! (no `serde_json::Value` tree, no string per field): the server's Jaeger
//! query answers through them, and a 10,000-span trace takes a few
//! milliseconds to write (`benches/export.rs`).
//!
//! Every object's keys are written in the order a `serde_json::Map` (a
//! `BTreeMap` here) would print them, which is the order the `Value`-based
//! writers before these printed: `tests/same_bytes.rs` keeps those as the
//! reference and checks the bytes are the same. Keys are literals that
//! need no escaping; every string from the trace goes through serde_json
//! ([`Out::string`]), which does the escaping, as do its numbers.
//!
//! Nothing recurses: nested array values are written with an explicit
//! stack ([`Out::value`]), [`crate::MAX_VALUE_DEPTH`] levels at most where
//! the format reads them back as arrays (deeper levels as their text).

mod jaeger;
mod otlp;
mod zipkin;

pub use jaeger::to_jaeger_json;
pub use otlp::{to_api_v3_json, to_otlp_json, to_otlp_json_lines, to_tempo_json};
pub use zipkin::to_zipkin_json;

use std::borrow::Cow;

use tracelab_trace::model::AttributeValue;

use crate::{base64, MAX_VALUE_DEPTH};

/// How an array value and what it holds are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// OTLP `AnyValue`s: `{"arrayValue":{"values":[…]}}` and
    /// `{"stringValue":…}`, …; a double JSON cannot hold as `"NaN"`,
    /// `"Infinity"` or `"-Infinity"`. Past [`MAX_VALUE_DEPTH`] levels an
    /// array is a `stringValue` of its text.
    Otlp,
    /// Plain JSON values (OpenTelemetry's Jaeger mapping of an array):
    /// the doubles and the depth as in [`Style::Otlp`].
    Plain,
    /// Plain JSON values to any depth (Zipkin's tags), a double JSON
    /// cannot hold as its Rust text (`"NaN"`, `"inf"`, `"-inf"`).
    Unbounded,
}

/// The JSON being written.
struct Out {
    bytes: Vec<u8>,
}

impl Out {
    fn with_capacity(capacity: usize) -> Out {
        Out {
            bytes: Vec::with_capacity(capacity),
        }
    }

    /// The text written. Every write is UTF-8, so the check never fails.
    fn into_string(self) -> String {
        String::from_utf8(self.bytes)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
    }

    /// The text written so far (for a value written apart and then
    /// written again as a string).
    fn as_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    fn clear(&mut self) {
        self.bytes.clear();
    }

    /// JSON punctuation and keys: text that needs no escaping.
    fn raw(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
    }

    /// `text` as a JSON string, escaped by serde_json.
    fn string(&mut self, text: &str) {
        // Writing into a `Vec` cannot fail, nor can serialising a `str`.
        let _ = serde_json::to_writer(&mut self.bytes, text);
    }

    fn u64(&mut self, number: u64) {
        let _ = serde_json::to_writer(&mut self.bytes, &number);
    }

    fn i64(&mut self, number: i64) {
        let _ = serde_json::to_writer(&mut self.bytes, &number);
    }

    /// A finite double as serde_json writes it (shortest text that reads
    /// back the same).
    fn finite_f64(&mut self, number: f64) {
        let _ = serde_json::to_writer(&mut self.bytes, &number);
    }

    /// A number as a JSON string (OTLP's 64-bit integers).
    fn u64_string(&mut self, number: u64) {
        self.raw("\"");
        self.u64(number);
        self.raw("\"");
    }

    /// Bytes as a JSON string of lowercase hex (ids).
    fn hex(&mut self, bytes: &[u8]) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        self.bytes.reserve(bytes.len() * 2 + 2);
        self.bytes.push(b'"');
        for byte in bytes {
            self.bytes.push(DIGITS[usize::from(byte >> 4)]);
            self.bytes.push(DIGITS[usize::from(byte & 15)]);
        }
        self.bytes.push(b'"');
    }

    /// Bytes as a JSON string of base64 (standard alphabet, padded).
    fn base64(&mut self, bytes: &[u8]) {
        self.string(&base64::encode(bytes));
    }

    /// A value as OTLP's `AnyValue`.
    fn any_value(&mut self, value: &AttributeValue) {
        self.value(value, Style::Otlp);
    }

    /// `value` in `style`: a scalar at once, an array with an explicit
    /// stack of the arrays open around the item being written.
    fn value(&mut self, value: &AttributeValue, style: Style) {
        let AttributeValue::Array(items) = value else {
            self.scalar(value, style);
            return;
        };
        let (open, close) = match style {
            Style::Otlp => ("{\"arrayValue\":{\"values\":[", "]}}"),
            Style::Plain | Style::Unbounded => ("[", "]"),
        };
        let max_depth = match style {
            Style::Otlp | Style::Plain => MAX_VALUE_DEPTH,
            Style::Unbounded => usize::MAX,
        };
        self.raw(open);
        // Each array open around the item being written: its items and how
        // many of them are written.
        let mut stack: Vec<(&[AttributeValue], usize)> = vec![(items, 0)];
        while let Some((items, written)) = stack.last_mut() {
            let Some(item) = items.get(*written) else {
                stack.pop();
                self.raw(close);
                continue;
            };
            if *written > 0 {
                self.raw(",");
            }
            *written += 1;
            match item {
                AttributeValue::Array(items) if stack.len() < max_depth => {
                    self.raw(open);
                    stack.push((items, 0));
                }
                other => self.scalar(other, style),
            }
        }
    }

    /// A value that is not opened as an array in `style`.
    fn scalar(&mut self, value: &AttributeValue, style: Style) {
        let key = match (style, value) {
            (Style::Plain | Style::Unbounded, _) => None,
            (Style::Otlp, AttributeValue::String(_) | AttributeValue::Array(_)) => {
                Some("{\"stringValue\":")
            }
            (Style::Otlp, AttributeValue::Bool(_)) => Some("{\"boolValue\":"),
            (Style::Otlp, AttributeValue::Int(_)) => Some("{\"intValue\":"),
            (Style::Otlp, AttributeValue::Double(_)) => Some("{\"doubleValue\":"),
            (Style::Otlp, AttributeValue::Bytes(_)) => Some("{\"bytesValue\":"),
        };
        if let Some(key) = key {
            self.raw(key);
        }
        match value {
            AttributeValue::String(text) => self.string(text),
            AttributeValue::Bool(flag) => self.raw(if *flag { "true" } else { "false" }),
            AttributeValue::Int(number) if style == Style::Otlp => {
                self.raw("\"");
                self.i64(*number);
                self.raw("\"");
            }
            AttributeValue::Int(number) => self.i64(*number),
            AttributeValue::Double(number) if number.is_finite() => self.finite_f64(*number),
            AttributeValue::Double(number) if style == Style::Unbounded => {
                self.string(&number.to_string())
            }
            AttributeValue::Double(number) => self.string(if number.is_nan() {
                "NaN"
            } else if *number > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }),
            AttributeValue::Bytes(bytes) => self.base64(bytes),
            // Past the depth cap: the array as a person reads it.
            AttributeValue::Array(_) => self.string(&value.to_string()),
        }
        if key.is_some() {
            self.raw("}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{import, Format};
    use tracelab_trace::model::AttributeValue;

    /// A Zipkin tag's text: a string as it is, anything else as its JSON text.
    fn tag_text(value: &AttributeValue) -> String {
        match value {
            AttributeValue::String(text) => text.to_string(),
            other => {
                let mut out = Out::with_capacity(0);
                out.value(other, Style::Unbounded);
                out.into_string()
            }
        }
    }

    #[test]
    fn each_writer_reads_back_as_its_format_with_no_problems() {
        let trace = tracelab_trace::generate(300, 18);
        let n_spans = trace.spans.len();
        // Two lines (one alone is plain OTLP JSON), the same spans twice.
        for (format, text, expected) in [
            (Format::ZipkinJson, to_zipkin_json(&trace), n_spans),
            (Format::JaegerApiV3, to_api_v3_json(&trace), n_spans),
            (Format::TempoJson, to_tempo_json(&trace), n_spans),
            (
                Format::OtlpJsonLines,
                to_otlp_json_lines(&[trace.clone(), trace.clone()]),
                2 * n_spans,
            ),
        ] {
            let imported = import(text.as_bytes());
            assert_eq!(imported.format, format);
            assert!(
                imported.skipped.is_empty(),
                "{format}: {:?}",
                imported.skipped
            );
            let spans: usize = imported.traces.iter().map(|trace| trace.spans.len()).sum();
            assert_eq!(spans, expected, "{format}");
        }
    }

    #[test]
    fn otlp_in_another_envelope_keeps_every_span_exactly() {
        let trace = tracelab_trace::generate(300, 7);
        let through_otlp = import(to_otlp_json(&trace).as_bytes()).traces;
        for text in [
            to_api_v3_json(&trace),
            to_tempo_json(&trace),
            to_otlp_json_lines(std::slice::from_ref(&trace)),
        ] {
            assert_eq!(import(text.as_bytes()).traces, through_otlp);
        }
    }

    #[test]
    fn zipkin_keeps_what_zipkin_carries() {
        let trace = tracelab_trace::generate(300, 11);
        let back = &import(to_zipkin_json(&trace).as_bytes()).traces;
        let spans: Vec<_> = back.iter().flat_map(|trace| trace.spans.iter()).collect();
        for (span_idx, span) in trace.spans.iter().enumerate() {
            let read = spans
                .iter()
                .find(|read| read.span_id == span.span_id)
                .unwrap_or_else(|| panic!("span {} is missing", span.span_id));
            assert_eq!(read.trace_id, span.trace_id);
            assert_eq!(read.name, span.name);
            assert_eq!(
                read.parent_span_id.filter(|parent| !parent.is_zero()),
                span.parent_span_id.filter(|parent| !parent.is_zero())
            );
            assert_eq!(read.start_unix_nanos, span.start_unix_nanos / 1000 * 1000);
            assert_eq!(read.events.len(), span.events.len());
            assert_eq!(
                std::mem::discriminant(&read.status),
                std::mem::discriminant(&span.status)
            );
            let service = back
                .iter()
                .find(|trace| trace.spans.iter().any(|read| read.span_id == span.span_id))
                .and_then(|trace| {
                    let idx = trace
                        .spans
                        .iter()
                        .position(|read| read.span_id == span.span_id)?;
                    Some(trace.service_name(idx).to_owned())
                });
            assert_eq!(service.as_deref(), Some(trace.service_name(span_idx)));
            for attribute in &span.attributes {
                let found = read.attributes.iter().find(|kv| kv.key == attribute.key);
                assert_eq!(
                    found.map(|kv| tag_text(&kv.value)),
                    Some(tag_text(&attribute.value)),
                    "{}",
                    attribute.key
                );
            }
        }
    }

    #[test]
    fn arrays_are_json_text_without_recursion() {
        let mut value = AttributeValue::Int(1);
        for _ in 0..10_000 {
            value = AttributeValue::Array(vec![value, AttributeValue::string("a\"b")].into());
        }
        let text = tag_text(&value);
        assert!(text.starts_with("[[[["));
        assert!(text.ends_with(",\"a\\\"b\"]"));
        assert_eq!(
            tag_text(&AttributeValue::Bytes(vec![0, 0, 48, 57].into())),
            "\"AAAwOQ==\""
        );
        assert_eq!(tag_text(&AttributeValue::Double(f64::NAN)), "\"NaN\"");
    }
}
