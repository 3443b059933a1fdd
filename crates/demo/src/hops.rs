//! What each hop's `traceparent` says: where its four fields are, and one
//! sentence on how the hop relates to the trace (which recorded span its
//! parent-id names, and whether its trace-id is the hop before's). Worked
//! out with the call's report, in the simulation's worker, so the Simulate
//! page only shows it (as [`crate::diagnose`]'s timeouts are).
//!
//! Not a validator: every header here comes from the W3C propagator, so a
//! value of any other shape is only said to be one (`tracelab_context`'s
//! `traceparent::diagnose` says what is wrong with it, on the Decode page).

use std::ops::Range;

use crate::net::Service;
use crate::sim::Hop;

/// Where each field of a `traceparent` is, as byte ranges of its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceParentFields {
    pub version: Range<usize>,
    pub trace_id: Range<usize>,
    pub parent_id: Range<usize>,
    pub flags: Range<usize>,
}

/// The fields of `value` when it has the one shape the W3C propagator
/// writes (`00-<32 hex>-<16 hex>-<2 hex>`, lower case); `None` for any other
/// text.
pub fn traceparent_fields(value: &str) -> Option<TraceParentFields> {
    let bytes = value.as_bytes();
    let lower_hex = |range: Range<usize>| {
        bytes.get(range).is_some_and(|digits| {
            digits
                .iter()
                .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        })
    };
    let shaped = bytes.len() == 55
        && [2, 35, 52].iter().all(|&dash| bytes[dash] == b'-')
        && lower_hex(0..2)
        && lower_hex(3..35)
        && lower_hex(36..52)
        && lower_hex(53..55);
    shaped.then_some(TraceParentFields {
        version: 0..2,
        trace_id: 3..35,
        parent_id: 36..52,
        flags: 53..55,
    })
}

/// One sentence a hop, in order: no context sent, a header of another
/// shape, or which of the recorded `spans` (span-id in hex, name, service)
/// its parent-id names and how its ids compare with the last hop that sent
/// some.
pub fn relations(hops: &[Hop], spans: &[(String, String, Service)]) -> Vec<String> {
    // (trace-id, parent-id) of the last hop that sent a readable header.
    let mut previous: Option<(&str, &str)> = None;
    hops.iter()
        .map(|hop| {
            let Some(value) = hop.traceparent() else {
                return "No traceparent on this request: the receiver has no context to continue, so if it traces, it starts a new trace.".to_owned();
            };
            let Some(fields) = traceparent_fields(value) else {
                return "This traceparent is not one the W3C propagator writes; the Decode page says what is wrong with it.".to_owned();
            };
            let (trace_id, parent_id) = (&value[fields.trace_id], &value[fields.parent_id]);
            let named = match spans.iter().find(|(id, _, _)| id == parent_id) {
                Some((_, name, service)) => format!(
                    "parent-id {parent_id} is the span-id of “{name}” in {}",
                    service.name()
                ),
                // An unsampled span is not recorded, but its id still travels.
                None => format!(
                    "parent-id {parent_id} names a span that was not recorded (unsampled)"
                ),
            };
            let against = match previous {
                None => String::new(),
                Some((before_trace, before_parent)) => {
                    let trace = if before_trace == trace_id {
                        "same trace-id as the hop before"
                    } else {
                        "a different trace-id from the hop before: a separate trace"
                    };
                    let parent = if before_parent == parent_id {
                        "the same parent-id"
                    } else {
                        "a new parent-id"
                    };
                    format!("; {trace}, {parent}")
                }
            };
            previous = Some((trace_id, parent_id));
            format!("{named}{against}.")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson;
    use crate::sim::make_call;

    #[test]
    fn the_propagators_shape_gives_its_four_fields() {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let fields = traceparent_fields(value).expect("the propagator's shape");
        assert_eq!(
            [
                &value[fields.version],
                &value[fields.trace_id],
                &value[fields.parent_id],
                &value[fields.flags],
            ],
            [
                "00",
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "00f067aa0ba902b7",
                "01"
            ]
        );
        // Any other text is not cut into fields.
        for other in [
            "",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert_eq!(traceparent_fields(other), None, "{other:?}");
        }
    }

    #[test]
    fn each_hop_says_which_span_its_parent_id_names_and_how_it_follows_the_last() {
        // Both services propagate: the client's span is bands-api's parent,
        // bands-api's client span reviews-api's, in one trace.
        let step = lesson::STEPS.last().expect("the lesson has steps");
        let report = make_call(&step.switches(), 7).report();
        assert_eq!(report.relations.len(), report.hops.len());
        assert_eq!(report.relations.len(), 2, "{:?}", report.relations);
        for (hop, relation) in report.hops.iter().zip(&report.relations) {
            let value = hop.traceparent().expect("a traceparent on each hop");
            let fields = traceparent_fields(value).expect("the propagator's shape");
            let parent_id = &value[fields.parent_id];
            let (_, name, service) = report
                .spans
                .iter()
                .find(|(id, _, _)| id == parent_id)
                .expect("the parent span was recorded");
            assert!(
                relation.starts_with(&format!(
                    "parent-id {parent_id} is the span-id of “{name}” in {}",
                    service.name()
                )),
                "{relation}"
            );
        }
        assert!(
            report.relations[1].ends_with("; same trace-id as the hop before, a new parent-id."),
            "{}",
            report.relations[1]
        );
    }

    #[test]
    fn a_hop_with_no_header_or_another_shape_says_so() {
        let hop = |headers: Vec<(String, String)>| Hop {
            from: Service::Client,
            to: Service::Bands,
            method: "GET".to_owned(),
            target: "/bands/1".to_owned(),
            request_headers: headers,
            response_status: Some(200),
            response_headers: Vec::new(),
            sent_unix_nanos: 0,
            timed_out_after_nanos: None,
        };
        let relations = relations(
            &[
                hop(Vec::new()),
                hop(vec![("traceparent".to_owned(), "00-zz".to_owned())]),
                hop(vec![(
                    "traceparent".to_owned(),
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
                )]),
                hop(vec![(
                    "traceparent".to_owned(),
                    "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-00".to_owned(),
                )]),
            ],
            &[],
        );
        assert!(relations[0].starts_with("No traceparent on this request"));
        assert!(relations[1].starts_with("This traceparent is not one the W3C propagator writes"));
        assert_eq!(
            relations[2],
            "parent-id 00f067aa0ba902b7 names a span that was not recorded (unsampled)."
        );
        // Compared with the last readable header, not the unreadable one.
        assert_eq!(
            relations[3],
            "parent-id 00f067aa0ba902b7 names a span that was not recorded (unsampled); a different trace-id from the hop before: a separate trace, the same parent-id."
        );
    }
}
