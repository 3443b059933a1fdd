//! `tracelab w3c-test-service`: the test service that the W3C Trace Context
//! validation harness (`test/test.py` of github.com/w3c/trace-context)
//! drives, so the official suite can measure tracelab's receiver.
//!
//! The harness POSTs a JSON array of `{"url": …, "arguments": …}` to
//! `/test`, with trace context headers. For each element, in order, this
//! service POSTs `arguments` as JSON to `url`, carrying the context on as
//! the processing model says (§5), and the harness checks what it receives.
//! What to carry on is decided by `tracelab_context::receive`: the one
//! decision the Decode page, `tracelab decode` and the services'
//! OpenTelemetry propagator make too. This module only moves headers and
//! bodies.
//!
//! Each outgoing request is a span of its own under this service's span: the
//! same trace-id and flags, a new parent-id
//! ([`Decision::for_outgoing_request`]). Its `tracestate` is the one kept
//! with this service's entry (`tracelab=<that parent-id>`) added at the
//! front, the rightmost member dropped when 32 are there already (§3.5); or,
//! with `--pass-through`, the one kept, unchanged.
//!
//! What it is not for: anything but the harness. It binds 127.0.0.1 unless
//! told otherwise, reads at most [`MAX_BODY_BYTES`], makes at most
//! [`MAX_CALLS`] calls per request, each with a timeout, only to `http://`
//! URLs, and answers with JSON: what it received and what it sent where, or
//! an error that says what was wrong with the request.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use tracelab_context::{receive, Decision, Incoming, RandomIds, TraceParent};

use crate::cli::W3cArgs;
use crate::serve::{self, Limits};

/// The largest request body read.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The most elements (outgoing calls) one request may ask for; the harness
/// asks for 1 or 3.
pub const MAX_CALLS: usize = 64;

/// This service's own `tracestate` key.
pub const TRACESTATE_KEY: &str = "tracelab";

/// How the service carries the context on.
#[derive(Clone, Debug)]
pub struct W3cService {
    client: reqwest::Client,
    /// Each outgoing call's timeout.
    timeout: Duration,
    /// Send the `tracestate` kept unchanged, without this service's entry.
    pass_through: bool,
}

impl W3cService {
    pub fn new(timeout: Duration, pass_through: bool) -> Result<W3cService, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            // The harness listens on the loopback by default: no proxy.
            .no_proxy()
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(W3cService {
            client,
            timeout,
            pass_through,
        })
    }

    /// The `tracestate` to send with an outgoing request whose parent-id is
    /// `parent_id` (hex): the one kept, with or without this service's entry.
    fn tracestate_for(&self, decision: &Decision, parent_id: &str) -> Option<String> {
        if self.pass_through {
            return decision.tracestate.as_ref().map(ToString::to_string);
        }
        let mut state = decision.tracestate.clone().unwrap_or_default();
        match state.insert(TRACESTATE_KEY, parent_id) {
            Ok(_) => Some(state.to_string()),
            // A span-id in hex is always a valid value; should it not be,
            // the state goes on as received rather than not at all.
            Err(_) => decision.tracestate.as_ref().map(ToString::to_string),
        }
    }
}

/// The router: `POST /test`, and a JSON error for anything else.
pub fn router(service: W3cService) -> Router {
    Router::new()
        .route("/test", post(test).fallback(method_not_allowed))
        .fallback(not_found)
        .with_state(service)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Runs the service at `args.addr` until Ctrl-C or SIGTERM.
pub async fn run(args: &W3cArgs) -> Result<u8, String> {
    let service = W3cService::new(Duration::from_secs(args.timeout), args.pass_through)?;
    let listener = serve::bind(&args.addr, "the W3C test service").await?;
    let addr = listener
        .local_addr()
        .map_err(|error| format!("cannot read the address bound: {error}"))?;
    tracing::info!("W3C test service listening on http://{addr}/test");
    tracing::info!(
        "run the harness (test/ of github.com/w3c/trace-context): STRICT_LEVEL=2 SPEC_LEVEL=2 python test.py http://{addr}/test"
    );
    serve::serve(
        listener,
        router(service),
        Limits::default(),
        serve::shutdown_signal(),
    )
    .await;
    Ok(crate::EXIT_VALID)
}

/// One element of the harness's array.
#[derive(Debug, Deserialize)]
struct Call {
    url: String,
    /// Sent as the body; absent or null is sent as `[]`, as the harness's
    /// own server does.
    #[serde(default)]
    arguments: Value,
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn bad_request(message: String) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({ "error": message }))
}

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "error": "not found: this service serves POST /test only" }),
    )
}

async fn method_not_allowed() -> Response {
    json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({ "error": "/test takes POST only" }),
    )
}

/// Every value of the header `name`, in order. A value that is not UTF-8 is
/// read lossily: the replacement character breaks the header's grammar, so
/// the decision treats it as invalid rather than as absent.
fn header_values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect()
}

/// Reads the body as the harness's array, checking every element before
/// anything is sent.
fn read_calls(body: &[u8]) -> Result<Vec<(Call, reqwest::Url)>, String> {
    let calls: Vec<Call> = serde_json::from_slice(body).map_err(|error| {
        format!(
            "the body must be a JSON array of {{\"url\": …, \"arguments\": …}} objects: {error}"
        )
    })?;
    if calls.len() > MAX_CALLS {
        return Err(format!(
            "the array has {} elements; this service makes at most {MAX_CALLS} calls per request",
            calls.len()
        ));
    }
    calls
        .into_iter()
        .enumerate()
        .map(|(index, call)| {
            let url = reqwest::Url::parse(&call.url).map_err(|error| {
                format!(
                    "element {index}: \"url\" {:?} is not a URL: {error}",
                    call.url
                )
            })?;
            if url.scheme() != "http" {
                return Err(format!(
                    "element {index}: \"url\" {:?} is not http:// (this service speaks plain HTTP)",
                    call.url
                ));
            }
            Ok((call, url))
        })
        .collect()
}

/// `POST /test`: decides once, then makes each call in order.
async fn test(
    State(service): State<W3cService>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return json_response(
                rejection.status(),
                &json!({ "error": format!(
                    "the body could not be read (at most {MAX_BODY_BYTES} bytes): {}",
                    rejection.body_text()
                ) }),
            )
        }
    };
    let calls = match read_calls(&body) {
        Ok(calls) => calls,
        Err(message) => return bad_request(message),
    };
    let traceparent = header_values(&headers, "traceparent");
    let tracestate = header_values(&headers, "tracestate");
    let incoming = Incoming {
        traceparent: traceparent.iter().map(String::as_str).collect(),
        tracestate: tracestate.iter().map(String::as_str).collect(),
    };
    let mut ids = RandomIds;
    let decision = receive(&incoming, &mut ids);
    let note = decision
        .restart_reason
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| decision.tracestate_note());
    let mut sent = Vec::with_capacity(calls.len());
    let mut all_answered = true;
    for (call, url) in calls {
        // Drawn before the call: the id source is not held across an await.
        let traceparent = decision.for_outgoing_request(&mut ids);
        let outcome = send(&service, &decision, traceparent, call, url).await;
        all_answered &= outcome.get("error").is_none();
        sent.push(outcome);
    }
    let status = if all_answered {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    json_response(
        status,
        &json!({
            "received": {
                "action": decision.action.as_str(),
                "note": note,
                "traceparent": decision.traceparent.to_string(),
                "tracestate": decision.tracestate.as_ref().map(ToString::to_string),
            },
            "calls": sent,
        }),
    )
}

/// Makes one call; says what was sent and what came back, or why nothing did.
async fn send(
    service: &W3cService,
    decision: &Decision,
    traceparent: TraceParent,
    call: Call,
    url: reqwest::Url,
) -> Value {
    let tracestate = service.tracestate_for(decision, &traceparent.parent_id().to_string());
    let arguments = match call.arguments {
        Value::Null => json!([]),
        arguments => arguments,
    };
    let mut request = service
        .client
        .post(url)
        .timeout(service.timeout)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .header("traceparent", traceparent.to_string())
        .body(arguments.to_string());
    if let Some(tracestate) = &tracestate {
        request = request.header("tracestate", tracestate.as_str());
    }
    let mut outcome = json!({
        "url": call.url,
        "traceparent": traceparent.to_string(),
        "tracestate": tracestate,
    });
    match request.send().await {
        Ok(response) => {
            outcome["status"] = json!(response.status().as_u16());
        }
        Err(error) => {
            let reason = if error.is_timeout() {
                format!("no answer within {} s", service.timeout.as_secs())
            } else {
                let mut text = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    text.push_str(": ");
                    text.push_str(&cause.to_string());
                    source = cause.source();
                }
                text
            };
            tracing::warn!("POST {}: {reason}", call.url);
            outcome["error"] = json!(reason);
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        let rows: &[(&str, &str, &str)] = &[
            ("{", "must be a JSON array", "not JSON"),
            (
                "{\"url\": \"http://x\"}",
                "must be a JSON array",
                "an object, not an array",
            ),
            (
                "[{\"arguments\": []}]",
                "missing field `url`",
                "an element without a url",
            ),
            (
                "[{\"url\": \"x\"}]",
                "element 0: \"url\" \"x\" is not a URL",
                "a url that is not one",
            ),
            (
                "[{\"url\": \"http://a/\"}, {\"url\": \"https://x/\"}]",
                "element 1: \"url\" \"https://x/\" is not http://",
                "https",
            ),
        ];
        for (body, expected, why) in rows {
            match read_calls(body.as_bytes()) {
                Ok(_) => panic!("{why}: accepted {body}"),
                Err(message) => assert!(message.contains(expected), "{why}: {message}"),
            }
        }
        let too_many = format!(
            "[{}]",
            vec!["{\"url\": \"http://a/\"}"; MAX_CALLS + 1].join(",")
        );
        let message = read_calls(too_many.as_bytes()).err().unwrap_or_default();
        assert!(message.contains("at most 64 calls"), "{message}");
        let calls = read_calls(
            b"[{\"url\": \"http://a/b\", \"arguments\": [1]}, {\"url\": \"http://a/c\"}]",
        )
        .unwrap_or_default();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].0.arguments, Value::Null);
    }

    #[test]
    fn the_own_entry_goes_first_and_a_full_list_loses_its_last() {
        let service = W3cService::new(Duration::from_secs(1), false).expect("a client");
        let full: Vec<String> = (1..=32).map(|i| format!("bar{i:02}={i:02}")).collect();
        let tracestate = full.join(",");
        let incoming = Incoming {
            traceparent: vec!["00-12345678901234567890123456789012-1234567890123456-00"],
            tracestate: vec![&tracestate],
        };
        let decision = receive(&incoming, &mut RandomIds);
        let sent = service
            .tracestate_for(&decision, "00f067aa0ba902b7")
            .unwrap_or_default();
        assert_eq!(
            sent,
            format!("tracelab=00f067aa0ba902b7,{}", full[..31].join(","))
        );

        let pass_through = W3cService::new(Duration::from_secs(1), true).expect("a client");
        assert_eq!(
            pass_through.tracestate_for(&decision, "00f067aa0ba902b7"),
            Some(tracestate)
        );
    }
}
