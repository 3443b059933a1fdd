//! Properties of W3C Trace Context parsing, formatting, mutation and the
//! receiver's decision, checked with proptest over generated headers and
//! arbitrary text.
//!
//! Case counts are kept moderate so that the whole crate's tests stay fast in
//! a debug build; failures are not persisted to files (the shrunk input is
//! printed instead).

mod common;

use common::{FixedIds, RECEIVER_SPAN_ID, RECEIVER_TRACE_ID, SPEC_TRACEPARENT};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::HashSet;
use tracelab_context::traceparent;
use tracelab_context::tracestate::{self, LARGE_ENTRY_LEN, MAX_MEMBERS, PROPAGATION_LIMIT};
use tracelab_context::{
    decode, find_headers, receive, Action, Incoming, RestartReason, Rule, Severity, SpanId,
    TraceFlags, TraceId, TraceParent, TraceState, Violation,
};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Strategies

fn non_zero_trace_id() -> impl Strategy<Value = TraceId> {
    any::<[u8; 16]>()
        .prop_filter("a trace-id is never all zeros", |b| {
            b.iter().any(|&x| x != 0)
        })
        .prop_map(|b| TraceId::from_bytes(b).expect("filtered out zero"))
}

fn non_zero_span_id() -> impl Strategy<Value = SpanId> {
    any::<[u8; 8]>()
        .prop_filter("a parent-id is never all zeros", |b| {
            b.iter().any(|&x| x != 0)
        })
        .prop_map(|b| SpanId::from_bytes(b).expect("filtered out zero"))
}

fn valid_traceparent() -> impl Strategy<Value = TraceParent> {
    (non_zero_trace_id(), non_zero_span_id(), any::<u8>()).prop_map(
        |(trace_id, parent_id, flags)| TraceParent::new(trace_id, parent_id, TraceFlags(flags)),
    )
}

/// A version other than 00 and the forbidden ff.
fn future_version() -> impl Strategy<Value = u8> {
    1u8..=0xfe
}

/// What may follow the flags of a future version: nothing, or '-' and anything.
fn future_suffix() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "-[ -~]{0,30}", "-\\PC{0,10}"]
}

/// A key of the editor's draft grammar: `(lcalpha / DIGIT) 0*255 keychar`.
fn tracestate_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9][a-z0-9_\\-*/@]{0,8}",
        1 => "[a-z0-9][a-z0-9_\\-*/@]{0,255}",
    ]
}

/// A value: `0*255 chr nblk-chr`, where `chr` is printable ASCII except ','
/// and '=', and `nblk-chr` is that without the space.
fn tracestate_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,8}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]",
        1 => "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,255}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]",
    ]
}

/// Up to 32 members with distinct keys, in order.
fn tracestate_entries() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((tracestate_key(), tracestate_value()), 0..=MAX_MEMBERS).prop_map(
        |entries| {
            let mut seen = HashSet::new();
            entries
                .into_iter()
                .filter(|(key, _)| seen.insert(key.clone()))
                .collect()
        },
    )
}

fn join_entries(entries: &[(String, String)]) -> String {
    entries
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Optional whitespace and empty members, which a receiver tolerates (§3.3.1.2).
fn list_separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![",", " ,", ", ", "\t,\t", ",,", ", ,", " \t, \t,"])
}

/// Any character, or one that sits on a boundary of the grammars.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '0', '9', 'a', 'f', 'g', 'A', 'F', 'G', 'z', '-', '=', ',', ' ', '\t', '@', '_', '*',
            '/', '.', '\0', '\u{7f}', 'é', '🙂',
        ]),
    ]
}

/// The spec's example traceparent with one character replaced, inserted or
/// removed: values close to valid, which reach every rule.
fn mutated_traceparent() -> impl Strategy<Value = String> {
    (0..=SPEC_TRACEPARENT.len(), interesting_char(), 0..3u8).prop_map(|(at, c, how)| {
        let mut value = SPEC_TRACEPARENT.to_owned();
        match how {
            0 if at < value.len() => {
                value.replace_range(at..at + 1, c.encode_utf8(&mut [0; 4]));
            }
            1 => value.insert(at, c),
            _ if at < value.len() => {
                value.remove(at);
            }
            _ => value.push(c),
        }
        value
    })
}

/// Exactly the 55-character version 00 layout, dashes at 2, 35 and 52,
/// with fields that are mostly lowercase hex and now and then uppercase,
/// zero, another letter, a space or a dash.
fn fixed_layout_junk() -> impl Strategy<Value = String> {
    let field_char = prop_oneof![
        12 => prop::sample::select(b"0123456789abcdef".to_vec()),
        2 => prop::sample::select(b"ABCDEF".to_vec()),
        2 => Just(b'0'),
        1 => prop::sample::select(b"g -".to_vec()),
    ];
    let field = move |len: usize| prop::collection::vec(field_char.clone(), len);
    (field(2), field(32), field(16), field(2)).prop_map(|(version, trace_id, parent_id, flags)| {
        let mut value = Vec::with_capacity(55);
        for (i, part) in [version, trace_id, parent_id, flags]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                value.push(b'-');
            }
            value.extend(part);
        }
        String::from_utf8(value).unwrap_or_default()
    })
}

/// Text a traceparent parser may be given: anything, traceparent-like
/// characters, near-valid values and future versions.
fn traceparent_like() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        1 => "[0-9a-fA-F\\-gxz \t.,=@é🙂\\x00]{0,70}",
        4 => mutated_traceparent(),
        2 => "(00|cc|ff|0|000)-[0-9a-f]{30,34}-[0-9a-f]{14,18}-[0-9a-fA-F]{1,3}(-[a-z]{0,4}|[.x🙂]{0,2})",
        2 => "[ \t]{0,2}[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}[ \t]{0,2}",
        1 => "[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}",
        // The fixed 55-character layout with junk in the fields: the
        // shortcut the fast parser takes for this shape must find the first
        // error the full walk finds.
        4 => fixed_layout_junk(),
        // Versions 00, 0c, c0, cc and ff; ids that are often all zeros.
        2 => "[0cf]{2}-(0{32}|[0a]{32})-(0{16}|[0b]{16})-[0-9a-f]{2}(-[a-z]{0,3}|[x.]?)",
    ]
}

/// Text a tracestate parser may be given.
fn tracestate_like() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        1 => "[a-zA-Z0-9=,@ \t_\\-*/.é🙂\\x00]{0,120}",
        2 => tracestate_entries().prop_map(|entries| join_entries(&entries)),
        3 => (
            tracestate_entries(),
            any::<prop::sample::Index>(),
            interesting_char()
        )
            .prop_map(|(entries, at, c)| {
                let mut value = join_entries(&entries);
                let boundaries: Vec<usize> = (0..=value.len())
                    .filter(|&i| value.is_char_boundary(i))
                    .collect();
                value.insert(boundaries[at.index(boundaries.len())], c);
                value
            }),
        2 => tracestate_at_the_limits(),
    ]
}

/// Values on the edges of the list and length rules: 30 to 34 members, a key
/// repeated, and keys and values of 255 to 258 characters.
fn tracestate_at_the_limits() -> impl Strategy<Value = String> {
    (
        30usize..=34,
        prop::option::of(any::<prop::sample::Index>()),
        255usize..=258,
        255usize..=258,
    )
        .prop_map(|(count, repeated, key_len, value_len)| {
            let mut members: Vec<String> = (0..count).map(|i| format!("k{i}=v{i}")).collect();
            if let Some(at) = repeated {
                // Replace the last member by another with an earlier key.
                let key = format!("k{}", at.index(count - 1));
                members[count - 1] = format!("{key}=again");
            }
            let long_key = "k".repeat(key_len);
            let long_value = "v".repeat(value_len);
            members[0] = format!("{long_key}=1");
            members[1] = format!("long={long_value}");
            members.join(",")
        })
}

/// Text pasted into the decoder: anything, lossy bytes, and header-ish lines.
fn pasted_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..300)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        prop::collection::vec(
            prop_oneof![
                traceparent_like().prop_map(|v| format!("traceparent: {v}")),
                tracestate_like().prop_map(|v| format!("TraceState:{v}")),
                traceparent_like().prop_map(|v| format!("> traceparent: {v}")),
                traceparent_like().prop_map(|v| format!("{{\"traceparent\": \"{v}\"}}")),
                tracestate_like().prop_map(|v| format!("level=info tracestate=\"{v}\" x=1")),
                "\\PC{0,40}",
            ],
            0..6
        )
        .prop_map(|lines| lines.join("\n")),
    ]
}

// ---------------------------------------------------------------------------
// Reference readings of the grammars, written from the spec independently of
// the crate's single-pass parsers and their fast paths.

fn reference_hex(digits: &[u8]) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

/// §3.2.2 and §3.2.4: after stripping OWS, the first 55 characters follow the
/// version 00 layout with non-zero ids; version ff is forbidden; version 00
/// ends there; a higher version continues with '-' or ends.
///
/// Returns the version, the ids' bytes and the flags: plain values, so that
/// the reference does not lean on the constructors it checks.
fn reference_traceparent(value: &str) -> Option<(u8, [u8; 16], [u8; 8], u8)> {
    let trimmed = value.trim_matches([' ', '\t']).as_bytes();
    if trimmed.len() < 55 || trimmed[2] != b'-' || trimmed[35] != b'-' || trimmed[52] != b'-' {
        return None;
    }
    let version = reference_hex(&trimmed[0..2])?[0];
    let trace_id: [u8; 16] = reference_hex(&trimmed[3..35])?.try_into().ok()?;
    let parent_id: [u8; 8] = reference_hex(&trimmed[36..52])?.try_into().ok()?;
    let flags = reference_hex(&trimmed[53..55])?[0];
    let rest_ok = match version {
        0xff => false,
        0 => trimmed.len() == 55,
        _ => trimmed.len() == 55 || trimmed[55] == b'-',
    };
    let ids_ok = trace_id.iter().any(|&b| b != 0) && parent_id.iter().any(|&b| b != 0);
    (rest_ok && ids_ok).then_some((version, trace_id, parent_id, flags))
}

/// §3.3.1: members split at ',', OWS around each, empty members skipped;
/// `key = (lcalpha / DIGIT) 0*255 keychar`; `value = 0*255 chr nblk-chr`;
/// distinct keys; at most 32 members.
fn reference_tracestate(value: &str) -> Option<Vec<(String, String)>> {
    let mut entries: Vec<(String, String)> = Vec::new();
    for member in value.split(',') {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        let (key, val) = member.split_once('=')?;
        let is_lower_or_digit = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        let key_ok = key.len() <= 256
            && key.bytes().next().is_some_and(is_lower_or_digit)
            && key
                .bytes()
                .all(|c| is_lower_or_digit(c) || b"_-*/@".contains(&c));
        let is_chr = |c: u8| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=';
        let value_ok = val.len() <= 256
            && val.bytes().all(is_chr)
            && val.bytes().last().is_some_and(|c| c != b' ');
        if !key_ok || !value_ok || entries.iter().any(|(k, _)| k == key) {
            return None;
        }
        entries.push((key.to_owned(), val.to_owned()));
    }
    (entries.len() <= MAX_MEMBERS).then_some(entries)
}

// ---------------------------------------------------------------------------
// Checks shared by several properties

fn check_ranges(value: &str, violations: &[Violation]) -> Result<(), TestCaseError> {
    for violation in violations {
        prop_assert!(
            violation.start <= violation.end && violation.end <= value.len(),
            "{} is outside a value of {} bytes",
            violation,
            value.len()
        );
        prop_assert!(
            value.is_char_boundary(violation.start) && value.is_char_boundary(violation.end),
            "{} splits a character of {:?}",
            violation,
            value
        );
    }
    Ok(())
}

/// The fast parser and the report agree on validity, on the value, and on
/// the first error; every range is in the value and on char boundaries.
fn check_traceparent_agreement(value: &str) -> Result<(), TestCaseError> {
    let report = traceparent::diagnose(value);
    check_ranges(value, &report.violations)?;
    for field in &report.fields {
        prop_assert!(
            field.start <= field.end
                && field.end <= value.len()
                && value.is_char_boundary(field.start)
                && value.is_char_boundary(field.end),
            "field {} at {}..{}",
            field.name.as_str(),
            field.start,
            field.end
        );
    }
    prop_assert!(report.violations.len() <= 200);
    prop_assert_eq!(report.is_valid(), report.errors().next().is_none());
    match TraceParent::parse(value) {
        Ok(parsed) => prop_assert_eq!(report.parsed, Some(parsed)),
        Err(error) => {
            prop_assert!(!report.is_valid(), "the report accepts what parse rejects");
            let first = report
                .errors()
                .next()
                .expect("an invalid report has an error");
            prop_assert_eq!((error.rule, error.range()), (first.rule, first.range()));
            prop_assert_eq!(error.severity, Severity::Error);
        }
    }
    Ok(())
}

fn check_tracestate_agreement(value: &str) -> Result<(), TestCaseError> {
    let report = tracestate::diagnose(value);
    check_ranges(value, &report.violations)?;
    prop_assert!(report.violations.len() <= 200);
    prop_assert!(report.entries.len() <= tracestate::TraceStateReport::MAX_ENTRIES);
    for entry in &report.entries {
        prop_assert!(
            entry.start <= entry.end
                && entry.end <= value.len()
                && value.is_char_boundary(entry.start)
                && value.is_char_boundary(entry.end)
        );
    }
    prop_assert_eq!(report.is_valid(), report.errors().next().is_none());
    match TraceState::parse(value) {
        Ok(parsed) => prop_assert_eq!(report.parsed, Some(parsed)),
        Err(error) => {
            prop_assert!(!report.is_valid(), "the report accepts what parse rejects");
            let first = report
                .errors()
                .next()
                .expect("an invalid report has an error");
            prop_assert_eq!((error.rule, error.range()), (first.rule, first.range()));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// traceparent

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn a_valid_traceparent_round_trips_through_format_and_parse(traceparent in valid_traceparent()) {
        let formatted = traceparent.to_string();
        prop_assert_eq!(formatted.len(), traceparent::VERSION_00_LEN);
        prop_assert_eq!(TraceParent::parse(&formatted), Ok(traceparent));
        let report = traceparent::diagnose(&formatted);
        prop_assert_eq!(report.parsed, Some(traceparent));
        // The only finding a valid value can carry here is about undefined flag bits.
        let warnings: Vec<Rule> = report.violations.iter().map(|v| v.rule).collect();
        if traceparent.flags().unknown_bits() == 0 {
            prop_assert_eq!(warnings, Vec::<Rule>::new());
        } else {
            prop_assert_eq!(warnings, vec![Rule::TraceFlagsUnknownBits]);
        }
    }

    #[test]
    fn a_valid_traceparent_string_formats_back_to_itself(
        value in "00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"
            .prop_filter("ids are not all zeros", |v| {
                !v[3..35].bytes().all(|b| b == b'0') && !v[36..52].bytes().all(|b| b == b'0')
            })
    ) {
        let parsed = TraceParent::parse(&value);
        prop_assert!(parsed.is_ok(), "{:?} was rejected: {:?}", value, parsed);
        prop_assert_eq!(parsed.map(|tp| tp.to_string()), Ok(value));
    }

    #[test]
    fn a_future_version_is_read_by_the_00_layout_and_written_as_00(
        traceparent in valid_traceparent(),
        version in future_version(),
        suffix in future_suffix(),
    ) {
        let value = format!("{version:02x}{}{suffix}", &traceparent.to_string()[2..]);
        let parsed = TraceParent::parse(&value);
        prop_assert!(parsed.is_ok(), "{:?} was rejected: {:?}", value, parsed);
        let parsed = parsed.unwrap_or(traceparent);
        prop_assert_eq!(parsed.version(), version);
        prop_assert_eq!(parsed.trace_id(), traceparent.trace_id());
        prop_assert_eq!(parsed.parent_id(), traceparent.parent_id());
        prop_assert_eq!(parsed.flags(), traceparent.flags());
        prop_assert_eq!(parsed.to_string(), traceparent.to_string());
    }

    #[test]
    fn parse_and_diagnose_agree_on_traceparent_like_text(value in traceparent_like()) {
        check_traceparent_agreement(&value)?;
    }

    #[test]
    fn parse_and_diagnose_agree_on_lossy_bytes(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        let value = String::from_utf8_lossy(&bytes);
        check_traceparent_agreement(&value)?;
        check_tracestate_agreement(&value)?;
    }
}

// ---------------------------------------------------------------------------
// tracestate

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn a_valid_tracestate_round_trips(entries in tracestate_entries()) {
        let header = join_entries(&entries);
        let parsed = TraceState::parse(&header);
        prop_assert!(parsed.is_ok(), "{:?} was rejected: {:?}", header, parsed);
        let state = parsed.unwrap_or_default();
        // parse(format(x)) == x
        let kept: Vec<(String, String)> =
            state.entries().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        prop_assert_eq!(&kept, &entries);
        // format(parse(s)) == s
        prop_assert_eq!(state.header_value(), header.as_str());
        prop_assert_eq!(state.to_string(), header.clone());
        // The same state built from entries, and parsed back from its own header.
        let built = TraceState::from_entries(entries.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        prop_assert_eq!(built.as_ref(), Ok(&state));
        prop_assert_eq!(TraceState::parse(state.header_value()), Ok(state.clone()));
        // The report agrees, and warns exactly when the header is over 512.
        let report = tracestate::diagnose(&header);
        prop_assert_eq!(report.parsed.as_ref(), Some(&state));
        prop_assert_eq!(report.propagated_len, header.len());
        // Keys older grammars reject have their own warning (tests/level1.rs).
        let rules: Vec<Rule> = report
            .violations
            .iter()
            .map(|v| v.rule)
            .filter(|&r| r != Rule::TraceStateKeyLevel1)
            .collect();
        if header.len() > PROPAGATION_LIMIT {
            prop_assert_eq!(rules, vec![Rule::TraceStateOverPropagationLimit]);
        } else {
            prop_assert_eq!(rules, Vec::<Rule>::new());
        }
    }

    #[test]
    fn optional_whitespace_and_empty_members_do_not_change_a_tracestate(
        entries in tracestate_entries(),
        separators in prop::collection::vec(list_separator(), MAX_MEMBERS),
        leading in "[ \t,]{0,3}",
        trailing in "[ \t,]{0,3}",
    ) {
        let mut header = leading.clone();
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 {
                header.push_str(separators[i]);
            }
            header.push_str(&format!("{key}={value}"));
        }
        header.push_str(&trailing);
        let parsed = TraceState::parse(&header);
        prop_assert!(parsed.is_ok(), "{:?} was rejected: {:?}", header, parsed);
        prop_assert_eq!(parsed.map(|s| s.to_string()), Ok(join_entries(&entries)));
    }

    #[test]
    fn several_lines_parse_as_their_combination(
        entries in tracestate_entries(),
        cut in any::<prop::sample::Index>(),
    ) {
        let at = cut.index(entries.len() + 1);
        let first = join_entries(&entries[..at]);
        let second = join_entries(&entries[at..]);
        let lines = [first.as_str(), second.as_str()];
        prop_assert_eq!(
            TraceState::parse_lines(&lines).map(|s| s.to_string()),
            Ok(join_entries(&entries))
        );
    }

    #[test]
    fn insert_puts_the_entry_first_and_keeps_the_list_valid(
        entries in tracestate_entries(),
        key in tracestate_key(),
        value in tracestate_value(),
    ) {
        let mut state = TraceState::parse(&join_entries(&entries)).unwrap_or_default();
        let before = state.len();
        let had_key = state.get(&key).is_some();
        let dropped = state.insert(&key, &value);
        prop_assert!(dropped.is_ok(), "insert({:?}, {:?}) was rejected: {:?}", key, value, dropped);
        prop_assert_eq!(state.entries().next(), Some((key.as_str(), value.as_str())));
        prop_assert!(state.len() <= MAX_MEMBERS);
        let expected_len = if had_key { before } else { (before + 1).min(MAX_MEMBERS) };
        prop_assert_eq!(state.len(), expected_len);
        prop_assert_eq!(dropped.map(|d| d.is_some()), Ok(!had_key && before == MAX_MEMBERS));
        prop_assert_eq!(TraceState::parse(state.header_value()), Ok(state.clone()));
    }

    #[test]
    fn whatever_insert_accepts_parses_back_to_the_same_state(
        key in "[a-z][a-z0-9]{0,3}",
        value in prop_oneof!["[ -~]{1,6}", "[ -~]{0,5}[ \t]"],
    ) {
        // Any printable value (half of them ending in whitespace, which the
        // value grammar forbids): insert either rejects it or writes a header
        // that a receiver reads back unchanged.
        let mut state = TraceState::parse("rojo=00f067aa0ba902b7").unwrap_or_default();
        if state.insert(&key, &value).is_ok() {
            prop_assert_eq!(
                TraceState::parse(state.header_value()),
                Ok(state.clone()),
                "insert({:?}, {:?}) wrote {:?}",
                key,
                value,
                state.header_value()
            );
        }
    }

    #[test]
    fn parse_and_diagnose_agree_on_tracestate_like_text(value in tracestate_like()) {
        check_tracestate_agreement(&value)?;
    }
}

// ---------------------------------------------------------------------------
// The parsers against the reference readings: the fast paths inside the one
// parser serve both `parse` and `diagnose`, so only an independent oracle can
// tell that they accept exactly the right values.

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn parse_accepts_exactly_what_the_spec_accepts(value in traceparent_like()) {
        let parsed = TraceParent::parse(&value).ok().map(|tp| {
            (tp.version(), tp.trace_id().to_bytes(), tp.parent_id().to_bytes(), tp.flags().0)
        });
        prop_assert_eq!(parsed, reference_traceparent(&value));
    }

    #[test]
    fn tracestate_parse_accepts_exactly_what_the_spec_accepts(value in tracestate_like()) {
        let parsed = TraceState::parse(&value).ok().map(|state| {
            state
                .entries()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>()
        });
        prop_assert_eq!(parsed, reference_tracestate(&value));
    }
}

// ---------------------------------------------------------------------------
// truncate

/// Up to 32 entries `k0=…`, `k1=…` whose values are 1 to 256 characters, so
/// that some entries are over 128 characters and some are not.
fn sized_tracestate() -> impl Strategy<Value = TraceState> {
    prop::collection::vec(
        prop_oneof![1usize..=20, 100usize..=140, 200usize..=256],
        0..=MAX_MEMBERS,
    )
    .prop_map(|lengths| {
        let entries: Vec<(String, String)> = lengths
            .iter()
            .enumerate()
            .map(|(i, &len)| (format!("k{i}"), "v".repeat(len)))
            .collect();
        TraceState::parse(&join_entries(&entries)).unwrap_or_default()
    })
}

fn entry_len((key, value): &(String, String)) -> usize {
    key.len() + 1 + value.len()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn truncate_fits_the_limit_and_drops_large_entries_first(
        state in sized_tracestate(),
        limit in prop_oneof![0usize..=600, Just(PROPAGATION_LIMIT), 600usize..=9000],
    ) {
        let original: Vec<(String, String)> =
            state.entries().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        let order = state.truncation_order(limit);
        let mut cut = state.clone();
        let dropped = cut.truncate(limit);
        let header = cut.header_value();

        // The header fits, or nothing is left.
        prop_assert!(header.len() <= limit || header.is_empty(), "{} > {}", header.len(), limit);
        // Nothing is dropped from a header that fits.
        if state.header_value().len() <= limit {
            prop_assert!(dropped.is_empty());
        }
        // truncate drops what truncation_order names, in that order.
        let named: Vec<(String, String)> = order.iter().map(|&i| original[i].clone()).collect();
        prop_assert_eq!(&dropped, &named);
        // Entries over 128 characters go before any other.
        let is_large = |entry: &(String, String)| entry_len(entry) > LARGE_ENTRY_LEN;
        if let Some(first_small) = dropped.iter().position(|e| !is_large(e)) {
            prop_assert!(dropped[first_small..].iter().all(|e| !is_large(e)),
                "a large entry was dropped after a small one");
            prop_assert!(cut.entries().all(|(k, v)| k.len() + 1 + v.len() <= LARGE_ENTRY_LEN),
                "a small entry was dropped while a large one was kept");
        }
        // Within each class, entries go from the end.
        for class in [true, false] {
            let positions: Vec<usize> = order.iter().copied()
                .filter(|&i| is_large(&original[i]) == class).collect();
            prop_assert!(positions.windows(2).all(|w| w[0] > w[1]), "not from the end: {:?}", positions);
        }
        // The entries kept keep their order.
        let kept: Vec<(String, String)> =
            cut.entries().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        let expected_kept: Vec<(String, String)> = original.iter().enumerate()
            .filter(|(i, _)| !order.contains(i)).map(|(_, e)| e.clone()).collect();
        prop_assert_eq!(kept, expected_kept);
        // No entry is dropped needlessly: before the last drop the header was over the limit.
        if let Some(last) = dropped.last() {
            let with_last = header.len() + entry_len(last) + usize::from(!header.is_empty());
            prop_assert!(with_last > limit, "the last entry dropped would have fitted");
        }
    }
}

// ---------------------------------------------------------------------------
// Never panics; find_headers and decode

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn diagnose_never_panics_on_arbitrary_strings(value in any::<String>()) {
        check_traceparent_agreement(&value)?;
        check_tracestate_agreement(&value)?;
    }

    #[test]
    fn find_headers_points_at_its_values(text in pasted_text()) {
        let found = find_headers(&text);
        for header in &found.headers {
            prop_assert!(header.start <= header.end && header.end <= text.len());
            prop_assert!(text.is_char_boundary(header.start) && text.is_char_boundary(header.end));
            prop_assert_eq!(&text[header.start..header.end], header.value.as_str());
            prop_assert_eq!(header.line, text[..header.start].matches('\n').count() + 1);
        }
        for line in &found.ignored {
            prop_assert!(text.is_char_boundary(line.start) && text.is_char_boundary(line.end));
        }
        prop_assert!(found.ignored.len() <= 100);
    }

    #[test]
    fn decode_never_panics_and_its_reports_point_into_their_values(text in pasted_text()) {
        let decoded = decode(&text, &mut FixedIds);
        if let Some(report) = &decoded.traceparent {
            let value = &decoded.found.traceparent().next().expect("found").value;
            check_ranges(value, &report.violations)?;
            let duplicated = decoded.found.traceparent().count() > 1;
            prop_assert_eq!(
                report.violations.first().map(|v| v.rule) == Some(Rule::TraceParentDuplicate),
                duplicated
            );
            prop_assert_eq!(report.is_valid(), !duplicated && TraceParent::parse(value).is_ok());
        }
        match (&decoded.tracestate, &decoded.tracestate_value) {
            (Some(report), Some(value)) => {
                check_ranges(value, &report.violations)?;
                prop_assert_eq!(report.is_valid(), TraceState::parse(value).is_ok());
            }
            (None, None) => {}
            _ => prop_assert!(false, "a tracestate report comes with its value"),
        }
        let sent = decoded.decision.traceparent;
        prop_assert_eq!(TraceParent::parse(&sent.to_string()), Ok(sent));
    }
}

// ---------------------------------------------------------------------------
// receive

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn receive_continues_a_valid_traceparent_with_a_new_parent(
        traceparent in valid_traceparent(),
        version in prop_oneof![Just(0u8), future_version()],
        suffix in future_suffix(),
        entries in tracestate_entries(),
    ) {
        prop_assume!(traceparent.parent_id() != RECEIVER_SPAN_ID);
        let suffix = if version == 0 { String::new() } else { suffix };
        let value = format!("{version:02x}{}{suffix}", &traceparent.to_string()[2..]);
        let tracestate = join_entries(&entries);
        let incoming = Incoming { traceparent: vec![&value], tracestate: vec![&tracestate] };
        let decision = receive(&incoming, &mut FixedIds);
        prop_assert_eq!(decision.action, Action::Continue);
        prop_assert_eq!(decision.restart_reason, None);
        prop_assert_eq!(decision.traceparent.trace_id(), traceparent.trace_id());
        prop_assert_ne!(decision.traceparent.parent_id(), traceparent.parent_id());
        prop_assert_eq!(decision.traceparent.parent_id(), RECEIVER_SPAN_ID);
        prop_assert_eq!(decision.traceparent.flags(), traceparent.flags().propagated());
        prop_assert_eq!(decision.traceparent.version(), 0);
        let kept = decision.tracestate.map(|s| s.to_string());
        prop_assert_eq!(kept, (!entries.is_empty()).then_some(tracestate));
    }

}

/// Values `TraceParent::parse` refuses: most of what `traceparent_like`
/// makes, the rest filtered out, so every case below checks something.
fn invalid_traceparent() -> impl Strategy<Value = (String, Violation)> {
    traceparent_like().prop_filter_map("a valid traceparent", |value| {
        TraceParent::parse(&value).err().map(|error| (value, error))
    })
}

/// A receiver given a `traceparent` it cannot parse starts a new trace and
/// drops the `tracestate`. Run by hand rather than in `proptest!` so that it
/// can count what it exercised: every case is an invalid value, and they
/// break many different rules, not one over and over.
#[test]
fn receive_restarts_an_invalid_traceparent_without_tracestate() {
    use std::sync::Mutex;
    const CASES: u32 = 256;
    let exercised: Mutex<(u32, HashSet<&'static str>)> = Mutex::new((0, HashSet::new()));
    let mut runner = proptest::test_runner::TestRunner::new(config(CASES));
    let result = runner.run(
        &(invalid_traceparent(), tracestate_like()),
        |((value, error), tracestate)| {
            let incoming = Incoming {
                traceparent: vec![&value],
                tracestate: vec![&tracestate],
            };
            let decision = receive(&incoming, &mut FixedIds);
            prop_assert_eq!(decision.action, Action::Restart);
            prop_assert_eq!(
                decision.restart_reason,
                Some(RestartReason::Invalid(error.clone()))
            );
            prop_assert_eq!(decision.traceparent.trace_id(), RECEIVER_TRACE_ID);
            prop_assert_eq!(decision.traceparent.parent_id(), RECEIVER_SPAN_ID);
            prop_assert_eq!(decision.tracestate, None);
            prop_assert_eq!(decision.tracestate_dropped, None);
            if let Ok(mut seen) = exercised.lock() {
                seen.0 += 1;
                seen.1.insert(error.rule.name());
            }
            Ok(())
        },
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let (cases, rules) = exercised
        .into_inner()
        .expect("no case panicked holding the lock");
    // Shrinking may run a case more than once, so at least, not exactly.
    assert!(cases >= CASES, "only {cases} invalid values were received");
    assert!(
        rules.len() >= 10,
        "the invalid values broke only {} rules: {rules:?}",
        rules.len()
    );
}
