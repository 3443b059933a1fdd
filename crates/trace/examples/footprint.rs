//! Prints what a generated trace occupies in memory, and how long the layout
//! takes: `cargo run --release -p tracelab-trace --example footprint -- 100000`.

use std::time::Instant;

use tracelab_trace::{generate, Span, Waterfall};

fn main() {
    let n_spans: usize = std::env::args()
        .nth(1)
        .and_then(|text| text.parse().ok())
        .unwrap_or(100_000);
    let started = Instant::now();
    let trace = generate(n_spans, 1);
    let generated = started.elapsed();
    let footprint = trace.memory_footprint();
    let started = Instant::now();
    let waterfall = Waterfall::build(&trace);
    let laid_out = started.elapsed();
    println!("spans:              {}", footprint.n_spans);
    println!("size_of::<Span>():  {} bytes", std::mem::size_of::<Span>());
    println!("inline:             {} bytes", footprint.inline_bytes);
    println!("heap:               {} bytes", footprint.heap_bytes);
    println!(
        "shared strings:     {} bytes",
        footprint.shared_string_bytes
    );
    println!("bytes per span:     {}", footprint.bytes_per_span());
    println!("generate:           {generated:?}");
    println!("waterfall:          {laid_out:?}");
    println!("roots:              {}", waterfall.tree.roots().len());
    println!(
        "max depth:          {}",
        waterfall
            .tree
            .rows()
            .map(|span_idx| waterfall.tree.depth(span_idx))
            .max()
            .unwrap_or(0)
    );
    println!("skew notes:         {}", waterfall.skew_notes.len());
    println!("tree notes:         {}", waterfall.tree.notes().len());
    println!(
        "critical path spans:{}",
        waterfall.critical_path.spans().count()
    );
    let (start, end) = waterfall.bounds();
    println!(
        "trace duration:     {}",
        tracelab_trace::axis::format_duration(end - start)
    );
}
