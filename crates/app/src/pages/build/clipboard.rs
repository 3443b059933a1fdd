//! Copying text, with selecting it as the fallback.
//!
//! `navigator.clipboard` is reached through `js_sys::Reflect` rather than
//! web-sys's typed bindings: it is missing outside secure contexts and in
//! some embedded browsers, so every step may find nothing, and this way a
//! missing piece is an ordinary `None` instead of a thrown exception.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::{document, window};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// `target[key]`, when it is there.
fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Calls `target[name](args…)`, catching what it throws.
fn call(target: &JsValue, name: &str, args: &[&JsValue]) -> Option<JsValue> {
    let function: js_sys::Function = get(target, name)?.dyn_into().ok()?;
    let args: js_sys::Array = args.iter().copied().collect();
    function.apply(target, &args).ok()
}

/// Asks the browser to put `text` on the clipboard and calls `done` with
/// whether it did. The browser may refuse (no permission, page not
/// focused, not a secure context); `done` is then called with `false`.
pub fn write_text(text: &str, done: impl FnOnce(bool) + 'static) {
    let window: JsValue = window().into();
    let promise = get(&window, "navigator")
        .and_then(|navigator| get(&navigator, "clipboard"))
        .and_then(|clipboard| call(&clipboard, "writeText", &[&JsValue::from_str(text)]))
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
    let Some(promise) = promise else {
        done(false);
        return;
    };
    // Exactly one of the two callbacks runs; they share `done`. The one that
    // does not run is freed with the promise.
    let done = Rc::new(Cell::new(Some(done)));
    let done_too = Rc::clone(&done);
    let fallback = Rc::clone(&done);
    let resolved = Closure::once_into_js(move |_: JsValue| {
        if let Some(done) = done.take() {
            done(true);
        }
    });
    let rejected = Closure::once_into_js(move |_: JsValue| {
        if let Some(done) = done_too.take() {
            done(false);
        }
    });
    // Handling the rejection also keeps it from being reported as an
    // uncaught error in the console.
    if call(&promise, "then", &[&resolved, &rejected]).is_none() {
        // Not a real promise; say it failed rather than wait forever.
        if let Some(done) = fallback.take() {
            done(false);
        }
    }
}

/// Selects the text of the element with `id`, so that the person can copy
/// it with the keyboard. Returns whether it did.
pub fn select_text_of(id: &str) -> bool {
    let Some(element) = document().get_element_by_id(id) else {
        return false;
    };
    let window: JsValue = window().into();
    call(&window, "getSelection", &[])
        .and_then(|selection| call(&selection, "selectAllChildren", &[element.as_ref()]))
        .is_some()
}
