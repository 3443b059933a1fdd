//! `tracelab import` as a person runs it: each sample file of
//! `www/samples/` (one per format) imported into a running `tracelab
//! collector`, then read back through the query API's download and
//! compared with what the file holds; a partly broken file, files that are
//! no trace files, nothing listening, requests split to fit the
//! collector's body limit, stdin, and `--data-dir` straight into a store.

mod support;
#[path = "support/traces.rs"]
mod traces;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::Tracelab;
use traces::comparable;

/// A running `tracelab collector`, its store in memory, on free ports.
struct Collector {
    _tracelab: Tracelab,
    /// `http://127.0.0.1:PORT`, the OTLP/HTTP endpoint.
    endpoint: String,
    /// `127.0.0.1:PORT`, the UI and query API.
    ui: String,
}

impl Collector {
    fn start(extra: &[&str]) -> Collector {
        let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(std::ffi::OsStr::new).collect();
        if !extra.contains(&"--data-dir") {
            args.push(std::ffi::OsStr::new("--in-memory"));
        }
        let tracelab = Tracelab::collector(&args);
        let http = tracelab
            .announced
            .http
            .clone()
            .expect("the collector says where OTLP/HTTP listens");
        let ui = tracelab
            .announced
            .ui
            .clone()
            .expect("the collector says where the UI listens");
        Collector {
            _tracelab: tracelab,
            endpoint: format!("http://{http}"),
            ui,
        }
    }

    /// `tracelab import --endpoint … ARGS`, stdin from `stdin`.
    fn import(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut all = vec!["--endpoint", self.endpoint.as_str()];
        all.extend_from_slice(args);
        import(&all, stdin)
    }

    /// The stored trace, downloaded as OTLP JSON and read by the importer.
    async fn export(&self, trace_id: &str) -> tracelab_formats::Imported {
        let url = format!(
            "http://{}/api/tracelab/traces/{trace_id}/export?format=otlp",
            self.ui
        );
        let response = reqwest::get(&url).await.expect("the UI answers");
        assert_eq!(response.status(), 200, "{url}");
        let body = response.bytes().await.expect("a body");
        tracelab_formats::import(&body)
    }
}

/// `tracelab import ARGS` with `stdin`.
fn import(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .arg("import")
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tracelab runs");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin).expect("stdin is written");
    }
    child.wait_with_output().expect("tracelab ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../www/samples")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tracelab-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Imports `file` into a fresh collector and checks the report and what
/// the store gives back: the spans the file holds, each with its parent,
/// attributes, events, links and status.
async fn import_and_read_back(file: &Path, format_name: &str) {
    let collector = Collector::start(&[]);
    let expected = tracelab_formats::import(&std::fs::read(file).expect("the sample is there"));
    assert!(expected.skipped.is_empty());
    let trace = &expected.traces[0];
    let trace_id = trace.spans[0].trace_id.to_string();
    let n_spans = trace.spans.len();
    let ui_url = format!("http://{}", collector.ui);
    let path = file.to_str().expect("a UTF-8 path");
    let output = collector.import(&["--ui-url", &ui_url, path], b"");
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "{path}: {format_name}, 1 trace, {n_spans} spans loaded"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  {ui_url}/trace/{trace_id}")),
        "{stdout}"
    );
    let stored = collector.export(&trace_id).await;
    assert!(stored.skipped.is_empty(), "{:?}", stored.skipped);
    assert_eq!(
        comparable(&stored.traces[0]),
        comparable(trace),
        "{path}: what the store gives back differs from the file"
    );
}

#[tokio::test]
async fn each_sample_format_is_imported_and_read_back_whole() {
    let dir = samples_dir();
    for (file, format_name) in [
        ("jaeger.json", "Jaeger JSON"),
        ("zipkin.json", "Zipkin v2 JSON"),
        ("otlp.json", "OTLP JSON"),
        (
            "otlp-lines.jsonl",
            "OTLP JSON lines (OpenTelemetry Collector file exporter)",
        ),
        ("jaeger-api-v3.json", "Jaeger api_v3 JSON"),
        ("tempo.json", "Tempo JSON"),
    ] {
        import_and_read_back(&dir.join(file), format_name).await;
    }
}

#[test]
fn a_partly_broken_file_loads_the_rest_and_says_what_was_skipped_where() {
    let collector = Collector::start(&[]);
    let sample = std::fs::read_to_string(samples_dir().join("zipkin.json")).expect("a sample");
    let mut spans: Vec<serde_json::Value> = serde_json::from_str(&sample).expect("JSON");
    let n_spans = spans.len();
    // The fourth span's trace id is not hex.
    let trace_id = spans[3]["traceId"].as_str().expect("an id").to_owned();
    spans[3]["traceId"] = serde_json::json!(format!("zz{}", &trace_id[2..]));
    let broken = serde_json::to_vec(&spans).expect("JSON");
    let dir = temp_dir("broken");
    let file = dir.join("broken.json");
    std::fs::write(&file, &broken).expect("written");
    let output = collector.import(&[file.to_str().expect("UTF-8")], b"");
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("{} spans loaded", n_spans - 1)),
        "{stdout}"
    );
    assert!(
        stdout.contains("skipped while reading: 1 problem"),
        "{stdout}"
    );
    assert!(stdout.contains("[3].traceId: "), "{stdout}");
    assert!(stdout.contains("(the span was skipped)"), "{stdout}");
}

#[tokio::test]
async fn stdin_and_small_requests_and_a_small_body_limit_still_load_everything() {
    // The collector takes at most 2 KiB a request; the importer is told
    // it may send 4 MiB, is refused (413) and halves until they fit.
    let collector = Collector::start(&["--max-body", "2KiB"]);
    let sample = std::fs::read(samples_dir().join("otlp.json")).expect("a sample");
    let expected = tracelab_formats::import(&sample);
    let trace = &expected.traces[0];
    let output = collector.import(&["-"], &sample);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "stdin: OTLP JSON, 1 trace, {} spans loaded",
            trace.spans.len()
        )),
        "{stdout}"
    );
    let stored = collector.export(&trace.spans[0].trace_id.to_string()).await;
    assert_eq!(comparable(&stored.traces[0]), comparable(trace));

    // Cut into requests of about 1 KiB by the importer itself.
    let collector = Collector::start(&[]);
    let output = collector.import(&["--max-request", "1KiB", "-"], &sample);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stored = collector.export(&trace.spans[0].trace_id.to_string()).await;
    assert_eq!(comparable(&stored.traces[0]), comparable(trace));
}

#[test]
fn what_cannot_be_loaded_says_why_with_exit_status_2() {
    let dir = temp_dir("errors");
    let not_trace = dir.join("not-a-trace.json");
    std::fs::write(&not_trace, br#"{"hello": "world"}"#).expect("written");
    let not_json = dir.join("not-json.json");
    std::fs::write(&not_json, b"traceparent: 00-abc").expect("written");
    let missing = dir.join("missing.json");
    let sample = samples_dir().join("jaeger.json");

    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let nowhere = format!("http://127.0.0.1:{port}");
    let cases: [(Vec<&str>, &str); 5] = [
        (
            vec![not_trace.to_str().expect("UTF-8")],
            "not a trace file tracelab reads: expected Jaeger's",
        ),
        (vec![not_json.to_str().expect("UTF-8")], "not JSON"),
        (vec![missing.to_str().expect("UTF-8")], "cannot read"),
        (
            vec!["--endpoint", &nowhere, sample.to_str().expect("UTF-8")],
            "nothing is listening at http://127.0.0.1:",
        ),
        (
            vec![
                "--endpoint",
                "127.0.0.1:4318",
                sample.to_str().expect("UTF-8"),
            ],
            "is not an http:// or https:// URL",
        ),
    ];
    for (args, says) in cases {
        let output = import(&args, b"");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn data_dir_writes_into_a_store_a_collector_then_serves() {
    let dir = temp_dir("data-dir");
    let sample = samples_dir().join("jaeger.json");
    let expected = tracelab_formats::import(&std::fs::read(&sample).expect("a sample"));
    let trace = &expected.traces[0];
    let output = import(
        &[
            "--data-dir",
            dir.to_str().expect("UTF-8"),
            sample.to_str().expect("UTF-8"),
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(dir.join("traces.db").is_file());
    let collector = Collector::start(&["--data-dir", dir.to_str().expect("UTF-8")]);
    let stored = collector.export(&trace.spans[0].trace_id.to_string()).await;
    assert_eq!(comparable(&stored.traces[0]), comparable(trace));
}
