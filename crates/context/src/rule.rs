//! The rules of W3C Trace Context that a header can break, each with a stable
//! name, the spec section it comes from and a one-line explanation, and the
//! [`Violation`] that says where in the header a rule was broken.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// How much a finding matters. Errors make a header invalid; warnings are
/// things a compliant receiver tolerates but a person should know about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $severity:ident, $section:literal, $explanation:literal; )*) => {
        /// A rule of W3C Trace Context (Level 2 and the current editor's draft).
        ///
        /// The names returned by [`Rule::name`] are a stable interface (they
        /// appear in `tracelab decode --json` and in the browser): never rename
        /// one; add a new rule instead.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $variant, )*
        }

        impl Rule {
            /// Every rule, in the order they are documented.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable, dotted name: `field.what`.
            pub fn name(self) -> &'static str {
                match self { $(Rule::$variant => $name,)* }
            }
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }
            /// The section of W3C Trace Context that states the rule.
            pub fn section(self) -> &'static str {
                match self { $(Rule::$variant => $section,)* }
            }
            /// One line saying what the rule requires.
            pub fn explanation(self) -> &'static str {
                match self { $(Rule::$variant => $explanation,)* }
            }
            /// The section and the explanation: `§3.2.2.1: version is …`.
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => concat!($section, ": ", $explanation),)* }
            }
            /// Looks a rule up by its stable name.
            pub fn from_name(name: &str) -> Option<Rule> {
                match name { $($name => Some(Rule::$variant),)* _ => None }
            }
        }
    };
}

rules! {
    /// The header is present but its value is empty or only whitespace.
    TraceParentEmpty = "traceparent.empty", Error, "§3.2.2",
        "a traceparent value is version-trace_id-parent_id-trace_flags; an empty value cannot be parsed, so the trace restarts";
    /// More than one `traceparent` header: the header is not a list and cannot be combined.
    TraceParentDuplicate = "traceparent.duplicate", Error, "§3.2 and RFC 9110 §5.3",
        "traceparent is a single value, not a list: a request with more than one is invalid and the trace restarts";
    /// Spaces or tabs around the value, which HTTP strips as optional whitespace.
    TraceParentSurroundingWhitespace = "traceparent.surrounding-whitespace", Warning, "§3.2.2 and RFC 9110 §5.5",
        "whitespace around a header value is not part of it; HTTP strips it, but a value copied with it into code will not parse";
    /// The value does not have the four dash-separated fields.
    TraceParentMissingField = "traceparent.missing-field", Error, "§3.2.2.2",
        "version 00 has four fields separated by '-': version-trace_id-parent_id-trace_flags";
    /// Version 00 is exactly 55 characters; a higher version is at least 55.
    TraceParentLength = "traceparent.length", Error, "§3.2.2.2 and §3.2.4",
        "a version 00 traceparent is exactly 55 characters; a higher version is at least 55, read with the version 00 layout";
    /// In a higher version, what follows the flags must start with '-'.
    TraceParentFutureDelimiter = "traceparent.future-delimiter", Error, "§3.2.4",
        "in a traceparent of a higher version, the flags must be followed by '-' or end the value";
    /// The version is not two characters.
    VersionLength = "version.length", Error, "§3.2.2.1",
        "version is exactly 2 lowercase hex digits";
    /// The version contains characters that are not hex digits.
    VersionHex = "version.hex", Error, "§3.2.2.1",
        "version is 2 lowercase hex digits (0-9, a-f)";
    /// The version uses uppercase hex digits.
    VersionUppercase = "version.uppercase", Error, "§3.2.2.1",
        "version uses lowercase hex only: 'A'-'F' are not allowed";
    /// Version `ff` is forbidden.
    VersionForbidden = "version.forbidden", Error, "§3.2.2.1",
        "version ff is invalid and must never be sent";
    /// The trace-id is not 32 characters.
    TraceIdLength = "trace-id.length", Error, "§3.2.2.3",
        "trace-id is exactly 32 lowercase hex digits (16 bytes)";
    /// The trace-id contains characters that are not hex digits.
    TraceIdHex = "trace-id.hex", Error, "§3.2.2.3",
        "trace-id is lowercase hex (0-9, a-f); a receiver must ignore a traceparent whose trace-id has other characters";
    /// The trace-id uses uppercase hex digits.
    TraceIdUppercase = "trace-id.uppercase", Error, "§3.2.2.3",
        "trace-id uses lowercase hex only: 'A'-'F' are not allowed";
    /// The trace-id is all zeros.
    TraceIdAllZero = "trace-id.all-zero", Error, "§3.2.2.3",
        "a trace-id of all zeros is invalid";
    /// The parent-id is not 16 characters.
    ParentIdLength = "parent-id.length", Error, "§3.2.2.4",
        "parent-id is exactly 16 lowercase hex digits (8 bytes)";
    /// The parent-id contains characters that are not hex digits.
    ParentIdHex = "parent-id.hex", Error, "§3.2.2.4",
        "parent-id is lowercase hex (0-9, a-f); a receiver must ignore a traceparent whose parent-id has other characters";
    /// The parent-id uses uppercase hex digits.
    ParentIdUppercase = "parent-id.uppercase", Error, "§3.2.2.4",
        "parent-id uses lowercase hex only: 'A'-'F' are not allowed";
    /// The parent-id is all zeros.
    ParentIdAllZero = "parent-id.all-zero", Error, "§3.2.2.4",
        "a parent-id of all zeros is invalid";
    /// The trace-flags are not 2 characters.
    TraceFlagsLength = "trace-flags.length", Error, "§3.2.2.5",
        "trace-flags is exactly 2 lowercase hex digits (8 bits)";
    /// The trace-flags contain characters that are not hex digits.
    TraceFlagsHex = "trace-flags.hex", Error, "§3.2.2.5",
        "trace-flags is 2 lowercase hex digits (0-9, a-f)";
    /// The trace-flags use uppercase hex digits.
    TraceFlagsUppercase = "trace-flags.uppercase", Error, "§3.2.2.5",
        "trace-flags uses lowercase hex only: 'A'-'F' are not allowed";
    /// Flag bits no version of the spec defines are set.
    TraceFlagsUnknownBits = "trace-flags.unknown-bits", Warning, "§3.2.2.5.3",
        "only bit 0 (sampled) and bit 1 (random) are defined; other bits must be sent as zero, and a receiver drops them";

    /// More than 32 list members.
    TraceStateTooManyMembers = "tracestate.too-many-members", Error, "§3.3.1.2",
        "tracestate has at most 32 list members";
    /// Two members with the same key.
    TraceStateDuplicateKey = "tracestate.duplicate-key", Error, "§3.3.1.4",
        "each key appears at most once: a vendor overwrites its entry instead of adding another";
    /// A member has no '='.
    TraceStateMissingEquals = "tracestate.missing-equals", Error, "§3.3.1.3",
        "a list member is key=value";
    /// A member has an empty key.
    TraceStateKeyEmpty = "tracestate.key.empty", Error, "§3.3.1.3.1",
        "a key has 1 to 256 characters";
    /// The key does not start with a lowercase letter or a digit.
    TraceStateKeyFirstChar = "tracestate.key.first-char", Error, "§3.3.1.3.1",
        "a key starts with a lowercase letter (a-z) or a digit";
    /// The key contains a character outside its grammar.
    TraceStateKeyChar = "tracestate.key.char", Error, "§3.3.1.3.1",
        "a key contains only a-z, 0-9, '_', '-', '*', '/' and '@'";
    /// The key is longer than 256 characters.
    TraceStateKeyLength = "tracestate.key.length", Error, "§3.3.1.3.1",
        "a key has at most 256 characters";
    /// A member has an empty value.
    TraceStateValueEmpty = "tracestate.value.empty", Error, "§3.3.1.3.2",
        "a value has 1 to 256 printable ASCII characters";
    /// The value contains a character outside printable ASCII, or ',' or '='.
    TraceStateValueChar = "tracestate.value.char", Error, "§3.3.1.3.2",
        "a value is printable ASCII (0x20-0x7e) except ',' and '=', and does not end with a space";
    /// The value is longer than 256 characters.
    TraceStateValueLength = "tracestate.value.length", Error, "§3.3.1.3.2",
        "a value has at most 256 characters";
    /// A key Level 2 accepts but Level 1's key grammar or OpenTelemetry's
    /// `TraceState` (Rust, opentelemetry 0.33) does not: a simple key starting
    /// with a digit, more than one '@', an empty system id or one not starting
    /// with a-z, a system id over 14 characters (Level 1) or over 13
    /// (OpenTelemetry), a tenant id over 241 characters. Valid, so a warning:
    /// but a receiver of the older grammar discards the member or the whole
    /// header, and OpenTelemetry's propagator drops the whole tracestate.
    TraceStateKeyLevel1 = "tracestate.key.level-1", Warning, "§3.3.1.3.1 (Level 1)",
        "Level 2 accepts this key, Level 1 does not (a simple key starts with a-z; tenant@system has one '@', a tenant id of at most 241 characters and a system id of 1 to 14 starting with a-z): a Level 1 receiver may discard the member or the whole tracestate, and OpenTelemetry's TraceState (Rust 0.33) rejects two '@', over 13 characters after '@', or '_', '-', '*', '/' right after it, after which its propagator drops the whole tracestate";
    /// The combined header is longer than the 512 characters every vendor must propagate.
    TraceStateOverPropagationLimit = "tracestate.over-512", Warning, "§3.3.1.5",
        "vendors must propagate at least 512 characters; a longer tracestate may be truncated, whole entries at a time";
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// One rule broken at one place: the byte range is into the header value the
/// parser was given (after combining several `tracestate` lines).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub rule: Rule,
    pub severity: Severity,
    pub start: usize,
    pub end: usize,
    /// What was found, in one line, followed by the spec section. The fast
    /// parsers, which stop at the first error, give only the rule's summary.
    pub message: Cow<'static, str>,
}

impl Violation {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}..{}: {}",
            self.rule, self.start, self.end, self.message
        )
    }
}

impl std::error::Error for Violation {}

/// Returned by a [`Sink`] that wants no more findings.
pub(crate) struct Stop;

/// Where the one parser of each header sends what it finds. The fast path
/// ([`FirstError`]) stops at the first error and never formats a message
/// for a valid header; the diagnostic path ([`Collect`]) keeps everything.
/// One parser serves both, so the two can never disagree on validity.
pub(crate) trait Sink {
    /// Whether the sink stops at the first error, so that a parser may skip
    /// work that can only find later ones.
    const STOPS_AT_FIRST_ERROR: bool;

    fn report(
        &mut self,
        rule: Rule,
        range: Range<usize>,
        detail: impl FnOnce() -> String,
    ) -> Result<(), Stop>;
}

pub(crate) fn violation(rule: Rule, range: Range<usize>, detail: String) -> Violation {
    Violation {
        rule,
        severity: rule.severity(),
        start: range.start,
        end: range.end,
        message: Cow::Owned(format!("{detail} ({})", rule.summary())),
    }
}

/// Keeps the first error and stops; ignores warnings.
#[derive(Default)]
pub(crate) struct FirstError {
    pub(crate) error: Option<Violation>,
}

impl Sink for FirstError {
    const STOPS_AT_FIRST_ERROR: bool = true;

    fn report(
        &mut self,
        rule: Rule,
        range: Range<usize>,
        detail: impl FnOnce() -> String,
    ) -> Result<(), Stop> {
        if rule.severity() == Severity::Warning {
            return Ok(());
        }
        // No message is formatted: a service rejecting a header learns which
        // rule and where, at the cost of a few stores; `diagnose` says more.
        let _ = detail;
        self.error = Some(Violation {
            rule,
            severity: Severity::Error,
            start: range.start,
            end: range.end,
            message: Cow::Borrowed(rule.summary()),
        });
        Err(Stop)
    }
}

/// Keeps every finding, up to a cap, so that a megabyte of junk yields a
/// readable report rather than a million lines; `omitted` counts the rest.
pub(crate) struct Collect {
    pub(crate) violations: Vec<Violation>,
    pub(crate) omitted: usize,
    cap: usize,
}

impl Collect {
    pub(crate) const DEFAULT_CAP: usize = 200;

    pub(crate) fn new() -> Self {
        Collect {
            violations: Vec::new(),
            omitted: 0,
            cap: Self::DEFAULT_CAP,
        }
    }
}

impl Sink for Collect {
    const STOPS_AT_FIRST_ERROR: bool = false;

    fn report(
        &mut self,
        rule: Rule,
        range: Range<usize>,
        detail: impl FnOnce() -> String,
    ) -> Result<(), Stop> {
        if self.violations.len() < self.cap {
            self.violations.push(violation(rule, range, detail()));
        } else {
            self.omitted += 1;
        }
        Ok(())
    }
}

/// Counts the errors a check reports, so that the check knows whether the
/// value is valid whatever its sink does with them.
pub(crate) struct Checker<'s, S> {
    pub(crate) sink: &'s mut S,
    pub(crate) errors: usize,
}

impl<'s, S: Sink> Checker<'s, S> {
    pub(crate) fn new(sink: &'s mut S) -> Self {
        Checker { sink, errors: 0 }
    }

    pub(crate) fn report(
        &mut self,
        rule: Rule,
        range: Range<usize>,
        detail: impl FnOnce() -> String,
    ) -> Result<(), Stop> {
        if rule.severity() == Severity::Error {
            self.errors += 1;
        }
        self.sink.report(rule, range, detail)
    }

    /// Reports each run of bytes of `text` (at `base` in the value) that
    /// `matches` accepts, as one finding of `rule`. Past [`DETAILED_LEN`]
    /// bytes, one finding spans the first offending byte to the last, so a
    /// pasted megabyte yields a short report.
    ///
    /// `matches` must accept every byte of a multi-byte character or none,
    /// so that each range stays on character boundaries. With `merge`, one
    /// finding always spans the first run to the last (for rules such as
    /// "uppercase", which are one mistake however many letters show it).
    pub(crate) fn runs(
        &mut self,
        text: &str,
        base: usize,
        rule: Rule,
        merge: bool,
        matches: impl Fn(u8) -> bool,
        describe: impl Fn(&str) -> String,
    ) -> Result<(), Stop> {
        let bytes = text.as_bytes();
        if merge || bytes.len() > DETAILED_LEN {
            let first = bytes.iter().position(|&b| matches(b));
            let last = bytes.iter().rposition(|&b| matches(b));
            if let (Some(first), Some(last)) = (first, last) {
                // Extend to the end of the last character, which starts at or before `last`.
                let end = (last + 1..=bytes.len())
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(bytes.len());
                let start = (0..=first)
                    .rev()
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(0);
                self.report(rule, base + start..base + end, || {
                    let count = bytes.iter().filter(|&&b| matches(b)).count();
                    if merge && bytes.len() <= DETAILED_LEN {
                        describe(&text[start..end])
                    } else {
                        format!(
                            "{count} bytes from byte {first} on: {}",
                            describe(&text[start..end])
                        )
                    }
                })?;
            }
            return Ok(());
        }
        let mut i = 0;
        while i < bytes.len() {
            if !matches(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && matches(bytes[i]) {
                i += 1;
            }
            let run = &text[start..i];
            self.report(rule, base + start..base + i, || describe(run))?;
        }
        Ok(())
    }
}

/// Parts longer than this get one summary finding per rule; see [`Checker::runs`].
pub(crate) const DETAILED_LEN: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn rule_names_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for &rule in Rule::ALL {
            assert!(
                seen.insert(rule.name()),
                "duplicate rule name {}",
                rule.name()
            );
            assert_eq!(Rule::from_name(rule.name()), Some(rule));
            assert!(rule.section().starts_with('§'), "{rule} cites no section");
            assert!(!rule.explanation().is_empty());
        }
    }
}
