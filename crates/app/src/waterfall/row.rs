//! One row of the list: the name column (indent, toggle, service, name,
//! markers), the duration and self time, and the bar on the shared time
//! axis. Everything from the trace goes in as text nodes or attribute
//! values, never as HTML.

use leptos::prelude::*;
use leptos::tachys::html::attribute::custom::custom_attribute;
use tracelab_trace::axis::{format_duration, TimeWindow};
use tracelab_trace::treegrid::TreePosition;
use tracelab_trace::view::VisibleRow;
use tracelab_trace::NoteKind;

use super::{details, list::row_element_id, Fixed, ViewState};

/// What a row element shows, and so when it must be drawn again: the list
/// keys its rows by this.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct RowKey {
    /// Which layout the row was drawn from (`Prepared::generation`).
    pub generation: u64,
    pub position: usize,
    pub row: VisibleRow,
    pub window: TimeWindow,
    pub place: Option<TreePosition>,
}

/// The row for `key`.
pub(super) fn row_view(state: ViewState, key: RowKey) -> AnyView {
    state
        .prepared
        .with_untracked(|prepared| row_of(state, prepared, key))
}

fn row_of(state: ViewState, prepared: &super::Prepared, key: RowKey) -> AnyView {
    let RowKey {
        position,
        row,
        window,
        place,
        ..
    } = key;
    let ViewState {
        instance,
        selected_idx,
        details_open,
        ..
    } = state;
    let span_idx = row.span_idx;
    let Some(span) = prepared.trace.spans.get(span_idx) else {
        return ().into_any();
    };
    let layout = &prepared.layout;
    let service = prepared.trace.service_name(span_idx).to_owned();
    let service_label = service.clone();
    let color_idx = prepared.color_idx(span_idx);
    let duration = layout.times.duration(span_idx);
    let start_offset = prepared.start_offset(span_idx);
    let bar = window.bar(start_offset, start_offset + duration);
    let is_critical = layout.critical_path.contains(span_idx);
    let is_error = span.status.is_error();
    let is_orphan = layout.tree.is_orphan(span_idx);
    // The markers after the name, each a word or symbol and never colour
    // alone: (class, test id, tooltip, text).
    let mut tags: Vec<(&str, Option<&str>, String, &str)> = Vec::new();
    // A match says so in words, not only by its background.
    if row.is_match {
        tags.push((
            "wf-tag wf-tag-match",
            Some("wf-match-marker"),
            "matches the filter".to_owned(),
            "● match",
        ));
    }
    if is_critical {
        tags.push((
            "wf-tag wf-tag-critical",
            None,
            "on the critical path".to_owned(),
            "◆",
        ));
    }
    if is_error {
        tags.push((
            "wf-tag wf-tag-error",
            None,
            "status: error".to_owned(),
            "✖ error",
        ));
    }
    if is_orphan {
        let title = layout
            .tree
            .notes_for(span_idx)
            .find(|note| matches!(note.kind, NoteKind::MissingParent { .. }))
            .map(|note| note.kind.to_string())
            .unwrap_or_else(|| "parent not in the trace".to_owned());
        tags.push(("wf-tag wf-tag-warn", Some("wf-orphan"), title, "orphan"));
    }
    if layout.has_skew(span_idx) {
        let title = layout
            .notes_for(span_idx)
            .filter(|note| {
                matches!(
                    note.kind,
                    NoteKind::StartsBeforeParent { .. } | NoteKind::EndsAfterParent { .. }
                )
            })
            .map(|note| note.kind.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        tags.push(("wf-tag wf-tag-warn", Some("wf-skew"), title, "⚠ skew"));
    }
    if let Some(adjustment) = layout.adjustment_for(span_idx) {
        tags.push((
            "wf-tag wf-tag-warn",
            Some("wf-adjusted"),
            details::describe_adjustment(adjustment),
            "⇄ moved",
        ));
    }
    let name = span.name.to_string();
    let bar_title = format!(
        "{service} · {name}: {} (self {}) at +{}",
        format_duration(duration),
        format_duration(layout.self_time(span_idx)),
        format_duration(start_offset),
    );
    let toggle = if row.has_children {
        view! {
            <button
                type="button"
                class="wf-toggle"
                data-testid="wf-toggle"
                tabindex="-1"
                aria-label=if row.is_collapsed { "Expand" } else { "Collapse" }
                on:click=move |event| {
                    // Toggling is not selecting: the row's own click must not run.
                    event.stop_propagation();
                    state.set_collapsed(span_idx, None);
                }
            >
                {if row.is_collapsed { "▸" } else { "▾" }}
            </button>
        }
        .into_any()
    } else {
        view! { <span class="wf-toggle wf-leaf"></span> }.into_any()
    };
    let is_selected = move || selected_idx.get() == Some(span_idx);

    view! {
        <div
            class="wf-row wf-grid"
            class:wf-critical=is_critical
            class:wf-match=row.is_match
            class:wf-selected=is_selected
            role="row"
            id=row_element_id(instance, span_idx)
            aria-rowindex=(position + 1).to_string()
            aria-setsize=place.map(|place| place.set_size.to_string())
            aria-posinset=place.map(|place| place.pos_in_set.to_string())
            aria-expanded=row.has_children.then(|| (!row.is_collapsed).to_string())
            aria-selected=move || is_selected().to_string()
            data-testid="wf-row"
            data-span-id=span.span_id.to_string()
            data-service=service.clone()
            data-depth=row.depth.to_string()
            data-critical=is_critical.then_some("true")
            data-match=row.is_match.then_some("true")
            data-color=color_idx.to_string()
            style=format!(
                "--wf-depth: {}; --wf-color: var(--wf-svc-{color_idx}); --wf-edge: var(--wf-edge-{color_idx})",
                row.depth,
            )
            on:click=move |_| {
                state.select(span_idx);
                details_open.set(true);
            }
        >
            <span class="wf-name" role="gridcell">
                <span class="wf-indent"></span>
                {toggle}
                <span class="wf-service">{service_label}</span>
                <span class="wf-span-name">{name}</span>
                {tags
                    .into_iter()
                    .map(|(class, testid, title, text)| {
                        view! { <span class=class data-testid=testid title=title>{text}</span> }
                    })
                    .collect_view()}
            </span>
            <span class="wf-num" role="gridcell">{format_duration(duration)}</span>
            <span class="wf-num wf-self" role="gridcell">{format_duration(layout.self_time(span_idx))}</span>
            <span class="wf-track" role="gridcell">
                // Outside a zoomed range the span has no bar.
                {bar.map(|(left, width)| {
                    view! {
                        <span
                            class="wf-bar"
                            data-testid="wf-bar"
                            title=bar_title
                            style=format!("left: {}%; width: {}%", Fixed(left, 4), Fixed(width, 4))
                        ></span>
                    }
                })}
            </span>
        </div>
    }
    // The view macro has no `aria-level`: set by name.
    .add_any_attr(custom_attribute(
        "aria-level",
        place.map(|place| place.level.to_string()),
    ))
    .into_any()
}
