//! A load generator for the collector: N concurrent exporters send batches
//! of distinct spans over OTLP/HTTP protobuf or OTLP/gRPC for a while, and
//! it prints how many spans per second were acknowledged, with the batch
//! latency. Run by `cargo xtask ingest` against a `tracelab collector`
//! started in another process; by hand:
//!
//! ```sh
//! cargo run --release -p tracelab-server --example otlp_load -- \
//!     --protocol grpc --endpoint http://127.0.0.1:4317 --exporters 4 --seconds 10
//! ```
//!
//! `--one-trace N` instead sends one trace of N spans (for the query
//! benchmark) and prints its trace id.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

#[path = "../../store/examples/support/load_request.rs"]
mod load_request;
#[path = "../../store/examples/support/proc_stat.rs"]
mod proc_stat;

/// Now, in Unix nanoseconds: the load generator's spans are current.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

struct Options {
    protocol: String,
    endpoint: String,
    exporters: usize,
    seconds: u64,
    batch: usize,
    one_trace: Option<usize>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        protocol: "http".to_owned(),
        endpoint: "http://127.0.0.1:4318".to_owned(),
        exporters: 1,
        seconds: 10,
        batch: 512,
        one_trace: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{flag} takes a whole number, not {text:?}"))
        };
        match flag.as_str() {
            "--protocol" => options.protocol = value()?,
            "--endpoint" => options.endpoint = value()?,
            "--exporters" => options.exporters = number(value()?)? as usize,
            "--seconds" => options.seconds = number(value()?)?,
            "--batch" => options.batch = number(value()?)? as usize,
            "--one-trace" => options.one_trace = Some(number(value()?)? as usize),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if !["http", "grpc"].contains(&options.protocol.as_str()) {
        return Err(format!(
            "--protocol is http or grpc, not {}",
            options.protocol
        ));
    }
    Ok(options)
}

/// Sends one request; `Ok` when the collector acknowledged it.
async fn send(
    options: &Options,
    http: &reqwest::Client,
    grpc: &mut Option<TraceServiceClient<tonic::transport::Channel>>,
    request: ExportTraceServiceRequest,
) -> Result<(), String> {
    if let Some(client) = grpc {
        client
            .export(request)
            .await
            .map(|_| ())
            .map_err(|status| status.to_string())
    } else {
        let response = http
            .post(format!(
                "{}/v1/traces",
                options.endpoint.trim_end_matches('/')
            ))
            .header("content-type", "application/x-protobuf")
            .body(request.encode_to_vec())
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", response.status()))
        }
    }
}

async fn connect(
    options: &Options,
) -> Result<Option<TraceServiceClient<tonic::transport::Channel>>, String> {
    if options.protocol != "grpc" {
        return Ok(None);
    }
    TraceServiceClient::connect(options.endpoint.clone())
        .await
        .map(|client| Some(client.max_encoding_message_size(64 << 20)))
        .map_err(|error| format!("cannot connect to {}: {error}", options.endpoint))
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(options) => Arc::new(options),
        Err(message) => {
            eprintln!("otlp_load: {message}");
            std::process::exit(2);
        }
    };
    let http = reqwest::Client::new();
    if let Some(n_spans) = options.one_trace {
        let mut grpc = match connect(&options).await {
            Ok(grpc) => grpc,
            Err(message) => {
                eprintln!("otlp_load: {message}");
                std::process::exit(1);
            }
        };
        let seed = std::process::id() as u64;
        let request = load_request::request(seed, n_spans, n_spans, now());
        let trace_id = request.resource_spans[0].scope_spans[0].spans[0]
            .trace_id
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>();
        if let Err(message) = send(&options, &http, &mut grpc, request).await {
            eprintln!("otlp_load: the trace was not acknowledged: {message}");
            std::process::exit(1);
        }
        println!("{trace_id}");
        return;
    }
    let acknowledged = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let mut tasks = Vec::new();
    for exporter in 0..options.exporters {
        let (options, http) = (options.clone(), http.clone());
        let (acknowledged, failed) = (acknowledged.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut grpc = match connect(&options).await {
                Ok(grpc) => grpc,
                Err(message) => {
                    eprintln!("otlp_load: {message}");
                    return Vec::new();
                }
            };
            let mut latencies = Vec::new();
            let mut round = 0u64;
            while Instant::now() < deadline {
                // Distinct ids in every batch of every exporter and run.
                let seed = (std::process::id() as u64) << 40 | (exporter as u64) << 32 | round;
                round += 1;
                let request = load_request::request(seed, options.batch, 8, now());
                let started = Instant::now();
                match send(&options, &http, &mut grpc, request).await {
                    Ok(()) => {
                        acknowledged.fetch_add(options.batch as u64, Ordering::Relaxed);
                        latencies.push(started.elapsed());
                    }
                    Err(message) => {
                        if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("otlp_load: a batch failed: {message}");
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            latencies
        }));
    }
    let started = Instant::now();
    let mut latencies: Vec<Duration> = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |latency| latency.as_secs_f64() * 1e3)
    };
    let spans = acknowledged.load(Ordering::Relaxed);
    // One line, read by `cargo xtask ingest`; with the CPU this process
    // spent, which the collector did not have on a shared machine.
    println!(
        "spans_per_second={:.0} batches={} failed={} p50_ms={:.2} p99_ms={:.2} load_cpu_s={:.2}",
        spans as f64 / elapsed,
        latencies.len(),
        failed.load(Ordering::Relaxed),
        quantile(0.50),
        quantile(0.99),
        proc_stat::own_cpu_seconds()
    );
}
