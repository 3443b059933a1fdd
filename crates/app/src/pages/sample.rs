//! The Sample page: a generated trace in the waterfall, the way to try the
//! viewer with no data of one's own.

use leptos::prelude::*;

use super::{NotBuiltYet, PageInfo, PageTitle};

pub const INFO: PageInfo = PageInfo {
    slug: "sample",
    path: "/sample",
    title: "Sample trace",
    summary: "Open a generated trace of any size in the waterfall: the way to try the viewer with no data.",
};

#[component]
pub fn Sample() -> impl IntoView {
    view! {
        <PageTitle title=INFO.title />
        <p>
            "A realistic generated trace — several services, fan-out, deep chains, errors, a few orphans and skewed clocks — drawn in the waterfall. "
            <code>"/sample?spans=N&seed=S"</code>
            " picks its size and makes it reproducible."
        </p>
        <NotBuiltYet />
    }
}
