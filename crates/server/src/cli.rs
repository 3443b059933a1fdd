//! The command line, declared with clap.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The trace UI of the original demo (Jaeger's port), where links point
/// unless told otherwise.
pub const DEFAULT_UI_URL: &str = "http://localhost:16686";

/// tracelab: a lab for learning and debugging distributed tracing.
#[derive(Debug, Parser)]
#[command(name = "tracelab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode W3C traceparent/tracestate headers and say what a receiver does with them.
    ///
    /// Reads the TEXT arguments (each one a line), or stdin when there are none.
    /// Accepts a bare traceparent value, `traceparent: …` / `tracestate: …` lines,
    /// a block of HTTP headers, `curl -v` output, a log line with
    /// `traceparent=…`, or a JSON object.
    ///
    /// Exit status: 0 when every header found is valid, 1 when one is invalid,
    /// 2 for usage errors or when no header is found.
    #[command(after_help = "Examples:\n  \
        tracelab decode 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n  \
        curl -sv http://localhost:8000/bands/1 2>&1 | tracelab decode\n  \
        tracelab decode --json 'traceparent: 00-…' 'tracestate: rojo=1'")]
    Decode(DecodeArgs),

    /// Run the whole lab in one process: bands-api and reviews-api traced
    /// with OpenTelemetry, the OTLP collector that receives their telemetry
    /// (and any other SDK's), the span store, and the UI with the query API.
    /// Ctrl-C stops it after flushing every span.
    Up(UpArgs),

    /// Run bands-api alone (GET /bands/{uuid}), calling reviews-api.
    Bands(ServiceArgs),

    /// Run reviews-api alone (GET /reviews?band_id={uuid}), reading SQLite.
    Reviews(ServiceArgs),

    /// Run the OTLP collector alone (gRPC 4317, HTTP 4318) with the span
    /// store and the UI and query API (16686).
    Collector(CollectorCommandArgs),

    /// The demo's client: ask bands-api for a band in a traced call, print
    /// the band and the link to its trace.
    ///
    /// With --count, make many calls (--concurrency at once) and print a
    /// latency summary. Exit status: 0 when every call got a 2xx, 1 when one
    /// did not, 2 for a usage error.
    #[command(after_help = "Examples:\n  \
        tracelab call\n  \
        tracelab call --tracestate 'rojo=00f067aa0ba902b7'\n  \
        tracelab call --count 1000 --concurrency 16")]
    Call(CallArgs),

    /// Serve POST /test for the W3C Trace Context validation harness
    /// (test/test.py of github.com/w3c/trace-context).
    ///
    /// For each {"url", "arguments"} of the JSON array it receives, POSTs
    /// "arguments" to "url", carrying the trace context on as tracelab's
    /// receiver decides (the same decision as `tracelab decode`).
    #[command(after_help = "Example (the harness itself listens on 7777):\n  \
        tracelab w3c-test-service &\n  \
        STRICT_LEVEL=2 SPEC_LEVEL=2 python test.py http://127.0.0.1:5000/test")]
    W3cTestService(W3cArgs),

    /// Load trace files from other systems into tracelab: Jaeger JSON,
    /// Zipkin v2 JSON, OTLP JSON (one request, or the OpenTelemetry
    /// Collector's file exporter's lines), Jaeger api_v3 and Tempo JSON.
    ///
    /// Each FILE (`-` for stdin) is read, its format detected, and its
    /// spans sent to a running tracelab's OTLP/HTTP endpoint (`tracelab up`
    /// or `tracelab collector`), which answers once they are stored; with
    /// --data-dir they are written straight into that directory's store
    /// instead. Prints, per file, the format, what was loaded, what was
    /// skipped and why (by the field's path), and a link to each trace.
    ///
    /// Exit status: 0 when every file was loaded whole, 1 when something in
    /// a file was skipped or turned down, 2 when a file could not be read
    /// or is no trace file, for usage errors, or when nothing listens at
    /// the endpoint.
    #[command(after_help = "Examples:\n  \
        tracelab import trace.json\n  \
        tracelab import --endpoint http://127.0.0.1:14318 jaeger-*.json zipkin.json\n  \
        tracelab import - < otelcol-export.jsonl\n  \
        tracelab import --data-dir ~/.local/share/tracelab trace.json")]
    Import(ImportArgs),
}

/// `tracelab import`'s options.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Trace files to load; `-` reads stdin.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<std::path::PathBuf>,

    /// The OTLP/HTTP endpoint of a running tracelab (or any OTLP/HTTP
    /// receiver): spans are POSTed to its /v1/traces.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:4318")]
    pub endpoint: String,

    /// Write into the span store in this data directory (its traces.db)
    /// instead of sending to a running tracelab: for loading traces before
    /// starting one. A tracelab running on the same directory sees them
    /// in its searches, but its Live page does not.
    #[arg(long, value_name = "DIR", conflicts_with = "endpoint")]
    pub data_dir: Option<std::path::PathBuf>,

    /// The largest request to send, such as 4MiB (the collector takes 20MiB
    /// by default); a request the endpoint finds too large anyway is split
    /// in two and sent again.
    #[arg(long, value_name = "SIZE", default_value = "4MiB")]
    pub max_request: String,

    /// The trace UI the printed links point at.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:16686")]
    pub ui_url: String,

    /// How many links to print per file (the rest are counted).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub links: usize,
}

/// `tracelab w3c-test-service`'s options.
#[derive(Debug, Clone, Args)]
pub struct W3cArgs {
    /// Where the service listens (the harness's own default port is 7777).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:5000")]
    pub addr: String,

    /// Each outgoing call's timeout, in seconds (the harness waits 5 s for
    /// this service by default).
    #[arg(long, value_name = "SECONDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub timeout: u64,

    /// Send the tracestate on unchanged instead of adding this service's
    /// own entry (tracelab=PARENT-ID) at the front.
    #[arg(long)]
    pub pass_through: bool,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Header text; several arguments are read as several lines. Reads stdin when absent.
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,

    /// Print one JSON object (a stable interface) instead of the report.
    #[arg(long)]
    pub json: bool,

    /// When to colour the report.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

/// Where the demo's services listen and what they start with: shared by
/// `up`, `bands`, `reviews`.
#[derive(Debug, Clone, Args)]
pub struct LabArgs {
    /// Where bands-api listens (and where reviews-api's callers find it).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8000")]
    pub bands_addr: String,

    /// Where reviews-api listens (and where bands-api calls it).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub reviews_addr: String,

    /// The trace UI the printed links point at, and the origin allowed to
    /// call the services from a browser. With `up`, the default is the
    /// address the embedded UI really listens on.
    #[arg(long, value_name = "URL", default_value = DEFAULT_UI_URL)]
    pub ui_url: String,

    /// The lesson step whose switches the services start with: 5 is the
    /// original demo (everything traced, the planted problems in place),
    /// 6 the fixed one.
    #[arg(long, value_name = "1-6", default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=6))]
    pub step: u8,

    /// Change one switch from the step's, as NAME=VALUE (the Simulate
    /// page's names: pause-bands=false, n-reviews=7, fail-reviews=timeout,
    /// trace-reviews=false, …). Repeatable; also changeable while running
    /// with PUT /admin/switches.
    #[arg(long = "switch", value_name = "NAME=VALUE")]
    pub switches: Vec<String>,
}

/// Where the data lives: the demo's database and the span store.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// The data directory (the demo's reviews.db, the span store's traces.db).
    /// Default: $XDG_DATA_HOME/tracelab, or ~/.local/share/tracelab.
    #[arg(long, value_name = "DIR", env = "TRACELAB_DATA_DIR")]
    pub data_dir: Option<std::path::PathBuf>,

    /// Keep nothing once tracelab stops: the span store and the demo's
    /// database are temporary, held in memory and, past what fits there, in
    /// an anonymous temporary file that is removed at exit. Nothing goes to
    /// the data directory.
    #[arg(long, conflicts_with = "data_dir")]
    pub in_memory: bool,
}

/// The embedded collector and UI: where they listen and how long traces stay.
#[derive(Debug, Clone, Args)]
pub struct CollectorArgs {
    /// OTLP over gRPC.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:4317")]
    pub otlp_grpc_addr: String,

    /// OTLP over HTTP (/v1/traces, /v1/logs, /v1/metrics).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:4318")]
    pub otlp_http_addr: String,

    /// The UI and the query API (Jaeger's shape).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:16686")]
    pub ui_addr: String,

    /// Evict traces older than this (such as 30m, 12h, 7d; "none" keeps them).
    #[arg(long, value_name = "AGE", default_value = "72h")]
    pub max_age: String,

    /// Evict the oldest traces when the store is larger than this (such as
    /// 500MB, 2GiB; "none" for no limit).
    #[arg(long, value_name = "SIZE", default_value = "1GiB")]
    pub max_size: String,

    /// Serve the app from this release build instead of the one built into
    /// the binary.
    #[arg(long, value_name = "DIR")]
    pub ui_dir: Option<std::path::PathBuf>,

    /// The largest OTLP request body, after decompression (such as 20MiB).
    #[arg(long, value_name = "SIZE", default_value = "20MiB")]
    pub max_body: String,

    /// Also send everything received on to this OTLP/HTTP endpoint (an
    /// OpenTelemetry Collector, Jaeger, Tempo, another tracelab), such as
    /// http://collector:4318; retried with backoff, never holding up the
    /// local store.
    #[arg(long, value_name = "URL")]
    pub forward: Option<String>,
}

/// `tracelab up`: the services, the collector and the UI.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub lab: LabArgs,
    #[command(flatten)]
    pub collector: CollectorArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `tracelab bands` and `tracelab reviews`.
#[derive(Debug, Clone, Args)]
pub struct ServiceArgs {
    #[command(flatten)]
    pub lab: LabArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `tracelab collector`.
#[derive(Debug, Clone, Args)]
pub struct CollectorCommandArgs {
    #[command(flatten)]
    pub collector: CollectorArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `tracelab call`'s options.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// Where bands-api listens.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8000")]
    pub bands_addr: String,

    /// The band to ask for (the original demo's Fugazi by default).
    #[arg(long, value_name = "UUID", default_value = tracelab_demo::data::DEMO_BAND_ID)]
    pub band: String,

    /// A tracestate to send with the traceparent (validated first).
    #[arg(long, value_name = "TRACESTATE")]
    pub tracestate: Option<String>,

    /// Send no traceparent: bands-api starts a trace of its own.
    #[arg(long)]
    pub no_propagate: bool,

    /// How many calls to make.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub count: u64,

    /// How many calls to have in flight at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,

    /// The trace UI the printed link points at.
    #[arg(long, value_name = "URL", default_value = DEFAULT_UI_URL)]
    pub ui_url: String,
}
