//! The lesson's code excerpts are the real code: each excerpt's lines appear
//! in its file as written (leading whitespace aside), one run of lines per
//! part between elisions, the parts in order. An excerpt that drifts from
//! the code it quotes fails here, not in front of a learner.

use std::path::Path;

use tracelab_demo::lesson::{Excerpt, ELISION, STEPS};

/// The file's lines, without their indentation.
fn source_lines(file: &str) -> Vec<String> {
    // The workspace root is two levels above this crate.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{} cannot be read: {error}", path.display()));
    text.lines()
        .map(|line| line.trim_start().to_owned())
        .collect()
}

/// The excerpt as runs of lines between elisions, without indentation.
fn parts(excerpt: &Excerpt) -> Vec<Vec<&'static str>> {
    let mut parts = vec![Vec::new()];
    for line in excerpt.code.lines().map(str::trim_start) {
        if line == ELISION {
            parts.push(Vec::new());
        } else if let Some(part) = parts.last_mut() {
            part.push(line);
        }
    }
    parts
}

/// Where `part` appears as consecutive lines of `lines`, at or after `from`.
fn find_run(lines: &[String], part: &[&str], from: usize) -> Option<usize> {
    (from..=lines.len().checked_sub(part.len())?).find(|&start| {
        lines[start..start + part.len()]
            .iter()
            .zip(part)
            .all(|(line, wanted)| line == wanted)
    })
}

#[test]
fn every_step_quotes_real_code_verbatim() {
    for step in &STEPS {
        assert!(
            !step.excerpts.is_empty(),
            "step {} has no excerpt",
            step.number
        );
        let n_lines: usize = step
            .excerpts
            .iter()
            .map(|excerpt| excerpt.code.lines().count())
            .sum();
        assert!(
            (5..=15).contains(&n_lines),
            "step {}: {n_lines} lines of code, not 5 to 15",
            step.number
        );
        for excerpt in step.excerpts {
            assert!(
                step.code.contains(excerpt.function) || step.code.contains(excerpt.file),
                "step {}: its pointer {:?} does not name {}",
                step.number,
                step.code,
                excerpt.function
            );
            let lines = source_lines(excerpt.file);
            let mut from = 0;
            for part in parts(excerpt) {
                assert!(!part.is_empty(), "step {}: an empty part", step.number);
                let Some(start) = find_run(&lines, &part, from) else {
                    panic!(
                        "step {}: these lines are not in {} as quoted (after line {from}):\n{}",
                        step.number,
                        excerpt.file,
                        part.join("\n")
                    );
                };
                from = start + part.len();
            }
        }
    }
}

#[test]
fn a_changed_line_is_caught() {
    let excerpt = Excerpt {
        file: "crates/demo/src/telemetry.rs",
        function: "start_span",
        code: "pub fn start_span(\n    telemetry: Option<&Telemetry>,\n    parent: &Context,\n    name: &'static str,\n    kind: SpanKind,",
    };
    let lines = source_lines(excerpt.file);
    let parts = parts(&excerpt);
    assert!(find_run(&lines, &parts[0], 0).is_some());
    let changed = ["pub fn start_span(", "parent: &Context,"];
    assert_eq!(
        find_run(&lines, &changed, 0),
        None,
        "lines must be consecutive"
    );
}
