//! Instruction counts of the parsers against `opentelemetry_sdk`, the same
//! inputs as `benches/parse.rs`, for a measure that other work on the machine
//! cannot disturb:
//!
//! ```sh
//! cargo build --release -p tracelab-context --features opentelemetry --example probe
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/probe tracelab valid
//! ```
//!
//! Each run parses its input 100,000 times; divide the instruction count by
//! that. The first argument is `tracelab` or `sdk`; the second `valid`,
//! `tracestate` (valid traceparent + 10-entry tracestate) or `invalid`.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use std::hint::black_box;

#[path = "../benches/support/headers.rs"]
mod headers;
use headers::{tracelab_extract, tracestate_10, Headers, INVALID, VALID};

const ROUNDS: usize = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tracestate = tracestate_10();
    let pairs = match args.get(1).map(String::as_str) {
        Some("invalid") => vec![("traceparent", INVALID)],
        Some("tracestate") => vec![("traceparent", VALID), ("tracestate", tracestate.as_str())],
        _ => vec![("traceparent", VALID)],
    };
    let headers = Headers(&pairs);
    let sdk = TraceContextPropagator::new();
    let mut valid = 0usize;
    for _ in 0..ROUNDS {
        let headers = black_box(&headers);
        let ok = match args.first().map(String::as_str) {
            Some("sdk") => sdk.extract(headers).span().span_context().is_valid(),
            _ => tracelab_extract(headers).is_some(),
        };
        valid += usize::from(ok);
    }
    println!("{valid} of {ROUNDS} valid");
}
