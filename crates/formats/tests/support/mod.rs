//! What the integration tests share: a trace in a form that compares across
//! formats (resources and scopes resolved, spans sorted by id), and a
//! proptest strategy for random span trees.

#![allow(dead_code)]

use std::sync::Arc;

use proptest::prelude::*;
use tracelab_trace::model::{
    AttributeValue, Event, KeyValue, Link, ParentRelation, Resource, Scope, Span, SpanId, SpanKind,
    Status, Trace, TraceId,
};

/// One span with its resource and scope written in, so that two traces
/// whose interning differs still compare equal.
#[derive(Debug, PartialEq)]
pub struct Canonical {
    pub span: Span,
    pub service_name: String,
    pub resource_attributes: Vec<KeyValue>,
    pub scope: Option<(String, String, Vec<KeyValue>)>,
}

pub fn canonical(trace: &Trace) -> Vec<Canonical> {
    let mut spans: Vec<Canonical> = trace
        .spans
        .iter()
        .enumerate()
        .map(|(span_idx, span)| {
            let resource = trace.resource_of(span_idx);
            let scope = trace
                .scope_of(span_idx)
                .filter(|scope| {
                    !scope.name.is_empty()
                        || !scope.version.is_empty()
                        || !scope.attributes.is_empty()
                })
                .map(|scope| {
                    (
                        scope.name.to_string(),
                        scope.version.to_string(),
                        scope.attributes.clone(),
                    )
                });
            let mut span = span.clone();
            span.resource_idx = 0;
            span.scope_idx = 0;
            Canonical {
                span,
                service_name: resource
                    .map(|resource| resource.service_name.to_string())
                    .unwrap_or_default(),
                resource_attributes: resource
                    .map(|resource| resource.attributes.clone())
                    .unwrap_or_default(),
                scope,
            }
        })
        .collect();
    spans.sort_by_key(|canonical| (canonical.span.trace_id, canonical.span.span_id));
    spans
}

/// What a format can carry: the generator leaves out what it cannot.
#[derive(Clone, Copy, Debug)]
pub struct Carries {
    /// Arrays as attribute values (Jaeger writes them as text).
    pub arrays: bool,
    /// Scope attributes (Jaeger has nowhere to put them).
    pub scope_attributes: bool,
    /// A follows-from parent (OTLP carries it as a marked link).
    pub follows_from: bool,
}

pub const OTLP: Carries = Carries {
    arrays: true,
    scope_attributes: true,
    follows_from: false,
};
pub const JAEGER: Carries = Carries {
    arrays: false,
    scope_attributes: false,
    follows_from: true,
};

fn scalar() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        "[a-zA-Z0-9 /é\"\\\\]{0,12}".prop_map(|text| AttributeValue::string(&text)),
        any::<bool>().prop_map(AttributeValue::Bool),
        any::<i64>().prop_map(AttributeValue::Int),
        // Finite doubles that print and read back exactly.
        (-1_000_000i64..1_000_000).prop_map(|n| AttributeValue::Double(n as f64 / 8.0)),
        proptest::collection::vec(any::<u8>(), 0..6)
            .prop_map(|bytes| AttributeValue::Bytes(bytes.into_boxed_slice())),
    ]
}

fn value(carries: Carries) -> BoxedStrategy<AttributeValue> {
    if carries.arrays {
        prop_oneof![
            4 => scalar(),
            1 => proptest::collection::vec(scalar(), 0..4).prop_map(|values| AttributeValue::Array(values.into_boxed_slice())),
            1 => proptest::collection::vec(proptest::collection::vec(scalar(), 0..3), 0..3).prop_map(|arrays| {
                AttributeValue::Array(arrays.into_iter().map(|values| AttributeValue::Array(values.into_boxed_slice())).collect())
            }),
        ]
        .boxed()
    } else {
        scalar().boxed()
    }
}

/// Attributes with distinct keys that no format reserves.
fn attributes(carries: Carries, max: usize) -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::vec(value(carries), 0..max).prop_map(|values| {
        values
            .into_iter()
            .enumerate()
            .map(|(position, value)| KeyValue::new(format!("attr.{position}"), value))
            .collect()
    })
}

fn kind() -> impl Strategy<Value = SpanKind> {
    prop_oneof![
        Just(SpanKind::Unspecified),
        Just(SpanKind::Internal),
        Just(SpanKind::Server),
        Just(SpanKind::Client),
        Just(SpanKind::Producer),
        Just(SpanKind::Consumer),
    ]
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(Status::Unset),
        Just(Status::Ok),
        "[a-z ]{0,10}".prop_map(|message| Status::Error {
            message: message.into_boxed_str()
        }),
    ]
}

fn nonzero_trace_id() -> impl Strategy<Value = TraceId> {
    any::<[u8; 16]>().prop_map(|mut bytes| {
        bytes[0] |= 1;
        TraceId(bytes)
    })
}

fn nonzero_span_id() -> impl Strategy<Value = SpanId> {
    any::<u64>().prop_map(|id| SpanId::from_u64(id | 1 << 63))
}

/// One span's random parts, before ids and tree shape are fixed.
#[derive(Debug, Clone)]
struct Parts {
    parent_choice: Option<usize>,
    follows_from: bool,
    name: String,
    kind: SpanKind,
    start_micros: u64,
    duration_micros: u64,
    status: Status,
    trace_state: String,
    sampled: bool,
    attributes: Vec<KeyValue>,
    events: Vec<(u64, String, Vec<KeyValue>)>,
    links: Vec<(TraceId, SpanId, Vec<KeyValue>)>,
    resource: usize,
    scope: usize,
}

fn parts(carries: Carries) -> impl Strategy<Value = Parts> {
    (
        (
            proptest::option::weighted(0.9, any::<usize>()),
            any::<bool>(),
            "[a-zA-Z /]{0,12}",
            kind(),
        ),
        (
            0u64..10_000_000,
            0u64..5_000_000,
            status(),
            prop_oneof![Just(String::new()), Just("vendor=value".to_string())],
            any::<bool>(),
        ),
        attributes(carries, 4),
        proptest::collection::vec(
            (0u64..10_000_000, "[a-z]{0,8}", attributes(carries, 3)),
            0..3,
        ),
        proptest::collection::vec(
            (
                nonzero_trace_id(),
                nonzero_span_id(),
                attributes(carries, 2),
            ),
            0..2,
        ),
        (0usize..3, 0usize..2),
    )
        .prop_map(
            |(
                (parent_choice, follows_from, name, kind),
                (start_micros, duration_micros, status, trace_state, sampled),
                attributes,
                events,
                links,
                (resource, scope),
            )| Parts {
                parent_choice,
                follows_from,
                name,
                kind,
                start_micros,
                duration_micros,
                status,
                trace_state,
                sampled,
                attributes,
                events,
                links,
                resource,
                scope,
            },
        )
}

/// A random trace: a forest of 1 to 40 spans (each span's parent comes
/// before it), times on whole microseconds (what Jaeger and Zipkin keep),
/// three resources and two scopes.
pub fn trace(carries: Carries) -> impl Strategy<Value = Trace> {
    (
        nonzero_trace_id(),
        any::<u64>(),
        proptest::collection::vec(parts(carries), 1..40),
        attributes(carries, 2),
    )
        .prop_map(move |(trace_id, id_seed, parts, scope_attributes)| {
            let base = 1_700_000_000_000_000u64;
            let span_ids: Vec<SpanId> = (0..parts.len() as u64)
                .map(|index| {
                    SpanId::from_u64(
                        (id_seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1 << 62,
                    )
                })
                .collect();
            let resources = (0..3)
                .map(|index| {
                    let service_name = format!("service-{index}");
                    Resource {
                        service_name: Arc::from(service_name.as_str()),
                        attributes: vec![
                            KeyValue::new("service.name", AttributeValue::string(&service_name)),
                            KeyValue::new(
                                "host.name",
                                AttributeValue::string(&format!("host-{index}")),
                            ),
                        ],
                    }
                })
                .collect();
            let scopes = (0..2)
                .map(|index| Scope {
                    name: Arc::from(format!("library-{index}").as_str()),
                    version: format!("1.{index}").into_boxed_str(),
                    attributes: if carries.scope_attributes {
                        scope_attributes.clone()
                    } else {
                        Vec::new()
                    },
                })
                .collect();
            let spans = parts
                .into_iter()
                .enumerate()
                .map(|(index, parts)| {
                    let parent = match parts.parent_choice {
                        Some(choice) if index > 0 => Some(span_ids[choice % index]),
                        _ => None,
                    };
                    let start = (base + parts.start_micros) * 1000;
                    let mut span = Span::new(
                        trace_id,
                        span_ids[index],
                        parent,
                        parts.name.as_str(),
                        start,
                        start + parts.duration_micros * 1000,
                    );
                    if parent.is_some() && parts.follows_from && carries.follows_from {
                        span.parent_relation = ParentRelation::FollowsFrom;
                    }
                    span.kind = parts.kind;
                    span.status = parts.status;
                    span.trace_state = parts.trace_state.into_boxed_str();
                    span.trace_flags = u8::from(parts.sampled);
                    span.attributes = parts.attributes;
                    span.events = parts
                        .events
                        .into_iter()
                        .map(|(micros, name, attributes)| Event {
                            time_unix_nanos: (base + micros) * 1000,
                            name: Arc::from(name.as_str()),
                            attributes,
                        })
                        .collect();
                    span.links = parts
                        .links
                        .into_iter()
                        .map(|(trace_id, span_id, attributes)| Link {
                            trace_id,
                            span_id,
                            attributes,
                        })
                        .collect();
                    span.resource_idx = parts.resource as u32;
                    span.scope_idx = parts.scope as u32;
                    span
                })
                .collect();
            Trace {
                spans,
                resources,
                scopes,
            }
        })
}
