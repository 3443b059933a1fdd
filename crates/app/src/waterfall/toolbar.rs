//! Above the list: the filter box and the switches, the summary (shown at
//! once, announced once it rests), the notes (zoom, filter words not
//! understood, the link, the subtree shown alone, the adjusted view, no
//! match) and the legend of services.

use leptos::prelude::*;
use tracelab_trace::view::FilterMode;

use super::query::{self, MAX_QUERY_CHARS};
use super::{axis, count_spans, group_thousands, ViewState};

/// How long the summary must stay the same before the screen reader is
/// told it: typing in the filter changes it with every key, and a count
/// read out per keystroke drowns what the person types.
const ANNOUNCE_DELAY_MS: u64 = 1_000;

/// A note above the list (`wf-note`), as text. One function for every
/// note, so that the bundle holds one view of it rather than one per use.
pub(super) fn note_view(testid: Option<&'static str>, text: String) -> AnyView {
    view! { <p class="wf-note" data-testid=testid>{text}</p> }.into_any()
}

/// "10,000 spans", or with a filter "12 of 10,000 spans match · 30 rows
/// shown"; while a large trace is being filtered, how far that got.
fn summary(state: ViewState) -> String {
    if let Some((done, total)) = state.filtering.get() {
        return format!(
            "Filtering… {} of {}",
            group_thousands(done),
            count_spans(total)
        );
    }
    let n_rows = state.rows.with(|rows| rows.len());
    let n_spans = state.prepared.with(|prepared| prepared.trace.spans.len());
    let matched = state
        .matches
        .with(|matches| matches.as_ref().map(|m| m.n_matches()));
    match matched {
        None => count_spans(n_spans),
        Some(n_matches) => format!(
            "{} of {} match · {} shown",
            group_thousands(n_matches),
            count_spans(n_spans),
            if n_rows == 1 {
                "1 row".to_owned()
            } else {
                format!("{} rows", group_thousands(n_rows))
            },
        ),
    }
}

/// The summary as a screen reader hears it: once it has stayed the same for
/// a moment, not at every keystroke in the filter (the visible one follows
/// at once, and is not a live region).
fn announced_summary(state: ViewState) -> RwSignal<String> {
    let announced = RwSignal::new(untrack(|| summary(state)));
    let pending = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |ran_before: Option<()>| {
        let text = summary(state);
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        // The text on load is in the page already, not news.
        if ran_before.is_some() {
            let handle = set_timeout_with_handle(
                move || {
                    if announced.with_untracked(|shown| *shown != text) {
                        announced.set(text);
                    }
                },
                std::time::Duration::from_millis(ANNOUNCE_DELAY_MS),
            )
            .ok();
            pending.set_value(handle);
        }
    });
    on_cleanup(move || {
        if let Some(Some(handle)) = pending.try_get_value() {
            handle.clear();
        }
    });
    announced
}

pub(super) fn toolbar(state: ViewState, link_note: RwSignal<Option<String>>) -> impl IntoView {
    let ViewState {
        query,
        mode,
        adjusted,
        collapsed,
        help_open,
        filter_input,
        parsed,
        prepared,
        rows,
        root_idx,
        ..
    } = state;
    let announced = announced_summary(state);
    // What the filter box could not read, next to it, with the syntax: a
    // word not understood is left out of the filter, never silently
    // matched as text.
    let query_notes = move || {
        parsed.with(|parsed| {
            (!parsed.notes.is_empty()).then(|| {
                note_view(
                    Some("wf-query-note"),
                    format!(
                        "⚠ {} Filter syntax: {}",
                        parsed.notes.join(" "),
                        query::SYNTAX
                    ),
                )
            })
        })
    };
    let empty_note = move || {
        (rows.with(|rows| rows.is_empty()) && !query.with(|text| text.trim().is_empty())).then(
            || {
                note_view(
                    Some("wf-no-match"),
                    format!("No span matches “{}”.", query.get()),
                )
            },
        )
    };
    // The adjusted view is offered only where there is skew to adjust.
    let has_skew = move || prepared.with(|prepared| !prepared.layout.skew_notes.is_empty());
    let adjust_note = move || {
        prepared.with(|prepared| {
            let layout = &prepared.layout;
            layout.is_adjusted.then(|| {
                let n_moved: usize = layout
                    .adjustments
                    .iter()
                    .map(|adjustment| adjustment.n_spans_moved)
                    .sum();
                let text = format!(
                    "Adjusted view: {} shifted to undo clock skew, {} moved in all (rows marked ⇄, and their details, say by how much). Bars are not where the spans were recorded.",
                    match layout.adjustments.len() {
                        1 => "1 subtree".to_owned(),
                        n => format!("{n} subtrees"),
                    },
                    count_spans(n_moved),
                );
                note_view(Some("wf-adjust-note"), format!("⇄ {text}"))
            })
        })
    };
    let root_note = move || {
        let span_idx = root_idx.get()?;
        let text = prepared.with(|prepared| {
            let span = prepared.trace.spans.get(span_idx)?;
            Some(format!(
                "Showing only the subtree of {} · {}: {} of {}.",
                prepared.trace.service_name(span_idx),
                span.name,
                count_spans(prepared.layout.tree.subtree_rows(span_idx).len()),
                count_spans(prepared.trace.spans.len()),
            ))
        })?;
        Some(view! {
            <p class="wf-note" data-testid="wf-root-note">
                {text}
                " "
                <button
                    type="button"
                    data-testid="wf-root-reset"
                    aria-keyshortcuts="r"
                    on:click=move |_| state.set_root(None)
                >
                    "Show the whole trace"
                </button>
            </p>
        })
    };
    let legend = move || {
        prepared.with(|prepared| {
            prepared
                .services
                // A resource no span refers to is no service of this trace.
                .with_spans()
                .map(|service| {
                    let color_idx = service.color_idx;
                    view! {
                        <li
                            data-testid="wf-legend-item"
                            data-color=color_idx.to_string()
                            style=format!("--wf-color: var(--wf-svc-{color_idx}); --wf-edge: var(--wf-edge-{color_idx})")
                        >
                            <span class="wf-swatch" aria-hidden="true"></span>
                            {service.name.clone()}
                            <span class="wf-muted">" " {service.n_spans}</span>
                        </li>
                    }
                })
                .collect_view()
        })
    };

    view! {
        <div class="wf-toolbar">
            <input
                type="search"
                class="wf-filter"
                data-testid="wf-filter"
                node_ref=filter_input
                aria-label="Filter spans"
                placeholder="Filter: name service:db attr:GET error >=10ms -word   ( / )"
                maxlength=MAX_QUERY_CHARS.to_string()
                prop:value=move || query.get()
                on:input=move |event| query.set(event_target_value(&event))
            />
            <label class="wf-switch">
                <input
                    type="checkbox"
                    data-testid="wf-filter-hide"
                    prop:checked=move || mode.get() == FilterMode::Hide
                    on:change=move |event| {
                        mode.set(
                            if event_target_checked(&event) {
                                FilterMode::Hide
                            } else {
                                FilterMode::Highlight
                            },
                        )
                    }
                />
                " Hide non-matching"
            </label>
            {move || has_skew().then(|| view! {
                <label class="wf-switch" title="Shift each skewed subtree into its parent's time; every shift is listed">
                    <input
                        type="checkbox"
                        data-testid="wf-adjust"
                        prop:checked=move || adjusted.get()
                        on:change=move |event| adjusted.set(event_target_checked(&event))
                    />
                    " Adjust clock skew"
                </label>
            })}
            <button type="button" on:click=move |_| collapsed.update(|ids| ids.clear())>
                "Expand all"
            </button>
            <button
                type="button"
                aria-keyshortcuts="?"
                on:click=move |_| help_open.update(|open| *open = !*open)
            >
                "Keys (?)"
            </button>
            <span class="wf-summary" data-testid="wf-summary">
                {move || summary(state)}
            </span>
            <span class="wf-sr-only" role="status" data-testid="wf-announce">
                {move || announced.get()}
            </span>
        </div>
        {axis::zoom_label(state)}
        {query_notes}
        {move || link_note.get().map(|note| note_view(Some("wf-link-note"), format!("⚠ {note}")))}
        {root_note}
        {adjust_note}
        <ul class="wf-legend" aria-label="Services">
            {legend}
            <li class="wf-legend-critical">
                <span class="wf-swatch" aria-hidden="true"></span>
                "◆ critical path"
            </li>
        </ul>
        {empty_note}
    }
}
