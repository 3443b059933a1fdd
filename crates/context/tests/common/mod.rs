//! What the integration tests share: the spec's example and a receiver whose
//! new ids are fixed, so that a decision can be compared exactly.

use tracelab_context::{IdSource, SpanId, TraceId};

/// The W3C spec's example `traceparent` (§3.2.3), sampled.
pub const SPEC_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The ids a receiver under test draws: fixed, and unlike any id in the tables.
pub const RECEIVER_TRACE_ID: TraceId =
    TraceId::from_bytes([0xab; 16]).expect("a test id is not zero");
pub const RECEIVER_SPAN_ID: SpanId = SpanId::from_bytes([0xcd; 8]).expect("a test id is not zero");

/// An [`IdSource`] that always draws [`RECEIVER_TRACE_ID`] and [`RECEIVER_SPAN_ID`].
pub struct FixedIds;

impl IdSource for FixedIds {
    fn new_trace_id(&mut self) -> TraceId {
        RECEIVER_TRACE_ID
    }
    fn new_span_id(&mut self) -> SpanId {
        RECEIVER_SPAN_ID
    }
}
