//! `cargo xtask up`: the whole lab. Setup, then the app's release build
//! (Trunk), then `tracelab up` built in release mode, which carries that
//! build and serves it: the UI and query API on http://127.0.0.1:16686/,
//! bands-api on 8000, reviews-api on 8080, OTLP on 4317 and 4318.
//!
//! For the browser-only lab with live reload, `trunk serve` still works
//! (http://127.0.0.1:7686/).

use crate::project::{self, display};
use crate::{setup, Result};

/// Where `tracelab up` serves the UI.
const UI_URL: &str = "http://127.0.0.1:16686/";

pub fn run() -> Result {
    setup::run()?;
    println!();
    println!("tracelab: building the app (Trunk, release), then tracelab itself, which carries it");
    let mut trunk = project::trunk();
    trunk.args(["build", "--release"]);
    project::run(&mut trunk)?;
    let mut cargo = project::cargo();
    cargo.args([
        "run",
        "--release",
        "-p",
        "tracelab-server",
        "--bin",
        "tracelab",
        "--",
        "up",
    ]);
    println!();
    println!("tracelab: the lab will be at {UI_URL} (Ctrl-C stops it)");
    println!("tracelab: make a call with `cargo run --release -p tracelab-server --bin tracelab -- call`");
    println!();
    let shown = display(&cargo);
    println!("$ {shown}");
    // Unlike `project::run`, standard input stays attached: this runs in the
    // foreground until the user stops it.
    let status = cargo
        .status()
        .map_err(|error| format!("could not start `{shown}`: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` stopped ({status})"))
    }
}
