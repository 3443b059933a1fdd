//! The minimap above the list: the visible rows in bands
//! (`tracelab_trace::minimap`), each drawn from the earliest start to the
//! latest end among its rows on the whole trace's time axis; over it, the
//! zoomed range and the rows in the viewport. Drag on it to zoom, click to
//! scroll the list there.

use std::fmt::Write;
use std::sync::Arc;

use leptos::prelude::*;
use tracelab_trace::minimap::bands;

use super::{axis, Fixed, ViewState, AXIS_HEIGHT_PX, MINIMAP_BANDS, ROW_HEIGHT_PX};

pub(super) fn minimap(state: ViewState) -> impl IntoView {
    let rows = state.rows;
    let prepared = state.prepared;
    // The plain view's come with the layout (made in its slices).
    let bands = Memo::new(move |_| {
        let rows = rows.get();
        prepared.with(|prepared| {
            if Arc::ptr_eq(&rows, &prepared.plain_rows) {
                prepared.plain_bands.clone()
            } else {
                Arc::new(bands(&rows, &prepared.layout, MINIMAP_BANDS))
            }
        })
    });
    // All the bands as one SVG path, a rectangle each (move to its corner,
    // across, down, back): one element to update instead of one per band.
    let path = move || {
        let full_window = state.full_window.get();
        bands.with(|bands| {
            let n_bands = bands.len() as f64;
            let mut path = String::new();
            for (band_idx, band) in bands.iter().enumerate() {
                let (left, width) = full_window.bar(band.start, band.end).unwrap_or((0.0, 0.0));
                let _ = write!(
                    path,
                    "M{left} {}h{}v{}H{left}z",
                    Fixed(band_idx as f64 / n_bands * 100.0, 3),
                    Fixed(width.max(0.3), 3),
                    Fixed(80.0 / n_bands, 3),
                    left = Fixed(left, 3),
                );
            }
            path
        })
    };
    let viewport = move || {
        let n_rows = rows.with(|rows| rows.len()).max(1) as f64;
        let first = state
            .scroll_map
            .get()
            .content_offset(state.scroll_top.get())
            / ROW_HEIGHT_PX;
        let shown = ((state.viewport_px.get() - AXIS_HEIGHT_PX) / ROW_HEIGHT_PX).max(1.0);
        let zoomed = state.time_window.get();
        let (left, width) = state
            .full_window
            .get()
            .bar(zoomed.start, zoomed.end)
            .unwrap_or((0.0, 100.0));
        view! {
            <div
                class="wf-minimap-zoom"
                style=format!("left: {}%; width: {}%", Fixed(left, 3), Fixed(width, 3))
            ></div>
            <div
                class="wf-minimap-rows"
                style=format!(
                    "top: {}%; height: {}%",
                    Fixed((first / n_rows * 100.0).min(100.0), 3),
                    Fixed((shown / n_rows * 100.0).min(100.0), 3),
                )
            ></div>
        }
    };
    view! {
        <div
            class="wf-minimap"
            data-testid="wf-minimap"
            title="The whole trace: drag to zoom to a time range, click to scroll there"
            node_ref=state.minimap
            on:pointerdown=move |event| axis::drag_start(state, event, true)
            on:pointermove=move |event| axis::drag_move(state, event)
            on:pointerup=move |_| axis::drag_end(state)
            on:pointercancel=move |_| state.drag.set(None)
            on:dblclick=move |_| state.zoom.set(None)
        >
            <svg viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">
                <path d=path />
            </svg>
            {viewport}
            {move || axis::brush(state, true)}
        </div>
    }
}
