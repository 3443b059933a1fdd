//! The `tracestate` editor: entries added, removed, reordered and edited,
//! each checked as the person types, with the list's limits (32 entries,
//! 512 characters) and the truncation order shown.

use leptos::html::Button;
use leptos::prelude::*;
use tracelab_context::tracestate::{MAX_MEMBERS, PROPAGATION_LIMIT};

use super::state::{Built, Entry, MAX_EDITOR_ENTRIES};
use super::{rule_list, CheckedState};
use crate::pages::report_section;

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

#[component]
pub fn TraceStateEditor(built: Built, checked: Memo<CheckedState>) -> impl IntoView {
    let add_button = NodeRef::<Button>::new();
    let count = move || built.entries.with(Vec::len);
    let full = move || count() >= MAX_EDITOR_ENTRIES;

    let summary = move || {
        checked.with(|c| {
            let n = c.ranges.len();
            let len = c.report.as_ref().map_or(0, |r| r.propagated_len);
            let over_count = n > MAX_MEMBERS;
            let over_len = len > PROPAGATION_LIMIT;
            let count_text = format!(
                "{n} of at most {MAX_MEMBERS} entries{}",
                if over_count {
                    " — too many: the header is invalid and a receiver drops it."
                } else {
                    "."
                }
            );
            let length_text = format!(
                "Combined length: {len} of {PROPAGATION_LIMIT} characters{}",
                if over_len {
                    " — over the length every vendor must pass on, so a vendor may truncate it."
                } else {
                    "."
                }
            );
            let truncation_text = if n == 0 {
                "No entries: no tracestate header is sent.".to_owned()
            } else if !c.is_valid() {
                "Fix the rules broken to see what a vendor would drop to fit 512 characters."
                    .to_owned()
            } else if c.truncation.is_empty() {
                "It fits: a vendor truncating to 512 characters drops nothing.".to_owned()
            } else {
                let order: Vec<String> = c.truncation.iter().map(|i| (i + 1).to_string()).collect();
                format!(
                    "To fit 512 characters a vendor drops entries longer than 128 characters first, then from the end: entries {}, in that order.",
                    order.join(", ")
                )
            };
            view! {
                <p data-testid="build-ts-count" class:over=over_count>
                    {count_text}
                </p>
                <p data-testid="build-ts-length" class:over=over_len>
                    {length_text}
                </p>
                <p data-testid="build-ts-truncation">{truncation_text}</p>
                {rule_list(c.list_violations(), "build-ts-list-errors".to_owned(), "build-ts-list-errors")}
            }
        })
    };

    report_section(
        "build-ts-heading",
        "tracestate",
        None,
        view! {
            <p class="muted">
                "Optional: each vendor keeps one " <code>"key=value"</code>
                " entry; the leftmost is the one that wrote the current traceparent."
            </p>
            <ol class="ts-rows">
                <For
                    each=move || built.entries.get()
                    key=|entry| entry.id
                    children=move |entry| view! { <EntryRow built checked entry add_button /> }
                />
            </ol>
            <div class="build-actions">
                <button
                    type="button"
                    class="small-button"
                    data-testid="build-ts-add"
                    node_ref=add_button
                    disabled=full
                    on:click=move |_| {
                        let n = built.entries.with(Vec::len);
                        built.add_entry(&format!("vendor{}", n + 1), "value");
                    }
                >
                    "Add entry"
                </button>
                {move || {
                    full()
                        .then(|| {
                            view! {
                                <span class="muted">
                                    {format!(
                                        "The editor keeps at most {MAX_EDITOR_ENTRIES} entries.",
                                    )}
                                </span>
                            }
                        })
                }}
            </div>
            // Not a live region: the length changes with every keystroke, and
            // announcing it each time would drown what the person types.
            <div>{summary}</div>
        },
    )
}

#[component]
fn EntryRow(
    built: Built,
    checked: Memo<CheckedState>,
    entry: Entry,
    add_button: NodeRef<Button>,
) -> impl IntoView {
    let id = entry.id;
    let index = Memo::new(move |_| {
        built
            .entries
            .with(|entries| entries.iter().position(|e| e.id == id))
    });
    let position = move || index.get().map_or(0, |i| i + 1);
    let is_first = move || index.get() == Some(0);
    let is_last = move || {
        let n = built.entries.with(Vec::len);
        index.get().is_none_or(|i| i + 1 >= n)
    };
    let violations = Memo::new(move |_| checked.with(|c| c.violations_of(id)));
    // A key rule marks the key input, a value rule the value input; any
    // other (a duplicate key, a stray ',') both.
    let invalid = move |not_this: &'static str| {
        move || {
            let bad = violations.with(|vs| vs.iter().any(|v| !v.rule.name().starts_with(not_this)));
            if bad {
                "true"
            } else {
                "false"
            }
        }
    };
    let dropped = move || {
        let i = index.get()?;
        let order = checked.with(|c| c.truncation.iter().position(|&t| t == i))?;
        Some(view! {
            <span class="dropped" data-testid="build-ts-dropped">
                {format!("dropped {} when truncating", nth(order + 1))}
            </span>
        })
    };

    let up_button = NodeRef::<Button>::new();
    let down_button = NodeRef::<Button>::new();
    // Moving a row moves its DOM nodes, and a moved button loses focus:
    // give it back once the list is redrawn, or to the other button when
    // this one is now disabled at the end of the list.
    let refocus = move |first: NodeRef<Button>, second: NodeRef<Button>| {
        request_animation_frame(move || {
            let target = first
                .get_untracked()
                .filter(|b| !b.disabled())
                .or_else(|| second.get_untracked());
            if let Some(button) = target {
                let _ = button.focus();
            }
        });
    };
    let key_id = format!("build-ts-{id}-key");
    let value_id = format!("build-ts-{id}-value");
    let errors_id = format!("build-ts-{id}-errors");

    view! {
        <li class="ts-row" data-testid="build-ts-entry">
            <span class="ts-pos num" aria-hidden="true">
                {position}
            </span>
            <div class="ts-inputs">
                <label for=key_id.clone() class="ts-label">
                    {move || format!("Entry {} key", position())}
                </label>
                <input
                    id=key_id
                    class="id-input"
                    data-testid="build-ts-key"
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="off"
                    aria-invalid=invalid("tracestate.value.")
                    aria-describedby=errors_id.clone()
                    prop:value=move || entry.key.get()
                    on:input=move |ev| entry.key.set(event_target_value(&ev))
                />
                <label for=value_id.clone() class="ts-label">
                    {move || format!("Entry {} value", position())}
                </label>
                <input
                    id=value_id
                    class="id-input"
                    data-testid="build-ts-value"
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="off"
                    aria-invalid=invalid("tracestate.key.")
                    aria-describedby=errors_id.clone()
                    prop:value=move || entry.value.get()
                    on:input=move |ev| entry.value.set(event_target_value(&ev))
                />
            </div>
            <div class="ts-buttons">
                <button
                    type="button"
                    class="small-button"
                    data-testid="build-ts-up"
                    node_ref=up_button
                    disabled=is_first
                    aria-label=move || format!("Move entry {} up", position())
                    on:click=move |_| {
                        built.move_entry(id, -1);
                        refocus(up_button, down_button);
                    }
                >
                    "↑"
                </button>
                <button
                    type="button"
                    class="small-button"
                    data-testid="build-ts-down"
                    node_ref=down_button
                    disabled=is_last
                    aria-label=move || format!("Move entry {} down", position())
                    on:click=move |_| {
                        built.move_entry(id, 1);
                        refocus(down_button, up_button);
                    }
                >
                    "↓"
                </button>
                <button
                    type="button"
                    class="small-button"
                    data-testid="build-ts-remove"
                    aria-label=move || format!("Remove entry {}", position())
                    on:click=move |_| {
                        built.remove_entry(id);
                        // The row and its focused button are gone.
                        if let Some(button) = add_button.get_untracked() {
                            let _ = button.focus();
                        }
                    }
                >
                    "✕"
                </button>
            </div>
            <div class="ts-status">
                {dropped}
                {move || violations.get().is_empty().then(|| view! { <span class="ok">"✔ valid"</span> })}
                {move || rule_list(violations.get(), errors_id.clone(), "build-ts-errors")}
            </div>
        </li>
    }
}
