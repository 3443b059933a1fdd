//! The geometry of a virtual list of fixed-height rows whose full height may
//! exceed what a browser lets one element be (about 17.9 million CSS pixels
//! in Firefox, 33.5 million in Chromium; a million rows of 24 px are 24
//! million). The list's canvas is then capped, and a scroll position maps
//! to a place in the rows by scale instead of one to one: every row stays
//! reachable by scrolling, and the rows around the position are drawn where
//! the viewport shows them.
//!
//! ```
//! use tracelab_trace::scroll::ScrollMap;
//!
//! // A million rows of 24 px in an 800 px viewport, the canvas capped at 15 million px.
//! let map = ScrollMap::new(1_000_000, 24.0, 800.0, 15_000_000.0);
//! assert_eq!(map.canvas_px(), 15_000_000.0);
//! // The bottom of the canvas shows the last rows…
//! let bottom = map.canvas_px() - 800.0;
//! assert_eq!(map.first_row(bottom), 1_000_000 - 800 / 24 - 1);
//! // …and the scroll position that shows a row is found the other way.
//! let at = map.scroll_top_for(500_000.0 * 24.0);
//! assert_eq!(map.first_row(at), 500_000);
//! ```

/// How a scroll position maps to rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScrollMap {
    n_rows: usize,
    row_px: f64,
    viewport_px: f64,
    canvas_px: f64,
}

impl ScrollMap {
    /// `n_rows` rows of `row_px` each, seen through `viewport_px`, in a
    /// canvas no taller than `max_canvas_px`.
    pub fn new(n_rows: usize, row_px: f64, viewport_px: f64, max_canvas_px: f64) -> ScrollMap {
        let row_px = row_px.max(1.0);
        let content = n_rows as f64 * row_px;
        ScrollMap {
            n_rows,
            row_px,
            viewport_px: viewport_px.max(0.0),
            canvas_px: content.min(max_canvas_px.max(row_px)),
        }
    }

    /// The rows' full height.
    pub fn content_px(&self) -> f64 {
        self.n_rows as f64 * self.row_px
    }

    /// How tall the canvas is drawn.
    pub fn canvas_px(&self) -> f64 {
        self.canvas_px
    }

    /// Whether scroll positions are scaled (the rows are taller than the
    /// canvas).
    pub fn is_scaled(&self) -> bool {
        self.canvas_px < self.content_px()
    }

    /// Content pixels per scroll pixel, over the range either can scroll.
    fn scale(&self) -> f64 {
        let scroll_range = self.canvas_px - self.viewport_px;
        let content_range = self.content_px() - self.viewport_px;
        if !self.is_scaled() || scroll_range <= 0.0 || content_range <= 0.0 {
            1.0
        } else {
            content_range / scroll_range
        }
    }

    /// The place in the rows (pixels from the first row's top) shown at the
    /// top of the viewport at scroll position `scroll_top`.
    pub fn content_offset(&self, scroll_top: f64) -> f64 {
        (scroll_top.max(0.0) * self.scale()).min(self.content_px())
    }

    /// The scroll position that shows `content_offset` at the top of the
    /// viewport, as near as the canvas allows.
    pub fn scroll_top_for(&self, content_offset: f64) -> f64 {
        (content_offset.max(0.0) / self.scale()).min((self.canvas_px - self.viewport_px).max(0.0))
    }

    /// The first row at least partly in the viewport at `scroll_top`.
    pub fn first_row(&self, scroll_top: f64) -> usize {
        ((self.content_offset(scroll_top) / self.row_px) as usize)
            .min(self.n_rows.saturating_sub(1))
    }

    /// Where to draw row `position` in the canvas at `scroll_top`, so that
    /// it appears where its place in the rows puts it in the viewport.
    pub fn row_top(&self, position: usize, scroll_top: f64) -> f64 {
        scroll_top.max(0.0) + position as f64 * self.row_px - self.content_offset(scroll_top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_that_fits_maps_one_to_one() {
        let map = ScrollMap::new(100, 24.0, 600.0, 15_000_000.0);
        assert!(!map.is_scaled());
        assert_eq!(map.canvas_px(), 2_400.0);
        assert_eq!(map.content_offset(480.0), 480.0);
        assert_eq!(map.scroll_top_for(480.0), 480.0);
        assert_eq!(map.first_row(480.0), 20);
        assert_eq!(map.row_top(30, 480.0), 720.0);
        // Nothing scrolls past the end.
        assert_eq!(map.scroll_top_for(1e9), 1_800.0);
    }

    #[test]
    fn a_taller_list_scales_and_keeps_every_row_reachable() {
        let (rows, row, viewport) = (1_000_000, 24.0, 800.0);
        let map = ScrollMap::new(rows, row, viewport, 15_000_000.0);
        assert!(map.is_scaled());
        let bottom = map.canvas_px() - viewport;
        // The last scroll position shows the last row at the viewport's foot.
        assert_eq!(map.content_offset(bottom), map.content_px() - viewport);
        let last_top = map.row_top(rows - 1, bottom);
        assert!(
            (last_top + row - (bottom + viewport)).abs() < 1e-6,
            "{last_top}"
        );
        // Every row is the first row at some scroll position, within one
        // pixel of scroll.
        for position in [0, 1, 17, 499_999, 999_966] {
            let at = map.scroll_top_for(position as f64 * row);
            assert_eq!(map.first_row(at), position, "row {position}");
            assert!((map.row_top(position, at) - at).abs() < 1e-6);
        }
    }

    #[test]
    fn degenerate_sizes_do_not_divide_by_zero() {
        let empty = ScrollMap::new(0, 24.0, 800.0, 1_000.0);
        assert_eq!(empty.first_row(100.0), 0);
        assert_eq!(empty.scroll_top_for(100.0), 0.0);
        // A viewport taller than the capped canvas.
        let tall = ScrollMap::new(1_000, 24.0, 5_000.0, 2_000.0);
        assert!(tall.content_offset(10.0).is_finite());
        assert!(tall.scroll_top_for(10.0).is_finite());
    }
}
