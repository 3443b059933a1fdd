//! The Simulate page: the tracing lesson, run in simulated services.

use leptos::prelude::*;

use super::{NotBuiltYet, PageInfo, PageTitle};

pub const INFO: PageInfo = PageInfo {
    slug: "simulate",
    path: "/simulate",
    title: "Simulate",
    summary:
        "Walk the tracing lesson with simulated services, in the browser, and read the waterfall.",
};

#[component]
pub fn Simulate() -> impl IntoView {
    view! {
        <PageTitle title=INFO.title />
        <p>
            "Run the lesson in simulated services: a client calls " <code>"bands-api"</code>
            ", which calls " <code>"reviews-api"</code>
            ". Add tracing and context propagation step by step, watch "
            <code>"traceparent"</code>
            " change hop by hop, and find the planted performance problems in the waterfall — with nothing installed but the browser."
        </p>
        <NotBuiltYet />
    }
}
