//! Table-driven cases for W3C Trace Context: the spec's own examples, the
//! cases of the W3C test suite (`w3c/trace-context`, `test/test.py`), and
//! edge cases of our own (the header tables are in `cases/mod.rs`). Every
//! row names its input, every rule it must report (by the stable rule names
//! of `rule.rs`, errors and warnings alike), and why.
//!
//! For every row of the traceparent and tracestate tables the check is the
//! same: the diagnose report carries exactly the expected set of rule names,
//! its validity follows from them, the fast parser agrees with the report's
//! first error (rule and byte range), every byte range is within the
//! value and on character boundaries, and `receive` makes the decision the
//! spec's processing model asks for.

mod cases;
mod common;

use cases::{
    members, spec_with_flags, traceparent_cases, traceparent_of, tracestate_cases, Case,
    ALL_ZERO_TRACE_ID, SPEC_PARENT_ID, SPEC_TRACEPARENT_NOT_SAMPLED, SPEC_TRACE_ID,
    SUITE_PARENT_ID, SUITE_TRACE_ID,
};
use common::{FixedIds, RECEIVER_SPAN_ID, RECEIVER_TRACE_ID, SPEC_TRACEPARENT};
use std::collections::BTreeSet;
use tracelab_context::traceparent::{self, FieldName};
use tracelab_context::tracestate;
use tracelab_context::{
    decode, find_headers, receive, Action, Decoded, HeaderName, Incoming, RestartReason, Rule,
    Severity, Source, TraceFlags, TraceParent, TraceState, TraceStateReport, Violation,
};

fn rule_names(violations: &[Violation]) -> BTreeSet<&'static str> {
    violations.iter().map(|v| v.rule.name()).collect()
}

fn expected_names(case: &Case) -> BTreeSet<&'static str> {
    for name in case.rules {
        assert!(
            Rule::from_name(name).is_some(),
            "row '{}' expects '{name}', which is not a rule name",
            case.reason
        );
    }
    case.rules.iter().copied().collect()
}

/// True when none of the expected rules is an error.
fn expects_valid(case: &Case) -> bool {
    case.rules
        .iter()
        .all(|name| Rule::from_name(name).map(Rule::severity) == Some(Severity::Warning))
}

fn assert_ranges_on_char_boundaries(value: &str, violations: &[Violation], reason: &str) {
    for violation in violations {
        assert!(
            violation.start <= violation.end && violation.end <= value.len(),
            "{reason}: {violation} is outside the value of {} bytes",
            value.len()
        );
        assert!(
            value.is_char_boundary(violation.start) && value.is_char_boundary(violation.end),
            "{reason}: {violation} splits a character of {value:?}"
        );
    }
}

fn check_traceparent_case(case: &Case) {
    let value = case.input.as_str();
    let context = format!("row '{}' (input {value:?})", case.reason);
    let report = traceparent::diagnose(value);
    assert_eq!(
        rule_names(&report.violations),
        expected_names(case),
        "{context}: violations {:#?}",
        report.violations
    );
    let valid = expects_valid(case);
    assert_eq!(report.is_valid(), valid, "{context}: validity");
    assert_eq!(report.errors().next().is_none(), valid, "{context}: errors");
    assert_eq!(report.omitted, 0, "{context}: nothing omitted");
    assert_ranges_on_char_boundaries(value, &report.violations, &context);
    for field in &report.fields {
        assert!(
            field.start <= field.end
                && value.is_char_boundary(field.start)
                && value.is_char_boundary(field.end),
            "{context}: field {} at {}..{}",
            field.name.as_str(),
            field.start,
            field.end
        );
    }

    let parsed = TraceParent::parse(value);
    match &parsed {
        Ok(traceparent) => {
            assert!(
                valid,
                "{context}: the fast parser accepted an invalid value"
            );
            assert_eq!(
                report.parsed,
                Some(*traceparent),
                "{context}: parsed values"
            );
            if value.starts_with("00-") && value.len() == 55 {
                assert_eq!(traceparent.to_string(), value, "{context}: formats back");
            }
        }
        Err(error) => {
            let first = report
                .errors()
                .next()
                .unwrap_or_else(|| panic!("{context}: the fast parser rejected a valid value"));
            assert_eq!(
                (error.rule, error.range()),
                (first.rule, first.range()),
                "{context}: the fast parser's error and the report's first error"
            );
        }
    }

    // The receiver (§5): continue a valid trace with a new parent, restart otherwise.
    let incoming = Incoming {
        traceparent: vec![value],
        tracestate: vec!["rojo=00f067aa0ba902b7"],
    };
    let decision = receive(&incoming, &mut FixedIds);
    match parsed {
        Ok(traceparent) => {
            assert_eq!(decision.action, Action::Continue, "{context}");
            assert_eq!(
                decision.traceparent.trace_id(),
                traceparent.trace_id(),
                "{context}"
            );
            assert_eq!(
                decision.traceparent.parent_id(),
                RECEIVER_SPAN_ID,
                "{context}"
            );
            assert_ne!(traceparent.parent_id(), RECEIVER_SPAN_ID, "{context}");
            assert_eq!(
                decision.traceparent.flags(),
                traceparent.flags().propagated(),
                "{context}"
            );
            assert_eq!(decision.traceparent.version(), 0, "{context}");
            assert_eq!(
                decision.tracestate.map(|t| t.to_string()).as_deref(),
                Some("rojo=00f067aa0ba902b7"),
                "{context}"
            );
        }
        Err(error) => {
            assert_eq!(decision.action, Action::Restart, "{context}");
            assert_eq!(
                decision.restart_reason,
                Some(RestartReason::Invalid(error)),
                "{context}"
            );
            assert_eq!(
                decision.traceparent.trace_id(),
                RECEIVER_TRACE_ID,
                "{context}"
            );
            assert_eq!(decision.tracestate, None, "{context}");
        }
    }
}

fn check_tracestate_case(case: &Case) {
    let value = case.input.as_str();
    let context = format!("row '{}' (input {value:?})", case.reason);
    let report = tracestate::diagnose(value);
    assert_eq!(
        rule_names(&report.violations),
        expected_names(case),
        "{context}: violations {:#?}",
        report.violations
    );
    let valid = expects_valid(case);
    assert_eq!(report.is_valid(), valid, "{context}: validity");
    assert_eq!(report.errors().next().is_none(), valid, "{context}: errors");
    assert_eq!(report.omitted, 0, "{context}: nothing omitted");
    assert_ranges_on_char_boundaries(value, &report.violations, &context);
    for entry in &report.entries {
        assert!(
            value.is_char_boundary(entry.start) && value.is_char_boundary(entry.end),
            "{context}: entry {} at {}..{}",
            entry.position,
            entry.start,
            entry.end
        );
    }

    let parsed = TraceState::parse(value);
    match &parsed {
        Ok(state) => {
            assert!(
                valid,
                "{context}: the fast parser accepted an invalid value"
            );
            assert_eq!(
                report.parsed.as_ref(),
                Some(state),
                "{context}: parsed values"
            );
            assert_eq!(
                TraceState::parse(state.header_value()).as_ref(),
                Ok(state),
                "{context}: the canonical header parses back"
            );
            assert_eq!(
                report.propagated_len,
                state.header_value().len(),
                "{context}: propagated length"
            );
        }
        Err(error) => {
            let first = report
                .errors()
                .next()
                .unwrap_or_else(|| panic!("{context}: the fast parser rejected a valid value"));
            assert_eq!(
                (error.rule, error.range()),
                (first.rule, first.range()),
                "{context}: the fast parser's error and the report's first error"
            );
        }
    }

    // The receiver (§5): a valid tracestate is sent on, an invalid one dropped.
    let incoming = Incoming {
        traceparent: vec![SPEC_TRACEPARENT],
        tracestate: vec![value],
    };
    let decision = receive(&incoming, &mut FixedIds);
    assert_eq!(decision.action, Action::Continue, "{context}");
    match parsed {
        Ok(state) if state.is_empty() => {
            assert_eq!(decision.tracestate, None, "{context}: nothing to send");
            assert_eq!(decision.tracestate_dropped, None, "{context}");
        }
        Ok(state) => {
            assert_eq!(decision.tracestate, Some(state), "{context}: sent on");
            assert_eq!(decision.tracestate_dropped, None, "{context}");
        }
        Err(error) => {
            // Repeated keys alone: the value is sent on without the repeats,
            // the first member of each key kept (§3.5). Any other error
            // drops it whole, naming the first error that is not a repeat.
            let repeats: Vec<&Violation> = report
                .errors()
                .filter(|v| v.rule == Rule::TraceStateDuplicateKey)
                .collect();
            match report
                .errors()
                .find(|v| v.rule != Rule::TraceStateDuplicateKey)
            {
                None => {
                    let kept: Vec<String> = report
                        .entries
                        .iter()
                        .filter(|entry| entry.valid)
                        .map(|entry| {
                            format!("{}={}", entry.key, entry.value.as_deref().unwrap_or(""))
                        })
                        .collect();
                    assert_eq!(
                        decision.tracestate.map(|t| t.to_string()),
                        Some(kept.join(",")),
                        "{context}: sent on without the repeats"
                    );
                    assert_eq!(decision.tracestate_dropped, None, "{context}");
                    let dropped: Vec<_> = decision
                        .tracestate_members_dropped
                        .iter()
                        .map(|v| (v.rule, v.range()))
                        .collect();
                    let expected: Vec<_> = repeats.iter().map(|v| (v.rule, v.range())).collect();
                    assert_eq!(dropped, expected, "{context}: the repeats dropped");
                    assert!(!expected.is_empty(), "{context}");
                }
                Some(first) => {
                    assert_eq!(decision.tracestate, None, "{context}: dropped");
                    let dropped = decision.tracestate_dropped.as_ref();
                    assert_eq!(
                        dropped.map(|v| (v.rule, v.range())),
                        Some((first.rule, first.range())),
                        "{context}"
                    );
                    if error.rule != Rule::TraceStateDuplicateKey {
                        assert_eq!(dropped, Some(&error), "{context}");
                    }
                    assert!(decision.tracestate_members_dropped.is_empty(), "{context}");
                }
            }
        }
    }
}

#[test]
fn traceparent_table() {
    let cases = traceparent_cases();
    for case in &cases {
        check_traceparent_case(case);
    }
}

#[test]
fn tracestate_table() {
    let cases = tracestate_cases();
    for case in &cases {
        check_tracestate_case(case);
    }
}

#[test]
fn every_rule_is_exercised_by_some_row() {
    let mut named: BTreeSet<&str> = BTreeSet::new();
    for case in traceparent_cases().iter().chain(tracestate_cases().iter()) {
        named.extend(case.rules.iter().copied());
    }
    // traceparent.duplicate needs two header lines: see `decode_reports_a_duplicate_traceparent`.
    named.insert(Rule::TraceParentDuplicate.name());
    let missing: Vec<&str> = Rule::ALL
        .iter()
        .map(|rule| rule.name())
        .filter(|name| !named.contains(name))
        .collect();
    assert!(missing.is_empty(), "no row exercises {missing:?}");
}

#[test]
fn spec_example_traceparent_fields() {
    let traceparent = TraceParent::parse(SPEC_TRACEPARENT).expect("the spec's example is valid");
    assert_eq!(traceparent.version(), 0);
    assert_eq!(traceparent.trace_id().to_string(), SPEC_TRACE_ID);
    assert_eq!(traceparent.parent_id().to_string(), SPEC_PARENT_ID);
    assert_eq!(traceparent.flags(), TraceFlags(0x01));
    assert!(traceparent.flags().sampled());
    assert_eq!(traceparent.to_header_value(), SPEC_TRACEPARENT);

    let not_sampled =
        TraceParent::parse(SPEC_TRACEPARENT_NOT_SAMPLED).expect("the spec's example is valid");
    assert!(!not_sampled.flags().sampled());
    assert_eq!(not_sampled.to_string(), SPEC_TRACEPARENT_NOT_SAMPLED);

    let report = traceparent::diagnose(SPEC_TRACEPARENT);
    let fields: Vec<(FieldName, usize, usize, &str)> = report
        .fields
        .iter()
        .map(|f| (f.name, f.start, f.end, f.raw.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![
            (FieldName::Version, 0, 2, "00"),
            (FieldName::TraceId, 3, 35, SPEC_TRACE_ID),
            (FieldName::ParentId, 36, 52, SPEC_PARENT_ID),
            (FieldName::TraceFlags, 53, 55, "01"),
        ]
    );
}

#[test]
fn a_future_version_is_read_by_the_00_layout_and_sent_as_00() {
    let value = format!("cc-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-01-what-the-future-will-be-like");
    let traceparent = TraceParent::parse(&value).expect("a future version is valid");
    assert_eq!(traceparent.version(), 0xcc);
    assert_eq!(
        traceparent.to_string(),
        format!("00-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-01")
    );
    let report = traceparent::diagnose(&value);
    let rest = report
        .field(FieldName::Rest)
        .expect("the future fields are listed");
    assert_eq!(
        &value[rest.start..rest.end],
        "-what-the-future-will-be-like"
    );
}

#[test]
fn spec_mutation_sequence_with_insert() {
    // §3.5's example: congo starts the trace, rojo adds itself to the front,
    // then congo updates its entry, which moves back to the front.
    let mut state = TraceState::parse("congo=t61rcWkgMzE").expect("valid");
    assert_eq!(state.insert("rojo", "00f067aa0ba902b7"), Ok(None));
    assert_eq!(state.to_string(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    assert_eq!(state.insert("congo", "ucfJifl5GOE"), Ok(None));
    assert_eq!(state.to_string(), "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
    assert_eq!(state.len(), 2);
    assert_eq!(state.get("congo"), Some("ucfJifl5GOE"));
    assert_eq!(state.get("rojo"), Some("00f067aa0ba902b7"));
}

#[test]
fn insert_checks_the_key_and_value_grammar() {
    // (key, value, expected rule, reason)
    let rows: &[(&str, &str, Option<&str>, &str)] = &[
        ("rojo", "00f067aa0ba902b7", None, "the spec's entry"),
        ("0k", "v", None, "a key may start with a digit"),
        ("tenant@system", "v", None, "'@' is a key character"),
        ("k", " v", None, "a value may start with a space"),
        ("k", "a b", None, "a value may hold a space"),
        ("", "v", Some("tracestate.key.empty"), "an empty key"),
        (
            "Rojo",
            "v",
            Some("tracestate.key.first-char"),
            "an uppercase first character",
        ),
        (
            "a=b",
            "v",
            Some("tracestate.key.char"),
            "'=' in a key would split the member elsewhere",
        ),
        (
            "a,b",
            "v",
            Some("tracestate.key.char"),
            "',' in a key would split the list",
        ),
        ("k", "", Some("tracestate.value.empty"), "an empty value"),
        (
            "k",
            "a,b=c",
            Some("tracestate.value.char"),
            "',' in a value would smuggle in another member",
        ),
        ("k", "a=b", Some("tracestate.value.char"), "'=' in a value"),
        (
            "k",
            "a\tb",
            Some("tracestate.value.char"),
            "a tab in a value",
        ),
        ("k", "é", Some("tracestate.value.char"), "a non-ASCII value"),
        // value = 0*255(chr) nblk-chr: the last character is never a space (§3.3.1.3.2).
        (
            "k",
            "v ",
            Some("tracestate.value.char"),
            "a value ending with a space breaks nblk-chr",
        ),
        (
            "k",
            " ",
            Some("tracestate.value.char"),
            "a value of one space breaks nblk-chr",
        ),
    ];
    let mut failures = Vec::new();
    for &(key, value, expected, reason) in rows {
        let mut state = TraceState::parse("congo=t61rcWkgMzE").expect("valid");
        let result = state.insert(key, value).map_err(|e| e.rule.name());
        let got = result.err();
        if got != expected {
            failures.push(format!(
                "insert({key:?}, {value:?}): expected {expected:?}, got {got:?} ({reason})"
            ));
            continue;
        }
        // Whatever insert accepts must be a header that parses back to the same state.
        if expected.is_none() {
            let reparsed = TraceState::parse(state.header_value());
            if reparsed.as_ref() != Ok(&state) {
                failures.push(format!(
                    "insert({key:?}, {value:?}) wrote {:?}, which parses as {reparsed:?} ({reason})",
                    state.header_value()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (entries, the rule of the expected error, reason)
type FromEntriesRow = (
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
    &'static str,
);

#[test]
fn from_entries_checks_each_entry_on_its_own() {
    let rows: &[FromEntriesRow] = &[
        (&[("rojo", "1"), ("congo", "2")], None, "two valid entries"),
        (&[], None, "no entries"),
        (
            &[("rojo", "1"), ("rojo", "2")],
            Some("tracestate.duplicate-key"),
            "a duplicate key",
        ),
        (
            &[("a", "1,b=2")],
            Some("tracestate.value.char"),
            "',' in a value must not become a second entry",
        ),
        (
            &[("a", "1 ")],
            Some("tracestate.value.char"),
            "a trailing space must not be silently trimmed away",
        ),
        (
            &[("a,b", "1")],
            Some("tracestate.key.char"),
            "',' in a key must not split the member",
        ),
    ];
    let mut failures = Vec::new();
    for &(entries, expected, reason) in rows {
        let result = TraceState::from_entries(entries.iter().copied());
        let got = result.as_ref().err().map(|e| e.rule.name());
        if got != expected {
            failures.push(format!(
                "from_entries({entries:?}): expected {expected:?}, got {result:?} ({reason})"
            ));
        } else if let Ok(state) = &result {
            let kept: Vec<(&str, &str)> = state.entries().collect();
            if kept != entries {
                failures.push(format!(
                    "from_entries({entries:?}) kept {kept:?} ({reason})"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn several_tracestate_lines_combine_in_order() {
    let lines = ["foo=1,bar=2", "rojo=1,congo=2", "baz=3"];
    let state = TraceState::parse_lines(&lines).expect("W3C suite: different keys combine");
    assert_eq!(state.to_string(), "foo=1,bar=2,rojo=1,congo=2,baz=3");
    assert_eq!(
        tracestate::combine_lines(&lines),
        "foo=1,bar=2,rojo=1,congo=2,baz=3"
    );
    let duplicate = TraceState::parse_lines(&["foo=1", "foo=2"]).map_err(|e| e.rule);
    assert_eq!(
        duplicate,
        Err(Rule::TraceStateDuplicateKey),
        "W3C suite: duplicate across lines"
    );
}

// ---------------------------------------------------------------------------
// find_headers and decode

const DEFAULT_TRACEPARENT_LINE: &str =
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct FindCase {
    text: String,
    headers: Vec<(HeaderName, &'static str, Source)>,
    reason: &'static str,
}

fn find_cases() -> Vec<FindCase> {
    use HeaderName::{TraceParent as Tp, TraceState as Ts};
    let tp = SPEC_TRACEPARENT;
    let find = |text: String, headers: Vec<(HeaderName, &'static str, Source)>, reason| FindCase {
        text,
        headers,
        reason,
    };
    vec![
        find(tp.to_owned(), vec![(Tp, tp, Source::Bare)], "a bare value is a traceparent"),
        find(format!("  {tp} \r\n\n"), vec![(Tp, tp, Source::Bare)], "a bare value with whitespace and blank lines"),
        find("rojo=1".to_owned(), vec![(Tp, "rojo=1", Source::Bare)], "any single line without a header name is taken as a bare traceparent"),
        find(format!("traceparent: {tp}"), vec![(Tp, tp, Source::HeaderLine)], "a header line"),
        find(format!("traceparent:{tp}"), vec![(Tp, tp, Source::HeaderLine)], "a header line without a space after the colon"),
        find(format!("traceparent: \t {tp} \t"), vec![(Tp, tp, Source::HeaderLine)], "W3C suite OWS case: OWS around the value is not part of it"),
        find(format!("TraceParent: {tp}\nTrAcEsTaTe: foo=1"), vec![(Tp, tp, Source::HeaderLine), (Ts, "foo=1", Source::HeaderLine)], "W3C suite: header names in mixed case"),
        find(format!("TRACEPARENT: {tp}\nTRACESTATE: foo=1"), vec![(Tp, tp, Source::HeaderLine), (Ts, "foo=1", Source::HeaderLine)], "W3C suite: header names in uppercase"),
        find(
            format!("GET /bands/1 HTTP/1.1\r\nHost: localhost:8080\r\ntraceparent: {tp}\r\ntracestate: rojo=00f067aa0ba902b7\r\ntracestate: congo=t61rcWkgMzE\r\nAccept: */*\r\n\r\n"),
            vec![(Tp, tp, Source::HeaderLine), (Ts, "rojo=00f067aa0ba902b7", Source::HeaderLine), (Ts, "congo=t61rcWkgMzE", Source::HeaderLine)],
            "a block of request headers with CRLF line ends and two tracestate lines",
        ),
        find(
            format!("*   Trying 127.0.0.1:8080...\n* Connected to localhost\n> GET /bands/1 HTTP/1.1\n> Host: localhost:8080\n> traceparent: {tp}\n> tracestate: rojo=1\n>\n< HTTP/1.1 200 OK\n< traceparent: 00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-00\n<\n"),
            vec![(Tp, tp, Source::CurlRequest), (Ts, "rojo=1", Source::CurlRequest)],
            "curl -v output: request headers ('>') are read, response headers ('<') and info lines ('*') are not",
        ),
        find(
            format!("2024-05-01T10:00:00Z INFO request done traceparent={tp} tracestate=rojo=1,congo=2 status=200"),
            vec![(Tp, tp, Source::LogField), (Ts, "rojo=1,congo=2", Source::LogField)],
            "a log line with name=value fields",
        ),
        find(
            format!("level=info msg=\"done\" traceparent=\"{tp}\" tracestate=\"rojo=1, congo=2\""),
            vec![(Tp, tp, Source::LogField), (Ts, "rojo=1, congo=2", Source::LogField)],
            "a logfmt line with quoted values: the quotes keep the tracestate's OWS",
        ),
        find(
            format!("{{\n  \"traceparent\": \"{tp}\",\n  \"tracestate\": \"rojo=1\"\n}}"),
            vec![(Tp, tp, Source::Json), (Ts, "rojo=1", Source::Json)],
            "a pretty-printed JSON object",
        ),
        find(
            format!("{{\"headers\":{{\"traceparent\":\"{tp}\",\"tracestate\":\"congo=t61rcWkgMzE\"}}}}"),
            vec![(Tp, tp, Source::Json), (Ts, "congo=t61rcWkgMzE", Source::Json)],
            "compact JSON on one line",
        ),
        find(
            format!("trace-parent: {tp}\ntrace.state: foo=1"),
            vec![],
            "W3C suite: wrong header names are not trace context",
        ),
        find(
            format!("x-traceparent: {tp}\nmytracestate=foo=1"),
            vec![],
            "names inside longer names are not the headers",
        ),
        find(String::new(), vec![], "empty text"),
        find(" \n\t\r\n".to_owned(), vec![], "blank lines only"),
    ]
}

#[test]
fn find_headers_table() {
    for case in find_cases() {
        let found = find_headers(&case.text);
        let got: Vec<(HeaderName, &str, Source)> = found
            .headers
            .iter()
            .map(|h| (h.name, h.value.as_str(), h.source))
            .collect();
        assert_eq!(
            got, case.headers,
            "row '{}' (text {:?})",
            case.reason, case.text
        );
        for header in &found.headers {
            assert_eq!(
                &case.text[header.start..header.end],
                header.value,
                "row '{}': the range points at the value",
                case.reason
            );
            let line = case.text[..header.start].matches('\n').count() + 1;
            assert_eq!(header.line, line, "row '{}': line number", case.reason);
        }
    }
}

/// What `decode` must conclude from one pasted text.
struct DecodeCase {
    text: String,
    action: Action,
    /// For a continued trace: the trace-id kept.
    kept_trace_id: Option<&'static str>,
    /// The tracestate sent on.
    tracestate_sent: Option<String>,
    /// The rule of the tracestate dropped although the trace continues.
    tracestate_dropped: Option<&'static str>,
    reason: &'static str,
}

fn decode_cases() -> Vec<DecodeCase> {
    let suite = format!("traceparent: 00-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-00");
    let row = |text: String,
               action: Action,
               kept_trace_id: Option<&'static str>,
               tracestate_sent: Option<&str>,
               tracestate_dropped: Option<&'static str>,
               reason: &'static str| DecodeCase {
        text,
        action,
        kept_trace_id,
        tracestate_sent: tracestate_sent.map(str::to_owned),
        tracestate_dropped,
        reason,
    };
    let bar_lines = |count: usize| -> String {
        members(count)
            .chunks(10)
            .map(|chunk| format!("tracestate: {}", chunk.join(",")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let keep = Some(SUITE_TRACE_ID);
    vec![
        row(String::new(), Action::Restart, None, None, None, "W3C suite: no trace context at all starts a new trace"),
        row(suite.clone(), Action::Continue, keep, None, None, "W3C suite: a valid traceparent without tracestate"),
        row("tracestate: foo=1".to_owned(), Action::Restart, None, None, None, "W3C suite: a tracestate without traceparent is discarded"),
        row(format!("{suite}\ntracestate: foo=1,bar=2"), Action::Continue, keep, Some("foo=1,bar=2"), None, "W3C suite: the tracestate is inherited"),
        row(format!("{suite}\ntrace-state: foo=1"), Action::Continue, keep, None, None, "W3C suite: a tracestate under a wrong name is ignored"),
        row(format!("{suite}\nTrAcEsTaTe: foo=1"), Action::Continue, keep, Some("foo=1"), None, "W3C suite: tracestate name in mixed case"),
        row(format!("{suite}\ntracestate:"), Action::Continue, keep, None, None, "W3C suite: an empty tracestate is not sent on"),
        row(format!("{suite}\ntracestate: foo=1\ntracestate:"), Action::Continue, keep, Some("foo=1"), None, "W3C suite: an empty second tracestate line"),
        row(format!("{suite}\ntracestate:\ntracestate: foo=1"), Action::Continue, keep, Some("foo=1"), None, "W3C suite: an empty first tracestate line"),
        row(
            format!("{suite}\ntracestate: foo=1,bar=2\ntracestate: rojo=1,congo=2\ntracestate: baz=3"),
            Action::Continue, keep, Some("foo=1,bar=2,rojo=1,congo=2,baz=3"), None,
            "W3C suite: several tracestate lines combine in order",
        ),
        row(format!("{suite}\ntracestate: foo=1,foo=1"), Action::Continue, keep, Some("foo=1"), None, "W3C suite (test_tracestate_duplicated_keys): a repeated key is dropped, the first kept"),
        row(format!("{suite}\ntracestate: foo=1\ntracestate: foo=2"), Action::Continue, keep, Some("foo=1"), None, "W3C suite: a key repeated across lines; the first is kept"),
        row(format!("{suite}\ntracestate: foo=1,bar=2,foo=3,Baz=4"), Action::Continue, keep, None, Some("tracestate.key.first-char"), "a repeat and another error: the other error drops the whole value"),
        row(format!("{suite}\n{}", bar_lines(32)), Action::Continue, keep, Some(&members(32).join(",")), None, "W3C suite: 32 members over four lines"),
        row(format!("{suite}\n{}", bar_lines(33)), Action::Continue, keep, None, Some("tracestate.too-many-members"), "W3C suite: 33 members over four lines"),
        row(format!("{suite}\ntracestate: foo=1\ntracestate: {}=1", "z".repeat(256)), Action::Continue, keep, Some(&format!("foo=1,{}=1", "z".repeat(256))), None, "W3C suite: a 256-character key on a second line"),
        row(format!("{suite}\ntracestate: foo=1\ntracestate: {}=1", "z".repeat(257)), Action::Continue, keep, None, Some("tracestate.key.length"), "W3C suite: a 257-character key on a second line"),
        row(format!("{suite}\ntracestate: foo=bar=baz"), Action::Continue, keep, None, Some("tracestate.value.char"), "W3C suite: '=' in a value"),
        row(format!("{suite}\ntracestate: foo=,bar=3"), Action::Continue, keep, None, Some("tracestate.value.empty"), "W3C suite: an empty value"),
        row(format!("trace-parent: 00-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-01"), Action::Restart, None, None, None, "W3C suite: a wrong name is another header (a near-miss: did you mean traceparent?), so there is no traceparent and the trace restarts"),
        row(format!("traceparent: 00-{ALL_ZERO_TRACE_ID}-{SUITE_PARENT_ID}-01\ntracestate: foo=1"), Action::Restart, None, None, None, "W3C suite: an invalid traceparent restarts and drops the tracestate"),
        row(format!("traceparent: cc-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-01-what-the-future-will-be-like"), Action::Continue, keep, None, None, "W3C suite: a future version continues the trace"),
        row(format!("traceparent: 00-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-01-what-the-future-will-be-like"), Action::Restart, None, None, None, "W3C suite: version 00 with trailing data restarts"),
    ]
}

#[test]
fn decode_table() {
    for case in decode_cases() {
        let context = format!("row '{}' (text {:?})", case.reason, case.text);
        let decoded = decode(&case.text, &mut FixedIds);
        let decision = &decoded.decision;
        assert_eq!(decision.action, case.action, "{context}");
        match case.kept_trace_id {
            Some(trace_id) => {
                assert_eq!(
                    decision.traceparent.trace_id().to_string(),
                    trace_id,
                    "{context}"
                );
                assert_eq!(
                    decision.traceparent.parent_id(),
                    RECEIVER_SPAN_ID,
                    "{context}"
                );
            }
            None => assert_eq!(
                decision.traceparent.trace_id(),
                RECEIVER_TRACE_ID,
                "{context}"
            ),
        }
        assert_eq!(
            decision.tracestate.as_ref().map(|t| t.to_string()),
            case.tracestate_sent,
            "{context}: tracestate sent on"
        );
        assert_eq!(
            decision.tracestate_dropped.as_ref().map(|v| v.rule.name()),
            case.tracestate_dropped,
            "{context}: tracestate dropped"
        );
        // `all_valid` judges the headers found, not the decision: a lone
        // valid tracestate is valid although the trace restarts.
        let every_header_valid = decoded.traceparent.as_ref().is_none_or(|r| r.is_valid())
            && decoded.tracestate.as_ref().is_none_or(|r| r.is_valid());
        let found_any = !decoded.found.headers.is_empty();
        assert_eq!(
            decoded.all_valid(),
            found_any && every_header_valid,
            "{context}: all_valid"
        );
        if case.action == Action::Continue
            && case.tracestate_dropped.is_none()
            && decision.tracestate_members_dropped.is_empty()
        {
            assert!(
                decoded.all_valid(),
                "{context}: a continued trace with nothing dropped"
            );
        }
        assert_decoded_is_small_and_sensible(&case.text, &decoded, &context);
    }
}

#[test]
fn decode_reports_a_duplicate_traceparent() {
    // The W3C suite's two traceparent headers, with different trace-ids.
    let text = "traceparent: 00-12345678901234567890123456789011-1234567890123456-01\n\
                traceparent: 00-12345678901234567890123456789012-1234567890123456-01";
    let decoded = decode(text, &mut FixedIds);
    let report = decoded
        .traceparent
        .as_ref()
        .expect("a traceparent was found");
    assert_eq!(
        rule_names(&report.violations),
        BTreeSet::from(["traceparent.duplicate"]),
        "W3C suite: two traceparent headers, each valid on its own"
    );
    assert!(!report.is_valid());
    assert!(report.violations[0].message.contains("lines 1, 2"));
    assert_eq!(
        decoded.decision.restart_reason,
        Some(RestartReason::Duplicate(2))
    );
    assert_eq!(decoded.decision.traceparent.trace_id(), RECEIVER_TRACE_ID);
    assert!(!decoded.all_valid());
}

// ---------------------------------------------------------------------------
// Never panics, and stays small, whatever is pasted.

const ONE_MEGABYTE: usize = 1 << 20;

/// A deterministic xorshift generator: the same "random" text on every run.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// About `len` bytes of text that looks a little like headers, logs and JSON:
/// header names, separators, hex, emoji, NULs and newlines.
fn random_ish_text(seed: u64, len: usize) -> String {
    const PIECES: &[&str] = &[
        "traceparent",
        "tracestate",
        "TraceParent",
        ": ",
        "=",
        ",",
        "-",
        " ",
        "\t",
        "\n",
        "\r\n",
        "\"",
        "'",
        "{",
        "}",
        "[",
        "> ",
        "< ",
        "* ",
        "é",
        "🙂",
        "\u{0}",
        "00",
        "ff",
        "cc",
        "4bf92f3577b34da6",
        "a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        "01",
        "rojo",
        "congo",
        "k=v",
        "@",
        "Z",
        "  ",
    ];
    let mut rng = Xorshift(seed);
    let mut text = String::with_capacity(len + 16);
    while text.len() < len {
        if rng.below(3) == 0 {
            text.push_str(PIECES[rng.below(PIECES.len())]);
        } else {
            text.push(char::from(b' ' + rng.below(95) as u8));
        }
    }
    text
}

fn assert_decoded_is_small_and_sensible(text: &str, decoded: &Decoded, context: &str) {
    let found = &decoded.found;
    assert!(
        found.ignored.len() <= 100,
        "{context}: ignored lines capped"
    );
    for header in &found.headers {
        assert!(
            header.start <= header.end
                && header.end <= text.len()
                && text.is_char_boundary(header.start)
                && text.is_char_boundary(header.end),
            "{context}: header range {}..{}",
            header.start,
            header.end
        );
        assert_eq!(&text[header.start..header.end], header.value, "{context}");
    }
    for line in &found.ignored {
        assert!(
            text.is_char_boundary(line.start) && text.is_char_boundary(line.end),
            "{context}: ignored line range"
        );
    }
    if let Some(report) = &decoded.traceparent {
        let value = &found
            .traceparent()
            .next()
            .expect("a report means a traceparent was found")
            .value;
        assert!(
            report.violations.len() <= 200,
            "{context}: traceparent violations capped"
        );
        assert_ranges_on_char_boundaries(value, &report.violations, context);
        assert_eq!(
            report.is_valid(),
            report.errors().next().is_none(),
            "{context}"
        );
    }
    match (&decoded.tracestate, &decoded.tracestate_value) {
        (Some(report), Some(value)) => {
            assert_tracestate_report_is_small(value, report, context);
        }
        (None, None) => {}
        _ => panic!("{context}: a tracestate report comes with its value"),
    }
    // Whatever came in, what goes out is a valid version 00 traceparent.
    let sent = decoded.decision.traceparent.to_string();
    assert_eq!(
        TraceParent::parse(&sent),
        Ok(decoded.decision.traceparent),
        "{context}"
    );
    assert!(sent.starts_with("00-"), "{context}");
}

fn assert_tracestate_report_is_small(value: &str, report: &TraceStateReport, context: &str) {
    assert!(
        report.violations.len() <= 200,
        "{context}: tracestate violations capped"
    );
    assert!(
        report.entries.len() <= TraceStateReport::MAX_ENTRIES,
        "{context}: entries capped"
    );
    assert_ranges_on_char_boundaries(value, &report.violations, context);
    assert_eq!(
        report.is_valid(),
        report.errors().next().is_none(),
        "{context}"
    );
}

#[test]
fn decode_never_panics_on_an_empty_string() {
    let decoded = decode("", &mut FixedIds);
    assert!(decoded.found.headers.is_empty());
    assert!(decoded.found.ignored.is_empty());
    assert_eq!(decoded.traceparent, None);
    assert_eq!(decoded.tracestate, None);
    assert_eq!(
        decoded.decision.restart_reason,
        Some(RestartReason::Missing)
    );
    assert!(!decoded.all_valid());
}

#[test]
fn decode_never_panics_on_a_megabyte_of_random_ish_text() {
    for seed in [0x9e37_79b9_7f4a_7c15, 0x0123_4567_89ab_cdef] {
        let text = random_ish_text(seed, ONE_MEGABYTE);
        let context = format!("random-ish text, seed {seed:#x}");
        let decoded = decode(&text, &mut FixedIds);
        assert!(
            decoded.found.headers.len() > 1,
            "{context}: the text names headers, so some are found"
        );
        assert_decoded_is_small_and_sensible(&text, &decoded, &context);
    }
}

#[test]
fn decode_never_panics_on_a_megabyte_of_tracestate() {
    let value = "a=b,".repeat(ONE_MEGABYTE / 4);
    let text = format!("tracestate: {value}");
    let decoded = decode(&text, &mut FixedIds);
    let context = "1 MB of 'a=b,' as a tracestate";
    assert_decoded_is_small_and_sensible(&text, &decoded, context);
    let report = decoded.tracestate.as_ref().expect("a tracestate was found");
    assert!(!report.is_valid());
    assert_eq!(
        rule_names(&report.violations),
        BTreeSet::from(["tracestate.duplicate-key"]),
        "{context}: the cap of 200 is reached by duplicates before the list rules are reported"
    );
    assert!(report.omitted > 0, "{context}: the rest are counted");
    assert_eq!(report.entries.len(), TraceStateReport::MAX_ENTRIES);
    assert_eq!(
        report.entries.len() + report.entries_omitted,
        ONE_MEGABYTE / 4,
        "{context}: every member is counted"
    );
    assert_eq!(
        decoded.decision.restart_reason,
        Some(RestartReason::Missing)
    );

    // Without a header name, the single line is a bare traceparent.
    let decoded = decode(&value, &mut FixedIds);
    assert_decoded_is_small_and_sensible(&value, &decoded, "1 MB of 'a=b,' bare");
    assert!(decoded.traceparent.is_some_and(|r| !r.is_valid()));
}

#[test]
fn decode_never_panics_on_a_megabyte_of_distinct_tracestate_members() {
    let members: Vec<String> = (0..ONE_MEGABYTE / 8).map(|i| format!("k{i}=v")).collect();
    let text = format!("tracestate: {}", members.join(","));
    let context = "a megabyte of distinct members";
    let decoded = decode(&text, &mut FixedIds);
    assert_decoded_is_small_and_sensible(&text, &decoded, context);
    let report = decoded.tracestate.as_ref().expect("a tracestate was found");
    assert_eq!(
        rule_names(&report.violations),
        BTreeSet::from(["tracestate.too-many-members", "tracestate.over-512"]),
        "{context}"
    );
    assert_eq!(
        report.violations.len(),
        2,
        "{context}: one finding per list rule"
    );
}

#[test]
fn decode_never_panics_on_a_megabyte_traceparent() {
    let context = "a megabyte traceparent";
    let value = format!("00-{}-{SPEC_PARENT_ID}-01", "a".repeat(ONE_MEGABYTE));
    let decoded = decode(&format!("traceparent: {value}"), &mut FixedIds);
    let report = decoded.traceparent.as_ref().expect("found");
    assert_eq!(
        rule_names(&report.violations),
        BTreeSet::from(["trace-id.length"]),
        "{context}"
    );
    assert!(
        report.violations[0].message.len() < 200,
        "{context}: a short message"
    );

    let junk = "z".repeat(ONE_MEGABYTE);
    let decoded = decode(&junk, &mut FixedIds);
    assert_decoded_is_small_and_sensible(&junk, &decoded, "a megabyte of 'z'");
    let report = decoded.traceparent.as_ref().expect("a bare value");
    assert_eq!(
        rule_names(&report.violations),
        BTreeSet::from(["version.length", "version.hex", "traceparent.missing-field"])
    );
    assert_eq!(report.violations.len(), 3, "one summary finding per rule");
    for violation in &report.violations {
        assert!(
            violation.message.len() < 400,
            "a short message: {violation}"
        );
    }

    let dashes = format!("00-{}", "-".repeat(ONE_MEGABYTE));
    let decoded = decode(&dashes, &mut FixedIds);
    assert_decoded_is_small_and_sensible(&dashes, &decoded, "a megabyte of dashes");
}

#[test]
fn decode_never_panics_on_binary_junk_with_nuls() {
    let bytes: Vec<u8> = (0..ONE_MEGABYTE / 4).map(|i| (i * 7 % 256) as u8).collect();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert!(text.contains('\0') && text.contains('\u{fffd}'));
    let decoded = decode(&text, &mut FixedIds);
    assert_decoded_is_small_and_sensible(&text, &decoded, "binary junk");

    let nuls = format!(
        "traceparent: {}\ntracestate: {}",
        "\0".repeat(1000),
        "\0=\0,".repeat(1000)
    );
    let decoded = decode(&nuls, &mut FixedIds);
    assert_decoded_is_small_and_sensible(&nuls, &decoded, "NULs as header values");
    assert!(!decoded.all_valid());
}

#[test]
fn decode_never_panics_on_emoji() {
    let emoji = "🙂".repeat(ONE_MEGABYTE / 4);
    let decoded = decode(&emoji, &mut FixedIds);
    assert_decoded_is_small_and_sensible(&emoji, &decoded, "a megabyte of emoji");
    let report = decoded.traceparent.as_ref().expect("a bare value");
    assert!(!report.is_valid());

    let mixed = format!(
        "traceparent: 🙂-{SPEC_TRACE_ID}-🙂🙂-0🙂\ntracestate: 🙂=🙂,k🙂=v,{}=x",
        "é".repeat(300)
    );
    let decoded = decode(&mixed, &mut FixedIds);
    assert_decoded_is_small_and_sensible(&mixed, &decoded, "emoji inside fields");
    let traceparent = decoded.traceparent.as_ref().expect("found");
    assert_eq!(
        rule_names(&traceparent.violations),
        BTreeSet::from([
            "version.length",
            "version.hex",
            "parent-id.length",
            "parent-id.hex",
            "trace-flags.length",
            "trace-flags.hex",
        ])
    );
    let tracestate = decoded.tracestate.as_ref().expect("found");
    assert_eq!(
        rule_names(&tracestate.violations),
        BTreeSet::from([
            "tracestate.key.first-char",
            "tracestate.key.char",
            "tracestate.key.length",
            "tracestate.value.char",
            "tracestate.over-512",
        ])
    );
}

// ---------------------------------------------------------------------------
// Report size and wording.

#[test]
fn the_truncation_list_of_a_huge_tracestate_stays_small() {
    // A report lists at most 256 entries and 200 violations so that pasted
    // junk yields a readable report; the positions to drop when truncating
    // must be bounded as well (they are positions of entries, most of which
    // the report does not list).
    let report = tracestate::diagnose(&"a=b,".repeat(ONE_MEGABYTE / 4));
    assert!(
        report.truncation.len() <= TraceStateReport::MAX_ENTRIES,
        "the truncation list holds {} positions",
        report.truncation.len()
    );
}

#[test]
fn a_report_of_many_duplicate_traceparents_stays_small() {
    // A megabyte of repeated traceparent lines: one duplicate finding whose
    // message must not list every one of ~15 000 line numbers.
    let text = format!("{DEFAULT_TRACEPARENT_LINE}\n").repeat(ONE_MEGABYTE / 70);
    let decoded = decode(&text, &mut FixedIds);
    assert_decoded_is_small_and_sensible(&text, &decoded, "many traceparent lines");
    let report = decoded.traceparent.as_ref().expect("found");
    let duplicate = &report.violations[0];
    assert_eq!(duplicate.rule, Rule::TraceParentDuplicate);
    assert!(
        duplicate.message.len() <= 1000,
        "the duplicate message is {} bytes long",
        duplicate.message.len()
    );
}

#[test]
fn length_messages_count_what_they_compare() {
    // The length rules compare bytes; a message saying "has 2 characters; it
    // needs 2" contradicts itself for a field holding a two-byte character.
    let rows = [
        traceparent_of("é0", SPEC_TRACE_ID, SPEC_PARENT_ID, "01"),
        spec_with_flags("0é"),
        traceparent_of("00", SPEC_TRACE_ID, "00f067aa0ba9ü2b7", "01"),
    ];
    for value in &rows {
        let report = traceparent::diagnose(value);
        for violation in &report.violations {
            for needed in ["2", "16", "32"] {
                let contradiction = format!("has {needed} characters; it needs {needed}");
                assert!(
                    !violation.message.contains(&contradiction),
                    "{value:?}: {violation}"
                );
            }
        }
    }
}

#[test]
fn duplicate_key_messages_name_the_first_occurrence() {
    // Up to 32 keys the message names the first member with the key; past
    // that, a map takes over and must say the same.
    let report = tracestate::diagnose(&vec!["a=1"; 40].join(","));
    let duplicates: Vec<&Violation> = report
        .violations
        .iter()
        .filter(|v| v.rule == Rule::TraceStateDuplicateKey)
        .collect();
    assert_eq!(duplicates.len(), 39);
    for violation in duplicates {
        assert!(
            violation.message.contains("already appears as member 1 "),
            "{violation}"
        );
    }
}
