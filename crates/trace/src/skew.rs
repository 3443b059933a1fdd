//! Clock skew: detected and reported per span, never silently changed.
//!
//! The rule (DESIGN.md, "Clock skew"): a child that starts before its parent
//! is flagged; one that ends after its parent is flagged only when the call is
//! synchronous (a server span under a client span, or an internal child),
//! because asynchronous, producer/consumer and follows-from children may
//! legitimately outlive their parent. A client span that failed (a timeout, a
//! reset connection) stopped waiting for its server, so that server ending
//! later is what happened, not a clock error: the lesson's timeout trace
//! shows exactly this.
//!
//! [`adjust_skew`] is the opt-in "adjusted" view: it shifts skewed subtrees
//! into their parents and lists every shift, so a reader can always see what
//! was moved and by how much (Jaeger UI's silent adjustment is what its users
//! distrust).

use crate::budget::Budget;
use crate::layout::SpanTimes;
use crate::model::{ParentRelation, Span, SpanKind, Status, Trace};
use crate::tree::{Note, NoteKind, SpanTree};

/// Whether `parent` waits for `child` to finish, so that the child ending
/// later can only be a clock error.
pub fn is_synchronous(parent: &Span, child: &Span) -> bool {
    if child.parent_relation == ParentRelation::FollowsFrom {
        return false;
    }
    match child.kind {
        SpanKind::Server => {
            parent.kind == SpanKind::Client && !matches!(parent.status, Status::Error { .. })
        }
        // An unspecified kind is almost always local work (see `SpanKind`).
        SpanKind::Internal | SpanKind::Unspecified => true,
        SpanKind::Client | SpanKind::Producer | SpanKind::Consumer => false,
    }
}

/// The skew notes of every span with a parent, in span order.
pub fn detect_skew(trace: &Trace, tree: &SpanTree, times: &SpanTimes) -> Vec<Note> {
    let mut notes = Vec::new();
    extend_skew_notes(
        trace,
        tree,
        times,
        &mut 0,
        &mut notes,
        &mut Budget::unlimited(),
    );
    notes
}

/// [`detect_skew`] a slice at a time: appends the notes of the spans from
/// `*next` on until `budget` is spent (a unit a span), moving `*next` on;
/// whether every span is looked at.
pub(crate) fn extend_skew_notes(
    trace: &Trace,
    tree: &SpanTree,
    times: &SpanTimes,
    next: &mut usize,
    notes: &mut Vec<Note>,
    budget: &mut Budget,
) -> bool {
    let n_spans = tree.len().min(trace.spans.len());
    let start = (*next).min(n_spans);
    let end = start + budget.grant(n_spans - start);
    for span_idx in start..end {
        let Some(parent_idx) = tree.parent(span_idx) else {
            continue;
        };
        let (start, end) = (times.start(span_idx), times.end(span_idx));
        let (parent_start, parent_end) = (times.start(parent_idx), times.end(parent_idx));
        if start < parent_start {
            notes.push(Note {
                span_idx,
                kind: NoteKind::StartsBeforeParent {
                    by_nanos: parent_start - start,
                },
            });
        }
        let synchronous = match (trace.spans.get(parent_idx), trace.spans.get(span_idx)) {
            (Some(parent), Some(child)) => is_synchronous(parent, child),
            _ => false,
        };
        if end > parent_end && synchronous {
            notes.push(Note {
                span_idx,
                kind: NoteKind::EndsAfterParent {
                    by_nanos: end - parent_end,
                },
            });
        }
    }
    *next = end;
    end == n_spans
}

/// One shift made by the adjusted view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkewAdjustment {
    /// The span whose subtree moved.
    pub span_idx: usize,
    /// How far the subtree moved (negative: earlier).
    pub shift_nanos: i64,
    /// How many spans moved (the span and its descendants).
    pub n_spans_moved: usize,
    /// The skew, measured against the already adjusted parent, that caused it.
    pub reason: NoteKind,
}

/// The adjusted view: shifted times and the list of what moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdjustedTimes {
    pub times: SpanTimes,
    pub adjustments: Vec<SkewAdjustment>,
}

/// Shifts each skewed subtree into its parent. A synchronous child is
/// centred in its parent when it fits (the network latency split evenly both
/// ways, as Jaeger UI assumes) and aligned to its start when it does not; an
/// asynchronous child that starts early is moved to the parent's start.
/// Parents are adjusted before children (pre-order), and a shift carries to
/// the whole subtree, so a service's spans keep their timing relative to one
/// another.
///
/// A shift never takes any span of the subtree before 0 or past `u64::MAX`:
/// it stops where the subtree's first start or last end meets that edge
/// (a trace timed from 0 can leave a subtree less than centred). So every
/// span moves by exactly the sum of the shifts listed for it and its
/// ancestors, and no duration changes.
pub fn adjust_skew(trace: &Trace, tree: &SpanTree, times: &SpanTimes) -> AdjustedTimes {
    let n_spans = tree.len().min(times.len()).min(trace.spans.len());
    let mut shift = vec![0i128; tree.len()];
    let mut adjusted = times.clone();
    let mut adjustments = Vec::new();
    // The earliest start and latest end in each span's subtree, as
    // recorded: children come after their parent in row order, so one
    // backward pass folds each subtree into its root.
    let mut subtree_first_start: Vec<u64> = times.start_unix_nanos[..n_spans].to_vec();
    let mut subtree_last_end: Vec<u64> = times.end_unix_nanos[..n_spans].to_vec();
    let rows: Vec<usize> = tree.rows().filter(|&span_idx| span_idx < n_spans).collect();
    for &span_idx in rows.iter().rev() {
        if let Some(parent_idx) = tree.parent(span_idx).filter(|&idx| idx < n_spans) {
            subtree_first_start[parent_idx] =
                subtree_first_start[parent_idx].min(subtree_first_start[span_idx]);
            subtree_last_end[parent_idx] =
                subtree_last_end[parent_idx].max(subtree_last_end[span_idx]);
        }
    }
    // i128 so that no shift of any u64 times can overflow. The bounds above
    // keep every shifted time within u64, so the clamp never changes one.
    let shifted =
        |time: u64, by: i128| -> u64 { (time as i128 + by).clamp(0, u64::MAX as i128) as u64 };
    for span_idx in rows {
        let Some(parent_idx) = tree.parent(span_idx) else {
            continue;
        };
        let inherited = shift[parent_idx];
        let parent_start = adjusted.start(parent_idx);
        let parent_end = adjusted.end(parent_idx);
        let start = shifted(times.start(span_idx), inherited);
        let end = shifted(times.end(span_idx), inherited);
        let synchronous = match (trace.spans.get(parent_idx), trace.spans.get(span_idx)) {
            (Some(parent), Some(child)) => is_synchronous(parent, child),
            _ => false,
        };
        let reason = if start < parent_start {
            Some(NoteKind::StartsBeforeParent {
                by_nanos: parent_start - start,
            })
        } else if synchronous && end > parent_end {
            Some(NoteKind::EndsAfterParent {
                by_nanos: end - parent_end,
            })
        } else {
            None
        };
        let mut own_shift = 0i128;
        if let Some(reason) = reason {
            let duration = end - start;
            let parent_duration = parent_end - parent_start;
            let target_start = if synchronous && duration <= parent_duration {
                parent_start + (parent_duration - duration) / 2
            } else {
                parent_start
            };
            // The inherited shift keeps this subtree within u64 (the
            // parent's bounds covered it), so 0 is always inside these
            // bounds; the listed shift is an i64, so the move is one too.
            let lowest = -(subtree_first_start[span_idx] as i128 + inherited);
            let highest = u64::MAX as i128 - (subtree_last_end[span_idx] as i128 + inherited);
            own_shift = (target_start as i128 - start as i128)
                .clamp(lowest, highest)
                .clamp(i64::MIN as i128, i64::MAX as i128);
            if own_shift != 0 {
                adjustments.push(SkewAdjustment {
                    span_idx,
                    shift_nanos: own_shift as i64,
                    n_spans_moved: tree.subtree_rows(span_idx).len(),
                    reason,
                });
            }
        }
        let total_shift = inherited + own_shift;
        shift[span_idx] = total_shift;
        adjusted.start_unix_nanos[span_idx] = shifted(times.start(span_idx), total_shift);
        adjusted.end_unix_nanos[span_idx] = shifted(times.end(span_idx), total_shift);
    }
    AdjustedTimes {
        times: adjusted,
        adjustments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Span;
    use crate::tree::tests::{span, trace_of};

    fn with_kind(mut span: Span, kind: SpanKind) -> Span {
        span.kind = kind;
        span
    }

    fn skew_of(spans: Vec<Span>) -> Vec<Note> {
        let trace = trace_of(spans);
        let tree = SpanTree::build(&trace);
        detect_skew(&trace, &tree, &SpanTimes::from_trace(&trace))
    }

    #[test]
    fn skew_child_starting_before_parent_is_flagged_for_any_kind() {
        for kind in [SpanKind::Server, SpanKind::Consumer, SpanKind::Internal] {
            let notes = skew_of(vec![
                with_kind(span(1, 0, 100, 200), SpanKind::Client),
                with_kind(span(2, 1, 90, 150), kind),
            ]);
            assert_eq!(
                notes,
                vec![Note {
                    span_idx: 1,
                    kind: NoteKind::StartsBeforeParent { by_nanos: 10 }
                }],
                "{kind:?}"
            );
        }
    }

    #[test]
    fn skew_server_under_client_ending_late_is_flagged() {
        let notes = skew_of(vec![
            with_kind(span(1, 0, 100, 200), SpanKind::Client),
            with_kind(span(2, 1, 150, 230), SpanKind::Server),
        ]);
        assert_eq!(notes[0].kind, NoteKind::EndsAfterParent { by_nanos: 30 });
        assert!(notes[0].kind.to_string().contains("30 ns after"));
    }

    #[test]
    fn skew_server_outliving_a_failed_client_is_not_flagged() {
        // The client gave up (a timeout): the server finishing later is real.
        let mut client = with_kind(span(1, 0, 100, 200), SpanKind::Client);
        client.status = Status::Error {
            message: "timeout".into(),
        };
        let notes = skew_of(vec![
            client.clone(),
            with_kind(span(2, 1, 150, 230), SpanKind::Server),
        ]);
        assert_eq!(notes, vec![]);
        // Starting before the failed client is still a clock error.
        let notes = skew_of(vec![
            client,
            with_kind(span(2, 1, 90, 230), SpanKind::Server),
        ]);
        assert_eq!(
            notes,
            vec![Note {
                span_idx: 1,
                kind: NoteKind::StartsBeforeParent { by_nanos: 10 }
            }]
        );
    }

    #[test]
    fn skew_internal_child_ending_late_is_flagged() {
        let notes = skew_of(vec![
            with_kind(span(1, 0, 100, 200), SpanKind::Server),
            with_kind(span(2, 1, 150, 201), SpanKind::Internal),
        ]);
        assert_eq!(notes[0].kind, NoteKind::EndsAfterParent { by_nanos: 1 });
    }

    #[test]
    fn skew_async_children_may_outlive_their_parent() {
        let mut follows_from = with_kind(span(3, 1, 150, 400), SpanKind::Internal);
        follows_from.parent_relation = ParentRelation::FollowsFrom;
        let notes = skew_of(vec![
            with_kind(span(1, 0, 100, 200), SpanKind::Producer),
            with_kind(span(2, 1, 150, 400), SpanKind::Consumer),
            follows_from,
            with_kind(span(4, 1, 150, 400), SpanKind::Client),
        ]);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn skew_server_under_server_ending_late_is_not_flagged() {
        // Without a client span in between the call may be asynchronous.
        let notes = skew_of(vec![
            with_kind(span(1, 0, 100, 200), SpanKind::Server),
            with_kind(span(2, 1, 150, 400), SpanKind::Server),
        ]);
        assert!(notes.is_empty());
    }

    #[test]
    fn adjusted_view_centres_a_skewed_subtree_and_says_so() {
        // The server's host clock is 60 ns behind: its span and child start early.
        let trace = trace_of(vec![
            with_kind(span(1, 0, 100, 200), SpanKind::Client),
            with_kind(span(2, 1, 50, 130), SpanKind::Server),
            with_kind(span(3, 2, 60, 70), SpanKind::Internal),
        ]);
        let tree = SpanTree::build(&trace);
        let times = SpanTimes::from_trace(&trace);
        let adjusted = adjust_skew(&trace, &tree, &times);
        assert_eq!(
            adjusted.adjustments,
            vec![SkewAdjustment {
                span_idx: 1,
                shift_nanos: 60,
                n_spans_moved: 2,
                reason: NoteKind::StartsBeforeParent { by_nanos: 50 }
            }]
        );
        assert_eq!(adjusted.times.start(1), 110);
        assert_eq!(adjusted.times.end(1), 190);
        assert_eq!(adjusted.times.start(2), 120);
        // The original times are untouched and still report the skew.
        assert_eq!(times.start(1), 50);
        assert!(detect_skew(&trace, &tree, &adjusted.times).is_empty());
    }

    #[test]
    fn adjusted_view_aligns_a_child_longer_than_its_parent() {
        let trace = trace_of(vec![
            with_kind(span(1, 0, 100, 200), SpanKind::Client),
            with_kind(span(2, 1, 90, 400), SpanKind::Server),
        ]);
        let tree = SpanTree::build(&trace);
        let adjusted = adjust_skew(&trace, &tree, &SpanTimes::from_trace(&trace));
        assert_eq!(adjusted.times.start(1), 100);
        assert_eq!(adjusted.adjustments[0].shift_nanos, 10);
    }

    #[test]
    fn mismatched_trace_and_tree_do_not_panic() {
        let big = trace_of(vec![
            span(1, 0, 0, 100),
            span(2, 1, 10, 20),
            span(3, 2, 5, 30),
        ]);
        let small = trace_of(vec![span(1, 0, 0, 100)]);
        let tree = SpanTree::build(&big);
        let times = SpanTimes::from_trace(&small);
        assert!(detect_skew(&small, &tree, &times).is_empty());
        assert!(adjust_skew(&small, &tree, &times).adjustments.is_empty());
    }

    /// Issue 19: near zero the shifted times were clamped at 0 while the
    /// unclamped shift was listed, so the listed shift and the real move
    /// differed (and a span's duration shrank).
    #[test]
    fn adjusted_view_near_zero_moves_exactly_what_it_lists() {
        // `2` ends 50 ns after its parent: centring it means 50 ns earlier,
        // which would take its child `3` (at 10..20) below zero.
        let trace = trace_of(vec![
            span(1, 0, 0, 100),
            span(2, 1, 50, 150),
            span(3, 2, 10, 20),
        ]);
        let tree = SpanTree::build(&trace);
        let times = SpanTimes::from_trace(&trace);
        let adjusted = adjust_skew(&trace, &tree, &times);
        for span_idx in 0..3 {
            let listed: i64 = adjusted
                .adjustments
                .iter()
                .filter(|adjustment| {
                    let mut current = Some(span_idx);
                    while let Some(idx) = current {
                        if idx == adjustment.span_idx {
                            return true;
                        }
                        current = tree.parent(idx);
                    }
                    false
                })
                .map(|adjustment| adjustment.shift_nanos)
                .sum();
            let moved = adjusted.times.start(span_idx) as i64 - times.start(span_idx) as i64;
            assert_eq!(moved, listed, "span {span_idx}: {:?}", adjusted.adjustments);
            assert_eq!(
                adjusted.times.duration(span_idx),
                times.duration(span_idx),
                "span {span_idx}"
            );
        }
        // As far as it can go without leaving the time axis.
        assert_eq!(adjusted.adjustments[0].shift_nanos, -10);
    }

    #[test]
    fn adjusted_view_leaves_unskewed_traces_alone() {
        let trace = trace_of(vec![span(1, 0, 0, 100), span(2, 1, 10, 20)]);
        let tree = SpanTree::build(&trace);
        let times = SpanTimes::from_trace(&trace);
        let adjusted = adjust_skew(&trace, &tree, &times);
        assert!(adjusted.adjustments.is_empty());
        assert_eq!(adjusted.times, times);
    }
}
