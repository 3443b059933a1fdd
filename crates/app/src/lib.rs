//! The tracelab browser app: a Leptos 0.8 client-side-rendered UI, compiled
//! to `wasm32-unknown-unknown` and bundled by Trunk (see `index.html` and
//! `Trunk.toml` at the repository root; `cargo xtask up` serves it).
//!
//! What this crate is for: showing things. It owns the page layout, the
//! routes, the navigation and, later, the views (header field view, waterfall,
//! span details).
//!
//! What it is not for: domain logic. Parsing and building `traceparent` /
//! `tracestate` belongs to `tracelab-context`; the trace model and waterfall
//! layout to the trace crate; the simulated services to the demo crate. Those
//! are plain Rust, tested natively; this crate calls them and draws the
//! result, and keeps no rules of its own that a test would need a browser to
//! check.
//!
//! The app is two wasm binaries that share this library, so that the first
//! load (what `/` and `/decode` fetch) carries only what those pages need:
//! [`App`] (`src/main.rs`: Home, Decode, Build) and [`TraceApp`]
//! (`src/bin/trace-app.rs`: Simulate, Sample, Trace, Live, Import,
//! everything that draws a waterfall). Trunk 0.21 cannot split one Leptos binary, but it
//! builds the second one as wasm-bindgen's `no-modules` output (index.html's
//! `data-type="worker"` link), which [`load_trace_app`] loads into the page
//! when the address is a trace page. Going from a page of one app to a page
//! of the other is a page load (`pages::OtherApp`).
//!
//! Browser tests (`e2e/`) find elements by their `data-testid` attributes,
//! which are therefore part of this crate's interface: `app-title`, `nav`,
//! `nav-<page>`, `page-title`, `home-link-<page>`, `not-found-home`,
//! `app-loading` (while the other app loads).

mod csp;
mod export;
mod header;
pub mod import;
mod import_client;
mod nav;
mod pages;
pub mod real_call;
pub mod waterfall;
pub mod wire;

pub use pages::is_trace_page;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// What both apps draw around their pages: the header with the product
/// name and navigation, and the page for the current route.
#[component]
fn Frame(children: Children) -> impl IntoView {
    // Each page keeps its input across the navigation bar.
    nav::keep_page_state();
    view! {
        <Router>
            <header::Header />
            <main class="page">{children()}</main>
        </Router>
    }
}

/// The first load's app: Home, Decode and Build. The trace pages' routes
/// only hand over to [`TraceApp`].
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Frame>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/") view=pages::home::Home />
                <Route path=path!("/decode") view=pages::decode::Decode />
                <Route path=path!("/build") view=pages::build::Build />
                <Route path=path!("/simulate") view=pages::OtherApp />
                <Route path=path!("/sample") view=pages::OtherApp />
                <Route path=path!("/trace/:id") view=pages::OtherApp />
                <Route path=path!("/live") view=pages::OtherApp />
                <Route path=path!("/import") view=pages::OtherApp />
            </Routes>
        </Frame>
    }
}

/// The trace pages' app: Simulate, Sample, Trace, Live and Import. The first
/// load's routes only hand over to [`App`].
#[component]
pub fn TraceApp() -> impl IntoView {
    view! {
        <Frame>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/") view=pages::OtherApp />
                <Route path=path!("/decode") view=pages::OtherApp />
                <Route path=path!("/build") view=pages::OtherApp />
                <Route path=path!("/simulate") view=pages::simulate::Simulate />
                <Route path=path!("/sample") view=pages::sample::Sample />
                <Route path=path!("/trace/:id") view=pages::trace::TracePage />
                <Route path=path!("/live") view=pages::live::Live />
                <Route path=path!("/import") view=pages::import::Import />
            </Routes>
        </Frame>
    }
}

/// The trace pages' app, as Trunk puts it in dist/ (index.html,
/// `data-bin="trace-app"`), and the script that starts it.
const TRACE_APP_SCRIPTS: [&str; 2] = ["/trace-app.js", "/trace-app-loader.js"];

/// Loads [`TraceApp`] into this page: `trace-app.js` (wasm-bindgen's
/// `no-modules` output) defines `wasm_bindgen`, and `trace-app-loader.js`
/// calls it, which fetches the wasm and runs its `main`, which mounts the
/// app. Until then the page says it is loading; if a script cannot be
/// fetched, it says so.
pub fn load_trace_app() {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    let document = document();
    let Some(body) = document.body() else {
        return;
    };
    let Ok(note) = document.create_element("p") else {
        return;
    };
    note.set_class_name("wf-muted app-loading");
    let _ = note.set_attribute("data-testid", "app-loading");
    note.set_text_content(Some("Loading…"));
    let _ = body.append_child(&note);
    let on_error = Closure::<dyn FnMut()>::new(move || {
        note.set_text_content(Some(
            "This page's part of tracelab could not be fetched; reload to try again.",
        ));
    });
    for src in TRACE_APP_SCRIPTS {
        let Ok(script) = document.create_element("script") else {
            return;
        };
        let _ = script.set_attribute("src", src);
        if let Some(script) = script.dyn_ref::<web_sys::HtmlScriptElement>() {
            // Added scripts run as they arrive unless told to keep order:
            // the loader must run after the script it calls.
            script.set_async(false);
            script.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        }
        let _ = body.append_child(&script);
    }
    // It may fire once, for the life of the page.
    on_error.forget();
}

/// Called by [`TraceApp`]'s `main` once it mounts: the loading note goes.
pub fn trace_app_loaded() {
    if let Ok(Some(note)) = document().query_selector("body > .app-loading") {
        note.remove();
    }
}
