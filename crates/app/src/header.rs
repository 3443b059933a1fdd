//! The header shown on every page: the product name, which leads home, and
//! the navigation between pages.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::nav::Nav;

#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand" attr:data-testid="app-title">
                "tracelab"
            </A>
            <Nav />
        </header>
    }
}
