//! The simulation: a virtual clock, a seeded network, and [`make_call`], which
//! runs the client, bands-api and reviews-api with the lesson's switches and
//! returns the response, every hop's headers and the recorded spans.
//!
//! Same seed and switches, same outcome, bit for bit: the clock starts at a
//! fixed instant and moves only when something sleeps or a message travels;
//! every latency and every id comes from SplitMix64 seeded from the seed.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracelab_trace::generate::SplitMix64;
use tracelab_trace::model::Trace;

use crate::bands::BandsApi;
use crate::client::{self, ClientResult};
use crate::data::{Band, DEMO_BAND_ID, DEMO_EPOCH_UNIX_SECONDS, MAX_REVIEWS};
use crate::db::SimDb;
use crate::http::{Request, Response};
use crate::net::{BoxFuture, Clock, Service, Services, Topology, Transport, TransportError};
use crate::reviews::{Failure, ReviewsApi};
use crate::telemetry::{simulated_provider, RecordedSpan, SpanSink, Telemetry};

/// The instant every simulated call starts: the original demo's printed
/// timestamp, 2023-03-30T10:33:58.886900Z.
pub const START_UNIX_NANOS: u64 = DEMO_EPOCH_UNIX_SECONDS * 1_000_000_000 + 886_900_000;

/// The one-way latency of a simulated hop, drawn uniformly from this range.
pub const LATENCY_NANOS: (u64, u64) = (500_000, 3_000_000);

/// A clock that moves only when told: a 5 s pause costs no real time.
/// Clones share the time, so the network and the handlers see one clock.
#[derive(Clone, Debug)]
pub struct SimClock {
    now: Arc<AtomicU64>,
}

impl SimClock {
    pub fn new(start_unix_nanos: u64) -> SimClock {
        SimClock {
            now: Arc::new(AtomicU64::new(start_unix_nanos)),
        }
    }

    /// Sets the time, possibly back. Only the network does this, when a
    /// caller's timeout fires: the simulation runs the slow callee to its end
    /// first, then returns the caller to the instant it gave up, as if the
    /// two had run side by side.
    fn set(&self, unix_nanos: u64) {
        self.now.store(unix_nanos, Ordering::Relaxed);
    }

    fn advance(&self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.set(self.now_unix_nanos().saturating_add(nanos));
    }
}

impl Clock for SimClock {
    fn now_unix_nanos(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }

    /// Moves the time on at once; the future is ready when first polled.
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }
}

/// Polls `future` to its end without a runtime. Everything the simulation
/// awaits (its clock, its network, its database) is ready at once, so one
/// poll finishes the whole call; `None` says something waited on a real
/// event, which the simulation never does (a bug, reported, not a hang).
pub fn run_ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

/// One request as it went over the (simulated) wire.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hop {
    pub from: Service,
    pub to: Service,
    pub method: String,
    /// Path and query, as on the request line.
    pub target: String,
    /// The header lines exactly as sent, trace context included when propagated.
    pub request_headers: Vec<(String, String)>,
    /// `None` when no response came back in time.
    pub response_status: Option<u16>,
    /// The response's header lines (bands-api's `trace-id` among them);
    /// empty when no response came back.
    pub response_headers: Vec<(String, String)>,
    pub sent_unix_nanos: u64,
    /// How long the caller waited before giving up, when no response came
    /// back in time (its timeout); `None` when one did, or the request
    /// failed otherwise. Read by [`crate::diagnose::timeouts`].
    #[serde(default)]
    pub timed_out_after_nanos: Option<u64>,
}

impl Hop {
    /// The `traceparent` sent on this hop, if any.
    pub fn traceparent(&self) -> Option<&str> {
        self.header("traceparent")
    }

    /// The `tracestate` sent on this hop, if any.
    pub fn tracestate(&self) -> Option<&str> {
        self.header("tracestate")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The simulated network: delivers a request to the handler of its
/// destination after a seeded latency, and logs each hop.
pub struct SimulatedNetwork<'a> {
    pub clock: SimClock,
    pub topology: &'a Topology,
    pub rng: Mutex<SplitMix64>,
    pub hops: Mutex<Vec<Hop>>,
    pub bands: &'a BandsApi,
    pub reviews: &'a ReviewsApi,
}

impl SimulatedNetwork<'_> {
    fn travel(&self) {
        let (low, high) = LATENCY_NANOS;
        let nanos = lock(&self.rng).range(low, high);
        self.clock.advance(Duration::from_nanos(nanos));
    }

    /// The hops so far, in the order sent.
    pub fn into_hops(self) -> Vec<Hop> {
        self.hops
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A lock that a panic elsewhere cannot poison for good: the simulation's
/// state (a generator, a list) stays valid whatever happened mid-update.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Transport for SimulatedNetwork<'_> {
    fn send(
        &self,
        from: Service,
        to: Service,
        request: Request,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Response, TransportError>> {
        Box::pin(async move {
            let sent = self.clock.now_unix_nanos();
            let hop_idx = {
                let mut hops = lock(&self.hops);
                hops.push(Hop {
                    from,
                    to,
                    method: request.method.clone(),
                    target: request.target(),
                    request_headers: request.headers.clone(),
                    response_status: None,
                    response_headers: Vec::new(),
                    sent_unix_nanos: sent,
                    timed_out_after_nanos: None,
                });
                hops.len() - 1
            };
            self.travel();
            let services = Services {
                clock: &self.clock,
                transport: self,
                topology: self.topology,
            };
            let response = match to {
                Service::Bands => self.bands.handle(request, services).await,
                Service::Reviews => self.reviews.handle(request, services).await,
                Service::Client => {
                    return Err(TransportError::Unreachable(
                        "the client does not listen".to_owned(),
                    ))
                }
            };
            self.travel();
            let timeout_nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
            if self.clock.now_unix_nanos().saturating_sub(sent) > timeout_nanos {
                self.clock.set(sent.saturating_add(timeout_nanos));
                if let Some(hop) = lock(&self.hops).get_mut(hop_idx) {
                    hop.timed_out_after_nanos = Some(timeout_nanos);
                }
                return Err(TransportError::Timeout(timeout));
            }
            if let Some(hop) = lock(&self.hops).get_mut(hop_idx) {
                hop.response_status = Some(response.status);
                hop.response_headers = response.headers.clone();
            }
            Ok(response)
        })
    }
}

/// Every switch of the lesson. The names in comments are the page's
/// `data-switch` values (see [`Switches::flag`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Switches {
    /// `trace-client`: the client records spans.
    pub trace_client: bool,
    /// `trace-bands`: bands-api records spans.
    pub trace_bands: bool,
    /// `trace-reviews`: reviews-api records spans.
    pub trace_reviews: bool,
    /// `propagate-client`: the client sends its context to bands-api.
    pub propagate_client: bool,
    /// `propagate-bands`: bands-api sends its context to reviews-api.
    pub propagate_bands: bool,
    /// `pause-bands`: the 5 s debugging pause in bands-api.
    pub pause_bands: bool,
    /// `slow-reviews`: reviews-api reads reviews one query at a time.
    pub slow_reviews: bool,
    /// `shared-uuid`: every review shares one uuid and timestamp.
    pub shared_uuid: bool,
    /// `fail-reviews`: reviews-api answers 500 or times out.
    pub fail_reviews: Failure,
    /// `sampled`: the client's sampling decision (a trace the client starts
    /// is sampled); the services follow the flag they receive.
    pub sampled: bool,
    /// `tracestate`: the client adds a `tracelab` entry, each service updates it.
    pub tracestate: bool,
    /// `n-reviews`: how many reviews the demo band has (0 to 20).
    pub n_reviews: u8,
    /// The band the client asks for.
    pub band_id: String,
}

impl Default for Switches {
    /// Step 1 of the lesson: the services run, nothing is traced.
    fn default() -> Switches {
        Switches {
            trace_client: false,
            trace_bands: false,
            trace_reviews: false,
            propagate_client: false,
            propagate_bands: false,
            pause_bands: true,
            slow_reviews: true,
            shared_uuid: true,
            fail_reviews: Failure::None,
            sampled: true,
            tracestate: false,
            n_reviews: 3,
            band_id: DEMO_BAND_ID.to_owned(),
        }
    }
}

impl Switches {
    /// The names of the on/off switches, as the page's `data-switch` values.
    pub const FLAGS: [&'static str; 10] = [
        "trace-client",
        "trace-bands",
        "trace-reviews",
        "propagate-client",
        "propagate-bands",
        "pause-bands",
        "slow-reviews",
        "shared-uuid",
        "sampled",
        "tracestate",
    ];

    /// The field behind each name of [`Switches::FLAGS`]; one table, so
    /// reading and setting cannot disagree.
    fn flag_slot(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "trace-client" => &mut self.trace_client,
            "trace-bands" => &mut self.trace_bands,
            "trace-reviews" => &mut self.trace_reviews,
            "propagate-client" => &mut self.propagate_client,
            "propagate-bands" => &mut self.propagate_bands,
            "pause-bands" => &mut self.pause_bands,
            "slow-reviews" => &mut self.slow_reviews,
            "shared-uuid" => &mut self.shared_uuid,
            "sampled" => &mut self.sampled,
            "tracestate" => &mut self.tracestate,
            _ => return None,
        })
    }

    /// The on/off switch called `name`, or `None` for an unknown name.
    pub fn flag(&self, name: &str) -> Option<bool> {
        // A copy of the flags only (not the band id) to reuse the one table.
        let mut flags = Switches {
            band_id: String::new(),
            ..*self
        };
        flags.flag_slot(name).map(|slot| *slot)
    }

    /// Sets the on/off switch called `name`; false for an unknown name.
    pub fn set_flag(&mut self, name: &str, on: bool) -> bool {
        match self.flag_slot(name) {
            Some(slot) => {
                *slot = on;
                true
            }
            None => false,
        }
    }
}

impl Switches {
    /// The key of the review count in [`Switches::to_json`].
    pub const N_REVIEWS_KEY: &'static str = "n-reviews";
    /// The key of the failure in [`Switches::to_json`].
    pub const FAIL_REVIEWS_KEY: &'static str = "fail-reviews";

    /// The switches as the native services' admin endpoint shows them
    /// (`GET /admin/switches`), named as on the Simulate page: every name of
    /// [`Switches::FLAGS`] with `true` or `false`, `"n-reviews"` (0 to 20)
    /// and `"fail-reviews"` (`"none"`, `"500"` or `"timeout"`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        for name in Self::FLAGS {
            object.insert(
                name.to_owned(),
                serde_json::Value::Bool(self.flag(name) == Some(true)),
            );
        }
        object.insert(Self::N_REVIEWS_KEY.to_owned(), self.n_reviews.into());
        object.insert(
            Self::FAIL_REVIEWS_KEY.to_owned(),
            self.fail_reviews.as_str().into(),
        );
        serde_json::Value::Object(object)
    }

    /// Changes the switches a JSON object names (`PUT /admin/switches`),
    /// leaving the others. All or nothing: an unknown name or a value of the
    /// wrong kind is an error that names it, and then nothing changes.
    pub fn apply_json(&mut self, value: &serde_json::Value) -> Result<(), String> {
        let Some(object) = value.as_object() else {
            return Err(format!(
                "the switches must be a JSON object such as {{\"pause-bands\": false}}, not {}",
                json_kind(value)
            ));
        };
        let mut changed = self.clone();
        for (key, value) in object {
            if Self::FLAGS.contains(&key.as_str()) {
                let on = value.as_bool().ok_or_else(|| {
                    format!(
                        "switch {key:?} is on or off: true or false, not {}",
                        json_kind(value)
                    )
                })?;
                changed.set_flag(key, on);
            } else if key == Self::N_REVIEWS_KEY {
                changed.n_reviews = value
                    .as_u64()
                    .filter(|count| *count <= MAX_REVIEWS as u64)
                    .and_then(|count| u8::try_from(count).ok())
                    .ok_or_else(|| {
                        format!(
                            "switch {key:?} is a whole number from 0 to {MAX_REVIEWS}, not {value}"
                        )
                    })?;
            } else if key == Self::FAIL_REVIEWS_KEY {
                changed.fail_reviews =
                    value.as_str().and_then(Failure::parse).ok_or_else(|| {
                        format!("switch {key:?} is \"none\", \"500\" or \"timeout\", not {value}")
                    })?;
            } else {
                return Err(format!(
                    "there is no switch {key:?}; the switches are {}, {} and {}",
                    Self::FLAGS.join(", "),
                    Self::N_REVIEWS_KEY,
                    Self::FAIL_REVIEWS_KEY
                ));
            }
        }
        *self = changed;
        Ok(())
    }

    /// Applies the `tracestate` switch to a service's tracing: the client
    /// adds the lesson's entry, each service updates it to its own name.
    pub fn configure_telemetry(&self, telemetry: &mut Telemetry) {
        telemetry.updates_tracestate = self.tracestate;
        telemetry.adds_tracestate = self.tracestate && telemetry.service == Service::Client;
    }

    /// Applies bands-api's switches (the planted pause, propagation to
    /// reviews-api); whether it is traced is the caller's, who owns the SDK.
    pub fn configure_bands(&self, bands: &mut BandsApi) {
        bands.propagate = self.propagate_bands;
        bands.debug_pause = self.pause_bands;
    }

    /// Applies reviews-api's switches (the planted problems, the failure,
    /// the demo band's review count).
    pub fn configure_reviews(&self, reviews: &mut ReviewsApi) {
        reviews.slow_reviews = self.slow_reviews;
        reviews.shared_default_bug = self.shared_uuid;
        reviews.failure = self.fail_reviews;
        reviews.demo_band_reviews = usize::from(self.n_reviews).min(MAX_REVIEWS);
    }

    /// Sentences saying what these switches will do to the trace that a
    /// reader could not guess from the waterfall alone (why there are no
    /// spans, why there are two traces), for the page to show beside it.
    pub fn notes(&self) -> Vec<&'static str> {
        let mut notes = Vec::new();
        if !(self.trace_client || self.trace_bands || self.trace_reviews) {
            notes.push("No service is traced: no span is recorded and no traceparent is sent.");
        }
        if self.trace_client && !self.sampled {
            notes.push(
                "The client's sampler drops the trace: the traceparent carries sampled=0 (flags 00), \
                 and every service that receives it follows that decision and records nothing.",
            );
        }
        if self.trace_client && !self.propagate_client && (self.trace_bands || self.trace_reviews) {
            notes.push(
                "The client sends no traceparent, so bands-api starts a new trace: the client's \
                 spans and the services' spans are two unconnected traces.",
            );
        }
        if self.trace_bands && !self.propagate_bands && self.trace_reviews {
            notes.push(
                "bands-api sends no traceparent, so reviews-api starts a new trace of its own.",
            );
        }
        if !self.trace_bands && self.trace_reviews {
            notes.push(
                "bands-api is not instrumented, so it passes no context on: reviews-api's spans \
                 form a trace of their own.",
            );
        }
        if self.fail_reviews == Failure::Timeout {
            notes.push(
                "reviews-api hangs for 10 s; bands-api gives up after 2 s, so reviews-api's server \
                 span ends after the client span that called it, as it would for real.",
            );
        }
        notes
    }
}

/// What kind of JSON value this is, for an error message.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// What one "make a call" produced.
#[derive(Clone, Debug, PartialEq)]
pub struct CallOutcome {
    /// The status bands-api answered, or `None` when the client gave up.
    pub response_status: Option<u16>,
    /// The response as the original's client printed it (4-space indented
    /// JSON), or a JSON error when there was no response.
    pub response_json: String,
    /// The trace link the client printed: its own trace when traced,
    /// otherwise the `trace-id` bands-api answered with, if any.
    pub trace_link: Option<String>,
    /// Every request, in the order sent.
    pub hops: Vec<Hop>,
    /// Every span recorded, by any service, in the order they ended.
    pub spans: Vec<RecordedSpan>,
}

impl CallOutcome {
    /// All recorded spans as one model trace (with propagation off, it holds
    /// several roots from different trace-ids).
    pub fn trace(&self) -> Trace {
        crate::convert::to_trace(&self.spans)
    }

    /// One model trace per trace-id, ordered by the first span's start.
    pub fn traces(&self) -> Vec<Trace> {
        crate::convert::split_by_trace(&self.spans)
    }
}

/// What the Simulate page shows of one call: [`CallOutcome`] with its spans
/// already turned into model traces, so that it can cross from the
/// simulation's worker to the page as JSON (the SDK's span type cannot).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallReport {
    pub response_status: Option<u16>,
    pub response_json: String,
    pub trace_link: Option<String>,
    pub hops: Vec<Hop>,
    /// One per trace-id, ordered by the first span's start ([`CallOutcome::traces`]).
    pub traces: Vec<Trace>,
    /// Every recorded span as (span-id in hex, name, service), to say which
    /// span a hop's parent-id names.
    pub spans: Vec<(String, String, Service)>,
    /// One sentence per hop that timed out: which, after how long, and what
    /// made the callee slow ([`crate::diagnose::timeouts`]). Made here, in
    /// the simulation's worker, so the page's bundle does not carry it.
    #[serde(default)]
    pub timeouts: Vec<String>,
    /// One sentence per hop on its context: none sent, or which span its
    /// parent-id names and how its ids compare with the hop before's
    /// ([`crate::hops::relations`]). Made here too, for the same reason.
    #[serde(default)]
    pub relations: Vec<String>,
}

impl CallOutcome {
    /// The report of this call (see [`CallReport`]).
    pub fn report(&self) -> CallReport {
        let traces = self.traces();
        let spans: Vec<(String, String, Service)> = self
            .spans
            .iter()
            .map(|recorded| {
                (
                    recorded.span.span_context.span_id().to_string(),
                    recorded.span.name.to_string(),
                    recorded.service,
                )
            })
            .collect();
        CallReport {
            response_status: self.response_status,
            response_json: self.response_json.clone(),
            trace_link: self.trace_link.clone(),
            hops: self.hops.clone(),
            timeouts: crate::diagnose::timeouts(&self.hops, &traces),
            relations: crate::hops::relations(&self.hops, &spans),
            traces,
            spans,
        }
    }
}

/// What the page asks the simulation's worker: one call.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallRequest {
    /// Echoed in the answer, so the page knows which call it answers.
    pub id: u64,
    pub switches: Switches,
    pub seed: u64,
}

/// The worker's answer to a [`CallRequest`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallAnswer {
    pub id: u64,
    pub report: CallReport,
}

/// Runs the call a JSON [`CallRequest`] asks for and returns the JSON
/// [`CallAnswer`]: the simulation's worker is this function. An unreadable
/// request is an error saying why.
pub fn answer_json(request: &str) -> Result<String, String> {
    let request: CallRequest = serde_json::from_str(request)
        .map_err(|error| format!("the simulation cannot read the request: {error}"))?;
    let report = make_call(&request.switches, request.seed).report();
    serde_json::to_string(&CallAnswer {
        id: request.id,
        report,
    })
    .map_err(|error| format!("the simulation cannot write its answer: {error}"))
}

/// A per-service seed, so that the services' ids differ but all follow the seed.
fn service_seed(seed: u64, service: Service) -> u64 {
    let mut rng = SplitMix64::new(seed ^ (0x51_7c_c1_b7_27_22_0a_95 * (service as u64 + 1)));
    rng.next_u64()
}

/// Runs one call of the demo: the client asks bands-api for
/// `switches.band_id`, bands-api asks reviews-api, with the switches applied;
/// everything from `seed`. Makes no I/O and takes no real time.
pub fn make_call(switches: &Switches, seed: u64) -> CallOutcome {
    let clock = SimClock::new(START_UNIX_NANOS);
    let sink: SpanSink = Arc::new(Mutex::new(Vec::new()));
    // One provider per traced service, as each process had its own SDK.
    // Only the client's root sampler follows the switch: the services start
    // (and sample) a trace of their own when no context reaches them.
    let provider = |service: Service, on: bool, sample_roots: bool| {
        on.then(|| {
            simulated_provider(
                service,
                service_seed(seed, service),
                sample_roots,
                sink.clone(),
            )
        })
    };
    let providers: [Option<SdkTracerProvider>; 3] = [
        provider(Service::Client, switches.trace_client, switches.sampled),
        provider(Service::Bands, switches.trace_bands, true),
        provider(Service::Reviews, switches.trace_reviews, true),
    ];
    let [client_provider, bands_provider, reviews_provider] = &providers;
    let telemetry = |service: Service, provider: &Option<SdkTracerProvider>| {
        provider.as_ref().map(|provider| {
            let mut telemetry = Telemetry::new(service, provider);
            switches.configure_telemetry(&mut telemetry);
            telemetry
        })
    };

    let mut bands = BandsApi::new(telemetry(Service::Bands, bands_provider));
    switches.configure_bands(&mut bands);
    let mut reviews = ReviewsApi::new(
        telemetry(Service::Reviews, reviews_provider),
        Arc::new(SimDb::new(clock.clone())),
        START_UNIX_NANOS,
        seed,
    );
    switches.configure_reviews(&mut reviews);
    let client_telemetry = telemetry(Service::Client, client_provider);

    let topology = Topology::default();
    let network = SimulatedNetwork {
        clock: clock.clone(),
        topology: &topology,
        rng: Mutex::new(SplitMix64::new(seed)),
        hops: Mutex::new(Vec::new()),
        bands: &bands,
        reviews: &reviews,
    };
    let services = Services {
        clock: &clock,
        transport: &network,
        topology: &topology,
    };
    let result = run_ready(client::get_band(
        client_telemetry.as_ref(),
        switches.propagate_client,
        &switches.band_id,
        services,
    ))
    .unwrap_or_else(|| ClientResult {
        response: Err(TransportError::Unreachable(
            "the simulation waited on a real event, which it never should (a bug in tracelab)"
                .to_owned(),
        )),
        trace_id: None,
    });
    let hops = network.into_hops();
    // The simple processor exported each span as it ended; nothing is pending.
    let spans = sink
        .lock()
        .map(|spans| spans.clone())
        .unwrap_or_else(|poisoned| poisoned.into_inner().clone());

    let (response_status, response_json, header_trace_id) = match &result.response {
        Ok(response) => (
            Some(response.status),
            pretty_json(&response.body),
            response.header("trace-id").map(str::to_owned),
        ),
        Err(error) => (
            None,
            pretty_json(&serde_json::json!({ "error": error.to_string() }).to_string()),
            None,
        ),
    };
    let trace_link = result
        .trace_id
        .or(header_trace_id)
        .map(|trace_id| topology.trace_link(&trace_id));
    CallOutcome {
        response_status,
        response_json,
        trace_link,
        hops,
        spans,
    }
}

/// JSON indented by 4 spaces, as Python's `json.dumps(…, indent=4)` printed
/// it. A band is re-serialised through [`Band`] to keep the original's field
/// order (a generic JSON value would sort the keys); anything else that is
/// JSON is indented as it is; anything else is returned as it came.
pub fn pretty_json(body: &str) -> String {
    fn indent(value: &impl serde::Serialize) -> Option<String> {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        value.serialize(&mut serializer).ok()?;
        String::from_utf8(out).ok()
    }
    if let Ok(band) = serde_json::from_str::<Band>(body) {
        if let Some(text) = indent(&band) {
            return text;
        }
    }
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| indent(&value))
        .unwrap_or_else(|| body.to_owned())
}
