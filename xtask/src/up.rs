//! `cargo xtask up`: setup, then serve the app with `trunk serve`, which
//! rebuilds and reloads the page when a source file changes.

use crate::project::{self, display};
use crate::{setup, Result};

pub fn run() -> Result {
    setup::run()?;
    // No `--open`: there may be no browser to open (a server, a container),
    // and failing for that would be silly. The URL is printed instead.
    println!();
    println!("tracelab: serving the app at {}", project::SERVE_URL);
    println!("tracelab: the first build takes a while; Ctrl-C stops the server");
    println!();
    let mut trunk = project::trunk();
    trunk.arg("serve");
    let shown = display(&trunk);
    println!("$ {shown}");
    // Unlike `project::run`, standard input stays attached: this runs in the
    // foreground until the user stops it.
    let status = trunk
        .status()
        .map_err(|error| format!("could not start `{shown}`: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` stopped ({status})"))
    }
}
