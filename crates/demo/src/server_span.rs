//! The prologue and epilogue every service wraps around its handler: read
//! the caller's context from the request's header text, open the HTTP server
//! span with the semantic conventions' attributes, and at the end record the
//! status, fail the span on a 5xx and tell the caller where the trace is.
//! Written once, so bands-api and reviews-api (simulated or native) cannot
//! differ in how they serve a request.

use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};

use crate::http::{Request, Response};
use crate::net::{Service, Services};
use crate::telemetry::{end_span, fail, start_span, Telemetry};

/// The server span of one request, between [`ServerSpan::start`] and
/// [`ServerSpan::finish`].
pub struct ServerSpan {
    cx: Context,
}

impl ServerSpan {
    /// Continues the caller's trace if the request carries one (the
    /// propagator reads the header text) and opens the server span `name`
    /// for `route`; with tracing off, an empty context and no span.
    pub fn start(
        telemetry: Option<&Telemetry>,
        request: &Request,
        name: &'static str,
        route: &'static str,
        service: Service,
        services: Services<'_>,
    ) -> ServerSpan {
        // Continue the caller's trace if the request carries one (the
        // propagator reads the header text); otherwise this span starts a trace.
        let incoming = telemetry.map_or_else(Context::new, |t| t.extract(&request.headers));
        let cx = start_span(
            telemetry,
            &incoming,
            name,
            SpanKind::Server,
            services.clock.now_unix_nanos(),
            server_attributes(request, route, service, services),
        );
        ServerSpan { cx }
    }

    /// The context holding the server span: the parent of the handler's spans.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// Records the response's status (a 5xx fails the span: a 4xx is the
    /// caller's mistake, as the semantic conventions say), adds the
    /// `trace-id` header (as the original demo did) and `Server-Timing`
    /// with the span's `traceparent` (the convention of OpenTelemetry's
    /// instrumentations, which browsers read from `PerformanceServerTiming`),
    /// and ends the span.
    pub fn finish(self, mut response: Response, services: Services<'_>) -> Response {
        let now = services.clock.now_unix_nanos();
        let span = self.cx.span();
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(response.status),
        ));
        if response.status >= 500 {
            fail(
                &self.cx,
                &response.status.to_string(),
                format!("answered {}", response.status),
            );
        }
        let context = span.span_context();
        if context.is_valid() {
            let trace_id = context.trace_id().to_string();
            let traceparent = format!(
                "00-{trace_id}-{}-{:02x}",
                context.span_id(),
                context.trace_flags().to_u8()
            );
            response.headers.push(("trace-id".to_owned(), trace_id));
            response.headers.push((
                "server-timing".to_owned(),
                format!("traceparent;desc=\"{traceparent}\""),
            ));
        }
        end_span(&self.cx, now);
        response
    }
}

/// The HTTP server span attributes of the semantic conventions, with the
/// address the service really listens on.
fn server_attributes(
    request: &Request,
    route: &str,
    service: Service,
    services: Services<'_>,
) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("http.request.method", request.method.clone()),
        KeyValue::new("url.path", request.path.clone()),
        KeyValue::new("url.scheme", "http"),
        KeyValue::new("http.route", route.to_owned()),
        KeyValue::new("network.protocol.version", "1.1"),
    ];
    if let Some(endpoint) = services.topology.endpoint(service) {
        attributes.push(KeyValue::new("server.address", endpoint.host.clone()));
        attributes.push(KeyValue::new("server.port", i64::from(endpoint.port)));
    }
    if !request.query.is_empty() {
        attributes.push(KeyValue::new("url.query", request.query.clone()));
    }
    attributes
}
