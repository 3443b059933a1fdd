//! The trace model and the waterfall layout of tracelab.
//!
//! ```
//! use tracelab_trace::view::{visible_rows, CollapseState, ViewOptions};
//! use tracelab_trace::{axis, generate, Waterfall};
//!
//! // A realistic trace of 200 spans, the same for the same seed.
//! let trace = generate(200, 7);
//! let waterfall = Waterfall::build(&trace);
//!
//! let collapsed = CollapseState::new();
//! let rows = visible_rows(
//!     &waterfall.tree,
//!     &ViewOptions { root: None, collapsed: &collapsed, filter: None },
//! );
//! assert_eq!(rows.len(), 200);
//! for row in rows.iter().take(5) {
//!     let span = &trace.spans[row.span_idx];
//!     println!(
//!         "{:indent$}{} {} {} (self {}){}",
//!         "",
//!         trace.service_name(row.span_idx),
//!         span.name,
//!         axis::format_duration(waterfall.times.duration(row.span_idx)),
//!         axis::format_duration(waterfall.self_time(row.span_idx)),
//!         if waterfall.critical_path.contains(row.span_idx) { " *critical*" } else { "" },
//!         indent = 2 * row.depth,
//!     );
//! }
//! assert_eq!(trace.service_name(rows[0].span_idx), "frontend");
//! ```
//!
//! What it is for:
//! - [`model`]: the span model, holding what OpenTelemetry (OTLP) and
//!   Jaeger/Zipkin traces carry, compactly (resources and scopes interned,
//!   strings shared).
//! - [`tree`]: the [`SpanTree`] (several roots, orphans, duplicate ids and
//!   parent cycles repaired with a [`Note`] each, depth, children in start
//!   order, rows in depth-first pre-order).
//! - [`layout`]: self time and the critical path; [`skew`]: clock skew
//!   notes and the opt-in adjusted view that lists what it moved;
//!   [`waterfall`]: all of it computed once as a [`Waterfall`];
//!   [`layout_job`]: the same a slice at a time ([`LayoutJob`]), so that a
//!   page laying out a million spans stays responsive.
//! - [`view`]: collapse state, the filter (hide or highlight), re-rooting,
//!   and the visible rows that follow; [`axis`]: time ticks at round units.
//! - [`keys`]: what a key pressed on the waterfall's list does (a key with
//!   Ctrl, Cmd or Alt is left to the browser); [`treegrid`]: each visible
//!   row's level and place among its siblings, for assistive technology.
//! - [`group`]: spans into traces, grouped by trace id, and batches merged
//!   with equal resources and scopes interned (what the importers use).
//! - [`generate`](mod@generate): a seeded generator of realistic traces for
//!   tests, benchmarks and the sample page.
//!
//! What it is not for: it does no I/O (no files, sockets or clocks), knows
//! nothing of the DOM and has no view types: the app turns its plain data
//! into rows and bars. It compiles for `wasm32-unknown-unknown` and native
//! alike, and never panics on any input: bad parent ids, cycles and ends
//! before starts become notes. Nothing recurses, so a 100,000-deep chain is
//! laid out like any other trace.

pub mod axis;
mod budget;
pub mod generate;
pub mod group;
pub mod keys;
pub mod layout;
pub mod layout_job;
pub mod minimap;
pub mod model;
pub mod query;
pub mod scroll;
pub mod services;
pub mod skew;
pub mod summary;
pub mod tree;
pub mod treegrid;
pub mod view;
pub mod waterfall;

pub use generate::generate;
pub use layout_job::LayoutJob;
pub use model::*;
pub use tree::{Note, NoteKind, SpanTree};
pub use waterfall::Waterfall;
