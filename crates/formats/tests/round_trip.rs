//! import ∘ export keeps every span, parent link, attribute, event, link and
//! status, per format, on random span trees; and the OTLP envelopes (lines,
//! api_v3, Tempo) read what OTLP JSON reads.

mod support;

use proptest::prelude::*;
use serde_json::Value;
use support::{canonical, JAEGER, OTLP};
use tracelab_formats::{import, to_jaeger_json, to_otlp_json, Format};
use tracelab_trace::model::Trace;

fn only_trace(bytes: &[u8], format: Format) -> Trace {
    let imported = import(bytes);
    assert_eq!(imported.format, format);
    assert_eq!(imported.skipped, vec![], "no problems");
    assert_eq!(imported.traces.len(), 1);
    imported.traces.into_iter().next().unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn otlp_json_round_trips(trace in support::trace(OTLP)) {
        let back = only_trace(to_otlp_json(&trace).as_bytes(), Format::OtlpJson);
        prop_assert_eq!(canonical(&back), canonical(&trace));
    }

    #[test]
    fn jaeger_json_round_trips(trace in support::trace(JAEGER)) {
        let back = only_trace(to_jaeger_json(&trace).as_bytes(), Format::JaegerJson);
        prop_assert_eq!(canonical(&back), canonical(&trace));
    }

    /// A second export of what was imported is the same text: nothing drifts.
    #[test]
    fn exports_are_stable(trace in support::trace(OTLP)) {
        let otlp = to_otlp_json(&trace);
        prop_assert_eq!(to_otlp_json(&only_trace(otlp.as_bytes(), Format::OtlpJson)), otlp);
        let jaeger = to_jaeger_json(&trace);
        let again = only_trace(jaeger.as_bytes(), Format::JaegerJson);
        prop_assert_eq!(canonical(&only_trace(to_jaeger_json(&again).as_bytes(), Format::JaegerJson)), canonical(&again));
    }
}

/// Every id in an OTLP JSON value rewritten by `rewrite` (for the envelopes
/// that spell ids differently). Test inputs are shallow, so recursion is fine here.
fn rewrite_ids(value: &mut Value, rewrite: &dyn Fn(&str) -> String) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object.iter_mut() {
                if matches!(key.as_str(), "traceId" | "spanId" | "parentSpanId") {
                    if let Value::String(text) = inner {
                        *text = rewrite(text);
                    }
                } else {
                    rewrite_ids(inner, rewrite);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_ids(item, rewrite)),
        _ => {}
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (position, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if position <= chunk.len() {
                ALPHABET[(n >> shift) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
}

fn hex_to_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap_or(0))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn envelopes_read_as_otlp_json(first in support::trace(OTLP), second in support::trace(OTLP)) {
        let otlp = to_otlp_json(&first);

        // The Collector's file exporter: one request per line.
        let lines = format!("{otlp}\n{}\n", to_otlp_json(&second));
        let imported = import(lines.as_bytes());
        prop_assert_eq!(imported.format, Format::OtlpJsonLines);
        prop_assert_eq!(&imported.skipped, &vec![]);
        let traces = imported.traces;
        prop_assert_eq!(traces.len(), if first.spans[0].trace_id == second.spans[0].trace_id { 1 } else { 2 });
        prop_assert_eq!(canonical(&traces[0]), canonical(&first));

        // Jaeger api_v3.
        let api_v3 = format!("{{\"result\":{otlp}}}");
        prop_assert_eq!(canonical(&only_trace(api_v3.as_bytes(), Format::JaegerApiV3)), canonical(&first));

        // Tempo: `batches`, ids in base64.
        let mut value: Value = serde_json::from_str(&otlp).unwrap_or_default();
        rewrite_ids(&mut value, &|hex| base64(&hex_to_bytes(hex)));
        let tempo = serde_json::json!({ "batches": value["resourceSpans"] }).to_string();
        prop_assert!(tempo.contains("=="), "ids are base64");
        prop_assert_eq!(canonical(&only_trace(tempo.as_bytes(), Format::TempoJson)), canonical(&first));

        // Ids in capitals, as the OTLP specification allows.
        let mut value: Value = serde_json::from_str(&otlp).unwrap_or_default();
        rewrite_ids(&mut value, &|hex| hex.to_uppercase());
        prop_assert_eq!(canonical(&only_trace(value.to_string().as_bytes(), Format::OtlpJson)), canonical(&first));
    }
}

#[test]
fn one_trace_id_per_trace_whatever_the_batching() {
    // Two traces interleaved in one request come out as two traces.
    let file = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
      "scopeSpans":[{"spans":[
        {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"one"},
        {"traceId":"1af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","name":"two"},
        {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203333","parentSpanId":"b7ad6b7169203331","name":"three"}]}]}]}"#;
    let imported = import(file.as_bytes());
    assert_eq!(imported.traces.len(), 2);
    assert_eq!(imported.traces[0].spans.len(), 2);
    assert_eq!(imported.traces[1].spans.len(), 1);
    assert_eq!(
        imported.traces[1].resources.len(),
        1,
        "each trace has its own resources"
    );
    assert_eq!(imported.traces[1].service_name(0), "a");
}
