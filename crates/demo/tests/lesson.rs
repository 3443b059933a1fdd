//! The lesson's traces, checked natively: the span tree at each step and for
//! each switch, reproducibility, each planted problem visible in the trace,
//! broken propagation, sampling, failures, and the headers of each hop.

use std::collections::BTreeSet;

use opentelemetry::trace::{SpanKind, Status};
use tracelab_context::TraceParent;
use tracelab_demo::data::DEMO_BAND_ID;
use tracelab_demo::lesson::{self, STEPS};
use tracelab_demo::{make_call, CallOutcome, Failure, RecordedSpan, Service, Switches};
use tracelab_trace::tree::SpanTree;

const SEED: u64 = 20_230_330;

fn step(number: u8) -> Switches {
    lesson::step(number)
        .expect("the lesson has steps 1 to 6")
        .switches()
}

/// A span described by what the tree shows: service, name, kind, and the
/// service and name of its parent (`None` for a root).
type Shape = (
    &'static str,
    String,
    &'static str,
    Option<(&'static str, String)>,
);

fn kind(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Internal => "internal",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
    }
}

fn shape(outcome: &CallOutcome) -> BTreeSet<Shape> {
    outcome
        .spans
        .iter()
        .map(|recorded| {
            let parent = outcome
                .spans
                .iter()
                .find(|other| {
                    other.span.span_context.span_id() == recorded.span.parent_span_id
                        && other.span.span_context.trace_id()
                            == recorded.span.span_context.trace_id()
                })
                .map(|parent| (parent.service.name(), parent.span.name.to_string()));
            (
                recorded.service.name(),
                recorded.span.name.to_string(),
                kind(&recorded.span.span_kind),
                parent,
            )
        })
        .collect()
}

fn s(
    service: &'static str,
    name: &str,
    kind: &'static str,
    parent: Option<(&'static str, &str)>,
) -> Shape {
    (
        service,
        name.to_owned(),
        kind,
        parent.map(|(service, name)| (service, name.to_owned())),
    )
}

fn client_spans() -> Vec<Shape> {
    vec![
        s("client", "get_band", "internal", None),
        s(
            "client",
            "GET /bands/:id",
            "client",
            Some(("client", "get_band")),
        ),
    ]
}

fn bands_spans(server_parent: Option<(&'static str, &str)>) -> Vec<Shape> {
    vec![
        s("bands-api", "GET /bands/:id", "server", server_parent),
        s(
            "bands-api",
            "get_reviews",
            "internal",
            Some(("bands-api", "GET /bands/:id")),
        ),
        s(
            "bands-api",
            "GET /reviews?:band_id",
            "client",
            Some(("bands-api", "get_reviews")),
        ),
    ]
}

fn reviews_spans(server_parent: Option<(&'static str, &str)>) -> Vec<Shape> {
    vec![
        s(
            "reviews-api",
            "GET /reviews?:band_id",
            "server",
            server_parent,
        ),
        s(
            "reviews-api",
            "get_reviews_by_band_id",
            "internal",
            Some(("reviews-api", "GET /reviews?:band_id")),
        ),
        s(
            "reviews-api",
            "SELECT reviews",
            "client",
            Some(("reviews-api", "get_reviews_by_band_id")),
        ),
    ]
}

fn spans_named<'a>(
    outcome: &'a CallOutcome,
    service: Service,
    name: &str,
) -> Vec<&'a RecordedSpan> {
    outcome
        .spans
        .iter()
        .filter(|recorded| recorded.service == service && recorded.span.name == name)
        .collect()
}

fn one<'a>(outcome: &'a CallOutcome, service: Service, name: &str) -> &'a RecordedSpan {
    let found = spans_named(outcome, service, name);
    assert_eq!(found.len(), 1, "one {name} span in {service}");
    found[0]
}

fn trace_ids(outcome: &CallOutcome) -> BTreeSet<String> {
    outcome
        .spans
        .iter()
        .map(|recorded| recorded.span.span_context.trace_id().to_string())
        .collect()
}

fn is_error(recorded: &RecordedSpan) -> bool {
    matches!(recorded.span.status, Status::Error { .. })
}

fn has_attribute(recorded: &RecordedSpan, key: &str) -> bool {
    recorded
        .span
        .attributes
        .iter()
        .any(|attribute| attribute.key.as_str() == key)
}

fn nanos(time: std::time::SystemTime) -> u64 {
    tracelab_demo::telemetry::unix_nanos(time)
}

#[test]
fn each_step_has_the_expected_span_tree() {
    let from_client = Some(("client", "GET /bands/:id"));
    let from_bands = Some(("bands-api", "GET /reviews?:band_id"));
    let expected: [Vec<Shape>; 6] = [
        vec![],
        bands_spans(None),
        [client_spans(), bands_spans(from_client)].concat(),
        [
            client_spans(),
            bands_spans(from_client),
            reviews_spans(from_bands),
        ]
        .concat(),
        [
            client_spans(),
            bands_spans(from_client),
            reviews_spans(from_bands),
        ]
        .concat(),
        [
            client_spans(),
            bands_spans(from_client),
            reviews_spans(from_bands),
        ]
        .concat(),
    ];
    for (lesson_step, expected) in STEPS.iter().zip(expected) {
        let outcome = make_call(&lesson_step.switches(), SEED);
        assert_eq!(
            shape(&outcome),
            expected.into_iter().collect::<BTreeSet<_>>(),
            "step {}",
            lesson_step.number
        );
        assert_eq!(
            outcome.response_status,
            Some(200),
            "step {}",
            lesson_step.number
        );
        assert_eq!(outcome.hops.len(), 2);
        assert!(
            trace_ids(&outcome).len() <= 1,
            "step {}: one trace",
            lesson_step.number
        );
        // The model conversion keeps every span, and the tree finds one root.
        let trace = outcome.trace();
        assert_eq!(trace.spans.len(), outcome.spans.len());
        if !trace.spans.is_empty() {
            let tree = SpanTree::build(&trace);
            assert_eq!(tree.roots().len(), 1, "step {}", lesson_step.number);
            assert!(
                tree.notes().is_empty(),
                "step {}: {:?}",
                lesson_step.number,
                tree.notes()
            );
        }
    }
    // Step 1 sends no context at all.
    let outcome = make_call(&step(1), SEED);
    assert!(outcome.hops.iter().all(|hop| hop.traceparent().is_none()));
    assert_eq!(outcome.trace_link, None);
    // Steps 4 to 6 read reviews the slow way until step 6 fixes it.
    assert_eq!(
        spans_named(
            &make_call(&step(5), SEED),
            Service::Reviews,
            "SELECT reviews"
        )
        .len(),
        3
    );
    assert_eq!(
        spans_named(
            &make_call(&step(6), SEED),
            Service::Reviews,
            "SELECT reviews"
        )
        .len(),
        1
    );
}

#[test]
fn every_step_says_what_happens_and_where() {
    for (position, lesson_step) in STEPS.iter().enumerate() {
        assert_eq!(usize::from(lesson_step.number), position + 1);
        let sentences = lesson_step.explanation.matches(". ").count() + 1;
        assert!((2..=4).contains(&sentences), "step {}", lesson_step.number);
        assert!(lesson_step.code.starts_with("crates/demo/src/"));
        assert!(lesson_step.code.contains("::"));
    }
    assert!(lesson::step(0).is_none());
    assert!(lesson::step(7).is_none());
}

#[test]
fn spans_carry_the_semantic_convention_attributes() {
    let outcome = make_call(&step(6), SEED);
    for recorded in &outcome.spans {
        let span = &recorded.span;
        match span.span_kind {
            SpanKind::Server => {
                for key in [
                    "http.request.method",
                    "url.path",
                    "url.scheme",
                    "http.route",
                    "server.address",
                    "server.port",
                    "http.response.status_code",
                ] {
                    assert!(has_attribute(recorded, key), "{} lacks {key}", span.name);
                }
            }
            SpanKind::Client if span.name.starts_with("SELECT") => {
                for key in [
                    "db.system.name",
                    "db.namespace",
                    "db.collection.name",
                    "db.operation.name",
                    "db.query.text",
                    "db.response.returned_rows",
                ] {
                    assert!(has_attribute(recorded, key), "{} lacks {key}", span.name);
                }
            }
            SpanKind::Client => {
                for key in [
                    "http.request.method",
                    "url.full",
                    "url.template",
                    "server.address",
                    "server.port",
                    "http.response.status_code",
                ] {
                    assert!(has_attribute(recorded, key), "{} lacks {key}", span.name);
                }
            }
            _ => {}
        }
        assert_eq!(span.instrumentation_scope.name(), "tracelab-demo");
    }
    let port = |service, name| {
        one(&outcome, service, name)
            .span
            .attributes
            .iter()
            .find(|attribute| attribute.key.as_str() == "server.port")
            .map(|attribute| attribute.value.to_string())
    };
    assert_eq!(
        port(Service::Bands, "GET /bands/:id").as_deref(),
        Some("8000")
    );
    assert_eq!(
        port(Service::Client, "GET /bands/:id").as_deref(),
        Some("8000")
    );
    assert_eq!(
        port(Service::Bands, "GET /reviews?:band_id").as_deref(),
        Some("8080")
    );
    assert_eq!(
        port(Service::Reviews, "GET /reviews?:band_id").as_deref(),
        Some("8080")
    );

    // Log lines land in their spans as events.
    let server = one(&outcome, Service::Bands, "GET /bands/:id");
    assert!(server
        .span
        .events
        .events
        .iter()
        .any(|event| event.name.starts_with("returning Fugazi")));

    // Each service has its own resource in the model trace.
    let trace = outcome.trace();
    let names: Vec<&str> = trace
        .resources
        .iter()
        .map(|resource| &*resource.service_name)
        .collect();
    assert_eq!(names, ["client", "bands-api", "reviews-api"]);
    assert!(trace.resources.iter().all(|resource| resource
        .attributes
        .iter()
        .any(|attribute| &*attribute.key == "service.version")));
    for (span_idx, span) in trace.spans.iter().enumerate() {
        let expected = outcome.spans[span_idx].service.name();
        assert_eq!(trace.service_name(span_idx), expected, "{}", span.name);
    }
}

#[test]
fn the_same_seed_gives_the_same_call_bit_for_bit() {
    for lesson_step in &STEPS {
        let switches = lesson_step.switches();
        let first = make_call(&switches, SEED);
        let second = make_call(&switches, SEED);
        assert_eq!(first, second, "step {}", lesson_step.number);
        assert_eq!(first.trace(), second.trace());
    }
    let other = make_call(&step(4), SEED + 1);
    let first = make_call(&step(4), SEED);
    assert_ne!(
        trace_ids(&other),
        trace_ids(&first),
        "another seed, other ids"
    );
    assert_ne!(other.hops, first.hops);
}

#[test]
fn each_hop_keeps_the_trace_id_and_changes_the_parent_id() {
    let outcome = make_call(&step(4), SEED);
    let parents: Vec<TraceParent> = outcome
        .hops
        .iter()
        .map(|hop| {
            TraceParent::parse(hop.traceparent().expect("propagated")).expect("a valid traceparent")
        })
        .collect();
    assert_eq!(parents.len(), 2);
    assert_eq!(parents[0].trace_id(), parents[1].trace_id());
    assert_ne!(parents[0].parent_id(), parents[1].parent_id());
    assert!(parents.iter().all(|parent| parent.flags().sampled()));
    // The converted trace keeps the flags each span was recorded with: all
    // sampled here, and a span recorded without the sampled bit keeps that.
    let trace = outcome.trace();
    assert!(!trace.spans.is_empty());
    assert!(trace.spans.iter().all(|span| span.trace_flags == 0x01));
    let mut unsampled = one(&outcome, Service::Client, "GET /bands/:id").clone();
    let context = &unsampled.span.span_context;
    unsampled.span.span_context = opentelemetry::trace::SpanContext::new(
        context.trace_id(),
        context.span_id(),
        opentelemetry::trace::TraceFlags::default(),
        false,
        context.trace_state().clone(),
    );
    let converted = tracelab_demo::convert::to_trace(&[unsampled]);
    assert_eq!(converted.spans[0].trace_flags, 0x00);
    // The parent-id on each hop is the HTTP client span that made the call.
    let client_http = one(&outcome, Service::Client, "GET /bands/:id");
    assert_eq!(
        parents[0].parent_id().to_string(),
        client_http.span.span_context.span_id().to_string()
    );
    let bands_http = one(&outcome, Service::Bands, "GET /reviews?:band_id");
    assert_eq!(
        parents[1].parent_id().to_string(),
        bands_http.span.span_context.span_id().to_string()
    );
    assert_eq!(
        parents[0].trace_id().to_string(),
        client_http.span.span_context.trace_id().to_string()
    );
    // The lesson's tracestate entry: added by the client, updated by bands-api.
    assert_eq!(outcome.hops[0].tracestate(), Some("tracelab=client"));
    assert_eq!(outcome.hops[1].tracestate(), Some("tracelab=bands-api"));
    assert_eq!(
        outcome.trace_link.as_deref(),
        Some(format!("http://localhost:16686/trace/{}", parents[0].trace_id()).as_str())
    );
}

#[test]
fn the_debugging_pause_is_a_five_second_gap_before_the_downstream_call() {
    let outcome = make_call(&step(5), SEED);
    let get_reviews = one(&outcome, Service::Bands, "get_reviews");
    let call = one(&outcome, Service::Bands, "GET /reviews?:band_id");
    let gap = nanos(call.span.start_time) - nanos(get_reviews.span.start_time);
    assert!(gap >= 5_000_000_000, "gap {gap} ns");
    assert!(get_reviews
        .span
        .events
        .events
        .iter()
        .any(|event| event.name.contains("pausing")));

    let mut fixed = step(5);
    fixed.pause_bands = false;
    let outcome = make_call(&fixed, SEED);
    let get_reviews = one(&outcome, Service::Bands, "get_reviews");
    let call = one(&outcome, Service::Bands, "GET /reviews?:band_id");
    assert!(nanos(call.span.start_time) - nanos(get_reviews.span.start_time) < 1_000_000);
}

#[test]
fn slow_reviews_are_a_staircase_of_sequential_queries() {
    let mut switches = step(5);
    switches.n_reviews = 7;
    let outcome = make_call(&switches, SEED);
    let mut queries = spans_named(&outcome, Service::Reviews, "SELECT reviews");
    assert_eq!(queries.len(), 7);
    queries.sort_by_key(|recorded| nanos(recorded.span.start_time));
    for pair in queries.windows(2) {
        assert!(
            nanos(pair[1].span.start_time) >= nanos(pair[0].span.end_time),
            "each query starts after the previous one ends"
        );
        assert!(nanos(pair[1].span.start_time) > nanos(pair[0].span.start_time));
    }
    let lookup = one(&outcome, Service::Reviews, "get_reviews_by_band_id");
    let lookup_nanos = nanos(lookup.span.end_time) - nanos(lookup.span.start_time);
    assert!(lookup_nanos >= 7 * 100_000_000, "{lookup_nanos}");

    switches.slow_reviews = false;
    let outcome = make_call(&switches, SEED);
    assert_eq!(
        spans_named(&outcome, Service::Reviews, "SELECT reviews").len(),
        1
    );
}

#[test]
fn the_shared_default_gives_every_review_one_uuid_and_timestamp() {
    let body = |switches: &Switches| -> serde_json::Value {
        serde_json::from_str(&make_call(switches, SEED).response_json).expect("JSON")
    };
    let distinct = |value: &serde_json::Value, field: &str| -> usize {
        value["reviews"]
            .as_array()
            .expect("reviews")
            .iter()
            .map(|review| review[field].to_string())
            .collect::<BTreeSet<_>>()
            .len()
    };
    let buggy = body(&step(5));
    assert_eq!(buggy["reviews"].as_array().map(Vec::len), Some(3));
    assert_eq!(distinct(&buggy, "uuid"), 1);
    assert_eq!(distinct(&buggy, "created"), 1);
    let fixed = body(&step(6));
    assert_eq!(distinct(&fixed, "uuid"), 3);
    assert_eq!(distinct(&fixed, "created"), 3);
    assert_eq!(fixed["name"], "Fugazi");
    assert_eq!(fixed["uuid"], DEMO_BAND_ID);
    assert_eq!(
        fixed["reviews"][0]["body"],
        "This is the review 1 of 3 for this band."
    );
}

#[test]
fn the_response_prints_as_the_original_client_printed_it() {
    let outcome = make_call(&step(1), SEED);
    let keys: Vec<usize> = ["\"uuid\"", "\"name\"", "\"reviews\"", "\"created\": \"2022"]
        .iter()
        .map(|key| outcome.response_json.find(key).expect(key))
        .collect();
    assert!(keys.windows(2).all(|pair| pair[0] < pair[1]), "field order");
    assert!(outcome.response_json.starts_with("{\n    \"uuid\": "));
    assert!(outcome
        .response_json
        .contains("\"created\": \"2023-03-30T10:33:58.886900\""));
}

#[test]
fn propagation_off_on_a_hop_splits_the_trace_in_two() {
    let mut switches = step(4);
    switches.propagate_client = false;
    let outcome = make_call(&switches, SEED);
    assert_eq!(trace_ids(&outcome).len(), 2);
    assert!(outcome.hops[0].traceparent().is_none());
    assert!(outcome.hops[0].tracestate().is_none());
    let server = one(&outcome, Service::Bands, "GET /bands/:id");
    assert_eq!(
        server.span.parent_span_id,
        opentelemetry::trace::SpanId::INVALID
    );
    assert_eq!(outcome.traces().len(), 2);
    // The client's trace is the first to start.
    assert_eq!(outcome.traces()[0].spans.len(), 2);

    let mut switches = step(4);
    switches.propagate_bands = false;
    let outcome = make_call(&switches, SEED);
    assert_eq!(trace_ids(&outcome).len(), 2);
    assert!(outcome.hops[1].traceparent().is_none());
    let server = one(&outcome, Service::Reviews, "GET /reviews?:band_id");
    assert_eq!(
        server.span.parent_span_id,
        opentelemetry::trace::SpanId::INVALID
    );
    let traces = outcome.traces();
    assert_eq!(
        traces
            .iter()
            .map(|trace| trace.spans.len())
            .collect::<Vec<_>>(),
        [5, 5],
        "client and bands-api; reviews-api with its three queries"
    );
    // Each trace holds only its own services, in the order client,
    // bands-api, reviews-api, and every span names the service that
    // recorded it.
    let services: Vec<Vec<&str>> = traces
        .iter()
        .map(|trace| {
            trace
                .resources
                .iter()
                .map(|resource| &*resource.service_name)
                .collect()
        })
        .collect();
    assert_eq!(services, [vec!["client", "bands-api"], vec!["reviews-api"]]);
    for trace in &traces {
        let first = trace.spans[0].trace_id;
        assert!(trace.spans.iter().all(|span| span.trace_id == first));
        for span_idx in 0..trace.spans.len() {
            let recorded = outcome
                .spans
                .iter()
                .find(|recorded| {
                    recorded.span.span_context.span_id().to_bytes()
                        == trace.spans[span_idx].span_id.0
                })
                .map(|recorded| recorded.service.name());
            assert_eq!(Some(trace.service_name(span_idx)), recorded);
        }
    }
}

#[test]
fn tracing_off_in_a_service_removes_its_spans_and_its_context() {
    let mut switches = step(4);
    switches.trace_client = false;
    let outcome = make_call(&switches, SEED);
    assert!(spans_named(&outcome, Service::Client, "get_band").is_empty());
    assert!(
        outcome.hops[0].traceparent().is_none(),
        "an uninstrumented client sends no context"
    );
    assert_eq!(
        shape(&outcome),
        [
            bands_spans(None),
            reviews_spans(Some(("bands-api", "GET /reviews?:band_id")))
        ]
        .concat()
        .into_iter()
        .collect()
    );

    let mut switches = step(4);
    switches.trace_bands = false;
    let outcome = make_call(&switches, SEED);
    assert!(outcome.hops[1].traceparent().is_none());
    assert_eq!(
        shape(&outcome),
        [client_spans(), reviews_spans(None)]
            .concat()
            .into_iter()
            .collect()
    );
    assert_eq!(trace_ids(&outcome).len(), 2);

    let mut switches = step(4);
    switches.trace_reviews = false;
    let outcome = make_call(&switches, SEED);
    assert!(outcome
        .spans
        .iter()
        .all(|recorded| recorded.service != Service::Reviews));
    assert!(
        outcome.hops[1].traceparent().is_some(),
        "bands-api still sends it"
    );
}

#[test]
fn unsampled_means_no_spans_downstream_and_the_flag_says_so() {
    let mut switches = step(4);
    switches.sampled = false;
    let outcome = make_call(&switches, SEED);
    assert!(outcome.spans.is_empty(), "{:?}", shape(&outcome));
    for hop in &outcome.hops {
        let parent = TraceParent::parse(hop.traceparent().expect("context still propagates"))
            .expect("valid");
        assert!(!parent.flags().sampled());
    }
    assert_eq!(outcome.response_status, Some(200));
}

#[test]
fn the_tracestate_switch_adds_or_omits_the_entry() {
    let mut switches = step(4);
    switches.tracestate = false;
    let outcome = make_call(&switches, SEED);
    assert!(outcome.hops.iter().all(|hop| hop.tracestate().is_none()));
    let server = one(
        &make_call(&step(4), SEED),
        Service::Reviews,
        "GET /reviews?:band_id",
    )
    .span
    .span_context
    .trace_state()
    .header();
    assert_eq!(
        server, "tracelab=bands-api",
        "the span keeps the tracestate it received"
    );
}

#[test]
fn a_500_from_reviews_api_fails_the_spans_up_the_chain() {
    let mut switches = step(6);
    switches.fail_reviews = Failure::ServerError;
    let outcome = make_call(&switches, SEED);
    assert_eq!(outcome.response_status, Some(502));
    assert_eq!(outcome.hops[1].response_status, Some(500));
    assert!(outcome.response_json.contains("\"error\""));
    for (service, name) in [
        (Service::Reviews, "GET /reviews?:band_id"),
        (Service::Bands, "GET /reviews?:band_id"),
        (Service::Bands, "get_reviews"),
        (Service::Bands, "GET /bands/:id"),
        (Service::Client, "GET /bands/:id"),
        (Service::Client, "get_band"),
    ] {
        assert!(is_error(one(&outcome, service, name)), "{service} {name}");
    }
    assert!(spans_named(&outcome, Service::Reviews, "get_reviews_by_band_id").is_empty());
    let call = one(&outcome, Service::Bands, "GET /reviews?:band_id");
    assert!(has_attribute(call, "error.type"));
}

#[test]
fn a_timeout_records_an_error_on_the_client_side_of_bands_api() {
    let mut switches = step(6);
    switches.fail_reviews = Failure::Timeout;
    let outcome = make_call(&switches, SEED);
    assert_eq!(outcome.response_status, Some(504));
    assert_eq!(outcome.hops[1].response_status, None, "no response in time");
    let call = one(&outcome, Service::Bands, "GET /reviews?:band_id");
    assert!(is_error(call));
    assert!(call
        .span
        .attributes
        .iter()
        .any(|attribute| attribute.key.as_str() == "error.type"
            && attribute.value.as_str() == "timeout"));
    let waited = nanos(call.span.end_time) - nanos(call.span.start_time);
    assert_eq!(
        waited, 2_000_000_000,
        "bands-api gives up after its timeout"
    );
    // reviews-api's own span is not an error: it answered, too late.
    assert!(!is_error(one(
        &outcome,
        Service::Reviews,
        "GET /reviews?:band_id"
    )));
    // Its server span outlives the client span that gave up: that is what
    // happened, not clock skew, so the waterfall has no skew note for it.
    let waterfall = tracelab_trace::Waterfall::build(&outcome.trace());
    assert_eq!(waterfall.skew_notes, vec![]);
}

#[test]
fn unknown_and_malformed_band_ids_are_answered_without_a_downstream_call() {
    let mut switches = step(4);
    switches.band_id = "00000000-0000-4000-8000-000000000000".to_owned();
    let outcome = make_call(&switches, SEED);
    assert_eq!(outcome.response_status, Some(404));
    assert_eq!(outcome.hops.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&outcome.response_json).expect("JSON");
    assert!(body["error"]
        .as_str()
        .is_some_and(|text| text.contains("no band")));
    // A 4xx is the caller's mistake: an error for the client, not the server.
    assert!(!is_error(one(&outcome, Service::Bands, "GET /bands/:id")));
    assert!(is_error(one(&outcome, Service::Client, "GET /bands/:id")));

    for bad in [
        "not-a-uuid",
        "",
        "553be815-76f3-49db-b9d7-caca4b23cc3e/extra",
        "ü",
    ] {
        switches.band_id = bad.to_owned();
        let outcome = make_call(&switches, SEED);
        assert_eq!(outcome.response_status, Some(400), "{bad:?}");
        assert!(outcome.response_json.contains("is not a band uuid"));
    }
    // Another band of the catalogue, with its own review count.
    switches.band_id = "0c7e5c3b-3d5e-4a8e-9f57-2b8b1f0d6a41".to_owned();
    let outcome = make_call(&switches, SEED);
    let body: serde_json::Value = serde_json::from_str(&outcome.response_json).expect("JSON");
    assert_eq!(body["name"], "Sleater-Kinney");
    assert_eq!(body["reviews"].as_array().map(Vec::len), Some(4));
}

#[test]
fn the_number_of_reviews_is_a_switch_capped_at_twenty() {
    for (asked, expected) in [(0u8, 0usize), (1, 1), (20, 20), (255, 20)] {
        let mut switches = step(6);
        switches.n_reviews = asked;
        let outcome = make_call(&switches, SEED);
        let body: serde_json::Value = serde_json::from_str(&outcome.response_json).expect("JSON");
        assert_eq!(
            body["reviews"].as_array().map(Vec::len),
            Some(expected),
            "{asked}"
        );
    }
}

#[test]
fn switches_are_named_as_the_page_names_them() {
    let mut switches = Switches::default();
    for name in Switches::FLAGS {
        assert!(switches.set_flag(name, true), "{name}");
        assert_eq!(switches.flag(name), Some(true), "{name}");
    }
    assert!(!switches.set_flag("no-such-switch", true));
    assert_eq!(switches.flag("no-such-switch"), None);
    assert_eq!(
        Failure::parse(Failure::Timeout.as_str()),
        Some(Failure::Timeout)
    );
    assert_eq!(Failure::parse("sometimes"), None);
}

/// Pins one outcome, so a change to the seeding (or a target that computes
/// differently) shows up as a failure rather than as a silently different
/// shared link. This runs natively; `e2e/seed.test.mjs` checks the same two
/// values from the wasm32 build, in the Simulate page's worker in Chromium.
#[test]
fn a_seed_gives_the_same_traceparent_on_every_target() {
    let outcome = make_call(&step(4), 7);
    assert_eq!(
        outcome.hops[0].traceparent(),
        Some("00-ef80df4acb025b080dc1061a96825f24-212abae72f85df3b-01")
    );
    assert_eq!(
        outcome.hops[1].traceparent(),
        Some("00-ef80df4acb025b080dc1061a96825f24-fa222dba27540f4c-01")
    );
}

#[test]
fn notes_explain_missing_and_split_traces() {
    assert!(step(4).notes().is_empty(), "a healthy step needs no note");
    assert_eq!(step(1).notes().len(), 1);
    let mut switches = step(4);
    switches.sampled = false;
    assert!(switches
        .notes()
        .iter()
        .any(|note| note.contains("sampled=0")));
    let mut switches = step(4);
    switches.propagate_client = false;
    assert!(switches
        .notes()
        .iter()
        .any(|note| note.contains("two unconnected traces")));
    // bands-api's trace-id response header, as the original set it.
    let outcome = make_call(&step(4), SEED);
    let trace_id = outcome.hops[0]
        .response_headers
        .iter()
        .find(|(name, _)| name == "trace-id")
        .map(|(_, value)| value.as_str());
    assert_eq!(
        trace_id.map(|id| format!("http://localhost:16686/trace/{id}")),
        outcome.trace_link
    );
}

/// The lesson points at code by `file::function`; a renamed function must
/// not leave a step pointing at nothing.
#[test]
fn every_code_pointer_names_a_function_that_exists() {
    let sources = [
        ("bands.rs", include_str!("../src/bands.rs")),
        ("client.rs", include_str!("../src/client.rs")),
        ("reviews.rs", include_str!("../src/reviews.rs")),
        ("server_span.rs", include_str!("../src/server_span.rs")),
        ("telemetry.rs", include_str!("../src/telemetry.rs")),
    ];
    for lesson_step in &STEPS {
        let mut file = "";
        for pointer in lesson_step.code.split(", ") {
            let pointer = pointer.trim_start_matches("crates/demo/src/");
            if let Some((named_file, _)) = pointer.split_once("::") {
                if named_file.ends_with(".rs") {
                    file = named_file;
                }
            }
            let function = pointer.rsplit("::").next().unwrap_or_default();
            let (_, source) = sources
                .iter()
                .find(|(name, _)| *name == file)
                .unwrap_or_else(|| panic!("step {}: unknown file {file}", lesson_step.number));
            assert!(
                source.contains(&format!("fn {function}(")),
                "step {}: {file} has no fn {function}",
                lesson_step.number
            );
        }
    }
}

/// The admin endpoint's JSON names the switches as the Simulate page does,
/// and a bad request changes nothing.
#[test]
fn switches_round_trip_through_json_and_bad_json_changes_nothing() {
    let mut switches = step(4);
    switches.n_reviews = 7;
    switches.fail_reviews = Failure::Timeout;
    let json = switches.to_json();
    assert_eq!(json["trace-bands"], serde_json::json!(true));
    assert_eq!(json["pause-bands"], serde_json::json!(true));
    assert_eq!(json["n-reviews"], serde_json::json!(7));
    assert_eq!(json["fail-reviews"], serde_json::json!("timeout"));
    let mut back = Switches::default();
    back.apply_json(&json).expect("its own JSON applies");
    assert_eq!(back, switches);

    let before = switches.clone();
    for (bad, names) in [
        (
            serde_json::json!({"pause-bands": false, "paws": true}),
            "\"paws\"",
        ),
        (serde_json::json!({"pause-bands": "no"}), "\"pause-bands\""),
        (serde_json::json!({"n-reviews": 21}), "\"n-reviews\""),
        (
            serde_json::json!({"fail-reviews": "crash"}),
            "\"fail-reviews\"",
        ),
        (serde_json::json!([1]), "an array"),
    ] {
        let error = switches.apply_json(&bad).expect_err("rejected");
        assert!(error.contains(names), "{error}");
        assert_eq!(switches, before, "nothing changed after {bad}");
    }
    switches
        .apply_json(&serde_json::json!({"pause-bands": false, "n-reviews": 0}))
        .expect("valid");
    assert!(!switches.pause_bands);
    assert_eq!(switches.n_reviews, 0);
    assert!(switches.slow_reviews, "unnamed switches keep their value");
}
