//! The Decode page's URL fragment, so that a decoded header is shared as a
//! link.
//!
//! Format: `#tp=<text>`, where `<text>` is the whole input as
//! `encodeURIComponent` writes it. Further keys, if ever needed, join with
//! `&` (which the encoding escapes inside the value). [`read_param`] and
//! [`write_params`] serve any page with such a fragment (the Build page's
//! `#tp=…&ts=…`). The fragment is never sent to a server, so nothing pasted
//! leaves the browser.

use leptos::prelude::{window, GetUntracked};
use leptos_router::hooks::use_location;
use wasm_bindgen::JsValue;

/// Longest encoded input kept in the link. A pasted megabyte must not end up
/// in the address bar (browsers and chat apps choke on such links), and a
/// trace context header block is far shorter than this.
pub const MAX_ENCODED: usize = 4096;

const KEY: &str = "tp=";

/// What the page finds in its URL when it loads.
pub struct Loaded {
    pub text: String,
    /// Said when the fragment was there but could not be read.
    pub note: Option<String>,
}

/// Reads `#tp=…` from the current URL.
pub fn read() -> Loaded {
    match read_param(KEY) {
        Ok(text) => Loaded {
            text: text.unwrap_or_default(),
            note: None,
        },
        Err(Malformed) => Loaded {
            text: String::new(),
            note: Some("The link's #tp= part is not valid percent-encoding, so nothing was loaded from it.".to_owned()),
        },
    }
}

/// A fragment value that is not valid percent-encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// The value of `key` (written with its `=`, as `"tp="`) in the current URL
/// fragment, `#k1=v1&k2=v2`, decoded; `Ok(None)` when the key is absent.
/// Shared by the pages that keep their state in the fragment.
///
/// The fragment comes from the router, not from `window.location`: on a
/// client-side navigation the router draws the new page before the address
/// bar changes, and reading the old URL there would hand one page's state to
/// another (both Decode and Build use `tp=`).
pub fn read_param(key: &str) -> Result<Option<String>, Malformed> {
    let hash = use_location().hash.get_untracked();
    let encoded = hash
        .trim_start_matches('#')
        .split('&')
        .find_map(|part| part.strip_prefix(key));
    match encoded.map(js_sys::decode_uri_component) {
        None => Ok(None),
        Some(Ok(text)) => Ok(Some(text.into())),
        // decodeURIComponent throws on a malformed escape such as `%E0%A4%A`.
        Some(Err(_)) => Err(Malformed),
    }
}

/// Puts `text` in the URL fragment, replacing the current history entry
/// (one entry per keystroke would make Back useless). Returns a note when
/// the text is too long for a link; the fragment is then removed, so the
/// address bar never holds an older input than the one shown.
pub fn write(text: &str, page_path: &str) -> Option<String> {
    write_params(&[(KEY, text)], page_path).err().map(|TooLong| {
        format!(
            "This input is too long to keep in the link (over {MAX_ENCODED} characters encoded), so the address bar does not hold it."
        )
    })
}

/// The values were too long for a link: over [`MAX_ENCODED`] characters
/// encoded, together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

/// Sets the URL fragment to `#k1=v1&k2=v2` (keys written with their `=`,
/// values percent-encoded, empty values left out), replacing the current
/// history entry, when the page at `page_path` is still the one shown. Too
/// long values remove the fragment instead, so the address bar never holds
/// an older state than the one shown.
pub fn write_params(params: &[(&str, &str)], page_path: &str) -> Result<(), TooLong> {
    let location = window().location();
    // The write is deferred; if the person has left the page meanwhile, the
    // fragment belongs to another page and is not ours to touch.
    if location.pathname().ok().as_deref() != Some(page_path) {
        return Ok(());
    }
    let mut parts = Vec::with_capacity(params.len());
    let mut encoded_len = 0;
    let mut result = Ok(());
    for &(key, value) in params.iter().filter(|(_, value)| !value.is_empty()) {
        // Encoding never shortens a text, so a long one is not even encoded.
        if encoded_len + value.len() > MAX_ENCODED {
            result = Err(TooLong);
            break;
        }
        let encoded = String::from(js_sys::encode_uri_component(value));
        encoded_len += encoded.len();
        if encoded_len > MAX_ENCODED {
            result = Err(TooLong);
            break;
        }
        parts.push(format!("{key}{encoded}"));
    }
    let fragment = match result {
        Ok(()) if !parts.is_empty() => format!("#{}", parts.join("&")),
        _ => String::new(),
    };
    if location.hash().ok().as_deref() != Some(fragment.as_str()) {
        replace_fragment(&location, &fragment);
    }
    result
}

fn replace_fragment(location: &web_sys::Location, fragment: &str) {
    let (Ok(path), Ok(search)) = (location.pathname(), location.search()) else {
        return;
    };
    let Ok(history) = window().history() else {
        return;
    };
    // Keep the router's state object: only the URL changes.
    let state = history.state().unwrap_or(JsValue::NULL);
    let url = format!("{path}{search}{fragment}");
    let _ = history.replace_state_with_url(&state, "", Some(&url));
}

/// Calls `read_again` whenever only the address bar's fragment changes (an
/// edited address bar, Back and Forward between two links to the page):
/// no page load happens then, so the page reads its link again as a fresh
/// load would. The pages' own writes use `replaceState`, which fires no
/// `hashchange`, so this never answers them and cannot loop.
///
/// `pending` is the page's delayed write of its state, if it has one: it is
/// cancelled first, so that it cannot undo the change. The listener only
/// counts; `read_again` runs in an effect, under the page's owner (where the
/// router's location, which [`read`] and [`read_param`] use, has caught up,
/// and where what it builds lives as long as the page, not the effect).
pub fn follow_hash_changes(
    pending: Option<leptos::prelude::StoredValue<Option<leptos::prelude::TimeoutHandle>>>,
    read_again: impl Fn() + 'static,
) {
    use leptos::prelude::*;

    let owner = Owner::current();
    let changes = RwSignal::new(0_u32);
    let listener = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(Some(handle)) = pending.and_then(|pending| pending.try_get_value()) {
            handle.clear();
        }
        changes.update(|n| *n = n.wrapping_add(1));
    });
    Effect::new(move |ran_before: Option<()>| {
        changes.track();
        if ran_before.is_some() {
            match &owner {
                Some(owner) => owner.with(&read_again),
                None => read_again(),
            }
        }
    });
    on_cleanup(move || listener.remove());
}
