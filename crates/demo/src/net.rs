//! The two seams the handlers are written against: a [`Clock`] (what time it
//! is; pausing) and a [`Transport`] (how a request reaches another service).
//! The simulation ([`crate::sim`]) implements both with a virtual clock and a
//! seeded network; a native build implements them with real time and HTTP.

use std::fmt;

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::http::{Request, Response};

/// The three parties of the demo, named as in the original.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Service {
    /// The script that calls bands-api (`run.py` in the original).
    Client,
    /// `GET /bands/{uuid}`, port 8000.
    Bands,
    /// `GET /reviews?band_id=…`, port 8080.
    Reviews,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Client, Service::Bands, Service::Reviews];

    /// The `service.name` of the service's resource.
    pub fn name(self) -> &'static str {
        match self {
            Service::Client => "client",
            Service::Bands => "bands-api",
            Service::Reviews => "reviews-api",
        }
    }

    /// The port it listens on in the original demo (the client listens on
    /// none); where it really listens is the [`Topology`]'s to say.
    pub fn port(self) -> Option<u16> {
        match self {
            Service::Client => None,
            Service::Bands => Some(8000),
            Service::Reviews => Some(8080),
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A boxed future that can move between threads: what the seams return, so
/// that the handlers can await them natively (on tokio, where a request may
/// move between worker threads) and the simulation can poll them to the end
/// without a runtime (see [`crate::sim::run_ready`]).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the handlers get the time and how they pause. Methods take `&self`
/// so that the network and the handlers can share one clock.
pub trait Clock: Send + Sync {
    /// Now, in nanoseconds since the Unix epoch.
    fn now_unix_nanos(&self) -> u64;
    /// Waits for `duration`: real time natively, an instant jump in the
    /// simulation (whose future is ready when first polled).
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// Why a request got no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// No response arrived within the caller's timeout.
    Timeout(Duration),
    /// The service could not be reached at all; the text says why (the
    /// transport's own error, with its causes).
    Unreachable(String),
}

impl TransportError {
    /// The `error.type` of a client span that failed this way (semantic
    /// conventions: a short, low-cardinality identifier).
    pub fn error_type(&self) -> &'static str {
        match self {
            TransportError::Timeout(_) => "timeout",
            TransportError::Unreachable(_) => "unreachable",
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Timeout(after) => {
                write!(f, "no response within {} ms", after.as_millis())
            }
            TransportError::Unreachable(why) => write!(f, "unreachable: {why}"),
        }
    }
}

impl std::error::Error for TransportError {}

/// How a request, with its header lines, reaches another service and how the
/// response comes back. `&self`, so that a handler can have several calls
/// in flight at once.
pub trait Transport: Send + Sync {
    /// Sends `request` from `from` to `to`, giving up after `timeout`.
    fn send(
        &self,
        from: Service,
        to: Service,
        request: Request,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Response, TransportError>>;
}

/// Where a service listens, as its spans and its callers name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The host callers use (`server.address`), e.g. `localhost` or `127.0.0.1`.
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    pub fn new(host: impl Into<String>, port: u16) -> Endpoint {
        Endpoint {
            host: host.into(),
            port,
        }
    }

    /// `http://host:port` (an IPv6 host in brackets).
    pub fn base_url(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("http://[{}]:{}", self.host, self.port)
        } else {
            format!("http://{}:{}", self.host, self.port)
        }
    }

    /// `host:port`, as in a `Host` header.
    pub fn authority(&self) -> String {
        self.base_url().trim_start_matches("http://").to_owned()
    }
}

/// Where each part of the demo is: the services' addresses and the base of
/// the trace link the client prints. The handlers read hosts and ports from
/// here, never from literals, so a native span's `server.address`,
/// `server.port` and `url.full` say where the request really went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    pub bands: Endpoint,
    pub reviews: Endpoint,
    /// The trace UI the link points at, without a trailing slash:
    /// `http://localhost:16686` as in the original demo.
    pub trace_ui: String,
}

impl Default for Topology {
    /// The original demo's: bands-api on localhost:8000, reviews-api on
    /// localhost:8080, the trace UI on localhost:16686.
    fn default() -> Topology {
        Topology {
            bands: Endpoint::new("localhost", 8000),
            reviews: Endpoint::new("localhost", 8080),
            trace_ui: "http://localhost:16686".to_owned(),
        }
    }
}

impl Topology {
    /// Where `service` listens; `None` for the client, which listens nowhere.
    pub fn endpoint(&self, service: Service) -> Option<&Endpoint> {
        match service {
            Service::Client => None,
            Service::Bands => Some(&self.bands),
            Service::Reviews => Some(&self.reviews),
        }
    }

    /// The URL a transport sends `request` to at `to`; the client, which
    /// listens nowhere, is unreachable. One reading for every transport
    /// (reqwest natively, `fetch` in the browser).
    pub fn url(&self, to: Service, request: &Request) -> Result<String, TransportError> {
        let endpoint = self.endpoint(to).ok_or_else(|| {
            TransportError::Unreachable(format!("{to} does not listen on any address"))
        })?;
        Ok(format!("{}{}", endpoint.base_url(), request.target()))
    }

    /// The link to a trace, as the original client printed it.
    pub fn trace_link(&self, trace_id: &str) -> String {
        format!("{}/trace/{trace_id}", self.trace_ui.trim_end_matches('/'))
    }
}

/// What a handler may use while it handles one request.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub clock: &'a dyn Clock,
    pub transport: &'a dyn Transport,
    pub topology: &'a Topology,
}
