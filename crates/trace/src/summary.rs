//! A trace in one line, and the search over such lines: what the collector
//! publishes as spans arrive and the Live page lists. Plain data and plain
//! functions, so the server that writes summaries and the page that reads
//! them share one definition.

use crate::model::Trace;

/// Resource indexes [`TraceSummary::of_spans`] keeps track of by index.
const MAX_RESOURCES: usize = 4_096;

/// Summaries a list keeps at most.
pub const KEPT: usize = 5_000;

/// One trace in a line: what the collector publishes as spans arrive, and
/// what the Live page lists and searches.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct TraceSummary {
    pub trace_id: String,
    /// The service and name of the root span (the earliest span without a
    /// parent; the earliest span when every span has one).
    pub root_service: String,
    pub root_name: String,
    pub start_unix_nanos: u64,
    pub duration_nanos: u64,
    pub spans: usize,
    pub errors: usize,
    /// Every service in the trace, each once, in the order of their first span.
    pub services: Vec<String>,
}

/// What a [`TraceSummary`] reads of one span, whatever the span's model:
/// the page's [`Trace`], the collector's stored OTLP spans.
#[derive(Clone, Copy, Debug)]
pub struct SpanFacts<'a> {
    /// The span has no parent (none, or an all-zero parent id).
    pub is_root: bool,
    pub start_unix_nanos: u64,
    /// As recorded: an end before the start is read as the start.
    pub end_unix_nanos: u64,
    /// Its resource, by index among the trace's: the spans of one resource
    /// share its service, so a service is looked up once per resource.
    pub resource_idx: usize,
    pub service: &'a str,
    pub name: &'a str,
    pub is_error: bool,
}

impl TraceSummary {
    /// The summary of trace `trace_id` from its spans, in the trace's
    /// order; `None` for a trace without spans. One pass.
    pub fn of_spans<'a>(
        trace_id: String,
        spans: impl IntoIterator<Item = SpanFacts<'a>>,
    ) -> Option<TraceSummary> {
        let mut spans = spans.into_iter();
        let first = spans.next()?;
        let mut root = first;
        let (mut start, mut end) = (u64::MAX, 0);
        let (mut n_spans, mut errors) = (0, 0);
        let mut services: Vec<String> = Vec::new();
        let mut seen_resources: Vec<bool> = Vec::new();
        for span in std::iter::once(first).chain(spans) {
            // The earliest root; the earliest span while there is none.
            // Ties keep the first in the trace's order.
            let earlier = span.start_unix_nanos < root.start_unix_nanos;
            if (span.is_root && (!root.is_root || earlier)) || (!root.is_root && earlier) {
                root = span;
            }
            start = start.min(span.start_unix_nanos);
            end = end.max(span.end_unix_nanos.max(span.start_unix_nanos));
            n_spans += 1;
            errors += usize::from(span.is_error);
            // Each resource once, then each service name once (two
            // resources may name the same service). An index past any
            // real trace's resources (bad data) is looked up by name.
            if span.resource_idx >= seen_resources.len() && span.resource_idx < MAX_RESOURCES {
                seen_resources.resize(span.resource_idx + 1, false);
            }
            let new_resource = seen_resources
                .get_mut(span.resource_idx)
                .is_none_or(|seen| !std::mem::replace(seen, true));
            if new_resource && !services.iter().any(|known| known == span.service) {
                services.push(span.service.to_owned());
            }
        }
        Some(TraceSummary {
            trace_id,
            root_service: root.service.to_owned(),
            root_name: root.name.to_owned(),
            start_unix_nanos: start,
            duration_nanos: end.saturating_sub(start),
            spans: n_spans,
            errors,
            services,
        })
    }

    /// The summary of `trace` (see [`TraceSummary::of_spans`]).
    pub fn of(trace: &Trace) -> Option<TraceSummary> {
        let trace_id = trace.spans.first()?.trace_id.to_string();
        TraceSummary::of_spans(
            trace_id,
            trace
                .spans
                .iter()
                .enumerate()
                .map(|(span_idx, span)| SpanFacts {
                    is_root: span.parent_span_id.is_none_or(|parent| parent.is_zero()),
                    start_unix_nanos: span.start_unix_nanos,
                    end_unix_nanos: span.end_unix_nanos,
                    resource_idx: span.resource_idx as usize,
                    service: trace.service_name(span_idx),
                    name: &span.name,
                    is_error: span.status.is_error(),
                }),
        )
    }
}

/// What the person searches for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveFilter {
    /// Words that the root's name or a service must contain (any case).
    pub text: String,
    /// Traces at least this long, in milliseconds.
    pub min_ms: u64,
    pub errors_only: bool,
}

impl LiveFilter {
    pub fn matches(&self, trace: &TraceSummary) -> bool {
        self.matches_text(&self.needle(), trace)
    }

    /// The traces of `list` that match, the first `shown` of them, and how
    /// many match in all. The Live page calls this on every redraw over up
    /// to [`KEPT`] traces, so it reads the search words once and compares
    /// without allocating per trace.
    pub fn select<'a>(&self, list: &'a [TraceSummary], shown: usize) -> Selection<'a> {
        let needle = self.needle();
        let mut selection = Selection {
            shown: Vec::with_capacity(shown.min(list.len())),
            matching: 0,
        };
        for trace in list {
            if self.matches_text(&needle, trace) {
                selection.matching += 1;
                if selection.shown.len() < shown {
                    selection.shown.push(trace);
                }
            }
        }
        selection
    }

    fn needle(&self) -> String {
        self.text.trim().to_ascii_lowercase()
    }

    /// `needle` is the search text, trimmed and lower-case.
    fn matches_text(&self, needle: &str, trace: &TraceSummary) -> bool {
        trace.duration_nanos >= self.min_ms.saturating_mul(1_000_000)
            && (!self.errors_only || trace.errors > 0)
            && (needle.is_empty()
                || contains_ignoring_ascii_case(&trace.root_name, needle)
                || trace
                    .services
                    .iter()
                    .any(|service| contains_ignoring_ascii_case(service, needle)))
    }
}

/// What a search selects from a list.
#[derive(Debug, PartialEq)]
pub struct Selection<'a> {
    /// The first matching traces, in the list's order.
    pub shown: Vec<&'a TraceSummary>,
    /// How many traces match, shown or not.
    pub matching: usize,
}

/// Whether `haystack` contains `needle` (already lower-case), ASCII letters
/// compared in either case, as `to_ascii_lowercase().contains()` would say,
/// without the copy.
fn contains_ignoring_ascii_case(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || haystack.windows(needle.len()).any(|window| {
            window
                .iter()
                .zip(needle)
                .all(|(byte, wanted)| byte.to_ascii_lowercase() == *wanted)
        })
}

/// Puts `summary` at the top of `list`, replacing an older summary of the
/// same trace, and keeps at most [`KEPT`].
pub fn merge(list: &mut Vec<TraceSummary>, summary: TraceSummary) {
    list.retain(|existing| existing.trace_id != summary.trace_id);
    list.insert(0, summary);
    list.truncate(KEPT);
}

/// Merges `arrived` (in the order they arrived, the newest last) into
/// `list` at once, as [`merge`] one by one would: the newest at the top,
/// each trace once with its latest summary, at most [`KEPT`]. Linear in
/// both lengths, where merging one at a time costs the list's length for
/// each: the Live page receives summaries in bursts of hundreds while the
/// list holds thousands.
pub fn merge_all(list: &mut Vec<TraceSummary>, arrived: Vec<TraceSummary>) {
    if arrived.is_empty() {
        return;
    }
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut merged: Vec<TraceSummary> = Vec::with_capacity(KEPT.min(list.len() + arrived.len()));
    for summary in arrived.into_iter().rev() {
        if merged.len() == KEPT {
            break;
        }
        if seen.insert(summary.trace_id.clone()) {
            merged.push(summary);
        }
    }
    for summary in list.drain(..) {
        if merged.len() == KEPT {
            break;
        }
        if !seen.contains(&summary.trace_id) {
            merged.push(summary);
        }
    }
    *list = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SpanId, Status};

    #[test]
    fn a_summary_names_root_services_duration_and_errors() {
        let mut trace = crate::generate(200, 4);
        // The root is the earliest span without a parent, whatever its place.
        trace.spans.rotate_left(17);
        trace.spans[3].status = Status::Error {
            message: Box::from("x"),
        };
        let summary = TraceSummary::of(&trace).expect("spans");
        let root = trace
            .spans
            .iter()
            .filter(|span| span.parent_span_id.is_none())
            .min_by_key(|span| span.start_unix_nanos)
            .expect("a root");
        assert_eq!(summary.root_name, &*root.name);
        assert_eq!(summary.spans, 200);
        assert_eq!(
            summary.errors,
            trace
                .spans
                .iter()
                .filter(|span| span.status.is_error())
                .count()
        );
        assert!(summary.errors >= 1);
        let start = trace.spans.iter().map(|span| span.start_unix_nanos).min();
        assert_eq!(Some(summary.start_unix_nanos), start);
        let mut services = summary.services.clone();
        services.dedup();
        assert_eq!(services.len(), summary.services.len());
        assert!(summary.services.len() > 1, "{:?}", summary.services);
        assert_eq!(summary.trace_id, trace.spans[0].trace_id.to_string());
    }

    #[test]
    fn every_span_with_a_parent_makes_the_earliest_the_root() {
        let mut trace = crate::generate(3, 1);
        for span in &mut trace.spans {
            span.parent_span_id = Some(SpanId([5; 8]));
        }
        let earliest = trace
            .spans
            .iter()
            .min_by_key(|span| span.start_unix_nanos)
            .map(|span| span.name.to_string());
        assert_eq!(
            TraceSummary::of(&trace).map(|summary| summary.root_name),
            earliest
        );
        assert_eq!(TraceSummary::of(&Trace::default()), None);
    }

    fn trace(id: &str, services: &[&str], millis: u64, errors: usize) -> TraceSummary {
        TraceSummary {
            trace_id: id.to_owned(),
            root_service: services[0].to_owned(),
            root_name: "GET /bands/:id".to_owned(),
            start_unix_nanos: 0,
            duration_nanos: millis * 1_000_000,
            spans: 3,
            errors,
            services: services.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn the_search_matches_service_words_duration_and_errors() {
        let slow_error = trace("a", &["client", "bands-api"], 50, 1);
        let quick = trace("b", &["checkout"], 2, 0);
        let by = |filter: LiveFilter| {
            [&slow_error, &quick]
                .into_iter()
                .filter(|t| filter.matches(t))
                .map(|t| t.trace_id.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(by(LiveFilter::default()), ["a", "b"]);
        assert_eq!(
            by(LiveFilter {
                text: "BANDS".into(),
                ..LiveFilter::default()
            }),
            ["a", "b"],
            "root names match too"
        );
        assert_eq!(
            by(LiveFilter {
                text: "client".into(),
                ..LiveFilter::default()
            }),
            ["a"]
        );
        assert_eq!(
            by(LiveFilter {
                min_ms: 10,
                ..LiveFilter::default()
            }),
            ["a"]
        );
        assert_eq!(
            by(LiveFilter {
                errors_only: true,
                ..LiveFilter::default()
            }),
            ["a"]
        );
    }

    #[test]
    fn a_trace_that_grows_moves_to_the_top_once() {
        let mut list = Vec::new();
        merge(&mut list, trace("a", &["s"], 1, 0));
        merge(&mut list, trace("b", &["s"], 1, 0));
        let mut grown = trace("a", &["s"], 1, 0);
        grown.spans = 9;
        merge(&mut list, grown);
        assert_eq!(
            list.iter().map(|t| t.trace_id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(list[0].spans, 9);
        for n in 0..KEPT + 10 {
            merge(&mut list, trace(&n.to_string(), &["s"], 1, 0));
        }
        assert_eq!(list.len(), KEPT);
    }

    #[test]
    fn merging_a_burst_at_once_is_merging_it_one_by_one() {
        // Ids repeat within the burst and with the list: a trace that grows
        // while its first summary is still waiting to be drawn.
        let summary = |n: usize, spans: usize| {
            let mut t = trace(&format!("{:032x}", n % 7_000), &["s"], 1, 0);
            t.spans = spans;
            t
        };
        for (before, burst) in [
            (0, 0),
            (0, 3),
            (3, 0),
            (10, 10),
            (KEPT - 10, 30),
            (0, KEPT + 20),
        ] {
            let mut one_by_one = Vec::new();
            for n in 0..before {
                merge(&mut one_by_one, summary(n * 3, 1));
            }
            let mut at_once = one_by_one.clone();
            let arrived: Vec<TraceSummary> = (0..burst).map(|n| summary(n * 5, n)).collect();
            for summary in arrived.clone() {
                merge(&mut one_by_one, summary);
            }
            merge_all(&mut at_once, arrived);
            assert_eq!(at_once, one_by_one, "{before} listed, {burst} arrived");
            assert!(at_once.len() <= KEPT);
        }
    }

    #[test]
    fn the_selection_counts_every_match_and_keeps_the_first() {
        let list: Vec<TraceSummary> = (0..50)
            .map(|n| {
                let service = if n % 2 == 0 {
                    "Bands-API"
                } else {
                    "reviews-api"
                };
                trace(&n.to_string(), &[service], n, usize::from(n % 5 == 0))
            })
            .collect();
        let filters = [
            LiveFilter::default(),
            LiveFilter {
                text: " bands ".into(),
                ..LiveFilter::default()
            },
            LiveFilter {
                text: "REVIEWS-api".into(),
                min_ms: 10,
                ..LiveFilter::default()
            },
            LiveFilter {
                text: "bands/:id".into(),
                errors_only: true,
                ..LiveFilter::default()
            },
            LiveFilter {
                text: "no such".into(),
                ..LiveFilter::default()
            },
        ];
        for filter in filters {
            let expected: Vec<&TraceSummary> = list.iter().filter(|t| filter.matches(t)).collect();
            // The oracle: the search as first written, a lower-case copy of each.
            let text = filter.text.trim().to_ascii_lowercase();
            for t in &list {
                let by_copy = (text.is_empty()
                    || t.root_name.to_ascii_lowercase().contains(&text)
                    || t.services
                        .iter()
                        .any(|s| s.to_ascii_lowercase().contains(&text)))
                    && t.duration_nanos >= filter.min_ms * 1_000_000
                    && (!filter.errors_only || t.errors > 0);
                assert_eq!(filter.matches(t), by_copy, "{filter:?} on {t:?}");
            }
            for shown in [0, 3, 100] {
                let selection = filter.select(&list, shown);
                assert_eq!(selection.matching, expected.len(), "{filter:?}");
                assert_eq!(
                    selection.shown,
                    expected.iter().copied().take(shown).collect::<Vec<_>>()
                );
            }
        }
        assert!(contains_ignoring_ascii_case("GET /Bands", ""));
        assert!(!contains_ignoring_ascii_case("ab", "abc"));
        assert!(contains_ignoring_ascii_case("émile ÉMILE", "émile"));
    }
}
