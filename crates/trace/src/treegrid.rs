//! What a tree grid tells assistive technology about each visible row
//! besides its text: its level, how many siblings it has and which of them
//! it is (`aria-level`, `aria-setsize`, `aria-posinset`), so that a screen
//! reader says "level 3, 2 of 5" as the selection moves.
//!
//! The rows of a virtualised list are not all in the DOM, so the browser
//! cannot count siblings itself; this counts them among the visible rows
//! (a filter that hides spans hides them from the count too).
//!
//! ```
//! use tracelab_trace::treegrid::{tree_positions, TreePosition};
//! use tracelab_trace::view::{visible_rows, CollapseState, ViewOptions};
//! use tracelab_trace::{generate, SpanTree};
//!
//! let trace = generate(20, 7);
//! let tree = SpanTree::build(&trace);
//! let collapsed = CollapseState::new();
//! let rows = visible_rows(&tree, &ViewOptions { root: None, collapsed: &collapsed, filter: None });
//! let positions = tree_positions(&rows);
//! assert_eq!(positions[0], TreePosition { level: 1, pos_in_set: 1, set_size: 1 });
//! ```

use crate::budget::Budget;
use crate::view::VisibleRow;

/// One row's place in the tree, counted from 1 as ARIA counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TreePosition {
    /// `aria-level`: 1 for a root (or the span shown alone).
    pub level: u32,
    /// `aria-posinset`: which of its visible siblings the row is.
    pub pos_in_set: u32,
    /// `aria-setsize`: how many visible siblings it has, itself included.
    pub set_size: u32,
}

/// The place of each of `rows` (visible rows, in order). One pass and two
/// small vectors: the rows are in depth-first pre-order, so a row's
/// siblings are the rows at its depth until a shallower row ends the group.
pub fn tree_positions(rows: &[VisibleRow]) -> Vec<TreePosition> {
    let mut job = PositionsJob::new(rows.len());
    // An unlimited budget finishes each pass in one step.
    while !job.place(rows, &mut Budget::unlimited()) {}
    while !job.count_sets(&mut Budget::unlimited()) {}
    job.finish()
}

/// [`tree_positions`] a slice at a time, in two passes: each row placed in
/// its sibling group (`place`), then each given its group's final size
/// (`count_sets`). A unit a row in each pass.
#[derive(Clone, Debug, Default)]
pub(crate) struct PositionsJob {
    /// The open sibling group at each depth along the current path.
    open_groups: Vec<usize>,
    /// Each group's size so far.
    group_sizes: Vec<u32>,
    /// Per row placed: its level, place in its group, and its group.
    placed: Vec<(u32, u32, usize)>,
    positions: Vec<TreePosition>,
}

impl PositionsJob {
    pub(crate) fn new(n_rows: usize) -> PositionsJob {
        PositionsJob {
            placed: Vec::with_capacity(n_rows),
            ..PositionsJob::default()
        }
    }

    /// Places the rows from the first not yet placed until `budget` is
    /// spent; whether all of `rows` are placed. `rows` must be the same at
    /// every step.
    pub(crate) fn place(&mut self, rows: &[VisibleRow], budget: &mut Budget) -> bool {
        let start = self.placed.len().min(rows.len());
        let end = start + budget.grant(rows.len() - start);
        for row in &rows[start..end] {
            let depth = row.depth;
            // Deeper groups end here; a row deeper than any open group (which
            // pre-order only allows one level at a time) opens new ones.
            self.open_groups.truncate(depth + 1);
            while self.open_groups.len() < depth + 1 {
                self.open_groups.push(self.group_sizes.len());
                self.group_sizes.push(0);
            }
            let group = self.open_groups[depth];
            self.group_sizes[group] += 1;
            let level = u32::try_from(depth + 1).unwrap_or(u32::MAX);
            self.placed.push((level, self.group_sizes[group], group));
        }
        end == rows.len()
    }

    /// Rows placed so far.
    pub(crate) fn n_placed(&self) -> usize {
        self.placed.len()
    }

    /// Gives the placed rows their group's size, from the first not yet
    /// given one until `budget` is spent; whether every placed row has it.
    pub(crate) fn count_sets(&mut self, budget: &mut Budget) -> bool {
        if self.positions.capacity() == 0 {
            self.positions.reserve_exact(self.placed.len());
        }
        let start = self.positions.len();
        let end = start + budget.grant(self.placed.len() - start);
        let group_sizes = &self.group_sizes;
        self.positions.extend(
            self.placed[start..end]
                .iter()
                .map(|&(level, pos_in_set, group)| TreePosition {
                    level,
                    pos_in_set,
                    set_size: group_sizes[group],
                }),
        );
        end == self.placed.len()
    }

    /// Rows given their group's size so far.
    pub(crate) fn n_counted(&self) -> usize {
        self.positions.len()
    }

    pub(crate) fn finish(self) -> Vec<TreePosition> {
        self.positions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::SpanTimes;
    use crate::tree::tests::{span, trace_of};
    use crate::tree::SpanTree;
    use crate::view::{visible_rows, CollapseState, FilterMode, SpanFilter, ViewOptions};

    fn triples(positions: &[TreePosition]) -> Vec<(u32, u32, u32)> {
        positions
            .iter()
            .map(|p| (p.level, p.pos_in_set, p.set_size))
            .collect()
    }

    /// root(1) -> a(2) -> a1(4), root -> b(3) -> b1(5), b -> b2(6), and a
    /// second root 7: rows root, a, a1, b, b1, b2, 7.
    fn sample() -> (crate::Trace, SpanTree) {
        let trace = trace_of(vec![
            span(1, 0, 0, 100),
            span(2, 1, 10, 40),
            span(3, 1, 50, 90),
            span(4, 2, 15, 20),
            span(5, 3, 55, 60),
            span(6, 3, 70, 89),
            span(7, 0, 200, 300),
        ]);
        let tree = SpanTree::build(&trace);
        (trace, tree)
    }

    #[test]
    fn levels_and_sibling_counts_follow_the_visible_tree() {
        let (_, tree) = sample();
        let collapsed = CollapseState::new();
        let options = ViewOptions {
            root: None,
            collapsed: &collapsed,
            filter: None,
        };
        let rows = visible_rows(&tree, &options);
        assert_eq!(
            triples(&tree_positions(&rows)),
            [
                (1, 1, 2), // root: the first of two roots
                (2, 1, 2), // a: first of root's two children
                (3, 1, 1), // a1: a's only child
                (2, 2, 2), // b: second child, after a's subtree
                (3, 1, 2), // b1
                (3, 2, 2), // b2
                (1, 2, 2), // the second root
            ]
        );
    }

    #[test]
    fn hidden_spans_are_not_counted_as_siblings() {
        let (trace, tree) = sample();
        let times = SpanTimes::from_trace(&trace);
        // Only b2 (span index 5) matches: root and b stay as its ancestors.
        let filter = SpanFilter {
            min_duration_nanos: Some(19),
            max_duration_nanos: Some(19),
            ..SpanFilter::default()
        };
        let matches = filter.apply(&trace, &tree, &times);
        let collapsed = CollapseState::new();
        let rows = visible_rows(
            &tree,
            &ViewOptions {
                root: None,
                collapsed: &collapsed,
                filter: Some((&matches, FilterMode::Hide)),
            },
        );
        assert_eq!(
            rows.iter().map(|row| row.span_idx).collect::<Vec<_>>(),
            [0, 2, 5]
        );
        assert_eq!(
            triples(&tree_positions(&rows)),
            [(1, 1, 1), (2, 1, 1), (3, 1, 1)]
        );
    }

    #[test]
    fn a_subtree_shown_alone_starts_at_level_one() {
        let (_, tree) = sample();
        let collapsed = CollapseState::new();
        let rows = visible_rows(
            &tree,
            &ViewOptions {
                root: Some(2),
                collapsed: &collapsed,
                filter: None,
            },
        );
        assert_eq!(
            triples(&tree_positions(&rows)),
            [(1, 1, 1), (2, 1, 2), (2, 2, 2)]
        );
        assert!(tree_positions(&[]).is_empty());
    }
}
