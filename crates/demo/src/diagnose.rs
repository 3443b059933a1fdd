//! Why a call went wrong, read from what it recorded: for each request that
//! got no response in time, which hop it was, how long the caller waited,
//! and what made the service it called slow, found in that service's spans
//! (a run of repeated spans such as one query per row, or a span that spent
//! its time in itself, with the log line it wrote).
//!
//! Nothing here knows the lesson's switches: the same reading works on any
//! trace with the same shape, and a planted problem is found because it shows
//! in the spans, as a person would find it in the waterfall.

use tracelab_trace::model::{SpanKind, Trace};

use crate::sim::Hop;

/// One sentence per hop that timed out, in the order the hops were sent:
/// `bands-api gave up on reviews-api after 2,000 ms (GET /reviews?…): …`.
pub fn timeouts(hops: &[Hop], traces: &[Trace]) -> Vec<String> {
    hops.iter()
        .filter_map(|hop| {
            let waited = hop.timed_out_after_nanos?;
            let head = format!(
                "{} gave up on {} after {} ({} {} got no response)",
                hop.from.name(),
                hop.to.name(),
                millis(waited),
                hop.method,
                hop.target
            );
            let cause = slow_part(hop, traces).unwrap_or_else(|| {
                format!(
                    "{} recorded no span for this request, so the trace cannot say what was slow; trace {} to see",
                    hop.to.name(),
                    hop.to.name()
                )
            });
            Some(format!("{head}: {cause}."))
        })
        .collect()
}

/// What the callee of `hop` spent its time on, from its server span for
/// the request (the first of its server spans that started while the caller
/// waited) and that span's descendants.
fn slow_part(hop: &Hop, traces: &[Trace]) -> Option<String> {
    let service = hop.to.name();
    let waited_until = hop
        .sent_unix_nanos
        .saturating_add(hop.timed_out_after_nanos.unwrap_or(0));
    traces.iter().find_map(|trace| {
        let server = (0..trace.spans.len()).find(|&idx| {
            let span = &trace.spans[idx];
            span.kind == SpanKind::Server
                && trace.service_name(idx) == service
                && (hop.sent_unix_nanos..=waited_until).contains(&span.start_unix_nanos)
        })?;
        Some(explain(trace, server, service))
    })
}

/// The larger of two suspects under the span `root`: the run of same-named
/// sibling spans with the largest total (the shape of N+1 queries), or the
/// span with the most time of its own (a pause, a hang).
///
/// Plain loops over indices: this runs in the simulation's worker, whose
/// bundle has a budget, and iterator chains cost more code than they save.
fn explain(trace: &Trace, root: usize, service: &str) -> String {
    let spans = &trace.spans;
    let n = spans.len();
    let duration = |idx: usize| {
        spans[idx]
            .end_unix_nanos
            .saturating_sub(spans[idx].start_unix_nanos)
    };
    // Each span's parent, by index.
    let mut parent = vec![usize::MAX; n];
    for (idx, slot) in parent.iter_mut().enumerate() {
        if let Some(id) = spans[idx].parent_span_id {
            if let Some(p) = spans.iter().position(|span| span.span_id == id) {
                *slot = p;
            }
        }
    }
    // The root and its descendants, without recursion; each span once, so a
    // parent cycle cannot loop.
    let mut subtree = vec![root];
    let mut next = 0;
    while next < subtree.len() {
        let at = subtree[next];
        next += 1;
        for (idx, &of) in parent.iter().enumerate() {
            if of == at && !subtree.contains(&idx) {
                subtree.push(idx);
            }
        }
    }
    // (total, count, first span) of the largest run of same-named siblings,
    // and (own time, span) of the span that spent most time in itself.
    let (mut run, mut own) = ((0, 0, root), (0, root));
    for &at in &subtree {
        let mut in_children = 0;
        for kid in 0..n {
            if parent[kid] != at || kid == at {
                continue;
            }
            in_children += duration(kid);
            let (mut total, mut count) = (0, 0);
            for other in 0..n {
                if parent[other] == at && spans[other].name == spans[kid].name {
                    total += duration(other);
                    count += 1;
                }
            }
            if count > 1 && total > run.0 {
                run = (total, count, kid);
            }
        }
        let own_time = duration(at).saturating_sub(in_children);
        if own_time > own.0 {
            own = (own_time, at);
        }
    }
    let whole = millis(duration(root));
    if run.1 > 1 && run.0 >= own.0 {
        let span = &spans[run.2];
        let is_query = span.attributes.iter().any(|kv| kv.key.starts_with("db."));
        let (what, why) = if is_query {
            (
                "database queries",
                ", an N+1 query: one query per row where one query for all rows would do",
            )
        } else {
            ("calls", "")
        };
        return format!(
            "{service} made {} {what} (“{}”) one after another, {} of its {whole}{why}",
            run.1,
            span.name,
            millis(run.0)
        );
    }
    let span = &spans[own.1];
    // The log line written just before the longest stretch in which the
    // span did nothing else: what it was doing then.
    let mut said = String::new();
    let mut longest = 0;
    for event in &span.events {
        let at = event.time_unix_nanos;
        let mut until = span.end_unix_nanos;
        for other in &span.events {
            if other.time_unix_nanos > at {
                until = until.min(other.time_unix_nanos);
            }
        }
        for kid in 0..n {
            if parent[kid] == own.1 && spans[kid].start_unix_nanos > at {
                until = until.min(spans[kid].start_unix_nanos);
            }
        }
        // On a tie the later line wins: written last before the stretch.
        if until.saturating_sub(at) >= longest {
            longest = until.saturating_sub(at);
            said = format!("; its log says “{}”", event.name);
        }
    }
    let whose = if own.1 == root {
        String::new()
    } else {
        format!("'s “{}”", span.name)
    };
    format!(
        "{service}{whose} spent {} of its {whole} in itself, not in any span it called{said}",
        millis(own.0)
    )
}

/// Whole milliseconds with thousands separated: `1,900 ms`. Integers only:
/// this runs in the browser too, where float formatting costs bundle size.
pub fn millis(nanos: u64) -> String {
    let ms = (nanos + 500_000) / 1_000_000;
    let digits = ms.to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out.push_str(" ms");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{make_call, Switches};
    use crate::Failure;

    fn all_traced() -> Switches {
        Switches {
            trace_client: true,
            trace_bands: true,
            trace_reviews: true,
            propagate_client: true,
            propagate_bands: true,
            pause_bands: false,
            ..Switches::default()
        }
    }

    #[test]
    fn millis_rounds_and_groups_thousands() {
        assert_eq!(millis(0), "0 ms");
        assert_eq!(millis(1_499_999), "1 ms");
        assert_eq!(millis(1_900_000_000), "1,900 ms");
        assert_eq!(millis(12_345_678_000_000), "12,345,678 ms");
    }

    #[test]
    fn one_query_per_review_is_named_as_the_cause_of_the_timeout() {
        let switches = Switches {
            n_reviews: 20,
            ..all_traced()
        };
        let report = make_call(&switches, 7).report();
        assert_eq!(report.timeouts.len(), 1, "{:?}", report.timeouts);
        let said = &report.timeouts[0];
        assert!(
            said.starts_with("bands-api gave up on reviews-api after 2,000 ms (GET /reviews?"),
            "{said}"
        );
        assert!(
            said.contains("reviews-api made 20 database queries"),
            "{said}"
        );
        assert!(said.contains("N+1"), "{said}");
    }

    #[test]
    fn a_hang_is_named_with_the_log_line_it_wrote() {
        let switches = Switches {
            fail_reviews: Failure::Timeout,
            ..all_traced()
        };
        let said = make_call(&switches, 1).report().timeouts;
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("reviews-api spent 10,"), "{}", said[0]);
        assert!(said[0].contains("hanging on purpose"), "{}", said[0]);
    }

    #[test]
    fn an_untraced_callee_is_said_to_hide_the_cause() {
        let switches = Switches {
            n_reviews: 20,
            trace_reviews: false,
            ..all_traced()
        };
        let said = make_call(&switches, 1).report().timeouts;
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].contains("reviews-api recorded no span"),
            "{}",
            said[0]
        );
    }

    #[test]
    fn a_call_in_time_has_nothing_to_explain() {
        let report = make_call(&all_traced(), 1).report();
        assert!(report.timeouts.is_empty(), "{:?}", report.timeouts);
    }
}
