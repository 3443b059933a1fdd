//! The two seams the handlers are written against: a [`Clock`] (what time it
//! is; pausing) and a [`Transport`] (how a request reaches another service).
//! The simulation ([`crate::sim`]) implements both with a virtual clock and a
//! seeded network; a native build implements them with real time and HTTP.

use std::fmt;
use std::time::Duration;

use crate::http::{Request, Response};

/// The three parties of the demo, named as in the original.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

    /// The port it listens on, as in the original demo (the client listens on none).
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

/// Where the handlers get the time and how they pause. Methods take `&self`
/// so that the network and the handlers can share one clock.
pub trait Clock {
    /// Now, in nanoseconds since the Unix epoch.
    fn now_unix_nanos(&self) -> u64;
    /// Waits for `duration`: real time natively, an instant jump in the simulation.
    fn sleep(&self, duration: Duration);
}

/// Why a request got no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// No response arrived within the caller's timeout.
    Timeout(Duration),
    /// The service could not be reached at all.
    Unreachable(String),
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

/// How a request, with its header lines, reaches another service and how the
/// response comes back.
pub trait Transport {
    /// Sends `request` from `from` to `to`, giving up after `timeout`.
    fn send(
        &mut self,
        from: Service,
        to: Service,
        request: Request,
        timeout: Duration,
    ) -> Result<Response, TransportError>;
}

/// What a handler may use while it handles one request.
pub struct Services<'a> {
    pub clock: &'a dyn Clock,
    pub transport: &'a mut dyn Transport,
}
