//! [`Waterfall`]: everything the waterfall component needs about a trace,
//! computed once: the tree, the times, self time, the critical path and the
//! notes (repairs and clock skew).

use crate::layout::{critical_path, self_times, CriticalPath, SpanTimes};
use crate::layout_job::LayoutJob;
use crate::model::Trace;
use crate::skew::{adjust_skew, detect_skew, SkewAdjustment};
use crate::tree::{Note, NoteKind, SpanTree};

/// The laid-out trace. Indices are `span_idx` into the [`Trace`] it was
/// built from; the trace itself is not borrowed, so the app can keep both
/// side by side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Waterfall {
    pub tree: SpanTree,
    /// The times the bars use: as recorded, or shifted in the adjusted view.
    pub times: SpanTimes,
    pub self_time_nanos: Vec<u64>,
    pub critical_path: CriticalPath,
    /// Clock skew as recorded, in span order. The adjusted view keeps these
    /// notes (they describe the data), and lists its shifts in `adjustments`.
    pub skew_notes: Vec<Note>,
    /// What the adjusted view moved; empty in the plain view.
    pub adjustments: Vec<SkewAdjustment>,
    pub is_adjusted: bool,
    /// `times.bounds()` when built, kept: offsets are asked for once per row
    /// drawn, and the bounds take a pass over every span. (A caller that
    /// replaces `times` builds a new `Waterfall` instead.)
    bounds: (u64, u64),
}

impl Waterfall {
    /// The waterfall with times as recorded. The same stages as
    /// [`crate::LayoutJob`] runs a slice at a time, run at once.
    pub fn build(trace: &Trace) -> Waterfall {
        LayoutJob::waterfall(trace)
    }

    /// The opt-in adjusted view: skewed subtrees shifted into their parents,
    /// every shift listed in [`Waterfall::adjustments`].
    pub fn build_adjusted(trace: &Trace) -> Waterfall {
        let tree = SpanTree::build(trace);
        let recorded = SpanTimes::from_trace(trace);
        let skew_notes = detect_skew(trace, &tree, &recorded);
        let adjusted = adjust_skew(trace, &tree, &recorded);
        Waterfall::with_times(tree, adjusted.times, skew_notes, adjusted.adjustments, true)
    }

    fn with_times(
        tree: SpanTree,
        times: SpanTimes,
        skew_notes: Vec<Note>,
        adjustments: Vec<SkewAdjustment>,
        is_adjusted: bool,
    ) -> Waterfall {
        let self_time_nanos = self_times(&tree, &times);
        let critical_path = critical_path(&tree, &times);
        let bounds = times.bounds();
        Waterfall {
            adjustments,
            is_adjusted,
            ..Waterfall::from_parts(
                tree,
                times,
                self_time_nanos,
                critical_path,
                skew_notes,
                bounds,
            )
        }
    }

    /// The plain view from its computed parts (what [`crate::LayoutJob`]
    /// hands over).
    pub(crate) fn from_parts(
        tree: SpanTree,
        times: SpanTimes,
        self_time_nanos: Vec<u64>,
        critical_path: CriticalPath,
        skew_notes: Vec<Note>,
        bounds: (u64, u64),
    ) -> Waterfall {
        Waterfall {
            tree,
            times,
            self_time_nanos,
            critical_path,
            skew_notes,
            adjustments: Vec::new(),
            is_adjusted: false,
            bounds,
        }
    }

    /// The earliest start and the latest end: the extent of the time axis.
    pub fn bounds(&self) -> (u64, u64) {
        self.bounds
    }

    /// Where span `span_idx` starts, in nanoseconds from the trace start.
    pub fn start_offset(&self, span_idx: usize) -> u64 {
        self.times.start(span_idx).saturating_sub(self.bounds.0)
    }

    pub fn self_time(&self, span_idx: usize) -> u64 {
        self.self_time_nanos.get(span_idx).copied().unwrap_or(0)
    }

    /// Every note about span `span_idx`: repairs first, then clock skew.
    pub fn notes_for(&self, span_idx: usize) -> impl Iterator<Item = &Note> + '_ {
        let first = self
            .skew_notes
            .partition_point(|note| note.span_idx < span_idx);
        let skew = self.skew_notes[first..]
            .iter()
            .take_while(move |note| note.span_idx == span_idx);
        self.tree.notes_for(span_idx).chain(skew)
    }

    /// Whether span `span_idx` has a clock-skew note (the `wf-skew` marker).
    pub fn has_skew(&self, span_idx: usize) -> bool {
        self.notes_for(span_idx).any(|note| {
            matches!(
                note.kind,
                NoteKind::StartsBeforeParent { .. } | NoteKind::EndsAfterParent { .. }
            )
        })
    }

    /// The time span `span_idx` and all its descendants cover, in
    /// nanoseconds from the trace start: what a view re-rooted on it shows.
    /// A descendant may start before or end after the span itself (clock
    /// skew, asynchronous work), so this is not the span's own extent.
    pub fn subtree_extent(&self, span_idx: usize) -> (u64, u64) {
        let rows = self.tree.subtree_rows(span_idx);
        let (start, end) = self.tree.rows().skip(rows.start).take(rows.len()).fold(
            (u64::MAX, 0),
            |(start, end), idx| {
                (
                    start.min(self.times.start(idx)),
                    end.max(self.times.end(idx)),
                )
            },
        );
        if start > end {
            return (0, 0);
        }
        (
            start.saturating_sub(self.bounds.0),
            end.saturating_sub(self.bounds.0),
        )
    }

    /// The shift the adjusted view applied to span `span_idx` itself, if any
    /// (its descendants moved with it).
    pub fn adjustment_for(&self, span_idx: usize) -> Option<&SkewAdjustment> {
        self.adjustments
            .iter()
            .find(|adjustment| adjustment.span_idx == span_idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpanKind;
    use crate::tree::tests::{span, trace_of};

    #[test]
    fn subtree_extent_covers_descendants_beyond_the_span() {
        // 1 (1000..1100) has 2 (1010..1050) with a child 3 (1040..1200) that
        // outlives both; 4 (1150..1160) is a sibling of 2, later.
        let trace = trace_of(vec![
            span(1, 0, 1_000, 1_100),
            span(2, 1, 1_010, 1_050),
            span(3, 2, 1_040, 1_200),
            span(4, 1, 1_150, 1_160),
        ]);
        let waterfall = Waterfall::build(&trace);
        assert_eq!(waterfall.subtree_extent(1), (10, 200), "2 and 3");
        assert_eq!(waterfall.subtree_extent(0), (0, 200), "the whole trace");
        assert_eq!(waterfall.subtree_extent(3), (150, 160), "a leaf: itself");
        assert_eq!(waterfall.subtree_extent(99), (0, 0), "no such span");
    }

    #[test]
    fn waterfall_ties_layout_and_notes_together() {
        let mut trace = trace_of(vec![
            span(1, 0, 1_000, 1_100),
            span(2, 1, 950, 1_050),
            span(3, 42, 1_010, 1_020),
        ]);
        trace.spans[0].kind = SpanKind::Client;
        trace.spans[1].kind = SpanKind::Server;
        let plain = Waterfall::build(&trace);
        assert_eq!(plain.bounds(), (950, 1_100));
        assert_eq!(plain.start_offset(0), 50);
        assert!(plain.has_skew(1));
        assert!(!plain.has_skew(2));
        assert_eq!(plain.notes_for(2).count(), 1);
        assert!(plain.adjustments.is_empty());
        assert_eq!(plain.self_time(0), 50);

        let adjusted = Waterfall::build_adjusted(&trace);
        assert!(adjusted.is_adjusted);
        assert!(adjusted.has_skew(1), "the note about the data stays");
        assert_eq!(adjusted.adjustment_for(1).map(|a| a.shift_nanos), Some(50));
        assert_eq!(adjusted.times.start(1), 1_000);
        assert_eq!(adjusted.self_time(0), 0);
    }
}
