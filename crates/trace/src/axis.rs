//! The time axis of a waterfall: tick marks at round units (1, 2 or 5 × 10^k
//! nanoseconds) labelled in ns, µs, ms or s, and durations as people read them.

/// A unit of time for labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
}

impl TimeUnit {
    pub fn nanos(self) -> u64 {
        match self {
            TimeUnit::Nanoseconds => 1,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Milliseconds => 1_000_000,
            TimeUnit::Seconds => 1_000_000_000,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            TimeUnit::Nanoseconds => "ns",
            TimeUnit::Microseconds => "µs",
            TimeUnit::Milliseconds => "ms",
            TimeUnit::Seconds => "s",
        }
    }
}

/// One tick: where it is (nanoseconds from the trace start) and its label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tick {
    pub offset_nanos: u64,
    pub label: String,
}

/// The ticks for one view of the axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeAxis {
    pub step_nanos: u64,
    pub unit: TimeUnit,
    pub ticks: Vec<Tick>,
}

/// The smallest round step (1, 2 or 5 × 10^k ns) that puts at most
/// `max_ticks` intervals across `span_nanos`.
pub fn round_step(span_nanos: u64, max_ticks: usize) -> u64 {
    let max_ticks = max_ticks.max(1) as u64;
    let wanted = span_nanos.div_ceil(max_ticks).max(1);
    let mut power: u64 = 1;
    loop {
        for mantissa in [1u64, 2, 5] {
            match power.checked_mul(mantissa) {
                Some(step) if step >= wanted => return step,
                Some(_) => {}
                None => return wanted,
            }
        }
        match power.checked_mul(10) {
            Some(next) => power = next,
            None => return wanted,
        }
    }
}

/// The unit for labels at a given step: the largest unit no more than ten
/// steps long, so labels need at most one decimal (0.1 ms, 0.2 ms, ...).
fn unit_for_step(step_nanos: u64) -> TimeUnit {
    let ten_steps = step_nanos.saturating_mul(10);
    [
        TimeUnit::Seconds,
        TimeUnit::Milliseconds,
        TimeUnit::Microseconds,
    ]
    .into_iter()
    .find(|unit| ten_steps >= unit.nanos())
    .unwrap_or(TimeUnit::Nanoseconds)
}

/// Ticks across the window `start_nanos..=end_nanos` (offsets from the trace
/// start), at most about `max_ticks` of them, at round multiples of the step.
pub fn time_axis(start_nanos: u64, end_nanos: u64, max_ticks: usize) -> TimeAxis {
    let (start_nanos, end_nanos) = (start_nanos.min(end_nanos), start_nanos.max(end_nanos));
    let step_nanos = round_step(end_nanos - start_nanos, max_ticks);
    let unit = unit_for_step(step_nanos);
    let decimals = usize::from(step_nanos < unit.nanos());
    let mut ticks = Vec::new();
    let mut offset_nanos = start_nanos.div_ceil(step_nanos).saturating_mul(step_nanos);
    // The cap guards against a pathological window; a round step never needs it.
    while offset_nanos <= end_nanos && ticks.len() <= max_ticks.max(1) + 1 {
        ticks.push(Tick {
            offset_nanos,
            label: format_in_unit(offset_nanos, unit, decimals),
        });
        match offset_nanos.checked_add(step_nanos) {
            Some(next) => offset_nanos = next,
            None => break,
        }
    }
    TimeAxis {
        step_nanos,
        unit,
        ticks,
    }
}

/// `nanos` in `unit` with a fixed number of decimals, rounded half up, using
/// integers so that labels are exact (`0.3 ms`, never
/// `0.30000000000000004 ms`) and the browser bundle carries no float
/// formatting code.
fn decimal_in_unit(nanos: u64, unit: TimeUnit, decimals: u32) -> String {
    let unit_nanos = u128::from(unit.nanos());
    let scale = 10u128.pow(decimals);
    let scaled = (u128::from(nanos) * scale + unit_nanos / 2) / unit_nanos;
    let whole = scaled / scale;
    if decimals == 0 {
        return whole.to_string();
    }
    format!(
        "{whole}.{:0width$}",
        scaled % scale,
        width = decimals as usize
    )
}

/// A tick label: `nanos` in `unit` with `decimals` decimals.
fn format_in_unit(nanos: u64, unit: TimeUnit, decimals: usize) -> String {
    let number = decimal_in_unit(nanos, unit, decimals as u32);
    format!("{number} {}", unit.symbol())
}

/// A duration as people read it: three significant digits in the largest
/// unit that keeps the number at least 1 (`850 ns`, `1.25 ms`, `12.5 s`).
pub fn format_duration(nanos: u64) -> String {
    let unit = [
        TimeUnit::Seconds,
        TimeUnit::Milliseconds,
        TimeUnit::Microseconds,
    ]
    .into_iter()
    .find(|unit| nanos >= unit.nanos())
    .unwrap_or(TimeUnit::Nanoseconds);
    let whole = nanos / unit.nanos();
    let decimals = if whole < 10 {
        2
    } else if whole < 100 {
        1
    } else {
        0
    };
    let text = decimal_in_unit(nanos, unit, decimals);
    // `1.50` reads better as `1.5`, and `2.00` as `2`.
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text} {}", unit.symbol())
}

/// The part of the time axis the bars are drawn on, in nanoseconds from the
/// trace start: the whole trace, or a zoomed range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    pub start: u64,
    /// Always after `start`, so that positions divide.
    pub end: u64,
}

impl TimeWindow {
    /// The window from `start` to `end`, at least 1 ns long.
    pub fn new(start: u64, end: u64) -> TimeWindow {
        TimeWindow {
            start,
            end: end.max(start.saturating_add(1)),
        }
    }

    pub fn width(self) -> f64 {
        (self.end - self.start) as f64
    }

    /// Where `offset` falls, as a percentage of the bar area (may be outside 0..=100).
    pub fn percent(self, offset: u64) -> f64 {
        (offset as f64 - self.start as f64) / self.width() * 100.0
    }

    /// The offset at `fraction` (0..=1) of the bar area.
    pub fn offset_at(self, fraction: f64) -> u64 {
        // Rounding in f64 may overshoot a wide window by a little.
        let offset = (fraction.clamp(0.0, 1.0) * self.width()) as u64;
        self.start.saturating_add(offset).min(self.end)
    }

    /// The part of `start..=end` inside the window, as (left %, width %), or
    /// `None` when it lies wholly outside.
    pub fn bar(self, start: u64, end: u64) -> Option<(f64, f64)> {
        let (from, to) = (start.max(self.start), end.min(self.end));
        (from <= to).then(|| {
            (
                self.percent(from),
                (to - from) as f64 / self.width() * 100.0,
            )
        })
    }

    /// `start..end` with a margin of `1 / margin_divisor` of its length on
    /// each side (at least 1 ns), kept inside `0..=limit`: what zooming to a
    /// span or a subtree shows, so that its edges are visible.
    pub fn around(start: u64, end: u64, margin_divisor: u64, limit: u64) -> TimeWindow {
        let margin = (end.saturating_sub(start) / margin_divisor.max(1)).max(1);
        TimeWindow::new(
            start.saturating_sub(margin),
            end.saturating_add(margin).min(limit),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(axis: &TimeAxis) -> Vec<&str> {
        axis.ticks.iter().map(|tick| tick.label.as_str()).collect()
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(round_step(100, 10), 10);
        assert_eq!(round_step(101, 10), 20);
        assert_eq!(round_step(3_000_000, 10), 500_000);
        assert_eq!(round_step(0, 10), 1);
        assert_eq!(round_step(7, 0), 10);
        assert_eq!(round_step(u64::MAX, 1), u64::MAX);
    }

    #[test]
    fn milliseconds_axis_has_round_labels() {
        let axis = time_axis(0, 10_000_000, 5);
        assert_eq!(axis.step_nanos, 2_000_000);
        assert_eq!(axis.unit, TimeUnit::Milliseconds);
        assert_eq!(
            labels(&axis),
            vec!["0 ms", "2 ms", "4 ms", "6 ms", "8 ms", "10 ms"]
        );
    }

    #[test]
    fn sub_unit_steps_get_one_decimal() {
        let axis = time_axis(0, 1_000_000, 5);
        assert_eq!(axis.step_nanos, 200_000);
        assert_eq!(axis.unit, TimeUnit::Milliseconds);
        assert_eq!(
            labels(&axis),
            vec!["0.0 ms", "0.2 ms", "0.4 ms", "0.6 ms", "0.8 ms", "1.0 ms"]
        );
    }

    #[test]
    fn each_unit_appears_at_its_scale() {
        assert_eq!(time_axis(0, 50, 5).unit, TimeUnit::Nanoseconds);
        assert_eq!(time_axis(0, 50_000, 5).unit, TimeUnit::Microseconds);
        assert_eq!(time_axis(0, 50_000_000_000, 5).unit, TimeUnit::Seconds);
        assert_eq!(labels(&time_axis(0, 50_000_000_000, 5))[1], "10 s");
    }

    #[test]
    fn zoomed_window_starts_at_the_next_round_tick() {
        let axis = time_axis(1_234_567, 2_000_000, 4);
        assert_eq!(axis.step_nanos, 200_000);
        assert_eq!(axis.ticks[0].offset_nanos, 1_400_000);
        assert_eq!(axis.ticks[0].label, "1.4 ms");
    }

    #[test]
    fn durations_read_with_three_significant_digits() {
        assert_eq!(format_duration(0), "0 ns");
        assert_eq!(format_duration(850), "850 ns");
        assert_eq!(format_duration(1_250_000), "1.25 ms");
        assert_eq!(format_duration(2_000_000), "2 ms");
        assert_eq!(format_duration(12_500_000_000), "12.5 s");
        assert_eq!(format_duration(123_456), "123 µs");
        // Rounded half up, and a carry into the next digit reads as such.
        assert_eq!(format_duration(1_255_000), "1.26 ms");
        assert_eq!(format_duration(9_996_000), "10 ms");
        assert_eq!(format_duration(999_600), "1000 µs");
        assert_eq!(format_duration(u64::MAX), "18446744074 s");
    }
    #[test]
    fn bars_are_clipped_to_the_zoomed_window() {
        let window = TimeWindow::new(100, 200);
        assert_eq!(window.bar(120, 150), Some((20.0, 30.0)));
        assert_eq!(
            window.bar(50, 150),
            Some((0.0, 50.0)),
            "starts before the window"
        );
        assert_eq!(window.bar(150, 900), Some((50.0, 50.0)), "ends after it");
        assert_eq!(window.bar(300, 400), None, "wholly after it");
        assert_eq!(window.offset_at(0.5), 150);
        assert_eq!(window.offset_at(7.0), 200, "fractions are clamped");
        // An empty range still divides.
        assert_eq!(TimeWindow::new(5, 5).end, 6);
    }

    #[test]
    fn a_window_around_a_range_has_margins_inside_the_trace() {
        assert_eq!(
            TimeWindow::around(100, 200, 10, 1_000),
            TimeWindow::new(90, 210)
        );
        assert_eq!(TimeWindow::around(5, 200, 10, 205), TimeWindow::new(0, 205));
        // A zero-length span still gets a visible window.
        assert_eq!(
            TimeWindow::around(50, 50, 10, 1_000),
            TimeWindow::new(49, 51)
        );
    }
}
