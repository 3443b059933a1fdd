//! Serving an axum [`Router`] on a TCP listener with every network input
//! bounded: at most [`Limits::max_connections`] connections at once (the
//! next waits in the kernel's backlog until one closes), a deadline for a
//! request's headers (a client that trickles them is cut off), a cap on
//! their size (431, or 414 when the URI alone is too long), and a graceful stop that lets requests
//! in flight finish.
//!
//! axum's own `serve` configures none of these, which is why this exists.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// What a server accepts from the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// The largest request head (request line and headers) read; a larger
    /// one is answered 431 Request Header Fields Too Large (414 URI Too Long
    /// when the URI alone is larger).
    pub max_head_bytes: usize,
    /// How long requests in flight may take to finish once a stop is asked.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            max_head_bytes: 64 * 1024,
            drain_timeout: Duration::from_secs(15),
        }
    }
}

/// The longest URI hyper reads; a longer one it answers 414 itself.
const MAX_URI_BYTES: usize = 64 * 1024;

/// Answers 431 with a JSON error when the request line and headers are
/// larger than `max_bytes`.
async fn limit_head(
    request: axum::extract::Request,
    next: axum::middleware::Next,
    max_bytes: usize,
) -> axum::response::Response {
    let size = request.uri().to_string().len()
        + request
            .headers()
            .iter()
            // "name: value\r\n"
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if size > max_bytes {
        // A URI that alone is over the limit is 414 URI Too Long, which says
        // what to shorten; otherwise the headers are, 431.
        let uri_len = request.uri().to_string().len();
        let (status, what, len) = if uri_len > max_bytes {
            (axum::http::StatusCode::URI_TOO_LONG, "URI", uri_len)
        } else {
            (
                axum::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers",
                size,
            )
        };
        let body = serde_json::json!({
            "error": format!(
                "the request's {what} are {len} bytes; this server reads at most {max_bytes}"
            )
        });
        let mut response = axum::response::Response::new(axum::body::Body::from(body.to_string()));
        *response.status_mut() = status;
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        return response;
    }
    next.run(request).await
}

/// Binds `addr` (`host:port`), saying which address could not be bound and why.
pub async fn bind(addr: &str, what: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr).await.map_err(|error| {
        let hint = if error.kind() == std::io::ErrorKind::AddrInUse {
            " (is another tracelab, or the original demo, already running? choose another port with --addr)"
        } else {
            ""
        };
        format!("cannot listen on {addr} for {what}: {error}{hint}")
    })
}

/// Serves `router` on `listener` until `stop` completes, then lets the
/// requests in flight finish (for at most `limits.drain_timeout`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // Room for a URI as long as hyper reads (64 KiB) beside the headers
        // allowed: a longer URI is then answered 414 URI Too Long by hyper,
        // and a shorter one over the limit 414 by `limit_head`, rather than
        // 431 for headers the client did not send. Only a head over both
        // (over 128 KiB by default) is cut off with hyper's 431.
        .max_buf_size(limits.max_head_bytes.max(8192) + MAX_URI_BYTES);
    // hyper applies `max_buf_size` to a connection's first request only;
    // later requests on a kept-alive connection are measured here.
    let max_head = limits.max_head_bytes;
    let router = router.layer(axum::middleware::from_fn(move |request, next| {
        limit_head(request, next, max_head)
    }));
    let mut stop = std::pin::pin!(stop);
    loop {
        // A permit first: past the limit, connections wait in the backlog.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!("accepting a connection failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are a client's (a reset, a malformed request that
            // hyper already answered); nothing to do but close.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still running after {} s were cut off",
            limits.drain_timeout.as_secs()
        );
    }
}

/// Ctrl-C, or SIGTERM on Unix: what stops every long-running command.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A client that trickles its headers is cut off after the deadline,
    /// and past the connection limit a new client waits instead of being
    /// served.
    #[tokio::test]
    async fn slow_clients_are_cut_off_and_connections_are_bounded() {
        let listener = bind("127.0.0.1:0", "a test").await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        let limits = Limits {
            max_connections: 1,
            header_timeout: Duration::from_millis(300),
            max_head_bytes: 8192,
            drain_timeout: Duration::from_secs(1),
        };
        let router = Router::new().route("/", axum::routing::get(|| async { "hello" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, limits, async move {
            let _ = stopped.await;
        }));

        let mut slow = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("writes");
        // The one connection is taken: a second client is not served yet.
        let mut waiting = tokio::net::TcpStream::connect(addr).await.expect("queued");
        waiting
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("writes");
        let mut buffer = [0u8; 256];
        let early =
            tokio::time::timeout(Duration::from_millis(150), waiting.read(&mut buffer)).await;
        assert!(early.is_err(), "served past the connection limit");

        // The slow client is cut off at its deadline (hyper answers 408
        // or closes), which frees the slot for the waiting one.
        let mut rest = Vec::new();
        let cut = tokio::time::timeout(Duration::from_secs(3), slow.read_to_end(&mut rest)).await;
        assert!(cut.is_ok(), "the slow client was not cut off");
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(3), waiting.read_to_end(&mut answer))
            .await
            .expect("the waiting client is served")
            .expect("reads");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("hello"), "{answer}");

        let _ = stop.send(());
        server.await.expect("the server stops");
    }
}
