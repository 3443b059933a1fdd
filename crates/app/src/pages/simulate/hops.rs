//! Every hop of a call: the request line and headers as they went over the
//! simulated wire, each `traceparent` drawn with the Decode page's coloured
//! field view, and a sentence on how it relates to the hop before (the
//! trace-id stays, the parent-id changes) and which span it names.

use leptos::prelude::*;
use tracelab_context::traceparent::FieldName;
use tracelab_demo::hops::traceparent_fields;
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

/// The hop list of `outcome`, each hop with its `traceparent`'s fields
/// drawn and the sentence the simulation wrote on it
/// (`tracelab_demo::hops`).
pub fn hop_list(outcome: &CallReport) -> AnyView {
    let items = outcome
        .hops
        .iter()
        .enumerate()
        .map(|(idx, hop)| {
            let relation = outcome.relations.get(idx).cloned().unwrap_or_default();
            hop_item(idx + 1, hop, relation)
        })
        .collect_view();
    view! { <ol class="sim-hops">{items}</ol> }.into_any()
}

fn hop_item(number: usize, hop: &Hop, relation: String) -> AnyView {
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
    let fields = hop.traceparent().and_then(|value| {
        let fields = traceparent_fields(value)?;
        Some(field_segments(
            value,
            [
                (FieldName::Version, fields.version),
                (FieldName::TraceId, fields.trace_id),
                (FieldName::ParentId, fields.parent_id),
                (FieldName::TraceFlags, fields.flags),
            ]
            .into_iter()
            .map(|(name, range)| (name, range.clone(), &value[range])),
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
