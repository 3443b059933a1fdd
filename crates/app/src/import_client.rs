//! The page's side of the import worker (`src/bin/import-worker.rs`, which
//! documents the messages): started when the Import page first needs it or
//! an Export button is pressed, never with a page. Until it says `ready`,
//! messages wait here (a worker drops what arrives before its wasm has
//! loaded). Dropping an [`ImportClient`] terminates the worker, which is
//! how an import is cancelled.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::prelude::{LocalStorage, StoredValue, UpdateValue};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use tracelab_trace::Trace;

use crate::import::ImportReport;
use crate::wire::Decoder;

/// Where the loader sits: beside the app, on the page's own origin.
const LOADER: &str = "/import-worker-loader.js";

/// What the worker said.
pub enum FromWorker {
    /// Reading the file: `done` of `total` bytes.
    Reading {
        done: u64,
        total: u64,
    },
    /// Parsing (one step: the importers say nothing until they are done).
    Parsing,
    /// Generating a sample trace (one step, as parsing).
    Generating,
    Report {
        report: ImportReport,
        /// The worker's times, in whole milliseconds.
        read_ms: u64,
        parse_ms: u64,
        bytes: u64,
    },
    /// A trace's header (`wire`), its spans to follow.
    Trace {
        index: usize,
        header: Vec<u8>,
    },
    /// A chunk of the trace's spans.
    Spans(Vec<u8>),
    Exported {
        format: String,
        blob: web_sys::Blob,
    },
    Failed(String),
}

fn field(message: &JsValue, key: &str) -> JsValue {
    Reflect::get(message, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn bytes(value: JsValue) -> Vec<u8> {
    Uint8Array::new(&value).to_vec()
}

/// Reads one message; `None` for `ready` (handled here) and anything
/// unknown.
fn read(message: &JsValue) -> Option<FromWorker> {
    // Whole numbers: formatting floats would cost the trace pages' app
    // the float printer.
    let number = |key| field(message, key).as_f64().unwrap_or(0.0).max(0.0).round() as u64;
    Some(match field(message, "kind").as_string()?.as_str() {
        "progress" if field(message, "stage").as_string().as_deref() == Some("read") => {
            FromWorker::Reading {
                done: number("done"),
                total: number("total"),
            }
        }
        "progress" if field(message, "stage").as_string().as_deref() == Some("generate") => {
            FromWorker::Generating
        }
        "progress" => FromWorker::Parsing,
        "report" => match crate::wire::decode_report(&bytes(field(message, "report"))) {
            Ok(report) => FromWorker::Report {
                report,
                read_ms: number("readMs"),
                parse_ms: number("parseMs"),
                bytes: number("bytes"),
            },
            Err(error) => FromWorker::Failed(format!("the worker's report is unreadable: {error}")),
        },
        "trace" => FromWorker::Trace {
            index: number("index") as usize,
            header: bytes(field(message, "header")),
        },
        "spans" => FromWorker::Spans(bytes(field(message, "chunk"))),
        "exported" => FromWorker::Exported {
            format: field(message, "format").as_string().unwrap_or_default(),
            blob: field(message, "blob").dyn_into().ok()?,
        },
        "error" => FromWorker::Failed(
            field(message, "message")
                .as_string()
                .unwrap_or_else(|| "the import worker failed".to_owned()),
        ),
        _ => return None,
    })
}

/// Messages (with what each hands over) waiting for the worker to be
/// ready; `None` once it is.
type Waiting = Rc<RefCell<Option<Vec<(JsValue, Array)>>>>;

/// A running import worker.
pub struct ImportClient {
    worker: Worker,
    waiting: Waiting,
    // Kept so the callbacks live as long as the worker.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl ImportClient {
    /// Starts the worker; `on_message` gets each message it sends.
    pub fn start(on_message: impl Fn(FromWorker) + 'static) -> Result<ImportClient, String> {
        let worker = Worker::new(LOADER)
            .map_err(|error| format!("the import worker did not start ({error:?})"))?;
        let waiting: Waiting = Rc::new(RefCell::new(Some(Vec::new())));
        let on_message = Rc::new(on_message);
        let ready = waiting.clone();
        let posting = worker.clone();
        let answers = on_message.clone();
        let on_worker_message =
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let message = event.data();
                if field(&message, "kind").as_string().as_deref() == Some("ready") {
                    let queued = ready.borrow_mut().take().unwrap_or_default();
                    for (message, transfer) in queued {
                        let _ = posting.post_message_with_transfer(&message, &transfer);
                    }
                } else if let Some(read) = read(&message) {
                    answers(read);
                }
            });
        worker.set_onmessage(Some(on_worker_message.as_ref().unchecked_ref()));
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
                on_message(FromWorker::Failed(format!(
                    "the import worker failed: {}",
                    event.message()
                )));
            });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(ImportClient {
            worker,
            waiting,
            _on_message: on_worker_message,
            _on_error: on_error,
        })
    }

    /// Posts `{kind, …fields}`, handing over `transfer`, now or once ready.
    fn post(&self, kind: &str, fields: &[(&str, JsValue)], transfer: Array) {
        let message = Object::new();
        let _ = Reflect::set(&message, &"kind".into(), &kind.into());
        for (key, value) in fields {
            let _ = Reflect::set(&message, &(*key).into(), value);
        }
        if let Some(queue) = self.waiting.borrow_mut().as_mut() {
            queue.push((message.into(), transfer));
            return;
        }
        let _ = self.worker.post_message_with_transfer(&message, &transfer);
    }

    /// Imports a file (a `File` from a drop or a file input: the worker
    /// reads it, not the page).
    pub fn import_file(&self, file: &web_sys::Blob) {
        self.post("import-file", &[("file", file.into())], Array::new());
    }

    /// Imports pasted text, handed over as the browser's own string: a
    /// pasted file of tens of megabytes never passes through the page's
    /// wasm (two copies and two conversions on the page's thread).
    pub fn import_text(&self, text: &js_sys::JsString) {
        self.post("import-text", &[("text", text.into())], Array::new());
    }

    /// Asks for trace `index` of the last import.
    pub fn pick(&self, index: usize) {
        self.post("pick", &[("index", (index as f64).into())], Array::new());
    }

    /// Asks for the sample trace of `n_spans` spans and `seed`
    /// (`tracelab_trace::generate`), sent as a picked trace is.
    pub fn generate(&self, n_spans: usize, seed: u64) {
        self.post(
            "generate",
            &[
                ("spans", (n_spans as f64).into()),
                ("seed", seed.to_string().into()),
            ],
            Array::new(),
        );
    }

    /// Asks for a trace, given in `wire` form, as `format` (`otlp` or
    /// `jaeger`).
    pub fn export(&self, format: &str, header: &[u8], chunks: &[Vec<u8>]) {
        let buffer = |bytes: &[u8]| JsValue::from(Uint8Array::from(bytes).buffer());
        let header = buffer(header);
        let list: Array = chunks.iter().map(|chunk| buffer(chunk)).collect();
        let transfer: Array = list.iter().collect();
        transfer.push(&header);
        self.post(
            "export",
            &[
                ("format", format.into()),
                ("header", header),
                ("chunks", list.into()),
            ],
            transfer,
        );
    }
}

/// Puts together a trace the worker sends as a `trace` header and `spans`
/// chunks (each handed in from its own message, so each is decoded in a
/// task of its own).
#[derive(Default)]
pub struct TraceReceiver {
    decoder: Option<Decoder>,
}

/// Where a trace being received is.
pub enum Received {
    /// `done` of `total` spans decoded.
    Receiving { done: usize, total: usize },
    /// Every span is in.
    Done(Trace),
}

impl TraceReceiver {
    /// A trace's header: a new trace begins (one still coming is dropped).
    pub fn header(&mut self, header: &[u8]) -> Result<Received, String> {
        self.decoder = None;
        let started = Decoder::header(header)
            .map_err(|error| format!("the trace could not be read: {error}"))?;
        let total = started.expected_spans();
        if total == 0 {
            return started
                .finish()
                .map(Received::Done)
                .map_err(|error| error.to_string());
        }
        self.decoder = Some(started);
        Ok(Received::Receiving { done: 0, total })
    }

    /// A chunk of the trace's spans.
    pub fn spans(&mut self, chunk: &[u8]) -> Result<Received, String> {
        let Some(active) = self.decoder.as_mut() else {
            return Err("spans arrived without a trace".to_owned());
        };
        if let Err(error) = active.spans(chunk) {
            self.decoder = None;
            return Err(format!("the trace could not be read: {error}"));
        }
        let (done, total) = (active.n_spans(), active.expected_spans());
        if done < total {
            return Ok(Received::Receiving { done, total });
        }
        self.decoder
            .take()
            .ok_or_else(|| "the trace went missing".to_owned())?
            .finish()
            .map(Received::Done)
            .map_err(|error| error.to_string())
    }
}

/// Hands a `trace` or `spans` message to the page's receiver in `stored`;
/// `None` for any other message. A page that has gone (its receiver
/// disposed) reads as a failure.
pub fn receive(
    stored: StoredValue<TraceReceiver, LocalStorage>,
    message: &FromWorker,
) -> Option<Result<Received, String>> {
    let step = match message {
        FromWorker::Trace { header, .. } => {
            stored.try_update_value(|receiver| receiver.header(header))
        }
        FromWorker::Spans(chunk) => stored.try_update_value(|receiver| receiver.spans(chunk)),
        _ => return None,
    };
    Some(step.unwrap_or_else(|| Err("the page has gone".to_owned())))
}

impl Drop for ImportClient {
    fn drop(&mut self) {
        // Messages the worker posted before it stops may still be queued
        // for the page: they must not reach callbacks dropped with this.
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}
