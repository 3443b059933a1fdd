//! Jaeger v2's `api_v3` over HTTP, which recent Jaeger UIs and tools call:
//! the same store, answered in OTLP's JSON.
//!
//! - `GET /api/v3/services` → `{"services": [...]}`
//! - `GET /api/v3/operations?service=&span_kind=` → `{"operations": [{"name", "spanKind"}]}`
//! - `GET /api/v3/traces/{trace-id}` → `{"result": {"resourceSpans": [...]}}`
//! - `GET /api/v3/traces?query.service_name=&query.operation_name=
//!   &query.start_time_min=&query.start_time_max=` (RFC 3339)
//!   `&query.duration_min=&query.duration_max=` (`1.5ms`, `2s`)
//!   `&query.num_traces=&query.attributes.KEY=VALUE` → the traces found,
//!   all in one `result`.
//!
//! Errors are `{"error": {"httpCode": N, "message": "..."}}`, as Jaeger's.

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;
use tracelab_store::TraceQuery;

use super::{duration_nanos, json, query_answering, serde_urlencoded_pairs, UiState};

fn error(status: StatusCode, message: String) -> Response {
    json(
        status,
        &serde_json::json!({ "error": { "httpCode": status.as_u16(), "message": message } }),
    )
}

/// A store query answering a failure in api_v3's error shape.
async fn run<T: Send + 'static>(
    state: &UiState,
    work: impl FnOnce(&tracelab_store::Store) -> Result<T, tracelab_store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    query_answering(state, work, error).await
}

pub async fn services(State(state): State<UiState>) -> Response {
    match run(&state, |store| store.services()).await {
        Ok(services) => json(StatusCode::OK, &serde_json::json!({ "services": services })),
        Err(response) => response,
    }
}

#[derive(serde::Deserialize)]
pub struct OperationsParams {
    service: Option<String>,
    span_kind: Option<String>,
}

pub async fn operations(
    State(state): State<UiState>,
    Query(params): Query<OperationsParams>,
) -> Response {
    let Some(service) = params.service.filter(|service| !service.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "parameter service is required".to_owned(),
        );
    };
    let kind = params.span_kind.filter(|kind| !kind.is_empty());
    match run(&state, move |store| store.operations(&service)).await {
        Ok(operations) => {
            let operations: Vec<_> = operations
                .into_iter()
                .filter(|op| kind.as_ref().is_none_or(|kind| &op.span_kind == kind))
                .collect();
            json(
                StatusCode::OK,
                &serde_json::json!({ "operations": operations }),
            )
        }
        Err(response) => response,
    }
}

fn result(resource_spans: Vec<ResourceSpans>) -> Response {
    json(
        StatusCode::OK,
        &serde_json::json!({ "result": { "resourceSpans": resource_spans } }),
    )
}

pub async fn trace(State(state): State<UiState>, Path(trace_id): Path<String>) -> Response {
    let wanted = trace_id.clone();
    match run(&state, move |store| store.trace(&wanted)).await {
        Ok(Some(trace)) => result(trace.to_resource_spans()),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("trace {trace_id} not found")),
        Err(response) => response,
    }
}

/// api_v3's search parameters as a store query.
pub fn trace_query(params: &[(String, String)]) -> Result<TraceQuery, String> {
    let mut query = TraceQuery::default();
    for (key, value) in params {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "query.service_name" => query.service = Some(value.to_owned()),
            "query.operation_name" => query.operation = Some(value.to_owned()),
            "query.start_time_min" => query.start_min = Some(rfc3339_nanos(key, value)?),
            "query.start_time_max" => query.start_max = Some(rfc3339_nanos(key, value)?),
            "query.duration_min" => query.duration_min = Some(duration_nanos(key, value)?),
            "query.duration_max" => query.duration_max = Some(duration_nanos(key, value)?),
            "query.num_traces" | "query.search_depth" => {
                query.limit = Some(
                    value
                        .parse()
                        .map_err(|_| format!("parameter {key}={value:?} is not a whole number"))?,
                )
            }
            other => {
                if let Some(attribute) = other.strip_prefix("query.attributes.") {
                    query.tags.push((attribute.to_owned(), value.to_owned()));
                }
            }
        }
    }
    Ok(query)
}

/// An RFC 3339 time (`2026-12-04T12:00:00Z`, `…T12:00:00.5+01:00`) in Unix
/// nanoseconds.
pub fn rfc3339_nanos(key: &str, value: &str) -> Result<u64, String> {
    let bad = || {
        format!("parameter {key}={value:?} is not an RFC 3339 time such as 2026-12-04T12:00:00Z")
    };
    let number = |text: &str| text.parse::<i64>().map_err(|_| bad());
    let (date, time) = value.split_once(['T', 't', ' ']).ok_or_else(bad)?;
    let mut date_parts = date.splitn(3, '-');
    let (year, month, day) = (
        number(date_parts.next().ok_or_else(bad)?)?,
        number(date_parts.next().ok_or_else(bad)?)?,
        number(date_parts.next().ok_or_else(bad)?)?,
    );
    // The zone: Z, or ±hh:mm at the end.
    let (clock, offset_seconds) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let at = time.rfind(['+', '-']).ok_or_else(bad)?;
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = zone[1..].split_once(':').ok_or_else(bad)?;
        (
            clock,
            sign * (number(hours)? * 3600 + number(minutes)? * 60),
        )
    };
    let (whole, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut clock_parts = whole.splitn(3, ':');
    let (hour, minute, second) = (
        number(clock_parts.next().ok_or_else(bad)?)?,
        number(clock_parts.next().ok_or_else(bad)?)?,
        number(clock_parts.next().ok_or_else(bad)?)?,
    );
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let mut nanos_fraction = 0i64;
    if !fraction.is_empty() {
        if fraction.len() > 9 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(bad());
        }
        nanos_fraction = number(&format!("{fraction:0<9}"))?;
    }
    // Days from the civil date (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    u64::try_from(seconds)
        .ok()
        .and_then(|seconds| seconds.checked_mul(1_000_000_000))
        .and_then(|nanos| nanos.checked_add(u64::try_from(nanos_fraction).ok()?))
        .ok_or_else(bad)
}

pub async fn find_traces(State(state): State<UiState>, request: Request) -> Response {
    let params = match serde_urlencoded_pairs(request.uri().query().unwrap_or_default()) {
        Ok(params) => params,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let trace_query = match trace_query(&params) {
        Ok(trace_query) => trace_query,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let found = run(&state, move |store| {
        let mut resource_spans = Vec::new();
        for id in store.find_traces(&trace_query)? {
            if let Some(trace) = store.trace(&id)? {
                resource_spans.extend(trace.to_resource_spans());
            }
        }
        Ok(resource_spans)
    })
    .await;
    match found {
        Ok(resource_spans) => result(resource_spans),
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_read_as_unix_nanoseconds() {
        assert_eq!(rfc3339_nanos("t", "1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            rfc3339_nanos("t", "2023-03-30T10:33:58.8869Z"),
            Ok(1_680_172_438_886_900_000)
        );
        assert_eq!(
            rfc3339_nanos("t", "2023-03-30T12:33:58+02:00"),
            Ok(1_680_172_438_000_000_000)
        );
        assert_eq!(
            rfc3339_nanos("t", "2000-02-29T00:00:00Z"),
            Ok(951_782_400_000_000_000)
        );
        for bad in [
            "yesterday",
            "2023-13-01T00:00:00Z",
            "2023-03-30T10:33:58",
            "2023-03-30T10:33:58.1234567890Z",
        ] {
            let error = rfc3339_nanos("query.start_time_min", bad).expect_err(bad);
            assert!(error.contains("query.start_time_min"), "{error}");
        }
    }

    #[test]
    fn search_parameters_become_a_store_query() {
        let params = serde_urlencoded_pairs(
            "query.service_name=bands-api&query.duration_min=1ms&query.num_traces=3&query.attributes.http.route=%2Fbands%2F%3Aid",
        )
        .expect("decodes");
        let query = trace_query(&params).expect("valid");
        assert_eq!(query.service.as_deref(), Some("bands-api"));
        assert_eq!(query.duration_min, Some(1_000_000));
        assert_eq!(query.limit, Some(3));
        assert_eq!(
            query.tags,
            vec![("http.route".to_owned(), "/bands/:id".to_owned())]
        );
    }
}
