//! What the built headers are for: the header lines and code that sends
//! them (each with a copy button), and what the next service sends on.

use leptos::prelude::*;
use tracelab_context::snippet::Request;
use tracelab_context::{receive, Action, Incoming};

use super::clipboard::{select_text_of, write_text};
use super::state::{capitalize, NextHopIds};
use super::CheckedState;
use crate::pages::report_section;

/// A button that copies `text`; when the clipboard cannot be reached, it
/// selects the element `target` instead and says how to copy by hand.
#[component]
fn CopyButton(
    text: Signal<String>,
    /// The id of the element that shows the text.
    target: &'static str,
    /// What is copied, said to screen readers: "Copy the curl command".
    label: &'static str,
    test_id: &'static str,
    /// The button's visible text.
    #[prop(default = "Copy")]
    caption: &'static str,
) -> impl IntoView {
    let status = RwSignal::new(None::<&'static str>);
    let copy = move |_| {
        let text = text.get_untracked();
        write_text(&text, move |copied| {
            let message = if copied {
                "Copied."
            } else if select_text_of(target) {
                "The clipboard is not available here: the text is selected, press Ctrl+C (⌘C on a Mac) to copy it."
            } else {
                "The clipboard is not available here: select the text and copy it."
            };
            // The page may be gone by the time the browser answers.
            status.try_set(Some(message));
        });
    };
    view! {
        <span class="copy">
            <button
                type="button"
                class="small-button"
                data-testid=test_id
                aria-label=label
                on:click=copy
            >
                {caption}
            </button>
            <span class="copy-status" role="status" data-testid=format!("{test_id}-status")>
                {move || status.get()}
            </span>
        </span>
    }
}

/// One snippet: a heading, the code, and its copy button.
fn code_block(
    title: &'static str,
    id: &'static str,
    copy_id: &'static str,
    text: Signal<String>,
    label: &'static str,
) -> impl IntoView {
    view! {
        <div class="code-block">
            <div class="code-head">
                <h3>{title}</h3>
                <CopyButton text target=id label test_id=copy_id />
            </div>
            <pre class="code" id=id data-testid=id>{move || text.get()}</pre>
        </div>
    }
}

#[component]
pub fn Output(
    tp_value: Memo<String>,
    ts_checked: Memo<CheckedState>,
    next_ids: RwSignal<NextHopIds>,
    /// The request URL the snippets send to (kept in the link).
    url: RwSignal<String>,
) -> impl IntoView {
    // Every snippet is made from the same three values.
    let render = move |make: fn(&Request<'_>) -> String| {
        Signal::derive(move || {
            url.with(|url| {
                tp_value.with(|tp| {
                    ts_checked.with(|ts| {
                        make(&Request {
                            url,
                            traceparent: tp,
                            tracestate: Some(ts.value.as_str()),
                        })
                    })
                })
            })
        })
    };
    let header_lines = render(|r| r.header_lines());
    let tp_line = Signal::derive(move || format!("traceparent: {}", tp_value.get()));
    let ts_line =
        Signal::derive(move || format!("tracestate: {}", ts_checked.with(|c| c.value.clone())));
    let has_ts = move || ts_checked.with(|c| !c.ranges.is_empty());
    let valid = Memo::new(move |_| {
        tp_value.with(|tp| tracelab_context::TraceParent::parse(tp).is_ok())
            && ts_checked.with(CheckedState::is_valid)
    });
    let decode_link = move || {
        let text = header_lines.get();
        format!(
            "/decode#tp={}",
            String::from(js_sys::encode_uri_component(&text))
        )
    };

    let next = Memo::new(move |_| {
        tp_value.with(|tp| {
            ts_checked.with(|ts| {
                let incoming = Incoming {
                    traceparent: vec![tp.as_str()],
                    tracestate: if ts.ranges.is_empty() {
                        Vec::new()
                    } else {
                        vec![ts.value.as_str()]
                    },
                };
                let mut ids = next_ids.get();
                receive(&incoming, &mut ids)
            })
        })
    });

    view! {
        {report_section("build-out-heading", "Headers", None, view! {
            {move || {
                (!valid.get())
                    .then(|| {
                        view! {
                            <p class="bad">
                                "✘ These headers break a rule (see above): a receiver would not use them as they are."
                            </p>
                        }
                    })
            }}
            <div id="build-header-lines">
            <div class="header-line">
                <code id="build-line-traceparent">
                    <span class="muted">"traceparent: "</span>
                    <span data-testid="build-traceparent">{move || tp_value.get()}</span>
                </code>
                <CopyButton
                    text=tp_line
                    target="build-line-traceparent"
                    label="Copy the traceparent line"
                    test_id="build-copy-traceparent"
                />
            </div>
            {move || {
                has_ts()
                    .then(|| {
                        view! {
                            <div class="header-line">
                                <code id="build-line-tracestate">
                                    <span class="muted">"tracestate: "</span>
                                    <span data-testid="build-tracestate">
                                        {move || ts_checked.with(|c| c.value.clone())}
                                    </span>
                                </code>
                                <CopyButton
                                    text=ts_line
                                    target="build-line-tracestate"
                                    label="Copy the tracestate line"
                                    test_id="build-copy-tracestate"
                                />
                            </div>
                        }
                    })
            }}
            </div>
            {move || {
                (!has_ts())
                    .then(|| view! { <p class="muted">"No tracestate entries, so no tracestate header."</p> })
            }}
            <p class="build-actions">
                <CopyButton
                    text=header_lines
                    target="build-header-lines"
                    label="Copy both header lines"
                    test_id="build-copy-headers"
                    caption="Copy both lines"
                />
                <a href=decode_link data-testid="build-open-decode">
                    "Open these headers in Decode"
                </a>
            </p>
            <label for="build-url" class="input-label">
                "Request URL for the snippets"
            </label>
            <input
                id="build-url"
                class="id-input wide"
                data-testid="build-url"
                spellcheck="false"
                autocomplete="off"
                prop:value=move || url.get()
                on:input=move |ev| url.set(event_target_value(&ev))
            />
            {code_block("curl", "build-curl", "build-copy-curl", render(|r| r.curl()), "Copy the curl command")}
            {code_block(
                "Rust (reqwest)",
                "build-snippet-rust",
                "build-copy-rust",
                render(|r| r.reqwest()),
                "Copy the Rust snippet",
            )}
            {code_block(
                "Python (httpx)",
                "build-snippet-python",
                "build-copy-python",
                render(|r| r.httpx()),
                "Copy the Python snippet",
            )}
            {code_block(
                "JavaScript (fetch)",
                "build-snippet-js",
                "build-copy-js",
                render(|r| r.fetch()),
                "Copy the JavaScript snippet",
            )}
        })}

        {report_section("build-next-heading", "Next hop", None, view! {
            <p>
                "What a service that receives these headers does: "
                <strong class="action" data-testid="build-next-action">
                    {move || next.with(|d| d.action.as_str())}
                </strong>
                ": "
                {move || {
                    next.with(|d| match (&d.action, &d.restart_reason) {
                        (Action::Continue, _) => {
                            "it joins the trace: the same trace-id, its own new span as the parent-id, unknown flags sent as zero, the tracestate kept.".to_owned()
                        }
                        (Action::Restart, Some(reason)) => format!("{reason}."),
                        (Action::Restart, None) => "it starts a new trace.".to_owned(),
                    })
                }}
            </p>
            {move || {
                next.with(|d| d.tracestate_note())
                    .map(|n| view! { <p data-testid="build-next-note">{format!("{}.", capitalize(&n))}</p> })
            }}
            <p>"It sends to the service it calls:"</p>
            <dl class="next-hop">
                <dt>"traceparent"</dt>
                <dd>
                    <code data-testid="build-next-traceparent">
                        {move || next.with(|d| d.traceparent.to_header_value())}
                    </code>
                </dd>
                <dt>"tracestate"</dt>
                <dd>
                    {move || match next.with(|d| d.tracestate.as_ref().map(|s| s.header_value().to_owned())) {
                        Some(ts) => view! { <code data-testid="build-next-tracestate">{ts}</code> }.into_any(),
                        None => "none".into_any(),
                    }}
                </dd>
            </dl>
        })}
    }
}
