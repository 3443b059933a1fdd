//! [`LayoutJob`]: the layout of a trace ([`Waterfall::build`], then the
//! rows of the plain view and their tree positions) computed a slice at a
//! time, so that a page laying out a million spans can give the browser its
//! thread back between slices and show how far it has come.
//!
//! ```
//! use tracelab_trace::{generate, LayoutJob, Waterfall};
//!
//! let trace = generate(2_000, 7);
//! let mut job = LayoutJob::new(&trace);
//! let laid_out = loop {
//!     // A page would yield to the browser between steps.
//!     if let Some(laid_out) = job.step(&trace, 500) {
//!         break laid_out;
//!     }
//!     let (done, total) = job.progress();
//!     assert!(done < total, "{}", job.stage());
//! };
//! assert_eq!(laid_out.waterfall, Waterfall::build(&trace));
//! assert_eq!(laid_out.rows.len(), 2_000);
//! ```
//!
//! What it is for: the first layout of a large trace in the browser, where
//! one task of several hundred milliseconds freezes the page. The job runs
//! the very passes [`Waterfall::build`], [`SpanTree::build`],
//! [`SpanTimes::from_trace`], [`detect_skew`](crate::skew::detect_skew),
//! [`self_times`](crate::layout::self_times),
//! [`critical_path`](crate::layout::critical_path), [`SpanTimes::bounds`],
//! [`visible_rows`] and [`tree_positions`] run (they run them to the end
//! at once), each resumable at a cursor, so the result is the same to the
//! bit whatever the budget.
//!
//! What it is not for: the adjusted view ([`Waterfall::build_adjusted`]
//! stays one piece), views with a root, a filter or collapsed spans (ask
//! [`visible_rows`] for those once the waterfall is there; a filter has
//! [`FilterJob`](crate::view::FilterJob)), or running on another thread: it
//! only cuts the work, it does not move it. It keeps no borrow of the trace,
//! so the caller gives the same trace to every step.
//!
//! # Units
//! A unit is one span through one pass. Most passes cut anywhere; these
//! pieces are done whole in one step and may take it past its budget:
//! - sorting the roots (as many units as roots), each child list (as many
//!   as children) and the tree's notes (as many as notes);
//! - a span's self time reads all its children (one unit and one a child);
//! - the critical path enters a span by gathering and sorting its children
//!   (one unit and one a child); between two such moves it can stop.
//!
//! So a step goes past its budget only by a trace's largest such piece: in
//! a trace with a span of a million children, by about a million units.

use crate::budget::Budget;
use crate::layout::{extend_self_times, BoundsFold, CriticalPath, CriticalPathJob, SpanTimes};
use crate::model::Trace;
use crate::skew::extend_skew_notes;
use crate::tree::{Note, SpanTree, TreeJob, TREE_STAGES};
use crate::treegrid::{tree_positions, PositionsJob, TreePosition};
use crate::view::{visible_rows, CollapseState, RowWalk, ViewOptions, VisibleRow};
use crate::waterfall::Waterfall;

/// The layout of a trace, computed a slice at a time: [`Waterfall::build`]
/// and the rows of the plain view, the same as computed at once. See the
/// [module docs](self).
#[derive(Debug)]
pub struct LayoutJob {
    n_spans: usize,
    /// Whether the job goes on to the rows after the waterfall
    /// ([`Waterfall::build`] stops before them).
    with_rows: bool,
    stage: Stage,
    tree: SpanTree,
    times: SpanTimes,
    skew_notes: Vec<Note>,
    self_time_nanos: Vec<u64>,
    critical_path: CriticalPath,
    bounds: (u64, u64),
    rows: Vec<VisibleRow>,
}

/// What a finished job hands over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LaidOut {
    pub waterfall: Waterfall,
    /// The rows of the plain view (no root, nothing collapsed, no filter):
    /// exactly what `visible_rows(&waterfall.tree, &ViewOptions { root:
    /// None, collapsed: &CollapseState::new(), filter: None })` returns.
    pub rows: Vec<VisibleRow>,
    /// `tree_positions(&rows)`.
    pub positions: Vec<TreePosition>,
}

/// Where the job is; results so far are in [`LayoutJob`]'s fields, a
/// stage's own cursor and scratch here.
#[derive(Debug)]
enum Stage {
    /// The tree's own passes (boxed: the other stages are small).
    Tree(Box<TreeJob>),
    Times,
    Skew {
        next: usize,
    },
    SelfTime,
    CriticalPath(CriticalPathJob),
    Bounds {
        next: usize,
        fold: BoundsFold,
    },
    Rows(RowWalk),
    Positions(PositionsJob),
    SetSizes(PositionsJob),
    /// The result was handed over.
    HandedOver,
}

/// The stages after the tree's, for progress: `Times` to `SetSizes`.
const LAYOUT_STAGES: usize = 8;

impl LayoutJob {
    /// A job laying out `trace` with its times as recorded (the plain view,
    /// as [`Waterfall::build`]). Allocates the tree's arrays; no pass runs
    /// until [`LayoutJob::step`].
    pub fn new(trace: &Trace) -> LayoutJob {
        LayoutJob::starting(trace, true)
    }

    fn starting(trace: &Trace, with_rows: bool) -> LayoutJob {
        let n_spans = trace.spans.len();
        LayoutJob {
            n_spans,
            with_rows,
            stage: Stage::Tree(Box::new(TreeJob::new(n_spans))),
            tree: SpanTree::default(),
            times: SpanTimes::default(),
            skew_notes: Vec::new(),
            self_time_nanos: Vec::new(),
            critical_path: CriticalPath::default(),
            bounds: (0, 0),
            rows: Vec::new(),
        }
    }

    /// [`Waterfall::build`]: the same stages, at once, without the rows.
    pub(crate) fn waterfall(trace: &Trace) -> Waterfall {
        let mut job = LayoutJob::starting(trace, false);
        // An unlimited budget finishes in one step; each step makes some
        // progress, so the loop ends whatever happens.
        loop {
            if let Some(laid_out) = job.run(trace, &mut Budget::unlimited()) {
                return laid_out.waterfall;
            }
        }
    }

    /// Does at most about `max_units` units of work (one unit is one span
    /// through one pass; a `max_units` of 0 counts as 1), and returns the
    /// result when the last stage finishes. The pieces that are not cut,
    /// and may take a step past `max_units`, are listed in the
    /// [module docs](self#units).
    ///
    /// `trace` must be the trace given to [`LayoutJob::new`]; if its span
    /// count differs, the job starts over on it (progress starts again from
    /// 0). Given another trace of the same length it does not panic either,
    /// but lays out a mix of the two. After handing over its result the job
    /// is spent: further steps return `None`.
    pub fn step(&mut self, trace: &Trace, max_units: usize) -> Option<LaidOut> {
        self.run(trace, &mut Budget::new(max_units.max(1)))
    }

    fn run(&mut self, trace: &Trace, budget: &mut Budget) -> Option<LaidOut> {
        if trace.spans.len() != self.n_spans {
            *self = LayoutJob::starting(trace, self.with_rows);
        }
        let n_spans = self.n_spans;
        let collapsed = CollapseState::new();
        let plain_view = plain_view(&collapsed);
        loop {
            let finished = match &mut self.stage {
                Stage::Tree(job) => match job.step(trace, budget) {
                    Some(tree) => {
                        self.tree = tree;
                        true
                    }
                    None => false,
                },
                Stage::Times => {
                    if self.times.is_empty() {
                        self.times = SpanTimes::with_capacity(n_spans);
                    }
                    let start = self.times.len();
                    let end = start + budget.grant(n_spans - start);
                    self.times.extend_from_spans(&trace.spans[start..end]);
                    end == n_spans
                }
                Stage::Skew { next } => extend_skew_notes(
                    trace,
                    &self.tree,
                    &self.times,
                    next,
                    &mut self.skew_notes,
                    budget,
                ),
                Stage::SelfTime => {
                    if self.self_time_nanos.is_empty() {
                        self.self_time_nanos.reserve_exact(n_spans);
                    }
                    extend_self_times(&self.tree, &self.times, &mut self.self_time_nanos, budget)
                }
                Stage::CriticalPath(job) => job.step(&self.tree, &self.times, budget),
                Stage::Bounds { next, fold } => {
                    let start = *next;
                    let end = start + budget.grant(n_spans - start);
                    fold.add(&self.times, start..end);
                    *next = end;
                    end == n_spans
                }
                Stage::Rows(walk) => walk.step(&self.tree, &plain_view, &mut self.rows, budget),
                Stage::Positions(job) => job.place(&self.rows, budget),
                Stage::SetSizes(job) => job.count_sets(budget),
                Stage::HandedOver => return None,
            };
            if !finished {
                return None;
            }
            self.stage = match std::mem::replace(&mut self.stage, Stage::HandedOver) {
                Stage::Tree(_) => Stage::Times,
                Stage::Times => Stage::Skew { next: 0 },
                Stage::Skew { .. } => Stage::SelfTime,
                Stage::SelfTime => Stage::CriticalPath(CriticalPathJob::new(n_spans)),
                Stage::CriticalPath(job) => {
                    self.critical_path = job.finish();
                    Stage::Bounds {
                        next: 0,
                        fold: BoundsFold::default(),
                    }
                }
                Stage::Bounds { fold, .. } => {
                    self.bounds = fold.finish();
                    if !self.with_rows {
                        return Some(self.hand_over(Vec::new()));
                    }
                    self.rows.reserve_exact(n_spans);
                    Stage::Rows(RowWalk::new(&self.tree, &plain_view))
                }
                Stage::Rows(_) => Stage::Positions(PositionsJob::new(self.rows.len())),
                Stage::Positions(job) => Stage::SetSizes(job),
                Stage::SetSizes(job) => return Some(self.hand_over(job.finish())),
                Stage::HandedOver => return None,
            };
        }
    }

    /// Moves the results out; the job is left spent.
    fn hand_over(&mut self, positions: Vec<TreePosition>) -> LaidOut {
        self.stage = Stage::HandedOver;
        LaidOut {
            waterfall: Waterfall::from_parts(
                std::mem::take(&mut self.tree),
                std::mem::take(&mut self.times),
                std::mem::take(&mut self.self_time_nanos),
                std::mem::take(&mut self.critical_path),
                std::mem::take(&mut self.skew_notes),
                self.bounds,
            ),
            rows: std::mem::take(&mut self.rows),
            positions,
        }
    }

    /// (units done, units in all), for a progress bar. Each pass counts as
    /// many units as the trace has spans, whatever it really costs (a sort
    /// moves in one jump; the critical path's progress is its units spent,
    /// capped). `total` is fixed at [`LayoutJob::new`]; `done` never
    /// decreases (except when the job starts over on a trace of another
    /// length) and is `total` once the result is handed over. An empty trace
    /// is `(0, 0)` throughout.
    pub fn progress(&self) -> (usize, usize) {
        let n_spans = self.n_spans;
        let total = (TREE_STAGES + LAYOUT_STAGES) * n_spans;
        let (stage_idx, cursor) = match &self.stage {
            Stage::Tree(job) => return (job.progress().0, total),
            Stage::Times => (0, self.times.len()),
            Stage::Skew { next } => (1, *next),
            Stage::SelfTime => (2, self.self_time_nanos.len()),
            Stage::CriticalPath(job) => (3, job.units()),
            Stage::Bounds { next, .. } => (4, *next),
            Stage::Rows(walk) => (5, walk.rows_passed()),
            Stage::Positions(job) => (6, job.n_placed()),
            Stage::SetSizes(job) => (7, job.n_counted()),
            Stage::HandedOver => return (total, total),
        };
        let done = (TREE_STAGES + stage_idx) * n_spans + cursor.min(n_spans);
        (done.min(total), total)
    }

    /// The stage under way, as a short phrase for the progress text
    /// ("sorting children", "self time", "rows", …); "done" once the result
    /// is handed over.
    pub fn stage(&self) -> &'static str {
        match &self.stage {
            Stage::Tree(job) => job.stage(),
            Stage::Times => "span times",
            Stage::Skew { .. } => "clock skew",
            Stage::SelfTime => "self time",
            Stage::CriticalPath(_) => "critical path",
            Stage::Bounds { .. } => "time bounds",
            Stage::Rows(_) => "rows",
            Stage::Positions(_) | Stage::SetSizes(_) => "tree positions",
            Stage::HandedOver => "done",
        }
    }
}

/// The plain view: no root, nothing collapsed (`collapsed` is empty), no
/// filter.
fn plain_view(collapsed: &CollapseState) -> ViewOptions<'_> {
    ViewOptions {
        root: None,
        collapsed,
        filter: None,
    }
}

/// The plain view's rows and positions of `waterfall`, computed at once:
/// what a [`LaidOut`] holds (for callers and tests that compare).
impl From<Waterfall> for LaidOut {
    fn from(waterfall: Waterfall) -> LaidOut {
        let collapsed = CollapseState::new();
        let rows = visible_rows(&waterfall.tree, &plain_view(&collapsed));
        let positions = tree_positions(&rows);
        LaidOut {
            waterfall,
            rows,
            positions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate;
    use crate::tree::tests::{span, trace_of};

    /// Steps `job` on `trace` with `max_units` until it hands over, checking
    /// after each step that progress moved forward and the step kept to its
    /// budget but for a piece of at most `largest_piece` units that is not
    /// cut.
    fn run_in_steps(
        job: &mut LayoutJob,
        trace: &Trace,
        max_units: usize,
        largest_piece: usize,
    ) -> LaidOut {
        let (mut done_before, total) = job.progress();
        for _ in 0..100_000_000usize {
            let mut budget = Budget::new(max_units);
            let result = job.run(trace, &mut budget);
            let (done, total_now) = job.progress();
            assert_eq!(total_now, total, "the total is fixed");
            assert!(done >= done_before, "progress went back in {}", job.stage());
            assert!(
                budget.overrun() < largest_piece.max(1),
                "a step went {} units past {max_units} in {}",
                budget.overrun(),
                job.stage()
            );
            assert!(budget.spent() <= max_units + budget.overrun());
            done_before = done;
            if let Some(laid_out) = result {
                assert_eq!(job.progress(), (total, total));
                assert_eq!(job.stage(), "done");
                return laid_out;
            }
        }
        panic!("the job did not finish");
    }

    fn at_once(trace: &Trace) -> LaidOut {
        LaidOut::from(Waterfall::build(trace))
    }

    /// The largest piece a step does whole for `trace`: a sort of the roots,
    /// of a child list or of the notes, or a span read with its children.
    fn largest_piece(trace: &Trace) -> usize {
        let tree = SpanTree::build(trace);
        let most_children = (0..tree.len())
            .map(|span_idx| tree.children(span_idx).len())
            .max()
            .unwrap_or(0);
        let n_roots = tree.roots().len();
        n_roots.max(tree.notes().len()).max(most_children + 1)
    }

    #[test]
    fn a_generated_trace_laid_out_in_slices_is_the_one_laid_out_at_once() {
        let trace = generate(200_000, 3);
        let mut job = LayoutJob::new(&trace);
        assert_eq!(job.progress(), (0, 17 * 200_000));
        let laid_out = run_in_steps(&mut job, &trace, 5_000, largest_piece(&trace));
        assert!(laid_out == at_once(&trace));
        assert_eq!(laid_out.rows.len(), 200_000);
    }

    #[test]
    fn a_chain_keeps_to_every_budget_exactly() {
        // One root, one child each, no notes: no piece larger than a unit
        // but the roots' and notes' sorts (one unit each) and each span's
        // one child (two units).
        let spans = (1..=3_000u64)
            .map(|id| span(id, id - 1, id, 10_000 - id))
            .rev()
            .collect();
        let trace = trace_of(spans);
        for max_units in [1, 2, 7, 100] {
            let mut job = LayoutJob::new(&trace);
            let laid_out = run_in_steps(&mut job, &trace, max_units, 2);
            assert!(laid_out == at_once(&trace), "budget {max_units}");
        }
    }

    #[test]
    fn every_stage_is_named_and_progress_reaches_the_total() {
        let trace = generate(3_000, 11);
        let mut job = LayoutJob::new(&trace);
        let mut stages = vec![job.stage()];
        let mut last = job.progress();
        let laid_out = loop {
            let result = job.step(&trace, 250);
            let progress = job.progress();
            assert!(progress.0 >= last.0 && progress.1 == last.1);
            last = progress;
            if stages.last() != Some(&job.stage()) {
                stages.push(job.stage());
            }
            if let Some(laid_out) = result {
                break laid_out;
            }
        };
        assert!(laid_out == at_once(&trace));
        assert_eq!(job.progress(), (17 * 3_000, 17 * 3_000));
        for stage in [
            "indexing span ids",
            "breaking parent cycles",
            "sorting children",
            "ordering rows",
            "self time",
            "critical path",
            "rows",
            "tree positions",
            "done",
        ] {
            assert!(stages.contains(&stage), "{stage} not in {stages:?}");
        }
        // Spent: nothing more to hand over, progress stays full.
        assert!(job.step(&trace, 1_000).is_none());
        assert_eq!(job.progress(), (17 * 3_000, 17 * 3_000));
    }

    #[test]
    fn a_trace_of_another_length_starts_the_job_over() {
        let first = generate(2_000, 1);
        let second = generate(2_500, 2);
        let mut job = LayoutJob::new(&first);
        for _ in 0..20 {
            assert!(job.step(&first, 1_000).is_none());
        }
        let (done_on_first, _) = job.progress();
        assert!(done_on_first > 10_000, "{done_on_first}");
        // The next step starts over on `second` and does one slice of it.
        assert!(job.step(&second, 1_000).is_none());
        let (done, total) = job.progress();
        assert_eq!(total, 17 * 2_500);
        assert!(done <= 1_000, "{done}");
        let laid_out = run_in_steps(&mut job, &second, 1_000, largest_piece(&second));
        assert!(laid_out == at_once(&second));
        // A spent job given a shorter trace starts over too.
        let third = generate(10, 3);
        assert!(job.step(&third, 3).is_none());
        assert_eq!(job.progress().1, 17 * 10);
        let laid_out = run_in_steps(&mut job, &third, 3, largest_piece(&third));
        assert!(laid_out == at_once(&third));
    }

    #[test]
    fn an_empty_trace_is_laid_out_in_one_step() {
        let trace = Trace::default();
        let mut job = LayoutJob::new(&trace);
        assert_eq!(job.progress(), (0, 0));
        let laid_out = job.step(&trace, 0);
        assert_eq!(laid_out, Some(at_once(&trace)));
        assert_eq!(job.progress(), (0, 0));
    }

    #[test]
    fn a_million_deep_chain_listed_leaf_first_is_laid_out_in_slices() {
        // Leaf first: the first cycle walk climbs the whole chain, across
        // many steps.
        let n_spans = 1_000_000u64;
        let spans = (1..=n_spans)
            .rev()
            .map(|id| span(id, id - 1, id, 3 * n_spans - id))
            .collect();
        let trace = trace_of(spans);
        let mut job = LayoutJob::new(&trace);
        let laid_out = run_in_steps(&mut job, &trace, 100_000, 2);
        let tree = &laid_out.waterfall.tree;
        assert_eq!(tree.roots().collect::<Vec<_>>(), vec![n_spans as usize - 1]);
        assert_eq!(tree.depth(0), n_spans as usize - 1);
        assert_eq!(
            laid_out.positions[n_spans as usize - 1].level,
            n_spans as u32
        );
        assert_eq!(
            laid_out.waterfall.critical_path.spans().count(),
            n_spans as usize
        );
    }

    #[test]
    fn a_ring_of_parents_is_broken_in_slices_as_at_once() {
        // 1 <- 2 <- … <- 5000 <- 1: one cycle, measured across steps.
        let spans = (1..=5_000u64)
            .map(|id| span(id, if id == 1 { 5_000 } else { id - 1 }, id % 7, 100))
            .collect();
        let trace = trace_of(spans);
        let mut job = LayoutJob::new(&trace);
        let laid_out = run_in_steps(&mut job, &trace, 64, largest_piece(&trace));
        assert!(laid_out == at_once(&trace));
        assert_eq!(laid_out.waterfall.tree.roots().len(), 1);
        assert!(laid_out.waterfall.tree.is_cycle_broken(7 - 1));
    }
}
