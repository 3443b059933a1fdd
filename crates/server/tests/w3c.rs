//! `tracelab w3c-test-service` against the processing rules the W3C Trace
//! Context validation harness checks (`test/test.py` of
//! github.com/w3c/trace-context), without the harness: the service runs in
//! this process on a free port, a small receiver stands in for the
//! harness's callback endpoint and records every request it gets, and each
//! case posts `/test` with the harness's headers, written on the wire
//! exactly as given (names in any case, repeated, empty), then checks the
//! `traceparent` and `tracestate` the receiver got. Each case is named after
//! the harness test it mirrors.
//!
//! The table runs twice: with the service's own `tracestate` entry added
//! (the default) and with `--pass-through`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tracelab_context::{TraceParent, TraceState};
use tracelab_server::serve::{self, Limits};
use tracelab_server::w3c::{self, W3cService, MAX_BODY_BYTES};

const TRACE_ID: &str = "12345678901234567890123456789012";
const PARENT_ID: &str = "1234567890123456";
const ZERO_TRACE_ID: &str = "00000000000000000000000000000000";

fn tp(flags: &str) -> String {
    format!("00-{TRACE_ID}-{PARENT_ID}-{flags}")
}

// ---------------------------------------------------------------------------
// The receiver and the service

/// One request the receiver got: its path, header lines and body.
#[derive(Clone, Debug)]
struct Callback {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Callback {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The one `traceparent`, valid and of version 00, as the harness's
    /// `get_traceparent` demands.
    fn traceparent(&self) -> TraceParent {
        let all = self.all("traceparent");
        assert_eq!(all.len(), 1, "expect one traceparent, got {all:?}");
        let traceparent = TraceParent::parse(all[0])
            .unwrap_or_else(|e| panic!("an invalid traceparent was sent: {:?}: {e}", all[0]));
        assert!(all[0].starts_with("00-"), "sent as version 00: {}", all[0]);
        traceparent
    }

    /// Every `tracestate` line, combined; `None` when there was none.
    fn tracestate(&self) -> Option<String> {
        let all = self.all("tracestate");
        (!all.is_empty()).then(|| all.join(","))
    }
}

type Recorded = Arc<Mutex<Vec<Callback>>>;

async fn record(
    State(recorded): State<Recorded>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    let callback = Callback {
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    if let Ok(mut recorded) = recorded.lock() {
        recorded.push(callback);
    }
    axum::Json(json!({ "ok": true }))
}

/// Serves `router` on a free port of 127.0.0.1 until the sender is dropped
/// or used.
async fn start(router: axum::Router) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = serve::bind("127.0.0.1:0", "a test").await.expect("binds");
    let addr = listener.local_addr().expect("an address");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve::serve(
        listener,
        router,
        Limits::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    (addr, stop)
}

struct Lab {
    service: SocketAddr,
    receiver: SocketAddr,
    recorded: Recorded,
    _stops: [oneshot::Sender<()>; 2],
}

impl Lab {
    async fn start(pass_through: bool) -> Lab {
        let recorded: Recorded = Arc::new(Mutex::new(Vec::new()));
        let receiver = axum::Router::new()
            .fallback(record)
            .with_state(recorded.clone());
        let (receiver, stop_receiver) = start(receiver).await;
        let service = W3cService::new(Duration::from_secs(3), pass_through).expect("a client");
        let (service, stop_service) = start(w3c::router(service)).await;
        Lab {
            service,
            receiver,
            recorded,
            _stops: [stop_receiver, stop_service],
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.receiver)
    }

    /// Posts `/test` asking for one callback per path, and returns the
    /// service's answer and the callbacks the receiver got, in order.
    async fn run(&self, headers: &[(&str, &str)], paths: &[String]) -> (u16, Value, Vec<Callback>) {
        let body = Value::Array(
            paths
                .iter()
                .map(|path| json!({ "url": self.url(path), "arguments": [] }))
                .collect(),
        );
        let (status, answer) = post_raw(self.service, "/test", headers, &body.to_string()).await;
        let callbacks = self
            .recorded
            .lock()
            .map(|recorded| {
                recorded
                    .iter()
                    .filter(|callback| paths.contains(&callback.path))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        (status, answer, callbacks)
    }
}

/// A POST written byte for byte as given, so header names keep their case,
/// repeat, and may be empty, as the harness's aiohttp client sends them.
async fn post_raw(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the service answers in time")
        .expect("reads");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let json = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, json)
}

// ---------------------------------------------------------------------------
// The cases

/// What the receiver must get.
#[derive(Clone, Debug)]
enum Expect {
    /// The harness's trace continues: its trace-id, a new parent-id, these
    /// flags, and this tracestate kept (before the service's own entry).
    Continue {
        flags: u8,
        tracestate: Option<String>,
    },
    /// A new trace: none of the incoming trace-ids, no incoming tracestate.
    Restart,
}

struct Case {
    /// The harness test this mirrors (`Class.test_name`, with a note when
    /// one test sends several header sets).
    harness_test: &'static str,
    headers: Vec<(&'static str, String)>,
    expect: Expect,
}

fn continues(flags: u8, tracestate: Option<&str>) -> Expect {
    Expect::Continue {
        flags,
        tracestate: tracestate.map(str::to_owned),
    }
}

fn case(harness_test: &'static str, headers: Vec<(&'static str, String)>, expect: Expect) -> Case {
    Case {
        harness_test,
        headers,
        expect,
    }
}

fn with_tp(flags: &str, more: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut headers = vec![("traceparent", tp(flags))];
    headers.extend(more.iter().cloned());
    headers
}

fn ts(value: impl Into<String>) -> (&'static str, String) {
    ("tracestate", value.into())
}

fn bars(from: usize, to: usize) -> String {
    (from..=to)
        .map(|i| format!("bar{i:02}={i:02}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let restart = || Expect::Restart;
    let invalid_traceparent = |name: &'static str, value: &str| case(name, vec![("traceparent", value.to_owned())], Expect::Restart);
    let key_without_vendor = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    let key_with_vendor = format!("{key_without_vendor}@a-z0-9_-*/");
    let all_value_chars: String = (0x20u8..=0x7e).filter(|b| *b != b',' && *b != b'=').map(char::from).collect();
    let member = |key: &str| format!("{key}={all_value_chars}");
    let long_multi_tenant = format!("{}@{}", "t".repeat(241), "v".repeat(14));
    let long_tenant = format!("{}@v", "t".repeat(242));
    let long_system = format!("t@{}", "v".repeat(15));
    vec![
        case("TraceContextTest.test_both_traceparent_and_tracestate_missing", vec![], restart()),
        case("TraceContextTest.test_traceparent_included_tracestate_missing", with_tp("01", &[]), continues(0x01, None)),
        case("TraceContextTest.test_traceparent_duplicated", vec![("traceparent", format!("00-{}1-{PARENT_ID}-01", &TRACE_ID[..31])), ("traceparent", tp("01"))], restart()),
        case("TraceContextTest.test_traceparent_header_name (trace-parent)", vec![("trace-parent", tp("01"))], restart()),
        case("TraceContextTest.test_traceparent_header_name (trace.parent)", vec![("trace.parent", tp("01"))], restart()),
        case("TraceContextTest.test_traceparent_header_name_valid_casing (TraceParent)", vec![("TraceParent", tp("01"))], continues(0x01, None)),
        case("TraceContextTest.test_traceparent_header_name_valid_casing (TrAcEpArEnT)", vec![("TrAcEpArEnT", tp("01"))], continues(0x01, None)),
        case("TraceContextTest.test_traceparent_header_name_valid_casing (TRACEPARENT)", vec![("TRACEPARENT", tp("01"))], continues(0x01, None)),
        invalid_traceparent("TraceContextTest.test_traceparent_version_0x00 (trailing '.')", &format!("{}.", tp("01"))),
        invalid_traceparent("TraceContextTest.test_traceparent_version_0x00 (trailing fields)", &format!("{}-what-the-future-will-be-like", tp("01"))),
        case("TraceContextTest.test_traceparent_version_0xcc", vec![("traceparent", format!("cc-{TRACE_ID}-{PARENT_ID}-01"))], continues(0x01, None)),
        case("TraceContextTest.test_traceparent_version_0xcc (future fields)", vec![("traceparent", format!("cc-{TRACE_ID}-{PARENT_ID}-01-what-the-future-will-be-like"))], continues(0x01, None)),
        invalid_traceparent("TraceContextTest.test_traceparent_version_0xcc (no '-' after the flags)", &format!("cc-{TRACE_ID}-{PARENT_ID}-01.what-the-future-will-be-like")),
        invalid_traceparent("TraceContextTest.test_traceparent_version_0xff", &format!("ff-{TRACE_ID}-{PARENT_ID}-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_version_illegal_characters (.0)", &format!(".0-{TRACE_ID}-{PARENT_ID}-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_version_illegal_characters (0.)", &format!("0.-{TRACE_ID}-{PARENT_ID}-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_version_too_long (000)", &format!("000-{TRACE_ID}-{PARENT_ID}-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_version_too_long (0000)", &format!("0000-{TRACE_ID}-{PARENT_ID}-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_version_too_short", &format!("0-{TRACE_ID}-{PARENT_ID}-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_trace_id_all_zero", &format!("00-{ZERO_TRACE_ID}-{PARENT_ID}-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_trace_id_illegal_characters (first)", &format!("00-.{}-{PARENT_ID}-01", &TRACE_ID[1..])),
        invalid_traceparent("TraceContextTest.test_traceparent_trace_id_illegal_characters (last)", &format!("00-{}.-{PARENT_ID}-01", &TRACE_ID[..31])),
        invalid_traceparent("TraceContextTest.test_traceparent_trace_id_too_long", &format!("00-{TRACE_ID}3-{PARENT_ID}-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_trace_id_too_short", &format!("00-{}-{PARENT_ID}-01", &TRACE_ID[..31])),
        invalid_traceparent("TraceContextTest.test_traceparent_parent_id_all_zero", &format!("00-{TRACE_ID}-0000000000000000-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_parent_id_illegal_characters (first)", &format!("00-{TRACE_ID}-.{}-01", &PARENT_ID[1..])),
        invalid_traceparent("TraceContextTest.test_traceparent_parent_id_illegal_characters (last)", &format!("00-{TRACE_ID}-{}.-01", &PARENT_ID[..15])),
        invalid_traceparent("TraceContextTest.test_traceparent_parent_id_too_long", &format!("00-{TRACE_ID}-{PARENT_ID}7-01")),
        invalid_traceparent("TraceContextTest.test_traceparent_parent_id_too_short", &format!("00-{TRACE_ID}-{}-01", &PARENT_ID[..15])),
        invalid_traceparent("TraceContextTest.test_traceparent_trace_flags_illegal_characters (.0)", &tp(".0")),
        invalid_traceparent("TraceContextTest.test_traceparent_trace_flags_illegal_characters (0.)", &tp("0.")),
        invalid_traceparent("TraceContextTest.test_traceparent_trace_flags_too_long", &tp("001")),
        invalid_traceparent("TraceContextTest.test_traceparent_trace_flags_too_short", &tp("1")),
        invalid_traceparent("(ours) an uppercase trace-id is not lowercase hex", &format!("00-{}-{PARENT_ID}-01", "ABCDEF".repeat(5) + "AB")),
        case("TraceContextTest.test_traceparent_ows_handling (leading space)", vec![("traceparent", format!(" {}", tp("01")))], continues(0x01, None)),
        case("TraceContextTest.test_traceparent_ows_handling (leading tab)", vec![("traceparent", format!("\t{}", tp("01")))], continues(0x01, None)),
        case("TraceContextTest.test_traceparent_ows_handling (trailing space)", vec![("traceparent", format!("{} ", tp("01")))], continues(0x01, None)),
        case("TraceContextTest.test_traceparent_ows_handling (trailing tab)", vec![("traceparent", format!("{}\t", tp("01")))], continues(0x01, None)),
        case("TraceContextTest.test_traceparent_ows_handling (both)", vec![("traceparent", format!("\t {} \t", tp("01")))], continues(0x01, None)),
        case("TraceContextTest.test_tracestate_included_traceparent_missing (foo=1)", vec![ts("foo=1")], restart()),
        case("TraceContextTest.test_tracestate_included_traceparent_missing (foo=1,bar=2)", vec![ts("foo=1,bar=2")], restart()),
        case("TraceContextTest.test_tracestate_included_traceparent_included", with_tp("00", &[ts("foo=1,bar=2")]), continues(0x00, Some("foo=1,bar=2"))),
        case("TraceContextTest.test_tracestate_header_name (trace-state)", with_tp("00", &[("trace-state", "foo=1".to_owned())]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_header_name (trace.state)", with_tp("00", &[("trace.state", "foo=1".to_owned())]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_header_name_valid_casing (TraceState)", with_tp("00", &[("TraceState", "foo=1".to_owned())]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_header_name_valid_casing (TrAcEsTaTe)", with_tp("00", &[("TrAcEsTaTe", "foo=1".to_owned())]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_header_name_valid_casing (TRACESTATE)", with_tp("00", &[("TRACESTATE", "foo=1".to_owned())]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_empty_header (empty)", with_tp("00", &[ts("")]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_empty_header (then empty)", with_tp("00", &[ts("foo=1"), ts("")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_empty_header (empty first)", with_tp("00", &[ts(""), ts("foo=1")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_multiple_headers_different_keys", with_tp("00", &[ts("foo=1,bar=2"), ts("rojo=1,congo=2"), ts("baz=3")]), continues(0x00, Some("foo=1,bar=2,rojo=1,congo=2,baz=3"))),
        case("TraceContextTest.test_tracestate_duplicated_keys (foo=1,foo=1)", with_tp("00", &[ts("foo=1,foo=1")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_duplicated_keys (foo=1,foo=2)", with_tp("00", &[ts("foo=1,foo=2")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_duplicated_keys (two lines, same value)", with_tp("00", &[ts("foo=1"), ts("foo=1")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_duplicated_keys (two lines, other value)", with_tp("00", &[ts("foo=1"), ts("foo=2")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_all_allowed_characters (key without vendor)", with_tp("00", &[ts(member(key_without_vendor))]), continues(0x00, Some(&member(key_without_vendor)))),
        case("TraceContextTest.test_tracestate_all_allowed_characters (key with vendor)", with_tp("00", &[ts(member(&key_with_vendor))]), continues(0x00, Some(&member(&key_with_vendor)))),
        case("TraceContextTest.test_tracestate_ows_handling (spaces and tabs)", with_tp("00", &[ts("foo=1 \t , \t bar=2, \t baz=3")]), continues(0x00, Some("foo=1,bar=2,baz=3"))),
        case("TraceContextTest.test_tracestate_ows_handling (tabs first)", with_tp("00", &[ts("foo=1\t \t,\t \tbar=2,\t \tbaz=3")]), continues(0x00, Some("foo=1,bar=2,baz=3"))),
        case("TraceContextTest.test_tracestate_ows_handling (leading space)", with_tp("00", &[ts(" foo=1")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_ows_handling (leading tab)", with_tp("00", &[ts("\tfoo=1")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_ows_handling (trailing space)", with_tp("00", &[ts("foo=1 ")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_ows_handling (trailing tab)", with_tp("00", &[ts("foo=1\t")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_ows_handling (both)", with_tp("00", &[ts("\t foo=1 \t")]), continues(0x00, Some("foo=1"))),
        case("TraceContextTest.test_tracestate_key_illegal_characters (foo =1)", with_tp("00", &[ts("foo =1")]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_key_illegal_characters (FOO=1)", with_tp("00", &[ts("FOO=1")]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_key_illegal_characters (foo.bar=1)", with_tp("00", &[ts("foo.bar=1")]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_key_illegal_vendor_format (foo@=1)", with_tp("00", &[ts("foo@=1,bar=2")]), continues(0x00, Some("foo@=1,bar=2"))),
        case("TraceContextTest.test_tracestate_key_illegal_vendor_format (@foo=1)", with_tp("00", &[ts("@foo=1,bar=2")]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_key_illegal_vendor_format (foo@@bar=1)", with_tp("00", &[ts("foo@@bar=1,bar=2")]), continues(0x00, Some("foo@@bar=1,bar=2"))),
        case("TraceContextTest.test_tracestate_key_illegal_vendor_format (foo@bar@baz=1)", with_tp("00", &[ts("foo@bar@baz=1,bar=2")]), continues(0x00, Some("foo@bar@baz=1,bar=2"))),
        case("TraceContextTest.test_tracestate_member_count_limit (32)", with_tp("00", &[ts(bars(1, 10)), ts(bars(11, 20)), ts(bars(21, 30)), ts(bars(31, 32))]), continues(0x00, Some(&bars(1, 32)))),
        case("TraceContextTest.test_tracestate_member_count_limit (33)", with_tp("00", &[ts(bars(1, 10)), ts(bars(11, 20)), ts(bars(21, 30)), ts(bars(31, 33))]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_key_length_limit (256)", with_tp("00", &[ts("foo=1"), ts(format!("{}=1", "z".repeat(256)))]), continues(0x00, Some(&format!("foo=1,{}=1", "z".repeat(256))))),
        case("TraceContextTest.test_tracestate_key_length_limit (257)", with_tp("00", &[ts("foo=1"), ts(format!("{}=1", "z".repeat(257)))]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_key_length_limit (241@14)", with_tp("00", &[ts("foo=1"), ts(format!("{long_multi_tenant}=1"))]), continues(0x00, Some(&format!("foo=1,{long_multi_tenant}=1")))),
        case("TraceContextTest.test_tracestate_key_length_limit (242@1)", with_tp("00", &[ts("foo=1"), ts(format!("{long_tenant}=1"))]), continues(0x00, Some(&format!("foo=1,{long_tenant}=1")))),
        case("TraceContextTest.test_tracestate_key_length_limit (1@15)", with_tp("00", &[ts("foo=1"), ts(format!("{long_system}=1"))]), continues(0x00, Some(&format!("foo=1,{long_system}=1")))),
        case("TraceContextTest.test_tracestate_value_illegal_characters (foo=bar=baz)", with_tp("00", &[ts("foo=bar=baz")]), continues(0x00, None)),
        case("TraceContextTest.test_tracestate_value_illegal_characters (foo=,bar=3)", with_tp("00", &[ts("foo=,bar=3")]), continues(0x00, None)),
        case("TraceContext2Test.test_propagates_random_flag", with_tp("02", &[]), continues(0x02, None)),
        case("(ours) unknown flags are sent as zero, sampled and random kept", with_tp("ff", &[]), continues(0x03, None)),
        case("(ours) an invalid traceparent drops a valid tracestate", vec![("traceparent", format!("00-{ZERO_TRACE_ID}-{PARENT_ID}-01")), ts("foo=1")], restart()),
    ]
}

/// The tracestate the receiver must get for `kept`: with the service's own
/// entry first (the last member going past 32), or as kept.
fn expected_tracestate(kept: Option<&str>, parent_id: &str, pass_through: bool) -> Option<String> {
    if pass_through {
        return kept.map(str::to_owned);
    }
    let mut members: Vec<String> = kept
        .map(|kept| kept.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    members.insert(0, format!("{}={parent_id}", w3c::TRACESTATE_KEY));
    members.truncate(32);
    Some(members.join(","))
}

fn check(case: &Case, callback: &Callback, pass_through: bool) {
    let name = case.harness_test;
    let traceparent = callback.traceparent();
    let parent_id = traceparent.parent_id().to_string();
    let incoming_trace_ids: Vec<String> = case
        .headers
        .iter()
        .filter(|(header, _)| header.eq_ignore_ascii_case("traceparent"))
        .filter_map(|(_, value)| value.trim().get(3..35).map(str::to_owned))
        .collect();
    match &case.expect {
        Expect::Continue { flags, tracestate } => {
            assert_eq!(
                traceparent.trace_id().to_string(),
                TRACE_ID,
                "{name}: the trace-id is kept"
            );
            assert_ne!(parent_id, PARENT_ID, "{name}: a new parent-id");
            assert_eq!(traceparent.flags().0, *flags, "{name}: flags");
            assert_eq!(
                callback.tracestate(),
                expected_tracestate(tracestate.as_deref(), &parent_id, pass_through),
                "{name}: tracestate"
            );
        }
        Expect::Restart => {
            let trace_id = traceparent.trace_id().to_string();
            assert!(
                !incoming_trace_ids.contains(&trace_id) && trace_id != TRACE_ID,
                "{name}: a new trace-id, got {trace_id}"
            );
            assert_eq!(
                callback.tracestate(),
                expected_tracestate(None, &parent_id, pass_through),
                "{name}: no incoming tracestate on restart"
            );
        }
    }
    // Whatever was sent is valid by the spec's grammar.
    if let Some(tracestate) = callback.tracestate() {
        TraceState::parse(&tracestate)
            .unwrap_or_else(|e| panic!("{name}: an invalid tracestate was sent: {e}"));
    }
    assert_eq!(callback.body, b"[]", "{name}: the arguments are the body");
}

async fn run_table(pass_through: bool) {
    let lab = Lab::start(pass_through).await;
    let cases = cases();
    assert!(cases.len() >= 70, "{} cases", cases.len());
    for (index, case) in cases.iter().enumerate() {
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let path = format!("/case/{index}");
        let (status, answer, callbacks) = lab.run(&headers, std::slice::from_ref(&path)).await;
        assert_eq!(status, 200, "{}: {answer}", case.harness_test);
        assert_eq!(callbacks.len(), 1, "{}: one callback", case.harness_test);
        check(case, &callbacks[0], pass_through);
        // The service says what it decided, as the receiver saw it.
        let action = match case.expect {
            Expect::Continue { .. } => "continue",
            Expect::Restart => "restart",
        };
        assert_eq!(
            answer["received"]["action"], action,
            "{}: {answer}",
            case.harness_test
        );
        assert_eq!(
            answer["calls"][0]["traceparent"],
            callbacks[0].traceparent().to_string(),
            "{}",
            case.harness_test
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_cases_with_the_services_own_entry() {
    run_table(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_cases_passing_the_tracestate_through() {
    run_table(true).await;
}

// ---------------------------------------------------------------------------
// AdvancedTest: several callbacks for one request

async fn three_callbacks(lab: &Lab, headers: &[(&str, &str)], tag: &str) -> Vec<TraceParent> {
    let paths: Vec<String> = (0..3).map(|i| format!("/{tag}/{i}")).collect();
    let (status, answer, callbacks) = lab.run(headers, &paths).await;
    assert_eq!(status, 200, "{answer}");
    let got: Vec<&str> = callbacks.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(got, paths, "the calls are made in order, each once");
    callbacks.iter().map(Callback::traceparent).collect()
}

fn distinct<T: Ord + Clone>(items: impl Iterator<Item = T>) -> usize {
    items.collect::<std::collections::BTreeSet<T>>().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_callbacks_share_the_trace_with_a_parent_id_each() {
    let lab = Lab::start(false).await;

    // AdvancedTest.test_multiple_requests_with_valid_traceparent
    let sent = three_callbacks(&lab, &[("traceparent", &tp("01"))], "valid").await;
    assert!(sent.iter().all(|t| t.trace_id().to_string() == TRACE_ID));
    assert_eq!(distinct(sent.iter().map(|t| t.parent_id())), 3);

    // AdvancedTest.test_multiple_requests_without_traceparent: one new
    // trace (the service's), a parent-id per call.
    let sent = three_callbacks(&lab, &[], "missing").await;
    assert_eq!(distinct(sent.iter().map(|t| t.trace_id())), 1);
    assert_eq!(distinct(sent.iter().map(|t| t.parent_id())), 3);

    // AdvancedTest.test_multiple_requests_with_illegal_traceparent
    let zero = format!("00-{ZERO_TRACE_ID}-{PARENT_ID}-01");
    let sent = three_callbacks(&lab, &[("traceparent", &zero)], "illegal").await;
    assert!(sent
        .iter()
        .all(|t| t.trace_id().to_string() != ZERO_TRACE_ID));
    assert_eq!(distinct(sent.iter().map(|t| t.parent_id())), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_arguments_are_sent_on_as_the_body() {
    let lab = Lab::start(false).await;
    // The README's sample: an element whose arguments are more elements.
    let arguments = json!([{ "url": "http://127.0.0.1:9/next", "arguments": [] }]);
    let body = json!([{ "url": lab.url("/nested"), "arguments": arguments }]);
    let (status, answer) = post_raw(lab.service, "/test", &[], &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let callbacks = lab.recorded.lock().map(|r| r.clone()).unwrap_or_default();
    let callback = callbacks
        .iter()
        .find(|c| c.path == "/nested")
        .expect("the callback was made");
    let sent: Value = serde_json::from_slice(&callback.body).unwrap_or(Value::Null);
    assert_eq!(sent, arguments);
    assert_eq!(callback.all("content-type"), vec!["application/json"]);
}

// ---------------------------------------------------------------------------
// Bad input

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_json_error_that_says_what_was_wrong() {
    let lab = Lab::start(false).await;
    let rows: Vec<(String, u16, &str, &str)> = vec![
        ("{".to_owned(), 400, "must be a JSON array", "not JSON"),
        (
            "{\"url\": \"http://x/\"}".to_owned(),
            400,
            "must be a JSON array",
            "an object",
        ),
        (
            "[{\"url\": \"ftp://x/\"}]".to_owned(),
            400,
            "is not http://",
            "not http",
        ),
        (
            "[{\"url\": \"\"}]".to_owned(),
            400,
            "is not a URL",
            "an empty url",
        ),
        (
            format!(
                "[{}]",
                vec![format!("{{\"url\": \"{}\"}}", lab.url("/x")); 65].join(",")
            ),
            400,
            "at most 64 calls",
            "too many calls",
        ),
    ];
    for (body, status, says, why) in &rows {
        let (got, answer) = post_raw(lab.service, "/test", &[], body).await;
        assert_eq!(got, *status, "{why}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{why}: {error}");
    }
    // Nothing was sent for any of them.
    assert!(lab.recorded.lock().map(|r| r.is_empty()).unwrap_or(false));

    let (status, answer) = post_raw(lab.service, "/other", &[], "[]").await;
    assert_eq!(status, 404, "{answer}");
    assert!(answer["error"].as_str().is_some());
}

/// Over 1 MiB, in process: over a socket the server's early answer can be
/// lost to a reset while the client is still writing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_a_413_in_json() {
    use tower::ServiceExt;
    let service = W3cService::new(Duration::from_secs(1), false).expect("a client");
    let body = format!("[\"{}\"]", "x".repeat(MAX_BODY_BYTES));
    let request = axum::http::Request::post("/test")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .expect("a request");
    let response = w3c::router(service)
        .oneshot(request)
        .await
        .expect("an answer");
    assert_eq!(response.status(), 413);
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .expect("a body");
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("could not be read (at most 1048576 bytes)"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_callback_is_a_502_that_names_it_and_the_others_still_run() {
    let lab = Lab::start(false).await;
    // A port nothing listens on: bound, then closed.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        listener.local_addr().expect("an address")
    };
    let body = json!([
        { "url": format!("http://{closed}/gone"), "arguments": [] },
        { "url": lab.url("/after"), "arguments": [] },
    ]);
    let (status, answer) = post_raw(lab.service, "/test", &[], &body.to_string()).await;
    assert_eq!(status, 502, "{answer}");
    assert!(answer["calls"][0]["error"].as_str().is_some(), "{answer}");
    assert_eq!(answer["calls"][1]["status"], 200, "{answer}");
}

// ---------------------------------------------------------------------------
// The binary

/// The address in the binary's "listening on http://ADDR/test" line.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = line.split("listening on http://").nth(1)?;
    let addr: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    addr.parse().ok()
}

#[test]
fn the_binary_serves_the_harness_on_the_address_given() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args([
            "w3c-test-service",
            "--addr",
            "127.0.0.1:0",
            "--pass-through",
        ])
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let (found, address) = std::sync::mpsc::channel();
    // Reads every line, so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(addr) = listening_address(&line) {
                let _ = found.send(addr);
            }
        }
    });
    let addr = address.recv_timeout(Duration::from_secs(30));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let result = addr.ok().map(|addr| {
        runtime.block_on(async {
            let recorded: Recorded = Arc::new(Mutex::new(Vec::new()));
            let receiver = axum::Router::new()
                .fallback(record)
                .with_state(recorded.clone());
            let (receiver, _stop) = start(receiver).await;
            let body = json!([{ "url": format!("http://{receiver}/bin"), "arguments": [] }]);
            let (status, _) = post_raw(
                addr,
                "/test",
                &[
                    ("traceparent", &tp("01")),
                    ("tracestate", "foo@bar@baz=1,bar=2"),
                ],
                &body.to_string(),
            )
            .await;
            let callbacks = recorded.lock().map(|r| r.clone()).unwrap_or_default();
            (status, callbacks)
        })
    });
    let _ = child.kill();
    let _ = child.wait();
    let (status, callbacks) = result.expect("the binary said where it listens");
    assert_eq!(status, 200);
    assert_eq!(callbacks.len(), 1);
    assert_eq!(callbacks[0].traceparent().trace_id().to_string(), TRACE_ID);
    assert_eq!(
        callbacks[0].tracestate().as_deref(),
        Some("foo@bar@baz=1,bar=2")
    );
}
