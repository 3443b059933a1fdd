//! bands-api: `GET /bands/{uuid}` answers a band with its reviews, which it
//! fetches from reviews-api. Written once over [`Services`]: the simulation
//! and a native HTTP front end call the same [`BandsApi::handle`].

use std::time::Duration;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};

use crate::data::{find_band, is_uuid, iso_timestamp, Band, Review};
use crate::http::{Request, Response};
use crate::net::{Service, Services, TransportError};
use crate::server_span::ServerSpan;
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
    /// method a 405, a malformed uuid a 400, an unknown band a 404; when
    /// reviews-api fails, a 502 (it answered an error, or could not be
    /// reached) or a 504 (it did not answer in time), each with a JSON error body.
    pub async fn handle(&self, request: Request, services: Services<'_>) -> Response {
        let Some(id) = request.path.strip_prefix("/bands/") else {
            return Response::error(404, &format!("no route for {}", request.path));
        };
        if let Some(response) = request.method_not_allowed("GET") {
            return response;
        }
        let telemetry = self.telemetry.as_ref();
        let server = ServerSpan::start(
            telemetry,
            &request,
            "GET /bands/:id",
            ROUTE,
            Service::Bands,
            services,
        );
        let cx = server.context();
        log(
            cx,
            services.clock.now_unix_nanos(),
            format!("GET /bands/{id}"),
        );
        let response = self.get_band(id, cx, services).await;
        server.finish(response, services)
    }

    async fn get_band(&self, id: &str, server: &Context, services: Services<'_>) -> Response {
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
        let reviews = match self.get_reviews(&id, server, services).await {
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
    async fn get_reviews(
        &self,
        band_id: &str,
        server: &Context,
        services: Services<'_>,
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
            clock.sleep(Self::DEBUG_PAUSE).await;
        }
        let result = self.call_reviews(band_id, &cx, services).await;
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
    async fn call_reviews(
        &self,
        band_id: &str,
        parent: &Context,
        services: Services<'_>,
    ) -> Result<Vec<Review>, Response> {
        let telemetry = self.telemetry.as_ref();
        let reviews = &services.topology.reviews;
        let mut request = Request::get("/reviews", &format!("band_id={band_id}"));
        let url = format!("{}{}", reviews.base_url(), request.target());
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
                KeyValue::new("server.address", reviews.host.clone()),
                KeyValue::new("server.port", i64::from(reviews.port)),
            ],
        );
        request.headers = base_headers(Service::Reviews, services);
        if let (Some(telemetry), true) = (telemetry, self.propagate) {
            // The context crosses the hop as `traceparent`/`tracestate` text,
            // with this client span as the parent-id.
            telemetry.inject(&cx, &mut request.headers);
        }
        let sent = services
            .transport
            .send(
                Service::Bands,
                Service::Reviews,
                request,
                self.reviews_timeout,
            )
            .await;
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
                fail(&cx, error.error_type(), format!("reviews-api: {error}"));
                log(&cx, now, format!("reviews-api: {error}"));
                // A gateway that waited in vain answers 504; one that could
                // not reach its upstream at all, 502 (RFC 9110 §15.6.3, §15.6.5).
                let status = match error {
                    TransportError::Timeout(_) => 504,
                    TransportError::Unreachable(_) => 502,
                };
                Err(Response::error(status, &format!("reviews-api: {error}")))
            }
        };
        end_span(&cx, now);
        result
    }
}

/// The ordinary header lines of a request to `to`, before any trace context.
pub(crate) fn base_headers(to: Service, services: Services<'_>) -> Vec<(String, String)> {
    let host = match services.topology.endpoint(to) {
        Some(endpoint) => endpoint.authority(),
        None => "localhost".to_owned(),
    };
    vec![
        ("host".to_owned(), host),
        ("accept".to_owned(), "application/json".to_owned()),
        (
            "user-agent".to_owned(),
            concat!("tracelab-demo/", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
    ]
}
