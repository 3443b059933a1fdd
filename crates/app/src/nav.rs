//! The navigation bar: one link per page in [`crate::pages::PAGES`].

use leptos::prelude::*;
use leptos_router::components::A;

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
