//! `cargo xtask`: the jobs of the tracelab workspace that span crates and
//! tools, run through the alias in `.cargo/config.toml`.
//!
//! - `cargo xtask setup` installs what the build and the tests need and is
//!   missing (the wasm32 target, Trunk, wasm-bindgen, the npm packages in
//!   `e2e/`, Chromium), and says what it does.
//! - `cargo xtask up` builds the app and runs the whole lab, `tracelab up`,
//!   on <http://127.0.0.1:16686/>.
//! - `cargo xtask test` runs every check and test, native and in the browser,
//!   and stops at the first failure.
//! - `cargo xtask bench` runs the browser benchmarks on a release build.
//! - `cargo xtask load` runs the native services under wrk (`load.rs`).
//! - `cargo xtask ingest` loads the collector over OTLP (`ingest.rs`).
//! - `cargo xtask screenshots` takes the README's pictures.
//!
//! What this crate is not for: product code. Nothing here ships, and nothing
//! in the product depends on it. It has no dependencies so that it compiles in
//! seconds, before any of the real work starts.

mod bench;
mod bundle;
mod ingest;
mod load;
// CPU time from /proc, the same reading as the benchmarks' own (no
// dependencies), for `ingest` and `load`.
#[path = "../../crates/store/examples/support/proc_stat.rs"]
mod proc_stat;
mod project;
mod screenshots;
mod setup;
mod test;
mod up;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup   install the tools that are missing (wasm32 target, Trunk 0.21,
          wasm-bindgen-cli 0.2.130, npm packages in e2e/, Chromium)
  up      setup, build the app, then run the whole lab (tracelab up) at
          http://127.0.0.1:16686/
  test    setup, then run every check and test, stopping at the first failure
  bench   setup, then the browser benchmarks on a release build (numbers only)
  load    the native chain under wrk, traced and with the SDK disabled (numbers only)
  ingest  the collector: spans/s acknowledged over OTLP, and a 10,000-span query (numbers only)
  screenshots  the README's pictures from a release build, into docs/screenshots/
";

/// What a subcommand reports when it fails: one sentence for the user.
pub type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => {
            eprint!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    if !rest.is_empty() {
        eprintln!(
            "xtask: `{command}` takes no arguments (got: {})\n",
            rest.join(" ")
        );
        eprint!("{USAGE}");
        return ExitCode::FAILURE;
    }
    let result = match command {
        "setup" => setup::run(),
        "up" => up::run(),
        "test" => test::run(),
        "bench" => bench::run(),
        "load" => load::run(),
        "ingest" => ingest::run(),
        "screenshots" => screenshots::run(),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {command}: error: {message}");
            ExitCode::FAILURE
        }
    }
}
