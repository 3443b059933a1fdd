//! The page's side of the simulation's worker (`src/bin/sim-worker.rs`):
//! started on the first call, it takes JSON `CallRequest`s and answers JSON
//! `CallAnswer`s. Until it says `"ready"`, requests wait here (a worker
//! drops messages that arrive before its wasm has loaded).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

/// Where the loader sits: beside the app, on the page's own origin.
const LOADER: &str = "/sim-worker-loader.js";

/// A running worker and the requests waiting for it to be ready.
pub struct SimWorker {
    worker: Worker,
    /// `None` once the worker is ready.
    waiting: Rc<RefCell<Option<Vec<String>>>>,
    // Kept so the callbacks live as long as the worker.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl SimWorker {
    /// Starts the worker; `on_answer` gets each answer's JSON, or a sentence
    /// saying what went wrong.
    pub fn start(
        on_answer: impl Fn(Result<String, String>) + 'static,
    ) -> Result<SimWorker, String> {
        let worker = Worker::new(LOADER)
            .map_err(|error| format!("the simulation's worker did not start ({error:?})"))?;
        let waiting: Rc<RefCell<Option<Vec<String>>>> = Rc::new(RefCell::new(Some(Vec::new())));
        let on_answer = Rc::new(on_answer);
        let ready = waiting.clone();
        let posting = worker.clone();
        let answers = on_answer.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            let Some(text) = message.data().as_string() else {
                return;
            };
            if text == "ready" {
                let queued = ready.borrow_mut().take().unwrap_or_default();
                for request in queued {
                    let _ = posting.post_message(&JsValue::from_str(&request));
                }
            } else {
                answers(Ok(text));
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
                on_answer(Err(format!(
                    "the simulation's worker failed: {}",
                    event.message()
                )));
            });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(SimWorker {
            worker,
            waiting,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// Sends a request, now or once the worker is ready.
    pub fn send(&self, request: String) {
        if let Some(queue) = self.waiting.borrow_mut().as_mut() {
            queue.push(request);
            return;
        }
        let _ = self.worker.post_message(&JsValue::from_str(&request));
    }
}

impl Drop for SimWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}
