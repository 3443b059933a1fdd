//! One decision about an incoming header: the OpenTelemetry propagator (what
//! the services use) and `receive` (what the Decode page and `tracelab
//! decode` use) must agree on every row of the spec tables (`cases/mod.rs`)
//! and on generated headers: continue or restart, and the trace-id,
//! parent-id, flags and tracestate carried on. And the tracestate members
//! that W3C Trace Context Level 2 accepts but OpenTelemetry's `TraceState`
//! rejects come out of `inject` as they went into `extract`.
//!
//! The OpenTelemetry side runs as a service does: extract, start a child
//! span with the SDK, inject. The SDK's ids come from a fixed generator (the
//! receiver's ids of `common`) and its sampler keeps the caller's flags (it
//! records, and samples when the caller did), so both sides can be compared
//! byte for byte. On restart the flags are the tracer's, not the decision's
//! (the SDK never sets the random flag), so only the sampled flag is
//! compared there.

mod cases;
mod common;

use cases::{traceparent_cases, tracestate_cases, Case, SUITE_PARENT_ID, SUITE_TRACE_ID};
use common::{FixedIds, RECEIVER_SPAN_ID, RECEIVER_TRACE_ID, SPEC_TRACEPARENT};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{self as otel, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    IdGenerator, SamplingDecision, SamplingResult, SdkTracer, SdkTracerProvider, ShouldSample,
};
use proptest::prelude::*;
use std::collections::HashMap;
use tracelab_context::propagator::{Extracted, W3cPropagator};
use tracelab_context::{judge, receive, Action, Incoming, TraceParent, TraceState};

// ---------------------------------------------------------------------------
// The OpenTelemetry side

/// Header lines as a request carries them: names in any case, repeated.
struct Headers(Vec<(String, String)>);

impl Headers {
    fn of(lines: &[(&str, &str)]) -> Headers {
        Headers(
            lines
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    fn incoming(&self) -> Incoming<'_> {
        Incoming {
            traceparent: self.all("traceparent"),
            tracestate: self.all("tracestate"),
        }
    }
}

impl Extractor for Headers {
    fn get(&self, key: &str) -> Option<&str> {
        self.all(key).first().copied()
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(key, _)| key.as_str()).collect()
    }
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all = self.all(key);
        (!all.is_empty()).then_some(all)
    }
}

/// The receiver's ids, as `receive` draws them from `FixedIds`.
#[derive(Debug)]
struct FixedGenerator;

impl IdGenerator for FixedGenerator {
    fn new_trace_id(&self) -> otel::TraceId {
        otel::TraceId::from_bytes(RECEIVER_TRACE_ID.to_bytes())
    }
    fn new_span_id(&self) -> otel::SpanId {
        otel::SpanId::from_bytes(RECEIVER_SPAN_ID.to_bytes())
    }
}

/// Records every span, samples when the caller sampled, and keeps the
/// caller's trace state: the SDK then carries the caller's flags unchanged
/// (its `Drop` decision would zero them, the random flag too).
#[derive(Clone, Debug)]
struct FollowTheCaller;

impl ShouldSample for FollowTheCaller {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        _trace_id: otel::TraceId,
        _name: &str,
        _span_kind: &otel::SpanKind,
        _attributes: &[KeyValue],
        _links: &[otel::Link],
    ) -> SamplingResult {
        let parent = parent_context
            .map(|cx| cx.span().span_context().clone())
            .filter(otel::SpanContext::is_valid);
        match parent {
            Some(parent) => SamplingResult {
                decision: if parent.is_sampled() {
                    SamplingDecision::RecordAndSample
                } else {
                    SamplingDecision::RecordOnly
                },
                attributes: Vec::new(),
                trace_state: parent.trace_state().clone(),
            },
            None => SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: otel::TraceState::NONE,
            },
        }
    }
}

fn tracer() -> SdkTracer {
    SdkTracerProvider::builder()
        .with_id_generator(FixedGenerator)
        .with_sampler(FollowTheCaller)
        .build()
        .tracer("propagator-test")
}

/// What a service sends on: the headers injected for a child span of the
/// extracted context, and whether extraction continued the trace.
struct Sent {
    continued: bool,
    traceparent: Option<String>,
    tracestate: Option<String>,
}

fn through_opentelemetry(headers: &Headers, tracer: &SdkTracer) -> Sent {
    let propagator = W3cPropagator::new();
    let cx = propagator.extract(headers);
    let continued = cx.span().span_context().is_valid();
    let child = tracer.start_with_context("receiver", &cx);
    let cx = cx.with_span(child);
    let mut out: HashMap<String, String> = HashMap::new();
    propagator.inject_context(&cx, &mut out);
    Sent {
        continued,
        traceparent: out.remove("traceparent"),
        tracestate: out.remove("tracestate"),
    }
}

/// Why the two entry points disagree on `headers`, or `None` when they agree.
fn disagreement(headers: &Headers, tracer: &SdkTracer) -> Option<String> {
    let incoming = headers.incoming();
    let decision = receive(&incoming, &mut FixedIds);
    let sent = through_opentelemetry(headers, tracer);
    let extracted = W3cPropagator::new().judge(headers);
    if extracted.verdict() != &judge(&incoming) {
        return Some(format!(
            "the propagator read other headers: {:?} vs {:?}",
            extracted.verdict(),
            judge(&incoming)
        ));
    }
    if sent.continued != (decision.action == Action::Continue) {
        return Some(format!(
            "receive says {}, the propagator {}",
            decision.action.as_str(),
            if sent.continued {
                "continue"
            } else {
                "restart"
            }
        ));
    }
    let decided_tracestate = decision.tracestate.as_ref().map(ToString::to_string);
    if sent.tracestate != decided_tracestate {
        return Some(format!(
            "tracestate: receive sends {decided_tracestate:?}, the propagator {:?}",
            sent.tracestate
        ));
    }
    let Some(traceparent) = sent.traceparent else {
        return Some("the propagator sent no traceparent".to_owned());
    };
    match decision.action {
        // Trace-id, the new parent-id, flags and version, all at once.
        Action::Continue if traceparent != decision.traceparent.to_string() => Some(format!(
            "traceparent: receive sends {}, the propagator {traceparent}",
            decision.traceparent
        )),
        Action::Continue => None,
        Action::Restart => {
            let sent = TraceParent::parse(&traceparent).ok()?;
            let agree = sent.trace_id() == decision.traceparent.trace_id()
                && sent.parent_id() == decision.traceparent.parent_id()
                && sent.flags().sampled() == decision.traceparent.flags().sampled();
            (!agree).then(|| {
                format!(
                    "restart: receive sends {}, the propagator {traceparent}",
                    decision.traceparent
                )
            })
        }
    }
}

// ---------------------------------------------------------------------------
// The tables

fn check_rows(rows: &[Case], headers_of: impl Fn(&str) -> Headers) -> (usize, usize) {
    let tracer = tracer();
    let (mut continued, mut restarted) = (0, 0);
    for case in rows {
        let headers = headers_of(&case.input);
        if let Some(why) = disagreement(&headers, &tracer) {
            panic!("row '{}' (input {:?}): {why}", case.reason, case.input);
        }
        match receive(&headers.incoming(), &mut FixedIds).action {
            Action::Continue => continued += 1,
            Action::Restart => restarted += 1,
        }
    }
    (continued, restarted)
}

#[test]
fn the_propagator_decides_as_receive_on_every_traceparent_row() {
    let rows = traceparent_cases();
    let (continued, restarted) = check_rows(&rows, |value| {
        Headers::of(&[
            ("traceparent", value),
            ("tracestate", "rojo=00f067aa0ba902b7"),
        ])
    });
    // Both outcomes are exercised, so agreement is not vacuous.
    assert!(
        continued >= 10 && restarted >= 40,
        "{continued} / {restarted}"
    );
    // And the propagator continues exactly the rows with no error, as the
    // table says independently of both entry points.
    for case in &rows {
        let expects_error = case.rules.iter().any(|name| {
            tracelab_context::Rule::from_name(name).map(tracelab_context::Rule::severity)
                == Some(tracelab_context::Severity::Error)
        });
        let sent = through_opentelemetry(&Headers::of(&[("traceparent", &case.input)]), &tracer());
        assert_eq!(
            sent.continued, !expects_error,
            "row '{}': the propagator continues exactly the valid rows",
            case.reason
        );
    }
}

#[test]
fn the_propagator_decides_as_receive_on_every_tracestate_row() {
    let rows = tracestate_cases();
    let (continued, _) = check_rows(&rows, |value| {
        Headers::of(&[("traceparent", SPEC_TRACEPARENT), ("tracestate", value)])
    });
    assert_eq!(continued, rows.len(), "a tracestate never restarts a trace");
}

#[test]
fn the_propagator_decides_as_receive_on_the_w3c_suites_header_sets() {
    // Header sets of the W3C suite's test.py that take more than one line.
    let tp = format!("00-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-00");
    let other = format!("00-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-01");
    let bars = |from: usize, to: usize| {
        (from..=to)
            .map(|i| format!("bar{i:02}={i:02}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let sets: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "test_traceparent_duplicated",
            vec![("traceparent", tp.clone()), ("traceparent", other.clone())],
        ),
        (
            "test_tracestate_included_traceparent_missing",
            vec![("tracestate", "foo=1,bar=2".to_owned())],
        ),
        (
            "test_traceparent_header_name",
            vec![("trace-parent", tp.clone())],
        ),
        (
            "test_tracestate_header_name",
            vec![
                ("traceparent", tp.clone()),
                ("trace-state", "foo=1".to_owned()),
            ],
        ),
        (
            "test_tracestate_header_name_valid_casing",
            vec![
                ("TrAcEpArEnT", tp.clone()),
                ("TrAcEsTaTe", "foo=1".to_owned()),
            ],
        ),
        (
            "test_tracestate_empty_header",
            vec![
                ("traceparent", tp.clone()),
                ("tracestate", "foo=1".to_owned()),
                ("tracestate", String::new()),
            ],
        ),
        (
            "test_tracestate_multiple_headers_different_keys",
            vec![
                ("traceparent", tp.clone()),
                ("tracestate", "foo=1,bar=2".to_owned()),
                ("tracestate", "rojo=1,congo=2".to_owned()),
                ("tracestate", "baz=3".to_owned()),
            ],
        ),
        (
            "test_tracestate_duplicated_keys",
            vec![
                ("traceparent", tp.clone()),
                ("tracestate", "foo=1".to_owned()),
                ("tracestate", "foo=2".to_owned()),
            ],
        ),
        (
            "test_tracestate_member_count_limit (32)",
            vec![
                ("traceparent", tp.clone()),
                ("tracestate", bars(1, 10)),
                ("tracestate", bars(11, 20)),
                ("tracestate", bars(21, 30)),
                ("tracestate", bars(31, 32)),
            ],
        ),
        (
            "test_tracestate_member_count_limit (33)",
            vec![
                ("traceparent", tp.clone()),
                ("tracestate", bars(1, 10)),
                ("tracestate", bars(11, 20)),
                ("tracestate", bars(21, 30)),
                ("tracestate", bars(31, 33)),
            ],
        ),
        (
            "test_tracestate_key_length_limit",
            vec![
                ("traceparent", tp.clone()),
                ("tracestate", "foo=1".to_owned()),
                (
                    "tracestate",
                    format!("{}@{}=1", "t".repeat(241), "v".repeat(14)),
                ),
            ],
        ),
        (
            "test_tracestate_key_length_limit (t@v*15)",
            vec![
                ("traceparent", tp.clone()),
                ("tracestate", "foo=1".to_owned()),
                ("tracestate", format!("t@{}=1", "v".repeat(15))),
            ],
        ),
        (
            "test_propagates_random_flag",
            vec![(
                "traceparent",
                format!("00-{SUITE_TRACE_ID}-{SUITE_PARENT_ID}-02"),
            )],
        ),
    ];
    let tracer = tracer();
    for (name, lines) in &sets {
        let lines: Vec<(&str, &str)> = lines.iter().map(|(n, v)| (*n, v.as_str())).collect();
        if let Some(why) = disagreement(&Headers::of(&lines), &tracer) {
            panic!("{name}: {why}");
        }
    }
}

// ---------------------------------------------------------------------------
// Generated headers

/// The spec's example with one character replaced, inserted or removed.
fn mutated_traceparent() -> impl Strategy<Value = String> {
    let interesting = prop_oneof![
        any::<char>(),
        prop::sample::select(vec!['0', 'f', 'g', 'A', 'F', '-', ' ', '\t', '.', 'é']),
    ];
    (0..=SPEC_TRACEPARENT.len(), interesting, 0..3u8).prop_map(|(at, c, how)| {
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

/// Valid traceparents of any version and flags, and mutated ones.
fn traceparent_value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => mutated_traceparent(),
        2 => ("[0-9a-f]{2}", "[0-9a-f]{32}", "[0-9a-f]{16}", "[0-9a-f]{2}", prop_oneof![Just(String::new()), "-[a-z]{0,5}".prop_map(String::from)])
            .prop_map(|(v, t, p, f, rest)| format!("{v}-{t}-{p}-{f}{rest}")),
        1 => Just(SPEC_TRACEPARENT.to_owned()),
    ]
}

/// Keys of the Level 2 grammar, many of which OpenTelemetry rejects.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9][a-z0-9_\\-*/]{0,6}",
        2 => "[a-z0-9][a-z0-9_\\-*/]{0,6}@[a-z0-9_\\-*/@]{0,16}",
        1 => "[a-z0-9]{1,3}@[a-z0-9]{13,16}",
        1 => "[a-z]{2}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,6}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]"
}

/// One `tracestate` line: members (keys may repeat), sometimes with
/// whitespace, sometimes with one character inserted anywhere.
fn tracestate_line() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((key(), value()), 0..8),
        prop::sample::select(vec![",", " , ", ",\t", ",,"]),
        prop::option::weighted(
            0.3,
            (
                any::<prop::sample::Index>(),
                prop::sample::select(vec!['=', ',', ' ', 'A', '@', '\t', 'é', '.']),
            ),
        ),
    )
        .prop_map(|(members, separator, mutation)| {
            let mut line = members
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(separator);
            if let Some((at, c)) = mutation {
                let boundaries: Vec<usize> = (0..=line.len())
                    .filter(|&i| line.is_char_boundary(i))
                    .collect();
                line.insert(boundaries[at.index(boundaries.len())], c);
            }
            line
        })
}

fn header_name(name: &'static str) -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        name.to_owned(),
        name.to_uppercase(),
        format!("{}{}", name[..1].to_uppercase(), &name[1..]),
    ])
}

/// A request's trace context headers: no, one or two traceparents, up to
/// three tracestate lines, names in any case.
fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        prop::collection::vec((header_name("traceparent"), traceparent_value()), 0..=2),
        prop::collection::vec((header_name("tracestate"), tracestate_line()), 0..=3),
    )
        .prop_map(|(mut traceparents, tracestates)| {
            traceparents.extend(tracestates);
            traceparents
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_propagator_decides_as_receive_on_generated_headers(lines in headers()) {
        let headers = Headers(lines);
        let why = disagreement(&headers, &tracer());
        prop_assert!(why.is_none(), "{:?}: {}", headers.0, why.unwrap_or_default());
    }
}

// ---------------------------------------------------------------------------
// Level 2 tracestate members OpenTelemetry's TraceState rejects

/// Whether OpenTelemetry's `TraceState` accepts one member.
fn opentelemetry_accepts(key: &str, value: &str) -> bool {
    otel::TraceState::from_key_value([(key, value)]).is_ok()
}

fn spec_headers(tracestate: &str) -> Headers {
    Headers::of(&[
        ("traceparent", SPEC_TRACEPARENT),
        ("tracestate", tracestate),
    ])
}

/// The W3C suite's 256-character multi-tenant key (`test_tracestate_key_length_limit`).
fn suite_long_key() -> String {
    format!("{}@{}", "t".repeat(241), "v".repeat(14))
}

#[test]
fn level_2_members_survive_extract_a_child_span_and_inject() {
    // (tracestate, the keys OpenTelemetry's TraceState rejects, why)
    let long = suite_long_key();
    let rows: Vec<(String, Vec<&str>, &str)> = vec![
        ("foo@bar@baz=1,bar=2".to_owned(), vec!["foo@bar@baz"], "two '@' (W3C suite test_tracestate_key_illegal_vendor_format)"),
        ("foo@@bar=1,bar=2".to_owned(), vec!["foo@@bar"], "'@@' (W3C suite)"),
        ("rojo=1,tenant@v0123456789abcd=1,congo=2".to_owned(), vec!["tenant@v0123456789abcd"], "a 14-character system id: Level 1 allows 14, OpenTelemetry 13"),
        (format!("foo=1,t@{}=1", "v".repeat(15)), vec!["t@vvvvvvvvvvvvvvv"], "15 characters after '@' (W3C suite)"),
        (format!("foo=1,{long}=1"), vec![long.as_str()], "the W3C suite's 256-character key"),
        ("a@_x=1,b=2,c@d@e=3".to_owned(), vec!["a@_x", "c@d@e"], "'_' after '@', and two members OpenTelemetry rejects"),
        ("t0123456789abc@vendor=1,x=2".to_owned(), vec![], "a 14-character tenant id: OpenTelemetry accepts it, and it goes through the span context"),
    ];
    let propagator = W3cPropagator::new();
    let tracer = SdkTracerProvider::builder().build().tracer("level-2");
    for (tracestate, rejected, why) in &rows {
        let state = TraceState::parse(tracestate)
            .unwrap_or_else(|e| panic!("{why}: the spec accepts {tracestate:?}: {e}"));
        let really_rejected: Vec<&str> = state
            .entries()
            .filter(|(k, v)| !opentelemetry_accepts(k, v))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            &really_rejected, rejected,
            "{why}: what OpenTelemetry rejects"
        );

        let cx = propagator.extract(&spec_headers(tracestate));
        let extracted = cx.get::<Extracted>().expect("extract keeps its decision");
        let beyond: Vec<&str> = extracted
            .beyond_opentelemetry()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(&beyond, rejected, "{why}");

        // A service's chain: server span, internal span, client span.
        let server = tracer.start_with_context("server", &cx);
        let cx = cx.with_span(server);
        let internal = tracer.start_with_context("internal", &cx);
        let cx = cx.with_span(internal);
        let client = tracer.start_with_context("client", &cx);
        let cx = cx.with_span(client);
        let mut out: HashMap<String, String> = HashMap::new();
        propagator.inject_context(&cx, &mut out);
        assert_eq!(
            out.get("tracestate"),
            Some(&state.to_string()),
            "{why}: the same members in the same order"
        );
        let traceparent = out.get("traceparent").map(String::as_str).unwrap_or("");
        assert!(
            traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
                && !traceparent.contains("00f067aa0ba902b7"),
            "{why}: a child span of the caller's: {traceparent}"
        );
    }
}

/// A span context like `cx`'s, with another trace state: what an
/// application gets by changing the state through OpenTelemetry.
fn with_state(cx: &Context, state: otel::TraceState) -> Context {
    let span = cx.span();
    let sc = span.span_context();
    cx.with_remote_span_context(otel::SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags(),
        false,
        state,
    ))
}

fn injected_tracestate(cx: &Context) -> Option<String> {
    let mut out: HashMap<String, String> = HashMap::new();
    W3cPropagator::new().inject_context(cx, &mut out);
    out.remove("tracestate")
}

#[test]
fn changes_made_through_opentelemetry_are_applied_around_the_members_it_cannot_hold() {
    let propagator = W3cPropagator::new();
    let cx = propagator.extract(&spec_headers(
        "foo@bar@baz=1,bar=2,t@vvvvvvvvvvvvvvv=3,baz=4",
    ));
    let given = cx.span().span_context().trace_state().clone();
    assert_eq!(
        given.header(),
        "bar=2,baz=4",
        "the span context holds what it can"
    );

    let cases: Vec<(otel::TraceState, &str, &str)> = vec![
        (
            given.insert("rojo", "00f067aa0ba902b7").expect("valid"),
            "rojo=00f067aa0ba902b7,foo@bar@baz=1,bar=2,t@vvvvvvvvvvvvvvv=3,baz=4",
            "a new member goes first (§3.5)",
        ),
        (
            given.insert("baz", "5").expect("valid"),
            "baz=5,foo@bar@baz=1,bar=2,t@vvvvvvvvvvvvvvv=3",
            "an updated member moves first (§3.5)",
        ),
        (
            given.delete("bar").expect("valid"),
            "foo@bar@baz=1,t@vvvvvvvvvvvvvvv=3,baz=4",
            "a deleted member is gone, the others keep their order",
        ),
        (
            otel::TraceState::NONE,
            "foo@bar@baz=1,t@vvvvvvvvvvvvvvv=3",
            "deleting all it holds leaves the members it never held",
        ),
    ];
    for (state, expected, why) in cases {
        assert_eq!(
            injected_tracestate(&with_state(&cx, state)).as_deref(),
            Some(expected),
            "{why}"
        );
    }

    // Another trace in the same context carries none of it.
    let other = otel::SpanContext::new(
        otel::TraceId::from_bytes([7; 16]),
        otel::SpanId::from_bytes([7; 8]),
        otel::TraceFlags::SAMPLED,
        false,
        otel::TraceState::NONE,
    );
    assert_eq!(
        injected_tracestate(&cx.with_remote_span_context(other)),
        None
    );
}

#[test]
fn a_full_list_stays_at_32_members_when_opentelemetry_adds_one() {
    let members: Vec<String> = (1..=32)
        .map(|i| {
            if i % 2 == 0 {
                format!("m{i:02}@a@b=1")
            } else {
                format!("m{i:02}=1")
            }
        })
        .collect();
    let cx = W3cPropagator::new().extract(&spec_headers(&members.join(",")));
    let given = cx.span().span_context().trace_state().clone();
    let added = given.insert("rojo", "1").expect("valid");
    let sent = injected_tracestate(&with_state(&cx, added)).unwrap_or_default();
    let state = TraceState::parse(&sent).expect("what is sent is valid");
    assert_eq!(state.len(), 32);
    let keys: Vec<&str> = state.entries().map(|(k, _)| k).collect();
    assert_eq!(keys.first(), Some(&"rojo"));
    assert_eq!(keys.last(), Some(&"m31"), "the rightmost member went");
}
