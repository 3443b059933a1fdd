//! `tracelab call`: the demo's client over real HTTP. One call prints the
//! band as the original client printed it and the link to its trace; many
//! calls (`--count`, `--concurrency`) show progress and end with a latency
//! summary.

use std::io::Write;

use crate::progress::Progress;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracelab_context::TraceState;
use tracelab_demo::client::{self, ClientResult};
use tracelab_demo::data::is_uuid;
use tracelab_demo::sim::pretty_json;
use tracelab_demo::{Service, Services, Topology};

use crate::cli::CallArgs;
use crate::lab::endpoint;
use crate::native::{HttpTransport, SystemClock};
use crate::otel::{OtelSettings, ServiceOtel};

/// What many calls measured.
#[derive(Debug, Default)]
struct Tally {
    latencies: Vec<Duration>,
    /// Calls answered with a status that is not 2xx, by status.
    statuses: std::collections::BTreeMap<u16, u64>,
    /// Calls that got no answer, by reason.
    failures: std::collections::BTreeMap<String, u64>,
}

/// Runs the command; the exit code is 0 when every call got a 2xx.
pub async fn run(args: &CallArgs) -> Result<u8, String> {
    if !is_uuid(&args.band) {
        return Err(format!(
            "--band {:?} is not a band uuid (8-4-4-4-12 hex digits)",
            args.band
        ));
    }
    if let Some(tracestate) = &args.tracestate {
        if let Err(error) = TraceState::parse(tracestate) {
            return Err(format!("--tracestate {tracestate:?} is not valid: {error}"));
        }
    }
    let settings = OtelSettings::from_env()?;
    let topology = Topology {
        bands: endpoint("--bands-addr", &args.bands_addr)?,
        trace_ui: args.ui_url.trim_end_matches('/').to_owned(),
        ..Topology::default()
    };
    let transport = HttpTransport::new(topology.clone())?;
    let runtime = tokio::runtime::Handle::current();
    let otel = ServiceOtel::start(Service::Client, &settings, true, &runtime)?.map(Arc::new);
    let telemetry = otel.as_ref().map(|otel| {
        let mut telemetry = otel.telemetry();
        telemetry.initial_tracestate = args.tracestate.clone();
        telemetry
    });
    let propagate = !args.no_propagate;
    let call_once = || async {
        let services = Services {
            clock: &SystemClock,
            transport: &transport,
            topology: &topology,
        };
        let started = Instant::now();
        let result = client::get_band(telemetry.as_ref(), propagate, &args.band, services).await;
        (result, started.elapsed())
    };

    let code = if args.count == 1 {
        let (result, _) = call_once().await;
        print_one(&result, &topology)
    } else {
        let tally = Mutex::new(Tally::default());
        let next = AtomicU64::new(0);
        let done = AtomicU64::new(0);
        let progress = Progress::new(args.count, "calls");
        let started = Instant::now();
        let worker = || async {
            while next.fetch_add(1, Ordering::Relaxed) < args.count {
                let (result, latency) = call_once().await;
                record(&tally, &result, latency);
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.update(finished);
            }
        };
        let workers: Vec<_> = (0..args.concurrency.min(args.count))
            .map(|_| worker())
            .collect();
        futures_util::future::join_all(workers).await;
        progress.finish();
        let tally = tally
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        print_summary(&tally, started.elapsed(), args);
        u8::from(!(tally.statuses.is_empty() && tally.failures.is_empty()))
    };
    if let Some(otel) = otel {
        // Deliver the client's spans before exiting (the batch would
        // otherwise wait up to its 5 s interval, or be lost).
        let _ = tokio::task::spawn_blocking(move || otel.shutdown()).await;
    }
    Ok(code)
}

/// Prints one call as the original client did: the JSON, then the link.
fn print_one(result: &ClientResult, topology: &Topology) -> u8 {
    let mut stdout = std::io::stdout().lock();
    let code = match &result.response {
        Ok(response) => {
            let _ = writeln!(stdout, "{}", pretty_json(&response.body));
            u8::from(!(200..300).contains(&response.status))
        }
        Err(error) => {
            eprintln!("tracelab call: bands-api did not answer: {error}");
            1
        }
    };
    // The client's own trace when traced; otherwise the one bands-api named.
    let trace_id = result.trace_id.clone().or_else(|| {
        result
            .response
            .as_ref()
            .ok()
            .and_then(|response| response.header("trace-id").map(str::to_owned))
    });
    if let Some(trace_id) = trace_id {
        let _ = writeln!(stdout, "trace: {}", topology.trace_link(&trace_id));
    }
    code
}

fn record(tally: &Mutex<Tally>, result: &ClientResult, latency: Duration) {
    let mut tally = tally
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    tally.latencies.push(latency);
    match &result.response {
        Ok(response) if (200..300).contains(&response.status) => {}
        Ok(response) => *tally.statuses.entry(response.status).or_default() += 1,
        Err(error) => {
            *tally
                .failures
                .entry(error.error_type().to_owned())
                .or_default() += 1
        }
    }
}

/// The latency at quantile `q` (0 to 1) of sorted latencies, nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn print_summary(tally: &Tally, elapsed: Duration, args: &CallArgs) {
    let mut sorted = tally.latencies.clone();
    sorted.sort_unstable();
    let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
    let errors: u64 = tally.statuses.values().sum::<u64>() + tally.failures.values().sum::<u64>();
    println!(
        "{} calls, {} at a time, in {:.2} s: {:.1} calls/s",
        sorted.len(),
        args.concurrency.min(args.count),
        elapsed.as_secs_f64(),
        sorted.len() as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    println!(
        "latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(quantile(&sorted, 0.50)),
        ms(quantile(&sorted, 0.90)),
        ms(quantile(&sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default())
    );
    if errors == 0 {
        println!("errors: none");
    } else {
        let mut parts: Vec<String> = tally
            .statuses
            .iter()
            .map(|(status, count)| format!("{count} answered {status}"))
            .collect();
        parts.extend(
            tally
                .failures
                .iter()
                .map(|(kind, count)| format!("{count} {kind}")),
        );
        println!("errors: {errors} ({})", parts.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&sorted, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&sorted, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&sorted, 1.0), Duration::from_millis(100));
        assert_eq!(quantile(&sorted[..1], 0.99), Duration::from_millis(1));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }
}
