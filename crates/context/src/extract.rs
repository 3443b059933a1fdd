//! Finds `traceparent` and `tracestate` in pasted text: a bare value, header
//! lines, a block of HTTP headers, `curl -v` output, `traceparent=…` in a log
//! line, or a JSON object; and, beside them, other systems' trace headers
//! ([`crate::systems`]) and names that look like a misspelt trace context
//! header. The one extractor behind `tracelab decode` and the browser's
//! Decode page.

use crate::receiver::Incoming;
use crate::systems::Carried;
use crate::traceparent::TraceParent;
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
    /// Where the value was cut short and why, when the text may hold more of
    /// it (an unquoted `tracestate` in a log line ends at a space).
    pub note: Option<String>,
}

/// A header of another system, or a name close to a trace context header,
/// and what it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherHeader {
    /// The name as written.
    pub name: String,
    /// The value, without surrounding whitespace or quotes, cut to 300 characters.
    pub value: String,
    /// Byte range of the value in the text.
    pub start: usize,
    pub end: usize,
    /// 1-based line number.
    pub line: usize,
    pub source: Source,
    pub carried: Carried,
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
    /// Other systems' headers and near-misses, the first [`FoundHeaders::MAX_IGNORED`].
    pub others: Vec<OtherHeader>,
    /// Other headers found beyond those listed.
    pub others_omitted: usize,
    /// Which bare value was taken as the `traceparent` and why, when more
    /// than one could have been.
    pub choice: Option<String>,
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
        note: Option<String>,
    ) {
        self.headers.push(FoundHeader {
            name,
            value: text[value.clone()].to_owned(),
            start: value.start,
            end: value.end,
            line,
            source,
            note,
        });
    }

    /// Records another system's header `name` whose value is `text[value]`.
    fn other(
        &mut self,
        text: &str,
        name: &str,
        value: Range<usize>,
        line: usize,
        source: Source,
        carried: Carried,
    ) {
        if self.others.len() >= Self::MAX_IGNORED {
            self.others_omitted += 1;
            return;
        }
        self.others.push(OtherHeader {
            name: name.to_owned(),
            value: crate::traceparent::display_text(&text[value.clone()], 300),
            start: value.start,
            end: value.end,
            line,
            source,
            carried,
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
    /// Lists a line passed over, in text order (bare candidates passed over
    /// are listed after the scan, among the others).
    fn ignore(&mut self, line: usize, range: Range<usize>, reason: String) {
        if self.ignored.len() < Self::MAX_IGNORED {
            let at = self.ignored.partition_point(|l| l.start < range.start);
            self.ignored.insert(
                at,
                IgnoredLine {
                    line,
                    start: range.start,
                    end: range.end,
                    reason,
                },
            );
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

/// A byte that may be part of a longer name, so a match next to it is not
/// the header (`x-traceparent`, `traceparents`).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Finds every trace context header in `text`.
///
/// Linear in the text and never panics: a megabyte of junk yields an empty
/// result and a capped list of ignored lines.
///
/// A line in `name: value` shape is a header called `name`: the trace
/// context headers are read, other systems' trace headers are recognised
/// ([`crate::systems`]), a name close to a trace context header gets a "did
/// you mean", and others are passed over; such a line is never read as a
/// bare value. A line that is only a value shaped like a `traceparent`
/// (`00-…`) is a bare candidate wherever it stands; so is the text's only
/// line, whatever it holds. A named `traceparent` wins over bare
/// candidates, and among them the first valid one wins; [`FoundHeaders::choice`]
/// says which was taken and why.
pub fn find_headers(text: &str) -> FoundHeaders {
    let mut found = FoundHeaders::default();
    let bytes = text.as_bytes();
    let mut line_start = 0;
    let mut line_no = 0;
    let mut non_empty = 0;
    let mut lone = None;
    // Bare candidates: (line, range), at most MAX_IGNORED kept.
    let mut bare = Vec::new();
    while line_start <= bytes.len() {
        line_no += 1;
        let line_end = bytes[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| line_start + i);
        let line = trim(text, line_start..line_end);
        let next = line_end + 1;
        if !line.is_empty() {
            non_empty += 1;
            let count = |found: &FoundHeaders| {
                found.headers.len() + found.others.len() + found.others_omitted
            };
            let before = count(&found);
            let shape = scan_line(text, line.clone(), line_no, &mut found);
            if count(&found) == before {
                let value = matches!(shape, LineShape::Value);
                if value
                    && looks_like_traceparent(&text[line.clone()])
                    && bare.len() < FoundHeaders::MAX_IGNORED
                {
                    bare.push((line_no, line.clone()));
                } else {
                    if value {
                        lone = Some((line_no, line.clone()));
                    }
                    let reason = ignore_reason(&text[line.clone()]);
                    found.ignore(line_no, line, reason);
                }
            }
        }
        line_start = next;
    }
    // The text's only line, with nothing found in it, is taken whole.
    if non_empty == 1 && found.headers.is_empty() && found.others.is_empty() && bare.is_empty() {
        if let Some(only) = lone {
            found.ignored.clear();
            found.ignored_omitted = 0;
            bare.push(only);
        }
    }
    choose_bare(text, &mut found, bare);
    found
}

/// Takes one bare candidate as the `traceparent`, or none when a named one
/// was found, and says why; the others are listed as ignored lines.
fn choose_bare(text: &str, found: &mut FoundHeaders, bare: Vec<(usize, Range<usize>)>) {
    if bare.is_empty() {
        return;
    }
    let named = found.traceparent().next().map(|h| h.line);
    let taken = match named {
        Some(_) => None,
        None => Some(
            bare.iter()
                .position(|(_, r)| is_traceparent(&text[r.clone()]))
                .unwrap_or(0),
        ),
    };
    let any_valid = taken.is_some_and(|i| is_traceparent(&text[bare[i].1.clone()]));
    for (i, (line, range)) in bare.iter().enumerate() {
        if Some(i) == taken {
            continue;
        }
        let reason = match (named, taken) {
            (Some(header), _) => format!(
                "a bare value shaped like a traceparent; the traceparent header on line {header} was taken instead, as a receiver reads only the header"
            ),
            (None, Some(t)) => format!("a bare value shaped like a traceparent; line {} was taken instead", bare[t].0),
            (None, None) => String::new(),
        };
        found.ignore(*line, range.clone(), reason);
    }
    let Some(t) = taken else {
        found.choice = Some(format!(
            "{} passed over: the traceparent header on line {} is the one a receiver reads.",
            crate::quote::count(
                bare.len(),
                "bare value shaped like a traceparent was",
                "bare values shaped like a traceparent were"
            ),
            named.unwrap_or_default()
        ));
        return;
    };
    let (line, range) = bare[t].clone();
    if bare.len() > 1 {
        found.choice = Some(if any_valid {
            format!(
                "Line {line} was taken as the traceparent: of the {} bare values shaped like one, it is the first that is valid.",
                bare.len()
            )
        } else {
            format!(
                "Line {line} was taken as the traceparent: none of the {} bare values shaped like one is valid, so the first is decoded.",
                bare.len()
            )
        });
    }
    let at = found.headers.partition_point(|h| h.start < range.start);
    found.headers.insert(
        at,
        FoundHeader {
            name: HeaderName::TraceParent,
            value: text[range.clone()].to_owned(),
            start: range.start,
            end: range.end,
            line,
            source: Source::Bare,
            note: None,
        },
    );
}

/// `value` read as a valid `traceparent`. Not inlined: the parser is
/// already in the binary once, and copies of it in the finder would only
/// add to the browser's first load.
#[inline(never)]
pub(crate) fn traceparent_of(value: &str) -> Option<TraceParent> {
    TraceParent::parse(value).ok()
}

fn is_traceparent(value: &str) -> bool {
    traceparent_of(value).is_some()
}

/// A line that is only a value shaped like a `traceparent`: no space inside,
/// and two characters (the version), after an opening quote if any, then
/// '-' and at least one more '-'. A UUID or a date has a longer first part.
fn looks_like_traceparent(line: &str) -> bool {
    let value = line.trim_start_matches(['"', '\'', '`']);
    let bytes = value.as_bytes();
    !bytes.iter().any(u8::is_ascii_whitespace)
        && bytes.get(2) == Some(&b'-')
        && !bytes[..2].contains(&b'-')
        && bytes[3..].contains(&b'-')
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
    "no trace context header here".to_owned()
}

/// What a line was, as far as [`find_headers`] cares when nothing was found in it.
enum LineShape {
    /// `name: value`, or a curl -v line: never a bare value.
    Header,
    /// Anything else: maybe a bare value.
    Value,
}

/// The end of a header name starting at `at`: token characters (and '.'),
/// then optional whitespace and ':'. Returns the name's end and the colon's position.
fn header_shape(bytes: &[u8], at: usize, end: usize) -> Option<(usize, usize)> {
    let mut i = at;
    while i < end && (is_name_byte(bytes[i]) || bytes[i] == b'.') {
        i += 1;
    }
    let name_end = i;
    while i < end && is_ows(bytes[i]) {
        i += 1;
    }
    (name_end > at && i < end && bytes[i] == b':').then_some((name_end, i))
}

/// Finds the headers on one line (already trimmed to `range`).
fn scan_line(
    text: &str,
    range: Range<usize>,
    line_no: usize,
    found: &mut FoundHeaders,
) -> LineShape {
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
        return LineShape::Header;
    }
    // `name: value` filling the line: a header line.
    let shape = header_shape(bytes, at, range.end);
    if let Some((name_end, colon)) = shape {
        let name = &text[at..name_end];
        let value = trim(text, colon + 1..range.end);
        if let Some(header) = trace_context_name(name) {
            found.push(text, header, value, line_no, source, None);
            return LineShape::Header;
        }
        if let Some(carried) = crate::systems::recognise(name, &text[value.clone()]) {
            found.other(text, name, value, line_no, source, carried);
            return LineShape::Header;
        }
    }
    // Otherwise look for `name=value`, `name: value` or `"name": "value"` anywhere.
    let before = (
        found.headers.len(),
        found.others.len() + found.others_omitted,
    );
    scan_fields(text, range.clone(), line_no, found);
    if (
        found.headers.len(),
        found.others.len() + found.others_omitted,
    ) != before
    {
        return LineShape::Header;
    }
    match shape {
        Some((name_end, colon)) => {
            let name = &text[at..name_end];
            let value = trim(text, colon + 1..range.end);
            if let Some(carried) = crate::systems::suggest(name, &text[value.clone()]) {
                found.other(text, name, value, line_no, source, carried);
            }
            LineShape::Header
        }
        None if source == Source::CurlRequest => LineShape::Header,
        None => LineShape::Value,
    }
}

/// The trace context header called `name`, in any case.
fn trace_context_name(name: &str) -> Option<HeaderName> {
    [HeaderName::TraceParent, HeaderName::TraceState]
        .into_iter()
        .find(|h| h.as_str().eq_ignore_ascii_case(name))
}

/// A name looked for inside a line.
#[derive(Clone, Copy)]
enum Field {
    TraceContext(HeaderName),
    Other(&'static str),
}

/// The field name `bytes[at..]` starts with, matched case-insensitively.
fn field_at(bytes: &[u8], at: usize) -> Option<(Field, usize)> {
    let starts = |n: &str| {
        let n = n.as_bytes();
        bytes.len() >= at + n.len() && bytes[at..at + n.len()].eq_ignore_ascii_case(n)
    };
    if let Some(h) = [HeaderName::TraceParent, HeaderName::TraceState]
        .into_iter()
        .find(|h| starts(h.as_str()))
    {
        return Some((Field::TraceContext(h), h.as_str().len()));
    }
    // Only a name's first letter is worth the table: most bytes start none.
    if !matches!(
        bytes[at].to_ascii_lowercase(),
        b'b' | b'x' | b'u' | b's' | b't'
    ) {
        return None;
    }
    crate::systems::NAMES
        .iter()
        .find(|n| starts(n))
        .map(|n| (Field::Other(n), n.len()))
}

/// Finds `name=value`, `name: value` and `"name": "value"` fields in a line.
fn scan_fields(text: &str, range: Range<usize>, line_no: usize, found: &mut FoundHeaders) {
    let bytes = &text.as_bytes()[..range.end];
    let mut i = range.start;
    while i < range.end {
        // A name starts a word: `x-traceparent` and `mytracestate` are not it.
        if i > range.start && is_name_byte(bytes[i - 1]) {
            i += 1;
            continue;
        }
        let Some((field, len)) = field_at(bytes, i) else {
            i += 1;
            continue;
        };
        let after = i + len;
        if after < range.end && is_name_byte(bytes[after]) {
            i = after;
            continue;
        }
        let header = match field {
            Field::TraceContext(h) => Some(h),
            Field::Other(_) => None,
        };
        let Some(read) = value_after(text, after..range.end, header) else {
            i = after;
            continue;
        };
        let source = if read.json {
            Source::Json
        } else {
            Source::LogField
        };
        i = read.next.max(after);
        match field {
            Field::TraceContext(h) => {
                found.push(text, h, read.value, line_no, source, read.note);
                // More strings of a JSON array are more lines of the header.
                let mut next = read.array_next;
                while let Some((value, resume)) = next {
                    found.push(text, h, value, line_no, source, None);
                    i = resume;
                    next = next_array_string(text, resume..range.end);
                }
            }
            Field::Other(name) => {
                if let Some(carried) = crate::systems::recognise(name, &text[read.value.clone()]) {
                    found.other(
                        text,
                        &text[after - len..after],
                        read.value,
                        line_no,
                        source,
                        carried,
                    );
                }
            }
        }
    }
}

/// A value read after a field name.
struct Read {
    value: Range<usize>,
    /// Where scanning resumes.
    next: usize,
    json: bool,
    /// Where an unquoted value was cut short, and why.
    note: Option<String>,
    /// In a JSON array, the next string and where to resume after it.
    array_next: Option<(Range<usize>, usize)>,
}

/// Reads the value that follows a field name inside a line: an optional
/// closing quote, `:` or `=`, an optional opening quote (or `[` and a quote),
/// then the value up to its closing quote or a delimiter. `header` is the
/// trace context header named, or `None` for another system's field.
fn value_after(text: &str, range: Range<usize>, header: Option<HeaderName>) -> Option<Read> {
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
    let array = i < range.end && bytes[i] == b'[';
    if array {
        i += 1;
        skip_ows(&mut i);
    }
    let quote = (i < range.end && (bytes[i] == b'"' || bytes[i] == b'\'')).then(|| bytes[i]);
    if quote.is_some() {
        i += 1;
    }
    let start = i;
    let mut note = None;
    let (end, next) = match quote {
        Some(q) => {
            let end = bytes[start..range.end]
                .iter()
                .position(|&b| b == q)
                .map_or(range.end, |p| start + p);
            (end, (end + 1).min(range.end))
        }
        None => {
            let tracestate = header == Some(HeaderName::TraceState);
            // Commas separate a tracestate's members, and X-Ray's fields use
            // ';' and '=': only a traceparent and the hex ids end at them.
            let delimiter = |b: u8| {
                b.is_ascii_whitespace()
                    || matches!(b, b'&' | b'"' | b'\'' | b']' | b'}')
                    || (header.is_some() && b == b';')
                    || (b == b',' && !tracestate)
            };
            let mut end = start;
            loop {
                end = bytes[end..range.end]
                    .iter()
                    .position(|&b| delimiter(b))
                    .map_or(range.end, |p| end + p);
                if !tracestate || end >= range.end || !is_ows(bytes[end]) {
                    break;
                }
                // `tracestate=rojo=1, congo=2`: a comma before or after the
                // space joins the next member, when one follows.
                let mut j = end;
                skip_ows(&mut j);
                let comma_before = bytes[start..end].last() == Some(&b',');
                if j < range.end && bytes[j] == b',' {
                    j += 1;
                    skip_ows(&mut j);
                } else if !comma_before {
                    break;
                }
                if !starts_member(&bytes[j..range.end]) {
                    break;
                }
                end = j;
            }
            if tracestate && end < range.end {
                let rest = &text[end..range.end];
                let shown: String = rest.trim_start().chars().take(16).collect();
                note = Some(format!(
                    "read up to column {}, where {} ends an unquoted value (before '{}'); quote the value if more of the line belongs to it",
                    text[..end].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                    match bytes[end] {
                        b' ' => "a space",
                        b'\t' => "a tab",
                        b'&' => "'&'",
                        b'"' | b'\'' => "a quote",
                        _ => "a closing bracket",
                    },
                    shown
                ));
            }
            (end, end)
        }
    };
    let value = trim(text, start..end);
    if value.is_empty() {
        return None;
    }
    let array_next = if array && quote.is_some() {
        next_array_string(text, next..range.end)
    } else {
        None
    };
    Some(Read {
        value,
        next,
        json,
        note: note.filter(|_| !trim(text, end..range.end).is_empty()),
        array_next,
    })
}

/// `, "next string"` after a string of a JSON array: the string's range and
/// where to resume after its closing quote.
fn next_array_string(text: &str, range: Range<usize>) -> Option<(Range<usize>, usize)> {
    let bytes = text.as_bytes();
    let mut i = range.start;
    while i < range.end && is_ows(bytes[i]) {
        i += 1;
    }
    if i >= range.end || bytes[i] != b',' {
        return None;
    }
    i += 1;
    while i < range.end && is_ows(bytes[i]) {
        i += 1;
    }
    if i >= range.end || bytes[i] != b'"' {
        return None;
    }
    let start = i + 1;
    let end = bytes[start..range.end].iter().position(|&b| b == b'"')? + start;
    Some((start..end, end + 1))
}

/// Whether `bytes` starts with a tracestate member's `key=`.
fn starts_member(bytes: &[u8]) -> bool {
    let key = bytes
        .iter()
        .take_while(|&&b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'_' | b'-' | b'*' | b'/' | b'@')
        })
        .count();
    key > 0 && bytes.get(key) == Some(&b'=')
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
        // `x-traceparent` is two edits from the real name: a near-miss, listed.
        assert_eq!(found.others.len(), 1);
        assert_eq!(
            found.others[0].carried.did_you_mean,
            Some(HeaderName::TraceParent)
        );
        assert_eq!(found.ignored.len(), 1);
    }

    #[test]
    fn a_log_line_tracestate_is_read_whole() {
        let found = find_headers("tracestate=rojo=1, congo=2");
        assert_eq!(
            values(&found),
            vec![(HeaderName::TraceState, "rojo=1, congo=2", Source::LogField)]
        );
        assert_eq!(found.headers[0].note, None);
        let found = find_headers(&format!(
            "traceparent={TP} tracestate=rojo=1 , congo=2,\tbaz=3 status=200"
        ));
        assert_eq!(found.headers[1].value, "rojo=1 , congo=2,\tbaz=3");
        let note = found.headers[1].note.as_deref().expect("where it stopped");
        assert!(
            note.contains("a space") && note.contains("status=200"),
            "{note}"
        );
        let json = find_headers(r#"{"tracestate": ["rojo=1", "congo=2"], "traceparent": "x"}"#);
        assert_eq!(
            values(&json),
            vec![
                (HeaderName::TraceState, "rojo=1", Source::Json),
                (HeaderName::TraceState, "congo=2", Source::Json),
                (HeaderName::TraceParent, "x", Source::Json),
            ]
        );
    }

    #[test]
    fn a_bare_traceparent_is_found_among_other_lines() {
        let found = find_headers(&format!("{TP}\ntracestate: rojo=00f067aa0ba902b7"));
        assert_eq!(
            values(&found),
            vec![
                (HeaderName::TraceParent, TP, Source::Bare),
                (
                    HeaderName::TraceState,
                    "rojo=00f067aa0ba902b7",
                    Source::HeaderLine
                ),
            ]
        );
        assert_eq!(found.choice, None);
        // Several candidates: the first valid one, and the page says so.
        let bad = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
        let found = find_headers(&format!("{bad}\nhello\n\"{TP}\"\n{TP}\n"));
        assert_eq!(
            values(&found),
            vec![(HeaderName::TraceParent, TP, Source::Bare)]
        );
        assert_eq!(found.headers[0].line, 4);
        let choice = found.choice.as_deref().expect("a choice explained");
        assert!(
            choice.starts_with("Line 4 was taken") && choice.contains("first that is valid"),
            "{choice}"
        );
        assert!(found
            .ignored
            .iter()
            .any(|l| l.line == 1 && l.reason.contains("line 4 was taken")));
        // A named header wins over a bare value.
        let found = find_headers(&format!("{TP}\ntraceparent: {bad}"));
        assert_eq!(
            values(&found),
            vec![(HeaderName::TraceParent, bad, Source::HeaderLine)]
        );
        assert!(found
            .choice
            .as_deref()
            .is_some_and(|c| c.contains("line 2")));
        // UUIDs and dates are not traceparent-shaped.
        let found = find_headers("553be815-76f3-49db-b9d7-caca4b23cc3e\n2024-01-01");
        assert!(found.headers.is_empty());
    }

    #[test]
    fn other_systems_headers_are_not_read_as_a_traceparent() {
        let text = "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1\n\
                    b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1\n\
                    > uber-trace-id: 4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1\n\
                    traceparant: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n\
                    2024-05-01T10:00:00Z INFO done trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7\n\
                    {\"sentry-trace\": \"771a43a4192642f0b136d5159a501700-b3ad1e2bc3da4b4e-1\"}";
        let found = find_headers(text);
        assert!(found.headers.is_empty(), "{:?}", found.headers);
        let names: Vec<(&str, usize)> = found
            .others
            .iter()
            .map(|o| (o.name.as_str(), o.line))
            .collect();
        assert_eq!(
            names,
            vec![
                ("X-Amzn-Trace-Id", 1),
                ("b3", 2),
                ("uber-trace-id", 3),
                ("traceparant", 4),
                ("trace_id", 5),
                ("span_id", 5),
                ("sentry-trace", 6),
            ]
        );
        for other in &found.others {
            assert_eq!(&text[other.start..other.end], other.value, "{}", other.name);
        }
        assert_eq!(
            found.others[3].carried.did_you_mean,
            Some(HeaderName::TraceParent)
        );
        assert_eq!(
            found.others[0].carried.span_id.as_deref(),
            Some("53995c3f42cd8ad8")
        );
        assert!(found.ignored.is_empty(), "{:?}", found.ignored);
        // One line alone is still a header, not a bare value.
        let alone = find_headers("b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
        assert!(alone.headers.is_empty());
        assert_eq!(alone.others.len(), 1);
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
