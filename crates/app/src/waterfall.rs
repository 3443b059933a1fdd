//! The trace waterfall: one component for every page that shows a trace.
//!
//! It only draws what `tracelab-trace` computes. The page hands [`Waterfall`]
//! a trace as a signal: a new trace can replace the one on screen, or a
//! longer one (spans still arriving) extend it, and the view follows in
//! place. The layout ([`tracelab_trace::Waterfall`]: tree, times, self time,
//! critical path, notes, and the rows of the plain view) is computed from
//! the trace outside rendering, once per trace: at once for a small trace,
//! in slices between the browser's other tasks for a large one (a million
//! spans), with a progress bar in place of the list until the first is
//! ready; the visible rows follow from it, the collapse state and the
//! filter (`visible_rows`). What the person chose (the selected
//! span, the collapsed spans, the subtree shown alone, the filter, the zoom,
//! recorded or adjusted times) is kept by span id, not by position, so it
//! survives a new trace or new spans.
//!
//! Only the rows inside the scroller's viewport plus a few above and below
//! are in the DOM: a 100,000-span trace has a few dozen row elements, inside
//! a canvas as tall as all the rows (fixed row height), so the browser's own
//! scrollbar and smooth scrolling work as for a plain list. The selected row
//! stays in the DOM wherever the list is scrolled, as the treegrid's
//! `aria-activedescendant`; rows carry `aria-level`, `aria-setsize` and
//! `aria-posinset` (`tracelab_trace::treegrid`), and the summary reaches
//! screen readers once it rests, not at every keystroke in the filter.
//! Keys are decided by `tracelab_trace::keys` (a key with Ctrl, Cmd or Alt is
//! left to the browser). The axis follows the list's own width (a
//! `ResizeObserver`), not only the window's.
//!
//! Zoom is a time range the bars are drawn on (drag on the axis or the
//! minimap, `z` on a span, `0` or a double-click for the whole trace); the
//! minimap draws the visible rows in a fixed number of bands
//! (`tracelab_trace::minimap`), so it too costs the same few elements at any
//! trace size.
//!
//! A subtree can be shown alone (re-rooting, as Zipkin Lens does: `r` or
//! the details' "Only this subtree"), zoomed to the time it covers. Clock
//! skew is marked and never silently corrected; the opt-in adjusted view
//! (the "Adjust clock skew" switch, offered when there is skew) draws the
//! rows from `Waterfall::build_adjusted`, marks each moved subtree
//! (`⇄ moved`, with how far and why) and says how many it moved.
//!
//! Where each part lives:
//! - this file: the component, the trace it draws (`Prepared`) and the
//!   view state (`ViewState`) that every part reads;
//! - `layout`: laying out each trace, at once or in slices, and the
//!   progress shown meanwhile;
//! - [`link`]: the view as a page keeps it in its link ([`WaterfallView`]);
//! - `toolbar`: the filter box, the switches, the summary and the notes
//!   above the list; `axis`: the time axis, the zoom and the drag that
//!   sets it; `minimap`; `list`: the virtual list (which rows are in the
//!   DOM, scrolling, measuring); `row`: one row; `keys`: what a key does
//!   to the view; `details`: the span's details; `help`: the keys' help
//!   dialog; `active`: which waterfall on a page answers `/` and `?`;
//!   `resize`: the `ResizeObserver`.
//!
//! Stable hooks for tests: `wf-layout-progress` (while a large trace is
//! first laid out), `wf-row` (with `data-span-id`, `data-service`,
//! `data-color` (the service's colour slot, as in the legend),
//! `data-depth`, `data-critical="true"` on the critical path, `data-match`
//! on filter matches, `aria-rowindex` counting from 1), `wf-bar`,
//! `wf-match-marker` (a match's text marker), `wf-tick`, `wf-column` (the
//! column headers), `wf-legend-item`, `wf-announce` (the summary as
//! announced), `wf-details`,
//! `wf-filter`, `wf-orphan`, `wf-skew`; also `wf-scroller` (the scrolling
//! list, with `aria-rowcount`), `wf-filter-hide`, `wf-summary`, `wf-help`
//! (the keys help, while open),
//! `wf-toggle`, `wf-no-match`, `wf-query-note` (the filter words not
//! understood, with the syntax), `wf-link-note`, `wf-details-span-id`,
//! `wf-details-traceparent`, `wf-axis`, `wf-minimap`, `wf-zoom-reset`,
//! `wf-reroot` (the details' button), `wf-root-note` and `wf-root-reset`
//! (shown while a subtree is shown alone), `wf-adjust` (the switch),
//! `wf-adjust-note`, `wf-adjusted` (the marker on a moved subtree's row) and
//! `wf-details-adjusted`; the
//! root `.wf` has `data-active="true"` on the waterfall that answers `/` and
//! `?` (the one last focused or clicked, else the first on the page).
//!
//! View state that a page may keep in its URL comes in as [`WaterfallView`]
//! and goes out through `on_view_change`; [`link`] holds the one fragment
//! format the trace pages share, and the page says what it could not read
//! through `link_note`, shown with what the waterfall itself could not apply
//! (a selected or collapsed span that is not in the trace) as one
//! `wf-link-note`.

mod active;
mod axis;
mod details;
mod help;
mod keys;
mod layout;
pub mod link;
mod list;
mod minimap;
mod resize;
mod row;
mod toolbar;
// The filter box's syntax is read in `tracelab-trace`, with no DOM.
pub use tracelab_trace::query;

pub use link::{WaterfallView, MAX_VIEW_COLLAPSED};

use std::collections::BTreeSet;
use std::sync::Arc;

use leptos::html;
use leptos::prelude::*;
use tracelab_trace::axis::TimeWindow;
use tracelab_trace::layout_job::LaidOut;
use tracelab_trace::minimap::{bands, Band};
use tracelab_trace::scroll::ScrollMap;
use tracelab_trace::services::TraceServices;
use tracelab_trace::treegrid::{tree_positions, TreePosition};
use tracelab_trace::view::{
    position_of, visible_rows, CollapseState, FilterJob, FilterMatches, FilterMode, ViewOptions,
    VisibleRow,
};
use tracelab_trace::{SpanId, Trace};

use query::{parse_query, truncate_chars, ParsedQuery, MAX_QUERY_CHARS};

/// Height of one row in CSS pixels; `--wf-row-height` in `www/waterfall.css`
/// must say the same, as the window of rendered rows is computed from it.
pub const ROW_HEIGHT_PX: f64 = 24.0;
/// The tallest the list's canvas is made, in CSS pixels: under the most a
/// browser lets one element be (about 17.9 million in Firefox). Past it
/// the scroll position maps to rows by scale (`tracelab_trace::scroll`).
const MAX_CANVAS_PX: f64 = 15_000_000.0;
/// Traces with more spans than this are filtered in slices, the browser
/// answering the keyboard in between; smaller ones at once.
const FILTER_SLICE_SPANS: usize = 5_000;
/// Height of the sticky time axis at the top of the scroller
/// (`--wf-axis-height` in the stylesheet).
const AXIS_HEIGHT_PX: f64 = 28.0;
/// Service colours in the stylesheet (`--wf-svc-0` … `--wf-svc-7`); more
/// services than this share colours, and the legend shows which.
const N_COLORS: usize = 8;
/// Bands in the minimap: each draws the time extent of its share of the
/// rows, a fixed number so the minimap costs the same few elements at any
/// size.
const MINIMAP_BANDS: usize = 48;

/// A number for a style or an SVG path, with `.1` digits after the point
/// (rounded): the waterfall's sizes and positions. Written with integers,
/// not the float printer, which would cost the trace pages' app about
/// 5 KB gzipped (BENCHMARKS.md, bundle); NaN reads as 0 and a value past
/// `u64` as the largest.
#[derive(Clone, Copy, Debug)]
struct Fixed(f64, u32);

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Fixed(value, decimals) = *self;
        let scale = 10_u64.pow(decimals.min(9));
        // `as` saturates, and reads NaN as 0.
        let scaled = (value.abs() * scale as f64).round() as u64;
        if value.is_sign_negative() && scaled > 0 {
            f.write_str("-")?;
        }
        write!(f, "{}", scaled / scale)?;
        if scale > 1 {
            write!(
                f,
                ".{:0width$}",
                scaled % scale,
                width = decimals.min(9) as usize
            )?;
        }
        Ok(())
    }
}

/// `n` with thousands separated by commas: `100,000`.
pub fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// `1 span`, `10,000 spans`.
pub fn count_spans(n: usize) -> String {
    if n == 1 {
        "1 span".to_owned()
    } else {
        format!("{} spans", group_thousands(n))
    }
}

/// A trace with what every part of the view draws from it and that does
/// not change with the view, computed once per trace (and once more for
/// the adjusted times, when asked for).
struct Prepared {
    trace: Arc<Trace>,
    layout: tracelab_trace::Waterfall,
    services: TraceServices,
    /// The rows of the plain view (no subtree alone, nothing collapsed, no
    /// filter) and their places in the tree grid: what a trace first
    /// shows, so a large one's are made with its layout, in its slices.
    plain_rows: Arc<Vec<VisibleRow>>,
    plain_places: Arc<Vec<TreePosition>>,
    /// The plain view's minimap bands.
    plain_bands: Arc<Vec<Band>>,
    /// Which layout this is, unique on the page: the rows drawn from it and
    /// a large trace's filter matches are for it alone (a new trace, or the
    /// adjusted times, draw the rows again). A counter, not an address,
    /// which a freed layout's successor may reuse.
    generation: u64,
}

thread_local! {
    static NEXT_GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A generation no [`Prepared`] had before.
fn next_generation() -> u64 {
    NEXT_GENERATION.with(|next| {
        let generation = next.get();
        next.set(generation.wrapping_add(1));
        generation
    })
}

/// Two [`Prepared`] are the same only if they are one: a memo of one then
/// tells its readers about every new trace, and compares in constant time.
impl PartialEq for Prepared {
    fn eq(&self, other: &Prepared) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Prepared {
    /// The trace laid out (see `layout::PrepareJob`, which makes the
    /// parts).
    fn new(
        trace: Arc<Trace>,
        laid_out: LaidOut,
        services: TraceServices,
        plain_bands: Vec<Band>,
    ) -> Prepared {
        Prepared {
            layout: laid_out.waterfall,
            services,
            plain_rows: Arc::new(laid_out.rows),
            plain_places: Arc::new(laid_out.positions),
            plain_bands: Arc::new(plain_bands),
            trace,
            generation: next_generation(),
        }
    }

    /// The same trace and colours with the adjusted view's times (the same
    /// tree, so the same plain rows; the minimap follows the times).
    fn adjusted(&self) -> Prepared {
        let layout = tracelab_trace::Waterfall::build_adjusted(&self.trace);
        Prepared {
            plain_bands: Arc::new(bands(&self.plain_rows, &layout, MINIMAP_BANDS)),
            layout,
            trace: self.trace.clone(),
            services: self.services.clone(),
            plain_rows: self.plain_rows.clone(),
            plain_places: self.plain_places.clone(),
            generation: next_generation(),
        }
    }

    fn color_idx(&self, span_idx: usize) -> usize {
        self.services.color_of_span(&self.trace, span_idx)
    }

    /// Where span `span_idx` starts, in nanoseconds from the trace start.
    fn start_offset(&self, span_idx: usize) -> u64 {
        self.layout.start_offset(span_idx)
    }

    /// The whole trace.
    fn full_window(&self) -> TimeWindow {
        let (start, end) = self.layout.bounds();
        // `TimeWindow::new` keeps it at least 1 ns long, so positions divide.
        TimeWindow::new(0, end.saturating_sub(start))
    }

    /// The span with id `span_id`, if it is in this trace.
    fn find(&self, span_id: SpanId) -> Option<usize> {
        self.layout.tree.find(span_id)
    }

    fn span_id(&self, span_idx: usize) -> Option<SpanId> {
        self.trace.spans.get(span_idx).map(|span| span.span_id)
    }

    /// The span whose id is `hex` (16 hex digits), if any.
    fn find_hex(&self, hex: &str) -> Option<usize> {
        let id = tracelab_context::SpanId::from_hex(hex)?;
        self.find(SpanId(id.to_bytes()))
    }
}

/// A link's view read against a trace: what it selects, collapses, shows
/// alone and zooms to, by span id, and one note on what the trace lacks
/// (with `note`, what the page itself could not read).
struct LinkApplied {
    selected: Option<SpanId>,
    collapsed: BTreeSet<SpanId>,
    root: Option<SpanId>,
    zoom: Option<TimeWindow>,
    note: Option<String>,
}

impl LinkApplied {
    fn read(first: &Prepared, initial: &WaterfallView, note: Option<String>) -> LinkApplied {
        // An empty trace (a page still waiting for its trace) says nothing
        // yet: the whole note comes with the trace.
        let has_spans = !first.trace.spans.is_empty();
        let mut link_notes: Vec<String> = note.into_iter().filter(|_| has_spans).collect();
        let initial_span = initial
            .span_id
            .as_deref()
            .and_then(|hex| first.find_hex(hex));
        if let (Some(hex), None, true) = (&initial.span_id, initial_span, has_spans) {
            link_notes.push(format!(
                "The link names span {hex}, which is not in this trace."
            ));
        }
        // At most MAX_VIEW_COLLAPSED ids.
        let collapsed_at_start: Vec<Option<usize>> = initial
            .collapsed
            .iter()
            .map(|hex| first.find_hex(hex))
            .collect();
        if has_spans && collapsed_at_start.iter().any(Option::is_none) {
            link_notes.push(
                "Some spans the link collapses are not in this trace, so they were left out."
                    .to_owned(),
            );
        }
        let initial_root = initial.root.as_deref().and_then(|hex| first.find_hex(hex));
        if let (Some(hex), None, true) = (&initial.root, initial_root, has_spans) {
            link_notes.push(format!(
                "The link shows the subtree of span {hex}, which is not in this trace, so the whole trace is shown."
            ));
        }
        let full = first.full_window();
        let id_of = |span_idx: Option<usize>| span_idx.and_then(|span_idx| first.span_id(span_idx));
        LinkApplied {
            selected: id_of(initial_span),
            collapsed: collapsed_at_start
                .iter()
                .filter_map(|span_idx| id_of(*span_idx))
                .collect(),
            root: id_of(initial_root),
            // A zoom from the link is kept only where it lies inside the trace.
            zoom: initial.zoom.and_then(|(start, end)| {
                (has_spans && start < end && start < full.end)
                    .then(|| TimeWindow::new(start, end.min(full.end)))
            }),
            note: (!link_notes.is_empty()).then(|| link_notes.join(" ")),
        }
    }
}

/// The view state of one waterfall, shared by all its parts: what the
/// person chose, by span id (it outlives a new trace, new spans and the
/// switch between recorded and adjusted times), and what follows from it
/// for the trace on screen, by span index (memos: computed once per change,
/// read by every part).
#[derive(Clone, Copy)]
struct ViewState {
    // What the person chose.
    selected: RwSignal<Option<SpanId>>,
    details_open: RwSignal<bool>,
    query: RwSignal<String>,
    mode: RwSignal<FilterMode>,
    collapsed: RwSignal<BTreeSet<SpanId>>,
    zoom: RwSignal<Option<TimeWindow>>,
    /// The span whose subtree alone is shown.
    root: RwSignal<Option<SpanId>>,
    adjusted: RwSignal<bool>,
    help_open: RwSignal<bool>,

    // The trace on screen and what follows from it.
    prepared: Memo<Arc<Prepared>>,
    parsed: Memo<ParsedQuery>,
    selected_idx: Memo<Option<usize>>,
    root_idx: Memo<Option<usize>>,
    matches: Memo<Option<Arc<FilterMatches>>>,
    /// While a large trace is being filtered: spans matched so far, of all.
    filtering: RwSignal<Option<(usize, usize)>>,
    rows: Memo<Arc<Vec<VisibleRow>>>,
    /// Each row's level and place among its visible siblings, for the
    /// screen reader (the browser cannot count rows that are not in the DOM).
    places: Memo<Arc<Vec<TreePosition>>>,
    /// Where the selected span is among the visible rows, if it is one.
    selected_position: Memo<Option<usize>>,
    full_window: Memo<TimeWindow>,
    /// The zoom, or the whole trace: what the bars are drawn on.
    time_window: Memo<TimeWindow>,

    // The list's geometry and elements.
    /// A drag in progress on the axis or the minimap.
    drag: RwSignal<Option<axis::Drag>>,
    axis_track: NodeRef<html::Span>,
    /// The axis's width in CSS pixels; 0 until measured.
    axis_px: RwSignal<f64>,
    minimap: NodeRef<html::Div>,
    scroll_top: RwSignal<f64>,
    viewport_px: RwSignal<f64>,
    /// How the scroll position maps to rows (one to one unless the rows
    /// are taller than a canvas may be).
    scroll_map: Memo<ScrollMap>,
    scroller: NodeRef<html::Div>,
    filter_input: NodeRef<html::Input>,
    /// This waterfall's id among those on the page (see [`active`]).
    instance: u64,
}

impl ViewState {
    /// Selects span `span_idx` of the trace on screen.
    fn select(self, span_idx: usize) {
        let span_id = self
            .prepared
            .with_untracked(|prepared| prepared.span_id(span_idx));
        if span_id.is_some() {
            self.selected.set(span_id);
        }
    }

    /// Collapses (`Some(true)`), expands (`Some(false)`) or toggles
    /// (`None`) span `span_idx`.
    fn set_collapsed(self, span_idx: usize, collapse: Option<bool>) {
        let Some(span_id) = self
            .prepared
            .with_untracked(|prepared| prepared.span_id(span_idx))
        else {
            return;
        };
        self.collapsed.update(|collapsed| {
            let now = collapse.unwrap_or(!collapsed.contains(&span_id));
            if now {
                collapsed.insert(span_id);
            } else {
                collapsed.remove(&span_id);
            }
        });
    }

    /// Re-rooting (as Zipkin Lens does): only the subtree of `span_idx` is
    /// listed, zoomed to the time it covers (a little margin each side), its
    /// root selected and at the top; `None` lists the whole trace again,
    /// unzoomed.
    fn set_root(self, span_idx: Option<usize>) {
        let (root_id, window) = self.prepared.with_untracked(|prepared| {
            let Some(span_idx) = span_idx else {
                return (None, None);
            };
            let (start, end) = prepared.layout.subtree_extent(span_idx);
            let full = prepared.full_window();
            (
                prepared.span_id(span_idx),
                Some(TimeWindow::around(start, end, 50, full.end)),
            )
        });
        self.root.set(root_id);
        self.zoom.set(window);
        if root_id.is_some() {
            self.selected.set(root_id);
        }
        if let Some(element) = self.scroller.get_untracked() {
            element.set_scroll_top(0);
        }
        self.scroll_top.set(0.0);
        if let Some(position) = self.selected_position.get_untracked() {
            list::scroll_to_position(self, position);
        }
    }

    /// The view as a page keeps it in its link.
    fn link_view(self) -> WaterfallView {
        let hex = |span_id: Option<SpanId>| span_id.map(|span_id| span_id.to_string());
        WaterfallView {
            span_id: hex(self.selected.get()),
            query: self.query.get(),
            zoom: self.zoom.get().map(|window| (window.start, window.end)),
            // In the trace's span order, the first MAX_VIEW_COLLAPSED; a
            // collapsed span not in this trace has no place in it.
            collapsed: self.prepared.with(|prepared| {
                let mut indexes: Vec<usize> = self
                    .collapsed
                    .with(|ids| ids.iter().filter_map(|id| prepared.find(*id)).collect());
                indexes.sort_unstable();
                indexes
                    .into_iter()
                    .take(MAX_VIEW_COLLAPSED)
                    .filter_map(|span_idx| hex(prepared.span_id(span_idx)))
                    .collect()
            }),
            highlight: self.mode.get() == FilterMode::Highlight,
            root: hex(self.root.get()),
            adjusted: self.adjusted.get(),
        }
    }
}

/// Filters a trace of more than [`FILTER_SLICE_SPANS`] spans whenever the
/// filter or the trace changes, a slice per task, and puts the matches in
/// `sliced` with the layout they are for; `filtering` says how far it got.
/// A newer filter or trace stops the one under way.
fn filter_in_slices(
    prepared: Memo<Arc<Prepared>>,
    parsed: Memo<ParsedQuery>,
    sliced: RwSignal<Option<(u64, Arc<FilterMatches>)>>,
    filtering: RwSignal<Option<(usize, usize)>>,
) {
    let latest = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let filter = parsed.with(|parsed| parsed.filter.clone());
        let prepared = prepared.get();
        let run = latest.get_value().wrapping_add(1);
        latest.set_value(run);
        if filter.is_empty() || prepared.trace.spans.len() <= FILTER_SLICE_SPANS {
            filtering.set(None);
            return;
        }
        let n_spans = prepared.trace.spans.len();
        filtering.set(Some((0, n_spans)));
        leptos::task::spawn_local(async move {
            let job = std::cell::RefCell::new(FilterJob::new(&filter, n_spans));
            // Let the keyboard in between slices: a key typed meanwhile
            // starts a newer run, and this one stops.
            let finished = layout::in_slices(
                || {
                    let layout = &prepared.layout;
                    job.borrow_mut()
                        .step(&prepared.trace, &layout.tree, &layout.times, 1_000)
                },
                || latest.try_get_value() == Some(run),
                || filtering.set(Some(job.borrow().progress())),
            )
            .await;
            if let Some(matches) = finished {
                sliced.set(Some((prepared.generation, Arc::new(matches))));
                filtering.set(None);
            }
        });
    });
}

/// The page's clock, in milliseconds.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map_or(0.0, |performance| performance.now())
}

/// The waterfall of `trace`, with its filter, legend, details panel and
/// help dialog. `trace` may change: the view follows, keeping what the
/// person chose.
#[component]
pub fn Waterfall(
    /// The trace to show: a plain `Arc<Trace>`, or a signal for a trace that
    /// is replaced or grows while shown.
    #[prop(into)]
    trace: Signal<Arc<Trace>>,
    /// The view to start with (from the page's URL).
    #[prop(optional)]
    initial: WaterfallView,
    /// What the page could not read from its link, shown first in the
    /// waterfall's `wf-link-note`.
    #[prop(optional_no_strip)]
    link_note: Option<String>,
    /// Called when any part of the view changes (not on load).
    #[prop(optional)]
    on_view_change: Option<Callback<WaterfallView>>,
    /// A fixed colour slot (`--wf-svc-N`) for each named service, for a page
    /// whose other parts (a hop list, a second waterfall) colour services
    /// too; without it, services take colours in the order the trace lists
    /// them.
    #[prop(optional)]
    service_colors: Option<Vec<(String, usize)>>,
) -> impl IntoView {
    let colors = Arc::new(service_colors.unwrap_or_default());
    // The layout of each trace, once (in slices for a large one, see
    // `layout`); the list waits for the first.
    let laid_out = RwSignal::new(None::<Arc<Prepared>>);
    let status = layout::LayoutStatus::new();
    layout::lay_out(trace, colors, laid_out, status);
    let ready = Memo::new(move |_| laid_out.with(Option::is_some));
    // The progress of a layout with nothing (or an empty trace) on screen,
    // then the waterfall, drawn once `ready` changes, which it does once.
    let body = move || {
        if !ready.get() {
            return ().into_any();
        }
        let (initial, link_note) = (initial.clone(), link_note.clone());
        // `laid_out` holds a layout from now on.
        let plain = Memo::new(move |previous: Option<&Arc<Prepared>>| {
            laid_out
                .get()
                .or_else(|| previous.cloned())
                .unwrap_or_else(|| Arc::new(layout::at_once(Arc::default(), Arc::default())))
        });
        waterfall_body(plain, initial, link_note, on_view_change).into_any()
    };
    view! {
        {status.view()}
        {body}
    }
}

/// The waterfall of the layouts `plain` holds, once the first is ready.
fn waterfall_body(
    plain: Memo<Arc<Prepared>>,
    initial: WaterfallView,
    link_note: Option<String>,
    on_view_change: Option<Callback<WaterfallView>>,
) -> impl IntoView {
    let adjusted = RwSignal::new(initial.adjusted);
    let adjusted_layout: StoredValue<Option<Arc<Prepared>>> = StoredValue::new(None);
    let prepared = Memo::new(move |_| {
        let plain = plain.get();
        if !adjusted.get() {
            return plain;
        }
        adjusted_layout
            .try_update_value(|cached| {
                match cached {
                    Some(layout) if Arc::ptr_eq(&layout.trace, &plain.trace) => {}
                    _ => *cached = Some(Arc::new(plain.adjusted())),
                }
                cached.clone()
            })
            .flatten()
            .unwrap_or(plain)
    });

    // The link is read against the first trace; what it names that this
    // trace lacks is said once, and the rest applies.
    // The link is read against the first trace with spans: a page still
    // waiting for its trace may show the waterfall with an empty one first
    // (the Sample page does), and its link then applies when the trace
    // comes.
    let link_note_given = link_note;
    let first = prepared.get_untracked();
    let applied = LinkApplied::read(&first, &initial, link_note_given.clone());
    let waiting_for_spans = first.trace.spans.is_empty();
    drop(first);
    let selected = RwSignal::new(applied.selected);
    let collapsed = RwSignal::new(applied.collapsed);
    let root = RwSignal::new(applied.root);
    let link_note = RwSignal::new(applied.note);
    let details_open = RwSignal::new(applied.selected.is_some());

    let query = RwSignal::new(truncate_chars(&initial.query, MAX_QUERY_CHARS).to_owned());
    // Hide by default: a filter that only highlights leaves the matches of a
    // large trace scattered among thousands of rows.
    let mode = RwSignal::new(if initial.highlight {
        FilterMode::Highlight
    } else {
        FilterMode::Hide
    });
    let zoom = RwSignal::new(applied.zoom);
    let parsed: Memo<ParsedQuery> = Memo::new(move |_| query.with(|text| parse_query(text)));
    let find = move |span_id: Option<SpanId>| {
        let span_id = span_id?;
        prepared.with(|prepared| prepared.find(span_id))
    };
    let selected_idx = Memo::new(move |_| find(selected.get()));
    let root_idx = Memo::new(move |_| find(root.get()));
    let collapse_state = Memo::new(move |_| {
        prepared.with(|prepared| {
            let mut state = CollapseState::new();
            collapsed.with(|ids| {
                for span_idx in ids.iter().filter_map(|id| prepared.find(*id)) {
                    state.collapse(span_idx);
                }
            });
            state
        })
    });
    // A large trace is filtered in slices (see `filter_in_slices`); until
    // its new matches are ready, the last ones for this trace stay shown.
    let sliced: RwSignal<Option<(u64, Arc<FilterMatches>)>> = RwSignal::new(None);
    let filtering = RwSignal::new(None::<(usize, usize)>);
    let matches: Memo<Option<Arc<FilterMatches>>> = Memo::new(move |_| {
        parsed.with(|parsed| {
            if parsed.filter.is_empty() {
                return None;
            }
            prepared.with(|prepared| {
                if prepared.trace.spans.len() > FILTER_SLICE_SPANS {
                    return sliced.with(|sliced| match sliced {
                        Some((for_layout, matches)) if *for_layout == prepared.generation => {
                            Some(matches.clone())
                        }
                        _ => None,
                    });
                }
                let layout = &prepared.layout;
                Some(Arc::new(parsed.filter.apply(
                    &prepared.trace,
                    &layout.tree,
                    &layout.times,
                )))
            })
        })
    });
    filter_in_slices(prepared, parsed, sliced, filtering);
    let rows: Memo<Arc<Vec<VisibleRow>>> = Memo::new(move |_| {
        let matches = matches.get();
        let mode = mode.get();
        let root = root_idx.get();
        prepared.with(|prepared| {
            collapse_state.with(|collapsed| {
                // Nothing chosen: the rows made with the layout.
                if matches.is_none() && root.is_none() && collapsed.iter().next().is_none() {
                    return prepared.plain_rows.clone();
                }
                Arc::new(visible_rows(
                    &prepared.layout.tree,
                    &ViewOptions {
                        root,
                        collapsed,
                        filter: matches.as_deref().map(|matches| (matches, mode)),
                    },
                ))
            })
        })
    });
    let places: Memo<Arc<Vec<TreePosition>>> = Memo::new(move |_| {
        let rows = rows.get();
        prepared.with(|prepared| {
            if Arc::ptr_eq(&rows, &prepared.plain_rows) {
                prepared.plain_places.clone()
            } else {
                Arc::new(tree_positions(&rows))
            }
        })
    });
    let selected_position = Memo::new(move |_| {
        let span_idx = selected_idx.get()?;
        prepared
            .with(|prepared| rows.with(|rows| position_of(rows, &prepared.layout.tree, span_idx)))
    });
    let full_window = Memo::new(move |_| prepared.with(|prepared| prepared.full_window()));
    // A zoom past the end of a new, shorter trace shows the whole trace.
    let time_window = Memo::new(move |_| {
        let full = full_window.get();
        zoom.get()
            .filter(|window| window.start < full.end)
            .unwrap_or(full)
    });

    let viewport_px = RwSignal::new(600.0);
    // The rows' viewport is the scroller's, less the sticky axis over it.
    let scroll_map = Memo::new(move |_| {
        ScrollMap::new(
            rows.with(|rows| rows.len()),
            ROW_HEIGHT_PX,
            viewport_px.get() - AXIS_HEIGHT_PX,
            MAX_CANVAS_PX,
        )
    });
    let state = ViewState {
        selected,
        details_open,
        query,
        mode,
        collapsed,
        zoom,
        root,
        adjusted,
        help_open: RwSignal::new(false),
        prepared,
        parsed,
        selected_idx,
        root_idx,
        matches,
        filtering,
        rows,
        places,
        selected_position,
        full_window,
        time_window,
        drag: RwSignal::new(None),
        axis_track: NodeRef::new(),
        axis_px: RwSignal::new(0.0),
        minimap: NodeRef::new(),
        scroll_top: RwSignal::new(0.0),
        viewport_px,
        scroll_map,
        scroller: NodeRef::new(),
        filter_input: NodeRef::new(),
        instance: active::register(),
    };
    keys::listen_page_keys(state);
    on_cleanup(move || active::unregister(state.instance));

    // The link applied when the first trace with spans comes: its view is
    // the URL's, not a change to report.
    let applying_link = StoredValue::new(false);
    if waiting_for_spans {
        let pending = StoredValue::new(Some((initial.clone(), link_note_given)));
        Effect::new(move |_| {
            let applied = prepared.with(|prepared| {
                if prepared.trace.spans.is_empty() {
                    return None;
                }
                let (initial, note) = pending.try_update_value(Option::take).flatten()?;
                Some(LinkApplied::read(prepared, &initial, note))
            });
            let Some(applied) = applied else {
                return;
            };
            applying_link.set_value(true);
            selected.set(applied.selected);
            collapsed.set(applied.collapsed);
            root.set(applied.root);
            zoom.set(applied.zoom);
            details_open.set(applied.selected.is_some());
            link_note.set(applied.note);
            // Once the rows are drawn, bring the linked span into view, as
            // the list does for a link it opens with.
            request_animation_frame(move || list::bring_selected_into_view(state));
        });
    }
    if let Some(on_view_change) = on_view_change {
        Effect::new(move |ran_before: Option<()>| {
            let view = state.link_view();
            // The first run sees the state just read from the URL, as does
            // the run after a link applied late.
            let applying = applying_link
                .try_update_value(|applying| std::mem::replace(applying, false))
                .unwrap_or(false);
            if ran_before.is_some() && !applying {
                on_view_change.run(view);
            }
        });
    }

    let instance = state.instance;
    view! {
        <div
            class="wf"
            style=move || axis::grid_style(state)
            data-active=move || active::is_active_tracked(instance).then_some("true")
            on:focusin=move |_| active::activate(instance)
            on:pointerdown=move |_| active::activate(instance)
        >
            {toolbar::toolbar(state, link_note)}
            {minimap::minimap(state)}
            // The list and the details side by side on wide screens.
            <div class="wf-body">
                {list::list(state)}
                {move || details::panel(state)}
            </div>
            {help::help_dialog(state.help_open, state.scroller)}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_numbers_read_as_the_float_printer_writes_them() {
        for (value, decimals) in [
            (0.0, 3),
            (12.5, 4),
            (99.99995, 4),
            (-0.0004, 3),
            (-3.25, 2),
            (1_234_567.891, 2),
            (0.1 + 0.2, 3),
            (7.0, 0),
        ] {
            let ours = Fixed(value, decimals).to_string();
            let std = format!("{value:.prec$}", prec = decimals as usize);
            // The same number, but for the last digit of a value at a
            // half (99.99995 is 99.9999499… exactly, which the float
            // printer rounds down; scaled, it is 999999.5, rounded up).
            let read = |text: &str| text.parse::<f64>().unwrap_or(f64::NAN);
            assert!(
                (read(&ours) - read(&std)).abs() <= 10_f64.powi(-(decimals as i32)) + 1e-12,
                "{value} to {decimals}: {ours} vs {std}"
            );
        }
        assert_eq!(Fixed(-0.0004, 3).to_string(), "0.000", "no negative zero");
        assert_eq!(Fixed(12.5, 4).to_string(), "12.5000");
        assert_eq!(Fixed(f64::NAN, 2).to_string(), "0.00");
        assert_eq!(Fixed(24_000_000.0, 2).to_string(), "24000000.00");
    }

    #[test]
    fn counts_read_with_separators_and_plurals() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000), "1,000");
        assert_eq!(group_thousands(1_000_000), "1,000,000");
        assert_eq!(count_spans(1), "1 span");
        assert_eq!(count_spans(10_000), "10,000 spans");
    }
}
