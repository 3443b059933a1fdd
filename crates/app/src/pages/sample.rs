//! The Sample page: a generated trace in the waterfall, the way to try the
//! viewer with no data of one's own.
//!
//! `/sample?spans=N&seed=S` picks the size (1 to 1,000,000 spans, 200 when
//! absent) and the seed (1 when absent); the same pair always gives the same
//! trace. The URL fragment keeps the waterfall's view (format in
//! [`fragment`]), so a link opens the same span with the same filter.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tracelab_trace::generate::MAX_SPANS;
use tracelab_trace::Trace;

use super::{PageInfo, PageTitle};
use crate::waterfall::{count_spans, Waterfall, WaterfallView};

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

/// How long the selection and filter must stay unchanged before the URL is
/// rewritten: Chromium throttles history updates past about 200 in 10 seconds,
/// which holding an arrow key would reach.
const FRAGMENT_DELAY: Duration = Duration::from_millis(250);

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
        Some(text) => {
            notes.push(format!(
                "spans={text} is not a whole number; showing {}.",
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
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|query| read_params(query.get_str("spans"), query.get_str("seed")))
    });
    let pending = StoredValue::new(None::<TimeoutHandle>);
    // A link to this page followed from this page, or an edited address bar,
    // changes only the fragment: no reload, so the view is built again from
    // it. (Our own writes use replaceState, which fires no hashchange.)
    let fragment_version = RwSignal::new(0_u32);
    let hash_listener = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(Some(handle)) = pending.try_get_value() {
            handle.clear();
        }
        fragment_version.update(|version| *version = version.wrapping_add(1));
    });
    on_cleanup(move || {
        hash_listener.remove();
        if let Some(Some(handle)) = pending.try_get_value() {
            handle.clear();
        }
    });
    // The last trace generated, reused when only the fragment changed.
    let generated = StoredValue::new(None::<((usize, u64), Arc<Trace>)>);
    // Mirrors the waterfall's view in the URL, a moment after it settles.
    let on_view_change = Callback::new(move |view: WaterfallView| {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle =
            set_timeout_with_handle(move || fragment::write(&view, INFO.path), FRAGMENT_DELAY);
        pending.set_value(handle.ok());
    });

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
            let SampleParams { n_spans, seed, notes } = params.get();
            fragment_version.track();
            let trace = match generated.get_value() {
                Some((key, trace)) if key == (n_spans, seed) => trace,
                _ => {
                    let trace = Arc::new(tracelab_trace::generate(n_spans, seed));
                    generated.set_value(Some(((n_spans, seed), trace.clone())));
                    trace
                }
            };
            // The trace is ready and not yet handed to the waterfall: the
            // start of "data ready to first paint" in
            // e2e/bench/waterfall-paint.mjs. Costs one call per trace shown.
            if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
                let _ = performance.mark(TRACE_READY_MARK);
            }
            let initial = fragment::read();
            view! {
                {notes
                    .into_iter()
                    .map(|note| view! { <p class="wf-note" data-testid="sample-note">"⚠ " {note}</p> })
                    .collect_view()}
                {initial.note.map(|note| view! { <p class="wf-note">"⚠ " {note}</p> })}
                <p class="wf-muted">
                    {format!("{}, seed {seed}, trace id {}", count_spans(n_spans), trace.spans.first().map(|span| span.trace_id.to_string()).unwrap_or_default())}
                </p>
                <Waterfall trace=trace initial=initial.view on_view_change=on_view_change />
            }
        }}
    }
}

/// The Sample page's URL fragment: the waterfall's view, so that a link
/// opens the same span with the same filter and zoom.
///
/// Format: `#span=<16 lowercase hex>&q=<filter>&z=<start>-<end>`, each key
/// optional, values as `encodeURIComponent` writes them (so `&` inside the
/// filter is escaped); the zoomed range is in nanoseconds from the trace
/// start. Read and written with the helpers the Decode and Build pages share,
/// which read the fragment through the router: on a client-side navigation
/// the new page is drawn before the address bar changes, and must not take
/// the old page's fragment for its own.
mod fragment {
    use crate::pages::decode::fragment::{read_param, write_params};
    use crate::waterfall::query::{truncate_chars, MAX_QUERY_CHARS};
    use crate::waterfall::WaterfallView;

    pub struct Loaded {
        pub view: WaterfallView,
        /// Said when part of the fragment could not be read.
        pub note: Option<String>,
    }

    const UNREADABLE: &str =
        "Part of the link's # fragment is not valid percent-encoding and was left out.";

    pub fn read() -> Loaded {
        let mut view = WaterfallView::default();
        let mut notes: Vec<&str> = Vec::new();
        match read_param("span=") {
            // Only the id's shape is checked here; the waterfall says when
            // no span has it.
            Ok(Some(span_id))
                if span_id.len() == 16 && span_id.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                view.span_id = Some(span_id.to_ascii_lowercase());
            }
            Ok(Some(_)) => notes.push(
                "The link's #span= part is not a 16-digit hex span id, so no span was selected.",
            ),
            Ok(None) => {}
            Err(_) => notes.push(UNREADABLE),
        }
        match read_param("q=") {
            Ok(Some(text)) => view.query = truncate_chars(&text, MAX_QUERY_CHARS).to_owned(),
            Ok(None) => {}
            Err(_) => notes.push(UNREADABLE),
        }
        match read_param("z=") {
            Ok(Some(range)) => {
                let parsed = range
                    .split_once('-')
                    .and_then(|(start, end)| {
                        Some((start.parse::<u64>().ok()?, end.parse::<u64>().ok()?))
                    })
                    .filter(|(start, end)| start < end);
                match parsed {
                    Some(zoom) => view.zoom = Some(zoom),
                    None => notes.push("The link's #z= part is not a time range such as z=1000-2000, so the whole trace is shown."),
                }
            }
            Ok(None) => {}
            Err(_) => notes.push(UNREADABLE),
        }
        notes.dedup();
        Loaded {
            view,
            note: (!notes.is_empty()).then(|| notes.join(" ")),
        }
    }

    /// Puts `view` in the URL fragment, replacing the current history entry
    /// (one entry per arrow key would make Back useless).
    pub fn write(view: &WaterfallView, page_path: &str) {
        let span_id = view.span_id.clone().unwrap_or_default();
        let query = truncate_chars(&view.query, MAX_QUERY_CHARS);
        let zoom = view
            .zoom
            .map(|(start, end)| format!("{start}-{end}"))
            .unwrap_or_default();
        // Never too long: the filter is capped at MAX_QUERY_CHARS characters,
        // which encode to well under the shared limit.
        let _ = write_params(
            &[("span=", &span_id), ("q=", query), ("z=", &zoom)],
            page_path,
        );
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
            ("2000000", MAX_SPANS),
            ("99999999999999999999999", MAX_SPANS),
        ] {
            let params = read_params(Some(text), None);
            assert_eq!(params.n_spans, expected, "spans={text}");
            assert_eq!(params.notes.len(), 1, "spans={text} says it was clamped");
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
