//! The third seam, beside the clock and the transport: reviews-api's
//! database. The simulation answers from the demo's data after a modelled
//! query time ([`SimDb`]); the native build runs the same queries on SQLite.
//! The handler sees rows, never a connection, so it is written once.

use std::fmt;
use std::time::Duration;

use crate::data::{find_band, stored_review, BANDS, DEMO_BAND_ID, MAX_REVIEWS};
use crate::net::{BoxFuture, Clock};

/// One row of the `reviews` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewRow {
    pub uuid: String,
    /// 1-based position of the review among the band's reviews.
    pub number: u32,
    /// As stored: Python's `isoformat()` of the creation time.
    pub created: String,
}

/// The two reads reviews-api makes: all of a band's reviews at once (the
/// fix), or the one at `offset` (the planted one-query-per-review problem).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReviewsQuery {
    All { band_id: String, limit: u32 },
    One { band_id: String, offset: u32 },
}

/// The SQL of [`ReviewsQuery::All`], as run natively and as recorded in
/// `db.query.text` in both builds.
pub const QUERY_ALL: &str =
    "SELECT uuid, number, created FROM reviews WHERE band_id = ?1 ORDER BY number LIMIT ?2";
/// The SQL of [`ReviewsQuery::One`].
pub const QUERY_ONE: &str =
    "SELECT uuid, number, created FROM reviews WHERE band_id = ?1 ORDER BY number LIMIT 1 OFFSET ?2";

impl ReviewsQuery {
    /// The SQL text, with `?1`/`?2` placeholders.
    pub fn text(&self) -> &'static str {
        match self {
            ReviewsQuery::All { .. } => QUERY_ALL,
            ReviewsQuery::One { .. } => QUERY_ONE,
        }
    }

    pub fn band_id(&self) -> &str {
        match self {
            ReviewsQuery::All { band_id, .. } | ReviewsQuery::One { band_id, .. } => band_id,
        }
    }

    /// The query's second parameter: the limit or the offset.
    pub fn second_parameter(&self) -> u32 {
        match self {
            ReviewsQuery::All { limit, .. } => *limit,
            ReviewsQuery::One { offset, .. } => *offset,
        }
    }
}

/// Why a query failed, in the database's own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbError(pub String);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database error: {}", self.0)
    }
}

impl std::error::Error for DbError {}

/// reviews-api's database.
pub trait ReviewsDb: Send + Sync + fmt::Debug {
    fn query(&self, query: ReviewsQuery) -> BoxFuture<'_, Result<Vec<ReviewRow>, DbError>>;
}

/// Every row of the demo's `reviews` table, in the order of the bands and
/// their numbers: what a native database is seeded with and what [`SimDb`]
/// answers from. The demo band has [`MAX_REVIEWS`]; how many of them
/// reviews-api returns is a switch, applied as the query's limit.
pub fn seed_rows() -> impl Iterator<Item = (&'static str, ReviewRow)> {
    BANDS.iter().enumerate().flat_map(|(band_idx, band)| {
        let n_reviews = if band.uuid == DEMO_BAND_ID {
            MAX_REVIEWS
        } else {
            band.n_reviews
        };
        (1..=n_reviews).map(move |number| {
            let stored = stored_review(band_idx, number, n_reviews);
            (
                band.uuid,
                ReviewRow {
                    uuid: stored.uuid,
                    number: u32::try_from(number).unwrap_or(u32::MAX),
                    created: stored.created,
                },
            )
        })
    })
}

/// The simulation's database: the seed rows, each query taking
/// [`SimDb::QUERY_TIME`] on the virtual clock.
#[derive(Debug)]
pub struct SimDb<C> {
    clock: C,
}

impl<C: Clock + fmt::Debug> SimDb<C> {
    /// How long one query takes in the simulation (SQLite on an indexed
    /// column, answered from the page cache: a few milliseconds at most).
    pub const QUERY_TIME: Duration = Duration::from_millis(3);

    pub fn new(clock: C) -> SimDb<C> {
        SimDb { clock }
    }
}

impl<C: Clock + fmt::Debug> ReviewsDb for SimDb<C> {
    fn query(&self, query: ReviewsQuery) -> BoxFuture<'_, Result<Vec<ReviewRow>, DbError>> {
        // The rows [`seed_rows`] holds for the band, computed directly
        // rather than by scanning every band's rows.
        let (band_idx, n_reviews) = match find_band(query.band_id()) {
            Some((idx, band)) if band.uuid == DEMO_BAND_ID => (idx, MAX_REVIEWS),
            Some((idx, band)) => (idx, band.n_reviews),
            None => (0, 0),
        };
        let (first, count) = match query {
            ReviewsQuery::All { limit, .. } => (0, limit as usize),
            ReviewsQuery::One { offset, .. } => (offset as usize, 1),
        };
        let rows = (first..n_reviews.min(first.saturating_add(count)))
            .map(|idx| {
                let stored = stored_review(band_idx, idx + 1, n_reviews);
                ReviewRow {
                    uuid: stored.uuid,
                    number: u32::try_from(idx + 1).unwrap_or(u32::MAX),
                    created: stored.created,
                }
            })
            .collect();
        let sleep = self.clock.sleep(Self::QUERY_TIME);
        Box::pin(async move {
            sleep.await;
            Ok(rows)
        })
    }
}
