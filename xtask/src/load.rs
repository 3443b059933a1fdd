//! `cargo xtask load`: the load benchmark of the whole native chain, client
//! (wrk) → bands-api → reviews-api → SQLite, run three times in one go:
//! traced (every span, log record and metric exported over OTLP to the
//! collector `tracelab up` embeds, which commits them to its store in the
//! same process), traced with every trace sampled out
//! (`OTEL_TRACES_SAMPLER=always_off`: the instrumentation without the
//! export and the storing), the same with no log or metric export
//! (`OTEL_LOGS_EXPORTER=none`, `OTEL_METRICS_EXPORTER=none`: the SDK's
//! work in the services alone), and with `OTEL_SDK_DISABLED=true`. It prints
//! throughput, p50 and p99 for each and what tracing cost, in throughput and
//! in the CPU time the `tracelab` process spends per request (from
//! `/proc`: the machine is shared, and other work moves requests/s more
//! than the CPU a request costs), and, for the traced runs, the share of
//! their spans that reached the store (the SDK drops spans when its queue
//! is full, so a saturated chain is not a stored one).
//!
//! Then latency at fixed rates, with `oha -q` (open loop, corrected for
//! coordinated omission): wrk's closed loop measures latency at saturation,
//! where it is only the queue; a rate below it shows what a request costs.
//! A benchmark: it reports numbers and fails only when something does not
//! run.

use std::process::{Command, Stdio};

use crate::proc_stat;
use crate::project::{self, command, output};
use crate::Result;

/// Ports clear of a `tracelab up` the person may have running.
const BANDS: &str = "127.0.0.1:18000";
const REVIEWS: &str = "127.0.0.1:18080";
const OTLP_GRPC: &str = "127.0.0.1:14317";
const OTLP_HTTP: &str = "127.0.0.1:14318";
const UI: &str = "127.0.0.1:16687";
const BAND: &str = "553be815-76f3-49db-b9d7-caca4b23cc3e";
/// wrk's settings: one thread (the machine has two cores, and the services
/// need one), 32 connections, 20 s after a 3 s warm-up.
const CONNECTIONS: &str = "32";
const DURATION: &str = "20s";
/// The spans one request makes at lesson step 6: the two services' server
/// spans, bands-api's handler and client spans, reviews-api's handler and
/// database spans.
const SPANS_PER_REQUEST: f64 = 6.0;
/// The fixed rates, requests/s: half the target, and the issue's target
/// (100× the original Python services' 50 requests/s).
const RATES: [u32; 3] = [2_500, 4_000, 5_000];
const RATE_DURATION: &str = "15s";
/// oha's release line used here.
const OHA_VERSION: &str = "~1.16";

/// What one wrk run measured.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Measured {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Non-2xx answers and socket errors.
    pub errors: u64,
    /// Requests completed in the measured run.
    pub requests: u64,
    /// CPU time (user and system, all threads) the `tracelab` process
    /// spent per request during the measured run, in microseconds; 0 where
    /// there is no `/proc`.
    pub cpu_us_per_request: f64,
    /// The share of the run's spans ([`SPANS_PER_REQUEST`] a request) that
    /// the store holds once the exporters have flushed; `None` untraced.
    pub stored: Option<f64>,
    /// p99.9, from oha's fixed-rate runs only.
    pub p999_ms: Option<f64>,
}

pub fn run() -> Result {
    ensure_wrk()?;
    ensure_oha()?;
    project::build_tracelab_release(&[])?;
    let traced = measure(&[], Load::Saturate)?.remove(0);
    let sampled_out = measure(&[("OTEL_TRACES_SAMPLER", "always_off")], Load::Saturate)?.remove(0);
    let bare = measure(
        &[
            ("OTEL_TRACES_SAMPLER", "always_off"),
            ("OTEL_LOGS_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ],
        Load::Saturate,
    )?
    .remove(0);
    let untraced = measure(&[("OTEL_SDK_DISABLED", "true")], Load::Saturate)?.remove(0);
    let traced_at = measure(&[], Load::Rates)?;
    let untraced_at = measure(&[("OTEL_SDK_DISABLED", "true")], Load::Rates)?;
    println!();
    println!(
        "chain: wrk -t1 -c{CONNECTIONS} -d{DURATION} --latency GET /bands/{{uuid}} (lesson step 6)"
    );
    println!(
        "{:<44} {:>12} {:>9} {:>9} {:>7} {:>14} {:>8}",
        "", "requests/s", "p50", "p99", "errors", "CPU/request", "stored"
    );
    for (name, measured) in [
        ("traced, exported to the embedded collector", &traced),
        ("traced, sampled out (always_off)", &sampled_out),
        ("sampled out, no log or metric export", &bare),
        ("OTEL_SDK_DISABLED=true", &untraced),
    ] {
        println!(
            "{name:<44} {:>12.0} {:>7.2}ms {:>7.2}ms {:>7} {:>12.1}µs {:>8}",
            measured.requests_per_second,
            measured.p50_ms,
            measured.p99_ms,
            measured.errors,
            measured.cpu_us_per_request,
            stored_text(measured.stored),
        );
    }
    println!();
    println!("fixed rates: oha -q RATE -c{CONNECTIONS} -z{RATE_DURATION} --latency-correction");
    println!(
        "{:<44} {:>12} {:>9} {:>9} {:>9} {:>7} {:>14} {:>8}",
        "", "requests/s", "p50", "p99", "p99.9", "errors", "CPU/request", "stored"
    );
    for (name, runs) in [
        ("traced", &traced_at),
        ("OTEL_SDK_DISABLED=true", &untraced_at),
    ] {
        for (rate, measured) in RATES.iter().zip(runs.iter()) {
            println!(
                "{:<44} {:>12.0} {:>7.2}ms {:>7.2}ms {:>7.2}ms {:>7} {:>12.1}µs {:>8}",
                format!("{name} at {rate}/s"),
                measured.requests_per_second,
                measured.p50_ms,
                measured.p99_ms,
                measured.p999_ms.unwrap_or(f64::NAN),
                measured.errors,
                measured.cpu_us_per_request,
                stored_text(measured.stored),
            );
        }
    }
    if untraced.requests_per_second > 0.0 {
        for (name, measured) in [
            ("traced, exported", &traced),
            ("sampled out", &sampled_out),
            ("sampled out, no log or metric export", &bare),
        ] {
            println!(
                "{name}: tracing costs {:.1}% of throughput, {:.0}% more CPU per request",
                100.0 * (1.0 - measured.requests_per_second / untraced.requests_per_second),
                100.0 * (measured.cpu_us_per_request / untraced.cpu_us_per_request - 1.0)
            );
        }
    }
    Ok(())
}

fn ensure_wrk() -> Result {
    if output(command("wrk").arg("--version")).is_some()
        || Command::new("wrk")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    {
        return Ok(());
    }
    println!("load: installing Debian's wrk");
    let sudo = output(command("id").arg("-u")).as_deref() != Some("0");
    let mut apt = command(if sudo { "sudo" } else { "apt-get" });
    if sudo {
        apt.arg("apt-get");
    }
    apt.args(["install", "-y", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    project::run(&mut apt)
}

fn stored_text(stored: Option<f64>) -> String {
    stored.map_or_else(|| "—".to_owned(), |share| format!("{:.1}%", 100.0 * share))
}

fn ensure_oha() -> Result {
    if output(command("oha").arg("--version")).is_some() {
        return Ok(());
    }
    println!("load: installing oha {OHA_VERSION} from crates.io (a few minutes)");
    project::run(project::cargo().args(["install", "oha", "--version", OHA_VERSION, "--locked"]))
}

/// How a configuration is loaded.
#[derive(Clone, Copy, PartialEq)]
enum Load {
    /// wrk as fast as it goes: one result.
    Saturate,
    /// oha at each of [`RATES`]: a result each.
    Rates,
}

/// Starts the lab with `env` added, waits for bands-api, loads it as
/// `load` says, stops the lab.
fn measure(env: &[(&str, &str)], load: Load) -> Result<Vec<Measured>> {
    let binary = project::target_dir().join("release/tracelab");
    let mut up = command(&binary);
    up.args([
        "up",
        "--in-memory",
        "--step",
        "6",
        "--bands-addr",
        BANDS,
        "--reviews-addr",
        REVIEWS,
        "--otlp-grpc-addr",
        OTLP_GRPC,
        "--otlp-http-addr",
        OTLP_HTTP,
        "--ui-addr",
        UI,
    ])
    .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{OTLP_GRPC}"))
    .env("TRACELAB_LOG", "warn")
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    up.envs(env.iter().copied());
    let child = up
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
    let stat = format!("/proc/{}/stat", child.id());
    let cpu_seconds = move || {
        std::fs::read_to_string(&stat)
            .ok()
            .and_then(|text| proc_stat::stat_cpu(&text))
            .map_or(0.0, |(_, seconds)| seconds)
    };
    let lab = project::Running(child);
    project::wait_for_port(BANDS)?;
    let url = format!("http://{BANDS}/bands/{BAND}");
    let traced = !env.contains(&("OTEL_SDK_DISABLED", "true"))
        && !env.contains(&("OTEL_TRACES_SAMPLER", "always_off"));
    // Warm-up: connections, SQLite's cache, the allocator.
    wrk(&url, "3s")?;
    let runs: Vec<Option<u32>> = match load {
        Load::Saturate => vec![None],
        Load::Rates => RATES.iter().copied().map(Some).collect(),
    };
    let mut results = Vec::new();
    for rate in runs {
        // The spans of what came before are in the store first.
        let spans_before = if traced { Some(settled_spans()?) } else { None };
        let cpu_before = cpu_seconds();
        let mut measured = match rate {
            None => {
                let text = wrk(&url, DURATION)?;
                parse_wrk(&text).ok_or_else(|| format!("could not read wrk's output:\n{text}"))?
            }
            Some(rate) => {
                let text = oha(&url, rate)?;
                parse_oha(&text).ok_or_else(|| format!("could not read oha's output:\n{text}"))?
            }
        };
        let cpu_spent = cpu_seconds() - cpu_before;
        if measured.requests > 0 {
            measured.cpu_us_per_request = cpu_spent * 1e6 / measured.requests as f64;
            if let Some(before) = spans_before {
                let after = settled_spans()?;
                measured.stored = Some(
                    after.saturating_sub(before) as f64
                        / (SPANS_PER_REQUEST * measured.requests as f64),
                );
            }
        }
        results.push(measured);
    }
    drop(lab);
    Ok(results)
}

/// The spans in the store once the count has not moved for 6 s (longer
/// than the SDK's 5 s between exports), read from the UI's status.
fn settled_spans() -> Result<u64> {
    let mut last = stored_spans()?;
    let mut still_since = std::time::Instant::now();
    let started = std::time::Instant::now();
    while still_since.elapsed() < std::time::Duration::from_secs(6) {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            return Err("the store's span count was still moving after 60 s".to_owned());
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        let now = stored_spans()?;
        if now != last {
            last = now;
            still_since = std::time::Instant::now();
        }
    }
    Ok(last)
}

/// `store.spans` of `GET /api/tracelab/status`.
fn stored_spans() -> Result<u64> {
    let answer = project::http_get(UI, "/api/tracelab/status")?;
    let text = String::from_utf8_lossy(&answer);
    let store = text
        .find("\"store\"")
        .map(|at| &text[at..])
        .ok_or_else(|| format!("no store in {UI}'s status: {text}"))?;
    json_number(store, "spans")
        .map(|spans| spans as u64)
        .ok_or_else(|| format!("no span count in {UI}'s status: {text}"))
}

/// The number after the first `"key":` in `text` (no JSON parser here:
/// xtask has no dependencies).
fn json_number(text: &str, key: &str) -> Option<f64> {
    let quoted = format!("\"{key}\"");
    let rest = text[text.find(&quoted)? + quoted.len()..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn oha(url: &str, rate: u32) -> Result<String> {
    let shown = format!(
        "oha -q {rate} -c {CONNECTIONS} -z {RATE_DURATION} --latency-correction --no-tui {url}"
    );
    println!("$ {shown}");
    project::stdout_of(
        command("oha").args([
            "-q",
            &rate.to_string(),
            "-c",
            CONNECTIONS,
            "-z",
            RATE_DURATION,
            "--latency-correction",
            "--no-tui",
            "--output-format",
            "json",
            url,
        ]),
        &shown,
    )
}

/// Reads oha's JSON report: throughput, latency percentiles (seconds
/// there), and the requests that did not get a 2xx.
pub fn parse_oha(text: &str) -> Option<Measured> {
    let summary = &text[text.find("\"summary\"")?..];
    let percentiles = &text[text.find("\"latencyPercentiles\"")?..];
    let codes = &text[text.find("\"statusCodeDistribution\"")?..];
    let codes = &codes[..codes.find('}')?];
    let mut requests = 0u64;
    let mut errors = 0u64;
    // "statusCodeDistribution": { "200": 19998, "503": 2 }
    for pair in codes.split(',') {
        let (code, count) = pair.rsplit_once(':')?;
        let code = code.rsplit('"').nth(1)?;
        let count: u64 = count.trim().parse().ok()?;
        requests += count;
        if !code.starts_with('2') {
            errors += count;
        }
    }
    // Requests that got no answer at all, but for those still in flight
    // when the run's time was up, which oha cuts off ("aborted due to
    // deadline"): the end of the run, not the server's doing.
    if let Some(error_counts) = text.find("\"errorDistribution\"") {
        let section = &text[error_counts..];
        let section = &section[..section.find('}')?];
        for pair in section
            .split(',')
            .filter(|pair| pair.contains(':') && !pair.contains("aborted due to deadline"))
        {
            if let Ok(count) = pair.rsplit_once(':')?.1.trim().parse::<u64>() {
                requests += count;
                errors += count;
            }
        }
    }
    Some(Measured {
        requests_per_second: json_number(summary, "requestsPerSec")?,
        p50_ms: json_number(percentiles, "p50")? * 1e3,
        p99_ms: json_number(percentiles, "p99")? * 1e3,
        p999_ms: json_number(percentiles, "p99.9").map(|seconds| seconds * 1e3),
        errors,
        requests,
        cpu_us_per_request: 0.0,
        stored: None,
    })
}

fn wrk(url: &str, duration: &str) -> Result<String> {
    let shown = format!("wrk -t1 -c{CONNECTIONS} -d{duration} --latency {url}");
    println!("$ {shown}");
    project::stdout_of(
        command("wrk").args([
            "-t1",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{duration}"),
            "--latency",
            url,
        ]),
        &shown,
    )
}

/// Reads wrk's `--latency` report.
pub fn parse_wrk(text: &str) -> Option<Measured> {
    let mut measured = Measured::default();
    let mut found = (false, false, false);
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(value)) => {
                measured.requests_per_second = value.parse().ok()?;
                found.0 = true;
            }
            (Some("50%"), Some(value)) => {
                measured.p50_ms = milliseconds(value)?;
                found.1 = true;
            }
            (Some("99%"), Some(value)) => {
                measured.p99_ms = milliseconds(value)?;
                found.2 = true;
            }
            (Some(count), Some("requests")) => {
                // "318000 requests in 20.00s, 200.00MB read"
                measured.requests = count.parse().ok()?;
            }
            (Some("Non-2xx"), _) => {
                measured.errors += line.rsplit(' ').next()?.parse::<u64>().ok()?;
            }
            (Some("Socket"), Some("errors:")) => {
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                measured.errors += line
                    .split(',')
                    .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    (found == (true, true, true)).then_some(measured)
}

/// wrk's `1.23ms`, `456.00us`, `1.10s` in milliseconds.
fn milliseconds(value: &str) -> Option<f64> {
    let (number, factor) = if let Some(number) = value.strip_suffix("us") {
        (number, 1e-3)
    } else if let Some(number) = value.strip_suffix("ms") {
        (number, 1.0)
    } else if let Some(number) = value.strip_suffix('s') {
        (number, 1e3)
    } else {
        return None;
    };
    Some(number.parse::<f64>().ok()? * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "\
Running 20s test @ http://127.0.0.1:18000/bands/x
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.01ms    1.10ms  30.00ms   90.00%
    Req/Sec    16.00k     1.00k   18.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    2.00ms
     90%    3.00ms
     99%    6.50ms
  318000 requests in 20.00s, 200.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  15900.12
Transfer/sec:     10.00MB
";
        let measured = parse_wrk(report).expect("readable");
        assert_eq!(measured.requests_per_second, 15900.12);
        assert!((measured.p50_ms - 0.812).abs() < 1e-9);
        assert_eq!(measured.p99_ms, 6.5);
        assert_eq!(measured.errors, 7);
        assert_eq!(measured.requests, 318_000);
        assert_eq!(parse_wrk("Requests/sec: 5"), None, "no percentiles");
    }

    #[test]
    fn reads_an_oha_report() {
        let report = r#"{
  "summary": { "successRate": 0.99, "total": 15.0, "requestsPerSec": 2499.8 },
  "latencyPercentiles": { "p10": 0.0003, "p50": 0.00066, "p99": 0.00602, "p99.9": 0.00903 },
  "rps": { "mean": 2500.0, "percentiles": { "p50": 2500.0, "p99": 2600.0 } },
  "statusCodeDistribution": { "200": 37490, "503": 7 },
  "errorDistribution": { "connection closed before message completed": 3, "aborted due to deadline": 25 }
}"#;
        let measured = parse_oha(report).expect("readable");
        assert_eq!(measured.requests_per_second, 2499.8);
        assert!((measured.p50_ms - 0.66).abs() < 1e-9);
        assert!((measured.p99_ms - 6.02).abs() < 1e-9);
        assert!((measured.p999_ms.expect("p99.9") - 9.03).abs() < 1e-9);
        assert_eq!(measured.requests, 37_500);
        assert_eq!(measured.errors, 10);
        assert_eq!(parse_oha(r#"{"summary": {}}"#), None, "no percentiles");
    }

    #[test]
    fn reads_the_stored_span_count_from_the_status() {
        let status = r#"{"forward":null,"services":[],"store":{"bytes":440274944,"logs":160410,"metrics":4,"spans":482042,"traces":80387}}"#;
        let store = &status[status.find("\"store\"").expect("store")..];
        assert_eq!(json_number(store, "spans"), Some(482_042.0));
        assert_eq!(json_number(store, "traces"), Some(80_387.0));
        assert_eq!(json_number(store, "missing"), None);
    }
}
