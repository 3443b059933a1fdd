//! `tracelab collector` as a process: what it acknowledged survives a
//! `kill -9` during sustained ingest, and the restarted collector opens its
//! store cleanly and answers for every acknowledged trace; over gRPC and
//! HTTP it answers as OTLP says, partial success included.

mod support;

use std::time::{Duration, Instant};

use support::Tracelab;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

/// A running `tracelab collector` and where it listens.
struct Collector {
    tracelab: Tracelab,
    grpc: String,
    http: String,
    ui: String,
}

impl Collector {
    /// Starts it on free ports with its store in `data_dir`, and reads the
    /// addresses from its log.
    fn start(data_dir: &std::path::Path) -> Collector {
        Collector::start_with(data_dir, "127.0.0.1:0", &[])
    }

    /// [`Collector::start`] with OTLP/HTTP on `http_addr` and more options.
    fn start_with(data_dir: &std::path::Path, http_addr: &str, extra: &[&str]) -> Collector {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            std::ffi::OsStr::new("--otlp-http-addr"),
            std::ffi::OsStr::new(http_addr),
            std::ffi::OsStr::new("--data-dir"),
            data_dir.as_os_str(),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        let tracelab = Tracelab::collector(&args);
        let announced = &tracelab.announced;
        let (grpc, http, ui) = (
            announced
                .grpc
                .clone()
                .expect("the collector says where OTLP/gRPC listens"),
            announced
                .http
                .clone()
                .expect("the collector says where OTLP/HTTP listens"),
            announced
                .ui
                .clone()
                .expect("the collector says where the UI listens"),
        );
        Collector {
            tracelab,
            grpc,
            http,
            ui,
        }
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tracelab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// One trace of `n` spans with ids from `seed`; span names as given.
fn request(seed: u64, names: &[&str]) -> ExportTraceServiceRequest {
    let mut trace_id = vec![0u8; 16];
    trace_id[..8].copy_from_slice(&(seed | 1 << 60).to_be_bytes());
    trace_id[8..].copy_from_slice(&seed.to_be_bytes());
    let spans = names
        .iter()
        .enumerate()
        .map(|(idx, name)| Span {
            trace_id: trace_id.clone(),
            span_id: ((seed << 8) | idx as u64 | 1 << 62).to_be_bytes().to_vec(),
            name: (*name).to_owned(),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_000_000_000 + seed * 1_000_000,
            end_time_unix_nano: 1_700_000_000_000_000_000 + seed * 1_000_000 + 5_000_000,
            ..Span::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".to_owned(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("crash-test".to_owned())),
                    }),
                    ..KeyValue::default()
                }],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_batch_acknowledged_before_a_kill_9_is_there_after_a_restart() {
    let dir = temp_dir("kill9");
    let collector = Collector::start(&dir);
    let client = reqwest::Client::new();
    let url = format!("http://{}/v1/traces", collector.http);
    // Sustained ingest from four senders; each acknowledged batch is noted.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut senders = Vec::new();
    for sender in 0..4u64 {
        let (client, url, acknowledged) = (client.clone(), url.clone(), acknowledged.clone());
        senders.push(tokio::spawn(async move {
            for round in 0..100_000u64 {
                let seed = sender << 32 | round;
                let names: Vec<String> = (0..64).map(|idx| format!("op-{idx}")).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let batch = request(seed, &names);
                let trace_id = hex(&batch.resource_spans[0].scope_spans[0].spans[0].trace_id);
                let sent = client
                    .post(&url)
                    .header("content-type", "application/x-protobuf")
                    .body(batch.encode_to_vec())
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 200 => {
                        acknowledged.lock().expect("not poisoned").push(trace_id);
                    }
                    // The collector was killed: stop sending.
                    _ => return,
                }
            }
        }));
    }
    // Kill it mid-stream, once a few hundred batches are in.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().expect("not poisoned").len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut collector = collector;
    // `Child::kill` is SIGKILL on Unix: no flush, no shutdown.
    collector.tracelab.child.kill().expect("killed");
    let _ = collector.tracelab.child.wait();
    for sender in senders {
        let _ = sender.await;
    }
    let acknowledged = acknowledged.lock().expect("not poisoned").clone();
    assert!(
        acknowledged.len() >= 300,
        "only {} batches were acknowledged",
        acknowledged.len()
    );

    let restarted = Collector::start(&dir);
    for trace_id in &acknowledged {
        let answer: serde_json::Value = client
            .get(format!("http://{}/api/traces/{trace_id}", restarted.ui))
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("JSON");
        let spans = answer["data"][0]["spans"].as_array().map_or(0, Vec::len);
        assert_eq!(
            spans, 64,
            "acknowledged trace {trace_id} lost spans after kill -9"
        );
    }
    drop(restarted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_and_http_answer_as_otlp_says_with_the_real_store() {
    let dir = temp_dir("otlp-answers");
    let collector = Collector::start(&dir);
    let mut grpc = TraceServiceClient::connect(format!("http://{}", collector.grpc))
        .await
        .expect("gRPC connects");
    let mut batch = request(7, &["GET /a", "GET /b"]);
    // A span with a 15-byte trace id: turned down, the rest kept.
    let mut bad = batch.resource_spans[0].scope_spans[0].spans[0].clone();
    bad.trace_id.truncate(15);
    bad.span_id = vec![9; 8];
    batch.resource_spans[0].scope_spans[0].spans.push(bad);
    let answer = grpc
        .export(batch.clone())
        .await
        .expect("acknowledged")
        .into_inner();
    let partial = answer.partial_success.expect("a partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("traceId") && partial.error_message.contains("15 bytes"),
        "{}",
        partial.error_message
    );

    // The same batch again over HTTP: idempotent, the same answer.
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/traces", collector.http))
        .header("content-type", "application/x-protobuf")
        .body(batch.encode_to_vec())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let answer = ExportTraceServiceResponse::decode(response.bytes().await.expect("a body"))
        .expect("protobuf");
    assert_eq!(answer.partial_success.map(|p| p.rejected_spans), Some(1));
    let trace_id = hex(&batch.resource_spans[0].scope_spans[0].spans[0].trace_id);
    let stored: serde_json::Value =
        reqwest::get(format!("http://{}/api/traces/{trace_id}", collector.ui))
            .await
            .expect("answered")
            .json()
            .await
            .expect("JSON");
    assert_eq!(
        stored["data"][0]["spans"].as_array().map(Vec::len),
        Some(2),
        "stored once, the bad span left out"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Polls `url` until it answers 200 with a trace of `spans` spans.
async fn wait_for_trace(url: &str, spans: usize, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(url).await {
            if let Ok(answer) = response.json::<serde_json::Value>().await {
                if answer["data"][0]["spans"].as_array().map(Vec::len) == Some(spans) {
                    return true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_reaches_a_second_tracelab_and_catches_up_after_it_was_down() {
    let (dir_a, dir_b) = (temp_dir("forward-a"), temp_dir("forward-b"));
    let target = Collector::start(&dir_b);
    let target_http = target.http.clone();
    let forwarding = Collector::start_with(
        &dir_a,
        "127.0.0.1:0",
        &["--forward", &format!("http://{target_http}")],
    );
    let client = reqwest::Client::new();
    let send = |seed: u64| {
        let batch = request(seed, &["one", "two", "three"]);
        let trace_id = hex(&batch.resource_spans[0].scope_spans[0].spans[0].trace_id);
        let sent = client
            .post(format!("http://{}/v1/traces", forwarding.http))
            .header("content-type", "application/x-protobuf")
            .body(batch.encode_to_vec())
            .send();
        (trace_id, sent)
    };

    let (first, sent) = send(1);
    assert_eq!(sent.await.expect("answered").status(), 200);
    let in_target = format!("http://{}/api/traces/{first}", target.ui);
    assert!(
        wait_for_trace(&in_target, 3, Duration::from_secs(20)).await,
        "the target got the forwarded trace"
    );

    // The target goes down: the forwarding collector still stores and
    // acknowledges, and keeps the request for when the target is back.
    drop(target);
    let (second, sent) = send(2);
    assert_eq!(sent.await.expect("answered").status(), 200);
    let local = format!("http://{}/api/traces/{second}", forwarding.ui);
    assert!(
        wait_for_trace(&local, 3, Duration::from_secs(5)).await,
        "stored locally"
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    let status: serde_json::Value =
        reqwest::get(format!("http://{}/api/tracelab/status", forwarding.ui))
            .await
            .expect("answered")
            .json()
            .await
            .expect("JSON");
    assert_eq!(status["forward"]["failing"], true, "{status}");
    assert!(
        status["forward"]["retries"].as_u64().unwrap_or(0) >= 1,
        "{status}"
    );

    let back = Collector::start_with(&dir_b, &target_http, &[]);
    let in_target = format!("http://{}/api/traces/{second}", back.ui);
    assert!(
        wait_for_trace(&in_target, 3, Duration::from_secs(40)).await,
        "the target caught up once back"
    );
    let first_kept = format!("http://{}/api/traces/{first}", back.ui);
    assert!(wait_for_trace(&first_kept, 3, Duration::from_secs(5)).await);
    drop((forwarding, back));
    let _ = std::fs::remove_dir_all(&dir_a);
    let _ = std::fs::remove_dir_all(&dir_b);
}
