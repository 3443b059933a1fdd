//! `tracelab up` as a process, from the side of the app it serves: the UI
//! says where the demo's services listen (their real ports), the services
//! let that origin flip their switches and read their trace headers, and
//! the UI's own port takes OTLP/HTTP JSON, so the browser can export the
//! spans of the calls it makes without CORS.

mod support;

use serde_json::{json, Value};
use support::Tracelab;

/// `tracelab up` on free ports, once bands-api and the UI have said where
/// they listen; its bands-api and UI addresses.
fn start_up() -> (Tracelab, String, String) {
    let args: Vec<&std::ffi::OsStr> = [
        "up",
        "--in-memory",
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
    ]
    .iter()
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
    let status: Value = client
        .get(format!("{origin}/api/tracelab/status"))
        .send()
        .await
        .expect("status answers")
        .json()
        .await
        .expect("status is JSON");
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
