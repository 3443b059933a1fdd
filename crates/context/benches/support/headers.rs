//! What `benches/parse.rs` and `examples/probe.rs` share: the headers both
//! parsers read, the inputs, and what tracelab does with them. Included by
//! `#[path]`, since a bench and an example cannot share a module otherwise.

use opentelemetry::propagation::Extractor;
use tracelab_context::tracestate::TraceStateView;
use tracelab_context::TraceParent;

pub const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
pub const INVALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01";

/// A 10-entry tracestate of realistic size.
pub fn tracestate_10() -> String {
    (0..10)
        .map(|i| format!("vendor{i}=opaque-value-{i:04}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Headers as a server framework hands them over: names already lowercase.
pub struct Headers<'a>(pub &'a [(&'a str, &'a str)]);

impl<'a> Headers<'a> {
    /// The same lookup as `Extractor::get`, keeping the headers' lifetime.
    pub fn lookup(&self, key: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.lookup(key)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
}

/// What tracelab does with the same headers: parse and validate both, with
/// the tracestate's entries borrowed from the header (no allocation).
pub fn tracelab_extract<'a>(
    headers: &Headers<'a>,
) -> Option<(TraceParent, Option<TraceStateView<'a>>)> {
    let parent = TraceParent::parse(headers.lookup("traceparent")?).ok()?;
    let state = headers
        .lookup("tracestate")
        .and_then(|v| TraceStateView::parse(v).ok());
    Some((parent, state))
}
