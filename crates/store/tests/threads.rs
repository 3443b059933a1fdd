//! One store shared by threads: queries run while ingest goes on, and see
//! only whole, committed requests.

mod common;

use std::sync::Arc;

use common::*;
use tracelab_store::{Store, TraceQuery};

#[test]
fn the_store_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Store>();
}

#[test]
fn readers_see_whole_requests_while_a_writer_ingests() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store.db")).unwrap());
    const REQUESTS: u8 = 60;
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            for n in 1..=REQUESTS {
                // Each request is one trace of three spans.
                let spans = vec![
                    span(n, 1, None, "root", 0, 30),
                    span(n, 2, Some(1), "a", 1, 10),
                    span(n, 3, Some(1), "b", 12, 10),
                ];
                store.ingest_traces(&request("svc", spans)).unwrap();
            }
        })
    };
    let mut seen = 0;
    while seen < usize::from(REQUESTS) {
        let trace_ids = store
            .find_traces(&TraceQuery {
                limit: Some(1500),
                ..TraceQuery::default()
            })
            .unwrap();
        for trace_id in &trace_ids {
            let trace = store
                .trace(trace_id)
                .unwrap()
                .expect("a found trace is there");
            assert_eq!(
                trace.spans.len(),
                3,
                "a request is committed whole or not at all"
            );
        }
        seen = trace_ids.len();
    }
    writer.join().unwrap();
}
