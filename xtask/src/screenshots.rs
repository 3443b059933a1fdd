//! `cargo xtask screenshots`: the README's pictures, taken from a release
//! build of the app by `e2e/screenshots.mjs` and written to
//! `docs/screenshots/`. Apart from `cargo xtask test`, so that running the
//! tests never changes the work tree.

use crate::project::{self, command};
use crate::{setup, Result};

pub fn run() -> Result {
    setup::run()?;
    let mut trunk = project::trunk();
    trunk.args(["build", "--release"]);
    project::run(&mut trunk)?;
    let mut node = command("node");
    node.current_dir(project::root().join("e2e"))
        .env("TRACELAB_DIST", project::root().join("dist"))
        .args(["--test", "screenshots.mjs"]);
    project::run(&mut node)?;
    println!("screenshots: written to docs/screenshots/");
    Ok(())
}
