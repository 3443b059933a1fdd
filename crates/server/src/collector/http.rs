//! OTLP/HTTP: `POST /v1/traces`, `/v1/logs`, `/v1/metrics` with a protobuf
//! or JSON body, plain or gzip, answered in the request's content type.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tower_http::decompression::RequestDecompressionLayer;

use super::{otlp_json, Accepted, Export, Receiver, Refusal, Signal};

/// The two encodings of OTLP/HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// The encoding a `Content-Type` names (parameters ignored), if OTLP's.
    pub fn of(headers: &HeaderMap) -> Option<Encoding> {
        let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let essence = value.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// `google.rpc.Status`, the body of every OTLP error answer.
#[derive(Clone, PartialEq, Message, serde::Serialize)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// gRPC's `INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, `UNAVAILABLE`, as
/// `google.rpc.Status` codes.
const INVALID_ARGUMENT: i32 = 3;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;

/// The OTLP/HTTP routes, reading bodies of at most the receiver's limit
/// after gzip is undone (an encoding other than gzip is answered 415).
pub fn router(receiver: Receiver) -> Router {
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/logs", post(logs))
        .route("/v1/metrics", post(metrics))
        .with_state(receiver)
        .layer(
            RequestDecompressionLayer::new()
                .gzip(true)
                .pass_through_unaccepted(false),
        )
}

async fn traces(State(receiver): State<Receiver>, request: Request) -> Response {
    receive(receiver, request, Signal::Traces).await
}

async fn logs(State(receiver): State<Receiver>, request: Request) -> Response {
    receive(receiver, request, Signal::Logs).await
}

async fn metrics(State(receiver): State<Receiver>, request: Request) -> Response {
    receive(receiver, request, Signal::Metrics).await
}

async fn receive(receiver: Receiver, request: Request, signal: Signal) -> Response {
    let (parts, body) = request.into_parts();
    let Some(encoding) = Encoding::of(&parts.headers) else {
        let found = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("none");
        return status(
            Encoding::Json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            INVALID_ARGUMENT,
            format!(
                "Content-Type {found:?} is not OTLP's: send application/x-protobuf or application/json"
            ),
        );
    };
    let limit = receiver.limits.max_body_bytes;
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return status(
                encoding,
                StatusCode::PAYLOAD_TOO_LARGE,
                RESOURCE_EXHAUSTED,
                format!(
                "the body is larger than {limit} bytes (after decompression); send smaller batches"
            ),
            )
        }
        Err(error) => {
            // Mostly a corrupt or truncated gzip stream.
            return status(
                encoding,
                StatusCode::BAD_REQUEST,
                INVALID_ARGUMENT,
                format!("the body could not be read: {error}"),
            );
        }
    };
    let export = match decode(signal, encoding, &bytes) {
        Ok(export) => export,
        Err(message) => {
            return status(encoding, StatusCode::BAD_REQUEST, INVALID_ARGUMENT, message)
        }
    };
    match receiver.accept(export).await {
        Ok(accepted) => success(signal, encoding, accepted),
        Err(Refusal::Busy {
            message,
            retry_after,
        }) => {
            let mut response = status(
                encoding,
                StatusCode::SERVICE_UNAVAILABLE,
                UNAVAILABLE,
                message,
            );
            if let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            response
        }
    }
}

/// Decodes a request body of `signal` in `encoding`.
pub fn decode(signal: Signal, encoding: Encoding, bytes: &Bytes) -> Result<Export, String> {
    let what = match signal {
        Signal::Traces => "ExportTraceServiceRequest",
        Signal::Logs => "ExportLogsServiceRequest",
        Signal::Metrics => "ExportMetricsServiceRequest",
    };
    let protobuf_error =
        |error: prost::DecodeError| format!("the body is not a protobuf {what}: {error}");
    Ok(match (signal, encoding) {
        (Signal::Traces, Encoding::Protobuf) => Export::Traces(
            ExportTraceServiceRequest::decode(bytes.as_ref()).map_err(protobuf_error)?,
        ),
        (Signal::Logs, Encoding::Protobuf) => {
            Export::Logs(ExportLogsServiceRequest::decode(bytes.as_ref()).map_err(protobuf_error)?)
        }
        (Signal::Metrics, Encoding::Protobuf) => Export::Metrics(
            ExportMetricsServiceRequest::decode(bytes.as_ref()).map_err(protobuf_error)?,
        ),
        (Signal::Traces, Encoding::Json) => Export::Traces(otlp_json::decode(bytes)?),
        (Signal::Logs, Encoding::Json) => Export::Logs(otlp_json::decode(bytes)?),
        (Signal::Metrics, Encoding::Json) => Export::Metrics(otlp_json::decode(bytes)?),
    })
}

/// 200 with the signal's export response: empty, or a partial success.
fn success(signal: Signal, encoding: Encoding, accepted: Accepted) -> Response {
    let partial = accepted.rejected > 0 || accepted.message.is_some();
    if !partial && encoding == Encoding::Json {
        // An empty response; serde would write `{"partialSuccess":null}`.
        return respond(encoding, StatusCode::OK, b"{}".to_vec());
    }
    let message = accepted.message.unwrap_or_default();
    let body = match signal {
        Signal::Traces => encode(
            encoding,
            &ExportTraceServiceResponse {
                partial_success: partial.then_some(ExportTracePartialSuccess {
                    rejected_spans: accepted.rejected,
                    error_message: message,
                }),
            },
        ),
        Signal::Logs => encode(
            encoding,
            &ExportLogsServiceResponse {
                partial_success: partial.then_some(ExportLogsPartialSuccess {
                    rejected_log_records: accepted.rejected,
                    error_message: message,
                }),
            },
        ),
        Signal::Metrics => encode(
            encoding,
            &ExportMetricsServiceResponse {
                partial_success: partial.then_some(ExportMetricsPartialSuccess {
                    rejected_data_points: accepted.rejected,
                    error_message: message,
                }),
            },
        ),
    };
    respond(encoding, StatusCode::OK, body)
}

fn encode<T: Message + serde::Serialize>(encoding: Encoding, message: &T) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => message.encode_to_vec(),
        // Serialising these plain messages cannot fail; an empty object is
        // still a valid (empty) response if it ever did.
        Encoding::Json => serde_json::to_vec(message).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

/// An error answer: `http` with a `google.rpc.Status` in `encoding`.
fn status(encoding: Encoding, http: StatusCode, code: i32, message: String) -> Response {
    let body = encode(encoding, &RpcStatus { code, message });
    respond(encoding, http, body)
}

fn respond(encoding: Encoding, http: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = http;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::tests::Recording;
    use crate::collector::ReceiverLimits;
    use axum::http::header::CONTENT_ENCODING;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use std::io::Write;
    use std::sync::Arc;
    use tower::ServiceExt;

    fn request_with(names: &[&str]) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: names
                        .iter()
                        .map(|name| Span {
                            trace_id: vec![1; 16],
                            span_id: vec![2; 8],
                            name: (*name).to_owned(),
                            ..Span::default()
                        })
                        .collect(),
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        }
    }

    fn app(store: Arc<Recording>, limits: ReceiverLimits) -> Router {
        router(Receiver::new(store, limits))
    }

    async fn post(
        app: Router,
        content_type: &str,
        gzip: bool,
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut request =
            axum::http::Request::post("/v1/traces").header(CONTENT_TYPE, content_type);
        if gzip {
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        let response = app
            .oneshot(request.body(Body::from(body)).expect("a request"))
            .await
            .expect("answered");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("a body").to_bytes();
        (parts.status, parts.headers, bytes)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).expect("compresses");
        encoder.finish().expect("compresses")
    }

    #[tokio::test]
    async fn protobuf_and_json_plain_and_gzip_are_acknowledged_in_kind() {
        let store = Arc::new(Recording::default());
        let protobuf = request_with(&["a"]).encode_to_vec();
        let (status, headers, body) = post(
            app(store.clone(), ReceiverLimits::default()),
            "application/x-protobuf",
            false,
            protobuf.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[CONTENT_TYPE], "application/x-protobuf");
        let answer = ExportTraceServiceResponse::decode(body).expect("a protobuf answer");
        assert_eq!(answer.partial_success, None);

        let (status, _, _) = post(
            app(store.clone(), ReceiverLimits::default()),
            "application/x-protobuf",
            true,
            gzip(&protobuf),
        )
        .await;
        assert_eq!(status, StatusCode::OK);

        let json = serde_json::to_vec(&request_with(&["b"])).expect("JSON");
        let (status, headers, body) = post(
            app(store.clone(), ReceiverLimits::default()),
            "application/json; charset=utf-8",
            true,
            gzip(&json),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(&body[..], b"{}");
        assert_eq!(
            *store.spans.lock().expect("not poisoned"),
            vec!["a", "a", "b"]
        );
    }

    #[tokio::test]
    async fn rejected_spans_are_a_partial_success() {
        let store = Arc::new(Recording::default());
        let json = serde_json::to_vec(&request_with(&["ok", "reject-me"])).expect("JSON");
        let (status, _, body) = post(
            app(store, ReceiverLimits::default()),
            "application/json",
            false,
            json,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        // int64 is a number or a string in OTLP/JSON; either reads as 1.
        let rejected = &answer["partialSuccess"]["rejectedSpans"];
        assert!(rejected == 1 || rejected == "1", "{answer}");
        assert_eq!(
            answer["partialSuccess"]["errorMessage"],
            "a span asked to be rejected"
        );
    }

    #[tokio::test]
    async fn bad_input_gets_a_clear_4xx_and_nothing_is_stored() {
        let store = Arc::new(Recording::default());
        let limits = ReceiverLimits {
            max_body_bytes: 64 * 1024,
            ..ReceiverLimits::default()
        };
        let cases: [(&str, bool, Vec<u8>, StatusCode, &str); 5] = [
            (
                "application/x-protobuf",
                false,
                b"\xff\xff\xff not protobuf".to_vec(),
                StatusCode::BAD_REQUEST,
                "not a protobuf",
            ),
            (
                "application/json",
                false,
                b"{\"resourceSpans\": [".to_vec(),
                StatusCode::BAD_REQUEST,
                "not JSON",
            ),
            (
                "text/plain",
                false,
                b"hello".to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "is not OTLP's",
            ),
            (
                "application/json",
                true,
                b"\x1f\x8b truncated gzip".to_vec(),
                StatusCode::BAD_REQUEST,
                "body could not be read",
            ),
            // A gzip bomb: 10 MB of zeros in about 10 KB; refused once the
            // decompressed bytes pass the limit, never held whole.
            (
                "application/x-protobuf",
                true,
                gzip(&vec![0u8; 10 * 1024 * 1024]),
                StatusCode::PAYLOAD_TOO_LARGE,
                "larger than 65536 bytes",
            ),
        ];
        for (content_type, gzipped, body, expected, says) in cases {
            let (status, _, answer) =
                post(app(store.clone(), limits), content_type, gzipped, body).await;
            assert_eq!(status, expected, "{content_type} {says}");
            let text = String::from_utf8_lossy(&answer);
            assert!(text.contains(says), "{content_type}: {text}");
        }
        assert!(store.spans.lock().expect("not poisoned").is_empty());
    }

    #[tokio::test]
    async fn a_store_that_cannot_write_is_a_503_with_retry_after() {
        let store = Arc::new(Recording::default());
        store
            .unavailable
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let json = serde_json::to_vec(&request_with(&["a"])).expect("JSON");
        let (status, headers, body) = post(
            app(store, ReceiverLimits::default()),
            "application/json",
            false,
            json,
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(headers[RETRY_AFTER], "1");
        let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(answer["code"], UNAVAILABLE);
        assert_eq!(answer["message"], "the disk is full");
    }
}
