//! `import_cpu FORMAT WHAT N`: reads a generated 20,000-span trace written
//! as FORMAT (`otlp`, `jaeger` or `zipkin`) N times, with `import` (WHAT =
//! `import`) or with `serde_json` into a `Value` (WHAT = `value`), for
//! measuring CPU time rather than wall-clock time on a shared machine:
//!
//! ```sh
//! cargo build --release -p tracelab-formats --example import_cpu
//! perf stat -e task-clock target/release/examples/import_cpu otlp import 10
//! perf stat -e task-clock target/release/examples/import_cpu otlp import 0
//! ```
//!
//! The difference of the two, over N, is one read (generating and writing
//! the file is the rest). BENCHMARKS.md has the numbers.

use std::hint::black_box;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(format), Some(what), Some(n)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: import_cpu otlp|jaeger|zipkin import|value N");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("N is a count: {n:?}");
        return ExitCode::from(2);
    };
    let trace = tracelab_trace::generate(20_000, 1);
    let file = match format.as_str() {
        "otlp" => tracelab_formats::to_otlp_json(&trace),
        "jaeger" => tracelab_formats::to_jaeger_json(&trace),
        "zipkin" => tracelab_formats::to_zipkin_json(&trace),
        other => {
            eprintln!("no format {other:?}");
            return ExitCode::from(2);
        }
    };
    eprintln!("{format}: {} bytes", file.len());
    for _ in 0..n {
        if what == "value" {
            let value = serde_json::from_slice::<serde_json::Value>(black_box(file.as_bytes()));
            black_box(value.is_ok());
        } else {
            let imported = tracelab_formats::import(black_box(file.as_bytes()));
            if imported.n_skipped > 0 {
                eprintln!("problems: {:?}", imported.skipped);
                return ExitCode::FAILURE;
            }
            black_box(imported);
        }
    }
    ExitCode::SUCCESS
}
