//! Finds `traceparent` and `tracestate` in pasted text: a bare value, header
//! lines, a block of HTTP headers, `curl -v` output, `traceparent=…` in a log
//! line, or a JSON object. The one extractor behind `tracelab decode` and the
//! browser's Decode page.

use crate::receiver::Incoming;
use std::ops::Range;

/// Which header a found value belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderName {
    TraceParent,
    TraceState,
}

impl HeaderName {
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderName::TraceParent => "traceparent",
            HeaderName::TraceState => "tracestate",
        }
    }
}

/// How a header was written in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The whole text is one value, taken as a `traceparent`.
    Bare,
    /// `traceparent: …`, alone or in a block of headers.
    HeaderLine,
    /// `> traceparent: …`, a request header in `curl -v` output.
    CurlRequest,
    /// `traceparent=…` (or `traceparent: …`) inside a longer line.
    LogField,
    /// `"traceparent": "…"` in JSON.
    Json,
}

impl Source {
    /// Words for a person: "a header line", "curl -v output", …
    pub fn describe(self) -> &'static str {
        match self {
            Source::Bare => "a bare value",
            Source::HeaderLine => "a header line",
            Source::CurlRequest => "a request header in curl -v output",
            Source::LogField => "a field in a log line",
            Source::Json => "a JSON property",
        }
    }
}

/// One header value found in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundHeader {
    pub name: HeaderName,
    /// The value, without surrounding whitespace or quotes.
    pub value: String,
    /// Byte range of the value in the text.
    pub start: usize,
    pub end: usize,
    /// 1-based line number.
    pub line: usize,
    pub source: Source,
}

/// A non-empty line that held no trace context, and why it was passed over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredLine {
    /// 1-based line number.
    pub line: usize,
    /// Byte range of the line in the text.
    pub start: usize,
    pub end: usize,
    pub reason: String,
}

/// Everything [`find_headers`] found and passed over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoundHeaders {
    /// In the order they appear in the text.
    pub headers: Vec<FoundHeader>,
    /// The first [`FoundHeaders::MAX_IGNORED`] lines passed over.
    pub ignored: Vec<IgnoredLine>,
    /// Lines passed over beyond those listed.
    pub ignored_omitted: usize,
}

impl FoundHeaders {
    pub const MAX_IGNORED: usize = 100;

    /// Records header `name` whose value is `text[value]`, on line `line`.
    fn push(
        &mut self,
        text: &str,
        name: HeaderName,
        value: Range<usize>,
        line: usize,
        source: Source,
    ) {
        self.headers.push(FoundHeader {
            name,
            value: text[value.clone()].to_owned(),
            start: value.start,
            end: value.end,
            line,
            source,
        });
    }

    pub fn traceparent(&self) -> impl Iterator<Item = &FoundHeader> {
        self.headers
            .iter()
            .filter(|h| h.name == HeaderName::TraceParent)
    }
    pub fn tracestate(&self) -> impl Iterator<Item = &FoundHeader> {
        self.headers
            .iter()
            .filter(|h| h.name == HeaderName::TraceState)
    }
    /// The headers as a receiver gets them.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            traceparent: self.traceparent().map(|h| h.value.as_str()).collect(),
            tracestate: self.tracestate().map(|h| h.value.as_str()).collect(),
        }
    }
    fn ignore(&mut self, line: usize, range: Range<usize>, reason: String) {
        if self.ignored.len() < Self::MAX_IGNORED {
            self.ignored.push(IgnoredLine {
                line,
                start: range.start,
                end: range.end,
                reason,
            });
        } else {
            self.ignored_omitted += 1;
        }
    }
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims spaces, tabs and a trailing carriage return from a byte range.
fn trim(text: &str, mut range: Range<usize>) -> Range<usize> {
    let bytes = text.as_bytes();
    while range.start < range.end && (is_ows(bytes[range.start]) || bytes[range.start] == b'\r') {
        range.start += 1;
    }
    while range.end > range.start && (is_ows(bytes[range.end - 1]) || bytes[range.end - 1] == b'\r')
    {
        range.end -= 1;
    }
    range
}

/// The header name `text` starts with, matched case-insensitively.
fn name_at(bytes: &[u8], at: usize) -> Option<HeaderName> {
    [HeaderName::TraceParent, HeaderName::TraceState]
        .into_iter()
        .find(|name| {
            let n = name.as_str().as_bytes();
            bytes.len() >= at + n.len() && bytes[at..at + n.len()].eq_ignore_ascii_case(n)
        })
}

/// A byte that may be part of a longer name, so a match next to it is not
/// the header (`x-traceparent`, `traceparents`).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Finds every trace context header in `text`.
///
/// Linear in the text and never panics: a megabyte of junk yields an empty
/// result and a capped list of ignored lines. When the text names no header
/// and is a single line, that line is taken as a bare `traceparent` value.
pub fn find_headers(text: &str) -> FoundHeaders {
    let mut found = FoundHeaders::default();
    let bytes = text.as_bytes();
    let mut line_start = 0;
    let mut line_no = 0;
    let mut non_empty = Vec::new();
    while line_start <= bytes.len() {
        line_no += 1;
        let line_end = bytes[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| line_start + i);
        let line = trim(text, line_start..line_end);
        let next = line_end + 1;
        if !line.is_empty() {
            non_empty.push((line_no, line.clone()));
            let before = found.headers.len();
            scan_line(text, line.clone(), line_no, &mut found);
            if found.headers.len() == before {
                let reason = ignore_reason(&text[line.clone()]);
                found.ignore(line_no, line, reason);
            }
        }
        line_start = next;
    }
    if found.headers.is_empty() {
        if let [(line_no, line)] = non_empty.as_slice() {
            found.ignored.clear();
            found.ignored_omitted = 0;
            found.push(
                text,
                HeaderName::TraceParent,
                line.clone(),
                *line_no,
                Source::Bare,
            );
        }
    }
    found
}

/// Says why a line was passed over.
fn ignore_reason(line: &str) -> String {
    if line.starts_with('<') {
        return "a response line in curl -v output".to_owned();
    }
    if line.starts_with('*') {
        return "a curl -v information line".to_owned();
    }
    let unprefixed = line.trim_start_matches(['>', ' ']);
    if let Some((name, _)) = unprefixed.split_once(':') {
        if !name.is_empty() && name.bytes().all(is_name_byte) {
            return format!("another header ({})", name.to_ascii_lowercase());
        }
    }
    "no traceparent or tracestate here".to_owned()
}

/// Finds the headers on one line (already trimmed to `range`).
fn scan_line(text: &str, range: Range<usize>, line_no: usize, found: &mut FoundHeaders) {
    let bytes = text.as_bytes();
    // `> name: value`: a request header in curl -v output.
    let mut at = range.start;
    let mut source = Source::HeaderLine;
    if bytes[at] == b'>' {
        source = Source::CurlRequest;
        at += 1;
        while at < range.end && is_ows(bytes[at]) {
            at += 1;
        }
    } else if bytes[at] == b'<' || bytes[at] == b'*' {
        return;
    }
    // `name: value` filling the line: a header line.
    if let Some(name) = name_at(&bytes[..range.end], at) {
        let mut colon = at + name.as_str().len();
        while colon < range.end && is_ows(bytes[colon]) {
            colon += 1;
        }
        if colon < range.end && bytes[colon] == b':' {
            let value = trim(text, colon + 1..range.end);
            found.push(text, name, value, line_no, source);
            return;
        }
    }
    // Otherwise look for `name=value`, `name: value` or `"name": "value"` anywhere.
    let mut i = range.start;
    while i < range.end {
        let Some(name) = name_at(&bytes[..range.end], i) else {
            i += 1;
            continue;
        };
        let after = i + name.as_str().len();
        let boundary_before = i == range.start || !is_name_byte(bytes[i - 1]);
        let boundary_after = after >= range.end || !is_name_byte(bytes[after]);
        if !(boundary_before && boundary_after) {
            i = after;
            continue;
        }
        match value_after(text, after..range.end, name) {
            Some((value, json)) => {
                let source = if json { Source::Json } else { Source::LogField };
                i = value.end.max(after);
                found.push(text, name, value, line_no, source);
            }
            None => i = after,
        }
    }
}

/// Reads the value that follows a header name inside a line: an optional
/// closing quote, `:` or `=`, an optional opening quote (or `[` and a quote),
/// then the value up to its closing quote or a delimiter. Returns the value's
/// range and whether it looked like JSON.
fn value_after(text: &str, range: Range<usize>, name: HeaderName) -> Option<(Range<usize>, bool)> {
    let bytes = text.as_bytes();
    let mut i = range.start;
    let skip_ows = |i: &mut usize| {
        while *i < range.end && is_ows(bytes[*i]) {
            *i += 1;
        }
    };
    let name_quoted = i < range.end && (bytes[i] == b'"' || bytes[i] == b'\'');
    if name_quoted {
        i += 1;
    }
    skip_ows(&mut i);
    if i >= range.end || !(bytes[i] == b':' || bytes[i] == b'=') {
        return None;
    }
    let json = name_quoted && bytes[i] == b':';
    i += 1;
    skip_ows(&mut i);
    if i < range.end && bytes[i] == b'[' {
        i += 1;
        skip_ows(&mut i);
    }
    let quote = (i < range.end && (bytes[i] == b'"' || bytes[i] == b'\'')).then(|| bytes[i]);
    if quote.is_some() {
        i += 1;
    }
    let start = i;
    let end = match quote {
        Some(q) => bytes[start..range.end]
            .iter()
            .position(|&b| b == q)
            .map_or(range.end, |p| start + p),
        None => {
            // Commas separate a tracestate's members, so only a traceparent
            // ends at one when unquoted.
            let delimiter = |b: u8| {
                b.is_ascii_whitespace()
                    || matches!(b, b';' | b'&' | b'"' | b'\'' | b']' | b'}')
                    || (b == b',' && name == HeaderName::TraceParent)
            };
            bytes[start..range.end]
                .iter()
                .position(|&b| delimiter(b))
                .map_or(range.end, |p| start + p)
        }
    };
    let value = trim(text, start..end);
    (!value.is_empty()).then_some((value, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn values(found: &FoundHeaders) -> Vec<(HeaderName, &str, Source)> {
        found
            .headers
            .iter()
            .map(|h| (h.name, h.value.as_str(), h.source))
            .collect()
    }

    #[test]
    fn bare_value() {
        let found = find_headers(&format!("  {TP}\n"));
        assert_eq!(
            values(&found),
            vec![(HeaderName::TraceParent, TP, Source::Bare)]
        );
        assert_eq!((found.headers[0].start, found.headers[0].end), (2, 57));
    }

    #[test]
    fn header_block_with_several_tracestate_lines() {
        let text = format!("GET /bands/1 HTTP/1.1\r\nHost: localhost\r\nTraceParent: {TP}\r\ntracestate: rojo=1\r\nTRACESTATE: congo=2\r\n");
        let found = find_headers(&text);
        assert_eq!(
            values(&found),
            vec![
                (HeaderName::TraceParent, TP, Source::HeaderLine),
                (HeaderName::TraceState, "rojo=1", Source::HeaderLine),
                (HeaderName::TraceState, "congo=2", Source::HeaderLine),
            ]
        );
        assert_eq!(found.ignored.len(), 2);
        assert_eq!(found.ignored[1].reason, "another header (host)");
        assert_eq!(&text[found.headers[0].start..found.headers[0].end], TP);
    }

    #[test]
    fn curl_verbose_output() {
        let text = format!("* Connected to localhost\n> GET / HTTP/1.1\n> traceparent: {TP}\n>\n< HTTP/1.1 200 OK\n< traceparent: 00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-00\n");
        let found = find_headers(&text);
        assert_eq!(
            values(&found),
            vec![(HeaderName::TraceParent, TP, Source::CurlRequest)]
        );
    }

    #[test]
    fn log_line_and_json() {
        let log = format!(
            "2024-01-01 INFO request done traceparent={TP}, tracestate=rojo=1,congo=2 status=200"
        );
        assert_eq!(
            values(&find_headers(&log)),
            vec![
                (HeaderName::TraceParent, TP, Source::LogField),
                (HeaderName::TraceState, "rojo=1,congo=2", Source::LogField),
            ]
        );
        let json = format!("{{\n  \"traceparent\": \"{TP}\",\n  \"tracestate\": \"rojo=1\"\n}}");
        assert_eq!(
            values(&find_headers(&json)),
            vec![
                (HeaderName::TraceParent, TP, Source::Json),
                (HeaderName::TraceState, "rojo=1", Source::Json),
            ]
        );
    }

    #[test]
    fn names_inside_longer_words_are_not_headers() {
        let found = find_headers("x-traceparent: 1\nmytracestate=2");
        assert!(found.headers.is_empty());
        assert_eq!(found.ignored.len(), 2);
    }

    #[test]
    fn empty_and_junk_input() {
        assert_eq!(find_headers(""), FoundHeaders::default());
        assert_eq!(find_headers(" \n\t\n"), FoundHeaders::default());
        let junk = "é🙂\u{0}\n".repeat(200);
        let found = find_headers(&junk);
        assert!(found.headers.is_empty());
        assert_eq!(found.ignored.len(), FoundHeaders::MAX_IGNORED);
        assert_eq!(found.ignored_omitted, 100);
    }
}
