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
//! `trace-summary`, and the waterfall's own.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use tracelab_trace::Trace;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::PageTitle;
use crate::waterfall::{count_spans, Waterfall};

/// What the server gave for the trace.
#[derive(Clone)]
enum Loaded {
    Loading,
    Found(Arc<Trace>),
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
    let params = use_params_map();
    let trace_id =
        move || params.with(|params| params.get("id").unwrap_or_default().to_ascii_lowercase());
    let loaded = RwSignal::new(Loaded::Loading);
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
            let result = fetch_trace(&id).await;
            loaded.set(match result {
                Ok(trace) => Loaded::Found(Arc::new(trace)),
                Err(message) => Loaded::Failed(message),
            });
        });
    });
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
            Loaded::Found(trace) => {
                let services = trace.resources.len();
                view! {
                    <p class="wf-muted" data-testid="trace-summary">
                        {format!(
                            "trace id {}: {} from {} service{}",
                            trace_id(),
                            count_spans(trace.spans.len()),
                            services,
                            if services == 1 { "" } else { "s" }
                        )}
                    </p>
                    <Waterfall trace=trace />
                }
                .into_any()
            }
        }}
    }
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
