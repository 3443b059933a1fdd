//! The home page: what tracelab is, and where to go from here.

use leptos::prelude::*;
use leptos_router::components::A;

use super::{PageTitle, PAGES};

#[component]
pub fn Home() -> impl IntoView {
    // No request from here (crate::csp).
    crate::csp::restrict(&[]);
    view! {
        <PageTitle title="A lab for distributed tracing" />
        <p class="lead">
            "tracelab is for learning and debugging distributed tracing: how "
            <a href="https://www.w3.org/TR/trace-context/" rel="noreferrer">
                "W3C Trace Context"
            </a>
            " headers carry a trace from one service to the next, and how the spans they tie together become a waterfall."
        </p>
        <ul class="page-cards">
            {PAGES
                .iter()
                .map(|page| {
                    view! {
                        <li>
                            <A href=page.path attr:data-testid=format!("home-link-{}", page.slug)>
                                {page.title}
                            </A>
                            <p>{page.summary}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
