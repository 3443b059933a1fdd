//! bands-api: `GET /bands/{uuid}` answers a band with its reviews, which it
//! fetches from reviews-api. Written once over [`Services`]: the simulation
//! and a native HTTP front end call the same [`BandsApi::handle`].

use std::time::Duration;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};

use crate::data::{find_band, is_uuid, iso_timestamp, Band, Review};
use crate::http::{Request, Response};
use crate::net::{Service, Services};
use crate::telemetry::{end_span, fail, log, start_span, Telemetry};

/// The route of the band lookup, as in the span name and `http.route`.
pub const ROUTE: &str = "/bands/:id";

/// bands-api and its switches.
#[derive(Debug)]
pub struct BandsApi {
    /// `None`: the service is not instrumented. It records nothing, reads no
    /// incoming context and sends none on.
    pub telemetry: Option<Telemetry>,
    /// Whether the call to reviews-api carries the context (`traceparent`,
    /// `tracestate`); off, reviews-api starts a trace of its own.
    pub propagate: bool,
    /// Planted problem: a 5 s "debugging" pause before the call to reviews-api.
    pub debug_pause: bool,
    /// How long the call to reviews-api may take before bands-api gives up.
    pub reviews_timeout: Duration,
}

impl BandsApi {
    /// The planted pause, left in from a debugging session.
    pub const DEBUG_PAUSE: Duration = Duration::from_secs(5);
    /// The default timeout of the call to reviews-api.
    pub const REVIEWS_TIMEOUT: Duration = Duration::from_secs(2);

    /// An uninstrumented bands-api with no planted problem.
    pub fn new(telemetry: Option<Telemetry>) -> BandsApi {
        BandsApi {
            telemetry,
            propagate: true,
            debug_pause: false,
            reviews_timeout: Self::REVIEWS_TIMEOUT,
        }
    }

    /// Handles one request. Never panics: an unknown path is a 404, another
    /// method a 405, a malformed uuid a 400, an unknown band a 404, and a
    /// failed call to reviews-api a 502 or 504, each with a JSON error body.
    pub fn handle(&self, request: Request, services: &mut Services<'_>) -> Response {
        let Some(id) = request.path.strip_prefix("/bands/") else {
            return Response::error(404, &format!("no route for {}", request.path));
        };
        if let Some(response) = request.method_not_allowed("GET") {
            return response;
        }
        let telemetry = self.telemetry.as_ref();
        let clock = services.clock;
        // Continue the caller's trace if the request carries one (the
        // propagator reads the header text); otherwise this span starts a trace.
        let incoming = telemetry.map_or_else(Context::new, |t| t.extract(&request.headers));
        let server = start_span(
            telemetry,
            &incoming,
            "GET /bands/:id",
            SpanKind::Server,
            clock.now_unix_nanos(),
            server_attributes(&request, ROUTE, Service::Bands),
        );
        log(&server, clock.now_unix_nanos(), format!("GET /bands/{id}"));

        let response = self.get_band(id, &server, services);

        let now = services.clock.now_unix_nanos();
        let span = opentelemetry::trace::TraceContextExt::span(&server);
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(response.status),
        ));
        // Server spans fail on 5xx only: a 4xx is the caller's mistake (semconv).
        if response.status >= 500 {
            fail(
                &server,
                &response.status.to_string(),
                format!("answered {}", response.status),
            );
        }
        let mut response = response;
        let context = span.span_context();
        if context.is_valid() {
            // As the original did: tell the caller where to find the trace.
            response
                .headers
                .push(("trace-id".to_owned(), context.trace_id().to_string()));
        }
        end_span(&server, now);
        response
    }

    fn get_band(&self, id: &str, server: &Context, services: &mut Services<'_>) -> Response {
        if !is_uuid(id) {
            return Response::error(
                400,
                &format!("{id:?} is not a band uuid (expected 8-4-4-4-12 hex digits)"),
            );
        }
        let id = id.to_ascii_lowercase();
        let Some((_, band)) = find_band(&id) else {
            log(
                server,
                services.clock.now_unix_nanos(),
                format!("no band {id}"),
            );
            return Response::error(404, &format!("no band with uuid {id}"));
        };
        let reviews = match self.get_reviews(&id, server, services) {
            Ok(reviews) => reviews,
            Err(response) => return response,
        };
        log(
            server,
            services.clock.now_unix_nanos(),
            format!("returning {} with {} reviews", band.name, reviews.len()),
        );
        Response::json(
            200,
            &Band {
                uuid: band.uuid.to_owned(),
                name: band.name.to_owned(),
                reviews,
                created: iso_timestamp(band.created_unix_seconds * 1_000_000_000),
            },
        )
    }

    /// Fetches the band's reviews from reviews-api (the original's `get_reviews`).
    fn get_reviews(
        &self,
        band_id: &str,
        server: &Context,
        services: &mut Services<'_>,
    ) -> Result<Vec<Review>, Response> {
        let telemetry = self.telemetry.as_ref();
        let clock = services.clock;
        let cx = start_span(
            telemetry,
            server,
            "get_reviews",
            SpanKind::Internal,
            clock.now_unix_nanos(),
            vec![KeyValue::new("app.band.id", band_id.to_owned())],
        );
        if self.debug_pause {
            // The planted problem: left over from debugging, it shows in the
            // waterfall as a 5 s gap before the call to reviews-api.
            log(&cx, clock.now_unix_nanos(), "debugging: pausing for 5 s");
            clock.sleep(Self::DEBUG_PAUSE);
        }
        let result = self.call_reviews(band_id, &cx, services);
        if let Err(response) = &result {
            fail(
                &cx,
                &response.status.to_string(),
                "reviews could not be fetched".to_owned(),
            );
        }
        end_span(&cx, services.clock.now_unix_nanos());
        result
    }

    /// The HTTP call to reviews-api, in an HTTP client span whose context is
    /// injected into the request as header text.
    fn call_reviews(
        &self,
        band_id: &str,
        parent: &Context,
        services: &mut Services<'_>,
    ) -> Result<Vec<Review>, Response> {
        let telemetry = self.telemetry.as_ref();
        let port = Service::Reviews.port().unwrap_or(8080);
        let mut request = Request::get("/reviews", &format!("band_id={band_id}"));
        let url = format!("http://localhost:{port}{}", request.target());
        let cx = start_span(
            telemetry,
            parent,
            "GET /reviews?:band_id",
            SpanKind::Client,
            services.clock.now_unix_nanos(),
            vec![
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("url.full", url),
                KeyValue::new("url.template", "/reviews"),
                KeyValue::new("server.address", "localhost"),
                KeyValue::new("server.port", i64::from(port)),
            ],
        );
        request.headers = base_headers(Service::Reviews);
        if let (Some(telemetry), true) = (telemetry, self.propagate) {
            // The context crosses the hop as `traceparent`/`tracestate` text,
            // with this client span as the parent-id.
            telemetry.inject(&cx, &mut request.headers);
        }
        let sent = services.transport.send(
            Service::Bands,
            Service::Reviews,
            request,
            self.reviews_timeout,
        );
        let now = services.clock.now_unix_nanos();
        let span = opentelemetry::trace::TraceContextExt::span(&cx);
        let result = match sent {
            Ok(response) => {
                span.set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(response.status),
                ));
                if response.status >= 400 {
                    // Client spans fail on any 4xx or 5xx (semconv).
                    fail(
                        &cx,
                        &response.status.to_string(),
                        format!("reviews-api answered {}", response.status),
                    );
                    Err(Response::error(
                        502,
                        &format!("reviews-api answered {}", response.status),
                    ))
                } else {
                    serde_json::from_str::<Vec<Review>>(&response.body).map_err(|error| {
                        fail(
                            &cx,
                            "invalid_response",
                            format!("unreadable reviews: {error}"),
                        );
                        Response::error(
                            502,
                            &format!("reviews-api sent unreadable reviews: {error}"),
                        )
                    })
                }
            }
            Err(error) => {
                let error_type = match error {
                    crate::net::TransportError::Timeout(_) => "timeout",
                    crate::net::TransportError::Unreachable(_) => "unreachable",
                };
                fail(&cx, error_type, format!("reviews-api: {error}"));
                log(&cx, now, format!("reviews-api: {error}"));
                Err(Response::error(504, &format!("reviews-api: {error}")))
            }
        };
        end_span(&cx, now);
        result
    }
}

/// The HTTP server span attributes of the semantic conventions.
pub(crate) fn server_attributes(request: &Request, route: &str, service: Service) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("http.request.method", request.method.clone()),
        KeyValue::new("url.path", request.path.clone()),
        KeyValue::new("url.scheme", "http"),
        KeyValue::new("http.route", route.to_owned()),
        KeyValue::new("server.address", "localhost"),
        KeyValue::new("server.port", i64::from(service.port().unwrap_or(0))),
        KeyValue::new("network.protocol.version", "1.1"),
    ];
    if !request.query.is_empty() {
        attributes.push(KeyValue::new("url.query", request.query.clone()));
    }
    attributes
}

/// The ordinary header lines of a request to `to`, before any trace context.
pub(crate) fn base_headers(to: Service) -> Vec<(String, String)> {
    vec![
        (
            "host".to_owned(),
            format!("localhost:{}", to.port().unwrap_or(80)),
        ),
        ("accept".to_owned(), "application/json".to_owned()),
        (
            "user-agent".to_owned(),
            concat!("tracelab-demo/", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
    ]
}
