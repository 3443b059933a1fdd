//! `tracelab up` as a process, from the side of the app it serves: the UI
//! says where the demo's services listen (their real ports), the services
//! let that origin flip their switches and read their trace headers, and
//! the UI's own port takes OTLP/HTTP JSON, so the browser can export the
//! spans of the calls it makes without CORS.

mod support;

use serde_json::{json, Value};
use support::Tracelab;

/// `tracelab up --in-memory` on free ports, once bands-api and the UI have
/// said where they listen; its bands-api and UI addresses.
fn start_up() -> (Tracelab, String, String) {
    start_up_with(&["--in-memory"])
}

/// [`start_up`] with `extra` options in place of `--in-memory`.
fn start_up_with(extra: &[&str]) -> (Tracelab, String, String) {
    let args: Vec<&std::ffi::OsStr> = ["up"]
        .iter()
        .chain(extra)
        .chain(&[
            "--bands-addr",
            "127.0.0.1:0",
            "--reviews-addr",
            "127.0.0.1:0",
            "--otlp-grpc-addr",
            "127.0.0.1:0",
            "--otlp-http-addr",
            "127.0.0.1:0",
            "--ui-addr",
            "127.0.0.1:0",
        ])
        .map(std::ffi::OsStr::new)
        .collect();
    let up = Tracelab::start(&args, |announced| {
        announced.bands.is_some() && announced.ui.is_some()
    });
    let bands = up
        .announced
        .bands
        .clone()
        .expect("tracelab up says where bands-api listens");
    let ui = up
        .announced
        .ui
        .clone()
        .expect("tracelab up says where the UI listens");
    (up, bands, ui)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_finds_calls_and_configures_the_services_and_exports_to_its_own_origin() {
    let (_up, bands, ui) = start_up();
    let client = reqwest::Client::new();
    let origin = format!("http://{ui}");

    // The status names each service with the port it really bound.
    let status = status(&client, &ui).await;
    let services = status["services"].as_array().expect("services listed");
    let names: Vec<&str> = services.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["bands-api", "reviews-api"], "{status}");
    assert_eq!(
        services[0]["url"].as_str(),
        Some(format!("http://{bands}").as_str())
    );

    // The page's origin (the UI's real port, not the default 16686) may PUT
    // switches and read the trace headers.
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{bands}/admin/switches"),
        )
        .header("origin", &origin)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight answers");
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some(origin.as_str()),
        "the UI's origin is allowed"
    );
    let other = client
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{bands}/admin/switches"),
        )
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .expect("preflight answers");
    assert!(
        other.headers().get("access-control-allow-origin").is_none(),
        "no other origin is"
    );

    // OTLP/HTTP JSON on the UI's port is stored like any other export.
    let trace_id = "5b8efff798038103d269b633813fc60c";
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "browser"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": trace_id, "spanId": "eee19b7ec3c1b174", "name": "get_band",
            "kind": 1, "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000000005000000"
        }]}]
    }]});
    let export = client
        .post(format!("{origin}/v1/traces"))
        .json(&body)
        .send()
        .await
        .expect("export answers");
    assert_eq!(export.status(), 200, "{:?}", export.text().await);
    let stored: Value = client
        .get(format!("{origin}/api/traces/{trace_id}"))
        .send()
        .await
        .expect("query answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(stored["data"][0]["spans"][0]["operationName"], "get_band");
}

/// `GET /api/tracelab/status` of the UI at `ui`.
async fn status(client: &reqwest::Client, ui: &str) -> Value {
    client
        .get(format!("http://{ui}/api/tracelab/status"))
        .send()
        .await
        .expect("status answers")
        .json()
        .await
        .expect("status is JSON")
}

/// The spans `tracelab up` has stored, from its UI's status.
async fn stored_spans(client: &reqwest::Client, ui: &str) -> u64 {
    let status = status(client, ui).await;
    status["store"]["spans"]
        .as_u64()
        .unwrap_or_else(|| panic!("a span count in {status}"))
}

/// SIGTERM, with the exporters and the collector each on a runtime of
/// their own: the services finish, their SDKs flush to the collector,
/// which commits, all before exit. Each call's 6 spans are still in the
/// batch processors' queues when the signal comes (they export every 5 s),
/// so none is stored unless the shutdown flushes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stores_every_span_of_every_answered_request_before_exit() {
    let dir = std::env::temp_dir().join(format!("tracelab-up-sigterm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_text = dir
        .to_str()
        .expect("a UTF-8 temporary directory")
        .to_owned();
    let client = reqwest::Client::new();
    const CALLS: u64 = 20;
    {
        let (mut up, bands, ui) = start_up_with(&["--data-dir", &dir_text, "--step", "6"]);
        for _ in 0..CALLS {
            let response = client
                .get(format!(
                    "http://{bands}/bands/553be815-76f3-49db-b9d7-caca4b23cc3e"
                ))
                .send()
                .await
                .expect("bands-api answers");
            assert_eq!(response.status(), 200);
        }
        assert_eq!(stored_spans(&client, &ui).await, 0, "nothing exported yet");
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &up.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let status = loop {
            if let Some(status) = up.child.try_wait().expect("waits") {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "tracelab up still running 30 s after SIGTERM"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert!(status.success(), "tracelab up exits cleanly: {status}");
    }
    let (_up, _bands, ui) = start_up_with(&["--data-dir", &dir_text]);
    assert_eq!(stored_spans(&client, &ui).await, 6 * CALLS);
    let _ = std::fs::remove_dir_all(&dir);
}
