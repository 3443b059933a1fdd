//! The query API's trace answers, written by `tracelab-formats`' exporters:
//! Jaeger's v1 shape on `/api/traces/{id}` (the shape the store's own
//! Jaeger writer was held to, field by field), the downloads on
//! `/api/tracelab/traces/{id}/export`, and `import ∘ export` through the
//! store keeping every span, parent link, attribute, event, link and
//! status.

// The store's own test builders (OTLP requests), so that the shape below is
// checked on exactly the trace the store's Jaeger test used.
#[path = "../../store/tests/common/mod.rs"]
mod common;
#[path = "support/traces.rs"]
mod traces;

use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use common::*;
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link, SpanKind};
use serde_json::{json, Value as Json};
use tower::ServiceExt;
use tracelab_server::ui::{self, AppFiles, UiState};
use tracelab_store::Store;
use tracelab_trace::model::Trace;
use traces::comparable;

fn state(store: Store) -> UiState {
    UiState {
        store: Arc::new(store),
        app: AppFiles::Dir(std::env::temp_dir().join("tracelab-no-app-here")),
        forward: None,
        live: Arc::default(),
        services: Arc::default(),
    }
}

async fn get(state: &UiState, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = ui::router(state.clone())
        .oneshot(
            axum::http::Request::get(path)
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .expect("answered");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("a body").to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

async fn get_json(state: &UiState, path: &str) -> (StatusCode, Json) {
    let (status, _, body) = get(state, path).await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or_else(|error| {
            panic!(
                "{path}: not JSON ({error}): {}",
                String::from_utf8_lossy(&body)
            )
        }),
    )
}

/// The trace of the store's Jaeger test: three spans of two services, one
/// with every kind of attribute, an error status, a tracestate, events
/// (one with an `event` attribute) and links (one marked `child_of`).
fn stored_trace() -> UiState {
    let store = Store::open_in_memory().expect("a store");
    let mut server = span(1, 2, Some(1), "GET /bands/{id}", 10, 150);
    server.kind = SpanKind::Server as i32;
    server.flags = 0x301; // W3C sampled, plus OTLP's has-parent bits
    server.trace_state = "vendor=1".into();
    server.status = error_status("boom");
    server.dropped_attributes_count = 3;
    server.attributes = vec![
        attr_str("http.route", "/bands/{id}"),
        attr("http.response.status_code", Value::IntValue(500)),
        attr("huge", Value::IntValue(9_223_372_036_854_775_222)),
        attr("ratio", Value::DoubleValue(0.5)),
        attr("ok", Value::BoolValue(false)),
        attr("blob", Value::BytesValue(vec![0, 0, 48, 57])),
        attr(
            "list",
            Value::ArrayValue(ArrayValue {
                values: vec![
                    value(Value::IntValue(1)),
                    value(Value::KvlistValue(KeyValueList {
                        values: vec![attr_str("k", "v")],
                    })),
                ],
            }),
        ),
    ];
    server.events = vec![
        Event {
            time_unix_nano: T0 + 20 * MS + 999,
            name: "exception".into(),
            attributes: vec![attr_str("exception.type", "Timeout")],
            dropped_attributes_count: 0,
        },
        Event {
            time_unix_nano: T0 + 21 * MS,
            name: "ignored".into(),
            attributes: vec![attr_str("event", "custom")],
            dropped_attributes_count: 0,
        },
    ];
    server.links = vec![
        Link {
            trace_id: trace_id(7),
            span_id: span_id(7),
            ..Link::default()
        },
        Link {
            trace_id: trace_id(8),
            span_id: span_id(8),
            attributes: vec![attr_str("opentracing.ref_type", "child_of")],
            ..Link::default()
        },
    ];
    let mut client = span(1, 1, None, "GET /", 0, 200);
    client.kind = SpanKind::Client as i32;
    client.status = Some(opentelemetry_proto::tonic::trace::v1::Status {
        message: String::new(),
        code: 1,
    });
    let mut other = request("bands-api", vec![server]);
    if let Some(resource) = other.resource_spans[0].resource.as_mut() {
        resource.attributes.push(attr_str("host.name", "box"));
    }
    // A third span of the frontend under a second scope: same process.
    let mut internal = request("frontend", vec![span(1, 3, Some(1), "render", 180, 10)]);
    internal.resource_spans[0].scope_spans[0].scope = None;
    // Another resource (its schema URL differs) that makes the same process.
    internal.resource_spans[0].schema_url = "https://opentelemetry.io/schemas/1.27.0".into();
    store
        .ingest_traces(&merge(vec![
            request("frontend", vec![client]),
            other,
            internal,
        ]))
        .expect("stored");
    state(store)
}

/// Tags as a set: Jaeger's readers look tags up by key, so their order is
/// no part of the shape (see
/// [`jaeger_json_follows_jaegers_translator_except_where_it_would_lose_data`]).
fn tag_set(tags: &Json) -> Vec<String> {
    let mut tags: Vec<String> = tags
        .as_array()
        .map(|tags| tags.iter().map(Json::to_string).collect())
        .unwrap_or_default();
    tags.sort();
    tags
}

#[tokio::test]
async fn the_trace_has_jaegers_shape() {
    let state = stored_trace();
    let (status, answer) = get_json(&state, &format!("/api/traces/{}", trace_hex(1))).await;
    assert_eq!(status, StatusCode::OK);
    // Jaeger's own `/api/traces/{id}` leaves `total` at 0.
    assert_eq!(answer["total"], 0);
    assert_eq!(answer["errors"], Json::Null);
    let json = &answer["data"][0];
    let keys = |value: &Json| {
        let mut keys: Vec<String> = value
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    assert_eq!(keys(json), ["processes", "spans", "traceID", "warnings"]);
    assert_eq!(json["traceID"], trace_hex(1));
    assert_eq!(json["warnings"], Json::Null);
    assert_eq!(
        json["processes"],
        json!({
            "p1": {"serviceName": "frontend", "tags": []},
            "p2": {"serviceName": "bands-api", "tags": [{"key": "host.name", "type": "string", "value": "box"}]},
        })
    );

    let spans = json["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 3);
    let client = &spans[0];
    assert_eq!(
        keys(client),
        [
            "duration",
            "flags",
            "logs",
            "operationName",
            "processID",
            "references",
            "spanID",
            "startTime",
            "tags",
            "traceID",
            "warnings"
        ]
    );
    assert_eq!(client["spanID"], span_hex(1));
    assert_eq!(client["startTime"], T0 / 1000);
    assert_eq!(client["duration"], 200_000);
    assert_eq!(client["references"], json!([]));
    assert_eq!(client["logs"], json!([]));
    assert_eq!(client["processID"], "p1");
    assert_eq!(client["warnings"], Json::Null);
    assert_eq!(
        tag_set(&client["tags"]),
        tag_set(&json!([
            {"key": "otel.scope.name", "type": "string", "value": "tests"},
            {"key": "otel.scope.version", "type": "string", "value": "1.0"},
            {"key": "span.kind", "type": "string", "value": "client"},
            {"key": "otel.status_code", "type": "string", "value": "OK"},
        ]))
    );

    let server = &spans[1];
    assert_eq!(server["operationName"], "GET /bands/{id}");
    assert_eq!(server["flags"], 1, "only the sampled bit");
    assert_eq!(server["processID"], "p2");
    assert_eq!(server["startTime"], (T0 + 10 * MS) / 1000);
    assert_eq!(server["duration"], 150_000);
    let references = server["references"].as_array().expect("references");
    assert_eq!(
        references[..2],
        [
            json!({"refType": "CHILD_OF", "traceID": trace_hex(1), "spanID": span_hex(1)}),
            json!({"refType": "FOLLOWS_FROM", "traceID": trace_hex(7), "spanID": span_hex(7), "tags": []}),
        ]
    );
    assert_eq!(references.len(), 3);
    assert_eq!(references[2]["spanID"], span_hex(8));
    // An array as its JSON text in a string tag (how a map inside it is
    // written: see the test below).
    let tags = server["tags"].as_array().expect("tags");
    let list = tags.iter().find(|tag| tag["key"] == "list").expect("list");
    assert_eq!(list["type"], "string");
    assert!(list["value"]
        .as_str()
        .is_some_and(|text| text.starts_with("[1,")));
    let others: Vec<Json> = tags
        .iter()
        .filter(|tag| tag["key"] != "list")
        .cloned()
        .collect();
    assert_eq!(
        tag_set(&Json::Array(others)),
        tag_set(&json!([
            {"key": "otel.scope.name", "type": "string", "value": "tests"},
            {"key": "otel.scope.version", "type": "string", "value": "1.0"},
            {"key": "http.route", "type": "string", "value": "/bands/{id}"},
            {"key": "http.response.status_code", "type": "int64", "value": 500},
            // A JSON number, as Jaeger's Go writes an int64 (the store's
            // writer wrote a string).
            {"key": "huge", "type": "int64", "value": 9_223_372_036_854_775_222_i64},
            {"key": "ratio", "type": "float64", "value": 0.5},
            {"key": "ok", "type": "bool", "value": false},
            {"key": "blob", "type": "binary", "value": "AAAwOQ=="},
            {"key": "span.kind", "type": "string", "value": "server"},
            {"key": "otel.status_code", "type": "string", "value": "ERROR"},
            {"key": "error", "type": "bool", "value": true},
            {"key": "otel.status_description", "type": "string", "value": "boom"},
            {"key": "w3c.tracestate", "type": "string", "value": "vendor=1"},
        ]))
    );
    let logs = server["logs"].as_array().expect("logs");
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0]["timestamp"], (T0 + 20 * MS) / 1000);
    assert_eq!(
        logs[0]["fields"],
        json!([
            {"key": "event", "type": "string", "value": "exception"},
            {"key": "exception.type", "type": "string", "value": "Timeout"},
        ])
    );
    assert_eq!(logs[1]["timestamp"], (T0 + 21 * MS) / 1000);

    let render = &spans[2];
    assert_eq!(
        render["processID"], "p1",
        "same service and tags: same process"
    );
    assert_eq!(
        render["tags"],
        json!([{"key": "span.kind", "type": "string", "value": "internal"}]),
        "no scope, no scope tags"
    );
}

/// Where the query API's Jaeger JSON follows Jaeger's own OTLP translator
/// (`pkg/translator/jaeger` in the OpenTelemetry Collector contrib), and
/// where it parts from it on purpose, so that the file reads back whole
/// (`tracelab_formats::to_jaeger_json`'s doc lists both).
#[tokio::test]
async fn jaeger_json_follows_jaegers_translator_except_where_it_would_lose_data() {
    let state = stored_trace();
    let (_, answer) = get_json(&state, &format!("/api/traces/{}", trace_hex(1))).await;
    let server = &answer["data"][0]["spans"][1];
    let tag = |key: &str| {
        server["tags"]
            .as_array()
            .and_then(|tags| tags.iter().find(|tag| tag["key"] == key))
            .cloned()
    };
    // As the translator writes it.
    assert_eq!(
        server["tags"][0]["key"], "otel.scope.name",
        "the scope's tags come first"
    );
    assert_eq!(
        server["references"][2]["refType"], "CHILD_OF",
        "a link marked opentracing.ref_type=child_of"
    );
    // A duration of 150 ms and 999 ns from a start 500 ns past a whole
    // microsecond: truncated on its own (150,000 µs), not the difference of
    // the two truncated ends (150,001 µs).
    let (status, _, body) = {
        let store = Store::open_in_memory().expect("a store");
        let mut odd = span(1, 1, None, "odd", 0, 150);
        odd.start_time_unix_nano += 500;
        odd.end_time_unix_nano += 1_499;
        store
            .ingest_traces(&request("svc", vec![odd]))
            .expect("stored");
        get(
            &self::state(store),
            &format!("/api/traces/{}", trace_hex(1)),
        )
        .await
    };
    let odd: Json = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(odd["data"][0]["spans"][0]["duration"], 150_000);

    // Parted from on purpose: the translator drops an event's name when an
    // attribute is also called `event`; here both stay, the name first.
    assert_eq!(
        server["logs"][1]["fields"],
        json!([
            {"key": "event", "type": "string", "value": "ignored"},
            {"key": "event", "type": "string", "value": "custom"}
        ])
    );
    // Jaeger leaves out `flags` when 0; here a span without `flags` reads
    // as sampled, so an unsampled one says so.
    assert_eq!(answer["data"][0]["spans"][0]["flags"], 0);
    // And what the model does not keep: a map inside an array (read as its
    // JSON text) and the dropped counts.
    assert_eq!(
        tag("list").map(|tag| tag["value"].clone()),
        Some(json!("[1,\"{\\\"k\\\":\\\"v\\\"}\"]"))
    );
    assert_eq!(tag("otel.dropped_attributes_count"), None);
}

#[tokio::test]
async fn downloads_are_attachments_in_either_format_and_bad_asks_say_why() {
    let state = stored_trace();
    let id = trace_hex(1);
    for (format, opens_as) in [
        ("otlp", tracelab_formats::Format::OtlpJson),
        ("jaeger", tracelab_formats::Format::JaegerJson),
    ] {
        let (status, headers, body) = get(
            &state,
            &format!("/api/tracelab/traces/{id}/export?format={format}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{format}");
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(
            headers[CONTENT_DISPOSITION],
            format!("attachment; filename=\"trace-{id}.{format}.json\"").as_str()
        );
        let imported = tracelab_formats::import(&body);
        assert_eq!(imported.format, opens_as);
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        assert_eq!(imported.traces.len(), 1);
        assert_eq!(imported.traces[0].spans.len(), 3);
    }
    // No format: OTLP.
    let (status, headers, _) = get(&state, &format!("/api/tracelab/traces/{id}/export")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[CONTENT_DISPOSITION]
        .to_str()
        .is_ok_and(|value| value.ends_with(".otlp.json\"")));

    for (path, expected, says) in [
        (
            format!("/api/tracelab/traces/{id}/export?format=zipkin"),
            StatusCode::BAD_REQUEST,
            "format=\"zipkin\" is not one tracelab writes: use otlp or jaeger",
        ),
        (
            "/api/tracelab/traces/not-hex/export?format=otlp".to_owned(),
            StatusCode::BAD_REQUEST,
            "hex",
        ),
        (
            "/api/tracelab/traces/ffffffffffffffffffffffffffffffff/export".to_owned(),
            StatusCode::NOT_FOUND,
            "trace ffffffffffffffffffffffffffffffff not found",
        ),
    ] {
        let (status, body) = get_json(&state, &path).await;
        assert_eq!(status, expected, "{path}");
        let message = body["errors"][0]["msg"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{path}: {message}");
    }
}

/// A generated trace (every shape the generator makes: fan-out, errors
/// with events, links, orphans, follows-from parents) imported from a file
/// in each format, stored, and exported again through the query API.
#[tokio::test]
async fn import_then_export_through_the_store_keeps_everything() {
    // 2,000 spans: enough for the generator's consumers (follows-from
    // parents with links), which smaller traces may lack.
    let trace = tracelab_trace::generate(2_000, 18);
    assert!(trace
        .spans
        .iter()
        .any(|span| span.parent_relation == tracelab_trace::model::ParentRelation::FollowsFrom));
    for (format, file) in [
        ("otlp", tracelab_formats::to_otlp_json(&trace)),
        ("jaeger", tracelab_formats::to_jaeger_json(&trace)),
    ] {
        let original = tracelab_formats::import(file.as_bytes());
        assert!(original.skipped.is_empty(), "{:?}", original.skipped);
        let store = Store::open_in_memory().expect("a store");
        let request: ExportTraceServiceRequest =
            tracelab_server::import::to_request(&original.traces).expect("OTLP");
        store.ingest_traces(&request).expect("stored");
        let state = state(store);
        for trace in &original.traces {
            let id = trace.spans[0].trace_id;
            let (status, _, body) = get(
                &state,
                &format!("/api/tracelab/traces/{id}/export?format={format}"),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            let exported = tracelab_formats::import(&body);
            assert!(exported.skipped.is_empty(), "{:?}", exported.skipped);
            assert_eq!(exported.traces.len(), 1);
            assert_eq!(
                comparable(&exported.traces[0]),
                comparable(trace),
                "{format}: trace {id} changed on its way through the store"
            );
            // The waterfall's model is the importer's reading too (a
            // re-import could hide a difference: the exporter writes a
            // follows-from parent as the link the importer reads it from).
            let (status, model) = get_json(&state, &format!("/api/tracelab/traces/{id}")).await;
            assert_eq!(status, StatusCode::OK);
            let model: Trace = serde_json::from_value(model).expect("the model");
            assert_eq!(
                comparable(&model),
                comparable(trace),
                "{format}: the model of trace {id} is not what the importer read"
            );
        }
    }
}

/// An all-zero parent id (as some SDKs send for a root) is no parent: the
/// span is a root in every answer.
#[tokio::test]
async fn an_all_zero_parent_is_a_root() {
    let store = Store::open_in_memory().expect("a store");
    let mut root = span(1, 1, None, "root", 0, 1);
    root.parent_span_id = vec![0; 8];
    store
        .ingest_traces(&request("svc", vec![root]))
        .expect("stored");
    let state = state(store);
    let (status, jaeger) = get_json(&state, &format!("/api/traces/{}", trace_hex(1))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jaeger["data"][0]["spans"][0]["references"], json!([]));
    let (_, model) = get_json(&state, &format!("/api/tracelab/traces/{}", trace_hex(1))).await;
    let trace: Trace = serde_json::from_value(model).expect("the model");
    assert_eq!(trace.spans[0].parent_span_id, None);
}
