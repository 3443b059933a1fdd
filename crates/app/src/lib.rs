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
//! Browser tests (`e2e/`) find elements by their `data-testid` attributes,
//! which are therefore part of this crate's interface: `app-title`, `nav`,
//! `nav-<page>`, `page-title`, `home-link-<page>`, `not-found-home`.

mod header;
mod nav;
mod pages;
pub mod real_call;
pub mod waterfall;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The whole app: the header with the product name and navigation, and the
/// page for the current route.
#[component]
pub fn App() -> impl IntoView {
    // Each page's input as the person last left it, for the navigation's
    // links: kept above the router, for as long as the app runs.
    nav::keep_page_state();
    view! {
        <Router>
            <header::Header />
            <main class="page">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=pages::home::Home />
                    <Route path=path!("/decode") view=pages::decode::Decode />
                    <Route path=path!("/build") view=pages::build::Build />
                    <Route path=path!("/simulate") view=pages::simulate::Simulate />
                    <Route path=path!("/sample") view=pages::sample::Sample />
                    <Route path=path!("/trace/:id") view=pages::trace::TracePage />
                    <Route path=path!("/live") view=pages::live::Live />
                </Routes>
            </main>
        </Router>
    }
}
