//! Traces arriving live: `GET /api/tracelab/live` is a stream of
//! server-sent events, one `trace` event per trace that received spans,
//! with a summary of it (root, services, span count, errors, duration),
//! which the app's `/live` page lists as they come.
//!
//! How: the receivers note the trace ids of every committed export
//! ([`LiveFeed::touch`]); ten times a second the summarizer reads those
//! traces back from the store and publishes a summary each, so a trace is
//! listed within about 0.1 s of its spans' acknowledgement. Every event
//! has an increasing id, and the last [`HISTORY`] are kept, so a browser
//! that reconnects with `Last-Event-ID` (as `EventSource` does by itself)
//! gets what it missed; one that comes back later than that starts afresh.
//! Under heavy ingest at most [`MAX_PER_TICK`] traces are summarized per
//! tick (5,000 a second; reading one of 8 spans back and summarizing it
//! takes about 35 µs, see BENCHMARKS.md), the most recently touched first;
//! the others wait for the next tick, and so arrive after (above, on the
//! page) newer ones.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures_util::stream;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::{broadcast, watch};
use tracelab_store::{Store, StoredTrace};
use tracelab_trace::summary::SpanFacts;
pub use tracelab_trace::summary::TraceSummary;

use super::UiState;

/// Events kept for browsers that reconnect.
pub const HISTORY: usize = 2000;
/// Traces summarized per tick at most: a tick every 0.1 s, 5,000 a second,
/// which bounds the collector's work for a watching browser (about 20 ms a
/// tick) and the events the page handles at once. At 200 a tick every
/// 250 ms, a burst of 5,000 traces took 6 s to reach the page
/// (e2e/bench/live-stream.mjs).
pub const MAX_PER_TICK: usize = 500;
/// Trace ids waiting to be summarized at most (the oldest are let go).
const MAX_TOUCHED: usize = 10_000;
const TICK: Duration = Duration::from_millis(100);

/// A trace's summary (one definition with the page's,
/// `TraceSummary::of_spans`).
pub fn summarize(trace: &StoredTrace) -> Option<TraceSummary> {
    TraceSummary::of_spans(
        trace.trace_id.clone(),
        trace.spans.iter().map(|stored| SpanFacts {
            // No parent id, or an all-zero one.
            is_root: stored.span.parent_span_id.iter().all(|byte| *byte == 0),
            start_unix_nanos: stored.span.start_time_unix_nano,
            end_unix_nanos: stored.span.end_time_unix_nano,
            resource_idx: stored.resource,
            service: &trace.resource_of(stored).service_name,
            name: &stored.span.name,
            // Status code 2 is ERROR in OTLP.
            is_error: stored
                .span
                .status
                .as_ref()
                .is_some_and(|status| status.code == 2),
        }),
    )
}

/// Trace ids waiting to be summarized, each once, in the order first touched.
#[derive(Default)]
struct Touched {
    order: VecDeque<String>,
    members: std::collections::HashSet<String>,
}

impl Touched {
    fn insert(&mut self, id: String) {
        if self.members.contains(&id) {
            return;
        }
        self.members.insert(id.clone());
        self.order.push_back(id);
        if self.order.len() > MAX_TOUCHED {
            if let Some(oldest) = self.order.pop_front() {
                self.members.remove(&oldest);
            }
        }
    }

    /// The `n` most recently touched, leaving the rest for later.
    fn take_newest(&mut self, n: usize) -> Vec<String> {
        let keep = self.order.len().saturating_sub(n);
        let taken: Vec<String> = self.order.drain(keep..).collect();
        for id in &taken {
            self.members.remove(id);
        }
        taken
    }
}

/// One published event: its id and its JSON.
type Published = (u64, Arc<str>);

/// The feed between the receivers and the browsers.
pub struct LiveFeed {
    touched: Mutex<Touched>,
    history: Mutex<VecDeque<Published>>,
    next_id: AtomicU64,
    sender: broadcast::Sender<Published>,
    /// Set when the collector stops, so open streams end and the server's
    /// graceful stop does not wait for browsers that never hang up.
    closing: watch::Sender<bool>,
}

impl Default for LiveFeed {
    fn default() -> LiveFeed {
        LiveFeed {
            touched: Mutex::new(Touched::default()),
            history: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(1),
            sender: broadcast::channel(HISTORY).0,
            closing: watch::channel(false).0,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LiveFeed {
    /// Notes the traces a committed export added spans to. Costs a hash
    /// lookup per trace: it runs on every ingest.
    pub fn touch(&self, request: &ExportTraceServiceRequest) {
        let mut touched = lock(&self.touched);
        let mut last: Option<&[u8]> = None;
        for span in request
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .flat_map(|scope| &scope.spans)
        {
            // Spans of one trace usually come together: skip the repeats.
            if span.trace_id.len() != 16 || last == Some(span.trace_id.as_slice()) {
                continue;
            }
            last = Some(span.trace_id.as_slice());
            let id: String = span
                .trace_id
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            touched.insert(id);
        }
    }

    fn publish(&self, summary: &TraceSummary) {
        let Ok(data) = serde_json::to_string(summary) else {
            return;
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let data: Arc<str> = Arc::from(data);
        {
            let mut history = lock(&self.history);
            history.push_back((id, data.clone()));
            if history.len() > HISTORY {
                history.pop_front();
            }
        }
        // No browser listening is no error.
        let _ = self.sender.send((id, data));
    }

    /// Summarizes what was touched since the last tick, until `stopped`.
    pub async fn run(self: Arc<Self>, store: Arc<Store>, mut stopped: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                _ = stopped.wait_for(|stop| *stop) => {
                    self.closing.send_replace(true);
                    return;
                }
            }
            let batch = lock(&self.touched).take_newest(MAX_PER_TICK);
            // Nobody is watching: reading traces back would cost the
            // collector for nothing (a browser that connects later starts
            // from then on).
            if batch.is_empty() || self.sender.receiver_count() == 0 {
                continue;
            }
            let store = store.clone();
            let summaries = tokio::task::spawn_blocking(move || {
                batch
                    .iter()
                    .filter_map(|id| store.trace(id).ok().flatten())
                    .filter_map(|trace| summarize(&trace))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            for summary in &summaries {
                self.publish(summary);
            }
        }
    }

    /// The events after `last_seen` that are still kept, and a receiver of
    /// those to come.
    fn subscribe(
        &self,
        last_seen: Option<u64>,
    ) -> (Vec<Published>, broadcast::Receiver<Published>) {
        // Subscribe first, then read the history, so nothing falls between.
        let receiver = self.sender.subscribe();
        let missed = match last_seen {
            Some(last) => lock(&self.history)
                .iter()
                .filter(|(id, _)| *id > last)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        (missed, receiver)
    }
}

/// `GET /api/tracelab/live`.
pub async fn events(State(state): State<UiState>, headers: HeaderMap) -> impl IntoResponse {
    let last_seen = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let (missed, receiver) = state.live.subscribe(last_seen);
    let replay_until = missed.last().map_or(0, |(id, _)| *id);
    let replay = stream::iter(missed.into_iter().map(to_event));
    let closing = state.live.closing.subscribe();
    let live = stream::unfold(
        (receiver, closing),
        move |(mut receiver, mut closing)| async move {
            loop {
                let received = tokio::select! {
                    received = receiver.recv() => received,
                    _ = closing.wait_for(|closing| *closing) => return None,
                };
                match received {
                    // Already sent from the history.
                    Ok((id, _)) if id <= replay_until => continue,
                    Ok(event) => return Some((to_event(event), (receiver, closing))),
                    // A browser too slow to keep up skips ahead; it can reload.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Sse::new(stream::StreamExt::chain(replay, live)).keep_alive(KeepAlive::default())
}

fn to_event((id, data): (u64, Arc<str>)) -> Result<Event, Infallible> {
    Ok(Event::default()
        .event("trace")
        .id(id.to_string())
        .data(&*data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{status, ResourceSpans, ScopeSpans, Span, Status};

    fn service(name: &str) -> Option<Resource> {
        Some(Resource {
            attributes: vec![KeyValue {
                key: "service.name".to_owned(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(name.to_owned())),
                }),
                ..KeyValue::default()
            }],
            ..Resource::default()
        })
    }

    fn span(id: u8, parent: Option<u8>, name: &str, start: u64, error: bool) -> Span {
        Span {
            trace_id: vec![7; 16],
            span_id: vec![id; 8],
            parent_span_id: parent.map(|parent| vec![parent; 8]).unwrap_or_default(),
            name: name.to_owned(),
            start_time_unix_nano: start,
            end_time_unix_nano: start + 1_000,
            status: error.then(|| Status {
                code: status::StatusCode::Error as i32,
                ..Status::default()
            }),
            ..Span::default()
        }
    }

    #[test]
    fn a_summary_names_the_root_services_and_errors() {
        let store = Store::open_in_memory().expect("a store");
        let request = ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: service("reviews-api"),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![span(2, Some(1), "GET /reviews", 2_000, true)],
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                },
                ResourceSpans {
                    resource: service("bands-api"),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![span(1, None, "GET /bands/:id", 1_000, false)],
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                },
            ],
        };
        store.ingest_traces(&request).expect("stored");
        let trace = store
            .trace("07070707070707070707070707070707")
            .expect("read")
            .expect("found");
        let summary = summarize(&trace).expect("a summary");
        assert_eq!(summary.root_service, "bands-api");
        assert_eq!(summary.root_name, "GET /bands/:id");
        assert_eq!(summary.spans, 2);
        assert_eq!(summary.errors, 1);
        assert_eq!(summary.start_unix_nanos, 1_000);
        assert_eq!(summary.duration_nanos, 2_000);
        assert_eq!(summary.services, ["bands-api", "reviews-api"]);

        let feed = LiveFeed::default();
        feed.touch(&request);
        feed.touch(&request);
        assert_eq!(
            lock(&feed.touched).order.len(),
            1,
            "a trace touched twice waits once"
        );
        assert_eq!(
            lock(&feed.touched).take_newest(10),
            ["07070707070707070707070707070707"]
        );
        assert!(lock(&feed.touched).members.is_empty());
    }

    #[tokio::test]
    async fn a_tick_publishes_the_newest_traces_and_the_next_tick_the_rest() {
        let store = Arc::new(Store::open_in_memory().expect("a store"));
        let feed = Arc::new(LiveFeed::default());
        let count = MAX_PER_TICK + 100;
        let id = |n: usize| {
            let mut bytes = [0u8; 16];
            bytes[8..].copy_from_slice(&(n as u64 + 1).to_be_bytes());
            bytes
        };
        for n in 0..count {
            let mut one = span(1, None, &format!("op-{n}"), 1_000, false);
            one.trace_id = id(n).to_vec();
            let request = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: service("s"),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![one],
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            };
            store.ingest_traces(&request).expect("stored");
            feed.touch(&request);
        }
        let (_, mut receiver) = feed.subscribe(None);
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(feed.clone().run(store, stopped));
        let mut names = Vec::new();
        while names.len() < count {
            // A guard against hanging, not a timing check.
            let (_, data) = tokio::time::timeout(Duration::from_secs(60), receiver.recv())
                .await
                .expect("the summarizer publishes")
                .expect("an event");
            let summary: serde_json::Value = serde_json::from_str(&data).expect("JSON");
            names.push(summary["rootName"].as_str().unwrap_or_default().to_owned());
        }
        stop.send_replace(true);
        running.await.expect("the summarizer stops");
        let expected: Vec<String> = (100..count)
            .chain(0..100)
            .map(|n| format!("op-{n}"))
            .collect();
        assert_eq!(
            names, expected,
            "the first tick takes the {MAX_PER_TICK} touched last, in the order touched; the next the rest"
        );
    }

    #[test]
    fn a_browser_that_reconnects_gets_what_it_missed() {
        let feed = LiveFeed::default();
        let summary = |n: u64| TraceSummary {
            trace_id: format!("{n:032x}"),
            root_service: "s".to_owned(),
            root_name: "n".to_owned(),
            start_unix_nanos: n,
            duration_nanos: 1,
            spans: 1,
            errors: 0,
            services: vec!["s".to_owned()],
        };
        for n in 1..=3 {
            feed.publish(&summary(n));
        }
        let (missed, _) = feed.subscribe(Some(1));
        let ids: Vec<u64> = missed.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [2, 3]);
        assert!(missed[0].1.contains(&format!("{:032x}", 2)));
        let (fresh, _) = feed.subscribe(None);
        assert!(fresh.is_empty(), "a new browser starts from now");
        for n in 4..(4 + HISTORY as u64) {
            feed.publish(&summary(n));
        }
        let (missed, _) = feed.subscribe(Some(1));
        assert_eq!(missed.len(), HISTORY, "only the last {HISTORY} are kept");
    }
}
