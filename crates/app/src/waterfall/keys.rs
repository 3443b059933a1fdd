//! Keys: what a key does is decided in `tracelab_trace::keys` (a pure "this
//! key at this row does that", tested natively; a key with Ctrl, Cmd or Alt
//! is the browser's); this applies it to the view. `/` and `?` work
//! anywhere on the page, for the active waterfall.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use tracelab_trace::axis::TimeWindow;
use tracelab_trace::keys::{list_key, KeyAction, KeyContext, Modifiers};
use wasm_bindgen::JsCast;

use super::{active, list, ViewState, AXIS_HEIGHT_PX, ROW_HEIGHT_PX};

/// `/` and `?` anywhere on the page (as in DevTools and GitHub), but never
/// while the person is typing in a field, and with several waterfalls on a
/// page only for the active one (see [`active`]). Removed with the
/// waterfall.
pub(super) fn listen_page_keys(state: ViewState) {
    let ViewState {
        help_open,
        filter_input,
        instance,
        ..
    } = state;
    let listener = window_event_listener(leptos::ev::keydown, move |event| {
        if event.default_prevented() || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        if !active::is_active(instance) {
            // Another waterfall's help may be open; Escape still closes this one's.
            if event.key() == "Escape" && help_open.get_untracked() {
                help_open.set(false);
            }
            return;
        }
        let typing = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|element| {
                matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            });
        match event.key().as_str() {
            "/" if !typing => {
                event.prevent_default();
                if let Some(input) = filter_input.get_untracked() {
                    let _ = input.focus();
                    input.select();
                }
            }
            "?" if !typing => help_open.update(|open| *open = !*open),
            "Escape" if help_open.get_untracked() => help_open.set(false),
            _ => {}
        }
    });
    on_cleanup(move || listener.remove());
}

/// A key pressed in the list.
pub(super) fn on_list_key(state: ViewState, event: KeyboardEvent) {
    let modifiers = Modifiers {
        ctrl: event.ctrl_key(),
        meta: event.meta_key(),
        alt: event.alt_key(),
    };
    let action = state.prepared.with_untracked(|prepared| {
        state.rows.with_untracked(|rows| {
            list_key(
                &event.key(),
                modifiers,
                &KeyContext {
                    rows,
                    tree: &prepared.layout.tree,
                    selected: state.selected_position.get_untracked(),
                    page_rows: ((state.viewport_px.get_untracked() - AXIS_HEIGHT_PX)
                        / ROW_HEIGHT_PX)
                        .max(1.0) as usize,
                    zoomed: state.zoom.get_untracked().is_some(),
                    details_open: state.details_open.get_untracked(),
                    help_open: state.help_open.get_untracked(),
                },
            )
        })
    });
    let Some(action) = action else {
        return;
    };
    // The list handles the key: the page must not scroll as well.
    event.prevent_default();
    match action {
        KeyAction::Select(position) => {
            let span_idx = state
                .rows
                .with_untracked(|rows| rows.get(position).map(|row| row.span_idx));
            if let Some(span_idx) = span_idx {
                state.select(span_idx);
                list::scroll_to_position(state, position);
            }
        }
        KeyAction::Collapse(span_idx) => state.set_collapsed(span_idx, Some(true)),
        KeyAction::Expand(span_idx) => state.set_collapsed(span_idx, Some(false)),
        KeyAction::OpenDetails => state.details_open.set(true),
        KeyAction::CloseDetails => state.details_open.set(false),
        KeyAction::ZoomToSelected => {
            let window = state.selected_idx.get_untracked().map(|span_idx| {
                state.prepared.with_untracked(|prepared| {
                    let start = prepared.start_offset(span_idx);
                    let end = start + prepared.layout.times.duration(span_idx);
                    // A margin of a tenth on each side shows where the span
                    // starts and ends.
                    TimeWindow::around(start, end, 10, prepared.full_window().end)
                })
            });
            if window.is_some() {
                state.zoom.set(window);
            }
        }
        KeyAction::ResetZoom => state.zoom.set(None),
        KeyAction::ToggleRoot => {
            let span_idx = state.selected_idx.get_untracked();
            let shown = state.root_idx.get_untracked();
            state.set_root(if shown == span_idx { None } else { span_idx });
        }
    }
}
