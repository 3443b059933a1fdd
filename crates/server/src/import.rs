//! `tracelab import FILE…`: trace files from other systems into tracelab's
//! span store.
//!
//! Each file (`-` is stdin) is read whole, its format detected and its
//! spans read by `tracelab-formats` (Jaeger JSON, Zipkin v2, OTLP JSON and
//! its line-delimited form, Jaeger api_v3, Tempo). The traces become OTLP
//! the way the rest of tracelab already does it: `tracelab-formats`' OTLP
//! exporter writes them, and the collector's own tolerant OTLP/JSON reader
//! ([`crate::collector::otlp_json`]) reads them into the protobuf structs,
//! so import has no converter of its own.
//!
//! Where they go ([`Sink`]): by default a running tracelab's OTLP/HTTP
//! endpoint (`POST /v1/traces`, protobuf), which answers only once a
//! request is committed; requests are cut to at most `--max-request`
//! bytes, a few in flight at once, and one the endpoint still finds too
//! large (413) is split in two and sent again. With `--data-dir`, straight into that directory's
//! store, one transaction per request, for when no tracelab runs.
//!
//! What it is not for: reading the formats (that is `tracelab-formats`,
//! which the browser's Import page runs too) or storing (the collector and
//! `tracelab-store`).

use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use tracelab_formats::{Dropped, Format, Imported};
use tracelab_store::Store;
use tracelab_trace::model::Trace;

use crate::cli::ImportArgs;
use crate::collector::forward::{attempt, Attempt};
use crate::collector::otlp_json;
use crate::lab::parse_size;
use crate::{EXIT_INVALID, EXIT_USAGE, EXIT_VALID};

/// How many of a file's problems are printed (all are counted).
const PROBLEMS_SHOWN: usize = 20;
/// How often a request the endpoint asks to retry (busy, 503) is tried.
const MAX_TRIES: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Where the spans go.
pub enum Sink {
    /// A running tracelab's (or any OTLP receiver's) `/v1/traces`.
    Http {
        client: reqwest::Client,
        /// The endpoint's base, as given (`http://127.0.0.1:4318`).
        endpoint: String,
    },
    /// A store opened here (`--data-dir`).
    Store(Arc<Store>),
}

/// Runs the command: 0 when every file loaded whole, 1 when something was
/// skipped or turned down, 2 when a file could not be read or loaded.
pub async fn run(args: &ImportArgs) -> Result<u8, String> {
    let max_request = parse_size("--max-request", &args.max_request)?
        .and_then(|bytes| usize::try_from(bytes).ok())
        .filter(|bytes| *bytes >= 1024)
        .ok_or_else(|| {
            format!(
                "--max-request {:?} must be a size of at least 1KiB, such as 4MiB",
                args.max_request
            )
        })?;
    let sink = match &args.data_dir {
        Some(dir) => {
            let path = dir.join("traces.db");
            let store = tokio::task::spawn_blocking(move || Store::open(&path))
                .await
                .map_err(|error| format!("opening the store failed: {error}"))?
                .map_err(|error| error.to_string())?;
            Sink::Store(Arc::new(store))
        }
        None => {
            let endpoint = args.endpoint.trim_end_matches('/').to_owned();
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(format!(
                    "--endpoint {endpoint:?} is not an http:// or https:// URL of an OTLP/HTTP \
                     endpoint (such as http://127.0.0.1:4318)"
                ));
            }
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
            Sink::Http { client, endpoint }
        }
    };
    let mut code = EXIT_VALID;
    for file in &args.files {
        let file_code = import_file(file, &sink, max_request, args).await;
        code = code.max(file_code);
        // Nothing listening is the same for every file: say it once.
        if file_code == EXIT_UNREACHABLE {
            return Ok(EXIT_USAGE);
        }
    }
    Ok(code)
}

/// A file's outcome when the endpoint could not be reached at all.
const EXIT_UNREACHABLE: u8 = 3;

/// Loads one file and prints what came of it; its exit code.
async fn import_file(file: &Path, sink: &Sink, max_request: usize, args: &ImportArgs) -> u8 {
    let name = if file == Path::new("-") {
        "stdin".to_owned()
    } else {
        file.display().to_string()
    };
    let bytes = match read_input(file).await {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("tracelab import: cannot read {name}: {error}");
            return EXIT_USAGE;
        }
    };
    let read = tokio::task::spawn_blocking(move || {
        let imported = tracelab_formats::import(&bytes);
        let request = to_request(&imported.traces);
        (imported, request)
    })
    .await;
    let (imported, request) = match read {
        Ok(read) => read,
        Err(error) => {
            eprintln!("tracelab import: reading {name} failed: {error}");
            return EXIT_USAGE;
        }
    };
    let nothing_read = imported.traces.is_empty()
        && imported
            .skipped
            .iter()
            .any(|problem| problem.dropped == Dropped::File);
    if imported.format == Format::Unknown || nothing_read {
        let why = imported
            .skipped
            .first()
            .map_or_else(|| "no spans".to_owned(), ToString::to_string);
        if imported.format == Format::Unknown {
            eprintln!("tracelab import: {name}: {why}");
        } else {
            eprintln!(
                "tracelab import: {name}: {}, but nothing in it could be read: {why}",
                imported.format
            );
        }
        return EXIT_USAGE;
    }
    let request = match request {
        Ok(request) => request,
        Err(message) => {
            // The exporter and the decoder are tracelab's own: a bug.
            eprintln!(
                "tracelab import: {name}: the traces read could not be made OTLP ({message}); \
                 please report this with the file"
            );
            return EXIT_USAGE;
        }
    };
    let batch = Batch::new(request);
    let delivered = deliver(sink, &batch, max_request).await;
    if delivered.unreachable && delivered.accepted == 0 {
        if let Some(why) = &delivered.failed {
            eprintln!("tracelab import: {why}");
        }
        return EXIT_UNREACHABLE;
    }
    report(&name, &imported, &delivered, args)
}

async fn read_input(file: &Path) -> std::io::Result<Vec<u8>> {
    if file == Path::new("-") {
        tokio::task::spawn_blocking(|| {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .map(|_| bytes)
        })
        .await
        .map_err(std::io::Error::other)?
    } else {
        let file = PathBuf::from(file);
        tokio::task::spawn_blocking(move || std::fs::read(file))
            .await
            .map_err(std::io::Error::other)?
    }
}

/// Imported traces as one OTLP export request: each written by
/// `tracelab-formats`' OTLP exporter and read back by the collector's
/// OTLP/JSON decoder (the same path an OTLP/HTTP JSON export takes).
pub fn to_request(traces: &[Trace]) -> Result<ExportTraceServiceRequest, String> {
    let mut request = ExportTraceServiceRequest::default();
    for trace in traces {
        let json = tracelab_formats::to_otlp_json(trace);
        let one: ExportTraceServiceRequest = otlp_json::decode(json.as_bytes())?;
        request.resource_spans.extend(one.resource_spans);
    }
    Ok(request)
}

/// A request's spans in order, each with the scope (and so the resource)
/// it came under, so that any run of them can be sent as a request of its
/// own.
pub struct Batch {
    /// Each resource, its `scope_spans` left empty.
    resources: Vec<ResourceSpans>,
    /// Each scope with the index of its resource, its `spans` left empty.
    scopes: Vec<(usize, ScopeSpans)>,
    /// Each span with the index of its scope.
    spans: Vec<(usize, Span)>,
}

impl Batch {
    pub fn new(request: ExportTraceServiceRequest) -> Batch {
        let mut batch = Batch {
            resources: Vec::new(),
            scopes: Vec::new(),
            spans: Vec::new(),
        };
        for mut resource_spans in request.resource_spans {
            let resource_idx = batch.resources.len();
            for mut scope_spans in std::mem::take(&mut resource_spans.scope_spans) {
                let scope_idx = batch.scopes.len();
                batch.spans.extend(
                    std::mem::take(&mut scope_spans.spans)
                        .into_iter()
                        .map(|span| (scope_idx, span)),
                );
                batch.scopes.push((resource_idx, scope_spans));
            }
            batch.resources.push(resource_spans);
        }
        batch
    }

    pub fn n_spans(&self) -> usize {
        self.spans.len()
    }

    /// The spans of `range` as a request, under their resources and scopes
    /// (consecutive spans of one scope share its `ScopeSpans`).
    pub fn request(&self, range: Range<usize>) -> ExportTraceServiceRequest {
        let mut request = ExportTraceServiceRequest::default();
        let mut last: Option<(usize, usize)> = None;
        for (scope_idx, span) in &self.spans[range] {
            let (resource_idx, scope) = &self.scopes[*scope_idx];
            if last.map(|(resource, _)| resource) != Some(*resource_idx) {
                request
                    .resource_spans
                    .push(self.resources[*resource_idx].clone());
            }
            if last.map(|(_, scope)| scope) != Some(*scope_idx) {
                if let Some(resource_spans) = request.resource_spans.last_mut() {
                    resource_spans.scope_spans.push(scope.clone());
                }
            }
            if let Some(scope_spans) = request
                .resource_spans
                .last_mut()
                .and_then(|resource_spans| resource_spans.scope_spans.last_mut())
            {
                scope_spans.spans.push(span.clone());
            }
            last = Some((*resource_idx, *scope_idx));
        }
        request
    }

    /// Runs of spans whose requests take at most about `max_bytes` encoded
    /// (a span larger than that on its own), in order, covering them all.
    pub fn runs(&self, max_bytes: usize) -> Vec<Range<usize>> {
        // An over-estimate: each span's own length plus its field's tag and
        // length, and each change of scope its resource's and scope's.
        let mut runs = Vec::new();
        let mut start = 0;
        let mut size = 0;
        let mut last_scope = None;
        for (idx, (scope_idx, span)) in self.spans.iter().enumerate() {
            let mut cost = span.encoded_len() + 16;
            if last_scope != Some(*scope_idx) {
                let (resource_idx, scope) = &self.scopes[*scope_idx];
                cost += scope.encoded_len() + self.resources[*resource_idx].encoded_len() + 32;
            }
            if idx > start && size + cost > max_bytes {
                runs.push(start..idx);
                start = idx;
                size = 0;
                let (resource_idx, scope) = &self.scopes[*scope_idx];
                cost = span.encoded_len()
                    + 16
                    + scope.encoded_len()
                    + self.resources[*resource_idx].encoded_len()
                    + 32;
            }
            size += cost;
            last_scope = Some(*scope_idx);
        }
        if start < self.spans.len() {
            runs.push(start..self.spans.len());
        }
        runs
    }
}

/// What was delivered of a file.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Spans sent and taken (stored now or before).
    pub accepted: u64,
    /// Spans the receiver turned down, with its messages.
    pub rejected: u64,
    pub messages: Vec<String>,
    /// Why delivery stopped before the end, if it did.
    pub failed: Option<String>,
    /// Whether no connection could be made to the endpoint.
    pub unreachable: bool,
}

/// How many requests are in flight at once: the collector commits
/// requests that arrive together in one transaction (group commit), so a
/// few at a time keep its writer busy while the next are encoded and sent.
const IN_FLIGHT: usize = 4;

/// Sends the batch's spans in runs of at most `max_request` bytes, up to
/// `IN_FLIGHT` at once, with progress on stderr when there is more than
/// one request. Stops at the first run that fails.
pub async fn deliver(sink: &Sink, batch: &Batch, max_request: usize) -> Delivered {
    use futures_util::StreamExt;

    let mut delivered = Delivered::default();
    let total = batch.n_spans() as u64;
    let runs = batch.runs(max_request);
    let progress = (runs.len() > 1).then(|| crate::progress::Progress::new(total, "spans"));
    let taken_any = AtomicBool::new(false);
    let mut outcomes = futures_util::stream::iter(runs)
        .map(|range| deliver_run(sink, batch, range, &taken_any))
        .buffered(IN_FLIGHT);
    while let Some(outcome) = outcomes.next().await {
        delivered.accepted += outcome.accepted;
        delivered.rejected += outcome.rejected;
        delivered.messages.extend(outcome.messages);
        if let Some(why) = outcome.failed {
            delivered.unreachable = outcome.unreachable;
            delivered.failed = Some(why);
            break;
        }
        if let Some(progress) = &progress {
            progress.update(delivered.accepted + delivered.rejected);
        }
    }
    if let Some(progress) = &progress {
        progress.finish();
    }
    delivered
}

/// Sends one run of spans; a request the endpoint finds too large (413) is
/// split in two and each half sent, down to single spans.
async fn deliver_run(
    sink: &Sink,
    batch: &Batch,
    range: Range<usize>,
    taken_any: &AtomicBool,
) -> Delivered {
    let mut delivered = Delivered::default();
    let mut pending = vec![range];
    while let Some(range) = pending.pop() {
        let n_spans = range.len() as u64;
        let request = batch.request(range.clone());
        let sent = match sink {
            Sink::Store(store) => store_request(store, request).await,
            Sink::Http { client, endpoint } => {
                let first = !taken_any.load(Ordering::Relaxed);
                post_request(client, endpoint, request, first).await
            }
        };
        match sent {
            Sent::Taken { rejected, message } => {
                taken_any.store(true, Ordering::Relaxed);
                delivered.accepted += n_spans.saturating_sub(rejected);
                delivered.rejected += rejected;
                delivered.messages.extend(message);
            }
            // Too large for the endpoint after all: in two halves.
            Sent::TooLarge(_) if range.len() > 1 => {
                let middle = range.start + range.len() / 2;
                pending.push(middle..range.end);
                pending.push(range.start..middle);
            }
            Sent::TooLarge(why) => {
                delivered.rejected += 1;
                delivered
                    .messages
                    .push(format!("a span too large to send: {why}"));
            }
            Sent::Failed(why) => {
                delivered.failed = Some(why);
                break;
            }
            Sent::Unreachable(why) => {
                delivered.unreachable = true;
                delivered.failed = Some(why);
                break;
            }
        }
    }
    delivered
}

/// What came of one request.
enum Sent {
    /// Committed, some spans perhaps turned down.
    Taken {
        rejected: u64,
        message: Option<String>,
    },
    /// The endpoint said it is too large (413).
    TooLarge(String),
    Failed(String),
    /// Nothing listens at the endpoint.
    Unreachable(String),
}

async fn store_request(store: &Arc<Store>, request: ExportTraceServiceRequest) -> Sent {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || store.ingest_traces(&request)).await {
        Ok(Ok(outcome)) => Sent::Taken {
            rejected: outcome.rejected_spans,
            message: outcome.message,
        },
        Ok(Err(error)) => Sent::Failed(format!("the store could not write: {error}")),
        Err(error) => Sent::Failed(format!("the store's task failed: {error}")),
    }
}

/// POSTs one request, trying again with backoff while the endpoint is busy
/// (or, after the first request went through, unreachable for a moment).
async fn post_request(
    client: &reqwest::Client,
    endpoint: &str,
    request: ExportTraceServiceRequest,
    first: bool,
) -> Sent {
    let url = format!("{endpoint}/v1/traces");
    let body = request.encode_to_vec();
    let mut backoff = FIRST_BACKOFF;
    let mut tries = 0;
    loop {
        tries += 1;
        let (after, why) = match attempt(client, &url, body.clone()).await {
            Attempt::Sent(answer) => {
                let partial = ExportTraceServiceResponse::decode(answer.as_slice())
                    .ok()
                    .and_then(|response| response.partial_success);
                return Sent::Taken {
                    rejected: partial.as_ref().map_or(0, |partial| {
                        u64::try_from(partial.rejected_spans).unwrap_or(0)
                    }),
                    message: partial
                        .map(|partial| partial.error_message)
                        .filter(|message| !message.is_empty()),
                };
            }
            Attempt::Refused(413, why) => return Sent::TooLarge(why),
            Attempt::Refused(_, why) => return Sent::Failed(format!("{url} {why}")),
            Attempt::Unreachable(why) if first => {
                return Sent::Unreachable(format!(
                    "nothing is listening at {endpoint} ({why}); start one with `tracelab up` \
                     or `tracelab collector`, point --endpoint at a running one, or write into \
                     a store with --data-dir"
                ))
            }
            Attempt::Unreachable(why) => (None, why),
            Attempt::Retry(after, why) => (after, why),
        };
        if tries >= MAX_TRIES {
            return Sent::Failed(format!("{url}: gave up after {tries} tries ({why})"));
        }
        tokio::time::sleep(after.unwrap_or(backoff).min(MAX_BACKOFF)).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Prints what came of a file; its exit code.
fn report(name: &str, imported: &Imported, delivered: &Delivered, args: &ImportArgs) -> u8 {
    let mut out = std::io::stdout().lock();
    let n_spans: usize = imported.traces.iter().map(|trace| trace.spans.len()).sum();
    let loaded = if delivered.accepted == n_spans as u64 {
        plural(n_spans, "span", "spans")
    } else {
        format!("{} of {n_spans} spans", delivered.accepted)
    };
    let _ = writeln!(
        out,
        "{name}: {}, {}, {loaded} loaded",
        imported.format,
        plural(imported.traces.len(), "trace", "traces"),
    );
    if imported.n_skipped > 0 {
        let _ = writeln!(
            out,
            "  skipped while reading: {}",
            plural(imported.n_skipped, "problem", "problems")
        );
        for problem in imported.skipped.iter().take(PROBLEMS_SHOWN) {
            let _ = writeln!(out, "    {problem}");
        }
        if imported.n_skipped > PROBLEMS_SHOWN {
            let _ = writeln!(
                out,
                "    … and {} more",
                imported.n_skipped - PROBLEMS_SHOWN
            );
        }
    }
    if delivered.rejected > 0 {
        let _ = writeln!(
            out,
            "  turned down by the receiver: {}",
            plural(delivered.rejected as usize, "span", "spans")
        );
        for message in &delivered.messages {
            let _ = writeln!(out, "    {message}");
        }
    }
    let ui = args.ui_url.trim_end_matches('/');
    if delivered.failed.is_none() {
        for trace in imported.traces.iter().take(args.links) {
            if let Some(span) = trace.spans.first() {
                let _ = writeln!(out, "  {ui}/trace/{}", span.trace_id);
            }
        }
        if imported.traces.len() > args.links {
            let more = imported.traces.len() - args.links;
            let _ = writeln!(
                out,
                "  … and {more} more {}",
                if more == 1 { "trace" } else { "traces" }
            );
        }
    }
    drop(out);
    if let Some(why) = &delivered.failed {
        eprintln!("tracelab import: {name}: {why}");
        return if delivered.unreachable {
            EXIT_UNREACHABLE
        } else {
            EXIT_USAGE
        };
    }
    if imported.n_skipped > 0 || delivered.rejected > 0 {
        EXIT_INVALID
    } else {
        EXIT_VALID
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated trace as a request, through the same path as an import.
    fn request(n_spans: usize) -> ExportTraceServiceRequest {
        let trace = tracelab_trace::generate::generate(n_spans, 18);
        to_request(&[trace]).expect("tracelab's own OTLP reads back")
    }

    #[test]
    fn runs_cover_every_span_once_in_order_and_stay_under_the_limit() {
        let batch = Batch::new(request(2_000));
        let total = batch.n_spans();
        assert_eq!(total, 2_000);
        for max_bytes in [1_024, 16 * 1024, 256 * 1024, usize::MAX] {
            let runs = batch.runs(max_bytes);
            let mut next = 0;
            for run in &runs {
                assert_eq!(run.start, next, "runs are consecutive");
                assert!(!run.is_empty());
                next = run.end;
                let encoded = batch.request(run.clone()).encoded_len();
                assert!(
                    encoded <= max_bytes || run.len() == 1,
                    "{max_bytes}: a run of {} spans encodes to {encoded} bytes",
                    run.len()
                );
            }
            assert_eq!(next, total, "{max_bytes}: every span is in a run");
            if max_bytes == usize::MAX {
                assert_eq!(runs.len(), 1);
            }
        }
    }

    #[test]
    fn a_run_keeps_each_span_under_its_own_resource_and_scope() {
        let whole = request(300);
        let batch = Batch::new(whole.clone());
        // Every span, wherever the cuts fall, with the service and scope it
        // had in the whole request.
        let owner = |request: &ExportTraceServiceRequest| {
            let mut found = Vec::new();
            for resource_spans in &request.resource_spans {
                for scope_spans in &resource_spans.scope_spans {
                    for span in &scope_spans.spans {
                        found.push((
                            span.span_id.clone(),
                            resource_spans.resource.clone(),
                            scope_spans.scope.clone(),
                        ));
                    }
                }
            }
            found
        };
        let mut pieces = Vec::new();
        for run in batch.runs(4 * 1024) {
            pieces.extend(owner(&batch.request(run)));
        }
        assert_eq!(pieces, owner(&whole));
    }
}
