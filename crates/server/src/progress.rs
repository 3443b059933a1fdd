//! Progress of a long command on stderr (`tracelab call --count`,
//! `tracelab import`): a bar redrawn in place on a terminal, and a plain
//! line now and then otherwise, so that a log file or a CI job shows the
//! run is alive instead of nothing until the end.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a terminal's bar is redrawn at most.
const REDRAW_EVERY: Duration = Duration::from_millis(100);
/// How often a line is written when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// A run of `total` units (`calls`, `spans`).
pub struct Progress {
    total: u64,
    unit: &'static str,
    terminal: bool,
    started: Instant,
    last: Mutex<Written>,
}

/// What was last written: when, and how far it said (the start and 0
/// before anything).
#[derive(Clone, Copy)]
struct Written {
    at: Instant,
    done: u64,
    any: bool,
}

impl Progress {
    pub fn new(total: u64, unit: &'static str) -> Progress {
        let started = Instant::now();
        Progress {
            total,
            unit,
            terminal: std::io::stderr().is_terminal(),
            started,
            last: Mutex::new(Written {
                at: started,
                done: 0,
                any: false,
            }),
        }
    }

    /// `done` of the units are finished. Writes only when it is time to
    /// (every 0.1 s on a terminal, every 5 s otherwise, and for the last
    /// unit), so callers may call it for every unit.
    pub fn update(&self, done: u64) {
        let now = Instant::now();
        let every = if self.terminal {
            REDRAW_EVERY
        } else {
            LINE_EVERY
        };
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !due(every, last.at, last.done, now, done, self.total) {
            return;
        }
        *last = Written {
            at: now,
            done,
            any: true,
        };
        let text = if self.terminal {
            format!("\r{}", bar(done, self.total, self.unit))
        } else {
            format!(
                "{done}/{} {} after {:.0} s\n",
                self.total,
                self.unit,
                now.duration_since(self.started).as_secs_f64()
            )
        };
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        let _ = stderr.flush();
    }

    /// Ends the bar's line on a terminal.
    pub fn finish(&self) {
        let any = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .any;
        if self.terminal && any {
            eprintln!();
        }
    }
}

/// Whether to write `done` at `now`, having last written `said` at `at`:
/// once `every` has passed (on a terminal 0.1 s, otherwise 5 s), and always
/// for the last unit; never the same count twice.
fn due(every: Duration, at: Instant, said: u64, now: Instant, done: u64, total: u64) -> bool {
    done != said && (done >= total || now.duration_since(at) >= every)
}

/// `[####      ] 40/100 calls`.
fn bar(done: u64, total: u64, unit: &str) -> String {
    const WIDTH: u64 = 30;
    let filled = (done.min(total) * WIDTH / total.max(1)).min(WIDTH);
    format!(
        "[{}{}] {done}/{total} {unit}",
        "#".repeat(filled as usize),
        " ".repeat((WIDTH - filled) as usize)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_when_its_time_has_come_and_always_the_end() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let every = Duration::from_secs(5);
        assert!(!due(every, start, 0, start + second, 3, 100), "too soon");
        assert!(due(every, start, 0, start + 5 * second, 3, 100));
        assert!(due(every, start, 3, start + second, 100, 100), "the end");
        assert!(
            !due(every, start, 100, start + 9 * second, 100, 100),
            "the end once"
        );
        assert!(!due(every, start, 7, start + 9 * second, 7, 100), "no news");
    }

    #[test]
    fn the_bar_fills_with_the_count() {
        assert_eq!(
            bar(0, 10, "calls"),
            format!("[{}] 0/10 calls", " ".repeat(30))
        );
        assert_eq!(
            bar(5, 10, "spans"),
            format!("[{}{}] 5/10 spans", "#".repeat(15), " ".repeat(15))
        );
        assert_eq!(
            bar(12, 10, "calls"),
            format!("[{}] 12/10 calls", "#".repeat(30))
        );
        assert_eq!(
            bar(0, 0, "calls"),
            format!("[{}] 0/0 calls", " ".repeat(30))
        );
    }
}
