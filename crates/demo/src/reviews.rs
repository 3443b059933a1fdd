//! reviews-api: `GET /reviews?band_id={uuid}` answers the band's reviews,
//! read with a (simulated) database query. Written once over [`Services`].

use std::time::Duration;

use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};

use crate::bands::server_attributes;
use crate::data::{
    find_band, is_uuid, iso_timestamp, review_body, stored_review, uuid_from_seed, Review,
    MAX_REVIEWS,
};
use crate::http::{Request, Response};
use crate::net::{Service, Services};
use crate::telemetry::{end_span, fail, log, start_span, Telemetry};

/// How reviews-api fails, when told to (failure injection).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Failure {
    #[default]
    None,
    /// Answers 500 at once.
    ServerError,
    /// Hangs for [`ReviewsApi::HANG`], longer than bands-api waits.
    Timeout,
}

impl Failure {
    /// The switch value: `none`, `500`, `timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::None => "none",
            Failure::ServerError => "500",
            Failure::Timeout => "timeout",
        }
    }

    pub fn parse(text: &str) -> Option<Failure> {
        match text {
            "none" => Some(Failure::None),
            "500" => Some(Failure::ServerError),
            "timeout" => Some(Failure::Timeout),
            _ => None,
        }
    }
}

/// The uuid and timestamp a default computed once gives every review: the
/// planted bug (in the original, a model default evaluated when the module
/// was loaded rather than per review).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedDefault {
    pub uuid: String,
    pub created: String,
}

/// reviews-api and its switches.
#[derive(Debug)]
pub struct ReviewsApi {
    /// `None`: not instrumented; records nothing and ignores incoming context.
    pub telemetry: Option<Telemetry>,
    /// Planted problem: the reviews are read one query per review, serially.
    pub slow_reviews: bool,
    /// Planted bug: every review carries [`ReviewsApi::shared_default`].
    pub shared_default_bug: bool,
    pub failure: Failure,
    /// How many reviews the demo band has (clamped to 0..=20).
    pub demo_band_reviews: usize,
    /// Computed once, when the service started.
    pub shared_default: SharedDefault,
}

/// The database span's constant attributes (semantic conventions for
/// database client spans).
const DB_SYSTEM: &str = "sqlite";
const DB_NAMESPACE: &str = "reviews.db";
const QUERY_ALL: &str = "SELECT uuid, body, created FROM reviews WHERE band_id = ?1";
const QUERY_ONE: &str =
    "SELECT uuid, body, created FROM reviews WHERE band_id = ?1 LIMIT 1 OFFSET ?2";

impl ReviewsApi {
    /// How long the one query for all of a band's reviews takes.
    pub const QUERY_TIME: Duration = Duration::from_millis(3);
    /// How long each query of the slow, one-review-at-a-time path takes.
    pub const SLOW_QUERY_TIME: Duration = Duration::from_millis(100);
    /// How long reviews-api hangs when failing with a timeout.
    pub const HANG: Duration = Duration::from_secs(10);

    /// A reviews-api with no planted problem, started at `started_unix_nanos`;
    /// `seed` makes the once-computed default's uuid.
    pub fn new(telemetry: Option<Telemetry>, started_unix_nanos: u64, seed: u64) -> ReviewsApi {
        ReviewsApi {
            telemetry,
            slow_reviews: false,
            shared_default_bug: false,
            failure: Failure::None,
            demo_band_reviews: 3,
            shared_default: SharedDefault {
                uuid: uuid_from_seed(seed ^ 0xdefa_0017),
                created: iso_timestamp(started_unix_nanos),
            },
        }
    }

    /// Handles one request. Never panics: an unknown path is a 404, another
    /// method a 405, a missing or malformed `band_id` a 400, each with a JSON
    /// error body; an unknown band has no reviews (an empty list).
    pub fn handle(&self, request: Request, services: &mut Services<'_>) -> Response {
        if request.path != "/reviews" {
            return Response::error(404, &format!("no route for {}", request.path));
        }
        if let Some(response) = request.method_not_allowed("GET") {
            return response;
        }
        let telemetry = self.telemetry.as_ref();
        let clock = services.clock;
        let incoming = telemetry.map_or_else(Context::new, |t| t.extract(&request.headers));
        let server = start_span(
            telemetry,
            &incoming,
            "GET /reviews?:band_id",
            SpanKind::Server,
            clock.now_unix_nanos(),
            server_attributes(&request, "/reviews", Service::Reviews),
        );
        log(
            &server,
            clock.now_unix_nanos(),
            format!("GET {}", request.target()),
        );

        let response = self.get_reviews(&request, &server, services);

        let now = services.clock.now_unix_nanos();
        server.span().set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(response.status),
        ));
        if response.status >= 500 {
            fail(
                &server,
                &response.status.to_string(),
                format!("answered {}", response.status),
            );
        }
        end_span(&server, now);
        response
    }

    fn get_reviews(
        &self,
        request: &Request,
        server: &Context,
        services: &mut Services<'_>,
    ) -> Response {
        let clock = services.clock;
        match self.failure {
            Failure::None => {}
            Failure::ServerError => {
                log(
                    server,
                    clock.now_unix_nanos(),
                    "failing on purpose (failure injection)",
                );
                return Response::error(500, "reviews-api failed on purpose (failure injection)");
            }
            Failure::Timeout => {
                log(
                    server,
                    clock.now_unix_nanos(),
                    "hanging on purpose (failure injection)",
                );
                clock.sleep(Self::HANG);
            }
        }
        let Some(band_id) = request.query_param("band_id") else {
            return Response::error(400, "missing query parameter band_id");
        };
        if !is_uuid(band_id) {
            return Response::error(
                400,
                &format!("band_id {band_id:?} is not a uuid (expected 8-4-4-4-12 hex digits)"),
            );
        }
        let band_id = band_id.to_ascii_lowercase();
        let reviews = self.get_reviews_by_band_id(&band_id, server, services);
        log(
            server,
            services.clock.now_unix_nanos(),
            format!("found {} reviews for band {band_id}", reviews.len()),
        );
        Response::json(200, &reviews)
    }

    /// The original's `get_reviews_by_band_id`: the data lookup.
    fn get_reviews_by_band_id(
        &self,
        band_id: &str,
        parent: &Context,
        services: &mut Services<'_>,
    ) -> Vec<Review> {
        let telemetry = self.telemetry.as_ref();
        let clock = services.clock;
        let cx = start_span(
            telemetry,
            parent,
            "get_reviews_by_band_id",
            SpanKind::Internal,
            clock.now_unix_nanos(),
            vec![KeyValue::new("app.band.id", band_id.to_owned())],
        );
        let (band_idx, n_reviews) = match find_band(band_id) {
            Some((0, _)) => (0, self.demo_band_reviews.min(MAX_REVIEWS)),
            Some((band_idx, band)) => (band_idx, band.n_reviews),
            None => (usize::MAX, 0),
        };
        let mut reviews = Vec::with_capacity(n_reviews);
        if self.slow_reviews {
            // The planted problem: one query per review, one after another,
            // drawn in the waterfall as a staircase.
            for number in 1..=n_reviews {
                self.query(&cx, services, QUERY_ONE, Self::SLOW_QUERY_TIME, 1);
                reviews.push(self.review(band_idx, number, n_reviews));
            }
        } else {
            self.query(&cx, services, QUERY_ALL, Self::QUERY_TIME, n_reviews);
            reviews.extend((1..=n_reviews).map(|number| self.review(band_idx, number, n_reviews)));
        }
        end_span(&cx, services.clock.now_unix_nanos());
        reviews
    }

    /// One database query, in a database client span.
    fn query(
        &self,
        parent: &Context,
        services: &mut Services<'_>,
        text: &'static str,
        takes: Duration,
        rows: usize,
    ) {
        let clock = services.clock;
        let cx = start_span(
            self.telemetry.as_ref(),
            parent,
            "SELECT reviews",
            SpanKind::Client,
            clock.now_unix_nanos(),
            vec![
                KeyValue::new("db.system.name", DB_SYSTEM),
                KeyValue::new("db.namespace", DB_NAMESPACE),
                KeyValue::new("db.collection.name", "reviews"),
                KeyValue::new("db.operation.name", "SELECT"),
                KeyValue::new("db.query.text", text),
            ],
        );
        clock.sleep(takes);
        cx.span().set_attribute(KeyValue::new(
            "db.response.returned_rows",
            i64::try_from(rows).unwrap_or(i64::MAX),
        ));
        end_span(&cx, clock.now_unix_nanos());
    }

    fn review(&self, band_idx: usize, number: usize, of: usize) -> Review {
        if self.shared_default_bug {
            Review {
                uuid: self.shared_default.uuid.clone(),
                body: review_body(number, of),
                created: self.shared_default.created.clone(),
            }
        } else {
            stored_review(band_idx, number, of)
        }
    }
}
