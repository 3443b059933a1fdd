//! The embedded OTLP collector's receiving side: OTLP/HTTP (`/v1/traces`,
//! `/v1/logs`, `/v1/metrics`; protobuf or JSON; gzip) and OTLP/gRPC (the
//! three export services), answering as the OTLP specification asks of a
//! receiver, and handing each decoded request to an [`Ingest`] (the span
//! store), whose answer it acknowledges only once it has one: acknowledged
//! means committed.
//!
//! What it is not for: storing or querying (the store's), or deciding
//! anything about the data beyond decoding it.
//!
//! The answers (OTLP 1.x, "OTLP/HTTP Response" and "OTLP/gRPC Response"):
//! - success: 200 (gRPC OK) with an empty export response, or with
//!   `partialSuccess` (`rejectedSpans`, …, and a message) when the store
//!   turned some items down;
//! - data that does not decode: 400 (gRPC `INVALID_ARGUMENT`) with a
//!   `google.rpc.Status` saying why; a client must not retry it;
//! - a body over the limit after decompression: 413; an encoding other than
//!   gzip or identity, or a content type other than protobuf or JSON: 415;
//! - the store cannot keep up (more requests waiting than it can take): 503
//!   (gRPC `UNAVAILABLE`) with `Retry-After`, which clients retry with
//!   backoff.
//!
//! Every HTTP answer is in the request's content type.

pub mod forward;
pub mod grpc;
pub mod http;
pub mod otlp_json;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::Semaphore;

/// What the store made of one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    /// Items (spans, log records, data points) turned down.
    pub rejected: i64,
    /// Why, when some were: named by where they are in the request.
    pub message: Option<String>,
}

/// Why the store took nothing from a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IngestError {
    /// It could not write now (the disk is full, the file is locked); the
    /// client may retry later.
    Unavailable(String),
}

/// Where decoded requests go. Called from a blocking thread; returns after
/// the request is committed (or not at all).
pub trait Ingest: Send + Sync + 'static {
    fn traces(&self, request: &ExportTraceServiceRequest) -> Result<Accepted, IngestError>;
    /// Several trace requests committed together, each answered as if
    /// alone; by default one after another.
    fn traces_batch(
        &self,
        requests: &[&ExportTraceServiceRequest],
    ) -> Vec<Result<Accepted, IngestError>> {
        requests
            .iter()
            .map(|request| self.traces(request))
            .collect()
    }
    fn logs(&self, request: &ExportLogsServiceRequest) -> Result<Accepted, IngestError>;
    fn metrics(&self, request: &ExportMetricsServiceRequest) -> Result<Accepted, IngestError>;
}

/// What the receivers accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiverLimits {
    /// The largest request body after decompression (the OpenTelemetry
    /// Collector's default is 20 MiB).
    pub max_body_bytes: usize,
    /// Requests decoded and waiting for the store at once; past that a
    /// request waits up to `queue_wait` and is then answered 503.
    pub max_pending: usize,
    pub queue_wait: Duration,
    /// What `Retry-After` says when the store cannot keep up.
    pub retry_after: Duration,
}

impl Default for ReceiverLimits {
    fn default() -> ReceiverLimits {
        ReceiverLimits {
            max_body_bytes: 20 * 1024 * 1024,
            max_pending: 64,
            queue_wait: Duration::from_secs(2),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// The three signals, for messages and for dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Logs,
    Metrics,
}

impl Signal {
    pub fn items(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Logs => "log records",
            Signal::Metrics => "data points",
        }
    }
}

/// A decoded request of any signal.
pub enum Export {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

/// Why a request was not acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The store is busy or cannot write now: retry after the given time.
    Busy {
        message: String,
        retry_after: Duration,
    },
}

/// The receivers' shared door to the store: bounds how many requests wait
/// for it, and runs each write on a blocking thread.
#[derive(Clone)]
pub struct Receiver {
    ingest: Arc<dyn Ingest>,
    /// Trace exports go to one writer thread, which commits those that
    /// arrived together in one transaction (see [`write_traces`]).
    traces: std::sync::mpsc::SyncSender<WaitingTraces>,
    pending: Arc<Semaphore>,
    pub limits: ReceiverLimits,
    /// Where stored requests are sent on (`--forward`), if anywhere.
    forward: Option<forward::Forwarder>,
    /// Told of every trace that received spans, for the Live page.
    live: Option<Arc<crate::ui::live::LiveFeed>>,
}

impl Receiver {
    pub fn new(ingest: Arc<dyn Ingest>, limits: ReceiverLimits) -> Receiver {
        let (traces, queue) = std::sync::mpsc::sync_channel(limits.max_pending);
        let writer = ingest.clone();
        // Ends when the last receiver (every clone) is gone.
        std::thread::Builder::new()
            .name("tracelab-trace-writer".to_owned())
            .spawn(move || write_traces(writer.as_ref(), &queue))
            .ok();
        Receiver {
            traces,
            ingest,
            pending: Arc::new(Semaphore::new(limits.max_pending)),
            limits,
            forward: None,
            live: None,
        }
    }

    /// The same receiver, telling `live` of every trace stored.
    pub fn with_live_feed(mut self, live: Arc<crate::ui::live::LiveFeed>) -> Receiver {
        self.live = Some(live);
        self
    }

    /// The same receiver, sending every stored request on through `forward`.
    pub fn with_forwarder(mut self, forward: forward::Forwarder) -> Receiver {
        self.forward = Some(forward);
        self
    }

    /// Hands `export` to the store and waits for its commit.
    pub async fn accept(&self, export: Export) -> Result<Accepted, Refusal> {
        let busy = |message: String| Refusal::Busy {
            message,
            retry_after: self.limits.retry_after,
        };
        let permit =
            tokio::time::timeout(self.limits.queue_wait, self.pending.clone().acquire_owned())
                .await
                .map_err(|_| {
                    busy(format!(
                        "the store has {} requests waiting; try again later",
                        self.limits.max_pending
                    ))
                })?
                .map_err(|_| busy("the collector is stopping".to_owned()))?;
        let (result, export) = match export {
            Export::Traces(request) => {
                let (answer, answered) = tokio::sync::oneshot::channel();
                // Never full: the permits bound what waits to the channel's size.
                self.traces
                    .try_send(WaitingTraces { request, answer })
                    .map_err(|_| busy("the store's writer is not taking requests".to_owned()))?;
                let (result, request) = answered
                    .await
                    .map_err(|_| busy("the store's writer stopped".to_owned()))?;
                drop(permit);
                (result, Export::Traces(request))
            }
            other => {
                let ingest = self.ingest.clone();
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    let result = match &other {
                        Export::Logs(request) => ingest.logs(request),
                        Export::Metrics(request) => ingest.metrics(request),
                        Export::Traces(request) => ingest.traces(request),
                    };
                    (result, other)
                })
                .await
                .map_err(|error| busy(format!("the store's task failed: {error}")))?
            }
        };
        let accepted = result.map_err(|IngestError::Unavailable(message)| busy(message))?;
        if let (Some(live), Export::Traces(request)) = (&self.live, &export) {
            live.touch(request);
        }
        // Sent on only once stored here: the target never has what this
        // collector did not acknowledge.
        if let Some(forward) = &self.forward {
            forward.offer(export);
        }
        Ok(accepted)
    }
}

/// A trace export waiting for the writer, and where its answer goes (with
/// the request, for the Live feed and forwarding).
struct WaitingTraces {
    request: ExportTraceServiceRequest,
    answer:
        tokio::sync::oneshot::Sender<(Result<Accepted, IngestError>, ExportTraceServiceRequest)>,
}

/// Requests committed together at most, and spans.
const BATCH_REQUESTS: usize = 16;
const BATCH_SPANS: usize = 8192;

/// The writer: takes what has arrived (up to [`BATCH_REQUESTS`] requests
/// or [`BATCH_SPANS`] spans), commits it in one transaction, answers each.
fn write_traces(ingest: &dyn Ingest, queue: &std::sync::mpsc::Receiver<WaitingTraces>) {
    let spans = |request: &ExportTraceServiceRequest| -> usize {
        request
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len())
            .sum()
    };
    while let Ok(first) = queue.recv() {
        let mut n_spans = spans(&first.request);
        let mut batch = vec![first];
        while batch.len() < BATCH_REQUESTS && n_spans < BATCH_SPANS {
            match queue.try_recv() {
                Ok(next) => {
                    n_spans += spans(&next.request);
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let requests: Vec<&ExportTraceServiceRequest> =
            batch.iter().map(|waiting| &waiting.request).collect();
        let results = ingest.traces_batch(&requests);
        for (waiting, result) in batch.into_iter().zip(results) {
            // A client that went away no longer waits for its answer.
            let _ = waiting.answer.send((result, waiting.request));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A store that keeps what it is given, turns down spans named
    /// "reject-me", and can be told to be unavailable: enough to check the
    /// receivers' answers without SQLite.
    #[derive(Default)]
    pub struct Recording {
        pub spans: Mutex<Vec<String>>,
        pub unavailable: std::sync::atomic::AtomicBool,
    }

    impl Ingest for Recording {
        fn traces(&self, request: &ExportTraceServiceRequest) -> Result<Accepted, IngestError> {
            if self.unavailable.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(IngestError::Unavailable("the disk is full".to_owned()));
            }
            let mut accepted = Accepted::default();
            let mut spans = self.spans.lock().expect("not poisoned");
            for span in request
                .resource_spans
                .iter()
                .flat_map(|resource| &resource.scope_spans)
                .flat_map(|scope| &scope.spans)
            {
                if span.name == "reject-me" {
                    accepted.rejected += 1;
                    accepted.message = Some("a span asked to be rejected".to_owned());
                } else {
                    spans.push(span.name.clone());
                }
            }
            Ok(accepted)
        }

        fn logs(&self, _request: &ExportLogsServiceRequest) -> Result<Accepted, IngestError> {
            Ok(Accepted::default())
        }

        fn metrics(&self, _request: &ExportMetricsServiceRequest) -> Result<Accepted, IngestError> {
            Ok(Accepted::default())
        }
    }
}
