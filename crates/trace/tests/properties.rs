//! Property tests of the layout on random span trees, clean and broken.

use proptest::prelude::*;
use tracelab_trace::layout::{critical_path, critical_path_from, self_times, SpanTimes};
use tracelab_trace::query::parse_query;
use tracelab_trace::skew::{adjust_skew, detect_skew};
use tracelab_trace::view::{
    position_of, visible_rows, CollapseState, FilterJob, FilterMode, SpanFilter, ViewOptions,
};
use tracelab_trace::{
    generate, AttributeValue, KeyValue, NoteKind, Resource, Span, SpanId, SpanKind, SpanTree,
    Status, Trace, TraceId, Waterfall,
};

/// A well-formed forest: each span's parent comes before it, and every child
/// lies within its parent (synchronous, sequential or parallel work).
fn nested_trace() -> impl Strategy<Value = Trace> {
    prop::collection::vec((any::<u32>(), any::<u32>(), any::<u32>()), 1..150).prop_map(|choices| {
        let mut spans: Vec<Span> = Vec::with_capacity(choices.len());
        for (span_idx, &(parent_choice, start_choice, length_choice)) in choices.iter().enumerate()
        {
            let parent_idx =
                (span_idx > 0 && parent_choice % 8 != 0).then(|| parent_choice as usize % span_idx);
            let (low, high) = match parent_idx {
                Some(parent_idx) => (
                    spans[parent_idx].start_unix_nanos,
                    spans[parent_idx].end_unix_nanos,
                ),
                None => (1_000, 1_000 + 1_000_000),
            };
            let start = low + u64::from(start_choice) % (high - low + 1);
            let end = start + u64::from(length_choice) % (high - start + 1);
            spans.push(Span::new(
                TraceId([7; 16]),
                SpanId::from_u64(span_idx as u64 + 1),
                parent_idx.map(|parent_idx| SpanId::from_u64(parent_idx as u64 + 1)),
                format!("op-{}", span_idx % 13),
                start,
                end,
            ));
        }
        Trace {
            spans,
            ..Trace::default()
        }
    })
}

/// Anything at all: parents that are missing, cyclic or duplicated, ends
/// before starts, times at the edges of `u64`.
fn messy_trace() -> impl Strategy<Value = Trace> {
    let time = prop_oneof![0u64..1_000, any::<u64>(), Just(u64::MAX)];
    prop::collection::vec(
        (0u64..40, prop::option::of(0u64..45), time.clone(), time),
        0..80,
    )
    .prop_map(|rows| {
        let spans = rows
            .into_iter()
            .map(|(id, parent, start, end)| {
                Span::new(
                    TraceId([9; 16]),
                    SpanId::from_u64(id),
                    parent.map(SpanId::from_u64),
                    format!("op-{id}"),
                    start,
                    end,
                )
            })
            .collect();
        Trace {
            spans,
            ..Trace::default()
        }
    })
}

/// The critical path under `root_idx` as (span, start, end) segments in time
/// order, read from the definition (`layout::critical_path`'s docs, after
/// Jaeger UI) as plainly as possible, with no shared code: each span's
/// children are clipped to it (one wholly outside it is dropped); from the
/// span's end walk back: of the children not taken yet that end by then, the
/// one that ends last (on a tie the longer, then the first in span order) is
/// what the span waited on; its own path is found the same way and the
/// time walks back to its start; the time between taken children, and
/// before the first, is the span's own. Recursive and quadratic, which small
/// test trees afford.
fn brute_force_critical_path(
    tree: &SpanTree,
    times: &SpanTimes,
    root_idx: usize,
) -> Vec<(usize, u64, u64)> {
    fn walk(
        tree: &SpanTree,
        times: &SpanTimes,
        span_idx: usize,
        start: u64,
        end: u64,
        out: &mut Vec<(usize, u64, u64)>,
    ) {
        let children: Vec<(usize, u64, u64)> = tree
            .children(span_idx)
            .filter(|&child| times.start(child) <= end && times.end(child) >= start)
            .map(|child| {
                (
                    child,
                    times.start(child).max(start),
                    times.end(child).min(end),
                )
            })
            .collect();
        let mut taken = vec![false; children.len()];
        let mut backwards: Vec<(usize, u64, u64)> = Vec::new();
        let mut cursor = end;
        loop {
            let mut best: Option<usize> = None;
            for (i, &(child, child_start, child_end)) in children.iter().enumerate() {
                if taken[i] || child_end > cursor {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some(b) => {
                        let (best_child, best_start, best_end) = children[b];
                        child_end > best_end
                            || (child_end == best_end && child_start < best_start)
                            || (child_end == best_end
                                && child_start == best_start
                                && child < best_child)
                    }
                };
                if better {
                    best = Some(i);
                }
            }
            let Some(b) = best else { break };
            taken[b] = true;
            let (child, child_start, child_end) = children[b];
            if child_end < cursor {
                backwards.push((span_idx, child_end, cursor));
            }
            let mut below = Vec::new();
            walk(tree, times, child, child_start, child_end, &mut below);
            backwards.extend(below.into_iter().rev());
            cursor = child_start;
        }
        if start < cursor {
            backwards.push((span_idx, start, cursor));
        }
        out.extend(backwards.into_iter().rev());
    }
    let mut out = Vec::new();
    walk(
        tree,
        times,
        root_idx,
        times.start(root_idx),
        times.end(root_idx),
        &mut out,
    );
    out
}

fn segments_of(path: &tracelab_trace::layout::CriticalPath) -> Vec<(usize, u64, u64)> {
    path.segments
        .iter()
        .map(|segment| {
            (
                segment.span_idx,
                segment.start_unix_nanos,
                segment.end_unix_nanos,
            )
        })
        .collect()
}

/// A small nested trace with times in 0..40 ns: ties, zero-length spans
/// and touching siblings are common, as the brute force wants.
fn small_nested_trace() -> impl Strategy<Value = Trace> {
    prop::collection::vec((any::<u32>(), 0u64..41, 0u64..41), 1..12).prop_map(|choices| {
        let mut spans: Vec<Span> = Vec::with_capacity(choices.len());
        for (span_idx, &(parent_choice, start_choice, length_choice)) in choices.iter().enumerate()
        {
            let parent_idx =
                (span_idx > 0 && parent_choice % 5 != 0).then(|| parent_choice as usize % span_idx);
            let (low, high) = match parent_idx {
                Some(parent_idx) => (
                    spans[parent_idx].start_unix_nanos,
                    spans[parent_idx].end_unix_nanos,
                ),
                None => (0, 40),
            };
            let start = low + start_choice % (high - low + 1);
            let end = start + length_choice % (high - start + 1);
            spans.push(Span::new(
                TraceId([7; 16]),
                SpanId::from_u64(span_idx as u64 + 1),
                parent_idx.map(|parent_idx| SpanId::from_u64(parent_idx as u64 + 1)),
                format!("op-{span_idx}"),
                start,
                end,
            ));
        }
        Trace {
            spans,
            ..Trace::default()
        }
    })
}

fn check_tree_shape(tree: &SpanTree, n_spans: usize) -> Result<(), TestCaseError> {
    let mut seen = vec![0usize; n_spans];
    for span_idx in tree.rows() {
        seen[span_idx] += 1;
    }
    prop_assert!(
        seen.iter().all(|&count| count == 1),
        "every span exactly once: {seen:?}"
    );
    for span_idx in 0..n_spans {
        match tree.parent(span_idx) {
            Some(parent_idx) => {
                prop_assert_eq!(tree.depth(span_idx), tree.depth(parent_idx) + 1);
                prop_assert!(tree.row_of(parent_idx) < tree.row_of(span_idx));
                let parent_rows = tree.subtree_rows(parent_idx);
                prop_assert!(parent_rows.contains(&tree.row_of(span_idx).unwrap_or(usize::MAX)));
            }
            None => prop_assert_eq!(tree.depth(span_idx), 0),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_span_appears_once_and_depth_follows_parent(trace in nested_trace()) {
        let tree = SpanTree::build(&trace);
        check_tree_shape(&tree, trace.spans.len())?;
        prop_assert!(tree.notes().is_empty());
    }

    #[test]
    fn broken_input_never_panics_and_still_shows_every_span_once(trace in messy_trace()) {
        let waterfall = Waterfall::build(&trace);
        check_tree_shape(&waterfall.tree, trace.spans.len())?;
        for span_idx in 0..trace.spans.len() {
            prop_assert!(waterfall.self_time(span_idx) <= waterfall.times.duration(span_idx));
        }
        let adjusted = Waterfall::build_adjusted(&trace);
        check_tree_shape(&adjusted.tree, trace.spans.len())?;
        let filter = SpanFilter { name_contains: Some("op-1".into()), ..SpanFilter::default() };
        let matches = filter.apply(&trace, &waterfall.tree, &waterfall.times);
        let collapsed = CollapseState::new();
        for root in [None, Some(0), Some(1_000)] {
            let _ = visible_rows(&waterfall.tree, &ViewOptions {
                root,
                collapsed: &collapsed,
                filter: Some((&matches, FilterMode::Hide)),
            });
        }
    }

    #[test]
    fn span_ids_and_row_positions_are_found_as_a_linear_scan_finds_them(
        trace in messy_trace(),
        collapse_choices in prop::collection::vec(any::<u16>(), 0..6),
        filter_op in 0usize..14,
    ) {
        let waterfall = Waterfall::build(&trace);
        let tree = &waterfall.tree;
        // `find` is the first span with the id, as a scan from the start.
        for probe in 0u64..46 {
            let id = SpanId::from_u64(probe);
            let scanned = trace.spans.iter().position(|span| span.span_id == id);
            prop_assert_eq!(tree.find(id), scanned, "span id {}", probe);
        }
        // `position_of` agrees with a scan of the rows, whatever hides rows.
        let mut collapsed = CollapseState::new();
        for choice in &collapse_choices {
            if !trace.spans.is_empty() {
                collapsed.collapse(*choice as usize % trace.spans.len());
            }
        }
        let filter = SpanFilter { name_contains: Some(format!("op-{filter_op}")), ..SpanFilter::default() };
        let matches = filter.apply(&trace, tree, &waterfall.times);
        for (root, filter) in [
            (None, None),
            (Some(0), None),
            (None, Some((&matches, FilterMode::Hide))),
            (None, Some((&matches, FilterMode::Highlight))),
        ] {
            let rows = visible_rows(tree, &ViewOptions { root, collapsed: &collapsed, filter });
            for span_idx in 0..trace.spans.len() + 2 {
                let scanned = rows.iter().position(|row| row.span_idx == span_idx);
                prop_assert_eq!(position_of(&rows, tree, span_idx), scanned, "span {}", span_idx);
            }
        }
    }

    #[test]
    fn a_filter_matched_in_slices_gives_what_one_pass_gives(
        trace in messy_trace(),
        filter_op in 0usize..14,
        budget in 1usize..20,
    ) {
        let waterfall = Waterfall::build(&trace);
        let filter = SpanFilter { name_contains: Some(format!("op-{filter_op}")), ..SpanFilter::default() };
        let whole = filter.apply(&trace, &waterfall.tree, &waterfall.times);
        let mut job = FilterJob::new(&filter, trace.spans.len());
        let mut steps = 0;
        let sliced = loop {
            steps += 1;
            if let Some(matches) = job.step(&trace, &waterfall.tree, &waterfall.times, budget) {
                break matches;
            }
            let (done, total) = job.progress();
            prop_assert_eq!(done, (steps * budget).min(total));
        };
        prop_assert_eq!(sliced, whole);
        // The matching steps, then one for the ancestors.
        prop_assert_eq!(steps, trace.spans.len().div_ceil(budget) + 1);
    }

    #[test]
    fn self_time_is_within_the_duration(trace in nested_trace()) {
        let tree = SpanTree::build(&trace);
        let times = SpanTimes::from_trace(&trace);
        let self_time = self_times(&tree, &times);
        prop_assert_eq!(self_time.len(), trace.spans.len());
        for (span_idx, &span_self_time) in self_time.iter().enumerate() {
            prop_assert!(span_self_time <= times.duration(span_idx));
            // Children cover at most their total duration, so self time is at
            // least what they leave uncovered.
            let children_total: u64 = tree.children(span_idx).map(|child_idx| times.duration(child_idx)).sum();
            prop_assert!(span_self_time + children_total >= times.duration(span_idx));
        }
    }

    #[test]
    fn critical_path_runs_from_each_root_to_a_leaf_and_is_the_longest_chain(trace in nested_trace()) {
        let tree = SpanTree::build(&trace);
        let times = SpanTimes::from_trace(&trace);
        let path = critical_path(&tree, &times);
        let self_time = self_times(&tree, &times);
        for span_idx in 0..trace.spans.len() {
            if !path.contains(span_idx) {
                continue;
            }
            // Consecutive entries are parent -> child: the path is connected
            // to a root through spans on the path.
            if let Some(parent_idx) = tree.parent(span_idx) {
                prop_assert!(path.contains(parent_idx), "parent of {span_idx} is on the path");
            }
            // It runs on to a leaf: a span on the path with children has one on the path.
            if tree.has_children(span_idx) {
                prop_assert!(tree.children(span_idx).any(|child_idx| path.contains(child_idx)));
            }
        }
        // Each root's segments are in time order without overlap, and for
        // nested work they cover the root exactly; the whole path is the
        // roots' paths one after another, each as the brute-force reading
        // of the definition finds it.
        let mut all_segments = Vec::new();
        for root_idx in tree.roots() {
            prop_assert!(path.contains(root_idx));
            let root_path = critical_path_from(&tree, &times, root_idx);
            prop_assert_eq!(root_path.total_nanos(), times.duration(root_idx));
            for pair in root_path.segments.windows(2) {
                prop_assert!(pair[0].end_unix_nanos <= pair[1].start_unix_nanos, "{:?}", pair);
            }
            let expected = brute_force_critical_path(&tree, &times, root_idx);
            prop_assert_eq!(segments_of(&root_path), expected.clone(), "root {}", root_idx);
            all_segments.extend(expected);
        }
        prop_assert_eq!(segments_of(&path), all_segments);
        // No root-to-leaf chain of sequential work (the self time of each
        // span on the chain) is longer than the path through its root.
        for leaf_idx in (0..trace.spans.len()).filter(|&span_idx| !tree.has_children(span_idx)) {
            let mut chain_work = self_time[leaf_idx];
            let mut current = leaf_idx;
            while let Some(parent_idx) = tree.parent(current) {
                chain_work += self_time[parent_idx];
                current = parent_idx;
            }
            let root_path: u64 = path
                .segments
                .iter()
                .filter(|segment| tree.subtree_rows(current).contains(&tree.row_of(segment.span_idx).unwrap_or(usize::MAX)))
                .map(|segment| segment.end_unix_nanos - segment.start_unix_nanos)
                .sum();
            prop_assert!(chain_work <= root_path, "chain to {leaf_idx}: {chain_work} > {root_path}");
        }
    }

    #[test]
    fn critical_path_of_small_trees_is_the_brute_force_one(trace in small_nested_trace()) {
        let tree = SpanTree::build(&trace);
        let times = SpanTimes::from_trace(&trace);
        let expected: Vec<(usize, u64, u64)> = tree
            .roots()
            .flat_map(|root_idx| brute_force_critical_path(&tree, &times, root_idx))
            .collect();
        prop_assert_eq!(segments_of(&critical_path(&tree, &times)), expected);
    }

    #[test]
    fn hide_mode_keeps_every_ancestor_of_a_match(
        trace in nested_trace(),
        name in "op-[0-9]{1,2}",
        min_duration in prop::option::of(0u64..400_000),
    ) {
        let tree = SpanTree::build(&trace);
        let times = SpanTimes::from_trace(&trace);
        let filter = SpanFilter {
            name_contains: Some(name),
            min_duration_nanos: min_duration,
            ..SpanFilter::default()
        };
        let matches = filter.apply(&trace, &tree, &times);
        let collapsed = CollapseState::new();
        let rows = visible_rows(&tree, &ViewOptions {
            root: None,
            collapsed: &collapsed,
            filter: Some((&matches, FilterMode::Hide)),
        });
        let shown: std::collections::HashSet<usize> = rows.iter().map(|row| row.span_idx).collect();
        for span_idx in 0..trace.spans.len() {
            // Read independently: the name contains the word, and the span
            // lasts at least the minimum.
            let expected = trace.spans[span_idx].name.contains(filter.name_contains.as_deref().unwrap_or(""))
                && min_duration.is_none_or(|min| times.duration(span_idx) >= min);
            prop_assert_eq!(matches.is_match(span_idx), expected);
            if matches.is_match(span_idx) {
                let mut current = Some(span_idx);
                while let Some(idx) = current {
                    prop_assert!(shown.contains(&idx), "ancestor {idx} of match {span_idx} is shown");
                    current = tree.parent(idx);
                }
            } else if shown.contains(&span_idx) {
                prop_assert!(matches.is_kept(span_idx));
            }
        }
        // The shown rows keep tree order.
        let positions: Vec<usize> = rows.iter().filter_map(|row| tree.row_of(row.span_idx)).collect();
        prop_assert!(positions.windows(2).all(|pair| pair[0] < pair[1]));
    }
}

/// One word of a generated filter query, kept as what it means so that the
/// test can say which spans it matches without the parser.
#[derive(Clone, Debug)]
enum QueryTerm {
    /// A plain word, or `name:WORD` when the flag is set.
    Name(&'static str, bool),
    /// `service:A service:B …`.
    Services(Vec<&'static str>),
    Attribute(&'static str),
    /// `error`, `is:error` or `status:error`.
    Error(&'static str),
    /// `PREFIX OP NUMBER UNIT`, spaced or not.
    Duration {
        operator: &'static str,
        number: u64,
        unit: &'static str,
    },
}

#[derive(Clone, Debug)]
struct QueryWord {
    negated: bool,
    term: QueryTerm,
}

impl QueryWord {
    fn text(&self) -> String {
        let dash = if self.negated { "-" } else { "" };
        let term = match &self.term {
            QueryTerm::Name(word, false) => word.to_string(),
            QueryTerm::Name(word, true) => format!("name:{word}"),
            // Several `service:` words, each with the dash when negated.
            QueryTerm::Services(names) => {
                return names
                    .iter()
                    .map(|name| format!("{dash}service:{name}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            QueryTerm::Attribute(text) => format!("attr:{text}"),
            QueryTerm::Error(word) => word.to_string(),
            QueryTerm::Duration {
                operator,
                number,
                unit,
            } => format!("{operator}{number}{unit}"),
        };
        format!("{dash}{term}")
    }

    /// `<0` is refused (nothing is shorter than 0) and left out.
    fn is_left_out(&self) -> bool {
        matches!(
            self.term,
            QueryTerm::Duration {
                operator: "<",
                number: 0,
                ..
            }
        )
    }

    /// Whether the term alone holds for span `span_idx`, as the syntax in
    /// `query`'s docs says; name words are read together by the caller.
    fn holds(&self, trace: &Trace, times: &SpanTimes, span_idx: usize) -> bool {
        let span = &trace.spans[span_idx];
        match &self.term {
            QueryTerm::Name(word, _) => span.name.to_lowercase().contains(&word.to_lowercase()),
            QueryTerm::Services(names) => names
                .iter()
                .any(|name| trace.service_name(span_idx).to_lowercase() == name.to_lowercase()),
            QueryTerm::Attribute(text) => span.attributes.iter().any(|attribute| {
                attribute.key.to_lowercase().contains(&text.to_lowercase())
                    || attribute
                        .value
                        .to_string()
                        .to_lowercase()
                        .contains(&text.to_lowercase())
            }),
            QueryTerm::Error(_) => matches!(span.status, Status::Error { .. }),
            QueryTerm::Duration {
                operator,
                number,
                unit,
                ..
            } => {
                let unit_nanos = match *unit {
                    "ns" => 1,
                    "us" | "µs" => 1_000,
                    "s" => 1_000_000_000,
                    // `ms`, and a bare number is milliseconds.
                    _ => 1_000_000,
                };
                let bound = number * unit_nanos;
                let duration = times.duration(span_idx);
                match *operator {
                    ">" => duration > bound,
                    ">=" => duration >= bound,
                    "<" => duration < bound,
                    _ => duration <= bound,
                }
            }
        }
    }
}

fn query_word() -> impl Strategy<Value = QueryWord> {
    let name = prop_oneof![Just("op-1"), Just("OP-12"), Just("op-"), Just("p-3")];
    let service = prop_oneof![
        Just("frontend"),
        Just("bands-api"),
        Just("DB"),
        Just("nowhere")
    ];
    let term = prop_oneof![
        (name, any::<bool>()).prop_map(|(word, prefixed)| QueryTerm::Name(word, prefixed)),
        prop::collection::vec(service, 1..3).prop_map(QueryTerm::Services),
        prop_oneof![
            Just("503"),
            Just("/BANDS/3"),
            Just("route"),
            Just("nothing")
        ]
        .prop_map(QueryTerm::Attribute),
        prop_oneof![Just("error"), Just("is:error"), Just("Status:Error")]
            .prop_map(QueryTerm::Error),
        (
            prop_oneof![Just(">"), Just(">="), Just("<"), Just("<=")],
            prop_oneof![
                (0u64..1_500, prop_oneof![Just("us"), Just("µs"), Just("ns")]),
                (0u64..3, prop_oneof![Just("ms"), Just(""), Just("s")]),
            ],
        )
            .prop_map(|(operator, (number, unit))| QueryTerm::Duration {
                operator,
                number,
                unit,
            }),
    ];
    (prop::bool::weighted(0.3), term).prop_map(|(negated, term)| QueryWord { negated, term })
}

/// A nested trace with three services, errors and attributes to search.
fn searchable_trace() -> impl Strategy<Value = Trace> {
    nested_trace().prop_map(|mut trace| {
        trace.resources = ["frontend", "Bands-API", "db"]
            .into_iter()
            .map(|name| Resource {
                service_name: name.into(),
                attributes: vec![],
            })
            .collect();
        for (span_idx, span) in trace.spans.iter_mut().enumerate() {
            span.resource_idx = (span_idx % 3) as u32;
            if span_idx % 7 == 0 {
                span.status = Status::Error {
                    message: "failed".into(),
                };
            }
            span.attributes.push(KeyValue::new(
                "http.route",
                AttributeValue::string(&format!("/bands/{}", span_idx % 5)),
            ));
            span.attributes.push(KeyValue::new(
                "http.response.status_code",
                AttributeValue::Int(if span_idx % 4 == 0 { 503 } else { 200 }),
            ));
        }
        trace
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The filter box's text, parsed and applied, matches the spans the
    /// documented syntax says, read here term by term without the parser
    /// or `SpanFilter`: positive name words together as one substring,
    /// services either/or, every other positive term, and no negated one.
    #[test]
    fn the_filter_box_matches_what_its_syntax_says(
        trace in searchable_trace(),
        words in prop::collection::vec(query_word(), 0..5),
    ) {
        let text = words.iter().map(QueryWord::text).collect::<Vec<_>>().join(" ");
        let parsed = parse_query(&text);
        prop_assert_eq!(
            parsed.notes.len(),
            words.iter().filter(|word| word.is_left_out()).count(),
            "{} {:?}", text, parsed.notes
        );
        let tree = SpanTree::build(&trace);
        let times = SpanTimes::from_trace(&trace);
        let matches = parsed.filter.apply(&trace, &tree, &times);
        let read: Vec<&QueryWord> = words.iter().filter(|word| !word.is_left_out()).collect();
        let name = read
            .iter()
            .filter_map(|word| match (&word.term, word.negated) {
                (QueryTerm::Name(name, _), false) => Some(*name),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let services: Vec<&str> = read
            .iter()
            .filter(|word| !word.negated)
            .flat_map(|word| match &word.term {
                QueryTerm::Services(names) => names.clone(),
                _ => vec![],
            })
            .collect();
        for span_idx in 0..trace.spans.len() {
            let services_hold = services.is_empty()
                || QueryWord { negated: false, term: QueryTerm::Services(services.clone()) }
                    .holds(&trace, &times, span_idx);
            let expected = trace.spans[span_idx].name.to_lowercase().contains(&name)
                && services_hold
                && read.iter().all(|word| match (&word.term, word.negated) {
                    (_, true) => !word.holds(&trace, &times, span_idx),
                    (QueryTerm::Name(..) | QueryTerm::Services(_), false) => true,
                    (_, false) => word.holds(&trace, &times, span_idx),
                });
            prop_assert_eq!(matches.is_match(span_idx), expected, "{} on span {}", text, span_idx);
        }
    }
}

/// A nested trace with some spans moved by up to ±50 µs and random kinds:
/// skew of every sort.
fn skewed_trace() -> impl Strategy<Value = Trace> {
    nested_trace()
        .prop_flat_map(|trace| {
            let n_spans = trace.spans.len();
            (
                Just(trace),
                prop::collection::vec((-50_000i64..50_000, 0usize..6), n_spans),
            )
        })
        .prop_map(|(mut trace, moves)| {
            let kinds = [
                SpanKind::Unspecified,
                SpanKind::Internal,
                SpanKind::Server,
                SpanKind::Client,
                SpanKind::Producer,
                SpanKind::Consumer,
            ];
            for (span, (shift, kind_idx)) in trace.spans.iter_mut().zip(moves) {
                span.kind = kinds[kind_idx];
                // Times start near 0 (1,000 ns), so shifts that would take
                // a subtree below 0 are generated too.
                if shift % 3 == 0 {
                    span.start_unix_nanos = span.start_unix_nanos.saturating_add_signed(shift);
                    span.end_unix_nanos = span.end_unix_nanos.saturating_add_signed(shift);
                }
            }
            trace
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn adjusted_view_moves_nothing_it_does_not_list(trace in skewed_trace()) {
        let tree = SpanTree::build(&trace);
        let recorded = SpanTimes::from_trace(&trace);
        let adjusted = adjust_skew(&trace, &tree, &recorded);
        for span_idx in 0..trace.spans.len() {
            // The span's shift is the sum of the listed shifts of itself and
            // its ancestors, and durations never change.
            let mut listed_shift = 0i64;
            let mut current = Some(span_idx);
            while let Some(idx) = current {
                listed_shift += adjusted
                    .adjustments
                    .iter()
                    .filter(|adjustment| adjustment.span_idx == idx)
                    .map(|adjustment| adjustment.shift_nanos)
                    .sum::<i64>();
                current = tree.parent(idx);
            }
            let actual_shift = adjusted.times.start(span_idx) as i64 - recorded.start(span_idx) as i64;
            prop_assert_eq!(actual_shift, listed_shift, "span {}", span_idx);
            prop_assert_eq!(adjusted.times.duration(span_idx), recorded.duration(span_idx));
        }
        // A child that starts before its parent is flagged whatever its kind,
        // and the adjusted view leaves no child starting before its parent.
        let notes = detect_skew(&trace, &tree, &recorded);
        for span_idx in 0..trace.spans.len() {
            if let Some(parent_idx) = tree.parent(span_idx) {
                let starts_early = recorded.start(span_idx) < recorded.start(parent_idx);
                let flagged = notes.iter().any(|note| {
                    note.span_idx == span_idx && matches!(note.kind, NoteKind::StartsBeforeParent { .. })
                });
                prop_assert_eq!(starts_early, flagged);
                prop_assert!(adjusted.times.start(span_idx) >= adjusted.times.start(parent_idx));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn generator_is_deterministic_and_makes_n_spans(n_spans in 1usize..3_000, seed in any::<u64>()) {
        let trace = generate(n_spans, seed);
        prop_assert_eq!(trace.spans.len(), n_spans);
        prop_assert_eq!(&trace, &generate(n_spans, seed));
        let tree = SpanTree::build(&trace);
        check_tree_shape(&tree, n_spans)?;
    }
}
