//! bands-api and reviews-api over real HTTP: an axum router per service that
//! turns each request into the demo's [`Request`], runs the one handler the
//! simulation also runs, and turns its [`Response`] back, with the
//! OpenTelemetry SDK recording the spans, a log line and a metric per
//! request. The lesson's switches live in a [`Switchboard`] that the admin
//! endpoint (`GET`/`PUT /admin/switches`) changes while the service runs.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::routing::get;
use axum::Router;
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tracelab_demo::{
    BandsApi, Request, Response, ReviewsApi, ReviewsDb, Service, Services, Switches, Topology,
};

use crate::native::{HttpTransport, SystemClock};
use crate::otel::ServiceOtel;

/// The largest request body a service reads (only `PUT /admin/switches`
/// has one, a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The longest a request may take: longer than the planted 5 s pause plus
/// reviews-api's 10 s hang, so only a stuck request is cut off (408).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The lesson's switches, shared by the services of one process and changed
/// by the admin endpoint while they run.
#[derive(Clone, Debug, Default)]
pub struct Switchboard(Arc<RwLock<Switches>>);

impl Switchboard {
    pub fn new(switches: Switches) -> Switchboard {
        Switchboard(Arc::new(RwLock::new(switches)))
    }

    /// The switches now.
    pub fn get(&self) -> Switches {
        match self.0.read() {
            Ok(switches) => switches.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Applies a JSON object of switches (see [`Switches::apply_json`]);
    /// returns them all after the change.
    pub fn apply(&self, json: &serde_json::Value) -> Result<Switches, String> {
        let mut switches = match self.0.write() {
            Ok(switches) => switches,
            Err(poisoned) => poisoned.into_inner(),
        };
        switches.apply_json(json)?;
        Ok(switches.clone())
    }
}

/// What every service of one process shares: where the services are, how
/// they reach each other, the clock and the switches.
#[derive(Clone, Debug)]
pub struct Lab {
    pub topology: Topology,
    pub transport: HttpTransport,
    pub clock: SystemClock,
    pub switches: Switchboard,
    /// The origins allowed to call the services from a browser (the app's).
    pub cors_origins: Vec<HeaderValue>,
}

/// One running service.
pub struct ServiceApp {
    pub service: Service,
    pub lab: Lab,
    /// `None` when `OTEL_SDK_DISABLED=true`.
    pub otel: Option<Arc<ServiceOtel>>,
    /// reviews-api's database (unused by bands-api).
    pub reviews_db: Option<Arc<dyn ReviewsDb>>,
    /// When the service started: reviews-api's once-computed default.
    pub started_unix_nanos: u64,
}

impl ServiceApp {
    /// The service's tracing, when its SDK runs and its switch is on.
    fn telemetry(&self, switches: &Switches) -> Option<tracelab_demo::telemetry::Telemetry> {
        let on = match self.service {
            Service::Bands => switches.trace_bands,
            Service::Reviews => switches.trace_reviews,
            Service::Client => switches.trace_client,
        };
        if !on {
            return None;
        }
        self.otel.as_ref().map(|otel| {
            let mut telemetry = otel.telemetry();
            switches.configure_telemetry(&mut telemetry);
            telemetry
        })
    }

    /// The route a path matched, as in `http.route`.
    fn route(&self, path: &str) -> Option<&'static str> {
        match self.service {
            Service::Bands if path.starts_with("/bands/") => Some(tracelab_demo::bands::ROUTE),
            Service::Reviews if path == "/reviews" => Some("/reviews"),
            _ => None,
        }
    }

    async fn handle(&self, request: Request) -> Response {
        let switches = self.lab.switches.get();
        let services = Services {
            clock: &self.lab.clock,
            transport: &self.lab.transport,
            topology: &self.lab.topology,
        };
        let telemetry = self.telemetry(&switches);
        match self.service {
            Service::Bands => {
                let mut bands = BandsApi::new(telemetry);
                switches.configure_bands(&mut bands);
                bands.handle(request, services).await
            }
            Service::Reviews => {
                let Some(db) = self.reviews_db.clone() else {
                    return Response::error(500, "reviews-api has no database");
                };
                // The seed of the shared default is the start time: a new
                // uuid per start, the same for every request after it.
                let mut reviews = ReviewsApi::new(
                    telemetry,
                    db,
                    self.started_unix_nanos,
                    self.started_unix_nanos,
                );
                switches.configure_reviews(&mut reviews);
                reviews.handle(request, services).await
            }
            Service::Client => Response::error(404, "the client serves nothing"),
        }
    }
}

/// The router of one service: the demo's routes (any path, answered by the
/// handler, which says 404 or 405 itself), the admin endpoint, CORS for the
/// app's origin, and the limits.
pub fn router(app: Arc<ServiceApp>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(app.lab.cors_origins.clone()))
        .allow_methods([Method::GET, Method::PUT])
        .allow_headers([
            HeaderName::from_static("traceparent"),
            HeaderName::from_static("tracestate"),
            CONTENT_TYPE,
        ])
        .expose_headers([
            HeaderName::from_static("trace-id"),
            HeaderName::from_static("server-timing"),
        ]);
    let timing_origins = app
        .lab
        .cors_origins
        .iter()
        .filter_map(|origin| origin.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    let mut router = Router::new()
        .route("/admin/switches", get(get_switches).put(put_switches))
        .fallback(demo_route)
        .with_state(app)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(cors);
    if let Ok(value) = HeaderValue::from_str(&timing_origins) {
        // Lets the app read Server-Timing through PerformanceServerTiming.
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("timing-allow-origin"),
            value,
        ));
    }
    router
}

/// Every request that is not the admin endpoint goes to the demo's handler.
async fn demo_route(
    State(app): State<Arc<ServiceApp>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let started = Instant::now();
    let (parts, _body) = request.into_parts();
    let demo_request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let target = demo_request.target();
    let method = demo_request.method.clone();
    let route = app.route(&demo_request.path);
    let response = app.handle(demo_request).await;
    let elapsed = started.elapsed();

    let cx = response_context(&response);
    let span = cx.span();
    let ids = span.span_context();
    let message = format!(
        "{method} {target} -> {} in {:.1} ms",
        response.status,
        elapsed.as_secs_f64() * 1e3
    );
    if ids.is_valid() {
        tracing::info!(
            service = app.service.name(),
            trace_id = %ids.trace_id(),
            span_id = %ids.span_id(),
            "{message}"
        );
    } else {
        tracing::info!(service = app.service.name(), "{message}");
    }
    if let Some(otel) = &app.otel {
        let severity = if response.status >= 500 {
            Severity::Error
        } else {
            Severity::Info
        };
        otel.log(&cx, severity, message);
        otel.record_request(route, &method, response.status, elapsed.as_secs_f64());
    }
    into_http(response)
}

/// The server span a response names in its `Server-Timing` header, as a
/// context to log under (empty when the service was not traced).
fn response_context(response: &Response) -> Context {
    let traceparent = response.header("server-timing").and_then(|value| {
        value
            .split_once("desc=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(traceparent, _)| traceparent)
    });
    let Some(parent) = traceparent.and_then(|text| tracelab_context::TraceParent::parse(text).ok())
    else {
        return Context::new();
    };
    let context = SpanContext::new(
        TraceId::from_bytes(parent.trace_id().to_bytes()),
        SpanId::from_bytes(parent.parent_id().to_bytes()),
        TraceFlags::new(parent.flags().0),
        false,
        TraceState::default(),
    );
    Context::new().with_remote_span_context(context)
}

/// Headers the router's layers and hyper may add to a demo response.
const RESPONSE_HEADERS_ADDED_LATER: usize = 6;

/// The demo's response as HTTP. A header the handler wrote that HTTP cannot
/// carry is left out rather than failing the response.
fn into_http(response: Response) -> axum::response::Response {
    let mut http = axum::response::Response::new(Body::from(response.body));
    *http.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Room at once for the handler's headers and the ones the layers add
    // after (content-length, CORS, timing-allow-origin): growing a
    // HeaderMap rehashes it, which showed in a profile of the traced chain.
    http.headers_mut()
        .reserve(response.headers.len() + RESPONSE_HEADERS_ADDED_LATER);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            http.headers_mut().append(name, value);
        }
    }
    http
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> axum::response::Response {
    let mut http = axum::response::Response::new(Body::from(value.to_string()));
    *http.status_mut() = status;
    http.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    http
}

/// `GET /admin/switches`: the switches now, as JSON.
async fn get_switches(State(app): State<Arc<ServiceApp>>) -> axum::response::Response {
    json_response(StatusCode::OK, &app.lab.switches.get().to_json())
}

/// `PUT /admin/switches`: changes the switches the JSON object names.
async fn put_switches(State(app): State<Arc<ServiceApp>>, body: Bytes) -> axum::response::Response {
    let json: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(json) => json,
        Err(error) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": format!("the body is not JSON: {error}") }),
            )
        }
    };
    match app.lab.switches.apply(&json) {
        Ok(switches) => {
            tracing::info!(service = app.service.name(), "switches changed: {}", json);
            json_response(StatusCode::OK, &switches.to_json())
        }
        Err(error) => json_response(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({ "error": error }),
        ),
    }
}
