//! Jaeger's v1 JSON (what `jaeger-query` answers on `/api/traces/{id}`,
//! `/api/traces`, `/api/services`, …), so Jaeger UI and other existing
//! tooling read tracelab's query API as they read Jaeger's.
//!
//! The shapes follow Jaeger's `uimodel` (field names, `null` where Go
//! writes a nil slice). OTLP spans become Jaeger spans as Jaeger's own OTLP
//! translator makes them (`pkg/translator/jaeger` in the OpenTelemetry
//! Collector contrib, which Jaeger uses), and what Jaeger's model lacks
//! goes into tags, in the translator's order:
//! - `otel.scope.name`, `otel.scope.version`: the instrumentation scope;
//! - the span's attributes; arrays and maps as JSON text in a string tag;
//! - `span.kind` (`client`, `server`, `producer`, `consumer`, `internal`;
//!   none when unspecified);
//! - `otel.status_code` (`OK` or `ERROR`), `error` = `true` for error
//!   status, `otel.status_description`: the status;
//! - `w3c.tracestate`: the span's tracestate, if any;
//! - `otel.dropped_attributes_count`, `otel.dropped_events_count`,
//!   `otel.dropped_links_count` when not zero (OpenTelemetry's mapping to
//!   non-OTLP formats).
//!
//! The parent becomes the first `CHILD_OF` reference and each link a
//! `FOLLOWS_FROM` reference after it (`CHILD_OF` if the link says
//! `opentracing.ref_type` = `child_of`); events become logs, their name in
//! an `event` field; the resource becomes the process (its `service.name`
//! the `serviceName`, the other attributes its tags). `flags` carries the
//! W3C trace flags (bit 0, sampled, means the same to Jaeger).

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::query::{span_kind_name, StoredLog, StoredTrace};
use crate::value::{base64, hex, value_to_json, value_to_text};

/// The largest integer JavaScript holds exactly (2^53 - 1): Jaeger writes
/// larger `int64` tags as strings so the UI does not round them.
const JS_MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Jaeger's response envelope (`structuredResponse`): `{"data": …,
/// "total": n, "limit": 0, "offset": 0, "errors": null}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JaegerResponse<T> {
    pub data: T,
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    /// `null` when there are none, as Go writes a nil slice.
    pub errors: Option<Vec<JaegerError>>,
}

impl<T> JaegerResponse<T> {
    /// A successful answer holding `data` (`total` items).
    pub fn ok(data: T, total: usize) -> JaegerResponse<T> {
        JaegerResponse {
            data,
            total,
            limit: 0,
            offset: 0,
            errors: None,
        }
    }
}

impl JaegerResponse<()> {
    /// A failed answer, as Jaeger writes one: `data` is `null`, the error
    /// carries the HTTP status `code` and a message.
    pub fn error(code: i32, msg: impl Into<String>) -> JaegerResponse<()> {
        JaegerResponse {
            data: (),
            total: 0,
            limit: 0,
            offset: 0,
            errors: Some(vec![JaegerError {
                code,
                msg: msg.into(),
                trace_id: None,
            }]),
        }
    }
}

/// One error of a [`JaegerResponse`] (`structuredError`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JaegerError {
    /// The HTTP status; left out when 0, as Jaeger does.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub code: i32,
    pub msg: String,
    /// The trace the error is about (a trace search's missing trace).
    #[serde(rename = "traceID", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

fn is_zero(code: &i32) -> bool {
    *code == 0
}

fn is_zero_u32(flags: &u32) -> bool {
    *flags == 0
}

/// A trace in Jaeger's v1 JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JaegerTrace {
    #[serde(rename = "traceID")]
    pub trace_id: String,
    pub spans: Vec<JaegerSpan>,
    /// `p1`, `p2`, … in the order spans first name them.
    pub processes: BTreeMap<String, JaegerProcess>,
    pub warnings: Option<Vec<String>>,
}

/// A span in Jaeger's v1 JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JaegerSpan {
    #[serde(rename = "traceID")]
    pub trace_id: String,
    #[serde(rename = "spanID")]
    pub span_id: String,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub flags: u32,
    pub operation_name: String,
    pub references: Vec<JaegerReference>,
    /// Microseconds since the Unix epoch (truncated).
    pub start_time: u64,
    /// Microseconds (truncated).
    pub duration: u64,
    pub tags: Vec<JaegerKeyValue>,
    pub logs: Vec<JaegerLog>,
    #[serde(rename = "processID")]
    pub process_id: String,
    pub warnings: Option<Vec<String>>,
}

/// How one span refers to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JaegerRefType {
    #[serde(rename = "CHILD_OF")]
    ChildOf,
    #[serde(rename = "FOLLOWS_FROM")]
    FollowsFrom,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JaegerReference {
    #[serde(rename = "refType")]
    pub ref_type: JaegerRefType,
    #[serde(rename = "traceID")]
    pub trace_id: String,
    #[serde(rename = "spanID")]
    pub span_id: String,
}

/// The process (service) that emitted spans.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JaegerProcess {
    #[serde(rename = "serviceName")]
    pub service_name: String,
    pub tags: Vec<JaegerKeyValue>,
}

/// A span log (an OTLP span event, or a log record shown on its span).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JaegerLog {
    /// Microseconds since the Unix epoch (truncated).
    pub timestamp: u64,
    pub fields: Vec<JaegerKeyValue>,
}

/// A tag or log field: `{"key", "type", "value"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JaegerKeyValue {
    pub key: String,
    #[serde(rename = "type")]
    pub value_type: JaegerValueType,
    pub value: Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JaegerValueType {
    String,
    Bool,
    Int64,
    Float64,
    Binary,
}

impl JaegerKeyValue {
    /// A string tag.
    pub fn string(key: &str, value: impl Into<String>) -> JaegerKeyValue {
        JaegerKeyValue {
            key: key.to_owned(),
            value_type: JaegerValueType::String,
            value: Json::String(value.into()),
        }
    }

    /// An attribute as a tag, typed as Jaeger's translator types it:
    /// binary as base64 (Go's `[]byte` in JSON), integers beyond
    /// JavaScript's exact range as strings (as Jaeger writes them), arrays
    /// and maps as JSON text in a string tag. A double that JSON cannot
    /// hold (NaN, ±infinity) is written as a string.
    pub fn from_attribute(key: &str, value: Option<&AnyValue>) -> JaegerKeyValue {
        let (value_type, value) = match value.and_then(|value| value.value.as_ref()) {
            Some(Value::StringValue(text)) => (JaegerValueType::String, Json::String(text.clone())),
            Some(Value::BoolValue(flag)) => (JaegerValueType::Bool, Json::Bool(*flag)),
            Some(Value::IntValue(number))
                if (-JS_MAX_SAFE_INTEGER..=JS_MAX_SAFE_INTEGER).contains(number) =>
            {
                (JaegerValueType::Int64, Json::from(*number))
            }
            Some(Value::IntValue(number)) => {
                (JaegerValueType::Int64, Json::String(number.to_string()))
            }
            Some(Value::DoubleValue(number)) => (
                JaegerValueType::Float64,
                serde_json::Number::from_f64(*number)
                    .map(Json::Number)
                    .unwrap_or_else(|| {
                        Json::String(value_to_text(&AnyValue {
                            value: Some(Value::DoubleValue(*number)),
                        }))
                    }),
            ),
            Some(Value::BytesValue(bytes)) => {
                (JaegerValueType::Binary, Json::String(base64(bytes)))
            }
            Some(Value::ArrayValue(_) | Value::KvlistValue(_)) => (
                JaegerValueType::String,
                Json::String(value.map(value_to_json).unwrap_or_default()),
            ),
            None | Some(Value::StringValueStrindex(_)) => {
                (JaegerValueType::String, Json::String(String::new()))
            }
        };
        JaegerKeyValue {
            key: key.to_owned(),
            value_type,
            value,
        }
    }

    fn int(key: &str, value: i64) -> JaegerKeyValue {
        JaegerKeyValue {
            key: key.to_owned(),
            value_type: JaegerValueType::Int64,
            value: Json::from(value),
        }
    }
}

fn tags_from(attributes: &[KeyValue]) -> impl Iterator<Item = JaegerKeyValue> + '_ {
    attributes
        .iter()
        .map(|pair| JaegerKeyValue::from_attribute(&pair.key, pair.value.as_ref()))
}

/// `trace` as Jaeger's query service returns it (one element of `data` in
/// `/api/traces/{id}`); see the [module docs](self) for the mapping.
pub fn jaeger_trace(trace: &StoredTrace) -> JaegerTrace {
    // Process ids by first use; two resources that make the same process
    // (same service and tags) share one, as in Jaeger's process hashtable.
    let mut processes: Vec<JaegerProcess> = Vec::new();
    let mut process_of_resource: Vec<Option<usize>> = vec![None; trace.resources.len()];
    let mut spans = Vec::with_capacity(trace.spans.len());
    for stored in &trace.spans {
        let process_idx = match process_of_resource.get(stored.resource).copied().flatten() {
            Some(idx) => idx,
            None => {
                let resource = trace.resource_of(stored);
                let process = JaegerProcess {
                    service_name: resource.service_name.clone(),
                    tags: resource
                        .resource
                        .attributes
                        .iter()
                        .filter(|pair| pair.key != "service.name")
                        .map(|pair| JaegerKeyValue::from_attribute(&pair.key, pair.value.as_ref()))
                        .collect(),
                };
                let idx = match processes.iter().position(|known| *known == process) {
                    Some(idx) => idx,
                    None => {
                        processes.push(process);
                        processes.len() - 1
                    }
                };
                if let Some(slot) = process_of_resource.get_mut(stored.resource) {
                    *slot = Some(idx);
                }
                idx
            }
        };
        let span = &stored.span;
        let trace_id = hex(&span.trace_id);

        let mut tags = Vec::with_capacity(span.attributes.len() + 6);
        let scope = &trace.scope_of(stored).scope;
        if !scope.name.is_empty() {
            tags.push(JaegerKeyValue::string(
                "otel.scope.name",
                scope.name.clone(),
            ));
        }
        if !scope.version.is_empty() {
            tags.push(JaegerKeyValue::string(
                "otel.scope.version",
                scope.version.clone(),
            ));
        }
        tags.extend(tags_from(&span.attributes));
        let kind = span_kind_name(span.kind);
        if !kind.is_empty() {
            tags.push(JaegerKeyValue::string("span.kind", kind));
        }
        let (status_code, status_message) = span
            .status
            .as_ref()
            .map_or((0, ""), |status| (status.code, status.message.as_str()));
        match status_code {
            1 => tags.push(JaegerKeyValue::string("otel.status_code", "OK")),
            2 => {
                tags.push(JaegerKeyValue::string("otel.status_code", "ERROR"));
                tags.push(JaegerKeyValue {
                    key: "error".into(),
                    value_type: JaegerValueType::Bool,
                    value: Json::Bool(true),
                });
            }
            _ => {}
        }
        if !status_message.is_empty() {
            tags.push(JaegerKeyValue::string(
                "otel.status_description",
                status_message,
            ));
        }
        if !span.trace_state.is_empty() {
            tags.push(JaegerKeyValue::string(
                "w3c.tracestate",
                span.trace_state.clone(),
            ));
        }
        for (key, count) in [
            (
                "otel.dropped_attributes_count",
                span.dropped_attributes_count,
            ),
            ("otel.dropped_events_count", span.dropped_events_count),
            ("otel.dropped_links_count", span.dropped_links_count),
        ] {
            if count > 0 {
                tags.push(JaegerKeyValue::int(key, i64::from(count)));
            }
        }

        let mut references = Vec::with_capacity(span.links.len() + 1);
        let parent = (!span.parent_span_id.is_empty()
            && span.parent_span_id.iter().any(|byte| *byte != 0))
        .then(|| hex(&span.parent_span_id));
        if let Some(parent) = &parent {
            references.push(JaegerReference {
                ref_type: JaegerRefType::ChildOf,
                trace_id: trace_id.clone(),
                span_id: parent.clone(),
            });
        }
        for link in &span.links {
            let ref_type = match link
                .attributes
                .iter()
                .find(|pair| pair.key == "opentracing.ref_type")
            {
                Some(pair)
                    if pair.value.as_ref().map(value_to_text).as_deref() == Some("child_of") =>
                {
                    JaegerRefType::ChildOf
                }
                _ => JaegerRefType::FollowsFrom,
            };
            let reference = JaegerReference {
                ref_type,
                trace_id: hex(&link.trace_id),
                span_id: hex(&link.span_id),
            };
            // A link to the parent only sets the parent reference's type.
            if parent.is_some()
                && reference.trace_id == trace_id
                && Some(&reference.span_id) == parent.as_ref()
            {
                if let Some(first) = references.first_mut() {
                    first.ref_type = ref_type;
                }
                continue;
            }
            references.push(reference);
        }

        let logs = span
            .events
            .iter()
            .map(|event| {
                let mut fields = Vec::with_capacity(event.attributes.len() + 1);
                if !event.name.is_empty()
                    && !event.attributes.iter().any(|pair| pair.key == "event")
                {
                    fields.push(JaegerKeyValue::string("event", event.name.clone()));
                }
                fields.extend(tags_from(&event.attributes));
                JaegerLog {
                    timestamp: event.time_unix_nano / 1000,
                    fields,
                }
            })
            .collect();

        spans.push(JaegerSpan {
            trace_id,
            span_id: hex(&span.span_id),
            flags: span.flags & 0xff,
            operation_name: span.name.clone(),
            references,
            start_time: span.start_time_unix_nano / 1000,
            duration: span
                .end_time_unix_nano
                .saturating_sub(span.start_time_unix_nano)
                / 1000,
            tags,
            logs,
            process_id: format!("p{}", process_idx + 1),
            warnings: None,
        });
    }
    JaegerTrace {
        trace_id: trace.trace_id.clone(),
        spans,
        processes: processes
            .into_iter()
            .enumerate()
            .map(|(idx, process)| (format!("p{}", idx + 1), process))
            .collect(),
        warnings: None,
    }
}

impl StoredLog {
    /// The record as a Jaeger span log, for showing it on its span: the
    /// body as `message` and the severity as `level` (OpenTracing's log
    /// fields), `event` = `log` (or the record's event name), then its
    /// attributes. Timestamped by its time, or the time it was observed.
    pub fn to_jaeger_log(&self) -> JaegerLog {
        let record: &LogRecord = &self.record;
        let mut fields = Vec::with_capacity(record.attributes.len() + 3);
        let event = if record.event_name.is_empty() {
            "log"
        } else {
            record.event_name.as_str()
        };
        fields.push(JaegerKeyValue::string("event", event));
        if !record.severity_text.is_empty() {
            fields.push(JaegerKeyValue::string(
                "level",
                record.severity_text.clone(),
            ));
        } else if record.severity_number != 0 {
            fields.push(JaegerKeyValue::int(
                "level",
                i64::from(record.severity_number),
            ));
        }
        if let Some(body) = &record.body {
            fields.push(match &body.value {
                Some(Value::StringValue(text)) => JaegerKeyValue::string("message", text.clone()),
                _ => JaegerKeyValue::string("message", value_to_json(body)),
            });
        }
        fields.extend(tags_from(&record.attributes));
        let time = if record.time_unix_nano != 0 {
            record.time_unix_nano
        } else {
            record.observed_time_unix_nano
        };
        JaegerLog {
            timestamp: time / 1000,
            fields,
        }
    }
}
