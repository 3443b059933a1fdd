//! The minimap of a waterfall: the visible rows in a fixed number of
//! horizontal bands, each the time extent of its share of the rows, so that
//! the minimap costs the same few shapes at any trace size.
//!
//! ```
//! use tracelab_trace::minimap::bands;
//! use tracelab_trace::view::{visible_rows, CollapseState, ViewOptions};
//! use tracelab_trace::{generate, Waterfall};
//!
//! let trace = generate(1_000, 7);
//! let layout = Waterfall::build(&trace);
//! let collapsed = CollapseState::new();
//! let rows = visible_rows(&layout.tree, &ViewOptions { root: None, collapsed: &collapsed, filter: None });
//! let bands = bands(&rows, &layout, 48);
//! assert_eq!(bands.len(), 48);
//! // The first band starts with the root, at the trace's start.
//! assert_eq!(bands[0].start, 0);
//! ```

use std::ops::Range;

use crate::view::VisibleRow;
use crate::waterfall::Waterfall;

/// One band: the earliest start and the latest end among its rows, in
/// nanoseconds from the trace start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Band {
    pub start: u64,
    pub end: u64,
}

/// `rows` cut into `max_bands` bands of (nearly) equal numbers of rows, in
/// order, each with the time its rows cover; fewer bands when there are
/// fewer rows, none for no rows. One pass over the rows.
pub fn bands(rows: &[VisibleRow], layout: &Waterfall, max_bands: usize) -> Vec<Band> {
    let mut bands = empty_bands(rows.len(), max_bands);
    add_rows(&mut bands, rows, 0..rows.len(), layout);
    bands
}

/// The bands of `n_rows` rows before any row is added: [`add_rows`] fills
/// them a range of rows at a time.
pub fn empty_bands(n_rows: usize, max_bands: usize) -> Vec<Band> {
    vec![
        Band {
            start: u64::MAX,
            end: 0,
        };
        max_bands.min(n_rows)
    ]
}

/// Adds the rows at `positions` of `rows` (all the rows, as
/// [`empty_bands`] was told their number) to their bands; positions past
/// the end are ignored.
pub fn add_rows(
    bands: &mut [Band],
    rows: &[VisibleRow],
    positions: Range<usize>,
    layout: &Waterfall,
) {
    let n_bands = bands.len();
    let end = positions.end.min(rows.len());
    let start = positions.start.min(end);
    for (position, row) in rows.iter().enumerate().take(end).skip(start) {
        let band = &mut bands[position * n_bands / rows.len()];
        let start = layout.start_offset(row.span_idx);
        band.start = band.start.min(start);
        band.end = band
            .end
            .max(start.saturating_add(layout.times.duration(row.span_idx)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout_job::LaidOut;
    use crate::tree::tests::{span, trace_of};
    use crate::view::{visible_rows, CollapseState, ViewOptions};

    #[test]
    fn bands_filled_a_range_at_a_time_are_the_bands() {
        let laid_out = LaidOut::from(Waterfall::build(&crate::generate(2_000, 5)));
        let (rows, layout) = (&laid_out.rows, &laid_out.waterfall);
        let mut filled = empty_bands(rows.len(), 48);
        for start in (0..rows.len()).step_by(333) {
            add_rows(&mut filled, rows, start..start + 333, layout);
        }
        assert_eq!(filled, bands(rows, layout, 48));
    }

    #[test]
    fn each_band_covers_its_rows_and_every_row_is_in_one() {
        // Five spans one after another, 10 ns each, 100 ns apart.
        let trace = trace_of(
            (0..5)
                .map(|i| span(i + 1, 0, 1_000 + i * 100, 1_010 + i * 100))
                .collect(),
        );
        let layout = Waterfall::build(&trace);
        let collapsed = CollapseState::new();
        let rows = visible_rows(
            &layout.tree,
            &ViewOptions {
                root: None,
                collapsed: &collapsed,
                filter: None,
            },
        );
        // Two bands: rows 0-2 and 3-4.
        assert_eq!(
            bands(&rows, &layout, 2),
            vec![
                Band { start: 0, end: 210 },
                Band {
                    start: 300,
                    end: 410
                }
            ]
        );
        // More bands than rows: one per row.
        assert_eq!(bands(&rows, &layout, 48).len(), 5);
        assert!(bands(&[], &layout, 48).is_empty());
    }
}
