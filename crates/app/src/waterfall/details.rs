//! The details panel (`wf-details`): everything the trace holds about one
//! span, and the `traceparent` it would send downstream. Shows what
//! `tracelab-trace` and `tracelab-context` compute; decides nothing itself.
//!
//! The panel is built from plain rows of text ([`Field`], [`Section`]) drawn
//! by one small view each, rather than one `view!` per field: every distinct
//! `view!` tree is its own type in the wasm, and the bundle is size-bound.

use std::sync::Arc;

use leptos::prelude::*;
use tracelab_context::{
    SpanId as ContextSpanId, TraceFlags, TraceId as ContextTraceId, TraceParent,
};
use tracelab_trace::axis::format_duration;
use tracelab_trace::skew::SkewAdjustment;
use tracelab_trace::{KeyValue, Status, Trace, Waterfall};

/// How a value is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Look {
    Text,
    /// Ids, headers and attribute values: monospace.
    Code,
    /// An error status: red, with a ✖ in the text (never colour alone).
    Error,
}

/// One labelled value; `testid` is set on the stable hooks only.
struct Field {
    label: String,
    value: String,
    look: Look,
    testid: Option<&'static str>,
}

impl Field {
    fn new(label: impl Into<String>, value: impl Into<String>, look: Look) -> Field {
        Field {
            label: label.into(),
            value: value.into(),
            look,
            testid: None,
        }
    }

    fn with_testid(mut self, testid: &'static str) -> Field {
        self.testid = Some(testid);
        self
    }
}

/// A titled list of fields; an empty one says "none".
struct Section {
    title: String,
    fields: Vec<Field>,
}

fn attribute_fields(attributes: &[KeyValue]) -> Vec<Field> {
    attributes
        .iter()
        .map(|attribute| {
            Field::new(
                attribute.key.to_string(),
                attribute.value.to_string(),
                Look::Code,
            )
        })
        .collect()
}

/// What the adjusted view did to a subtree, in a sentence.
pub(super) fn describe_adjustment(adjustment: &SkewAdjustment) -> String {
    let shift = adjustment.shift_nanos.unsigned_abs();
    format!(
        "moved {} {} with {} ({})",
        format_duration(shift),
        if adjustment.shift_nanos < 0 {
            "earlier"
        } else {
            "later"
        },
        match adjustment.n_spans_moved {
            1 => "no descendants".to_owned(),
            n => format!("its {} descendants", n - 1),
        },
        adjustment.reason,
    )
}

/// The details of the selected span while they are open: closing them
/// puts the focus back on the list, on the row that opened them (still
/// selected), not on the page.
pub(super) fn panel(state: super::ViewState) -> Option<AnyView> {
    let span_idx = state
        .selected_idx
        .get()
        .filter(|_| state.details_open.get())?;
    let root_idx = state.root_idx.get();
    let prepared = state.prepared.get();
    // A subtree to show alone: the span has children and is not already the
    // one shown.
    let can_reroot = prepared.layout.tree.has_children(span_idx) && root_idx != Some(span_idx);
    Some(span_details(
        &prepared.trace,
        &prepared.layout,
        span_idx,
        prepared.color_idx(span_idx),
        move || {
            state.details_open.set(false);
            if let Some(element) = state.scroller.get_untracked() {
                let _ = element.focus();
            }
        },
        can_reroot.then_some(move || state.set_root(Some(span_idx))),
    ))
}

/// The panel for span `span_idx`; `on_close` hides it, and `on_reroot`,
/// when given, shows only the span's subtree.
fn span_details(
    trace: &Arc<Trace>,
    layout: &Waterfall,
    span_idx: usize,
    color_idx: usize,
    on_close: impl Fn() + 'static,
    on_reroot: Option<impl Fn() + 'static>,
) -> AnyView {
    let Some(span) = trace.spans.get(span_idx) else {
        return ().into_any();
    };
    let title = format!("{} · {}", trace.service_name(span_idx), span.name);
    let parent = match (span.parent_span_id, layout.tree.is_orphan(span_idx)) {
        (None, _) => "none (a root)".to_owned(),
        (Some(id), true) => format!("{id} (not in the trace)"),
        (Some(id), false) if id.is_zero() => "none (a root)".to_owned(),
        (Some(id), false) => id.to_string(),
    };
    let (status, status_look) = match &span.status {
        Status::Unset => ("unset".to_owned(), Look::Text),
        Status::Ok => ("ok".to_owned(), Look::Text),
        Status::Error { message } if message.is_empty() => ("✖ error".to_owned(), Look::Error),
        Status::Error { message } => (format!("✖ error: {message}"), Look::Error),
    };
    // The span as the parent of an outgoing call: same trace id, this span's
    // id as parent-id, the flags it was recorded with. A zero id (possible in
    // an imported trace) has no valid header, and that is what it says.
    let downstream = match (
        ContextTraceId::from_bytes(span.trace_id.0),
        ContextSpanId::from_bytes(span.span_id.0),
    ) {
        (Some(trace_id), Some(span_id)) => format!(
            "traceparent: {}",
            TraceParent::new(trace_id, span_id, TraceFlags(span.trace_flags))
        ),
        _ => "nothing: a zero trace id or span id cannot be sent (W3C Trace Context §3.2.2.3)"
            .to_owned(),
    };
    let critical = if layout.critical_path.contains(span_idx) {
        format!(
            "on it, for {}",
            format_duration(layout.critical_path.time_on_path(span_idx))
        )
    } else {
        "not on it".to_owned()
    };
    let mut fields = vec![
        Field::new("Span id", span.span_id.to_string(), Look::Code)
            .with_testid("wf-details-span-id"),
        Field::new("Trace id", span.trace_id.to_string(), Look::Code),
        Field::new("Parent", parent, Look::Code),
        Field::new("Kind", span.kind.as_str(), Look::Text),
        Field::new("Status", status, status_look),
        Field::new(
            "Start",
            format!("+{}", format_duration(layout.start_offset(span_idx))),
            Look::Text,
        ),
        Field::new(
            "Duration",
            format_duration(layout.times.duration(span_idx)),
            Look::Text,
        ),
        Field::new(
            "Self time",
            format_duration(layout.self_time(span_idx)),
            Look::Text,
        ),
        Field::new("Critical path", critical, Look::Text),
        Field::new("Sends downstream", downstream, Look::Code)
            .with_testid("wf-details-traceparent"),
    ];
    if let Some(adjustment) = layout.adjustment_for(span_idx) {
        fields.push(
            Field::new("Adjusted", describe_adjustment(adjustment), Look::Text)
                .with_testid("wf-details-adjusted"),
        );
    }
    if !span.trace_state.is_empty() {
        fields.push(Field::new(
            "tracestate",
            span.trace_state.to_string(),
            Look::Code,
        ));
    }

    let mut sections = Vec::new();
    let notes: Vec<Field> = layout
        .notes_for(span_idx)
        .map(|note| Field::new("⚠", note.kind.to_string(), Look::Text))
        .collect();
    if !notes.is_empty() {
        sections.push(Section {
            title: "Notes".to_owned(),
            fields: notes,
        });
    }
    sections.push(Section {
        title: "Attributes".to_owned(),
        fields: attribute_fields(&span.attributes),
    });
    // Events on the span's own time scale: offsets from its start, each
    // followed by its attributes.
    let mut events = Vec::new();
    for event in &span.events {
        let offset = if event.time_unix_nanos >= span.start_unix_nanos {
            format!(
                "+{}",
                format_duration(event.time_unix_nanos - span.start_unix_nanos)
            )
        } else {
            format!(
                "−{}",
                format_duration(span.start_unix_nanos - event.time_unix_nanos)
            )
        };
        events.push(Field::new(offset, event.name.to_string(), Look::Text));
        events.extend(attribute_fields(&event.attributes));
    }
    sections.push(Section {
        title: "Events".to_owned(),
        fields: events,
    });
    let mut links = Vec::new();
    for link in &span.links {
        links.push(Field::new(
            "link",
            format!("{} / {}", link.trace_id, link.span_id),
            Look::Code,
        ));
        links.extend(attribute_fields(&link.attributes));
    }
    sections.push(Section {
        title: "Links".to_owned(),
        fields: links,
    });
    if let Some(resource) = trace.resource_of(span_idx) {
        sections.push(Section {
            title: format!("Resource: {}", resource.service_name),
            fields: attribute_fields(&resource.attributes),
        });
    }
    if let Some(scope) = trace.scope_of(span_idx) {
        let mut fields = vec![Field::new(
            "name",
            format!("{} {}", scope.name, scope.version),
            Look::Code,
        )];
        fields.extend(attribute_fields(&scope.attributes));
        sections.push(Section {
            title: "Instrumentation scope".to_owned(),
            fields,
        });
    }

    // Escape anywhere in the panel closes it, as the Close button does (a
    // key with a modifier is the browser's).
    let on_close = std::rc::Rc::new(on_close);
    let close_on_escape = on_close.clone();
    view! {
        <section
            class="wf-details"
            data-testid="wf-details"
            aria-label="Span details"
            style=format!("--wf-color: var(--wf-svc-{color_idx})")
            on:keydown=move |event: web_sys::KeyboardEvent| {
                let modified = event.ctrl_key() || event.meta_key() || event.alt_key();
                if event.key() == "Escape" && !modified {
                    event.prevent_default();
                    close_on_escape();
                }
            }
        >
            <header class="wf-details-head">
                <h2>
                    <span class="wf-swatch" aria-hidden="true"></span>
                    " "
                    {title}
                </h2>
                {on_reroot.map(|on_reroot| view! {
                    <button
                        type="button"
                        class="wf-close"
                        data-testid="wf-reroot"
                        aria-keyshortcuts="r"
                        on:click=move |_| on_reroot()
                    >
                        "Only this subtree"
                    </button>
                })}
                <button type="button" class="wf-close" on:click=move |_| on_close()>
                    "Close"
                </button>
            </header>
            {field_list(fields)}
            {sections
                .into_iter()
                .map(|section| {
                    let is_empty = section.fields.is_empty();
                    view! {
                        <h3>{section.title}</h3>
                        {if is_empty {
                            field_list(vec![Field::new("", "none", Look::Text)])
                        } else {
                            field_list(section.fields)
                        }}
                    }
                })
                .collect_view()}
        </section>
    }
    .into_any()
}

/// Labels and values as a definition list of text: values from the trace
/// only ever become text nodes.
fn field_list(fields: Vec<Field>) -> AnyView {
    let items = fields
        .into_iter()
        .map(|field| {
            let class = match field.look {
                Look::Text => "",
                Look::Code => "wf-code",
                Look::Error => "wf-error",
            };
            view! {
                <dt>{field.label}</dt>
                <dd class=class data-testid=field.testid>{field.value}</dd>
            }
        })
        .collect_view();
    view! { <dl class="wf-fields">{items}</dl> }.into_any()
}
