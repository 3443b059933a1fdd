//! The layout of a 100,000-span generated trace: tree, self time and the
//! critical path (the target: under 30 ms natively).
//!
//! `cargo bench -p tracelab-trace --bench layout`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tracelab_trace::layout::{critical_path, self_times, SpanTimes};
use tracelab_trace::view::{visible_rows, CollapseState, FilterMode, SpanFilter, ViewOptions};
use tracelab_trace::{generate, SpanTree, Waterfall};

fn layout_100k(c: &mut Criterion) {
    let trace = generate(100_000, 1);
    let mut group = c.benchmark_group("layout_100k");
    group.sample_size(20);
    group.bench_function("tree_self_time_critical_path", |b| {
        b.iter(|| {
            let tree = SpanTree::build(black_box(&trace));
            let times = SpanTimes::from_trace(&trace);
            let self_time = self_times(&tree, &times);
            let path = critical_path(&tree, &times);
            black_box((tree, self_time, path))
        })
    });
    group.bench_function("waterfall_with_skew", |b| {
        b.iter(|| black_box(Waterfall::build(black_box(&trace))))
    });
    let waterfall = Waterfall::build(&trace);
    let filter = SpanFilter {
        attributes_contain: vec!["reviews".into()],
        ..SpanFilter::default()
    };
    group.bench_function("filter_hide_visible_rows", |b| {
        b.iter(|| {
            let matches = filter.apply(&trace, &waterfall.tree, &waterfall.times);
            let collapsed = CollapseState::new();
            let rows = visible_rows(
                &waterfall.tree,
                &ViewOptions {
                    root: None,
                    collapsed: &collapsed,
                    filter: Some((&matches, FilterMode::Hide)),
                },
            );
            black_box(rows.len())
        })
    });
    group.finish();
}

criterion_group!(benches, layout_100k);
criterion_main!(benches);
