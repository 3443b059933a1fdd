//! `/live`: traces arriving at `tracelab up`'s collector, listed as they
//! come, without reloading. The page first asks the server that served it
//! whether it keeps traces (`/api/tracelab/status`); if it does, it follows
//! `/api/tracelab/live` (server-sent events, one summary per trace that
//! received spans; `EventSource` resumes after a reconnect with the last
//! event id). Opened from `trunk serve`, it says where traces come from and
//! opens no stream.
//!
//! The list keeps the newest [`tracelab_trace::summary::KEPT`] traces (a trace that grows moves to
//! the top) and draws at most [`SHOWN`] of those the search matches. The
//! summaries that arrive between two animation frames are merged and drawn
//! together, so that a burst of thousands of traces does not hold the page
//! (`e2e/bench/live-stream.mjs`, BENCHMARKS.md).
//!
//! When `tracelab up` runs the demo's services beside the collector (the
//! status names them), the page also makes **real calls**: the demo's client
//! runs in a worker (`crate::real_call`), calls bands-api over the network
//! with the `traceparent` it builds, and exports its own spans to the
//! collector, so the trace arrives in the list like any other. The lesson's
//! switches, drawn as on the Simulate page, are read from the running
//! services and changed on them (`/admin/switches`); the client's switches
//! apply to the browser's own client.
//!
//! Test hooks (`data-testid`): `live-status`, `live-count`, `live-row` (with
//! `data-trace-id`), `live-filter-text` (words of the root's name or of a
//! service), `live-filter-min-ms`, `live-filter-errors`, `live-more`;
//! `live-lab` (the real calls), `live-real-call`, `live-real-result` (with
//! `data-trace-id` once a call traced), `live-switches-note`, and the
//! switches' `sim-switch` with `data-switch`, as on the Simulate page.

use leptos::prelude::*;
use tracelab_demo::{Failure, Switches};
use tracelab_trace::axis::format_duration;
use tracelab_trace::summary::{merge_all, LiveFilter, TraceSummary, KEPT};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::simulate::worker::SimWorker;
use super::simulate::{failures_group, flag_group, GROUPS};
use super::{PageInfo, PageTitle};
use crate::real_call::{response_text, Real, RealCallAnswer, RealCallRequest};

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

/// One of the demo's services, as `/api/tracelab/status` names it.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
struct LabService {
    name: String,
    url: String,
    host: String,
    port: u16,
}

#[derive(serde::Deserialize)]
struct LabStatus {
    #[serde(default)]
    services: Vec<LabService>,
}

/// `None` when the server that served the page is not a tracelab
/// collector; otherwise the demo's services it runs (none for `tracelab
/// collector` alone).
async fn lab_status() -> Option<Vec<LabService>> {
    let response = fetch("/api/tracelab/status", None).await.ok()?;
    let is_json = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|kind| kind.starts_with("application/json"));
    if !response.ok() || !is_json {
        return None;
    }
    let text = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    Some(
        serde_json::from_str::<LabStatus>(&text)
            .map(|status| status.services)
            .unwrap_or_default(),
    )
}

/// `fetch(url)`, or with `body` a `PUT` of JSON; the response, or why none.
async fn fetch(url: &str, body: Option<&str>) -> Result<web_sys::Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    if let Some(body) = body {
        init.set_method("PUT");
        init.set_body(&JsValue::from_str(body));
        let headers = web_sys::Headers::new().map_err(|_| "no Headers")?;
        let _ = headers.append("content-type", "application/json");
        init.set_headers(&headers);
    }
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| format!("{url} did not answer"))?;
    response
        .dyn_into::<web_sys::Response>()
        .map_err(|_| format!("{url} gave no response"))
}

/// The switches the running service holds.
async fn read_switches(service: &LabService) -> Result<Switches, String> {
    let url = format!("{}/admin/switches", service.url);
    let response = fetch(&url, None).await?;
    let body = response_text(&response).await;
    let json: serde_json::Value = serde_json::from_str(&body)
        .map_err(|error| format!("{url} did not answer JSON: {error}"))?;
    let mut switches = Switches::default();
    switches.apply_json(&json)?;
    Ok(switches)
}

/// Sets `switches` on every service; what happened, in a sentence.
async fn write_switches(services: &[LabService], switches: String) -> String {
    let mut failed = Vec::new();
    for service in services {
        let url = format!("{}/admin/switches", service.url);
        match fetch(&url, Some(&switches)).await {
            Ok(response) if response.ok() => {}
            Ok(response) => failed.push(format!(
                "{} refused them ({}): {}",
                service.name,
                response.status(),
                response_text(&response).await
            )),
            Err(error) => failed.push(error),
        }
    }
    if failed.is_empty() {
        format!(
            "Switches set on {}.",
            services
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        )
    } else {
        failed.join(" ")
    }
}

/// What the real calls show.
#[derive(Clone, Debug, Default, PartialEq)]
struct RealCalls {
    /// The services of `tracelab up`; empty when none run here.
    services: Vec<LabService>,
    /// The switches were read from the services (changes are sent on).
    switches_loaded: bool,
    /// The switches as the services last said they hold them (JSON), so
    /// that only a change is sent.
    switches_held: String,
    /// What became of the last change of switches.
    switches_note: String,
    running: bool,
    last: Option<RealCallAnswer>,
    /// Why the last call could not be made at all.
    error: Option<String>,
}

/// Summaries received since the last frame, in the order they came.
#[derive(Default)]
struct Pending {
    arrived: Vec<TraceSummary>,
    /// A frame is asked for, which will merge them into the list.
    frame_asked: bool,
}

/// Everything the page shows, in one signal (each signal or memo type of
/// its own costs the first load code; see BENCHMARKS.md).
#[derive(Clone, Debug, PartialEq)]
struct LiveState {
    connection: Connection,
    traces: Vec<TraceSummary>,
    filter: LiveFilter,
    real: RealCalls,
}

/// The collector's stream of arriving traces (`/api/tracelab/live`, one
/// `trace` event with a [`TraceSummary`] per trace that received spans),
/// open until dropped. `EventSource` reconnects by itself, with
/// `Last-Event-ID`, so nothing missed in between is lost.
pub(crate) struct LiveStream {
    events: web_sys::EventSource,
    _listeners: [Closure<dyn FnMut(web_sys::Event)>; 3],
}

impl LiveStream {
    /// Opens the stream of the server that served the page: `on_summary`
    /// gets each summary, `on_connected` whether the stream is open (`false`
    /// while it reconnects). `None` where the browser refuses the stream.
    pub(crate) fn open(
        mut on_summary: impl FnMut(TraceSummary) + 'static,
        on_connected: impl Fn(bool) + 'static,
    ) -> Option<LiveStream> {
        let events = web_sys::EventSource::new("/api/tracelab/live").ok()?;
        let on_trace = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let data = event
                .dyn_ref::<web_sys::MessageEvent>()
                .and_then(|message| message.data().as_string());
            if let Some(Ok(summary)) = data.map(|data| serde_json::from_str::<TraceSummary>(&data))
            {
                on_summary(summary);
            }
        });
        let on_connected = std::rc::Rc::new(on_connected);
        let connected = on_connected.clone();
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| connected(true));
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| on_connected(false));
        let _ = events.add_event_listener_with_callback("trace", on_trace.as_ref().unchecked_ref());
        events.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        events.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(LiveStream {
            events,
            _listeners: [on_trace, on_open, on_error],
        })
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.events.close();
    }
}

#[component]
pub fn Live() -> impl IntoView {
    // This page talks to the server that served it and to the demo's
    // services it names, which are known only once it asked (crate::csp):
    // it needs a document with no policy yet.
    if !crate::csp::may_connect_anywhere() {
        return view! { <p class="wf-muted" data-testid="app-loading">"Loading…"</p> }.into_any();
    }
    let state = RwSignal::new(LiveState {
        connection: Connection::Checking,
        traces: Vec::new(),
        filter: LiveFilter::default(),
        real: RealCalls::default(),
    });
    let switches = RwSignal::new(Switches::default());
    let fail_kind = RwSignal::new(Failure::ServerError);
    // Set once the stream is open, so leaving the page closes it.
    let opened: std::rc::Rc<std::cell::RefCell<Option<LiveStream>>> = Default::default();
    let keep = opened.clone();
    leptos::task::spawn_local(async move {
        let Some(services) = lab_status().await else {
            state.update(|s| s.connection = Connection::NoCollector);
            return;
        };
        // From here on, the browser refuses connections to anywhere else.
        let mut allowed = vec!["'self'".to_owned()];
        allowed.extend(services.iter().map(|service| service.url.clone()));
        crate::csp::restrict(&allowed.iter().map(String::as_str).collect::<Vec<_>>());
        if let Some(bands) = services.first().cloned() {
            state.update(|s| s.real.services = services);
            leptos::task::spawn_local(async move {
                match read_switches(&bands).await {
                    Ok(read) => {
                        if read.fail_reviews != Failure::None {
                            fail_kind.set(read.fail_reviews);
                        }
                        state.update(|s| {
                            s.real.switches_loaded = true;
                            s.real.switches_held = read.to_json().to_string();
                        });
                        switches.set(read);
                    }
                    Err(error) => state.update(|s| {
                        s.real.switches_note =
                            format!("The services' switches could not be read: {error}")
                    }),
                }
            });
        }
        // Summaries wait here for the next animation frame, which merges
        // them all and draws the list once. The browser dispatches the
        // events of a chunk of the stream one after another, each followed
        // by Leptos's redraw: merged one by one, a burst of 5,000 traces
        // held the page for 14 s (e2e/bench/live-stream.mjs).
        let pending: std::rc::Rc<std::cell::RefCell<Pending>> = Default::default();
        let on_summary = move |summary: TraceSummary| {
            let mut waiting = pending.borrow_mut();
            waiting.arrived.push(summary);
            // A hidden tab draws no frames: keep what waits bounded.
            if waiting.arrived.len() >= 2 * KEPT {
                let mut newest_first = Vec::new();
                merge_all(&mut newest_first, std::mem::take(&mut waiting.arrived));
                newest_first.reverse();
                waiting.arrived = newest_first;
            }
            if !waiting.frame_asked {
                waiting.frame_asked = true;
                let pending = pending.clone();
                request_animation_frame(move || {
                    let arrived = {
                        let mut waiting = pending.borrow_mut();
                        waiting.frame_asked = false;
                        std::mem::take(&mut waiting.arrived)
                    };
                    // The page may have gone since the frame was asked for.
                    let _ = state.try_update(|s| merge_all(&mut s.traces, arrived));
                });
            }
        };
        let on_connected = move |connected: bool| {
            state.update(|s| {
                s.connection = if connected {
                    Connection::Open
                } else {
                    Connection::Reconnecting
                }
            });
        };
        let Some(events) = LiveStream::open(on_summary, on_connected) else {
            state.update(|s| s.connection = Connection::NoCollector);
            return;
        };
        *keep.borrow_mut() = Some(events);
    });
    // The browser's objects stay on its one thread; the wrapper says so.
    let opened = send_wrapper::SendWrapper::new(opened);
    on_cleanup(move || {
        // Dropping the stream closes it.
        drop(opened.borrow_mut().take());
    });
    let set_filter =
        move |change: &dyn Fn(&mut LiveFilter)| state.update(|s| change(&mut s.filter));

    // A change of switches goes to the running services, once they were
    // read and only when it differs from what they hold.
    Effect::new(move |_| {
        let body = switches.with(|s| s.to_json().to_string());
        let (changed, services) = state.with_untracked(|s| {
            (
                s.real.switches_loaded && s.real.switches_held != body,
                s.real.services.clone(),
            )
        });
        if changed {
            state.update(|s| s.real.switches_held = body.clone());
            leptos::task::spawn_local(async move {
                let note = write_switches(&services, body).await;
                state.update(|s| s.real.switches_note = note);
            });
        }
    });

    // The worker that makes the real calls, started on the first.
    let worker: std::rc::Rc<std::cell::RefCell<Option<SimWorker>>> = Default::default();
    let worker = send_wrapper::SendWrapper::new(worker);
    let real_call = move |_| {
        let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) else {
            return;
        };
        let Some(bands) = state.with_untracked(|s| s.real.services.first().cloned()) else {
            return;
        };
        let mut slot = worker.borrow_mut();
        if slot.is_none() {
            let started = SimWorker::start(move |answer| {
                let answer = answer.and_then(|text| {
                    serde_json::from_str::<Real<RealCallAnswer>>(&text)
                        .map(|real| real.real)
                        .map_err(|_| format!("the worker answered: {text}"))
                });
                state.update(|s| {
                    s.real.running = false;
                    match answer {
                        Ok(answer) => {
                            s.real.last = Some(answer);
                            s.real.error = None;
                        }
                        Err(error) => s.real.error = Some(error),
                    }
                });
            });
            match started {
                Ok(started) => *slot = Some(started),
                Err(error) => {
                    state.update(|s| s.real.error = Some(error));
                    return;
                }
            }
        }
        let request = Real {
            real: RealCallRequest {
                id: 0,
                switches: switches.get_untracked(),
                bands_host: bands.host,
                bands_port: bands.port,
                origin,
            },
        };
        if let (Some(worker), Ok(text)) = (slot.as_ref(), serde_json::to_string(&request)) {
            state.update(|s| s.real.running = true);
            worker.send(text);
        }
    };
    let real_calls = move || {
        state.with(|s| {
            let real = &s.real;
            if real.services.is_empty() {
                return None;
            }
            let result = match (&real.error, &real.last) {
                (Some(error), _) => Some((format!("✘ {error}"), None)),
                (None, Some(last)) => Some((describe_real_call(last), last.trace_id.clone())),
                (None, None) => None,
            };
            Some(view! {
                <section class="live-lab" data-testid="live-lab">
                    <h2>"Real calls"</h2>
                    <p class="wf-muted">
                        "The demo's client runs here in your browser and calls bands-api at "
                        <code>{real.services[0].url.clone()}</code>
                        " for real: its spans, and the services', arrive below. The switches are read from the running services and changed on them; the client's apply to this browser's client."
                    </p>
                    {GROUPS
                        .iter()
                        .map(|&(legend, flags)| flag_group(legend, flags, switches))
                        .collect_view()}
                    {failures_group(switches, fail_kind)}
                    <p class="wf-muted" data-testid="live-switches-note" aria-live="polite">
                        {real.switches_note.clone()}
                    </p>
                    <button
                        type="button"
                        data-testid="live-real-call"
                        disabled=real.running || !real.switches_loaded
                        on:click=real_call.clone()
                    >
                        {if real.running { "Calling…" } else { "Make a real call" }}
                    </button>
                    {result.map(|(text, trace_id)| {
                        let link = trace_id.clone();
                        view! {
                            <p data-testid="live-real-result" data-trace-id=trace_id aria-live="polite">
                                {text}
                                {link.map(|id| view! {
                                    " " <a href=format!("/trace/{id}")>"Open its trace"</a>
                                })}
                            </p>
                        }
                    })}
                </section>
            })
        })
    };

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
        {real_calls}
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
        // Redrawn whole for each change, which Leptos does in place: the
        // rows shown before take the new rows' text. Keyed rows (`<For>`)
        // were tried: a burst of 5,000 traces then cost the main thread
        // twice the time (making and removing rows costs the browser more
        // than changing their text) and the app 2.9 KB gzipped. The rows
        // hold nothing reactive, so a redraw leaves nothing behind.
        {move || {
            state.with(|s| {
                let selection = s.filter.select(&s.traces, SHOWN);
                let more = selection.matching.saturating_sub(SHOWN);
                let rows = selection.shown.iter().map(|trace| live_row(trace)).collect_view();
                view! {
                    <p class="wf-muted" data-testid="live-count">
                        {format!("{} of {} traces", selection.matching, s.traces.len())}
                    </p>
                    <ul class="live-list">{rows}</ul>
                    <p class="wf-muted" data-testid="live-more">
                        {(more > 0).then(|| format!("{more} more match; narrow the search to see them."))}
                    </p>
                }
            })
        }}
    }
    .into_any()
}

/// One trace's row in the list.
fn live_row(trace: &TraceSummary) -> impl IntoView {
    let errors = if trace.errors > 0 {
        format!(
            " · ✖ {} error{}",
            trace.errors,
            if trace.errors == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    let details = format!(
        " · {} · {} spans{errors} · {}",
        trace.services.join(", "),
        trace.spans,
        format_duration(trace.duration_nanos)
    );
    view! {
        <li data-testid="live-row" data-trace-id=trace.trace_id.clone()>
            <a href=format!("/trace/{}", trace.trace_id)>
                {format!("{}: {}", trace.root_service, trace.root_name)}
            </a>
            {details}
        </li>
    }
}

/// A real call in a sentence: the answer, what the client sent, and whether
/// its spans reached the collector.
fn describe_real_call(call: &RealCallAnswer) -> String {
    let mut parts = vec![match (call.status, &call.error) {
        (Some(status), None) => format!("✔ bands-api answered {status}"),
        (Some(status), Some(error)) => format!("✘ bands-api answered {status}: {error}"),
        (None, Some(error)) => format!("✘ no answer: {error}"),
        (None, None) => "✘ no answer".to_owned(),
    }];
    parts.push(match &call.traceparent {
        Some(sent) => format!("sent traceparent: {sent}"),
        None => "sent no traceparent".to_owned(),
    });
    match (&call.trace_id, &call.server_trace_id) {
        (Some(client), Some(server)) if client != server => parts.push(format!(
            "bands-api recorded its own trace {server}: the context did not cross"
        )),
        (None, Some(server)) => parts.push(format!("bands-api's trace: {server}")),
        _ => {}
    }
    parts.push(match &call.exported {
        Ok(0) => "the client recorded no spans".to_owned(),
        Ok(1) => "1 client span exported".to_owned(),
        Ok(n) => format!("{n} client spans exported"),
        Err(error) => format!("the client's spans were not exported: {error}"),
    });
    parts.join(" · ")
}
