//! The demo's services over real HTTP, started in this process on free
//! ports with their spans kept in memory: the same calls as the simulation
//! give the same span trees (parity), bad input gets a clear 4xx, failures
//! downstream a 502 or 504, and the switches change while running.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::SpanKind;
use tracelab_demo::data::DEMO_BAND_ID;
use tracelab_demo::telemetry::{RecordedSpan, SpanSink};
use tracelab_demo::{
    client, lesson, make_call, Endpoint, Failure, Service, Services, Switches, Topology,
};
use tracelab_server::cli::{DataArgs, LabArgs};
use tracelab_server::lab::{Export, RunningLab};
use tracelab_server::native::{HttpTransport, SystemClock};
use tracelab_server::otel::ServiceOtel;

fn args(switches: &Switches) -> LabArgs {
    // Start from step 1 and state every switch, so the test says exactly
    // what runs.
    let json = switches.to_json();
    let switches = json
        .as_object()
        .expect("an object")
        .iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(text) => format!("{name}={text}"),
            other => format!("{name}={other}"),
        })
        .collect();
    LabArgs {
        bands_addr: "127.0.0.1:0".to_owned(),
        reviews_addr: "127.0.0.1:0".to_owned(),
        ui_url: "http://localhost:16686".to_owned(),
        step: 1,
        switches,
    }
}

/// A running lab and where its services are.
struct Running {
    lab: RunningLab,
    sink: SpanSink,
    topology: Topology,
}

impl Running {
    async fn start(switches: &Switches) -> Running {
        let sink: SpanSink = Arc::new(Mutex::new(Vec::new()));
        let lab = RunningLab::start_with(
            &[Service::Bands, Service::Reviews],
            &args(switches),
            &in_memory(),
            Export::Memory(sink.clone()),
        )
        .await
        .expect("the lab starts");
        let addr = |service| {
            lab.addrs
                .iter()
                .find(|(which, _)| *which == service)
                .map(|(_, addr)| Endpoint::new("127.0.0.1", addr.port()))
                .expect("listening")
        };
        let topology = Topology {
            bands: addr(Service::Bands),
            reviews: addr(Service::Reviews),
            ..Topology::default()
        };
        Running {
            lab,
            sink,
            topology,
        }
    }

    fn url(&self, service: Service, target: &str) -> String {
        let endpoint = self.topology.endpoint(service).expect("a service");
        format!("{}{target}", endpoint.base_url())
    }

    /// The demo's client, traced into the same sink, over real HTTP.
    async fn call(&self, switches: &Switches) -> client::ClientResult {
        let otel = ServiceOtel::in_memory(Service::Client, self.sink.clone());
        let telemetry = switches.trace_client.then(|| {
            let mut telemetry = otel.telemetry();
            switches.configure_telemetry(&mut telemetry);
            telemetry
        });
        let transport = HttpTransport::new(self.topology.clone()).expect("a client");
        let services = Services {
            clock: &SystemClock,
            transport: &transport,
            topology: &self.topology,
        };
        client::get_band(
            telemetry.as_ref(),
            switches.propagate_client,
            &switches.band_id,
            services,
        )
        .await
    }

    fn spans(&self) -> Vec<RecordedSpan> {
        self.sink.lock().expect("not poisoned").clone()
    }
}

/// A span as the parity test compares it: who recorded it, its name and
/// kind, its parent's, and the keys of its attributes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Shape {
    service: &'static str,
    name: String,
    kind: &'static str,
    parent: Option<(&'static str, String, &'static str)>,
    attribute_keys: Vec<String>,
    error: bool,
}

fn kind(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

fn shapes(spans: &[RecordedSpan]) -> Vec<Shape> {
    let by_id: HashMap<_, _> = spans
        .iter()
        .map(|recorded| (recorded.span.span_context.span_id(), recorded))
        .collect();
    let mut shapes: Vec<Shape> = spans
        .iter()
        .map(|recorded| {
            let parent = by_id.get(&recorded.span.parent_span_id).map(|parent| {
                (
                    parent.service.name(),
                    parent.span.name.to_string(),
                    kind(&parent.span.span_kind),
                )
            });
            let mut attribute_keys: Vec<String> = recorded
                .span
                .attributes
                .iter()
                .map(|kv| kv.key.to_string())
                .collect();
            attribute_keys.sort();
            Shape {
                service: recorded.service.name(),
                name: recorded.span.name.to_string(),
                kind: kind(&recorded.span.span_kind),
                parent,
                attribute_keys,
                error: matches!(
                    recorded.span.status,
                    opentelemetry::trace::Status::Error { .. }
                ),
            }
        })
        .collect();
    shapes.sort();
    shapes
}

/// Says what differs between two span trees, shape by shape.
fn differences(native: &[Shape], simulated: &[Shape]) -> String {
    let only = |these: &[Shape], those: &[Shape]| -> Vec<String> {
        these
            .iter()
            .filter(|shape| !those.contains(shape))
            .map(|shape| format!("{shape:?}"))
            .collect()
    };
    format!(
        "only natively:\n  {}\nonly in the simulation:\n  {}",
        only(native, simulated).join("\n  "),
        only(simulated, native).join("\n  ")
    )
}

/// Nothing written to disk.
fn in_memory() -> DataArgs {
    DataArgs {
        data_dir: None,
        in_memory: true,
    }
}

fn step(number: u8) -> Switches {
    lesson::step(number).expect("a step").switches()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_call_has_the_span_tree_of_the_simulated_one() {
    let mut slow = step(6);
    slow.slow_reviews = true;
    slow.n_reviews = 2;
    let mut failing = step(6);
    failing.fail_reviews = Failure::ServerError;
    let mut unpropagated = step(6);
    unpropagated.propagate_bands = false;
    let mut untraced_bands = step(6);
    untraced_bands.trace_bands = false;
    let mut unknown_band = step(6);
    unknown_band.band_id = "00000000-0000-4000-8000-000000000000".to_owned();
    for (what, switches) in [
        ("the fixed lesson", step(6)),
        ("one query per review", slow),
        ("reviews-api failing", failing),
        ("no propagation from bands-api", unpropagated),
        ("bands-api untraced", untraced_bands),
        ("an unknown band", unknown_band),
    ] {
        let running = Running::start(&switches).await;
        let result = running.call(&switches).await;
        let simulated = make_call(&switches, 7);
        assert_eq!(
            result
                .response
                .as_ref()
                .ok()
                .map(|response| response.status),
            simulated.response_status,
            "{what}: the same status"
        );
        let native = shapes(&running.spans());
        let expected = shapes(&simulated.spans);
        assert!(native.len() >= 3, "{what}: spans were recorded natively");
        assert!(
            native == expected,
            "{what}: the span trees differ\n{}",
            differences(&native, &expected)
        );
        running.lab.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_names_its_trace_and_server_span() {
    let running = Running::start(&step(6)).await;
    let client = reqwest::Client::new();
    let response = client
        .get(running.url(Service::Bands, &format!("/bands/{DEMO_BAND_ID}")))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("trace-id"), "4bf92f3577b34da6a3ce929d0e0e4736");
    let timing = header("server-timing");
    let server = running
        .spans()
        .into_iter()
        .find(|recorded| {
            recorded.service == Service::Bands && recorded.span.span_kind == SpanKind::Server
        })
        .expect("a server span");
    assert_eq!(
        timing,
        format!(
            "traceparent;desc=\"00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01\"",
            server.span.span_context.span_id()
        )
    );
    assert_eq!(
        server.span.parent_span_id.to_string(),
        "00f067aa0ba902b7",
        "the incoming context is continued"
    );
    running.lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_clear_4xx_and_an_invalid_traceparent_restarts() {
    let running = Running::start(&step(6)).await;
    let client = reqwest::Client::new();
    let get = |target: &str| client.get(running.url(Service::Bands, target)).send();
    for (target, status, says) in [
        ("/bands/not-a-uuid", 400, "is not a band uuid"),
        (
            "/bands/00000000-0000-4000-8000-000000000000",
            404,
            "no band with uuid",
        ),
        ("/nothing/here", 404, "no route for /nothing/here"),
    ] {
        let response = get(target).await.expect("answered");
        assert_eq!(response.status(), status, "{target}");
        let body: serde_json::Value = response.json().await.expect("a JSON body");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{target}: {error}");
    }
    let reviews = client
        .get(running.url(Service::Reviews, "/reviews?band_id=42"))
        .send()
        .await
        .expect("answered");
    assert_eq!(reviews.status(), 400);

    // An invalid traceparent (uppercase hex) is ignored: a new trace.
    let restarted = client
        .get(running.url(Service::Bands, &format!("/bands/{DEMO_BAND_ID}")))
        .header(
            "traceparent",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(restarted.status(), 200);
    let trace_id = restarted
        .headers()
        .get("trace-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");

    // 100 KB of headers: refused with 431, and the service still answers.
    let huge = client
        .get(running.url(Service::Bands, &format!("/bands/{DEMO_BAND_ID}")))
        .header("x-padding", "a".repeat(100 * 1024))
        .send()
        .await
        .expect("answered");
    assert_eq!(huge.status(), 431);
    // Also on a fresh connection (hyper's own limit applies there).
    let fresh = reqwest::Client::new()
        .get(running.url(Service::Bands, &format!("/bands/{DEMO_BAND_ID}")))
        .header("x-padding", "a".repeat(100 * 1024))
        .send()
        .await
        .expect("answered");
    assert_eq!(fresh.status(), 431);
    assert_eq!(
        get(&format!("/bands/{DEMO_BAND_ID}"))
            .await
            .expect("answered")
            .status(),
        200
    );
    running.lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switches_change_while_the_services_run() {
    let running = Running::start(&step(6)).await;
    let client = reqwest::Client::new();
    let admin = running.url(Service::Reviews, "/admin/switches");
    let before: serde_json::Value = client
        .get(&admin)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(before["n-reviews"], 3);

    let changed = client
        .put(&admin)
        .body(r#"{"n-reviews": 5, "shared-uuid": true}"#)
        .send()
        .await
        .expect("answered");
    assert_eq!(changed.status(), 200);
    let band: serde_json::Value = client
        .get(running.url(Service::Bands, &format!("/bands/{DEMO_BAND_ID}")))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    let reviews = band["reviews"].as_array().expect("reviews");
    assert_eq!(reviews.len(), 5, "the new count applies at once");
    assert!(
        reviews
            .iter()
            .all(|review| review["uuid"] == reviews[0]["uuid"]),
        "the shared-uuid bug is back"
    );

    for (body, says) in [
        ("{\"paws\": true}", "there is no switch \\\"paws\\\""),
        ("not json", "the body is not JSON"),
    ] {
        let refused = client
            .put(&admin)
            .body(body)
            .send()
            .await
            .expect("answered");
        assert_eq!(refused.status(), 400);
        let text = refused.text().await.expect("a body");
        assert!(text.contains(says), "{text}");
    }
    running.lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bands_api_answers_504_when_reviews_api_hangs_and_502_when_it_is_gone() {
    let mut switches = step(6);
    switches.fail_reviews = Failure::Timeout;
    let running = Running::start(&switches).await;
    let client = reqwest::Client::new();
    let band = running.url(Service::Bands, &format!("/bands/{DEMO_BAND_ID}"));
    let started = std::time::Instant::now();
    let response = client.get(&band).send().await.expect("answered");
    assert_eq!(response.status(), 504);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bands-api gives up after its 2 s timeout, not after reviews-api's 10 s hang"
    );
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(body["error"]
        .as_str()
        .unwrap_or_default()
        .contains("no response within 2000 ms"));
    running.lab.stop().await;

    // bands-api alone, reviews-api nowhere.
    let sink: SpanSink = Arc::new(Mutex::new(Vec::new()));
    let mut alone = args(&step(6));
    // A port nothing listens on: bind one, then let it go.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    alone.reviews_addr = free.local_addr().expect("an address").to_string();
    drop(free);
    let lab = RunningLab::start_with(
        &[Service::Bands],
        &alone,
        &in_memory(),
        Export::Memory(sink.clone()),
    )
    .await
    .expect("starts");
    let port = lab.addrs[0].1.port();
    let response = client
        .get(format!("http://127.0.0.1:{port}/bands/{DEMO_BAND_ID}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 502);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(body["error"]
        .as_str()
        .unwrap_or_default()
        .contains("unreachable"));
    let spans = sink.lock().expect("not poisoned").clone();
    assert!(spans
        .iter()
        .any(|recorded| recorded.span.span_kind == SpanKind::Client
            && matches!(
                recorded.span.status,
                opentelemetry::trace::Status::Error { .. }
            )));
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_origin_may_send_trace_context_and_read_the_answer_headers() {
    let running = Running::start(&step(6)).await;
    let client = reqwest::Client::new();
    let band = running.url(Service::Bands, &format!("/bands/{DEMO_BAND_ID}"));
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, &band)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "traceparent,tracestate")
            .send()
    };
    let allowed = preflight("http://localhost:16686").await.expect("answered");
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header(&allowed, "access-control-allow-origin").as_deref(),
        Some("http://localhost:16686")
    );
    let headers = header(&allowed, "access-control-allow-headers").unwrap_or_default();
    assert!(
        headers.contains("traceparent") && headers.contains("tracestate"),
        "{headers}"
    );
    let other = preflight("http://evil.example").await.expect("answered");
    assert_eq!(header(&other, "access-control-allow-origin"), None);

    let answer = client
        .get(&band)
        .header("origin", "http://127.0.0.1:16686")
        .send()
        .await
        .expect("answered");
    let exposed = header(&answer, "access-control-expose-headers").unwrap_or_default();
    assert!(
        exposed.contains("server-timing") && exposed.contains("trace-id"),
        "{exposed}"
    );
    assert!(header(&answer, "timing-allow-origin")
        .unwrap_or_default()
        .contains("http://127.0.0.1:16686"));
    running.lab.stop().await;
}
