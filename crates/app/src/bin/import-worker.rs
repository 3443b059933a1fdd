//! The trace pages' worker: reads trace files with `tracelab_formats` off
//! the page's thread for the Import page, writes traces out as OTLP or
//! Jaeger JSON for every trace page's Export buttons, and generates the
//! Sample page's traces. The importers, the exporters and the generator
//! live only here, so neither the first load nor the trace pages' app
//! carries them, and a million generated spans never hold up the page.
//!
//! Trunk builds it as a Web Worker (`data-type="worker"` in `index.html`);
//! `www/import-worker-loader.js` starts it, and `tracelab_app`'s
//! `import_client` is the page's side. Messages are objects with a `kind`:
//!
//! | from the page | answer |
//! |---|---|
//! | `import-file {file}`, `import-text {text}` | `progress {stage, done, total}`…, then `report {report, readMs, parseMs, bytes}` (an [`tracelab_app::import::ImportReport`] in `wire::encode_report`'s form) |
//! | `pick {index}` (a trace of the last import) | `trace {index, header}`, then `spans {chunk}` until every span is sent (`tracelab_app::wire`) |
//! | `export {format: "otlp" \| "jaeger", header, chunks}` | `exported {format, blob}` |
//! | `generate {spans, seed}` (the Sample page's trace; `seed` as decimal text) | `progress {stage: "generate"}`, then `trace {index: 0, header}` and `spans {chunk}`… as for `pick` |
//!
//! and `error {message}` for anything that cannot be done. It says
//! `ready` once it listens. The last import's traces are kept here until
//! the next import, so picking another trace of a file reads nothing again.

use std::cell::RefCell;

use js_sys::{Array, Object, Reflect, Uint8Array};
use tracelab_app::import::report;
use tracelab_app::wire::{encode_report, Decoder, Encoder, CHUNK_SPANS};
use tracelab_trace::generate::{SpanMaker, MAX_SPANS};
use tracelab_trace::model::{Span, Trace};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, DedicatedWorkerGlobalScope, MessageEvent};

/// A file is read in slices of this many bytes, each a progress step.
const READ_SLICE: f64 = 4.0 * 1024.0 * 1024.0;

thread_local! {
    /// The last import's traces, for `pick`.
    static IMPORTED: RefCell<Vec<Trace>> = const { RefCell::new(Vec::new()) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts `{kind, …fields}`, handing over the buffers in `transfer`.
fn post(kind: &str, fields: &[(&str, JsValue)], transfer: &[JsValue]) {
    let message = Object::new();
    let _ = Reflect::set(&message, &"kind".into(), &kind.into());
    for (key, value) in fields {
        let _ = Reflect::set(&message, &(*key).into(), value);
    }
    let result = if transfer.is_empty() {
        scope().post_message(&message)
    } else {
        let list: Array = transfer.iter().collect();
        scope().post_message_with_transfer(&message, &list)
    };
    // A message that cannot be cloned is a bug here, not the file's: say so.
    if let Err(error) = result {
        leptos::logging::error!("the import worker could not post {kind}: {error:?}");
    }
}

fn fail(message: impl Into<String>) {
    post(
        "error",
        &[("message", JsValue::from_str(&message.into()))],
        &[],
    );
}

/// Bytes copied into a fresh JS buffer, as a transferable `ArrayBuffer`.
fn buffer(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).buffer().into()
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn field(message: &JsValue, key: &str) -> JsValue {
    Reflect::get(message, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Reads a dropped or picked file in slices, saying how far it got.
async fn read_file(file: Blob) -> Result<Vec<u8>, String> {
    let size = file.size();
    let len = usize::try_from(size as u64).map_err(|_| "the file is too large".to_owned())?;
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len)
        .map_err(|_| format!("the file ({len} bytes) does not fit in this tab's memory"))?;
    bytes.resize(len, 0);
    let mut start = 0.0;
    while start < size {
        let end = (start + READ_SLICE).min(size);
        let slice = file
            .slice_with_f64_and_f64(start, end)
            .map_err(|_| "the file could not be sliced".to_owned())?;
        let read = wasm_bindgen_futures::JsFuture::from(slice.array_buffer())
            .await
            .map_err(|error| format!("the file could not be read ({error:?})"))?;
        let view = Uint8Array::new(&read);
        let (from, to) = (start as usize, start as usize + view.length() as usize);
        let Some(target) = bytes.get_mut(from..to) else {
            return Err("the file changed while it was read".to_owned());
        };
        view.copy_to(target);
        start = end;
        post(
            "progress",
            &[
                ("stage", "read".into()),
                ("done", end.into()),
                ("total", size.into()),
            ],
            &[],
        );
    }
    Ok(bytes)
}

/// Imports the bytes, keeps the traces and posts the report.
fn import(bytes: &[u8], read_ms: f64) {
    post("progress", &[("stage", "parse".into())], &[]);
    let started = now();
    let imported = tracelab_formats::import(bytes);
    let parse_ms = now() - started;
    let report = report(&imported);
    IMPORTED.with(|kept| *kept.borrow_mut() = imported.traces);
    let report = buffer(&encode_report(&report));
    post(
        "report",
        &[
            ("report", report.clone()),
            ("readMs", read_ms.into()),
            ("parseMs", parse_ms.into()),
            ("bytes", (bytes.len() as f64).into()),
        ],
        &[report],
    );
}

/// Sends trace `index` of the last import (see [`send`]).
fn send_imported(index: usize) {
    IMPORTED.with(|kept| {
        let kept = kept.borrow();
        match kept.get(index) {
            Some(trace) => send(trace, index),
            None => fail(format!("the import has no trace {index}")),
        }
    });
}

/// Sends `trace` as trace `index`: its header, then its spans in chunks,
/// each a message the page decodes in a task of its own.
fn send(trace: &Trace, index: usize) {
    let mut encoder = Encoder::default();
    send_header(&encoder.header(trace), index);
    for spans in trace.spans.chunks(CHUNK_SPANS) {
        send_spans(&mut encoder, spans);
    }
}

fn send_header(header: &[u8], index: usize) {
    let header = buffer(header);
    post(
        "trace",
        &[("index", (index as f64).into()), ("header", header.clone())],
        &[header],
    );
}

fn send_spans(encoder: &mut Encoder, spans: &[Span]) {
    let chunk = buffer(&encoder.spans(spans));
    post("spans", &[("chunk", chunk.clone())], &[chunk]);
}

/// Generates the Sample page's trace (`tracelab_trace::generate`) and
/// sends it. The seed comes as decimal text: a JS number holds integers
/// exactly only up to 2^53.
fn generate(message: &JsValue) {
    let n_spans = field(message, "spans").as_f64().unwrap_or(0.0);
    let seed = field(message, "seed").as_string().unwrap_or_default();
    let Ok(seed) = seed.parse::<u64>() else {
        return fail(format!("the seed {seed:?} is not a whole number"));
    };
    if !(1.0..=MAX_SPANS as f64).contains(&n_spans) {
        return fail(format!(
            "a sample has 1 to {MAX_SPANS} spans, not {n_spans}"
        ));
    }
    post("progress", &[("stage", "generate".into())], &[]);
    // Each chunk is sent as soon as it is made: the page reads one while
    // the next is made, and the whole trace is never held here.
    let mut maker = SpanMaker::new(n_spans as usize, seed);
    let mut encoder = Encoder::default();
    send_header(
        &encoder.header_of(maker.n_spans(), maker.resources(), maker.scopes()),
        0,
    );
    loop {
        let spans = maker.next_spans(CHUNK_SPANS);
        if spans.is_empty() {
            break;
        }
        send_spans(&mut encoder, &spans);
    }
}

/// Reads the trace the page sent and writes it in the asked format.
fn export(message: &JsValue) {
    let format = field(message, "format").as_string().unwrap_or_default();
    let bytes = |value: JsValue| Uint8Array::new(&value).to_vec();
    let trace = Decoder::header(&bytes(field(message, "header"))).and_then(|mut decoder| {
        let chunks: Array = field(message, "chunks").unchecked_into();
        for chunk in chunks.iter() {
            decoder.spans(&bytes(chunk))?;
        }
        decoder.finish()
    });
    let trace = match trace {
        Ok(trace) => trace,
        Err(error) => return fail(format!("the trace to export could not be read: {error}")),
    };
    let json = match format.as_str() {
        "otlp" => tracelab_formats::to_otlp_json(&trace),
        "jaeger" => tracelab_formats::to_jaeger_json(&trace),
        other => return fail(format!("no export format {other:?}")),
    };
    let parts: Array = std::iter::once(JsValue::from(Uint8Array::from(json.as_bytes()))).collect();
    let options = BlobPropertyBag::new();
    options.set_type("application/json");
    match Blob::new_with_u8_array_sequence_and_options(&parts, &options) {
        Ok(blob) => post(
            "exported",
            &[("format", format.into()), ("blob", blob.into())],
            &[],
        ),
        Err(error) => fail(format!(
            "the export could not be made into a file ({error:?})"
        )),
    }
}

fn main() {
    std::panic::set_hook(Box::new(|info| {
        leptos::logging::error!("tracelab's import worker panicked: {info}");
        fail(format!("the import stopped on an internal error: {info}"));
    }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let message = event.data();
        match field(&message, "kind").as_string().as_deref() {
            Some("import-file") => match field(&message, "file").dyn_into::<Blob>() {
                Ok(file) => wasm_bindgen_futures::spawn_local(async move {
                    let started = now();
                    match read_file(file).await {
                        Ok(bytes) => import(&bytes, now() - started),
                        Err(message) => fail(message),
                    }
                }),
                Err(_) => fail("import-file without a file"),
            },
            Some("import-text") => {
                let text = field(&message, "text").as_string().unwrap_or_default();
                import(text.as_bytes(), 0.0);
            }
            Some("pick") => match field(&message, "index").as_f64() {
                Some(index) if index >= 0.0 => send_imported(index as usize),
                _ => fail("pick without an index"),
            },
            Some("export") => export(&message),
            Some("generate") => generate(&message),
            other => fail(format!("the import worker does not know {other:?}")),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The page keeps the worker until it leaves or cancels.
    on_message.forget();
    post("ready", &[], &[]);
}
