//! The native tracelab: today the `tracelab` command line (`tracelab decode`);
//! later the bands and reviews services over HTTP, the embedded OTLP collector,
//! the span store and the query API, serving the built app.
//!
//! What it is for: I/O. It reads arguments, files, stdin and (later) sockets,
//! and hands what it reads to `tracelab-context` and the other domain crates.
//! What it is not for: trace context rules or trace layout; those live in the
//! domain crates so that the browser runs exactly the same logic.

pub mod cli;
pub mod decode;

use clap::Parser;
use std::ffi::OsString;
use std::process::ExitCode;

/// Exit code when every header found is valid.
pub const EXIT_VALID: u8 = 0;
/// Exit code when a header found is invalid.
pub const EXIT_INVALID: u8 = 1;
/// Exit code for usage errors, unreadable input, or input with no header.
pub const EXIT_USAGE: u8 = 2;

/// Parses the command line and runs the command.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version are successes; anything else is a usage error.
            let code = if error.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_VALID
            };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        cli::Command::Decode(args) => ExitCode::from(decode::run(&args)),
    }
}
