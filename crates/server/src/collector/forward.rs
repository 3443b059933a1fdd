//! `--forward <endpoint>`: everything the collector stores is also sent on
//! to another OTLP backend (an OpenTelemetry Collector, Jaeger, Tempo, a
//! second tracelab) over OTLP/HTTP protobuf, for when one machine is
//! outgrown.
//!
//! What it promises: local storage is never held up by the target. Each
//! stored request waits in a bounded queue; a send that fails in a way the
//! OTLP specification calls retryable (no connection, 429, 502, 503, 504)
//! is tried again with exponential backoff (100 ms doubling to 30 s, or
//! what `Retry-After` says); a request the target refuses for good (another
//! 4xx) is dropped. When the queue is full, the newest request is dropped.
//! Every drop is counted and said, once per kind, in the log, and the
//! counts are in [`ForwardStats`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use tokio::sync::mpsc;

use super::Export;

/// How many requests wait for the target at most.
pub const QUEUE_REQUESTS: usize = 1024;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the forwarder has done so far.
#[derive(Debug, Default)]
pub struct ForwardStats {
    pub sent: AtomicU64,
    /// Dropped because the queue was full.
    pub dropped_full: AtomicU64,
    /// Dropped because the target refused them for good.
    pub dropped_refused: AtomicU64,
    /// Sends tried again.
    pub retries: AtomicU64,
    /// Whether the last send failed (the target is down or refusing).
    pub failing: AtomicBool,
}

/// The collector's side of the queue.
#[derive(Clone)]
pub struct Forwarder {
    queue: mpsc::Sender<Export>,
    pub stats: Arc<ForwardStats>,
    endpoint: String,
}

impl Forwarder {
    /// Starts the sending task for `endpoint` (the target's OTLP/HTTP base,
    /// such as `http://collector:4318`).
    pub fn start(endpoint: &str) -> Result<Forwarder, String> {
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!(
                "--forward {endpoint:?} is not an http:// or https:// URL of an OTLP/HTTP endpoint (such as http://collector:4318)"
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| format!("cannot build the forwarding client: {error}"))?;
        let (queue, receiver) = mpsc::channel(QUEUE_REQUESTS);
        let stats = Arc::new(ForwardStats::default());
        tokio::spawn(send_all(client, endpoint.clone(), receiver, stats.clone()));
        Ok(Forwarder {
            queue,
            stats,
            endpoint,
        })
    }

    /// Queues a stored request for the target; never waits.
    pub fn offer(&self, export: Export) {
        if self.queue.try_send(export).is_err()
            && self.stats.dropped_full.fetch_add(1, Ordering::Relaxed) == 0
        {
            tracing::warn!(
                "forwarding to {}: the queue of {QUEUE_REQUESTS} requests is full, so new ones are dropped \
                 (stored here all the same); drops are counted",
                self.endpoint
            );
        }
    }
}

/// The path and body of `export` as OTLP/HTTP protobuf.
fn encode(export: &Export) -> (&'static str, Vec<u8>) {
    match export {
        Export::Traces(request) => ("/v1/traces", request.encode_to_vec()),
        Export::Logs(request) => ("/v1/logs", request.encode_to_vec()),
        Export::Metrics(request) => ("/v1/metrics", request.encode_to_vec()),
    }
}

/// What one attempt came to.
pub(crate) enum Attempt {
    /// Taken: the answer's body (an export response, maybe a partial
    /// success).
    Sent(Vec<u8>),
    /// Worth trying again: when the target said to (`Retry-After`), and why.
    Retry(Option<Duration>, String),
    /// No connection could be made at all (nothing listens there): also
    /// worth trying again later.
    Unreachable(String),
    /// Refused for good: the status and the target's message.
    Refused(u16, String),
}

/// POSTs one OTLP/HTTP protobuf `body` to `url` and says what came of it,
/// with the retryable answers as the OTLP specification lists them (429,
/// 502, 503, 504).
pub(crate) async fn attempt(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Attempt {
    let response = client
        .post(url)
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await;
    match response {
        Err(error) if error.is_connect() => Attempt::Unreachable(error_chain(&error)),
        Err(error) => Attempt::Retry(None, error_chain(&error)),
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = response.bytes().await.map(|bytes| bytes.to_vec());
            match body {
                Ok(body) if (200..300).contains(&status) => Attempt::Sent(body),
                Ok(body) => {
                    // An OTLP receiver says why in a `google.rpc.Status`.
                    let message = super::http::RpcStatus::decode(body.as_slice())
                        .ok()
                        .map(|status| status.message)
                        .filter(|message| !message.is_empty())
                        .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_owned());
                    let why = if message.is_empty() {
                        format!("answered {status}")
                    } else {
                        format!("answered {status}: {message}")
                    };
                    if matches!(status, 429 | 502 | 503 | 504) {
                        Attempt::Retry(retry_after, why)
                    } else {
                        Attempt::Refused(status, why)
                    }
                }
                Err(error) => Attempt::Retry(
                    None,
                    format!("answered {status}, then the answer broke off: {error}"),
                ),
            }
        }
    }
}

/// An error with its causes (reqwest's own text is only the outermost:
/// "error sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn send_all(
    client: reqwest::Client,
    endpoint: String,
    mut receiver: mpsc::Receiver<Export>,
    stats: Arc<ForwardStats>,
) {
    while let Some(export) = receiver.recv().await {
        let (path, body) = encode(&export);
        let url = format!("{endpoint}{path}");
        let mut backoff = FIRST_BACKOFF;
        loop {
            let (after, why) = match attempt(&client, &url, body.clone()).await {
                Attempt::Sent(_) => {
                    stats.sent.fetch_add(1, Ordering::Relaxed);
                    if stats.failing.swap(false, Ordering::Relaxed) {
                        tracing::info!("forwarding to {endpoint} works again");
                    }
                    break;
                }
                Attempt::Retry(after, why) => (after, why),
                Attempt::Unreachable(why) => (None, why),
                Attempt::Refused(_, why) => {
                    if stats.dropped_refused.fetch_add(1, Ordering::Relaxed) == 0 {
                        tracing::warn!(
                            "forwarding to {endpoint}: a request was refused ({why}) and dropped; \
                             such drops are counted"
                        );
                    }
                    break;
                }
            };
            stats.retries.fetch_add(1, Ordering::Relaxed);
            if !stats.failing.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "forwarding to {endpoint} failed ({why}); retrying with backoff, \
                     while everything is still stored here"
                );
            }
            tokio::time::sleep(after.unwrap_or(backoff).min(MAX_BACKOFF)).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}
