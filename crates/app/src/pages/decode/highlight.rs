//! A header value drawn with byte ranges marked, cut around the marks when
//! the value is long, so that a pasted megabyte still shows as a short line.

use leptos::prelude::*;
use tracelab_context::traceparent::display_text;

/// Values up to this many bytes are shown whole.
const SHOW_WHOLE: usize = 200;
/// Characters of unmarked text kept on each side of a mark in a long value.
const CONTEXT: usize = 24;
/// Characters of a marked run kept in a long value.
const MAX_MARKED: usize = 64;
/// Marks drawn; the findings themselves are capped upstream, but one rule can
/// still point at many places.
const MAX_MARKS: usize = 20;

/// One range to mark: UTF-8 byte offsets into the value, and the CSS class
/// of the mark (the field's colour).
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    pub start: usize,
    pub end: usize,
    pub class: &'static str,
}

/// The value with every range in `marks` wrapped in a `<mark>`. Ranges that
/// are out of bounds or not on character boundaries are skipped rather than
/// trusted (`str::get`), so no input can make this panic.
pub fn highlighted(value: &str, mut marks: Vec<Mark>) -> impl IntoView {
    marks.retain(|m| m.start <= m.end && value.get(m.start..m.end).is_some());
    marks.sort_by_key(|m| (m.start, m.end));
    // Overlapping ranges become one mark, so no text is drawn twice.
    let mut merged: Vec<Mark> = Vec::with_capacity(marks.len());
    for m in marks {
        match merged.last_mut() {
            Some(last) if m.start < last.end => last.end = last.end.max(m.end),
            _ => merged.push(m),
        }
    }
    let left_out = merged.len().saturating_sub(MAX_MARKS);
    merged.truncate(MAX_MARKS);

    let whole = value.len() <= SHOW_WHOLE;
    let mut pieces: Vec<AnyView> = Vec::with_capacity(2 * merged.len() + 2);
    let mut pos = 0;
    for (i, m) in merged.iter().enumerate() {
        let before = value.get(pos..m.start).unwrap_or_default();
        let before = match (whole, i) {
            (true, _) => before.to_owned(),
            (false, 0) => tail(before, CONTEXT),
            (false, _) => middle(before, 2 * CONTEXT),
        };
        pieces.push(before.into_any());
        let marked = value.get(m.start..m.end).unwrap_or_default();
        // An empty range points between two characters (a missing field):
        // draw a caret there, labelled for screen readers.
        let view = if marked.is_empty() {
            view! { <mark class=format!("{} at", m.class) aria-label="here">"‸"</mark> }.into_any()
        } else {
            let text = if whole {
                marked.to_owned()
            } else {
                middle(marked, MAX_MARKED)
            };
            view! { <mark class=m.class>{text}</mark> }.into_any()
        };
        pieces.push(view);
        pos = m.end;
    }
    let rest = value.get(pos..).unwrap_or_default();
    pieces.push(
        if whole {
            rest.to_owned()
        } else {
            display_text(rest, CONTEXT)
        }
        .into_any(),
    );
    if left_out > 0 {
        pieces.push(format!(" (and {left_out} more places)").into_any());
    }
    view! { <code class="snippet">{pieces}</code> }
}

/// The last `n` characters of `text`, with `…` when cut.
fn tail(text: &str, n: usize) -> String {
    match text.char_indices().rev().nth(n.saturating_sub(1)) {
        Some((0, _)) | None => text.to_owned(),
        Some((cut, _)) => format!("…{}", text.get(cut..).unwrap_or_default()),
    }
}

/// `text` cut in the middle to about `n` characters.
fn middle(text: &str, n: usize) -> String {
    if text.char_indices().nth(n).is_none() {
        return text.to_owned();
    }
    let head = display_text(text, n / 2);
    let tail = tail(text, n / 2);
    // `display_text` ends with '…' and `tail` starts with one: keep one.
    format!("{head}{}", tail.trim_start_matches('…'))
}
