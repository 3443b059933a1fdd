//! The client: the original's `run.py`, which opened a span, sent its context
//! to bands-api and printed the band. Written over [`Services`] like the
//! services, so a native command could run it against real HTTP.

use std::time::Duration;

use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};

use crate::bands::{base_headers, ROUTE};
use crate::http::{Request, Response};
use crate::net::{Service, Services, TransportError};
use crate::telemetry::{end_span, fail, log, start_span, Telemetry};

/// How long the client waits for bands-api: longer than the planted pause
/// plus the downstream timeout, so the client sees whatever bands-api answers.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// What the client got, and the trace-id of its own span when it traced one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientResult {
    pub response: Result<Response, TransportError>,
    /// The trace-id of the client's `get_band` span, when the client is traced.
    pub trace_id: Option<String>,
}

/// Asks bands-api for the band `band_id`, in a `get_band` span (the client's
/// operation) around an HTTP client span whose context goes into the
/// request's headers when `propagate` is on.
pub async fn get_band(
    telemetry: Option<&Telemetry>,
    propagate: bool,
    band_id: &str,
    services: Services<'_>,
) -> ClientResult {
    let clock = services.clock;
    let root = start_span(
        telemetry,
        &Context::new(),
        "get_band",
        SpanKind::Internal,
        clock.now_unix_nanos(),
        vec![KeyValue::new("app.band.id", band_id.to_owned())],
    );
    let bands = &services.topology.bands;
    let mut request = Request::get(&format!("/bands/{band_id}"), "");
    let http = start_span(
        telemetry,
        &root,
        "GET /bands/:id",
        SpanKind::Client,
        clock.now_unix_nanos(),
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.full", format!("{}{}", bands.base_url(), request.path)),
            KeyValue::new("url.template", ROUTE),
            KeyValue::new("server.address", bands.host.clone()),
            KeyValue::new("server.port", i64::from(bands.port)),
        ],
    );
    request.headers = base_headers(Service::Bands, services);
    if let (Some(telemetry), true) = (telemetry, propagate) {
        telemetry.inject(&http, &mut request.headers);
    }
    let response = services
        .transport
        .send(Service::Client, Service::Bands, request, TIMEOUT)
        .await;
    let now = services.clock.now_unix_nanos();
    match &response {
        Ok(answer) => {
            http.span().set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(answer.status),
            ));
            if answer.status >= 400 {
                let message = format!("bands-api answered {}", answer.status);
                fail(&http, &answer.status.to_string(), message.clone());
                fail(&root, &answer.status.to_string(), message);
            }
        }
        Err(error) => {
            fail(&http, error.error_type(), format!("bands-api: {error}"));
            fail(&root, error.error_type(), format!("bands-api: {error}"));
        }
    }
    end_span(&http, now);
    let context = root.span().span_context().clone();
    if context.is_valid() {
        // The original printed the link to its trace after the response.
        log(
            &root,
            now,
            format!(
                "trace: {}",
                services
                    .topology
                    .trace_link(&context.trace_id().to_string())
            ),
        );
    }
    end_span(&root, now);
    ClientResult {
        response,
        trace_id: context.is_valid().then(|| context.trace_id().to_string()),
    }
}
