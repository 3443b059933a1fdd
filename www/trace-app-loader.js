// Starts the trace pages' app (crates/app/src/bin/trace-app.rs) once its
// script, trace-app.js, has run: Trunk builds that app as wasm-bindgen's
// no-modules output, whose `wasm_bindgen` is a global binding of scripts
// (a `let`, not a property of window), so only a script can call it.
// tracelab_app::load_trace_app adds both scripts, in order.
wasm_bindgen({ module_or_path: '/trace-app_bg.wasm' });
