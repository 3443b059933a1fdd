//! The virtual list (`wf-scroller`, a treegrid): only the rows inside the
//! viewport plus a few above and below are in the DOM, in a window moved
//! down a canvas as tall as all the rows; the selected row stays in the DOM
//! wherever the list is scrolled (the treegrid's `aria-activedescendant`).
//! Also scrolling a row into view and measuring the list.

use leptos::prelude::*;

use super::{axis, keys, resize, row, Fixed, ViewState, AXIS_HEIGHT_PX, ROW_HEIGHT_PX};

/// Rows rendered beyond each edge of the viewport, so that a fast scroll
/// shows rows already drawn while the next window is built.
const OVERSCAN_ROWS: usize = 10;

/// Scrolls the least needed to show the row at `position` below the sticky
/// axis.
pub(super) fn scroll_to_position(state: ViewState, position: usize) {
    let Some(element) = state.scroller.get_untracked() else {
        return;
    };
    // In the rows' own pixels, then mapped to a scroll position.
    let map = state.scroll_map.get_untracked();
    let current = map.content_offset(f64::from(element.scroll_top()));
    let viewport = f64::from(element.client_height());
    let row_top = position as f64 * ROW_HEIGHT_PX;
    let lowest_top = AXIS_HEIGHT_PX + row_top + ROW_HEIGHT_PX - viewport;
    let target = if current > row_top {
        row_top
    } else if current < lowest_top {
        lowest_top
    } else {
        return;
    };
    scroll_to_content(state, target);
}

/// Scrolls the list so that `content_offset` (pixels from the first row's
/// top) is at the top of the viewport.
pub(super) fn scroll_to_content(state: ViewState, content_offset: f64) {
    let Some(element) = state.scroller.get_untracked() else {
        return;
    };
    let target = state
        .scroll_map
        .get_untracked()
        .scroll_top_for(content_offset);
    element.set_scroll_top(target.round() as i32);
    state.scroll_top.set(f64::from(element.scroll_top()));
}

/// The scroller's height (how many rows to draw) and the axis's width (how
/// many ticks fit).
///
/// Also called from a `ResizeObserver`'s report, which may come after the
/// waterfall is gone: then it does nothing. (Every signal of a
/// [`ViewState`] belongs to the waterfall and goes with it, so the first
/// read tells.)
fn measure(state: ViewState) {
    let Some(scroller) = state.scroller.try_get_untracked() else {
        return;
    };
    if let Some(element) = scroller {
        state.viewport_px.set(f64::from(element.client_height()));
    }
    if let Some(track) = state.axis_track.get_untracked() {
        state.axis_px.set(f64::from(track.client_width()));
    }
}

/// The DOM id of a span's row, which the list's `aria-activedescendant`
/// names: unique on the page with several waterfalls.
pub(super) fn row_element_id(instance: u64, span_idx: usize) -> String {
    format!("wf{instance}-row{span_idx}")
}

/// Brings the selected span into view when the list is at its top (a link
/// that names a span): near the top of the list, with its details.
///
/// Also called in the frame after a link applies, which may come after the
/// waterfall is gone (a link changed twice in a row, as Back then Forward
/// does): then it does nothing, as when the list is not in the page yet.
pub(super) fn bring_selected_into_view(state: ViewState) {
    let ViewState {
        scroller,
        scroll_top,
        selected_position,
        ..
    } = state;
    let Some(Some(element)) = scroller.try_get_untracked() else {
        return;
    };
    if scroll_top.get_untracked() == 0.0 {
        if let Some(position) = selected_position.get_untracked() {
            // Here the size is needed now, to scroll by it.
            measure(state);
            // Near the top of the list, two rows above it for context,
            // and the whole list in the window: the row is then on
            // screen with its details, which sit beside the list as tall
            // as it (wide screens) or over the page's foot (narrow ones).
            scroll_to_content(state, position.saturating_sub(2) as f64 * ROW_HEIGHT_PX);
            element.scroll_into_view_with_bool(false);
            // On narrow screens the details lie over the window's foot
            // (fixed, so they have no offset parent): once the row is
            // drawn, bring it to the window's top, above them.
            request_animation_frame(move || {
                use wasm_bindgen::JsCast;
                let details = element
                    .parent_element()
                    .and_then(|body| body.query_selector(".wf-details").ok().flatten())
                    .map(|details| details.unchecked_into::<web_sys::HtmlElement>());
                if details.is_some_and(|details| details.offset_parent().is_none()) {
                    if let Ok(Some(row)) = element.query_selector(".wf-selected") {
                        row.scroll_into_view_with_bool(true);
                    }
                }
            });
        }
    }
}

pub(super) fn list(state: ViewState) -> impl IntoView {
    let ViewState {
        rows,
        places,
        selected_position,
        selected_idx,
        scroll_top,
        viewport_px,
        scroll_map,
        scroller,
        time_window,
        prepared,
        instance,
        ..
    } = state;
    // The rendered window: a memo, so that scrolling within one row does not
    // touch the DOM.
    let window_range = Memo::new(move |_| {
        let n_rows = rows.with(|rows| rows.len());
        let first_visible = scroll_map.get().first_row(scroll_top.get());
        let n_fit = (viewport_px.get() / ROW_HEIGHT_PX).ceil() as usize;
        let first = first_visible.saturating_sub(OVERSCAN_ROWS).min(n_rows);
        let end = (first_visible + n_fit + OVERSCAN_ROWS).min(n_rows);
        (first, end.max(first))
    });

    // Once the scroller is in the page: bring a span selected by a link
    // into view. (Its size comes from the `ResizeObserver` below, whose
    // first report arrives after the browser's own layout of the new rows:
    // reading the size here would make the browser lay out the whole page
    // an extra time in the middle of mounting it.)
    Effect::new(move |_| {
        if scroller.get().is_some() {
            bring_selected_into_view(state);
        }
    });
    // The scroller is as tall as its rows up to a maximum (waterfall.css),
    // so collapsing, expanding or filtering changes its height: measure it
    // again once the rows are drawn, or a grown scroller would show blank
    // space below the rows rendered for the old height.
    Effect::new(move |ran_before: Option<()>| {
        rows.track();
        // The first rows are measured by the `ResizeObserver`'s first report.
        if ran_before.is_some() {
            measure(state);
        }
    });
    // The scroller's own size, not the window's: a panel beside it, a
    // page's layout or the details opening can change its width alone.
    Effect::new(move |_| {
        let Some(element) = scroller.get() else {
            return;
        };
        match resize::observe_resize(&element, move || measure(state)) {
            Some(observer) => on_cleanup(move || observer.disconnect()),
            // No observer (a browser without one): measure once now.
            None => measure(state),
        }
    });

    // The rows in the window, each with what its element shows; another
    // layout (a new trace, or the adjusted times) draws every row again.
    let window_rows = move || {
        let (first, end) = window_range.get();
        let window = time_window.get();
        let generation = prepared.with(|prepared| prepared.generation);
        places.with(|places| {
            rows.with(|rows| {
                rows[first..end]
                    .iter()
                    .enumerate()
                    .map(|(offset, row)| {
                        let place = places.get(first + offset).copied();
                        row::RowKey {
                            generation,
                            position: first + offset,
                            row: *row,
                            window,
                            place,
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
    };
    // The selected row when it is scrolled out of the window: it stays in
    // the DOM, at its place in the canvas, so that the list's
    // `aria-activedescendant` always names an element and a screen reader
    // can read the selection wherever the list is scrolled.
    let kept_row = Memo::new(move |_| {
        let position = selected_position.get()?;
        let (first, end) = window_range.get();
        if (first..end).contains(&position) {
            return None;
        }
        let row = rows.with(|rows| rows.get(position).copied())?;
        let place = places.with(|places| places.get(position).copied());
        let generation = prepared.with(|prepared| prepared.generation);
        Some(row::RowKey {
            generation,
            position,
            row,
            window: time_window.get(),
            place,
        })
    });

    view! {
        <div
            class="wf-scroller"
            data-testid="wf-scroller"
            role="treegrid"
            aria-label="Trace waterfall"
            aria-rowcount=move || rows.with(|rows| rows.len()).to_string()
            aria-activedescendant=move || {
                selected_position
                    .get()
                    .and(selected_idx.get())
                    .map(|span_idx| row_element_id(instance, span_idx))
            }
            tabindex="0"
            node_ref=scroller
            on:scroll=move |_| {
                if let Some(element) = scroller.get_untracked() {
                    scroll_top.set(f64::from(element.scroll_top()));
                }
            }
            on:keydown=move |event| keys::on_list_key(state, event)
        >
            {axis::header(state)}
            <div
                class="wf-canvas"
                style:height=move || format!("{}px", Fixed(scroll_map.get().canvas_px(), 2))
            >
                <div
                    class="wf-window"
                    style:transform=move || {
                        let top = scroll_map.get().row_top(window_range.get().0, scroll_top.get());
                        format!("translateY({}px)", Fixed(top, 2))
                    }
                >
                    <For
                        each=window_rows
                        key=|key| *key
                        children=move |key| row::row_view(state, key)
                    />
                </div>
                {move || {
                    kept_row.get().map(|key| {
                        // At its own place in the canvas, out of the window's flow.
                        view! {
                            <div
                                class="wf-kept"
                                style:transform=move || {
                                    let top = scroll_map.get().row_top(key.position, scroll_top.get());
                                    format!("translateY({}px)", Fixed(top, 2))
                                }
                            >
                                {row::row_view(state, key)}
                            </div>
                        }
                    })
                }}
            </div>
        </div>
    }
}
