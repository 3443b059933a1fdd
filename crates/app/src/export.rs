//! What a trace page offers for the trace on screen: download it as OTLP
//! JSON or Jaeger JSON, or share it as a link.
//!
//! The exporters are `tracelab_formats`', which only the import worker
//! carries: the page hands the trace to the worker in its compact form
//! (`crate::wire`), encoded a chunk per task so that the page keeps
//! drawing, and downloads the file the worker makes. So the trace pages'
//! app carries no exporter, and an export of 100,000 spans never holds the
//! page's thread for long.
//!
//! A share link is `/import#share=<data>`: the trace in its compact form,
//! compressed by the browser's own `CompressionStream` (`deflate-raw`) and
//! written in URL-safe base64 (the Import page's module documents the
//! fragment). Only small traces fit (`crate::import::share_check`,
//! `fragment_check`); a larger one says why not.
//!
//! Test hooks (`data-testid`): `export-otlp`, `export-jaeger`, `share`,
//! `export-status` (what is being done, or what failed), `share-link` (the
//! link made), `share-note` (why a trace cannot be shared).

use std::sync::Arc;

use js_sys::{Array, Function, Reflect, Uint8Array};
use leptos::prelude::*;
use tracelab_trace::Trace;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::import::{base64url_encode, fragment_check, share_check};
use crate::import_client::{FromWorker, ImportClient};
use crate::wire::{encode_trace, Encoder, CHUNK_SPANS};

/// The Import page's path, which opens share links.
pub const IMPORT_PATH: &str = "/import";
/// The key of a share link's fragment: `#share=<data>`.
pub const SHARE_KEY: &str = "share=";

/// Lets the browser run other tasks (input, drawing) before going on.
///
/// The wake-up is a message to itself on a `MessageChannel`, not a
/// `setTimeout(0)`: browsers hold a timer set from within five nested
/// timers back to at least 4 ms, so a long job in 8 ms slices would idle a
/// third of its time. A message is queued as any task is, so input and
/// drawing still come first when they are due.
pub async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        match web_sys::MessageChannel::new() {
            Ok(channel) => {
                let port = channel.port1();
                port.set_onmessage(Some(&resolve));
                // The port is kept by the channel's closure until the
                // message comes.
                let _ = channel.port2().post_message(&JsValue::NULL);
            }
            // No channel (never in a browser that runs this app): a timer.
            Err(_) => {
                let _ = window().set_timeout_with_callback(&resolve);
            }
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// The trace in its compact form, header then chunks, encoded a chunk per
/// task.
pub async fn encode_in_slices(trace: &Trace) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut encoder = Encoder::default();
    let header = encoder.header(trace);
    let mut chunks = Vec::with_capacity(trace.spans.len().div_ceil(CHUNK_SPANS));
    for spans in trace.spans.chunks(CHUNK_SPANS) {
        chunks.push(encoder.spans(spans));
        next_task().await;
    }
    (header, chunks)
}

fn js_error(what: &str, error: JsValue) -> String {
    let detail = error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .unwrap_or_else(|| format!("{error:?}"));
    format!("{what} ({detail})")
}

/// `bytes` through the browser's `CompressionStream("deflate-raw")`, or
/// its `DecompressionStream` when `compress` is false.
pub async fn deflate_raw(bytes: &[u8], compress: bool) -> Result<Vec<u8>, String> {
    let name = if compress {
        "CompressionStream"
    } else {
        "DecompressionStream"
    };
    let constructor: Function = Reflect::get(&js_sys::global(), &name.into())
        .ok()
        .and_then(|value| value.dyn_into().ok())
        .ok_or_else(|| format!("this browser has no {name}"))?;
    let transform = Reflect::construct(&constructor, &Array::of1(&"deflate-raw".into()))
        .map_err(|error| js_error(name, error))?;
    let parts = Array::of1(&Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts)
        .map_err(|error| js_error("the data could not be read", error))?;
    let input = blob.stream();
    let pipe_through: Function = Reflect::get(&input, &"pipeThrough".into())
        .ok()
        .and_then(|value| value.dyn_into().ok())
        .ok_or("this browser's streams cannot be piped")?;
    let output: web_sys::ReadableStream = pipe_through
        .call1(&input, &transform)
        .map_err(|error| js_error(name, error))?
        .unchecked_into();
    let response = web_sys::Response::new_with_opt_readable_stream(Some(&output))
        .map_err(|error| js_error(name, error))?;
    let promise = response
        .array_buffer()
        .map_err(|error| js_error(name, error))?;
    let buffer = JsFuture::from(promise).await.map_err(|_| {
        if compress {
            "the trace could not be compressed".to_owned()
        } else {
            "the link's data is not compressed data (is the link complete?)".to_owned()
        }
    })?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The share link of a trace, or why it cannot have one.
pub async fn share_link(trace: &Trace) -> Result<String, String> {
    share_check(trace.spans.len())?;
    let compressed = deflate_raw(&encode_trace(trace), true).await?;
    let data = base64url_encode(&compressed);
    fragment_check(data.len())?;
    let origin = window().location().origin().unwrap_or_default();
    Ok(format!("{origin}{IMPORT_PATH}#{SHARE_KEY}{data}"))
}

/// Hands `blob` to the browser as a download named `name`.
fn download(blob: &web_sys::Blob, name: &str) -> Result<(), String> {
    let url = web_sys::Url::create_object_url_with_blob(blob)
        .map_err(|error| js_error("the file could not be made", error))?;
    let anchor: web_sys::HtmlAnchorElement = document()
        .create_element("a")
        .map_err(|error| js_error("the download could not start", error))?
        .unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    // The download has its own reference by the time this runs.
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(60),
    );
    Ok(())
}

/// A download's file name: the trace id's first 16 digits and the format.
fn file_name(trace: &Trace, format: &str) -> String {
    let id = trace
        .spans
        .first()
        .map(|span| span.trace_id.to_string())
        .unwrap_or_else(|| "empty".to_owned());
    format!("trace-{}.{format}.json", &id[..id.len().min(16)])
}

/// The Export and Share buttons for `trace` (the one on screen when a
/// button is pressed, for a page whose trace grows while shown).
#[component]
pub fn TraceExport(#[prop(into)] trace: Signal<Arc<Trace>>) -> impl IntoView {
    let status = RwSignal::new(None::<String>);
    let link = RwSignal::new(None::<String>);
    let share_note = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Started on the first export, kept while the page shows this trace.
    let client = StoredValue::new_local(None::<ImportClient>);
    let name_of = move |format: &str| trace.with_untracked(|trace| file_name(trace, format));
    let on_message = move |message: FromWorker| match message {
        FromWorker::Exported { format, blob } => {
            busy.set(false);
            status.set(Some(match download(&blob, &name_of(&format)) {
                Ok(()) => format!(
                    "Downloaded as {}.",
                    if format == "otlp" {
                        "OTLP JSON"
                    } else {
                        "Jaeger JSON"
                    }
                ),
                Err(message) => message,
            }));
        }
        FromWorker::Failed(message) => {
            busy.set(false);
            status.set(Some(format!("The export failed: {message}")));
        }
        _ => {}
    };
    let export = move |format: &'static str| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        status.set(Some("Exporting…".to_owned()));
        if client.with_value(Option::is_none) {
            match ImportClient::start(on_message) {
                Ok(started) => client.set_value(Some(started)),
                Err(message) => {
                    busy.set(false);
                    status.set(Some(message));
                    return;
                }
            }
        }
        let trace = trace.get_untracked();
        leptos::task::spawn_local(async move {
            let (header, chunks) = encode_in_slices(&trace).await;
            // The page may have gone meanwhile, and the worker with it.
            client.try_with_value(|client| {
                if let Some(client) = client {
                    client.export(format, &header, &chunks);
                }
            });
        });
    };
    let share = move |_| {
        let trace = trace.get_untracked();
        link.set(None);
        share_note.set(None);
        leptos::task::spawn_local(async move {
            match share_link(&trace).await {
                Ok(made) => link.set(Some(made)),
                Err(why) => share_note.set(Some(why)),
            }
        });
    };
    view! {
        <div class="trace-export">
            <button type="button" class="small-button" data-testid="export-otlp" disabled=move || busy.get() on:click=move |_| export("otlp")>
                "Export OTLP JSON"
            </button>
            <button type="button" class="small-button" data-testid="export-jaeger" disabled=move || busy.get() on:click=move |_| export("jaeger")>
                "Export Jaeger JSON"
            </button>
            <button type="button" class="small-button" data-testid="share" on:click=share>"Share as a link"</button>
            {move || status.get().map(|text| view! { <span class="wf-muted" role="status" data-testid="export-status">{text}</span> })}
            {move || share_note.get().map(|text| view! { <p class="wf-note" data-testid="share-note">{text}</p> })}
            {move || link.get().map(|made| view! {
                <p class="share-link">
                    <a href=made.clone() data-testid="share-link">"A link to this trace"</a>
                    {format!(" ({} characters; the trace is in the link itself, which nothing sends anywhere): ", made.len())}
                    <input type="text" readonly aria-label="The link, to copy" value=made.clone() />
                </p>
            })}
        </div>
    }
}
