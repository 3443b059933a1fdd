//! Timing over the span tree: the times the layout uses, self time and the
//! critical path. Plain functions over plain arrays, no recursion.

use crate::budget::Budget;
use crate::model::{Span, Trace};
use crate::tree::SpanTree;

/// The start and end of every span, as the layout reads them: an end before
/// the start is raised to the start (the tree notes it), and the adjusted
/// view ([`crate::skew::adjust_skew`]) substitutes shifted times.
///
/// Kept as two arrays rather than read from [`crate::Span`] so the hot loops
/// touch 16 bytes per span instead of a whole span.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanTimes {
    pub start_unix_nanos: Vec<u64>,
    pub end_unix_nanos: Vec<u64>,
}

impl SpanTimes {
    /// The times as recorded, negative durations read as zero.
    pub fn from_trace(trace: &Trace) -> SpanTimes {
        let mut times = SpanTimes::with_capacity(trace.spans.len());
        times.extend_from_spans(&trace.spans);
        times
    }

    pub(crate) fn with_capacity(n_spans: usize) -> SpanTimes {
        SpanTimes {
            start_unix_nanos: Vec::with_capacity(n_spans),
            end_unix_nanos: Vec::with_capacity(n_spans),
        }
    }

    /// Appends the times of `spans`, as [`SpanTimes::from_trace`] reads
    /// them: how a sliced layout reads a trace a slice at a time.
    pub(crate) fn extend_from_spans(&mut self, spans: &[Span]) {
        self.start_unix_nanos
            .extend(spans.iter().map(|span| span.start_unix_nanos));
        self.end_unix_nanos
            .extend(spans.iter().map(|span| span.clamped_end_unix_nanos()));
    }

    pub fn len(&self) -> usize {
        self.start_unix_nanos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.start_unix_nanos.is_empty()
    }

    pub fn start(&self, span_idx: usize) -> u64 {
        self.start_unix_nanos.get(span_idx).copied().unwrap_or(0)
    }

    /// The end, never before the start.
    pub fn end(&self, span_idx: usize) -> u64 {
        let end = self.end_unix_nanos.get(span_idx).copied().unwrap_or(0);
        end.max(self.start(span_idx))
    }

    pub fn duration(&self, span_idx: usize) -> u64 {
        self.end(span_idx) - self.start(span_idx)
    }

    /// The earliest start and latest end over all spans, `(0, 0)` when empty.
    pub fn bounds(&self) -> (u64, u64) {
        let mut bounds = BoundsFold::default();
        bounds.add(self, 0..self.len());
        bounds.finish()
    }
}

/// [`SpanTimes::bounds`] gathered a range of spans at a time.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BoundsFold {
    first_start: Option<u64>,
    last_end: u64,
}

impl BoundsFold {
    /// Takes in the spans `span_range` of `times` (indices past its end are
    /// ignored).
    pub(crate) fn add(&mut self, times: &SpanTimes, span_range: std::ops::Range<usize>) {
        let span_range = span_range.start.min(times.len())..span_range.end.min(times.len());
        let first_start = times.start_unix_nanos[span_range.clone()]
            .iter()
            .copied()
            .min();
        self.first_start = match (self.first_start, first_start) {
            (Some(earlier), Some(start)) => Some(earlier.min(start)),
            (earlier, start) => earlier.or(start),
        };
        let last_end = span_range
            .map(|span_idx| times.end(span_idx))
            .max()
            .unwrap_or(0);
        self.last_end = self.last_end.max(last_end);
    }

    /// The earliest start and latest end, `(0, 0)` when no span was added.
    pub(crate) fn finish(&self) -> (u64, u64) {
        let start = self.first_start.unwrap_or(0);
        (start, self.last_end.max(start))
    }
}

/// Self time of every span: its duration minus the time covered by the union
/// of its children's intervals, each clipped to the span. A child that
/// outlives its parent (async work, skew) counts only inside the parent, so
/// self time is always within `0..=duration`.
pub fn self_times(tree: &SpanTree, times: &SpanTimes) -> Vec<u64> {
    let mut self_time_nanos = Vec::with_capacity(tree.len());
    extend_self_times(tree, times, &mut self_time_nanos, &mut Budget::unlimited());
    self_time_nanos
}

/// [`self_times`] a slice at a time: appends the self time of the spans
/// from `self_time_nanos.len()` on until `budget` is spent; whether every
/// span has its self time. A span costs one unit and one per child; its
/// children are read in one go (a span with more children than the budget
/// goes past it).
pub(crate) fn extend_self_times(
    tree: &SpanTree,
    times: &SpanTimes,
    self_time_nanos: &mut Vec<u64>,
    budget: &mut Budget,
) -> bool {
    let allowed = budget.grant(usize::MAX);
    let mut used = 0;
    while self_time_nanos.len() < tree.len() && used < allowed {
        let span_idx = self_time_nanos.len();
        let start = times.start(span_idx);
        let end = times.end(span_idx);
        let children = tree.children_raw(span_idx);
        // Children are in start order, so one sweep merges their intervals.
        let mut covered = 0u64;
        let mut covered_until = start;
        for &child_idx in children {
            let child_start = times.start(child_idx as usize).max(covered_until);
            let child_end = times.end(child_idx as usize).min(end);
            if child_end > child_start {
                covered += child_end - child_start;
                covered_until = child_end;
            }
        }
        self_time_nanos.push((end - start) - covered);
        used += 1 + children.len();
    }
    budget.refund(allowed.saturating_sub(used));
    budget.take_whole(used.saturating_sub(allowed));
    self_time_nanos.len() == tree.len()
}

/// A stretch of time during which a span is on the critical path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CriticalSegment {
    pub span_idx: usize,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
}

/// The critical path: the work that the end of each root waited on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CriticalPath {
    /// Segments in time order, root after root (roots in start order).
    pub segments: Vec<CriticalSegment>,
    on_path: Vec<bool>,
}

impl CriticalPath {
    /// Whether span `span_idx` is on the path (it may own no segment if its
    /// time is zero).
    pub fn contains(&self, span_idx: usize) -> bool {
        self.on_path.get(span_idx).copied().unwrap_or(false)
    }

    /// The spans on the path, in index order.
    pub fn spans(&self) -> impl Iterator<Item = usize> + '_ {
        self.on_path
            .iter()
            .enumerate()
            .filter(|(_, &on_path)| on_path)
            .map(|(span_idx, _)| span_idx)
    }

    /// Time span `span_idx` spends on the critical path.
    pub fn time_on_path(&self, span_idx: usize) -> u64 {
        self.segments
            .iter()
            .filter(|segment| segment.span_idx == span_idx)
            .map(|segment| segment.end_unix_nanos - segment.start_unix_nanos)
            .sum()
    }

    /// The sum of all segments.
    pub fn total_nanos(&self) -> u64 {
        self.segments
            .iter()
            .map(|segment| segment.end_unix_nanos - segment.start_unix_nanos)
            .sum()
    }
}

/// The critical path of every root of the tree.
pub fn critical_path(tree: &SpanTree, times: &SpanTimes) -> CriticalPath {
    let mut job = CriticalPathJob::new(tree.len());
    // An unlimited budget walks every root in one step.
    while !job.step(tree, times, &mut Budget::unlimited()) {}
    job.finish()
}

/// [`critical_path`] a slice at a time: the roots walked one after another,
/// each walk resumable between any two of its moves.
#[derive(Debug)]
pub(crate) struct CriticalPathJob {
    path: CriticalPath,
    walker: CriticalWalker,
    /// The next root to walk, in [`SpanTree::roots`] order.
    next_root: usize,
    /// Whether a walk is under way in `walker`.
    walking: bool,
    /// Units spent so far (for progress).
    units: usize,
}

impl CriticalPathJob {
    pub(crate) fn new(n_spans: usize) -> CriticalPathJob {
        CriticalPathJob {
            path: CriticalPath {
                segments: Vec::new(),
                on_path: vec![false; n_spans],
            },
            walker: CriticalWalker::default(),
            next_root: 0,
            walking: false,
            units: 0,
        }
    }

    /// Walks on until `budget` is spent; whether every root is walked. A
    /// move costs one unit; entering a span costs one and one per child,
    /// its children gathered and sorted in one go (a span with more
    /// children than the budget goes past it).
    pub(crate) fn step(&mut self, tree: &SpanTree, times: &SpanTimes, budget: &mut Budget) -> bool {
        let spent_before = budget.spent();
        let finished = loop {
            if self.walking {
                if !self.walker.advance(tree, times, &mut self.path, budget) {
                    break false;
                }
                self.walking = false;
            }
            let Some(&root_idx) = tree.roots_raw().get(self.next_root) else {
                break true;
            };
            if budget.is_spent() {
                break false;
            }
            self.next_root += 1;
            self.walker
                .start(tree, times, root_idx as usize, &mut self.path, budget);
            self.walking = true;
        };
        self.units = self
            .units
            .saturating_add(budget.spent().saturating_sub(spent_before));
        finished
    }

    /// Units spent so far.
    pub(crate) fn units(&self) -> usize {
        self.units
    }

    pub(crate) fn finish(self) -> CriticalPath {
        self.path
    }
}

/// The critical path of the subtree under `root_idx` alone (for a view
/// re-rooted on that span).
pub fn critical_path_from(tree: &SpanTree, times: &SpanTimes, root_idx: usize) -> CriticalPath {
    let mut path = CriticalPath {
        segments: Vec::new(),
        on_path: vec![false; tree.len()],
    };
    if root_idx < tree.len() {
        let mut walker = CriticalWalker::default();
        walker.start(tree, times, root_idx, &mut path, &mut Budget::unlimited());
        while !walker.advance(tree, times, &mut path, &mut Budget::unlimited()) {}
    }
    path
}

/// One span being walked: its interval clipped to its parent's, the cursor
/// walking back from its end, and its children (by end, latest first) in
/// `CriticalWalker::children`.
#[derive(Debug)]
struct Frame {
    span_idx: u32,
    start: u64,
    cursor: u64,
    children_start: usize,
    next_child: usize,
    children_end: usize,
}

/// A child clipped to its parent: (end, start, span_idx).
type ClippedChild = (u64, u64, u32);

#[derive(Debug, Default)]
struct CriticalWalker {
    frames: Vec<Frame>,
    /// The children of every frame on the stack, each frame's after its
    /// parent's, so popping a frame truncates this back.
    children: Vec<ClippedChild>,
    segments_backwards: Vec<CriticalSegment>,
}

impl CriticalWalker {
    /// The classic algorithm (as in Jaeger UI), with explicit stacks: from the
    /// root's end, walk back; the last-finishing child that ends by the cursor
    /// is what the span waited on, so it is on the path, its own path is
    /// walked the same way, and the cursor moves to its start. Children that
    /// end after the cursor ran in parallel with one already chosen. Time
    /// between chosen children belongs to the span itself.
    ///
    /// `start` begins the walk from `root_idx`; `advance` makes its moves.
    fn start(
        &mut self,
        tree: &SpanTree,
        times: &SpanTimes,
        root_idx: usize,
        path: &mut CriticalPath,
        budget: &mut Budget,
    ) {
        self.frames.clear();
        self.children.clear();
        self.segments_backwards.clear();
        let n_children = self.push_frame(
            tree,
            times,
            root_idx as u32,
            times.start(root_idx),
            times.end(root_idx),
            path,
        );
        budget.take_whole(1 + n_children);
    }

    /// Moves on until `budget` is spent; whether the walk is over (its
    /// segments are then in `path`).
    fn advance(
        &mut self,
        tree: &SpanTree,
        times: &SpanTimes,
        path: &mut CriticalPath,
        budget: &mut Budget,
    ) -> bool {
        let allowed = budget.grant(usize::MAX);
        let mut used = 0;
        while let Some(frame) = self.frames.last_mut() {
            if used >= allowed {
                budget.take_whole(used - allowed);
                return false;
            }
            used += 1;
            while frame.next_child < frame.children_end
                && self.children[frame.next_child].0 > frame.cursor
            {
                frame.next_child += 1;
            }
            if frame.next_child < frame.children_end {
                let (child_end, child_start, child_idx) = self.children[frame.next_child];
                frame.next_child += 1;
                if child_end < frame.cursor {
                    self.segments_backwards.push(CriticalSegment {
                        span_idx: frame.span_idx as usize,
                        start_unix_nanos: child_end,
                        end_unix_nanos: frame.cursor,
                    });
                }
                frame.cursor = child_start;
                used += self.push_frame(tree, times, child_idx, child_start, child_end, path);
            } else {
                if frame.start < frame.cursor {
                    self.segments_backwards.push(CriticalSegment {
                        span_idx: frame.span_idx as usize,
                        start_unix_nanos: frame.start,
                        end_unix_nanos: frame.cursor,
                    });
                }
                let children_start = frame.children_start;
                self.frames.pop();
                self.children.truncate(children_start);
            }
        }
        path.segments
            .extend(self.segments_backwards.drain(..).rev());
        budget.refund(allowed.saturating_sub(used));
        budget.take_whole(used.saturating_sub(allowed));
        true
    }

    /// Enters span `span_idx` (clipped to `start..end`); how many children it
    /// has.
    fn push_frame(
        &mut self,
        tree: &SpanTree,
        times: &SpanTimes,
        span_idx: u32,
        start: u64,
        end: u64,
        path: &mut CriticalPath,
    ) -> usize {
        path.on_path[span_idx as usize] = true;
        let children_start = self.children.len();
        // Clip children to this span, as Jaeger does: a child that outlives
        // its parent (async, skew) only counts while the parent runs, and one
        // wholly outside it is not something the parent waited on.
        for &child_idx in tree.children_raw(span_idx as usize) {
            let child_start = times.start(child_idx as usize);
            let child_end = times.end(child_idx as usize);
            if child_start > end || child_end < start {
                continue;
            }
            self.children
                .push((child_end.min(end), child_start.max(start), child_idx));
        }
        // Latest end first; on a tie the longer child (earlier start) covers
        // more of what the parent waited for.
        self.children[children_start..]
            .sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        self.frames.push(Frame {
            span_idx,
            start,
            cursor: end,
            children_start,
            next_child: children_start,
            children_end: self.children.len(),
        });
        tree.children_raw(span_idx as usize).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::tests::{span, trace_of};

    fn layout(spans: Vec<crate::Span>) -> (SpanTree, SpanTimes) {
        let trace = trace_of(spans);
        (SpanTree::build(&trace), SpanTimes::from_trace(&trace))
    }

    #[test]
    fn self_time_subtracts_the_union_of_children() {
        // Children 10..40 and 30..50 overlap: together they cover 10..50.
        let (tree, times) = layout(vec![
            span(1, 0, 0, 100),
            span(2, 1, 10, 40),
            span(3, 1, 30, 50),
        ]);
        assert_eq!(self_times(&tree, &times), vec![60, 30, 20]);
    }

    #[test]
    fn self_time_clips_children_that_outlive_the_parent() {
        let (tree, times) = layout(vec![span(1, 0, 0, 100), span(2, 1, 80, 300)]);
        assert_eq!(self_times(&tree, &times)[0], 80);
    }

    #[test]
    fn self_time_of_a_negative_duration_is_zero() {
        let (tree, times) = layout(vec![span(1, 0, 100, 50)]);
        assert_eq!(self_times(&tree, &times), vec![0]);
        assert_eq!(times.duration(0), 0);
    }

    #[test]
    fn critical_path_follows_the_last_finishing_child() {
        // Root 0..100 calls A (10..40) and, in parallel, B (10..60); then C (70..90).
        // The root waited on C, then on B (A ran in parallel with B).
        let (tree, times) = layout(vec![
            span(1, 0, 0, 100),
            span(2, 1, 10, 40),
            span(3, 1, 10, 60),
            span(4, 1, 70, 90),
            span(5, 3, 20, 50),
        ]);
        let path = critical_path(&tree, &times);
        let segments: Vec<(usize, u64, u64)> = path
            .segments
            .iter()
            .map(|s| (s.span_idx, s.start_unix_nanos, s.end_unix_nanos))
            .collect();
        assert_eq!(
            segments,
            vec![
                (0, 0, 10),
                (2, 10, 20),
                (4, 20, 50),
                (2, 50, 60),
                (0, 60, 70),
                (3, 70, 90),
                (0, 90, 100)
            ]
        );
        assert!(!path.contains(1));
        assert_eq!(path.total_nanos(), 100);
        assert_eq!(path.time_on_path(0), 30);
    }

    #[test]
    fn critical_path_clips_a_child_that_outlives_its_parent() {
        let (tree, times) = layout(vec![span(1, 0, 0, 100), span(2, 1, 50, 500)]);
        let path = critical_path(&tree, &times);
        assert_eq!(path.total_nanos(), 100);
        assert_eq!(path.time_on_path(1), 50);
    }

    #[test]
    fn critical_path_covers_every_root() {
        let (tree, times) = layout(vec![span(1, 0, 0, 10), span(2, 77, 20, 30)]);
        let path = critical_path(&tree, &times);
        assert!(path.contains(0) && path.contains(1));
        let only_second = critical_path_from(&tree, &times, 1);
        assert_eq!(only_second.spans().collect::<Vec<_>>(), vec![1]);
        assert_eq!(critical_path_from(&tree, &times, 99).total_nanos(), 0);
    }

    #[test]
    fn critical_path_of_a_deep_chain_does_not_overflow_the_stack() {
        let n_spans = 100_000u64;
        let spans = (1..=n_spans)
            .map(|id| span(id, id - 1, id, 3 * n_spans - id))
            .collect();
        let (tree, times) = layout(spans);
        let path = critical_path(&tree, &times);
        assert_eq!(path.spans().count(), n_spans as usize);
        assert_eq!(path.total_nanos(), times.duration(0));
    }
}
