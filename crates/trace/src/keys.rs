//! The waterfall's keys: what a key pressed on the list does, as a plain
//! function of the key, its modifiers and the rows, so that it is tested
//! without a browser and the component only applies the answer.
//!
//! ```
//! use tracelab_trace::keys::{list_key, KeyAction, KeyContext, Modifiers};
//! use tracelab_trace::view::{visible_rows, CollapseState, ViewOptions};
//! use tracelab_trace::{generate, SpanTree};
//!
//! let trace = generate(50, 7);
//! let tree = SpanTree::build(&trace);
//! let collapsed = CollapseState::new();
//! let rows = visible_rows(&tree, &ViewOptions { root: None, collapsed: &collapsed, filter: None });
//! let context = KeyContext {
//!     rows: &rows,
//!     tree: &tree,
//!     selected: Some(0),
//!     page_rows: 20,
//!     zoomed: false,
//!     details_open: false,
//!     help_open: false,
//! };
//! assert_eq!(list_key("ArrowDown", Modifiers::NONE, &context), Some(KeyAction::Select(1)));
//! // Ctrl+R reloads the page: a modified key is the browser's.
//! let ctrl = Modifiers { ctrl: true, ..Modifiers::NONE };
//! assert_eq!(list_key("r", ctrl, &context), None);
//! ```

use crate::tree::SpanTree;
use crate::view::VisibleRow;

/// The modifier keys held with a key. Shift is not here: it is part of the
/// key's value (`N` is Shift+n, `?` is Shift+/), as the browser reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Modifiers {
    pub ctrl: bool,
    /// Cmd on a Mac, the Windows key elsewhere.
    pub meta: bool,
    /// Option on a Mac; AltGr is reported as Ctrl+Alt.
    pub alt: bool,
}

impl Modifiers {
    /// No modifier held.
    pub const NONE: Modifiers = Modifiers {
        ctrl: false,
        meta: false,
        alt: false,
    };

    /// Whether any of Ctrl, Cmd (Meta) or Alt is held: such a key belongs to
    /// the browser or the system (Ctrl+R reloads, Ctrl+0 resets the page
    /// zoom, Alt+← goes back), never to the list.
    pub fn any(self) -> bool {
        self.ctrl || self.meta || self.alt
    }
}

/// What the list looks like when the key is pressed.
#[derive(Clone, Copy, Debug)]
pub struct KeyContext<'a> {
    /// The visible rows, in order.
    pub rows: &'a [VisibleRow],
    pub tree: &'a SpanTree,
    /// The selected row's position in `rows`, if it is one of them.
    pub selected: Option<usize>,
    /// How many rows a Page Up or Page Down moves (at least 1 is used).
    pub page_rows: usize,
    /// Whether the bars are zoomed to a time range.
    pub zoomed: bool,
    pub details_open: bool,
    pub help_open: bool,
}

/// What a key does. Positions are in the visible rows; spans are span
/// indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAction {
    /// Select the row at this position (and scroll it into view).
    Select(usize),
    Collapse(usize),
    Expand(usize),
    OpenDetails,
    CloseDetails,
    ZoomToSelected,
    ResetZoom,
    /// Show only the selected span's subtree, or the whole trace again when
    /// it is the one shown.
    ToggleRoot,
}

/// What `key` (a `KeyboardEvent.key` value) pressed with `modifiers` on the
/// list does, or `None` when the list leaves it alone: then the browser
/// gets it, default and all.
pub fn list_key(key: &str, modifiers: Modifiers, context: &KeyContext<'_>) -> Option<KeyAction> {
    if modifiers.any() {
        return None;
    }
    let rows = context.rows;
    let last = rows.len().checked_sub(1)?;
    // A position from the caller is trusted only inside the rows.
    let position = context.selected.filter(|&position| position <= last);
    let page = context.page_rows.max(1);
    match key {
        "ArrowDown" => Some(KeyAction::Select(position.map_or(0, |p| (p + 1).min(last)))),
        "ArrowUp" => Some(KeyAction::Select(
            position.map_or(0, |p| p.saturating_sub(1)),
        )),
        "PageDown" => Some(KeyAction::Select(
            position.map_or(0, |p| p.saturating_add(page).min(last)),
        )),
        "PageUp" => Some(KeyAction::Select(
            position.map_or(0, |p| p.saturating_sub(page)),
        )),
        // Next and previous filter match: in highlight mode the matches of a
        // large trace are far apart.
        "n" => {
            let from = position.map_or(0, |p| p + 1);
            rows.get(from..)?
                .iter()
                .position(|row| row.is_match)
                .map(|offset| KeyAction::Select(from + offset))
        }
        "N" => rows[..position.unwrap_or(0)]
            .iter()
            .rposition(|row| row.is_match)
            .map(KeyAction::Select),
        "z" => position.map(|_| KeyAction::ZoomToSelected),
        "r" => position.map(|_| KeyAction::ToggleRoot),
        "0" => context.zoomed.then_some(KeyAction::ResetZoom),
        "Home" => Some(KeyAction::Select(0)),
        "End" => Some(KeyAction::Select(last)),
        "ArrowLeft" => {
            let position = position?;
            let row = rows[position];
            if row.has_children && !row.is_collapsed {
                Some(KeyAction::Collapse(row.span_idx))
            } else {
                // As in a tree view: Left on a leaf goes to the parent.
                let parent_idx = context.tree.parent(row.span_idx)?;
                rows[..position]
                    .iter()
                    .rposition(|row| row.span_idx == parent_idx)
                    .map(KeyAction::Select)
            }
        }
        "ArrowRight" => {
            let position = position?;
            let row = rows[position];
            if row.is_collapsed {
                Some(KeyAction::Expand(row.span_idx))
            } else if row.has_children {
                Some(KeyAction::Select((position + 1).min(last)))
            } else {
                None
            }
        }
        "Enter" => position.map(|_| KeyAction::OpenDetails),
        // With the help open, Escape is for the help.
        "Escape" if context.details_open && !context.help_open => Some(KeyAction::CloseDetails),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::tests::{span, trace_of};
    use crate::view::{visible_rows, CollapseState, ViewOptions};

    /// root(1) -> a(2) -> a1(4), root -> b(3) -> b1(5), b -> b2(6); rows in
    /// order root, a, a1, b, b1, b2 (positions 0 to 5).
    fn sample(collapsed: &CollapseState) -> (SpanTree, Vec<VisibleRow>) {
        let trace = trace_of(vec![
            span(1, 0, 0, 100),
            span(2, 1, 10, 40),
            span(3, 1, 50, 90),
            span(4, 2, 15, 20),
            span(5, 3, 55, 60),
            span(6, 3, 70, 89),
        ]);
        let tree = SpanTree::build(&trace);
        let rows = visible_rows(
            &tree,
            &ViewOptions {
                root: None,
                collapsed,
                filter: None,
            },
        );
        (tree, rows)
    }

    const CTRL: Modifiers = Modifiers {
        ctrl: true,
        meta: false,
        alt: false,
    };
    const META: Modifiers = Modifiers {
        ctrl: false,
        meta: true,
        alt: false,
    };
    const ALT: Modifiers = Modifiers {
        ctrl: false,
        meta: false,
        alt: true,
    };

    #[test]
    fn each_key_at_each_row_does_what_the_help_says() {
        let collapsed = CollapseState::new();
        let (tree, rows) = sample(&collapsed);
        let positions: Vec<usize> = rows.iter().map(|row| row.span_idx).collect();
        assert_eq!(
            positions,
            [0, 1, 3, 2, 4, 5],
            "the rows' order the cases assume"
        );
        let context = |selected: Option<usize>| KeyContext {
            rows: &rows,
            tree: &tree,
            selected,
            page_rows: 2,
            zoomed: false,
            details_open: false,
            help_open: false,
        };
        // (key, selected position, expected, why)
        let cases: [(&str, Option<usize>, Option<KeyAction>, &str); 17] = [
            (
                "ArrowDown",
                None,
                Some(KeyAction::Select(0)),
                "nothing selected: the first row",
            ),
            (
                "ArrowDown",
                Some(2),
                Some(KeyAction::Select(3)),
                "the next row",
            ),
            (
                "ArrowDown",
                Some(5),
                Some(KeyAction::Select(5)),
                "the last row stays",
            ),
            (
                "ArrowUp",
                Some(0),
                Some(KeyAction::Select(0)),
                "the first row stays",
            ),
            (
                "PageDown",
                Some(1),
                Some(KeyAction::Select(3)),
                "a page of 2 rows",
            ),
            (
                "PageDown",
                Some(5),
                Some(KeyAction::Select(5)),
                "not past the end",
            ),
            (
                "PageUp",
                Some(1),
                Some(KeyAction::Select(0)),
                "not before the start",
            ),
            ("Home", Some(4), Some(KeyAction::Select(0)), "the first row"),
            ("End", None, Some(KeyAction::Select(5)), "the last row"),
            (
                "ArrowLeft",
                Some(1),
                Some(KeyAction::Collapse(1)),
                "an open parent collapses",
            ),
            (
                "ArrowLeft",
                Some(2),
                Some(KeyAction::Select(1)),
                "a leaf goes to its parent",
            ),
            (
                "ArrowLeft",
                Some(0),
                Some(KeyAction::Collapse(0)),
                "the root collapses",
            ),
            (
                "ArrowRight",
                Some(3),
                Some(KeyAction::Select(4)),
                "an open parent: its first child",
            ),
            ("ArrowRight", Some(4), None, "a leaf has nowhere to go"),
            ("z", None, None, "zoom needs a selected span"),
            (
                "r",
                Some(3),
                Some(KeyAction::ToggleRoot),
                "re-root at the selected span",
            ),
            (
                "0",
                Some(3),
                None,
                "not zoomed: nothing to reset, the browser may have it",
            ),
        ];
        for (key, selected, expected, why) in cases {
            assert_eq!(
                list_key(key, Modifiers::NONE, &context(selected)),
                expected,
                "{key} at {selected:?}: {why}"
            );
        }
        let zoomed = KeyContext {
            zoomed: true,
            ..context(None)
        };
        assert_eq!(
            list_key("0", Modifiers::NONE, &zoomed),
            Some(KeyAction::ResetZoom)
        );
        assert_eq!(
            list_key("x", Modifiers::NONE, &context(Some(0))),
            None,
            "unbound key"
        );
    }

    /// Regression: Ctrl+R with a row selected toggled re-rooting instead of
    /// reloading the page, and Ctrl+0 reset the trace's zoom instead of the
    /// page's. Every key the list knows, with Ctrl, Cmd or Alt, is the
    /// browser's.
    #[test]
    fn keys_with_ctrl_cmd_or_alt_are_left_to_the_browser() {
        let collapsed = CollapseState::new();
        let (tree, mut rows) = sample(&collapsed);
        // Matches before and after the selection, so that n and N act.
        rows[0].is_match = true;
        rows[3].is_match = true;
        let context = KeyContext {
            rows: &rows,
            tree: &tree,
            selected: Some(1),
            page_rows: 2,
            zoomed: true,
            details_open: true,
            help_open: false,
        };
        let keys = [
            "ArrowDown",
            "ArrowUp",
            "PageDown",
            "PageUp",
            "Home",
            "End",
            "ArrowLeft",
            "ArrowRight",
            "Enter",
            "Escape",
            "n",
            "N",
            "z",
            "r",
            "0",
        ];
        for key in keys {
            assert!(
                list_key(key, Modifiers::NONE, &context).is_some(),
                "{key} alone is the list's (else this test proves nothing)"
            );
            for modifiers in [
                CTRL,
                META,
                ALT,
                Modifiers {
                    ctrl: true,
                    alt: true,
                    meta: false,
                },
            ] {
                assert_eq!(
                    list_key(key, modifiers, &context),
                    None,
                    "{key} with {modifiers:?}"
                );
            }
        }
    }

    #[test]
    fn collapsed_rows_expand_and_matches_are_found_both_ways() {
        let mut collapsed = CollapseState::new();
        collapsed.collapse(2);
        let (tree, mut rows) = sample(&collapsed);
        // root, a, a1, b (collapsed)
        assert_eq!(rows.len(), 4);
        let context = |rows: &[VisibleRow], selected| {
            list_key(
                "ArrowRight",
                Modifiers::NONE,
                &KeyContext {
                    rows,
                    tree: &tree,
                    selected,
                    page_rows: 2,
                    zoomed: false,
                    details_open: false,
                    help_open: false,
                },
            )
        };
        assert_eq!(context(&rows, Some(3)), Some(KeyAction::Expand(2)));
        rows[0].is_match = true;
        rows[2].is_match = true;
        let at = |key: &str, selected: Option<usize>| {
            list_key(
                key,
                Modifiers::NONE,
                &KeyContext {
                    rows: &rows,
                    tree: &tree,
                    selected,
                    page_rows: 2,
                    zoomed: false,
                    details_open: false,
                    help_open: false,
                },
            )
        };
        assert_eq!(at("n", None), Some(KeyAction::Select(0)), "the first match");
        assert_eq!(
            at("n", Some(0)),
            Some(KeyAction::Select(2)),
            "the next match"
        );
        assert_eq!(at("n", Some(2)), None, "no match after the last");
        assert_eq!(
            at("N", Some(3)),
            Some(KeyAction::Select(2)),
            "the previous match"
        );
        assert_eq!(at("N", Some(0)), None, "no match before the first");
        // A position past the rows (a stale one) is treated as no selection.
        assert_eq!(at("ArrowDown", Some(99)), Some(KeyAction::Select(0)));
    }

    #[test]
    fn escape_closes_the_details_unless_the_help_is_open() {
        let collapsed = CollapseState::new();
        let (tree, rows) = sample(&collapsed);
        let context = |details_open, help_open| KeyContext {
            rows: &rows,
            tree: &tree,
            selected: Some(0),
            page_rows: 2,
            zoomed: false,
            details_open,
            help_open,
        };
        assert_eq!(
            list_key("Escape", Modifiers::NONE, &context(true, false)),
            Some(KeyAction::CloseDetails)
        );
        assert_eq!(
            list_key("Escape", Modifiers::NONE, &context(true, true)),
            None
        );
        assert_eq!(
            list_key("Escape", Modifiers::NONE, &context(false, false)),
            None
        );
        assert_eq!(
            list_key("Enter", Modifiers::NONE, &context(false, false)),
            Some(KeyAction::OpenDetails)
        );
    }

    #[test]
    fn an_empty_list_takes_no_key() {
        let collapsed = CollapseState::new();
        let (tree, _) = sample(&collapsed);
        let context = KeyContext {
            rows: &[],
            tree: &tree,
            selected: None,
            page_rows: 2,
            zoomed: true,
            details_open: false,
            help_open: false,
        };
        for key in ["ArrowDown", "End", "n", "0"] {
            assert_eq!(list_key(key, Modifiers::NONE, &context), None, "{key}");
        }
    }
}
