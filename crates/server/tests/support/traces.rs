//! Comparing traces in tests: everything the model holds of each span,
//! with its service and scope by content (their indices may differ between
//! two readings of the same spans), in a stable order. Included with
//! `#[path]` by the tests that compare traces.

use tracelab_trace::model::{Span, Trace};

/// One line per span, sorted: ids, parent and relation, name, kind, times,
/// status, trace state and flags, attributes, events, links, resource and
/// scope.
pub fn comparable(trace: &Trace) -> Vec<String> {
    let mut spans: Vec<String> = trace
        .spans
        .iter()
        .enumerate()
        .map(|(idx, span)| {
            // Every field by name, so that a field added to the model
            // fails to compile here until it is compared too.
            let Span {
                trace_id,
                span_id,
                parent_span_id,
                parent_relation,
                name,
                kind,
                start_unix_nanos,
                end_unix_nanos,
                status,
                trace_state,
                trace_flags,
                attributes,
                events,
                links,
                resource_idx: _,
                scope_idx: _,
            } = span;
            let resource = trace.resource_of(idx);
            let scope = trace.scope_of(idx);
            format!(
                "{trace_id} {span_id} {parent_span_id:?} {parent_relation:?} {name:?} {kind:?} \
                 {start_unix_nanos} {end_unix_nanos} {status:?} {trace_state:?} {trace_flags} \
                 {attributes:?} {events:?} {links:?} {resource:?} {scope:?}"
            )
        })
        .collect();
    spans.sort();
    spans
}
