//! The Content-Security-Policy that makes the browser itself enforce what
//! each page promises about its connections (`fetch`, `EventSource`,
//! `WebSocket`, beacons: CSP's `connect-src`):
//!
//! - the pages that promise no request (Home, Decode, Build, Simulate,
//!   Sample) allow none: `connect-src 'none'`;
//! - the Trace page talks to the server that served it: `'self'`;
//! - the Live page to that server and the demo's services it names.
//!
//! The policy is a `<meta http-equiv="Content-Security-Policy">` added to
//! the document once the app has loaded (the app's own wasm is fetched,
//! which `connect-src 'none'` would refuse; Trunk's page can carry no
//! policy that would allow it and nothing else). Policies only add up: a
//! document can be made stricter, never looser again. So a page that needs
//! more than the document now allows is loaded afresh (a new document,
//! with no policy) rather than drawn — which happens only when the person
//! goes from a stricter page to a looser one inside the trace pages' app.
//!
//! Workers are not bound by their page's `<meta>` policy: the Simulate
//! page's worker (the simulation, and the Live page's real calls) is
//! watched by the browser tests instead.

use std::cell::RefCell;

thread_local! {
    /// The sources this document may still connect to: `None` before any
    /// policy, then the intersection of every policy added.
    static ALLOWED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// What CSP's `connect-src` says for `sources` (`'none'` for no source).
pub fn connect_src(sources: &[&str]) -> String {
    if sources.is_empty() {
        "connect-src 'none'".to_owned()
    } else {
        format!("connect-src {}", sources.join(" "))
    }
}

/// The sources allowed after a policy for `sources` is added to a document
/// that allowed `allowed` (`None`: anything): their intersection.
fn narrowed(allowed: Option<&[String]>, sources: &[&str]) -> Vec<String> {
    sources
        .iter()
        .filter(|source| allowed.is_none_or(|allowed| allowed.iter().any(|a| a == *source)))
        .map(|source| (*source).to_owned())
        .collect()
}

/// Whether a document that allows `allowed` lets a page connect to every
/// one of `sources`.
fn permits(allowed: Option<&[String]>, sources: &[&str]) -> bool {
    match allowed {
        None => true,
        Some(allowed) => sources
            .iter()
            .all(|source| allowed.iter().any(|a| a == source)),
    }
}

/// Whether this document has no policy yet: anything is allowed.
pub fn unrestricted() -> bool {
    ALLOWED.with(|allowed| allowed.borrow().is_none())
}

/// Whether this document may still connect to every one of `sources`.
pub fn permits_now(sources: &[&str]) -> bool {
    ALLOWED.with(|allowed| permits(allowed.borrow().as_deref(), sources))
}

/// Lets this document connect to `sources` at most (none when empty), from
/// now on: the browser refuses anything else and reports it.
pub fn restrict(sources: &[&str]) {
    let already = ALLOWED.with(|allowed| {
        allowed
            .borrow()
            .as_deref()
            .is_some_and(|allowed| narrowed(Some(allowed), sources).len() == allowed.len())
    });
    if already {
        return;
    }
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    let Ok(meta) = document.create_element("meta") else {
        return;
    };
    let _ = meta.set_attribute("http-equiv", "Content-Security-Policy");
    let _ = meta.set_attribute("content", &connect_src(sources));
    let _ = meta.set_attribute("data-testid", "csp");
    if let Some(head) = document.head() {
        if head.append_child(&meta).is_ok() {
            ALLOWED.with(|allowed| {
                let now = narrowed(allowed.borrow().as_deref(), sources);
                *allowed.borrow_mut() = Some(now);
            });
        }
    }
}

/// For a page whose connections are known only once it runs (the Live
/// page: the services' addresses come from the server): `true` when this
/// document has no policy yet; otherwise, as [`may_connect`], it starts
/// loading the page afresh and returns `false`.
pub fn may_connect_anywhere() -> bool {
    unrestricted() || {
        reload();
        false
    }
}

/// Loads the page afresh, in place of this document.
fn reload() {
    crate::pages::load_afresh();
}

/// For a page that connects to `sources`: `true` when this document may;
/// otherwise it starts loading the page afresh (a new document has no
/// policy) and returns `false`, and the page should draw nothing more.
pub fn may_connect(sources: &[&str]) -> bool {
    permits_now(sources) || {
        reload();
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_only_narrow() {
        let services = ["'self'", "http://127.0.0.1:8000"];
        let after_live = narrowed(None, &services);
        assert!(permits(Some(&after_live), &["'self'"]));
        assert!(permits(Some(&after_live), &services));
        let after_trace = narrowed(Some(&after_live), &["'self'"]);
        assert_eq!(after_trace, ["'self'"]);
        assert!(!permits(Some(&after_trace), &services), "no way back");
        let after_sample = narrowed(Some(&after_trace), &[]);
        assert!(after_sample.is_empty());
        assert!(permits(Some(&after_sample), &[]));
        assert!(!permits(Some(&after_sample), &["'self'"]));
        // A source the document never allowed stays refused.
        assert!(narrowed(Some(&after_trace), &["http://elsewhere"]).is_empty());
        assert!(permits(None, &services));
    }

    #[test]
    fn the_directive_names_none_or_the_sources() {
        assert_eq!(connect_src(&[]), "connect-src 'none'");
        assert_eq!(
            connect_src(&["'self'", "http://127.0.0.1:8000"]),
            "connect-src 'self' http://127.0.0.1:8000"
        );
    }
}
