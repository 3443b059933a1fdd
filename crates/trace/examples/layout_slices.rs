//! How long the layout of a large generated trace takes at once and in
//! slices (`LayoutJob`), and how long the longest slice is: `cargo run
//! --release -p tracelab-trace --example layout_slices -- 1000000 5000`
//! (spans, units a slice).

use std::time::{Duration, Instant};

use tracelab_trace::layout_job::LaidOut;
use tracelab_trace::{generate, LayoutJob, Waterfall};

fn main() {
    let mut args = std::env::args().skip(1);
    let n_spans: usize = args
        .next()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000_000);
    let units_a_slice: usize = args
        .next()
        .and_then(|text| text.parse().ok())
        .unwrap_or(5_000);
    let trace = generate(n_spans, 1);
    println!("spans: {n_spans}, units a slice: {units_a_slice}");
    // Three rounds each, alternating, so that a busy machine weighs on both.
    for round in 1..=3 {
        let started = Instant::now();
        let at_once = LaidOut::from(Waterfall::build(&trace));
        let at_once_time = started.elapsed();

        let started = Instant::now();
        let mut job = LayoutJob::new(&trace);
        let mut n_slices = 0usize;
        let mut longest = Duration::ZERO;
        let mut longest_stage = "";
        // Per stage a slice started in: slices, time, longest slice.
        let mut stages: Vec<(&str, usize, Duration, Duration)> = Vec::new();
        let sliced = loop {
            let stage = job.stage();
            let slice_started = Instant::now();
            let result = job.step(&trace, units_a_slice);
            let slice_time = slice_started.elapsed();
            n_slices += 1;
            if slice_time > longest {
                longest = slice_time;
                longest_stage = stage;
            }
            match stages.last_mut() {
                Some((name, count, total, most)) if *name == stage => {
                    *count += 1;
                    *total += slice_time;
                    *most = (*most).max(slice_time);
                }
                _ => stages.push((stage, 1, slice_time, slice_time)),
            }
            if let Some(laid_out) = result {
                break laid_out;
            }
        };
        let sliced_time = started.elapsed();
        assert!(sliced == at_once, "the sliced layout differs");
        println!(
            "round {round}: at once {at_once_time:.1?}; in slices {sliced_time:.1?} \
             ({n_slices} slices, mean {:.2?}, longest {longest:.2?} in {longest_stage:?})",
            sliced_time / n_slices.max(1) as u32,
        );
        if round == 3 {
            for (stage, count, total, most) in &stages {
                println!("  {stage:<24} {count:>5} slices, {total:>9.1?}, longest {most:.2?}");
            }
        }
    }
}
