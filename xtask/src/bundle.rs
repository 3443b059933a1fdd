//! The bundle budgets: what a browser downloads (wasm, JS, CSS of a release
//! build in dist/), gzipped, in three parts with a budget each: the first
//! load (what every page fetches when it opens, all that `/` and `/decode`
//! need: at most [`BUDGET_BYTES`]), the trace pages' app (fetched as well
//! on Simulate, Sample, Trace and Live: at most [`TRACE_APP_BUDGET_BYTES`])
//! the worker (fetched on the first simulated or real call: at most
//! [`WORKER_BUDGET_BYTES`]) and the import worker (fetched on the first
//! import or export: at most [`IMPORT_WORKER_BUDGET_BYTES`]).
//!
//! `cargo xtask test` checks it after Trunk's release build, so a change that
//! breaks the budget fails CI with the table of what weighs what;
//! `cargo xtask bench` prints the same table. Sizes are `gzip -9` output
//! bytes, as BENCHMARKS.md reports them (1 KB = 1000 bytes).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::Result;

/// 400 KB gzipped for the first load, as the waterfall issue set it for the
/// whole app and the import issue keeps it for the first load.
pub const BUDGET_BYTES: u64 = 400_000;

/// 175 KB gzipped for the worker: the demo's services and the
/// OpenTelemetry SDK for the simulation (112 KB when it moved out of the
/// first load), and since the Live page's real calls, the client over
/// `fetch` and the OTLP JSON writer too (150 KB with both).
pub const WORKER_BUDGET_BYTES: u64 = 175_000;

/// 400 KB gzipped for the trace pages' app (the waterfall, the Simulate,
/// Sample, Trace and Live pages), fetched on top of the first load on
/// those pages only.
pub const TRACE_APP_BUDGET_BYTES: u64 = 400_000;

/// 200 KB gzipped for the import worker: the importers and exporters
/// (`tracelab-formats`, `serde_json`) and the trace's compact form.
pub const IMPORT_WORKER_BUDGET_BYTES: u64 = 200_000;

/// The files of the import worker start with this (index.html's
/// `data-bin="import-worker"`, and its loader).
const IMPORT_WORKER_PREFIX: &str = "import-worker";

/// The files of the simulation's worker start with this (index.html's
/// `data-bin="sim-worker"`, and its loader).
const WORKER_PREFIX: &str = "sim-worker";

/// The files of the trace pages' app (index.html's `data-bin="trace-app"`).
const TRACE_APP_PREFIX: &str = "trace-app";

/// The parts of the bundle: a name and a budget each.
const PARTS: [(&str, u64); 4] = [
    ("first load", BUDGET_BYTES),
    ("trace pages' app", TRACE_APP_BUDGET_BYTES),
    ("worker", WORKER_BUDGET_BYTES),
    ("import worker", IMPORT_WORKER_BUDGET_BYTES),
];

/// The part a file of dist/ belongs to.
fn part_of(name: &str) -> &'static str {
    if name.starts_with(IMPORT_WORKER_PREFIX) {
        PARTS[3].0
    } else if name.starts_with(WORKER_PREFIX) {
        PARTS[2].0
    } else if name.starts_with(TRACE_APP_PREFIX) {
        PARTS[1].0
    } else {
        PARTS[0].0
    }
}

/// The kinds of file that make up the app, in the order the table shows them.
const KINDS: &[(&str, &str)] = &[(".wasm", "wasm"), (".js", "JS"), (".css", "CSS")];

/// One file of the bundle and its sizes in bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: &'static str,
    /// One of [`PARTS`]' names.
    pub part: &'static str,
    pub raw: u64,
    pub gzipped: u64,
}

/// The wasm, JS and CSS files in `dist`, measured.
pub fn measure(dist: &Path) -> Result<Vec<Entry>> {
    let entries = std::fs::read_dir(dist).map_err(|error| {
        format!(
            "cannot read {} ({error}); build the app first with `trunk build --release`",
            dist.display()
        )
    })?;
    let mut files: Vec<(String, &'static str)> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter_map(|name| kind_of(&name).map(|kind| (name, kind)))
        .collect();
    files.sort();
    if !files.iter().any(|(_, kind)| *kind == "wasm") {
        return Err(format!(
            "no .wasm file in {}: is it a Trunk build of the app?",
            dist.display()
        ));
    }
    files
        .into_iter()
        .map(|(name, kind)| {
            let path = dist.join(&name);
            let raw = std::fs::metadata(&path)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))?
                .len();
            Ok(Entry {
                gzipped: gzipped_len(&path)?,
                part: part_of(&name),
                name,
                kind,
                raw,
            })
        })
        .collect()
}

fn kind_of(name: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .find(|(suffix, _)| name.ends_with(suffix))
        .map(|(_, kind)| *kind)
}

/// `gzip -9c FILE | wc -c`: the tool BENCHMARKS.md tells readers to use, so
/// the check and the documented numbers cannot drift apart.
fn gzipped_len(path: &Path) -> Result<u64> {
    let output = Command::new("gzip")
        .arg("-9c")
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("could not run gzip: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "gzip -9c {} failed ({})",
            path.display(),
            output.status
        ));
    }
    Ok(output.stdout.len() as u64)
}

/// The table of sizes per part and kind, each part's total against its budget.
pub fn report(entries: &[Entry]) -> String {
    let mut text = String::from("bundle (gzip -9)          raw        gzipped\n");
    for (part, budget) in PARTS {
        let in_part: Vec<&Entry> = entries.iter().filter(|entry| entry.part == part).collect();
        text.push_str(&format!("{part}\n"));
        for (_, kind) in KINDS {
            let (raw, gzipped) =
                totals(in_part.iter().copied().filter(|entry| entry.kind == *kind));
            text.push_str(&format!(
                "  {kind:<20} {:>10} {:>14}\n",
                kb(raw),
                kb(gzipped)
            ));
        }
        let (raw, gzipped) = totals(in_part.iter().copied());
        text.push_str(&format!(
            "  {:<20} {:>10} {:>14}   budget {}, {} {}\n",
            "total",
            kb(raw),
            kb(gzipped),
            kb(budget),
            kb(budget.abs_diff(gzipped)),
            if gzipped <= budget { "left" } else { "OVER" }
        ));
    }
    text
}

/// Raw and gzipped bytes of `entries`, added up.
fn totals<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> (u64, u64) {
    entries.into_iter().fold((0, 0), |(raw, gz), entry| {
        (raw + entry.raw, gz + entry.gzipped)
    })
}

fn kb(bytes: u64) -> String {
    format!("{}.{} KB", bytes / 1000, bytes % 1000 / 100)
}

/// Measures `dist`, prints the table, and fails when a part is over its budget.
pub fn check(dist: &Path) -> Result {
    let entries = measure(dist)?;
    print!("{}", report(&entries));
    check_entries(&entries)
}

/// Fails when a part of `entries` is over its budget, naming it.
fn check_entries(entries: &[Entry]) -> Result {
    for (part, budget) in PARTS {
        let (_, gzipped) = totals(entries.iter().filter(|entry| entry.part == part));
        if gzipped > budget {
            return Err(format!(
                "the {part} is {} gzipped, over its budget of {} by {} (see BENCHMARKS.md for what weighs what)",
                kb(gzipped),
                kb(budget),
                kb(gzipped - budget)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: &'static str, gzipped: u64) -> Entry {
        Entry {
            name: name.to_owned(),
            kind,
            part: part_of(name),
            raw: gzipped * 3,
            gzipped,
        }
    }

    #[test]
    fn only_wasm_js_and_css_count() {
        assert_eq!(kind_of("app-1f2e_bg.wasm"), Some("wasm"));
        assert_eq!(kind_of("app-1f2e.js"), Some("JS"));
        assert_eq!(kind_of("style-9a.css"), Some("CSS"));
        assert_eq!(kind_of("index.html"), None);
        assert_eq!(kind_of("favicon-67.svg"), None);
    }

    #[test]
    fn the_report_adds_up_kinds_and_says_what_is_left() {
        let entries = [
            entry("a_bg.wasm", "wasm", 380_000),
            entry("a.js", "JS", 8_600),
            entry("style.css", "CSS", 3_700),
            entry("waterfall.css", "CSS", 2_000),
        ];
        let text = report(&entries);
        assert!(text.contains("CSS"), "{text}");
        assert!(text.contains("5.7 KB"), "{text}");
        assert!(text.contains("394.3 KB"), "{text}");
        assert!(text.contains("5.7 KB left"), "{text}");
    }

    #[test]
    fn over_budget_is_reported_as_such() {
        let text = report(&[entry("a_bg.wasm", "wasm", 401_000)]);
        assert!(text.contains("1.0 KB OVER"), "{text}");
    }

    #[test]
    fn the_worker_is_counted_apart_with_its_own_budget() {
        let entries = [
            entry("a_bg.wasm", "wasm", 380_000),
            entry("sim-worker_bg.wasm", "wasm", 176_000),
            entry("sim-worker.js", "JS", 2_000),
        ];
        let text = report(&entries);
        assert!(text.contains("first load"), "{text}");
        assert!(
            text.contains("380.0 KB"),
            "the worker is not in the first load: {text}"
        );
        assert!(text.contains("worker"), "{text}");
        assert!(text.contains("178.0 KB"), "{text}");
        assert!(text.contains("3.0 KB OVER"), "{text}");
    }

    #[test]
    fn the_trace_pages_app_is_counted_apart_from_the_first_load() {
        let entries = [
            entry("tracelab-app-1f2e_bg.wasm", "wasm", 250_000),
            entry("trace-app_bg.wasm", "wasm", 401_000),
            entry("trace-app.js", "JS", 4_000),
        ];
        let text = report(&entries);
        assert!(text.contains("250.0 KB"), "the first load alone: {text}");
        assert!(text.contains("trace pages' app"), "{text}");
        assert!(text.contains("5.0 KB OVER"), "{text}");
        assert!(check_entries(&entries).is_err());
    }

    #[test]
    fn the_import_worker_is_counted_apart_with_its_own_budget() {
        let entries = [
            entry("tracelab-app-1f2e_bg.wasm", "wasm", 250_000),
            entry("sim-worker_bg.wasm", "wasm", 150_000),
            entry("import-worker_bg.wasm", "wasm", 199_000),
            entry("import-worker.js", "JS", 3_000),
            entry("import-worker-loader.js", "JS", 200),
        ];
        assert_eq!(part_of("import-worker-loader.js"), "import worker");
        let text = report(&entries);
        assert!(text.contains("import worker"), "{text}");
        assert!(text.contains("250.0 KB"), "the first load alone: {text}");
        assert!(
            text.contains("150.0 KB"),
            "the simulation's worker alone: {text}"
        );
        assert!(text.contains("2.2 KB OVER"), "{text}");
        assert!(check_entries(&entries).is_err());
    }

    #[test]
    fn a_dist_without_wasm_is_an_error_that_says_so() {
        let dir = std::env::temp_dir().join(format!("xtask-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("style.css"), "body{}").expect("write css");
        let error = measure(&dir).expect_err("no wasm");
        assert!(error.contains("no .wasm file"), "{error}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
