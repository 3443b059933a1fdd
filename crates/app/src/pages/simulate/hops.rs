//! Every hop of a call: the request line and headers as they went over the
//! simulated wire, each `traceparent` drawn with the Decode page's coloured
//! field view, and a sentence on how it relates to the hop before (the
//! trace-id stays, the parent-id changes) and which span it names.

use leptos::prelude::*;
use tracelab_context::traceparent::{self, FieldName, TraceParentReport};
use tracelab_demo::sim::CallReport;
use tracelab_demo::{Hop, Service};

use crate::pages::decode::report::segments;

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

/// The raw text of one field of a decoded `traceparent`.
fn field(report: &TraceParentReport, name: FieldName) -> Option<&str> {
    report
        .fields
        .iter()
        .find(|field| field.name == name)
        .map(|field| field.raw.as_str())
}

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
            let decoded = hop
                .traceparent()
                .map(|value| (value.to_owned(), traceparent::diagnose(value)));
            let ids = decoded.as_ref().and_then(|(_, report)| {
                Some((
                    field(report, FieldName::TraceId)?.to_owned(),
                    field(report, FieldName::ParentId)?.to_owned(),
                ))
            });
            let relation = relation(outcome, previous.as_ref(), ids.as_ref());
            if ids.is_some() {
                previous = ids;
            }
            hop_item(idx + 1, hop, decoded, relation)
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
) -> String {
    let Some((trace_id, parent_id)) = ids else {
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

fn hop_item(
    number: usize,
    hop: &Hop,
    decoded: Option<(String, TraceParentReport)>,
    relation: String,
) -> AnyView {
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
    let fields = decoded.map(|(value, report)| segments(&value, &report));
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
