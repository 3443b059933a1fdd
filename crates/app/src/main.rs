//! Entry point of the browser bundle: installs a panic hook and mounts
//! [`tracelab_app::App`] on `<body>`. Everything else lives in the library.

fn main() {
    // A panic in wasm otherwise surfaces only as "unreachable executed";
    // logging it to the console says where it happened.
    std::panic::set_hook(Box::new(|info| {
        leptos::logging::error!("tracelab panicked: {info}")
    }));
    leptos::mount::mount_to_body(tracelab_app::App);
}
