//! The Build page: put a valid trace context header together by hand.
//!
//! The person edits the fields ([`state::Built`]); `tracelab_context`
//! checks the assembled values on every change (`traceparent::diagnose`,
//! `tracestate::diagnose`), writes the snippets (`snippet`) and decides the
//! next hop (`receive`). The state is mirrored in the URL fragment (format in
//! [`state`]); nothing leaves the browser.
//!
//! Test hooks (`data-testid`), stable: `build-new-trace`,
//! `build-traceparent` (exactly the header value); also `build-verdict`,
//! `build-trace-id`, `build-parent-id`, `build-new-span`,
//! `build-flag-sampled`, `build-flag-random`, `build-flag-unknown`,
//! `build-error` (one per rule broken, with `data-rule`),
//! `build-trace-id-errors`, `build-parent-id-errors`, `build-tp-errors`,
//! `build-random-error`, `build-load-note`, `build-share-note`, `build-ts-add`,
//! `build-ts-entry`, `build-ts-key`, `build-ts-value`, `build-ts-up`,
//! `build-ts-down`, `build-ts-remove`, `build-ts-count`, `build-ts-length`,
//! `build-ts-truncation`, `build-ts-dropped`, `build-ts-errors`,
//! `build-tracestate`, `build-copy-*` (with `-status`), `build-curl`,
//! `build-snippet-rust`, `build-snippet-python`, `build-snippet-js`,
//! `build-url`, `build-open-decode`, `build-next-action`, `build-next-note`,
//! `build-next-traceparent`, `build-next-tracestate`.

mod clipboard;
mod output;
mod state;
mod tracestate_editor;

use std::time::Duration;

use leptos::prelude::*;
use tracelab_context::{traceparent, tracestate, Rule, Severity, TraceFlags, Violation};

use super::decode::report::{self, segments};
use super::{report_section, PageInfo, PageTitle};
use state::{Built, NextHopIds};

pub const INFO: PageInfo = PageInfo {
    slug: "build",
    path: "/build",
    title: "Build",
    summary: "Compose a valid traceparent and tracestate field by field.",
};

/// How long editing must pause before the URL is rewritten (see the Decode
/// page: Chromium throttles frequent history updates).
const FRAGMENT_DELAY: Duration = Duration::from_millis(250);

/// The `tracestate` as built, checked: what the editor and the output show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedState {
    pub value: String,
    /// Each entry's id and byte range in `value`, in order.
    pub ranges: Vec<(usize, std::ops::Range<usize>)>,
    /// `None` when there is no entry (and so no header to send).
    pub report: Option<tracestate::TraceStateReport>,
    /// 0-based positions a vendor drops first to fit 512 characters, from
    /// `TraceState::truncation_order`; empty when it fits or is invalid.
    pub truncation: Vec<usize>,
}

impl CheckedState {
    fn new(value: String, ranges: Vec<(usize, std::ops::Range<usize>)>) -> Self {
        let report = (!ranges.is_empty()).then(|| tracestate::diagnose(&value));
        let truncation = report
            .as_ref()
            .and_then(|r| r.parsed.as_ref())
            .map(|parsed| parsed.truncation_order(tracestate::PROPAGATION_LIMIT))
            .unwrap_or_default();
        CheckedState {
            value,
            ranges,
            report,
            truncation,
        }
    }

    /// Rules that concern the whole list, not one entry.
    fn is_list_rule(rule: Rule) -> bool {
        matches!(
            rule,
            Rule::TraceStateTooManyMembers | Rule::TraceStateOverPropagationLimit
        )
    }

    /// The violations that point into the entry `id`. A zero-width finding
    /// (a missing value) at an entry's end belongs to that entry.
    pub fn violations_of(&self, id: usize) -> Vec<Violation> {
        let (Some(report), Some((_, range))) = (
            &self.report,
            self.ranges.iter().find(|(entry, _)| *entry == id),
        ) else {
            return Vec::new();
        };
        report
            .violations
            .iter()
            .filter(|v| !Self::is_list_rule(v.rule))
            .filter(|v| {
                if v.start == v.end {
                    range.start <= v.start && v.start <= range.end
                } else {
                    v.start < range.end && v.end > range.start
                }
            })
            .cloned()
            .collect()
    }

    /// The violations about the whole list.
    pub fn list_violations(&self) -> Vec<Violation> {
        self.report
            .iter()
            .flat_map(|r| r.violations.iter())
            .filter(|v| Self::is_list_rule(v.rule))
            .cloned()
            .collect()
    }

    pub fn is_valid(&self) -> bool {
        self.report.as_ref().is_none_or(|r| r.is_valid())
    }
}

/// One `build-error` per rule broken: the rule's name, its section and what
/// was found. Several findings of one rule are one mistake, said once.
pub fn rule_list(violations: Vec<Violation>, id: String, test_id: &'static str) -> impl IntoView {
    let mut seen: Vec<Rule> = Vec::new();
    let items = violations
        .into_iter()
        .filter(|v| {
            let new = !seen.contains(&v.rule);
            seen.push(v.rule);
            new
        })
        .map(|v| {
            let (class, icon) = match v.severity {
                Severity::Error => ("error", "✘ error"),
                Severity::Warning => ("warning", "⚠ warning"),
            };
            view! {
                <li class=format!("rule-line {class}") data-testid="build-error" data-rule=v.rule.name()>
                    <span class="severity">{icon}</span>
                    " "
                    <code>{v.rule.name()}</code>
                    // The message ends with the rule's summary and section.
                    {format!(": {}", v.message)}
                </li>
            }
        })
        .collect_view();
    view! {
        <ul class="rule-lines" id=id data-testid=test_id>
            {items}
        </ul>
    }
}

/// Which input a traceparent rule belongs to, by its stable name.
fn tp_field_of(rule: Rule) -> &'static str {
    let name = rule.name();
    if name.starts_with("trace-id.") {
        "trace-id"
    } else if name.starts_with("parent-id.") {
        "parent-id"
    } else {
        "other"
    }
}

/// One id's input (`trace-id` or `parent-id`), its help and the rules it
/// breaks: one markup for both, so the two cannot drift apart.
fn id_field(
    field: &'static str,
    help: &'static str,
    value: RwSignal<String>,
    tp_report: Memo<traceparent::TraceParentReport>,
    extra: AnyView,
) -> AnyView {
    let input_id = format!("build-{field}");
    let help_id = format!("build-{field}-help");
    let errors_id = format!("build-{field}-errors");
    let errors = {
        let errors_id = errors_id.clone();
        move || {
            let violations: Vec<Violation> = tp_report.with(|r| {
                r.violations
                    .iter()
                    .filter(|v| tp_field_of(v.rule) == field)
                    .cloned()
                    .collect()
            });
            // The test id is the element id: `build-trace-id-errors`, …
            let test_id = if field == "trace-id" {
                "build-trace-id-errors"
            } else {
                "build-parent-id-errors"
            };
            rule_list(violations, errors_id.clone(), test_id)
        }
    };
    let invalid = move || {
        let bad = tp_report.with(|r| r.errors().any(|v| tp_field_of(v.rule) == field));
        if bad {
            "true"
        } else {
            "false"
        }
    };
    view! {
        <div class=format!("build-field f-{field}")>
            <label for=input_id.clone()>
                <span class="swatch" aria-hidden="true"></span>
                {field}
            </label>
            <div class="input-row">
                <input
                    id=input_id.clone()
                    class="id-input"
                    data-testid=input_id
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="off"
                    aria-invalid=invalid
                    aria-describedby=format!("{help_id} {errors_id}")
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
                {extra}
            </div>
            <p class="help" id=help_id>
                {help}
            </p>
            {errors}
        </div>
    }
    .into_any()
}

#[component]
pub fn Build() -> impl IntoView {
    // No request from here (crate::csp).
    crate::csp::restrict(&[]);
    let built = Built::new();
    let random_error = RwSignal::new(None::<String>);
    let load_note = RwSignal::new(None::<String>);
    let link_note = RwSignal::new(None::<String>);
    let next_ids = RwSignal::new(NextHopIds::draw());
    // What a fresh load does with the link: its state, or a new trace when
    // it holds no traceparent, and a note on what could not be used.
    let load = move || {
        built.clear();
        let (loaded, note) = built.load_from_url();
        load_note.set(note);
        random_error.set(None);
        if !loaded {
            if let Err(e) = built.new_trace() {
                random_error.set(Some(e));
            }
        }
        next_ids.set(NextHopIds::draw());
    };
    load();

    let pending = StoredValue::new(None::<TimeoutHandle>);
    // An edited address bar, or Back and Forward between two links to this
    // page: the link is read again, as on a fresh load, and the new entries
    // are built under the page's owner.
    super::decode::fragment::follow_hash_changes(Some(pending), load);

    let tp_value = Memo::new(move |_| built.traceparent());
    let tp_report = Memo::new(move |_| tp_value.with(|v| traceparent::diagnose(v)));
    let ts_checked = Memo::new(move |_| {
        let (value, ranges) = built.tracestate();
        CheckedState::new(value, ranges)
    });

    // Mirror the state in the URL a moment after editing stops. Unlike the
    // Decode page, the first run writes too: a fresh page has just drawn a
    // trace, which the link should hold at once.
    Effect::new(move |_| {
        tp_value.track();
        ts_checked.track();
        built.url.track();
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                let saved = tp_value.try_with_untracked(|tp| {
                    ts_checked.with_untracked(|ts| {
                        built
                            .url
                            .with_untracked(|url| Built::save_to_url(tp, &ts.value, url, INFO.path))
                    })
                });
                if let Some(note) = saved {
                    link_note.try_set(note);
                }
            },
            FRAGMENT_DELAY,
        );
        pending.set_value(handle.ok());
    });
    on_cleanup(move || {
        if let Some(Some(handle)) = pending.try_get_value() {
            handle.clear();
        }
    });

    let new_trace = move |_| match built.new_trace() {
        Ok(()) => {
            random_error.set(None);
            next_ids.set(NextHopIds::draw());
        }
        Err(e) => random_error.set(Some(e)),
    };
    let new_span = move |_| match tracelab_context::SpanId::random() {
        Ok(id) => {
            random_error.set(None);
            built.parent_id.set(id.to_string());
        }
        Err(e) => random_error.set(Some(e.to_string())),
    };

    let verdict = Memo::new(move |_| {
        let tp_ok = tp_report.with(|r| r.is_valid());
        let ts_ok = ts_checked.with(CheckedState::is_valid);
        let broken = tp_report.with(|r| {
            let mut rules: Vec<&str> = r.errors().map(|v| v.rule.name()).collect();
            rules.sort_unstable();
            rules.dedup();
            rules.len()
        });
        let over_limit = ts_checked.with(|c| {
            c.list_violations()
                .iter()
                .any(|v| v.rule == Rule::TraceStateOverPropagationLimit)
        });
        match (tp_ok, ts_ok) {
            (true, true) if over_limit => (
                "valid",
                "valid, with a warning: the tracestate is over 512 characters, so a vendor may drop entries from it.".to_owned(),
            ),
            (true, true) => ("valid", "valid: these headers follow W3C Trace Context.".to_owned()),
            (true, false) => (
                "invalid",
                "invalid: the traceparent is valid, but the tracestate breaks a rule; a receiver drops it.".to_owned(),
            ),
            (false, _) => (
                "invalid",
                format!(
                    "invalid: the traceparent breaks {} {}; a receiver starts a new trace.",
                    broken,
                    if broken == 1 { "rule" } else { "rules" }
                ),
            ),
        }
    });

    let other_errors = move || {
        let violations: Vec<Violation> = tp_report.with(|r| {
            r.violations
                .iter()
                .filter(|v| tp_field_of(v.rule) == "other")
                .cloned()
                .collect()
        });
        rule_list(
            violations,
            "build-other-errors".to_owned(),
            "build-tp-errors",
        )
    };

    let flag_box = move |bit: u8, name: &'static str, meaning: &'static str| {
        let id = format!("build-flag-{name}");
        view! {
            <div class="flag">
                <input
                    type="checkbox"
                    id=id.clone()
                    data-testid=id.clone()
                    prop:checked=move || built.flags.get().0 & bit != 0
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        built
                            .flags
                            .update(|f| {
                                *f = if on { TraceFlags(f.0 | bit) } else { TraceFlags(f.0 & !bit) };
                            });
                    }
                />
                <label for=id>
                    <strong>{name}</strong>
                    {format!(" (bit {}): {meaning}", bit.trailing_zeros())}
                </label>
            </div>
        }
    };

    view! {
        <PageTitle title=INFO.title />
        <p>
            "Compose a " <code>"traceparent"</code>
            " field by field — trace-id, parent-id and flags — with fresh random ids, add "
            <code>"tracestate"</code>
            " entries, see what the next service sends on, and copy the headers into a real request. Everything happens in this page; the link holds the headers, so it can be shared."
        </p>
        <div class="build-actions">
            <button
                type="button"
                class="primary-button"
                data-testid="build-new-trace"
                on:click=new_trace
            >
                "New trace"
            </button>
            <span class="muted">"Random ids from the browser's crypto source; sampled and random flags on."</span>
        </div>
        {move || {
            random_error
                .get()
                .map(|e| {
                    view! {
                        <p class="bad" role="alert" data-testid="build-random-error">
                            {format!("✘ No random ids could be drawn ({e}); type ids by hand instead.")}
                        </p>
                    }
                })
        }}
        {move || {
            load_note
                .get()
                .map(|note| {
                    view! {
                        <p class="share-note" data-testid="build-load-note">
                            {note}
                        </p>
                    }
                })
        }}
        {move || {
            link_note
                .get()
                .map(|note| {
                    view! {
                        <p class="share-note" data-testid="build-share-note">
                            {note}
                        </p>
                    }
                })
        }}
        <div class="verdict-region" aria-live="polite">
            {move || {
                let (class, text) = verdict.get();
                report::verdict(class, text, "build-verdict")
            }}
        </div>
        {move || tp_value.with(|v| tp_report.with(|r| segments(v, r)))}

        {report_section("build-tp-heading", "traceparent", None, view! {
            <div class="build-fields">
                <div class="build-field f-version">
                    <label for="build-version">
                        <span class="swatch" aria-hidden="true"></span>
                        "version"
                    </label>
                    <input
                        id="build-version"
                        class="id-input narrow"
                        value="00"
                        readonly
                        aria-describedby="build-version-help"
                    />
                    <p class="help" id="build-version-help">
                        "Fixed: 00 is the only version published."
                    </p>
                </div>
                {id_field(
                    "trace-id",
                    "32 lowercase hex digits, not all zero: the whole trace's id.",
                    built.trace_id,
                    tp_report,
                    ().into_any(),
                )}
                {id_field(
                    "parent-id",
                    "16 lowercase hex digits, not all zero: the id of the caller's span.",
                    built.parent_id,
                    tp_report,
                    view! {
                        <button
                            type="button"
                            class="small-button"
                            data-testid="build-new-span"
                            on:click=new_span
                        >
                            "New span id"
                        </button>
                    }
                        .into_any(),
                )}
                <fieldset class="build-field f-flags flags-box">
                    <legend>
                        <span class="swatch" aria-hidden="true"></span>
                        "trace-flags "
                        <code>{move || built.flags.get().to_string()}</code>
                    </legend>
                    {flag_box(
                        TraceFlags::SAMPLED,
                        "sampled",
                        "the caller may have recorded this trace.",
                    )}
                    {flag_box(
                        TraceFlags::RANDOM,
                        "random",
                        "the trace-id's rightmost 7 bytes are random.",
                    )}
                    <div class="flag" data-testid="build-flag-unknown">
                        <input
                            type="checkbox"
                            id="build-flag-unknown-bits"
                            disabled
                            aria-describedby="build-flag-unknown-help"
                        />
                        <label for="build-flag-unknown-bits">
                            <strong>"bits 2–7"</strong>
                            " (unknown)"
                        </label>
                        <p class="help" id="build-flag-unknown-help">
                            "No version defines them: a sender must send them as zero, so they cannot be set here."
                        </p>
                    </div>
                </fieldset>
            </div>
            {other_errors}
        })}

        <tracestate_editor::TraceStateEditor built=built checked=ts_checked />
        <output::Output tp_value=tp_value ts_checked=ts_checked next_ids=next_ids url=built.url />
    }
}
