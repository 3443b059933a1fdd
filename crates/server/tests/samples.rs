//! The sample trace files in `www/samples/`, one per format tracelab
//! reads, are written by the project's own code from one deterministic
//! trace: the demo's original call (the lesson's step 5: bands-api pauses,
//! reviews-api runs one query per review) simulated with a fixed seed.
//! This test writes them again and fails when a committed file has drifted
//! from what the code writes now; `TRACELAB_UPDATE_SAMPLES=1` rewrites
//! them instead. Every sample must import back whole, with no problem.

use std::path::PathBuf;

use tracelab_formats::{import, Format};
use tracelab_trace::model::Trace;

/// The seed of the sample call (any fixed seed; this one is the issue's).
const SEED: u64 = 18;

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../www/samples")
}

/// The demo's original call, simulated: the one trace every sample holds.
fn sample_trace() -> Trace {
    let step = tracelab_demo::lesson::step(5).expect("the lesson has a step 5");
    tracelab_demo::make_call(&step.switches(), SEED).trace()
}

/// The trace cut into one trace per service, as each service's SDK
/// exports its own batches (and the Collector's file exporter writes one
/// line per batch).
fn per_service(trace: &Trace) -> Vec<Trace> {
    (0..trace.resources.len())
        .map(|resource_idx| Trace {
            spans: trace
                .spans
                .iter()
                .filter(|span| span.resource_idx as usize == resource_idx)
                .cloned()
                .collect(),
            resources: trace.resources.clone(),
            scopes: trace.scopes.clone(),
        })
        .filter(|part| !part.spans.is_empty())
        .collect()
}

/// JSON as people read it: two-space indents (the line-delimited file
/// stays one request a line).
fn pretty(text: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(text).expect("the writers write JSON");
    let mut pretty = serde_json::to_string_pretty(&value).expect("JSON writes");
    pretty.push('\n');
    pretty
}

/// Each sample: its file name, the format it must be read as, its text.
fn samples(trace: &Trace) -> Vec<(&'static str, Format, String)> {
    vec![
        (
            "jaeger.json",
            Format::JaegerJson,
            pretty(&tracelab_formats::to_jaeger_json(trace)),
        ),
        (
            "zipkin.json",
            Format::ZipkinJson,
            pretty(&tracelab_formats::to_zipkin_json(trace)),
        ),
        (
            "otlp.json",
            Format::OtlpJson,
            pretty(&tracelab_formats::to_otlp_json(trace)),
        ),
        (
            "otlp-lines.jsonl",
            Format::OtlpJsonLines,
            tracelab_formats::to_otlp_json_lines(&per_service(trace)),
        ),
        (
            "jaeger-api-v3.json",
            Format::JaegerApiV3,
            pretty(&tracelab_formats::to_api_v3_json(trace)),
        ),
        (
            "tempo.json",
            Format::TempoJson,
            pretty(&tracelab_formats::to_tempo_json(trace)),
        ),
    ]
}

#[test]
fn the_samples_are_what_the_writers_make_of_the_demo_trace() {
    let trace = sample_trace();
    assert!(
        trace.spans.len() >= 5 && trace.resources.len() >= 2,
        "the demo's call makes a trace of several services ({} spans)",
        trace.spans.len()
    );
    let update = std::env::var_os("TRACELAB_UPDATE_SAMPLES").is_some_and(|value| value == "1");
    let dir = samples_dir();
    let mut drifted = Vec::new();
    for (name, format, text) in samples(&trace) {
        // Every sample reads back whole, as its own format.
        let imported = import(text.as_bytes());
        assert_eq!(imported.format, format, "{name}");
        assert!(
            imported.skipped.is_empty(),
            "{name} does not import cleanly: {:?}",
            imported.skipped
        );
        assert_eq!(imported.traces.len(), 1, "{name}: one trace");
        let back = &imported.traces[0];
        assert_eq!(back.spans.len(), trace.spans.len(), "{name}: every span");
        for span in &trace.spans {
            let read = back
                .spans
                .iter()
                .find(|read| read.span_id == span.span_id)
                .unwrap_or_else(|| panic!("{name}: span {} is missing", span.span_id));
            assert_eq!(
                (&read.name, read.parent_span_id),
                (&span.name, span.parent_span_id),
                "{name}"
            );
        }

        let path = dir.join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == text {
            continue;
        }
        if update {
            std::fs::create_dir_all(&dir).expect("www/samples can be made");
            std::fs::write(&path, &text).expect("the sample can be written");
            continue;
        }
        let first_difference = committed
            .lines()
            .zip(text.lines())
            .position(|(old, new)| old != new)
            .unwrap_or_else(|| committed.lines().count().min(text.lines().count()));
        drifted.push(format!(
            "www/samples/{name}{}, first at line {}",
            if committed.is_empty() {
                " is missing"
            } else {
                " differs from what the writers make now"
            },
            first_difference + 1
        ));
    }
    assert!(
        drifted.is_empty(),
        "{}\nIf the change is meant (a writer or the demo changed), write the samples again \
         and commit them:\n    TRACELAB_UPDATE_SAMPLES=1 cargo test -p tracelab-server --test samples",
        drifted.join("\n")
    );
}
