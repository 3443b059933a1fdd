//! The Decode page's URL fragment, so that a decoded header is shared as a
//! link.
//!
//! Format: `#tp=<text>`, where `<text>` is the whole input as
//! `encodeURIComponent` writes it. Further keys, if ever needed, join with
//! `&` (which the encoding escapes inside the value). The fragment is never
//! sent to a server, so nothing pasted leaves the browser.

use leptos::prelude::window;
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
    let hash = window().location().hash().unwrap_or_default();
    let encoded = hash
        .trim_start_matches('#')
        .split('&')
        .find_map(|part| part.strip_prefix(KEY));
    match encoded.map(js_sys::decode_uri_component) {
        None => Loaded {
            text: String::new(),
            note: None,
        },
        Some(Ok(text)) => Loaded {
            text: text.into(),
            note: None,
        },
        // decodeURIComponent throws on a malformed escape such as `%E0%A4%A`.
        Some(Err(_)) => Loaded {
            text: String::new(),
            note: Some("The link's #tp= part is not valid percent-encoding, so nothing was loaded from it.".to_owned()),
        },
    }
}

/// Puts `text` in the URL fragment, replacing the current history entry
/// (one entry per keystroke would make Back useless). Returns a note when
/// the text is too long for a link; the fragment is then removed, so the
/// address bar never holds an older input than the one shown.
pub fn write(text: &str, page_path: &str) -> Option<String> {
    let location = window().location();
    // The write is deferred; if the person has left the page meanwhile, the
    // fragment belongs to another page and is not ours to touch.
    if location.pathname().ok().as_deref() != Some(page_path) {
        return None;
    }
    let too_long = || {
        Some(format!(
            "This input is too long to keep in the link (over {MAX_ENCODED} characters encoded), so the address bar does not hold it."
        ))
    };
    // Encoding never shortens a text, so a long one is not even encoded.
    let (fragment, note) = if text.is_empty() {
        (String::new(), None)
    } else if text.len() > MAX_ENCODED {
        (String::new(), too_long())
    } else {
        let encoded = String::from(js_sys::encode_uri_component(text));
        if encoded.len() > MAX_ENCODED {
            (String::new(), too_long())
        } else {
            (format!("#{KEY}{encoded}"), None)
        }
    };
    if location.hash().ok().as_deref() != Some(fragment.as_str()) {
        replace_fragment(&location, &fragment);
    }
    note
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
