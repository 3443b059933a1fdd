//! Entry point of the trace pages' bundle (Simulate, Sample, Trace, Live):
//! built by Trunk as wasm-bindgen's `no-modules` output and loaded by the
//! first load's bundle when the address is one of those pages
//! (`tracelab_app::load_trace_app`). Mounts [`tracelab_app::TraceApp`].

fn main() {
    std::panic::set_hook(Box::new(|info| {
        leptos::logging::error!("tracelab panicked: {info}")
    }));
    leptos::mount::mount_to_body(tracelab_app::TraceApp);
    tracelab_app::trace_app_loaded();
}
