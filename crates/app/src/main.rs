//! Entry point of the first load's bundle: installs a panic hook, then
//! mounts [`tracelab_app::App`] on `<body>`, or, when the address is one of
//! the trace pages, loads [`tracelab_app::TraceApp`] instead (see the
//! library's docs). Everything else lives in the library.

fn main() {
    // A panic in wasm otherwise surfaces only as "unreachable executed";
    // logging it to the console says where it happened.
    std::panic::set_hook(Box::new(|info| {
        leptos::logging::error!("tracelab panicked: {info}")
    }));
    let path = leptos::prelude::window()
        .location()
        .pathname()
        .unwrap_or_default();
    if tracelab_app::is_trace_page(&path) {
        tracelab_app::load_trace_app();
    } else {
        leptos::mount::mount_to_body(tracelab_app::App);
    }
}
