//! The `tracestate` editor: entries added, removed, reordered and edited,
//! each checked as the person types, with the list's limits (32 entries,
//! 512 characters) and the truncation order shown.

use leptos::html::Button;
use leptos::prelude::*;
use tracelab_context::tracestate::{MAX_MEMBERS, PROPAGATION_LIMIT};
use tracelab_context::Violation;

use super::state::{Built, Entry, MAX_EDITOR_ENTRIES};
use super::{rule_list, CheckedState};
use crate::pages::decode::report::{dropped_note, truncation_text};
use crate::pages::report_section;

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
            } else {
                truncation_text(c.truncation.iter().map(|i| i + 1))
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
                    on:click=move |_| built.add_fresh_entry()
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
    let violations = Memo::new(move |_| checked.with(|c| c.violations_of(id)));
    let dropped = move || {
        let i = index.get()?;
        let order = checked.with(|c| c.truncation.iter().position(|&t| t == i))?;
        Some(dropped_note(order, "build-ts-dropped"))
    };

    let up_button = NodeRef::<Button>::new();
    let down_button = NodeRef::<Button>::new();
    let errors_id = format!("build-ts-{id}-errors");

    view! {
        <li class="ts-row" data-testid="build-ts-entry">
            <span class="ts-pos num" aria-hidden="true">
                {position}
            </span>
            <div class="ts-inputs">
                {entry_input(EntryPart::Key, id, entry.key, position, violations, errors_id.clone())}
                {entry_input(EntryPart::Value, id, entry.value, position, violations, errors_id.clone())}
            </div>
            <div class="ts-buttons">
                {move_button(built, id, -1, index, position, up_button, down_button)}
                {move_button(built, id, 1, index, position, down_button, up_button)}
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

/// The two halves of a `key=value` entry, each with its own input.
#[derive(Clone, Copy)]
enum EntryPart {
    Key,
    Value,
}

/// One of an entry's inputs with its label: one markup for the key and the
/// value, so the two cannot drift apart. A key rule marks the key input, a
/// value rule the value input; any other (a duplicate key, a stray ',')
/// both.
fn entry_input(
    part: EntryPart,
    entry_id: usize,
    text: RwSignal<String>,
    position: impl Fn() -> usize + Copy + Send + Sync + 'static,
    violations: Memo<Vec<Violation>>,
    errors_id: String,
) -> impl IntoView {
    let (name, test_id, other_rules) = match part {
        EntryPart::Key => ("key", "build-ts-key", "tracestate.value."),
        EntryPart::Value => ("value", "build-ts-value", "tracestate.key."),
    };
    let input_id = format!("build-ts-{entry_id}-{name}");
    let invalid = move || {
        let bad = violations.with(|vs| vs.iter().any(|v| !v.rule.name().starts_with(other_rules)));
        if bad {
            "true"
        } else {
            "false"
        }
    };
    view! {
        <label for=input_id.clone() class="ts-label">
            {move || format!("Entry {} {name}", position())}
        </label>
        <input
            id=input_id
            class="id-input"
            data-testid=test_id
            spellcheck="false"
            autocomplete="off"
            autocapitalize="off"
            aria-invalid=invalid
            aria-describedby=errors_id
            prop:value=move || text.get()
            on:input=move |ev| text.set(event_target_value(&ev))
        />
    }
}

/// The button that moves an entry one place up (`by` -1) or down (`by` 1),
/// disabled where that would take it out of the list: one markup for both.
/// `this` is the button itself, `other` the row's other move button.
fn move_button(
    built: Built,
    id: usize,
    by: isize,
    index: Memo<Option<usize>>,
    position: impl Fn() -> usize + Copy + Send + Sync + 'static,
    this: NodeRef<Button>,
    other: NodeRef<Button>,
) -> impl IntoView {
    let (test_id, word, arrow) = if by < 0 {
        ("build-ts-up", "up", "↑")
    } else {
        ("build-ts-down", "down", "↓")
    };
    let disabled = move || {
        let n = built.entries.with(Vec::len);
        index
            .get()
            .and_then(|i| i.checked_add_signed(by))
            .is_none_or(|to| to >= n)
    };
    view! {
        <button
            type="button"
            class="small-button"
            data-testid=test_id
            node_ref=this
            disabled=disabled
            aria-label=move || format!("Move entry {} {word}", position())
            on:click=move |_| {
                built.move_entry(id, by);
                refocus(this, other);
            }
        >
            {arrow}
        </button>
    }
}

/// Moving a row moves its DOM nodes, and a moved button loses focus: give
/// it back to `first` once the list is redrawn, or to `second` when `first`
/// is now disabled at the end of the list. By the next frame the row may
/// be gone (removed, or the page left), its refs with it: then nothing is
/// focused.
fn refocus(first: NodeRef<Button>, second: NodeRef<Button>) {
    request_animation_frame(move || {
        let target = first
            .try_get_untracked()
            .flatten()
            .filter(|b| !b.disabled())
            .or_else(|| second.try_get_untracked().flatten());
        if let Some(button) = target {
            let _ = button.focus();
        }
    });
}
