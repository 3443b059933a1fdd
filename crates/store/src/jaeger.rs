//! What the query API needs of Jaeger's v1 JSON beyond traces: the
//! response envelope (`{"data", "total", "limit", "offset", "errors"}`,
//! [`JaegerResponse`]) and a log record shown as a span log
//! ([`StoredLog::to_jaeger_log`]).
//!
//! The traces themselves are written by `tracelab-formats`' Jaeger exporter
//! (the one writer of Jaeger JSON, shared with the app's export and
//! `tracelab import`'s checks), from the stored spans read into the trace
//! model; the server does that, since the store decodes no wire format.
//!
//! Tags here are typed as Jaeger's OTLP translator types attributes
//! (`pkg/translator/jaeger` in the OpenTelemetry Collector contrib):
//! binary as base64, integers beyond JavaScript's exact range as strings,
//! arrays and maps as JSON text in a string tag.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::query::StoredLog;
use crate::value::{base64, value_to_json, value_to_text};

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
