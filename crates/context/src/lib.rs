//! W3C Trace Context for tracelab: the `traceparent` and `tracestate`
//! headers, parsed with diagnostics, formatted, mutated, and the decision a
//! compliant receiver makes.
//!
//! ```
//! use tracelab_context::{decode, RandomIds};
//!
//! let decoded = decode(
//!     "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n\
//!      tracestate: rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
//!     &mut RandomIds,
//! );
//! let traceparent = decoded.traceparent.as_ref().expect("a traceparent was found");
//! for field in &traceparent.fields {
//!     println!("{:<12} {:>2}..{:<2} {}", field.name.as_str(), field.start, field.end, field.raw);
//! }
//! assert!(traceparent.is_valid());
//! assert_eq!(decoded.decision.action.as_str(), "continue");
//! ```
//!
//! What it is for: every rule of the spec's processing model (Level 2, with
//! the random flag; the tracestate key grammar of the current editor's
//! draft), checked by one parser per header that serves both a fast path
//! ([`TraceParent::parse`], [`TraceState::parse`]) and a report of every
//! rule broken with its byte range ([`traceparent::diagnose`],
//! [`tracestate::diagnose`]); finding headers in pasted text
//! ([`find_headers`]); and the receiver's decision ([`judge`], [`receive`]),
//! the one decision the browser, `tracelab decode` and the OpenTelemetry
//! propagator share.
//!
//! What it is not for: I/O of any kind, HTTP, the DOM, or spans. It compiles
//! for native targets and `wasm32-unknown-unknown` alike. The OpenTelemetry
//! propagator sits behind the `opentelemetry` feature.
//!
//! Spec sections are cited as in W3C Trace Context Level 2 (§3.2 traceparent,
//! §3.3 tracestate, §3.4–3.5 mutation, §5 processing model).

pub mod extract;
pub mod ids;
#[cfg(feature = "opentelemetry")]
pub mod propagator;
pub mod quote;
pub mod receiver;
pub mod rule;
pub mod snippet;
pub mod systems;
pub mod traceparent;
pub mod tracestate;

pub use extract::{find_headers, FoundHeader, FoundHeaders, HeaderName, OtherHeader, Source};
pub use ids::{IdSource, RandomIds, SpanId, TraceFlags, TraceId};
pub use receiver::{judge, receive, Action, Decision, Incoming, RestartReason, Verdict};
pub use rule::{Rule, Severity, Violation};
pub use traceparent::{TraceParent, TraceParentReport};
pub use tracestate::{TraceState, TraceStateReport};

/// Everything tracelab says about a piece of pasted text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The headers found in the text and the lines passed over.
    pub found: FoundHeaders,
    /// The report of the first `traceparent` found. When there were several,
    /// it also carries [`Rule::TraceParentDuplicate`] and is not valid.
    pub traceparent: Option<TraceParentReport>,
    /// Every `tracestate` found, combined as HTTP combines header lines; the
    /// report's byte ranges are into this value.
    pub tracestate_value: Option<String>,
    pub tracestate: Option<TraceStateReport>,
    /// What a compliant receiver of these headers sends on.
    pub decision: Decision,
}

impl Decoded {
    /// True when at least one header was found and every header found is valid.
    pub fn all_valid(&self) -> bool {
        let found_any = self.traceparent.is_some() || self.tracestate.is_some();
        found_any
            && self
                .traceparent
                .as_ref()
                .is_none_or(TraceParentReport::is_valid)
            && self
                .tracestate
                .as_ref()
                .is_none_or(TraceStateReport::is_valid)
    }
}

/// Finds the trace context headers in `text`, diagnoses each, and decides
/// what a receiver would send on, drawing new ids from `ids`.
pub fn decode(text: &str, ids: &mut dyn IdSource) -> Decoded {
    let found = find_headers(text);
    let traceparents: Vec<&FoundHeader> = found.traceparent().collect();
    let traceparent = traceparents.first().map(|first| {
        let mut report = traceparent::diagnose(&first.value);
        if traceparents.len() > 1 {
            // Name the first few lines: a pasted log may repeat the header thousands of times.
            let mut lines: Vec<String> = traceparents
                .iter()
                .take(10)
                .map(|h| h.line.to_string())
                .collect();
            if traceparents.len() > 10 {
                lines.push(format!("and {} more", traceparents.len() - 10));
            }
            report.violations.insert(
                0,
                Violation {
                    rule: Rule::TraceParentDuplicate,
                    severity: Rule::TraceParentDuplicate.severity(),
                    start: 0,
                    end: first.value.len(),
                    message: format!(
                        "{} traceparent headers were found (lines {}) ({})",
                        traceparents.len(),
                        lines.join(", "),
                        Rule::TraceParentDuplicate.summary()
                    )
                    .into(),
                },
            );
            report.parsed = None;
        }
        report
    });
    let tracestate_lines: Vec<&str> = found.tracestate().map(|h| h.value.as_str()).collect();
    let tracestate_value =
        (!tracestate_lines.is_empty()).then(|| tracestate::combine_lines(&tracestate_lines));
    let tracestate = tracestate_value.as_deref().map(tracestate::diagnose);
    let decision = receive(&found.incoming(), ids);
    Decoded {
        found,
        traceparent,
        tracestate_value,
        tracestate,
        decision,
    }
}
