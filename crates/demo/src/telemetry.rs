//! Tracing for the services through the OpenTelemetry API: a tracer per
//! service, spans started and ended at times read from the [`Clock`], context
//! injected into and extracted from header lines by `tracelab-context`'s
//! [`W3cPropagator`], and, for the simulation, a seeded id generator and an
//! exporter that keeps spans in memory.
//!
//! Span names (the original demo's where it had one, the semantic
//! conventions' otherwise; the HTTP pair of a hop shares its name, as Jaeger's
//! HotROD does, and the span kind tells them apart):
//!
//! | service | span | kind |
//! |---|---|---|
//! | client | `get_band` | internal, the client's operation (root) |
//! | client | `GET /bands/:id` | client, the HTTP call |
//! | bands-api | `GET /bands/:id` | server (`http.route` `/bands/:id`) |
//! | bands-api | `get_reviews` | internal |
//! | bands-api | `GET /reviews?:band_id` | client, the HTTP call |
//! | reviews-api | `GET /reviews?:band_id` | server (`http.route` `/reviews`) |
//! | reviews-api | `get_reviews_by_band_id` | internal |
//! | reviews-api | `SELECT reviews` | client, the database query(ies) |
//!
//! The reviews spans keep the original demo's name, `GET /reviews?:band_id`,
//! so that the lesson's waterfall matches the walk-through people know. The
//! HTTP semantic conventions would name them `GET /reviews` (`{method}
//! {route}`, the query left out); the route is still `http.route` `/reviews`
//! and the query is `url.query`, so tools that follow the conventions find
//! what they look for in the attributes.
//!
//! [`Clock`]: crate::net::Clock

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry::propagation::{Injector, TextMapPropagator};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    IdGenerator, Sampler, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};
use opentelemetry_sdk::Resource;
use tracelab_context::propagator::W3cPropagator;
use tracelab_context::TraceState;
use tracelab_trace::generate::SplitMix64;

use crate::http::{HeaderCarrier, HeaderView};
use crate::net::Service;

/// The instrumentation scope every span of the demo is recorded under.
pub const SCOPE_NAME: &str = "tracelab-demo";

/// The `tracestate` key of the lesson's entry: the client adds it, each
/// traced service that forwards the context updates it to its own name.
pub const TRACESTATE_KEY: &str = "tracelab";

/// One service's tracing: its tracer and the propagator it injects and
/// extracts with.
#[derive(Clone, Debug)]
pub struct Telemetry {
    pub service: Service,
    tracer: SdkTracer,
    propagator: W3cPropagator,
    /// Whether this service adds the lesson's `tracestate` entry when the
    /// context it forwards has none (the client does; the services only update it).
    pub adds_tracestate: bool,
    /// Whether this service touches the lesson's `tracestate` entry at all.
    pub updates_tracestate: bool,
    /// A `tracestate` the caller brings to a trace this service starts
    /// (`tracelab call --tracestate`): sent when the context carries none
    /// of its own. Checked by whoever sets it.
    pub initial_tracestate: Option<String>,
    /// Whether context crosses hops at all (`OTEL_PROPAGATORS=none` turns
    /// it off natively): off, nothing is extracted and nothing injected.
    pub propagates: bool,
}

impl Telemetry {
    /// Tracing for `service` through `provider` (which carries the resource,
    /// the sampler, the id generator and the exporter).
    pub fn new(service: Service, provider: &SdkTracerProvider) -> Telemetry {
        let scope = InstrumentationScope::builder(SCOPE_NAME)
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        Telemetry {
            service,
            tracer: provider.tracer_with_scope(scope),
            propagator: W3cPropagator::new(),
            adds_tracestate: false,
            updates_tracestate: false,
            initial_tracestate: None,
            propagates: true,
        }
    }

    /// The context the request's `traceparent`/`tracestate` lines carry; an
    /// empty context (so the next span starts a new trace) when they carry none
    /// or an invalid one.
    pub fn extract(&self, headers: &[(String, String)]) -> Context {
        if !self.propagates {
            return Context::new();
        }
        self.propagator
            .extract_with_context(&Context::new(), &HeaderView(headers))
    }

    /// Writes `cx`'s span context into the header lines as `traceparent` and
    /// `tracestate` text, then adds or updates the lesson's tracestate entry.
    pub fn inject(&self, cx: &Context, headers: &mut Vec<(String, String)>) {
        if !self.propagates {
            return;
        }
        self.propagator
            .inject_context(cx, &mut HeaderCarrier(headers));
        if let Some(initial) = &self.initial_tracestate {
            let has_own = headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("tracestate"));
            if !has_own && cx.span().span_context().is_valid() {
                HeaderCarrier(headers).set("tracestate", initial.clone());
            }
        }
        if self.updates_tracestate && cx.span().span_context().is_valid() {
            update_tracestate(headers, self.service, self.adds_tracestate);
        }
    }

    /// Starts a span named `name` under `parent` at `start_unix_nanos` and
    /// returns the context that holds it (the parent of the next spans).
    pub fn start(
        &self,
        parent: &Context,
        name: impl Into<Cow<'static, str>>,
        kind: SpanKind,
        start_unix_nanos: u64,
        attributes: Vec<KeyValue>,
    ) -> Context {
        let span = self
            .tracer
            .span_builder(name)
            .with_kind(kind)
            .with_start_time(unix_time(start_unix_nanos))
            .with_attributes(attributes)
            .start_with_context(&self.tracer, parent);
        parent.with_span(span)
    }
}

/// Starts a span when the service is traced; otherwise returns `parent`
/// unchanged, so the handler code reads the same with tracing off.
pub fn start_span(
    telemetry: Option<&Telemetry>,
    parent: &Context,
    name: &'static str,
    kind: SpanKind,
    start_unix_nanos: u64,
    attributes: Vec<KeyValue>,
) -> Context {
    match telemetry {
        Some(telemetry) => telemetry.start(parent, name, kind, start_unix_nanos, attributes),
        None => parent.clone(),
    }
}

/// Ends the span `cx` holds at `end_unix_nanos`. Every span is ended with an
/// explicit time: ending one without a time would read the wall clock, which
/// is wrong under the virtual clock.
pub fn end_span(cx: &Context, end_unix_nanos: u64) {
    cx.span().end_with_timestamp(unix_time(end_unix_nanos));
}

/// A log line, recorded as an event on the span `cx` holds: the demo's
/// log–trace correlation (the line lands in the span it was written in).
pub fn log(cx: &Context, at_unix_nanos: u64, message: impl Into<Cow<'static, str>>) {
    cx.span().add_event_with_timestamp(
        message,
        unix_time(at_unix_nanos),
        vec![KeyValue::new("log.severity", "INFO")],
    );
}

/// Marks the span `cx` holds as failed, with an `error.type` attribute as the
/// semantic conventions ask.
pub fn fail(cx: &Context, error_type: &str, message: String) {
    let span = cx.span();
    span.set_attribute(KeyValue::new("error.type", error_type.to_owned()));
    span.set_status(Status::error(message));
}

/// Unix nanoseconds as the `SystemTime` the SDK takes (plain arithmetic, so
/// it works where `SystemTime::now` does not, as on `wasm32-unknown-unknown`).
pub fn unix_time(unix_nanos: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(unix_nanos)
}

/// `SystemTime` back to Unix nanoseconds (0 before the epoch; saturating far after).
pub fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

/// Adds (when `add`) or updates the lesson's entry in the `tracestate` line,
/// with `tracelab-context`'s [`TraceState::insert`]: the entry moves to the
/// front, as W3C Trace Context §3.5 asks of a vendor that changes its value.
fn update_tracestate(headers: &mut Vec<(String, String)>, service: Service, add: bool) {
    let lines: Vec<&str> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("tracestate"))
        .map(|(_, value)| value.as_str())
        .collect();
    let mut state = match TraceState::parse_lines(&lines) {
        Ok(state) => state,
        // An invalid tracestate was already dropped by the propagator on
        // extraction; anything left that does not parse is left alone.
        Err(_) => return,
    };
    if state.get(TRACESTATE_KEY).is_none() && !add {
        return;
    }
    if state.insert(TRACESTATE_KEY, service.name()).is_err() {
        return;
    }
    HeaderCarrier(headers).set("tracestate", state.header_value().to_owned());
}

/// Ids drawn from a SplitMix64 seeded per call and service, so a seed
/// reproduces every trace-id and span-id exactly.
#[derive(Debug)]
pub struct SeededIds {
    rng: Mutex<SplitMix64>,
}

impl SeededIds {
    pub fn new(seed: u64) -> SeededIds {
        SeededIds {
            rng: Mutex::new(SplitMix64::new(seed)),
        }
    }

    fn next_nonzero(&self) -> u64 {
        // A poisoned lock only means another thread panicked mid-draw; the
        // state is still a valid generator state.
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            let value = rng.next_u64();
            // All-zero ids are invalid in W3C Trace Context.
            if value != 0 {
                return value;
            }
        }
    }
}

impl IdGenerator for SeededIds {
    fn new_trace_id(&self) -> opentelemetry::trace::TraceId {
        let high = u128::from(self.next_nonzero());
        let low = u128::from(self.next_nonzero());
        opentelemetry::trace::TraceId::from((high << 64) | low)
    }

    fn new_span_id(&self) -> opentelemetry::trace::SpanId {
        opentelemetry::trace::SpanId::from(self.next_nonzero())
    }
}

/// A span as recorded, with the service that recorded it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedSpan {
    pub service: Service,
    pub span: SpanData,
}

/// Where the simulation's exporters put spans, shared by the three services
/// so that the spans come out in the order they ended.
pub type SpanSink = Arc<Mutex<Vec<RecordedSpan>>>;

/// An exporter that appends to a [`SpanSink`]. The SDK's batch processor
/// spawns a thread, which panics on `wasm32-unknown-unknown`; the simple
/// processor calls `export` at each span's end, and this future is ready at once.
#[derive(Debug)]
pub struct MemoryExporter {
    service: Service,
    sink: SpanSink,
}

impl MemoryExporter {
    pub fn new(service: Service, sink: SpanSink) -> MemoryExporter {
        MemoryExporter { service, sink }
    }
}

impl SpanExporter for MemoryExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let mut sink = self
            .sink
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sink.extend(batch.into_iter().map(|span| RecordedSpan {
            service: self.service,
            span,
        }));
        std::future::ready(Ok(()))
    }
}

/// The resource of a service: `service.name` and `service.version`. Built
/// without the SDK's detectors, which read the environment, so the
/// simulation is the same everywhere.
pub fn resource(service: Service) -> Resource {
    Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", service.name()),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        ])
        .build()
}

/// The simulation's provider for `service`: seeded ids, spans exported to
/// `sink` as they end. `sample_roots` is the sampler's decision for a trace
/// this service starts; a span with a parent follows the parent's sampled
/// flag (`ParentBased`), which is how one decision holds across services.
pub fn simulated_provider(
    service: Service,
    id_seed: u64,
    sample_roots: bool,
    sink: SpanSink,
) -> SdkTracerProvider {
    let root = if sample_roots {
        Sampler::AlwaysOn
    } else {
        Sampler::AlwaysOff
    };
    SdkTracerProvider::builder()
        .with_resource(resource(service))
        .with_id_generator(SeededIds::new(id_seed))
        .with_sampler(Sampler::ParentBased(Box::new(root)))
        .with_simple_exporter(MemoryExporter::new(service, sink))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_repeat_for_a_seed_and_are_never_zero() {
        let first = SeededIds::new(7);
        let second = SeededIds::new(7);
        assert_eq!(first.new_trace_id(), second.new_trace_id());
        assert_eq!(first.new_span_id(), second.new_span_id());
        assert_ne!(
            SeededIds::new(0).new_span_id(),
            opentelemetry::trace::SpanId::INVALID
        );
    }

    #[test]
    fn tracestate_entry_is_added_then_moved_to_the_front() {
        let mut headers = vec![("tracestate".to_owned(), "rojo=1".to_owned())];
        update_tracestate(&mut headers, Service::Bands, false);
        assert_eq!(headers[0].1, "rojo=1", "a service does not add the entry");
        update_tracestate(&mut headers, Service::Client, true);
        assert_eq!(headers[0].1, "tracelab=client,rojo=1");
        headers[0].1 = "rojo=1,tracelab=client".to_owned();
        update_tracestate(&mut headers, Service::Bands, false);
        assert_eq!(headers[0].1, "tracelab=bands-api,rojo=1");
    }

    #[test]
    fn times_round_trip() {
        assert_eq!(
            unix_nanos(unix_time(1_680_172_438_886_900_000)),
            1_680_172_438_886_900_000
        );
    }
}
