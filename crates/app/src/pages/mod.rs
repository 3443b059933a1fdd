//! One module per page, named for what the page shows, plus the table of
//! pages that the navigation and the home page are drawn from.

pub mod build;
pub mod decode;
pub mod home;
pub mod import;
pub mod live;
pub mod not_found;
pub mod sample;
pub mod simulate;
pub mod trace;

use leptos::prelude::*;

/// What the navigation and the home page need to know about a page.
///
/// Each page module owns its `INFO`, so a page's name and summary are written
/// once, next to the page.
pub struct PageInfo {
    /// The route's single path segment; also the suffix of the page's
    /// `data-testid`s (`nav-<slug>`, `home-link-<slug>`).
    pub slug: &'static str,
    /// The route, `/` followed by the slug.
    pub path: &'static str,
    /// The page's name, as shown in the navigation and its heading.
    pub title: &'static str,
    /// One sentence on what the page is for, shown on the home page.
    pub summary: &'static str,
}

/// The pages in navigation order. The routes in [`crate::App`] and
/// [`crate::TraceApp`] must match.
pub const PAGES: [&PageInfo; 6] = [
    &decode::INFO,
    &build::INFO,
    &simulate::INFO,
    &sample::INFO,
    &live::INFO,
    &import::INFO,
];

/// Whether `path` is one of the trace pages, which [`crate::TraceApp`]
/// draws (everything with a waterfall: Simulate, Sample, Trace, Live,
/// Import), as
/// opposed to the first load's [`crate::App`] (Home, Decode, Build). The
/// two are separate wasm binaries, so that the first load stays small.
pub fn is_trace_page(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    [
        simulate::INFO.path,
        sample::INFO.path,
        live::INFO.path,
        import::INFO.path,
    ]
    .contains(&path)
        || path.starts_with("/trace/")
}

/// Shown while the browser goes to a page of the other app, which a page
/// load of the route's address brings.
#[component]
pub fn OtherApp() -> impl IntoView {
    load_afresh();
    view! { <p class="wf-muted" data-testid="app-loading">"Loading…"</p> }
}

/// Loads the current route's address in a new document, in place of this
/// one. The address is taken from the router: the page being left may
/// still rewrite the address bar's fragment as it goes, and on a
/// client-side navigation the address bar may not show the new page yet.
/// `replace`, since the router already made the history entry.
pub fn load_afresh() {
    let location = leptos_router::hooks::use_location();
    // The router keeps the query without its `?` and the fragment with or
    // without its `#`.
    let mut target = location.pathname.get_untracked();
    let search = location.search.get_untracked();
    if !search.is_empty() {
        target.push('?');
        target.push_str(&search);
    }
    let hash = location.hash.get_untracked();
    if !hash.is_empty() {
        if !hash.starts_with('#') {
            target.push('#');
        }
        target.push_str(&hash);
    }
    if let Err(error) = window().location().replace(&target) {
        leptos::logging::error!("tracelab could not load the page: {error:?}");
    }
}

/// The heading every page starts with. Its `data-testid` is how the browser
/// tests know which page is showing.
#[component]
pub fn PageTitle(title: &'static str) -> impl IntoView {
    view! { <h1 data-testid="page-title">{title}</h1> }
}

/// A titled part of a report on the Decode and Build pages: a section
/// labelled by its heading, so a screen reader's list of regions names it.
/// One markup for every such part; `test_id` marks the section itself where
/// a test reads it whole.
pub fn report_section(
    heading_id: &'static str,
    title: &'static str,
    test_id: Option<&'static str>,
    body: impl IntoView,
) -> impl IntoView {
    view! {
        <section class="report-section" aria-labelledby=heading_id data-testid=test_id>
            <h2 id=heading_id>{title}</h2>
            {body}
        </section>
    }
}

/// Said on pages whose tools are described but not built yet, so that nobody
/// mistakes the description for a broken tool.
#[component]
pub fn NotBuiltYet() -> impl IntoView {
    view! {
        <p class="notice" data-testid="not-built-yet">
            <strong>"Not built yet."</strong>
            " This page says what it will do; the tool itself comes in a later version."
        </p>
    }
}
