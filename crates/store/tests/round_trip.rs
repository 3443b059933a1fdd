//! What goes in comes out: spans, logs and metrics decoded back to the very
//! structs that were ingested.

mod common;

use common::*;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{
    ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use tracelab_store::{MetricSummary, Store, MAX_VALUE_NESTING};

/// An attribute of every kind, nested ones included (31 levels deep, just
/// under the limit).
fn every_kind_of_attribute() -> Vec<KeyValue> {
    let mut deep = value(Value::StringValue("bottom".into()));
    for _ in 0..MAX_VALUE_NESTING - 1 {
        deep = value(Value::ArrayValue(ArrayValue { values: vec![deep] }));
    }
    vec![
        attr_str("http.request.method", "GET"),
        attr("http.response.status_code", Value::IntValue(200)),
        attr("big", Value::IntValue(i64::MAX)),
        attr("ratio", Value::DoubleValue(0.25)),
        attr("cached", Value::BoolValue(false)),
        attr("blob", Value::BytesValue(vec![0, 1, 2, 255])),
        attr(
            "list",
            Value::ArrayValue(ArrayValue {
                values: vec![
                    value(Value::StringValue("a".into())),
                    value(Value::IntValue(2)),
                ],
            }),
        ),
        attr(
            "map",
            Value::KvlistValue(KeyValueList {
                values: vec![
                    attr_str("inner", "x"),
                    attr(
                        "nested",
                        Value::ArrayValue(ArrayValue {
                            values: vec![value(Value::BoolValue(true))],
                        }),
                    ),
                ],
            }),
        ),
        attr("deep", deep.value.clone().expect("built above")),
        KeyValue {
            key: "empty".into(),
            value: None,
            key_strindex: 0,
        },
    ]
}

fn full_span() -> Span {
    Span {
        trace_id: trace_id(1),
        span_id: span_id(2),
        trace_state: "vendor=abc,other=1".into(),
        parent_span_id: span_id(1),
        flags: 0x301,
        name: "GET /bands/{id}".into(),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: T0 + 5 * MS,
        end_time_unix_nano: T0 + 17 * MS + 3,
        attributes: every_kind_of_attribute(),
        dropped_attributes_count: 2,
        events: vec![
            span::Event {
                time_unix_nano: T0 + 6 * MS,
                name: "exception".into(),
                attributes: vec![
                    attr_str("exception.message", "boom"),
                    attr("n", Value::IntValue(3)),
                ],
                dropped_attributes_count: 1,
            },
            span::Event {
                time_unix_nano: T0 + 7 * MS,
                name: "retry".into(),
                ..span::Event::default()
            },
        ],
        dropped_events_count: 4,
        links: vec![span::Link {
            trace_id: trace_id(9),
            span_id: span_id(9),
            trace_state: "k=v".into(),
            attributes: vec![attr_str("link.reason", "batch")],
            dropped_attributes_count: 0,
            flags: 0x101,
        }],
        dropped_links_count: 1,
        status: Some(Status {
            message: "bad gateway".into(),
            code: 2,
        }),
    }
}

fn full_resource() -> Resource {
    Resource {
        attributes: vec![
            attr_str("service.name", "bands-api"),
            attr_str("service.version", "1.2.3"),
            attr("host.cpus", Value::IntValue(8)),
        ],
        dropped_attributes_count: 1,
        entity_refs: Vec::new(),
    }
}

fn full_scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "tracelab-demo".into(),
        version: "0.1.0".into(),
        attributes: vec![attr_str("scope.kind", "manual")],
        dropped_attributes_count: 0,
    }
}

#[test]
fn a_span_with_every_field_comes_back_equal() {
    let store = Store::open_in_memory().unwrap();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(full_resource()),
            scope_spans: vec![ScopeSpans {
                scope: Some(full_scope()),
                spans: vec![full_span()],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.27.0".into(),
        }],
    };
    let outcome = store.ingest_traces(&request).unwrap();
    assert_eq!(
        (
            outcome.accepted_spans,
            outcome.rejected_spans,
            outcome.message
        ),
        (1, 0, None)
    );

    let trace = store.trace(&trace_hex(1)).unwrap().expect("stored");
    assert_eq!(trace.trace_id, trace_hex(1));
    assert_eq!(trace.spans.len(), 1);
    let stored = &trace.spans[0];
    assert_eq!(stored.span, full_span());
    let resource = trace.resource_of(stored);
    assert_eq!(resource.resource, full_resource());
    assert_eq!(
        resource.schema_url,
        "https://opentelemetry.io/schemas/1.27.0"
    );
    assert_eq!(resource.service_name, "bands-api");
    let scope = trace.scope_of(stored);
    assert_eq!(scope.scope, full_scope());
    assert_eq!(scope.schema_url, "https://opentelemetry.io/schemas/1.26.0");
    // Regrouped, it is the request that was sent.
    assert_eq!(trace.to_resource_spans(), request.resource_spans);
    // Any case finds it.
    assert!(store.trace(&trace_hex(1).to_uppercase()).unwrap().is_some());
    assert!(store.trace(&trace_hex(2)).unwrap().is_none());
}

#[test]
fn spans_of_several_resources_and_scopes_are_interned_and_regrouped() {
    let store = Store::open_in_memory().unwrap();
    let mut request = merge(vec![
        request(
            "bands-api",
            vec![
                span(1, 1, None, "GET /bands", 0, 100),
                span(1, 3, Some(1), "db", 10, 5),
            ],
        ),
        request(
            "reviews-api",
            vec![span(1, 2, Some(1), "GET /reviews", 20, 50)],
        ),
    ]);
    // A second scope under bands-api.
    request.resource_spans[0].scope_spans.push(ScopeSpans {
        scope: Some(scope("other", "")),
        spans: vec![span(1, 4, Some(1), "cache", 30, 1)],
        schema_url: String::new(),
    });
    store.ingest_traces(&request).unwrap();
    // The same resource again, in a later export: still one resource row.
    store
        .ingest_traces(&common::request(
            "bands-api",
            vec![span(1, 5, Some(1), "late", 90, 1)],
        ))
        .unwrap();

    let trace = store.trace(&trace_hex(1)).unwrap().unwrap();
    let names: Vec<&str> = trace
        .spans
        .iter()
        .map(|stored| stored.span.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["GET /bands", "db", "GET /reviews", "cache", "late"],
        "in start order"
    );
    assert_eq!(trace.resources.len(), 2);
    assert_eq!(trace.scopes.len(), 2);
    let services: Vec<&str> = trace
        .spans
        .iter()
        .map(|stored| trace.resource_of(stored).service_name.as_str())
        .collect();
    assert_eq!(
        services,
        [
            "bands-api",
            "bands-api",
            "reviews-api",
            "bands-api",
            "bands-api"
        ]
    );
    let groups = trace.to_resource_spans();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].scope_spans.len(), 2);
    assert_eq!(groups[0].scope_spans[0].spans.len(), 3);
}

#[test]
fn a_resource_without_a_service_name_is_unknown_service() {
    let store = Store::open_in_memory().unwrap();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: None,
            scope_spans: vec![ScopeSpans {
                spans: vec![span(1, 1, None, "orphan", 0, 1)],
                ..ScopeSpans::default()
            }],
            schema_url: String::new(),
        }],
    };
    store.ingest_traces(&request).unwrap();
    assert_eq!(store.services().unwrap(), ["unknown_service"]);
    let trace = store.trace(&trace_hex(1)).unwrap().unwrap();
    assert_eq!(trace.resources[0].resource, Resource::default());
}

#[test]
fn logs_are_kept_whole_and_found_by_their_trace() {
    let store = Store::open_in_memory().unwrap();
    let record = |n: u64, trace: Option<u8>, span: Option<u8>| LogRecord {
        time_unix_nano: T0 + n * MS,
        observed_time_unix_nano: T0 + n * MS + 1,
        severity_number: 9,
        severity_text: "INFO".into(),
        body: Some(value(Value::StringValue(format!("log {n}")))),
        attributes: vec![attr("n", Value::IntValue(n as i64))],
        trace_id: trace.map(trace_id).unwrap_or_default(),
        span_id: span.map(span_id).unwrap_or_default(),
        event_name: String::new(),
        ..LogRecord::default()
    };
    let records = vec![
        record(3, Some(1), Some(2)),
        record(1, Some(1), None),
        record(2, None, None),
        record(4, Some(7), Some(1)),
    ];
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource("bands-api")),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope("logger", "")),
                log_records: records.clone(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let outcome = store.ingest_logs(&request).unwrap();
    assert_eq!(
        (
            outcome.accepted_log_records,
            outcome.rejected_log_records,
            outcome.duplicate_log_records
        ),
        (4, 0, 0)
    );
    // A retried export stores nothing twice.
    let again = store.ingest_logs(&request).unwrap();
    assert_eq!(
        (again.accepted_log_records, again.duplicate_log_records),
        (4, 4)
    );
    assert_eq!(store.stats().unwrap().logs, 4);

    let logs = store.logs_for_trace(&trace_hex(1)).unwrap();
    assert_eq!(
        logs.iter()
            .map(|log| log.record.clone())
            .collect::<Vec<_>>(),
        [records[1].clone(), records[0].clone()],
        "in time order"
    );
    assert_eq!(logs[1].span_id.as_deref(), Some(span_hex(2).as_str()));
    assert_eq!(logs[0].span_id, None);
    assert_eq!(logs[0].service_name, "bands-api");
    assert_eq!(logs[0].resource, resource("bands-api"));
    assert_eq!(logs[0].scope, scope("logger", ""));
    // Shown on its span as a Jaeger span log: in the server's
    // tests/query_api.rs.

    // A bad id is turned down, with where it is.
    let mut bad = request.clone();
    bad.resource_logs[0].scope_logs[0].log_records[2].trace_id = vec![1; 5];
    let outcome = store.ingest_logs(&bad).unwrap();
    assert_eq!(outcome.rejected_log_records, 1);
    assert_eq!(
        outcome.message.as_deref(),
        Some("1 log record rejected: resourceLogs[0].scopeLogs[0].logRecords[2].traceId: 5 bytes, expected 16 (or none)")
    );
}

#[test]
fn metrics_are_listed_and_kept_whole() {
    let store = Store::open_in_memory().unwrap();
    let gauge = |name: &str, times: &[u64]| Metric {
        name: name.into(),
        unit: "1".into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: times
                .iter()
                .map(|time| NumberDataPoint {
                    time_unix_nano: *time,
                    value: Some(number_data_point::Value::AsInt(7)),
                    attributes: vec![attr_str("route", "/bands")],
                    ..NumberDataPoint::default()
                })
                .collect(),
        })),
        ..Metric::default()
    };
    let histogram = Metric {
        name: "http.server.request.duration".into(),
        unit: "s".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                time_unix_nano: T0 + 9,
                count: 3,
                bucket_counts: vec![1, 2],
                explicit_bounds: vec![0.5],
                ..HistogramDataPoint::default()
            }],
            aggregation_temporality: 2,
        })),
        ..Metric::default()
    };
    let request = |metrics: Vec<Metric>| ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource("reviews-api")),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope("meter", "")),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let first = request(vec![
        gauge("reviews.count", &[T0, T0 + 5]),
        histogram.clone(),
    ]);
    let outcome = store.ingest_metrics(&first).unwrap();
    assert_eq!(
        (outcome.accepted_data_points, outcome.rejected_data_points),
        (3, 0)
    );
    assert_eq!(
        store.ingest_metrics(&first).unwrap().duplicate_data_points,
        3,
        "a retry stores nothing twice"
    );
    store
        .ingest_metrics(&request(vec![gauge("reviews.count", &[T0 + 10])]))
        .unwrap();
    // A metric without a name is turned down with its points.
    let outcome = store
        .ingest_metrics(&request(vec![gauge("", &[T0, T0])]))
        .unwrap();
    assert_eq!(outcome.rejected_data_points, 2);
    assert_eq!(
        outcome.message.as_deref(),
        Some("2 data points rejected: resourceMetrics[0].scopeMetrics[0].metrics[0].name: empty, but every metric needs a name")
    );

    assert_eq!(
        store.list_metrics().unwrap(),
        [
            MetricSummary {
                name: "http.server.request.duration".into(),
                metric_type: "histogram".into(),
                service: "reviews-api".into(),
                points: 1,
                last_time_unix_nano: T0 + 9,
            },
            MetricSummary {
                name: "reviews.count".into(),
                metric_type: "gauge".into(),
                service: "reviews-api".into(),
                points: 3,
                last_time_unix_nano: T0 + 10,
            },
        ]
    );
    let json = serde_json::to_value(&store.list_metrics().unwrap()[1]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"name": "reviews.count", "type": "gauge", "service": "reviews-api", "points": 3, "lastTimeUnixNano": T0 + 10})
    );
    assert_eq!(
        store
            .metric_batches("reviews-api", "reviews.count")
            .unwrap(),
        [
            gauge("reviews.count", &[T0, T0 + 5]),
            gauge("reviews.count", &[T0 + 10])
        ]
    );
}
