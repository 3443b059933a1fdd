//! An OpenTelemetry [`TextMapPropagator`] for W3C Trace Context, built on this
//! crate's receiver, for the native services (`opentelemetry` feature).
//!
//! Extraction is [`judge`]: the same decision [`receive`] makes for the
//! Decode page and `tracelab decode`, so the two cannot disagree (a test
//! runs both over the spec's cases and generated headers). It differs from
//! `opentelemetry_sdk`'s `TraceContextPropagator` where the spec asks for
//! it: more than one `traceparent` is rejected rather than the first taken;
//! several `tracestate` fields are combined; a `tracestate` whose only fault
//! is a repeated key keeps its other members; the random flag (Level 2) is
//! carried on as well as sampled; and what was decided and why stays
//! readable in the returned [`Context`] as an [`Extracted`] value.
//!
//! # Tracestate members OpenTelemetry cannot hold
//!
//! `opentelemetry::trace::TraceState` rejects keys that W3C Trace Context
//! Level 2 accepts (`key = (lcalpha / DIGIT) 0*255 keychar`, where `keychar`
//! includes `@`): a second `@` (`foo@bar@baz`, `foo@@bar`), more than 13
//! characters after the `@` (`t@vvvvvvvvvvvvvvv`, or the W3C suite's
//! 256-character `t…t@vvvvvvvvvvvvvv`), or a character after the `@` that
//! is not a letter or digit (`foo@_x`). Such members are not dropped. The
//! remote span context gets the members OpenTelemetry accepts, in order;
//! the whole `tracestate` kept travels in the [`Context`] as the
//! [`Extracted`] value, and [`inject`](TextMapPropagator::inject_context)
//! writes it back for a span of the same trace: as received when the span's
//! trace state is still what extraction gave it (a child span inherits
//! it), and otherwise with the application's changes applied to it (members
//! added or updated through OpenTelemetry first, members it deleted left
//! out, the rest in their order, cut to 32 from the right, §3.5).
//!
//! What it cannot do: carry them through a [`Context`] that does not
//! descend from the extracted one (a span context copied by hand into a new
//! `Context`). [`Extracted::beyond_opentelemetry`] lists them for a caller
//! that does that.
//!
//! Not for: starting spans, sampling, or any header but `traceparent` and
//! `tracestate`.
//!
//! [`receive`]: crate::receive

use crate::ids::{SpanId, TraceFlags, TraceId};
use crate::receiver::{judge, Incoming, Verdict};
use crate::traceparent::TraceParent;
use crate::tracestate::{TraceState, MAX_MEMBERS};
use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
};
use opentelemetry::trace::{self as otel, TraceContextExt};
use opentelemetry::Context;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// Injects and extracts `traceparent`/`tracestate` with this crate's rules.
#[derive(Clone, Debug)]
pub struct W3cPropagator {
    fields: [String; 2],
}

impl Default for W3cPropagator {
    fn default() -> Self {
        W3cPropagator {
            fields: [TRACEPARENT.to_owned(), TRACESTATE.to_owned()],
        }
    }
}

/// What [`W3cPropagator`] decided about a request's headers, kept in the
/// [`Context`] that extraction returns: read it with
/// `cx.get::<Extracted>()`. It says whether the trace continues and why
/// not, what happened to the `tracestate`, and carries the members that
/// OpenTelemetry's `TraceState` cannot hold on to injection.
#[derive(Clone, Debug)]
pub struct Extracted {
    verdict: Verdict,
    /// The members of the kept `tracestate` that OpenTelemetry accepts, in
    /// order: the trace state the remote span context was given.
    handed_over: otel::TraceState,
    /// Whether `handed_over` holds every member kept.
    complete: bool,
}

impl Extracted {
    fn new(verdict: Verdict) -> Extracted {
        let (handed_over, complete) = match &verdict.tracestate {
            None => (otel::TraceState::NONE, true),
            Some(state) => match otel::TraceState::from_key_value(state.entries()) {
                Ok(all) => (all, true),
                Err(_) => {
                    let accepted = state
                        .entries()
                        .filter(|member| otel::TraceState::from_key_value([*member]).is_ok());
                    (
                        otel::TraceState::from_key_value(accepted).unwrap_or_default(),
                        false,
                    )
                }
            },
        };
        Extracted {
            verdict,
            handed_over,
            complete,
        }
    }

    /// The one decision about the headers ([`judge`]'s), with the
    /// `tracestate` kept and the reasons for what was not.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// The remote span context the headers carry, when the trace continues:
    /// its trace state holds the members OpenTelemetry accepts.
    pub fn span_context(&self) -> Option<otel::SpanContext> {
        let caller = self.verdict.caller.as_ref().ok()?;
        Some(otel::SpanContext::new(
            otel::TraceId::from_bytes(caller.trace_id().to_bytes()),
            otel::SpanId::from_bytes(caller.parent_id().to_bytes()),
            otel::TraceFlags::new(caller.flags().0),
            true,
            self.handed_over.clone(),
        ))
    }

    /// The members kept that OpenTelemetry's `TraceState` rejects, in order:
    /// what this value carries that the span context cannot.
    pub fn beyond_opentelemetry(&self) -> Vec<(&str, &str)> {
        let Some(state) = &self.verdict.tracestate else {
            return Vec::new();
        };
        if self.complete {
            return Vec::new();
        }
        let handed_over: Vec<(&str, &str)> = self.handed_over.into_iter().collect();
        state
            .entries()
            .filter(|member| !handed_over.contains(member))
            .collect()
    }

    /// The `tracestate` value to send with a span whose context is `span`
    /// (empty to send none): see the module's docs.
    pub fn tracestate_for(&self, span: &otel::SpanContext) -> String {
        let now = span.trace_state();
        let same_trace = matches!(
            &self.verdict.caller,
            Ok(caller) if caller.trace_id().to_bytes() == span.trace_id().to_bytes()
        );
        match &self.verdict.tracestate {
            Some(full) if same_trace && !self.complete => {
                if *now == self.handed_over {
                    full.header_value().to_owned()
                } else {
                    merge(full, &self.handed_over, now)
                }
            }
            _ => now.header(),
        }
    }
}

/// `full` with the changes that turned `handed_over` into `now` applied:
/// members added or updated first, in `now`'s order; members deleted left
/// out; every other member in its place; at most 32 (§3.3.1.2, §3.5).
fn merge(full: &TraceState, handed_over: &otel::TraceState, now: &otel::TraceState) -> String {
    let given: Vec<(&str, &str)> = handed_over.into_iter().collect();
    let current: Vec<(&str, &str)> = now.into_iter().collect();
    let mut members: Vec<(&str, &str)> = current
        .iter()
        .copied()
        .filter(|member| !given.contains(member))
        .collect();
    for (key, value) in full.entries() {
        let keep = if given.iter().any(|(given_key, _)| *given_key == key) {
            // Unchanged, it keeps its place; updated, it is already first;
            // deleted, it is gone.
            current.contains(&(key, value))
        } else {
            // OpenTelemetry never held it, so nothing in it changed it.
            !members.iter().any(|(first_key, _)| *first_key == key)
        };
        if keep {
            members.push((key, value));
        }
    }
    members.truncate(MAX_MEMBERS);
    members
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl W3cPropagator {
    pub fn new() -> Self {
        Self::default()
    }

    /// The decision about the headers `extractor` holds: every
    /// `traceparent` and `tracestate` field, judged by [`judge`].
    pub fn judge(&self, extractor: &dyn Extractor) -> Extracted {
        let incoming = Incoming {
            traceparent: extractor.get_all(TRACEPARENT).unwrap_or_default(),
            tracestate: extractor.get_all(TRACESTATE).unwrap_or_default(),
        };
        Extracted::new(judge(&incoming))
    }

    /// The remote span context the headers carry, if they carry a valid
    /// one. Its trace state holds only the members OpenTelemetry accepts;
    /// [`TextMapPropagator::extract_with_context`] keeps the others too.
    pub fn extract_span_context(&self, extractor: &dyn Extractor) -> Option<otel::SpanContext> {
        self.judge(extractor).span_context()
    }
}

impl TextMapPropagator for W3cPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        // An invalid context (a zero id) sends nothing, as the spec says.
        let (Some(trace_id), Some(span_id)) = (
            TraceId::from_bytes(context.trace_id().to_bytes()),
            SpanId::from_bytes(context.span_id().to_bytes()),
        ) else {
            return;
        };
        let parent = TraceParent::new(
            trace_id,
            span_id,
            TraceFlags(context.trace_flags().to_u8()).propagated(),
        );
        injector.set(TRACEPARENT, parent.to_string());
        let state = match cx.get::<Extracted>() {
            Some(extracted) => extracted.tracestate_for(context),
            None => context.trace_state().header(),
        };
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    /// On continue, `cx` with the remote span context; on restart, `cx` as
    /// it is. Either way with the [`Extracted`] decision as a value.
    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let extracted = self.judge(extractor);
        match extracted.span_context() {
            Some(context) => cx.with_remote_span_context(context).with_value(extracted),
            None => cx.with_value(extracted),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Multi(Vec<(&'static str, &'static str)>);
    impl Extractor for Multi {
        fn get(&self, key: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| *v)
        }
        fn keys(&self) -> Vec<&str> {
            self.0.iter().map(|(k, _)| *k).collect()
        }
        fn get_all(&self, key: &str) -> Option<Vec<&str>> {
            let all: Vec<&str> = self
                .0
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| *v)
                .collect();
            (!all.is_empty()).then_some(all)
        }
    }

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";

    #[test]
    fn extract_then_inject_round_trips() {
        let propagator = W3cPropagator::new();
        let extractor = Multi(vec![
            ("traceparent", TP),
            ("tracestate", "rojo=1"),
            ("TraceState", "congo=2"),
        ]);
        let cx = propagator.extract(&extractor);
        let mut out = HashMap::new();
        propagator.inject_context(&cx, &mut out);
        assert_eq!(
            out.get("traceparent").map(String::as_str),
            Some(TP),
            "random flag carried on"
        );
        assert_eq!(
            out.get("tracestate").map(String::as_str),
            Some("rojo=1,congo=2")
        );
    }

    #[test]
    fn duplicate_or_invalid_traceparent_yields_no_context() {
        let propagator = W3cPropagator::new();
        let duplicate = Multi(vec![("traceparent", TP), ("traceparent", TP)]);
        assert!(propagator.extract_span_context(&duplicate).is_none());
        let upper = Multi(vec![(
            "traceparent",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        )]);
        assert!(propagator.extract_span_context(&upper).is_none());
    }

    #[test]
    fn invalid_tracestate_is_dropped_not_fatal() {
        let propagator = W3cPropagator::new();
        let extractor = Multi(vec![("traceparent", TP), ("tracestate", "a=1,B=2")]);
        let cx = propagator.extract(&extractor);
        assert!(cx.span().span_context().is_valid(), "traceparent is valid");
        assert_eq!(cx.span().span_context().trace_state().header(), "");
        // Why is readable in the context, not only in a log.
        let dropped = cx
            .get::<Extracted>()
            .and_then(|extracted| extracted.verdict().tracestate_dropped.clone());
        assert_eq!(
            dropped.map(|v| v.rule),
            Some(crate::Rule::TraceStateKeyFirstChar)
        );
    }

    #[test]
    fn a_restart_says_why_in_the_context() {
        let propagator = W3cPropagator::new();
        let duplicate = Multi(vec![("traceparent", TP), ("traceparent", TP)]);
        let cx = propagator.extract(&duplicate);
        assert!(!cx.span().span_context().is_valid());
        let reason = cx
            .get::<Extracted>()
            .and_then(|extracted| extracted.verdict().caller.clone().err());
        assert_eq!(reason, Some(crate::RestartReason::Duplicate(2)));
    }
}
