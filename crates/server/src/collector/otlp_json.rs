//! OTLP/JSON read tolerantly, as the OTLP specification asks of a receiver:
//! unknown fields are ignored everywhere, ids are hex in either case, and
//! 64-bit integers may be numbers or strings.
//!
//! `opentelemetry-proto`'s serde support does all of that except in one
//! place: inside an attribute's `AnyValue`, an unknown key fails the whole
//! request (its visitor skips the key without reading its value). So the
//! request is first read as a `serde_json::Value` (serde_json stops at 128
//! levels of nesting, so a deeply nested body is an error, not a stack
//! overflow), every `AnyValue` object is pruned to the keys it may hold —
//! with an explicit stack, not recursion — and only then converted.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The keys an `AnyValue` object may hold.
const ANY_VALUE_KEYS: [&str; 7] = [
    "stringValue",
    "boolValue",
    "intValue",
    "doubleValue",
    "arrayValue",
    "kvlistValue",
    "bytesValue",
];

/// Decodes an OTLP/JSON export request (`ExportTraceServiceRequest`,
/// `ExportLogsServiceRequest`, `ExportMetricsServiceRequest`).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|error| format!("the body is not JSON: {error}"))?;
    prune_any_values(&mut value);
    serde_json::from_value(value)
        .map_err(|error| format!("the body is not an OTLP export request: {error}"))
}

/// Removes the keys an `AnyValue` may not hold from every `AnyValue` object
/// in `root`: the `value` of a key–value pair, each of an array value's
/// `values`, and a log record's `body`.
fn prune_any_values(root: &mut Value) {
    let mut stack: Vec<&mut Value> = vec![root];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(object) => {
                let is_key_value = object.contains_key("key");
                let is_array_value = object.len() == 1 && object.contains_key("values");
                for (key, child) in object.iter_mut() {
                    let any_value = (is_key_value && key == "value") || key == "body";
                    if any_value {
                        if let Value::Object(inner) = child {
                            retain_any_value_keys(inner);
                        }
                    }
                    if is_array_value && key == "values" {
                        if let Value::Array(items) = child {
                            for item in items.iter_mut() {
                                if let Value::Object(inner) = item {
                                    retain_any_value_keys(inner);
                                }
                            }
                        }
                    }
                    stack.push(child);
                }
            }
            _ => {}
        }
    }
}

fn retain_any_value_keys(object: &mut Map<String, Value>) {
    object.retain(|key, _| ANY_VALUE_KEYS.contains(&key.as_str()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;

    const BODY: &str = r#"{
      "resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "futureField": {"anything": [1, 2]},
        "scopeSpans": [{
          "scope": {"name": "manual"},
          "spans": [{
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": "EEE19B7EC3C1B174",
            "name": "GET /cart",
            "kind": 2,
            "startTimeUnixNano": "1544712660000000000",
            "endTimeUnixNano": 1544712661000000000,
            "attributes": [
              {"key": "http.status_code", "value": {"intValue": "200", "unknownKey": {"nested": true}}},
              {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a", "extra": 1}, {"intValue": 7}]}}},
              {"key": "future", "value": {"someNewValue": 1}}
            ],
            "unknownSpanField": "ignored"
          }]
        }]
      }]
    }"#;

    #[test]
    fn unknown_fields_case_and_integer_forms_are_tolerated() {
        let request: ExportTraceServiceRequest = decode(BODY.as_bytes()).expect("tolerated");
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.trace_id.len(), 16);
        assert_eq!(span.trace_id[0], 0x5b, "hex ids in upper case");
        assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
        assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
        assert_eq!(span.kind, 2);
        let value = |idx: usize| {
            span.attributes[idx]
                .value
                .as_ref()
                .and_then(|v| v.value.clone())
        };
        assert_eq!(value(0), Some(Any::IntValue(200)));
        match value(1) {
            Some(Any::ArrayValue(array)) => assert_eq!(array.values.len(), 2),
            other => panic!("expected an array, got {other:?}"),
        }
        assert_eq!(value(2), None, "an AnyValue of unknown keys only is empty");
    }

    #[test]
    fn errors_say_what_was_wrong() {
        let error = decode::<ExportTraceServiceRequest>(b"{\"resourceSpans\": [").unwrap_err();
        assert!(error.contains("not JSON"), "{error}");
        let error = decode::<ExportTraceServiceRequest>(
            br#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}"#,
        )
        .unwrap_err();
        assert!(error.contains("not an OTLP export request"), "{error}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let depth = 100_000;
        let mut body = String::from(
            r#"{"resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": "#,
        );
        for _ in 0..depth {
            body.push_str(r#"{"arrayValue": {"values": ["#);
        }
        for _ in 0..depth {
            body.push_str("]}}");
        }
        body.push_str("}]}}]}");
        let error = decode::<ExportTraceServiceRequest>(body.as_bytes()).unwrap_err();
        assert!(error.contains("recursion limit"), "{error}");
    }
}
