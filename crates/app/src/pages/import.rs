//! The Import page (`/import`): a trace file from one's own system in the
//! waterfall, read in the browser; nothing leaves it.
//!
//! Paste a file's text, pick a file, or drop one anywhere on the page.
//! The import worker (`src/bin/import-worker.rs`, started here on the first
//! import, a new one for each import) reads it with `tracelab_formats`:
//! Jaeger JSON, Zipkin v2, OTLP JSON and the Collector's OTLP JSON lines,
//! Jaeger api_v3 and Tempo. The page shows the format found, each problem
//! with its path, and how many there were; a file of several traces lists
//! them by start to pick from, and a file of one opens it at once. The
//! chosen trace comes from the worker in chunks (`crate::wire`), each
//! decoded in a task of its own, so the page keeps drawing while a
//! 100,000-span file arrives; a progress bar says how far the file is read
//! and the trace received, and Cancel stops the worker.
//!
//! URL fragment: `#share=<data>`, a share link (`crate::export`): the
//! trace's compact form (`crate::wire`), compressed by the browser's
//! `CompressionStream("deflate-raw")`, in URL-safe base64 without padding.
//! The page opens it without the worker. An imported file is not put in
//! the link (it stays in this tab only).
//!
//! Test hooks (`data-testid`): `import-input` (the paste area),
//! `import-file` (the file input), `import-drop` (the hint that a file may
//! be dropped), `import-progress` (the progress bar, while working, with
//! `data-stage`: `read`, `parse` or `receive`), `import-cancel`,
//! `import-status` (cancelled, or what failed), `import-format`,
//! `import-skipped` (how many problems), `import-error` (one per problem,
//! its `import-error-path` inside), `import-stats` (with the worker's
//! times as `data-read-ms` and `data-parse-ms`), `import-trace` (one per
//! trace of a multi-trace file, with `aria-current` on the one shown; at
//! most `crate::import::MAX_LISTED`, the earliest), `import-traces-heading`
//! (how many there are), the
//! Export buttons' (`crate::export`) and the waterfall's.

use std::sync::Arc;

use leptos::prelude::*;
use tracelab_trace::axis::format_duration;
use tracelab_trace::Trace;
use wasm_bindgen::JsCast;

use super::decode::fragment;
use super::{PageInfo, PageTitle};
use crate::export::{deflate_raw, TraceExport, SHARE_KEY};
use crate::import::{base64url_decode, ImportReport, ListedTrace};
use crate::import_client::{receive, FromWorker, ImportClient, Received, TraceReceiver};
use crate::waterfall::{count_spans, group_thousands, Waterfall};
use crate::wire::decode_trace;

pub const INFO: PageInfo = PageInfo {
    slug: "import",
    path: "/import",
    title: "Import",
    summary: "Open a trace file from your own system (Jaeger, Zipkin or OTLP JSON) in the waterfall, read in your browser; export traces and share small ones as links.",
};

/// The `performance.mark` set when a trace is decoded and handed to the
/// waterfall (as the Sample page's, for e2e/bench/import-100k.mjs).
const TRACE_READY_MARK: &str = "tracelab:trace-ready";
/// The `performance.mark` set when the worker's report arrives (the file
/// is read and parsed; the chosen trace is still to come).
const PARSED_MARK: &str = "tracelab:import-parsed";
/// The measure of each chunk's decoding on the page's thread.
const DECODE_MEASURE: &str = "tracelab:import-decode";

/// How long the paste area must rest before its text is imported.
const PASTE_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

/// Where an import is.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    Reading { done: u64, total: u64 },
    Parsing,
    Receiving { done: usize, total: usize },
    Ready,
    Cancelled,
    Failed(String),
}

fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
        let _ = performance.mark(name);
    }
}

/// Bytes as people read a file's size (integers only: the float printer
/// would weigh more than this page).
fn megabytes(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        let tenths = (bytes + 50_000) / 100_000;
        format!("{}.{} MB", tenths / 10, tenths % 10)
    } else {
        format!("{} bytes", group_thousands(bytes as usize))
    }
}

/// The list row of one trace in a multi-trace file.
fn trace_row(listed: &ListedTrace) -> String {
    let summary = &listed.summary;
    format!(
        "{}: {} — {} — {}, {}{}",
        summary.root_service,
        summary.root_name,
        summary.services.join(", "),
        format_duration(summary.duration_nanos),
        count_spans(summary.spans),
        match summary.errors {
            0 => String::new(),
            1 => ", 1 error".to_owned(),
            n => format!(", {} errors", group_thousands(n)),
        }
    )
}

#[component]
pub fn Import() -> impl IntoView {
    // Nothing imported leaves the browser: no request from here (crate::csp;
    // the import worker fetches only its own files).
    crate::csp::restrict(&[]);
    let phase = RwSignal::new(Phase::Idle);
    let report = RwSignal::new(None::<Arc<ImportReport>>);
    let stats = RwSignal::new(None::<String>);
    // The worker's reading and parsing times, in ms, for the benchmark.
    let worker_ms = RwSignal::new((0_u64, 0_u64));
    let picked = RwSignal::new(None::<usize>);
    let trace = RwSignal::new(None::<Arc<Trace>>);
    let client = StoredValue::new_local(None::<ImportClient>);
    let receiver = StoredValue::new_local(TraceReceiver::default());
    let paste_timer = StoredValue::new(None::<TimeoutHandle>);
    // When the picked trace's first header arrived, for the stats line.
    let receive_started = StoredValue::new(0.0_f64);
    // Counts imports, cancels and links opened: a trace decoded for an
    // earlier one is not shown.
    let generation = StoredValue::new(0_u64);
    let next_generation = move || generation.update_value(|n| *n = n.wrapping_add(1));

    let now = || {
        web_sys::window()
            .and_then(|window| window.performance())
            .map_or(0.0, |performance| performance.now())
    };
    let decoded = move |result: Result<Trace, String>| match result {
        Ok(done) => {
            // Also reached after an await (a share link): the page may
            // have gone, so nothing here may assume it is still there.
            let took =
                (now() - receive_started.try_get_value().unwrap_or_default()).max(0.0) as u64;
            stats.update(|stats| {
                if let Some(stats) = stats {
                    stats.push_str(&format!(
                        " The trace ({}) reached the page in {took} ms.",
                        count_spans(done.spans.len())
                    ));
                }
            });
            mark(TRACE_READY_MARK);
            // The waterfall is built in a task of its own, after this
            // chunk's: its layout of a large trace is the longest piece of
            // work on the page's thread (e2e/bench/import-100k.mjs
            // measures it apart).
            let done = Arc::new(done);
            let Some(shown_for) = generation.try_get_value() else {
                return;
            };
            set_timeout(
                move || {
                    if generation.try_get_value() != Some(shown_for) {
                        return;
                    }
                    trace.set(Some(done));
                    phase.set(Phase::Ready);
                },
                std::time::Duration::ZERO,
            );
        }
        Err(message) => phase.set(Phase::Failed(message)),
    };
    let received = move |step: Result<Received, String>| match step {
        Ok(Received::Receiving { done, total }) => phase.set(Phase::Receiving { done, total }),
        Ok(Received::Done(trace)) => decoded(Ok(trace)),
        Err(message) => phase.set(Phase::Failed(message)),
    };
    let on_message = move |message: FromWorker| match message {
        FromWorker::Reading { done, total } => phase.set(Phase::Reading { done, total }),
        FromWorker::Parsing => phase.set(Phase::Parsing),
        FromWorker::Report {
            report: read,
            read_ms,
            parse_ms,
            bytes,
        } => {
            mark(PARSED_MARK);
            worker_ms.set((read_ms, parse_ms));
            stats.set(Some(if read_ms > 0 {
                format!(
                    "{} read in {read_ms} ms and parsed in {parse_ms} ms, in the background.",
                    megabytes(bytes)
                )
            } else {
                // Pasted text: nothing to read.
                format!(
                    "{} parsed in {parse_ms} ms, in the background.",
                    megabytes(bytes)
                )
            }));
            let only = (read.traces.len() == 1).then(|| read.traces[0].index);
            report.set(Some(Arc::new(read)));
            match only {
                Some(index) => client.with_value(|client| {
                    if let Some(client) = client {
                        client.pick(index);
                    }
                }),
                None => phase.set(Phase::Ready),
            }
        }
        FromWorker::Trace { index, .. } => {
            picked.set(Some(index));
            receive_started.set_value(now());
            if let Some(step) = receive(receiver, &message) {
                received(step);
            }
        }
        FromWorker::Spans(_) => {
            mark("tracelab:import-decode-start");
            let step = receive(receiver, &message);
            if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
                let _ = performance
                    .measure_with_start_mark(DECODE_MEASURE, "tracelab:import-decode-start");
            }
            if let Some(step) = step {
                received(step);
            }
        }
        // Neither is asked for here.
        FromWorker::Exported { .. } | FromWorker::Generating => {}
        FromWorker::Failed(message) => phase.set(Phase::Failed(message)),
    };
    // Each import gets a worker of its own: what an earlier one still had
    // to say cannot mix with it.
    let begin = move || -> bool {
        next_generation();
        client.set_value(None);
        receiver.set_value(TraceReceiver::default());
        report.set(None);
        stats.set(None);
        picked.set(None);
        trace.set(None);
        match ImportClient::start(on_message) {
            Ok(started) => {
                client.set_value(Some(started));
                true
            }
            Err(message) => {
                phase.set(Phase::Failed(message));
                false
            }
        }
    };
    let import_file = move |file: web_sys::File| {
        if begin() {
            phase.set(Phase::Reading {
                done: 0,
                total: file.size().max(0.0) as u64,
            });
            client.with_value(|client| {
                if let Some(client) = client {
                    client.import_file(&file);
                }
            });
        }
    };
    let import_text = move |text: js_sys::JsString| {
        if text.trim().length() == 0 {
            return;
        }
        if begin() {
            phase.set(Phase::Parsing);
            client.with_value(|client| {
                if let Some(client) = client {
                    client.import_text(&text);
                }
            });
        }
    };
    let cancel = move |_| {
        next_generation();
        client.set_value(None);
        receiver.set_value(TraceReceiver::default());
        phase.set(Phase::Cancelled);
    };
    let pick = move |index: usize| {
        if picked.get_untracked() == Some(index) && trace.with_untracked(Option::is_some) {
            return;
        }
        trace.set(None);
        picked.set(Some(index));
        phase.set(Phase::Receiving { done: 0, total: 0 });
        client.with_value(|client| {
            if let Some(client) = client {
                client.pick(index);
            }
        });
    };

    // A file dropped anywhere on the page.
    let drag_over = window_event_listener(leptos::ev::dragover, |event| event.prevent_default());
    let drop = window_event_listener(leptos::ev::drop, move |event: web_sys::DragEvent| {
        event.prevent_default();
        let file = event
            .data_transfer()
            .and_then(|transfer| transfer.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            import_file(file);
        }
    });
    on_cleanup(move || {
        drag_over.remove();
        drop.remove();
    });

    // A share link: read without the worker.
    let read_link = move || {
        let Ok(Some(data)) = fragment::read_param(SHARE_KEY) else {
            return;
        };
        next_generation();
        client.set_value(None);
        report.set(None);
        picked.set(None);
        trace.set(None);
        stats.set(None);
        phase.set(Phase::Parsing);
        leptos::task::spawn_local(async move {
            let opened = match base64url_decode(&data) {
                None => {
                    Err("the link's data is not URL-safe base64 (is the link complete?)".to_owned())
                }
                Some(compressed) => deflate_raw(&compressed, false).await.and_then(|bytes| {
                    decode_trace(&bytes)
                        .map_err(|error| format!("the link's trace could not be read: {error}"))
                }),
            };
            if opened.is_ok() {
                report.set(Some(Arc::new(ImportReport {
                    format: "a tracelab share link".to_owned(),
                    ..ImportReport::default()
                })));
            }
            decoded(opened);
        });
    };
    read_link();
    fragment::follow_hash_changes(None, read_link);

    let on_paste_input = move |event: leptos::ev::Event| {
        let Some(area) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        else {
            return;
        };
        if let Some(handle) = paste_timer.get_value() {
            handle.clear();
        }
        // The text stays a JS string: see ImportClient::import_text.
        let text = move || {
            js_sys::Reflect::get(&area, &"value".into())
                .ok()
                .and_then(|value| value.dyn_into::<js_sys::JsString>().ok())
        };
        let handle = set_timeout_with_handle(
            move || {
                if let Some(text) = text() {
                    import_text(text);
                }
            },
            PASTE_DELAY,
        );
        paste_timer.set_value(handle.ok());
    };
    on_cleanup(move || {
        if let Some(Some(handle)) = paste_timer.try_get_value() {
            handle.clear();
        }
    });
    let on_file = move |event: leptos::ev::Event| {
        let file = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            import_file(file);
        }
    };

    let progress = move || {
        let (stage, label, value, max) = match phase.get() {
            Phase::Reading { done, total } => (
                "read",
                format!(
                    "Reading the file: {} of {}",
                    megabytes(done),
                    megabytes(total)
                ),
                Some(done.to_string()),
                total.to_string(),
            ),
            Phase::Parsing => (
                "parse",
                "Reading the trace file…".to_owned(),
                None,
                "1".to_owned(),
            ),
            Phase::Receiving { done, total } => (
                "receive",
                // Until the trace's header arrives, its size is not known.
                if total == 0 {
                    "Opening the trace…".to_owned()
                } else {
                    format!(
                        "Opening the trace: {} of {}",
                        group_thousands(done),
                        count_spans(total)
                    )
                },
                (total > 0).then(|| done.to_string()),
                total.to_string(),
            ),
            _ => return None,
        };
        Some(view! {
            <div class="import-progress">
                <label>
                    {label}
                    " "
                    <progress data-testid="import-progress" data-stage=stage value=value max=max></progress>
                </label>
                " "
                <button type="button" class="small-button" data-testid="import-cancel" on:click=cancel>"Cancel"</button>
            </div>
        })
    };
    let status = move || {
        match phase.get() {
        Phase::Cancelled => Some(view! { <p class="wf-muted" data-testid="import-status">"Cancelled: nothing was imported."</p> }.into_any()),
        Phase::Failed(message) => Some(view! { <p class="wf-note" role="alert" data-testid="import-status">"⚠ " {message}</p> }.into_any()),
        _ => None,
    }
    };
    let found = move || {
        report.get().map(|report| {
            let n_listed = report.problems.len();
            let n_more = report.n_skipped.saturating_sub(n_listed);
            let list = (report.traces.len() > 1).then(|| {
                let rows = report
                    .traces
                    .iter()
                    .map(|listed| {
                        let index = listed.index;
                        let text = trace_row(listed);
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="small-button"
                                    data-testid="import-trace"
                                    aria-current=move || (picked.get() == Some(index)).then_some("true")
                                    on:click=move |_| pick(index)
                                >
                                    {text}
                                </button>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <h2 data-testid="import-traces-heading">
                        {if report.n_traces > report.traces.len() {
                            format!(
                                "{} traces: the earliest {} listed, pick one",
                                group_thousands(report.n_traces),
                                report.traces.len()
                            )
                        } else {
                            format!("{} traces, earliest first: pick one", report.traces.len())
                        }}
                    </h2>
                    <ol class="import-traces">{rows}</ol>
                }
            });
            view! {
                <p>"Format: " <strong data-testid="import-format">{report.format.clone()}</strong></p>
                {(report.n_skipped > 0).then(|| view! {
                    <p class="wf-note" data-testid="import-skipped">
                        {format!(
                            "{} problem{}: what each cost is in brackets; the rest of the file was read.",
                            group_thousands(report.n_skipped),
                            if report.n_skipped == 1 { "" } else { "s" }
                        )}
                    </p>
                    <ul class="import-errors">
                        {report.problems.iter().map(|problem| view! {
                            <li data-testid="import-error">
                                {(!problem.path.is_empty()).then(|| view! { <code data-testid="import-error-path">{problem.path.clone()}</code> ": " })}
                                {problem.what.clone()}
                            </li>
                        }).collect_view()}
                        {(n_more > 0).then(|| view! { <li class="wf-muted">{format!("… and {} more, not listed.", group_thousands(n_more))}</li> })}
                    </ul>
                })}
                {(report.traces.is_empty() && report.n_skipped == 0).then(|| view! {
                    <p class="wf-note" data-testid="import-status">"The file holds no spans."</p>
                })}
                {list}
            }
        })
    };

    view! {
        <PageTitle title=INFO.title />
        <p class="wf-intro">
            "Open a trace from your own system: Jaeger JSON (Jaeger UI's download, its API), Zipkin v2 JSON, OTLP JSON (also the OpenTelemetry Collector's file exporter, Jaeger's api_v3 and Tempo). It is read here, in your browser: nothing is sent anywhere."
        </p>
        <div class="import-inputs">
            <label class="import-file">
                "A file: "
                <input type="file" accept=".json,.jsonl,.ndjson,.txt,application/json" data-testid="import-file" on:change=on_file />
            </label>
            <p class="wf-muted" data-testid="import-drop">"…or drop a file anywhere on this page, or paste its text:"</p>
            <textarea
                class="tp-input import-input"
                data-testid="import-input"
                rows="6"
                spellcheck="false"
                aria-label="Trace file text"
                placeholder="{\"resourceSpans\": …}"
                on:input=on_paste_input
            ></textarea>
        </div>
        {progress}
        {status}
        {found}
        {move || stats.get().map(|text| view! {
            <p
                class="wf-muted"
                data-testid="import-stats"
                data-read-ms=move || worker_ms.get().0.to_string()
                data-parse-ms=move || worker_ms.get().1.to_string()
            >
                {text}
            </p>
        })}
        {move || trace.get().map(|trace| view! {
            <TraceExport trace=trace.clone() />
            <Waterfall trace=trace />
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracelab_trace::summary::TraceSummary;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(megabytes(999_999), "999,999 bytes");
        assert_eq!(megabytes(1_000_000), "1.0 MB");
        assert_eq!(megabytes(12_345_678), "12.3 MB");
        assert_eq!(megabytes(12_350_000), "12.4 MB", "rounded, not cut");
    }

    #[test]
    fn a_listed_trace_names_root_services_duration_spans_and_errors() {
        let summary = TraceSummary {
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
            root_service: "frontend".to_owned(),
            root_name: "GET /bands".to_owned(),
            start_unix_nanos: 0,
            duration_nanos: 1_500_000,
            spans: 1_200,
            errors: 2,
            services: vec!["frontend".to_owned(), "db".to_owned()],
        };
        let row = trace_row(&ListedTrace { index: 0, summary });
        assert!(
            row.starts_with("frontend: GET /bands — frontend, db — "),
            "{row}"
        );
        assert!(row.ends_with("1,200 spans, 2 errors"), "{row}");
    }
}
