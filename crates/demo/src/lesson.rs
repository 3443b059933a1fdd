//! The original demo's walk-through as six steps, each a preset of the
//! [`Switches`] with a few sentences on what the instrumentation does at that
//! point, where in this crate the code that does it lives, and a short
//! excerpt of that code (kept verbatim: `tests/lesson_excerpts.rs` checks
//! each excerpt against its file).

use crate::sim::Switches;

/// One step of the lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1 to 6, the page's `data-step`.
    pub number: u8,
    pub title: &'static str,
    /// Two or three sentences: what the OpenTelemetry SDK creates, injects or
    /// extracts at this step, and why.
    pub explanation: &'static str,
    /// The code that does it, as `file::function`.
    pub code: &'static str,
    /// A few lines of that code, shown beside the explanation.
    pub excerpts: &'static [Excerpt],
}

/// A few lines of the real code, as they are in `file` (indented from the
/// excerpt's first line). A line holding only [`ELISION`] stands for lines
/// left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Excerpt {
    /// The file, from the workspace root: `crates/demo/src/bands.rs`.
    pub file: &'static str,
    /// Where in it: `BandsApi::handle`.
    pub function: &'static str,
    pub code: &'static str,
}

/// The line in an excerpt that stands for lines left out.
pub const ELISION: &str = "// …";

pub const STEPS: [Step; 6] = [
    Step {
        number: 1,
        title: "Start the services and make a call",
        explanation: "The client asks bands-api for a band and bands-api asks reviews-api for its \
            reviews. Nothing is instrumented: no tracer provider exists, no span is recorded and no \
            traceparent header is sent, so the response is all there is to see.",
        code: "crates/demo/src/telemetry.rs::start_span, client.rs::get_band, bands.rs::BandsApi::handle",
        excerpts: &[Excerpt {
            file: "crates/demo/src/telemetry.rs",
            function: "start_span",
            code: "\
/// Starts a span when the service is traced; otherwise returns `parent`
/// unchanged, so the handler code reads the same with tracing off.
pub fn start_span(
    telemetry: Option<&Telemetry>,
// …
) -> Context {
    match telemetry {
        Some(telemetry) => telemetry.start(parent, name, kind, start_unix_nanos, attributes),
        None => parent.clone(),
    }
}",
        }],
    },
    Step {
        number: 2,
        title: "Add tracing to bands-api",
        explanation: "bands-api gets a tracer provider with its resource (service.name, \
            service.version) and records a server span, an internal get_reviews span and an HTTP \
            client span, which it injects into the call to reviews-api as a traceparent. The \
            client sends no context, so the propagator extracts nothing and bands-api's server span \
            is the root of a new trace.",
        code: "crates/demo/src/bands.rs::BandsApi::handle, BandsApi::call_reviews, server_span.rs::ServerSpan::start, telemetry.rs::Telemetry::start",
        excerpts: &[Excerpt {
            file: "crates/demo/src/server_span.rs",
            function: "ServerSpan::start",
            code: "\
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
);",
        }],
    },
    Step {
        number: 3,
        title: "Propagate context from the caller",
        explanation: "The client now traces too: it opens get_band and an HTTP client span, and the \
            W3C propagator writes that span's ids into the traceparent header (and adds a tracestate \
            entry). bands-api extracts the header, so its server span becomes a child of the \
            client's span: same trace-id, the client's span-id as parent-id.",
        code: "crates/demo/src/client.rs::get_band, telemetry.rs::Telemetry::inject, Telemetry::extract",
        excerpts: &[Excerpt {
            file: "crates/demo/src/client.rs",
            function: "get_band",
            code: "\
let http = start_span(
    telemetry,
    &root,
    \"GET /bands/:id\",
    SpanKind::Client,
// …
request.headers = base_headers(Service::Bands, services);
if let (Some(telemetry), true) = (telemetry, propagate) {
    telemetry.inject(&http, &mut request.headers);
}
let response = services
    .transport
    .send(Service::Client, Service::Bands, request, TIMEOUT)
    .await;",
        }],
    },
    Step {
        number: 4,
        title: "Add tracing to reviews-api",
        explanation: "reviews-api extracts the traceparent bands-api sent and continues the trace in \
            its server span, with the data lookup in get_reviews_by_band_id and the query in a \
            database span (db.system.name, db.query.text). Each hop's traceparent keeps the \
            trace-id and carries a new parent-id: the span that made the call.",
        code: "crates/demo/src/reviews.rs::ReviewsApi::handle, ReviewsApi::query",
        excerpts: &[
            Excerpt {
                file: "crates/demo/src/reviews.rs",
                function: "ReviewsApi::handle",
                code: "\
let server = ServerSpan::start(
    telemetry,
    &request,
    \"GET /reviews?:band_id\",
    \"/reviews\",
    Service::Reviews,",
            },
            Excerpt {
                file: "crates/demo/src/reviews.rs",
                function: "ReviewsApi::query",
                code: "\
vec![
    KeyValue::new(\"db.system.name\", DB_SYSTEM),
    KeyValue::new(\"db.namespace\", DB_NAMESPACE),
    KeyValue::new(\"db.collection.name\", \"reviews\"),
    KeyValue::new(\"db.operation.name\", \"SELECT\"),
    KeyValue::new(\"db.query.text\", query.text()),
],",
            },
        ],
    },
    Step {
        number: 5,
        title: "Find the slow part",
        explanation: "Read the waterfall: a 5 s gap inside get_reviews before the call to \
            reviews-api is a debugging pause left in the code, and a staircase of SELECT spans is \
            one query per review, run one after another. The response shows the third problem: every \
            review has the same uuid and timestamp.",
        code: "crates/demo/src/bands.rs::BandsApi::get_reviews, reviews.rs::ReviewsApi::get_reviews_by_band_id",
        excerpts: &[
            Excerpt {
                file: "crates/demo/src/bands.rs",
                function: "BandsApi::get_reviews",
                code: "\
if self.debug_pause {
    // The planted problem: left over from debugging, it shows in the
    // waterfall as a 5 s gap before the call to reviews-api.
    log(&cx, clock.now_unix_nanos(), \"debugging: pausing for 5 s\");
    clock.sleep(Self::DEBUG_PAUSE).await;
}",
            },
            Excerpt {
                file: "crates/demo/src/reviews.rs",
                function: "ReviewsApi::get_reviews_by_band_id",
                code: "\
let result = if self.slow_reviews {
    // The planted problem: one query per review, one after another,
    // drawn in the waterfall as a staircase.
    self.one_query_per_review(band_id, limit, &cx, services)
        .await",
            },
        ],
    },
    Step {
        number: 6,
        title: "Fix the bugs",
        explanation: "The pause is removed, the reviews are read in one query, and each review keeps \
            its own uuid and creation time instead of a default computed once. Make a call: the \
            trace is a few milliseconds long and its shape shows exactly where that time goes.",
        code: "crates/demo/src/reviews.rs::ReviewsApi::get_reviews_by_band_id, ReviewsApi::review, bands.rs::BandsApi::get_reviews",
        excerpts: &[
            Excerpt {
                file: "crates/demo/src/reviews.rs",
                function: "ReviewsApi::get_reviews_by_band_id",
                code: "\
} else {
    // The fix: all of the band's reviews in one query.
    let all = ReviewsQuery::All {
        band_id: band_id.to_owned(),
        limit,
    };
    self.query(&cx, services, all, Duration::ZERO).await
};",
            },
            Excerpt {
                file: "crates/demo/src/reviews.rs",
                function: "ReviewsApi::review",
                code: "\
} else {
    Review {
        uuid: row.uuid,
        body: review_body(number, of),
        created: row.created,
    }
}",
            },
        ],
    },
];

/// The step numbered `number` (1 to 6).
pub fn step(number: u8) -> Option<&'static Step> {
    STEPS.iter().find(|step| step.number == number)
}

impl Step {
    /// The switches this step starts from; the person may change any of them.
    pub fn switches(&self) -> Switches {
        let mut switches = Switches::default();
        if self.number >= 2 {
            switches.trace_bands = true;
            // bands-api injects as the original's did; nobody reads it yet.
            switches.propagate_bands = true;
        }
        if self.number >= 3 {
            switches.trace_client = true;
            switches.propagate_client = true;
            switches.tracestate = true;
        }
        if self.number >= 4 {
            switches.trace_reviews = true;
        }
        if self.number >= 6 {
            switches.pause_bands = false;
            switches.slow_reviews = false;
            switches.shared_uuid = false;
        }
        switches
    }
}
