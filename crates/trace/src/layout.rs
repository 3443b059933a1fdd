//! Timing over the span tree: the times the layout uses, self time and the
//! critical path. Plain functions over plain arrays, no recursion.

use crate::model::Trace;
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
        SpanTimes {
            start_unix_nanos: trace
                .spans
                .iter()
                .map(|span| span.start_unix_nanos)
                .collect(),
            end_unix_nanos: trace
                .spans
                .iter()
                .map(|span| span.clamped_end_unix_nanos())
                .collect(),
        }
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
        let start = self.start_unix_nanos.iter().copied().min().unwrap_or(0);
        let end = (0..self.len())
            .map(|span_idx| self.end(span_idx))
            .max()
            .unwrap_or(0);
        (start, end.max(start))
    }
}

/// Self time of every span: its duration minus the time covered by the union
/// of its children's intervals, each clipped to the span. A child that
/// outlives its parent (async work, skew) counts only inside the parent, so
/// self time is always within `0..=duration`.
pub fn self_times(tree: &SpanTree, times: &SpanTimes) -> Vec<u64> {
    (0..tree.len())
        .map(|span_idx| {
            let start = times.start(span_idx);
            let end = times.end(span_idx);
            // Children are in start order, so one sweep merges their intervals.
            let mut covered = 0u64;
            let mut covered_until = start;
            for &child_idx in tree.children_raw(span_idx) {
                let child_start = times.start(child_idx as usize).max(covered_until);
                let child_end = times.end(child_idx as usize).min(end);
                if child_end > child_start {
                    covered += child_end - child_start;
                    covered_until = child_end;
                }
            }
            (end - start) - covered
        })
        .collect()
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
    let mut path = CriticalPath {
        segments: Vec::new(),
        on_path: vec![false; tree.len()],
    };
    let mut walker = CriticalWalker::default();
    for root_idx in tree.roots() {
        walker.walk(tree, times, root_idx, &mut path);
    }
    path
}

/// The critical path of the subtree under `root_idx` alone (for a view
/// re-rooted on that span).
pub fn critical_path_from(tree: &SpanTree, times: &SpanTimes, root_idx: usize) -> CriticalPath {
    let mut path = CriticalPath {
        segments: Vec::new(),
        on_path: vec![false; tree.len()],
    };
    if root_idx < tree.len() {
        CriticalWalker::default().walk(tree, times, root_idx, &mut path);
    }
    path
}

/// One span being walked: its interval clipped to its parent's, the cursor
/// walking back from its end, and its children (by end, latest first) in
/// `CriticalWalker::children`.
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

#[derive(Default)]
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
    fn walk(
        &mut self,
        tree: &SpanTree,
        times: &SpanTimes,
        root_idx: usize,
        path: &mut CriticalPath,
    ) {
        self.frames.clear();
        self.children.clear();
        self.segments_backwards.clear();
        self.push_frame(
            tree,
            times,
            root_idx as u32,
            times.start(root_idx),
            times.end(root_idx),
            path,
        );
        while let Some(frame) = self.frames.last_mut() {
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
                self.push_frame(tree, times, child_idx, child_start, child_end, path);
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
    }

    fn push_frame(
        &mut self,
        tree: &SpanTree,
        times: &SpanTimes,
        span_idx: u32,
        start: u64,
        end: u64,
        path: &mut CriticalPath,
    ) {
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
