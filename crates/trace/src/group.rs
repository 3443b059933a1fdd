//! Spans into traces: grouping by trace id, and merging batches with their
//! resources and scopes interned. The one way every source of spans (the
//! file importers, the collector, the simulation) turns what it received
//! into [`Trace`]s.
//!
//! ```
//! use tracelab_trace::group::{merge, TraceGrouper};
//! use tracelab_trace::model::{KeyValue, AttributeValue, Resource, Scope, Span, SpanId, TraceId};
//!
//! let service = |name: &str| Resource {
//!     service_name: name.into(),
//!     attributes: vec![KeyValue::new("service.name", AttributeValue::string(name))],
//! };
//! let scope = Scope { name: "http".into(), version: "1".into(), attributes: Vec::new() };
//! let span = |trace: u8, id: u64| Span::new(TraceId([trace; 16]), SpanId::from_u64(id), None, "GET", 0, 1);
//!
//! // Two batches from the same service, spans of two traces in each.
//! let mut grouper = TraceGrouper::new();
//! for batch in 0..2 {
//!     let resource_idx = grouper.resource(service("bands-api"));
//!     let scope_idx = grouper.scope(scope.clone());
//!     for (trace, id) in [(1, 10 + batch), (2, 20 + batch)] {
//!         let mut span = span(trace, id);
//!         span.resource_idx = resource_idx;
//!         span.scope_idx = scope_idx;
//!         grouper.span(span);
//!     }
//! }
//! let traces = grouper.finish();
//! // One trace per trace id, in the order their first span came.
//! assert_eq!(traces.len(), 2);
//! assert_eq!(traces[0].spans.len(), 2);
//! // The two identical resources are one.
//! assert_eq!(traces[0].resources.len(), 1);
//!
//! // Merging whole traces (batches of their own) does the same.
//! let again = merge(traces.clone());
//! assert_eq!(again, traces);
//! ```
//!
//! Everything is a hash lookup, linear in the spans and the resources' and
//! scopes' sizes; nothing recurses (attribute values are hashed and compared
//! with an explicit stack, whatever their depth).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use crate::model::{AttributeValue, KeyValue, Resource, Scope, Span, Trace, TraceId};

/// Spans arriving in batches, grouped into one [`Trace`] per trace id.
///
/// Resources and scopes are interned once for everything added (equal
/// contents, compared exactly, make one: ten thousand batches from one
/// service make one resource), then once per trace; each trace holds only
/// the resources and scopes its spans use, in the order its spans first use
/// them. Traces come out in the order their first span was added, their
/// spans in the order added.
#[derive(Default)]
pub struct TraceGrouper {
    resources: Vec<Resource>,
    resources_by_hash: HashMap<u64, Vec<u32>>,
    scopes: Vec<Scope>,
    scopes_by_hash: HashMap<u64, Vec<u32>>,
    groups: Vec<Group>,
    group_of_trace: HashMap<TraceId, usize>,
    hasher: std::collections::hash_map::RandomState,
}

struct Group {
    trace: Trace,
    /// The grouper's resource index to this trace's.
    resources: HashMap<u32, u32>,
    scopes: HashMap<u32, u32>,
}

impl TraceGrouper {
    pub fn new() -> TraceGrouper {
        TraceGrouper::default()
    }

    /// The grouper's index of `resource`, for [`Span::resource_idx`] of the
    /// spans then given to [`TraceGrouper::span`]; an equal resource given
    /// before has the same index.
    pub fn resource(&mut self, resource: Resource) -> u32 {
        let hash = {
            let mut hasher = self.hasher.build_hasher();
            resource.service_name.hash(&mut hasher);
            hash_attributes(&resource.attributes, &mut hasher);
            hasher.finish()
        };
        intern(
            &mut self.resources,
            &mut self.resources_by_hash,
            hash,
            resource,
            |a, b| {
                a.service_name == b.service_name && same_attributes(&a.attributes, &b.attributes)
            },
        )
    }

    /// The grouper's index of `scope`, for [`Span::scope_idx`].
    pub fn scope(&mut self, scope: Scope) -> u32 {
        let hash = {
            let mut hasher = self.hasher.build_hasher();
            scope.name.hash(&mut hasher);
            scope.version.hash(&mut hasher);
            hash_attributes(&scope.attributes, &mut hasher);
            hasher.finish()
        };
        intern(
            &mut self.scopes,
            &mut self.scopes_by_hash,
            hash,
            scope,
            |a, b| {
                a.name == b.name
                    && a.version == b.version
                    && same_attributes(&a.attributes, &b.attributes)
            },
        )
    }

    /// Adds a span whose `resource_idx` and `scope_idx` are indices from
    /// [`TraceGrouper::resource`] and [`TraceGrouper::scope`]. An index the
    /// grouper never gave reads as an empty resource or scope (never a
    /// panic).
    pub fn span(&mut self, mut span: Span) {
        if span.resource_idx as usize >= self.resources.len() {
            span.resource_idx = self.resource(Resource {
                service_name: Arc::from(""),
                attributes: Vec::new(),
            });
        }
        if span.scope_idx as usize >= self.scopes.len() {
            span.scope_idx = self.scope(Scope {
                name: Arc::from(""),
                version: Box::from(""),
                attributes: Vec::new(),
            });
        }
        let n_groups = self.groups.len();
        let group_idx = *self.group_of_trace.entry(span.trace_id).or_insert(n_groups);
        if group_idx == n_groups {
            self.groups.push(Group {
                trace: Trace::default(),
                resources: HashMap::new(),
                scopes: HashMap::new(),
            });
        }
        let group = &mut self.groups[group_idx];
        let trace = &mut group.trace;
        let all_resources = &self.resources;
        span.resource_idx = *group.resources.entry(span.resource_idx).or_insert_with(|| {
            trace
                .resources
                .push(all_resources[span.resource_idx as usize].clone());
            trace.resources.len() as u32 - 1
        });
        let all_scopes = &self.scopes;
        span.scope_idx = *group.scopes.entry(span.scope_idx).or_insert_with(|| {
            trace
                .scopes
                .push(all_scopes[span.scope_idx as usize].clone());
            trace.scopes.len() as u32 - 1
        });
        trace.spans.push(span);
    }

    /// Adds a batch that is itself a [`Trace`]: its spans (of any trace
    /// ids) with indices into its own resources and scopes. A span whose
    /// index is out of its batch's range gets an empty resource or scope.
    pub fn add(&mut self, batch: Trace) {
        let resources: Vec<u32> = batch
            .resources
            .into_iter()
            .map(|resource| self.resource(resource))
            .collect();
        let scopes: Vec<u32> = batch
            .scopes
            .into_iter()
            .map(|scope| self.scope(scope))
            .collect();
        for mut span in batch.spans {
            span.resource_idx = match resources.get(span.resource_idx as usize) {
                Some(&resource_idx) => resource_idx,
                None => u32::MAX,
            };
            span.scope_idx = match scopes.get(span.scope_idx as usize) {
                Some(&scope_idx) => scope_idx,
                None => u32::MAX,
            };
            self.span(span);
        }
    }

    /// How many traces so far.
    pub fn n_traces(&self) -> usize {
        self.groups.len()
    }

    /// The traces, in the order their first span was added.
    pub fn finish(self) -> Vec<Trace> {
        self.groups.into_iter().map(|group| group.trace).collect()
    }
}

/// Merges batches into one trace per trace id (see [`TraceGrouper`]): the
/// spans of a trace that arrived in several batches come together, and
/// equal resources and scopes are one. A batch holding several trace ids
/// is split.
pub fn merge(batches: impl IntoIterator<Item = Trace>) -> Vec<Trace> {
    let mut grouper = TraceGrouper::new();
    for batch in batches {
        grouper.add(batch);
    }
    grouper.finish()
}

/// The index of `item` in `items`, adding it if no equal one is there.
fn intern<T>(
    items: &mut Vec<T>,
    by_hash: &mut HashMap<u64, Vec<u32>>,
    hash: u64,
    item: T,
    same: impl Fn(&T, &T) -> bool,
) -> u32 {
    let candidates = by_hash.entry(hash).or_default();
    if let Some(&index) = candidates
        .iter()
        .find(|&&index| same(&items[index as usize], &item))
    {
        return index;
    }
    let index = items.len() as u32;
    items.push(item);
    candidates.push(index);
    index
}

/// Feeds attributes into `hasher`, arrays with an explicit stack. Doubles
/// by their bits, so that the hash agrees with [`same_attributes`].
fn hash_attributes(attributes: &[KeyValue], hasher: &mut impl Hasher) {
    hasher.write_usize(attributes.len());
    let mut stack: Vec<&AttributeValue> = Vec::new();
    for attribute in attributes {
        attribute.key.hash(hasher);
        stack.push(&attribute.value);
        while let Some(value) = stack.pop() {
            match value {
                AttributeValue::String(text) => {
                    hasher.write_u8(0);
                    text.hash(hasher);
                }
                AttributeValue::Bool(flag) => {
                    hasher.write_u8(1);
                    flag.hash(hasher);
                }
                AttributeValue::Int(int) => {
                    hasher.write_u8(2);
                    int.hash(hasher);
                }
                AttributeValue::Double(double) => {
                    hasher.write_u8(3);
                    double.to_bits().hash(hasher);
                }
                AttributeValue::Bytes(bytes) => {
                    hasher.write_u8(4);
                    bytes.hash(hasher);
                }
                AttributeValue::Array(items) => {
                    hasher.write_u8(5);
                    hasher.write_usize(items.len());
                    stack.extend(items.iter().rev());
                }
            }
        }
    }
}

/// Whether two attribute lists are the same, in the same order, doubles
/// compared by their bits (so a NaN equals itself and interning stays
/// consistent), arrays with an explicit stack.
pub fn same_attributes(a: &[KeyValue], b: &[KeyValue]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut stack: Vec<(&AttributeValue, &AttributeValue)> = Vec::new();
    for (left, right) in a.iter().zip(b) {
        if left.key != right.key {
            return false;
        }
        stack.push((&left.value, &right.value));
        while let Some(pair) = stack.pop() {
            let same = match pair {
                (AttributeValue::String(x), AttributeValue::String(y)) => x == y,
                (AttributeValue::Bool(x), AttributeValue::Bool(y)) => x == y,
                (AttributeValue::Int(x), AttributeValue::Int(y)) => x == y,
                (AttributeValue::Double(x), AttributeValue::Double(y)) => {
                    x.to_bits() == y.to_bits()
                }
                (AttributeValue::Bytes(x), AttributeValue::Bytes(y)) => x == y,
                (AttributeValue::Array(x), AttributeValue::Array(y)) => {
                    stack.extend(x.iter().zip(y.iter()));
                    x.len() == y.len()
                }
                _ => false,
            };
            if !same {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpanId;

    fn resource(name: &str, value: AttributeValue) -> Resource {
        Resource {
            service_name: Arc::from(name),
            attributes: vec![KeyValue::new("v", value)],
        }
    }

    #[test]
    fn equal_contents_intern_once_and_near_misses_do_not() {
        let mut grouper = TraceGrouper::new();
        let nested = |inner: i64| {
            AttributeValue::Array(Box::new([AttributeValue::Array(Box::new([
                AttributeValue::Int(inner),
            ]))]))
        };
        let a = grouper.resource(resource("a", nested(1)));
        assert_eq!(grouper.resource(resource("a", nested(1))), a);
        assert_ne!(
            grouper.resource(resource("a", nested(2))),
            a,
            "deep difference"
        );
        assert_ne!(
            grouper.resource(resource("b", nested(1))),
            a,
            "other service"
        );
        // NaN is interned with itself; 0.0 and -0.0 are kept apart.
        let nan = grouper.resource(resource("a", AttributeValue::Double(f64::NAN)));
        assert_eq!(
            grouper.resource(resource("a", AttributeValue::Double(f64::NAN))),
            nan
        );
        let zero = grouper.resource(resource("a", AttributeValue::Double(0.0)));
        assert_ne!(
            grouper.resource(resource("a", AttributeValue::Double(-0.0))),
            zero
        );
        // An int is not the string of its digits.
        let int = grouper.resource(resource("a", AttributeValue::Int(1)));
        assert_ne!(
            grouper.resource(resource("a", AttributeValue::string("1"))),
            int
        );
    }

    #[test]
    fn an_index_never_given_reads_as_empty_not_a_panic() {
        let mut grouper = TraceGrouper::new();
        let mut span = Span::new(TraceId([1; 16]), SpanId::from_u64(1), None, "x", 0, 1);
        span.resource_idx = 7;
        span.scope_idx = 9;
        grouper.span(span);
        let traces = grouper.finish();
        assert_eq!(traces[0].resources.len(), 1);
        assert_eq!(&*traces[0].resources[0].service_name, "");
        assert_eq!(&*traces[0].scopes[0].name, "");
        assert_eq!(
            (
                traces[0].spans[0].resource_idx,
                traces[0].spans[0].scope_idx
            ),
            (0, 0)
        );
    }

    #[test]
    fn a_deep_value_hashes_and_compares_without_recursion() {
        fn deep(leaf: i64) -> Vec<KeyValue> {
            let mut value = AttributeValue::Int(leaf);
            for _ in 0..100_000 {
                value = AttributeValue::Array(Box::new([value]));
            }
            vec![KeyValue::new("deep", value)]
        }
        // The derived Drop recurses: take a value apart level by level.
        fn dismantle(mut attributes: Vec<KeyValue>) {
            let mut next = attributes.pop().map(|attribute| attribute.value);
            while let Some(AttributeValue::Array(items)) = next {
                next = items.into_vec().pop();
            }
        }
        let (a, b, c) = (deep(1), deep(1), deep(2));
        assert!(same_attributes(&a, &b));
        assert!(!same_attributes(&a, &c));
        let state = std::collections::hash_map::RandomState::new();
        let hash = |attributes: &[KeyValue]| {
            let mut hasher = state.build_hasher();
            hash_attributes(attributes, &mut hasher);
            hasher.finish()
        };
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(hash(&a), hash(&c));
        for attributes in [a, b, c] {
            dismantle(attributes);
        }
    }
}
