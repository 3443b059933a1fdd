//! What the Import page and its worker (`src/bin/import-worker.rs`) share,
//! as plain functions tested natively: the report of an import as the page
//! shows it ([`report`]: the format's name, each problem with its path, the
//! traces listed by start with their one-line summaries), the rules for
//! sharing a trace as a link ([`share_check`], [`fragment_check`]) and the
//! URL-safe base64 a link carries.
//!
//! The importers themselves are `tracelab_formats`; only the worker calls
//! [`report`] (and so links them), the page reads its JSON.

use tracelab_formats::Imported;
use tracelab_trace::model::Trace;
use tracelab_trace::summary::TraceSummary;

/// What an import found, as the worker sends it to the page
/// (`crate::wire::encode_report`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    /// The detected format's name (`tracelab_formats::Format::name`).
    pub format: String,
    /// The problems kept (at most `tracelab_formats::MAX_PROBLEMS`), in
    /// file order.
    pub problems: Vec<ProblemRow>,
    /// How many problems there were in all.
    pub n_skipped: usize,
    /// The traces, sorted by start (earliest first), each with its place
    /// in the import: the first [`MAX_LISTED`].
    pub traces: Vec<ListedTrace>,
    /// How many traces the file holds (at least `traces.len()`).
    pub n_traces: usize,
}

/// One problem: where, and what was wrong and what it cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProblemRow {
    /// The field's path (`resourceSpans[0].scopeSpans[2].spans[17].traceId`),
    /// empty for the whole file.
    pub path: String,
    /// `30 hex digits, expected 32 (the span was skipped)`.
    pub what: String,
}

/// One trace of a file, as its list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedTrace {
    /// Its index in the import (what the page asks the worker for).
    pub index: usize,
    pub summary: TraceSummary,
}

/// Traces a report lists at most: a list is for picking by eye, and the
/// page draws every entry (a Collector's file may hold tens of thousands).
pub const MAX_LISTED: usize = 500;

/// The page's report of an import.
pub fn report(imported: &Imported) -> ImportReport {
    let problems = imported
        .skipped
        .iter()
        .map(|problem| {
            // The problem's own words (message and what was dropped),
            // without the path it starts with.
            let text = problem.to_string();
            let what = text
                .strip_prefix(problem.path.as_str())
                .and_then(|rest| rest.strip_prefix(": "))
                .unwrap_or(&text)
                .to_owned();
            ProblemRow {
                path: problem.path.clone(),
                what,
            }
        })
        .collect();
    ImportReport {
        format: imported.format.name().to_owned(),
        problems,
        n_skipped: imported.n_skipped,
        traces: list_traces(&imported.traces, MAX_LISTED),
        n_traces: imported.traces.len(),
    }
}

/// The summaries of the `max` earliest traces, sorted by start; ties keep
/// the file's order.
pub fn list_traces(traces: &[Trace], max: usize) -> Vec<ListedTrace> {
    let mut listed: Vec<ListedTrace> = traces
        .iter()
        .enumerate()
        .filter_map(|(index, trace)| {
            TraceSummary::of(trace).map(|summary| ListedTrace { index, summary })
        })
        .collect();
    listed.sort_by_key(|listed| listed.summary.start_unix_nanos);
    listed.truncate(max);
    listed
}

/// Spans a share link carries at most: a link of a few hundred spans
/// compresses to a few kilobytes; a larger trace belongs in a file.
pub const MAX_SHARE_SPANS: usize = 500;

/// Characters a share link's fragment may have at most. Browsers take
/// far longer addresses (Chromium 2 MB), but chat apps and mail cut or
/// refuse long links, and the address bar becomes unusable.
pub const MAX_SHARE_CHARS: usize = 32_000;

/// Whether a trace of `n_spans` spans may be shared as a link; if not,
/// the sentence that says why.
pub fn share_check(n_spans: usize) -> Result<(), String> {
    if n_spans == 0 {
        return Err("There is no trace to share.".to_owned());
    }
    if n_spans > MAX_SHARE_SPANS {
        return Err(format!(
            "This trace has {} spans: a link carries at most {MAX_SHARE_SPANS}. Export it as a file instead (OTLP or Jaeger JSON) and share the file.",
            crate::waterfall::group_thousands(n_spans)
        ));
    }
    Ok(())
}

/// Whether a compressed, encoded fragment of `n_chars` characters is short
/// enough for a link; if not, why.
pub fn fragment_check(n_chars: usize) -> Result<(), String> {
    if n_chars > MAX_SHARE_CHARS {
        return Err(format!(
            "This trace compresses to {} characters, over the {} a link may carry (its attributes and events are large). Export it as a file instead and share the file.",
            crate::waterfall::group_thousands(n_chars),
            crate::waterfall::group_thousands(MAX_SHARE_CHARS)
        ));
    }
    Ok(())
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Bytes as URL-safe base64 without padding (RFC 4648 §5), which a URL
/// fragment carries without escapes.
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let value = group
            .iter()
            .enumerate()
            .fold(0u32, |value, (position, &byte)| {
                value | u32::from(byte) << (16 - 8 * position)
            });
        for position in 0..=group.len() {
            out.push(BASE64URL[(value >> (18 - 6 * position) & 63) as usize] as char);
        }
    }
    out
}

/// Reads [`base64url_encode`]'s text (padding and whitespace refused,
/// since a link carries neither); `None` for anything else.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for group in text.as_bytes().chunks(4) {
        if group.len() == 1 {
            return None;
        }
        let mut value = 0u32;
        for (position, &byte) in group.iter().enumerate() {
            let digit = match byte {
                b'A'..=b'Z' => byte - b'A',
                b'a'..=b'z' => byte - b'a' + 26,
                b'0'..=b'9' => byte - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            value |= u32::from(digit) << (18 - 6 * position);
        }
        for position in 0..group.len() - 1 {
            out.push((value >> (16 - 8 * position)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracelab_trace::model::TraceId;

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
            let text = base64url_encode(&bytes);
            assert!(text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'));
            assert_eq!(base64url_decode(&text), Some(bytes), "length {len}");
        }
        assert_eq!(base64url_encode(b"\xfb\xff"), "-_8");
    }

    #[test]
    fn base64url_refuses_what_a_link_never_carries() {
        // Each case and why.
        for (text, why) in [
            ("QUJD=", "padding"),
            ("QU JD", "a space"),
            ("QUJDR", "a lone last digit is no byte"),
            ("QUJ+", "standard base64's +"),
        ] {
            assert_eq!(base64url_decode(text), None, "{why}");
        }
    }

    #[test]
    fn traces_are_listed_by_start_with_their_place_in_the_file() {
        let mut traces: Vec<Trace> = (0..3)
            .map(|seed| tracelab_trace::generate(5, seed))
            .collect();
        // Later, earlier, in between.
        for (trace, (id, offset)) in
            traces
                .iter_mut()
                .zip([(1u8, 3_000u64), (2, 1_000), (3, 2_000)])
        {
            // Each trace starts `offset` seconds after the epoch.
            let base = trace
                .spans
                .iter()
                .map(|span| span.start_unix_nanos)
                .min()
                .unwrap_or(0);
            for span in &mut trace.spans {
                span.trace_id = TraceId([id; 16]);
                span.start_unix_nanos = span.start_unix_nanos - base + offset * 1_000_000_000;
                span.end_unix_nanos = span.end_unix_nanos - base + offset * 1_000_000_000;
            }
        }
        let listed = list_traces(&traces, 10);
        assert_eq!(
            listed.iter().map(|listed| listed.index).collect::<Vec<_>>(),
            [1, 2, 0]
        );
        // Only the earliest when there are more than a list shows.
        let first_two = list_traces(&traces, 2);
        assert_eq!(
            first_two
                .iter()
                .map(|listed| listed.index)
                .collect::<Vec<_>>(),
            [1, 2]
        );
    }

    #[test]
    fn the_report_splits_each_problem_into_path_and_what_was_wrong() {
        let file = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"4bf92f3577b34da6a3ce929d0e0e47","spanId":"00f067aa0ba902b7","name":"a","startTimeUnixNano":"1","endTimeUnixNano":"2"},
            {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b8","name":"b","startTimeUnixNano":"1","endTimeUnixNano":"2"}
        ]}]}]}"#;
        let report = report(&tracelab_formats::import(file));
        assert_eq!(report.format, "OTLP JSON");
        assert_eq!(report.n_skipped, 1);
        assert_eq!(report.problems.len(), 1);
        assert_eq!(
            report.problems[0].path,
            "resourceSpans[0].scopeSpans[0].spans[0].traceId"
        );
        assert!(
            report.problems[0]
                .what
                .starts_with("30 hex digits, expected 32"),
            "{}",
            report.problems[0].what
        );
        assert_eq!(report.traces.len(), 1);
        assert_eq!(report.traces[0].summary.root_name, "b");
    }

    #[test]
    fn a_file_of_many_traces_lists_the_earliest_and_counts_them_all() {
        // 600 one-span traces, the latest first in the file.
        let spans: Vec<String> = (0..600u64)
            .map(|n| {
                format!(
                    r#"{{"traceId":"{:032x}","id":"{:016x}","name":"op","timestamp":{},"duration":10,"localEndpoint":{{"serviceName":"svc"}}}}"#,
                    n + 1,
                    n + 1,
                    1_700_000_000_000_000u64 - n * 1_000
                )
            })
            .collect();
        let file = format!("[{}]", spans.join(","));
        let report = report(&tracelab_formats::import(file.as_bytes()));
        assert_eq!(report.n_traces, 600);
        assert_eq!(report.traces.len(), MAX_LISTED);
        // The earliest is the last in the file.
        assert_eq!(report.traces[0].index, 599);
        assert!(report
            .traces
            .windows(2)
            .all(|pair| pair[0].summary.start_unix_nanos <= pair[1].summary.start_unix_nanos));
    }

    #[test]
    fn a_file_that_is_no_trace_says_so_for_the_whole_file() {
        let report = report(&tracelab_formats::import(b"hello"));
        assert_eq!(report.format, "unknown");
        assert!(report.traces.is_empty());
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].path, "");
        assert!(!report.problems[0].what.is_empty());
    }

    #[test]
    fn small_traces_may_be_shared_and_large_ones_say_why_not() {
        assert_eq!(share_check(1), Ok(()));
        assert_eq!(share_check(MAX_SHARE_SPANS), Ok(()));
        let refusal = share_check(MAX_SHARE_SPANS + 1).expect_err("too many");
        assert!(
            refusal.contains("501 spans") && refusal.contains("at most 500"),
            "{refusal}"
        );
        assert!(share_check(0).is_err());
        assert_eq!(fragment_check(MAX_SHARE_CHARS), Ok(()));
        let refusal = fragment_check(MAX_SHARE_CHARS + 1).expect_err("too long");
        assert!(refusal.contains("32,001 characters"), "{refusal}");
    }
}
