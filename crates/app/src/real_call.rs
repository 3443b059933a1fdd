//! A real call from the browser to the bands-api that `tracelab up` runs:
//! the demo's own client ([`tracelab_demo::client::get_band`], the code that
//! `tracelab call` runs natively and the simulation runs in memory) over
//! `fetch`, traced by the OpenTelemetry SDK, its spans exported as OTLP/HTTP
//! JSON to the app's own origin, where the collector stores them beside the
//! services' spans.
//!
//! It runs in the page's worker (`src/bin/sim-worker.rs`), like the
//! simulation, so that none of it (the SDK, the client, the OTLP types) is
//! in the first load. The Live page sends a [`RealCallRequest`] wrapped as
//! `{"real": …}` and gets a [`RealCallAnswer`] back, wrapped the same way.
//!
//! What it is not for: calls to anything but the lab's bands-api, or the
//! simulation (`tracelab_demo::sim`), which makes no request at all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::{IdGenerator, Sampler, SdkTracerProvider, SpanData};
use send_wrapper::SendWrapper;
use serde::{Deserialize, Serialize};
use tracelab_context::{IdSource, RandomIds};
use tracelab_demo::client;
use tracelab_demo::http::{Request, Response};
use tracelab_demo::net::TransportError;
use tracelab_demo::net::{BoxFuture, Clock, Endpoint, Service, Services, Topology, Transport};
use tracelab_demo::sim::Switches;
use tracelab_demo::telemetry::{resource, MemoryExporter, SpanSink, Telemetry};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::WorkerGlobalScope;

/// What the Live page asks for: one call with the lab's switches, of which
/// the client's (`trace-client`, `propagate-client`, `sampled`,
/// `tracestate`, the band) apply here, in the browser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RealCallRequest {
    /// Echoed in the answer.
    pub id: u64,
    pub switches: Switches,
    /// Where bands-api listens, as `/api/tracelab/status` says.
    pub bands_host: String,
    pub bands_port: u16,
    /// The app's origin (`http://127.0.0.1:16686`): the trace link's base
    /// and where the spans are exported (`/v1/traces`).
    pub origin: String,
}

/// What came of a [`RealCallRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RealCallAnswer {
    pub id: u64,
    /// bands-api's HTTP status, or `None` when it did not answer.
    pub status: Option<u16>,
    /// Why there was no answer, or the error bands-api gave.
    pub error: Option<String>,
    /// The client's own trace, when the client traced the call.
    pub trace_id: Option<String>,
    /// The `traceparent` the client sent, when it propagated one.
    pub traceparent: Option<String>,
    /// bands-api's `trace-id` response header: its trace, which is the
    /// client's only when the context went across.
    pub server_trace_id: Option<String>,
    /// How many of the client's spans the collector took, or why none.
    pub exported: Result<usize, String>,
}

/// The envelope on the worker's channel: a real call and its answer are
/// `{"real": …}`, so that the worker tells them from a simulated call.
#[derive(Serialize, Deserialize)]
pub struct Real<T> {
    pub real: T,
}

/// The browser's clock: the page's time origin plus its monotonic clock,
/// to the microsecond (`Date.now()` has only milliseconds).
struct BrowserClock;

impl Clock for BrowserClock {
    fn now_unix_nanos(&self) -> u64 {
        let millis = scope()
            .performance()
            .map_or_else(js_sys::Date::now, |p| p.time_origin() + p.now());
        // A float of milliseconds since 1970; truncating to whole
        // nanoseconds is exact enough for a span's edges.
        (millis * 1_000_000.0) as u64
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        let millis = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        let wait = js_sys::Promise::new(&mut |resolve, _| {
            let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
        });
        Box::pin(SendWrapper::new(async move {
            let _ = JsFuture::from(wait).await;
        }))
    }
}

/// Requests over `fetch` to the services of a [`Topology`].
struct FetchTransport {
    topology: Topology,
    /// The `traceparent` of the last request sent, as sent.
    sent: Mutex<Option<String>>,
}

impl Transport for FetchTransport {
    fn send(
        &self,
        _from: Service,
        to: Service,
        request: Request,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Response, TransportError>> {
        let url = self.topology.url(to, &request);
        if let Ok(mut sent) = self.sent.lock() {
            *sent = request.header("traceparent").map(str::to_owned);
        }
        Box::pin(SendWrapper::new(async move {
            fetch(&url?, &request, timeout).await
        }))
    }
}

/// Headers a page may not set (the browser writes them itself); the
/// demo's client sends them natively.
const BROWSER_OWNS: [&str; 2] = ["host", "user-agent"];

async fn fetch(
    url: &str,
    request: &Request,
    timeout: Duration,
) -> Result<Response, TransportError> {
    let unreachable = |what: &str, error: JsValue| {
        TransportError::Unreachable(format!("{what}: {}", js_error_text(&error)))
    };
    let headers = web_sys::Headers::new().map_err(|e| unreachable("no Headers", e))?;
    for (name, value) in &request.headers {
        if !BROWSER_OWNS.contains(&name.to_ascii_lowercase().as_str()) {
            headers
                .append(name, value)
                .map_err(|e| unreachable(&format!("header {name}"), e))?;
        }
    }
    let controller =
        web_sys::AbortController::new().map_err(|e| unreachable("no AbortController", e))?;
    let init = web_sys::RequestInit::new();
    init.set_method(&request.method);
    init.set_headers(&headers);
    init.set_signal(Some(&controller.signal()));
    // The timeout aborts the fetch; the closure lives until it fires or the
    // answer comes first and the timer is cleared.
    let abort = Closure::once(move || controller.abort());
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    let timer = scope()
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            abort.as_ref().unchecked_ref(),
            millis,
        )
        .ok();
    let answer = JsFuture::from(scope().fetch_with_str_and_init(url, &init)).await;
    let response = match answer {
        Ok(response) => response,
        Err(error) => {
            let aborted = error
                .dyn_ref::<js_sys::Error>()
                .is_some_and(|e| e.name() == "AbortError");
            return Err(if aborted {
                TransportError::Timeout(timeout)
            } else {
                // fetch says only "Failed to fetch": refused, or blocked by CORS.
                unreachable(
                    &format!("{url} (refused, or the origin is not allowed)"),
                    error,
                )
            });
        }
    };
    if let Some(timer) = timer {
        scope().clear_timeout_with_handle(timer);
    }
    drop(abort);
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|e| unreachable("not a Response", e))?;
    // Only these can be read across origins (the services expose them).
    let mut headers = Vec::new();
    for name in ["content-type", "trace-id", "server-timing"] {
        if let Ok(Some(value)) = response.headers().get(name) {
            headers.push((name.to_owned(), value));
        }
    }
    let body = response_text(&response).await;
    Ok(Response {
        status: response.status(),
        headers,
        body,
    })
}

/// Ids from the browser's random source, through `tracelab-context`.
#[derive(Debug)]
struct BrowserIds;

impl IdGenerator for BrowserIds {
    fn new_trace_id(&self) -> TraceId {
        TraceId::from_bytes(RandomIds.new_trace_id().to_bytes())
    }
    fn new_span_id(&self) -> SpanId {
        SpanId::from_bytes(RandomIds.new_span_id().to_bytes())
    }
}

/// Makes the call and exports the client's spans.
pub async fn real_call(request: RealCallRequest) -> RealCallAnswer {
    let switches = &request.switches;
    let topology = Topology {
        bands: Endpoint::new(request.bands_host.clone(), request.bands_port),
        // The client calls bands-api only; bands-api knows where reviews-api is.
        reviews: Endpoint::new(request.bands_host.clone(), 0),
        trace_ui: request.origin.clone(),
    };
    let sink: SpanSink = Arc::new(Mutex::new(Vec::new()));
    let provider = switches.trace_client.then(|| {
        let root = if switches.sampled {
            Sampler::AlwaysOn
        } else {
            Sampler::AlwaysOff
        };
        SdkTracerProvider::builder()
            .with_resource(resource(Service::Client))
            .with_id_generator(BrowserIds)
            .with_sampler(Sampler::ParentBased(Box::new(root)))
            .with_simple_exporter(MemoryExporter::new(Service::Client, sink.clone()))
            .build()
    });
    let telemetry = provider.as_ref().map(|provider| {
        let mut telemetry = Telemetry::new(Service::Client, provider);
        switches.configure_telemetry(&mut telemetry);
        telemetry
    });
    let transport = FetchTransport {
        topology: topology.clone(),
        sent: Mutex::new(None),
    };
    let services = Services {
        clock: &BrowserClock,
        transport: &transport,
        topology: &topology,
    };
    let result = client::get_band(
        telemetry.as_ref(),
        switches.propagate_client,
        &switches.band_id,
        services,
    )
    .await;
    let spans: Vec<SpanData> = sink
        .lock()
        .map(|mut kept| kept.drain(..).map(|recorded| recorded.span).collect())
        .unwrap_or_default();
    let traceparent = transport.sent.lock().ok().and_then(|mut sent| sent.take());
    let exported = if spans.is_empty() {
        Ok(0)
    } else {
        export(&request.origin, spans).await
    };
    let (status, error, server_trace_id) = match &result.response {
        Ok(response) => (
            Some(response.status),
            (response.status >= 400).then(|| error_text(&response.body)),
            response.header("trace-id").map(str::to_owned),
        ),
        Err(error) => (None, Some(format!("bands-api: {error}")), None),
    };
    RealCallAnswer {
        id: request.id,
        status,
        error,
        trace_id: result.trace_id,
        traceparent,
        server_trace_id,
        exported,
    }
}

/// The `error` of a JSON error body, or the body itself.
fn error_text(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|json| {
            json.get("error")
                .and_then(|e| e.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// Posts `spans` as OTLP/HTTP JSON to the app's origin; the number taken.
async fn export(origin: &str, spans: Vec<SpanData>) -> Result<usize, String> {
    let count = spans.len();
    let resource = ResourceAttributesWithSchema::from(&resource(Service::Client));
    let body = serde_json::to_string(&ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(spans, &resource),
    })
    .map_err(|error| format!("the spans cannot be written as OTLP JSON: {error}"))?;
    let headers = web_sys::Headers::new().map_err(|e| js_error_text(&e))?;
    headers
        .append("content-type", "application/json")
        .map_err(|e| js_error_text(&e))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body));
    let url = format!("{}/v1/traces", origin.trim_end_matches('/'));
    let response = JsFuture::from(scope().fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|e| format!("{url}: {}", js_error_text(&e)))?;
    let response: web_sys::Response = response.dyn_into().map_err(|e| js_error_text(&e))?;
    if response.ok() {
        Ok(count)
    } else {
        Err(format!("{url} answered {}", response.status()))
    }
}

/// A response's body as text; empty when it cannot be read. Also the Live
/// page's, on the page's thread.
pub(crate) async fn response_text(response: &web_sys::Response) -> String {
    match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

fn scope() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn js_error_text(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}
