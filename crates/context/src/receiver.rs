//! What a compliant receiver does with the trace context of a request: the one
//! decision the browser's pages, `tracelab decode`, the W3C test service and
//! the native services (through the OpenTelemetry propagator) share.
//! [`judge`] reads the headers; [`receive`] then draws the new ids.
//!
//! Not for: finding the headers on a request (the caller collects every
//! field into [`Incoming`]) or starting spans.

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
    /// Members left out of a `tracestate` that is otherwise sent on: each
    /// repeated an earlier member's key ([`Rule::TraceStateDuplicateKey`],
    /// byte ranges into the combined value).
    ///
    /// [`Rule::TraceStateDuplicateKey`]: crate::Rule::TraceStateDuplicateKey
    pub tracestate_members_dropped: Vec<Violation>,
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
            (Action::Continue, None) => match self.tracestate_members_dropped.as_slice() {
                [] => None,
                [one] => Some(format!(
                    "1 member repeats an earlier key and is dropped ({}); the first member of each key is sent on (§3.5)",
                    one.message
                )),
                many => Some(format!(
                    "{} members repeat an earlier key and are dropped; the first member of each key is sent on (§3.5)",
                    many.len()
                )),
            },
        }
    }

    /// The `traceparent` of one outgoing request of a receiver that makes
    /// several: a span of its own (a client span) under the receiver's span,
    /// so a new parent-id from `ids`, with the same trace-id and flags.
    pub fn for_outgoing_request(&self, ids: &mut dyn IdSource) -> TraceParent {
        TraceParent::new(
            self.traceparent.trace_id(),
            ids.new_span_id(),
            self.traceparent.flags(),
        )
    }
}

/// The headers of one request, as received: every `traceparent` and
/// `tracestate` field, in order (names matched case-insensitively by the caller).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Incoming<'a> {
    pub traceparent: Vec<&'a str>,
    pub tracestate: Vec<&'a str>,
}

/// What the trace context headers of one request say, judged once and
/// before any new id is drawn: whether the trace continues and whose span
/// is the parent, and what of the `tracestate` is kept. [`Verdict::decide`]
/// (through [`receive`]) turns it into the headers to send on; the
/// OpenTelemetry propagator turns it into a remote span context. Both start
/// from [`judge`], so they cannot disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The caller's context as a receiver carries it on: the trace-id, the
    /// caller's span as parent-id, the sampled and random flags (unknown
    /// flags zero, §3.2.2.5.3), version 00 (§3.2.4). Or why the trace restarts.
    pub caller: Result<TraceParent, RestartReason>,
    /// The `tracestate` to carry on, or `None` for none (on restart, always).
    pub tracestate: Option<TraceState>,
    /// Why an incoming `tracestate` was dropped although the trace continues.
    pub tracestate_dropped: Option<Violation>,
    /// Members left out of the `tracestate` carried on (keys repeated).
    pub tracestate_members_dropped: Vec<Violation>,
}

impl Verdict {
    /// Continue when a caller's context was read, restart otherwise.
    pub fn action(&self) -> Action {
        match self.caller {
            Ok(_) => Action::Continue,
            Err(_) => Action::Restart,
        }
    }

    /// The headers to send on: on continue, the caller's trace with a new
    /// span-id from `ids` as parent-id; on restart, a new trace-id and
    /// span-id from `ids`, flags sampled and random (the ids are random).
    pub fn decide(self, ids: &mut dyn IdSource) -> Decision {
        match self.caller {
            Ok(caller) => Decision {
                action: Action::Continue,
                restart_reason: None,
                tracestate_dropped: self.tracestate_dropped,
                tracestate_members_dropped: self.tracestate_members_dropped,
                traceparent: TraceParent::new(caller.trace_id(), ids.new_span_id(), caller.flags()),
                tracestate: self.tracestate,
            },
            Err(reason) => Decision {
                action: Action::Restart,
                restart_reason: Some(reason),
                tracestate_dropped: None,
                tracestate_members_dropped: Vec::new(),
                traceparent: TraceParent::new(
                    ids.new_trace_id(),
                    ids.new_span_id(),
                    TraceFlags(TraceFlags::SAMPLED | TraceFlags::RANDOM),
                ),
                tracestate: None,
            },
        }
    }
}

/// Judges the headers of a request as W3C Trace Context's processing model
/// says (§5): the one decision about an incoming `traceparent` and
/// `tracestate`, which [`receive`] and the OpenTelemetry propagator share.
///
/// - One valid `traceparent` (a higher version read by the 00 layout):
///   continue. A valid `tracestate` is kept unchanged; one whose only fault
///   is a repeated key is kept without the repeats (§3.5 lets a vendor
///   discard duplicates); any other invalid one is dropped whole (§5 step 3).
///   An empty one is accepted and not sent on.
/// - No `traceparent`, more than one, or an invalid one: restart, and the
///   `tracestate` is not even parsed (§3.3: "If the vendor failed to parse
///   traceparent, it MUST NOT attempt to parse tracestate").
pub fn judge(incoming: &Incoming<'_>) -> Verdict {
    let parsed = match incoming.traceparent.as_slice() {
        [] => Err(RestartReason::Missing),
        [one] => TraceParent::parse(one).map_err(RestartReason::Invalid),
        many => Err(RestartReason::Duplicate(many.len())),
    };
    let caller = match parsed {
        Ok(parent) => TraceParent::new(
            parent.trace_id(),
            parent.parent_id(),
            parent.flags().propagated(),
        ),
        Err(reason) => {
            return Verdict {
                caller: Err(reason),
                tracestate: None,
                tracestate_dropped: None,
                tracestate_members_dropped: Vec::new(),
            }
        }
    };
    let (tracestate, tracestate_dropped, tracestate_members_dropped) =
        if incoming.tracestate.is_empty() {
            (None, None, Vec::new())
        } else {
            match TraceState::parse_lines_dropping_duplicates(&incoming.tracestate) {
                // An empty header is accepted but not worth sending on.
                Ok((state, _)) if state.is_empty() => (None, None, Vec::new()),
                Ok((state, dropped)) => (Some(state), None, dropped),
                Err(violation) => (None, Some(violation), Vec::new()),
            }
        };
    Verdict {
        caller: Ok(caller),
        tracestate,
        tracestate_dropped,
        tracestate_members_dropped,
    }
}

/// Decides what a receiver sends on for the request carrying `incoming`:
/// [`judge`], then new ids from `ids` ([`Verdict::decide`]).
///
/// - One valid `traceparent`: continue. The trace-id stays, the parent-id is a
///   new span-id from `ids`, the sampled and random flags are kept and unknown
///   flags are sent as zero (§3.2.2.5.3); a higher version is sent as 00. A valid
///   `tracestate` is kept unchanged, one with repeated keys without the
///   repeats; any other invalid one is dropped.
/// - Otherwise: restart with a new trace-id and span-id from `ids`, flags
///   sampled and random (the ids are random), and no `tracestate`.
pub fn receive(incoming: &Incoming<'_>, ids: &mut dyn IdSource) -> Decision {
    judge(incoming).decide(ids)
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
            TraceId::from_bytes([self.0; 16]).expect("a test id is not zero")
        }
        fn new_span_id(&mut self) -> SpanId {
            self.0 += 1;
            SpanId::from_bytes([self.0; 8]).expect("a test id is not zero")
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
        assert_eq!(
            decision.traceparent.trace_id(),
            TraceId::from_bytes([1; 16]).expect("a test id is not zero")
        );

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
            tracestate: vec!["a=1,B=2"],
        };
        let decision = receive(&incoming, &mut Counter(0));
        assert_eq!(decision.action, Action::Continue);
        assert_eq!(decision.tracestate, None);
        assert_eq!(
            decision.tracestate_dropped.map(|v| v.rule),
            Some(Rule::TraceStateKeyFirstChar)
        );
    }

    /// The W3C suite's `test_tracestate_duplicated_keys` expects the
    /// tracestate inherited with the repeats kept or discarded; dropping it
    /// whole, as this receiver once did, fails it.
    #[test]
    fn repeated_keys_are_dropped_and_the_rest_is_kept() {
        let incoming = Incoming {
            traceparent: vec!["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
            tracestate: vec!["a=1,b=2,a=3", "b=4,c=5"],
        };
        let decision = receive(&incoming, &mut Counter(0));
        assert_eq!(decision.action, Action::Continue);
        assert_eq!(decision.tracestate_dropped, None);
        assert_eq!(
            decision
                .tracestate
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("a=1,b=2,c=5")
        );
        let dropped: Vec<_> = decision
            .tracestate_members_dropped
            .iter()
            .map(|v| (v.rule, v.range()))
            .collect();
        assert_eq!(
            dropped,
            vec![
                (Rule::TraceStateDuplicateKey, 8..9),
                (Rule::TraceStateDuplicateKey, 12..13)
            ]
        );
        let note = decision.tracestate_note().unwrap_or_default();
        assert!(note.starts_with("2 members repeat"), "{note}");

        // A repeat and another fault: the other fault drops it all.
        let both = Incoming {
            traceparent: incoming.traceparent.clone(),
            tracestate: vec!["a=1,a=2,B=3"],
        };
        let decision = receive(&both, &mut Counter(0));
        assert_eq!(decision.tracestate, None);
        assert_eq!(
            decision.tracestate_dropped.map(|v| v.rule),
            Some(Rule::TraceStateKeyFirstChar)
        );
        assert!(decision.tracestate_members_dropped.is_empty());
    }

    #[test]
    fn each_outgoing_request_gets_its_own_parent_id_in_the_same_trace() {
        let decision = receive(&Incoming::default(), &mut Counter(0));
        let mut ids = Counter(10);
        let first = decision.for_outgoing_request(&mut ids);
        let second = decision.for_outgoing_request(&mut ids);
        assert_eq!(first.trace_id(), decision.traceparent.trace_id());
        assert_eq!(second.trace_id(), decision.traceparent.trace_id());
        assert_eq!(first.flags(), decision.traceparent.flags());
        assert_ne!(first.parent_id(), second.parent_id());
        assert_ne!(first.parent_id(), decision.traceparent.parent_id());
    }
}
