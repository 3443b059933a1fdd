//! The search form's lists and the trace search, criterion by criterion.

mod common;

use common::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use tracelab_store::{Operation, Store, TraceQuery};

/// Five traces, received in order 1..=5, trace n starting n seconds after T0:
/// 1: frontend GET / (200 ms) → bands-api GET /bands/{id} (150 ms, http 200)
/// 2: frontend GET / (50 ms, error) → reviews-api GET /reviews (40 ms, error status)
/// 3: bands-api GET /bands/{id} (5200 ms, server, "slow" = true), region eu on its resource
/// 4: reviews-api db.query (3 ms, client), http.response.status_code 500
/// 5: frontend GET / (10 ms)
fn store_with_five_traces() -> Store {
    let store = Store::open_in_memory().unwrap();
    let second = |n: u64| n * 1000;

    let mut bands = span(1, 2, Some(1), "GET /bands/{id}", second(1) + 10, 150);
    bands.kind = SpanKind::Server as i32;
    bands
        .attributes
        .push(attr("http.response.status_code", Value::IntValue(200)));
    store
        .ingest_traces(&request(
            "frontend",
            vec![span(1, 1, None, "GET /", second(1), 200)],
        ))
        .unwrap();
    store
        .ingest_traces(&request("bands-api", vec![bands]))
        .unwrap();

    let mut failing = span(2, 2, Some(1), "GET /reviews", second(2) + 5, 40);
    failing.status = error_status("upstream timed out");
    let mut root = span(2, 1, None, "GET /", second(2), 50);
    root.attributes.push(attr("error", Value::BoolValue(true)));
    store
        .ingest_traces(&merge(vec![
            request("frontend", vec![root]),
            request("reviews-api", vec![failing]),
        ]))
        .unwrap();

    let mut slow = span(3, 1, None, "GET /bands/{id}", second(3), 5200);
    slow.kind = SpanKind::Server as i32;
    slow.attributes.push(attr("slow", Value::BoolValue(true)));
    let mut slow_request = request("bands-api", vec![slow]);
    slow_request.resource_spans[0]
        .resource
        .as_mut()
        .unwrap()
        .attributes
        .push(attr_str("cloud.region", "eu"));
    store.ingest_traces(&slow_request).unwrap();

    let mut query = span(4, 1, None, "db.query", second(4), 3);
    query.kind = SpanKind::Client as i32;
    query
        .attributes
        .push(attr("http.response.status_code", Value::IntValue(500)));
    store
        .ingest_traces(&request("reviews-api", vec![query]))
        .unwrap();

    let mut last = span(5, 1, None, "GET /", second(5), 10);
    last.attributes
        .push(attr_str("db.query.text", LONG_STATEMENT));
    store
        .ingest_traces(&request("frontend", vec![last]))
        .unwrap();
    store
}

const LONG_STATEMENT: &str =
    "SELECT id, band_id, rating, body, created FROM reviews WHERE band_id = ?1 ORDER BY created DESC LIMIT 20";

fn find(store: &Store, query: TraceQuery) -> Vec<String> {
    store.find_traces(&query).unwrap()
}

fn ids(traces: &[u8]) -> Vec<String> {
    traces.iter().map(|n| trace_hex(*n)).collect()
}

#[test]
fn services_and_operations() {
    let store = store_with_five_traces();
    assert_eq!(
        store.services().unwrap(),
        ["bands-api", "frontend", "reviews-api"]
    );
    assert_eq!(
        store.operations("bands-api").unwrap(),
        [Operation {
            name: "GET /bands/{id}".into(),
            span_kind: "server".into()
        }]
    );
    assert_eq!(
        store.operations("reviews-api").unwrap(),
        [
            Operation {
                name: "GET /reviews".into(),
                span_kind: "internal".into()
            },
            Operation {
                name: "db.query".into(),
                span_kind: "client".into()
            },
        ]
    );
    assert_eq!(store.operations("nobody").unwrap(), []);
    assert_eq!(
        serde_json::to_value(store.operations("bands-api").unwrap()).unwrap(),
        serde_json::json!([{"name": "GET /bands/{id}", "spanKind": "server"}])
    );
}

#[test]
fn everything_newest_first() {
    let store = store_with_five_traces();
    assert_eq!(find(&store, TraceQuery::default()), ids(&[5, 4, 3, 2, 1]));
}

#[test]
fn by_service_and_operation() {
    let store = store_with_five_traces();
    let service = |name: &str| TraceQuery {
        service: Some(name.into()),
        ..TraceQuery::default()
    };
    assert_eq!(find(&store, service("frontend")), ids(&[5, 2, 1]));
    assert_eq!(find(&store, service("bands-api")), ids(&[3, 1]));
    assert_eq!(find(&store, service("nobody")), ids(&[]));
    assert_eq!(
        find(
            &store,
            TraceQuery {
                operation: Some("db.query".into()),
                ..service("reviews-api")
            }
        ),
        ids(&[4])
    );
    // Service and operation must hold for the same span.
    assert_eq!(
        find(
            &store,
            TraceQuery {
                operation: Some("db.query".into()),
                ..service("frontend")
            }
        ),
        ids(&[])
    );
}

#[test]
fn by_time_and_duration() {
    let store = store_with_five_traces();
    let at = |seconds: u64| T0 + seconds * 1000 * MS;
    assert_eq!(
        find(
            &store,
            TraceQuery {
                start_min: Some(at(3)),
                ..TraceQuery::default()
            }
        ),
        ids(&[5, 4, 3])
    );
    assert_eq!(
        find(
            &store,
            TraceQuery {
                start_min: Some(at(2)),
                start_max: Some(at(3)),
                ..TraceQuery::default()
            }
        ),
        ids(&[3, 2])
    );
    assert_eq!(
        find(
            &store,
            TraceQuery {
                duration_min: Some(1_000 * MS),
                ..TraceQuery::default()
            }
        ),
        ids(&[3])
    );
    assert_eq!(
        find(
            &store,
            TraceQuery {
                duration_max: Some(10 * MS),
                ..TraceQuery::default()
            }
        ),
        ids(&[5, 4])
    );
    assert_eq!(
        find(
            &store,
            TraceQuery {
                duration_min: Some(40 * MS),
                duration_max: Some(150 * MS),
                ..TraceQuery::default()
            }
        ),
        ids(&[2, 1])
    );
}

#[test]
fn by_tags() {
    let store = store_with_five_traces();
    let tags = |pairs: &[(&str, &str)]| TraceQuery {
        tags: pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        ..TraceQuery::default()
    };
    // Values compare as text: the integer 200, the boolean true.
    assert_eq!(
        find(&store, tags(&[("http.response.status_code", "200")])),
        ids(&[1])
    );
    assert_eq!(
        find(&store, tags(&[("http.response.status_code", "500")])),
        ids(&[4])
    );
    assert_eq!(find(&store, tags(&[("slow", "true")])), ids(&[3]));
    // A resource attribute, and the service name itself.
    assert_eq!(find(&store, tags(&[("cloud.region", "eu")])), ids(&[3]));
    assert_eq!(
        find(&store, tags(&[("service.name", "reviews-api")])),
        ids(&[4, 2])
    );
    // error=true: an error status, or an `error` attribute.
    assert_eq!(find(&store, tags(&[("error", "true")])), ids(&[2]));
    let error_status_only = TraceQuery {
        error_only: true,
        ..TraceQuery::default()
    };
    assert_eq!(find(&store, error_status_only), ids(&[2]));
    // Derived tags, as Jaeger's translator writes them.
    assert_eq!(find(&store, tags(&[("span.kind", "client")])), ids(&[4]));
    assert_eq!(
        find(&store, tags(&[("otel.status_code", "ERROR")])),
        ids(&[2])
    );
    // Every tag must hold for one span (span or resource attribute).
    assert_eq!(
        find(&store, tags(&[("slow", "true"), ("cloud.region", "eu")])),
        ids(&[3])
    );
    assert_eq!(
        find(
            &store,
            tags(&[("slow", "true"), ("http.response.status_code", "200")])
        ),
        ids(&[])
    );
    // A long value (indexed by its hash) still matches exactly.
    assert_eq!(
        find(&store, tags(&[("db.query.text", LONG_STATEMENT)])),
        ids(&[5])
    );
    let almost = LONG_STATEMENT.replace("20", "21");
    assert_eq!(
        find(&store, tags(&[("db.query.text", almost.as_str())])),
        ids(&[])
    );
    // With the other criteria.
    let query = TraceQuery {
        service: Some("bands-api".into()),
        ..tags(&[("http.response.status_code", "200")])
    };
    assert_eq!(find(&store, query), ids(&[1]));
}

#[test]
fn limit() {
    let store = store_with_five_traces();
    assert_eq!(
        find(
            &store,
            TraceQuery {
                limit: Some(2),
                ..TraceQuery::default()
            }
        ),
        ids(&[5, 4])
    );
    // 0 means the default (20), which is more than there are.
    assert_eq!(
        find(
            &store,
            TraceQuery {
                limit: Some(0),
                ..TraceQuery::default()
            }
        )
        .len(),
        5
    );
    // The default and the cap, on more traces than either.
    let many = Store::open_in_memory().unwrap();
    let spans = (0..=255u8)
        .map(|n| span(n, 1, None, "op", u64::from(n), 1))
        .filter(|span| span.trace_id.iter().any(|b| *b != 0))
        .collect();
    many.ingest_traces(&request("svc", spans)).unwrap();
    let all = find(&many, TraceQuery::default());
    assert_eq!(all.len(), 20);
    assert_eq!(all[0], trace_hex(255), "newest first");
    assert_eq!(
        find(
            &many,
            TraceQuery {
                limit: Some(5000),
                ..TraceQuery::default()
            }
        )
        .len(),
        256
    );
}

#[test]
fn tag_values_that_look_like_sql_are_just_text() {
    let store = store_with_five_traces();
    let query = TraceQuery {
        tags: vec![("x' OR 1=1 --".into(), "y".into())],
        ..TraceQuery::default()
    };
    assert_eq!(find(&store, query), ids(&[]));
}
