//! The Simulate page's worker: runs the demo's simulated call off the page's
//! thread, so that the OpenTelemetry SDK and the services' code are fetched
//! only when a person makes a call, not with the first page.
//!
//! Trunk builds it as a Web Worker (`data-type="worker"` in `index.html`);
//! `www/sim-worker-loader.js` starts it. It says `"ready"` once it listens,
//! then answers each JSON `CallRequest` with a JSON `CallAnswer`, or with
//! `{"error": "…"}` when a request cannot be read.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
        let answer = match message.data().as_string() {
            Some(request) => tracelab_demo::sim::answer_json(&request),
            None => Err("the simulation takes a JSON string".to_owned()),
        };
        let text = answer.unwrap_or_else(|error| serde_json::json!({ "error": error }).to_string());
        // Posting a string to the page that started us cannot fail in a way
        // this worker could report anywhere else.
        let _ = reply_to.post_message(&JsValue::from_str(&text));
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The page keeps the worker for as long as it is open.
    on_message.forget();
    let _ = scope.post_message(&JsValue::from_str("ready"));
}
