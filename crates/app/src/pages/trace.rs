//! `/trace/{trace-id}`: one stored trace in the waterfall, the page the link
//! `tracelab call` prints opens (the original demo's Jaeger link, now
//! served by `tracelab up` itself).
//!
//! It asks the server that served the page for the trace
//! (`/api/tracelab/traces/{trace-id}`, the trace in `tracelab-trace`'s
//! model as JSON) and draws it; this is the one page that talks to a
//! server, and only to its own origin. Opened from `trunk serve`, where no
//! collector answers, it says where traces come from.
//!
//! Test hooks (`data-testid`): `trace-loading`, `trace-error`,
//! `trace-summary`, the Export buttons' (`crate::export`) and the
//! waterfall's own.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use tracelab_trace::Trace;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::live::LiveStream;
use super::PageTitle;
use crate::waterfall::link::{self, link_view};
use crate::waterfall::{count_spans, Waterfall};

/// What the server gave for the trace (the trace itself is in `shown`).
#[derive(Clone)]
enum Loaded {
    Loading,
    Found,
    Failed(String),
}

/// A trace id as the link carries it: 1 to 32 hex digits.
fn valid_trace_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 32 && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// Said when the server that served the page keeps no traces.
const NO_COLLECTOR: &str = "Nothing here answers for traces: this page shows traces stored by `tracelab up`, which serves the app on http://localhost:16686. Run `tracelab up` and `tracelab call`, then open the link it prints.";

/// Fetches the trace from the page's own origin.
async fn fetch_trace(trace_id: &str) -> Result<Trace, String> {
    let window = web_sys::window().ok_or("no window")?;
    let url = format!("/api/tracelab/traces/{trace_id}");
    let response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .map_err(|_| "the server could not be reached".to_owned())?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| "the server's answer is not an HTTP response".to_owned())?;
    let text = JsFuture::from(
        response
            .text()
            .map_err(|_| "the answer's body cannot be read".to_owned())?,
    )
    .await
    .map_err(|_| "the answer's body cannot be read".to_owned())?
    .as_string()
    .unwrap_or_default();
    let json = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|kind| kind.starts_with("application/json"));
    match response.status() {
        // A static server (`trunk serve`) answers every path with the app.
        _ if !json => Err(NO_COLLECTOR.to_owned()),
        200 => serde_json::from_str::<Trace>(&text)
            .map_err(|error| format!("the server's trace could not be read: {error}")),
        404 if text.contains("not found") => Err(format!(
            "No trace {trace_id} is stored. Traces arrive a few seconds after a call (the SDK exports in batches); reload in a moment, or check the id."
        )),
        404 => Err(NO_COLLECTOR.to_owned()),
        status => Err(format!("the server answered {status}: {text}")),
    }
}

#[component]
pub fn TracePage() -> impl IntoView {
    // This page talks to the server that served it, and to nothing else
    // (crate::csp). Reached from a page that allowed less, it loads afresh.
    if !crate::csp::may_connect(&["'self'"]) {
        return view! { <p class="wf-muted" data-testid="app-loading">"Loading…"</p> }.into_any();
    }
    crate::csp::restrict(&["'self'"]);
    let params = use_params_map();
    let trace_id =
        move || params.with(|params| params.get("id").unwrap_or_default().to_ascii_lowercase());
    let loaded = RwSignal::new(Loaded::Loading);
    // The trace on screen: replaced by a longer one as spans arrive, which
    // the waterfall follows in place.
    let shown = RwSignal::new(Arc::<Trace>::default());
    let spans_at_open = RwSignal::new(0_usize);
    // A fetch is under way, or another is wanted once it ends.
    let fetching = StoredValue::new((false, false));
    let refetch = move |id: String| {
        let busy = fetching
            .try_update_value(|(busy, again)| {
                let was = *busy;
                if was {
                    *again = true;
                }
                *busy = true;
                was
            })
            .unwrap_or(true);
        if busy {
            return;
        }
        leptos::task::spawn_local(async move {
            loop {
                if let Ok(trace) = fetch_trace(&id).await {
                    let _ = shown.try_set(Arc::new(trace));
                }
                let again = fetching
                    .try_update_value(|(busy, again)| {
                        let again_now = std::mem::take(again);
                        *busy = again_now;
                        again_now
                    })
                    .unwrap_or(false);
                if !again {
                    break;
                }
            }
        });
    };
    Effect::new(move |_| {
        let id = trace_id();
        if !valid_trace_id(&id) {
            loaded.set(Loaded::Failed(format!(
                "“{}” is not a trace id (1 to 32 hex digits).",
                id.chars().take(40).collect::<String>()
            )));
            return;
        }
        loaded.set(Loaded::Loading);
        leptos::task::spawn_local(async move {
            match fetch_trace(&id).await {
                Ok(trace) => {
                    let _ = spans_at_open.try_set(trace.spans.len());
                    let _ = shown.try_set(Arc::new(trace));
                    let _ = loaded.try_set(Loaded::Found);
                }
                Err(message) => {
                    let _ = loaded.try_set(Loaded::Failed(message));
                }
            }
        });
    });
    // Follow the trace: a summary of it with another span count means spans
    // arrived (or were evicted); fetch it again. A stream that cannot open
    // (a static server) only leaves the page as it is.
    let stream = StoredValue::new_local(None::<LiveStream>);
    Effect::new(move |_| {
        let Loaded::Found = loaded.get() else {
            return;
        };
        let id = trace_id();
        let on_summary = move |summary: tracelab_trace::summary::TraceSummary| {
            let on_screen = shown.try_with_untracked(|shown| shown.spans.len());
            if summary.trace_id == id && on_screen != Some(summary.spans) {
                refetch(id.clone());
            }
        };
        stream.set_value(LiveStream::open(on_summary, |_| {}));
    });
    on_cleanup(move || {
        // Dropping the stream closes it.
        drop(stream.try_update_value(Option::take));
    });
    let linked = link_view(
        web_sys::window()
            .and_then(|window| window.location().pathname().ok())
            .unwrap_or_default(),
    );
    view! {
        <PageTitle title="Trace" />
        {move || match loaded.get() {
            Loaded::Loading => view! {
                <p class="wf-muted" data-testid="trace-loading">{format!("Loading trace {}…", trace_id())}</p>
            }
            .into_any(),
            Loaded::Failed(message) => view! {
                <p class="wf-note" role="alert" data-testid="trace-error">"⚠ " {message}</p>
            }
            .into_any(),
            Loaded::Found => {
                linked.changes.track();
                let initial = link::read();
                let trace: Signal<Arc<Trace>> = shown.into();
                let summary = move || {
                    trace.with(|trace| {
                        let services = trace.resources.len();
                        format!(
                            "trace id {}: {} from {} service{}",
                            trace_id(),
                            count_spans(trace.spans.len()),
                            services,
                            if services == 1 { "" } else { "s" }
                        )
                    })
                };
                let updated = move || {
                    let now = trace.with(|trace| trace.spans.len());
                    let at_open = spans_at_open.get();
                    (now != at_open).then(|| {
                        view! {
                            <p class="wf-muted" role="status" data-testid="trace-updated">
                                {format!("Following the trace: {} when the page opened, {} now.", count_spans(at_open), count_spans(now))}
                            </p>
                        }
                    })
                };
                view! {
                    <p class="wf-muted" data-testid="trace-summary">{summary}</p>
                    {updated}
                    <crate::export::TraceExport trace=trace />
                    <Waterfall
                        trace=trace
                        initial=initial.view
                        link_note=initial.note
                        on_view_change=linked.on_view_change
                    />
                }
                .into_any()
            }
        }}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_are_hex_of_at_most_32_digits() {
        assert!(valid_trace_id("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(valid_trace_id("a3ce929d0e0e4736"), "a 64-bit Jaeger id");
        assert!(!valid_trace_id(""));
        assert!(!valid_trace_id("4bf92f3577b34da6a3ce929d0e0e47360"));
        assert!(!valid_trace_id("<script>"));
    }
}
