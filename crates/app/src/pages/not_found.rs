//! Shown for any path that no route matches.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use super::PageTitle;

#[component]
pub fn NotFound() -> impl IntoView {
    let pathname = use_location().pathname;
    view! {
        <PageTitle title="No such page" />
        <p>"There is no page at " <code>{move || pathname.get()}</code> "."</p>
        <p>
            <A href="/" attr:data-testid="not-found-home">
                "Go to the home page"
            </A>
        </p>
    }
}
