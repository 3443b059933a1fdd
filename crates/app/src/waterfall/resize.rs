//! A `ResizeObserver` on one element: the list follows its own size (a
//! panel beside it, a page's layout or the details opening change its width
//! alone, with no window resize).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// A `ResizeObserver` watching one element, disconnected when dropped
/// from its owner (see [`observe_resize`]).
pub(super) struct ResizeWatch {
    observer: wasm_bindgen::JsValue,
    _callback: Closure<dyn Fn()>,
}

impl ResizeWatch {
    pub(super) fn disconnect(&self) {
        let disconnect = js_sys::Reflect::get(&self.observer, &"disconnect".into())
            .ok()
            .and_then(|function| function.dyn_into::<js_sys::Function>().ok());
        if let Some(disconnect) = disconnect {
            let _ = disconnect.call0(&self.observer);
        }
    }
}

/// Calls `on_resize` whenever `element` changes size, or `None` where the
/// browser has no `ResizeObserver`. Reached through JS reflection rather
/// than web-sys's binding, whose feature would add to every binary.
pub(super) fn observe_resize(
    element: &web_sys::Element,
    on_resize: impl Fn() + 'static,
) -> Option<send_wrapper::SendWrapper<ResizeWatch>> {
    let window = web_sys::window()?;
    let constructor = js_sys::Reflect::get(&window, &"ResizeObserver".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let callback = Closure::<dyn Fn()>::new(on_resize);
    let observer =
        js_sys::Reflect::construct(&constructor, &js_sys::Array::of1(callback.as_ref())).ok()?;
    let observe = js_sys::Reflect::get(&observer, &"observe".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    observe.call1(&observer, element).ok()?;
    // Cleanups must be Send; the app runs on one thread, where the wrapper
    // is only ever touched.
    Some(send_wrapper::SendWrapper::new(ResizeWatch {
        observer,
        _callback: callback,
    }))
}
