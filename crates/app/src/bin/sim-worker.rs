//! The Simulate page's worker: runs the demo's simulated call off the page's
//! thread, so that the OpenTelemetry SDK and the services' code are fetched
//! only when a person makes a call, not with the first page.
//!
//! Trunk builds it as a Web Worker (`data-type="worker"` in `index.html`);
//! `www/sim-worker-loader.js` starts it. It says `"ready"` once it listens,
//! then answers each JSON `CallRequest` with a JSON `CallAnswer`, or with
//! `{"error": "…"}` when a request cannot be read.
//!
//! The Live page's worker is another instance of it: there it answers
//! `{"real": RealCallRequest}` with `{"real": RealCallAnswer}` once the real
//! call over the network is done (`tracelab_app::real_call`).

use tracelab_app::real_call::{real_call, Real, RealCallRequest};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
        let text = message.data().as_string();
        if let Some(Ok(Real { real })) = text
            .as_deref()
            .filter(|text| text.starts_with("{\"real\""))
            .map(serde_json::from_str::<Real<RealCallRequest>>)
        {
            // It waits on the network: answer when it is done.
            let reply_to = reply_to.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = Real {
                    real: real_call(real).await,
                };
                let text = serde_json::to_string(&answer).unwrap_or_else(|error| {
                    serde_json::json!({ "error": error.to_string() }).to_string()
                });
                let _ = reply_to.post_message(&JsValue::from_str(&text));
            });
            return;
        }
        let answer = match text {
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
