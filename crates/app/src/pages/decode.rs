//! The Decode page: take a pasted header apart and say what is wrong with it.

use leptos::prelude::*;

use super::{NotBuiltYet, PageInfo, PageTitle};

pub const INFO: PageInfo = PageInfo {
    slug: "decode",
    path: "/decode",
    title: "Decode",
    summary:
        "Paste a traceparent or tracestate header and see every field and every rule it breaks.",
};

#[component]
pub fn Decode() -> impl IntoView {
    view! {
        <PageTitle title=INFO.title />
        <p>
            "Paste a " <code>"traceparent"</code> " and " <code>"tracestate"</code>
            " — a bare value, a block of header lines, a " <code>"curl -v"</code>
            " dump or a log line — and see each field decoded, each W3C Trace Context rule that passes or fails, and what a compliant receiver would do with the header."
        </p>
        <NotBuiltYet />
    }
}
