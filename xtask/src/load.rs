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
//! than the CPU a request costs). A benchmark: it reports numbers and fails
//! only when something does not run.

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
}

pub fn run() -> Result {
    ensure_wrk()?;
    project::build_tracelab_release(&[])?;
    let traced = measure(&[])?;
    let sampled_out = measure(&[("OTEL_TRACES_SAMPLER", "always_off")])?;
    let bare = measure(&[
        ("OTEL_TRACES_SAMPLER", "always_off"),
        ("OTEL_LOGS_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "none"),
    ])?;
    let untraced = measure(&[("OTEL_SDK_DISABLED", "true")])?;
    println!();
    println!(
        "chain: wrk -t1 -c{CONNECTIONS} -d{DURATION} --latency GET /bands/{{uuid}} (lesson step 6)"
    );
    println!(
        "{:<44} {:>12} {:>9} {:>9} {:>7} {:>14}",
        "", "requests/s", "p50", "p99", "errors", "CPU/request"
    );
    for (name, measured) in [
        ("traced, stored by the embedded collector", &traced),
        ("traced, sampled out (always_off)", &sampled_out),
        ("sampled out, no log or metric export", &bare),
        ("OTEL_SDK_DISABLED=true", &untraced),
    ] {
        println!(
            "{name:<44} {:>12.0} {:>7.2}ms {:>7.2}ms {:>7} {:>12.1}µs",
            measured.requests_per_second,
            measured.p50_ms,
            measured.p99_ms,
            measured.errors,
            measured.cpu_us_per_request
        );
    }
    if untraced.requests_per_second > 0.0 {
        for (name, measured) in [
            ("traced and stored", &traced),
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

/// Starts the lab with `env` added, waits for bands-api, runs wrk, stops the lab.
fn measure(env: &[(&str, &str)]) -> Result<Measured> {
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
    // Warm-up: connections, SQLite's cache, the allocator.
    wrk(&url, "3s")?;
    let cpu_before = cpu_seconds();
    let text = wrk(&url, DURATION)?;
    let cpu_spent = cpu_seconds() - cpu_before;
    drop(lab);
    let mut measured =
        parse_wrk(&text).ok_or_else(|| format!("could not read wrk's output:\n{text}"))?;
    if measured.requests > 0 {
        measured.cpu_us_per_request = cpu_spent * 1e6 / measured.requests as f64;
    }
    Ok(measured)
}

fn wrk(url: &str, duration: &str) -> Result<String> {
    let shown = format!("wrk -t1 -c{CONNECTIONS} -d{duration} --latency {url}");
    println!("$ {shown}");
    let out = command("wrk")
        .args([
            "-t1",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{duration}"),
            "--latency",
            url,
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("could not start wrk: {error}"))?;
    if !out.status.success() {
        return Err(format!("`{shown}` failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
}
