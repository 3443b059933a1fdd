//! The Decode page: paste anything that carries trace context headers and
//! see every field, every rule broken, and what a receiver does with it.
//!
//! `tracelab_context::decode` does all the deciding; this page keeps the
//! input, mirrors it in the URL fragment (format in [`fragment`]) and draws
//! the report ([`report`]).
//!
//! Test hooks (`data-testid`), stable: `tp-input`, `tp-verdict`, `tp-error`
//! (one per rule broken, in either header), `ts-entry`, `tp-field-version`,
//! `tp-field-trace-id`, `tp-field-parent-id`, `tp-field-flags`; also
//! `tp-field-rest`, `tp-error-rule`, `tp-flag-bit`, `found-header`,
//! `tp-found`, `tp-ignored`, `ts-length`, `ts-truncation`, `ts-dropped`,
//! `tp-decision`, `tp-decision-action`, `tp-next-traceparent`,
//! `tp-next-tracestate`, `tp-tracestate-note`, `tp-share-note`,
//! `tp-hint`, `tp-example-valid`, `tp-example-invalid`,
//! `tp-example-tracestate`; other systems' headers and near-misses:
//! `other-header` (one each), `other-header-name`, `other-trace-id`,
//! `other-span-id`, `other-did-you-mean`, `other-note`; `tp-choice` (which
//! bare value was taken), `found-note` (where a value was cut short).
//!
//! The page follows its fragment: a link to it followed from it, back and
//! forward, or an edited address bar load the fragment's input again, with
//! the same notes as a fresh load.

pub(crate) mod fragment;
mod highlight;
pub(super) mod report;

use std::time::Duration;

use leptos::html::Textarea;
use leptos::prelude::*;
use tracelab_context::{decode, RandomIds};

use super::{PageInfo, PageTitle};

pub const INFO: PageInfo = PageInfo {
    slug: "decode",
    path: "/decode",
    title: "Decode",
    summary:
        "Paste a traceparent or tracestate header and see every field and every rule it breaks.",
};

/// The examples offered on an empty page: (test id suffix, label, text).
const EXAMPLES: [(&str, &str, &str); 3] = [
    (
        "valid",
        "a valid traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ),
    (
        "invalid",
        "an invalid one",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-0000000000000000-01",
    ),
    (
        "tracestate",
        "headers with a tracestate",
        "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03\ntracestate: rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    ),
];

/// How long typing must pause before the URL is rewritten: Chromium
/// throttles history updates past about 200 in 10 seconds (and warns in the
/// console), which fast typing or a held key would reach.
const FRAGMENT_DELAY: Duration = Duration::from_millis(250);

#[component]
pub fn Decode() -> impl IntoView {
    // Nothing pasted leaves the browser: no request from here (crate::csp).
    crate::csp::restrict(&[]);
    let loaded = fragment::read();
    let text = RwSignal::new(loaded.text.clone());
    let share_note = RwSignal::new(loaded.note);
    let input_ref = NodeRef::<Textarea>::new();
    // Set when the input came from the link rather than from typing: the
    // link already holds it (or holds something unreadable, which a fresh
    // load leaves in the address bar too), so it is not written back.
    let from_link = StoredValue::new(false);
    // Recomputed on every input: `decode` is linear in the text and its
    // reports are capped, so even a megabyte stays quick.
    let decoded = Memo::new(move |_| text.with(|t| decode(t, &mut RandomIds)));
    let is_empty = Memo::new(move |_| text.with(|t| t.trim().is_empty()));
    // A memo of the words, not of the report: the live region then changes
    // only when the verdict does, and a screen reader is not told the same
    // sentence again on every keystroke.
    let verdict = Memo::new(move |_| (!is_empty.get()).then(|| decoded.with(report::verdict_text)));

    // Mirror the input in the URL, a moment after the typing stops. The first
    // run is skipped: the URL already holds what was just read from it.
    let pending = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |ran_before: Option<()>| {
        text.track();
        if ran_before.is_none() || from_link.get_value() {
            from_link.set_value(false);
            return;
        }
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                let note = text.try_with_untracked(|t| fragment::write(t, INFO.path));
                if let Some(note) = note {
                    share_note.try_set(note);
                }
            },
            FRAGMENT_DELAY,
        );
        pending.set_value(handle.ok());
    });
    // A link to this page followed from it, back and forward between two
    // links, or an edited address bar: read again, as on a fresh load.
    fragment::follow_hash_changes(Some(pending), move || {
        let loaded = fragment::read();
        if let Some(textarea) = input_ref.get_untracked() {
            textarea.set_value(&loaded.text);
        }
        share_note.set(loaded.note);
        if text.get_untracked() != loaded.text {
            from_link.set_value(true);
            text.set(loaded.text);
        }
    });
    on_cleanup(move || {
        if let Some(Some(handle)) = pending.try_get_value() {
            handle.clear();
        }
    });

    let fill = move |example: &'static str| {
        // The textarea is not bound to `text` (writing a megabyte back into
        // it on every keystroke would be wasted work), so set it directly.
        if let Some(textarea) = input_ref.get_untracked() {
            textarea.set_value(example);
            let _ = textarea.focus();
        }
        text.set(example.to_owned());
    };

    let hint = move || {
        let examples = EXAMPLES
            .iter()
            .map(|&(id, label, example)| {
                view! {
                    <li>
                        <button
                            type="button"
                            class="example"
                            data-testid=format!("tp-example-{id}")
                            on:click=move |_| fill(example)
                        >
                            {label}
                        </button>
                    </li>
                }
            })
            .collect_view();
        view! {
            <div class="hint" data-testid="tp-hint">
                <p>"Nothing to decode yet. Paste a header above, or try an example:"</p>
                <ul class="examples">{examples}</ul>
            </div>
        }
    };

    view! {
        <PageTitle title=INFO.title />
        <p>
            "Paste a " <code>"traceparent"</code> " and " <code>"tracestate"</code>
            " — a bare value, a block of header lines, a " <code>"curl -v"</code>
            " dump, a log line or JSON — and see each field decoded, each W3C Trace Context rule that fails, and what a compliant receiver would do with the header. Nothing you paste leaves this page."
        </p>
        <label for="tp-input" class="input-label">
            "Header text"
        </label>
        <textarea
            id="tp-input"
            class="tp-input"
            data-testid="tp-input"
            node_ref=input_ref
            rows="5"
            spellcheck="false"
            autocomplete="off"
            prop:value=loaded.text
            on:input=move |ev| text.set(event_target_value(&ev))
        ></textarea>
        {move || {
            share_note
                .get()
                .map(|note| {
                    view! {
                        <p class="share-note" data-testid="tp-share-note">
                            {note}
                        </p>
                    }
                })
        }}
        // Kept in the DOM across updates so screen readers announce each new verdict.
        <div class="verdict-region" aria-live="polite">
            {move || verdict.get().map(|(class, text)| report::verdict(class, text, "tp-verdict"))}
        </div>
        {move || {
            if is_empty.get() {
                hint().into_any()
            } else {
                decoded.with(report::report).into_any()
            }
        }}
    }
}
