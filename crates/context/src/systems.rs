//! The trace headers of other systems, recognised so that the Decode page
//! and `tracelab decode` can say what a pasted header is and which trace-id
//! and span-id it carries, instead of reading it as a broken `traceparent`:
//! Zipkin's B3 (single `b3` and the `X-B3-*` headers), Jaeger's
//! `uber-trace-id`, AWS X-Ray's `X-Amzn-Trace-Id`, Sentry's `sentry-trace`,
//! Datadog's `x-datadog-*`, and the `trace_id`/`span_id` fields of an
//! OpenTelemetry log record. Ids are given in W3C form (lowercase hex, 32
//! and 16 digits) where they map; converting a header fully is not the aim.
//!
//! A name that is none of these but close to `traceparent` or `tracestate`
//! (a misspelling), or whose value reads as a valid `traceparent`, gets a
//! "did you mean" and its value decoded.
//!
//! Small on purpose (it is in the browser's first load): one byte-level
//! reader for the `key=value;…` families, no regex, no float.

use crate::extract::HeaderName;
use crate::tracestate::TraceState;

/// A tracing system whose header was recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    B3,
    Jaeger,
    XRay,
    Sentry,
    Datadog,
    OpenTelemetryLog,
}

impl System {
    /// A stable identifier (`tracelab decode --json`): never renamed.
    pub fn as_str(self) -> &'static str {
        match self {
            System::B3 => "b3",
            System::Jaeger => "jaeger",
            System::XRay => "aws-xray",
            System::Sentry => "sentry",
            System::Datadog => "datadog",
            System::OpenTelemetryLog => "opentelemetry-log",
        }
    }
}

/// What one header of another system carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    /// `None` for a name no system uses (see `did_you_mean`).
    pub system: Option<System>,
    /// What the header is, in a few words.
    pub what: &'static str,
    /// The trace-id in W3C form (32 lowercase hex digits), when it carries one.
    pub trace_id: Option<String>,
    /// The span-id it names as the caller's, in W3C form (16 lowercase hex digits).
    pub span_id: Option<String>,
    pub sampled: Option<bool>,
    /// How the ids map, or what could not be read.
    pub note: Option<String>,
    /// The trace context header this name is probably meant to be.
    pub did_you_mean: Option<HeaderName>,
}

/// The names recognised in `name: value` lines and inside log lines, JSON
/// and logfmt, lowercase.
pub const NAMES: [&str; 15] = [
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "uber-trace-id",
    "x-amzn-trace-id",
    "sentry-trace",
    "x-datadog-trace-id",
    "x-datadog-parent-id",
    "x-datadog-sampling-priority",
    "x-datadog-tags",
    "trace_id",
    "span_id",
];

/// What the header `name` (any case) with `value` carries, when `name` is
/// one of [`NAMES`].
pub fn recognise(name: &str, value: &str) -> Option<Carried> {
    let name = NAMES.iter().find(|n| n.eq_ignore_ascii_case(name))?;
    let mut c = Carried::default();
    let bad = |what: &str| Some(format!("does not read as {what}"));
    match *name {
        "b3" => {
            c.system = Some(System::B3);
            c.what = "Zipkin B3, single header (traceid-spanid-sampled-parentspanid)";
            let mut parts = value.split('-');
            let first = parts.next().unwrap_or_default();
            if let Some(sampled) = b3_sampled(first) {
                // `b3: 0`, `b3: 1`, `b3: d`: a sampling decision only.
                c.sampled = Some(sampled);
            } else {
                c.trace_id = hex_id(first, 32);
                c.span_id = parts.next().and_then(|s| hex_id(s, 16));
                c.sampled = parts.next().and_then(b3_sampled);
                if c.trace_id.is_none() || c.span_id.is_none() {
                    c.note = bad("traceid-spanid (16 or 32, then 16 hex digits)");
                } else if first.len() == 16 {
                    c.note = Some(padded_note("a 64-bit B3 trace id"));
                }
            }
        }
        "x-b3-traceid" => {
            c.system = Some(System::B3);
            c.what = "Zipkin B3, the trace id";
            c.trace_id = hex_id(value, 32);
            if c.trace_id.is_none() {
                c.note = bad("16 or 32 hex digits");
            } else if value.len() == 16 {
                c.note = Some(padded_note("a 64-bit B3 trace id"));
            }
        }
        "x-b3-spanid" => {
            c.system = Some(System::B3);
            c.what = "Zipkin B3, the caller's span id";
            c.span_id = hex_id(value, 16);
        }
        "x-b3-parentspanid" => {
            c.system = Some(System::B3);
            c.what = "Zipkin B3, the parent of the caller's span (not the W3C parent-id)";
        }
        "x-b3-sampled" | "x-b3-flags" => {
            c.system = Some(System::B3);
            c.what = "Zipkin B3, the sampling decision (flags 1 is debug, which samples)";
            c.sampled = b3_sampled(value).or(match value {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            });
        }
        "uber-trace-id" => {
            c.system = Some(System::Jaeger);
            c.what = "Jaeger (trace-id:span-id:parent-span-id:flags)";
            // `%3A` is how some clients write the colons.
            let parts: Vec<&str> = if value.contains(':') {
                value.split(':').collect()
            } else {
                value.split("%3A").collect()
            };
            c.trace_id = parts.first().and_then(|s| hex_id(s, 32));
            c.span_id = parts.get(1).and_then(|s| hex_id(s, 16));
            c.sampled = parts
                .get(3)
                .and_then(|f| u8::from_str_radix(f, 16).ok())
                .map(|f| f & 1 == 1);
            if parts.len() != 4 || c.trace_id.is_none() || c.span_id.is_none() {
                c.note = bad("four fields of hex separated by ':'");
            } else if parts[0].len() < 32 || parts[1].len() < 16 {
                c.note = Some(
                    "Jaeger drops leading zeros; the ids are shown padded to W3C width".to_owned(),
                );
            }
        }
        "x-amzn-trace-id" => {
            c.system = Some(System::XRay);
            c.what = "AWS X-Ray (Root=1-time-unique;Parent=…;Sampled=…)";
            for (key, val) in pairs(value, b';') {
                match key {
                    // Root=1-5759e988-bd862e3fe1be46a994272793: the W3C trace-id
                    // is the 8 digits of time and the 24 unique ones.
                    "Root" => {
                        let mut parts = val.split('-');
                        let (version, time, unique) = (parts.next(), parts.next(), parts.next());
                        if let (Some("1"), Some(time), Some(unique), None) =
                            (version, time, unique, parts.next())
                        {
                            if time.len() == 8 && unique.len() == 24 {
                                c.trace_id = hex_id(&format!("{time}{unique}"), 32);
                            }
                        }
                        if c.trace_id.is_none() {
                            c.note = bad("Root (1-<8 hex digits>-<24 hex digits>)");
                        }
                    }
                    "Parent" => c.span_id = hex_id(val, 16).filter(|_| val.len() == 16),
                    "Sampled" => c.sampled = b3_sampled(val),
                    _ => {}
                }
            }
            if c.trace_id.is_some() && c.note.is_none() {
                c.note = Some("the trace-id is Root's time and unique parts joined".to_owned());
            }
        }
        "sentry-trace" => {
            c.system = Some(System::Sentry);
            c.what = "Sentry (trace_id-span_id-sampled)";
            let mut parts = value.split('-');
            c.trace_id = parts
                .next()
                .and_then(|s| hex_id(s, 32))
                .filter(|_| value.len() >= 32);
            c.span_id = parts
                .next()
                .and_then(|s| hex_id(s, 16))
                .filter(|s| s.len() == 16);
            c.sampled = parts.next().and_then(b3_sampled);
            if c.trace_id.is_none() || c.span_id.is_none() {
                c.note = bad("32 hex digits, '-', 16 hex digits");
            }
        }
        "x-datadog-trace-id" => {
            c.system = Some(System::Datadog);
            c.what = "Datadog, the low 64 bits of the trace id, in decimal";
            match value.parse::<u64>() {
                Ok(id) => {
                    c.trace_id = Some(format!("{}{}", "0".repeat(16), hex64(id)));
                    c.note = Some(
                        "the high 64 bits travel in x-datadog-tags as _dd.p.tid; shown as zeros"
                            .to_owned(),
                    );
                }
                Err(_) => c.note = bad("a decimal number"),
            }
        }
        "x-datadog-parent-id" => {
            c.system = Some(System::Datadog);
            c.what = "Datadog, the caller's span id, in decimal";
            match value.parse::<u64>() {
                Ok(id) => c.span_id = Some(hex64(id)),
                Err(_) => c.note = bad("a decimal number"),
            }
        }
        "x-datadog-sampling-priority" => {
            c.system = Some(System::Datadog);
            c.what = "Datadog, the sampling priority (1 and 2 keep the trace)";
            c.sampled = match value {
                "1" | "2" => Some(true),
                "0" | "-1" => Some(false),
                _ => None,
            };
        }
        "x-datadog-tags" => {
            c.system = Some(System::Datadog);
            c.what = "Datadog, propagated tags (_dd.p.tid holds the high 64 bits of the trace id)";
            if let Some((_, high)) = pairs(value, b',').find(|(k, _)| *k == "_dd.p.tid") {
                c.note = Some(format!("the trace id's high 64 bits are {high}"));
            }
        }
        "trace_id" => {
            c.system = Some(System::OpenTelemetryLog);
            c.what = "an OpenTelemetry log record's trace id";
            c.trace_id = hex_id(value, 32).filter(|_| value.len() == 32);
        }
        "span_id" => {
            c.system = Some(System::OpenTelemetryLog);
            c.what = "an OpenTelemetry log record's span id";
            c.span_id = hex_id(value, 16).filter(|_| value.len() == 16);
        }
        _ => return None,
    }
    // An id half read is not claimed: the header is not what it says.
    if c.note
        .as_deref()
        .is_some_and(|n| n.starts_with("does not read"))
    {
        c.trace_id = None;
        c.span_id = None;
    }
    Some(c)
}

/// For a `name: value` header that no system uses: a "did you mean" when
/// the name is a misspelling of `traceparent` or `tracestate` (at most two
/// edits) or the value reads as a valid `traceparent`, with the value
/// decoded as that header.
pub fn suggest(name: &str, value: &str) -> Option<Carried> {
    let close = |target: &str| name.len() <= 32 && edit_distance(name, target) <= 2;
    let as_traceparent = crate::extract::traceparent_of(value);
    let meant = if close("traceparent") || (as_traceparent.is_some() && !close("tracestate")) {
        HeaderName::TraceParent
    } else if close("tracestate") {
        HeaderName::TraceState
    } else {
        return None;
    };
    let mut c = Carried {
        what: "not a trace context header",
        did_you_mean: Some(meant),
        ..Carried::default()
    };
    match (meant, as_traceparent) {
        (HeaderName::TraceParent, Some(tp)) => {
            c.trace_id = Some(tp.trace_id().to_string());
            c.span_id = Some(tp.parent_id().to_string());
            c.sampled = Some(tp.flags().sampled());
            c.note = Some(
                "its value is a valid traceparent, but under this name a receiver ignores it"
                    .to_owned(),
            );
        }
        (HeaderName::TraceParent, None) => {
            c.note = Some(
                "its value does not read as a traceparent either; a receiver ignores it".to_owned(),
            );
        }
        (HeaderName::TraceState, _) => {
            c.note = Some(
                if TraceState::parse(value).is_ok() {
                    "its value is a valid tracestate, but under this name a receiver ignores it"
                } else {
                    "its value does not read as a tracestate either; a receiver ignores it"
                }
                .to_owned(),
            );
        }
    }
    Some(c)
}

/// `key=value` pairs separated by `sep`, trimmed of spaces: X-Ray's
/// `Root=…;Parent=…` and Datadog's tags share this one reader.
fn pairs(value: &str, sep: u8) -> impl Iterator<Item = (&str, &str)> {
    value
        .split(char::from(sep))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
}

/// B3's and Sentry's sampling words: `1`/`d` sample, `0` does not.
fn b3_sampled(s: &str) -> Option<bool> {
    match s {
        "1" | "d" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// Hex digits (1 to `width`, any case) as a W3C id of `width` digits:
/// lowercase, zeros in front. `None` for anything else.
fn hex_id(s: &str, width: usize) -> Option<String> {
    if s.is_empty() || s.len() > width || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut id = "0".repeat(width - s.len());
    id.push_str(&s.to_ascii_lowercase());
    Some(id)
}

/// `n` as 16 lowercase hex digits.
fn hex64(n: u64) -> String {
    (0..16)
        .rev()
        .map(|i| char::from(b"0123456789abcdef"[((n >> (i * 4)) & 0xf) as usize]))
        .collect()
}

fn padded_note(what: &str) -> String {
    format!("{what}: W3C's 128-bit trace-id is it with 16 zeros in front")
}

/// Levenshtein distance between two ASCII names, case-insensitive.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(!x.eq_ignore_ascii_case(&y));
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(
        name: &str,
        value: &str,
    ) -> (Option<System>, Option<String>, Option<String>, Option<bool>) {
        let c = recognise(name, value).expect("recognised");
        (c.system, c.trace_id, c.span_id, c.sampled)
    }
    fn s(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn each_system_gives_its_ids_in_w3c_form() {
        assert_eq!(
            ids(
                "b3",
                "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"
            ),
            (
                Some(System::B3),
                s("80f198ee56343ba864fe8b2a57d3eff7"),
                s("e457b5a2e4d86bd1"),
                Some(true)
            )
        );
        assert_eq!(
            ids("B3", "a3ce929d0e0e4736-00f067aa0ba902b7-0"),
            (
                Some(System::B3),
                s("0000000000000000a3ce929d0e0e4736"),
                s("00f067aa0ba902b7"),
                Some(false)
            )
        );
        assert_eq!(ids("b3", "d"), (Some(System::B3), None, None, Some(true)));
        assert_eq!(
            ids("X-B3-TraceId", "463ac35c9f6413ad48485a3953bb6124").1,
            s("463ac35c9f6413ad48485a3953bb6124")
        );
        assert_eq!(
            ids("x-b3-spanid", "a2fb4a1d1a96d312").2,
            s("a2fb4a1d1a96d312")
        );
        assert_eq!(ids("X-B3-Sampled", "1").3, Some(true));
        assert_eq!(
            ids(
                "uber-trace-id",
                "4bf92f3577b34da6a3ce929d0e0e4736:f067aa0ba902b7:0:1"
            ),
            (
                Some(System::Jaeger),
                s("4bf92f3577b34da6a3ce929d0e0e4736"),
                s("00f067aa0ba902b7"),
                Some(true)
            )
        );
        assert_eq!(
            ids(
                "X-Amzn-Trace-Id",
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            ),
            (
                Some(System::XRay),
                s("5759e988bd862e3fe1be46a994272793"),
                s("53995c3f42cd8ad8"),
                Some(true)
            )
        );
        assert_eq!(
            ids(
                "sentry-trace",
                "771a43a4192642f0b136d5159a501700-b3ad1e2bc3da4b4e-0"
            ),
            (
                Some(System::Sentry),
                s("771a43a4192642f0b136d5159a501700"),
                s("b3ad1e2bc3da4b4e"),
                Some(false)
            )
        );
        assert_eq!(
            ids("x-datadog-trace-id", "11803532876627986230"),
            (
                Some(System::Datadog),
                s("0000000000000000a3ce929d0e0e4736"),
                None,
                None
            )
        );
        assert_eq!(
            ids("x-datadog-parent-id", "67667974448284343").2,
            s("00f067aa0ba902b7")
        );
        assert_eq!(
            ids("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736").1,
            s("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(ids("span_id", "00f067aa0ba902b7").2, s("00f067aa0ba902b7"));
    }

    #[test]
    fn unreadable_values_say_so_and_claim_no_ids() {
        for (name, value) in [
            ("b3", "hello"),
            ("uber-trace-id", "zz:1"),
            ("X-Amzn-Trace-Id", "Root=2-x"),
            ("sentry-trace", "abc"),
            ("x-datadog-trace-id", "-5"),
        ] {
            let c = recognise(name, value).expect("recognised");
            assert!(
                c.note
                    .as_deref()
                    .is_some_and(|n| n.contains("does not read")),
                "{name}: {c:?}"
            );
            assert!(c.trace_id.is_none() && c.span_id.is_none(), "{name}: {c:?}");
        }
        assert_eq!(recognise("host", "localhost"), None);
    }

    #[test]
    fn misspelt_names_get_a_suggestion_and_their_value_decoded() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let c = suggest("traceparant", tp).expect("a suggestion");
        assert_eq!(c.did_you_mean, Some(HeaderName::TraceParent));
        assert_eq!(
            c.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(c.span_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_eq!(
            suggest("Trace-Parent", "junk").and_then(|c| c.did_you_mean),
            Some(HeaderName::TraceParent)
        );
        assert_eq!(
            suggest("trace_state", "rojo=1").and_then(|c| c.did_you_mean),
            Some(HeaderName::TraceState)
        );
        // An unrelated name carrying a valid traceparent value.
        assert_eq!(
            suggest("x-request-context", tp).and_then(|c| c.did_you_mean),
            Some(HeaderName::TraceParent)
        );
        assert_eq!(suggest("host", "localhost:8000"), None);
        assert_eq!(suggest("accept", "*/*"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
