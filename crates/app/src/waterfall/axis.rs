//! The time axis above the rows (the column headers, the ticks, the grid
//! lines under the bars), the zoom it shows, and the drag on the axis or
//! the minimap that sets it. Ticks come from `tracelab_trace::axis`.

use leptos::prelude::*;
use tracelab_trace::axis::{format_duration, time_axis, TimeWindow};

use super::{Fixed, ViewState};

/// Ticks on the time axis at most, and the room each label needs: a narrow
/// axis (360 px wide page) gets fewer, so labels never overlap.
const AXIS_TICKS: usize = 5;
const AXIS_PX_PER_TICK: f64 = 72.0;

/// A drag in progress on the time axis or the minimap: where it started
/// and where the pointer is, as fractions of the element's width, and (for
/// a click on the minimap, which scrolls the list there) of its height.
#[derive(Clone, Copy, PartialEq)]
pub(super) struct Drag {
    on_minimap: bool,
    from: f64,
    to: f64,
    y: f64,
}

/// How many ticks fit the axis's measured width.
fn n_ticks(state: ViewState) -> usize {
    let width = state.axis_px.get();
    if width > 0.0 {
        ((width / AXIS_PX_PER_TICK) as usize).clamp(2, AXIS_TICKS)
    } else {
        AXIS_TICKS
    }
}

/// Grid lines under the bars at the ticks: a gradient tile one step wide,
/// shifted to the first tick. A tile of width S shifted by p% moves by
/// p% of (1 - S), hence the division.
pub(super) fn grid_style(state: ViewState) -> String {
    let window = state.time_window.get();
    let axis = time_axis(window.start, window.end, n_ticks(state));
    let step = axis.step_nanos as f64 / window.width();
    let first = axis
        .ticks
        .first()
        .map_or(0.0, |tick| window.percent(tick.offset_nanos) / 100.0);
    let position = if step < 1.0 {
        first / (1.0 - step)
    } else {
        0.0
    };
    format!(
        "--wf-grid-size: {}%; --wf-grid-pos: {}%",
        Fixed(step * 100.0, 4),
        Fixed(position * 100.0, 4)
    )
}

/// "Zoomed to +a … +b" with its reset button, while zoomed.
pub(super) fn zoom_label(state: ViewState) -> impl IntoView {
    let zoom = state.zoom;
    move || {
        zoom.get().map(|window| {
            view! {
                <span class="wf-zoom">
                    "Zoomed to +"
                    {format_duration(window.start)}
                    " … +"
                    {format_duration(window.end)}
                    " "
                    <button
                        type="button"
                        data-testid="wf-zoom-reset"
                        aria-keyshortcuts="0"
                        on:click=move |_| zoom.set(None)
                    >
                        "Reset zoom"
                    </button>
                </span>
            }
        })
    }
}

/// The column headers, read with each cell; the row has no aria-rowindex,
/// so the spans are rows 1 to aria-rowcount.
pub(super) fn header(state: ViewState) -> impl IntoView {
    let ticks = move || {
        let window = state.time_window.get();
        time_axis(window.start, window.end, n_ticks(state))
            .ticks
            .into_iter()
            .map(|tick| {
                let left = window.percent(tick.offset_nanos);
                // Labels near the right edge hang to the left of their tick.
                let class = if left > 80.0 {
                    "wf-tick wf-tick-end"
                } else {
                    "wf-tick"
                };
                view! {
                    <span class=class data-testid="wf-tick" style=format!("left: {}%", Fixed(left, 3))>
                        {tick.label}
                    </span>
                }
            })
            .collect_view()
    };
    view! {
        <div class="wf-axis wf-grid" role="row">
            <span class="wf-head-name" role="columnheader" data-testid="wf-column">"Service · span"</span>
            <span class="wf-num" role="columnheader" data-testid="wf-column">"Duration"</span>
            <span class="wf-num wf-self" role="columnheader" data-testid="wf-column">"Self"</span>
            <span
                class="wf-track wf-axis-track"
                role="columnheader"
                aria-label="Timeline"
                data-testid="wf-axis"
                title="Drag to zoom to a time range"
                node_ref=state.axis_track
                on:pointerdown=move |event| drag_start(state, event, false)
                on:pointermove=move |event| drag_move(state, event)
                on:pointerup=move |_| drag_end(state)
                on:pointercancel=move |_| state.drag.set(None)
                on:dblclick=move |_| state.zoom.set(None)
            >
                {ticks}
                {move || brush(state, false)}
            </span>
        </div>
    }
}

// Drag on the axis or the minimap to zoom to a range (of the zoomed window
// on the axis, of the whole trace on the minimap); a click on the minimap
// scrolls the list to that part of it. One set of handlers serves both,
// which keeps the bundle smaller than two. Pointer capture keeps the drag
// going outside the element; children ignore the pointer (CSS), so offsets
// are always relative to the element.

/// The element dragged on, and where the pointer is on it as fractions of
/// its width and height.
fn point_at(
    state: ViewState,
    event: &leptos::ev::PointerEvent,
    on_minimap: bool,
) -> Option<(web_sys::Element, f64, f64)> {
    let element: web_sys::Element = if on_minimap {
        state.minimap.get_untracked()?.into()
    } else {
        state.axis_track.get_untracked()?.into()
    };
    let (width, height) = (element.client_width(), element.client_height());
    (width > 0 && height > 0).then(|| {
        let x = f64::from(event.offset_x()) / f64::from(width);
        (element, x, f64::from(event.offset_y()) / f64::from(height))
    })
}

pub(super) fn drag_start(state: ViewState, event: leptos::ev::PointerEvent, on_minimap: bool) {
    if event.button() != 0 {
        return;
    }
    if let Some((element, x, y)) = point_at(state, &event, on_minimap) {
        let _ = element.set_pointer_capture(event.pointer_id());
        state.drag.set(Some(Drag {
            on_minimap,
            from: x,
            to: x,
            y,
        }));
    }
}

pub(super) fn drag_move(state: ViewState, event: leptos::ev::PointerEvent) {
    let Some(current) = state.drag.get_untracked() else {
        return;
    };
    if let Some((_, x, _)) = point_at(state, &event, current.on_minimap) {
        state.drag.set(Some(Drag {
            to: x.clamp(0.0, 1.0),
            ..current
        }));
    }
}

pub(super) fn drag_end(state: ViewState) {
    let Some(Drag {
        on_minimap,
        from,
        to,
        y,
    }) = state.drag.get_untracked()
    else {
        return;
    };
    state.drag.set(None);
    // A click, or a drag of a few pixels, is not a range.
    if (to - from).abs() >= 0.01 {
        let window: TimeWindow = if on_minimap {
            state.full_window.get_untracked()
        } else {
            state.time_window.get_untracked()
        };
        state.zoom.set(Some(TimeWindow::new(
            window.offset_at(from.min(to)),
            window.offset_at(from.max(to)),
        )));
    } else if let Some(element) = state.scroller.get_untracked().filter(|_| on_minimap) {
        // Centre the clicked part of the list in the viewport.
        let content = state.scroll_map.get_untracked().content_px();
        let target = y.clamp(0.0, 1.0) * content - f64::from(element.client_height()) / 2.0;
        super::list::scroll_to_content(state, target);
    }
}

/// The range being dragged over, on the axis or the minimap.
pub(super) fn brush(state: ViewState, on_minimap: bool) -> Option<impl IntoView> {
    state
        .drag
        .get()
        .filter(|drag| drag.on_minimap == on_minimap)
        .map(|Drag { from, to, .. }| {
            let (left, right) = (from.min(to), from.max(to));
            view! {
                <span
                    class="wf-brush"
                    style=format!("left: {}%; width: {}%", Fixed(left * 100.0, 3), Fixed((right - left) * 100.0, 3))
                ></span>
            }
        })
}
