//! Drawing a [`Decoded`]: what was found, the traceparent's fields, every
//! rule broken, the tracestate's entries and the receiver's decision. Every
//! fact comes from `tracelab_context`; this module only lays it out, and
//! cuts what could be long (a pasted megabyte) to a readable size.

use std::ops::Range;

use leptos::prelude::*;
use tracelab_context::traceparent::{display_text, FieldName};
use tracelab_context::tracestate::{TraceStateReport, PROPAGATION_LIMIT};
use tracelab_context::{Action, Decoded, Rule, Severity, TraceParentReport, Violation};

use super::highlight::{highlighted, Mark};
use crate::pages::report_section;

/// Found headers listed by line; the rest are counted. A log can repeat a
/// header thousands of times.
const MAX_FOUND_LISTED: usize = 20;
/// Characters of a value shown in lists and tables.
const MAX_SHOWN: usize = 200;
/// Messages listed under one rule broken in several places.
const MAX_MESSAGES: usize = 5;

/// `1 error`, `2 errors`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The CSS class that gives a traceparent field its colour, and the suffix
/// of its `tp-field-…` test id.
fn field_slug(name: FieldName) -> &'static str {
    match name {
        FieldName::Version => "version",
        FieldName::TraceId => "trace-id",
        FieldName::ParentId => "parent-id",
        FieldName::TraceFlags => "flags",
        FieldName::Rest => "rest",
    }
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Rules broken across both headers, errors and warnings apart; a rule
/// broken in several places counts once, as it is drawn once.
fn counts(d: &Decoded) -> (usize, usize) {
    let tp = d.traceparent.iter().map(|r| r.violations.as_slice());
    let ts = d.tracestate.iter().map(|r| r.violations.as_slice());
    tp.chain(ts)
        .flat_map(by_rule)
        .fold((0, 0), |(e, w), (rule, _)| match rule.severity() {
            Severity::Error => (e + 1, w),
            Severity::Warning => (e, w + 1),
        })
}

/// The verdict: its class (`valid` or `invalid`) and one sentence starting
/// with that word, saying how many rules are broken and what a receiver does.
pub fn verdict_text(d: &Decoded) -> (&'static str, String) {
    let (errors, warnings) = counts(d);
    let with_warnings = if warnings > 0 {
        format!(", with {}", count(warnings, "warning", "warnings"))
    } else {
        String::new()
    };
    let receiver = match d.decision.action {
        Action::Continue if d.decision.tracestate_dropped.is_some() => {
            "a receiver continues the trace but drops the tracestate"
        }
        Action::Continue => "a receiver continues the trace",
        Action::Restart => "a receiver starts a new trace",
    };
    let (class, text) = match (&d.traceparent, &d.tracestate) {
        (None, None) if !d.found.others.is_empty() => (
            "invalid",
            "invalid: no traceparent or tracestate header was found in this text, only other trace headers (listed below).".to_owned(),
        ),
        (None, None) => (
            "invalid",
            "invalid: no traceparent or tracestate header was found in this text.".to_owned(),
        ),
        _ if d.all_valid() => {
            let what = match (&d.traceparent, &d.tracestate) {
                (Some(_), Some(_)) => "the traceparent and tracestate follow W3C Trace Context",
                (Some(_), None) => "the traceparent follows W3C Trace Context",
                _ => "the tracestate follows W3C Trace Context, but there is no traceparent",
            };
            (
                "valid",
                format!("valid{with_warnings}: {what}; {receiver}."),
            )
        }
        _ => (
            "invalid",
            format!(
                "invalid: {}{with_warnings}; {receiver}.",
                count(errors, "rule broken", "rules broken")
            ),
        ),
    };
    (class, text)
}

/// The verdict as the page's live region shows it.
pub fn verdict(class: &'static str, text: String, testid: &'static str) -> impl IntoView {
    view! {
        <p class=format!("verdict {class}") data-testid=testid>
            <span aria-hidden="true">{if class == "valid" { "✔ " } else { "✘ " }}</span>
            {text}
        </p>
    }
}

/// The whole report below the verdict.
pub fn report(d: &Decoded) -> impl IntoView {
    view! {
        {found(d)}
        {others(d)}
        {traceparent_section(d)}
        {findings(d)}
        {tracestate_section(d)}
        {decision(d)}
    }
}

fn found(d: &Decoded) -> impl IntoView {
    let headers = &d.found.headers;
    let listed = headers
        .iter()
        .take(MAX_FOUND_LISTED)
        .map(|h| {
            let place = format!(" on line {}, from {}: ", h.line, h.source.describe());
            let note = h
                .note
                .as_ref()
                .map(|n| view! { <p class="note" data-testid="found-note">{n.clone()}</p> });
            view! {
                <li data-testid="found-header">
                    <code>{h.name.as_str()}</code>
                    {place}
                    <code>{display_text(&h.value, MAX_SHOWN)}</code>
                    {note}
                </li>
            }
        })
        .collect_view();
    let more = headers
        .len()
        .checked_sub(MAX_FOUND_LISTED)
        .filter(|&n| n > 0)
        .map(|n| view! { <li>{format!("and {n} more")}</li> });
    let ignored_count = d.found.ignored.len() + d.found.ignored_omitted;
    let ignored_text = match ignored_count {
        0 => "No line was ignored.".to_owned(),
        n => format!(
            "{} ignored (not a trace context header).",
            count(n, "line", "lines")
        ),
    };
    let ignored_list = (!d.found.ignored.is_empty()).then(|| {
        let items = d
            .found
            .ignored
            .iter()
            .map(|l| view! { <li>{format!("line {}: {}", l.line, l.reason)}</li> })
            .collect_view();
        let omitted = (d.found.ignored_omitted > 0)
            .then(|| view! { <li>{format!("and {} more", d.found.ignored_omitted)}</li> });
        view! {
            <details>
                <summary>"Ignored lines"</summary>
                <ul class="ignored">{items} {omitted}</ul>
            </details>
        }
    });
    report_section(
        "found-heading",
        "Found",
        None,
        view! {
            {if headers.is_empty() {
                view! { <p>"No traceparent or tracestate header in this text."</p> }.into_any()
            } else {
                view! { <ul class="found" data-testid="tp-found">{listed} {more}</ul> }.into_any()
            }}
            {d.found.choice.clone().map(|c| view! { <p data-testid="tp-choice">{c}</p> })}
            <p data-testid="tp-ignored">{ignored_text}</p>
            {ignored_list}
        },
    )
}

/// Other systems' trace headers and near-misses: what each is and the ids
/// it carries, never judged by W3C rules. Nothing is drawn when there are none.
fn others(d: &Decoded) -> Option<impl IntoView> {
    let found = &d.found;
    if found.others.is_empty() {
        return None;
    }
    let id = |label: &'static str, testid: &'static str, value: &Option<String>| {
        value.clone().map(|v| {
            view! {
                <span class="other-id">
                    {label} " " <code data-testid=testid>{v}</code>
                </span>
            }
        })
    };
    let items = found
        .others
        .iter()
        .map(|o| {
            let c = &o.carried;
            let meant = c.did_you_mean.map(|h| {
                view! {
                    <strong class="warning" data-testid="other-did-you-mean">
                        {format!("did you mean {}?", h.as_str())}
                    </strong>
                }
            });
            let sampled = c.sampled.map(|s| if s { " sampled" } else { " not sampled" });
            view! {
                <li data-testid="other-header">
                    <code data-testid="other-header-name">{o.name.clone()}</code>
                    {format!(" on line {}: {} ", o.line, c.what)}
                    {meant}
                    <br />
                    {id("trace-id", "other-trace-id", &c.trace_id)}
                    " "
                    {id("span-id", "other-span-id", &c.span_id)}
                    {sampled}
                    {c.note.clone().map(|n| view! { <p class="note" data-testid="other-note">{n}</p> })}
                </li>
            }
        })
        .collect_view();
    let more = (found.others_omitted > 0)
        .then(|| view! { <li>{format!("and {} more", found.others_omitted)}</li> });
    Some(report_section(
        "others-heading",
        "Other trace headers",
        None,
        view! {
            <p>"Not W3C trace context, so no W3C rule applies; ids are shown in W3C form."</p>
            <ul class="found">{items} {more}</ul>
        },
    ))
}

/// The traceparent value the report's byte ranges point into.
fn traceparent_value(d: &Decoded) -> &str {
    d.found
        .traceparent()
        .next()
        .map(|h| h.value.as_str())
        .unwrap_or_default()
}

/// A `traceparent` value drawn as coloured segments, each field's text over
/// its name, with the text between fields (the dashes) left plain. Shared
/// with the Build page, so a field looks the same on both.
pub fn segments(value: &str, report: &TraceParentReport) -> impl IntoView {
    field_segments(
        value,
        report
            .fields
            .iter()
            .map(|field| (field.name, field.start..field.end, field.raw.as_str())),
    )
}

/// [`segments`] from the fields alone: each its name, where it is in
/// `value`, and the text to show where that range does not cut `value`
/// (the Simulate page's hops, whose fields need no report).
pub fn field_segments<'a>(
    value: &str,
    fields: impl IntoIterator<Item = (FieldName, Range<usize>, &'a str)>,
) -> AnyView {
    // Cut per piece, so a megabyte stays short.
    let mut segments: Vec<AnyView> = Vec::new();
    let mut pos = 0;
    for (name, range, raw) in fields {
        if range.start > pos {
            let gap = value.get(pos..range.start).unwrap_or_default();
            segments.push(view! { <span class="sep">{display_text(gap, 8)}</span> }.into_any());
        }
        let text = value
            .get(range.clone())
            .map(|s| display_text(s, 64))
            .unwrap_or_else(|| raw.to_owned());
        let slug = field_slug(name);
        segments.push(
            view! {
                <span class=format!("seg f-{slug}")>
                    <code>{text}</code>
                    <small>{name.as_str()}</small>
                </span>
            }
            .into_any(),
        );
        pos = pos.max(range.end);
    }
    if let Some(rest) = value.get(pos..).filter(|r| !r.is_empty()) {
        segments.push(view! { <span class="sep">{display_text(rest, 16)}</span> }.into_any());
    }

    view! { <div class="segments" aria-hidden="true">{segments}</div> }.into_any()
}

fn traceparent_section(d: &Decoded) -> impl IntoView {
    let body = match &d.traceparent {
        Some(report) => traceparent_fields(traceparent_value(d), report),
        None => {
            view! { <p>"No traceparent was found. Without one, a receiver starts a new trace."</p> }
                .into_any()
        }
    };
    report_section("tp-heading", "traceparent", None, body)
}

/// The traceparent's segments, its fields and, when it has any, its flags
/// bit by bit.
fn traceparent_fields(value: &str, report: &TraceParentReport) -> AnyView {
    let segments = segments(value, report);

    let rows = report
        .fields
        .iter()
        .map(|field| {
            let slug = field_slug(field.name);
            let value_text = field
                .value
                .clone()
                .unwrap_or_else(|| "does not decode".to_owned());
            let invalid = (!field.valid).then(|| view! { <span class="bad">" ✘ invalid"</span> });
            view! {
                <tr class=format!("f-{slug}")>
                    <th scope="row">
                        <span class="swatch" aria-hidden="true"></span>
                        {field.name.as_str()}
                    </th>
                    <td data-label="raw">
                        <code data-testid=format!("tp-field-{slug}")>{field.raw.clone()}</code>
                    </td>
                    <td data-label="value">{value_text} {invalid}</td>
                    <td data-label="meaning">{field.meaning}</td>
                </tr>
            }
        })
        .collect_view();

    let bits = (!report.flag_bits.is_empty()).then(|| {
        let rows = report
            .flag_bits
            .iter()
            .map(|b| {
                view! {
                    <tr data-testid="tp-flag-bit" class:set=b.set>
                        <td class="num">{b.bit}</td>
                        <td class="num">
                            <code>{if b.set { "1" } else { "0" }}</code>
                        </td>
                        <td>{b.name}</td>
                        <td>{b.meaning}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="report-table flag-bits f-flags">
                <caption>"trace-flags, bit by bit (bit 0 is the rightmost)"</caption>
                <thead>
                    <tr>
                        <th scope="col" class="num">"Bit"</th>
                        <th scope="col" class="num">"Set"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Meaning"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });

    view! {
        {segments}
        <div class="table-scroll">
            <table class="report-table fields">
                <caption>"Fields"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Field"</th>
                        <th scope="col">"Raw"</th>
                        <th scope="col">"Value"</th>
                        <th scope="col">"Meaning"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <div class="table-scroll">{bits}</div>
    }
    .into_any()
}

/// The findings of one header grouped by rule, in the order each rule was
/// first broken: one rule broken in several places is one mistake to fix.
fn by_rule(violations: &[Violation]) -> Vec<(Rule, Vec<&Violation>)> {
    let mut groups: Vec<(Rule, Vec<&Violation>)> = Vec::new();
    for v in violations {
        match groups.iter_mut().find(|(rule, _)| *rule == v.rule) {
            Some((_, items)) => items.push(v),
            None => groups.push((v.rule, vec![v])),
        }
    }
    groups
}

/// One `tp-error` element per rule broken, in either header.
fn findings(d: &Decoded) -> impl IntoView {
    let mut items: Vec<AnyView> = Vec::new();
    let mut omitted = 0;
    if let Some(report) = &d.traceparent {
        let value = traceparent_value(d);
        // A mark takes the colour of the field it points into.
        let class_at = |start: usize| {
            report
                .fields
                .iter()
                .find(|f| f.start <= start && (start < f.end || f.start == f.end))
                .map_or("f-none", |f| match f.name {
                    FieldName::Version => "f-version",
                    FieldName::TraceId => "f-trace-id",
                    FieldName::ParentId => "f-parent-id",
                    FieldName::TraceFlags => "f-flags",
                    FieldName::Rest => "f-rest",
                })
        };
        for (rule, vs) in by_rule(&report.violations) {
            items.push(finding("traceparent", rule, &vs, value, &class_at));
        }
        omitted += report.omitted;
    }
    if let (Some(report), Some(value)) = (&d.tracestate, &d.tracestate_value) {
        // A tracestate has no fields to colour by.
        for (rule, vs) in by_rule(&report.violations) {
            items.push(finding("tracestate", rule, &vs, value, &|_| "f-none"));
        }
        omitted += report.omitted;
    }
    let body = if items.is_empty() {
        view! { <p>"No rule is broken."</p> }.into_any()
    } else {
        view! { <ul class="findings">{items}</ul> }.into_any()
    };
    let more = (omitted > 0).then(|| {
        view! {
            <p>
                {format!(
                    "{} past the report's cap not listed.",
                    count(omitted, "more finding", "more findings"),
                )}
            </p>
        }
    });
    report_section(
        "rules-heading",
        "Rules broken",
        None,
        view! { {body} {more} },
    )
}

/// One rule broken in `header`: its messages, and the header's `value` with
/// the characters each finding points at marked, each mark in the colour
/// class that `class_at` gives for where it starts.
fn finding(
    header: &'static str,
    rule: Rule,
    violations: &[&Violation],
    value: &str,
    class_at: &dyn Fn(usize) -> &'static str,
) -> AnyView {
    let marks = violations
        .iter()
        .map(|v| Mark {
            start: v.start,
            end: v.end,
            class: class_at(v.start),
        })
        .collect();
    let severity = severity_word(rule.severity());
    let icon = match rule.severity() {
        Severity::Error => "✘",
        Severity::Warning => "⚠",
    };
    let messages = violations
        .iter()
        .take(MAX_MESSAGES)
        .map(|v| view! { <li>{display_text(&v.message, 2 * MAX_SHOWN)}</li> })
        .collect_view();
    let more = violations
        .len()
        .checked_sub(MAX_MESSAGES)
        .filter(|&n| n > 0)
        .map(|n| {
            view! { <li>{format!("and {} more", count(n, "place", "places"))}</li> }
        });
    view! {
        <li class=format!("finding {severity}") data-testid="tp-error" data-rule=rule.name()>
            <p class="finding-head">
                <span class="severity">{format!("{icon} {severity}")}</span>
                " "
                <code data-testid="tp-error-rule">{rule.name()}</code>
                " in the "
                <code>{header}</code>
            </p>
            <ul class="messages">{messages} {more}</ul>
            {highlighted(value, marks)}
        </li>
    }
    .into_any()
}

fn tracestate_section(d: &Decoded) -> impl IntoView {
    let body = match (&d.tracestate, &d.tracestate_value) {
        (Some(report), Some(_)) => tracestate_entries(report),
        _ => view! {
            <p>"No tracestate was found. It is optional: vendors use it to carry their own data."</p>
        }
        .into_any(),
    };
    report_section("ts-heading", "tracestate", None, body)
}

/// The tracestate's length, its entries one per row, and what a vendor
/// would drop to fit 512 characters.
fn tracestate_entries(report: &TraceStateReport) -> AnyView {
    let over = report.propagated_len > PROPAGATION_LIMIT;
    let length = format!(
        "Length as propagated: {} of {PROPAGATION_LIMIT} characters{}",
        report.propagated_len,
        if over {
            " — over the limit every vendor must propagate, so a vendor may truncate it."
        } else {
            "."
        }
    );
    let ordinal = |position: usize| report.truncation.iter().position(|&p| p == position);
    let rows = report
        .entries
        .iter()
        .map(|entry| {
            // The header-wide length warning is said once, above the table.
            let mut rules: Vec<(Rule, Severity)> = Vec::new();
            for v in report.violations_of(entry) {
                if v.rule != Rule::TraceStateOverPropagationLimit
                    && !rules.iter().any(|(r, _)| *r == v.rule)
                {
                    rules.push((v.rule, v.severity));
                }
            }
            let status = if rules.is_empty() {
                if entry.valid { "valid" } else { "invalid" }.into_any()
            } else {
                rules
                    .into_iter()
                    .map(|(rule, severity)| {
                        view! {
                            <span class=format!("rule-tag {}", severity_word(severity))>
                                {severity_word(severity)} " " <code>{rule.name()}</code>
                            </span>
                        }
                    })
                    .collect_view()
                    .into_any()
            };
            let dropped = ordinal(entry.position).map(|i| dropped_note(i, "ts-dropped"));
            view! {
                <tr data-testid="ts-entry">
                    <td class="num">{entry.position}</td>
                    <td>
                        <code>{display_text(&entry.key, MAX_SHOWN)}</code>
                    </td>
                    <td>
                        <code>
                            {entry
                                .value
                                .as_deref()
                                .map(|v| display_text(v, MAX_SHOWN))
                                .unwrap_or_else(|| "(no '=')".to_owned())}
                        </code>
                    </td>
                    <td class="num">{entry.len}</td>
                    <td>{status} " " {dropped}</td>
                </tr>
            }
        })
        .collect_view();
    let omitted = (report.entries_omitted > 0).then(|| {
        view! {
            <p>{format!("{} not listed.", count(report.entries_omitted, "more entry", "more entries"))}</p>
        }
    });
    let truncation = truncation_text(report.truncation.iter().copied());
    view! {
        <p data-testid="ts-length" class:over=over>{length}</p>
        <div class="table-scroll">
            <table class="report-table entries">
                <caption>"Entries, leftmost (most recent vendor) first"</caption>
                <thead>
                    <tr>
                        <th scope="col" class="num">"#"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Value"</th>
                        <th scope="col" class="num">"Length"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {omitted}
        <p data-testid="ts-truncation">{truncation}</p>
    }
    .into_any()
}

/// What a vendor truncating the list to 512 characters drops, given the
/// 1-based positions of the entries it drops, in order. Shared with the
/// Build page's editor, so both pages explain the rule in the same words.
pub fn truncation_text(positions: impl Iterator<Item = usize>) -> String {
    let order: Vec<String> = positions.map(|p| p.to_string()).collect();
    if order.is_empty() {
        "It fits: a vendor truncating to 512 characters drops nothing.".to_owned()
    } else {
        format!(
            "To fit 512 characters a vendor drops entries longer than 128 characters first, then from the end: entries {}, in that order.",
            order.join(", ")
        )
    }
}

/// The note on an entry that a vendor truncating the list drops, `order`
/// (0-based) saying when. Shared with the Build page's editor; `test_id`
/// tells the two pages' notes apart.
pub fn dropped_note(order: usize, test_id: &'static str) -> impl IntoView {
    view! {
        <span class="dropped" data-testid=test_id>
            {format!("dropped {} when truncating", nth(order + 1))}
        </span>
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, … `11th`, `21st`.
fn nth(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn decision(d: &Decoded) -> impl IntoView {
    let decision = &d.decision;
    let why = match (&decision.action, &decision.restart_reason) {
        (Action::Continue, _) => {
            "it joins the caller's trace: the same trace-id, its own span as the new parent-id, unknown flags sent as zero.".to_owned()
        }
        (Action::Restart, Some(reason)) => format!("{reason}."),
        (Action::Restart, None) => "it starts a new trace.".to_owned(),
    };
    let traceparent = decision.traceparent.to_header_value();
    // A valid tracestate is at most 32 entries of bounded size, so it is shown
    // whole: this is the exact value to copy.
    let tracestate = decision
        .tracestate
        .as_ref()
        .map(|s| s.header_value().to_owned());
    let note = decision
        .tracestate_note()
        .map(|n| view! { <p data-testid="tp-tracestate-note">{n}</p> });
    report_section(
        "decision-heading",
        "What a receiver does",
        Some("tp-decision"),
        view! {
            <p>
                <strong class="action" data-testid="tp-decision-action">
                    {decision.action.as_str()}
                </strong>
                ": "
                {why}
            </p>
            {note}
            <p>"It sends to the next hop:"</p>
            <dl class="next-hop">
                <dt>"traceparent"</dt>
                <dd>
                    <code data-testid="tp-next-traceparent">{traceparent}</code>
                </dd>
                <dt>"tracestate"</dt>
                <dd>
                    {match tracestate {
                        Some(ts) => view! { <code data-testid="tp-next-tracestate">{ts}</code> }.into_any(),
                        None => "none".into_any(),
                    }}
                </dd>
            </dl>
        },
    )
}
