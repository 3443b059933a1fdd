//! A seeded generator of realistic traces, for tests, benchmarks and the
//! sample page: [`generate`]`(n_spans, seed)` always returns the same trace
//! for the same arguments, on every target.
//!
//! The trace is the demo's world grown large: `frontend` calls `bands-api`,
//! `reviews-api` and `auth`; they call `db` and `cache`; `bands-api` publishes
//! to a queue that `queue-worker` consumes. Shapes: fan-out (parallel calls),
//! N+1 loops (sequential queries, the demo's planted problem), deep recursive
//! chains, a rare 5 s `debug_pause` (the other planted problem), errors with
//! status messages and exception events, cache-miss and log events, HTTP, DB
//! and messaging semantic-convention attributes, a few orphans (parent ids
//! that are not in the trace) and a few skewed server clocks.
//!
//! Every trace of at least [`PROBE_MIN_SPANS`] spans, whatever the seed,
//! also carries one scanner's probe, the hostile input a viewer must show as
//! inert text: `frontend` passes a request for `/bands/<b>1</b>` on to
//! `bands-api` as it came (path, query and `User-Agent`), the way a proxy
//! route does. `</b>` adds a path segment, so no route matches: `bands-api`
//! answers 404, and its server span is named by the raw path, as the FastAPI
//! instrumentation names a request that matched no route
//! (`GET /bands/<b>1</b>`), with `url.query` `q=<script>…</script>` and
//! `user_agent.original` `<img src=x onerror=…>`; the frontend's client span
//! logs the 404 with the path in its message. The probe is one more call of
//! the root's, its two spans taken from the budget, so the rest of the trace
//! keeps its statistical shape; smaller traces have no probe and no markup.
//!
//! Built in three passes without recursion: the shape (each span gets a
//! budget of descendants, split among its children), durations bottom-up
//! (children are always created after their parent, so reverse creation
//! order visits children first), then start times top-down.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::{
    AttributeValue, Event, KeyValue, Link, ParentRelation, Resource, Scope, Span, SpanId, SpanKind,
    Status, Trace, TraceId,
};

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for
/// test data; the same sequence on every target.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// A value in `0..bound` (0 when `bound` is 0). The modulo bias is
    /// negligible for the small bounds used here.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next_u64() % bound
        }
    }

    /// A value in `low..=high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            low
        } else {
            low + self.below(high - low + 1)
        }
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// The SplitMix64 finaliser: a bijection on `u64`, so distinct inputs give
/// distinct span ids.
fn mix64(value: u64) -> u64 {
    let mut z = value;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Service {
    Frontend,
    BandsApi,
    ReviewsApi,
    Auth,
    Cache,
    Db,
    QueueWorker,
}

const SERVICES: [Service; 7] = [
    Service::Frontend,
    Service::BandsApi,
    Service::ReviewsApi,
    Service::Auth,
    Service::Cache,
    Service::Db,
    Service::QueueWorker,
];

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Frontend => "frontend",
            Service::BandsApi => "bands-api",
            Service::ReviewsApi => "reviews-api",
            Service::Auth => "auth",
            Service::Cache => "cache",
            Service::Db => "db",
            Service::QueueWorker => "queue-worker",
        }
    }

    fn resource_idx(self) -> u32 {
        SERVICES
            .iter()
            .position(|&service| service == self)
            .unwrap_or(0) as u32
    }

    /// The services this one calls.
    fn downstream(self) -> &'static [Service] {
        match self {
            Service::Frontend => &[
                Service::BandsApi,
                Service::Auth,
                Service::ReviewsApi,
                Service::Cache,
            ],
            Service::BandsApi => &[
                Service::ReviewsApi,
                Service::Db,
                Service::Cache,
                Service::Auth,
            ],
            Service::ReviewsApi => &[Service::Db, Service::Cache],
            Service::Auth => &[Service::Db, Service::Cache],
            Service::QueueWorker => &[Service::Db, Service::BandsApi],
            Service::Cache | Service::Db => &[],
        }
    }

    fn internal_work(self) -> &'static [&'static str] {
        match self {
            Service::Frontend => &["render_page", "load_session", "build_view_model"],
            Service::BandsApi => &[
                "fetch_reviews",
                "serialize_band",
                "validate_band_id",
                "debug_pause",
            ],
            Service::ReviewsApi => &["lookup_reviews", "score_review", "serialize_reviews"],
            Service::Auth => &["check_token", "load_permissions"],
            Service::Cache => &["lookup", "evict"],
            Service::Db => &["plan", "execute", "fetch_rows"],
            Service::QueueWorker => &["update_stats", "aggregate"],
        }
    }

    fn server_route(self) -> (&'static str, &'static str) {
        match self {
            Service::Frontend => ("GET", "/bands/{id}"),
            Service::BandsApi => ("GET", "/bands/{band_id}"),
            Service::ReviewsApi => ("GET", "/reviews"),
            Service::Auth => ("POST", "/verify"),
            Service::QueueWorker => ("POST", "/jobs"),
            Service::Cache | Service::Db => ("", ""),
        }
    }

    /// The port the service listens on (the demo's, and the usual ones).
    fn port(self) -> i64 {
        match self {
            Service::Frontend => 3000,
            Service::BandsApi => 8000,
            Service::ReviewsApi => 8080,
            Service::Auth => 9000,
            Service::Cache => 6379,
            Service::Db => 5432,
            Service::QueueWorker => 9092,
        }
    }
}

/// What a generated span does; it decides kind, name, attributes and timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Server(Service),
    Internal(Service, u8),
    /// One level of a deep recursive chain.
    Chain(Service),
    Client {
        from: Service,
        to: Service,
    },
    Producer(Service),
    Consumer,
}

impl Role {
    fn service(self) -> Service {
        match self {
            Role::Server(service)
            | Role::Internal(service, _)
            | Role::Chain(service)
            | Role::Producer(service) => service,
            Role::Client { from, .. } => from,
            Role::Consumer => Service::QueueWorker,
        }
    }

    /// Whether this role's subtree is usually a leaf (a database or cache
    /// call), so it gets no share of the budget beyond a few spans.
    fn is_light(self) -> bool {
        matches!(
            self,
            Role::Client {
                to: Service::Db | Service::Cache,
                ..
            } | Role::Server(Service::Db | Service::Cache)
        )
    }

    /// The most descendants a span in this role takes. Without a cap, a
    /// random split lets the budget sink into a service that only calls the
    /// database (auth, reviews-api) and repeat its local work forever; with
    /// one, the excess returns to the parent, which makes more calls, so a
    /// large trace is many requests, each of a plausible size.
    fn max_budget(self) -> usize {
        let for_service = |service: Service| match service {
            Service::Frontend | Service::QueueWorker => usize::MAX,
            Service::BandsApi => 3_000,
            Service::ReviewsApi | Service::Auth => 150,
            Service::Db | Service::Cache => 3,
        };
        match self {
            _ if self.is_light() => 3,
            Role::Client { to, .. } | Role::Server(to) => for_service(to),
            Role::Internal(service, _) => for_service(service) / 2,
            // A chain needs room for its levels before it bottoms out.
            Role::Chain(service) => for_service(service).max(400),
            Role::Producer(_) | Role::Consumer => 500,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arrangement {
    Sequential,
    Parallel,
}

/// The shape pass's output: one entry per span, every parent before its
/// children (a span expanded twice has children that are not contiguous).
struct Shape {
    role: Vec<Role>,
    parent: Vec<u32>,
    /// Whether the span has been given children (and so its arrangement).
    expanded: Vec<bool>,
    arrangement: Vec<Arrangement>,
    /// The server span of the scanner's probe (its parent is the client
    /// span), in traces of at least [`PROBE_MIN_SPANS`] spans.
    probe: Option<u32>,
}

const NO_PARENT: u32 = u32::MAX;

/// Traces of this many spans or more carry the scanner's probe (see the
/// module docs): enough that two spans of hostile input are a small part of
/// the trace, and few enough that the sample page's smallest sizes show it.
pub const PROBE_MIN_SPANS: usize = 50;

/// The text attributes of the probe's server span: the hostile input as
/// `bands-api` received it (decoded), and no `http.route`, as none matched.
const PROBE_SERVER: &[(&str, &str)] = &[
    ("http.request.method", "GET"),
    ("url.scheme", "http"),
    ("url.path", "/bands/<b>1</b>"),
    ("url.query", "q=<script>alert(1)</script>"),
    ("user_agent.original", "<img src=x onerror=alert(1)>"),
];
/// The text attributes of the probe's client span: the frontend sends the
/// input on percent-encoded.
const PROBE_CLIENT: &[(&str, &str)] = &[
    ("http.request.method", "GET"),
    (
        "url.full",
        "http://bands-api:8000/bands/%3Cb%3E1%3C/b%3E?q=%3Cscript%3Ealert(1)%3C/script%3E",
    ),
    ("server.address", "bands-api"),
];

/// The most spans [`generate`] makes; larger requests are capped.
pub const MAX_SPANS: usize = 1_000_000;

fn build_shape(n_spans: usize, rng: &mut SplitMix64) -> Shape {
    let mut shape = Shape {
        role: Vec::with_capacity(n_spans),
        parent: Vec::with_capacity(n_spans),
        expanded: Vec::with_capacity(n_spans),
        arrangement: Vec::with_capacity(n_spans),
        probe: None,
    };
    let push = |shape: &mut Shape, role: Role, parent: u32| {
        shape.role.push(role);
        shape.parent.push(parent);
        shape.expanded.push(false);
        shape.arrangement.push(Arrangement::Sequential);
        (shape.role.len() - 1) as u32
    };
    let root = push(&mut shape, Role::Server(Service::Frontend), NO_PARENT);
    // The probe's two spans are added last, so the budget leaves room for them.
    let with_probe = n_spans >= PROBE_MIN_SPANS;
    let root_budget = n_spans - 1 - if with_probe { 2 } else { 0 };
    // (span, descendants still to create below it, levels of chain left)
    let mut pending: Vec<(u32, usize, u32)> = vec![(root, root_budget, 0)];
    let mut child_roles: Vec<Role> = Vec::new();
    let mut weights: Vec<u64> = Vec::new();
    let mut shares: Vec<usize> = Vec::new();
    while let Some((span_idx, budget, chain_left)) = pending.pop() {
        if budget == 0 {
            continue;
        }
        let role = shape.role[span_idx as usize];
        let service = role.service();
        child_roles.clear();
        let mut arrangement = Arrangement::Sequential;
        let mut next_chain_left = 0;
        match role {
            Role::Client { to, .. } => child_roles.push(Role::Server(to)),
            Role::Producer(_) => child_roles.push(Role::Consumer),
            _ if chain_left > 0 => {
                child_roles.push(Role::Chain(service));
                next_chain_left = chain_left - 1;
            }
            _ => {
                let pattern = rng.below(100);
                let downstream = service.downstream();
                let internal = |rng: &mut SplitMix64| {
                    // `debug_pause` (the last of bands-api's work) is the
                    // demo's planted 5 s pause: rare, or traces grow to hours.
                    let work = if service == Service::BandsApi {
                        if rng.chance(5) {
                            3
                        } else {
                            rng.below(3)
                        }
                    } else {
                        rng.below(service.internal_work().len() as u64)
                    };
                    Role::Internal(service, work as u8)
                };
                if pattern < 1 && budget >= 10 {
                    // A deep chain: recursive resolution, hundreds of levels.
                    let levels = rng.range(10, 200).min(budget as u64) as u32;
                    child_roles.push(Role::Chain(service));
                    next_chain_left = levels - 1;
                } else if pattern < 23 && downstream.contains(&Service::Db) {
                    // N+1: one query per item, one after another.
                    let n_queries = rng.range(3, 40).min(budget as u64);
                    for _ in 0..n_queries {
                        child_roles.push(Role::Client {
                            from: service,
                            to: Service::Db,
                        });
                    }
                } else if pattern < 50 && !downstream.is_empty() {
                    // Fan-out: calls in parallel.
                    arrangement = Arrangement::Parallel;
                    let n_calls = rng.range(2, 8).min(budget as u64);
                    for _ in 0..n_calls {
                        let to = downstream[rng.below(downstream.len() as u64) as usize];
                        child_roles.push(Role::Client { from: service, to });
                    }
                } else {
                    let n_steps = rng.range(1, 4).min(budget as u64);
                    for _ in 0..n_steps {
                        let pick = rng.below(100);
                        let child_role = if service == Service::BandsApi && pick < 8 {
                            Role::Producer(service)
                        } else if pick < 40 || downstream.is_empty() {
                            internal(rng)
                        } else {
                            let to = downstream[rng.below(downstream.len() as u64) as usize];
                            Role::Client { from: service, to }
                        };
                        child_roles.push(child_role);
                    }
                }
            }
        }
        // Each child costs one from the budget. Light children (database and
        // cache calls) mostly stay leaves, sometimes taking a few spans (the
        // database's own spans); the rest is shared by weight among the
        // others, and if there are none, one more step of local work is
        // added to carry it, so the budget never sinks into a database.
        let mut remaining = budget - child_roles.len();
        if remaining > 0 && child_roles.iter().all(|child_role| child_role.is_light()) {
            child_roles.push(Role::Internal(service, 0));
            remaining -= 1;
        }
        shares.clear();
        weights.clear();
        for child_role in &child_roles {
            if child_role.is_light() {
                let share = if rng.chance(100) {
                    (rng.range(1, 3) as usize).min(remaining)
                } else {
                    0
                };
                remaining -= share;
                shares.push(share);
                weights.push(0);
            } else {
                shares.push(0);
                // Calls to other services carry most of the budget, so that
                // large traces are many requests deep, not one service's
                // local work repeated.
                let weight = match child_role {
                    Role::Client { .. } | Role::Server(_) | Role::Consumer => rng.range(50, 150),
                    Role::Producer(_) => rng.range(10, 50),
                    Role::Internal(..) | Role::Chain(_) => rng.range(1, 30),
                };
                weights.push(weight);
            }
        }
        let total_weight: u64 = weights.iter().sum();
        if total_weight > 0 {
            for (share, &weight) in shares.iter_mut().zip(&weights) {
                *share += (remaining as u128 * weight as u128 / total_weight as u128) as usize;
            }
            let leftover = budget - child_roles.len() - shares.iter().sum::<usize>();
            if let Some(heir) = weights.iter().position(|&weight| weight > 0) {
                shares[heir] += leftover;
            }
        }
        // Shares over a child's cap go back to this span, which is expanded
        // again later and makes more calls.
        let mut excess = 0usize;
        for (share, child_role) in shares.iter_mut().zip(&child_roles) {
            let cap = child_role.max_budget();
            if *share > cap {
                excess += *share - cap;
                *share = cap;
            }
        }
        if excess > 0 {
            pending.push((span_idx, excess, 0));
        }
        if !shape.expanded[span_idx as usize] {
            shape.expanded[span_idx as usize] = true;
            shape.arrangement[span_idx as usize] = arrangement;
        }
        for (&child_role, &share) in child_roles.iter().zip(&shares) {
            let child_idx = push(&mut shape, child_role, span_idx);
            let child_chain_left = if child_role == Role::Chain(service) {
                next_chain_left
            } else {
                0
            };
            pending.push((child_idx, share, child_chain_left));
        }
    }
    if with_probe {
        let client = push(
            &mut shape,
            Role::Client {
                from: Service::Frontend,
                to: Service::BandsApi,
            },
            root,
        );
        shape.probe = Some(push(&mut shape, Role::Server(Service::BandsApi), client));
    }
    shape
}

const MICROS: u64 = 1_000;
const MILLIS: u64 = 1_000_000;

/// Timing pass output: offset of each span from its parent's start, its
/// duration, and whether it failed.
struct Timing {
    offset: Vec<u64>,
    duration: Vec<u64>,
    failed: Vec<bool>,
    /// Whether the failure started here (it gets the exception event).
    failure_origin: Vec<bool>,
}

fn leaf_duration(role: Role, rng: &mut SplitMix64) -> u64 {
    match role {
        Role::Client {
            to: Service::Db, ..
        } => rng.range(300 * MICROS, 3 * MILLIS),
        Role::Client {
            to: Service::Cache, ..
        } => rng.range(50 * MICROS, 500 * MICROS),
        Role::Client { .. } => rng.range(MILLIS, 10 * MILLIS),
        Role::Server(_) => rng.range(500 * MICROS, 5 * MILLIS),
        Role::Internal(Service::BandsApi, 3) => 5_000 * MILLIS,
        Role::Internal(..) | Role::Chain(_) => rng.range(10 * MICROS, 2 * MILLIS),
        Role::Producer(_) => rng.range(50 * MICROS, 300 * MICROS),
        Role::Consumer => rng.range(MILLIS, 5 * MILLIS),
    }
}

fn compute_timing(shape: &Shape, rng: &mut SplitMix64) -> Timing {
    let n_spans = shape.role.len();
    // Children of each span in creation order (compressed rows): a span
    // expanded more than once has children that are not contiguous.
    let mut child_offsets = vec![0usize; n_spans + 1];
    for &parent_idx in &shape.parent[1..] {
        child_offsets[parent_idx as usize + 1] += 1;
    }
    for span_idx in 0..n_spans {
        child_offsets[span_idx + 1] += child_offsets[span_idx];
    }
    let mut fill = child_offsets.clone();
    let mut children_of = vec![0usize; n_spans.saturating_sub(1)];
    for (span_idx, &parent_idx) in shape.parent.iter().enumerate().skip(1) {
        children_of[fill[parent_idx as usize]] = span_idx;
        fill[parent_idx as usize] += 1;
    }
    let mut timing = Timing {
        offset: vec![0; n_spans],
        duration: vec![0; n_spans],
        failed: vec![false; n_spans],
        failure_origin: vec![false; n_spans],
    };
    for span_idx in (0..n_spans).rev() {
        let role = shape.role[span_idx];
        let children = &children_of[child_offsets[span_idx]..child_offsets[span_idx + 1]];
        if children.is_empty() {
            timing.duration[span_idx] = leaf_duration(role, rng);
            let failure_per_mille = match role {
                Role::Client {
                    to: Service::Db, ..
                } => 10,
                Role::Client { .. } | Role::Server(_) => 5,
                _ => 0,
            };
            let failed = rng.chance(failure_per_mille);
            timing.failed[span_idx] = failed;
            timing.failure_origin[span_idx] = failed;
            continue;
        }
        let any_child_failed = children.iter().any(|&child_idx| timing.failed[child_idx]);
        timing.failed[span_idx] = match role {
            // A client sees exactly what its server returned.
            Role::Client { .. } => any_child_failed,
            Role::Server(_) => any_child_failed && rng.chance(500),
            Role::Producer(_) | Role::Consumer => false,
            Role::Internal(..) | Role::Chain(_) => any_child_failed && rng.chance(300),
        };
        match role {
            Role::Client { .. } => {
                // Network latency each way around the server's time (and
                // around each retry, should there be more than one server span).
                let mut busy_until = 0;
                for &child_idx in children {
                    busy_until += rng.range(100 * MICROS, MILLIS);
                    timing.offset[child_idx] = busy_until;
                    busy_until += timing.duration[child_idx] + rng.range(100 * MICROS, MILLIS);
                }
                timing.duration[span_idx] = busy_until;
            }
            Role::Producer(_) => {
                // Publishing returns at once; the consumer runs later and
                // outlives the producer, which is not skew.
                timing.duration[span_idx] = leaf_duration(role, rng);
                for &child_idx in children {
                    timing.offset[child_idx] = rng.range(MILLIS, 50 * MILLIS);
                }
            }
            _ => {
                let before = rng.range(20 * MICROS, 500 * MICROS);
                let after = rng.range(10 * MICROS, 200 * MICROS);
                let mut busy_until = before;
                match shape.arrangement[span_idx] {
                    Arrangement::Sequential => {
                        for &child_idx in children {
                            busy_until += rng.range(0, 50 * MICROS);
                            timing.offset[child_idx] = busy_until;
                            busy_until += timing.duration[child_idx];
                        }
                    }
                    Arrangement::Parallel => {
                        for &child_idx in children {
                            let offset = before + rng.range(0, 100 * MICROS);
                            timing.offset[child_idx] = offset;
                            busy_until = busy_until.max(offset + timing.duration[child_idx]);
                        }
                    }
                }
                timing.duration[span_idx] = busy_until + after;
            }
        }
    }
    timing
}

/// Interns strings so that every span named `SELECT reviews` shares one
/// allocation, as an importer would.
#[derive(Default)]
struct Interner {
    strings: HashMap<String, Arc<str>>,
}

impl Interner {
    fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.strings.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        self.strings.insert(text.to_owned(), shared.clone());
        shared
    }

    fn attribute(&mut self, key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: self.get(key),
            value: AttributeValue::String(self.get(value)),
        }
    }

    fn int_attribute(&mut self, key: &str, value: i64) -> KeyValue {
        KeyValue {
            key: self.get(key),
            value: AttributeValue::Int(value),
        }
    }
}

/// The band every generated request asks for: the demo's known band.
const BAND_ID: &str = "553be815-76f3-49db-b9d7-caca4b23cc3e";

const SCOPE_HTTP_SERVER: u32 = 0;
const SCOPE_HTTP_CLIENT: u32 = 1;
const SCOPE_DB: u32 = 2;
const SCOPE_CACHE: u32 = 3;
const SCOPE_MESSAGING: u32 = 4;
const SCOPE_MANUAL: u32 = 5;

fn resources(interner: &mut Interner) -> Vec<Resource> {
    SERVICES
        .iter()
        .map(|service| Resource {
            service_name: interner.get(service.name()),
            attributes: vec![
                interner.attribute("service.name", service.name()),
                interner.attribute("service.version", "1.4.2"),
                interner.attribute("deployment.environment.name", "lab"),
                interner.attribute("telemetry.sdk.language", "python"),
                interner.attribute("host.name", &format!("{}-7f9c", service.name())),
            ],
        })
        .collect()
}

fn scopes(interner: &mut Interner) -> Vec<Scope> {
    [
        ("opentelemetry.instrumentation.fastapi", "0.48b0"),
        ("opentelemetry.instrumentation.httpx", "0.48b0"),
        ("opentelemetry.instrumentation.asyncpg", "0.48b0"),
        ("opentelemetry.instrumentation.redis", "0.48b0"),
        ("opentelemetry.instrumentation.kafka", "0.48b0"),
        ("tracelab.demo", "0.1.0"),
    ]
    .iter()
    .map(|(name, version)| Scope {
        name: interner.get(name),
        version: Box::from(*version),
        attributes: Vec::new(),
    })
    .collect()
}

/// Generates a trace of `n_spans` spans (at least 1, at most [`MAX_SPANS`])
/// from `seed`. The same arguments give the same trace.
pub fn generate(n_spans: usize, seed: u64) -> Trace {
    let mut maker = SpanMaker::new(n_spans, seed);
    let spans = maker.next_spans(usize::MAX);
    Trace {
        spans,
        resources: maker.resources,
        scopes: maker.scopes,
    }
}

/// [`generate`] a chunk of spans at a time: the same spans in the same
/// order, for a caller that sends them on as they are made (the browser's
/// worker posts each chunk while the page reads the one before), instead
/// of holding the whole trace first.
pub struct SpanMaker {
    n_spans: usize,
    trace_id: TraceId,
    id_salt: u64,
    shape: Shape,
    timing: Timing,
    start: Vec<u64>,
    interner: Interner,
    rng: SplitMix64,
    n_orphans: u64,
    probe: Option<usize>,
    probe_client: Option<usize>,
    /// The next span to make.
    next_idx: usize,
    resources: Vec<Resource>,
    scopes: Vec<Scope>,
}

impl SpanMaker {
    /// The trace's shape and times, made at once (arrays of a few numbers a
    /// span); its spans are made by [`SpanMaker::next_spans`].
    pub fn new(n_spans: usize, seed: u64) -> SpanMaker {
        let n_spans = n_spans.clamp(1, MAX_SPANS);
        let mut rng = SplitMix64::new(seed);
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
        trace_id[8..].copy_from_slice(&(rng.next_u64() | 1).to_be_bytes());
        let trace_id = TraceId(trace_id);
        let id_salt = rng.next_u64();

        let shape = build_shape(n_spans, &mut rng);
        let timing = compute_timing(&shape, &mut rng);

        // Start times top-down. A skewed server clock shifts the server span and
        // its whole subtree (they share a host) so that it starts before its
        // client or ends after it.
        const EPOCH_2026_NANOS: u64 = 1_767_225_600_000_000_000;
        let mut start = vec![0u64; n_spans];
        start[0] = EPOCH_2026_NANOS + rng.below(86_400 * 1_000 * MILLIS);
        for span_idx in 1..n_spans {
            let parent_idx = shape.parent[span_idx] as usize;
            let mut span_start = start[parent_idx] + timing.offset[span_idx];
            let cross_host = matches!(
                (shape.role[parent_idx], shape.role[span_idx]),
                (Role::Client { .. }, Role::Server(_))
            );
            if cross_host && rng.chance(5) {
                let extra = rng.range(100 * MICROS, 3 * MILLIS);
                span_start = if rng.chance(500) {
                    // Early by more than the outbound latency: starts before the client.
                    span_start.saturating_sub(timing.offset[span_idx] + extra)
                } else {
                    // Late by more than the return latency: ends after the client.
                    let latency_back = timing.duration[parent_idx]
                        .saturating_sub(timing.offset[span_idx] + timing.duration[span_idx]);
                    span_start + latency_back + extra
                };
            }
            start[span_idx] = span_start;
        }
        let mut interner = Interner::default();
        let resources = resources(&mut interner);
        let scopes = scopes(&mut interner);
        let probe = shape.probe.map(|probe| probe as usize);
        let probe_client = probe.map(|probe| shape.parent[probe] as usize);
        SpanMaker {
            n_spans,
            trace_id,
            id_salt,
            shape,
            timing,
            start,
            interner,
            rng,
            n_orphans: 0,
            probe,
            probe_client,
            next_idx: 0,
            resources,
            scopes,
        }
    }

    /// How many spans the trace has.
    pub fn n_spans(&self) -> usize {
        self.n_spans
    }

    /// The trace's resources, which its spans name by index.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The trace's instrumentation scopes, which its spans name by index.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// The next (up to) `max` spans, in the trace's order; empty once all
    /// are made.
    pub fn next_spans(&mut self, max: usize) -> Vec<Span> {
        let n = max.min(self.n_spans - self.next_idx);
        let mut spans = Vec::with_capacity(n);
        for _ in 0..n {
            spans.push(self.make(self.next_idx));
            self.next_idx += 1;
        }
        spans
    }

    /// Span `span_idx`. Spans must be made in order: each draws from the
    /// one random sequence.
    fn make(&mut self, span_idx: usize) -> Span {
        let SpanMaker {
            n_spans,
            trace_id,
            id_salt,
            ref shape,
            ref timing,
            ref start,
            ref mut interner,
            ref mut rng,
            ref mut n_orphans,
            probe,
            probe_client,
            ..
        } = *self;
        // Distinct inputs to a bijection: span ids never collide, and the
        // missing parents of orphans (indices past the end) are never span ids.
        let span_id_of = |idx: u64| SpanId::from_u64(mix64(id_salt.wrapping_add(idx)).max(1));
        let span_start = start[span_idx];
        let role = shape.role[span_idx];
        let parent_idx = shape.parent[span_idx];
        let mut parent_span_id = (parent_idx != NO_PARENT).then(|| span_id_of(parent_idx as u64));
        // A few orphans: the parent was lost (dropped by a sampler, or its
        // service never exported). Never the root, which has no parent.
        if parent_span_id.is_some() && rng.chance(1) && rng.chance(300) {
            parent_span_id = Some(span_id_of(n_spans as u64 + 1 + *n_orphans));
            *n_orphans += 1;
        }
        let span_end = span_start + timing.duration[span_idx];
        let failed = timing.failed[span_idx];
        let mut span = Span::new(
            trace_id,
            span_id_of(span_idx as u64),
            parent_span_id,
            "",
            span_start,
            span_end,
        );
        span.resource_idx = role.service().resource_idx();
        let status_code = if failed { 500 } else { 200 };
        // The probe's server fails like any other; otherwise it finds no route.
        let probe_status_code = if failed { 500 } else { 404 };
        match role {
            // The scanner's probe (module docs): checked first, as its roles
            // are ordinary ones.
            _ if probe == Some(span_idx) || probe_client == Some(span_idx) => {
                let is_server = probe == Some(span_idx);
                let (kind, scope_idx, name, texts) = if is_server {
                    (
                        SpanKind::Server,
                        SCOPE_HTTP_SERVER,
                        "GET /bands/<b>1</b>",
                        PROBE_SERVER,
                    )
                } else {
                    // `{method}` alone: the conventions' name for a client
                    // call with no URL template.
                    (SpanKind::Client, SCOPE_HTTP_CLIENT, "GET", PROBE_CLIENT)
                };
                span.kind = kind;
                span.scope_idx = scope_idx;
                span.name = interner.get(name);
                span.attributes = texts
                    .iter()
                    .map(|(key, value)| interner.attribute(key, value))
                    .collect();
                span.attributes.extend([
                    interner.int_attribute("server.port", Service::BandsApi.port()),
                    interner.int_attribute("http.response.status_code", probe_status_code),
                ]);
                if !is_server {
                    span.events.push(Event {
                        time_unix_nanos: span_end,
                        name: interner.get("log"),
                        attributes: vec![
                            interner.attribute("log.severity", "WARN"),
                            interner.attribute(
                                "log.message",
                                "bands-api answered 404 for /bands/<b>1</b>",
                            ),
                        ],
                    });
                    // A 4xx answer is an error to the client, not to the server.
                    if !failed {
                        span.status = Status::Error {
                            message: Box::from("HTTP 404 Not Found"),
                        };
                    }
                }
            }
            Role::Server(service) if matches!(service, Service::Db | Service::Cache) => {
                span.kind = SpanKind::Server;
                span.scope_idx = SCOPE_MANUAL;
                span.name = interner.get(if service == Service::Db {
                    "query"
                } else {
                    "command"
                });
            }
            Role::Server(service) => {
                let (method, route) = service.server_route();
                span.kind = SpanKind::Server;
                span.scope_idx = SCOPE_HTTP_SERVER;
                span.name = interner.get(&format!("{method} {route}"));
                span.attributes = vec![
                    interner.attribute("http.request.method", method),
                    interner.attribute("http.route", route),
                    interner.attribute("url.scheme", "http"),
                    interner.attribute(
                        "url.path",
                        &route.replace("{id}", BAND_ID).replace("{band_id}", BAND_ID),
                    ),
                    interner.int_attribute("server.port", service.port()),
                    interner.int_attribute("http.response.status_code", status_code),
                ];
                if service == Service::Frontend {
                    span.attributes.push(
                        interner
                            .attribute("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"),
                    );
                }
            }
            Role::Client {
                to: Service::Db,
                from,
            } => {
                let table = if from == Service::ReviewsApi {
                    "reviews"
                } else {
                    "bands"
                };
                span.kind = SpanKind::Client;
                span.scope_idx = SCOPE_DB;
                span.name = interner.get(&format!("SELECT {table}"));
                span.attributes = vec![
                    interner.attribute("db.system.name", "postgresql"),
                    interner.attribute("db.operation.name", "SELECT"),
                    interner.attribute("db.collection.name", table),
                    interner.attribute(
                        "db.query.text",
                        &format!("SELECT * FROM {table} WHERE band_id = $1"),
                    ),
                    interner.attribute("server.address", "db"),
                    interner.int_attribute("server.port", Service::Db.port()),
                ];
            }
            Role::Client {
                to: Service::Cache, ..
            } => {
                span.kind = SpanKind::Client;
                span.scope_idx = SCOPE_CACHE;
                span.name = interner.get("GET");
                span.attributes = vec![
                    interner.attribute("db.system.name", "redis"),
                    interner.attribute("db.operation.name", "GET"),
                    interner.attribute("server.address", "cache"),
                    interner.int_attribute("server.port", Service::Cache.port()),
                ];
                if rng.chance(300) {
                    span.events.push(Event {
                        time_unix_nanos: span_end,
                        name: interner.get("cache miss"),
                        attributes: vec![
                            interner.attribute("cache.key", &format!("band:{BAND_ID}"))
                        ],
                    });
                }
            }
            Role::Client { to, .. } => {
                let (method, route) = to.server_route();
                span.kind = SpanKind::Client;
                span.scope_idx = SCOPE_HTTP_CLIENT;
                // `{method} {url.template}`, as the HTTP conventions name client spans.
                span.name = interner.get(&format!("{method} {route}"));
                let url = format!(
                    "http://{}:{}{}",
                    to.name(),
                    to.port(),
                    route.replace("{band_id}", BAND_ID).replace("{id}", BAND_ID)
                );
                span.attributes = vec![
                    interner.attribute("http.request.method", method),
                    interner.attribute("url.full", &url),
                    interner.attribute("server.address", to.name()),
                    interner.int_attribute("server.port", to.port()),
                    interner.int_attribute("http.response.status_code", status_code),
                ];
            }
            Role::Internal(service, work) => {
                let names = service.internal_work();
                span.kind = SpanKind::Internal;
                span.scope_idx = SCOPE_MANUAL;
                span.name = interner.get(names[work as usize % names.len()]);
                span.attributes =
                    vec![interner
                        .attribute("code.function.name", names[work as usize % names.len()])];
                if rng.chance(100) {
                    span.events.push(Event {
                        time_unix_nanos: span_start + timing.duration[span_idx] / 2,
                        name: interner.get("log"),
                        attributes: vec![
                            interner.attribute("log.severity", "INFO"),
                            interner.attribute("log.message", "processing band"),
                        ],
                    });
                }
            }
            Role::Chain(_) => {
                span.kind = SpanKind::Internal;
                span.scope_idx = SCOPE_MANUAL;
                span.name = interner.get("resolve_dependency");
                span.attributes =
                    vec![interner.attribute("code.function.name", "resolve_dependency")];
            }
            Role::Producer(_) => {
                span.kind = SpanKind::Producer;
                span.scope_idx = SCOPE_MESSAGING;
                span.name = interner.get("publish band.viewed");
                span.attributes = vec![
                    interner.attribute("messaging.system", "kafka"),
                    interner.attribute("messaging.operation.type", "publish"),
                    interner.attribute("messaging.destination.name", "band.viewed"),
                ];
            }
            Role::Consumer => {
                span.kind = SpanKind::Consumer;
                span.scope_idx = SCOPE_MESSAGING;
                span.parent_relation = ParentRelation::FollowsFrom;
                span.name = interner.get("process band.viewed");
                span.attributes = vec![
                    interner.attribute("messaging.system", "kafka"),
                    interner.attribute("messaging.operation.type", "process"),
                    interner.attribute("messaging.destination.name", "band.viewed"),
                ];
                if let Some(producer_span_id) = parent_span_id {
                    span.links.push(Link {
                        trace_id,
                        span_id: producer_span_id,
                        attributes: vec![interner.attribute("messaging.operation.type", "publish")],
                    });
                }
            }
        }
        if failed {
            let message = match role {
                Role::Client {
                    to: Service::Db, ..
                } => "deadlock detected",
                Role::Client {
                    to: Service::Cache, ..
                } => "connection reset by peer",
                Role::Client { .. } | Role::Server(_) => "HTTP 500 Internal Server Error",
                _ => "upstream call failed",
            };
            span.status = Status::Error {
                message: Box::from(message),
            };
            if timing.failure_origin[span_idx] {
                span.events.push(Event {
                    time_unix_nanos: span_end,
                    name: interner.get("exception"),
                    attributes: vec![
                        interner.attribute("exception.type", "RuntimeError"),
                        interner.attribute("exception.message", message),
                    ],
                });
            }
        }
        span
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{NoteKind, SpanTree};
    use crate::Waterfall;

    #[test]
    fn spans_made_a_chunk_at_a_time_are_the_generated_trace() {
        for (n_spans, seed, chunk) in [(1, 1, 1), (60, 5, 7), (3_000, 2, 1_000), (10_000, 9, 2_000)]
        {
            let whole = generate(n_spans, seed);
            let mut maker = SpanMaker::new(n_spans, seed);
            assert_eq!(maker.n_spans(), whole.spans.len());
            assert_eq!(maker.resources(), &whole.resources[..]);
            assert_eq!(maker.scopes(), &whole.scopes[..]);
            let mut spans = Vec::new();
            loop {
                let next = maker.next_spans(chunk);
                if next.is_empty() {
                    break;
                }
                assert!(next.len() <= chunk);
                spans.extend(next);
            }
            assert_eq!(spans, whole.spans, "{n_spans} spans in chunks of {chunk}");
        }
    }

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // First outputs of SplitMix64 seeded with 1234567 (reference C code).
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn generates_exactly_n_spans_for_small_and_odd_sizes() {
        for n_spans in [1, 2, 3, 7, 10, 99, 1000] {
            assert_eq!(generate(n_spans, 5).spans.len(), n_spans);
        }
        assert_eq!(generate(0, 5).spans.len(), 1);
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        assert_eq!(generate(500, 42), generate(500, 42));
        assert_ne!(generate(500, 42), generate(500, 43));
    }

    #[test]
    fn large_trace_has_the_promised_variety() {
        // Some features are rare (a server clock skewed either way comes up
        // a few times in 20,000 spans), so a given seed may lack one: seed 7
        // has had no late server since the probe reshuffled its trace.
        // Seed 1 has every one.
        let trace = generate(20_000, 1);
        let waterfall = Waterfall::build(&trace);
        let tree = &waterfall.tree;
        let services: std::collections::HashSet<&str> = (0..trace.spans.len())
            .map(|span_idx| trace.service_name(span_idx))
            .collect();
        assert!(services.len() >= 6, "{services:?}");
        assert!(trace.spans.iter().any(|span| span.status.is_error()));
        assert!(trace.spans.iter().any(|span| !span.events.is_empty()));
        assert!(trace.spans.iter().any(|span| !span.links.is_empty()));
        assert!(trace
            .spans
            .iter()
            .any(|span| span.kind == SpanKind::Consumer));
        let n_orphans = (0..tree.len())
            .filter(|&span_idx| tree.is_orphan(span_idx))
            .count();
        assert!((1..=50).contains(&n_orphans), "{n_orphans} orphans");
        assert!(waterfall
            .skew_notes
            .iter()
            .any(|note| matches!(note.kind, NoteKind::StartsBeforeParent { .. })));
        assert!(waterfall
            .skew_notes
            .iter()
            .any(|note| matches!(note.kind, NoteKind::EndsAfterParent { .. })));
        assert!(
            waterfall.skew_notes.len() < 200,
            "{} skew notes",
            waterfall.skew_notes.len()
        );
        let max_depth = (0..tree.len())
            .map(|span_idx| tree.depth(span_idx))
            .max()
            .unwrap_or(0);
        assert!(max_depth >= 30, "max depth {max_depth}");
        let max_fan_out = (0..tree.len())
            .map(|span_idx| tree.children(span_idx).len())
            .max()
            .unwrap_or(0);
        assert!(max_fan_out >= 10, "max fan-out {max_fan_out}");
        // Nothing but orphans is repaired: ids are unique and there are no cycles.
        assert!(tree
            .notes()
            .iter()
            .all(|note| matches!(note.kind, NoteKind::MissingParent { .. })));
    }

    /// Whether `span` carries markup anywhere a viewer shows text: its name,
    /// its attributes, or its events' names and attributes.
    fn has_markup(span: &Span) -> bool {
        let markup = |text: &str| text.contains('<');
        let attributes_have_markup = |attributes: &[KeyValue]| {
            attributes.iter().any(|attribute| match &attribute.value {
                AttributeValue::String(text) => markup(text),
                _ => false,
            })
        };
        markup(&span.name)
            || attributes_have_markup(&span.attributes)
            || span
                .events
                .iter()
                .any(|event| markup(&event.name) || attributes_have_markup(&event.attributes))
    }

    #[test]
    fn every_trace_from_the_threshold_on_carries_the_probe_whatever_the_seed() {
        for n_spans in [PROBE_MIN_SPANS, PROBE_MIN_SPANS + 1, 200, 10_000] {
            for seed in [0, 1, 3, 7, 42, u64::MAX] {
                let trace = generate(n_spans, seed);
                let what = format!("generate({n_spans}, {seed})");
                let server = trace
                    .spans
                    .iter()
                    .find(|span| &*span.name == "GET /bands/<b>1</b>")
                    .unwrap_or_else(|| panic!("{what} has the probe's server span"));
                assert_eq!(server.kind, SpanKind::Server, "{what}");
                let text = |key: &str| match server.attribute(key) {
                    Some(AttributeValue::String(text)) => text.to_string(),
                    other => panic!("{what}: {key} is {other:?}"),
                };
                assert_eq!(text("url.query"), "q=<script>alert(1)</script>", "{what}");
                assert_eq!(
                    text("user_agent.original"),
                    "<img src=x onerror=alert(1)>",
                    "{what}"
                );
                // Its client logs the path; nothing else carries markup.
                let with_markup: Vec<&Span> =
                    trace.spans.iter().filter(|span| has_markup(span)).collect();
                assert_eq!(with_markup.len(), 2, "{what}");
                assert!(
                    with_markup.iter().any(|span| span.kind == SpanKind::Client
                        && span.events.iter().any(|event| event.attributes.iter().any(
                            |attribute| attribute.value.to_string().contains("/bands/<b>1</b>")
                        ))),
                    "{what}: the client span logs the path"
                );
            }
        }
    }

    #[test]
    fn traces_below_the_threshold_carry_no_markup() {
        for seed in [1, 7] {
            let trace = generate(PROBE_MIN_SPANS - 1, seed);
            assert!(!trace.spans.iter().any(has_markup), "seed {seed}");
        }
    }

    #[test]
    fn generated_ids_are_unique_and_nonzero() {
        let trace = generate(50_000, 3);
        let tree = SpanTree::build(&trace);
        assert!((0..tree.len()).all(|span_idx| !tree.is_duplicate(span_idx)));
        assert!(trace.spans.iter().all(|span| !span.span_id.is_zero()));
        assert!(!trace.spans[0].trace_id.is_zero());
    }
}
