//! Requests and responses as the services see them: a method, a path, a
//! query and a list of header lines, with no socket behind them. The
//! simulated network passes these values; a native HTTP front end converts to
//! and from them, so the handlers are written once.

use opentelemetry::propagation::{Extractor, Injector};
use serde::Serialize;

/// One request, as it reached a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path without the query, e.g. `/bands/553be815-…`.
    pub path: String,
    /// The query without the `?`, e.g. `band_id=553be815-…`; empty when none.
    pub query: String,
    /// Header lines in the order sent; names as sent (matched case-insensitively).
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn get(path: &str, query: &str) -> Request {
        Request {
            method: "GET".to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
        }
    }

    /// A 405 with a JSON error unless the request uses `allowed`: each route
    /// of the demo serves one method.
    pub fn method_not_allowed(&self, allowed: &str) -> Option<Response> {
        (self.method != allowed).then(|| {
            Response::error(
                405,
                &format!("{} is not allowed here; use {allowed}", self.method),
            )
        })
    }

    /// The path and query as on the request line (`/reviews?band_id=…`).
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// The value of query parameter `name`: `None` when absent. No
    /// percent-decoding: every value this demo accepts is a plain uuid, and a
    /// value that needs decoding is rejected as not a uuid.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }
}

/// One response: a status, header lines and a body (JSON for every route).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// A JSON response. Serialising the demo's plain structs cannot fail; if it
    /// ever did, the client gets a 500 saying so rather than a panic.
    pub fn json(status: u16, value: &impl Serialize) -> Response {
        match serde_json::to_string(value) {
            Ok(body) => Response {
                status,
                headers: vec![("content-type".to_owned(), "application/json".to_owned())],
                body,
            },
            Err(error) => {
                Response::error(500, &format!("could not serialise the response: {error}"))
            }
        }
    }

    /// An error with a JSON body `{"error": "…"}` that says what was wrong.
    pub fn error(status: u16, message: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: serde_json::json!({ "error": message }).to_string(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Header lines as OpenTelemetry's carrier: the propagator writes real header
/// text into the request and reads it back on the other side, so context
/// never crosses a hop as a shared Rust value.
pub struct HeaderCarrier<'a>(pub &'a mut Vec<(String, String)>);

impl Injector for HeaderCarrier<'_> {
    /// Replaces any line of the same name: a request carries one `traceparent`.
    fn set(&mut self, key: &str, value: String) {
        self.0.retain(|(name, _)| !name.eq_ignore_ascii_case(key));
        self.0.push((key.to_owned(), value));
    }
}

/// Read-only header lines for extraction.
pub struct HeaderView<'a>(pub &'a [(String, String)]);

impl Extractor for HeaderView<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        header_value(self.0, key)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// Every line of that name, so the propagator can reject duplicates and
    /// combine `tracestate` lines as the spec asks.
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all: Vec<&str> = self
            .0
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
            .collect();
        (!all.is_empty()).then_some(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_found_without_panicking_on_odd_input() {
        let mut request = Request::get("/reviews", "a=1&band_id=x&flag");
        assert_eq!(request.query_param("band_id"), Some("x"));
        assert_eq!(request.query_param("flag"), Some(""));
        assert_eq!(request.query_param("missing"), None);
        request.query = "&&==&".to_owned();
        assert_eq!(request.query_param("band_id"), None);
        assert_eq!(request.target(), "/reviews?&&==&");
    }

    #[test]
    fn injector_replaces_and_extractor_sees_every_line() {
        let mut headers = vec![("TraceParent".to_owned(), "old".to_owned())];
        HeaderCarrier(&mut headers).set("traceparent", "new".to_owned());
        assert_eq!(headers, vec![("traceparent".to_owned(), "new".to_owned())]);
        headers.push(("tracestate".to_owned(), "a=1".to_owned()));
        headers.push(("TRACESTATE".to_owned(), "b=2".to_owned()));
        assert_eq!(
            HeaderView(&headers).get_all("tracestate"),
            Some(vec!["a=1", "b=2"])
        );
    }
}
