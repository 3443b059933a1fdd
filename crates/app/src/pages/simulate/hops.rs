//! Every hop of a call: the request line and headers as they went over the
//! simulated wire, each `traceparent` drawn with the Decode page's coloured
//! field view, and a sentence on how it relates to the hop before (the
//! trace-id stays, the parent-id changes) and which span it names.

use leptos::prelude::*;
use std::ops::Range;

use tracelab_context::traceparent::FieldName;
use tracelab_demo::sim::CallReport;
use tracelab_demo::{Hop, Service};

use crate::pages::decode::report::field_segments;

/// The service's colour slot in the waterfall's palette (`--wf-svc-N`):
/// fixed, so a hop wears the colour its service has in every waterfall on
/// the page, even in a split trace that lists bands-api first.
pub fn service_slot(service: Service) -> usize {
    match service {
        Service::Client => 0,
        Service::Bands => 1,
        Service::Reviews => 2,
    }
}

/// The fixed colour of each service, by name, for the waterfall.
pub fn service_colors() -> Vec<(String, usize)> {
    [Service::Client, Service::Bands, Service::Reviews]
        .into_iter()
        .map(|service| (service.name().to_owned(), service_slot(service)))
        .collect()
}

/// Where the four fields of a `traceparent` are, when it has the one shape
/// the simulation's W3C propagator writes (`00-<32 hex>-<16 hex>-<2 hex>`,
/// lower case): to draw them and to compare hops. `None` for any other
/// text. This is not a validator (the Decode page says what is wrong with a
/// header, with `traceparent::diagnose`): every header here comes from the
/// propagator, and the trace pages' app is spared the validator's code.
fn canonical_fields(value: &str) -> Option<[(FieldName, Range<usize>); 4]> {
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
    shaped.then_some([
        (FieldName::Version, 0..2),
        (FieldName::TraceId, 3..35),
        (FieldName::ParentId, 36..52),
        (FieldName::TraceFlags, 53..55),
    ])
}

/// A hop's `traceparent` and where its fields are, if it has one.
type HopHeader = (String, Option<[(FieldName, Range<usize>); 4]>);

/// The span, among those recorded in `outcome`, whose span-id is `hex`: its
/// name and service, to say which span a parent-id points at.
fn span_named(outcome: &CallReport, hex: &str) -> Option<(String, &'static str)> {
    outcome
        .span_named(hex)
        .map(|(name, service)| (name.to_owned(), service.name()))
}

/// The hop list of `outcome`.
pub fn hop_list(outcome: &CallReport) -> AnyView {
    // (trace-id, parent-id) of the hop before, for the comparison sentence.
    let mut previous: Option<(String, String)> = None;
    let items = outcome
        .hops
        .iter()
        .enumerate()
        .map(|(idx, hop)| {
            let header: Option<HopHeader> = hop
                .traceparent()
                .map(|value| (value.to_owned(), canonical_fields(value)));
            let ids = header.as_ref().and_then(|(value, fields)| {
                let [_, (_, trace_id), (_, parent_id), _] = fields.as_ref()?;
                Some((
                    value[trace_id.clone()].to_owned(),
                    value[parent_id.clone()].to_owned(),
                ))
            });
            let relation = relation(outcome, previous.as_ref(), ids.as_ref(), header.is_some());
            if ids.is_some() {
                previous = ids;
            }
            hop_item(idx + 1, hop, header, relation)
        })
        .collect_view();
    view! { <ol class="sim-hops">{items}</ol> }.into_any()
}

/// One sentence on this hop's context: none sent, or which span its
/// parent-id names and whether its trace-id is the previous hop's.
fn relation(
    outcome: &CallReport,
    previous: Option<&(String, String)>,
    ids: Option<&(String, String)>,
    sent: bool,
) -> String {
    let Some((trace_id, parent_id)) = ids else {
        if sent {
            return "This traceparent is not one the W3C propagator writes; the Decode page says what is wrong with it.".to_owned();
        }
        return "No traceparent on this request: the receiver has no context to continue, so if it traces, it starts a new trace.".to_owned();
    };
    let named = match span_named(outcome, parent_id) {
        Some((name, service)) => {
            format!("parent-id {parent_id} is the span-id of “{name}” in {service}")
        }
        // An unsampled span is not recorded, but its id still travels.
        None => format!("parent-id {parent_id} names a span that was not recorded (unsampled)"),
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
    format!("{named}{against}.")
}

fn hop_item(number: usize, hop: &Hop, header: Option<HopHeader>, relation: String) -> AnyView {
    let status = match hop.response_status {
        Some(status) => format!("answered {status}"),
        None => "no answer in time".to_owned(),
    };
    let failed = hop.response_status.is_none_or(|status| status >= 400);
    // The request as it went over the wire: request line, then header lines.
    let mut wire = format!("{} {} HTTP/1.1", hop.method, hop.target);
    for (name, value) in &hop.request_headers {
        wire.push('\n');
        wire.push_str(name);
        wire.push_str(": ");
        wire.push_str(value);
    }
    let fields = header.and_then(|(value, fields)| {
        let fields = fields?;
        Some(field_segments(
            &value,
            fields
                .iter()
                .map(|(name, range)| (*name, range.clone(), &value[range.clone()])),
        ))
    });
    view! {
        <li
            class="sim-hop"
            data-testid="sim-hop"
            data-service=hop.to.name()
            data-color=service_slot(hop.to).to_string()
            style=format!("--sim-svc: var(--wf-svc-{})", service_slot(hop.to))
        >
            <h4 class="sim-hop-head">
                {format!("Hop {number}: {} → {}", hop.from.name(), hop.to.name())}
                " "
                <span class="sim-hop-status" class:sim-bad=failed>
                    {if failed { "✘ " } else { "✔ " }}
                    {status}
                </span>
            </h4>
            <pre class="code sim-wire"><code>{wire}</code></pre>
            {fields}
            <p class="sim-hop-relation">{relation}</p>
        </li>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_propagators_shape_gives_its_four_fields() {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let fields = canonical_fields(value).expect("the propagator's shape");
        let texts: Vec<(&str, &str)> = fields
            .iter()
            .map(|(name, range)| (name.as_str(), &value[range.clone()]))
            .collect();
        assert_eq!(
            texts,
            [
                ("version", "00"),
                ("trace-id", "4bf92f3577b34da6a3ce929d0e0e4736"),
                ("parent-id", "00f067aa0ba902b7"),
                ("trace-flags", "01"),
            ]
        );
        // Any other text is shown as it is, never cut into fields.
        for other in [
            "",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0é",
        ] {
            assert_eq!(canonical_fields(other), None, "{other:?}");
        }
    }
}
