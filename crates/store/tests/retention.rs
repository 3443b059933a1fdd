//! Retention evicts whole traces, oldest received first, by age and by size.

mod common;

use std::time::Duration;

use common::*;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use tracelab_store::{Retention, RetentionReport, Store, TraceQuery};

const MINUTE: u64 = 60 * 1_000_000_000;

fn log_of(trace: Option<u8>, body: &str) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource("svc")),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: T0,
                    body: Some(value(Value::StringValue(body.into()))),
                    trace_id: trace.map(trace_id).unwrap_or_default(),
                    ..LogRecord::default()
                }],
                ..ScopeLogs::default()
            }],
            schema_url: String::new(),
        }],
    }
}

fn a_metric(name: &str) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource("svc")),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: name.into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            time_unix_nano: T0,
                            ..Default::default()
                        }],
                    })),
                    ..Metric::default()
                }],
                ..ScopeMetrics::default()
            }],
            schema_url: String::new(),
        }],
    }
}

fn all_trace_ids(store: &Store) -> Vec<String> {
    store
        .find_traces(&TraceQuery {
            limit: Some(1500),
            ..TraceQuery::default()
        })
        .unwrap()
}

#[test]
fn by_age_whole_traces_last_received_before_the_limit_go_with_their_logs() {
    let store = Store::open_in_memory().unwrap().with_retention(Retention {
        max_age: Some(Duration::from_secs(15 * 60)),
        max_bytes: None,
    });
    let received = |minutes: u64| T0 + minutes * MINUTE;
    // Trace 1, received at 0 min, by old-svc: two spans.
    store
        .ingest_traces_at(
            &request(
                "old-svc",
                vec![span(1, 1, None, "a", 0, 5), span(1, 2, Some(1), "b", 1, 1)],
            ),
            received(0),
        )
        .unwrap();
    // Trace 2 at 10 min; trace 3 at 20 min.
    store
        .ingest_traces_at(
            &request("old-svc", vec![span(2, 1, None, "a", 0, 5)]),
            received(10),
        )
        .unwrap();
    store
        .ingest_traces_at(
            &request("new-svc", vec![span(3, 1, None, "c", 0, 5)]),
            received(20),
        )
        .unwrap();
    // Trace 4: a span at 0 min and another at 20 min; last received at 20, so kept whole.
    store
        .ingest_traces_at(
            &request("new-svc", vec![span(4, 1, None, "d", 0, 5)]),
            received(0),
        )
        .unwrap();
    store
        .ingest_traces_at(
            &request("new-svc", vec![span(4, 2, Some(1), "e", 1, 1)]),
            received(20),
        )
        .unwrap();
    // A log of trace 1, received late: it goes with its trace anyway.
    store
        .ingest_logs_at(&log_of(Some(1), "late log of trace 1"), received(25))
        .unwrap();
    // A log of trace 3 (kept), an old uncorrelated log and metric (evicted), a new metric (kept).
    store
        .ingest_logs_at(&log_of(Some(3), "log of trace 3"), received(20))
        .unwrap();
    store
        .ingest_logs_at(&log_of(None, "old"), received(1))
        .unwrap();
    store
        .ingest_metrics_at(&a_metric("old.metric"), received(1))
        .unwrap();
    store
        .ingest_metrics_at(&a_metric("new.metric"), received(25))
        .unwrap();

    // At 26 min, 15 min of age: everything last received before 11 min goes.
    let report = store.enforce_retention(received(26)).unwrap();
    assert_eq!(
        RetentionReport {
            bytes_after: 0,
            ..report
        },
        RetentionReport {
            traces_evicted: 2,
            spans_evicted: 3,
            logs_evicted: 2,
            metrics_evicted: 1,
            bytes_after: 0
        }
    );
    assert_eq!(report.bytes_after, store.size_bytes().unwrap());
    assert_eq!(all_trace_ids(&store), [trace_hex(4), trace_hex(3)]);
    assert_eq!(store.trace(&trace_hex(4)).unwrap().unwrap().spans.len(), 2);
    assert!(store.trace(&trace_hex(1)).unwrap().is_none());
    assert!(store.logs_for_trace(&trace_hex(1)).unwrap().is_empty());
    assert_eq!(store.logs_for_trace(&trace_hex(3)).unwrap().len(), 1);
    // The search form forgets a service whose last span went.
    assert_eq!(store.services().unwrap(), ["new-svc"]);
    assert_eq!(
        store
            .list_metrics()
            .unwrap()
            .iter()
            .map(|metric| metric.name.as_str())
            .collect::<Vec<_>>(),
        ["new.metric"]
    );
    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.traces, stats.spans, stats.logs, stats.metrics),
        (2, 3, 1, 1)
    );

    // Nothing more to do at the same time; the age limit is not a size limit.
    let again = store.enforce_retention(received(26)).unwrap();
    assert_eq!(
        (
            again.traces_evicted,
            again.spans_evicted,
            again.logs_evicted
        ),
        (0, 0, 0)
    );
}

#[test]
fn by_size_the_oldest_whole_traces_go_until_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Store::open(&path).unwrap();
    const TRACES: u8 = 60;
    const SPANS: u8 = 4;
    for n in 1..=TRACES {
        let spans = (1..=SPANS)
            .map(|idx| {
                let mut span = span(n, idx, (idx > 1).then_some(1), "work", 0, 10);
                span.attributes.push(attr_str(
                    "payload",
                    &format!("{n}-{idx}-{}", "x".repeat(3_000)),
                ));
                span
            })
            .collect();
        // Received in trace order, one minute apart; trace 1 is the oldest.
        store
            .ingest_traces_at(&request("svc", spans), T0 + u64::from(n) * MINUTE)
            .unwrap();
    }
    let full = store.size_bytes().unwrap();
    let max_bytes = full / 2;
    let store = store.with_retention(Retention {
        max_age: None,
        max_bytes: Some(max_bytes),
    });
    let report = store.enforce_retention(T0 + 1000 * MINUTE).unwrap();

    assert!(
        report.bytes_after <= max_bytes,
        "{} bytes left, limit {max_bytes}",
        report.bytes_after
    );
    assert_eq!(report.bytes_after, store.size_bytes().unwrap());
    let mut kept = all_trace_ids(&store);
    kept.sort();
    let evicted = u64::from(TRACES) - kept.len() as u64;
    assert_eq!(report.traces_evicted, evicted);
    assert_eq!(
        report.spans_evicted,
        evicted * u64::from(SPANS),
        "whole traces"
    );
    // Exactly the oldest went: the newest `kept.len()` traces remain, each whole.
    let newest: Vec<String> = (1..=TRACES)
        .skip(usize::from(TRACES) - kept.len())
        .map(trace_hex)
        .collect();
    assert_eq!(kept, newest);
    for trace_id in &kept {
        assert_eq!(
            store.trace(trace_id).unwrap().unwrap().spans.len(),
            usize::from(SPANS)
        );
    }
    // Half the bytes should not cost much more than half the traces.
    assert!(
        kept.len() >= usize::from(TRACES) / 3,
        "only {} of {TRACES} traces kept",
        kept.len()
    );
    println!(
        "{full} bytes → {} bytes, {} of {TRACES} traces kept",
        report.bytes_after,
        kept.len()
    );
    // The file gave the freed pages back (nothing was reading, so the
    // checkpoint that shrinks it completed).
    let file_bytes = std::fs::metadata(&path).unwrap().len();
    assert!(
        file_bytes <= max_bytes,
        "the file still takes {file_bytes} bytes"
    );
    assert_eq!(store.integrity_check().unwrap(), Ok(()));
    // The tag index went with the spans: one row per kept span's attribute.
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tag_rows: usize = conn
        .query_row("SELECT count(*) FROM span_tags", [], |row| row.get(0))
        .unwrap();
    assert_eq!(tag_rows, kept.len() * usize::from(SPANS));
}

/// The tag index is keyed by tag, not by span, so retention finds an
/// evicted span's rows again from its attributes. Were one left behind, a
/// span stored later under the same row id (SQLite reuses the largest
/// rowid once it is deleted) would be found by the evicted span's tags.
#[test]
fn an_evicted_spans_tags_do_not_find_the_span_stored_after_it() {
    let store = Store::open_in_memory().unwrap().with_retention(Retention {
        max_age: Some(Duration::from_secs(60)),
        max_bytes: None,
    });
    let mut old = span(1, 1, None, "old", 0, 1);
    old.attributes = vec![
        attr_str("customer", "alice"),
        attr("http.response.status_code", Value::IntValue(500)),
        attr_str("payload", &"p".repeat(200)),
    ];
    store
        .ingest_traces_at(&request("svc", vec![old]), T0)
        .unwrap();
    let report = store.enforce_retention(T0 + 10 * MINUTE).unwrap();
    assert_eq!(report.spans_evicted, 1);

    store
        .ingest_traces_at(
            &request("svc", vec![span(2, 1, None, "new", 0, 1)]),
            T0 + 11 * MINUTE,
        )
        .unwrap();
    for (key, value) in [
        ("customer", "alice".to_owned()),
        ("http.response.status_code", "500".to_owned()),
        ("payload", "p".repeat(200)),
    ] {
        let query = TraceQuery {
            tags: vec![(key.to_owned(), value)],
            ..TraceQuery::default()
        };
        assert_eq!(
            store.find_traces(&query).unwrap(),
            Vec::<String>::new(),
            "{key}"
        );
    }
    assert_eq!(all_trace_ids(&store), [trace_hex(2)]);
}

#[test]
fn without_limits_nothing_goes() {
    let store = Store::open_in_memory().unwrap();
    store
        .ingest_traces_at(&request("svc", vec![span(1, 1, None, "a", 0, 1)]), T0)
        .unwrap();
    let report = store.enforce_retention(u64::MAX).unwrap();
    assert_eq!((report.traces_evicted, report.spans_evicted), (0, 0));
    assert_eq!(all_trace_ids(&store), [trace_hex(1)]);
}
