//! An OpenTelemetry [`TextMapPropagator`] for W3C Trace Context, built on this
//! crate's parser, for the native services (`opentelemetry` feature).
//!
//! It differs from `opentelemetry_sdk`'s `TraceContextPropagator` where the
//! spec asks for it: more than one `traceparent` is rejected rather than the
//! first taken; several `tracestate` fields are combined; the random flag
//! (Level 2) is carried on as well as sampled.

use crate::ids::{SpanId, TraceFlags, TraceId};
use crate::receiver::Incoming;
use crate::traceparent::TraceParent;
use crate::tracestate::{TraceState, TraceStateView};
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

impl W3cPropagator {
    pub fn new() -> Self {
        Self::default()
    }

    /// The remote span context the headers carry, if they carry a valid one.
    pub fn extract_span_context(&self, extractor: &dyn Extractor) -> Option<otel::SpanContext> {
        let incoming = Incoming {
            traceparent: extractor.get_all(TRACEPARENT).unwrap_or_default(),
            tracestate: extractor.get_all(TRACESTATE).unwrap_or_default(),
        };
        let [one] = incoming.traceparent.as_slice() else {
            return None;
        };
        let parent = TraceParent::parse(one).ok()?;
        // A bad tracestate must not affect the traceparent (§3.3): drop it.
        let state = match incoming.tracestate.as_slice() {
            [] => otel::TraceState::default(),
            // One line, the usual case, is read in place; several are combined first.
            [line] => TraceStateView::parse(line)
                .ok()
                .and_then(|view| otel::TraceState::from_key_value(view.entries()).ok())
                .unwrap_or_default(),
            lines => TraceState::parse_lines(lines)
                .ok()
                .and_then(|state| otel::TraceState::from_key_value(state.entries()).ok())
                .unwrap_or_default(),
        };
        Some(otel::SpanContext::new(
            otel::TraceId::from_bytes(parent.trace_id.0),
            otel::SpanId::from_bytes(parent.parent_id.0),
            otel::TraceFlags::new(parent.flags.propagated().0),
            true,
            state,
        ))
    }
}

impl TextMapPropagator for W3cPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return;
        }
        let parent = TraceParent::new(
            TraceId(context.trace_id().to_bytes()),
            SpanId(context.span_id().to_bytes()),
            TraceFlags(context.trace_flags().to_u8()).propagated(),
        );
        injector.set(TRACEPARENT, parent.to_string());
        let state = context.trace_state().header();
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match self.extract_span_context(extractor) {
            Some(context) => cx.with_remote_span_context(context),
            None => cx.clone(),
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
        let extractor = Multi(vec![("traceparent", TP), ("tracestate", "a=1,a=2")]);
        let context = propagator
            .extract_span_context(&extractor)
            .expect("traceparent is valid");
        assert_eq!(context.trace_state().header(), "");
    }
}
