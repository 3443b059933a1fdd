//! `/live`: traces arriving at `tracelab up`'s collector, listed as they
//! come, without reloading. The page first asks the server that served it
//! whether it keeps traces (`/api/tracelab/status`); if it does, it follows
//! `/api/tracelab/live` (server-sent events, one summary per trace that
//! received spans; `EventSource` resumes after a reconnect with the last
//! event id). Opened from `trunk serve`, it says where traces come from and
//! opens no stream.
//!
//! The list keeps the newest [`tracelab_trace::summary::KEPT`] traces (a trace that grows moves to
//! the top) and draws at most [`SHOWN`] of those the search matches.
//!
//! Test hooks (`data-testid`): `live-status`, `live-count`, `live-row` (with
//! `data-trace-id`), `live-filter-text` (words of the root's name or of a
//! service), `live-filter-min-ms`, `live-filter-errors`, `live-more`.

use leptos::prelude::*;
use tracelab_trace::axis::format_duration;
use tracelab_trace::summary::{merge, LiveFilter, TraceSummary};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::{PageInfo, PageTitle};

pub const INFO: PageInfo = PageInfo {
    slug: "live",
    path: "/live",
    title: "Live",
    summary: "Watch traces arrive at tracelab up's collector, from its services or any OpenTelemetry SDK, and open any in the waterfall.",
};

/// Rows drawn at most.
pub const SHOWN: usize = 200;

/// Where the page stands with the server.
#[derive(Clone, Debug, PartialEq)]
enum Connection {
    Checking,
    /// The server keeps no traces (a static server, `trunk serve`).
    NoCollector,
    Open,
    Reconnecting,
}

/// Whether the server that served the page is a tracelab collector.
async fn has_collector() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(response) = JsFuture::from(window.fetch_with_str("/api/tracelab/status")).await else {
        return false;
    };
    let Ok(response) = response.dyn_into::<web_sys::Response>() else {
        return false;
    };
    response.ok()
        && response
            .headers()
            .get("content-type")
            .ok()
            .flatten()
            .is_some_and(|kind| kind.starts_with("application/json"))
}

/// Everything the page shows, in one signal (each signal or memo type of
/// its own costs the first load code; see BENCHMARKS.md).
#[derive(Clone, Debug, PartialEq)]
struct LiveState {
    connection: Connection,
    traces: Vec<TraceSummary>,
    filter: LiveFilter,
}

#[component]
pub fn Live() -> impl IntoView {
    let state = RwSignal::new(LiveState {
        connection: Connection::Checking,
        traces: Vec::new(),
        filter: LiveFilter::default(),
    });
    // Set once the stream is open, so leaving the page closes it.
    let opened: std::rc::Rc<std::cell::RefCell<Option<web_sys::EventSource>>> = Default::default();
    let keep = opened.clone();
    leptos::task::spawn_local(async move {
        if !has_collector().await {
            state.update(|s| s.connection = Connection::NoCollector);
            return;
        }
        let Ok(events) = web_sys::EventSource::new("/api/tracelab/live") else {
            state.update(|s| s.connection = Connection::NoCollector);
            return;
        };
        let on_trace = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let data = event
                .dyn_ref::<web_sys::MessageEvent>()
                .and_then(|message| message.data().as_string());
            if let Some(Ok(summary)) = data.map(|data| serde_json::from_str::<TraceSummary>(&data))
            {
                state.update(|s| merge(&mut s.traces, summary));
            }
        });
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            state.update(|s| s.connection = Connection::Open);
        });
        // EventSource tries again by itself, with Last-Event-ID.
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            state.update(|s| s.connection = Connection::Reconnecting);
        });
        let _ = events.add_event_listener_with_callback("trace", on_trace.as_ref().unchecked_ref());
        events.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        events.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // They live as long as the stream, which the page closes on leaving.
        on_trace.forget();
        on_open.forget();
        on_error.forget();
        *keep.borrow_mut() = Some(events);
    });
    // The browser's objects stay on its one thread; the wrapper says so.
    let opened = send_wrapper::SendWrapper::new(opened);
    on_cleanup(move || {
        if let Some(events) = opened.borrow_mut().take() {
            events.close();
        }
    });
    let set_filter =
        move |change: &dyn Fn(&mut LiveFilter)| state.update(|s| change(&mut s.filter));

    view! {
        <PageTitle title=INFO.title />
        <p class="wf-muted" data-testid="live-status" aria-live="polite">
            {move || match state.with(|s| s.connection.clone()) {
                Connection::Checking => "Connecting…",
                Connection::NoCollector => "No collector answers here: live traces come from `tracelab up` (or `tracelab collector`), which serves this app on http://localhost:16686. Run it, make a call with `tracelab call`, and they appear here as they arrive.",
                Connection::Open => "Connected: traces appear as their spans arrive.",
                Connection::Reconnecting => "The connection dropped; reconnecting (what arrives meanwhile is sent on reconnect)…",
            }}
        </p>
        <div class="live-filters">
            <label>
                "Search "
                <input
                    type="search"
                    data-testid="live-filter-text"
                    placeholder="operation or service"
                    on:input=move |event| {
                        let text = event_target_value(&event);
                        set_filter(&|f| f.text = text.clone())
                    }
                />
            </label>
            <label>
                "At least "
                <input
                    type="number"
                    min="0"
                    data-testid="live-filter-min-ms"
                    on:input=move |event| {
                        let value = event_target_value(&event).trim().parse::<u64>().unwrap_or(0);
                        set_filter(&|f| f.min_ms = value)
                    }
                />
                " ms"
            </label>
            <label>
                <input
                    type="checkbox"
                    data-testid="live-filter-errors"
                    on:change=move |event| {
                        let on = event_target_checked(&event);
                        set_filter(&|f| f.errors_only = on)
                    }
                />
                " errors only"
            </label>
        </div>
        {move || {
            state.with(|s| {
                let matching: Vec<&TraceSummary> =
                    s.traces.iter().filter(|trace| s.filter.matches(trace)).collect();
                let more = matching.len().saturating_sub(SHOWN);
                let rows = matching
                    .iter()
                    .take(SHOWN)
                    .map(|trace| {
                        let errors = if trace.errors > 0 {
                            format!(" · ✖ {} error{}", trace.errors, if trace.errors == 1 { "" } else { "s" })
                        } else {
                            String::new()
                        };
                        view! {
                            <li data-testid="live-row" data-trace-id=trace.trace_id.clone()>
                                <a href=format!("/trace/{}", trace.trace_id)>
                                    {format!("{}: {}", trace.root_service, trace.root_name)}
                                </a>
                                {format!(
                                    " · {} · {} spans{errors} · {}",
                                    trace.services.join(", "),
                                    trace.spans,
                                    format_duration(trace.duration_nanos)
                                )}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <p class="wf-muted" data-testid="live-count">
                        {format!("{} of {} traces", matching.len(), s.traces.len())}
                    </p>
                    <ul class="live-list">{rows}</ul>
                    <p class="wf-muted" data-testid="live-more">
                        {(more > 0).then(|| format!("{more} more match; narrow the search to see them."))}
                    </p>
                }
            })
        }}
    }
}
