//! `cargo xtask bench`: the browser benchmarks, on a release build. The
//! native benchmarks are plain `cargo bench` (see BENCHMARKS.md).
//! Benchmarks report numbers; they never pass or fail on a timing.

use crate::project::{self, command};
use crate::{bundle, setup, Result};

/// The scripts in `e2e/bench/`, in the order they run. `live-stream.mjs`
/// runs the release `tracelab collector` (`TRACELAB_BIN`) serving this build.
const BROWSER_BENCHMARKS: &[&str] = &[
    "decode-keystroke.mjs",
    "waterfall-paint.mjs",
    "filter-keystroke.mjs",
    "live-stream.mjs",
    "import-100k.mjs",
];

pub fn run() -> Result {
    setup::run()?;
    project::build_tracelab_release(&[])?;
    let mut trunk = project::trunk();
    trunk.args(["build", "--release"]);
    project::run(&mut trunk)?;
    // The sizes first: the benchmarks below load this same build.
    print!(
        "{}",
        bundle::report(&bundle::measure(&project::root().join("dist"))?)
    );
    let bench_dir = project::root().join("e2e").join("bench");
    for script in BROWSER_BENCHMARKS {
        let mut node = command("node");
        node.current_dir(&bench_dir)
            .env("TRACELAB_DIST", project::root().join("dist"))
            .env(
                "TRACELAB_BIN",
                project::target_dir().join("release/tracelab"),
            )
            .arg(script);
        project::run(&mut node)?;
    }
    Ok(())
}
