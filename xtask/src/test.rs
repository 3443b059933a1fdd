//! `cargo xtask test`: every check and test of the workspace, in the order a
//! failure is cheapest to find, stopping at the first failure.
//!
//! The steps: formatting; clippy on the native crates and on the app for
//! wasm32; rustdoc with warnings as errors; the native tests; a wasm build
//! of the app; Trunk's release build into dist/; the bundle budget
//! (`bundle.rs`); the browser tests in e2e/ against dist/ (node's test
//! runner, playwright-core driving Debian's Chromium).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::project::{self, command};
use crate::{bundle, setup, Result};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The app only builds for the browser; the native steps leave it out (it is
/// also left out of the workspace's default members).
const APP: &str = "tracelab-app";

struct Step {
    name: &'static str,
    /// Runs the step; `Err` says why it failed.
    action: Box<dyn Fn() -> Result>,
}

impl Step {
    fn command(name: &'static str, make: impl Fn() -> Command + 'static) -> Step {
        Step {
            name,
            action: Box::new(move || project::run(&mut make())),
        }
    }
}

fn steps() -> Vec<Step> {
    vec![
        Step {
            name: "setup",
            action: Box::new(setup::run),
        },
        Step::command("rustfmt", || {
            let mut cargo = project::cargo();
            cargo.args(["fmt", "--all", "--check"]);
            cargo
        }),
        Step::command("clippy, native crates", || {
            let mut cargo = project::cargo();
            cargo.args([
                "clippy",
                "--workspace",
                "--exclude",
                APP,
                // The OpenTelemetry propagator and the benchmarks sit behind features.
                "--all-features",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]);
            cargo
        }),
        Step::command("clippy, app for wasm32", || {
            let mut cargo = project::cargo();
            cargo.args([
                "clippy",
                "-p",
                APP,
                "--target",
                WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ]);
            cargo
        }),
        // Docs that name an item which is gone or private fail here, so the
        // `//!` and `///` docs keep matching the code.
        Step::command("docs (rustdoc, warnings are errors)", || {
            let mut cargo = project::cargo();
            cargo.env("RUSTDOCFLAGS", "-D warnings").args([
                "doc",
                "--workspace",
                "--exclude",
                APP,
                "--all-features",
                "--no-deps",
            ]);
            cargo
        }),
        Step::command("docs of the app for wasm32", || {
            let mut cargo = project::cargo();
            cargo.env("RUSTDOCFLAGS", "-D warnings").args([
                "doc",
                "-p",
                APP,
                "--target",
                WASM_TARGET,
                "--no-deps",
            ]);
            cargo
        }),
        Step::command("tests, native crates", || {
            let mut cargo = project::cargo();
            cargo.args(["test", "--workspace", "--exclude", APP, "--all-features"]);
            cargo
        }),
        // The app's own unit tests (URL fragment formats, query parsing)
        // are plain Rust and run natively; its views are tested in e2e/.
        Step::command("tests, app (native)", || {
            let mut cargo = project::cargo();
            cargo.args(["test", "-p", APP, "--lib"]);
            cargo
        }),
        Step::command("trunk release build into dist/", || {
            let mut trunk = project::trunk();
            trunk.args(["build", "--release"]);
            trunk
        }),
        Step {
            name: "bundle budgets (first load, trace pages, worker)",
            action: Box::new(|| bundle::check(&project::root().join("dist"))),
        },
        Step {
            name: "browser tests (e2e/)",
            action: Box::new(browser_tests),
        },
    ]
}

/// `node --test` on every `e2e/*.test.mjs`, listed here because node 20's
/// test runner takes no glob. The tests serve dist/ themselves.
fn browser_tests() -> Result {
    let e2e = project::root().join("e2e");
    let entries = std::fs::read_dir(&e2e)
        .map_err(|error| format!("cannot read {}: {error}", e2e.display()))?;
    let mut files: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.mjs"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "no browser tests (*.test.mjs) in {}",
            e2e.display()
        ));
    }
    let mut node = command("node");
    node.current_dir(&e2e)
        .env("TRACELAB_DIST", project::root().join("dist"))
        // The native binary the native tests built: the trace page's test
        // runs `tracelab up` against dist/ and opens a real trace.
        .env(
            "TRACELAB_BIN",
            project::target_dir().join("debug").join("tracelab"),
        )
        // The interop tests run OpenTelemetry's Python exporters with the
        // interpreter of the virtualenv that setup filled.
        .env("TRACELAB_PYTHON", setup::interop_python())
        .arg("--test")
        .args(&files);
    project::run(&mut node)
}

pub fn run() -> Result {
    let started = Instant::now();
    let steps = steps();
    let n_steps = steps.len();
    let mut timings: Vec<(&'static str, Duration)> = Vec::new();
    for (step_idx, step) in steps.iter().enumerate() {
        let number = step_idx + 1;
        println!();
        println!("==> [{number}/{n_steps}] {}", step.name);
        let step_started = Instant::now();
        let result = (step.action)();
        let elapsed = step_started.elapsed();
        if let Err(message) = result {
            eprintln!();
            eprintln!(
                "==> [{number}/{n_steps}] {} FAILED after {}",
                step.name,
                seconds(elapsed)
            );
            eprintln!("    {message}");
            eprintln!(
                "    steps: {} passed, 1 failed; the {} after it did not run",
                step_idx,
                n_steps - number
            );
            return Err(format!("step {number}/{n_steps} ({}) failed", step.name));
        }
        println!(
            "==> [{number}/{n_steps}] {} passed in {}",
            step.name,
            seconds(elapsed)
        );
        timings.push((step.name, elapsed));
    }
    println!();
    println!("==> summary");
    for (step_idx, (name, elapsed)) in timings.iter().enumerate() {
        println!(
            "    [{}/{n_steps}] {name:<34} {:>9}  passed",
            step_idx + 1,
            seconds(*elapsed)
        );
    }
    println!(
        "All {n_steps} steps passed in {}.",
        seconds(started.elapsed())
    );
    println!("steps: {n_steps} passed, 0 failed");
    Ok(())
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_have_distinct_names() {
        let steps = steps();
        let mut names: Vec<&str> = steps.iter().map(|step| step.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), steps.len());
    }
}
