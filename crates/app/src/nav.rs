//! The navigation bar: one link per page in [`crate::pages::PAGES`], each
//! taking the person back to that page as they last left it
//! ([`keep_page_state`]).

use leptos::prelude::*;
use leptos_router::components::A;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::pages::PAGES;

/// Links to every page. The router's `<A>` marks the link of the current page
/// with `aria-current="page"`, which the stylesheet highlights, so the nav
/// needs no state of its own.
#[component]
pub fn Nav() -> impl IntoView {
    view! {
        <nav class="site-nav" aria-label="Pages" data-testid="nav">
            <ul>
                {PAGES
                    .iter()
                    .map(|page| {
                        view! {
                            <li>
                                <A href=page.path attr:data-testid=format!("nav-{}", page.slug)>
                                    {page.title}
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// Makes every page keep its input across the navigation bar: going from
/// Decode to Build and back through it reopens Decode as it was.
///
/// A page keeps its input in its URL (each page's fragment format), so
/// this keeps, for each page, the query and fragment (`?…#…`) it had when
/// the person last clicked anything while it was shown, and a click on a
/// navigation link to a page points that link at its page's last state
/// just before the router follows it. The clicks are seen in the capture
/// phase on the window, before the router's own handler: the pages write
/// their fragment with `replaceState`, which the router does not see, so
/// only the address bar has it, and only until the navigation replaces it.
///
/// The states are also kept in the tab's `sessionStorage`, so they outlive
/// a page load (a reload, or a move between pages the app loads apart).
///
/// Called once when the app starts; the listener lives as long as the page.
/// One plain listener rather than reactive links: it costs the first load
/// far less than a reactive `href` on each link.
pub fn keep_page_state() {
    let mut last: [String; PAGES.len()] = Default::default();
    let slot = |path: &str| PAGES.iter().position(|page| page.path == path);
    let on_click = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let location = window().location();
        if let (Ok(path), Ok(search), Ok(hash)) =
            (location.pathname(), location.search(), location.hash())
        {
            if let Some(shown) = slot(&path) {
                last[shown] = format!("{search}{hash}");
                session_storage("setItem", PAGES[shown].slug, Some(&last[shown]));
            }
        }
        let link = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| element.closest(".site-nav a").ok().flatten());
        let Some(link) = link else {
            return;
        };
        // The page's own path, whatever state was put on the link before.
        let Some(href) = link.get_attribute("href") else {
            return;
        };
        let path = href.split(['?', '#']).next().unwrap_or_default();
        if let Some(target) = slot(path) {
            let state = session_storage("getItem", PAGES[target].slug, None)
                .unwrap_or_else(|| last[target].clone());
            let _ = link.set_attribute("href", &format!("{path}{state}"));
        }
    });
    let _ = window().add_event_listener_with_callback_and_bool(
        "click",
        on_click.as_ref().unchecked_ref(),
        true,
    );
    on_click.forget();
}

/// `sessionStorage.getItem(key)` or `.setItem(key, value)`, for the page
/// state under `tracelab.page.<slug>`, through JS reflection (web-sys's
/// binding needs a feature of its own for these two calls). `None` where
/// the browser refuses storage (a sandboxed frame, say), or for no item.
fn session_storage(method: &str, slug: &str, value: Option<&str>) -> Option<String> {
    let storage = js_sys::Reflect::get(&window(), &JsValue::from_str("sessionStorage")).ok()?;
    let function = js_sys::Reflect::get(&storage, &JsValue::from_str(method)).ok()?;
    let function = function.dyn_into::<js_sys::Function>().ok()?;
    let key = JsValue::from_str(&format!("tracelab.page.{slug}"));
    let answer = match value {
        Some(value) => function.call2(&storage, &key, &JsValue::from_str(value)),
        None => function.call1(&storage, &key),
    };
    answer.ok()?.as_string()
}
