//! `cargo xtask setup`: installs what the build and the tests need, when it
//! is missing. Each check is cheap, so running it again does nothing but
//! print what it found.

use std::path::{Path, PathBuf};

use crate::project::{self, command, output};
use crate::Result;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Trunk 0.22 needs rustc 1.96, newer than the stable toolchain this project
/// is built with (1.95); 0.21 is the line pinned here, and Trunk.toml is
/// written for it.
const TRUNK_SERIES: &str = "0.21.";
/// Must equal the `wasm-bindgen` crate pinned in the root Cargo.toml: the CLI
/// and the crate generate the two halves of the same bindings.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// Comes from the npm package `binaryen`, pinned in e2e/package-lock.json.
const WASM_OPT_VERSION: &str = "version_132";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Entry point of `cargo xtask setup`; `up` and `test` start with it too.
pub fn run() -> Result {
    disk_space();
    wasm_target()?;
    trunk()?;
    wasm_bindgen()?;
    npm_packages()?;
    python_packages()?;
    chromium()?;
    crates()?;
    println!("setup: everything is installed");
    Ok(())
}

/// What a cold `cargo xtask test` writes under target/ (debug and release
/// builds, native and wasm32, the interop virtualenv), measured on a fresh
/// clone with `CARGO_INCREMENTAL=0` as in CI (2.6 GB on 2026-12-04), rounded up.
const COLD_BUILD_GB: u64 = 4;

/// Says so up front when the disk that holds target/ has less room than a
/// cold build needs: otherwise the first sign is a linker's "No space left
/// on device" deep inside one step. Only a warning: a warm target/ needs
/// far less.
fn disk_space() {
    let root = project::root();
    // `df -Pk` prints a header, then one line whose 4th column is the space
    // available to this user, in KiB.
    let available_kib = output(command("df").arg("-Pk").arg(&root)).and_then(|df| {
        df.lines()
            .nth(1)?
            .split_whitespace()
            .nth(3)?
            .parse::<u64>()
            .ok()
    });
    let Some(available_kib) = available_kib else {
        println!("setup: could not read the free disk space with `df` (not checked)");
        return;
    };
    let available_gb = available_kib as f64 / (1024.0 * 1024.0);
    if available_kib < COLD_BUILD_GB * 1024 * 1024 {
        println!(
            "setup: warning: {available_gb:.1} GB free on the disk that holds {}; a cold \
             `cargo xtask test` writes about {COLD_BUILD_GB} GB under target/. If a step fails \
             with \"No space left on device\", free some space (`cargo clean` removes old builds)",
            root.display()
        );
    } else {
        println!("setup: ok: {available_gb:.0} GB free on the disk");
    }
}

fn wasm_target() -> Result {
    let installed = output(command("rustup").args(["target", "list", "--installed"]))
        .ok_or("`rustup` is needed to add the wasm32 target; install Rust with rustup")?;
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        println!("setup: ok: Rust target {WASM_TARGET}");
        return Ok(());
    }
    println!("setup: adding the Rust target {WASM_TARGET}");
    project::run(command("rustup").args(["target", "add", WASM_TARGET]))
}

fn trunk() -> Result {
    // `trunk --version` prints "trunk 0.21.14".
    let found = output(command("trunk").arg("--version"));
    if let Some(version) = &found {
        if version_of(version).starts_with(TRUNK_SERIES) {
            println!("setup: ok: {version}");
            return Ok(());
        }
    }
    println!(
        "setup: installing Trunk {TRUNK_SERIES}x (found: {}); this compiles for several minutes",
        found.as_deref().unwrap_or("none")
    );
    project::run(project::cargo().args(["install", "trunk", "--version", "~0.21", "--locked"]))
}

fn wasm_bindgen() -> Result {
    // `wasm-bindgen --version` prints "wasm-bindgen 0.2.130".
    let found = output(command("wasm-bindgen").arg("--version"));
    if let Some(version) = &found {
        if version_of(version) == WASM_BINDGEN_VERSION {
            println!("setup: ok: {version}");
            return Ok(());
        }
    }
    println!(
        "setup: installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} (found: {})",
        found.as_deref().unwrap_or("none")
    );
    // Without --locked: only the CLI's own version has to match the crate;
    // its dependencies resolve to current compatible releases rather than
    // to the lock file published with it.
    project::run(project::cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        WASM_BINDGEN_VERSION,
    ]))
}

/// `npm ci` in e2e/ when node_modules is missing or older than the lock
/// file. It brings playwright-core (the browser tests) and binaryen, whose
/// wasm-opt Trunk runs; Debian's binaryen is too old and its wasm-opt
/// produces a broken module.
fn npm_packages() -> Result {
    let e2e = project::root().join("e2e");
    let node = output(command("node").arg("--version"))
        .ok_or("Node.js (20 or newer, with npm) is needed for the browser tests and wasm-opt; install it first")?;
    if is_up_to_date(
        &e2e.join("node_modules").join(".package-lock.json"),
        &e2e.join("package-lock.json"),
    ) {
        println!("setup: ok: npm packages in e2e/ (node {node})");
    } else {
        println!("setup: installing the npm packages in e2e/ from package-lock.json (node {node})");
        project::run(
            command("npm")
                .current_dir(&e2e)
                .args(["ci", "--no-audit", "--no-fund"]),
        )?;
    }
    // A wrong wasm-opt would make Trunk fail later with a less clear message.
    let wasm_opt = output(command("wasm-opt").arg("--version")).unwrap_or_default();
    if !wasm_opt.contains(WASM_OPT_VERSION) {
        return Err(format!(
            "wasm-opt on PATH is `{wasm_opt}`, expected {WASM_OPT_VERSION} from e2e/node_modules; \
             delete e2e/node_modules and run `cargo xtask setup` again"
        ));
    }
    Ok(())
}

/// Whether `installed` (npm's record of what it installed) is at least as
/// new as `lock`.
fn is_up_to_date(installed: &Path, lock: &Path) -> bool {
    let modified = |path: &Path| {
        path.metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
    };
    match (modified(installed), modified(lock)) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    }
}

/// The virtualenv that holds the Python side of the interop tests
/// (`e2e/interop.test.mjs`); `browser_tests` passes its interpreter to them
/// as `TRACELAB_PYTHON`.
pub fn interop_venv() -> PathBuf {
    project::root().join("target").join("interop-venv")
}

/// The interpreter of [`interop_venv`].
pub fn interop_python() -> PathBuf {
    interop_venv().join("bin").join("python")
}

/// OpenTelemetry's Python SDK and OTLP exporters, pinned with everything
/// they pull in by e2e/interop/requirements.txt, in a virtualenv of their
/// own under target/ (nothing goes into the system's Python). The
/// virtualenv keeps a copy of the requirements it was installed from: when
/// that copy equals the file, there is nothing to do.
fn python_packages() -> Result {
    let requirements = project::root()
        .join("e2e")
        .join("interop")
        .join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|error| format!("cannot read {}: {error}", requirements.display()))?;
    let venv = interop_venv();
    let python = interop_python();
    let installed = venv.join("installed-requirements.txt");
    if python.exists() && std::fs::read_to_string(&installed).ok().as_deref() == Some(&*wanted) {
        println!("setup: ok: Python packages for the interop tests in target/interop-venv");
        return Ok(());
    }
    let python3 = output(command("python3").arg("--version")).ok_or(
        "Python 3 (3.9 or newer, with venv and pip) is needed for the interop tests; install it first",
    )?;
    if !python.exists() {
        println!("setup: creating the virtualenv target/interop-venv ({python3})");
        project::run(
            command("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
        )
        .map_err(|error| {
            format!(
                "{error}; on Debian, `apt-get install python3-venv` brings Python's venv module"
            )
        })?;
    }
    println!(
        "setup: installing OpenTelemetry's Python SDK and OTLP exporters (e2e/interop/requirements.txt) into target/interop-venv"
    );
    project::run(
        command(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--requirement",
            ])
            .arg(&requirements),
    )?;
    std::fs::write(&installed, wanted)
        .map_err(|error| format!("cannot write {}: {error}", installed.display()))
}

fn chromium() -> Result {
    if Path::new(CHROMIUM).exists() {
        println!("setup: ok: {CHROMIUM}");
        return Ok(());
    }
    println!("setup: installing Chromium and chromedriver from Debian's packages");
    let is_root = output(command("id").arg("-u")).as_deref() == Some("0");
    // apt-get must not stop to ask questions: there may be no terminal.
    // sudo drops the environment, so the setting goes on its command line.
    let apt_get = |args: &[&str]| {
        let mut apt_get = if is_root {
            let mut apt_get = command("apt-get");
            apt_get.env("DEBIAN_FRONTEND", "noninteractive");
            apt_get
        } else {
            let mut sudo = command("sudo");
            sudo.args(["DEBIAN_FRONTEND=noninteractive", "apt-get"]);
            sudo
        };
        apt_get.args(args);
        apt_get
    };
    project::run(&mut apt_get(&["update"]))?;
    project::run(&mut apt_get(&[
        "install",
        "-y",
        "chromium",
        "chromium-driver",
    ]))
}

/// Downloads the crates in Cargo.lock. Trunk runs cargo with `--offline`
/// (offline = true in Trunk.toml), so they must be here before it runs.
fn crates() -> Result {
    println!("setup: fetching the crates in Cargo.lock");
    project::run(project::cargo().arg("fetch"))
}

/// The version in a `<name> <version>` line.
fn version_of(line: &str) -> &str {
    line.split_whitespace().nth(1).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interop tests check exact values against exact SDK versions, so
    /// every package in their requirements is pinned, not ranged.
    #[test]
    fn interop_requirements_are_pinned() {
        let path = project::root()
            .join("e2e")
            .join("interop")
            .join("requirements.txt");
        let requirements = std::fs::read_to_string(&path).expect("requirements.txt is readable");
        let packages: Vec<&str> = requirements
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        for package in &packages {
            assert!(
                package.contains("==") && !package.contains(['<', '>', '~', '*', ',']),
                "{package} is not pinned to one version"
            );
        }
        for needed in ["opentelemetry-sdk==", "opentelemetry-exporter-otlp=="] {
            assert!(
                packages.iter().any(|package| package.starts_with(needed)),
                "requirements.txt names no {needed}"
            );
        }
    }
}
