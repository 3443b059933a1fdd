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
//!
//! Each pass keeps a cursor (`TreeJob`), so that [`crate::LayoutJob`] can run
//! the build a slice at a time; [`SpanTree::build`] runs the same passes at
//! once.

use std::collections::HashMap;
use std::fmt;

use crate::budget::Budget;
use crate::model::{BuildSpanIdHasher, Span, SpanId, Trace};

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    ///
    /// The same passes as [`crate::LayoutJob`] runs a slice at a time, here
    /// run to their end at once.
    pub fn build(trace: &Trace) -> SpanTree {
        let mut job = TreeJob::new(trace.spans.len());
        // An unlimited budget finishes in one step; the loop is there only
        // because a step's result is an `Option`.
        loop {
            if let Some(tree) = job.step(trace, &mut Budget::unlimited()) {
                return tree;
            }
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

    pub(crate) fn roots_raw(&self) -> &[u32] {
        &self.roots
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

/// [`SpanTree::build`] as resumable passes: each keeps a cursor, so the
/// build can stop when a step's budget is spent and go on from there in the
/// next step. `SpanTree::build` runs it with no limit, [`crate::LayoutJob`]
/// a slice at a time; the result is the same.
///
/// The passes, in order (units: one span through one pass unless said):
/// 1. [`TreeStage::IndexById`]: index by id (duplicates and negative
///    durations noted), start times gathered;
/// 2. [`TreeStage::LinkParents`]: link parents (orphans noted), children
///    counted;
/// 3. [`TreeStage::BreakCycles`]: break parent cycles, one unit a parent
///    link climbed or a span of a cycle looked at;
/// 4. [`TreeStage::PrefixSums`]: child counts into offsets;
/// 5. [`TreeStage::FillChildren`]: children into their lists, roots listed;
/// 6. [`TreeStage::SortChildren`]: the roots sorted (not cut: as many units
///    as roots), then each child list (a list is not cut: as many units as
///    children);
/// 7. [`TreeStage::WalkRows`]: depth-first pre-order with an explicit stack,
///    setting depth and each span's row;
/// 8. [`TreeStage::SubtreeEnds`]: each subtree's last row, bottom-up;
/// 9. [`TreeStage::SortNotes`]: the notes sorted by span (not cut: as many
///    units as notes).
#[derive(Debug)]
pub(crate) struct TreeJob {
    stage: TreeStage,
    parts: TreeParts,
}

/// Where the build is. A stage's cursor says how far its pass has come.
#[derive(Debug)]
enum TreeStage {
    IndexById {
        next: usize,
    },
    LinkParents {
        next: usize,
    },
    BreakCycles(CycleBreaker),
    PrefixSums {
        next: usize,
    },
    FillChildren {
        next: usize,
    },
    SortChildren {
        next: usize,
        roots_sorted: bool,
    },
    WalkRows(RowWalkStack),
    /// Rows still to visit, from the last row back.
    SubtreeEnds {
        rows_left: usize,
    },
    SortNotes,
    /// The tree was handed over.
    Done,
}

/// The stages before [`TreeStage::Done`], for progress.
pub(crate) const TREE_STAGES: usize = 9;

/// The tree as it is being built: the [`SpanTree`]'s arrays, filled pass
/// by pass, and what the passes need besides.
#[derive(Debug)]
struct TreeParts {
    n_spans: usize,
    /// Start times in span order (gathered in pass 1): sorting reads them
    /// often, and a whole span per read would miss the cache.
    starts: Vec<u64>,
    /// During passes 2 to 5, `tree.child_offsets[p + 2]` counts the children
    /// of span `p` (two extra slots), so that after the prefix sums
    /// `child_offsets[p + 1]` is where `p`'s list starts and can serve as its
    /// fill cursor: when every child is placed it has moved on to where the
    /// next list starts, which is what `child_offsets[p + 1]` must hold. No
    /// second array of cursors is needed; the last slot is dropped after.
    tree: SpanTree,
}

/// Pass 3's state. Each span has at most one parent, so a walk up from any
/// span either reaches a root, a span an earlier walk went through (which
/// leads to a root or a cycle already broken), or comes back onto itself: a
/// cycle.
#[derive(Debug)]
struct CycleBreaker {
    /// Where the next walk starts (every span is a start in turn).
    next_start: usize,
    walk: CycleWalk,
    /// The walk that went through each span (`start + 1`; 0: none yet). A
    /// span met again in the same walk closes a cycle; one from an earlier
    /// walk ends the walk. Numbering the walks spares a pass marking each
    /// finished path.
    walk_of: Vec<u32>,
}

#[derive(Clone, Copy, Debug)]
enum CycleWalk {
    /// Between walks.
    Idle,
    /// Climbing parent links; `at` is the next span to look at.
    Climbing { at: u32 },
    /// Going once round the cycle through `entry` for its earliest span
    /// (then lowest index), which does not depend on where the walk entered
    /// it; `at` is the next span of the cycle, `len` the spans seen.
    Measuring {
        entry: u32,
        at: u32,
        earliest: u32,
        len: usize,
    },
}

/// Pass 7's state: the roots walked so far, and a stack of the child lists
/// still to walk (ranges into `child_list`, never empty), innermost last.
/// Each row costs O(1), however many children a span has.
#[derive(Debug, Default)]
struct RowWalkStack {
    next_root: usize,
    stack: Vec<(u32, u32)>,
}

impl TreeJob {
    /// A job building the tree of a trace of `n_spans` spans.
    pub(crate) fn new(n_spans: usize) -> TreeJob {
        TreeJob {
            stage: TreeStage::IndexById { next: 0 },
            parts: TreeParts {
                n_spans,
                starts: Vec::with_capacity(n_spans),
                tree: SpanTree {
                    parent: Vec::with_capacity(n_spans),
                    child_offsets: vec![0; n_spans + 2],
                    child_list: Vec::new(),
                    roots: Vec::new(),
                    depth: vec![0; n_spans],
                    rows: Vec::with_capacity(n_spans),
                    row_of: vec![0; n_spans],
                    subtree_end_row: vec![0; n_spans],
                    flags: vec![0; n_spans],
                    notes: Vec::new(),
                    index_of: HashMap::with_capacity_and_hasher(
                        n_spans,
                        BuildSpanIdHasher::default(),
                    ),
                },
            },
        }
    }

    /// Runs the passes on until `budget` is spent; the tree when the last
    /// pass ends (once: later steps give `None`). `trace` must be the one
    /// the job was made for; given one of another length, the job starts
    /// over on it.
    pub(crate) fn step(&mut self, trace: &Trace, budget: &mut Budget) -> Option<SpanTree> {
        if trace.spans.len() != self.parts.n_spans {
            *self = TreeJob::new(trace.spans.len());
        }
        let parts = &mut self.parts;
        loop {
            let finished = match &mut self.stage {
                TreeStage::IndexById { next } => parts.index_by_id(&trace.spans, next, budget),
                TreeStage::LinkParents { next } => parts.link_parents(&trace.spans, next, budget),
                TreeStage::BreakCycles(breaker) => parts.break_cycles(breaker, budget),
                TreeStage::PrefixSums { next } => parts.prefix_sums(next, budget),
                TreeStage::FillChildren { next } => parts.fill_children(next, budget),
                TreeStage::SortChildren { next, roots_sorted } => {
                    parts.sort_children(next, roots_sorted, budget)
                }
                TreeStage::WalkRows(walk) => parts.walk_rows(walk, budget),
                TreeStage::SubtreeEnds { rows_left } => parts.subtree_ends(rows_left, budget),
                TreeStage::SortNotes => parts.sort_notes(budget),
                TreeStage::Done => return None,
            };
            if !finished {
                return None;
            }
            self.stage = match self.stage {
                TreeStage::IndexById { .. } => TreeStage::LinkParents { next: 0 },
                TreeStage::LinkParents { .. } => TreeStage::BreakCycles(CycleBreaker {
                    next_start: 0,
                    walk: CycleWalk::Idle,
                    walk_of: vec![0; parts.n_spans],
                }),
                TreeStage::BreakCycles(_) => TreeStage::PrefixSums { next: 0 },
                TreeStage::PrefixSums { .. } => {
                    let n_children = parts.tree.child_offsets.last().copied().unwrap_or(0);
                    parts.tree.child_list = vec![0; n_children as usize];
                    TreeStage::FillChildren { next: 0 }
                }
                TreeStage::FillChildren { .. } => {
                    // The extra slot has served (see `child_offsets`).
                    parts.tree.child_offsets.truncate(parts.n_spans + 1);
                    TreeStage::SortChildren {
                        next: 0,
                        roots_sorted: false,
                    }
                }
                TreeStage::SortChildren { .. } => TreeStage::WalkRows(RowWalkStack::default()),
                TreeStage::WalkRows(_) => TreeStage::SubtreeEnds {
                    rows_left: parts.tree.rows.len(),
                },
                TreeStage::SubtreeEnds { .. } => TreeStage::SortNotes,
                TreeStage::SortNotes | TreeStage::Done => {
                    self.stage = TreeStage::Done;
                    return Some(parts.take_tree());
                }
            };
        }
    }

    /// (spans passed, spans to pass): each of the [`TREE_STAGES`] passes
    /// counts as `n_spans`, whatever it really costs.
    pub(crate) fn progress(&self) -> (usize, usize) {
        let n_spans = self.parts.n_spans;
        let (stage_idx, cursor) = match &self.stage {
            TreeStage::IndexById { next } => (0, *next),
            TreeStage::LinkParents { next } => (1, *next),
            TreeStage::BreakCycles(breaker) => (2, breaker.next_start),
            TreeStage::PrefixSums { next } => (3, *next),
            TreeStage::FillChildren { next } => (4, *next),
            TreeStage::SortChildren { next, .. } => (5, *next),
            TreeStage::WalkRows(_) => (6, self.parts.tree.rows.len()),
            TreeStage::SubtreeEnds { rows_left } => {
                (7, self.parts.tree.rows.len().saturating_sub(*rows_left))
            }
            TreeStage::SortNotes => (8, 0),
            TreeStage::Done => (TREE_STAGES, 0),
        };
        let total = TREE_STAGES * n_spans;
        (
            (stage_idx * n_spans + cursor.min(n_spans)).min(total),
            total,
        )
    }

    /// The pass under way, as the progress text says it.
    pub(crate) fn stage(&self) -> &'static str {
        match self.stage {
            TreeStage::IndexById { .. } => "indexing span ids",
            TreeStage::LinkParents { .. } => "linking parents",
            TreeStage::BreakCycles(_) => "breaking parent cycles",
            TreeStage::PrefixSums { .. } => "counting children",
            TreeStage::FillChildren { .. } => "listing children",
            TreeStage::SortChildren { .. } => "sorting children",
            TreeStage::WalkRows(_) => "ordering rows",
            TreeStage::SubtreeEnds { .. } => "measuring subtrees",
            TreeStage::SortNotes => "sorting notes",
            TreeStage::Done => "tree built",
        }
    }
}

impl TreeParts {
    /// Pass 1: index by id. The first span with an id owns it, so that a
    /// duplicate (a Zipkin shared span, a re-sent batch) cannot steal the
    /// children of the span exported first.
    fn index_by_id(&mut self, spans: &[Span], next: &mut usize, budget: &mut Budget) -> bool {
        let start = *next;
        let end = start + budget.grant(self.n_spans - start);
        for (span, span_idx) in spans[start..end].iter().zip(start..) {
            self.starts.push(span.start_unix_nanos);
            if let Some(&first_span_idx) = self.tree.index_of.get(&span.span_id) {
                self.tree.flags[span_idx] |= FLAG_DUPLICATE;
                self.tree.notes.push(Note {
                    span_idx,
                    kind: NoteKind::DuplicateSpanId {
                        span_id: span.span_id,
                        first_span_idx: first_span_idx as usize,
                    },
                });
            } else {
                self.tree.index_of.insert(span.span_id, span_idx as u32);
            }
            if span.end_unix_nanos < span.start_unix_nanos {
                self.tree.notes.push(Note {
                    span_idx,
                    kind: NoteKind::NegativeDuration {
                        by_nanos: span.start_unix_nanos - span.end_unix_nanos,
                    },
                });
            }
        }
        *next = end;
        end == self.n_spans
    }

    /// Pass 2: link parents, counting each parent's children. A zero parent
    /// id means "root" for exporters that write zeros instead of leaving the
    /// field out.
    fn link_parents(&mut self, spans: &[Span], next: &mut usize, budget: &mut Budget) -> bool {
        let start = *next;
        let end = start + budget.grant(self.n_spans - start);
        for (span, span_idx) in spans[start..end].iter().zip(start..) {
            let parent_idx = match span.parent_span_id {
                Some(parent_span_id) if !parent_span_id.is_zero() => {
                    match self.tree.index_of.get(&parent_span_id) {
                        Some(&parent_idx) => parent_idx,
                        None => {
                            self.tree.flags[span_idx] |= FLAG_ORPHAN;
                            self.tree.notes.push(Note {
                                span_idx,
                                kind: NoteKind::MissingParent { parent_span_id },
                            });
                            NO_PARENT
                        }
                    }
                }
                _ => NO_PARENT,
            };
            if parent_idx != NO_PARENT {
                self.tree.child_offsets[parent_idx as usize + 2] += 1;
            }
            self.tree.parent.push(parent_idx);
        }
        *next = end;
        end == self.n_spans
    }

    /// Pass 3: break cycles (see [`CycleBreaker`]), one unit a step of a
    /// walk. Every span is climbed through once and every cycle measured
    /// once, so the pass is linear however deep the trace.
    fn break_cycles(&mut self, breaker: &mut CycleBreaker, budget: &mut Budget) -> bool {
        let allowed = budget.grant(usize::MAX);
        let mut used = 0;
        let mut walk = breaker.walk;
        let mut start = breaker.next_start;
        let finished = loop {
            if matches!(walk, CycleWalk::Idle) && start == self.n_spans {
                break true;
            }
            if used == allowed {
                break false;
            }
            used += 1;
            let walk_id = start as u32 + 1;
            walk = match walk {
                CycleWalk::Idle if breaker.walk_of[start] != 0 => {
                    start += 1;
                    CycleWalk::Idle
                }
                CycleWalk::Idle => CycleWalk::Climbing { at: start as u32 },
                CycleWalk::Climbing { at } => {
                    let seen_by = breaker.walk_of[at as usize];
                    let parent_idx = self.tree.parent[at as usize];
                    if seen_by == walk_id {
                        // Back on this walk's own path: `at` is on a cycle,
                        // and (it was climbed through) has a parent.
                        CycleWalk::Measuring {
                            entry: at,
                            at: parent_idx,
                            earliest: at,
                            len: 1,
                        }
                    } else if seen_by != 0 {
                        start += 1;
                        CycleWalk::Idle
                    } else {
                        breaker.walk_of[at as usize] = walk_id;
                        if parent_idx == NO_PARENT {
                            start += 1;
                            CycleWalk::Idle
                        } else {
                            CycleWalk::Climbing { at: parent_idx }
                        }
                    }
                }
                CycleWalk::Measuring {
                    entry,
                    at,
                    earliest,
                    len,
                } => {
                    if at == entry {
                        self.cut_cycle(earliest, len);
                        start += 1;
                        CycleWalk::Idle
                    } else {
                        let start_order = |idx: u32| (self.starts[idx as usize], idx);
                        CycleWalk::Measuring {
                            entry,
                            // Every span of a cycle has a parent.
                            at: self.tree.parent[at as usize],
                            earliest: if start_order(at) < start_order(earliest) {
                                at
                            } else {
                                earliest
                            },
                            len: len + 1,
                        }
                    }
                }
            };
        };
        budget.refund(allowed - used);
        breaker.walk = walk;
        breaker.next_start = start;
        finished
    }

    /// Cuts the link from `cut_idx` (the earliest span of a cycle of
    /// `cycle_len` spans) to its parent, making it a root.
    fn cut_cycle(&mut self, cut_idx: u32, cycle_len: usize) {
        let former_parent_idx = self.tree.parent[cut_idx as usize];
        self.tree.parent[cut_idx as usize] = NO_PARENT;
        // The link was counted in pass 2.
        self.tree.child_offsets[former_parent_idx as usize + 2] -= 1;
        self.tree.flags[cut_idx as usize] |= FLAG_CYCLE_BROKEN;
        self.tree.notes.push(Note {
            span_idx: cut_idx as usize,
            kind: NoteKind::CycleBroken {
                former_parent_idx: former_parent_idx as usize,
                cycle_len,
            },
        });
    }

    /// Pass 4: the child counts summed, so that `child_offsets[p + 1]` is
    /// where span `p`'s children start.
    fn prefix_sums(&mut self, next: &mut usize, budget: &mut Budget) -> bool {
        let start = *next;
        let end = start + budget.grant(self.n_spans - start);
        for span_idx in start..end {
            self.tree.child_offsets[span_idx + 2] += self.tree.child_offsets[span_idx + 1];
        }
        *next = end;
        end == self.n_spans
    }

    /// Pass 5: each span into its parent's list, or the roots.
    fn fill_children(&mut self, next: &mut usize, budget: &mut Budget) -> bool {
        let start = *next;
        let end = start + budget.grant(self.n_spans - start);
        for (&parent_idx, span_idx) in self.tree.parent[start..end].iter().zip(start..) {
            if parent_idx == NO_PARENT {
                self.tree.roots.push(span_idx as u32);
            } else {
                let slot = &mut self.tree.child_offsets[parent_idx as usize + 1];
                self.tree.child_list[*slot as usize] = span_idx as u32;
                *slot += 1;
            }
        }
        *next = end;
        end == self.n_spans
    }

    /// Pass 6: roots and child lists in start order. Ties keep the input
    /// order, so the layout is stable. A list is sorted whole, in one step.
    fn sort_children(
        &mut self,
        next: &mut usize,
        roots_sorted: &mut bool,
        budget: &mut Budget,
    ) -> bool {
        let starts = &self.starts;
        let start_order = |span_idx: &u32| (starts[*span_idx as usize], *span_idx);
        if !*roots_sorted {
            if budget.is_spent() && !self.tree.roots.is_empty() {
                return false;
            }
            budget.take_whole(self.tree.roots.len());
            self.tree.roots.sort_unstable_by_key(start_order);
            *roots_sorted = true;
        }
        let allowed = budget.grant(usize::MAX);
        let mut used = 0;
        let mut span_idx = *next;
        while span_idx < self.n_spans && used < allowed {
            let range = self.tree.child_offsets[span_idx] as usize
                ..self.tree.child_offsets[span_idx + 1] as usize;
            if range.len() > 1 {
                used += range.len();
                self.tree.child_list[range].sort_unstable_by_key(start_order);
            } else {
                used += 1;
            }
            span_idx += 1;
        }
        *next = span_idx;
        budget.refund(allowed.saturating_sub(used));
        budget.take_whole(used.saturating_sub(allowed));
        span_idx == self.n_spans
    }

    /// Pass 7: depth-first, pre-order (see [`RowWalkStack`]): each span's row
    /// and depth.
    fn walk_rows(&mut self, walk: &mut RowWalkStack, budget: &mut Budget) -> bool {
        let n_rows = budget.grant(self.n_spans - self.tree.rows.len());
        for _ in 0..n_rows {
            let span_idx = match walk.stack.last_mut() {
                Some((next_child, end)) => {
                    let child_idx = self.tree.child_list[*next_child as usize];
                    *next_child += 1;
                    if next_child == end {
                        walk.stack.pop();
                    }
                    child_idx
                }
                None => match self.tree.roots.get(walk.next_root) {
                    Some(&root_idx) => {
                        walk.next_root += 1;
                        root_idx
                    }
                    // Every span is a root or in one child list, so this is
                    // never reached before every row is placed.
                    None => return true,
                },
            };
            let parent_idx = self.tree.parent[span_idx as usize];
            if parent_idx != NO_PARENT {
                self.tree.depth[span_idx as usize] = self.tree.depth[parent_idx as usize] + 1;
            }
            self.tree.row_of[span_idx as usize] = self.tree.rows.len() as u32;
            self.tree.rows.push(span_idx);
            let children = (
                self.tree.child_offsets[span_idx as usize],
                self.tree.child_offsets[span_idx as usize + 1],
            );
            if children.0 < children.1 {
                walk.stack.push(children);
            }
        }
        self.tree.rows.len() == self.n_spans
    }

    /// Pass 8: the row past each subtree, bottom-up. In reverse pre-order
    /// every child comes before its parent, and a span's subtree ends where
    /// its last child's does (a leaf's, at its own next row).
    fn subtree_ends(&mut self, rows_left: &mut usize, budget: &mut Budget) -> bool {
        let end = *rows_left;
        let start = end - budget.grant(end);
        for row in (start..end).rev() {
            let span_idx = self.tree.rows[row] as usize;
            let last_child = self.tree.child_offsets[span_idx + 1];
            self.tree.subtree_end_row[span_idx] = if last_child > self.tree.child_offsets[span_idx]
            {
                self.tree.subtree_end_row[self.tree.child_list[last_child as usize - 1] as usize]
            } else {
                row as u32 + 1
            };
        }
        *rows_left = start;
        start == 0
    }

    /// Pass 9: the notes by span, each span's in the order the passes
    /// wrote them (a stable sort).
    fn sort_notes(&mut self, budget: &mut Budget) -> bool {
        if budget.is_spent() && !self.tree.notes.is_empty() {
            return false;
        }
        budget.take_whole(self.tree.notes.len());
        self.tree.notes.sort_by_key(|note| note.span_idx);
        true
    }

    fn take_tree(&mut self) -> SpanTree {
        std::mem::take(&mut self.tree)
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
