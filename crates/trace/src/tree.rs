//! The span tree: spans linked to their parents, in the order a waterfall
//! shows them, with every repair the input needed written down as a [`Note`].
//!
//! Built in passes, as Jaeger UI does (`transform-trace-data.ts`), but without
//! touching the input trace and without recursion, so a 100,000-deep chain
//! cannot overflow the stack:
//! 1. index spans by id (a duplicate id keeps its row; its children attach to
//!    the first span with that id);
//! 2. link parents (a missing parent makes the span an orphan root);
//! 3. break parent cycles (the earliest span of a cycle becomes a root);
//! 4. sort children and roots by start time;
//! 5. walk depth-first, pre-order, setting depth and the row order.

use std::collections::HashMap;
use std::fmt;

use crate::model::{BuildSpanIdHasher, SpanId, Trace};

/// Something the layout noticed or repaired, always tied to a span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub span_idx: usize,
    pub kind: NoteKind,
}

/// What a [`Note`] says. Every repair the layout makes has a kind here, so
/// nothing is changed silently.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteKind {
    /// The span's parent id names no span in the trace; the span is shown as
    /// a root (an orphan).
    MissingParent { parent_span_id: SpanId },
    /// The span's id was already used by `first_span_idx`; both are shown,
    /// and children with this parent id attach to the first.
    DuplicateSpanId {
        span_id: SpanId,
        first_span_idx: usize,
    },
    /// The span's parent links formed a cycle of `cycle_len` spans; the link
    /// from this span (the earliest in the cycle) to `former_parent_idx` was
    /// ignored and the span shown as a root.
    CycleBroken {
        former_parent_idx: usize,
        cycle_len: usize,
    },
    /// The span ends before it starts; it is shown with a zero duration.
    NegativeDuration { by_nanos: u64 },
    /// Clock skew: the span starts `by_nanos` before its parent.
    StartsBeforeParent { by_nanos: u64 },
    /// Clock skew: a synchronous span ends `by_nanos` after its parent.
    EndsAfterParent { by_nanos: u64 },
}

impl fmt::Display for NoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoteKind::MissingParent { parent_span_id } => write!(
                f,
                "parent span {parent_span_id} is not in the trace; shown as a root"
            ),
            NoteKind::DuplicateSpanId {
                span_id,
                first_span_idx,
            } => write!(
                f,
                "span id {span_id} is also used by span #{first_span_idx}; its children are attached to that one"
            ),
            NoteKind::CycleBroken {
                former_parent_idx,
                cycle_len,
            } => write!(
                f,
                "parent links form a cycle of {cycle_len} spans; the link to span #{former_parent_idx} was ignored and this span shown as a root"
            ),
            NoteKind::NegativeDuration { by_nanos } => write!(
                f,
                "ends {} before it starts; shown with zero duration",
                crate::axis::format_duration(*by_nanos)
            ),
            NoteKind::StartsBeforeParent { by_nanos } => write!(
                f,
                "clock skew: starts {} before its parent",
                crate::axis::format_duration(*by_nanos)
            ),
            NoteKind::EndsAfterParent { by_nanos } => write!(
                f,
                "clock skew: ends {} after its parent, which waits for it",
                crate::axis::format_duration(*by_nanos)
            ),
        }
    }
}

/// Sentinel for "no parent" in the compact parent array.
const NO_PARENT: u32 = u32::MAX;

const FLAG_ORPHAN: u8 = 1;
const FLAG_DUPLICATE: u8 = 2;
const FLAG_CYCLE_BROKEN: u8 = 4;

/// The spans of a trace as a forest, in waterfall order.
///
/// Indices are `span_idx` (a position in [`Trace::spans`]) or `row`
/// (a position in [`SpanTree::rows`]). Arrays are `u32` so that the tree of a
/// 100,000-span trace stays a few megabytes.
#[derive(Clone, Debug, Default)]
pub struct SpanTree {
    parent: Vec<u32>,
    /// Children of span `i` are `child_list[child_offsets[i]..child_offsets[i + 1]]`,
    /// in start order.
    child_offsets: Vec<u32>,
    child_list: Vec<u32>,
    roots: Vec<u32>,
    depth: Vec<u32>,
    rows: Vec<u32>,
    row_of: Vec<u32>,
    /// The row just past the last descendant of each span.
    subtree_end_row: Vec<u32>,
    flags: Vec<u8>,
    notes: Vec<Note>,
    /// The span that owns each id (the first with it, see pass 1): how a
    /// view kept by span id (a link, a selection that outlives a new
    /// trace) finds its span without a pass over every span.
    index_of: HashMap<SpanId, u32, BuildSpanIdHasher>,
}

impl SpanTree {
    /// Builds the tree of `trace`. Never panics; every repair is a note.
    pub fn build(trace: &Trace) -> SpanTree {
        let spans = &trace.spans;
        let n_spans = spans.len();
        let mut notes = Vec::new();
        let mut flags = vec![0u8; n_spans];

        // Pass 1: index by id. The first span with an id owns it, so that a
        // duplicate (a Zipkin shared span, a re-sent batch) cannot steal the
        // children of the span exported first.
        let mut index_of: HashMap<SpanId, u32, BuildSpanIdHasher> =
            HashMap::with_capacity_and_hasher(n_spans, BuildSpanIdHasher::default());
        for (span_idx, span) in spans.iter().enumerate() {
            if let Some(&first_span_idx) = index_of.get(&span.span_id) {
                flags[span_idx] |= FLAG_DUPLICATE;
                notes.push(Note {
                    span_idx,
                    kind: NoteKind::DuplicateSpanId {
                        span_id: span.span_id,
                        first_span_idx: first_span_idx as usize,
                    },
                });
            } else {
                index_of.insert(span.span_id, span_idx as u32);
            }
            if span.end_unix_nanos < span.start_unix_nanos {
                notes.push(Note {
                    span_idx,
                    kind: NoteKind::NegativeDuration {
                        by_nanos: span.start_unix_nanos - span.end_unix_nanos,
                    },
                });
            }
        }

        // Pass 2: link parents. A zero parent id means "root" for exporters
        // that write zeros instead of leaving the field out.
        let mut parent = vec![NO_PARENT; n_spans];
        for (span_idx, span) in spans.iter().enumerate() {
            let Some(parent_span_id) = span.parent_span_id else {
                continue;
            };
            if parent_span_id.is_zero() {
                continue;
            }
            match index_of.get(&parent_span_id) {
                Some(&parent_idx) => parent[span_idx] = parent_idx,
                None => {
                    flags[span_idx] |= FLAG_ORPHAN;
                    notes.push(Note {
                        span_idx,
                        kind: NoteKind::MissingParent { parent_span_id },
                    });
                }
            }
        }

        // Pass 3: break cycles. Each span has at most one parent, so a walk up
        // from any span either reaches a root, a span already known to reach
        // one, or comes back onto its own path: a cycle.
        break_cycles(trace, &mut parent, &mut flags, &mut notes);

        // Pass 4: children in compressed rows, each list in start order.
        let mut child_offsets = vec![0u32; n_spans + 1];
        for &parent_idx in &parent {
            if parent_idx != NO_PARENT {
                child_offsets[parent_idx as usize + 1] += 1;
            }
        }
        for span_idx in 0..n_spans {
            child_offsets[span_idx + 1] += child_offsets[span_idx];
        }
        let mut fill = child_offsets.clone();
        let mut child_list = vec![0u32; child_offsets[n_spans] as usize];
        let mut roots = Vec::new();
        for (span_idx, &parent_idx) in parent.iter().enumerate() {
            if parent_idx == NO_PARENT {
                roots.push(span_idx as u32);
            } else {
                let slot = &mut fill[parent_idx as usize];
                child_list[*slot as usize] = span_idx as u32;
                *slot += 1;
            }
        }
        // Ties in start time keep the input order, so the layout is stable.
        // Start times gathered into one array: sorting reads them often, and
        // a whole span per read would miss the cache.
        let starts: Vec<u64> = spans.iter().map(|span| span.start_unix_nanos).collect();
        let start_order = |span_idx: &u32| (starts[*span_idx as usize], *span_idx);
        roots.sort_unstable_by_key(start_order);
        for span_idx in 0..n_spans {
            let range = child_offsets[span_idx] as usize..child_offsets[span_idx + 1] as usize;
            if range.len() > 1 {
                child_list[range].sort_unstable_by_key(start_order);
            }
        }

        // Pass 5: depth-first, pre-order, with an explicit stack. Children are
        // pushed in reverse so that the earliest is popped first.
        let mut depth = vec![0u32; n_spans];
        let mut rows = Vec::with_capacity(n_spans);
        let mut stack: Vec<u32> = roots.iter().rev().copied().collect();
        while let Some(span_idx) = stack.pop() {
            rows.push(span_idx);
            let range = child_offsets[span_idx as usize] as usize
                ..child_offsets[span_idx as usize + 1] as usize;
            let child_depth = depth[span_idx as usize] + 1;
            for &child_idx in child_list[range].iter().rev() {
                depth[child_idx as usize] = child_depth;
                stack.push(child_idx);
            }
        }
        let mut row_of = vec![0u32; n_spans];
        for (row, &span_idx) in rows.iter().enumerate() {
            row_of[span_idx as usize] = row as u32;
        }
        // Subtree sizes bottom-up: in reverse pre-order every child comes
        // before its parent.
        let mut subtree_size = vec![1u32; n_spans];
        for &span_idx in rows.iter().rev() {
            let parent_idx = parent[span_idx as usize];
            if parent_idx != NO_PARENT {
                subtree_size[parent_idx as usize] += subtree_size[span_idx as usize];
            }
        }
        let subtree_end_row = (0..n_spans)
            .map(|span_idx| row_of[span_idx] + subtree_size[span_idx])
            .collect();

        notes.sort_by_key(|note| note.span_idx);
        SpanTree {
            parent,
            child_offsets,
            child_list,
            roots,
            depth,
            rows,
            row_of,
            subtree_end_row,
            flags,
            notes,
            index_of,
        }
    }

    /// The span whose id is `span_id`: the first in the trace with it
    /// when several share it (the one that owns its children).
    pub fn find(&self, span_id: SpanId) -> Option<usize> {
        self.index_of
            .get(&span_id)
            .map(|&span_idx| span_idx as usize)
    }

    /// The number of spans (and rows).
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The roots in start order: spans without a parent, orphans, and spans
    /// that broke a cycle.
    pub fn roots(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.roots.iter().map(|&span_idx| span_idx as usize)
    }

    /// The parent the tree uses for span `span_idx` (`None` for a root).
    pub fn parent(&self, span_idx: usize) -> Option<usize> {
        match self.parent.get(span_idx) {
            Some(&parent_idx) if parent_idx != NO_PARENT => Some(parent_idx as usize),
            _ => None,
        }
    }

    /// The children of span `span_idx`, in start order.
    pub fn children(&self, span_idx: usize) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.children_raw(span_idx)
            .iter()
            .map(|&child_idx| child_idx as usize)
    }

    pub(crate) fn children_raw(&self, span_idx: usize) -> &[u32] {
        if span_idx >= self.len() {
            return &[];
        }
        let start = self.child_offsets[span_idx] as usize;
        let end = self.child_offsets[span_idx + 1] as usize;
        &self.child_list[start..end]
    }

    pub fn has_children(&self, span_idx: usize) -> bool {
        !self.children_raw(span_idx).is_empty()
    }

    /// Depth of span `span_idx`: 0 for a root.
    pub fn depth(&self, span_idx: usize) -> usize {
        self.depth.get(span_idx).map_or(0, |&depth| depth as usize)
    }

    /// Span indices in waterfall order: depth-first, pre-order, roots and
    /// children in start order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.rows.iter().map(|&span_idx| span_idx as usize)
    }

    pub(crate) fn rows_raw(&self) -> &[u32] {
        &self.rows
    }

    /// The row of span `span_idx` in [`SpanTree::rows`].
    pub fn row_of(&self, span_idx: usize) -> Option<usize> {
        self.row_of.get(span_idx).map(|&row| row as usize)
    }

    /// The rows of span `span_idx` and all its descendants: a contiguous range.
    pub fn subtree_rows(&self, span_idx: usize) -> std::ops::Range<usize> {
        match (
            self.row_of.get(span_idx),
            self.subtree_end_row.get(span_idx),
        ) {
            (Some(&start), Some(&end)) => start as usize..end as usize,
            _ => 0..0,
        }
    }

    /// Whether span `span_idx` is a root because its parent is missing.
    pub fn is_orphan(&self, span_idx: usize) -> bool {
        self.flag(span_idx, FLAG_ORPHAN)
    }

    /// Whether span `span_idx` reuses the id of an earlier span.
    pub fn is_duplicate(&self, span_idx: usize) -> bool {
        self.flag(span_idx, FLAG_DUPLICATE)
    }

    /// Whether span `span_idx` is a root because its parent link closed a cycle.
    pub fn is_cycle_broken(&self, span_idx: usize) -> bool {
        self.flag(span_idx, FLAG_CYCLE_BROKEN)
    }

    fn flag(&self, span_idx: usize, flag: u8) -> bool {
        self.flags
            .get(span_idx)
            .is_some_and(|flags| flags & flag != 0)
    }

    /// The repairs made while building, sorted by span.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The notes about span `span_idx`.
    pub fn notes_for(&self, span_idx: usize) -> impl Iterator<Item = &Note> + '_ {
        let first = self.notes.partition_point(|note| note.span_idx < span_idx);
        self.notes[first..]
            .iter()
            .take_while(move |note| note.span_idx == span_idx)
    }
}

fn break_cycles(trace: &Trace, parent: &mut [u32], flags: &mut [u8], notes: &mut Vec<Note>) {
    const UNVISITED: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![UNVISITED; parent.len()];
    let mut path: Vec<u32> = Vec::new();
    for start_idx in 0..parent.len() {
        if state[start_idx] != UNVISITED {
            continue;
        }
        path.clear();
        let mut current = start_idx as u32;
        loop {
            match state[current as usize] {
                DONE => break,
                ON_PATH => {
                    // The cycle is the tail of the path from `current`. Cut it
                    // at its earliest span (then lowest index), which does not
                    // depend on where the walk entered the cycle.
                    let cycle_start = path.iter().rposition(|&idx| idx == current).unwrap_or(0);
                    let cycle = &path[cycle_start..];
                    let cut_idx = cycle
                        .iter()
                        .copied()
                        .min_by_key(|&idx| (trace.spans[idx as usize].start_unix_nanos, idx))
                        .unwrap_or(current);
                    let former_parent_idx = parent[cut_idx as usize];
                    parent[cut_idx as usize] = NO_PARENT;
                    flags[cut_idx as usize] |= FLAG_CYCLE_BROKEN;
                    notes.push(Note {
                        span_idx: cut_idx as usize,
                        kind: NoteKind::CycleBroken {
                            former_parent_idx: former_parent_idx as usize,
                            cycle_len: cycle.len(),
                        },
                    });
                    break;
                }
                _ => {
                    state[current as usize] = ON_PATH;
                    path.push(current);
                    let parent_idx = parent[current as usize];
                    if parent_idx == NO_PARENT {
                        break;
                    }
                    current = parent_idx;
                }
            }
        }
        for &idx in &path {
            state[idx as usize] = DONE;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{Span, TraceId};

    /// A span with id `id`, parent `parent` (0 for none) and times.
    pub(crate) fn span(id: u64, parent: u64, start: u64, end: u64) -> Span {
        let parent_span_id = (parent != 0).then(|| SpanId::from_u64(parent));
        Span::new(
            TraceId([1; 16]),
            SpanId::from_u64(id),
            parent_span_id,
            format!("span-{id}"),
            start,
            end,
        )
    }

    pub(crate) fn trace_of(spans: Vec<Span>) -> Trace {
        Trace {
            spans,
            ..Trace::default()
        }
    }

    fn rows(tree: &SpanTree) -> Vec<usize> {
        tree.rows().collect()
    }

    #[test]
    fn empty_trace_builds_an_empty_tree() {
        let tree = SpanTree::build(&Trace::default());
        assert!(tree.is_empty());
        assert_eq!(tree.roots().len(), 0);
        assert_eq!(tree.subtree_rows(3), 0..0);
        assert_eq!(tree.children(3).len(), 0);
    }

    #[test]
    fn rows_are_pre_order_with_children_in_start_order() {
        // Input order deliberately differs from start order.
        let trace = trace_of(vec![
            span(3, 1, 50, 60), // idx 0: second child of 1
            span(1, 0, 0, 100), // idx 1: root
            span(2, 1, 10, 40), // idx 2: first child of 1
            span(4, 2, 20, 30), // idx 3: child of 2
        ]);
        let tree = SpanTree::build(&trace);
        assert_eq!(rows(&tree), vec![1, 2, 3, 0]);
        assert_eq!(tree.depth(1), 0);
        assert_eq!(tree.depth(2), 1);
        assert_eq!(tree.depth(3), 2);
        assert_eq!(tree.depth(0), 1);
        assert_eq!(tree.children(1).collect::<Vec<_>>(), vec![2, 0]);
        assert_eq!(tree.subtree_rows(2), 1..3);
        assert_eq!(tree.subtree_rows(1), 0..4);
        assert!(tree.notes().is_empty());
    }

    #[test]
    fn several_roots_are_kept_in_start_order() {
        let trace = trace_of(vec![span(1, 0, 30, 40), span(2, 0, 10, 20)]);
        let tree = SpanTree::build(&trace);
        assert_eq!(tree.roots().collect::<Vec<_>>(), vec![1, 0]);
        assert!(!tree.is_orphan(0));
    }

    #[test]
    fn orphan_with_missing_parent_becomes_a_marked_root() {
        let trace = trace_of(vec![
            span(1, 0, 0, 100),
            span(2, 99, 10, 20),
            span(3, 2, 11, 12),
        ]);
        let tree = SpanTree::build(&trace);
        assert_eq!(tree.roots().collect::<Vec<_>>(), vec![0, 1]);
        assert!(tree.is_orphan(1));
        assert!(!tree.is_orphan(2));
        assert_eq!(tree.parent(2), Some(1));
        assert_eq!(
            tree.notes(),
            &[Note {
                span_idx: 1,
                kind: NoteKind::MissingParent {
                    parent_span_id: SpanId::from_u64(99)
                }
            }]
        );
    }

    #[test]
    fn zero_parent_id_means_root_not_orphan() {
        let mut root = span(1, 0, 0, 10);
        root.parent_span_id = Some(SpanId::default());
        let tree = SpanTree::build(&trace_of(vec![root]));
        assert!(!tree.is_orphan(0));
        assert!(tree.notes().is_empty());
    }

    #[test]
    fn duplicate_span_id_keeps_both_rows_and_children_attach_to_first() {
        let trace = trace_of(vec![
            span(1, 0, 0, 100),
            span(2, 1, 10, 50),
            span(2, 1, 20, 60), // duplicate id
            span(3, 2, 30, 40),
        ]);
        let tree = SpanTree::build(&trace);
        assert_eq!(rows(&tree), vec![0, 1, 3, 2]);
        assert!(tree.is_duplicate(2));
        assert_eq!(tree.parent(3), Some(1));
        assert_eq!(
            tree.notes_for(2).map(|note| &note.kind).collect::<Vec<_>>(),
            vec![&NoteKind::DuplicateSpanId {
                span_id: SpanId::from_u64(2),
                first_span_idx: 1
            }]
        );
        assert!(tree.notes()[0].kind.to_string().contains("#1"));
    }

    #[test]
    fn parent_cycle_is_broken_at_its_earliest_span() {
        // 1 -> 2 -> 3 -> 1, and 4 hangs off 3; span 2 starts first.
        let trace = trace_of(vec![
            span(1, 3, 20, 30),
            span(2, 1, 10, 40),
            span(3, 2, 25, 28),
            span(4, 3, 26, 27),
        ]);
        let tree = SpanTree::build(&trace);
        assert_eq!(tree.roots().collect::<Vec<_>>(), vec![1]);
        assert!(tree.is_cycle_broken(1));
        assert_eq!(rows(&tree), vec![1, 2, 0, 3]);
        assert_eq!(
            tree.notes(),
            &[Note {
                span_idx: 1,
                kind: NoteKind::CycleBroken {
                    former_parent_idx: 0,
                    cycle_len: 3
                }
            }]
        );
    }

    #[test]
    fn self_parent_is_a_cycle_of_one() {
        let trace = trace_of(vec![span(1, 1, 0, 10)]);
        let tree = SpanTree::build(&trace);
        assert_eq!(rows(&tree), vec![0]);
        assert!(tree.is_cycle_broken(0));
        assert!(matches!(
            tree.notes()[0].kind,
            NoteKind::CycleBroken { cycle_len: 1, .. }
        ));
    }

    #[test]
    fn negative_duration_is_noted() {
        let tree = SpanTree::build(&trace_of(vec![span(1, 0, 100, 40)]));
        assert_eq!(
            tree.notes()[0].kind,
            NoteKind::NegativeDuration { by_nanos: 60 }
        );
    }

    #[test]
    fn deep_chain_does_not_overflow_the_stack() {
        let n_spans = 100_000u64;
        let spans = (1..=n_spans)
            .map(|id| span(id, id - 1, id, 2 * n_spans - id))
            .collect();
        let tree = SpanTree::build(&trace_of(spans));
        assert_eq!(tree.depth(n_spans as usize - 1), n_spans as usize - 1);
        assert_eq!(tree.rows().len(), n_spans as usize);
    }
}
