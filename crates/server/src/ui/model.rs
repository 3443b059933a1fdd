//! A stored OTLP trace as `tracelab-trace`'s model, the shape the app's
//! waterfall draws (what `/api/tracelab/traces/{id}` answers, as JSON) and
//! what the query API's exporters write.
//!
//! There is one reading of OTLP into the model, `tracelab-formats`' (the
//! one `tracelab import` and the app's Import page use): the stored spans
//! are written as the OTLP/JSON export request they came in as and read
//! back by it. So a trace shows the same whether it was imported from a
//! file or received by the collector, down to a follows-from parent
//! (carried in OTLP as a link marked `opentracing.ref_type`).

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, Span};
use tracelab_store::{value_to_text, StoredLog, StoredTrace};
use tracelab_trace::model::Trace;

/// The trace in the model: spans in start order (then span id), with the
/// resources and scopes they name; each log record correlated with a span
/// becomes one of its events (named by the record's body, with
/// `log.severity` and its attributes), so the waterfall's details show it
/// on its span. With no `logs`, the spans exactly as stored: what the
/// export download writes.
pub fn to_model(stored: &StoredTrace, logs: &[StoredLog]) -> Trace {
    let mut resource_spans = stored.to_resource_spans();
    if !logs.is_empty() {
        add_logs_as_events(&mut resource_spans, logs);
    }
    let request = ExportTraceServiceRequest { resource_spans };
    // Serialising plain proto structs cannot fail; an empty body would
    // only give an empty trace.
    let json = serde_json::to_vec(&request).unwrap_or_default();
    let imported = tracelab_formats::import(&json);
    if imported.n_skipped > 0 {
        // The store keeps only valid ids, so this is a disagreement between
        // the store and the reader worth hearing of.
        tracing::warn!(
            "trace {}: {} of what is stored could not be read back: {}",
            stored.trace_id,
            imported.n_skipped,
            imported
                .skipped
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
    }
    let mut trace = imported.traces.into_iter().next().unwrap_or_default();
    trace
        .spans
        .sort_by_key(|span| (span.start_unix_nanos, span.span_id.0));
    trace
}

/// Each log record correlated with a span as one more event of that span
/// (in time order among its events): named by the record's body, with
/// `log.severity` (its text, or `INFO`) and the record's attributes.
fn add_logs_as_events(resource_spans: &mut [ResourceSpans], logs: &[StoredLog]) {
    let mut spans: HashMap<String, &mut Span> = HashMap::new();
    for span in resource_spans
        .iter_mut()
        .flat_map(|resource_spans| resource_spans.scope_spans.iter_mut())
        .flat_map(|scope_spans| scope_spans.spans.iter_mut())
    {
        spans.insert(hex(&span.span_id), span);
    }
    for log in logs {
        let Some(span) = log.span_id.as_ref().and_then(|id| spans.get_mut(id)) else {
            continue;
        };
        let record = &log.record;
        let severity = if record.severity_text.is_empty() {
            "INFO"
        } else {
            record.severity_text.as_str()
        };
        let mut attributes = vec![KeyValue {
            key: "log.severity".to_owned(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(severity.to_owned())),
            }),
            ..KeyValue::default()
        }];
        attributes.extend(record.attributes.iter().cloned());
        span.events.push(span::Event {
            time_unix_nano: if record.time_unix_nano != 0 {
                record.time_unix_nano
            } else {
                record.observed_time_unix_nano
            },
            name: record.body.as_ref().map_or_else(String::new, value_to_text),
            attributes,
            dropped_attributes_count: 0,
        });
    }
    for span in spans.into_values() {
        span.events.sort_by_key(|event| event.time_unix_nano);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
