//! The waterfall's view in a trace page's link: one format for every trace
//! page that keeps its view in its URL fragment (Sample, Trace), so that a
//! link opens the same span with the same filter, zoom, collapsed spans,
//! subtree shown alone and recorded or adjusted times.
//!
//! Format: `#span=<id>&q=<filter>&z=<start>-<end>&c=<id>.<id>…&m=highlight&r=<id>&a=1`,
//! each key optional, values as `encodeURIComponent` writes them (so `&`
//! inside the filter is escaped). Ids are span ids, 16 hex digits. `z` is the
//! zoomed range in nanoseconds from the trace start; `c` lists the collapsed
//! spans, at most [`MAX_VIEW_COLLAPSED`] (64), joined by `.` (which the
//! encoding leaves as it is, where `,` would become `%2C`; `,` is read too);
//! `m=highlight` says the filter only highlights its matches (`m=hide`, the
//! default, hides the rest and is never written); `r` is the span whose
//! subtree alone is shown; `a=1` shows the adjusted times (clock skew
//! shifted out), `a=0` or none the recorded ones. A part that cannot be
//! read is left out with a note; the rest of the link applies.
//!
//! Read and written with the helpers the Decode and Build pages share,
//! which read the fragment through the router: on a client-side navigation
//! the new page is drawn before the address bar changes, and must not take
//! the old page's fragment for its own. [`parse`] and [`params`] hold the
//! format and are tested natively.

use std::time::Duration;

use leptos::prelude::*;

use super::query::{truncate_chars, MAX_QUERY_CHARS};
use crate::pages::decode::fragment::{read_param, write_params, Malformed};

/// Most collapsed spans a [`WaterfallView`] holds. A link must stay short
/// (a page's fragment is capped at 4,096 encoded characters, and 64 ids take
/// about 1,100), while a person may collapse thousands of spans: only the
/// first 64 in the trace's span order are kept, the rest open again when
/// the link is followed.
pub const MAX_VIEW_COLLAPSED: usize = 64;

/// How long the view must stay unchanged before the URL is rewritten:
/// Chromium throttles history updates past about 200 in 10 seconds, which
/// holding an arrow key would reach.
const FRAGMENT_DELAY: Duration = Duration::from_millis(250);

/// The part of the view that a page can keep in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaterfallView {
    /// The selected span, as 16 lowercase hex digits.
    pub span_id: Option<String>,
    /// The filter box's text.
    pub query: String,
    /// The zoomed time range, in nanoseconds from the trace start.
    pub zoom: Option<(u64, u64)>,
    /// The collapsed spans, as 16 lowercase hex digits each: at most
    /// [`MAX_VIEW_COLLAPSED`], in the trace's span order.
    pub collapsed: Vec<String>,
    /// Whether the filter only highlights its matches; `false`, the
    /// default, hides the spans that do not match.
    pub highlight: bool,
    /// The span whose subtree alone is shown (16 lowercase hex digits);
    /// `None` shows the whole trace.
    pub root: Option<String>,
    /// Whether the times are the opt-in adjusted view, with clock skew
    /// shifted out (each shift listed), instead of as recorded.
    pub adjusted: bool,
}

/// A waterfall's view kept in the page's link, both ways.
#[derive(Clone, Copy)]
pub struct LinkedView {
    /// Counts changes of the fragment made from outside (a link to this
    /// page followed from it, an edited address bar): no page load happens
    /// then, so the page builds its waterfall again from [`read`]. The
    /// page's own writes use `replaceState`, which fires no `hashchange`.
    pub changes: RwSignal<u32>,
    /// Give it to the waterfall's `on_view_change`: it writes the view to
    /// the link a moment after it settles.
    pub on_view_change: Callback<WaterfallView>,
}

/// Keeps the view of the waterfall on the page at `page_path` in its link,
/// for as long as the calling component lives.
pub fn link_view(page_path: String) -> LinkedView {
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let changes = RwSignal::new(0_u32);
    let hash_listener = window_event_listener(leptos::ev::hashchange, move |_| {
        // A write still waiting would undo the change.
        if let Some(Some(handle)) = pending.try_get_value() {
            handle.clear();
        }
        changes.update(|version| *version = version.wrapping_add(1));
    });
    on_cleanup(move || {
        hash_listener.remove();
        if let Some(Some(handle)) = pending.try_get_value() {
            handle.clear();
        }
    });
    let page_path = StoredValue::new(page_path);
    let on_view_change = Callback::new(move |view: WaterfallView| {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || page_path.with_value(|path| write(&view, path)),
            FRAGMENT_DELAY,
        );
        pending.set_value(handle.ok());
    });
    LinkedView {
        changes,
        on_view_change,
    }
}

/// What a page finds in its link.
pub struct Loaded {
    pub view: WaterfallView,
    /// Said when part of the fragment could not be read.
    pub note: Option<String>,
}

const UNREADABLE: &str =
    "Part of the link's # fragment is not valid percent-encoding and was left out.";
/// Says [`MAX_VIEW_COLLAPSED`]; a test checks that the two agree.
const TOO_MANY_COLLAPSED: &str =
    "The link's #c= part names more than 64 spans; only the first 64 are collapsed.";

/// The view in the current page's link.
pub fn read() -> Loaded {
    parse(read_param)
}

/// Reads the view from the fragment: `param(key)` is the decoded value
/// of `key` (written with its `=`), as `read_param` (the shared fragment helper) gives it.
pub fn parse(param: impl Fn(&str) -> Result<Option<String>, Malformed>) -> Loaded {
    let mut view = WaterfallView::default();
    let mut notes: Vec<&str> = Vec::new();
    let [span_id, query, zoom, collapsed, mode, root, adjusted] =
        ["span=", "q=", "z=", "c=", "m=", "r=", "a="].map(|key| {
            param(key).unwrap_or_else(|Malformed| {
                notes.push(UNREADABLE);
                None
            })
        });
    // Only the ids' shape is checked here; the waterfall says when no
    // span has one.
    if let Some(span_id) = span_id {
        view.span_id = span_hex(&span_id);
        if view.span_id.is_none() {
            notes.push(
                "The link's #span= part is not a 16-digit hex span id, so no span was selected.",
            );
        }
    }
    if let Some(text) = query {
        view.query = truncate_chars(&text, MAX_QUERY_CHARS).to_owned();
    }
    if let Some(range) = zoom {
        view.zoom = range
            .split_once('-')
            .and_then(|(start, end)| Some((start.parse::<u64>().ok()?, end.parse::<u64>().ok()?)))
            .filter(|(start, end)| start < end);
        if view.zoom.is_none() {
            notes.push("The link's #z= part is not a time range such as z=1000-2000, so the whole trace is shown.");
        }
    }
    if let Some(list) = collapsed {
        for part in list.split(['.', ',']).filter(|part| !part.is_empty()) {
            match span_hex(part) {
                Some(_) if view.collapsed.len() == MAX_VIEW_COLLAPSED => {
                    notes.push(TOO_MANY_COLLAPSED);
                    break;
                }
                Some(hex) => view.collapsed.push(hex),
                None => notes.push("Some of the link's #c= parts are not 16-digit hex span ids, so those spans stay open."),
            }
        }
    }
    match mode.as_deref() {
        None | Some("hide") => {}
        Some("highlight") => view.highlight = true,
        Some(_) => notes.push("The link's #m= part is neither hide nor highlight, so spans that do not match the filter are hidden."),
    }
    if let Some(root) = root {
        view.root = span_hex(&root);
        if view.root.is_none() {
            notes.push(
                "The link's #r= part is not a 16-digit hex span id, so the whole trace is shown.",
            );
        }
    }
    match adjusted.as_deref() {
        None | Some("0") => {}
        Some("1") => view.adjusted = true,
        Some(_) => notes
            .push("The link's #a= part is neither 1 nor 0, so the times are shown as recorded."),
    }
    notes.dedup();
    Loaded {
        view,
        note: (!notes.is_empty()).then(|| notes.join(" ")),
    }
}

/// `text` as a span id in lowercase, if it is 16 hex digits.
fn span_hex(text: &str) -> Option<String> {
    (text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

/// The fragment's keys and values for `view`, before encoding; empty
/// values are left out of the link.
///
/// Never too long for `write_params`: at worst a filter of
/// `MAX_QUERY_CHARS` (200) four-byte characters encodes to 2,400
/// characters, 64 collapsed ids take 1,087 and the rest under 100,
/// within its 4,096.
pub fn params(view: &WaterfallView) -> [(&'static str, String); 7] {
    let collapsed: Vec<&str> = view
        .collapsed
        .iter()
        .take(MAX_VIEW_COLLAPSED)
        .map(String::as_str)
        .collect();
    [
        ("span=", view.span_id.clone().unwrap_or_default()),
        (
            "q=",
            truncate_chars(&view.query, MAX_QUERY_CHARS).to_owned(),
        ),
        (
            "z=",
            view.zoom
                .map(|(start, end)| format!("{start}-{end}"))
                .unwrap_or_default(),
        ),
        ("c=", collapsed.join(".")),
        (
            "m=",
            if view.highlight { "highlight" } else { "" }.to_owned(),
        ),
        ("r=", view.root.clone().unwrap_or_default()),
        ("a=", if view.adjusted { "1" } else { "" }.to_owned()),
    ]
}

/// Puts `view` in the URL fragment of the page at `page_path`, replacing the current history entry
/// (one entry per arrow key would make Back useless).
pub fn write(view: &WaterfallView, page_path: &str) {
    let params = params(view);
    let _ = write_params(
        &params.each_ref().map(|(key, value)| (*key, value.as_str())),
        page_path,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::decode::fragment::MAX_ENCODED;

    /// The view read from a fragment whose decoded values are `pairs`.
    fn parse_pairs(pairs: &[(&str, &str)]) -> Loaded {
        parse(|key| {
            Ok(pairs
                .iter()
                .find(|(pair_key, _)| *pair_key == key)
                .map(|(_, value)| (*value).to_owned()))
        })
    }

    /// The `i`-th of some distinct span ids.
    fn hex_id(i: usize) -> String {
        format!("{:016x}", 0xabc0_0000_0000_0000_u64 + i as u64)
    }

    /// How long `encodeURIComponent` makes `text`: it leaves letters,
    /// digits and `-_.!~*'()` as they are and writes every other byte as `%XX`.
    fn encoded_len(text: &str) -> usize {
        text.bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
                    1
                } else {
                    3
                }
            })
            .sum()
    }

    #[test]
    fn a_view_survives_the_fragment_whole() {
        let view = WaterfallView {
            span_id: Some(hex_id(0)),
            query: "service:db >5ms".to_owned(),
            zoom: Some((1_000, 2_000)),
            collapsed: vec![hex_id(1), hex_id(2)],
            highlight: true,
            root: Some(hex_id(3)),
            adjusted: true,
        };
        let written = params(&view);
        assert_eq!(written[3], ("c=", format!("{}.{}", hex_id(1), hex_id(2))));
        assert_eq!(written[4], ("m=", "highlight".to_owned()));
        assert_eq!(written[5], ("r=", hex_id(3)));
        assert_eq!(written[6], ("a=", "1".to_owned()));
        let pairs: Vec<(&str, &str)> = written
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        let loaded = parse_pairs(&pairs);
        assert_eq!(loaded.view, view);
        assert_eq!(loaded.note, None);
    }

    #[test]
    fn the_default_view_writes_nothing_and_an_empty_fragment_reads_as_it() {
        // Empty values are left out of the link; hide mode is the default.
        assert!(params(&WaterfallView::default())
            .iter()
            .all(|(_, value)| value.is_empty()));
        let loaded = parse_pairs(&[]);
        assert_eq!(loaded.view, WaterfallView::default());
        assert_eq!(loaded.note, None);
        let loaded = parse_pairs(&[("m=", "hide"), ("a=", "0")]);
        assert_eq!(
            (loaded.view.highlight, loaded.view.adjusted, loaded.note),
            (false, false, None)
        );
    }

    #[test]
    fn a_bad_part_is_left_out_with_a_note_and_the_rest_applies() {
        // (key, bad value, what the note names): each alone beside good parts.
        for (key, bad, named) in [
            ("span=", "xyz", "#span="),
            ("z=", "junk", "#z="),
            ("z=", "2000-1000", "#z="),
            ("m=", "bold", "#m="),
            ("c=", "nothex", "#c="),
            ("r=", "root", "#r="),
            ("a=", "yes", "#a="),
        ] {
            let mut pairs = vec![
                ("q=", "service:db"),
                ("c=", "ABC0000000000001,abc0000000000002"),
            ];
            pairs.retain(|(pair_key, _)| *pair_key != key);
            pairs.push((key, bad));
            let loaded = parse_pairs(&pairs);
            let note = loaded.note.unwrap_or_default();
            assert!(note.contains(named), "{key}{bad}: {note}");
            assert_eq!(
                loaded.view.query, "service:db",
                "{key}{bad}: the filter still applies"
            );
            if key != "c=" {
                // Upper case and `,` as in a hand-written link are read too.
                assert_eq!(loaded.view.collapsed, [hex_id(1), hex_id(2)], "{key}{bad}");
            }
        }
        // A bad id among good ones leaves only itself out.
        let loaded = parse_pairs(&[("c=", "abc0000000000001.0123.abc0000000000002.")]);
        assert_eq!(loaded.view.collapsed, [hex_id(1), hex_id(2)]);
        assert!(loaded.note.is_some_and(|note| note.contains("#c=")));
    }

    #[test]
    fn unreadable_percent_encoding_leaves_that_part_out() {
        let loaded = parse(|key| match key {
            "q=" => Err(Malformed),
            "m=" => Ok(Some("highlight".to_owned())),
            _ => Ok(None),
        });
        assert_eq!(
            (loaded.view.query.as_str(), loaded.view.highlight),
            ("", true)
        );
        assert!(loaded
            .note
            .is_some_and(|note| note.contains("percent-encoding")));
    }

    #[test]
    fn collapsed_spans_are_capped_both_ways() {
        let many: Vec<String> = (0..MAX_VIEW_COLLAPSED + 6).map(hex_id).collect();
        let list = many.join(".");
        let loaded = parse_pairs(&[("c=", &list), ("q=", "auth")]);
        assert_eq!(loaded.view.collapsed, many[..MAX_VIEW_COLLAPSED]);
        assert_eq!(loaded.view.query, "auth");
        let note = loaded.note.unwrap_or_default();
        assert!(
            note.contains(&format!("first {MAX_VIEW_COLLAPSED} ")),
            "the note says the cap: {note}"
        );
        // A view holding more (not one the waterfall makes) still writes 64.
        let view = WaterfallView {
            collapsed: many,
            ..WaterfallView::default()
        };
        assert_eq!(params(&view)[3].1, list[..MAX_VIEW_COLLAPSED * 17 - 1]);
    }

    #[test]
    fn the_longest_view_fits_in_a_link() {
        // The filter at its longest in four-byte characters, every id.
        let view = WaterfallView {
            span_id: Some(hex_id(0)),
            query: "🦀".repeat(MAX_QUERY_CHARS + 1),
            zoom: Some((u64::MAX - 1, u64::MAX)),
            collapsed: (0..MAX_VIEW_COLLAPSED).map(hex_id).collect(),
            highlight: true,
            root: Some(hex_id(1)),
            adjusted: true,
        };
        let encoded: usize = params(&view)
            .iter()
            .map(|(_, value)| encoded_len(value))
            .sum();
        assert!(encoded <= MAX_ENCODED, "{encoded} encoded characters");
    }
}
