//! `tracestate.key.level-1` against independent readings: the warning is
//! given for a key the current grammar accepts exactly when Level 1's ABNF
//! (written out below, separately from the crate's code) or the real
//! `opentelemetry` crate's `TraceState` rejects it.

use opentelemetry::trace::TraceState as OtelTraceState;
use proptest::prelude::*;
use tracelab_context::{tracestate, Rule};

/// Level 1 (W3C Recommendation, 2020, §3.3.1.3.1):
/// `simple-key = lcalpha 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/")`,
/// `multi-tenant-key = tenant-id "@" system-id`,
/// `tenant-id = (lcalpha / DIGIT) 0*240(…)`, `system-id = lcalpha 0*13(…)`.
fn level1_accepts(key: &str) -> bool {
    let rest = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/".contains(&b))
    };
    let lower = |s: &str| s.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    let lower_or_digit = |s: &str| {
        s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    match key.split_once('@') {
        None => lower(key) && key.len() <= 256 && rest(key),
        Some((tenant, system)) => {
            lower_or_digit(tenant)
                && tenant.len() <= 241
                && rest(tenant)
                && lower(system)
                && system.len() <= 14
                && rest(system)
        }
    }
}

fn otel_accepts(key: &str) -> bool {
    OtelTraceState::from_key_value([(key, "v")]).is_ok()
}

fn warned(key: &str) -> bool {
    let report = tracestate::diagnose(&format!("{key}=v"));
    assert!(report.is_valid(), "{key} is valid Level 2");
    report
        .violations
        .iter()
        .any(|v| v.rule == Rule::TraceStateKeyLevel1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn warns_exactly_when_an_older_grammar_rejects(
        key in prop_oneof![
            "[a-z0-9][a-z0-9_\\-*/@]{0,20}",
            "[a-z0-9][a-z0-9_\\-*/]{0,8}@[a-z0-9_\\-*/@]{0,18}",
            "[a-z0-9]{235,241}@[a-z][a-z0-9]{0,13}",
            "[a-z0-9]{242,250}@[a-z]{1,5}",
        ]
    ) {
        let older_reject = !level1_accepts(&key) || !otel_accepts(&key);
        prop_assert_eq!(warned(&key), older_reject, "key {}: level 1 {}, otel {}", key, level1_accepts(&key), otel_accepts(&key));
    }
}

#[test]
fn the_issue_examples_and_what_opentelemetry_really_rejects() {
    // The three examples of issue 19.
    for key in ["foo@bar@baz", "t@vvvvvvvvvvvvvvv", "1abc"] {
        assert!(warned(key), "{key}");
    }
    // opentelemetry 0.33 accepts a key starting with a digit, which Level 1 rejects…
    assert!(otel_accepts("1abc") && !level1_accepts("1abc"));
    // …and rejects a 14-character system id, which Level 1 accepts.
    let system_14 = format!("t@{}", "v".repeat(14));
    assert!(!otel_accepts(&system_14) && level1_accepts(&system_14));
    assert!(!warned("rojo") && !warned("congo@t61rc"));
}
