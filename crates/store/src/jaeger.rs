//! Jaeger's v1 response envelope (`{"data", "total", "limit", "offset",
//! "errors"}`, [`JaegerResponse`]), in which the query API answers.
//!
//! The traces themselves (and the log records shown on their spans) are
//! written by `tracelab-formats`' Jaeger exporter, the one writer of
//! Jaeger JSON, shared with the app's export, from the stored spans read
//! into the trace model; the server does that, since the store decodes no
//! wire format.

use serde::{Deserialize, Serialize};

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
