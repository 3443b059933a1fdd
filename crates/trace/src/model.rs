//! The span model: what OpenTelemetry (OTLP) and Jaeger/Zipkin traces carry,
//! held compactly enough that a 100,000-span trace is comfortable in a browser.
//!
//! Compactness comes from three choices:
//! - the resource (service) and the instrumentation scope are interned in
//!   [`Trace::resources`] and [`Trace::scopes`]; a span holds a `u32` index;
//! - names, attribute keys and string values are `Arc<str>`, so an importer or
//!   the generator can share one allocation between the thousands of spans
//!   called `SELECT reviews` or carrying `http.request.method`;
//! - ids are fixed-size byte arrays, not strings.
//!
//! [`Trace::memory_footprint`] measures the result; see its doc for the figure
//! at 100,000 generated spans.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// A 16-byte trace id, as in W3C Trace Context and OTLP.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id, as in W3C Trace Context and OTLP.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpanId(pub [u8; 8]);

impl std::hash::Hash for SpanId {
    /// One `u64` write (the derived impl writes a length, then the bytes),
    /// so that [`SpanIdHasher`] sees the whole id at once.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from_ne_bytes(self.0));
    }
}

/// A fast hasher for maps keyed by [`SpanId`]: the SplitMix64 finaliser over
/// the id. The default SipHash guards against chosen keys flooding a
/// server's map; here the map lives for one layout of one trace, and SipHash
/// alone took half the time of laying out 100,000 spans.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpanIdHasher {
    state: u64,
}

impl std::hash::Hasher for SpanIdHasher {
    fn finish(&self) -> u64 {
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached by keys other than `SpanId`; still a usable hash.
        for &byte in bytes {
            self.state =
                (self.state.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.state ^= value;
    }
}

/// Builds [`SpanIdHasher`]s, for `HashMap<SpanId, _, BuildSpanIdHasher>`.
pub type BuildSpanIdHasher = std::hash::BuildHasherDefault<SpanIdHasher>;

impl TraceId {
    /// The all-zero id, which W3C Trace Context declares invalid.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl SpanId {
    /// The all-zero id, which W3C Trace Context declares invalid; some
    /// exporters write it for "no parent", so the tree treats it that way.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }

    /// The id as a big-endian `u64` (handy for generators and tests).
    pub fn from_u64(value: u64) -> SpanId {
        SpanId(value.to_be_bytes())
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for byte in bytes {
        write!(f, "{byte:02x}")?;
    }
    Ok(())
}

impl fmt::Display for TraceId {
    /// Lowercase hex, 32 characters, as in `traceparent`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    /// Lowercase hex, 16 characters, as in `traceparent`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

/// The span kind of OpenTelemetry (Jaeger's `span.kind` tag, Zipkin's `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SpanKind {
    /// The exporter did not say (OTLP `SPAN_KIND_UNSPECIFIED`, a Zipkin span
    /// without `kind`). The layout treats it like [`SpanKind::Internal`],
    /// because that is what such spans almost always are: local work.
    #[default]
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    /// The lowercase name used by Jaeger and Zipkin (`server`, `client`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Unspecified => "unspecified",
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

/// How a span relates to its parent. OpenTelemetry has only child-of; Jaeger
/// and OpenTracing also have follows-from, where the parent does not wait for
/// the child, so the child may outlive it without that being clock skew.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ParentRelation {
    #[default]
    ChildOf,
    FollowsFrom,
}

/// The status of a span, as in OpenTelemetry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Status {
    #[default]
    Unset,
    Ok,
    /// The span failed; the message may be empty.
    Error {
        message: Box<str>,
    },
}

impl Status {
    pub fn is_error(&self) -> bool {
        matches!(self, Status::Error { .. })
    }
}

/// A typed attribute value, as OTLP's `AnyValue` (without nested maps, which
/// no semantic convention uses on spans; an importer can flatten them).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AttributeValue {
    String(Arc<str>),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(Box<[u8]>),
    /// OTLP allows mixed arrays; the semantic conventions use homogeneous ones.
    Array(Box<[AttributeValue]>),
}

impl AttributeValue {
    /// A string value (allocates; share an `Arc<str>` for repeated values).
    pub fn string(value: &str) -> AttributeValue {
        AttributeValue::String(Arc::from(value))
    }
}

impl fmt::Display for AttributeValue {
    /// The value as a person reads it: strings bare, arrays in brackets,
    /// bytes in hex. The filter matches substrings of this text. Nested
    /// arrays are written with an explicit stack, not recursion: values
    /// nest as deep as an exporter sent them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Each entry: the values of one array still to write, and whether
        // the next is its first.
        enum Step<'a> {
            Value(&'a AttributeValue),
            Separator,
            Close,
        }
        let mut stack = vec![Step::Value(self)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Separator => f.write_str(", ")?,
                Step::Close => f.write_str("]")?,
                Step::Value(AttributeValue::String(text)) => f.write_str(text)?,
                Step::Value(AttributeValue::Bool(value)) => write!(f, "{value}")?,
                Step::Value(AttributeValue::Int(value)) => write!(f, "{value}")?,
                Step::Value(AttributeValue::Double(value)) => write!(f, "{value}")?,
                Step::Value(AttributeValue::Bytes(bytes)) => write_hex(f, bytes)?,
                Step::Value(AttributeValue::Array(values)) => {
                    f.write_str("[")?;
                    stack.push(Step::Close);
                    for (position, value) in values.iter().enumerate().rev() {
                        stack.push(Step::Value(value));
                        if position > 0 {
                            stack.push(Step::Separator);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// One attribute: a key and a typed value.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyValue {
    pub key: Arc<str>,
    pub value: AttributeValue,
}

impl KeyValue {
    pub fn new(key: impl Into<Arc<str>>, value: AttributeValue) -> KeyValue {
        KeyValue {
            key: key.into(),
            value,
        }
    }
}

/// Something that happened at an instant during a span (a log, an exception).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Event {
    pub time_unix_nanos: u64,
    pub name: Arc<str>,
    pub attributes: Vec<KeyValue>,
}

/// A link to another span, in this trace or another one.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Link {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub attributes: Vec<KeyValue>,
}

/// The entity that produced spans: a service, with its resource attributes
/// (`service.name` is pulled out as [`Resource::service_name`]).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Resource {
    pub service_name: Arc<str>,
    pub attributes: Vec<KeyValue>,
}

/// The instrumentation scope (library) that recorded a span.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Scope {
    pub name: Arc<str>,
    pub version: Box<str>,
    pub attributes: Vec<KeyValue>,
}

/// One span. Times are nanoseconds since the Unix epoch; an end before the
/// start is kept as given and read as a zero duration by the layout (which
/// says so in a note).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Span {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// `None` (or an all-zero id) for a root.
    pub parent_span_id: Option<SpanId>,
    pub parent_relation: ParentRelation,
    pub name: Arc<str>,
    pub kind: SpanKind,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
    pub status: Status,
    /// The W3C `tracestate` the span was recorded with (often empty).
    pub trace_state: Box<str>,
    /// The W3C trace flags the span was recorded with (bit 0: sampled), as
    /// OTLP's `Span.flags` and Jaeger's `flags` carry them; what the span
    /// sends downstream in its `traceparent`.
    pub trace_flags: u8,
    pub attributes: Vec<KeyValue>,
    pub events: Vec<Event>,
    pub links: Vec<Link>,
    /// Index into [`Trace::resources`].
    pub resource_idx: u32,
    /// Index into [`Trace::scopes`].
    pub scope_idx: u32,
}

impl Span {
    /// The sampled bit of [`Span::trace_flags`].
    pub const SAMPLED: u8 = 0x01;

    /// A span with the given ids, name and times, everything else empty, in
    /// resource 0 and scope 0. Tests and importers fill in the rest.
    pub fn new(
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
        name: impl Into<Arc<str>>,
        start_unix_nanos: u64,
        end_unix_nanos: u64,
    ) -> Span {
        Span {
            trace_id,
            span_id,
            parent_span_id,
            parent_relation: ParentRelation::ChildOf,
            name: name.into(),
            kind: SpanKind::Internal,
            start_unix_nanos,
            end_unix_nanos,
            status: Status::Unset,
            trace_state: Box::from(""),
            // A span that was recorded and exported was almost always sampled;
            // importers set what their data says.
            trace_flags: Span::SAMPLED,
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
            resource_idx: 0,
            scope_idx: 0,
        }
    }

    /// The duration in nanoseconds; zero when the end is before the start.
    pub fn duration_nanos(&self) -> u64 {
        self.end_unix_nanos.saturating_sub(self.start_unix_nanos)
    }

    /// The end, never before the start (a negative duration reads as zero).
    pub fn clamped_end_unix_nanos(&self) -> u64 {
        self.end_unix_nanos.max(self.start_unix_nanos)
    }

    /// The value of the attribute `key`, if the span has it.
    pub fn attribute(&self, key: &str) -> Option<&AttributeValue> {
        self.attributes
            .iter()
            .find(|attribute| &*attribute.key == key)
            .map(|attribute| &attribute.value)
    }
}

/// A trace: its spans in any order (as exported), and the interned resources
/// and scopes they point into.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Trace {
    pub spans: Vec<Span>,
    pub resources: Vec<Resource>,
    pub scopes: Vec<Scope>,
}

/// What a trace occupies in memory, from [`Trace::memory_footprint`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryFootprint {
    pub n_spans: usize,
    /// `size_of::<Span>()` times the span vector's capacity, plus resources and scopes.
    pub inline_bytes: usize,
    /// Heap owned by spans: attribute, event and link vectors, boxed strings.
    pub heap_bytes: usize,
    /// Shared `Arc<str>` allocations, each counted once however many spans share it.
    pub shared_string_bytes: usize,
}

impl MemoryFootprint {
    pub fn total_bytes(&self) -> usize {
        self.inline_bytes + self.heap_bytes + self.shared_string_bytes
    }

    /// Total bytes divided by the number of spans (0 for an empty trace).
    pub fn bytes_per_span(&self) -> usize {
        self.total_bytes().checked_div(self.n_spans).unwrap_or(0)
    }
}

/// Adds up heap sizes, counting each shared `Arc<str>` once by its address.
struct FootprintCounter {
    seen_strings: HashSet<usize>,
    heap_bytes: usize,
    shared_string_bytes: usize,
}

impl FootprintCounter {
    fn shared(&mut self, text: &Arc<str>) {
        // Two counts (strong and weak) precede the bytes in an `Arc` allocation.
        let address = Arc::as_ptr(text) as *const u8 as usize;
        if self.seen_strings.insert(address) {
            self.shared_string_bytes += text.len() + 2 * std::mem::size_of::<usize>();
        }
    }

    /// Walks nested arrays with an explicit stack: values nest as deep as
    /// an exporter sent them.
    fn value(&mut self, value: &AttributeValue) {
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                AttributeValue::String(text) => self.shared(text),
                AttributeValue::Bytes(bytes) => self.heap_bytes += bytes.len(),
                AttributeValue::Array(values) => {
                    self.heap_bytes += std::mem::size_of_val::<[AttributeValue]>(values);
                    stack.extend(values.iter());
                }
                AttributeValue::Bool(_) | AttributeValue::Int(_) | AttributeValue::Double(_) => {}
            }
        }
    }

    fn attributes(&mut self, attributes: &Vec<KeyValue>) {
        self.heap_bytes += attributes.capacity() * std::mem::size_of::<KeyValue>();
        for attribute in attributes {
            self.shared(&attribute.key);
            self.value(&attribute.value);
        }
    }
}

impl Trace {
    /// The resource of span `span_idx`, or `None` when either index is out of range.
    pub fn resource_of(&self, span_idx: usize) -> Option<&Resource> {
        let span = self.spans.get(span_idx)?;
        self.resources.get(span.resource_idx as usize)
    }

    /// The scope of span `span_idx`, or `None` when either index is out of range.
    pub fn scope_of(&self, span_idx: usize) -> Option<&Scope> {
        let span = self.spans.get(span_idx)?;
        self.scopes.get(span.scope_idx as usize)
    }

    /// The service name of span `span_idx`; `""` when it has no resource.
    pub fn service_name(&self, span_idx: usize) -> &str {
        self.resource_of(span_idx)
            .map(|resource| &*resource.service_name)
            .unwrap_or("")
    }

    /// Measures what the trace occupies: the span vector, the heap each span
    /// owns, and the shared strings once each.
    ///
    /// Measured natively (64-bit) on `generate(100_000, 1)` with
    /// `cargo run --release -p tracelab-trace --example footprint`:
    /// `size_of::<Span>()` is 192 bytes, and the whole trace comes to 384
    /// bytes per span (38 MB for 100,000 spans): 192 inline, about 193 of
    /// attribute, event and link vectors, and 3.8 KB of shared strings in
    /// all. On wasm32 pointers are half the size, so the figure there is lower.
    pub fn memory_footprint(&self) -> MemoryFootprint {
        let mut counter = FootprintCounter {
            seen_strings: HashSet::new(),
            heap_bytes: 0,
            shared_string_bytes: 0,
        };
        for span in &self.spans {
            counter.shared(&span.name);
            counter.heap_bytes += span.trace_state.len();
            if let Status::Error { message } = &span.status {
                counter.heap_bytes += message.len();
            }
            counter.attributes(&span.attributes);
            counter.heap_bytes += span.events.capacity() * std::mem::size_of::<Event>();
            for event in &span.events {
                counter.shared(&event.name);
                counter.attributes(&event.attributes);
            }
            counter.heap_bytes += span.links.capacity() * std::mem::size_of::<Link>();
            for link in &span.links {
                counter.attributes(&link.attributes);
            }
        }
        for resource in &self.resources {
            counter.shared(&resource.service_name);
            counter.attributes(&resource.attributes);
        }
        for scope in &self.scopes {
            counter.shared(&scope.name);
            counter.heap_bytes += scope.version.len();
            counter.attributes(&scope.attributes);
        }
        MemoryFootprint {
            n_spans: self.spans.len(),
            inline_bytes: self.spans.capacity() * std::mem::size_of::<Span>()
                + self.resources.capacity() * std::mem::size_of::<Resource>()
                + self.scopes.capacity() * std::mem::size_of::<Scope>(),
            heap_bytes: counter.heap_bytes,
            shared_string_bytes: counter.shared_string_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_lowercase_hex() {
        let span_id = SpanId([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        assert_eq!(span_id.to_string(), "00f067aa0ba902b7");
        let mut trace_bytes = [0u8; 16];
        trace_bytes[15] = 0xab;
        assert_eq!(
            TraceId(trace_bytes).to_string(),
            "000000000000000000000000000000ab"
        );
        assert!(SpanId::default().is_zero());
        assert_eq!(SpanId::from_u64(1).0, [0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn negative_duration_reads_as_zero() {
        let span = Span::new(TraceId::default(), SpanId::from_u64(1), None, "x", 10, 5);
        assert_eq!(span.duration_nanos(), 0);
        assert_eq!(span.clamped_end_unix_nanos(), 10);
    }

    #[test]
    fn attribute_values_display_for_filtering() {
        let value = AttributeValue::Array(Box::new([
            AttributeValue::Int(1),
            AttributeValue::string("a"),
            AttributeValue::Bool(true),
        ]));
        assert_eq!(value.to_string(), "[1, a, true]");
        assert_eq!(
            AttributeValue::Bytes(Box::new([0xab, 1])).to_string(),
            "ab01"
        );
        assert_eq!(AttributeValue::Double(0.5).to_string(), "0.5");
    }

    #[test]
    fn accessors_do_not_panic_on_bad_indices() {
        let mut trace = Trace::default();
        let mut span = Span::new(TraceId::default(), SpanId::from_u64(1), None, "x", 0, 1);
        span.resource_idx = 7;
        trace.spans.push(span);
        assert_eq!(trace.service_name(0), "");
        assert_eq!(trace.service_name(9), "");
        assert!(trace.scope_of(0).is_none());
    }

    /// An array nested 20,000 deep (the model keeps what an exporter sent),
    /// built without recursion; taken apart the same way, since Rust's own
    /// drop of it would recurse.
    fn deeply_nested(depth: usize) -> AttributeValue {
        let mut value = AttributeValue::Int(7);
        for _ in 0..depth {
            value = AttributeValue::Array(Box::new([value, AttributeValue::Bool(true)]));
        }
        value
    }

    fn take_apart(value: AttributeValue) {
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            if let AttributeValue::Array(values) = value {
                stack.extend(values.into_vec());
            }
        }
    }

    #[test]
    fn nested_values_are_written_and_counted_without_recursion() {
        let depth = 20_000;
        let value = deeply_nested(depth);
        let text = value.to_string();
        assert!(text.starts_with("[[[["), "{}", &text[..20]);
        assert!(text.contains("[7, true]"), "the innermost value is written");
        assert_eq!(text.matches('[').count(), depth);
        assert_eq!(text.matches(", true]").count(), depth);
        let shallow = AttributeValue::Array(Box::new([
            AttributeValue::string("a"),
            AttributeValue::Array(Box::new([AttributeValue::Int(1), AttributeValue::Int(2)])),
            AttributeValue::Bytes(Box::new([0xab])),
        ]));
        assert_eq!(shallow.to_string(), "[a, [1, 2], ab]");
        let mut counter = FootprintCounter {
            seen_strings: HashSet::new(),
            heap_bytes: 0,
            shared_string_bytes: 0,
        };
        counter.value(&value);
        assert!(counter.heap_bytes >= depth * 2 * std::mem::size_of::<AttributeValue>());
        take_apart(value);
    }

    #[test]
    fn footprint_counts_shared_strings_once() {
        let shared: Arc<str> = Arc::from("SELECT reviews");
        let mut trace = Trace::default();
        for span_idx in 0..10 {
            trace.spans.push(Span::new(
                TraceId::default(),
                SpanId::from_u64(span_idx + 1),
                None,
                shared.clone(),
                0,
                1,
            ));
        }
        let footprint = trace.memory_footprint();
        assert_eq!(footprint.n_spans, 10);
        assert_eq!(
            footprint.shared_string_bytes,
            "SELECT reviews".len() + 2 * std::mem::size_of::<usize>()
        );
        assert!(footprint.bytes_per_span() >= std::mem::size_of::<Span>());
    }
}
