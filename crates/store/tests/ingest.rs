//! Ingest: idempotent on (trace id, span id); invalid spans turned down one
//! by one, each named by its place in the request.

mod common;

use common::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::ArrayValue;
use opentelemetry_proto::tonic::trace::v1::span;
use tracelab_store::{IngestOutcome, Store, MAX_VALUE_NESTING};

#[test]
fn the_same_batch_twice_is_stored_once() {
    let store = Store::open_in_memory().unwrap();
    let batch = merge(vec![
        request(
            "bands-api",
            vec![
                span(1, 1, None, "GET /bands", 0, 100),
                span(1, 2, Some(1), "fetch", 10, 50),
            ],
        ),
        request(
            "reviews-api",
            vec![span(1, 3, Some(2), "GET /reviews", 20, 30)],
        ),
    ]);
    let first = store.ingest_traces(&batch).unwrap();
    assert_eq!(
        first,
        IngestOutcome {
            accepted_spans: 3,
            rejected_spans: 0,
            duplicate_spans: 0,
            message: None
        }
    );
    let before = store.stats().unwrap();

    let second = store.ingest_traces(&batch).unwrap();
    assert_eq!(
        second,
        IngestOutcome {
            accepted_spans: 3,
            rejected_spans: 0,
            duplicate_spans: 3,
            message: None
        }
    );
    let after = store.stats().unwrap();
    assert_eq!((after.traces, after.spans), (1, 3));
    assert_eq!(before, after, "nothing written the second time");
    assert_eq!(store.trace(&trace_hex(1)).unwrap().unwrap().spans.len(), 3);
    // Duplicate attribute rows would make a tag search count a span twice;
    // there is one trace either way, but check the index stayed single.
    let ids = store
        .find_traces(&tracelab_store::TraceQuery {
            tags: vec![("service.name".into(), "reviews-api".into())],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids, [trace_hex(1)]);
}

#[test]
fn a_span_repeated_within_one_request_is_stored_once() {
    let store = Store::open_in_memory().unwrap();
    let mut changed = span(1, 1, None, "second copy", 0, 100);
    changed.attributes.push(attr_str("copy", "2"));
    let outcome = store
        .ingest_traces(&request(
            "a",
            vec![span(1, 1, None, "first copy", 0, 100), changed],
        ))
        .unwrap();
    assert_eq!((outcome.accepted_spans, outcome.duplicate_spans), (2, 1));
    let trace = store.trace(&trace_hex(1)).unwrap().unwrap();
    assert_eq!(trace.spans.len(), 1);
    assert_eq!(
        trace.spans[0].span.name, "first copy",
        "the first one stored wins"
    );
}

#[test]
fn invalid_spans_are_rejected_one_by_one_with_where_and_why() {
    let store = Store::open_in_memory().unwrap();
    let good = |n| span(1, n, None, "good", 0, 10);
    let with = |edit: &dyn Fn(&mut opentelemetry_proto::tonic::trace::v1::Span)| {
        let mut bad = span(2, 9, None, "bad", 0, 10);
        edit(&mut bad);
        bad
    };
    let mut deep = value(Value::StringValue("x".into()));
    for _ in 0..=MAX_VALUE_NESTING {
        deep = value(Value::ArrayValue(ArrayValue { values: vec![deep] }));
    }
    let deep_attribute = attr("deep", deep.value.clone().unwrap());
    // (span, why it is rejected: the message expected)
    let cases: Vec<(opentelemetry_proto::tonic::trace::v1::Span, &str)> = vec![
        (with(&|s| s.trace_id.truncate(15)), "traceId: 15 bytes, expected 16"),
        (with(&|s| s.trace_id = vec![0; 16]), "traceId: all zeros, which is not a valid id"),
        (with(&|s| s.trace_id.clear()), "traceId: 0 bytes, expected 16"),
        (with(&|s| s.span_id.push(1)), "spanId: 9 bytes, expected 8"),
        (with(&|s| s.span_id = vec![0; 8]), "spanId: all zeros, which is not a valid id"),
        (with(&|s| s.parent_span_id = vec![1; 3]), "parentSpanId: 3 bytes, expected 8 (or none for a root span)"),
        (
            with(&|s| s.end_time_unix_nano = s.start_time_unix_nano - 1),
            "endTimeUnixNano: 1699999999999999999 is before startTimeUnixNano 1700000000000000000",
        ),
        (
            with(&|s| s.end_time_unix_nano = u64::MAX),
            "endTimeUnixNano: 18446744073709551615 is after the year 2262, the latest time the store can keep",
        ),
        (
            with(&|s| s.attributes = vec![attr_str("ok", "1"), deep_attribute.clone()]),
            "attributes[1].value: arrays and key-value lists nested more than 32 deep, more than the store can read back",
        ),
        (
            with(&|s| {
                s.events = vec![span::Event::default(), span::Event { attributes: vec![deep_attribute.clone()], ..Default::default() }]
            }),
            "events[1].attributes[0].value: arrays and key-value lists nested more than 32 deep, more than the store can read back",
        ),
    ];
    for (bad, expected) in cases {
        let mut batch = request("svc", vec![good(1), good(2)]);
        let scope_spans = batch.resource_spans[0].scope_spans[0].clone();
        batch.resource_spans[0].scope_spans.push(scope_spans);
        batch.resource_spans[0].scope_spans[1].spans.insert(1, bad);
        // [0] good(1), good(2); [1] good(1), bad, good(2)
        let outcome = store.ingest_traces(&batch).unwrap();
        assert_eq!(
            (outcome.accepted_spans, outcome.rejected_spans),
            (4, 1),
            "{expected}"
        );
        assert_eq!(
            outcome.message.as_deref(),
            Some(
                format!("1 span rejected: resourceSpans[0].scopeSpans[1].spans[1].{expected}")
                    .as_str()
            )
        );
    }
    // The valid spans were stored; nothing of the invalid ones.
    assert_eq!(store.stats().unwrap().spans, 2);
    assert!(store.trace(&trace_hex(2)).unwrap().is_none());
}

#[test]
fn many_rejections_are_counted_and_the_first_ten_listed() {
    let store = Store::open_in_memory().unwrap();
    let spans = (0..15u8)
        .map(|n| {
            let mut bad = span(1, n + 1, None, "bad", 0, 1);
            bad.span_id.pop();
            bad
        })
        .collect();
    let outcome = store.ingest_traces(&request("svc", spans)).unwrap();
    assert_eq!((outcome.accepted_spans, outcome.rejected_spans), (0, 15));
    let message = outcome.message.unwrap();
    assert!(message.starts_with(
        "15 spans rejected: resourceSpans[0].scopeSpans[0].spans[0].spanId: 7 bytes, expected 8; "
    ));
    assert!(message.contains("spans[9].spanId"));
    assert!(!message.contains("spans[10]"));
    assert!(message.ends_with("; and 5 more problems"), "{message}");
    // A request with nothing valid leaves nothing behind, not even its resource.
    assert_eq!(store.services().unwrap(), Vec::<String>::new());
}

#[test]
fn a_resource_too_deep_to_store_rejects_its_spans() {
    let store = Store::open_in_memory().unwrap();
    let mut deep = value(Value::StringValue("x".into()));
    for _ in 0..=MAX_VALUE_NESTING {
        deep = value(Value::ArrayValue(ArrayValue { values: vec![deep] }));
    }
    let mut batch = merge(vec![
        request(
            "deep",
            vec![span(1, 1, None, "a", 0, 1), span(1, 2, None, "b", 0, 1)],
        ),
        request("fine", vec![span(2, 1, None, "c", 0, 1)]),
    ]);
    batch.resource_spans[0]
        .resource
        .as_mut()
        .unwrap()
        .attributes
        .push(attr("deep", deep.value.clone().unwrap()));
    let outcome = store.ingest_traces(&batch).unwrap();
    assert_eq!((outcome.accepted_spans, outcome.rejected_spans), (1, 2));
    assert_eq!(
        outcome.message.as_deref(),
        Some(
            "2 spans rejected: resourceSpans[0].resource.attributes[1].value: arrays and key-value lists nested more \
             than 32 deep, more than the store can read back (so its 2 spans)"
        )
    );
    assert_eq!(store.services().unwrap(), ["fine"]);
}

#[test]
fn an_all_zero_parent_is_a_root() {
    let store = Store::open_in_memory().unwrap();
    let mut root = span(1, 1, None, "root", 0, 1);
    root.parent_span_id = vec![0; 8];
    store
        .ingest_traces(&request("svc", vec![root.clone()]))
        .unwrap();
    let trace = store.trace(&trace_hex(1)).unwrap().unwrap();
    assert_eq!(trace.spans[0].span, root, "kept as received");
}

/// Group commit: several requests in one transaction, each answered as if
/// it had been stored alone, in order (a span in two of them is stored by
/// the first and a duplicate in the second).
#[test]
fn requests_stored_together_are_answered_one_by_one() {
    let together = Store::open_in_memory().unwrap();
    let alone = Store::open_in_memory().unwrap();
    let mut bad = span(3, 1, None, "bad", 0, 10);
    bad.span_id = vec![0; 8];
    let requests = [
        request(
            "a",
            vec![
                span(1, 1, None, "root", 0, 100),
                span(1, 2, Some(1), "child", 1, 10),
            ],
        ),
        // Trace 1 again: one span already in the first request, one new.
        request(
            "b",
            vec![
                span(1, 2, Some(1), "child", 1, 10),
                span(1, 3, Some(1), "other", 2, 10),
            ],
        ),
        request("c", vec![bad, span(3, 2, None, "good", 0, 10)]),
        request("d", vec![]),
    ];
    let refs: Vec<_> = requests.iter().collect();
    let outcomes: Vec<IngestOutcome> = together
        .ingest_traces_batch_at(&refs, T0)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let expected: Vec<IngestOutcome> = requests
        .iter()
        .map(|request| alone.ingest_traces_at(request, T0).unwrap())
        .collect();
    assert_eq!(outcomes, expected);
    assert_eq!(
        (outcomes[1].accepted_spans, outcomes[1].duplicate_spans),
        (2, 1)
    );
    assert_eq!(outcomes[2].rejected_spans, 1);
    assert!(
        outcomes[2].message.as_deref().is_some_and(
            |message| message.contains("resourceSpans[0].scopeSpans[0].spans[0].spanId")
        ),
        "{:?}",
        outcomes[2].message
    );
    assert_eq!(together.stats().unwrap(), alone.stats().unwrap());
    assert_eq!(together.stats().unwrap().spans, 4);
    for trace in [1, 3] {
        assert_eq!(
            together.trace(&trace_hex(trace)).unwrap(),
            alone.trace(&trace_hex(trace)).unwrap()
        );
    }
    assert_eq!(together.services().unwrap(), ["a", "b", "c"]);
    // And no request at all is no transaction at all.
    assert!(together.ingest_traces_batch(&[]).is_empty());
}
