//! A trace in one line, and the search over such lines: what the collector
//! publishes as spans arrive and the Live page lists. Plain data and plain
//! functions, so the server that writes summaries and the page that reads
//! them share one definition.

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
        let text = self.text.trim().to_ascii_lowercase();
        (text.is_empty()
            || trace.root_name.to_ascii_lowercase().contains(&text)
            || trace
                .services
                .iter()
                .any(|service| service.to_ascii_lowercase().contains(&text)))
            && trace.duration_nanos >= self.min_ms.saturating_mul(1_000_000)
            && (!self.errors_only || trace.errors > 0)
    }
}

/// Puts `summary` at the top of `list`, replacing an older summary of the
/// same trace, and keeps at most [`KEPT`].
pub fn merge(list: &mut Vec<TraceSummary>, summary: TraceSummary) {
    list.retain(|existing| existing.trace_id != summary.trace_id);
    list.insert(0, summary);
    list.truncate(KEPT);
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
