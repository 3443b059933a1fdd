//! Jaeger's v1 JSON, checked field by field on the serialized value.

mod common;

use common::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link, SpanKind};
use serde_json::{json, Value as Json};
use tracelab_store::{jaeger_trace, JaegerResponse, JaegerTrace, Store};

fn stored_trace_json() -> Json {
    let store = Store::open_in_memory().unwrap();
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
        // An `event` attribute wins over the name, as in Jaeger's translator.
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
    other.resource_spans[0]
        .resource
        .as_mut()
        .unwrap()
        .attributes
        .push(attr_str("host.name", "box"));
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
        .unwrap();
    let trace = store.trace(&trace_hex(1)).unwrap().unwrap();
    serde_json::to_value(jaeger_trace(&trace)).unwrap()
}

#[test]
fn the_trace_has_jaegers_shape() {
    let json = stored_trace_json();
    let keys = |value: &Json| {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&json), ["processes", "spans", "traceID", "warnings"]);
    assert_eq!(json["traceID"], trace_hex(1));
    assert_eq!(json["warnings"], Json::Null);
    assert_eq!(
        json["processes"],
        json!({
            "p1": {"serviceName": "frontend", "tags": []},
            "p2": {"serviceName": "bands-api", "tags": [{"key": "host.name", "type": "string", "value": "box"}]},
        })
    );

    let spans = json["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 3);
    let client = &spans[0];
    assert_eq!(
        keys(client),
        [
            "duration",
            "logs",
            "operationName",
            "processID",
            "references",
            "spanID",
            "startTime",
            "tags",
            "traceID",
            "warnings"
        ],
        "flags are left out when zero, as Jaeger does"
    );
    assert_eq!(client["spanID"], span_hex(1));
    assert_eq!(client["startTime"], T0 / 1000);
    assert_eq!(client["duration"], 200_000);
    assert_eq!(client["references"], json!([]));
    assert_eq!(client["logs"], json!([]));
    assert_eq!(client["processID"], "p1");
    assert_eq!(client["warnings"], Json::Null);
    assert_eq!(
        client["tags"],
        json!([
            {"key": "otel.scope.name", "type": "string", "value": "tests"},
            {"key": "otel.scope.version", "type": "string", "value": "1.0"},
            {"key": "span.kind", "type": "string", "value": "client"},
            {"key": "otel.status_code", "type": "string", "value": "OK"},
        ])
    );

    let server = &spans[1];
    assert_eq!(server["operationName"], "GET /bands/{id}");
    assert_eq!(server["flags"], 1);
    assert_eq!(server["processID"], "p2");
    assert_eq!(server["startTime"], (T0 + 10 * MS) / 1000);
    assert_eq!(server["duration"], 150_000);
    assert_eq!(
        server["references"],
        json!([
            {"refType": "CHILD_OF", "traceID": trace_hex(1), "spanID": span_hex(1)},
            {"refType": "FOLLOWS_FROM", "traceID": trace_hex(7), "spanID": span_hex(7)},
            {"refType": "CHILD_OF", "traceID": trace_hex(8), "spanID": span_hex(8)},
        ])
    );
    assert_eq!(
        server["tags"],
        json!([
            {"key": "otel.scope.name", "type": "string", "value": "tests"},
            {"key": "otel.scope.version", "type": "string", "value": "1.0"},
            {"key": "http.route", "type": "string", "value": "/bands/{id}"},
            {"key": "http.response.status_code", "type": "int64", "value": 500},
            {"key": "huge", "type": "int64", "value": "9223372036854775222"},
            {"key": "ratio", "type": "float64", "value": 0.5},
            {"key": "ok", "type": "bool", "value": false},
            {"key": "blob", "type": "binary", "value": "AAAwOQ=="},
            {"key": "list", "type": "string", "value": "[1,{\"k\":\"v\"}]"},
            {"key": "span.kind", "type": "string", "value": "server"},
            {"key": "otel.status_code", "type": "string", "value": "ERROR"},
            {"key": "error", "type": "bool", "value": true},
            {"key": "otel.status_description", "type": "string", "value": "boom"},
            {"key": "w3c.tracestate", "type": "string", "value": "vendor=1"},
            {"key": "otel.dropped_attributes_count", "type": "int64", "value": 3},
        ])
    );
    assert_eq!(
        server["logs"],
        json!([
            {"timestamp": (T0 + 20 * MS) / 1000, "fields": [
                {"key": "event", "type": "string", "value": "exception"},
                {"key": "exception.type", "type": "string", "value": "Timeout"},
            ]},
            {"timestamp": (T0 + 21 * MS) / 1000, "fields": [
                {"key": "event", "type": "string", "value": "custom"},
            ]},
        ])
    );

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

#[test]
fn it_reads_back_as_the_same_struct() {
    let json = stored_trace_json();
    let trace: JaegerTrace = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&trace).unwrap(), json);
}

#[test]
fn the_envelope_is_jaegers() {
    let ok = serde_json::to_value(JaegerResponse::ok(vec!["bands-api", "frontend"], 2)).unwrap();
    assert_eq!(
        ok,
        json!({"data": ["bands-api", "frontend"], "total": 2, "limit": 0, "offset": 0, "errors": null})
    );
    let error = serde_json::to_value(JaegerResponse::error(404, "trace not found")).unwrap();
    assert_eq!(
        error,
        json!({"data": null, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": 404, "msg": "trace not found"}]})
    );
}
