//! The Sample page: a generated trace in the waterfall, the way to try the
//! viewer with no data of one's own.
//!
//! `/sample?spans=N&seed=S` picks the size (1 to 1,000,000 spans, 200 when
//! absent) and the seed (1 when absent); the same pair always gives the same
//! trace. The URL fragment keeps the waterfall's view (format in
//! [`link`]), so a link opens the same span with the same filter, zoom,
//! collapsed spans, subtree shown alone and recorded or adjusted times. The
//! Export and Share buttons (`crate::export`) offer the trace as a file or
//! a link.
//!
//! The trace is generated in the import worker (`src/bin/import-worker.rs`,
//! a worker of its own for each trace, ended once the trace is in) and
//! sent in chunks, each decoded in a task of its own: a million spans take
//! a few seconds to make, and the page answers throughout, saying how far
//! it got (`sample-progress`, with `data-stage` `generate` or `receive`;
//! `sample-status` if it failed). The generator stays out of the page's
//! own code.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tracelab_trace::generate::MAX_SPANS;
use tracelab_trace::Trace;

use super::{PageInfo, PageTitle};
use crate::import_client::{receive, FromWorker, ImportClient, Received, TraceReceiver};
use crate::waterfall::link::{self, link_view};
use crate::waterfall::{count_spans, group_thousands, Waterfall};

pub const INFO: PageInfo = PageInfo {
    slug: "sample",
    path: "/sample",
    title: "Sample trace",
    summary: "Open a generated trace of any size in the waterfall: the way to try the viewer with no data.",
};

/// The `performance.mark` set each time a trace is ready to be shown,
/// before the waterfall gets it (read by the browser benchmark).
const TRACE_READY_MARK: &str = "tracelab:trace-ready";

const DEFAULT_SPANS: usize = 200;
const DEFAULT_SEED: u64 = 1;

/// The trace the query string asks for, and what was changed to get it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SampleParams {
    n_spans: usize,
    seed: u64,
    notes: Vec<String>,
}

/// Reads `spans` and `seed`. Out-of-range or unreadable values fall back to
/// something that works, with a note saying what was done.
fn read_params(spans: Option<&str>, seed: Option<&str>) -> SampleParams {
    let mut notes = Vec::new();
    let n_spans = match spans.map(str::trim) {
        None | Some("") => DEFAULT_SPANS,
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            // Digits beyond u64 are still "too many", not "unreadable".
            let asked = text.parse::<u64>().unwrap_or(u64::MAX);
            let clamped = asked.clamp(1, MAX_SPANS as u64);
            if clamped != asked {
                notes.push(format!(
                    "spans={text} is outside 1 to {MAX_SPANS}; showing {}.",
                    count_spans(clamped as usize)
                ));
            }
            clamped as usize
        }
        // A negative count is a number, only below the range: say so, as
        // for zero, rather than call it unreadable.
        Some(text)
            if text.len() > 1
                && text.starts_with('-')
                && text[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            notes.push(format!(
                "spans={text} is outside 1 to {MAX_SPANS}; showing {}.",
                count_spans(1)
            ));
            1
        }
        Some(text) => {
            notes.push(format!(
                "spans={text} is not a count of spans (a whole number from 1 to {MAX_SPANS}); showing {}.",
                count_spans(DEFAULT_SPANS)
            ));
            DEFAULT_SPANS
        }
    };
    let seed = match seed.map(str::trim) {
        None | Some("") => DEFAULT_SEED,
        Some(text) => text.parse::<u64>().unwrap_or_else(|_| {
            notes.push(format!(
                "seed={text} is not a whole number from 0 to {}; using seed {DEFAULT_SEED}.",
                u64::MAX
            ));
            DEFAULT_SEED
        }),
    };
    SampleParams {
        n_spans,
        seed,
        notes,
    }
}

#[component]
pub fn Sample() -> impl IntoView {
    // No request from here (crate::csp; the worker fetches only its own
    // files).
    crate::csp::restrict(&[]);
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|query| read_params(query.get_str("spans"), query.get_str("seed")))
    });
    // The waterfall's view is kept in the link (format in [`link`]).
    let linked = link_view(INFO.path.to_owned());
    // The trace on screen, with the (spans, seed) it was made for; kept
    // while only the fragment changes.
    // (A signal of a type the trace pages already have, and the key beside
    // it: each new signal type costs the bundle its own reactive code.)
    let shown = RwSignal::new(None::<Arc<Trace>>);
    let shown_key = StoredValue::new((0_usize, 0_u64));
    // How far the trace asked for is: spans received of all (`None` while
    // the worker starts and makes the trace's shape), or why it failed.
    let received_spans = RwSignal::new(None::<(usize, usize)>);
    let failed = RwSignal::new(None::<String>);
    // The worker generating the trace asked for: one per trace, dropped
    // (terminated, its memory freed) once the trace is in.
    let worker = StoredValue::new_local(None::<ImportClient>);
    let receiver = StoredValue::new_local(TraceReceiver::default());

    Effect::new(move |_| {
        let SampleParams { n_spans, seed, .. } = params.get();
        let key = (n_spans, seed);
        if shown.with_untracked(Option::is_some) && shown_key.get_value() == key {
            return;
        }
        receiver.set_value(TraceReceiver::default());
        received_spans.set(None);
        failed.set(None);
        let received = move |step: Result<Received, String>| match step {
            Ok(Received::Receiving { done, total }) => {
                received_spans.set(Some((done, total)));
            }
            Ok(Received::Done(trace)) => {
                worker.set_value(None);
                // The trace is ready and not yet handed to the waterfall:
                // the start of "data ready to first paint" in
                // e2e/bench/waterfall-paint.mjs.
                if let Some(performance) = web_sys::window().and_then(|window| window.performance())
                {
                    let _ = performance.mark(TRACE_READY_MARK);
                }
                shown_key.set_value(key);
                shown.set(Some(Arc::new(trace)));
            }
            Err(message) => {
                worker.set_value(None);
                failed.set(Some(message));
            }
        };
        let on_message = move |message: FromWorker| {
            if let FromWorker::Failed(message) = message {
                return received(Err(message));
            }
            if let Some(step) = receive(receiver, &message) {
                received(step);
            }
        };
        // A new worker for each trace: what the last one still had to say
        // cannot mix with this one's.
        worker.set_value(None);
        match ImportClient::start(on_message) {
            Ok(client) => {
                client.generate(n_spans, seed);
                worker.set_value(Some(client));
            }
            Err(message) => failed.set(Some(message)),
        }
    });

    let waiting = move || {
        let wanted = params.with(|params| (params.n_spans, params.seed));
        if shown.with(Option::is_some) && shown_key.get_value() == wanted {
            return None;
        }
        if let Some(message) = failed.get() {
            return Some(view! {
                <p class="wf-note" role="alert" data-testid="sample-status">"⚠ The sample could not be made: " {message}</p>
            }
            .into_any());
        }
        Some(match received_spans.get() {
            None => view! {
                <p class="work-progress" data-testid="sample-progress" data-stage="generate">
                    <label>
                        {format!("Generating {} in the background… ", count_spans(wanted.0))}
                        <progress></progress>
                    </label>
                </p>
            }
            .into_any(),
            Some((done, total)) => view! {
                <p class="work-progress" data-testid="sample-progress" data-stage="receive">
                    <label>
                        {format!("Opening the trace: {} of {} ", group_thousands(done), count_spans(total))}
                        <progress value=done.to_string() max=total.to_string()></progress>
                    </label>
                </p>
            }
            .into_any(),
        })
    };

    view! {
        <PageTitle title=INFO.title />
        <p class="wf-intro">
            "A realistic generated trace — several services, fan-out, deep chains, errors, a few orphans and skewed clocks. "
            <code>"/sample?spans=N&seed=S"</code>
            " picks its size and makes it reproducible: "
            {move || {
                let seed = params.get().seed;
                [1_000usize, 10_000, 100_000]
                    .into_iter()
                    .map(|n_spans| {
                        view! {
                            " "
                            <a
                                href=format!("{}?spans={n_spans}&seed={seed}", INFO.path)
                                data-testid=format!("sample-size-{n_spans}")
                            >
                                {format!("{}k spans", n_spans / 1_000)}
                            </a>
                        }
                    })
                    .collect_view()
            }}
        </p>
        {move || {
            params
                .with(|params| params.notes.clone())
                .into_iter()
                .map(|note| view! { <p class="wf-note" data-testid="sample-note">"⚠ " {note}</p> })
                .collect_view()
        }}
        {waiting}
        {move || {
            let trace = shown.get()?;
            let (n_spans, seed) = shown_key.get_value();
            Some(view! {
                <p class="wf-muted">
                    {format!("{}, seed {seed}, trace id {}", count_spans(n_spans), trace.spans.first().map(|span| span.trace_id.to_string()).unwrap_or_default())}
                </p>
                <crate::export::TraceExport trace=trace />
            })
        }}
        {move || {
            // A new sample gets a fresh waterfall (nothing of the last one's
            // view carries over), as does a fragment changed from outside.
            let wanted = params.with(|params| (params.n_spans, params.seed));
            linked.changes.track();
            let initial = link::read();
            // Drawn at once, empty, and filled in through the data seam when
            // the trace comes (its link applies then): the page has its
            // shape while the worker makes the trace.
            let empty = Arc::new(Trace::default());
            let trace = Signal::derive(move || {
                shown
                    .get()
                    .filter(|_| shown_key.get_value() == wanted)
                    .unwrap_or_else(|| empty.clone())
            });
            view! {
                <Waterfall
                    trace=trace
                    initial=initial.view
                    link_note=initial.note
                    on_view_change=linked.on_view_change
                />
            }
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_params_take_the_defaults_silently() {
        let params = read_params(None, Some(""));
        assert_eq!((params.n_spans, params.seed), (DEFAULT_SPANS, DEFAULT_SEED));
        assert!(params.notes.is_empty());
    }

    #[test]
    fn sizes_outside_the_range_are_clamped_with_a_note() {
        // Zero, too many, and more digits than a u64 holds.
        for (text, expected) in [
            ("0", 1),
            ("-5", 1),
            ("2000000", MAX_SPANS),
            ("99999999999999999999999", MAX_SPANS),
        ] {
            let params = read_params(Some(text), None);
            assert_eq!(params.n_spans, expected, "spans={text}");
            assert_eq!(params.notes.len(), 1, "spans={text} says it was clamped");
            assert!(
                params.notes[0].contains("is outside 1 to"),
                "spans={text}: {:?}",
                params.notes
            );
        }
    }

    #[test]
    fn unreadable_values_fall_back_with_a_note() {
        let params = read_params(Some("ten"), Some("-1"));
        assert_eq!((params.n_spans, params.seed), (DEFAULT_SPANS, DEFAULT_SEED));
        assert_eq!(params.notes.len(), 2);
        let params = read_params(Some(" 10000 "), Some("7"));
        assert_eq!((params.n_spans, params.seed), (10_000, 7));
        assert!(params.notes.is_empty());
    }
}
