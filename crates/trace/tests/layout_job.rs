//! The layout computed a slice at a time (`LayoutJob`) against the layout
//! computed at once, and the tree against a reference read plainly from the
//! definition of each repair (no code shared with the crate), on random
//! span trees with duplicate ids, orphans, cycles, self-parents, equal start
//! times and negative durations.

use std::collections::HashMap;

use proptest::prelude::*;
use tracelab_trace::layout_job::LaidOut;
use tracelab_trace::{
    LayoutJob, Note, NoteKind, Span, SpanId, SpanKind, SpanTree, Trace, TraceId, Waterfall,
};

/// Spans with ids from a small set (duplicates), parent ids from a slightly
/// larger one (orphans; a parent equal to the id is a self-parent; zero is
/// "no parent"), starts from a handful of values (ties), ends anywhere near
/// them (negative durations), and mixed kinds (clock skew notes).
fn tangled_trace() -> impl Strategy<Value = Trace> {
    let kind = prop_oneof![
        Just(SpanKind::Client),
        Just(SpanKind::Server),
        Just(SpanKind::Internal),
        Just(SpanKind::Consumer),
    ];
    prop::collection::vec(
        (
            1u64..24,
            prop::option::of(0u64..28),
            0u64..6,
            0u64..12,
            kind,
        ),
        0..60,
    )
    .prop_map(|rows| {
        let spans = rows
            .into_iter()
            .map(|(id, parent, start, end, kind)| {
                let mut span = Span::new(
                    TraceId([3; 16]),
                    SpanId::from_u64(id),
                    parent.map(SpanId::from_u64),
                    format!("op-{id}"),
                    start,
                    end,
                );
                span.kind = kind;
                span
            })
            .collect();
        Trace {
            spans,
            ..Trace::default()
        }
    })
}

/// The layout at once: `Waterfall::build`, then the plain view's rows
/// (`visible_rows`) and their positions (`tree_positions`).
fn at_once(trace: &Trace) -> LaidOut {
    LaidOut::from(Waterfall::build(trace))
}

/// The layout in steps of `max_units`, checking progress as it goes.
fn in_steps(trace: &Trace, max_units: usize) -> Result<LaidOut, TestCaseError> {
    let mut job = LayoutJob::new(trace);
    let (mut done_before, total) = job.progress();
    prop_assert_eq!(done_before, 0);
    prop_assert_eq!(total, 17 * trace.spans.len());
    // Every step makes progress, so this many steps always suffice.
    for _ in 0..100 * (trace.spans.len() + 1) {
        let result = job.step(trace, max_units);
        let (done, total_now) = job.progress();
        prop_assert_eq!(total_now, total);
        prop_assert!(done >= done_before, "progress went back");
        done_before = done;
        if let Some(laid_out) = result {
            prop_assert_eq!(job.progress(), (total, total));
            return Ok(laid_out);
        }
    }
    Err(TestCaseError::fail("the job never finished"))
}

/// Every public accessor of the two trees, span by span (and one past the
/// end, where they answer "nothing").
fn same_tree(sliced: &SpanTree, at_once: &SpanTree, trace: &Trace) -> Result<(), TestCaseError> {
    prop_assert_eq!(sliced.len(), at_once.len());
    prop_assert_eq!(sliced.is_empty(), at_once.is_empty());
    prop_assert!(sliced.roots().eq(at_once.roots()));
    prop_assert!(sliced.rows().eq(at_once.rows()));
    prop_assert_eq!(sliced.notes(), at_once.notes());
    for span_idx in 0..=trace.spans.len() {
        prop_assert_eq!(sliced.parent(span_idx), at_once.parent(span_idx));
        prop_assert!(sliced.children(span_idx).eq(at_once.children(span_idx)));
        prop_assert_eq!(
            sliced.has_children(span_idx),
            at_once.has_children(span_idx)
        );
        prop_assert_eq!(sliced.depth(span_idx), at_once.depth(span_idx));
        prop_assert_eq!(sliced.row_of(span_idx), at_once.row_of(span_idx));
        prop_assert_eq!(
            sliced.subtree_rows(span_idx),
            at_once.subtree_rows(span_idx)
        );
        prop_assert_eq!(sliced.is_orphan(span_idx), at_once.is_orphan(span_idx));
        prop_assert_eq!(
            sliced.is_duplicate(span_idx),
            at_once.is_duplicate(span_idx)
        );
        prop_assert_eq!(
            sliced.is_cycle_broken(span_idx),
            at_once.is_cycle_broken(span_idx)
        );
        prop_assert!(sliced.notes_for(span_idx).eq(at_once.notes_for(span_idx)));
    }
    for span in &trace.spans {
        prop_assert_eq!(sliced.find(span.span_id), at_once.find(span.span_id));
    }
    prop_assert_eq!(sliced.find(SpanId::from_u64(999)), None);
    Ok(())
}

/// Every public accessor of the two waterfalls, then the rows.
fn same_layout(sliced: &LaidOut, at_once: &LaidOut, trace: &Trace) -> Result<(), TestCaseError> {
    let (a, b) = (&sliced.waterfall, &at_once.waterfall);
    same_tree(&a.tree, &b.tree, trace)?;
    prop_assert_eq!(&a.times, &b.times);
    prop_assert_eq!(&a.self_time_nanos, &b.self_time_nanos);
    prop_assert_eq!(&a.critical_path, &b.critical_path);
    prop_assert_eq!(&a.skew_notes, &b.skew_notes);
    prop_assert_eq!(&a.adjustments, &b.adjustments);
    prop_assert_eq!(a.is_adjusted, b.is_adjusted);
    prop_assert_eq!(a.bounds(), b.bounds());
    for span_idx in 0..=trace.spans.len() {
        prop_assert_eq!(a.start_offset(span_idx), b.start_offset(span_idx));
        prop_assert_eq!(a.self_time(span_idx), b.self_time(span_idx));
        prop_assert!(a.notes_for(span_idx).eq(b.notes_for(span_idx)));
        prop_assert_eq!(a.has_skew(span_idx), b.has_skew(span_idx));
        prop_assert_eq!(a.subtree_extent(span_idx), b.subtree_extent(span_idx));
        prop_assert_eq!(a.adjustment_for(span_idx), b.adjustment_for(span_idx));
        prop_assert_eq!(
            a.critical_path.time_on_path(span_idx),
            b.critical_path.time_on_path(span_idx)
        );
    }
    prop_assert_eq!(&sliced.rows, &at_once.rows);
    prop_assert_eq!(&sliced.positions, &at_once.positions);
    // And the whole, private fields included.
    prop_assert!(sliced == at_once);
    Ok(())
}

/// The tree as its definition reads, one quadratic question at a time.
struct Reference {
    parent: Vec<Option<usize>>,
    roots: Vec<usize>,
    rows: Vec<usize>,
    notes: Vec<Note>,
    owner: HashMap<SpanId, usize>,
}

fn reference_tree(trace: &Trace) -> Reference {
    let spans = &trace.spans;
    let n_spans = spans.len();
    let start_order = |idx: usize| (spans[idx].start_unix_nanos, idx);
    // The first span with an id owns it.
    let owner_of = |id: SpanId| spans.iter().position(|span| span.span_id == id);
    let mut owner = HashMap::new();
    for span in spans {
        owner
            .entry(span.span_id)
            .or_insert_with(|| owner_of(span.span_id));
    }
    let owner: HashMap<SpanId, usize> = owner
        .into_iter()
        .filter_map(|(id, idx)| Some((id, idx?)))
        .collect();
    // Each span's notes, in the order of the passes that write them.
    let mut notes_of: Vec<Vec<NoteKind>> = vec![Vec::new(); n_spans];
    let mut linked: Vec<Option<usize>> = vec![None; n_spans];
    for (idx, span) in spans.iter().enumerate() {
        let first = owner[&span.span_id];
        if first != idx {
            notes_of[idx].push(NoteKind::DuplicateSpanId {
                span_id: span.span_id,
                first_span_idx: first,
            });
        }
        if span.end_unix_nanos < span.start_unix_nanos {
            notes_of[idx].push(NoteKind::NegativeDuration {
                by_nanos: span.start_unix_nanos - span.end_unix_nanos,
            });
        }
    }
    for (idx, span) in spans.iter().enumerate() {
        match span.parent_span_id.filter(|id| !id.is_zero()) {
            None => {}
            Some(parent_id) => match owner.get(&parent_id) {
                Some(&parent_idx) => linked[idx] = Some(parent_idx),
                None => notes_of[idx].push(NoteKind::MissingParent {
                    parent_span_id: parent_id,
                }),
            },
        }
    }
    // A span is on a cycle when climbing from it comes back to it; each
    // cycle is cut at its earliest span (then lowest index).
    let climb = |from: usize, steps: usize| -> Option<usize> {
        let mut at = from;
        for _ in 0..steps {
            at = linked[at]?;
        }
        Some(at)
    };
    let mut parent = linked.clone();
    for idx in 0..n_spans {
        let cycle: Vec<usize> = (1..=n_spans)
            .find(|&len| climb(idx, len) == Some(idx))
            .map(|len| (0..len).filter_map(|step| climb(idx, step)).collect())
            .unwrap_or_default();
        let earliest = cycle
            .iter()
            .copied()
            .min_by_key(|&member| start_order(member));
        if earliest == Some(idx) {
            parent[idx] = None;
            notes_of[idx].push(NoteKind::CycleBroken {
                former_parent_idx: linked[idx].unwrap_or(usize::MAX),
                cycle_len: cycle.len(),
            });
        }
    }
    let children_of = |of: Option<usize>| -> Vec<usize> {
        let mut children: Vec<usize> = (0..n_spans).filter(|&idx| parent[idx] == of).collect();
        children.sort_by_key(|&idx| start_order(idx));
        children
    };
    let roots = children_of(None);
    // Pre-order with a stack, children pushed latest first.
    let mut rows = Vec::new();
    let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
    while let Some(idx) = stack.pop() {
        rows.push(idx);
        stack.extend(children_of(Some(idx)).into_iter().rev());
    }
    let notes = notes_of
        .into_iter()
        .enumerate()
        .flat_map(|(span_idx, kinds)| kinds.into_iter().map(move |kind| Note { span_idx, kind }))
        .collect();
    Reference {
        parent,
        roots,
        rows,
        notes,
        owner,
    }
}

fn matches_reference(tree: &SpanTree, trace: &Trace) -> Result<(), TestCaseError> {
    let reference = reference_tree(trace);
    prop_assert_eq!(tree.roots().collect::<Vec<_>>(), reference.roots.clone());
    prop_assert_eq!(tree.rows().collect::<Vec<_>>(), reference.rows.clone());
    prop_assert_eq!(tree.notes(), &reference.notes[..]);
    for span_idx in 0..trace.spans.len() {
        prop_assert_eq!(tree.parent(span_idx), reference.parent[span_idx]);
        // Depth: the links climbed to a root; the subtree: every span that
        // climbs to this one, in contiguous rows from its own.
        let ancestors: Vec<usize> =
            std::iter::successors(reference.parent[span_idx], |&idx| reference.parent[idx])
                .collect();
        prop_assert_eq!(tree.depth(span_idx), ancestors.len());
        let descendants = (0..trace.spans.len())
            .filter(|&other| {
                std::iter::successors(Some(other), |&idx| reference.parent[idx])
                    .any(|idx| idx == span_idx)
            })
            .count();
        let row = reference.rows.iter().position(|&idx| idx == span_idx);
        prop_assert_eq!(tree.row_of(span_idx), row);
        prop_assert_eq!(tree.subtree_rows(span_idx).len(), descendants);
        let note_kinds = |test: fn(&NoteKind) -> bool| {
            reference
                .notes
                .iter()
                .any(|note| note.span_idx == span_idx && test(&note.kind))
        };
        prop_assert_eq!(
            tree.is_orphan(span_idx),
            note_kinds(|kind| matches!(kind, NoteKind::MissingParent { .. }))
        );
        prop_assert_eq!(
            tree.is_duplicate(span_idx),
            note_kinds(|kind| matches!(kind, NoteKind::DuplicateSpanId { .. }))
        );
        prop_assert_eq!(
            tree.is_cycle_broken(span_idx),
            note_kinds(|kind| matches!(kind, NoteKind::CycleBroken { .. }))
        );
    }
    for (id, &idx) in &reference.owner {
        prop_assert_eq!(tree.find(*id), Some(idx));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The sliced layout is the one computed at once, whatever the budget,
    /// and its tree is the one the definition describes.
    #[test]
    fn a_layout_in_slices_is_the_layout_at_once(trace in tangled_trace()) {
        let expected = at_once(&trace);
        matches_reference(&expected.waterfall.tree, &trace)?;
        for max_units in [1, 7, 1_000, usize::MAX] {
            let sliced = in_steps(&trace, max_units)?;
            same_layout(&sliced, &expected, &trace)?;
        }
    }
}
