//! reviews-api: `GET /reviews?band_id={uuid}` answers the band's reviews,
//! read with a database query ([`crate::db`]: SQLite natively, modelled in
//! the simulation). Written once over [`Services`].

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};

use crate::data::{
    is_uuid, iso_timestamp, review_body, uuid_from_seed, Review, DEMO_BAND_ID, MAX_REVIEWS,
};
use crate::db::{DbError, ReviewRow, ReviewsDb, ReviewsQuery};
use crate::http::{Request, Response};
use crate::net::{Service, Services};
use crate::server_span::ServerSpan;
use crate::telemetry::{end_span, fail, log, start_span, Telemetry};

/// How reviews-api fails, when told to (failure injection).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
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
    /// Where the reviews are read from.
    pub db: Arc<dyn ReviewsDb>,
    /// Planted problem: the reviews are read one query per review, serially,
    /// each followed by slow per-review work.
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

impl ReviewsApi {
    /// The planted per-review work of the slow path, inside each query's
    /// span: it is what makes the staircase in the waterfall a slow one.
    pub const SLOW_REVIEW_TIME: Duration = Duration::from_millis(100);
    /// How long reviews-api hangs when failing with a timeout.
    pub const HANG: Duration = Duration::from_secs(10);

    /// A reviews-api reading from `db`, with no planted problem, started at
    /// `started_unix_nanos`; `seed` makes the once-computed default's uuid.
    pub fn new(
        telemetry: Option<Telemetry>,
        db: Arc<dyn ReviewsDb>,
        started_unix_nanos: u64,
        seed: u64,
    ) -> ReviewsApi {
        ReviewsApi {
            telemetry,
            db,
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
    /// method a 405, a missing or malformed `band_id` a 400, a failed
    /// database query a 500, each with a JSON error body; an unknown band
    /// has no reviews (an empty list).
    pub async fn handle(&self, request: Request, services: Services<'_>) -> Response {
        if request.path != "/reviews" {
            return Response::error(404, &format!("no route for {}", request.path));
        }
        if let Some(response) = request.method_not_allowed("GET") {
            return response;
        }
        let telemetry = self.telemetry.as_ref();
        let server = ServerSpan::start(
            telemetry,
            &request,
            "GET /reviews?:band_id",
            "/reviews",
            Service::Reviews,
            services,
        );
        let cx = server.context();
        log(
            cx,
            services.clock.now_unix_nanos(),
            format!("GET {}", request.target()),
        );
        let response = self.get_reviews(&request, cx, services).await;
        server.finish(response, services)
    }

    async fn get_reviews(
        &self,
        request: &Request,
        server: &Context,
        services: Services<'_>,
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
                clock.sleep(Self::HANG).await;
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
        let reviews = match self
            .get_reviews_by_band_id(&band_id, server, services)
            .await
        {
            Ok(reviews) => reviews,
            Err(error) => {
                log(server, services.clock.now_unix_nanos(), error.to_string());
                return Response::error(500, &format!("reviews could not be read: {error}"));
            }
        };
        log(
            server,
            services.clock.now_unix_nanos(),
            format!("found {} reviews for band {band_id}", reviews.len()),
        );
        Response::json(200, &reviews)
    }

    /// The original's `get_reviews_by_band_id`: the data lookup.
    async fn get_reviews_by_band_id(
        &self,
        band_id: &str,
        parent: &Context,
        services: Services<'_>,
    ) -> Result<Vec<Review>, DbError> {
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
        // The demo band's review count is a switch, applied as the limit.
        let limit = if band_id == DEMO_BAND_ID {
            self.demo_band_reviews.min(MAX_REVIEWS)
        } else {
            MAX_REVIEWS
        };
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let result = if self.slow_reviews {
            // The planted problem: one query per review, one after another,
            // drawn in the waterfall as a staircase.
            self.one_query_per_review(band_id, limit, &cx, services)
                .await
        } else {
            // The fix: all of the band's reviews in one query.
            let all = ReviewsQuery::All {
                band_id: band_id.to_owned(),
                limit,
            };
            self.query(&cx, services, all, Duration::ZERO).await
        };
        if let Err(error) = &result {
            fail(&cx, "db_error", error.to_string());
        }
        end_span(&cx, services.clock.now_unix_nanos());
        let rows = result?;
        let of = rows.len();
        Ok(rows.into_iter().map(|row| self.review(row, of)).collect())
    }

    /// Reads the reviews one at a time, each query followed by the slow
    /// per-review work, until `limit` or the band's last review.
    async fn one_query_per_review(
        &self,
        band_id: &str,
        limit: u32,
        cx: &Context,
        services: Services<'_>,
    ) -> Result<Vec<ReviewRow>, DbError> {
        let mut rows = Vec::new();
        for offset in 0..limit {
            let one = ReviewsQuery::One {
                band_id: band_id.to_owned(),
                offset,
            };
            let found = self
                .query(cx, services, one, Self::SLOW_REVIEW_TIME)
                .await?;
            if found.is_empty() {
                break;
            }
            rows.extend(found);
        }
        Ok(rows)
    }

    /// One database query, in a database client span; `then` is the planted
    /// per-row work done before the span ends (zero on the fixed path).
    async fn query(
        &self,
        parent: &Context,
        services: Services<'_>,
        query: ReviewsQuery,
        then: Duration,
    ) -> Result<Vec<ReviewRow>, DbError> {
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
                KeyValue::new("db.query.text", query.text()),
            ],
        );
        let result = self.db.query(query).await;
        match &result {
            Ok(rows) => cx.span().set_attribute(KeyValue::new(
                "db.response.returned_rows",
                i64::try_from(rows.len()).unwrap_or(i64::MAX),
            )),
            Err(error) => fail(&cx, "db_error", error.to_string()),
        }
        if !then.is_zero() {
            clock.sleep(then).await;
        }
        end_span(&cx, clock.now_unix_nanos());
        result
    }

    /// The review as answered: the stored row, or the shared default.
    fn review(&self, row: ReviewRow, of: usize) -> Review {
        let number = row.number as usize;
        if self.shared_default_bug {
            Review {
                uuid: self.shared_default.uuid.clone(),
                body: review_body(number, of),
                created: self.shared_default.created.clone(),
            }
        } else {
            Review {
                uuid: row.uuid,
                body: review_body(number, of),
                created: row.created,
            }
        }
    }
}
