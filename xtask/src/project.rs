//! Where the project is, and how its child processes are started: from the
//! project root, with the installed tools on `PATH` and loopback traffic kept
//! off any proxy.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Result;

/// The workspace root: the parent of this crate's directory.
pub fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask/ is a directory inside the workspace")
        .to_path_buf()
}

/// Where cargo puts what it builds: `$CARGO_TARGET_DIR`, or target/ in the
/// workspace. Binaries that a step built are found here, so a run with its
/// own target directory tests what it built.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root().join(dir)
            }
        }
        _ => root().join("target"),
    }
}

/// `$CARGO_HOME`, or `~/.cargo` as rustup sets it up.
fn cargo_home() -> Option<PathBuf> {
    match std::env::var_os("CARGO_HOME") {
        Some(cargo_home) if !cargo_home.is_empty() => Some(PathBuf::from(cargo_home)),
        _ => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")),
    }
}

/// `PATH` for every child: tools from `cargo install` and from `npm ci` in
/// `e2e/` first, so that a fresh shell (or CI) finds the pinned versions even
/// before the user has put them on their own `PATH`.
fn child_path() -> OsString {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(cargo_home) = cargo_home() {
        dirs.push(cargo_home.join("bin"));
    }
    dirs.push(root().join("e2e").join("node_modules").join(".bin"));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    // None of these directories contains ':', so joining cannot fail; fall
    // back to the inherited PATH rather than panic if one ever does.
    std::env::join_paths(dirs).unwrap_or_else(|_| std::env::var_os("PATH").unwrap_or_default())
}

/// `NO_PROXY` with loopback added: the browser tests and `trunk serve` talk to
/// 127.0.0.1, which must never go through an HTTP proxy set in the
/// environment.
fn no_proxy() -> String {
    let loopback = "127.0.0.1,localhost";
    match std::env::var("NO_PROXY").or_else(|_| std::env::var("no_proxy")) {
        Ok(existing) if !existing.trim().is_empty() => format!("{loopback},{existing}"),
        _ => loopback.to_string(),
    }
}

/// A command run from the project root with the project's `PATH`.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let no_proxy = no_proxy();
    let mut command = Command::new(program);
    command
        .current_dir(root())
        .env("PATH", child_path())
        .env("NO_PROXY", &no_proxy)
        .env("no_proxy", &no_proxy);
    command
}

/// `cargo`: the one running this xtask when known, so that a toolchain
/// override applies to the children too.
pub fn cargo() -> Command {
    command(std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")))
}

/// How a command is shown to the user: program and arguments.
pub fn display(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program())
        .to_string_lossy()
        .into_owned();
    std::iter::once(program)
        .chain(
            command
                .get_args()
                .map(|arg| arg.to_string_lossy().into_owned()),
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `command` to completion with its output shown, and fails with a
/// sentence naming it unless it exits with 0. Standard input is closed: CI
/// has none, and a step that waits for an answer should fail rather than
/// hang.
pub fn run(command: &mut Command) -> Result {
    let shown = display(command);
    println!("$ {shown}");
    let status = command
        .stdin(Stdio::null())
        .status()
        .map_err(|error| format!("could not start `{shown}`: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// The trimmed standard output of `command`, or `None` when it cannot be
/// started or exits with an error: used to ask tools for their version.
pub fn output(command: &mut Command) -> Option<String> {
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The standard output of `command` (shown to the user as `shown`), run to
/// completion with standard input closed; fails with a sentence naming it,
/// and what it wrote to stderr, unless it exits with 0. For the tools a
/// benchmark reads the report of (wrk, oha, the OTLP load generator).
pub fn stdout_of(command: &mut Command, shown: &str) -> Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("could not start `{shown}`: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{shown}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A plain HTTP/1.1 `GET path` to `addr`; the whole answer (status line,
/// headers and body) once its status is 200. xtask has no HTTP client:
/// it builds before anything else, from std alone.
pub fn http_get(addr: &str, path: &str) -> Result<Vec<u8>> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)
        .map_err(|error| format!("cannot reach {addr}: {error}"))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|error| format!("cannot send to {addr}: {error}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|error| format!("cannot read from {addr}: {error}"))?;
    if !answer.starts_with(b"HTTP/1.1 200") {
        return Err(format!(
            "GET {path} answered {}",
            String::from_utf8_lossy(&answer[..answer.len().min(200)])
        ));
    }
    Ok(answer)
}

/// The Trunk command line, with the two flags that keep it from reaching
/// the network: no check for a newer Trunk, and no tool downloads (it must
/// use the wasm-bindgen and wasm-opt that setup installed). `--offline=true`
/// is spelled with `=` because a bare `--offline` takes the next word as its
/// value.
pub fn trunk() -> Command {
    let mut trunk = command("trunk");
    trunk.args(["--skip-version-check", "--offline=true"]);
    trunk
}

/// Builds the native `tracelab` in release mode, with `extra` cargo
/// arguments (such as `--example otlp_load`): what the benchmarks run.
pub fn build_tracelab_release(extra: &[&str]) -> Result {
    let mut build = cargo();
    build
        .args([
            "build",
            "--release",
            "-p",
            "tracelab-server",
            "--bin",
            "tracelab",
        ])
        .args(extra);
    run(&mut build)
}

/// A child process killed when this goes, however a benchmark ends.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to 20 s for something to listen on `addr` (`host:port`).
pub fn wait_for_port(addr: &str) -> Result {
    let patience = std::time::Duration::from_secs(20);
    let started = std::time::Instant::now();
    while started.elapsed() < patience {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(format!(
        "nothing listened on {addr} within {} s",
        patience.as_secs()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `display` is how a failing step names its command, so it must show
    /// the arguments that matter, e.g. which target clippy ran for.
    #[test]
    fn display_shows_program_name_and_arguments() {
        let mut cargo = Command::new("/usr/bin/cargo");
        cargo.args([
            "clippy",
            "-p",
            "tracelab-app",
            "--target",
            "wasm32-unknown-unknown",
        ]);
        assert_eq!(
            display(&cargo),
            "cargo clippy -p tracelab-app --target wasm32-unknown-unknown"
        );
    }

    #[test]
    fn child_path_puts_the_project_tools_first() {
        let path = child_path();
        let node_bin = root().join("e2e").join("node_modules").join(".bin");
        assert!(std::env::split_paths(&path).any(|dir| dir == node_bin));
    }
}

/// Docs that must stay true as the code changes, checked by `cargo test`.
#[cfg(test)]
mod doc_tests {
    use super::root;

    /// ARCHITECTURE.md's code map has a heading for every crate in `crates/`
    /// (rust-analyzer's habit: a map that is checked stays true).
    #[test]
    fn architecture_maps_every_crate() {
        let map = std::fs::read_to_string(root().join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md is readable");
        let crates = std::fs::read_dir(root().join("crates")).expect("crates/ is readable");
        let mut checked = 0;
        for entry in crates {
            let name = entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let heading = format!("### `crates/{name}`");
            assert!(
                map.contains(&heading),
                "ARCHITECTURE.md has no heading {heading}"
            );
            checked += 1;
        }
        assert!(
            checked >= 3,
            "expected the crates of the workspace, found {checked}"
        );
    }

    /// The README's two commands are the ones xtask provides, and `.ci/run`
    /// runs the test command.
    #[test]
    fn readme_commands_exist() {
        let readme =
            std::fs::read_to_string(root().join("README.md")).expect("README.md is readable");
        assert!(readme.contains("cargo xtask up"));
        assert!(readme.contains("cargo xtask test"));
        let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run is readable");
        assert!(
            ci.lines().any(|l| l.trim() == "cargo xtask test"),
            ".ci/run must run the README's test command"
        );
    }
}
