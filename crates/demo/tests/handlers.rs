//! The handlers on their own, over a transport that reaches nothing: every
//! input gets an answer with a JSON body, never a panic.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tracelab_demo::data::DEMO_BAND_ID;
use tracelab_demo::db::SimDb;
use tracelab_demo::sim::{run_ready, SimClock, START_UNIX_NANOS};
use tracelab_demo::telemetry::{simulated_provider, SpanSink, Telemetry};
use tracelab_demo::{
    BandsApi, BoxFuture, Request, Response, ReviewsApi, ReviewsDb, Service, Services, Topology,
    Transport, TransportError,
};

/// A network with nobody on it.
struct NoNetwork;

impl Transport for NoNetwork {
    fn send(
        &self,
        _from: Service,
        to: Service,
        _request: Request,
        _timeout: Duration,
    ) -> BoxFuture<'_, Result<Response, TransportError>> {
        Box::pin(std::future::ready(Err(TransportError::Unreachable(
            format!("{to} is not running"),
        ))))
    }
}

/// A network where every call waits out its timeout.
struct SilentNetwork;

impl Transport for SilentNetwork {
    fn send(
        &self,
        _from: Service,
        _to: Service,
        _request: Request,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Response, TransportError>> {
        Box::pin(std::future::ready(Err(TransportError::Timeout(timeout))))
    }
}

fn reviews_api() -> ReviewsApi {
    ReviewsApi::new(None, sim_db(), START_UNIX_NANOS, 1)
}

fn sim_db() -> Arc<dyn ReviewsDb> {
    Arc::new(SimDb::new(SimClock::new(START_UNIX_NANOS)))
}

/// Which handler a request goes to.
#[derive(Clone, Copy)]
enum Api<'a> {
    Bands(&'a BandsApi),
    Reviews(&'a ReviewsApi),
}

fn call(api: Api<'_>, request: Request) -> Response {
    call_over(api, &NoNetwork, request)
}

fn call_over(api: Api<'_>, transport: &dyn Transport, request: Request) -> Response {
    let clock = SimClock::new(START_UNIX_NANOS);
    let topology = Topology::default();
    let services = Services {
        clock: &clock,
        transport,
        topology: &topology,
    };
    let answer = match api {
        Api::Bands(bands) => run_ready(bands.handle(request, services)),
        Api::Reviews(reviews) => run_ready(reviews.handle(request, services)),
    };
    answer.expect("nothing in a simulated call waits on a real event")
}

fn error_text(response: &Response) -> String {
    let body: serde_json::Value = serde_json::from_str(&response.body).expect("a JSON body");
    body["error"].as_str().expect("an error message").to_owned()
}

#[test]
fn reviews_api_says_what_was_wrong_with_a_request() {
    let reviews = reviews_api();
    let handle = Api::Reviews(&reviews);
    let cases: [(&str, &str, &str, u16, &str); 5] = [
        (
            "GET",
            "/reviews",
            "",
            400,
            "missing query parameter band_id",
        ),
        ("GET", "/reviews", "band_id=42", 400, "is not a uuid"),
        (
            "GET",
            "/reviews",
            "band=553be815",
            400,
            "missing query parameter band_id",
        ),
        ("GET", "/bands", "", 404, "no route for /bands"),
        ("POST", "/reviews", "", 405, "use GET"),
    ];
    for (method, path, query, status, message) in cases {
        let mut request = Request::get(path, query);
        request.method = method.to_owned();
        let response = call(handle, request);
        assert_eq!(response.status, status, "{method} {path}?{query}");
        assert!(error_text(&response).contains(message), "{}", response.body);
    }
    let unknown = call(
        handle,
        Request::get("/reviews", "band_id=00000000-0000-4000-8000-000000000000"),
    );
    assert_eq!((unknown.status, unknown.body.as_str()), (200, "[]"));
    let known = call(
        handle,
        Request::get(
            "/reviews",
            &format!("band_id={}", DEMO_BAND_ID.to_uppercase()),
        ),
    );
    assert_eq!(known.status, 200, "uuids are matched in either case");
    assert_eq!(known.body.matches("\"uuid\"").count(), 3);
}

#[test]
fn bands_api_answers_502_when_reviews_api_cannot_be_reached_and_504_when_it_is_silent() {
    let bands = BandsApi::new(None);
    let handle = Api::Bands(&bands);
    let band = Request::get(&format!("/bands/{DEMO_BAND_ID}"), "");
    let silent = call_over(handle, &SilentNetwork, band.clone());
    assert_eq!(silent.status, 504);
    assert!(error_text(&silent).contains("no response within 2000 ms"));
    let response = call(handle, band);
    assert_eq!(response.status, 502);
    assert!(error_text(&response).contains("reviews-api is not running"));
    assert_eq!(
        response.header("trace-id"),
        None,
        "untraced: no trace-id header"
    );
    assert_eq!(call(handle, Request::get("/", "")).status, 404);
    let mut post = Request::get(&format!("/bands/{DEMO_BAND_ID}"), "");
    post.method = "DELETE".to_owned();
    assert_eq!(call(handle, post).status, 405);
}

#[test]
fn an_invalid_traceparent_starts_a_new_trace() {
    let sink: SpanSink = Arc::new(Mutex::new(Vec::new()));
    let provider = simulated_provider(Service::Reviews, 3, true, sink.clone());
    let reviews = ReviewsApi::new(
        Some(Telemetry::new(Service::Reviews, &provider)),
        sim_db(),
        START_UNIX_NANOS,
        1,
    );
    let handle = Api::Reviews(&reviews);
    let mut request = Request::get("/reviews", &format!("band_id={DEMO_BAND_ID}"));
    // Uppercase hex breaks a rule of W3C Trace Context: the context is ignored.
    request.headers.push((
        "traceparent".to_owned(),
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01".to_owned(),
    ));
    assert_eq!(call(handle, request).status, 200);
    let spans = sink.lock().expect("not poisoned").clone();
    let server = spans
        .iter()
        .find(|recorded| recorded.span.name == "GET /reviews?:band_id")
        .expect("a server span");
    assert_eq!(
        server.span.parent_span_id,
        opentelemetry::trace::SpanId::INVALID
    );
    assert_ne!(
        server.span.span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
}

proptest! {
    #[test]
    fn no_request_makes_a_handler_panic(
        method in prop::sample::select(vec!["GET", "POST", "get", ""]),
        path in prop_oneof![
            Just("/reviews".to_owned()),
            "/bands/[0-9a-fA-F-]{0,40}",
            "/bands/.{0,40}",
            ".{0,40}",
        ],
        query in prop_oneof!["band_id=[0-9a-f-]{0,40}", ".{0,60}"],
        headers in prop::collection::vec(
            (prop_oneof![Just("traceparent".to_owned()), Just("tracestate".to_owned()), "[a-z]{1,8}"], ".{0,80}"),
            0..4,
        ),
    ) {
        let sink: SpanSink = Arc::new(Mutex::new(Vec::new()));
        let provider = simulated_provider(Service::Bands, 5, true, sink);
        let bands = BandsApi::new(Some(Telemetry::new(Service::Bands, &provider)));
        let reviews = reviews_api();
        let request = Request {
            method: method.to_owned(),
            path,
            query,
            headers,
        };
        for response in [
            call(Api::Bands(&bands), request.clone()),
            call(Api::Reviews(&reviews), request),
        ] {
            prop_assert!([200, 400, 404, 405, 502, 504].contains(&response.status));
            prop_assert!(serde_json::from_str::<serde_json::Value>(&response.body).is_ok());
        }
    }
}

/// A native server shares one handler between its worker threads.
#[test]
fn handlers_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<BandsApi>();
    shareable::<ReviewsApi>();
    shareable::<Telemetry>();
    // And a request may move between them while it waits: the handlers'
    // futures are `Send`.
    fn sendable<F: std::future::Future + Send>(_: &F) {}
    let (bands, reviews) = (BandsApi::new(None), reviews_api());
    let clock = SimClock::new(START_UNIX_NANOS);
    let topology = Topology::default();
    let services = Services {
        clock: &clock,
        transport: &NoNetwork,
        topology: &topology,
    };
    sendable(&bands.handle(Request::get("/", ""), services));
    sendable(&reviews.handle(Request::get("/", ""), services));
}
