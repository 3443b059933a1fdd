//! Broken files: each problem names the field by its path and the rule it
//! broke, and the rest of the file is still read. Table-driven: each row
//! says why the file is wrong.

use tracelab_formats::{import, Dropped, Format, Imported, Problem, MAX_PROBLEMS, MAX_VALUE_DEPTH};

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

/// An OTLP request with one good span and the given span object as the
/// 18th span of the third scope (so paths have the issue's shape).
fn otlp_with(bad_span: &str) -> String {
    let good = format!(r#"{{"traceId":"{TRACE_ID}","spanId":"b7ad6b7169203331","name":"good"}}"#);
    let mut spans = vec![good.clone(); 17];
    spans.push(bad_span.to_string());
    format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[]}},{{"spans":[]}},{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

fn problems(imported: &Imported) -> Vec<String> {
    imported.skipped.iter().map(Problem::to_string).collect()
}

#[test]
fn otlp_span_errors_name_the_field() {
    const SPAN: &str = "resourceSpans[0].scopeSpans[2].spans[17]";
    let cases: &[(&str, &str, &str, Dropped, &str)] = &[
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c8031","spanId":"b7ad6b7169203332"}"#,
            ".traceId",
            "30 hex digits, expected 32",
            Dropped::Span,
            "a trace id two digits short",
        ),
        (
            r#"{"traceId":"00000000000000000000000000000000","spanId":"b7ad6b7169203332"}"#,
            ".traceId",
            "all zeros, which no trace can have",
            Dropped::Span,
            "the all-zero trace id is invalid in W3C and OTLP",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b71692033zz"}"#,
            ".spanId",
            "neither hex nor base64: 'z' at position 14, expected 16 hex digits",
            Dropped::Span,
            "a span id with letters outside hex",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c"}"#,
            ".spanId",
            "empty, expected 16 hex digits",
            Dropped::Span,
            "a span without an id",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","parentSpanId":"b7ad"}"#,
            ".parentSpanId",
            "4 hex digits, expected 16",
            Dropped::Span,
            "a parent id too short to be one; guessing a root would misplace the span",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","startTimeUnixNano":"12:00"}"#,
            ".startTimeUnixNano",
            "expected an unsigned 64-bit integer (a number or a decimal string), found the string \"12:00\"",
            Dropped::Span,
            "a time that is not nanoseconds",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","endTimeUnixNano":-5}"#,
            ".endTimeUnixNano",
            "found the number -5",
            Dropped::Span,
            "a negative time",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","name":7}"#,
            ".name",
            "expected a string, found the number 7",
            Dropped::Span,
            "a name that is a number",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","kind":9}"#,
            ".kind",
            "9 is no span kind (0 to 5)",
            Dropped::Value,
            "an unknown kind is ignored, the span kept",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","status":{"code":"STATUS_CODE_BAD"}}"#,
            ".status.code",
            "unknown name \"STATUS_CODE_BAD\"",
            Dropped::Span,
            "a status code name the enum does not have",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","attributes":[{"key":"a","value":{"intValue":"1.5"}}]}"#,
            ".attributes[0].value",
            "intValue: expected a signed 64-bit integer",
            Dropped::Attribute,
            "an int attribute that is not an integer",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","attributes":[{"key":"a"}]}"#,
            ".attributes[0].value",
            "missing: an attribute needs a value",
            Dropped::Attribute,
            "an attribute without a value",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","attributes":[{"key":"a","value":{"arrayValue":{"values":[{"stringValue":"x"},{"boolValue":"yes"}]}}}]}"#,
            ".attributes[0].value.arrayValue.values[1]",
            "boolValue: expected true or false, found the string \"yes\"",
            Dropped::Attribute,
            "a bad value inside an array names its index",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","events":[{"timeUnixNano":true}]}"#,
            ".events[0].timeUnixNano",
            "found true",
            Dropped::Event,
            "an event with a boolean time",
        ),
        (
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","links":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":""}]}"#,
            ".links[0].spanId",
            "empty, expected 16 hex digits",
            Dropped::Link,
            "a link to no span",
        ),
        (
            r#"["not", "a", "span"]"#,
            "",
            "expected an object, found an array of 3",
            Dropped::Span,
            "a span that is not an object",
        ),
    ];
    for &(span, field, message, dropped, why) in cases {
        let imported = import(otlp_with(span).as_bytes());
        assert_eq!(imported.format, Format::OtlpJson, "{why}");
        assert_eq!(
            imported.skipped.len(),
            1,
            "{why}: {:?}",
            problems(&imported)
        );
        let problem = &imported.skipped[0];
        assert_eq!(problem.path, format!("{SPAN}{field}"), "{why}");
        assert!(
            problem.message.contains(message),
            "{why}: {:?} lacks {message:?}",
            problem.message
        );
        assert_eq!(problem.dropped, dropped, "{why}");
        assert_eq!(imported.n_skipped, 1, "{why}");
        // The 17 good spans are still read (and the bad one too when only
        // a part of it was dropped).
        let n_spans: usize = imported.traces.iter().map(|trace| trace.spans.len()).sum();
        let expected = if dropped == Dropped::Span { 17 } else { 18 };
        assert_eq!(n_spans, expected, "{why}");
    }
    let imported = import(
        otlp_with(r#"{"traceId":"0af7651916cd43dd8448eb211c8031","spanId":"b7ad6b7169203332"}"#)
            .as_bytes(),
    );
    assert_eq!(
        imported.skipped[0].to_string(),
        "resourceSpans[0].scopeSpans[2].spans[17].traceId: 30 hex digits, expected 32 (the span was skipped)"
    );
}

#[test]
fn whole_file_errors_say_what_was_expected() {
    let cases: &[(&[u8], Format, &str, &str, &str)] = &[
        (
            b"",
            Format::Unknown,
            "",
            "not JSON: EOF while parsing",
            "an empty file",
        ),
        (b"hello", Format::Unknown, "", "not JSON", "plain text"),
        (
            b"{\"spans\": [",
            Format::JaegerJson,
            "",
            "not JSON: EOF while parsing",
            "a Jaeger trace cut short",
        ),
        (
            b"{\"foo\": 1}",
            Format::Unknown,
            "",
            "not a trace file tracelab reads",
            "JSON of another kind",
        ),
        (
            b"{\"resourceSpans\": 5}",
            Format::OtlpJson,
            "resourceSpans",
            "expected an array, found the number 5",
            "resourceSpans not a list",
        ),
        (
            b"{\"data\": {}}",
            Format::JaegerJson,
            "data",
            "expected an array, found an object",
            "Jaeger data not a list",
        ),
        (
            b"{\"result\": 5}",
            Format::JaegerApiV3,
            "result",
            "expected an object",
            "api_v3 result not an object",
        ),
        (
            b"{\"error\": {\"message\": \"trace not found\"}, \"result\": null}",
            Format::JaegerApiV3,
            "result",
            "no result; the answer is an error",
            "api_v3's error answer",
        ),
        (
            b"{\"batches\": [{\"scopeSpans\": 1}]}",
            Format::TempoJson,
            "batches[0].scopeSpans",
            "expected an array",
            "Tempo batch with a bad scopeSpans",
        ),
    ];
    for &(file, format, path, message, why) in cases {
        let imported = import(file);
        assert_eq!(imported.format, format, "{why}");
        assert_eq!(
            imported.skipped.len(),
            1,
            "{why}: {:?}",
            problems(&imported)
        );
        assert_eq!(imported.skipped[0].path, path, "{why}");
        assert!(
            imported.skipped[0].message.contains(message),
            "{why}: {:?}",
            imported.skipped[0].message
        );
        assert!(imported.traces.is_empty(), "{why}");
    }
}

#[test]
fn a_broken_line_skips_only_that_line() {
    let good = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{TRACE_ID}","spanId":"b7ad6b7169203331"}}]}}]}}]}}"#
    );
    let file = format!(
        "{good}\n{{\"resourceSpans\": [\n{}\n",
        good.replace("b7ad6b7169203331", "b7ad6b716920333")
    );
    let imported = import(file.as_bytes());
    assert_eq!(imported.format, Format::OtlpJsonLines);
    assert_eq!(problems(&imported).len(), 2, "{:?}", problems(&imported));
    assert!(imported.skipped[0].path == "line 2" && imported.skipped[0].dropped == Dropped::Line);
    assert!(
        imported.skipped[0]
            .message
            .starts_with("not JSON: EOF while parsing"),
        "{}",
        imported.skipped[0]
    );
    assert_eq!(
        imported.skipped[1].path,
        "line 3: resourceSpans[0].scopeSpans[0].spans[0].spanId"
    );
    assert_eq!(imported.skipped[1].message, "15 hex digits, expected 16");
    assert_eq!(imported.traces.len(), 1);
    assert_eq!(imported.traces[0].spans.len(), 1);
}

#[test]
fn jaeger_and_zipkin_errors_name_the_field() {
    let jaeger = br#"{"data":[{"traceID":"abc","spans":[
        {"traceID":"abc","spanID":"1","operationName":"ok","startTime":1,"duration":1,"processID":"p1"},
        {"traceID":"abc","spanID":"2","operationName":"bad tag","processID":"p1",
         "tags":[{"key":"n","type":"int64","value":"x"},{"key":"t","type":"decimal","value":1}],
         "references":[{"refType":"PARENT_OF","spanID":"1"}]},
        {"traceID":"abc","spanID":"3","processID":"p9"},
        {"traceID":"abc","spanID":"12345678901234567"}],
      "processes":{"p1":{"serviceName":"a"}}}]}"#;
    let imported = import(jaeger);
    assert_eq!(imported.format, Format::JaegerJson);
    assert_eq!(
        problems(&imported),
        vec![
            "data[0].spans[1].references[0].refType: \"PARENT_OF\" is no reference type, expected CHILD_OF or FOLLOWS_FROM (the link was skipped)",
            "data[0].spans[1].tags[0].value: expected a signed 64-bit integer (a number or a decimal string), found the string \"x\" (the attribute was skipped)",
            "data[0].spans[1].tags[1].type: unknown type \"decimal\", expected string, bool, int64, float64 or binary (the attribute was skipped)",
            "data[0].spans[2].processID: \"p9\" names no process of this trace, so the span has no service (the value was ignored)",
            "data[0].spans[3].spanID: 17 hex digits, expected at most 16 (the span was skipped)",
        ]
    );
    assert_eq!(imported.traces[0].spans.len(), 3);
    assert_eq!(imported.traces[0].service_name(0), "a");

    let zipkin = br#"[{"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d312","timestamp":"soon"},
                      {"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d313","kind":"SERVERLESS","tags":{"a":[1]}},
                      {"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d314","annotations":[{"timestamp":-1,"value":"x"}]},
                      {"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d315","timestamp":18446744073709552}]"#;
    let imported = import(zipkin);
    assert_eq!(imported.format, Format::ZipkinJson);
    assert_eq!(
        problems(&imported),
        vec![
            "[0].timestamp: expected an unsigned 64-bit integer (a number or a decimal string), found the string \"soon\" (the span was skipped)",
            "[1].kind: \"SERVERLESS\" is no Zipkin kind, expected CLIENT, SERVER, PRODUCER or CONSUMER (the value was ignored)",
            "[1].tags.a: expected a string, found an array of 1 (the attribute was skipped)",
            "[2].annotations[0].timestamp: expected an unsigned 64-bit integer (a number or a decimal string), found the number -1 (the event was skipped)",
            "[3].timestamp: 18446744073709552 microseconds is past what 64-bit nanoseconds hold (the year 2554) (the span was skipped)",
        ]
    );
    assert_eq!(imported.traces[0].spans.len(), 2);
}

/// Nesting past the cap drops the attribute and says so; nesting past
/// serde_json's own limit (128) refuses the file, with where. Neither
/// overflows the stack.
#[test]
fn deep_values_are_capped_not_recursed() {
    fn nested(levels: usize) -> String {
        let mut value = r#"{"intValue":"1"}"#.to_string();
        for _ in 0..levels {
            value = format!(r#"{{"arrayValue":{{"values":[{value}]}}}}"#);
        }
        value
    }
    let span = |value: &str| {
        format!(
            r#"{{"traceId":"{TRACE_ID}","spanId":"b7ad6b7169203332","attributes":[{{"key":"ok","value":{{"boolValue":true}}}},{{"key":"deep","value":{value}}}]}}"#
        )
    };
    // Within serde_json's limit, beyond tracelab's cap.
    let levels = MAX_VALUE_DEPTH + 2;
    let imported = import(otlp_with(&span(&nested(levels))).as_bytes());
    assert_eq!(imported.skipped.len(), 1, "{:?}", problems(&imported));
    let problem = &imported.skipped[0];
    assert_eq!(problem.dropped, Dropped::Attribute);
    assert!(
        problem
            .message
            .contains(&format!("nested deeper than {MAX_VALUE_DEPTH} levels")),
        "{problem}"
    );
    assert!(
        problem.path.starts_with(
            "resourceSpans[0].scopeSpans[2].spans[17].attributes[1].value.arrayValue.values[0]"
        ),
        "{problem}"
    );
    let kept = &imported.traces[0].spans[17];
    assert_eq!(kept.attributes.len(), 1, "the shallow attribute is kept");

    // Exactly at the cap is kept.
    let imported = import(otlp_with(&span(&nested(MAX_VALUE_DEPTH))).as_bytes());
    assert_eq!(imported.skipped, vec![]);

    // Far past serde_json's limit: the file is refused, not overflowed.
    let imported = import(otlp_with(&span(&nested(10_000))).as_bytes());
    assert_eq!(imported.skipped.len(), 1);
    assert_eq!(imported.skipped[0].dropped, Dropped::File);
    assert!(
        imported.skipped[0]
            .message
            .contains("recursion limit exceeded"),
        "{}",
        imported.skipped[0]
    );
}

#[test]
fn problems_are_capped_and_counted() {
    let bad = r#"{"traceId":"00","spanId":"b7ad6b7169203332"}"#;
    let n_bad = MAX_PROBLEMS + 500;
    let spans = vec![bad; n_bad].join(",");
    let file = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#);
    let imported = import(file.as_bytes());
    assert_eq!(imported.skipped.len(), MAX_PROBLEMS);
    assert_eq!(imported.n_skipped, n_bad);
    assert_eq!(
        imported.skipped[MAX_PROBLEMS - 1].path,
        format!(
            "resourceSpans[0].scopeSpans[0].spans[{}].traceId",
            MAX_PROBLEMS - 1
        )
    );
}

/// Deserialisation descends as the JSON nests (serde_json's limit of 128
/// bounds it): a file nested just under the limit is read on a 1 MiB
/// stack, the wasm default, even in a debug build, and a value nested past
/// tracelab's cap is dropped with where, the rest kept.
#[test]
fn nesting_just_under_serde_jsons_limit_fits_a_small_stack() {
    let mut value = r#"{"intValue":"1"}"#.to_string();
    // Three JSON levels an array level; the span itself sits ten deep.
    for _ in 0..38 {
        value = format!(r#"{{"arrayValue":{{"values":[{value}]}}}}"#);
    }
    let span = format!(
        r#"{{"traceId":"{TRACE_ID}","spanId":"b7ad6b7169203332","attributes":[{{"key":"deep","value":{value}}}]}}"#
    );
    let file = otlp_with(&span);
    let imported = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || import(file.as_bytes()))
        .map(|thread| thread.join());
    let Ok(Ok(imported)) = imported else {
        panic!("the import thread failed");
    };
    assert_eq!(imported.skipped.len(), 1, "{:?}", problems(&imported));
    assert_eq!(imported.skipped[0].dropped, Dropped::Attribute);
    assert!(imported.skipped[0].message.contains("nested deeper than"));
    assert_eq!(imported.traces[0].spans.len(), 18);
}
