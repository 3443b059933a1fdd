//! Laying out the trace a waterfall is given: at once for a small trace,
//! in slices between the browser's other tasks for a large one, so a
//! million spans never freeze the page (`tracelab_trace::LayoutJob` does
//! the work and says how far it got; this only schedules it and shows the
//! progress, `wf-layout-progress`).
//!
//! While a new, large trace is laid out (a longer Live trace, another
//! sample), the last one stays on screen; while nothing, or an empty trace
//! (a page still waiting for its trace), is on screen, the progress shows
//! above it.

use std::sync::Arc;

use leptos::prelude::*;
use tracelab_trace::layout_job::{LaidOut, LayoutJob};
use tracelab_trace::minimap::{add_rows, empty_bands, Band};
use tracelab_trace::services::TraceServices;
use tracelab_trace::Trace;

use super::{count_spans, now_ms, Prepared, MINIMAP_BANDS, N_COLORS};

/// Traces with more spans than this are laid out in slices; smaller ones
/// at once (a few milliseconds), so the first frame already has them.
const SLICED_LAYOUT_SPANS: usize = 20_000;
/// Units of work (about a span through one pass) between looks at the clock.
const STEP_UNITS: usize = 2_000;
/// How long one slice may hold the browser's thread, in milliseconds.
pub(super) const SLICE_MS: f64 = 8.0;

/// How far the layout of a large trace is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LayoutProgress {
    pub n_spans: usize,
    pub done: usize,
    pub total: usize,
    pub stage: &'static str,
}

/// Everything a [`Prepared`] holds, made a step at a time: the layout
/// (`LayoutJob`), then the services' span counts, then the plain view's
/// minimap, each a pass over a million spans in a large trace.
pub(super) struct PrepareJob {
    trace: Arc<Trace>,
    colors: Arc<Vec<(String, usize)>>,
    /// The layout job's units in all.
    layout_units: usize,
    stage: Stage,
}

enum Stage {
    Layout(LayoutJob),
    Services {
        laid_out: LaidOut,
        services: TraceServices,
        counted: usize,
    },
    Minimap {
        laid_out: LaidOut,
        services: TraceServices,
        bands: Vec<Band>,
        added: usize,
    },
    /// Handed over (or between two stages, for an instant).
    Done,
}

impl PrepareJob {
    pub(super) fn new(trace: Arc<Trace>, colors: Arc<Vec<(String, usize)>>) -> PrepareJob {
        let job = LayoutJob::new(&trace);
        PrepareJob {
            layout_units: job.progress().1,
            stage: Stage::Layout(job),
            trace,
            colors,
        }
    }

    /// At most about `max_units` spans' work; the trace's [`Prepared`]
    /// once the last stage is done.
    pub(super) fn step(&mut self, max_units: usize) -> Option<Prepared> {
        let n_spans = self.trace.spans.len();
        let max_units = max_units.max(1);
        self.stage = match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Layout(mut job) => match job.step(&self.trace, max_units) {
                None => Stage::Layout(job),
                Some(laid_out) => Stage::Services {
                    laid_out,
                    services: TraceServices::uncounted(&self.trace, N_COLORS, &self.colors),
                    counted: 0,
                },
            },
            Stage::Services {
                laid_out,
                mut services,
                counted,
            } => {
                let from = counted;
                let counted = counted.saturating_add(max_units).min(n_spans);
                services.count(&self.trace, from..counted);
                if counted < n_spans {
                    Stage::Services {
                        laid_out,
                        services,
                        counted,
                    }
                } else {
                    Stage::Minimap {
                        bands: empty_bands(laid_out.rows.len(), MINIMAP_BANDS),
                        laid_out,
                        services,
                        added: 0,
                    }
                }
            }
            Stage::Minimap {
                laid_out,
                services,
                mut bands,
                added,
            } => {
                let n_rows = laid_out.rows.len();
                let from = added;
                let added = added.saturating_add(max_units).min(n_rows);
                add_rows(&mut bands, &laid_out.rows, from..added, &laid_out.waterfall);
                if added < n_rows {
                    Stage::Minimap {
                        laid_out,
                        services,
                        bands,
                        added,
                    }
                } else {
                    return Some(Prepared::new(self.trace.clone(), laid_out, services, bands));
                }
            }
            Stage::Done => Stage::Done,
        };
        None
    }

    /// How far it is: the layout's own units, then a unit a span for the
    /// services and one a row for the minimap.
    pub(super) fn progress(&self) -> LayoutProgress {
        let n_spans = self.trace.spans.len();
        let (done, stage) = match &self.stage {
            Stage::Layout(job) => (job.progress().0, job.stage()),
            Stage::Services { counted, .. } => {
                (self.layout_units + counted, "counting the services")
            }
            Stage::Minimap { added, .. } => {
                (self.layout_units + n_spans + added, "drawing the minimap")
            }
            Stage::Done => (self.layout_units + 2 * n_spans, "done"),
        };
        let total = self.layout_units + 2 * n_spans;
        LayoutProgress {
            n_spans,
            done: done.min(total),
            total,
            stage,
        }
    }
}

/// `trace` at once, for a small trace.
pub(super) fn at_once(trace: Arc<Trace>, colors: Arc<Vec<(String, usize)>>) -> Prepared {
    let mut job = PrepareJob::new(trace, colors);
    loop {
        if let Some(prepared) = job.step(usize::MAX) {
            return prepared;
        }
    }
}

/// Runs `step` (a little work; `Some` once finished) in slices of at most
/// [`SLICE_MS`], the browser's other tasks running in between. Before each
/// slice `wanted` is asked, and `false` abandons the work (`None`); after
/// each unfinished slice `progress` is called.
pub(super) async fn in_slices<T>(
    mut step: impl FnMut() -> Option<T>,
    wanted: impl Fn() -> bool,
    mut progress: impl FnMut(),
) -> Option<T> {
    loop {
        crate::export::next_task().await;
        if !wanted() {
            return None;
        }
        let started = now_ms();
        loop {
            if let Some(done) = step() {
                return Some(done);
            }
            if now_ms() - started >= SLICE_MS {
                break;
            }
        }
        progress();
    }
}

/// Lays out each trace `trace` holds into `laid_out`; `progress` says how
/// far a large one is. A newer trace stops the layout under way.
pub(super) fn lay_out(
    trace: Signal<Arc<Trace>>,
    colors: Arc<Vec<(String, usize)>>,
    laid_out: RwSignal<Option<Arc<Prepared>>>,
    status: LayoutStatus,
) {
    let first = trace.get_untracked();
    if first.spans.len() <= SLICED_LAYOUT_SPANS {
        laid_out.set(Some(Arc::new(at_once(first, colors.clone()))));
    }
    let latest = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let trace = trace.get();
        let shown = laid_out.with_untracked(|shown| {
            shown
                .as_ref()
                .is_some_and(|shown| Arc::ptr_eq(&shown.trace, &trace))
        });
        let run = latest.get_value().wrapping_add(1);
        latest.set_value(run);
        if shown {
            status.clear();
            return;
        }
        if trace.spans.len() <= SLICED_LAYOUT_SPANS {
            laid_out.set(Some(Arc::new(at_once(trace, colors.clone()))));
            status.clear();
            return;
        }
        // Progress is shown while nothing (or an empty trace) is on screen;
        // a trace that replaces one with spans keeps that one shown quietly.
        let shows_progress = laid_out.with_untracked(|shown| {
            shown
                .as_ref()
                .is_none_or(|shown| shown.trace.spans.is_empty())
        });
        let job = std::cell::RefCell::new(PrepareJob::new(trace, colors.clone()));
        leptos::task::spawn_local(async move {
            let progress = || {
                if shows_progress {
                    status.show(job.borrow().progress());
                }
            };
            progress();
            let wanted = || latest.try_get_value() == Some(run);
            let finished = in_slices(|| job.borrow_mut().step(STEP_UNITS), wanted, progress).await;
            // Drawn in a task of its own: the last slice has had its time.
            crate::export::next_task().await;
            if let (Some(finished), true) = (finished, wanted()) {
                laid_out.set(Some(Arc::new(finished)));
                status.clear();
            }
        });
    });
}

/// How far the layout under way is, for the page: the units done of all
/// (a signal of a type the app already has: each new signal type costs the
/// bundle its own reactive code), and the trace's size and the stage.
#[derive(Clone, Copy)]
pub(super) struct LayoutStatus {
    done_of: RwSignal<Option<(usize, usize)>>,
    about: StoredValue<(usize, &'static str)>,
}

impl LayoutStatus {
    pub(super) fn new() -> LayoutStatus {
        LayoutStatus {
            done_of: RwSignal::new(None),
            about: StoredValue::new((0, "")),
        }
    }

    fn show(self, progress: LayoutProgress) {
        self.about.set_value((progress.n_spans, progress.stage));
        self.done_of.set(Some((progress.done, progress.total)));
    }

    fn clear(self) {
        self.done_of.set(None);
    }

    /// The progress of the first layout, in place of the list.
    pub(super) fn view(self) -> impl IntoView {
        move || {
            let (done, total) = self.done_of.get()?;
            let (n_spans, stage) = self.about.get_value();
            Some(view! {
                <p class="work-progress" data-testid="wf-layout-progress" aria-live="polite">
                    <label>
                        {format!("Laying out {}: {stage}… ", count_spans(n_spans))}
                        <progress value=done.to_string() max=total.to_string()></progress>
                    </label>
                </p>
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_prepared_in_steps_is_the_trace_prepared_at_once() {
        let trace = Arc::new(tracelab_trace::generate(30_000, 4));
        let colors = Arc::new(vec![("db".to_owned(), 5)]);
        let whole = at_once(trace.clone(), colors.clone());
        let mut job = PrepareJob::new(trace.clone(), colors);
        let mut last = job.progress();
        assert_eq!((last.done, last.n_spans), (0, 30_000));
        let mut stages = vec![last.stage];
        let stepped = loop {
            let done = job.step(1_000);
            let now = job.progress();
            assert!(now.done >= last.done, "progress never goes back");
            assert_eq!(now.total, last.total, "the total is fixed");
            if stages.last() != Some(&now.stage) {
                stages.push(now.stage);
            }
            last = now;
            if let Some(done) = done {
                break done;
            }
        };
        assert_eq!(last.done, last.total, "done at the end");
        assert!(stages.contains(&"counting the services"), "{stages:?}");
        assert!(stages.contains(&"drawing the minimap"), "{stages:?}");
        assert!(Arc::ptr_eq(&stepped.trace, &trace));
        assert_eq!(stepped.layout, whole.layout);
        assert_eq!(stepped.services, whole.services);
        assert_eq!(stepped.plain_rows, whole.plain_rows);
        assert_eq!(stepped.plain_places, whole.plain_places);
        assert_eq!(stepped.plain_bands, whole.plain_bands);
        let counted: usize = stepped.services.entries().iter().map(|s| s.n_spans).sum();
        assert_eq!(counted, 30_000, "each span counted once");
        assert_eq!(stepped.plain_bands.len(), MINIMAP_BANDS);
    }
}
