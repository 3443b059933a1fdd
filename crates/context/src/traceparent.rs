//! The `traceparent` header: parse, validate, format, and a field-by-field
//! report of what a value holds and every rule it breaks.
//!
//! One parser (`check`) walks a value once and sends what it finds to a
//! sink: [`TraceParent::parse`] stops at the first error and allocates
//! nothing for a valid header; [`diagnose`] keeps every finding.

use crate::ids::{lower_hex_value, SpanId, TraceFlags, TraceId};
use crate::rule::{Checker, Collect, FirstError, Rule, Sink, Stop, Violation};
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// The version this crate writes, and the only one published so far.
pub const SUPPORTED_VERSION: u8 = 0;
/// The length of a version 00 value, and the minimum of any version.
pub const VERSION_00_LEN: usize = 55;

/// A valid `traceparent`: version, trace-id, parent-id and flags.
///
/// ```
/// use tracelab_context::TraceParent;
/// let tp: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?;
/// assert!(tp.flags().sampled());
/// assert_eq!(tp.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// # Ok::<(), tracelab_context::Violation>(())
/// ```
///
/// The fields are private so that every `TraceParent` keeps the spec's rules:
/// it is made by [`TraceParent::new`] (version 00, ids that are never zero by
/// their own types) or by parsing, and changed only by the `with_` methods.
/// Setting a field by hand, such as a forbidden version, does not compile:
///
/// ```compile_fail
/// let mut tp: tracelab_context::TraceParent =
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap();
/// tp.version = 0xff;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    version: u8,
    trace_id: TraceId,
    parent_id: SpanId,
    flags: TraceFlags,
}

impl TraceParent {
    /// A version 00 `traceparent`.
    pub fn new(trace_id: TraceId, parent_id: SpanId, flags: TraceFlags) -> Self {
        TraceParent {
            version: SUPPORTED_VERSION,
            trace_id,
            parent_id,
            flags,
        }
    }

    /// The version read; a higher one than 00 was read by the 00 layout and
    /// is written back as 00 (§3.2.4: the receiver downgrades it).
    pub fn version(&self) -> u8 {
        self.version
    }
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }
    pub fn parent_id(&self) -> SpanId {
        self.parent_id
    }
    pub fn flags(&self) -> TraceFlags {
        self.flags
    }

    /// The same trace, sent on from another span: what a service does when
    /// it calls out.
    pub fn with_parent_id(self, parent_id: SpanId) -> Self {
        TraceParent { parent_id, ..self }
    }

    /// The same header with other flags.
    pub fn with_flags(self, flags: TraceFlags) -> Self {
        TraceParent { flags, ..self }
    }

    /// Parses a header value, stopping at the first rule broken. Whitespace
    /// around the value is tolerated, as HTTP strips it. Use [`diagnose`] to
    /// learn every rule a value breaks.
    pub fn parse(value: &str) -> Result<TraceParent, Violation> {
        let mut sink = FirstError::default();
        match check(value, &mut sink) {
            Ok(Checked {
                parsed: Some(tp), ..
            }) => Ok(tp),
            // `check` yields `None` only after reporting an error, which
            // `FirstError` turns into `Err(Stop)`; the fallback keeps this total.
            Ok(Checked { parsed: None, .. }) | Err(Stop) => {
                Err(sink.error.unwrap_or_else(|| Violation {
                    rule: Rule::TraceParentEmpty,
                    severity: Rule::TraceParentEmpty.severity(),
                    start: 0,
                    end: value.len(),
                    message: "the value could not be parsed".into(),
                }))
            }
        }
    }

    /// The value written for version 00: what this crate sends, whatever the
    /// version it read. Flags are written as they are; use
    /// [`TraceFlags::propagated`] to drop unknown bits before sending.
    pub fn to_header_value(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{}-{}-{}", self.trace_id, self.parent_id, self.flags)
    }
}

impl FromStr for TraceParent {
    type Err = Violation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TraceParent::parse(s)
    }
}

/// Where each field of a value sits, as found by splitting at '-'.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The value without surrounding whitespace.
    pub(crate) trimmed: Range<usize>,
    pub(crate) version: Option<Range<usize>>,
    pub(crate) trace_id: Option<Range<usize>>,
    pub(crate) parent_id: Option<Range<usize>>,
    pub(crate) flags: Option<Range<usize>>,
    /// What follows the flags: an error for version 00, ignored for higher versions.
    pub(crate) rest: Option<Range<usize>>,
}

pub(crate) struct Checked {
    pub(crate) layout: Layout,
    pub(crate) parsed: Option<TraceParent>,
}

/// The rules that apply to one fixed-width hex field.
struct HexField {
    name: &'static str,
    len: usize,
    length: Rule,
    hex: Rule,
    uppercase: Rule,
}

const VERSION: HexField = HexField {
    name: "version",
    len: 2,
    length: Rule::VersionLength,
    hex: Rule::VersionHex,
    uppercase: Rule::VersionUppercase,
};
const TRACE_ID: HexField = HexField {
    name: "trace-id",
    len: 32,
    length: Rule::TraceIdLength,
    hex: Rule::TraceIdHex,
    uppercase: Rule::TraceIdUppercase,
};
const PARENT_ID: HexField = HexField {
    name: "parent-id",
    len: 16,
    length: Rule::ParentIdLength,
    hex: Rule::ParentIdHex,
    uppercase: Rule::ParentIdUppercase,
};
const TRACE_FLAGS: HexField = HexField {
    name: "trace-flags",
    len: 2,
    length: Rule::TraceFlagsLength,
    hex: Rule::TraceFlagsHex,
    uppercase: Rule::TraceFlagsUppercase,
};

/// Text quoted for a message as a person reads it (see [`crate::quote`]).
pub(crate) use crate::quote::quoted;

/// Checks one hex field of `N` bytes (`2 * N` digits) and decodes it.
fn check_hex_field<const N: usize, S: Sink>(
    checker: &mut Checker<'_, S>,
    value: &str,
    range: Range<usize>,
    field: &HexField,
) -> Result<Option<[u8; N]>, Stop> {
    let text = &value[range.clone()];
    // The common case first: a valid field decodes in one pass.
    if let Some(decoded) = crate::ids::decode_lower_hex::<N>(text.as_bytes()) {
        return Ok(Some(decoded));
    }
    if text.len() != field.len {
        checker.report(field.length, range.clone(), || {
            let chars = text.chars().count();
            if chars == 0 {
                format!("{} is empty; it needs {} hex digits", field.name, field.len)
            } else if chars != text.len() {
                // The rule counts bytes; a message counting characters would
                // say "has 2 characters; it needs 2" for "é0".
                format!(
                    "{} {} is {} bytes long (not all ASCII); it needs {} hex digits",
                    field.name,
                    quoted(text),
                    text.len(),
                    field.len
                )
            } else {
                format!(
                    "{} {} has {} character{}; it needs {}",
                    field.name,
                    quoted(text),
                    chars,
                    if chars == 1 { "" } else { "s" },
                    field.len
                )
            }
        })?;
    }
    let is_upper = |b: u8| b.is_ascii_uppercase() && b <= b'F';
    // Multi-byte characters are wholly "not a hex digit": continuation bytes
    // are never hex digits, so the ranges stay on character boundaries.
    let is_bad = |b: u8| lower_hex_value(b).is_none() && !is_upper(b);
    let describe_upper =
        |run: &str| format!("{} is written in uppercase: {}", field.name, quoted(run));
    let classes = crate::ids::hex_classes(text.as_bytes());
    if classes.any_bad {
        checker.runs(text, range.start, field.hex, false, is_bad, |run| {
            format!("{} has {}: not a hex digit", field.name, quoted(run))
        })?;
    }
    match classes.upper {
        // What `runs` would report when merging a short field, found without
        // a second pass: uppercase digits are ASCII, so the range is a slice.
        Some((first, last)) if text.len() <= crate::rule::DETAILED_LEN => {
            checker.report(
                field.uppercase,
                range.start + first..range.start + last + 1,
                || describe_upper(&text[first..=last]),
            )?;
        }
        Some(_) => checker.runs(
            text,
            range.start,
            field.uppercase,
            true,
            is_upper,
            describe_upper,
        )?,
        None => {}
    }
    Ok(None)
}

/// What the fixed-layout shortcut learned about a value.
enum Plain {
    /// Exactly 55 characters of version 00, valid, with nothing to warn about.
    Valid(Checked),
    /// Exactly 55 characters with dashes at 2, 35 and 52 and nowhere else, no
    /// surrounding whitespace, and every field before this one valid: the
    /// general walk would find this layout, and its first error here.
    FailsAt(FixedField),
    /// Anything else: only the general walk can tell.
    Other,
}

#[derive(Clone, Copy)]
enum FixedField {
    Version,
    TraceId,
    ParentId,
    TraceFlags,
}

/// The shape nearly every header has, checked with fixed offsets and no
/// splitting. It decides nothing on its own: a valid value is exactly what
/// [`check`] would find, and for an invalid one it only says which field the
/// general walk would report first, so the result never depends on this
/// shortcut (the property tests compare both on fixed-layout junk).
fn check_plain_version_00(value: &str) -> Plain {
    use crate::ids::decode_lower_hex;
    let b = value.as_bytes();
    if b.len() != VERSION_00_LEN || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return Plain::Other;
    }
    // Where a field fails, the general walk sees the same layout only if no
    // other '-' splits the value and no whitespace is trimmed from its ends.
    let fails_at = |field| {
        let fixed = b.iter().filter(|&&x| x == b'-').count() == 3
            && !matches!(b[0], b' ' | b'\t')
            && !matches!(b[54], b' ' | b'\t');
        if fixed {
            Plain::FailsAt(field)
        } else {
            Plain::Other
        }
    };
    let Some([version]) = decode_lower_hex::<1>(&b[0..2]) else {
        return fails_at(FixedField::Version);
    };
    if version != SUPPORTED_VERSION {
        // `ff` or a higher version: rules this shortcut does not apply.
        return Plain::Other;
    }
    let Some(trace_id) = decode_lower_hex::<16>(&b[3..35]).and_then(TraceId::from_bytes) else {
        return fails_at(FixedField::TraceId);
    };
    let Some(parent_id) = decode_lower_hex::<8>(&b[36..52]).and_then(SpanId::from_bytes) else {
        return fails_at(FixedField::ParentId);
    };
    let Some([flags]) = decode_lower_hex::<1>(&b[53..55]) else {
        return fails_at(FixedField::TraceFlags);
    };
    let flags = TraceFlags(flags);
    if flags.unknown_bits() != 0 {
        // Valid, but with a warning to report: the general walk does that.
        return Plain::Other;
    }
    Plain::Valid(Checked {
        layout: Layout {
            trimmed: 0..55,
            version: Some(0..2),
            trace_id: Some(3..35),
            parent_id: Some(36..52),
            flags: Some(53..55),
            rest: None,
        },
        parsed: Some(TraceParent {
            version,
            trace_id,
            parent_id,
            flags,
        }),
    })
}

/// The one parser: finds the fields of `value`, checks every rule, reports to
/// `sink`, and returns the layout and, when no error was found, the value.
pub(crate) fn check<S: Sink>(value: &str, sink: &mut S) -> Result<Checked, Stop> {
    match check_plain_version_00(value) {
        Plain::Valid(checked) => return Ok(checked),
        // A sink that wants only the first error needs only the failing
        // field checked: every field before it is valid, and the walk
        // reports fields in order.
        Plain::FailsAt(field) if S::STOPS_AT_FIRST_ERROR => {
            let mut checker = Checker::new(&mut *sink);
            match field {
                FixedField::Version => {
                    check_hex_field::<1, S>(&mut checker, value, 0..2, &VERSION).map(drop)?
                }
                FixedField::TraceId => check_id_field::<16, S>(
                    &mut checker,
                    value,
                    3..35,
                    &TRACE_ID,
                    Rule::TraceIdAllZero,
                )
                .map(drop)?,
                FixedField::ParentId => check_id_field::<8, S>(
                    &mut checker,
                    value,
                    36..52,
                    &PARENT_ID,
                    Rule::ParentIdAllZero,
                )
                .map(drop)?,
                FixedField::TraceFlags => {
                    check_hex_field::<1, S>(&mut checker, value, 53..55, &TRACE_FLAGS).map(drop)?
                }
            }
            // Not reached: the failing field reports an error, which stops.
            // Should it ever not, the general walk below decides.
        }
        Plain::FailsAt(_) | Plain::Other => {}
    }
    let mut checker = Checker::new(sink);
    let bytes = value.as_bytes();
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    let mut layout = Layout {
        trimmed: start..end,
        ..Layout::default()
    };
    if start == end {
        checker.report(Rule::TraceParentEmpty, 0..bytes.len(), || {
            if bytes.is_empty() {
                "the value is empty".to_owned()
            } else {
                format!("the value is only whitespace ({} characters)", bytes.len())
            }
        })?;
        return Ok(Checked {
            layout,
            parsed: None,
        });
    }
    if start > 0 {
        checker.report(Rule::TraceParentSurroundingWhitespace, 0..start, || {
            format!("{start} whitespace character(s) before the value")
        })?;
    }
    if end < bytes.len() {
        checker.report(
            Rule::TraceParentSurroundingWhitespace,
            end..bytes.len(),
            || {
                format!(
                    "{} whitespace character(s) after the value",
                    bytes.len() - end
                )
            },
        )?;
    }

    // Split at the first four dashes; '-' is ASCII, so every range below is
    // on a character boundary even when the value is not ASCII.
    let mut dashes = [usize::MAX; 4];
    let mut found = 0;
    let trimmed = &bytes[start..end];
    if trimmed.len() == VERSION_00_LEN
        && trimmed[2] == b'-'
        && trimmed[35] == b'-'
        && trimmed[52] == b'-'
        && trimmed.iter().filter(|&&b| b == b'-').count() == 3
    {
        // The shape nearly every header has, confirmed by a count the
        // compiler vectorises: the split below would find these three.
        dashes[..3].copy_from_slice(&[start + 2, start + 35, start + 52]);
        found = 3;
    } else {
        for (i, &b) in trimmed.iter().enumerate() {
            if b == b'-' {
                dashes[found] = start + i;
                found += 1;
                if found == dashes.len() {
                    break;
                }
            }
        }
    }
    let part = |n: usize| -> Option<Range<usize>> {
        let from = if n == 0 {
            start
        } else {
            dashes.get(n - 1).filter(|d| **d != usize::MAX)? + 1
        };
        let to = dashes
            .get(n)
            .copied()
            .filter(|d| *d != usize::MAX)
            .unwrap_or(end);
        Some(from..to)
    };
    layout.version = part(0);
    layout.trace_id = part(1);
    layout.parent_id = part(2);
    layout.flags = part(3);
    layout.rest = (found == 4).then(|| dashes[3]..end);

    let version_range = layout.version.clone().unwrap_or(start..end);
    let version =
        check_hex_field::<1, S>(&mut checker, value, version_range.clone(), &VERSION)?.map(|[v]| v);
    if version == Some(0xff) {
        checker.report(Rule::VersionForbidden, version_range.clone(), || {
            "version is ff".to_owned()
        })?;
    }
    // An unreadable version is diagnosed with the version 00 layout: the most
    // likely intent, and the one every other version starts with.
    let future = matches!(version, Some(v) if v != SUPPORTED_VERSION && v != 0xff);

    let missing: Vec<&str> = [
        (layout.trace_id.is_none(), "trace-id"),
        (layout.parent_id.is_none(), "parent-id"),
        (layout.flags.is_none(), "trace-flags"),
    ]
    .iter()
    .filter(|(absent, _)| *absent)
    .map(|(_, name)| *name)
    .collect();
    if !missing.is_empty() {
        checker.report(Rule::TraceParentMissingField, end..end, || {
            format!(
                "found {} of 4 fields; missing {}",
                4 - missing.len(),
                missing.join(", ")
            )
        })?;
    }

    let trace_id = match layout.trace_id.clone() {
        Some(r) => {
            check_id_field::<16, S>(&mut checker, value, r, &TRACE_ID, Rule::TraceIdAllZero)?
        }
        None => None,
    };
    let parent_id = match layout.parent_id.clone() {
        Some(r) => {
            check_id_field::<8, S>(&mut checker, value, r, &PARENT_ID, Rule::ParentIdAllZero)?
        }
        None => None,
    };
    let mut flags = None;
    if let Some(mut r) = layout.flags.clone() {
        if future && r.len() > TRACE_FLAGS.len && value.is_char_boundary(r.start + TRACE_FLAGS.len)
        {
            // §3.2.4: a higher version is read by the 00 layout; the flags
            // must then be followed by '-' or the end of the value.
            let tail = r.start + TRACE_FLAGS.len..r.end;
            checker.report(Rule::TraceParentFutureDelimiter, tail.clone(), || {
                format!(
                    "{} follows the flags where '-' or the end was expected",
                    quoted(&value[tail])
                )
            })?;
            r.end = r.start + TRACE_FLAGS.len;
            layout.flags = Some(r.clone());
        }
        flags = check_hex_field::<1, S>(&mut checker, value, r.clone(), &TRACE_FLAGS)?
            .map(|[f]| TraceFlags(f));
        if let Some(flags) = flags.filter(|f| f.unknown_bits() != 0) {
            checker.report(Rule::TraceFlagsUnknownBits, r, || {
                format!("reserved bits {:08b} are set", flags.unknown_bits())
            })?;
        }
    }
    if let Some(rest) = layout.rest.clone() {
        if !future {
            checker.report(Rule::TraceParentLength, rest.clone(), || {
                format!(
                    "version 00 ends after trace-flags, but {} more follow{}: {}",
                    crate::quote::count(
                        value[rest.clone()].chars().count(),
                        "character",
                        "characters"
                    ),
                    if value[rest.clone()].chars().nth(1).is_some() {
                        ""
                    } else {
                        "s"
                    },
                    quoted(&value[rest.clone()])
                )
            })?;
        }
    }

    // The field checks reported any zero id; `from_bytes` keeps that a
    // rule of the types too.
    let parsed = match (
        checker.errors,
        version,
        trace_id.and_then(TraceId::from_bytes),
        parent_id.and_then(SpanId::from_bytes),
        flags,
    ) {
        (0, Some(version), Some(trace_id), Some(parent_id), Some(flags)) => Some(TraceParent {
            version,
            trace_id,
            parent_id,
            flags,
        }),
        _ => None,
    };
    Ok(Checked { layout, parsed })
}

/// Checks an id field, then that it is not all zeros.
fn check_id_field<const N: usize, S: Sink>(
    checker: &mut Checker<'_, S>,
    value: &str,
    range: Range<usize>,
    field: &HexField,
    all_zero: Rule,
) -> Result<Option<[u8; N]>, Stop> {
    let Some(id) = check_hex_field::<N, S>(checker, value, range.clone(), field)? else {
        return Ok(None);
    };
    if id.iter().all(|&b| b == 0) {
        checker.report(all_zero, range, || format!("{} is all zeros", field.name))?;
        return Ok(None);
    }
    Ok(Some(id))
}

/// The name of a field of a `traceparent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldName {
    Version,
    TraceId,
    ParentId,
    TraceFlags,
    /// What follows the flags in a higher version, ignored by this version.
    Rest,
}

impl FieldName {
    /// The field's name as the spec writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldName::Version => "version",
            FieldName::TraceId => "trace-id",
            FieldName::ParentId => "parent-id",
            FieldName::TraceFlags => "trace-flags",
            FieldName::Rest => "rest",
        }
    }
}

/// One field of a value as found: where, what text, what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: FieldName,
    /// Byte range into the value given to [`diagnose`].
    pub start: usize,
    pub end: usize,
    /// The field's text, cut to 64 characters for display.
    pub raw: String,
    /// The decoded value in words (`"0 (version 00)"`, `"sampled, random"`),
    /// or `None` when the field does not decode.
    pub value: Option<String>,
    /// What the field is for, in one sentence.
    pub meaning: &'static str,
    /// Whether any error points into this field.
    pub valid: bool,
}

/// One bit of `trace-flags`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagBit {
    /// 0 is the least significant (rightmost) bit.
    pub bit: u8,
    /// `"sampled"`, `"random"` or `"unknown"`.
    pub name: &'static str,
    pub set: bool,
    pub meaning: &'static str,
}

/// Everything known about a `traceparent` value: its fields, its flag bits,
/// every rule it breaks, and the parsed value when it is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceParentReport {
    pub fields: Vec<Field>,
    /// The 8 bits of `trace-flags`, most significant first, when they decode.
    pub flag_bits: Vec<FlagBit>,
    /// Errors and warnings, in the order found.
    pub violations: Vec<Violation>,
    /// Findings left out of `violations` past the cap.
    pub omitted: usize,
    pub parsed: Option<TraceParent>,
}

impl TraceParentReport {
    pub fn is_valid(&self) -> bool {
        self.parsed.is_some()
    }
    pub fn field(&self, name: FieldName) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// The errors, without the warnings.
    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations
            .iter()
            .filter(|v| v.severity == crate::rule::Severity::Error)
    }
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn display_text(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Checks every rule on `value` and describes each field.
///
/// Never panics, whatever the input: empty, a megabyte, binary junk or emoji
/// all yield a report. Byte ranges are into `value` as given.
pub fn diagnose(value: &str) -> TraceParentReport {
    let mut sink = Collect::new();
    let checked = match check(value, &mut sink) {
        Ok(checked) => checked,
        // `Collect` never stops the walk.
        Err(Stop) => Checked {
            layout: Layout::default(),
            parsed: None,
        },
    };
    let layout = &checked.layout;
    let errors_in = |r: &Range<usize>| {
        sink.violations.iter().any(|v| {
            v.severity == crate::rule::Severity::Error
                && v.start < r.end.max(r.start + 1)
                && v.end > r.start
        })
    };
    let mut fields = Vec::new();
    let mut push = |name: FieldName,
                    range: &Option<Range<usize>>,
                    decoded: Option<String>,
                    meaning: &'static str| {
        if let Some(r) = range {
            fields.push(Field {
                name,
                start: r.start,
                end: r.end,
                raw: display_text(&value[r.clone()], 64),
                value: decoded,
                meaning,
                valid: !errors_in(r),
            });
        }
    };
    let version_byte = layout
        .version
        .as_ref()
        .and_then(|r| crate::ids::decode_lower_hex::<1>(value[r.clone()].as_bytes()))
        .map(|b| b[0]);
    push(
        FieldName::Version,
        &layout.version,
        version_byte.map(|v| match v {
            0 => "0: version 00, the published version".to_owned(),
            0xff => "255: forbidden".to_owned(),
            v => {
                format!("{v}: a future version, read with the version 00 layout and sent on as 00")
            }
        }),
        "The format version; 00 is the only one published, ff is forbidden.",
    );
    let id_value = |r: &Option<Range<usize>>, len: usize| {
        r.as_ref()
            .map(|r| &value[r.clone()])
            .filter(|t| t.len() == len && t.bytes().all(|b| lower_hex_value(b).is_some()))
            .map(|t| {
                if t.bytes().all(|b| b == b'0') {
                    "all zeros: invalid".to_owned()
                } else {
                    format!("{} bytes", len / 2)
                }
            })
    };
    push(
        FieldName::TraceId,
        &layout.trace_id,
        id_value(&layout.trace_id, 32),
        "The id of the whole trace, shared by every span in it, across every service.",
    );
    push(
        FieldName::ParentId,
        &layout.parent_id,
        id_value(&layout.parent_id, 16),
        "The id of the caller's span: the parent of the span the receiver starts.",
    );
    let flags = layout
        .flags
        .as_ref()
        .and_then(|r| crate::ids::decode_lower_hex::<1>(value[r.clone()].as_bytes()))
        .map(|b| TraceFlags(b[0]));
    push(
        FieldName::TraceFlags,
        &layout.flags,
        flags.map(describe_flags),
        "Eight bits of recommendations from the caller: bit 0 sampled, bit 1 random.",
    );
    let future = matches!(version_byte, Some(v) if v != 0 && v != 0xff);
    let rest = if future {
        // For a higher version the flags may have been cut to two characters;
        // everything after them is the part this version ignores.
        layout
            .flags
            .as_ref()
            .filter(|r| r.end < layout.trimmed.end)
            .map(|r| r.end..layout.trimmed.end)
    } else {
        layout.rest.clone()
    };
    push(
        FieldName::Rest,
        &rest,
        None,
        if future {
            "Fields of a future version: ignored by a version 00 receiver."
        } else {
            "Extra characters: version 00 ends after trace-flags."
        },
    );
    let flag_bits = flags.map(flag_bits).unwrap_or_default();
    TraceParentReport {
        fields,
        flag_bits,
        violations: sink.violations,
        omitted: sink.omitted,
        parsed: checked.parsed,
    }
}

/// The flags in words: `"0x01: sampled"`.
pub fn describe_flags(flags: TraceFlags) -> String {
    let mut names = Vec::new();
    if flags.sampled() {
        names.push("sampled".to_owned());
    }
    if flags.random() {
        names.push("random".to_owned());
    }
    if flags.unknown_bits() != 0 {
        names.push(format!("unknown bits {:08b}", flags.unknown_bits()));
    }
    if names.is_empty() {
        names.push("not sampled".to_owned());
    }
    format!("0x{:02x} = {:08b}: {}", flags.0, flags.0, names.join(", "))
}

/// The eight bits of the flags, most significant first.
pub fn flag_bits(flags: TraceFlags) -> Vec<FlagBit> {
    (0..8u8)
        .rev()
        .map(|bit| {
            let (name, meaning) = match bit {
                0 => (
                    "sampled",
                    "The caller may have recorded this trace; a receiver that follows it records too.",
                ),
                1 => (
                    "random",
                    "The rightmost 7 bytes of the trace-id are random, so samplers may hash them (Level 2).",
                ),
                _ => (
                    "unknown",
                    "Reserved: no version defines it; a receiver sends it on as zero.",
                ),
            };
            FlagBit {
                bit,
                name,
                set: flags.0 & (1 << bit) != 0,
                meaning,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_and_formats_the_spec_example() {
        let tp = TraceParent::parse(VALID).expect("spec example is valid");
        assert_eq!(tp.version, 0);
        assert_eq!(tp.parent_id.to_string(), "00f067aa0ba902b7");
        assert!(tp.flags.sampled());
        assert!(!tp.flags.random());
        assert_eq!(tp.to_string(), VALID);
    }

    #[test]
    fn report_has_fields_with_ranges() {
        let report = diagnose(VALID);
        assert!(report.is_valid());
        let names: Vec<_> = report
            .fields
            .iter()
            .map(|f| (f.name, f.start, f.end))
            .collect();
        assert_eq!(
            names,
            vec![
                (FieldName::Version, 0, 2),
                (FieldName::TraceId, 3, 35),
                (FieldName::ParentId, 36, 52),
                (FieldName::TraceFlags, 53, 55),
            ]
        );
        assert_eq!(report.flag_bits.len(), 8);
        assert!(report
            .flag_bits
            .iter()
            .any(|b| b.name == "sampled" && b.set));
    }

    #[test]
    fn collects_every_error_not_just_the_first() {
        let report = diagnose("0G-4BF92F3577B34DA6A3CE929D0E0E4736-0000000000000000-zz");
        let rules: Vec<_> = report.violations.iter().map(|v| v.rule).collect();
        assert_eq!(
            rules,
            vec![
                Rule::VersionHex,
                Rule::TraceIdUppercase,
                Rule::ParentIdAllZero,
                Rule::TraceFlagsHex
            ]
        );
        assert!(!report.is_valid());
    }

    #[test]
    fn first_error_agrees_with_the_report() {
        let input = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x";
        let err = TraceParent::parse(input).expect_err("flags are not hex");
        assert_eq!(err.rule, Rule::TraceFlagsHex);
        assert_eq!(err.range(), 54..55);
        let first = &diagnose(input).violations[0];
        assert_eq!((first.rule, first.range()), (err.rule, err.range()));
    }
}
