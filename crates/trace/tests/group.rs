//! Property tests of grouping spans by trace id and merging batches
//! (`tracelab_trace::group`), against a plain model of what they mean.

use proptest::prelude::*;
use tracelab_trace::group::{merge, same_attributes, TraceGrouper};
use tracelab_trace::{AttributeValue, KeyValue, Resource, Scope, Span, SpanId, Trace, TraceId};

/// A resource from a small pool, so that batches repeat them; `variant`
/// changes a deep value, so near misses must stay apart.
fn pool_resource(choice: u8) -> Resource {
    let service = ["bands-api", "reviews-api", "client"][usize::from(choice % 3)];
    let deep = AttributeValue::Array(Box::new([AttributeValue::Array(Box::new([
        AttributeValue::Int(i64::from(choice / 3 % 2)),
        AttributeValue::Double(if choice.is_multiple_of(5) {
            f64::NAN
        } else {
            1.5
        }),
    ]))]));
    Resource {
        service_name: service.into(),
        attributes: vec![
            KeyValue::new("service.name", AttributeValue::string(service)),
            KeyValue::new("deep", deep),
        ],
    }
}

fn pool_scope(choice: u8) -> Scope {
    Scope {
        name: ["http", "db"][usize::from(choice % 2)].into(),
        version: ["1", "2"][usize::from(choice / 2 % 2)].into(),
        attributes: Vec::new(),
    }
}

/// Batches as the importers and the collector see them: each its own
/// resources and scopes (repeated across batches), spans of a few trace
/// ids in any order, some with an index out of the batch's range.
fn batches() -> impl Strategy<Value = Vec<Trace>> {
    let batch = (
        prop::collection::vec(any::<u8>(), 0..4),
        prop::collection::vec(any::<u8>(), 0..3),
        prop::collection::vec((0u8..5, any::<u8>(), any::<u8>()), 0..20),
    );
    prop::collection::vec(batch, 0..8).prop_map(|batches| {
        let mut next_id = 1u64;
        batches
            .into_iter()
            .map(|(resources, scopes, spans)| Trace {
                resources: resources
                    .iter()
                    .map(|&choice| pool_resource(choice))
                    .collect(),
                scopes: scopes.iter().map(|&choice| pool_scope(choice)).collect(),
                spans: spans
                    .iter()
                    .map(|&(trace, resource, scope)| {
                        next_id += 1;
                        let mut span = Span::new(
                            TraceId([trace + 1; 16]),
                            SpanId::from_u64(next_id),
                            None,
                            "op",
                            next_id,
                            next_id + 1,
                        );
                        // Mostly in range; now and then one past it.
                        span.resource_idx = u32::from(resource % (resources.len() as u8 + 1));
                        span.scope_idx = u32::from(scope % (scopes.len() as u8 + 1));
                        span
                    })
                    .collect(),
            })
            .collect()
    })
}

fn resource_of(batch: &Trace, span: &Span) -> Resource {
    batch
        .resources
        .get(span.resource_idx as usize)
        .cloned()
        .unwrap_or(Resource {
            service_name: "".into(),
            attributes: Vec::new(),
        })
}

fn scope_of(batch: &Trace, span: &Span) -> Scope {
    batch
        .scopes
        .get(span.scope_idx as usize)
        .cloned()
        .unwrap_or(Scope {
            name: "".into(),
            version: "".into(),
            attributes: Vec::new(),
        })
}

fn same_resource(a: &Resource, b: &Resource) -> bool {
    a.service_name == b.service_name && same_attributes(&a.attributes, &b.attributes)
}

fn same_scope(a: &Scope, b: &Scope) -> bool {
    a.name == b.name && a.version == b.version && same_attributes(&a.attributes, &b.attributes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn merge_groups_by_trace_id_and_interns(batches in batches()) {
        let merged = merge(batches.clone());

        // The model: every span in file order, with its resource and scope
        // as values.
        let expected: Vec<(Span, Resource, Scope)> = batches
            .iter()
            .flat_map(|batch| batch.spans.iter().map(move |span| (span.clone(), resource_of(batch, span), scope_of(batch, span))))
            .collect();
        let mut order: Vec<TraceId> = Vec::new();
        for (span, _, _) in &expected {
            if !order.contains(&span.trace_id) {
                order.push(span.trace_id);
            }
        }
        // One trace per id, in the order of their first span.
        let ids: Vec<TraceId> = merged.iter().map(|trace| trace.spans[0].trace_id).collect();
        prop_assert_eq!(ids, order.clone());
        for (trace, trace_id) in merged.iter().zip(&order) {
            // Its spans, in file order, each with the same resource and scope.
            let wanted: Vec<&(Span, Resource, Scope)> =
                expected.iter().filter(|(span, _, _)| span.trace_id == *trace_id).collect();
            prop_assert_eq!(trace.spans.len(), wanted.len());
            for (span, (original, resource, scope)) in trace.spans.iter().zip(wanted) {
                prop_assert_eq!(span.span_id, original.span_id);
                let got_resource = &trace.resources[span.resource_idx as usize];
                prop_assert!(same_resource(got_resource, resource));
                prop_assert!(same_scope(&trace.scopes[span.scope_idx as usize], scope));
            }
            // Each resource and scope once, and each used by a span.
            for (index, resource) in trace.resources.iter().enumerate() {
                prop_assert!(trace.resources[..index].iter().all(|other| !same_resource(other, resource)));
                prop_assert!(trace.spans.iter().any(|span| span.resource_idx as usize == index));
            }
            for (index, scope) in trace.scopes.iter().enumerate() {
                prop_assert!(trace.scopes[..index].iter().all(|other| !same_scope(other, scope)));
                prop_assert!(trace.spans.iter().any(|span| span.scope_idx as usize == index));
            }
        }
        // Merging again changes nothing: grouping is idempotent.
        prop_assert_eq!(format!("{:?}", merge(merged.clone())), format!("{merged:?}"));
    }

    /// Adding span by span with the grouper's own indices is the same as
    /// merging the batches.
    #[test]
    fn the_grouper_and_merge_agree(batches in batches()) {
        let mut grouper = TraceGrouper::new();
        for batch in &batches {
            let resources: Vec<u32> = batch.resources.iter().map(|resource| grouper.resource(resource.clone())).collect();
            let scopes: Vec<u32> = batch.scopes.iter().map(|scope| grouper.scope(scope.clone())).collect();
            for span in &batch.spans {
                let mut span = span.clone();
                span.resource_idx = resources.get(span.resource_idx as usize).copied().unwrap_or(u32::MAX);
                span.scope_idx = scopes.get(span.scope_idx as usize).copied().unwrap_or(u32::MAX);
                grouper.span(span);
            }
        }
        prop_assert_eq!(grouper.n_traces(), merge(batches.clone()).len());
        prop_assert_eq!(format!("{:?}", grouper.finish()), format!("{:?}", merge(batches)));
    }
}
