//! A test helper for `tests/crash.rs`, not a tool: ingests batches into the
//! store at the given path, forever (or up to a count), and after each
//! commit prints the batch number on its own line: a printed number is an
//! acknowledged batch. The test kills it mid-run and checks that every
//! acknowledged batch is in the store.
//!
//! Batch `n` is two traces (`crash_trace_id(n, 0)` and `(n, 1)`), each of
//! `SPANS_PER_TRACE` spans, from two services: all of a batch or none of it
//! may survive a kill, never part. Even batches are one request
//! (`Store::ingest_traces`); odd ones are two, one per service, stored
//! together (`Store::ingest_traces_batch`).
//!
//! Usage: `store-crash-writer <store path> [max batches]`

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tracelab_store::Store;

const SPANS_PER_TRACE: u64 = 5;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: store-crash-writer <store path> [max batches]");
        return ExitCode::from(2);
    };
    let max_batches: u64 = args
        .next()
        .and_then(|arg| arg.to_str()?.parse().ok())
        .unwrap_or(100_000);
    let store = match Store::open(&path) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("store-crash-writer: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    for batch in 0..max_batches {
        let request = batch_request(batch);
        // Odd batches go as two requests (one per service, so each holds
        // half of each trace) committed together by group commit: a kill
        // must leave both or neither.
        let stored = if batch % 2 == 1 {
            let halves: Vec<ExportTraceServiceRequest> = request
                .resource_spans
                .into_iter()
                .map(|resource_spans| ExportTraceServiceRequest {
                    resource_spans: vec![resource_spans],
                })
                .collect();
            let halves: Vec<&ExportTraceServiceRequest> = halves.iter().collect();
            store
                .ingest_traces_batch(&halves)
                .into_iter()
                .try_for_each(|outcome| outcome.map(drop))
        } else {
            store.ingest_traces(&request).map(drop)
        };
        if let Err(error) = stored {
            eprintln!("store-crash-writer: batch {batch}: {error}");
            return ExitCode::FAILURE;
        }
        // Acknowledged only now, after the commit. A closed pipe (the test
        // gone) ends the run.
        if writeln!(stdout, "{batch}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return ExitCode::SUCCESS;
        }
    }
    ExitCode::SUCCESS
}

fn batch_request(batch: u64) -> ExportTraceServiceRequest {
    let resource_spans = (0..2u8)
        .map(|service| {
            let spans = (0..2u8)
                .flat_map(|trace| {
                    let trace_id = crash_trace_id(batch, trace);
                    // Each service writes half of each trace's spans.
                    (0..SPANS_PER_TRACE)
                        .filter(move |idx| idx % 2 == u64::from(service))
                        .map(move |idx| crash_span(batch, &trace_id, idx))
                })
                .collect();
            ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(format!("crash-{service}"))),
                        }),
                        key_strindex: 0,
                    }],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..ScopeSpans::default()
                }],
                schema_url: String::new(),
            }
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

/// The same scheme as `tests/crash.rs`: byte 0 is 0xc0 + trace, the last
/// eight bytes are the batch number.
fn crash_trace_id(batch: u64, trace: u8) -> Vec<u8> {
    let mut id = vec![0u8; 16];
    id[0] = 0xc0 + trace;
    id[8..].copy_from_slice(&batch.to_be_bytes());
    id
}

fn crash_span(batch: u64, trace_id: &[u8], idx: u64) -> Span {
    let start = 1_700_000_000_000_000_000 + batch * 1_000_000;
    Span {
        trace_id: trace_id.to_vec(),
        span_id: (idx + 1).to_be_bytes().to_vec(),
        parent_span_id: if idx == 0 {
            Vec::new()
        } else {
            1u64.to_be_bytes().to_vec()
        },
        name: format!("step {idx}"),
        kind: 1,
        start_time_unix_nano: start + idx * 1_000,
        end_time_unix_nano: start + idx * 1_000 + 500,
        // Some bulk, so a commit takes long enough for a kill to land mid-write.
        attributes: vec![KeyValue {
            key: "payload".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("x".repeat(2_000))),
            }),
            key_strindex: 0,
        }],
        ..Span::default()
    }
}
