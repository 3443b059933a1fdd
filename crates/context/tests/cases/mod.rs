//! The tables of traceparent and tracestate cases: the spec's own
//! examples, the cases of the W3C test suite (`w3c/trace-context`,
//! `test/test.py`), and edge cases of our own. Each row names its input,
//! every rule it must report (by the stable rule names of `rule.rs`, errors
//! and warnings alike), and why.
//!
//! Shared by `spec_cases.rs`, which checks the parsers and `receive` on
//! every row, and `propagator.rs`, which checks that the OpenTelemetry
//! propagator decides as `receive` does on every row.

use crate::common::SPEC_TRACEPARENT;
use tracelab_context::tracestate::MAX_MEMBERS;

/// The spec's example traceparent (§3.2.2.6 and throughout).
pub const SPEC_TRACEPARENT_NOT_SAMPLED: &str =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
pub const SPEC_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const SPEC_PARENT_ID: &str = "00f067aa0ba902b7";
/// The ids the W3C test suite sends.
pub const SUITE_TRACE_ID: &str = "12345678901234567890123456789012";
pub const SUITE_PARENT_ID: &str = "1234567890123456";
pub const ALL_ZERO_TRACE_ID: &str = "00000000000000000000000000000000";
pub const ALL_ZERO_PARENT_ID: &str = "0000000000000000";

/// One row: the header value, every rule it must report, and why.
pub struct Case {
    pub input: String,
    pub rules: &'static [&'static str],
    pub reason: &'static str,
}

pub fn case(
    input: impl Into<String>,
    rules: &'static [&'static str],
    reason: &'static str,
) -> Case {
    Case {
        input: input.into(),
        rules,
        reason,
    }
}

pub fn traceparent_of(version: &str, trace_id: &str, parent_id: &str, flags: &str) -> String {
    format!("{version}-{trace_id}-{parent_id}-{flags}")
}

/// A version 00 traceparent with the spec's ids and the given flags.
pub fn spec_with_flags(flags: &str) -> String {
    traceparent_of("00", SPEC_TRACE_ID, SPEC_PARENT_ID, flags)
}

/// `count` distinct members `bar01=01,bar02=02,…`, as the W3C suite writes them.
pub fn members(count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("bar{i:02}={i:02}")).collect()
}

pub fn traceparent_cases() -> Vec<Case> {
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

pub fn tracestate_cases() -> Vec<Case> {
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
        case("0foo=1", &["tracestate.key.level-1"], "a key may start with a digit; Level 1 allows that only before an '@'"),
        case("a_-*/@b=1", &[], "'_', '-', '*', '/' and '@' are key characters"),
        case("foo@=1,bar=2", &["tracestate.key.level-1"], "'@' at the end of a key: invalid in Level 1's multi-tenant grammar, allowed by the draft's keychar"),
        case("foo@@bar=1,bar=2", &["tracestate.key.level-1"], "two '@' in a row: allowed by the draft's keychar"),
        case("foo@bar@baz=1,bar=2", &["tracestate.key.level-1"], "two vendor separators: allowed by the draft's keychar"),
        case(format!("{}@{}=1", "t".repeat(241), "v".repeat(14)), &["tracestate.key.level-1"], "W3C suite: a 256-character multi-tenant key; valid Level 1 too, but OpenTelemetry allows only 13 characters after '@'"),
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
