//! The original tracing demo's services, written once: `bands-api`
//! (`GET /bands/{uuid}`, port 8000) calling `reviews-api`
//! (`GET /reviews?band_id=…`, port 8080), and the client that calls them,
//! traced through the OpenTelemetry API; a seeded simulation of the three;
//! and the lesson's six steps as presets of the simulation's switches.
//!
//! ```
//! use tracelab_demo::lesson;
//! use tracelab_demo::sim::make_call;
//!
//! let step = lesson::step(4).expect("the lesson has six steps");
//! let outcome = make_call(&step.switches(), 42);
//! println!("{}", outcome.response_json);
//! for hop in &outcome.hops {
//!     println!("{} -> {}: {:?}", hop.from, hop.to, hop.traceparent());
//! }
//! let trace = outcome.trace();
//! assert!(trace.spans.iter().any(|span| &*span.name == "get_reviews_by_band_id"));
//! ```
//!
//! What it is for: the handlers ([`BandsApi::handle`], [`ReviewsApi::handle`],
//! [`client::get_band`]) are `async fn`s that take a [`Request`] and a
//! [`Services`] (a [`Clock`], a [`Transport`] and the [`Topology`] that says
//! where each service listens) and return a [`Response`]; reviews-api reads
//! through a [`ReviewsDb`]. The same code runs in the browser over
//! [`sim::SimulatedNetwork`], a virtual clock and [`db::SimDb`], polled to
//! the end without a runtime ([`sim::run_ready`]: nothing in the simulation
//! really waits), and natively on tokio behind real HTTP, real time and
//! SQLite. Spans are recorded through the
//! `opentelemetry` SDK with explicit times from the clock; trace context
//! crosses every hop as header text made and read by `tracelab-context`'s
//! `W3cPropagator`. [`sim::make_call`] runs one call and returns the
//! response, each hop's headers and the spans, which [`convert`] turns into
//! `tracelab-trace`'s model for the waterfall; [`diagnose`] reads those
//! traces to say why a request timed out.
//!
//! What it is not for: sockets, HTTP parsing, the DOM, exporting to a
//! collector, or real randomness. The crate does no I/O and compiles for
//! `wasm32-unknown-unknown` and native alike. A native front end converts
//! HTTP to and from [`Request`]/[`Response`] and brings its own transport,
//! clock, exporter and id generator.
//!
//! Determinism: [`sim::make_call`] with the same switches and seed gives the
//! same outcome, bit for bit (ids from [`telemetry::SeededIds`], latency from
//! SplitMix64, a clock starting at [`sim::START_UNIX_NANOS`]).

pub mod bands;
pub mod client;
pub mod convert;
pub mod data;
pub mod db;
pub mod diagnose;
pub mod hops;
pub mod http;
pub mod lesson;
pub mod net;
pub mod reviews;
pub mod server_span;
pub mod sim;
pub mod telemetry;

pub use bands::BandsApi;
pub use db::{ReviewsDb, ReviewsQuery};
pub use http::{Request, Response};
pub use lesson::{Step, STEPS};
pub use net::{BoxFuture, Clock, Endpoint, Service, Services, Topology, Transport, TransportError};
pub use reviews::{Failure, ReviewsApi};
pub use sim::{make_call, CallOutcome, Hop, Switches};
pub use telemetry::RecordedSpan;
