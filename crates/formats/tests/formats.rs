//! Each format read from files shaped as its producers write them.

use tracelab_formats::{detect, import, to_zipkin_json, Format};
use tracelab_trace::model::{AttributeValue, ParentRelation, SpanId, SpanKind, Status};

fn span_id(hex: &str) -> SpanId {
    SpanId::from_u64(u64::from_str_radix(hex, 16).unwrap_or(0))
}

#[test]
fn detects_each_format_from_its_first_keys() {
    let cases: &[(&str, Format, &str)] = &[
        (
            r#"{"data":[],"total":0}"#,
            Format::JaegerJson,
            "the query API",
        ),
        (
            r#"{"total":0,"limit":0,"data":[]}"#,
            Format::JaegerJson,
            "keys in another order",
        ),
        (
            r#"{"traceID":"1","spans":[],"processes":{}}"#,
            Format::JaegerJson,
            "one Jaeger trace on its own",
        ),
        ("[]", Format::ZipkinJson, "an empty Zipkin list"),
        (
            r#"[{"name":"x","traceId":"1"}]"#,
            Format::ZipkinJson,
            "Zipkin spans, told by traceId",
        ),
        (
            r#"[{"traceID":"1","spans":[]}]"#,
            Format::JaegerJson,
            "Jaeger traces as a bare list",
        ),
        (
            r#"[{"x":{"traceID":"1"}},{"spans":[]}]"#,
            Format::ZipkinJson,
            "only the first element's own keys count",
        ),
        (
            "\u{feff}  \n[{\"traceId\":\"1\"}]",
            Format::ZipkinJson,
            "a byte order mark and blank lines first",
        ),
        (
            r#"{"resourceSpans":[]}"#,
            Format::OtlpJson,
            "one OTLP request",
        ),
        (
            "{\"resourceSpans\":[]}\n{\"resourceSpans\":[]}\n",
            Format::OtlpJsonLines,
            "the Collector's file exporter",
        ),
        (
            r#"{"result":{"resourceSpans":[]}}"#,
            Format::JaegerApiV3,
            "api_v3",
        ),
        (r#"{"batches":[]}"#, Format::TempoJson, "Tempo"),
        (
            r#"{"note":"a \"data\": b","resourceSpans":[]}"#,
            Format::OtlpJson,
            "a key's name inside a string value is not a key",
        ),
        (
            r#"{"other":{"data":[]}}"#,
            Format::Unknown,
            "data below the top is not Jaeger's",
        ),
        ("spans", Format::Unknown, "not JSON"),
    ];
    for &(file, format, why) in cases {
        assert_eq!(detect(file.as_bytes()), format, "{why}");
    }
}

/// As Jaeger's query API answers (HotROD's shape): 64-bit trace ids with
/// leading zeros dropped, processes by id, typed tags, logs, references.
#[test]
fn reads_jaeger_as_the_query_api_writes_it() {
    let file = br#"{"data":[{"traceID":"5b8aa5a2d2c872e8","spans":[
      {"traceID":"5b8aa5a2d2c872e8","spanID":"5b8aa5a2d2c872e8","flags":1,"operationName":"HTTP GET /dispatch",
       "references":[],"startTime":1700000000000000,"duration":700000,
       "tags":[{"key":"span.kind","type":"string","value":"server"},{"key":"http.status_code","type":"int64","value":200},
               {"key":"sampler.param","type":"bool","value":true},{"key":"ratio","type":"float64","value":0.25}],
       "logs":[{"timestamp":1700000000001000,"fields":[{"key":"event","type":"string","value":"HTTP request received"},
               {"key":"level","type":"string","value":"info"}]}],
       "processID":"p1","warnings":null},
      {"traceID":"5b8aa5a2d2c872e8","spanID":"a3b7c","flags":1,"operationName":"SQL SELECT",
       "references":[{"refType":"CHILD_OF","traceID":"5b8aa5a2d2c872e8","spanID":"5b8aa5a2d2c872e8"},
                     {"refType":"FOLLOWS_FROM","traceID":"00000000000000000000000000000abc","spanID":"1"}],
       "startTime":1700000000100000,"duration":300000,
       "tags":[{"key":"error","type":"bool","value":true},{"key":"otel.status_description","type":"string","value":"timeout"},
               {"key":"payload","type":"binary","value":"3q2+7w=="}],
       "logs":[],"processID":"p2","warnings":null},
      {"traceID":"5b8aa5a2d2c872e8","spanID":"b1","operationName":"publish","references":[{"refType":"FOLLOWS_FROM","traceID":"5b8aa5a2d2c872e8","spanID":"5b8aa5a2d2c872e8"}],
       "startTime":1700000000200000,"duration":10,"processID":"p1"}],
     "processes":{"p1":{"serviceName":"frontend","tags":[{"key":"hostname","type":"string","value":"web-1"}]},
                  "p2":{"serviceName":"mysql","tags":[]}},"warnings":null}],
     "total":0,"limit":0,"offset":0,"errors":null}"#;
    let imported = import(file);
    assert_eq!(imported.format, Format::JaegerJson);
    assert_eq!(imported.skipped, vec![]);
    let trace = &imported.traces[0];
    assert_eq!(
        trace.spans[0].trace_id.to_string(),
        "00000000000000005b8aa5a2d2c872e8"
    );
    let root = &trace.spans[0];
    assert_eq!(root.kind, SpanKind::Server);
    assert_eq!(root.end_unix_nanos - root.start_unix_nanos, 700_000_000);
    assert_eq!(
        root.attribute("http.status_code"),
        Some(&AttributeValue::Int(200))
    );
    assert_eq!(root.attribute("ratio"), Some(&AttributeValue::Double(0.25)));
    assert_eq!(
        root.attribute("span.kind"),
        None,
        "mapped tags become fields"
    );
    assert_eq!(&*root.events[0].name, "HTTP request received");
    assert_eq!(root.events[0].attributes.len(), 1);
    assert_eq!(trace.service_name(0), "frontend");
    let resource = trace
        .resource_of(0)
        .map(|resource| resource.attributes.clone())
        .unwrap_or_default();
    assert_eq!(resource.len(), 2, "service.name and hostname: {resource:?}");

    let query = &trace.spans[1];
    assert_eq!(
        query.span_id,
        span_id("a3b7c"),
        "a short span id is padded on the left"
    );
    assert_eq!(query.parent_span_id, Some(root.span_id));
    assert_eq!(
        query.status,
        Status::Error {
            message: Box::from("timeout")
        }
    );
    assert_eq!(
        query.attribute("payload"),
        Some(&AttributeValue::Bytes(Box::new([0xde, 0xad, 0xbe, 0xef])))
    );
    assert_eq!(
        query.links.len(),
        1,
        "the second reference, in another trace, is a link"
    );
    assert_eq!(trace.service_name(1), "mysql");

    let publish = &trace.spans[2];
    assert_eq!(publish.parent_span_id, Some(root.span_id));
    assert_eq!(publish.parent_relation, ParentRelation::FollowsFrom);
    assert_eq!(publish.trace_flags, 1, "no flags reads as sampled");
}

/// Zipkin's shared spans: the client span and the server span it called
/// carry the same id. The server half gets its own id, under the client
/// half, and the server's own children follow it.
#[test]
fn reads_zipkin_shared_spans_as_zipkin_means_them() {
    let file = br#"[
      {"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a2fb4a1d1a96d312","name":"get /","kind":"SERVER",
       "timestamp":1700000000000000,"duration":9000,"localEndpoint":{"serviceName":"frontend","ipv4":"10.0.0.1"}},
      {"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"0000000000000abc","parentId":"a2fb4a1d1a96d312","name":"get /bands","kind":"CLIENT",
       "timestamp":1700000000001000,"duration":5000,"localEndpoint":{"serviceName":"frontend"},
       "remoteEndpoint":{"serviceName":"bands-api","ipv4":"10.0.0.2","port":8080},
       "annotations":[{"timestamp":1700000000001500,"value":"wire send"}]},
      {"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"0000000000000abc","parentId":"a2fb4a1d1a96d312","name":"get /bands","kind":"SERVER",
       "shared":true,"timestamp":1700000000002000,"duration":3000,"localEndpoint":{"serviceName":"bands-api"},
       "tags":{"http.status_code":"500","error":"Internal Server Error"}},
      {"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"0000000000000def","parentId":"0000000000000abc","name":"select",
       "timestamp":1700000000002500,"duration":1000,"localEndpoint":{"serviceName":"bands-api"}}
    ]"#;
    let imported = import(file);
    assert_eq!(imported.format, Format::ZipkinJson);
    assert_eq!(imported.skipped, vec![]);
    let trace = &imported.traces[0];
    let shared = span_id("abc");
    let client = &trace.spans[1];
    let server = &trace.spans[2];
    let select = &trace.spans[3];
    assert_eq!((client.kind, client.span_id), (SpanKind::Client, shared));
    assert_eq!(client.parent_span_id, Some(span_id("a2fb4a1d1a96d312")));
    assert_eq!(server.kind, SpanKind::Server);
    assert_ne!(server.span_id, shared, "the server half has its own id");
    assert_eq!(server.parent_span_id, Some(shared), "under the client half");
    assert_eq!(
        select.parent_span_id,
        Some(server.span_id),
        "the server's child follows it"
    );
    assert_eq!(
        server.status,
        Status::Error {
            message: Box::from("Internal Server Error")
        }
    );
    assert_eq!(
        server.attribute("http.status_code"),
        Some(&AttributeValue::string("500"))
    );
    assert_eq!(
        client.attribute("peer.service"),
        Some(&AttributeValue::string("bands-api"))
    );
    assert_eq!(
        client.attribute("network.peer.port"),
        Some(&AttributeValue::Int(8080))
    );
    assert_eq!(&*client.events[0].name, "wire send");
    assert_eq!(client.events[0].time_unix_nanos, 1_700_000_000_001_500_000);
    assert_eq!(trace.service_name(2), "bands-api");
    assert_eq!(trace.resources.len(), 2);
    // The ids are distinct, so the tree has no duplicates to repair.
    let tree = tracelab_trace::tree::SpanTree::build(trace);
    assert!(tree.notes().is_empty(), "{:?}", tree.notes());
}

/// OTLP as other writers spell it: enum names, numbers for 64-bit integers,
/// proto field names, OTLP before 0.15's `instrumentationLibrarySpans`,
/// non-finite doubles, key-value lists, and fields tracelab does not know.
#[test]
fn reads_otlp_in_every_spelling_the_mapping_allows() {
    let file = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}],"droppedAttributesCount":0},
      "schemaUrl":"https://opentelemetry.io/schemas/1.21.0",
      "instrumentationLibrarySpans":[{"instrumentationLibrary":{"name":"io.opentelemetry.jdbc","version":"1.2"},
        "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"",
          "name":"SELECT","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":1700000000000000000,"endTimeUnixNano":"1700000000500000000",
          "status":{"code":"STATUS_CODE_ERROR","message":"deadlock"},"flags":257,"somethingNew":{"x":1},
          "attributes":[{"key":"ratio","value":{"doubleValue":"NaN"}},{"key":"big","value":{"intValue":9007199254740993}},
            {"key":"http.request.header","value":{"kvlistValue":{"values":[{"key":"accept","value":{"arrayValue":{"values":[{"stringValue":"text/html"}]}}},
              {"key":"nested","value":{"kvlistValue":{"values":[{"key":"deep","value":{"boolValue":true}}]}}}]}}},
            {"key":"list","value":{"arrayValue":{"values":[{"kvlistValue":{"values":[]}},{"intValue":"3"}]}}}],
          "events":[{"timeUnixNano":"1700000000100000000","name":"exception","attributes":[{"key":"exception.type","value":{"stringValue":"SQLException"}}]}],
          "links":[{"traceId":"5b8efff798038103d269b633813fc60d","spanId":"eee19b7ec3c1b175","traceState":"k=v"}]}]}]}]}"#;
    let imported = import(file);
    assert_eq!(imported.format, Format::OtlpJson);
    assert_eq!(imported.skipped, vec![]);
    let trace = &imported.traces[0];
    let span = &trace.spans[0];
    assert_eq!(
        span.trace_id.to_string(),
        "5b8efff798038103d269b633813fc60c"
    );
    assert_eq!(span.parent_span_id, None);
    assert_eq!(span.kind, SpanKind::Client);
    assert_eq!(span.end_unix_nanos - span.start_unix_nanos, 500_000_000);
    assert_eq!(
        span.status,
        Status::Error {
            message: Box::from("deadlock")
        }
    );
    assert_eq!(
        span.trace_flags, 1,
        "bits above the trace flags (is-remote) are not trace flags"
    );
    assert!(
        matches!(span.attribute("ratio"), Some(AttributeValue::Double(value)) if value.is_nan())
    );
    assert_eq!(
        span.attribute("big"),
        Some(&AttributeValue::Int(9_007_199_254_740_993)),
        "no loss through f64"
    );
    assert_eq!(
        span.attribute("http.request.header.accept"),
        Some(&AttributeValue::Array(Box::new([AttributeValue::string(
            "text/html"
        )]))),
        "a key-value list is flattened into dotted keys"
    );
    assert_eq!(
        span.attribute("http.request.header.nested.deep"),
        Some(&AttributeValue::Bool(true))
    );
    assert_eq!(
        span.attribute("list"),
        Some(&AttributeValue::Array(Box::new([
            AttributeValue::string(r#"{"kvlistValue":{"values":[]}}"#),
            AttributeValue::Int(3)
        ]))),
        "a key-value list inside an array is kept as its JSON text"
    );
    assert_eq!(&*span.events[0].name, "exception");
    assert_eq!(span.links[0].span_id, span_id("eee19b7ec3c1b175"));
    assert_eq!(trace.service_name(0), "checkout");
    assert_eq!(
        trace.scope_of(0).map(|scope| &*scope.name),
        Some("io.opentelemetry.jdbc")
    );
}

/// Traces from the project's own generator (nanosecond times, many
/// services, events, links) through both exporters: OTLP keeps everything;
/// Jaeger keeps every span and parent link, its times cut to microseconds.
#[test]
fn generated_traces_survive_both_exporters() {
    use tracelab_formats::{to_jaeger_json, to_otlp_json};
    let trace = tracelab_trace::generate(3000, 11);
    let imported = import(to_otlp_json(&trace).as_bytes());
    assert_eq!(imported.skipped, vec![]);
    assert_eq!(imported.traces.len(), 1);
    let back = &imported.traces[0];
    assert_eq!(back.spans.len(), trace.spans.len());
    // The export groups spans by resource and scope: match them by id.
    let index_of =
        |trace: &tracelab_trace::model::Trace| -> std::collections::HashMap<SpanId, usize> {
            trace
                .spans
                .iter()
                .enumerate()
                .map(|(span_idx, span)| (span.span_id, span_idx))
                .collect()
        };
    let back_idx = index_of(back);
    for (span_idx, before) in trace.spans.iter().enumerate() {
        let after_idx = back_idx[&before.span_id];
        let mut after = back.spans[after_idx].clone();
        after.resource_idx = before.resource_idx;
        after.scope_idx = before.scope_idx;
        assert_eq!(&after, before, "span {span_idx}");
        assert_eq!(back.service_name(after_idx), trace.service_name(span_idx));
    }

    let imported = import(to_jaeger_json(&trace).as_bytes());
    assert_eq!(imported.skipped, vec![]);
    let back = &imported.traces[0];
    assert_eq!(back.spans.len(), trace.spans.len());
    let back_idx = index_of(back);
    for before in &trace.spans {
        let after = &back.spans[back_idx[&before.span_id]];
        assert_eq!(
            (after.span_id, after.parent_span_id),
            (before.span_id, before.parent_span_id)
        );
        assert_eq!(
            after.start_unix_nanos,
            before.start_unix_nanos / 1000 * 1000
        );
        assert_eq!(
            (after.events.len(), after.links.len()),
            (before.events.len(), before.links.len())
        );
        assert_eq!(after.status, before.status);
    }
}

/// The model may hold arrays nested any depth (it keeps what an exporter
/// sent); the exporters write them with an explicit stack and, past
/// `MAX_VALUE_DEPTH`, as text, so a 20,000-deep value neither overflows the
/// stack on export nor on the import of what was written.
#[test]
fn deep_values_export_without_recursion() {
    use tracelab_formats::{to_jaeger_json, to_otlp_json, MAX_VALUE_DEPTH};
    use tracelab_trace::model::{KeyValue, Span, Trace, TraceId};
    let mut value = AttributeValue::Int(7);
    for _ in 0..20_000 {
        value = AttributeValue::Array(Box::new([value]));
    }
    let mut span = Span::new(TraceId([1; 16]), SpanId::from_u64(1), None, "deep", 0, 1);
    span.attributes.push(KeyValue::new("deep", value));
    let mut trace = Trace::default();
    trace.spans.push(span);
    let otlp = to_otlp_json(&trace);
    let jaeger = to_jaeger_json(&trace);
    let imported = import(otlp.as_bytes());
    assert_eq!(
        imported.skipped,
        vec![],
        "written within the cap, read back"
    );
    let read = imported.traces[0].spans[0].attribute("deep").cloned();
    // Down MAX_VALUE_DEPTH arrays, then the rest as text.
    let mut at = read;
    let mut depth = 0;
    while let Some(AttributeValue::Array(values)) = at {
        depth += 1;
        at = values.first().cloned();
    }
    assert_eq!(depth, MAX_VALUE_DEPTH);
    assert!(
        matches!(at, Some(AttributeValue::String(text)) if text.starts_with("[[[") && text.contains('7'))
    );
    assert!(import(jaeger.as_bytes()).skipped.is_empty());
    // Rust's own drop of the model's value would recurse: take it apart.
    let mut stack: Vec<AttributeValue> = trace
        .spans
        .pop()
        .map(|span| span.attributes)
        .unwrap_or_default()
        .into_iter()
        .map(|kv| kv.value)
        .collect();
    while let Some(value) = stack.pop() {
        if let AttributeValue::Array(values) = value {
            stack.extend(values.into_vec());
        }
    }
}

/// Zipkin's tags come out in the order of their keys, a repeated key once
/// with its last value (as a JSON object read into a map gives them),
/// whether or not the file wrote them in order; and a file cut short
/// yields only that problem, not the problems of the spans read before
/// the cut (the spans are read as the file is parsed).
#[test]
fn zipkin_tags_in_key_order_last_value_wins_and_a_cut_file_is_one_problem() {
    let span = |tags: &str| {
        format!(
            r#"[{{"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d312","name":"x","tags":{tags}}}]"#
        )
    };
    let keys_and_values = |tags: &str| -> Vec<(String, String)> {
        let imported = import(span(tags).as_bytes());
        assert_eq!(imported.skipped, vec![]);
        imported.traces[0].spans[0]
            .attributes
            .iter()
            .map(|attribute| (attribute.key.to_string(), attribute.value.to_string()))
            .collect()
    };
    let expected = vec![
        ("a".to_string(), "1".to_string()),
        ("b".to_string(), "3".to_string()),
        ("c".to_string(), "true".to_string()),
    ];
    assert_eq!(keys_and_values(r#"{"a":"1","b":"3","c":true}"#), expected);
    assert_eq!(
        keys_and_values(r#"{"c":true,"b":"2","a":"1","b":"3"}"#),
        expected
    );

    let cut = r#"[{"traceId":"00","id":"a2fb4a1d1a96d312"},{"traceId":"463ac35c9f6413ad","#;
    let imported = import(cut.as_bytes());
    assert_eq!(imported.format, Format::ZipkinJson);
    assert_eq!(imported.n_skipped, 1, "{:?}", imported.skipped);
    assert!(imported.skipped[0].message.starts_with("not JSON: EOF"));
    assert!(imported.traces.is_empty());
}

/// Where a file spells a field twice, it reads as a JSON object read into
/// a map would: of OTLP's spellings the lowerCamelCase one wins whatever
/// their order, a `null` counts as absent, and a repeated key's last value
/// wins.
#[test]
fn fields_spelt_twice_read_as_a_map_would() {
    let span = |id: &str, name: &str| {
        format!(
            r#"{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"{id}","name":"{name}"}}"#
        )
    };
    let scope = |name: &str| {
        format!(
            r#"{{"scope":{{"name":"{name}"}},"spans":[{}]}}"#,
            span("b7ad6b7169203331", name)
        )
    };
    let names = |file: &str| -> Vec<String> {
        let imported = import(file.as_bytes());
        assert_eq!(imported.skipped, vec![], "{file}");
        imported.traces[0]
            .spans
            .iter()
            .map(|span| span.name.to_string())
            .collect()
    };
    // camelCase first or last, the proto name loses.
    let both = format!(
        r#"{{"resource_spans":[{{"scopeSpans":[{}]}}],"resourceSpans":[{{"scopeSpans":[{}]}}]}}"#,
        scope("proto"),
        scope("camel")
    );
    assert_eq!(names(&both), ["camel"]);
    let both = format!(
        r#"{{"resourceSpans":[{{"scope_spans":[{}],"scopeSpans":[{}]}}],"resource_spans":[]}}"#,
        scope("proto"),
        scope("camel")
    );
    assert_eq!(names(&both), ["camel"]);
    // A null camelCase field is absent: the proto name is read.
    let null = format!(
        r#"{{"resourceSpans":null,"resource_spans":[{{"scopeSpans":[{}]}}]}}"#,
        scope("proto")
    );
    assert_eq!(names(&null), ["proto"]);
    // A repeated key: the last value.
    let repeated = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}],"spans":[{}]}}]}}]}}"#,
        span("b7ad6b7169203331", "first"),
        span("b7ad6b7169203332", "last")
    );
    assert_eq!(names(&repeated), ["last"]);
    // An AnyValue holding two kinds: the mapping's first (string before int).
    let two_kinds = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","attributes":[{"key":"k","value":{"intValue":"7","stringValue":"s"}}]}]}]}]}"#;
    let imported = import(two_kinds.as_bytes());
    assert_eq!(
        imported.traces[0].spans[0].attributes[0].value,
        AttributeValue::string("s")
    );
}

#[test]
fn zipkin_annotations_carry_an_events_attributes_as_opentelemetry_writes_them() {
    // OpenTelemetry's Zipkin exporters write an event with attributes as
    // `{"<name>":{<attributes>}}` in the annotation's value (the Python
    // SDK's does); a plain value is the event's name.
    let file = br#"[{"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a2fb4a1d1a96d312",
      "name":"get","timestamp":1700000000000000,"duration":2000,
      "localEndpoint":{"serviceName":"bands-api"},
      "annotations":[
        {"timestamp":1700000000000100,"value":"{\"cache.miss\":{\"key\":\"band-1\",\"size\":3,\"ratio\":0.5,\"hit\":false,\"tags\":[\"a\",[1,2]],\"extra\":{\"x\":1}}}"},
        {"timestamp":1700000000000200,"value":"retry"},
        {"timestamp":1700000000000300,"value":"{\"two\":{},\"keys\":{}}"},
        {"timestamp":1700000000000400,"value":"{not json"}
      ]}]"#;
    let imported = import(file);
    assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
    let events = &imported.traces[0].spans[0].events;
    let names: Vec<&str> = events.iter().map(|event| &*event.name).collect();
    assert_eq!(
        names,
        [
            "cache.miss",
            "retry",
            r#"{"two":{},"keys":{}}"#,
            "{not json"
        ]
    );
    let attributes: Vec<(&str, AttributeValue)> = events[0]
        .attributes
        .iter()
        .map(|attribute| (&*attribute.key, attribute.value.clone()))
        .collect();
    assert_eq!(
        attributes,
        [
            ("extra", AttributeValue::string(r#"{"x":1}"#)),
            ("hit", AttributeValue::Bool(false)),
            ("key", AttributeValue::string("band-1")),
            ("ratio", AttributeValue::Double(0.5)),
            ("size", AttributeValue::Int(3)),
            (
                "tags",
                AttributeValue::Array(Box::new([
                    AttributeValue::string("a"),
                    AttributeValue::Array(Box::new([
                        AttributeValue::Int(1),
                        AttributeValue::Int(2)
                    ])),
                ])),
            ),
        ]
    );
    assert!(events[1].attributes.is_empty());
    // What the writer makes of an event with attributes reads back the same.
    let again = import(to_zipkin_json(&imported.traces[0]).as_bytes());
    assert_eq!(again.traces[0].spans[0].events, *events);
}
