//! The Simulate page: the original demo's tracing lesson, run in simulated
//! services in the browser.
//!
//! `tracelab_demo` does all the work: the lesson's steps and their presets
//! (`lesson::STEPS`), the switches (`Switches`, named by the page's
//! `data-switch` values, with `notes()`), and one call of the client,
//! bands-api and reviews-api (`make_call`, seeded, with a virtual clock and
//! no I/O, run in the page's worker and answered as a `CallReport`). This page keeps the step, the switches and the seed (mirrored in
//! the URL fragment, format in [`state`]), keeps the calls made, and draws a
//! call: the response, each hop's headers ([`hops`]) and its traces in the
//! shared waterfall.
//!
//! Test hooks (`data-testid`), stable: `lesson-step` (with `data-step`,
//! `aria-current="step"` on the current one), `sim-switch` (with
//! `data-switch`: the on/off names of `Switches::FLAGS` and `fail-reviews`
//! as checkboxes, `n-reviews` a number input, `fail-kind` a select),
//! `sim-call`, `sim-response`, `sim-hop` (with `data-service`, the service
//! called, and `data-color`, its colour slot, as on the waterfall's rows);
//! also `lesson-detail`,
//! `sim-reset`, `sim-seed`, `sim-new-seed`, `sim-notes`, `sim-link-note`,
//! `lesson-code` (one per code excerpt of the current step),
//! `sim-result`, `sim-restore`, `sim-trace-link`, `sim-trace` (one per trace drawn),
//! `sim-no-trace`, `sim-call-entry` (one per call kept, most recent first),
//! `sim-timeout` (one per request that timed out: which, after how long,
//! and what made it slow),
//! `sim-running` (says so while a call runs), `sim-error`.
//!
//! The simulation itself runs in a Web Worker (`worker`, built from
//! `src/bin/sim-worker.rs`), started on the first call: the OpenTelemetry
//! SDK and the services' code are not part of the first page load.

mod hops;
mod state;
pub(crate) mod worker;

use std::sync::Arc;

use leptos::prelude::*;
use tracelab_demo::data::MAX_REVIEWS;
use tracelab_demo::lesson::{self, Step};
use tracelab_demo::sim::{CallAnswer, CallReport, CallRequest};
use tracelab_demo::{Failure, Switches};
use tracelab_trace::axis::format_duration;
use tracelab_trace::Trace;

use super::decode::fragment;
use super::{PageInfo, PageTitle};
use crate::waterfall::{count_spans, Waterfall};
use state::LessonState;

pub const INFO: PageInfo = PageInfo {
    slug: "simulate",
    path: "/simulate",
    title: "Simulate",
    summary:
        "Walk the tracing lesson with simulated services, in the browser, and read the waterfall.",
};

/// Calls kept for comparison; older ones are dropped, so that a long session
/// does not keep every trace it ever drew.
const MAX_CALLS: usize = 20;

/// The on/off switches by group, each with its label. The names are
/// `Switches::FLAGS`; `fail-reviews` and the review count are drawn apart.
pub(crate) const GROUPS: [(&str, &[(&str, &str)]); 3] = [
    (
        "Tracing",
        &[
            ("trace-client", "client records spans"),
            ("trace-bands", "bands-api records spans"),
            ("trace-reviews", "reviews-api records spans"),
            ("sampled", "client samples its trace (sampled flag 01)"),
            (
                "tracestate",
                "client adds a tracestate entry, each service updates it",
            ),
        ],
    ),
    (
        "Propagation",
        &[
            (
                "propagate-client",
                "client sends its traceparent to bands-api",
            ),
            (
                "propagate-bands",
                "bands-api sends its traceparent to reviews-api",
            ),
        ],
    ),
    (
        "Planted problems",
        &[
            ("pause-bands", "5 s debugging pause in bands-api"),
            ("slow-reviews", "reviews-api runs one query per review"),
            ("shared-uuid", "every review shares one uuid and timestamp"),
        ],
    ),
];

/// One call made on this page, kept to reopen and compare.
struct Call {
    /// Counts from 1 in this visit to the page.
    number: usize,
    step: u8,
    seed: u64,
    switches: Switches,
    outcome: CallReport,
    /// One per trace-id, earliest first (`CallReport::traces`).
    traces: Vec<Arc<Trace>>,
}

impl Call {
    /// From the first span's start to the last span's end, over every trace;
    /// `None` when nothing was recorded.
    fn duration_nanos(&self) -> Option<u64> {
        let spans = self.traces.iter().flat_map(|trace| trace.spans.iter());
        let start = spans.clone().map(|span| span.start_unix_nanos).min()?;
        let end = spans.map(|span| span.end_unix_nanos).max()?;
        Some(end.saturating_sub(start))
    }

    fn n_spans(&self) -> usize {
        self.traces.iter().map(|trace| trace.spans.len()).sum()
    }

    /// `#3 · step 4 · seed 7 · 200 · 2 hops · 11 spans in 1 trace · 5.02 s`.
    fn summary(&self) -> String {
        let status = self
            .outcome
            .response_status
            .map_or_else(|| "no response".to_owned(), |status| status.to_string());
        let n_traces = self.traces.len();
        let spans = match n_traces {
            0 => "no spans".to_owned(),
            1 => format!("{} in 1 trace", count_spans(self.n_spans())),
            n => format!("{} in {n} traces", count_spans(self.n_spans())),
        };
        let duration = self
            .duration_nanos()
            .map(|nanos| format!(" · {}", format_duration(nanos)))
            .unwrap_or_default();
        let n_hops = self.outcome.hops.len();
        format!(
            "#{} · step {} · seed {} · {status} · {n_hops} hop{} · {spans}{duration}",
            self.number,
            self.step,
            self.seed,
            if n_hops == 1 { "" } else { "s" },
        )
    }
}

/// The state in the URL when the page opens, and a note for each part of
/// the fragment that could not be read.
fn read_fragment() -> (LessonState, Vec<String>) {
    let mut notes = Vec::new();
    let mut value = |key: &str| match fragment::read_param(key) {
        Ok(value) => value,
        Err(fragment::Malformed) => {
            notes.push(format!(
                "The link's {key} part is not valid percent-encoding, so it was ignored."
            ));
            None
        }
    };
    let (step, seed, sw) = (
        value(state::STEP_KEY),
        value(state::SEED_KEY),
        value(state::SWITCHES_KEY),
    );
    let (state, mut more) = state::parse(step.as_deref(), seed.as_deref(), sw.as_deref());
    notes.append(&mut more);
    (state, notes)
}

/// A new seed for the "new seed" button: random, but kept below a million
/// so that links and the seed shown stay short.
fn random_seed(current: u64) -> u64 {
    let seed = (js_sys::Math::random() * 1_000_000.0) as u64;
    // Never the same seed again, which would look like a button that does nothing.
    if seed == current {
        seed.wrapping_add(1) % 1_000_000
    } else {
        seed
    }
}

#[component]
pub fn Simulate() -> impl IntoView {
    // The simulation runs in the browser: no request from the page
    // (crate::csp; its worker fetches only its own files).
    crate::csp::restrict(&[]);
    let (loaded, link_notes) = read_fragment();
    let step = RwSignal::new(loaded.step);
    let seed = RwSignal::new(loaded.seed);
    // The failure kind the fail-reviews switch turns on; remembered while the
    // switch is off.
    let fail_kind = RwSignal::new(match loaded.switches.fail_reviews {
        Failure::None => Failure::ServerError,
        kind => kind,
    });
    let switches = RwSignal::new(loaded.switches);
    let link_notes = RwSignal::new(link_notes);
    // A link to this page followed from this page, or an edited address
    // bar: read again, as on a fresh load.
    fragment::follow_hash_changes(None, move || {
        let (loaded, notes) = read_fragment();
        step.set(loaded.step);
        seed.set(loaded.seed);
        if loaded.switches.fail_reviews != Failure::None {
            fail_kind.set(loaded.switches.fail_reviews);
        }
        switches.set(loaded.switches);
        link_notes.set(notes);
    });
    let calls = RwSignal::new(Vec::<Arc<Call>>::new());
    let shown = RwSignal::new(None::<Arc<Call>>);

    // Mirror the state in the URL. The first run is skipped: the URL already
    // holds what was just read from it (or nothing, which means step 1).
    Effect::new(move |ran_before: Option<()>| {
        let current = LessonState {
            step: step.get(),
            seed: seed.get(),
            switches: switches.get(),
        };
        if ran_before.is_none() {
            return;
        }
        let params = state::params(&current);
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        // A few dozen characters: never too long for a link.
        let _ = fragment::write_params(&params, INFO.path);
    });

    let choose_step = move |number: u8| {
        step.set(number);
        switches.set(state::preset(number));
    };
    let is_preset = Memo::new(move |_| switches.with(|s| *s == state::preset(step.get())));
    // The simulation runs in a worker, started on the first call (see
    // `worker`); calls wait for it in `pending`, by request id.
    let sim_worker = StoredValue::new_local(None::<worker::SimWorker>);
    let pending =
        StoredValue::new_local(std::collections::HashMap::<u64, (u8, u64, Switches)>::new());
    let next_id = StoredValue::new(0_u64);
    let running = RwSignal::new(0_usize);
    let sim_error = RwSignal::new(None::<String>);
    let on_answer = move |answer: Result<String, String>| {
        let parsed = answer.and_then(|text| {
            serde_json::from_str::<CallAnswer>(&text).map_err(|_| {
                // The worker says what failed as {"error": "…"}.
                serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|value| value["error"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "the simulation answered something unreadable".to_owned())
            })
        });
        match parsed {
            Ok(answer) => {
                let Some((step_number, seed, switches)) = pending
                    .try_update_value(|pending| pending.remove(&answer.id))
                    .flatten()
                else {
                    return;
                };
                running.update(|n| *n = n.saturating_sub(1));
                let traces = answer.report.traces.iter().cloned().map(Arc::new).collect();
                let number =
                    calls.with_untracked(|calls| calls.first().map_or(1, |call| call.number + 1));
                let call = Arc::new(Call {
                    number,
                    step: step_number,
                    seed,
                    switches,
                    outcome: answer.report,
                    traces,
                });
                calls.update(|calls| {
                    calls.insert(0, call.clone());
                    calls.truncate(MAX_CALLS);
                });
                shown.set(Some(call));
            }
            Err(message) => {
                pending.update_value(|pending| pending.clear());
                running.set(0);
                sim_error.set(Some(message));
            }
        }
    };
    let make = move |_| {
        let switches = switches.get_untracked();
        let seed = seed.get_untracked();
        let id = next_id.get_value();
        next_id.set_value(id.wrapping_add(1));
        let request = CallRequest {
            id,
            switches: switches.clone(),
            seed,
        };
        let Ok(text) = serde_json::to_string(&request) else {
            sim_error.set(Some(
                "the call could not be written for the simulation".to_owned(),
            ));
            return;
        };
        if sim_worker.with_value(|worker| worker.is_none()) {
            match worker::SimWorker::start(on_answer) {
                Ok(started) => sim_worker.set_value(Some(started)),
                Err(message) => {
                    sim_error.set(Some(message));
                    return;
                }
            }
        }
        sim_error.set(None);
        pending.update_value(|pending| {
            pending.insert(id, (step.get_untracked(), seed, switches));
        });
        running.update(|n| *n += 1);
        sim_worker.with_value(|worker| {
            if let Some(worker) = worker {
                worker.send(text);
            }
        });
    };

    let steps = lesson::STEPS
        .iter()
        .map(|lesson_step| {
            let number = lesson_step.number;
            view! {
                <li>
                    <button
                        type="button"
                        class="sim-step"
                        data-testid="lesson-step"
                        data-step=number
                        aria-current=move || (step.get() == number).then_some("step")
                        on:click=move |_| choose_step(number)
                    >
                        <span class="sim-step-n" aria-hidden="true">
                            {number}
                        </span>
                        <span class="sim-step-title">{lesson_step.title}</span>
                    </button>
                </li>
            }
        })
        .collect_view();

    let detail = move || {
        let number = step.get();
        let lesson_step = lesson::step(number).or_else(|| lesson::STEPS.first());
        lesson_step.map(|lesson_step| step_detail(lesson_step, step, is_preset, choose_step))
    };

    view! {
        <PageTitle title=INFO.title />
        <p>
            "The original tracing demo, run in simulated services: a client calls "
            <code>"bands-api"</code> ", which calls " <code>"reviews-api"</code>
            ". Walk the steps, make a call at each, and watch " <code>"traceparent"</code>
            " change hop by hop and the trace take shape. Everything runs in this page: nothing is sent anywhere, and a 5 s pause takes no time."
        </p>
        {move || {
            link_notes
                .get()
                .into_iter()
                .map(|note| {
                    view! {
                        <p class="notice" data-testid="sim-link-note">
                            "⚠ "
                            {note}
                        </p>
                    }
                })
                .collect_view()
        }}
        <nav class="sim-lesson" aria-label="Lesson steps">
            <ol class="sim-steps">{steps}</ol>
        </nav>
        {detail}
        <div class="sim-controls">
            {GROUPS
                .iter()
                .map(|(legend, flags)| flag_group(legend, flags, switches))
                .collect_view()}
            {failures_group(switches, fail_kind)}
        </div>
        <ul class="sim-notes" data-testid="sim-notes" aria-live="polite">
            {move || {
                switches
                    .with(|s| s.notes())
                    .into_iter()
                    .map(|note| view! { <li>"ℹ " {note}</li> })
                    .collect_view()
            }}
        </ul>
        <div class="sim-actions">
            <button type="button" class="primary-button" data-testid="sim-call" on:click=make>
                "Make a call"
            </button>
            <span class="sim-seed">
                "Seed " <code data-testid="sim-seed">{move || seed.get().to_string()}</code>
            </span>
            <button
                type="button"
                class="small-button"
                data-testid="sim-new-seed"
                on:click=move |_| seed.update(|seed| *seed = random_seed(*seed))
            >
                "New seed"
            </button>
            <span class="sim-muted" data-testid="sim-running" aria-live="polite">
                {move || (running.get() > 0).then_some("Running the call…")}
            </span>
        </div>
        {move || {
            sim_error
                .get()
                .map(|message| {
                    view! {
                        <p class="sim-error" role="alert" data-testid="sim-error">
                            "✖ The simulation could not run: " {message}
                        </p>
                    }
                })
        }}
        {move || {
            shown
                .get()
                .map(|call| {
                    // Puts this call's settings back, to change one thing and compare.
                    let restore = {
                        let call = call.clone();
                        move || {
                            step.set(call.step);
                            seed.set(call.seed);
                            if call.switches.fail_reviews != Failure::None {
                                fail_kind.set(call.switches.fail_reviews);
                            }
                            switches.set(call.switches.clone());
                        }
                    };
                    call_view(&call, restore)
                })
        }}
        {move || {
            calls
                .with(|calls| {
                    (!calls.is_empty())
                        .then(|| {
                            let entries = calls
                                .iter()
                                .map(|call| call_entry(call.clone(), shown))
                                .collect_view();
                            view! {
                                <section class="sim-calls" aria-labelledby="sim-calls-heading">
                                    <h2 id="sim-calls-heading">"Calls made"</h2>
                                    <p class="sim-muted">
                                        "Most recent first; choose one to show it again."
                                    </p>
                                    <ol class="sim-call-list">{entries}</ol>
                                </section>
                            }
                        })
                })
        }}
    }
}

/// The current step: its title, what the instrumentation does there, the
/// code that does it, and the way back to its preset and on to the next.
fn step_detail(
    lesson_step: &'static Step,
    step: RwSignal<u8>,
    is_preset: Memo<bool>,
    choose_step: impl Fn(u8) + Copy + Send + Sync + 'static,
) -> AnyView {
    let number = lesson_step.number;
    let n_steps = lesson::STEPS.len();
    let previous = lesson::step(number.wrapping_sub(1)).map(|before| {
        view! {
            <button type="button" class="small-button" on:click=move |_| choose_step(before.number)>
                {format!("← Step {}", before.number)}
            </button>
        }
    });
    let next = lesson::step(number + 1).map(|after| {
        view! {
            <button type="button" class="small-button" on:click=move |_| choose_step(after.number)>
                {format!("Step {} →", after.number)}
            </button>
        }
    });
    // The real code, a few lines of it, beside the words (kept verbatim by
    // tracelab-demo's tests/lesson_excerpts.rs).
    let excerpts = lesson_step
        .excerpts
        .iter()
        .map(|excerpt| {
            view! {
                <figure class="sim-excerpt" data-testid="lesson-code">
                    <figcaption>
                        <code>{format!("{} · {}", excerpt.file, excerpt.function)}</code>
                    </figcaption>
                    <pre tabindex="0"><code>{excerpt.code}</code></pre>
                </figure>
            }
        })
        .collect_view();
    view! {
        <section class="sim-step-detail" data-testid="lesson-detail" aria-labelledby="sim-step-heading">
            <h2 id="sim-step-heading">{format!("Step {number} of {n_steps}: {}", lesson_step.title)}</h2>
            <div class="sim-step-body">
                <div class="sim-step-text">
                    <p>{lesson_step.explanation}</p>
                    <p class="sim-code">"In the code: " <code>{lesson_step.code}</code></p>
                </div>
                <div class="sim-step-code">{excerpts}</div>
            </div>
            <p class="sim-step-nav">
                {previous}
                {next}
                {move || {
                    (!is_preset.get())
                        .then(|| {
                            view! {
                                <span class="sim-modified">
                                    "The switches differ from this step's. "
                                    <button
                                        type="button"
                                        class="small-button"
                                        data-testid="sim-reset"
                                        on:click=move |_| choose_step(step.get_untracked())
                                    >
                                        {format!("Reset to step {number}")}
                                    </button>
                                </span>
                            }
                        })
                }}
            </p>
        </section>
    }
    .into_any()
}

/// One checkbox per on/off switch of a group.
pub(crate) fn flag_group(
    legend: &'static str,
    flags: &'static [(&'static str, &'static str)],
    switches: RwSignal<Switches>,
) -> AnyView {
    let boxes = flags
        .iter()
        .map(|&(name, label)| {
            view! {
                <label class="sim-switch">
                    <input
                        type="checkbox"
                        data-testid="sim-switch"
                        data-switch=name
                        prop:checked=move || switches.with(|s| s.flag(name) == Some(true))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            switches.update(|s| {
                                s.set_flag(name, on);
                            });
                        }
                    />
                    <span>{label}</span>
                    <code class="sim-switch-name">{name}</code>
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="sim-group">
            <legend>{legend}</legend>
            {boxes}
        </fieldset>
    }
    .into_any()
}

/// Failure injection and the number of reviews.
pub(crate) fn failures_group(
    switches: RwSignal<Switches>,
    fail_kind: RwSignal<Failure>,
) -> AnyView {
    let max_reviews = MAX_REVIEWS.to_string();
    view! {
        <fieldset class="sim-group">
            <legend>"Failures and data"</legend>
            <label class="sim-switch">
                <input
                    type="checkbox"
                    data-testid="sim-switch"
                    data-switch="fail-reviews"
                    prop:checked=move || switches.with(|s| s.fail_reviews != Failure::None)
                    on:change=move |ev| {
                        let failure = if event_target_checked(&ev) {
                            fail_kind.get_untracked()
                        } else {
                            Failure::None
                        };
                        switches.update(|s| s.fail_reviews = failure);
                    }
                />
                <span>"reviews-api fails"</span>
                <code class="sim-switch-name">"fail-reviews"</code>
            </label>
            <label class="sim-field">
                <span>"How it fails"</span>
                <select
                    data-testid="sim-switch"
                    data-switch="fail-kind"
                    on:change=move |ev| {
                        let Some(kind) = Failure::parse(&event_target_value(&ev)) else {
                            return;
                        };
                        fail_kind.set(kind);
                        switches
                            .update(|s| {
                                if s.fail_reviews != Failure::None {
                                    s.fail_reviews = kind;
                                }
                            });
                    }
                >
                    <option
                        value=Failure::ServerError.as_str()
                        prop:selected=move || fail_kind.get() == Failure::ServerError
                    >
                        "answers 500"
                    </option>
                    <option
                        value=Failure::Timeout.as_str()
                        prop:selected=move || fail_kind.get() == Failure::Timeout
                    >
                        "times out (hangs 10 s)"
                    </option>
                </select>
            </label>
            <label class="sim-field">
                <span>{format!("Reviews of the band (0 to {MAX_REVIEWS})")}</span>
                <input
                    type="number"
                    inputmode="numeric"
                    min="0"
                    max=max_reviews
                    data-testid="sim-switch"
                    data-switch="n-reviews"
                    prop:value=move || switches.with(|s| s.n_reviews.to_string())
                    // Leaving a field that was emptied or held a number past the
                    // limit: a no-op update redraws the value the switch holds.
                    on:change=move |_| switches.update(|_| {})
                    on:input=move |ev| {
                        // An empty or half-typed field changes nothing; a number
                        // past the limit is held at it.
                        if let Ok(count) = event_target_value(&ev).trim().parse::<usize>() {
                            let count = u8::try_from(count.min(MAX_REVIEWS)).unwrap_or(u8::MAX);
                            switches
                                .update(|s| {
                                    if s.n_reviews != count {
                                        s.n_reviews = count;
                                    }
                                });
                        }
                    }
                />
            </label>
        </fieldset>
    }
    .into_any()
}

/// One call: the response as the client printed it, its hops and its traces.
fn call_view(call: &Call, restore: impl Fn() + Send + Sync + 'static) -> AnyView {
    let outcome = &call.outcome;
    let status = match outcome.response_status {
        Some(status) if status < 400 => format!("✔ bands-api answered {status}"),
        Some(status) => format!("✘ bands-api answered {status}"),
        None => "✘ no answer: the client gave up".to_owned(),
    };
    let failed = outcome.response_status.is_none_or(|status| status >= 400);
    let link = match &outcome.trace_link {
        Some(link) => view! {
            <p class="sim-link" data-testid="sim-trace-link">
                <code>{link.clone()}</code>
                <span class="sim-muted">
                    " — the link the client printed, to Jaeger in the original; nothing listens there here."
                </span>
            </p>
        }
        .into_any(),
        None => view! {
            <p class="sim-link sim-muted" data-testid="sim-trace-link">
                "No trace link: the client traced nothing and bands-api sent no trace-id."
            </p>
        }
        .into_any(),
    };
    let notes = call
        .switches
        .notes()
        .into_iter()
        .map(|note| view! { <li>"ℹ " {note}</li> })
        .collect_view();
    view! {
        <section class="sim-result" data-testid="sim-result" aria-labelledby="sim-result-heading">
            <h2 id="sim-result-heading">
                {format!("Call #{} (step {}, seed {})", call.number, call.step, call.seed)}
            </h2>
            <p>
                <button type="button" class="small-button" data-testid="sim-restore" on:click=move |_| restore()>
                    "Use this call's step, switches and seed"
                </button>
            </p>
            <ul class="sim-notes">{notes}</ul>
            <h3>"Response"</h3>
            <p class="sim-status" class:sim-bad=failed>{status}</p>
            <pre class="code sim-response" data-testid="sim-response"><code>{outcome.response_json.clone()}</code></pre>
            {link}
            <h3>{format!("Requests on the wire ({})", outcome.hops.len())}</h3>
            {hops::hop_list(outcome)}
            // Why a request timed out, next to the waterfall that shows it
            // (worked out by the simulation: `tracelab_demo::diagnose`).
            {outcome
                .timeouts
                .iter()
                .map(|said| view! { <p class="sim-bad" data-testid="sim-timeout">"⏱ " {said.clone()}</p> })
                .collect_view()}
            {traces_view(&call.traces)}
        </section>
    }
    .into_any()
}

/// Each trace in the waterfall, with a heading that says how many traces
/// the call made and that they are not connected.
fn traces_view(traces: &[Arc<Trace>]) -> AnyView {
    let n_traces = traces.len();
    let heading = match n_traces {
        0 => "No trace".to_owned(),
        1 => "The trace".to_owned(),
        n => format!("{n} unconnected traces"),
    };
    let body = match n_traces {
        0 => view! {
            <p class="sim-muted" data-testid="sim-no-trace">
                "No span was recorded in this call, so there is nothing to draw."
            </p>
        }
        .into_any(),
        _ => {
            let intro = (n_traces > 1).then(|| {
                view! {
                    <p class="sim-split">
                        "⚠ These spans belong to different traces: a service that receives no traceparent starts a trace of its own, so nothing links them. Turn propagation on to join them."
                    </p>
                }
            });
            let items = traces
                .iter()
                .enumerate()
                .map(|(idx, trace)| trace_item(idx, n_traces, trace.clone()))
                .collect_view();
            view! {
                {intro}
                {items}
            }
            .into_any()
        }
    };
    view! {
        <h3>{heading}</h3>
        {body}
    }
    .into_any()
}

fn trace_item(idx: usize, n_traces: usize, trace: Arc<Trace>) -> AnyView {
    let trace_id = trace
        .spans
        .first()
        .map(|span| span.trace_id.to_string())
        .unwrap_or_default();
    let services = trace
        .resources
        .iter()
        .map(|resource| resource.service_name.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let title = if n_traces == 1 {
        format!(
            "trace-id {trace_id}: {}, from {services}",
            count_spans(trace.spans.len())
        )
    } else {
        format!(
            "Trace {} of {n_traces}, not connected to the other{}: trace-id {trace_id}, {} from {services}",
            idx + 1,
            if n_traces > 2 { "s" } else { "" },
            count_spans(trace.spans.len()),
        )
    };
    view! {
        <section class="sim-trace" data-testid="sim-trace">
            <h4 class="sim-trace-head">{title}</h4>
            <crate::export::TraceExport trace=trace.clone() />
            <Waterfall trace=trace service_colors=hops::service_colors() />
        </section>
    }
    .into_any()
}

/// One entry of the list of calls; choosing it shows that call again.
///
/// Called inside the list's reactive closure, which tracks `shown` here, so
/// `aria-pressed` is a plain value redrawn with the list. A reactive
/// attribute on each entry (a render effect of its own) was kept alive by
/// Leptos after the list was redrawn, 20 of them per call: the page's wasm
/// memory grew by about 2.5 KB with every call, without bound.
fn call_entry(call: Arc<Call>, shown: RwSignal<Option<Arc<Call>>>) -> AnyView {
    let number = call.number;
    let summary = call.summary();
    let pressed = shown.with(|s| s.as_ref().is_some_and(|c| c.number == number));
    view! {
        <li>
            <button
                type="button"
                class="sim-call-entry"
                data-testid="sim-call-entry"
                aria-pressed=if pressed { "true" } else { "false" }
                on:click=move |_| shown.set(Some(call.clone()))
            >
                {summary}
            </button>
        </li>
    }
    .into_any()
}
