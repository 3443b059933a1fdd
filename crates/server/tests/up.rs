//! `tracelab up` as a process, from the side of the app it serves: the UI
//! says where the demo's services listen (their real ports), the services
//! let that origin flip their switches and read their trace headers, and
//! the UI's own port takes OTLP/HTTP JSON, so the browser can export the
//! spans of the calls it makes without CORS.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A running `tracelab up` and where its parts listen.
struct Up {
    child: Child,
    bands: String,
    ui: String,
}

impl Up {
    fn start() -> Up {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tracelab"))
            .args([
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
            ])
            .env("TRACELAB_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tracelab up starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let (mut bands, mut ui) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while (bands.is_none() || ui.is_none()) && Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            if line.contains("bands-api") {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    bands = rest.split_whitespace().next().map(str::to_owned);
                }
            }
            if let Some(rest) = line.split("UI and query API on http://").nth(1) {
                ui = Some(rest.trim_end_matches('/').trim().to_owned());
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Up {
            child,
            bands: bands.expect("tracelab up says where bands-api listens"),
            ui: ui.expect("tracelab up says where the UI listens"),
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_finds_calls_and_configures_the_services_and_exports_to_its_own_origin() {
    let up = Up::start();
    let client = reqwest::Client::new();
    let origin = format!("http://{}", up.ui);

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
        Some(format!("http://{}", up.bands).as_str())
    );

    // The page's origin (the UI's real port, not the default 16686) may PUT
    // switches and read the trace headers.
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{}/admin/switches", up.bands),
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
            format!("http://{}/admin/switches", up.bands),
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
