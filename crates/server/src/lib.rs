//! The native tracelab: the `tracelab` command line. `tracelab decode` reads
//! headers; `tracelab up`, `bands` and `reviews` run the demo's services for
//! real over HTTP (axum on tokio, SQLite, the OpenTelemetry SDK exporting
//! over OTLP) from the same handlers the browser's simulation runs;
//! `tracelab call` is the demo's client; `tracelab w3c-test-service` serves
//! the W3C Trace Context validation harness; `tracelab import` loads other
//! systems' trace files into the span store. Later: the embedded OTLP collector,
//! the span store and the query API, serving the built app.
//!
//! What it is for: I/O. It reads arguments, files, stdin, sockets and
//! SQLite, and hands what it reads to `tracelab-context`, `tracelab-demo`
//! and the other domain crates.
//! What it is not for: trace context rules or trace layout; those live in the
//! domain crates so that the browser runs exactly the same logic.

pub mod call;
pub mod cli;
pub mod collector;
pub mod decode;
pub mod import;
pub mod lab;
pub mod native;
pub mod otel;
pub mod progress;
pub mod serve;
pub mod services;
pub mod ui;
pub mod w3c;

use clap::Parser;
use std::ffi::OsString;
use std::process::ExitCode;
use tracelab_demo::Service;

/// Exit code when every header found is valid.
pub const EXIT_VALID: u8 = 0;
/// Exit code when a header found is invalid.
pub const EXIT_INVALID: u8 = 1;
/// Exit code for usage errors, unreadable input, or input with no header.
pub const EXIT_USAGE: u8 = 2;

/// Parses the command line and runs the command.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version are successes; anything else is a usage error.
            let code = if error.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_VALID
            };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        cli::Command::Decode(args) => ExitCode::from(decode::run(&args)),
        cli::Command::Up(args) => run_async(|| async move {
            let services = [Service::Bands, Service::Reviews];
            lab::run(
                &services,
                Some(&args.lab),
                &args.data,
                Some(&args.collector),
            )
            .await
            .map(|()| EXIT_VALID)
        }),
        cli::Command::Bands(args) => run_async(|| async move {
            lab::run(&[Service::Bands], Some(&args.lab), &args.data, None)
                .await
                .map(|()| EXIT_VALID)
        }),
        cli::Command::Reviews(args) => run_async(|| async move {
            lab::run(&[Service::Reviews], Some(&args.lab), &args.data, None)
                .await
                .map(|()| EXIT_VALID)
        }),
        cli::Command::Collector(args) => run_async(|| async move {
            lab::run(&[], None, &args.data, Some(&args.collector))
                .await
                .map(|()| EXIT_VALID)
        }),
        cli::Command::Call(args) => run_async(|| async move { call::run(&args).await }),
        cli::Command::W3cTestService(args) => run_async(|| async move { w3c::run(&args).await }),
        cli::Command::Import(args) => run_async(|| async move { import::run(&args).await }),
    }
}

/// Starts logging and a tokio runtime, runs the command, and maps an error
/// to a message on stderr and exit status 2.
fn run_async<F, Fut>(command: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<u8, String>>,
{
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tracelab: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = runtime.block_on(command());
    // Whatever is still running (a connection being drained) must not hold
    // the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("tracelab: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// One log stream on stderr, the service named on every line a service
/// writes. `TRACELAB_LOG` filters it (`tracing`'s `EnvFilter` syntax); the
/// SDK's and the HTTP stack's own chatter is off unless asked for, since
/// delivery problems are reported once by `otel`, all but the SDK's word
/// that its queue was full and it dropped spans or log records
/// ([`SDK_DROPPED`]): without it, a trace missing half its spans under load
/// would go unexplained.
fn init_logging() {
    use tracing_subscriber::filter::{filter_fn, EnvFilter, FilterExt};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = EnvFilter::try_from_env("TRACELAB_LOG").unwrap_or_else(|_| {
        EnvFilter::new("info,opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off,h2=off,hyper=off,tonic=off,reqwest=off")
    });
    let dropped = filter_fn(|metadata| {
        metadata.target() == "opentelemetry_sdk" && SDK_DROPPED.contains(&metadata.name())
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_target(false)
        // Colour on a terminal only: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_filter(filter.or(dropped));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// The SDK's events (`otel_warn!` names) that say its batch processors
/// dropped data: once when dropping starts, and the count at shutdown.
const SDK_DROPPED: [&str; 4] = [
    "BatchSpanProcessor.SpanDroppingStarted",
    "BatchSpanProcessor.SpansDropped",
    "BatchLogProcessor.LogDroppingStarted",
    "BatchLogProcessor.LogsDropped",
];
