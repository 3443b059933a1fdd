//! What a compliant receiver does with the trace context of a request: the one
//! decision the browser's pages and the native services share.

use crate::ids::{IdSource, TraceFlags};
use crate::rule::Violation;
use crate::traceparent::TraceParent;
use crate::tracestate::TraceState;

/// Whether the receiver joins the caller's trace or starts a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Same trace-id, a new span-id as the next parent-id, tracestate kept.
    Continue,
    /// A new trace-id and span-id; the incoming tracestate is dropped.
    Restart,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Continue => "continue",
            Action::Restart => "restart",
        }
    }
}

/// Why a receiver restarted the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestartReason {
    /// The request carried no `traceparent`.
    Missing,
    /// The request carried more than one `traceparent`.
    Duplicate(usize),
    /// The `traceparent` broke a rule (the first one found).
    Invalid(Violation),
}

impl std::fmt::Display for RestartReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestartReason::Missing => f.write_str("no traceparent was received, so this service starts a new trace"),
            RestartReason::Duplicate(n) => write!(
                f,
                "{n} traceparent headers were received; a request carries one, so the context is ignored and a new trace starts"
            ),
            RestartReason::Invalid(v) => write!(f, "the traceparent is invalid ({}), so a new trace starts", v.rule),
        }
    }
}

/// What a receiver sends to the next hop, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// Set when the trace restarts.
    pub restart_reason: Option<RestartReason>,
    /// Set when an incoming `tracestate` was dropped although the trace
    /// continues: it broke a rule. (On restart it is always dropped.)
    pub tracestate_dropped: Option<Violation>,
    /// The `traceparent` to send on: version 00, the receiver's span as parent.
    pub traceparent: TraceParent,
    /// The `tracestate` to send on, or `None` to send none.
    pub tracestate: Option<TraceState>,
}

impl Decision {
    /// One sentence saying what happened to the tracestate.
    pub fn tracestate_note(&self) -> Option<String> {
        match (&self.action, &self.tracestate_dropped) {
            (_, Some(v)) => Some(format!(
                "the tracestate is invalid ({}) and is dropped; the traceparent is unaffected (§3.3)",
                v.rule
            )),
            (Action::Restart, None) => Some("a restarted trace drops the incoming tracestate (§3.4)".to_owned()),
            (Action::Continue, None) => None,
        }
    }
}

/// The headers of one request, as received: every `traceparent` and
/// `tracestate` field, in order (names matched case-insensitively by the caller).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Incoming<'a> {
    pub traceparent: Vec<&'a str>,
    pub tracestate: Vec<&'a str>,
}

/// Decides, as W3C Trace Context's processing model says (§5), what a
/// receiver sends on for the request carrying `incoming`.
///
/// - One valid `traceparent`: continue. The trace-id stays, the parent-id is a
///   new span-id from `ids`, the sampled and random flags are kept and unknown
///   flags are sent as zero (§3.2.2.5.3); a higher version is sent as 00. A valid
///   `tracestate` is kept unchanged; an invalid one is dropped.
/// - Otherwise: restart with a new trace-id and span-id from `ids`, flags
///   sampled and random (the ids are random), and no `tracestate`.
pub fn receive(incoming: &Incoming<'_>, ids: &mut dyn IdSource) -> Decision {
    let parsed = match incoming.traceparent.as_slice() {
        [] => Err(RestartReason::Missing),
        [one] => TraceParent::parse(one).map_err(RestartReason::Invalid),
        many => Err(RestartReason::Duplicate(many.len())),
    };
    match parsed {
        Ok(parent) => {
            let next = TraceParent::new(
                parent.trace_id,
                ids.new_span_id(),
                parent.flags.propagated(),
            );
            let (tracestate, tracestate_dropped) = if incoming.tracestate.is_empty() {
                (None, None)
            } else {
                match TraceState::parse_lines(&incoming.tracestate) {
                    // An empty header is accepted but not worth sending on.
                    Ok(state) if state.is_empty() => (None, None),
                    Ok(state) => (Some(state), None),
                    Err(violation) => (None, Some(violation)),
                }
            };
            Decision {
                action: Action::Continue,
                restart_reason: None,
                tracestate_dropped,
                traceparent: next,
                tracestate,
            }
        }
        Err(reason) => Decision {
            action: Action::Restart,
            restart_reason: Some(reason),
            tracestate_dropped: None,
            traceparent: TraceParent::new(
                ids.new_trace_id(),
                ids.new_span_id(),
                TraceFlags(TraceFlags::SAMPLED | TraceFlags::RANDOM),
            ),
            tracestate: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{SpanId, TraceId};
    use crate::rule::Rule;

    /// Ids that count up, so decisions are predictable.
    struct Counter(u8);
    impl IdSource for Counter {
        fn new_trace_id(&mut self) -> TraceId {
            self.0 += 1;
            TraceId([self.0; 16])
        }
        fn new_span_id(&mut self) -> SpanId {
            self.0 += 1;
            SpanId([self.0; 8])
        }
    }

    #[test]
    fn continues_a_valid_trace_with_a_new_parent() {
        let incoming = Incoming {
            traceparent: vec!["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff"],
            tracestate: vec!["rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE"],
        };
        let decision = receive(&incoming, &mut Counter(0));
        assert_eq!(decision.action, Action::Continue);
        assert_eq!(
            decision.traceparent.to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0101010101010101-03",
            "unknown flag bits are sent as zero"
        );
        assert_eq!(
            decision.tracestate.map(|t| t.to_string()).as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        );
    }

    #[test]
    fn a_higher_version_continues_as_version_00() {
        let incoming = Incoming {
            traceparent: vec![
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds",
            ],
            tracestate: vec![],
        };
        let decision = receive(&incoming, &mut Counter(0));
        assert_eq!(decision.action, Action::Continue);
        assert!(decision
            .traceparent
            .to_string()
            .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    }

    #[test]
    fn restarts_and_drops_tracestate_on_invalid_or_duplicate() {
        let invalid = Incoming {
            traceparent: vec!["00-00000000000000000000000000000000-00f067aa0ba902b7-01"],
            tracestate: vec!["rojo=1"],
        };
        let decision = receive(&invalid, &mut Counter(0));
        assert_eq!(decision.action, Action::Restart);
        assert!(
            matches!(&decision.restart_reason, Some(RestartReason::Invalid(v)) if v.rule == Rule::TraceIdAllZero)
        );
        assert_eq!(decision.tracestate, None);
        assert_eq!(decision.traceparent.trace_id, TraceId([1; 16]));

        let duplicate = Incoming {
            traceparent: vec![
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ],
            tracestate: vec![],
        };
        assert_eq!(
            receive(&duplicate, &mut Counter(0)).restart_reason,
            Some(RestartReason::Duplicate(2))
        );
        assert_eq!(
            receive(&Incoming::default(), &mut Counter(0)).restart_reason,
            Some(RestartReason::Missing)
        );
    }

    #[test]
    fn an_invalid_tracestate_is_dropped_but_the_trace_continues() {
        let incoming = Incoming {
            traceparent: vec!["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
            tracestate: vec!["a=1,a=2"],
        };
        let decision = receive(&incoming, &mut Counter(0));
        assert_eq!(decision.action, Action::Continue);
        assert_eq!(decision.tracestate, None);
        assert_eq!(
            decision.tracestate_dropped.map(|v| v.rule),
            Some(Rule::TraceStateDuplicateKey)
        );
    }
}
