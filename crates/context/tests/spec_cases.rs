//! Table-driven cases for W3C Trace Context: the spec's own examples, the
//! cases of the W3C test suite (`w3c/trace-context`, `test/test.py`), and
//! edge cases of our own. Every row names its input, every rule it must
//! report (by the stable rule names of `rule.rs`, errors and warnings alike),
//! and why.
//!
//! For every row of the traceparent and tracestate tables the check is the
//! same: the diagnose report carries exactly the expected set of rule names,
//! its validity follows from them, the fast parser agrees with the report's
//! first error (rule and byte range), every byte range is within the
//! value and on character boundaries, and `receive` makes the decision the
//! spec's processing model asks for.

mod common;

use common::{FixedIds, RECEIVER_SPAN_ID, RECEIVER_TRACE_ID, SPEC_TRACEPARENT};
use std::collections::BTreeSet;
use tracelab_context::traceparent::{self, FieldName};
use tracelab_context::tracestate::{self, MAX_MEMBERS};
use tracelab_context::{
    decode, find_headers, receive, Action, Decoded, HeaderName, Incoming, RestartReason, Rule,
    Severity, Source, TraceFlags, TraceParent, TraceState, TraceStateReport, Violation,
};

/// The spec's example traceparent (§3.2.2.6 and throughout).
const SPEC_TRACEPARENT_NOT_SAMPLED: &str =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
const SPEC_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPEC_PARENT_ID: &str = "00f067aa0ba902b7";
/// The ids the W3C test suite sends.
const SUITE_TRACE_ID: &str = "12345678901234567890123456789012";
const SUITE_PARENT_ID: &str = "1234567890123456";
const ALL_ZERO_TRACE_ID: &str = "00000000000000000000000000000000";
const ALL_ZERO_PARENT_ID: &str = "0000000000000000";

/// One row: the header value, every rule it must report, and why.
struct Case {
    input: String,
    rules: &'static [&'static str],
    reason: &'static str,
}

fn case(input: impl Into<String>, rules: &'static [&'static str], reason: &'static str) -> Case {
    Case {
        input: input.into(),
        rules,
        reason,
    }
}

fn traceparent_of(version: &str, trace_id: &str, parent_id: &str, flags: &str) -> String {
    format!("{version}-{trace_id}-{parent_id}-{flags}")
}

/// A version 00 traceparent with the spec's ids and the given flags.
fn spec_with_flags(flags: &str) -> String {
    traceparent_of("00", SPEC_TRACE_ID, SPEC_PARENT_ID, flags)
}

/// `count` distinct members `bar01=01,bar02=02,…`, as the W3C suite writes them.
fn members(count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("bar{i:02}={i:02}")).collect()
}

fn traceparent_cases() -> Vec<Case> {
    let t = SPEC_TRACE_ID;
    let p = SPEC_PARENT_ID;
    vec![
        // The spec's own examples and the W3C suite's valid values.
        case(SPEC_TRACEPARENT, &[], "the spec's example: version 00, sampled"),
        case(SPEC_TRACEPARENT_NOT_SAMPLED, &[], "the spec's example with flags 00: not sampled, still valid"),
        case(traceparent_of("00", SUITE_TRACE_ID, SUITE_PARENT_ID, "01"), &[], "the W3C suite's valid traceparent"),
        case(spec_with_flags("02"), &[], "flags 02: the Level 2 random bit alone"),
        case(spec_with_flags("03"), &[], "flags 03: sampled and random, both defined bits"),
        // Empty and whitespace.
        case("", &["traceparent.empty"], "an empty header value cannot be parsed"),
        case("   ", &["traceparent.empty"], "spaces only are an empty value once HTTP strips OWS"),
        case("\t \t", &["traceparent.empty"], "tabs and spaces only are an empty value"),
        case(format!(" {SPEC_TRACEPARENT}"), &["traceparent.surrounding-whitespace"], "W3C suite OWS case: a leading space is stripped; valid with a warning"),
        case(format!("\t{SPEC_TRACEPARENT}"), &["traceparent.surrounding-whitespace"], "W3C suite OWS case: a leading tab is stripped"),
        case(format!("{SPEC_TRACEPARENT} "), &["traceparent.surrounding-whitespace"], "W3C suite OWS case: a trailing space is stripped"),
        case(format!("\t {SPEC_TRACEPARENT} \t"), &["traceparent.surrounding-whitespace"], "W3C suite OWS case: whitespace on both sides is stripped"),
        case(format!(" {}", spec_with_flags("0x")), &["traceparent.surrounding-whitespace", "trace-flags.hex"], "a warning before the first error: the fast parser must skip the warning"),
        // Version.
        case(traceparent_of("0", t, p, "01"), &["version.length"], "W3C suite: a version of one digit is too short"),
        case(traceparent_of("000", t, p, "01"), &["version.length"], "W3C suite: a version of three digits is too long"),
        case(traceparent_of("0000", t, p, "01"), &["version.length"], "W3C suite: a version of four digits is too long"),
        case(traceparent_of(".0", t, p, "01"), &["version.hex"], "W3C suite: '.' is not a hex digit (first position)"),
        case(traceparent_of("0.", t, p, "01"), &["version.hex"], "W3C suite: '.' is not a hex digit (second position)"),
        case(traceparent_of("0A", t, p, "01"), &["version.uppercase"], "the version is lowercase hex only"),
        case(traceparent_of("FF", t, p, "01"), &["version.uppercase"], "uppercase FF is an uppercase error first; it never decodes to the forbidden ff"),
        case(traceparent_of("ff", t, p, "01"), &["version.forbidden"], "W3C suite: version ff is forbidden"),
        case(format!("{}-extra", traceparent_of("ff", t, p, "01")), &["version.forbidden", "traceparent.length"], "version ff is not a future version, so trailing data is read by the 00 rules"),
        case(traceparent_of("é0", t, p, "01"), &["version.length", "version.hex"], "a two-byte 'é' makes the version three bytes, none of them hex; ranges stay on char boundaries"),
        // Future versions (§3.2.4).
        case(traceparent_of("cc", SUITE_TRACE_ID, SUITE_PARENT_ID, "01"), &[], "W3C suite: version cc is a future version, read by the 00 layout"),
        case(format!("{}-what-the-future-will-be-like", traceparent_of("cc", SUITE_TRACE_ID, SUITE_PARENT_ID, "01")), &[], "W3C suite: a future version may carry extra fields after a '-'"),
        case(format!("{}.what-the-future-will-be-like", traceparent_of("cc", SUITE_TRACE_ID, SUITE_PARENT_ID, "01")), &["traceparent.future-delimiter"], "W3C suite: in a future version the flags must be followed by '-' or the end"),
        case(format!("{}x", traceparent_of("cc", t, p, "01")), &["traceparent.future-delimiter"], "future version: 'x' right after the flags"),
        case(format!("{}🙂", traceparent_of("cc", t, p, "01")), &["traceparent.future-delimiter"], "future version: an emoji right after the flags; the range covers the whole emoji"),
        case(format!("{}-", traceparent_of("cc", t, p, "01")), &[], "future version: a lone '-' after the flags starts an empty future field"),
        case(traceparent_of("01", t, p, "01"), &[], "version 01 is a future version too"),
        case(traceparent_of("cc", t, p, "1"), &["trace-flags.length"], "future version: flags still need two digits"),
        case(traceparent_of("cc", ALL_ZERO_TRACE_ID, p, "01-future"), &["trace-id.all-zero"], "future version: the 00 layout's rules still apply to the ids"),
        // Version 00 with trailing data.
        case(format!("{SPEC_TRACEPARENT}-what-the-future-will-be-like"), &["traceparent.length"], "W3C suite: version 00 is exactly 55 characters"),
        case(format!("{SPEC_TRACEPARENT}-"), &["traceparent.length"], "version 00 with a trailing '-'"),
        case(format!("{SPEC_TRACEPARENT}."), &["trace-flags.length", "trace-flags.hex"], "W3C suite: '01.' is read as three-character flags in version 00"),
        // Trace-id.
        case(traceparent_of("00", ALL_ZERO_TRACE_ID, SUITE_PARENT_ID, "01"), &["trace-id.all-zero"], "W3C suite: an all-zero trace-id is invalid"),
        case(traceparent_of("00", ".2345678901234567890123456789012", SUITE_PARENT_ID, "01"), &["trace-id.hex"], "W3C suite: '.' at the start of the trace-id"),
        case(traceparent_of("00", "1234567890123456789012345678901.", SUITE_PARENT_ID, "01"), &["trace-id.hex"], "W3C suite: '.' at the end of the trace-id"),
        case(traceparent_of("00", "123456789012345678901234567890123", SUITE_PARENT_ID, "01"), &["trace-id.length"], "W3C suite: a trace-id of 33 digits"),
        case(traceparent_of("00", "1234567890123456789012345678901", SUITE_PARENT_ID, "01"), &["trace-id.length"], "W3C suite: a trace-id of 31 digits"),
        case(traceparent_of("00", "4BF92F3577B34DA6A3CE929D0E0E4736", p, "01"), &["trace-id.uppercase"], "the trace-id is lowercase hex only"),
        case(traceparent_of("00", "4bf92f3577b34da6a3ce929d0e0e473G", p, "01"), &["trace-id.hex"], "'G' is uppercase but not a hex digit: a hex error, not an uppercase one"),
        case(traceparent_of("00", "4bf92f3577b34da6a3ce929d0e0e47🙂", p, "01"), &["trace-id.length", "trace-id.hex"], "an emoji in the trace-id: 34 bytes, and 4 of them not hex; one range over the whole emoji"),
        case(traceparent_of("00", "4bf92f3577b34da6a3ce929d0e0e4736 ", p, "01"), &["trace-id.length", "trace-id.hex"], "a space inside the value is not OWS: it belongs to the trace-id"),
        case(traceparent_of("00", "", p, "01"), &["trace-id.length"], "an empty trace-id between two dashes"),
        case(traceparent_of("00", &"a".repeat(100), p, "01"), &["trace-id.length"], "a trace-id of 100 hex digits: too long, but hex"),
        case(traceparent_of("00", &"z".repeat(70), p, "01"), &["trace-id.length", "trace-id.hex"], "a 70-character non-hex trace-id: one summary finding per rule"),
        // Parent-id.
        case(traceparent_of("00", SUITE_TRACE_ID, ALL_ZERO_PARENT_ID, "01"), &["parent-id.all-zero"], "W3C suite: an all-zero parent-id is invalid"),
        case(traceparent_of("00", ALL_ZERO_TRACE_ID, ALL_ZERO_PARENT_ID, "01"), &["trace-id.all-zero", "parent-id.all-zero"], "both ids all zeros: both reported"),
        case(traceparent_of("00", SUITE_TRACE_ID, ".234567890123456", "01"), &["parent-id.hex"], "W3C suite: '.' at the start of the parent-id"),
        case(traceparent_of("00", SUITE_TRACE_ID, "123456789012345.", "01"), &["parent-id.hex"], "W3C suite: '.' at the end of the parent-id"),
        case(traceparent_of("00", SUITE_TRACE_ID, "12345678901234567", "01"), &["parent-id.length"], "W3C suite: a parent-id of 17 digits"),
        case(traceparent_of("00", SUITE_TRACE_ID, "123456789012345", "01"), &["parent-id.length"], "W3C suite: a parent-id of 15 digits"),
        case(traceparent_of("00", t, "00F067AA0BA902B7", "01"), &["parent-id.uppercase"], "the parent-id is lowercase hex only"),
        case(traceparent_of("00", t, "00f067aa0ba9ü2b7", "01"), &["parent-id.length", "parent-id.hex"], "a two-byte 'ü' inside the parent-id"),
        // Trace-flags.
        case(spec_with_flags(".0"), &["trace-flags.hex"], "W3C suite: '.' as the first flags digit"),
        case(spec_with_flags("0."), &["trace-flags.hex"], "W3C suite: '.' as the second flags digit"),
        case(spec_with_flags("001"), &["trace-flags.length"], "W3C suite: flags of three digits"),
        case(spec_with_flags("1"), &["trace-flags.length"], "W3C suite: flags of one digit"),
        case(spec_with_flags(""), &["trace-flags.length"], "empty flags after the last dash"),
        case(spec_with_flags("0A"), &["trace-flags.uppercase"], "flags are lowercase hex only"),
        case(spec_with_flags("ff"), &["trace-flags.unknown-bits"], "every bit set: valid, but bits 2-7 are undefined"),
        case(spec_with_flags("04"), &["trace-flags.unknown-bits"], "bit 2 alone is undefined: valid with a warning"),
        case(spec_with_flags("0é"), &["trace-flags.length", "trace-flags.hex"], "a two-byte 'é' in the flags"),
        case(format!("{SPEC_TRACEPARENT}\r"), &["trace-flags.length", "trace-flags.hex"], "a carriage return is not OWS: it lands in the flags"),
        case(format!("{SPEC_TRACEPARENT}\0"), &["trace-flags.length", "trace-flags.hex"], "a NUL after the flags"),
        // Missing fields and wrong delimiters.
        case(format!("00-{t}-{p}"), &["traceparent.missing-field"], "the flags are missing"),
        case(format!("00-{t}"), &["traceparent.missing-field"], "the parent-id and flags are missing"),
        case("00", &["traceparent.missing-field"], "only a version"),
        case(t, &["version.length", "traceparent.missing-field"], "a bare trace-id: read as an over-long version with nothing after it"),
        case(SPEC_TRACEPARENT.replace('-', "_"), &["version.length", "version.hex", "traceparent.missing-field"], "underscores instead of dashes: one long field"),
        case(SPEC_TRACEPARENT.replace('-', "🙂"), &["version.length", "version.hex", "traceparent.missing-field"], "emoji instead of dashes: one field, ranges around whole emoji"),
        case(format!("00-4bf92f3577b34da6-a3ce929d0e0e4736-{p}-01"), &["trace-id.length", "trace-flags.length", "traceparent.length"], "a dash inside the trace-id shifts every field to the right"),
        case(
            "0G-4BF92F3577B34DA6A3CE929D0E0E4736-0000000000000000-zz",
            &["version.hex", "trace-id.uppercase", "parent-id.all-zero", "trace-flags.hex"],
            "every field wrong at once: every rule reported, not just the first",
        ),
    ]
}

fn tracestate_cases() -> Vec<Case> {
    let spec_two = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
    let all_key_chars = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    let all_value_chars: String = (0x20u8..=0x7e)
        .filter(|b| *b != b',' && *b != b'=')
        .map(char::from)
        .collect();
    let member_of_len =
        |key: &str, len: usize| format!("{key}={}", "x".repeat(len - key.len() - 1));
    vec![
        // The spec's own examples.
        case("rojo=00f067aa0ba902b7", &[], "the spec's one-member example"),
        case(spec_two, &[], "the spec's two-member example"),
        case("congo=t61rcWkgMzE", &[], "the first state of the spec's mutation example"),
        // Empty members and OWS (§3.3.1.2).
        case("", &[], "W3C suite: an empty tracestate is valid and holds nothing"),
        case("   ", &[], "whitespace only: one empty member"),
        case(",,,", &[], "empty members are allowed"),
        case("foo=1 \t , \t bar=2, \t baz=3", &[], "W3C suite OWS case: spaces and tabs around members"),
        case("foo=1\t \t,\t \tbar=2,\t \tbaz=3", &[], "W3C suite OWS case: tabs first"),
        case("\t foo=1 \t", &[], "W3C suite OWS case: OWS around a single member"),
        case(" foo=1 , ,bar=2 ,", &[], "an empty member between commas and a trailing comma"),
        case("k=v ,x=1", &[], "a space before a comma is OWS, not part of the value"),
        // Key grammar (editor's draft: (lcalpha / DIGIT) 0*255 keychar, keychar includes '@').
        case(format!("{all_key_chars}=1"), &[], "W3C suite: every key character"),
        case(format!("{all_key_chars}@a-z0-9_-*/=1"), &[], "W3C suite: every key character with a vendor part"),
        case("0foo=1", &[], "a key may start with a digit"),
        case("a_-*/@b=1", &[], "'_', '-', '*', '/' and '@' are key characters"),
        case("foo@=1,bar=2", &[], "'@' at the end of a key: invalid in Level 1's multi-tenant grammar, allowed by the draft's keychar"),
        case("foo@@bar=1,bar=2", &[], "two '@' in a row: allowed by the draft's keychar"),
        case("foo@bar@baz=1,bar=2", &[], "two vendor separators: allowed by the draft's keychar"),
        case(format!("{}@{}=1", "t".repeat(241), "v".repeat(14)), &[], "W3C suite: a 256-character multi-tenant key"),
        case(format!("{}=1", "z".repeat(256)), &[], "W3C suite: a key of 256 characters is the longest allowed"),
        case(format!("{}=1", "z".repeat(257)), &["tracestate.key.length"], "W3C suite: a key of 257 characters is too long"),
        case("foo =1", &["tracestate.key.char"], "W3C suite: a space before '=' is part of the key"),
        case("k\t=v", &["tracestate.key.char"], "a tab before '=' is part of the key"),
        case("FOO=1", &["tracestate.key.first-char", "tracestate.key.char"], "W3C suite: uppercase first character and uppercase characters after it"),
        case("Foo=1", &["tracestate.key.first-char"], "an uppercase first character only"),
        case("fOo=1", &["tracestate.key.char"], "an uppercase character after the first"),
        case("foo.bar=1", &["tracestate.key.char"], "W3C suite: '.' is not a key character"),
        case("@foo=1,bar=2", &["tracestate.key.first-char"], "W3C suite: '@' cannot start a key"),
        case("_foo=1", &["tracestate.key.first-char"], "'_' cannot start a key"),
        case("-foo=1", &["tracestate.key.first-char"], "'-' cannot start a key"),
        case("🙂=1", &["tracestate.key.first-char"], "an emoji as the first key character: one range over its 4 bytes"),
        case("fé=1", &["tracestate.key.char"], "a two-byte 'é' inside a key"),
        case("=1", &["tracestate.key.empty"], "a member starting with '=' has an empty key"),
        case("=", &["tracestate.key.empty", "tracestate.value.empty"], "a lone '=': empty key and empty value"),
        // Missing '='.
        case("foo", &["tracestate.missing-equals"], "a member is key=value"),
        case("foo=1,bar", &["tracestate.missing-equals"], "the second member lacks '='"),
        case("foo=1,,bar", &["tracestate.missing-equals"], "an empty member then a member without '='"),
        // Value grammar.
        case(format!("key={all_value_chars}"), &[], "W3C suite: every value character, starting with a space"),
        case("foo= 1", &[], "a value may start with a space"),
        case("foo=1 2", &[], "a value may hold a space"),
        case("k=v;x", &[], "';' is a value character"),
        case(format!("k={}", "v".repeat(256)), &[], "a value of 256 characters is the longest allowed"),
        case(format!("k={}", "v".repeat(257)), &["tracestate.value.length"], "a value of 257 characters is too long"),
        case("foo=bar=baz", &["tracestate.value.char"], "W3C suite: '=' inside a value"),
        case("foo=,bar=3", &["tracestate.value.empty"], "W3C suite: an empty value"),
        case("foo=", &["tracestate.value.empty"], "nothing after '='"),
        case("foo =", &["tracestate.key.char", "tracestate.value.empty"], "a space in the key and an empty value"),
        case("foo=a\tb", &["tracestate.value.char"], "a tab inside a value is not printable ASCII"),
        case("foo=a\u{7f}b", &["tracestate.value.char"], "DEL is not printable"),
        case("foo=a\u{1}b", &["tracestate.value.char"], "a control character is not printable"),
        case("k=v\0", &["tracestate.value.char"], "a NUL ends no value"),
        case("k=v\r", &["tracestate.value.char"], "a carriage return is not OWS"),
        case("foo=é", &["tracestate.value.char"], "a non-ASCII value: one range over both bytes"),
        case("foo=a🙂b🙂", &["tracestate.value.char"], "two emoji in a value: two findings, each on char boundaries"),
        // List rules.
        case(members(MAX_MEMBERS).join(","), &[], "W3C suite: 32 members is the most allowed"),
        case(members(MAX_MEMBERS + 1).join(","), &["tracestate.too-many-members"], "W3C suite: 33 members is one too many"),
        case("foo=1,foo=1", &["tracestate.duplicate-key"], "W3C suite: the same key twice with the same value"),
        case("foo=1,foo=2", &["tracestate.duplicate-key"], "W3C suite: the same key twice with different values"),
        case(vec!["a=1"; 40].join(","), &["tracestate.duplicate-key", "tracestate.too-many-members"], "40 copies of one member: duplicates past the 32-key scan and too many members"),
        // Length (§3.3.1.5): a warning only.
        case([member_of_len("a", 255), member_of_len("b", 256)].join(","), &[], "exactly 512 characters: no warning"),
        case([member_of_len("a", 256), member_of_len("b", 256)].join(","), &["tracestate.over-512"], "513 characters: valid, with a warning that it may be truncated"),
        case(
            [member_of_len("a", 250), member_of_len("b", 250), member_of_len("c", 100)].join(" , "),
            &["tracestate.over-512"],
            "608 characters as propagated (OWS is not counted): valid, with a warning",
        ),
        case(
            [member_of_len("a", 256), member_of_len("b", 256), "Bad=1".to_owned()].join(","),
            &["tracestate.over-512", "tracestate.key.first-char"],
            "over 512 and invalid: the warning still appears",
        ),
    ]
}

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
                decision.traceparent.trace_id, traceparent.trace_id,
                "{context}"
            );
            assert_eq!(
                decision.traceparent.parent_id, RECEIVER_SPAN_ID,
                "{context}"
            );
            assert_ne!(traceparent.parent_id, RECEIVER_SPAN_ID, "{context}");
            assert_eq!(
                decision.traceparent.flags,
                traceparent.flags.propagated(),
                "{context}"
            );
            assert_eq!(decision.traceparent.version, 0, "{context}");
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
                decision.traceparent.trace_id, RECEIVER_TRACE_ID,
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
            assert_eq!(decision.tracestate, None, "{context}: dropped");
            assert_eq!(decision.tracestate_dropped, Some(error), "{context}");
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
fn the_tables_hold_at_least_sixty_invalid_and_edge_cases() {
    let is_edge_case = |case: &Case| !case.rules.is_empty() || case.input.trim().is_empty();
    let traceparent = traceparent_cases()
        .iter()
        .filter(|c| is_edge_case(c))
        .count();
    let tracestate = tracestate_cases()
        .iter()
        .filter(|c| is_edge_case(c))
        .count();
    assert!(traceparent >= 40, "{traceparent} traceparent edge cases");
    assert!(tracestate >= 30, "{tracestate} tracestate edge cases");
    assert!(traceparent + tracestate >= 60);
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
    assert_eq!(traceparent.version, 0);
    assert_eq!(traceparent.trace_id.to_string(), SPEC_TRACE_ID);
    assert_eq!(traceparent.parent_id.to_string(), SPEC_PARENT_ID);
    assert_eq!(traceparent.flags, TraceFlags(0x01));
    assert!(traceparent.flags.sampled());
    assert_eq!(traceparent.to_header_value(), SPEC_TRACEPARENT);

    let not_sampled =
        TraceParent::parse(SPEC_TRACEPARENT_NOT_SAMPLED).expect("the spec's example is valid");
    assert!(!not_sampled.flags.sampled());
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
    assert_eq!(traceparent.version, 0xcc);
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
        row(format!("{suite}\ntracestate: foo=1,foo=1"), Action::Continue, keep, None, Some("tracestate.duplicate-key"), "W3C suite: duplicate keys drop the tracestate, not the trace"),
        row(format!("{suite}\ntracestate: foo=1\ntracestate: foo=2"), Action::Continue, keep, None, Some("tracestate.duplicate-key"), "W3C suite: duplicate keys across lines"),
        row(format!("{suite}\n{}", bar_lines(32)), Action::Continue, keep, Some(&members(32).join(",")), None, "W3C suite: 32 members over four lines"),
        row(format!("{suite}\n{}", bar_lines(33)), Action::Continue, keep, None, Some("tracestate.too-many-members"), "W3C suite: 33 members over four lines"),
        row(format!("{suite}\ntracestate: foo=1\ntracestate: {}=1", "z".repeat(256)), Action::Continue, keep, Some(&format!("foo=1,{}=1", "z".repeat(256))), None, "W3C suite: a 256-character key on a second line"),
        row(format!("{suite}\ntracestate: foo=1\ntracestate: {}=1", "z".repeat(257)), Action::Continue, keep, None, Some("tracestate.key.length"), "W3C suite: a 257-character key on a second line"),
        row(format!("{suite}\ntracestate: foo=bar=baz"), Action::Continue, keep, None, Some("tracestate.value.char"), "W3C suite: '=' in a value"),
        row(format!("{suite}\ntracestate: foo=,bar=3"), Action::Continue, keep, None, Some("tracestate.value.empty"), "W3C suite: an empty value"),
        row(format!("trace-parent: 00-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-01"), Action::Restart, None, None, None, "W3C suite: a wrong name makes the whole line a bare value, which is invalid"),
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
                    decision.traceparent.trace_id.to_string(),
                    trace_id,
                    "{context}"
                );
                assert_eq!(
                    decision.traceparent.parent_id, RECEIVER_SPAN_ID,
                    "{context}"
                );
            }
            None => assert_eq!(
                decision.traceparent.trace_id, RECEIVER_TRACE_ID,
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
        if case.action == Action::Continue && case.tracestate_dropped.is_none() {
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
    assert_eq!(decoded.decision.traceparent.trace_id, RECEIVER_TRACE_ID);
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
