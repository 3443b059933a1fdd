//! The Build page: put a valid trace context header together by hand.

use leptos::prelude::*;

use super::{NotBuiltYet, PageInfo, PageTitle};

pub const INFO: PageInfo = PageInfo {
    slug: "build",
    path: "/build",
    title: "Build",
    summary: "Compose a valid traceparent and tracestate field by field.",
};

#[component]
pub fn Build() -> impl IntoView {
    view! {
        <PageTitle title=INFO.title />
        <p>
            "Compose a " <code>"traceparent"</code> " field by field — version, trace id, parent span id and flags — with fresh random ids, add "
            <code>"tracestate"</code>
            " entries, derive a child for the next hop, and copy the headers to use in a real request."
        </p>
        <NotBuiltYet />
    }
}
