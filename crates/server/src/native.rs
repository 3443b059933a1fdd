//! The native side of the demo's seams: real time ([`SystemClock`]), real
//! HTTP ([`HttpTransport`], reqwest) and a real database ([`SqliteReviews`],
//! SQLite through rusqlite). The handlers in `tracelab-demo` run over these
//! exactly as they run over the simulation's.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection, OpenFlags};
use tracelab_demo::db::{seed_rows, DbError, ReviewRow, ReviewsDb, ReviewsQuery};
use tracelab_demo::{
    BoxFuture, Clock, Request, Response, Service, Topology, Transport, TransportError,
};

/// The wall clock and tokio's timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_nanos(&self) -> u64 {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
            })
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The largest response body a service accepts from another: the biggest
/// real answer (20 reviews) is about 3 KB.
pub const MAX_UPSTREAM_BODY: usize = 1 << 20;

/// Requests between the services over HTTP/1.1, to the addresses of a
/// [`Topology`].
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
    topology: Topology,
}

impl HttpTransport {
    pub fn new(topology: Topology) -> Result<HttpTransport, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            // The services speak to each other on the loopback: no proxy.
            .no_proxy()
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(HttpTransport { client, topology })
    }

    async fn send_now(
        &self,
        to: Service,
        request: Request,
        timeout: Duration,
    ) -> Result<Response, TransportError> {
        let url = self.topology.url(to, &request)?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|error| TransportError::Unreachable(format!("bad method: {error}")))?;
        let mut builder = self.client.request(method, &url).timeout(timeout);
        for (name, value) in &request.headers {
            // reqwest sets Host from the URL.
            if !name.eq_ignore_ascii_case("host") {
                builder = builder.header(name.as_str(), value.as_str());
            }
        }
        let mut response = builder
            .send()
            .await
            .map_err(|error| transport_error(error, timeout, &url))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| transport_error(error, timeout, &url))?
        {
            if body.len() + chunk.len() > MAX_UPSTREAM_BODY {
                return Err(TransportError::Unreachable(format!(
                    "{url} answered more than {MAX_UPSTREAM_BODY} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// A reqwest error as the demo's: a timeout, or unreachable with every cause.
fn transport_error(error: reqwest::Error, timeout: Duration, url: &str) -> TransportError {
    if error.is_timeout() {
        return TransportError::Timeout(timeout);
    }
    let mut text = format!("{url}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    TransportError::Unreachable(text)
}

impl Transport for HttpTransport {
    fn send(
        &self,
        _from: Service,
        to: Service,
        request: Request,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Response, TransportError>> {
        Box::pin(self.send_now(to, request, timeout))
    }
}

/// reviews-api's SQLite database: created and seeded at start with the
/// demo's bands and reviews, read with the queries the handler names.
#[derive(Clone, Debug)]
pub struct SqliteReviews {
    // One connection: each query takes microseconds, and SQLite serialises
    // writers anyway; the lock is held only inside `spawn_blocking`.
    connection: Arc<Mutex<Connection>>,
}

impl SqliteReviews {
    /// Opens (creating and seeding when new) `reviews.db` in `data_dir`, or
    /// an in-memory database when `data_dir` is `None`.
    pub fn open(data_dir: Option<&Path>) -> Result<SqliteReviews, String> {
        let connection = match data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|error| {
                    format!(
                        "cannot create the data directory {}: {error}",
                        dir.display()
                    )
                })?;
                let path = dir.join("reviews.db");
                Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
                )
                .map_err(|error| format!("cannot open {}: {error}", path.display()))?
            }
            None => Connection::open_in_memory()
                .map_err(|error| format!("cannot open an in-memory database: {error}"))?,
        };
        seed(&connection).map_err(|error| format!("cannot create the reviews table: {error}"))?;
        Ok(SqliteReviews {
            connection: Arc::new(Mutex::new(connection)),
        })
    }
}

/// Creates the table and its index if missing, and inserts the demo's rows
/// that are not there yet (so a restart keeps what is stored).
fn seed(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE IF NOT EXISTS reviews (
             band_id TEXT NOT NULL,
             number INTEGER NOT NULL,
             uuid TEXT NOT NULL,
             created TEXT NOT NULL,
             PRIMARY KEY (band_id, number)
         );",
    )?;
    let mut insert = connection.prepare(
        "INSERT OR IGNORE INTO reviews (band_id, number, uuid, created) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (band_id, row) in seed_rows() {
        insert.execute(params![band_id, row.number, row.uuid, row.created])?;
    }
    Ok(())
}

fn run_query(connection: &Connection, query: &ReviewsQuery) -> rusqlite::Result<Vec<ReviewRow>> {
    let mut statement = connection.prepare_cached(query.text())?;
    let rows = statement.query_map(params![query.band_id(), query.second_parameter()], |row| {
        Ok(ReviewRow {
            uuid: row.get(0)?,
            number: row.get(1)?,
            created: row.get(2)?,
        })
    })?;
    rows.collect()
}

impl ReviewsDb for SqliteReviews {
    fn query(&self, query: ReviewsQuery) -> BoxFuture<'_, Result<Vec<ReviewRow>, DbError>> {
        let connection = self.connection.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let connection = connection
                    .lock()
                    .map_err(|_| DbError("the connection's lock is poisoned".to_owned()))?;
                run_query(&connection, &query).map_err(|error| DbError(error.to_string()))
            })
            .await
            .map_err(|error| DbError(format!("the query's task failed: {error}")))?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracelab_demo::data::DEMO_BAND_ID;
    use tracelab_demo::db::SimDb;
    use tracelab_demo::sim::{run_ready, SimClock};

    /// SQLite answers exactly what the simulation's database answers, so the
    /// same call gives the same reviews in both builds.
    #[tokio::test]
    async fn sqlite_answers_as_the_simulated_database() {
        let sqlite = SqliteReviews::open(None).expect("opens");
        let sim = SimDb::new(SimClock::new(0));
        let queries = [
            ReviewsQuery::All {
                band_id: DEMO_BAND_ID.to_owned(),
                limit: 7,
            },
            ReviewsQuery::All {
                band_id: DEMO_BAND_ID.to_owned(),
                limit: 100,
            },
            ReviewsQuery::One {
                band_id: DEMO_BAND_ID.to_owned(),
                offset: 4,
            },
            ReviewsQuery::One {
                band_id: DEMO_BAND_ID.to_owned(),
                offset: 20,
            },
            ReviewsQuery::All {
                band_id: "00000000-0000-4000-8000-000000000000".to_owned(),
                limit: 5,
            },
        ];
        for query in queries {
            let real = sqlite.query(query.clone()).await.expect("query runs");
            let simulated = run_ready(sim.query(query.clone()))
                .expect("ready")
                .expect("query runs");
            assert_eq!(real, simulated, "{query:?}");
        }
        let all = sqlite
            .query(ReviewsQuery::All {
                band_id: DEMO_BAND_ID.to_owned(),
                limit: 100,
            })
            .await
            .expect("runs");
        assert_eq!(all.len(), 20);
    }

    #[tokio::test]
    async fn a_reopened_database_keeps_its_rows_and_is_seeded_once() {
        let dir = std::env::temp_dir().join(format!("tracelab-reviews-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for _ in 0..2 {
            let db = SqliteReviews::open(Some(&dir)).expect("opens");
            let rows = db
                .query(ReviewsQuery::All {
                    band_id: DEMO_BAND_ID.to_owned(),
                    limit: 100,
                })
                .await
                .expect("runs");
            assert_eq!(rows.len(), 20);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
