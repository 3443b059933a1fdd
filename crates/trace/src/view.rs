//! What the waterfall shows: collapse state, the filter, re-rooting, and the
//! visible rows that follow from them. Plain data, no view types: the app
//! turns [`VisibleRow`]s into DOM rows.

use std::collections::BTreeSet;

use crate::budget::Budget;
use crate::layout::SpanTimes;
use crate::model::{AttributeValue, Trace};
use crate::tree::SpanTree;

/// The set of collapsed spans. A collapsed span's row stays visible; its
/// descendants are hidden. Ordered, so it serialises the same way every time
/// (the app keeps it in the URL fragment).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollapseState {
    collapsed: BTreeSet<usize>,
}

impl CollapseState {
    pub fn new() -> CollapseState {
        CollapseState::default()
    }

    pub fn is_collapsed(&self, span_idx: usize) -> bool {
        self.collapsed.contains(&span_idx)
    }

    pub fn collapse(&mut self, span_idx: usize) {
        self.collapsed.insert(span_idx);
    }

    pub fn expand(&mut self, span_idx: usize) {
        self.collapsed.remove(&span_idx);
    }

    /// Collapses an expanded span or expands a collapsed one; returns whether
    /// it is now collapsed.
    pub fn toggle(&mut self, span_idx: usize) -> bool {
        if self.collapsed.remove(&span_idx) {
            false
        } else {
            self.collapsed.insert(span_idx);
            true
        }
    }

    pub fn expand_all(&mut self) {
        self.collapsed.clear();
    }

    /// Collapses every span at `depth` that has children, so that rows deeper
    /// than `depth` are hidden.
    pub fn collapse_at_depth(&mut self, tree: &SpanTree, depth: usize) {
        for span_idx in tree.rows() {
            if tree.depth(span_idx) == depth && tree.has_children(span_idx) {
                self.collapsed.insert(span_idx);
            }
        }
    }

    /// The collapsed spans in index order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.collapsed.iter().copied()
    }
}

/// What to search for. Every criterion that is set must hold; an empty
/// filter matches every span. Text matches ignore ASCII case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanFilter {
    /// Service names, whole: a span of any of them matches (empty: any
    /// service).
    pub services: Vec<String>,
    /// A substring of the span name.
    pub name_contains: Option<String>,
    /// Substrings each found in an attribute key or in its value as text.
    pub attributes_contain: Vec<String>,
    /// At least this long.
    pub min_duration_nanos: Option<u64>,
    /// At most this long.
    pub max_duration_nanos: Option<u64>,
    pub errors_only: bool,
    /// A span that matches any of these does not match (the filter box's
    /// `-word`). Their own `excluded` lists are not read.
    pub excluded: Vec<SpanFilter>,
}

/// How non-matching spans are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FilterMode {
    /// Hide spans that do not match, keeping the ancestors of every match so
    /// the tree stays readable.
    Hide,
    /// Show every span, marking the matches.
    #[default]
    Highlight,
}

/// The result of applying a [`SpanFilter`] to a trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterMatches {
    matched: Vec<bool>,
    /// Matches and their ancestors: what hide mode shows.
    kept: Vec<bool>,
    n_matches: usize,
}

impl FilterMatches {
    pub fn is_match(&self, span_idx: usize) -> bool {
        self.matched.get(span_idx).copied().unwrap_or(false)
    }

    /// Whether hide mode shows span `span_idx` (a match or an ancestor of one).
    pub fn is_kept(&self, span_idx: usize) -> bool {
        self.kept.get(span_idx).copied().unwrap_or(false)
    }

    pub fn n_matches(&self) -> usize {
        self.n_matches
    }
}

/// `haystack` contains `needle_lowercase` (already ASCII-lowercased),
/// ignoring ASCII case, without allocating.
fn contains_ignore_ascii_case(haystack: &str, needle_lowercase: &str) -> bool {
    let needle = needle_lowercase.as_bytes();
    if needle.is_empty() {
        return true;
    }
    haystack.as_bytes().windows(needle.len()).any(|window| {
        window
            .iter()
            .zip(needle)
            .all(|(byte, needle_byte)| byte.to_ascii_lowercase() == *needle_byte)
    })
}

fn value_contains(value: &AttributeValue, needle_lowercase: &str) -> bool {
    match value {
        // Strings are the common case: match without formatting them.
        AttributeValue::String(text) => contains_ignore_ascii_case(text, needle_lowercase),
        other => contains_ignore_ascii_case(&other.to_string(), needle_lowercase),
    }
}

impl SpanFilter {
    pub fn is_empty(&self) -> bool {
        *self == SpanFilter::default()
    }

    /// Lowercases the text criteria once, so matching does not allocate per span.
    fn normalised(&self) -> SpanFilter {
        let lower = |texts: &[String]| texts.iter().map(|text| text.to_ascii_lowercase()).collect();
        SpanFilter {
            services: lower(&self.services),
            name_contains: self
                .name_contains
                .as_ref()
                .map(|text| text.to_ascii_lowercase()),
            attributes_contain: lower(&self.attributes_contain),
            excluded: self.excluded.iter().map(SpanFilter::normalised).collect(),
            ..self.clone()
        }
    }

    /// Whether span `span_idx` matches this (normalised) filter.
    fn matches_normalised(&self, trace: &Trace, times: &SpanTimes, span_idx: usize) -> bool {
        self.matches_criteria(trace, times, span_idx)
            && !self
                .excluded
                .iter()
                .any(|excluded| excluded.matches_criteria(trace, times, span_idx))
    }

    /// Whether span `span_idx` meets every criterion of this (normalised)
    /// filter, `excluded` aside.
    fn matches_criteria(&self, trace: &Trace, times: &SpanTimes, span_idx: usize) -> bool {
        let Some(span) = trace.spans.get(span_idx) else {
            return false;
        };
        if self.errors_only && !span.status.is_error() {
            return false;
        }
        let duration = times.duration(span_idx);
        if self.min_duration_nanos.is_some_and(|min| duration < min)
            || self.max_duration_nanos.is_some_and(|max| duration > max)
        {
            return false;
        }
        if !self.services.is_empty() {
            let service = trace.service_name(span_idx);
            if !self
                .services
                .iter()
                .any(|name| service.eq_ignore_ascii_case(name))
            {
                return false;
            }
        }
        if let Some(name) = &self.name_contains {
            if !contains_ignore_ascii_case(&span.name, name) {
                return false;
            }
        }
        self.attributes_contain.iter().all(|needle| {
            span.attributes.iter().any(|attribute| {
                contains_ignore_ascii_case(&attribute.key, needle)
                    || value_contains(&attribute.value, needle)
            })
        })
    }

    /// Whether span `span_idx` matches.
    pub fn matches(&self, trace: &Trace, times: &SpanTimes, span_idx: usize) -> bool {
        self.normalised().matches_normalised(trace, times, span_idx)
    }

    /// Matches every span, and marks the ancestors of each match as kept.
    pub fn apply(&self, trace: &Trace, tree: &SpanTree, times: &SpanTimes) -> FilterMatches {
        let mut job = FilterJob::new(self, tree.len());
        // One step matches every span, the next marks the ancestors.
        loop {
            if let Some(matches) = job.step(trace, tree, times, usize::MAX) {
                return matches;
            }
        }
    }
}

/// [`SpanFilter::apply`] in steps, so that a caller with a million spans
/// can match them a slice at a time and let the browser answer in between.
/// The result is the same as one `apply`.
#[derive(Clone, Debug)]
pub struct FilterJob {
    filter: SpanFilter,
    matched: Vec<bool>,
    n_spans: usize,
}

impl FilterJob {
    /// A job matching `filter` against the `n_spans` spans of a trace.
    pub fn new(filter: &SpanFilter, n_spans: usize) -> FilterJob {
        FilterJob {
            filter: filter.normalised(),
            matched: Vec::with_capacity(n_spans),
            n_spans,
        }
    }

    /// How many spans are matched so far, of how many.
    pub fn progress(&self) -> (usize, usize) {
        (self.matched.len(), self.n_spans)
    }

    /// Matches up to `budget` more spans (at least one); the step after the
    /// last span is matched marks the ancestors of each match (one linear
    /// pass, a step of its own) and gives the result. `trace`, `tree` and
    /// `times` must be those of the trace the job was made for.
    pub fn step(
        &mut self,
        trace: &Trace,
        tree: &SpanTree,
        times: &SpanTimes,
        budget: usize,
    ) -> Option<FilterMatches> {
        let start = self.matched.len();
        if start < self.n_spans {
            let end = start.saturating_add(budget.max(1)).min(self.n_spans);
            for span_idx in start..end {
                let is_match = self.filter.matches_normalised(trace, times, span_idx);
                self.matched.push(is_match);
            }
            return None;
        }
        let matched = std::mem::take(&mut self.matched);
        let mut kept = matched.clone();
        // Walk up from each match until an ancestor already kept: every span
        // is walked through at most once, so this is linear.
        for span_idx in (0..self.n_spans).filter(|&span_idx| matched[span_idx]) {
            let mut current = span_idx;
            while let Some(parent_idx) = tree.parent(current) {
                if kept[parent_idx] {
                    break;
                }
                kept[parent_idx] = true;
                current = parent_idx;
            }
        }
        let n_matches = matched.iter().filter(|&&is_match| is_match).count();
        Some(FilterMatches {
            matched,
            kept,
            n_matches,
        })
    }
}

/// What to show: an optional view root (Zipkin Lens's "re-root"), the
/// collapse state and an optional filter.
#[derive(Clone, Copy, Debug)]
pub struct ViewOptions<'a> {
    /// Show only this span and its descendants, depth counted from it.
    pub root: Option<usize>,
    pub collapsed: &'a CollapseState,
    pub filter: Option<(&'a FilterMatches, FilterMode)>,
}

/// One row the waterfall shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VisibleRow {
    pub span_idx: usize,
    /// Depth below the view root (the tree depth when not re-rooted).
    pub depth: usize,
    /// Whether the row has children it could show (in hide mode, kept ones).
    pub has_children: bool,
    pub is_collapsed: bool,
    /// Whether the span matches the filter (false without a filter).
    pub is_match: bool,
}

/// The rows to show, in tree order. Linear in the rows shown plus the
/// children of shown rows: a collapsed or filtered-out subtree is skipped as
/// a whole, because the tree keeps each subtree's rows contiguous.
pub fn visible_rows(tree: &SpanTree, options: &ViewOptions<'_>) -> Vec<VisibleRow> {
    let mut walk = RowWalk::new(tree, options);
    let mut visible = Vec::new();
    // An unlimited budget walks every row in one step.
    while !walk.step(tree, options, &mut visible, &mut Budget::unlimited()) {}
    visible
}

/// [`visible_rows`] a slice at a time: where the walk through the tree's
/// rows is. `tree` and `options` must be the same at every step.
#[derive(Clone, Debug)]
pub(crate) struct RowWalk {
    /// The next row of [`SpanTree::rows`] to look at.
    row: usize,
    end: usize,
    base_depth: usize,
    view_root: Option<usize>,
}

impl RowWalk {
    pub(crate) fn new(tree: &SpanTree, options: &ViewOptions<'_>) -> RowWalk {
        let (row_range, base_depth, view_root) = match options.root {
            Some(root_idx) if root_idx < tree.len() => (
                tree.subtree_rows(root_idx),
                tree.depth(root_idx),
                Some(root_idx),
            ),
            _ => (0..tree.len(), 0, None),
        };
        RowWalk {
            row: row_range.start,
            end: row_range.end,
            base_depth,
            view_root,
        }
    }

    /// The tree rows passed so far (shown or skipped).
    pub(crate) fn rows_passed(&self) -> usize {
        self.row
    }

    /// Appends the visible rows of the next tree rows to `visible` until
    /// `budget` is spent (a unit a row shown or subtree skipped); whether
    /// the walk is over.
    pub(crate) fn step(
        &mut self,
        tree: &SpanTree,
        options: &ViewOptions<'_>,
        visible: &mut Vec<VisibleRow>,
        budget: &mut Budget,
    ) -> bool {
        let rows = tree.rows_raw();
        let hide = match options.filter {
            Some((matches, FilterMode::Hide)) => Some(matches),
            _ => None,
        };
        let allowed = budget.grant(usize::MAX);
        let mut used = 0;
        let mut row = self.row;
        let end = self.end.min(rows.len());
        while row < end && used < allowed {
            used += 1;
            let span_idx = rows[row] as usize;
            let subtree_end = tree.subtree_rows(span_idx).end;
            // Hide mode: a span not kept has no match below it either (or it
            // would be kept as an ancestor), so its whole subtree goes. The view
            // root stays, as the reader chose it.
            if let Some(matches) = hide {
                if !matches.is_kept(span_idx) && Some(span_idx) != self.view_root {
                    row = subtree_end;
                    continue;
                }
            }
            let has_children = match hide {
                Some(matches) => tree
                    .children(span_idx)
                    .any(|child_idx| matches.is_kept(child_idx)),
                None => tree.has_children(span_idx),
            };
            let is_collapsed = options.collapsed.is_collapsed(span_idx);
            visible.push(VisibleRow {
                span_idx,
                depth: tree.depth(span_idx) - self.base_depth,
                has_children,
                is_collapsed,
                is_match: options
                    .filter
                    .is_some_and(|(matches, _)| matches.is_match(span_idx)),
            });
            row = if is_collapsed { subtree_end } else { row + 1 };
        }
        budget.refund(allowed - used);
        self.row = row;
        row >= end
    }
}

/// Where span `span_idx` is among `rows` (the output of [`visible_rows`]
/// for `tree`), if it is shown. Rows keep the tree's order, so this is a
/// binary search on each row's place in [`SpanTree::rows`]: the selection's
/// row is asked for at every change of the view, and a linear scan of a
/// million rows is felt.
pub fn position_of(rows: &[VisibleRow], tree: &SpanTree, span_idx: usize) -> Option<usize> {
    let target = tree.row_of(span_idx)?;
    rows.binary_search_by_key(&target, |row| {
        tree.row_of(row.span_idx).unwrap_or(usize::MAX)
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyValue, Resource, Status};
    use crate::tree::tests::{span, trace_of};
    use std::sync::Arc;

    /// root(1) -> a(2) -> a1(4), root -> b(3) -> b1(5), b -> b2(6)
    fn sample() -> (Trace, SpanTree, SpanTimes) {
        let mut trace = trace_of(vec![
            span(1, 0, 0, 100),
            span(2, 1, 10, 40),
            span(3, 1, 50, 90),
            span(4, 2, 15, 20),
            span(5, 3, 55, 60),
            span(6, 3, 70, 89),
        ]);
        trace.resources = vec![
            Resource {
                service_name: Arc::from("frontend"),
                attributes: vec![],
            },
            Resource {
                service_name: Arc::from("db"),
                attributes: vec![],
            },
        ];
        trace.spans[4].resource_idx = 1;
        trace.spans[4].attributes.push(KeyValue::new(
            "db.query.text",
            AttributeValue::string("SELECT * FROM reviews"),
        ));
        trace.spans[5].status = Status::Error {
            message: Box::from("deadlock"),
        };
        trace.spans[5].attributes.push(KeyValue::new(
            "http.response.status_code",
            AttributeValue::Int(503),
        ));
        let tree = SpanTree::build(&trace);
        let times = SpanTimes::from_trace(&trace);
        (trace, tree, times)
    }

    fn shown(tree: &SpanTree, options: &ViewOptions<'_>) -> Vec<(usize, usize)> {
        visible_rows(tree, options)
            .iter()
            .map(|row| (row.span_idx, row.depth))
            .collect()
    }

    #[test]
    fn all_rows_show_when_nothing_is_collapsed() {
        let (_, tree, _) = sample();
        let collapsed = CollapseState::new();
        let options = ViewOptions {
            root: None,
            collapsed: &collapsed,
            filter: None,
        };
        assert_eq!(
            shown(&tree, &options),
            vec![(0, 0), (1, 1), (3, 2), (2, 1), (4, 2), (5, 2)]
        );
    }

    #[test]
    fn collapsing_hides_descendants_but_keeps_the_row() {
        let (_, tree, _) = sample();
        let mut collapsed = CollapseState::new();
        assert!(collapsed.toggle(2));
        let rows = visible_rows(
            &tree,
            &ViewOptions {
                root: None,
                collapsed: &collapsed,
                filter: None,
            },
        );
        assert_eq!(
            rows.iter().map(|row| row.span_idx).collect::<Vec<_>>(),
            vec![0, 1, 3, 2]
        );
        assert!(rows[3].is_collapsed && rows[3].has_children);
        assert!(!collapsed.toggle(2));
        collapsed.collapse_at_depth(&tree, 1);
        assert_eq!(collapsed.iter().collect::<Vec<_>>(), vec![1, 2]);
        collapsed.expand_all();
        assert!(!collapsed.is_collapsed(1));
    }

    #[test]
    fn re_rooting_shows_one_subtree_with_depth_from_its_root() {
        let (_, tree, _) = sample();
        let collapsed = CollapseState::new();
        let options = ViewOptions {
            root: Some(2),
            collapsed: &collapsed,
            filter: None,
        };
        assert_eq!(shown(&tree, &options), vec![(2, 0), (4, 1), (5, 1)]);
    }

    #[test]
    fn filter_by_attribute_value_hides_others_and_keeps_ancestors() {
        let (trace, tree, times) = sample();
        let filter = SpanFilter {
            attributes_contain: vec!["from REVIEWS".into()],
            ..SpanFilter::default()
        };
        let matches = filter.apply(&trace, &tree, &times);
        assert_eq!(matches.n_matches(), 1);
        let collapsed = CollapseState::new();
        let rows = visible_rows(
            &tree,
            &ViewOptions {
                root: None,
                collapsed: &collapsed,
                filter: Some((&matches, FilterMode::Hide)),
            },
        );
        let spans: Vec<(usize, bool)> = rows
            .iter()
            .map(|row| (row.span_idx, row.is_match))
            .collect();
        assert_eq!(spans, vec![(0, false), (2, false), (4, true)]);
    }

    #[test]
    fn highlight_mode_shows_everything_and_marks_matches() {
        let (trace, tree, times) = sample();
        let filter = SpanFilter {
            errors_only: true,
            ..SpanFilter::default()
        };
        let matches = filter.apply(&trace, &tree, &times);
        let collapsed = CollapseState::new();
        let rows = visible_rows(
            &tree,
            &ViewOptions {
                root: None,
                collapsed: &collapsed,
                filter: Some((&matches, FilterMode::Highlight)),
            },
        );
        assert_eq!(rows.len(), 6);
        assert_eq!(
            rows.iter()
                .filter(|row| row.is_match)
                .map(|row| row.span_idx)
                .collect::<Vec<_>>(),
            vec![5]
        );
    }

    #[test]
    fn filter_criteria_combine() {
        let (trace, tree, times) = sample();
        let by_service = SpanFilter {
            services: vec!["DB".into()],
            ..SpanFilter::default()
        };
        assert!(by_service.matches(&trace, &times, 4));
        assert!(!by_service.matches(&trace, &times, 0));
        let by_name_and_duration = SpanFilter {
            name_contains: Some("SPAN-".into()),
            min_duration_nanos: Some(30),
            ..SpanFilter::default()
        };
        let matches = by_name_and_duration.apply(&trace, &tree, &times);
        assert_eq!(
            (0..6)
                .filter(|&idx| matches.is_match(idx))
                .collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        let by_int_value = SpanFilter {
            attributes_contain: vec!["503".into()],
            ..SpanFilter::default()
        };
        assert!(by_int_value.matches(&trace, &times, 5));
        // Services are either/or; an upper bound and exclusions narrow.
        let either = SpanFilter {
            services: vec!["nowhere".into(), "DB".into()],
            ..SpanFilter::default()
        };
        assert!(either.matches(&trace, &times, 4));
        let short_and_not_db = SpanFilter {
            max_duration_nanos: Some(19),
            excluded: vec![SpanFilter {
                services: vec!["db".into()],
                ..SpanFilter::default()
            }],
            ..SpanFilter::default()
        };
        let matches = short_and_not_db.apply(&trace, &tree, &times);
        assert_eq!(
            (0..6)
                .filter(|&idx| matches.is_match(idx))
                .collect::<Vec<_>>(),
            vec![3, 5],
            "spans 3 (5 ns) and 5 (19 ns) are short enough; span 4 (5 ns) is of db"
        );
        assert!(SpanFilter::default().is_empty());
        assert!(SpanFilter::default().matches(&trace, &times, 3));
        assert!(!SpanFilter::default().matches(&trace, &times, 99));
    }
}
