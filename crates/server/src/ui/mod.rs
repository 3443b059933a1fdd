//! What `tracelab` serves on 127.0.0.1:16686, where the original demo had
//! Jaeger: the query API in the shape of Jaeger's HTTP API (so Jaeger's
//! tooling and Grafana's Jaeger data source read it), the trace in
//! tracelab's own model for the app's waterfall, and the app itself.
//!
//! - `GET /api/services`, `/api/services/{service}/operations`,
//!   `/api/operations?service=&spanKind=`, `/api/traces?service=&operation=
//!   &start=&end=&lookback=&minDuration=&maxDuration=&limit=&tags=`,
//!   `/api/traces/{trace-id}`: Jaeger's v1 JSON in its
//!   `{"data", "total", "limit", "offset", "errors"}` envelope. What v1 has
//!   no field for (status, span kind, the scope) travels as tags, as
//!   Jaeger's own OTLP translation does; the OTLP log records correlated
//!   with a span are among its `logs`, marked `otel.log=true`; an unknown
//!   trace is a 404 with a JSON error.
//! - Jaeger v2's `api_v3` (`/api/v3/services`, `/api/v3/operations`,
//!   `/api/v3/traces`, `/api/v3/traces/{trace-id}`), which answers in OTLP's
//!   JSON (`{"result": {"resourceSpans": […]}}`): see [`v3`].
//! - `GET /api/tracelab/traces/{trace-id}`: the trace as `tracelab-trace`'s
//!   model, which the app's `/trace/{trace-id}` page draws.
//! - `GET /api/tracelab/traces/{trace-id}/export?format=otlp|jaeger`: the
//!   trace as a file to download (`Content-Disposition: attachment`), OTLP
//!   JSON or Jaeger JSON.
//!
//! Every trace answer (Jaeger's v1, the model, the downloads) is written by
//! `tracelab-formats` from the one reading of the stored OTLP into the
//! model ([`model::to_model`]), the same writers the app's export uses.
//! - `GET /api/tracelab/live`: server-sent events, a summary of each trace
//!   as spans arrive ([`live`]), for the app's `/live` page.
//! - `GET /api/tracelab/status`: what the store holds, what forwarding did,
//!   and where the demo's services listen when `tracelab up` runs them.
//! - Everything else: the app's release build, carried in the binary (or
//!   read from `--ui-dir`), with `index.html` for the app's own routes (an
//!   unknown one gets the app's not-found page). A path no route could
//!   have ([`check_app_path`]: bad percent-encoding, not UTF-8, an encoded
//!   `/` or a `..`) is a 404, still with `index.html` so the app says so;
//!   one over [`MAX_APP_PATH`] bytes is a 414.

pub mod live;
pub mod model;
pub mod v3;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use tracelab_store::{JaegerResponse, Store, StoreError, StoredLog, StoredTrace, TraceQuery};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/app_files.rs"));
}

/// Where the app's files come from.
#[derive(Clone, Debug)]
pub enum AppFiles {
    /// The release build carried in the binary (empty when it was built
    /// without one).
    Embedded,
    /// A directory holding a release build (`--ui-dir`).
    Dir(PathBuf),
}

impl AppFiles {
    /// Whether there is an app to serve at all.
    pub fn available(&self) -> bool {
        match self {
            AppFiles::Embedded => !embedded::APP_FILES.is_empty(),
            AppFiles::Dir(dir) => dir.join("index.html").is_file(),
        }
    }

    /// The bytes of `path` (relative, `/`-separated), if the app has it.
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match self {
            AppFiles::Embedded => embedded::APP_FILES
                .iter()
                .find(|(name, _)| *name == path)
                .map(|(_, bytes)| bytes.to_vec()),
            AppFiles::Dir(dir) => {
                // Only plain names below the directory: no `..`, no root.
                if path.split('/').any(|part| part.is_empty() || part == "..") {
                    return None;
                }
                std::fs::read(dir.join(path)).ok()
            }
        }
    }
}

/// What the UI's handlers share.
#[derive(Clone)]
pub struct UiState {
    pub store: Arc<Store>,
    pub app: AppFiles,
    /// `--forward`'s target and what it has done, when forwarding.
    pub forward: Option<(String, Arc<crate::collector::forward::ForwardStats>)>,
    /// The traces arriving, for `/api/tracelab/live`.
    pub live: Arc<live::LiveFeed>,
    /// The demo's services running beside the collector (`tracelab up`),
    /// once they listen: the Live page calls them and flips their switches.
    /// Empty for `tracelab collector` alone.
    pub services: Arc<std::sync::OnceLock<Vec<LabService>>>,
}

/// One of the demo's services, as `/api/tracelab/status` names it.
#[derive(Clone, Debug, Serialize)]
pub struct LabService {
    /// `bands-api` or `reviews-api`.
    pub name: String,
    /// `http://127.0.0.1:8000`: where a browser reaches it.
    pub url: String,
    pub host: String,
    pub port: u16,
}

/// The router of port 16686.
pub fn router(state: UiState) -> Router {
    Router::new()
        .route("/api/services", get(services))
        .route(
            "/api/services/{service}/operations",
            get(service_operations),
        )
        .route("/api/operations", get(operations))
        .route("/api/traces", get(find_traces))
        .route("/api/traces/{trace_id}", get(trace))
        .route("/api/tracelab/traces/{trace_id}", get(model_trace))
        .route("/api/tracelab/traces/{trace_id}/export", get(export_trace))
        .route("/api/v3/services", get(v3::services))
        .route("/api/v3/operations", get(v3::operations))
        .route("/api/v3/traces", get(v3::find_traces))
        .route("/api/v3/traces/{trace_id}", get(v3::trace))
        .route("/api/tracelab/status", get(status))
        .route("/api/tracelab/live", get(live::events))
        .route("/api/{*rest}", get(unknown_api))
        .fallback(app_file)
        .with_state(state)
}

pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(error) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the answer could not be written: {error}"),
        ),
    }
}

/// Jaeger's error envelope: `{"data": null, …, "errors": [{"code", "msg"}]}`.
fn error_response(status: StatusCode, message: String) -> Response {
    json(
        status,
        &JaegerResponse::error(i32::from(status.as_u16()), message),
    )
}

/// Runs a store query on a blocking thread, answering a failure in v1's
/// envelope (see [`query_answering`]).
async fn query<T: Send + 'static>(
    state: &UiState,
    run: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    query_answering(state, run, error_response).await
}

/// Runs a store query on a blocking thread; a failure is a 400 for a bad
/// argument and a 500 otherwise, with the store's message, written by
/// `answer` (v1 and api_v3 write errors differently).
pub(crate) async fn query_answering<T: Send + 'static>(
    state: &UiState,
    run: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    answer: fn(StatusCode, String) -> Response,
) -> Result<T, Response> {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || run(&store)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error @ StoreError::InvalidQuery { .. })) => {
            Err(answer(StatusCode::BAD_REQUEST, error.to_string()))
        }
        Ok(Err(error)) => Err(answer(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())),
        Err(error) => Err(answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the query's task failed: {error}"),
        )),
    }
}

async fn services(State(state): State<UiState>) -> Response {
    match query(&state, |store| store.services()).await {
        Ok(services) => {
            let total = services.len();
            json(StatusCode::OK, &JaegerResponse::ok(services, total))
        }
        Err(response) => response,
    }
}

async fn service_operations(State(state): State<UiState>, Path(service): Path<String>) -> Response {
    match query(&state, move |store| store.operations(&service)).await {
        Ok(operations) => {
            // v1's per-service list is names only, each once.
            let mut names: Vec<String> = operations.into_iter().map(|op| op.name).collect();
            names.sort();
            names.dedup();
            let total = names.len();
            json(StatusCode::OK, &JaegerResponse::ok(names, total))
        }
        Err(response) => response,
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationsQuery {
    service: Option<String>,
    span_kind: Option<String>,
}

async fn operations(
    State(state): State<UiState>,
    Query(params): Query<OperationsQuery>,
) -> Response {
    let Some(service) = params.service.filter(|service| !service.is_empty()) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "parameter service is required".to_owned(),
        );
    };
    let kind = params.span_kind.filter(|kind| !kind.is_empty());
    match query(&state, move |store| store.operations(&service)).await {
        Ok(operations) => {
            let operations: Vec<_> = operations
                .into_iter()
                .filter(|op| kind.as_ref().is_none_or(|kind| &op.span_kind == kind))
                .collect();
            let total = operations.len();
            json(StatusCode::OK, &JaegerResponse::ok(operations, total))
        }
        Err(response) => response,
    }
}

/// `/api/traces` as Jaeger UI calls it: times in microseconds, durations as
/// Go writes them (`1.5ms`, `2s`), tags as a JSON object.
pub fn trace_query(params: &[(String, String)]) -> Result<TraceQuery, String> {
    let mut query = TraceQuery::default();
    let mut lookback: Option<u64> = None;
    for (key, value) in params {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "service" => query.service = Some(value.to_owned()),
            "operation" => query.operation = Some(value.to_owned()),
            "start" => query.start_min = Some(micros(key, value)?.saturating_mul(1000)),
            "end" => query.start_max = Some(micros(key, value)?.saturating_mul(1000)),
            "minDuration" => query.duration_min = Some(duration_nanos(key, value)?),
            "maxDuration" => query.duration_max = Some(duration_nanos(key, value)?),
            "lookback" if value != "custom" => lookback = Some(duration_nanos(key, value)?),
            "limit" => {
                query.limit = Some(
                    value
                        .parse()
                        .map_err(|_| format!("parameter limit={value:?} is not a whole number"))?,
                )
            }
            "tags" => {
                let tags: serde_json::Map<String, serde_json::Value> = serde_json::from_str(value)
                    .map_err(|error| {
                        format!("parameter tags must be a JSON object of strings ({error})")
                    })?;
                for (tag, tag_value) in tags {
                    let text = match tag_value {
                        serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    };
                    query.tags.push((tag, text));
                }
            }
            "tag" => {
                // Jaeger also accepts repeated tag=key:value.
                let (tag, tag_value) = value
                    .split_once(':')
                    .ok_or_else(|| format!("parameter tag={value:?} is not key:value"))?;
                query.tags.push((tag.to_owned(), tag_value.to_owned()));
            }
            _ => {}
        }
    }
    if let (Some(lookback), None) = (lookback, query.start_min) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
            });
        query.start_min = Some(now.saturating_sub(lookback));
    }
    Ok(query)
}

fn micros(key: &str, value: &str) -> Result<u64, String> {
    value
        .parse()
        .map_err(|_| format!("parameter {key}={value:?} is not a time in microseconds since 1970"))
}

/// A Go duration (`500us`, `1.5ms`, `2s`, `1m`, `1h`) in nanoseconds.
pub fn duration_nanos(key: &str, value: &str) -> Result<u64, String> {
    let units: [(&str, f64); 7] = [
        ("ns", 1.0),
        ("us", 1e3),
        ("µs", 1e3),
        ("ms", 1e6),
        ("s", 1e9),
        ("m", 60e9),
        ("h", 3600e9),
    ];
    let bad = || format!("parameter {key}={value:?} is not a duration such as 1.5ms, 2s or 1h");
    let (number, factor) = units
        .iter()
        .find_map(|(unit, factor)| value.strip_suffix(unit).map(|number| (number, *factor)))
        .ok_or_else(bad)?;
    let number: f64 = number.parse().map_err(|_| bad())?;
    if !(number.is_finite() && number >= 0.0) {
        return Err(bad());
    }
    Ok((number * factor) as u64)
}

async fn find_traces(State(state): State<UiState>, request: Request) -> Response {
    let params: Vec<(String, String)> =
        match serde_urlencoded_pairs(request.uri().query().unwrap_or_default()) {
            Ok(params) => params,
            Err(message) => return error_response(StatusCode::BAD_REQUEST, message),
        };
    let trace_query = match trace_query(&params) {
        Ok(query) => query,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, message),
    };
    let limit = trace_query.effective_limit();
    let found = query(&state, move |store| {
        let ids = store.find_traces(&trace_query)?;
        let mut traces = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(trace) = store.trace(&id)? {
                traces.push(jaeger_trace(&trace));
            }
        }
        Ok(traces)
    })
    .await;
    match found {
        Ok(traces) => {
            let total = traces.len();
            let mut answer = JaegerResponse::ok(traces, total);
            answer.limit = limit;
            json(StatusCode::OK, &answer)
        }
        Err(response) => response,
    }
}

/// `a=1&b=2` into pairs, percent-decoded (axum's `Query` would reject the
/// repeated `tag=` Jaeger allows).
pub(crate) fn serde_urlencoded_pairs(query: &str) -> Result<Vec<(String, String)>, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(key)?, percent_decode(value)?))
        })
        .collect()
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        match bytes[idx] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(idx + 1..idx + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or_else(|| format!("{text:?} is not valid percent-encoding"))?;
                out.push(hex);
                idx += 2;
            }
            byte => out.push(byte),
        }
        idx += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} does not decode to UTF-8"))
}

/// A stored trace with the log records correlated with it.
fn trace_with_logs(
    store: &Store,
    trace_id: &str,
) -> Result<Option<(StoredTrace, Vec<StoredLog>)>, StoreError> {
    let Some(trace) = store.trace(trace_id)? else {
        return Ok(None);
    };
    let logs = store.logs_for_trace(trace_id)?;
    Ok(Some((trace, logs)))
}

/// The trace as Jaeger's `/api/traces/{id}` answers it (`{"data": [trace],
/// "total": 0, …}`, `total` left at 0 as Jaeger does), written by
/// `tracelab-formats`' Jaeger exporter, each log record correlated with a
/// span among its logs ([`model::LogEvents::Jaeger`]).
fn jaeger_answer(trace: &StoredTrace, logs: &[StoredLog]) -> String {
    tracelab_formats::to_jaeger_json(&model::to_model(trace, logs, model::LogEvents::Jaeger))
}

/// One trace of a search's answer: the element of [`jaeger_answer`]'s
/// `data`.
fn jaeger_trace(trace: &StoredTrace) -> serde_json::Value {
    // The exporter's JSON always reads back.
    let mut answer: serde_json::Value =
        serde_json::from_str(&jaeger_answer(trace, &[])).unwrap_or_default();
    answer
        .pointer_mut("/data/0")
        .map(serde_json::Value::take)
        .unwrap_or_default()
}

async fn trace(State(state): State<UiState>, Path(trace_id): Path<String>) -> Response {
    let wanted = trace_id.clone();
    let found = query(&state, move |store| {
        Ok(trace_with_logs(store, &wanted)?.map(|(trace, logs)| jaeger_answer(&trace, &logs)))
    })
    .await;
    match found {
        Ok(Some(body)) => {
            let mut response = Response::new(Body::from(body));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("trace {trace_id} not found")),
        Err(response) => response,
    }
}

async fn model_trace(State(state): State<UiState>, Path(trace_id): Path<String>) -> Response {
    let wanted = trace_id.clone();
    match query(&state, move |store| trace_with_logs(store, &wanted)).await {
        Ok(Some((trace, logs))) => json(
            StatusCode::OK,
            &model::to_model(&trace, &logs, model::LogEvents::Waterfall),
        ),
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("trace {trace_id} not found")),
        Err(response) => response,
    }
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

/// A stored trace as a file to download, written by `tracelab-formats`'
/// exporters: `?format=otlp` (the default; an OTLP/JSON export request) or
/// `?format=jaeger` (Jaeger's `{"data": [trace]}`, which Jaeger UI opens).
/// Its spans as stored, without the log records shown on them (those are
/// another signal), so that importing the file gives the same spans back.
async fn export_trace(
    State(state): State<UiState>,
    Path(trace_id): Path<String>,
    Query(params): Query<ExportQuery>,
) -> Response {
    let format = params.format.unwrap_or_else(|| "otlp".to_owned());
    let write: fn(&tracelab_trace::Trace) -> String = match format.as_str() {
        "otlp" => tracelab_formats::to_otlp_json,
        "jaeger" => tracelab_formats::to_jaeger_json,
        other => {
            return error_response(
                StatusCode::BAD_REQUEST,
                format!("format={other:?} is not one tracelab writes: use otlp or jaeger"),
            )
        }
    };
    let wanted = trace_id.clone();
    let found = query(&state, move |store| {
        Ok(store.trace(&wanted)?.map(|trace| {
            let model = model::to_model(&trace, &[], model::LogEvents::Waterfall);
            (trace.trace_id.clone(), write(&model))
        }))
    })
    .await;
    match found {
        Ok(Some((id, body))) => {
            let mut response = Response::new(Body::from(body));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            // The id is 32 hex digits (the store's own), safe in a header.
            if let Ok(value) = HeaderValue::from_str(&format!(
                "attachment; filename=\"trace-{id}.{format}.json\""
            )) {
                response.headers_mut().insert(CONTENT_DISPOSITION, value);
            }
            response
        }
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("trace {trace_id} not found")),
        Err(response) => response,
    }
}

/// What the collector holds and, when forwarding, what it sent on and dropped.
async fn status(State(state): State<UiState>) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let forward = state.forward.as_ref().map(|(target, stats)| {
        serde_json::json!({
            "target": target,
            "sent": stats.sent.load(Relaxed),
            "retries": stats.retries.load(Relaxed),
            "droppedQueueFull": stats.dropped_full.load(Relaxed),
            "droppedRefused": stats.dropped_refused.load(Relaxed),
            "failing": stats.failing.load(Relaxed),
        })
    });
    match query(&state, |store| store.stats()).await {
        Ok(stats) => json(
            StatusCode::OK,
            &serde_json::json!({
                "store": {
                    "traces": stats.traces,
                    "spans": stats.spans,
                    "logs": stats.logs,
                    "metrics": stats.metrics,
                    "bytes": stats.bytes,
                    "limits": state.store.describe_limits(),
                },
                "forward": forward,
                "services": state.services.get().map_or(&[][..], Vec::as_slice),
            }),
        ),
        Err(response) => response,
    }
}

async fn unknown_api(Path(rest): Path<String>) -> Response {
    error_response(StatusCode::NOT_FOUND, format!("no API at /api/{rest}"))
}

/// A file of the app, or `index.html` for the app's own routes (`/trace/…`,
/// `/decode`, …), or a page saying how to get the app when there is none.
async fn app_file(State(state): State<UiState>, request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let status = match check_app_path(path) {
        Ok(()) => StatusCode::OK,
        Err(status @ StatusCode::URI_TOO_LONG) => {
            return error_response(
                status,
                format!(
                    "the path is {} bytes; no page of the app has one over {MAX_APP_PATH}",
                    path.len()
                ),
            )
        }
        Err(status) => status,
    };
    if !state.app.available() {
        let mut response = Response::new(Body::from(NO_APP));
        *response.status_mut() = StatusCode::NOT_FOUND;
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return response;
    }
    // A path that cannot be a file is not looked up: the app's page (with
    // its 404) is the answer.
    let file = (status == StatusCode::OK && !path.is_empty())
        .then(|| state.app.read(path))
        .flatten();
    let (bytes, name) = match file {
        Some(bytes) => (bytes, path),
        None => match state.app.read("index.html") {
            Some(bytes) => (bytes, "index.html"),
            None => return error_response(StatusCode::NOT_FOUND, "no index.html".to_owned()),
        },
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
    // Trunk puts a content hash in every name but index.html's and the
    // worker's: those are always checked again.
    let immutable = name != "index.html" && !name.starts_with("sim-worker");
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static(if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    response
}

/// The longest path (without its leading `/`) the app is served for. Its
/// routes are short (`trace/<32 hex digits>` is the longest), and a longer
/// path is a mistake or a probe, answered 414 URI Too Long.
pub const MAX_APP_PATH: usize = 2048;

/// Whether `path` (as requested, percent-encoded, without its leading `/`)
/// could be a route or a file of the app: `Err(414)` when it is longer than
/// [`MAX_APP_PATH`]; `Err(404)` when a segment is not valid
/// percent-encoding, does not decode to UTF-8, or decodes to `.`, `..` or
/// something holding `/`, `\` or NUL (no route or file has such a name,
/// and a file lookup must never see one).
pub fn check_app_path(path: &str) -> Result<(), StatusCode> {
    if path.len() > MAX_APP_PATH {
        return Err(StatusCode::URI_TOO_LONG);
    }
    for segment in path.split('/') {
        let mut bytes = Vec::with_capacity(segment.len());
        let mut rest = segment.as_bytes();
        while let Some((&byte, after)) = rest.split_first() {
            if byte == b'%' {
                let value = after
                    .get(..2)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or(StatusCode::NOT_FOUND)?;
                bytes.push(value);
                rest = &after[2..];
            } else {
                bytes.push(byte);
                rest = after;
            }
        }
        let decoded = String::from_utf8(bytes).map_err(|_| StatusCode::NOT_FOUND)?;
        if decoded == "." || decoded == ".." || decoded.contains(['/', '\\', '\0']) {
            return Err(StatusCode::NOT_FOUND);
        }
    }
    Ok(())
}

const NO_APP: &str = "This tracelab was built without the app, so there is no UI to serve \
(the query API under /api/ works). Build the app first, then tracelab:\n\n    \
trunk build --release   (or: cargo xtask up)\n    \
cargo build --release -p tracelab-server\n\n\
or point this one at a release build with --ui-dir DIR.\n";

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn app_paths_no_route_could_have_are_refused() {
        use super::{check_app_path, MAX_APP_PATH};
        use axum::http::StatusCode;
        for fine in [
            "",
            "decode",
            "trace/4bf92f3577b34da6a3ce929d0e0e4736",
            "a%20b",
            "caf%C3%A9",
        ] {
            assert_eq!(check_app_path(fine), Ok(()), "{fine}");
        }
        for bad in [
            "%FF",
            "%",
            "%4",
            "%zz",
            "..%2f..",
            "a/%2e%2e/b",
            "%2E",
            "a%5Cb",
            "a%00b",
            "%E0%A4%A",
            "%C3%28",
            "..",
        ] {
            assert_eq!(check_app_path(bad), Err(StatusCode::NOT_FOUND), "{bad}");
        }
        let long = "a".repeat(MAX_APP_PATH + 1);
        assert_eq!(check_app_path(&long), Err(StatusCode::URI_TOO_LONG));
        assert_eq!(check_app_path(&long[1..]), Ok(()));
    }

    use super::*;

    #[test]
    fn jaeger_ui_search_parameters_are_read() {
        let params: Vec<(String, String)> = serde_urlencoded_pairs(
            "service=bands-api&operation=GET+%2Fbands%2F%3Aid&start=1700000000000000&end=1700000001000000\
             &minDuration=1.5ms&maxDuration=2s&limit=5&tags=%7B%22http.response.status_code%22%3A%22200%22%7D&tag=error:true",
        )
        .expect("decodes");
        let query = trace_query(&params).expect("valid");
        assert_eq!(query.service.as_deref(), Some("bands-api"));
        assert_eq!(query.operation.as_deref(), Some("GET /bands/:id"));
        assert_eq!(query.start_min, Some(1_700_000_000_000_000_000));
        assert_eq!(query.start_max, Some(1_700_000_001_000_000_000));
        assert_eq!(query.duration_min, Some(1_500_000));
        assert_eq!(query.duration_max, Some(2_000_000_000));
        assert_eq!(query.limit, Some(5));
        assert_eq!(
            query.tags,
            vec![
                ("http.response.status_code".to_owned(), "200".to_owned()),
                ("error".to_owned(), "true".to_owned())
            ]
        );
    }

    #[test]
    fn bad_parameters_say_which_and_why() {
        for (query, says) in [
            ("minDuration=fast", "minDuration"),
            ("start=yesterday", "start"),
            ("limit=-1", "limit"),
            ("tags=%7Bnot", "tags"),
            ("tag=novalue", "key:value"),
        ] {
            let params = serde_urlencoded_pairs(query).expect("decodes");
            let error = trace_query(&params).expect_err(query);
            assert!(error.contains(says), "{query}: {error}");
        }
        assert!(serde_urlencoded_pairs("a=%zz").is_err());
    }
}

#[cfg(test)]
mod api_tests {
    use super::*;
    use http_body_util::BodyExt;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use tower::ServiceExt;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn resource() -> Option<Resource> {
        Some(Resource {
            attributes: vec![KeyValue {
                key: "service.name".to_owned(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue("bands-api".to_owned())),
                }),
                ..KeyValue::default()
            }],
            ..Resource::default()
        })
    }

    fn state() -> UiState {
        let store = Store::open_in_memory().expect("a store");
        let trace_id = vec![
            0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
            0x47, 0x36,
        ];
        store
            .ingest_traces(&ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: resource(),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![Span {
                            trace_id: trace_id.clone(),
                            span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
                            name: "GET /bands/:id".to_owned(),
                            kind: 2,
                            start_time_unix_nano: 1_700_000_000_000_000_000,
                            end_time_unix_nano: 1_700_000_000_005_000_000,
                            ..Span::default()
                        }],
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            })
            .expect("stored");
        store
            .ingest_logs(&ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    resource: resource(),
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![LogRecord {
                            time_unix_nano: 1_700_000_000_001_000_000,
                            severity_text: "INFO".to_owned(),
                            body: Some(AnyValue {
                                value: Some(any_value::Value::StringValue(
                                    "GET /bands/1 -> 200".to_owned(),
                                )),
                            }),
                            trace_id,
                            span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
                            ..LogRecord::default()
                        }],
                        ..ScopeLogs::default()
                    }],
                    ..ResourceLogs::default()
                }],
            })
            .expect("stored");
        UiState {
            store: Arc::new(store),
            app: AppFiles::Dir(std::env::temp_dir().join("tracelab-no-app-here")),
            forward: None,
            live: Arc::new(live::LiveFeed::default()),
            services: Arc::default(),
        }
    }

    async fn get(state: UiState, path: &str) -> (StatusCode, serde_json::Value) {
        let response = router(state)
            .oneshot(
                axum::http::Request::get(path)
                    .body(Body::empty())
                    .expect("a request"),
            )
            .await
            .expect("answered");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    #[tokio::test]
    async fn a_span_shows_its_correlated_log_records() {
        let (status, jaeger) = get(state(), &format!("/api/traces/{TRACE}")).await;
        assert_eq!(status, StatusCode::OK);
        // As Jaeger shows a log on its span (OpenTracing's log fields),
        // marked apart from the span's own events.
        let logs = &jaeger["data"][0]["spans"][0]["logs"];
        assert_eq!(
            logs,
            &serde_json::json!([{
                "timestamp": 1_700_000_000_001_000_u64,
                "fields": [
                    {"key": "event", "type": "string", "value": "log"},
                    {"key": "level", "type": "string", "value": "INFO"},
                    {"key": "message", "type": "string", "value": "GET /bands/1 -> 200"},
                    {"key": "otel.log", "type": "string", "value": "true"},
                ],
            }])
        );

        let (status, model) = get(state(), &format!("/api/tracelab/traces/{TRACE}")).await;
        assert_eq!(status, StatusCode::OK);
        let trace: tracelab_trace::Trace = serde_json::from_value(model).expect("the model");
        let event = &trace.spans[0].events[0];
        assert_eq!(&*event.name, "GET /bands/1 -> 200");
        assert_eq!(event.time_unix_nanos, 1_700_000_000_001_000_000);
    }

    #[tokio::test]
    async fn api_v3_answers_in_otlp_json() {
        let (status, services) = get(state(), "/api/v3/services").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(services, serde_json::json!({ "services": ["bands-api"] }));
        let (status, trace) = get(state(), &format!("/api/v3/traces/{TRACE}")).await;
        assert_eq!(status, StatusCode::OK);
        let span = &trace["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], TRACE);
        assert_eq!(span["spanId"], "0102030405060708");
        assert_eq!(span["name"], "GET /bands/:id");
        let (status, found) = get(
            state(),
            "/api/v3/traces?query.service_name=bands-api&query.start_time_min=2023-11-14T00:00:00Z",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            found["result"]["resourceSpans"].as_array().map(Vec::len),
            Some(1)
        );
        let (status, missing) =
            get(state(), "/api/v3/traces/ffffffffffffffffffffffffffffffff").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(missing["error"]["httpCode"], 404);
        let (status, bad) = get(state(), "/api/v3/traces?query.start_time_min=yesterday").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(bad["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("RFC 3339"));
    }

    #[tokio::test]
    async fn the_query_api_answers_in_jaegers_envelope_and_says_what_is_wrong() {
        let (status, services) = get(state(), "/api/services").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(services["data"], serde_json::json!(["bands-api"]));
        assert_eq!(services["errors"], serde_json::Value::Null);

        let (status, operations) = get(state(), "/api/services/bands-api/operations").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(operations["data"], serde_json::json!(["GET /bands/:id"]));

        let (status, found) = get(state(), "/api/traces?service=bands-api&minDuration=1ms").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found["data"][0]["traceID"], TRACE);
        let (_, none) = get(state(), "/api/traces?service=bands-api&minDuration=1s").await;
        assert_eq!(none["data"], serde_json::json!([]));

        for (path, status, says) in [
            (
                "/api/traces/ffffffffffffffffffffffffffffffff",
                StatusCode::NOT_FOUND,
                "not found",
            ),
            ("/api/traces/not-hex", StatusCode::BAD_REQUEST, "hex"),
            (
                "/api/traces?minDuration=fast",
                StatusCode::BAD_REQUEST,
                "minDuration",
            ),
            (
                "/api/operations",
                StatusCode::BAD_REQUEST,
                "service is required",
            ),
            (
                "/api/nothing",
                StatusCode::NOT_FOUND,
                "no API at /api/nothing",
            ),
        ] {
            let (got, body) = get(state(), path).await;
            assert_eq!(got, status, "{path}");
            let message = body["errors"][0]["msg"].as_str().unwrap_or_default();
            assert!(message.contains(says), "{path}: {message}");
            assert_eq!(body["data"], serde_json::Value::Null, "{path}");
        }
    }
}
