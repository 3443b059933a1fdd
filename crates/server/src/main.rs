//! The `tracelab` binary: glue that maps [`tracelab_server::run`]'s result to
//! an exit code. Everything it does lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    tracelab_server::run(std::env::args_os())
}
