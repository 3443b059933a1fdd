//! The trace waterfall: one component for every page that shows a trace.
//!
//! It only draws what `tracelab-trace` computes. [`Waterfall`] builds the
//! layout ([`tracelab_trace::Waterfall`]: tree, times, self time, critical
//! path, notes) once when it is created, then derives the visible rows from
//! the collapse state and the filter with `visible_rows`, and puts in the DOM
//! only the rows inside the scroller's viewport plus a few above and below:
//! a 100,000-span trace has a few dozen row elements, inside a canvas as tall
//! as all the rows (fixed row height), so the browser's own scrollbar and
//! smooth scrolling work as for a plain list. The selected row stays in the
//! DOM wherever the list is scrolled, as the treegrid's
//! `aria-activedescendant`; rows carry `aria-level`, `aria-setsize` and
//! `aria-posinset` (`tracelab_trace::treegrid`), and the summary reaches
//! screen readers once it rests, not at every keystroke in the filter.
//! Keys are decided by `tracelab_trace::keys` (a key with Ctrl, Cmd or Alt is
//! left to the browser). The axis follows the list's own width (a
//! `ResizeObserver`), not only the window's.
//!
//! Zoom is a time range the bars are drawn on (drag on the axis or the
//! minimap, `z` on a span, `0` or a double-click for the whole trace); the
//! minimap draws the visible rows in a fixed number of bands, so it too costs
//! the same few elements at any trace size.
//!
//! A subtree can be shown alone (re-rooting, as Zipkin Lens does: `r` or
//! the details' "Only this subtree"), zoomed to the time it covers. Clock
//! skew is marked and never silently corrected; the opt-in adjusted view
//! (the "Adjust clock skew" switch, offered when there is skew) draws the
//! waterfall again from `Waterfall::build_adjusted`, marks each moved
//! subtree (`⇄ moved`, with how far and why) and says how many it moved.
//! The view state lives outside the drawing (`ViewState`), so selection,
//! filter, zoom and collapsed spans survive that switch.
//!
//! Stable hooks for tests: `wf-row` (with `data-span-id`, `data-service`,
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
//! View state that a page may keep in its URL (the selected span, the filter
//! text, whether the filter hides or highlights, the zoom, the collapsed
//! spans, the subtree shown alone and whether the times are adjusted) comes
//! in as [`WaterfallView`] and goes out through
//! `on_view_change`; the page owns the fragment format, and says what it
//! could not read through `link_note`, shown with what the waterfall itself
//! could not apply (a selected or collapsed span that is not in the trace)
//! as one `wf-link-note`.

mod active;
mod details;
// The filter box's syntax is read in `tracelab-trace`, with no DOM.
pub use tracelab_trace::query;

use std::fmt::Write;
use std::sync::Arc;

use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;
use leptos::tachys::html::attribute::custom::custom_attribute;
use tracelab_trace::axis::{format_duration, time_axis};
use tracelab_trace::keys::{list_key, KeyAction, KeyContext, Modifiers};
use tracelab_trace::treegrid::{tree_positions, TreePosition};
use tracelab_trace::view::{
    visible_rows, CollapseState, FilterMatches, FilterMode, ViewOptions, VisibleRow,
};
use tracelab_trace::{NoteKind, Trace};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use query::{parse_query, truncate_chars, ParsedQuery, MAX_QUERY_CHARS};

/// Height of one row in CSS pixels; `--wf-row-height` in `www/waterfall.css`
/// must say the same, as the window of rendered rows is computed from it.
pub const ROW_HEIGHT_PX: f64 = 24.0;
/// Height of the sticky time axis at the top of the scroller
/// (`--wf-axis-height` in the stylesheet).
const AXIS_HEIGHT_PX: f64 = 28.0;
/// Rows rendered beyond each edge of the viewport, so that a fast scroll
/// shows rows already drawn while the next window is built.
const OVERSCAN_ROWS: usize = 10;
/// Service colours in the stylesheet (`--wf-svc-0` … `--wf-svc-7`); more
/// services than this share colours, and the legend shows which.
const N_COLORS: usize = 8;
/// Horizontal bands in the minimap: each draws the time extent of its share
/// of the rows, so the minimap costs the same few elements at any size.
const MINIMAP_BANDS: usize = 48;
/// Ticks on the time axis at most, and the room each label needs: a narrow
/// axis (360 px wide page) gets fewer, so labels never overlap.
const AXIS_TICKS: usize = 5;
const AXIS_PX_PER_TICK: f64 = 72.0;
/// How long the summary must stay the same before the screen reader is
/// told it: typing in the filter changes it with every key, and a count
/// read out per keystroke drowns what the person types.
const ANNOUNCE_DELAY_MS: u64 = 1_000;

/// Most collapsed spans a [`WaterfallView`] holds. A link must stay short
/// (a page's fragment is capped at 4,096 encoded characters, and 64 ids take
/// about 1,100), while a person may collapse thousands of spans: only the
/// first 64 in the trace's span order are kept, the rest open again when
/// the link is followed.
pub const MAX_VIEW_COLLAPSED: usize = 64;

/// The part of the view that a page can keep in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaterfallView {
    /// The selected span, as 16 lowercase hex digits.
    pub span_id: Option<String>,
    /// The filter box's text.
    pub query: String,
    /// The zoomed time range, in nanoseconds from the trace start.
    pub zoom: Option<(u64, u64)>,
    /// The collapsed spans, as 16 lowercase hex digits each: at most
    /// [`MAX_VIEW_COLLAPSED`], in the trace's span order.
    pub collapsed: Vec<String>,
    /// Whether the filter only highlights its matches; `false`, the
    /// default, hides the spans that do not match.
    pub highlight: bool,
    /// The span whose subtree alone is shown (16 lowercase hex digits);
    /// `None` shows the whole trace.
    pub root: Option<String>,
    /// Whether the times are the opt-in adjusted view, with clock skew
    /// shifted out (each shift listed), instead of as recorded.
    pub adjusted: bool,
}

/// The view state of one waterfall: what the person chose, which outlives
/// a switch between recorded and adjusted times (that switch draws the
/// waterfall again from another layout of the same trace).
#[derive(Clone, Copy)]
struct ViewState {
    selected: RwSignal<Option<usize>>,
    details_open: RwSignal<bool>,
    query: RwSignal<String>,
    parsed: Memo<ParsedQuery>,
    mode: RwSignal<FilterMode>,
    collapsed: RwSignal<CollapseState>,
    zoom: RwSignal<Option<TimeWindow>>,
    /// The span whose subtree alone is shown.
    root: RwSignal<Option<usize>>,
    adjusted: RwSignal<bool>,
    scroll_top: RwSignal<f64>,
    viewport_px: RwSignal<f64>,
    help_open: RwSignal<bool>,
    scroller: NodeRef<html::Div>,
    filter_input: NodeRef<html::Input>,
    /// This waterfall's id among those on the page (see [`active`]).
    instance: u64,
}

/// The part of the time axis the bars are drawn on, in nanoseconds from the
/// trace start: the whole trace, or a zoomed range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct TimeWindow {
    start: u64,
    /// Always after `start`, so that positions divide.
    end: u64,
}

impl TimeWindow {
    fn new(start: u64, end: u64) -> TimeWindow {
        TimeWindow {
            start,
            end: end.max(start.saturating_add(1)),
        }
    }

    fn width(self) -> f64 {
        (self.end - self.start) as f64
    }

    /// Where `offset` falls, as a percentage of the bar area (may be outside 0..=100).
    fn percent(self, offset: u64) -> f64 {
        (offset as f64 - self.start as f64) / self.width() * 100.0
    }

    /// The offset at `fraction` (0..=1) of the bar area.
    fn offset_at(self, fraction: f64) -> u64 {
        // Rounding in f64 may overshoot a wide window by a little.
        let offset = (fraction.clamp(0.0, 1.0) * self.width()) as u64;
        self.start.saturating_add(offset).min(self.end)
    }

    /// The part of `start..=end` inside the window, as (left %, width %), or
    /// `None` when it lies wholly outside.
    fn bar(self, start: u64, end: u64) -> Option<(f64, f64)> {
        let (from, to) = (start.max(self.start), end.min(self.end));
        (from <= to).then(|| {
            (
                self.percent(from),
                (to - from) as f64 / self.width() * 100.0,
            )
        })
    }
}

/// A drag in progress on the time axis or the minimap: where it started
/// and where the pointer is, as fractions of the element's width, and (for
/// a click on the minimap, which scrolls the list there) of its height.
#[derive(Clone, Copy, PartialEq)]
struct Drag {
    on_minimap: bool,
    from: f64,
    to: f64,
    y: f64,
}

/// One legend entry: a service, its colour and how many spans it has.
#[derive(Clone)]
struct ServiceEntry {
    name: String,
    color_idx: usize,
    n_spans: usize,
}

/// What every row needs and never changes for a trace, computed once.
struct Prepared {
    trace: Arc<Trace>,
    layout: tracelab_trace::Waterfall,
    /// Colour index for each entry of `trace.resources`, by service name, so
    /// that two resources of one service share a colour.
    color_of_resource: Vec<usize>,
    services: Vec<ServiceEntry>,
}

impl Prepared {
    /// `fixed_colors`, when given, names the colour of each service it
    /// lists (a page that shows several traces of the same services keeps
    /// each service's colour in all of them); other services take colours in
    /// the order they first appear.
    fn new(trace: Arc<Trace>, fixed_colors: Option<&[(String, usize)]>) -> Prepared {
        let layout = tracelab_trace::Waterfall::build(&trace);
        let fixed = |name: &str| {
            fixed_colors?
                .iter()
                .find(|(service, _)| service == name)
                .map(|&(_, color_idx)| color_idx % N_COLORS)
        };
        // Services in the order they first appear among the resources; two
        // resources of one service (two hosts, two versions) share its entry.
        let mut services: Vec<ServiceEntry> = Vec::new();
        let service_of_resource: Vec<usize> = trace
            .resources
            .iter()
            .map(|resource| {
                let known = services
                    .iter()
                    .position(|service| *service.name == *resource.service_name);
                known.unwrap_or_else(|| {
                    services.push(ServiceEntry {
                        name: resource.service_name.to_string(),
                        color_idx: fixed(&resource.service_name)
                            .unwrap_or(services.len() % N_COLORS),
                        n_spans: 0,
                    });
                    services.len() - 1
                })
            })
            .collect();
        for span in &trace.spans {
            if let Some(&service_idx) = service_of_resource.get(span.resource_idx as usize) {
                services[service_idx].n_spans += 1;
            }
        }
        let color_of_resource = service_of_resource
            .iter()
            .map(|&service_idx| services[service_idx].color_idx)
            .collect();
        Prepared {
            trace,
            layout,
            color_of_resource,
            services,
        }
    }

    fn color_idx(&self, span_idx: usize) -> usize {
        self.trace
            .spans
            .get(span_idx)
            .and_then(|span| self.color_of_resource.get(span.resource_idx as usize))
            .copied()
            // A span whose resource is missing gets the last (grey) colour.
            .unwrap_or(N_COLORS - 1)
    }

    /// The same trace and colours with the adjusted view's times.
    fn adjusted(&self) -> Prepared {
        Prepared {
            trace: self.trace.clone(),
            layout: tracelab_trace::Waterfall::build_adjusted(&self.trace),
            color_of_resource: self.color_of_resource.clone(),
            services: self.services.clone(),
        }
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

    /// The span whose id is `hex` (16 lowercase hex digits), if any.
    fn find_span(&self, hex: &str) -> Option<usize> {
        let id = tracelab_context::SpanId::from_hex(hex)?;
        self.trace
            .spans
            .iter()
            .position(|span| span.span_id.0 == id.to_bytes())
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

/// The waterfall of `trace`, with its filter, legend, details panel and
/// help overlay.
#[component]
pub fn Waterfall(
    trace: Arc<Trace>,
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
    let plain = Arc::new(Prepared::new(trace, service_colors.as_deref()));

    let initial_span = initial
        .span_id
        .as_deref()
        .and_then(|hex| plain.find_span(hex));
    // The page's note first, then what this trace cannot apply; the rest
    // of the link applies all the same.
    let mut link_notes: Vec<String> = link_note.into_iter().collect();
    if let (Some(hex), None) = (&initial.span_id, initial_span) {
        link_notes.push(format!(
            "The link names span {hex}, which is not in this trace."
        ));
    }
    let mut initial_collapsed = CollapseState::new();
    // At most MAX_VIEW_COLLAPSED ids, so at most that many passes over the spans.
    let mut any_missing = false;
    for hex in &initial.collapsed {
        match plain.find_span(hex) {
            Some(span_idx) => initial_collapsed.collapse(span_idx),
            None => any_missing = true,
        }
    }
    if any_missing {
        link_notes.push(
            "Some spans the link collapses are not in this trace, so they were left out."
                .to_owned(),
        );
    }
    let initial_root = initial.root.as_deref().and_then(|hex| plain.find_span(hex));
    if let (Some(hex), None) = (&initial.root, initial_root) {
        link_notes.push(format!(
            "The link shows the subtree of span {hex}, which is not in this trace, so the whole trace is shown."
        ));
    }
    let link_note = (!link_notes.is_empty()).then(|| link_notes.join(" "));
    let selected = RwSignal::new(initial_span);
    let details_open = RwSignal::new(initial_span.is_some());
    let query = RwSignal::new(truncate_chars(&initial.query, MAX_QUERY_CHARS).to_owned());
    // Hide by default: a filter that only highlights leaves the matches of a
    // large trace scattered among thousands of rows.
    let mode = RwSignal::new(if initial.highlight {
        FilterMode::Highlight
    } else {
        FilterMode::Hide
    });
    let collapsed = RwSignal::new(initial_collapsed);
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport_px = RwSignal::new(600.0_f64);
    let help_open = RwSignal::new(false);
    let full_window = plain.full_window();
    // A zoom from the link is kept only where it lies inside the trace.
    let zoom = RwSignal::new(initial.zoom.and_then(|(start, end)| {
        (start < end && start < full_window.end)
            .then(|| TimeWindow::new(start, end.min(full_window.end)))
    }));
    let scroller = NodeRef::<html::Div>::new();
    let filter_input = NodeRef::<html::Input>::new();

    let root = RwSignal::new(initial_root);
    let adjusted = RwSignal::new(initial.adjusted);
    let parsed: Memo<ParsedQuery> = Memo::new(move |_| query.with(|text| parse_query(text)));
    let instance = active::register();
    let state = ViewState {
        selected,
        details_open,
        query,
        parsed,
        mode,
        collapsed,
        zoom,
        root,
        adjusted,
        scroll_top,
        viewport_px,
        help_open,
        scroller,
        filter_input,
        instance,
    };

    // `/` and `?` work anywhere on the page (as in DevTools and GitHub), but
    // never while the person is typing in a field, and with several
    // waterfalls on a page only for the active one (see [`active`]).
    let global_keys = window_event_listener(leptos::ev::keydown, move |event| {
        if event.default_prevented() || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        if !active::is_active(instance) {
            // Another waterfall's help may be open; Escape still closes this one's.
            if event.key() == "Escape" && help_open.get_untracked() {
                help_open.set(false);
            }
            return;
        }
        let typing = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|element| {
                matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            });
        match event.key().as_str() {
            "/" if !typing => {
                event.prevent_default();
                if let Some(input) = filter_input.get_untracked() {
                    let _ = input.focus();
                    input.select();
                }
            }
            "?" if !typing => help_open.update(|open| *open = !*open),
            "Escape" if help_open.get_untracked() => help_open.set(false),
            _ => {}
        }
    });
    on_cleanup(move || {
        global_keys.remove();
        active::unregister(instance);
    });

    if let Some(on_view_change) = on_view_change {
        let trace = plain.trace.clone();
        Effect::new(move |ran_before: Option<()>| {
            let span_hex = |span_idx: usize| {
                let span = trace.spans.get(span_idx)?;
                Some(span.span_id.to_string())
            };
            let view = WaterfallView {
                span_id: selected.get().and_then(span_hex),
                query: query.get(),
                zoom: zoom.get().map(|window| (window.start, window.end)),
                collapsed: collapsed.with(|state| {
                    state
                        .iter()
                        .take(MAX_VIEW_COLLAPSED)
                        .filter_map(span_hex)
                        .collect()
                }),
                highlight: mode.get() == FilterMode::Highlight,
                root: root.get().and_then(span_hex),
                adjusted: adjusted.get(),
            };
            // The first run sees the state just read from the URL.
            if ran_before.is_some() {
                on_view_change.run(view);
            }
        });
    }

    // The adjusted view's layout is built the first time it is asked for,
    // then kept: switching back and forth costs nothing after that.
    let adjusted_layout: StoredValue<Option<Arc<Prepared>>> = StoredValue::new(None);
    move || {
        let prepared = if adjusted.get() {
            adjusted_layout
                .try_update_value(|cached| {
                    cached
                        .get_or_insert_with(|| Arc::new(plain.adjusted()))
                        .clone()
                })
                .unwrap_or_else(|| plain.clone())
        } else {
            plain.clone()
        };
        let link_note = link_note.clone();
        // Only the switch between the recorded and the adjusted times draws
        // the waterfall again; every other change updates it in place.
        untrack(move || waterfall_view(prepared, state, link_note))
    }
}

/// The waterfall drawn from `prepared` (the recorded or the adjusted
/// times) with the view state that outlives a switch between the two.
fn waterfall_view(
    prepared: Arc<Prepared>,
    state: ViewState,
    link_note: Option<String>,
) -> impl IntoView {
    let ViewState {
        selected,
        details_open,
        query,
        parsed,
        mode,
        collapsed,
        zoom,
        root,
        adjusted,
        scroll_top,
        viewport_px,
        help_open,
        scroller,
        filter_input,
        instance,
    } = state;
    let n_spans = prepared.trace.spans.len();
    let full_window = prepared.full_window();
    let time_window = Memo::new(move |_| zoom.get().unwrap_or(full_window));
    let drag = RwSignal::new(None::<Drag>);
    let axis_track = NodeRef::<html::Span>::new();
    // The axis's width in CSS pixels; 0 until measured.
    let axis_px = RwSignal::new(0.0_f64);
    let n_ticks = move || {
        let width = axis_px.get();
        if width > 0.0 {
            ((width / AXIS_PX_PER_TICK) as usize).clamp(2, AXIS_TICKS)
        } else {
            AXIS_TICKS
        }
    };
    let minimap = NodeRef::<html::Div>::new();

    let matches: Memo<Option<Arc<FilterMatches>>> = Memo::new({
        let prepared = prepared.clone();
        move |_| {
            parsed.with(|parsed| {
                (!parsed.filter.is_empty()).then(|| {
                    let layout = &prepared.layout;
                    Arc::new(
                        parsed
                            .filter
                            .apply(&prepared.trace, &layout.tree, &layout.times),
                    )
                })
            })
        }
    });
    let rows: Memo<Arc<Vec<VisibleRow>>> = Memo::new({
        let prepared = prepared.clone();
        move |_| {
            let matches = matches.get();
            let mode = mode.get();
            collapsed.with(|collapsed| {
                Arc::new(visible_rows(
                    &prepared.layout.tree,
                    &ViewOptions {
                        root: root.get(),
                        collapsed,
                        filter: matches.as_deref().map(|matches| (matches, mode)),
                    },
                ))
            })
        }
    });
    // Each row's level and place among its visible siblings, for the
    // screen reader (the browser cannot count rows that are not in the DOM).
    let places: Memo<Arc<Vec<TreePosition>>> =
        Memo::new(move |_| rows.with(|rows| Arc::new(tree_positions(rows))));
    // Where the selected span is among the visible rows, if it is one of them.
    let selected_position = Memo::new(move |_| {
        let span_idx = selected.get()?;
        rows.with(|rows| rows.iter().position(|row| row.span_idx == span_idx))
    });
    // The rendered window: a memo, so that scrolling within one row does not
    // touch the DOM.
    let window_range = Memo::new(move |_| {
        let n_rows = rows.with(|rows| rows.len());
        let first_visible = (scroll_top.get() / ROW_HEIGHT_PX).max(0.0) as usize;
        let n_fit = (viewport_px.get() / ROW_HEIGHT_PX).ceil() as usize;
        let first = first_visible.saturating_sub(OVERSCAN_ROWS).min(n_rows);
        let end = (first_visible + n_fit + OVERSCAN_ROWS).min(n_rows);
        (first, end.max(first))
    });

    // Scrolls the least needed to show the row at `position` below the
    // sticky axis.
    let scroll_to_position = move |position: usize| {
        let Some(element) = scroller.get_untracked() else {
            return;
        };
        let current = f64::from(element.scroll_top());
        let viewport = f64::from(element.client_height());
        let row_top = position as f64 * ROW_HEIGHT_PX;
        let lowest_top = AXIS_HEIGHT_PX + row_top + ROW_HEIGHT_PX - viewport;
        let target = if current > row_top {
            row_top
        } else if current < lowest_top {
            lowest_top
        } else {
            return;
        };
        let target = target.max(0.0);
        element.set_scroll_top(target as i32);
        scroll_top.set(f64::from(element.scroll_top()));
    };
    // Re-rooting (as Zipkin Lens does): only the subtree is listed, zoomed to
    // the time it covers (a little margin each side), its root selected and
    // at the top; `None` lists the whole trace again, unzoomed.
    let set_root = Callback::new({
        let prepared = prepared.clone();
        move |span_idx: Option<usize>| {
            root.set(span_idx);
            zoom.set(span_idx.map(|span_idx| {
                let (start, end) = prepared.layout.subtree_extent(span_idx);
                let margin = ((end - start) / 50).max(1);
                TimeWindow::new(
                    start.saturating_sub(margin),
                    (end + margin).min(full_window.end),
                )
            }));
            if let Some(span_idx) = span_idx.or(selected.get_untracked()) {
                selected.set(Some(span_idx));
            }
            if let Some(element) = scroller.get_untracked() {
                element.set_scroll_top(0);
            }
            scroll_top.set(0.0);
            if let Some(position) = selected_position.get_untracked() {
                scroll_to_position(position);
            }
        }
    });

    // The scroller's height (how many rows to draw) and the axis's width
    // (how many ticks fit).
    let measure = move || {
        if let Some(element) = scroller.get_untracked() {
            viewport_px.set(f64::from(element.client_height()));
        }
        if let Some(track) = axis_track.get_untracked() {
            axis_px.set(f64::from(track.client_width()));
        }
    };
    // Once the scroller is in the page: measure it, and bring a span
    // selected by a link into view. (A switch between recorded and adjusted
    // times draws the view again into the same elements, so the scroller
    // keeps its position; a browser test checks it.)
    Effect::new(move |_| {
        let Some(element) = scroller.get() else {
            return;
        };
        measure();
        if scroll_top.get_untracked() == 0.0 {
            if let Some(position) = selected_position.get_untracked() {
                // Near the top of the list, two rows above it for context,
                // and the whole list in the window: the row is then on
                // screen with its details, which sit beside the list as tall
                // as it (wide screens) or over the page's foot (narrow ones).
                element.set_scroll_top((position.saturating_sub(2) as f64 * ROW_HEIGHT_PX) as i32);
                scroll_top.set(f64::from(element.scroll_top()));
                element.scroll_into_view_with_bool(false);
                // On narrow screens the details lie over the window's foot
                // (fixed, so they have no offset parent): once the row is
                // drawn, bring it to the window's top, above them.
                request_animation_frame(move || {
                    let details = element
                        .parent_element()
                        .and_then(|body| body.query_selector(".wf-details").ok().flatten())
                        .map(|details| details.unchecked_into::<web_sys::HtmlElement>());
                    if details.is_some_and(|details| details.offset_parent().is_none()) {
                        if let Ok(Some(row)) = element.query_selector(".wf-selected") {
                            row.scroll_into_view_with_bool(true);
                        }
                    }
                });
            }
        }
    });
    // The scroller is as tall as its rows up to a maximum (waterfall.css),
    // so collapsing, expanding or filtering changes its height: measure it
    // again once the rows are drawn, or a grown scroller would show blank
    // space below the rows rendered for the old height.
    Effect::new(move |_| {
        rows.track();
        measure();
    });
    // The scroller's own size, not the window's: a panel beside it, a
    // page's layout or the details opening can change its width alone.
    Effect::new(move |_| {
        let Some(element) = scroller.get() else {
            return;
        };
        if let Some(observer) = observe_resize(&element, measure) {
            on_cleanup(move || observer.disconnect());
        }
    });

    let on_list_key = {
        let prepared = prepared.clone();
        move |event: KeyboardEvent| {
            // What the key does is decided in `tracelab_trace::keys` (a key
            // with Ctrl, Cmd or Alt is the browser's); this only applies it.
            let modifiers = Modifiers {
                ctrl: event.ctrl_key(),
                meta: event.meta_key(),
                alt: event.alt_key(),
            };
            let action = rows.with_untracked(|rows| {
                list_key(
                    &event.key(),
                    modifiers,
                    &KeyContext {
                        rows,
                        tree: &prepared.layout.tree,
                        selected: selected_position.get_untracked(),
                        page_rows: ((viewport_px.get_untracked() - AXIS_HEIGHT_PX) / ROW_HEIGHT_PX)
                            .max(1.0) as usize,
                        zoomed: zoom.get_untracked().is_some(),
                        details_open: details_open.get_untracked(),
                        help_open: help_open.get_untracked(),
                    },
                )
            });
            let Some(action) = action else {
                return;
            };
            // The list handles the key: the page must not scroll as well.
            event.prevent_default();
            match action {
                KeyAction::Select(position) => {
                    let span_idx =
                        rows.with_untracked(|rows| rows.get(position).map(|row| row.span_idx));
                    if let Some(span_idx) = span_idx {
                        selected.set(Some(span_idx));
                        scroll_to_position(position);
                    }
                }
                KeyAction::Collapse(span_idx) => collapsed.update(|state| state.collapse(span_idx)),
                KeyAction::Expand(span_idx) => collapsed.update(|state| state.expand(span_idx)),
                KeyAction::OpenDetails => details_open.set(true),
                KeyAction::CloseDetails => details_open.set(false),
                KeyAction::ZoomToSelected => {
                    if let Some(span_idx) = selected.get_untracked() {
                        let layout = &prepared.layout;
                        let start = prepared.start_offset(span_idx);
                        let duration = layout.times.duration(span_idx);
                        // A margin of a tenth on each side shows where the
                        // span starts and ends.
                        let margin = (duration / 10).max(1);
                        zoom.set(Some(TimeWindow::new(
                            start.saturating_sub(margin),
                            (start + duration + margin).min(full_window.end),
                        )));
                    }
                }
                KeyAction::ResetZoom => zoom.set(None),
                KeyAction::ToggleRoot => {
                    let span_idx = selected.get_untracked();
                    let shown = root.get_untracked();
                    set_root.run(if shown == span_idx { None } else { span_idx });
                }
            }
        }
    };

    let ticks = move || {
        let window = time_window.get();
        time_axis(window.start, window.end, n_ticks())
            .ticks
            .into_iter()
            .map(|tick| {
                let left = window.percent(tick.offset_nanos);
                // Labels near the right edge hang to the left of their tick.
                let class = if left > 80.0 {
                    "wf-tick wf-tick-end"
                } else {
                    "wf-tick"
                };
                view! {
                    <span class=class data-testid="wf-tick" style=format!("left: {left:.3}%")>
                        {tick.label}
                    </span>
                }
            })
            .collect_view()
    };
    // Grid lines under the bars at the ticks: a gradient tile one step wide,
    // shifted to the first tick. A tile of width S shifted by p% moves by
    // p% of (1 - S), hence the division.
    let grid_style = move || {
        let window = time_window.get();
        let axis = time_axis(window.start, window.end, n_ticks());
        let step = axis.step_nanos as f64 / window.width();
        let first = axis
            .ticks
            .first()
            .map_or(0.0, |tick| window.percent(tick.offset_nanos) / 100.0);
        let position = if step < 1.0 {
            first / (1.0 - step)
        } else {
            0.0
        };
        format!(
            "--wf-grid-size: {:.4}%; --wf-grid-pos: {:.4}%",
            step * 100.0,
            position * 100.0
        )
    };
    let zoom_label = move || {
        zoom.get().map(|window| {
            view! {
                <span class="wf-zoom">
                    "Zoomed to +"
                    {format_duration(window.start)}
                    " … +"
                    {format_duration(window.end)}
                    " "
                    <button
                        type="button"
                        data-testid="wf-zoom-reset"
                        aria-keyshortcuts="0"
                        on:click=move |_| zoom.set(None)
                    >
                        "Reset zoom"
                    </button>
                </span>
            }
        })
    };
    // Drag on the axis or the minimap to zoom to a range (of the zoomed
    // window on the axis, of the whole trace on the minimap); a click on the
    // minimap scrolls the list to that part of it. One set of handlers serves
    // both, which keeps the bundle smaller than two. Pointer capture keeps
    // the drag going outside the element; children ignore the pointer (CSS),
    // so offsets are always relative to the element.
    let point_at = move |event: &leptos::ev::PointerEvent, on_minimap: bool| {
        let element: web_sys::Element = if on_minimap {
            minimap.get_untracked()?.into()
        } else {
            axis_track.get_untracked()?.into()
        };
        let (width, height) = (element.client_width(), element.client_height());
        (width > 0 && height > 0).then(|| {
            let x = f64::from(event.offset_x()) / f64::from(width);
            (element, x, f64::from(event.offset_y()) / f64::from(height))
        })
    };
    let on_drag_start = move |event: leptos::ev::PointerEvent, on_minimap: bool| {
        if event.button() != 0 {
            return;
        }
        if let Some((element, x, y)) = point_at(&event, on_minimap) {
            let _ = element.set_pointer_capture(event.pointer_id());
            drag.set(Some(Drag {
                on_minimap,
                from: x,
                to: x,
                y,
            }));
        }
    };
    let on_drag_move = move |event: leptos::ev::PointerEvent| {
        let Some(current) = drag.get_untracked() else {
            return;
        };
        if let Some((_, x, _)) = point_at(&event, current.on_minimap) {
            drag.set(Some(Drag {
                to: x.clamp(0.0, 1.0),
                ..current
            }));
        }
    };
    let on_drag_end = move |_: leptos::ev::PointerEvent| {
        let Some(Drag {
            on_minimap,
            from,
            to,
            y,
        }) = drag.get_untracked()
        else {
            return;
        };
        drag.set(None);
        // A click, or a drag of a few pixels, is not a range.
        if (to - from).abs() >= 0.01 {
            let window = if on_minimap {
                full_window
            } else {
                time_window.get_untracked()
            };
            zoom.set(Some(TimeWindow::new(
                window.offset_at(from.min(to)),
                window.offset_at(from.max(to)),
            )));
        } else if let Some(element) = scroller.get_untracked().filter(|_| on_minimap) {
            // Centre the clicked part of the list in the viewport.
            let n_rows = rows.with_untracked(|rows| rows.len()) as f64;
            let target = y.clamp(0.0, 1.0) * n_rows * ROW_HEIGHT_PX
                - f64::from(element.client_height()) / 2.0;
            element.set_scroll_top(target.max(0.0) as i32);
            scroll_top.set(f64::from(element.scroll_top()));
        }
    };
    let brush_view = move |on_minimap: bool| {
        drag.get()
            .filter(|drag| drag.on_minimap == on_minimap)
            .map(|Drag { from, to, .. }| {
                let (left, right) = (from.min(to), from.max(to));
                view! {
                    <span
                        class="wf-brush"
                        style=format!("left: {:.3}%; width: {:.3}%", left * 100.0, (right - left) * 100.0)
                    ></span>
                }
            })
    };
    // The minimap: the visible rows in bands, each drawn from the earliest
    // start to the latest end among its rows, on the whole trace's time axis;
    // over it, the zoomed range and the rows in the viewport.
    let minimap_bands = Memo::new({
        let prepared = prepared.clone();
        move |_| {
            rows.with(|rows| {
                let n_bands = MINIMAP_BANDS.min(rows.len());
                let mut bands = vec![(u64::MAX, 0_u64); n_bands];
                for (position, row) in rows.iter().enumerate() {
                    let band = &mut bands[position * n_bands / rows.len()];
                    let start = prepared.start_offset(row.span_idx);
                    band.0 = band.0.min(start);
                    band.1 = band
                        .1
                        .max(start + prepared.layout.times.duration(row.span_idx));
                }
                bands
            })
        }
    });
    // All the bands as one SVG path, a rectangle each (move to its corner,
    // across, down, back): one element to update instead of one per band.
    let minimap_path = move || {
        let bands = minimap_bands.get();
        let n_bands = bands.len() as f64;
        let mut path = String::new();
        for (band, (start, end)) in bands.into_iter().enumerate() {
            let (left, width) = full_window.bar(start, end).unwrap_or((0.0, 0.0));
            let _ = write!(
                path,
                "M{left:.3} {:.3}h{:.3}v{:.3}H{left:.3}z",
                band as f64 / n_bands * 100.0,
                width.max(0.3),
                80.0 / n_bands
            );
        }
        path
    };
    let minimap_viewport = move || {
        let n_rows = rows.with(|rows| rows.len()).max(1) as f64;
        let first = scroll_top.get() / ROW_HEIGHT_PX;
        let shown = ((viewport_px.get() - AXIS_HEIGHT_PX) / ROW_HEIGHT_PX).max(1.0);
        let zoomed = time_window.get();
        let (left, width) = full_window
            .bar(zoomed.start, zoomed.end)
            .unwrap_or((0.0, 100.0));
        view! {
            <div
                class="wf-minimap-zoom"
                style=format!("left: {left:.3}%; width: {width:.3}%")
            ></div>
            <div
                class="wf-minimap-rows"
                style=format!(
                    "top: {:.3}%; height: {:.3}%",
                    (first / n_rows * 100.0).min(100.0),
                    (shown / n_rows * 100.0).min(100.0),
                )
            ></div>
        }
    };
    let legend = prepared
        .services
        .iter()
        // A resource no span refers to is no service of this trace.
        .filter(|service| service.n_spans > 0)
        .map(|service| {
            let ServiceEntry {
                name,
                color_idx,
                n_spans,
            } = service.clone();
            view! {
                <li
                    data-testid="wf-legend-item"
                    data-color=color_idx.to_string()
                    style=format!("--wf-color: var(--wf-svc-{color_idx}); --wf-edge: var(--wf-edge-{color_idx})")
                >
                    <span class="wf-swatch" aria-hidden="true"></span>
                    {name}
                    <span class="wf-muted">" " {n_spans}</span>
                </li>
            }
        })
        .collect_view();

    let summary = {
        move || -> String {
            let n_rows = rows.with(|rows| rows.len());
            let matched = matches.with(|matches| matches.as_ref().map(|m| m.n_matches()));
            match matched {
                None => count_spans(n_spans),
                Some(n_matches) => format!(
                    "{} of {} match · {} shown",
                    group_thousands(n_matches),
                    count_spans(n_spans),
                    if n_rows == 1 {
                        "1 row".to_owned()
                    } else {
                        format!("{} rows", group_thousands(n_rows))
                    },
                ),
            }
        }
    };
    // The summary as a screen reader hears it: once it has stayed the same
    // for a moment, not at every keystroke in the filter (the visible one
    // follows at once, and is not a live region).
    let announced = RwSignal::new(untrack(summary));
    let pending_announcement = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |ran_before: Option<()>| {
        let text = summary();
        if let Some(handle) = pending_announcement.get_value() {
            handle.clear();
        }
        // The text on load is in the page already, not news.
        if ran_before.is_some() {
            let handle = set_timeout_with_handle(
                move || {
                    if announced.with_untracked(|shown| *shown != text) {
                        announced.set(text);
                    }
                },
                std::time::Duration::from_millis(ANNOUNCE_DELAY_MS),
            )
            .ok();
            pending_announcement.set_value(handle);
        }
    });
    on_cleanup(move || {
        if let Some(handle) = pending_announcement.get_value() {
            handle.clear();
        }
    });
    // What the filter box could not read, next to it, with the syntax: a
    // word not understood is left out of the filter, never silently
    // matched as text.
    let query_notes = move || {
        parsed.with(|parsed| {
            (!parsed.notes.is_empty()).then(|| {
                note_view(
                    Some("wf-query-note"),
                    format!(
                        "⚠ {} Filter syntax: {}",
                        parsed.notes.join(" "),
                        query::SYNTAX
                    ),
                )
            })
        })
    };
    let empty_note = move || {
        (rows.with(|rows| rows.is_empty()) && !query.with(|text| text.trim().is_empty())).then(
            || {
                note_view(
                    Some("wf-no-match"),
                    format!("No span matches “{}”.", query.get()),
                )
            },
        )
    };

    // The adjusted view is offered only where there is skew to adjust.
    let has_skew = !prepared.layout.skew_notes.is_empty();
    let adjust_note = prepared.layout.is_adjusted.then(|| {
        let layout = &prepared.layout;
        let n_moved: usize = layout
            .adjustments
            .iter()
            .map(|adjustment| adjustment.n_spans_moved)
            .sum();
        let text = format!(
            "Adjusted view: {} shifted to undo clock skew, {} moved in all (rows marked ⇄, and their details, say by how much). Bars are not where the spans were recorded.",
            match layout.adjustments.len() {
                1 => "1 subtree".to_owned(),
                n => format!("{n} subtrees"),
            },
            count_spans(n_moved),
        );
        note_view(Some("wf-adjust-note"), format!("⇄ {text}"))
    });
    let root_note = {
        let prepared = prepared.clone();
        move || {
            let span_idx = root.get()?;
            let span = prepared.trace.spans.get(span_idx)?;
            let text = format!(
                "Showing only the subtree of {} · {}: {} of {}.",
                prepared.trace.service_name(span_idx),
                span.name,
                count_spans(prepared.layout.tree.subtree_rows(span_idx).len()),
                count_spans(n_spans),
            );
            Some(view! {
                <p class="wf-note" data-testid="wf-root-note">
                    {text}
                    " "
                    <button
                        type="button"
                        data-testid="wf-root-reset"
                        aria-keyshortcuts="r"
                        on:click=move |_| set_root.run(None)
                    >
                        "Show the whole trace"
                    </button>
                </p>
            })
        }
    };
    let window_rows = move || {
        let (first, end) = window_range.get();
        let window = time_window.get();
        places.with(|places| {
            rows.with(|rows| {
                rows[first..end]
                    .iter()
                    .enumerate()
                    .map(|(offset, row)| {
                        let place = places.get(first + offset).copied();
                        (first + offset, *row, window, place)
                    })
                    .collect::<Vec<_>>()
            })
        })
    };
    // The selected row when it is scrolled out of the window: it stays in
    // the DOM, at its place in the canvas, so that the list's
    // `aria-activedescendant` always names an element and a screen reader
    // can read the selection wherever the list is scrolled.
    let kept_row = Memo::new(move |_| {
        let position = selected_position.get()?;
        let (first, end) = window_range.get();
        if (first..end).contains(&position) {
            return None;
        }
        let row = rows.with(|rows| rows.get(position).copied())?;
        let place = places.with(|places| places.get(position).copied());
        Some((position, row, time_window.get(), place))
    });
    let row_prepared = prepared.clone();
    let kept_prepared = prepared.clone();
    let rows_context = RowsContext {
        instance,
        selected,
        details_open,
        collapsed,
    };
    let details_prepared = prepared.clone();

    view! {
        <div
            class="wf"
            style=grid_style
            data-active=move || active::is_active_tracked(instance).then_some("true")
            on:focusin=move |_| active::activate(instance)
            on:pointerdown=move |_| active::activate(instance)
        >
            <div class="wf-toolbar">
                <input
                    type="search"
                    class="wf-filter"
                    data-testid="wf-filter"
                    node_ref=filter_input
                    aria-label="Filter spans"
                    placeholder="Filter: name service:db attr:GET error >=10ms -word   ( / )"
                    maxlength=MAX_QUERY_CHARS.to_string()
                    prop:value=move || query.get()
                    on:input=move |event| query.set(event_target_value(&event))
                />
                <label class="wf-switch">
                    <input
                        type="checkbox"
                        data-testid="wf-filter-hide"
                        prop:checked=move || mode.get() == FilterMode::Hide
                        on:change=move |event| {
                            mode.set(
                                if event_target_checked(&event) {
                                    FilterMode::Hide
                                } else {
                                    FilterMode::Highlight
                                },
                            )
                        }
                    />
                    " Hide non-matching"
                </label>
                {has_skew.then(|| view! {
                    <label class="wf-switch" title="Shift each skewed subtree into its parent's time; every shift is listed">
                        <input
                            type="checkbox"
                            data-testid="wf-adjust"
                            prop:checked=move || adjusted.get()
                            on:change=move |event| adjusted.set(event_target_checked(&event))
                        />
                        " Adjust clock skew"
                    </label>
                })}
                <button type="button" on:click=move |_| collapsed.update(|state| state.expand_all())>
                    "Expand all"
                </button>
                <button
                    type="button"
                    aria-keyshortcuts="?"
                    on:click=move |_| help_open.update(|open| *open = !*open)
                >
                    "Keys (?)"
                </button>
                <span class="wf-summary" data-testid="wf-summary">
                    {summary}
                </span>
                <span class="wf-sr-only" role="status" data-testid="wf-announce">
                    {move || announced.get()}
                </span>
            </div>
            {zoom_label}
            {query_notes}
            {link_note.map(|note| note_view(Some("wf-link-note"), format!("⚠ {note}")))}
            {root_note}
            {adjust_note}
            <ul class="wf-legend" aria-label="Services">
                {legend}
                <li class="wf-legend-critical">
                    <span class="wf-swatch" aria-hidden="true"></span>
                    "◆ critical path"
                </li>
            </ul>
            {empty_note}
            <div
                class="wf-minimap"
                data-testid="wf-minimap"
                title="The whole trace: drag to zoom to a time range, click to scroll there"
                node_ref=minimap
                on:pointerdown=move |event| on_drag_start(event, true)
                on:pointermove=on_drag_move
                on:pointerup=on_drag_end
                on:pointercancel=move |_| drag.set(None)
                on:dblclick=move |_| zoom.set(None)
            >
                <svg viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">
                    <path d=minimap_path />
                </svg>
                {minimap_viewport}
                {move || brush_view(true)}
            </div>
            // The list and the details side by side on wide screens.
            <div class="wf-body">
                <div
                    class="wf-scroller"
                    data-testid="wf-scroller"
                    role="treegrid"
                    aria-label="Trace waterfall"
                    aria-rowcount=move || rows.with(|rows| rows.len()).to_string()
                    aria-activedescendant=move || {
                        selected_position
                            .get()
                            .and(selected.get())
                            .map(|span_idx| row_element_id(instance, span_idx))
                    }
                    tabindex="0"
                    node_ref=scroller
                    on:scroll=move |_| {
                        if let Some(element) = scroller.get_untracked() {
                            scroll_top.set(f64::from(element.scroll_top()));
                        }
                    }
                    on:keydown=on_list_key
                >
                    // The column headers, read with each cell; the row has no
                    // aria-rowindex, so the spans are rows 1 to aria-rowcount.
                    <div class="wf-axis wf-grid" role="row">
                        <span class="wf-head-name" role="columnheader" data-testid="wf-column">"Service · span"</span>
                        <span class="wf-num" role="columnheader" data-testid="wf-column">"Duration"</span>
                        <span class="wf-num wf-self" role="columnheader" data-testid="wf-column">"Self"</span>
                        <span
                            class="wf-track wf-axis-track"
                            role="columnheader"
                            aria-label="Timeline"
                            data-testid="wf-axis"
                            title="Drag to zoom to a time range"
                            node_ref=axis_track
                            on:pointerdown=move |event| on_drag_start(event, false)
                            on:pointermove=on_drag_move
                            on:pointerup=on_drag_end
                            on:pointercancel=move |_| drag.set(None)
                            on:dblclick=move |_| zoom.set(None)
                        >
                            {ticks}
                            {move || brush_view(false)}
                        </span>
                    </div>
                    <div
                        class="wf-canvas"
                        style:height=move || {
                            format!("{}px", rows.with(|rows| rows.len()) as f64 * ROW_HEIGHT_PX)
                        }
                    >
                        <div
                            class="wf-window"
                            style:transform=move || {
                                format!("translateY({}px)", window_range.get().0 as f64 * ROW_HEIGHT_PX)
                            }
                        >
                            <For
                                each=window_rows
                                key=|(position, row, window, place)| {
                                    (
                                        *window,
                                        *position,
                                        row.span_idx,
                                        row.depth,
                                        row.has_children,
                                        row.is_collapsed,
                                        row.is_match,
                                        *place,
                                    )
                                }
                                children=move |(position, row, window, place)| {
                                    row_view(&row_prepared, rows_context, position, row, window, place, false)
                                }
                            />
                        </div>
                        {move || {
                            kept_row.get().map(|(position, row, window, place)| {
                                row_view(&kept_prepared, rows_context, position, row, window, place, true)
                            })
                        }}
                    </div>
                </div>
                {move || {
                    let span_idx = selected.get().filter(|_| details_open.get())?;
                    let color_idx = details_prepared.color_idx(span_idx);
                    // A subtree to show alone: the span has children and is
                    // not already the one shown.
                    let can_reroot = details_prepared.layout.tree.has_children(span_idx)
                        && root.get() != Some(span_idx);
                    Some(
                        details::span_details(
                            &details_prepared.trace,
                            &details_prepared.layout,
                            span_idx,
                            color_idx,
                            // Focus goes back to the list, on the row that
                            // opened the details (still selected), not to the page.
                            move || {
                                details_open.set(false);
                                if let Some(element) = scroller.get_untracked() {
                                    let _ = element.focus();
                                }
                            },
                            can_reroot.then_some(move || set_root.run(Some(span_idx))),
                        ),
                    )
                }}
            </div>
            {help_overlay(help_open, scroller)}
        </div>
    }
}

/// What every row of one waterfall needs from it besides its own data.
#[derive(Clone, Copy)]
struct RowsContext {
    /// The waterfall's id on the page, which makes row ids unique.
    instance: u64,
    selected: RwSignal<Option<usize>>,
    details_open: RwSignal<bool>,
    collapsed: RwSignal<CollapseState>,
}

/// The DOM id of a span's row, which the list's `aria-activedescendant`
/// names: unique on the page with several waterfalls.
fn row_element_id(instance: u64, span_idx: usize) -> String {
    format!("wf{instance}-row{span_idx}")
}

/// A `ResizeObserver` watching one element, disconnected when dropped
/// from its owner (see [`observe_resize`]).
struct ResizeWatch {
    observer: wasm_bindgen::JsValue,
    _callback: Closure<dyn Fn()>,
}

impl ResizeWatch {
    fn disconnect(&self) {
        let disconnect = js_sys::Reflect::get(&self.observer, &"disconnect".into())
            .ok()
            .and_then(|function| function.dyn_into::<js_sys::Function>().ok());
        if let Some(disconnect) = disconnect {
            let _ = disconnect.call0(&self.observer);
        }
    }
}

/// Calls `on_resize` whenever `element` changes size, or `None` where the
/// browser has no `ResizeObserver`. Reached through JS reflection rather
/// than web-sys's binding, whose feature would add to every binary.
fn observe_resize(
    element: &web_sys::Element,
    on_resize: impl Fn() + 'static,
) -> Option<send_wrapper::SendWrapper<ResizeWatch>> {
    let window = web_sys::window()?;
    let constructor = js_sys::Reflect::get(&window, &"ResizeObserver".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let callback = Closure::<dyn Fn()>::new(on_resize);
    let observer =
        js_sys::Reflect::construct(&constructor, &js_sys::Array::of1(callback.as_ref())).ok()?;
    let observe = js_sys::Reflect::get(&observer, &"observe".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    observe.call1(&observer, element).ok()?;
    // Cleanups must be Send; the app runs on one thread, where the wrapper
    // is only ever touched.
    Some(send_wrapper::SendWrapper::new(ResizeWatch {
        observer,
        _callback: callback,
    }))
}

/// A note above the list (`wf-note`), as text. One function for every
/// note, so that the bundle holds one view of it rather than one per use.
fn note_view(testid: Option<&'static str>, text: String) -> AnyView {
    view! { <p class="wf-note" data-testid=testid>{text}</p> }.into_any()
}

/// One row: the name column (indent, toggle, service, name, markers), the
/// duration and self time, and the bar on the shared time axis. Everything
/// from the trace goes in as text nodes or attribute values, never as HTML.
fn row_view(
    prepared: &Prepared,
    context: RowsContext,
    position: usize,
    row: VisibleRow,
    window: TimeWindow,
    place: Option<TreePosition>,
    kept: bool,
) -> AnyView {
    let RowsContext {
        instance,
        selected,
        details_open,
        collapsed,
    } = context;
    let span_idx = row.span_idx;
    let Some(span) = prepared.trace.spans.get(span_idx) else {
        return ().into_any();
    };
    let layout = &prepared.layout;
    let service = prepared.trace.service_name(span_idx).to_owned();
    let service_label = service.clone();
    let color_idx = prepared.color_idx(span_idx);
    let duration = layout.times.duration(span_idx);
    let start_offset = prepared.start_offset(span_idx);
    let bar = window.bar(start_offset, start_offset + duration);
    let is_critical = layout.critical_path.contains(span_idx);
    let is_error = span.status.is_error();
    let is_orphan = layout.tree.is_orphan(span_idx);
    let skew_notes: Vec<String> = layout
        .notes_for(span_idx)
        .filter(|note| {
            matches!(
                note.kind,
                NoteKind::StartsBeforeParent { .. } | NoteKind::EndsAfterParent { .. }
            )
        })
        .map(|note| note.kind.to_string())
        .collect();
    let orphan_title = layout
        .tree
        .notes_for(span_idx)
        .find(|note| matches!(note.kind, NoteKind::MissingParent { .. }))
        .map(|note| note.kind.to_string())
        .unwrap_or_else(|| "parent not in the trace".to_owned());
    // The markers after the name, each a word or symbol and never colour
    // alone: (class, test id, tooltip, text).
    let mut tags: Vec<(&str, Option<&str>, String, &str)> = Vec::new();
    // A match says so in words, not only by its background.
    if row.is_match {
        tags.push((
            "wf-tag wf-tag-match",
            Some("wf-match-marker"),
            "matches the filter".to_owned(),
            "● match",
        ));
    }
    if is_critical {
        tags.push((
            "wf-tag wf-tag-critical",
            None,
            "on the critical path".to_owned(),
            "◆",
        ));
    }
    if is_error {
        tags.push((
            "wf-tag wf-tag-error",
            None,
            "status: error".to_owned(),
            "✖ error",
        ));
    }
    if is_orphan {
        tags.push((
            "wf-tag wf-tag-warn",
            Some("wf-orphan"),
            orphan_title,
            "orphan",
        ));
    }
    if !skew_notes.is_empty() {
        tags.push((
            "wf-tag wf-tag-warn",
            Some("wf-skew"),
            skew_notes.join("; "),
            "⚠ skew",
        ));
    }
    if let Some(adjustment) = layout.adjustment_for(span_idx) {
        tags.push((
            "wf-tag wf-tag-warn",
            Some("wf-adjusted"),
            details::describe_adjustment(adjustment),
            "⇄ moved",
        ));
    }
    let name = span.name.to_string();
    let bar_title = format!(
        "{service} · {name}: {} (self {}) at +{}",
        format_duration(duration),
        format_duration(layout.self_time(span_idx)),
        format_duration(start_offset),
    );
    let toggle = if row.has_children {
        view! {
            <button
                type="button"
                class="wf-toggle"
                data-testid="wf-toggle"
                tabindex="-1"
                aria-label=if row.is_collapsed { "Expand" } else { "Collapse" }
                on:click=move |event| {
                    // Toggling is not selecting: the row's own click must not run.
                    event.stop_propagation();
                    collapsed.update(|state| {
                        state.toggle(span_idx);
                    });
                }
            >
                {if row.is_collapsed { "▸" } else { "▾" }}
            </button>
        }
        .into_any()
    } else {
        view! { <span class="wf-toggle wf-leaf"></span> }.into_any()
    };

    view! {
        <div
            class="wf-row wf-grid"
            class:wf-critical=is_critical
            class:wf-match=row.is_match
            class:wf-selected=move || selected.get() == Some(span_idx)
            role="row"
            id=row_element_id(instance, span_idx)
            aria-rowindex=(position + 1).to_string()
            aria-setsize=place.map(|place| place.set_size.to_string())
            aria-posinset=place.map(|place| place.pos_in_set.to_string())
            aria-expanded=row.has_children.then(|| (!row.is_collapsed).to_string())
            aria-selected=move || (selected.get() == Some(span_idx)).to_string()
            data-testid="wf-row"
            data-span-id=span.span_id.to_string()
            data-service=service.clone()
            data-depth=row.depth.to_string()
            data-critical=is_critical.then_some("true")
            data-match=row.is_match.then_some("true")
            data-color=color_idx.to_string()
            // A kept row (selected, scrolled out of the window) sits at its
            // own place in the canvas, out of the window's flow.
            style=format!(
                "--wf-depth: {}; --wf-color: var(--wf-svc-{color_idx}); --wf-edge: var(--wf-edge-{color_idx}){}",
                row.depth,
                if kept {
                    format!("; position: absolute; left: 0; right: 0; top: {}px", position as f64 * ROW_HEIGHT_PX)
                } else {
                    String::new()
                },
            )
            on:click=move |_| {
                selected.set(Some(span_idx));
                details_open.set(true);
            }
        >
            <span class="wf-name" role="gridcell">
                <span class="wf-indent"></span>
                {toggle}
                <span class="wf-service">{service_label}</span>
                <span class="wf-span-name">{name}</span>
                {tags
                    .into_iter()
                    .map(|(class, testid, title, text)| {
                        view! { <span class=class data-testid=testid title=title>{text}</span> }
                    })
                    .collect_view()}
            </span>
            <span class="wf-num" role="gridcell">{format_duration(duration)}</span>
            <span class="wf-num wf-self" role="gridcell">{format_duration(layout.self_time(span_idx))}</span>
            <span class="wf-track" role="gridcell">
                // Outside a zoomed range the span has no bar.
                {bar.map(|(left, width)| {
                    view! {
                        <span
                            class="wf-bar"
                            data-testid="wf-bar"
                            title=bar_title
                            style=format!("left: {left:.4}%; width: {width:.4}%")
                        ></span>
                    }
                })}
            </span>
        </div>
    }
    // The view macro has no `aria-level`: set by name.
    .add_any_attr(custom_attribute(
        "aria-level",
        place.map(|place| place.level.to_string()),
    ))
    .into_any()
}

/// The keys, listed, in the platform's modal dialog (`showModal`): focus
/// moves into it, the page behind is inert to pointer, keyboard and
/// assistive technology, and closing it (`?`, Escape, the button) puts
/// focus back where it was, as the dialog element does.
fn help_overlay(help_open: RwSignal<bool>, scroller: NodeRef<html::Div>) -> impl IntoView {
    const KEYS: [(&str, &str); 14] = [
        ("↑ / ↓", "previous / next span"),
        ("n / N", "next / previous filter match"),
        ("Page Up / Page Down", "a screen up / down"),
        ("Home / End", "first / last span"),
        ("←", "collapse, or go to the parent"),
        ("→", "expand, or go to the first child"),
        ("Enter", "open the span's details"),
        ("z / 0", "zoom to the span / to the whole trace"),
        ("r", "show only the span's subtree; again: the whole trace"),
        ("Drag", "on the axis or the minimap: zoom to that range"),
        ("Esc", "close details or this help"),
        ("/", "focus the filter"),
        ("?", "show or hide this help"),
        ("Filter words", query::SYNTAX),
    ];
    // Found through the list's element rather than a node ref of its own:
    // each distinct node ref type costs the bundle more than this lookup.
    Effect::new(move |_| {
        let open = help_open.get();
        let dialog = scroller
            .get()
            .and_then(|element| element.closest(".wf").ok().flatten())
            .and_then(|root| root.query_selector("dialog").ok().flatten())
            .map(|element| element.unchecked_into::<web_sys::HtmlDialogElement>());
        if let Some(dialog) = dialog {
            if open && !dialog.open() {
                // Fails only when the dialog is not in the document.
                let _ = dialog.show_modal();
            } else if !open && dialog.open() {
                dialog.close();
            }
        }
    });
    view! {
        // Always in the page, so that closing it returns focus natively;
        // the test hook marks it only while open.
        <dialog
            class="wf-help"
            data-testid=move || help_open.get().then_some("wf-help")
            aria-label="Keyboard shortcuts"
            // Escape closes a modal dialog by itself: keep the signal in step.
            on:close=move |_| help_open.set(false)
        >
            <h2>"Keyboard"</h2>
            <dl>
                {KEYS
                    .iter()
                    .map(|(key, what)| view! { <dt><kbd>{*key}</kbd></dt><dd>{*what}</dd> })
                    .collect_view()}
            </dl>
            <button type="button" on:click=move |_| help_open.set(false)>"Close"</button>
        </dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators_and_plurals() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000), "1,000");
        assert_eq!(group_thousands(1_000_000), "1,000,000");
        assert_eq!(count_spans(1), "1 span");
        assert_eq!(count_spans(10_000), "10,000 spans");
    }

    #[test]
    fn bars_are_clipped_to_the_zoomed_window() {
        let window = TimeWindow::new(100, 200);
        assert_eq!(window.bar(120, 150), Some((20.0, 30.0)));
        assert_eq!(
            window.bar(50, 150),
            Some((0.0, 50.0)),
            "starts before the window"
        );
        assert_eq!(window.bar(150, 900), Some((50.0, 50.0)), "ends after it");
        assert_eq!(window.bar(300, 400), None, "wholly after it");
        assert_eq!(window.offset_at(0.5), 150);
        assert_eq!(window.offset_at(7.0), 200, "fractions are clamped");
        // An empty range still divides.
        assert_eq!(TimeWindow::new(5, 5).end, 6);
    }
}
