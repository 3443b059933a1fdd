//! CPU time from Linux's `/proc`, for the ingest benchmarks: included with
//! `#[path]` by `ingest_rate` (this crate's example), `otlp_load` (the
//! server's) and `cargo xtask ingest`, which report CPU time beside wall
//! time because the machine is shared: other work stretches the wall time,
//! much less the CPU time spent. No dependencies, so xtask can include it.

// Each includer uses part of it.
#![allow(dead_code)]

/// The command name and CPU seconds (user and system) of a `/proc/…/stat`
/// line: utime and stime are fields 14 and 15, the 12th and 13th after the
/// parenthesised command name (which may hold spaces); clock ticks of
/// 1/100 s.
pub fn stat_cpu(stat: &str) -> Option<(String, f64)> {
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((name, (user + system) / 100.0))
}

/// This process's CPU seconds; 0 where there is no `/proc`.
pub fn own_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| stat_cpu(&stat))
        .map_or(0.0, |(_, seconds)| seconds)
}
