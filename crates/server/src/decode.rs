//! `tracelab decode`: reads text, decodes the trace context headers in it
//! with `tracelab-context`, and prints a report or one JSON object.

use crate::cli::{Color, DecodeArgs};
use crate::{EXIT_INVALID, EXIT_USAGE, EXIT_VALID};
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use std::io::{IsTerminal, Read, Write};
use tracelab_context::traceparent::FieldName;
use tracelab_context::{decode, Decoded, RandomIds, Severity, Violation};

/// Input larger than this is refused: it cannot be a set of headers, and
/// reading it whole would only spend memory.
pub const MAX_INPUT: u64 = 16 * 1024 * 1024;

/// Runs the command; returns the exit code.
pub fn run(args: &DecodeArgs) -> u8 {
    let text = match read_input(args) {
        Ok(text) => text,
        Err(message) => {
            eprintln!("tracelab decode: {message}");
            return EXIT_USAGE;
        }
    };
    let decoded = decode(&text, &mut RandomIds);
    let code = exit_code(&decoded);
    let choice = match args.color {
        Color::Auto => anstream::ColorChoice::Auto,
        Color::Always => anstream::ColorChoice::Always,
        Color::Never => anstream::ColorChoice::Never,
    };
    let mut out = anstream::AutoStream::new(std::io::stdout().lock(), choice);
    let written = if args.json {
        let json = serde_json::to_string_pretty(&JsonReport::from(&decoded)).unwrap_or_else(|e| {
            // Serialising plain strings and numbers cannot fail; say so if it ever does.
            format!("{{\"error\": \"could not serialise the report: {e}\"}}")
        });
        writeln!(out, "{json}")
    } else {
        out.write_all(render(&decoded).as_bytes())
    };
    // A closed pipe (`| head`) is not an error worth a message.
    if let Err(error) = written.and_then(|_| out.flush()) {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("tracelab decode: cannot write the report: {error}");
        }
    }
    if code == EXIT_USAGE && !args.json {
        eprintln!("tracelab decode: no traceparent or tracestate found in the input");
    }
    code
}

fn read_input(args: &DecodeArgs) -> Result<String, String> {
    if !args.text.is_empty() {
        return Ok(args.text.join("\n"));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("tracelab decode: reading headers from stdin; end with Ctrl-D (or pass them as arguments)");
    }
    let mut bytes = Vec::new();
    stdin
        .lock()
        .take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(format!(
            "the input is over {} MiB; headers are a few hundred bytes",
            MAX_INPUT / 1024 / 1024
        ));
    }
    // Invalid UTF-8 is replaced, not refused: the report then points at U+FFFD.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// 0 when every header found is valid, 1 when one is invalid, 2 when none was found.
pub fn exit_code(decoded: &Decoded) -> u8 {
    if decoded.traceparent.is_none() && decoded.tracestate.is_none() {
        EXIT_USAGE
    } else if decoded.all_valid() {
        EXIT_VALID
    } else {
        EXIT_INVALID
    }
}

/// The stable JSON interface of `tracelab decode --json`. Add keys; never
/// rename or remove one.
#[derive(Debug, Serialize)]
pub struct JsonReport {
    pub traceparent: Option<JsonTraceParent>,
    pub tracestate: Option<JsonTraceState>,
    pub receiver: JsonReceiver,
    /// Other systems' trace headers, and names close to a trace context
    /// header, in the order found.
    pub other_headers: Vec<JsonOtherHeader>,
    /// Which bare value was taken as the traceparent and why, when more than
    /// one could have been.
    pub choice: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct JsonOtherHeader {
    /// The name as written.
    pub name: String,
    pub value: String,
    /// 1-based line number.
    pub line: usize,
    /// `b3`, `jaeger`, `aws-xray`, `sentry`, `datadog`,
    /// `opentelemetry-log`, or null for an unknown name.
    pub system: Option<&'static str>,
    /// What the header is, in words.
    pub what: &'static str,
    /// The ids it carries, in W3C form (32 and 16 lowercase hex digits).
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub sampled: Option<bool>,
    /// `traceparent` or `tracestate` when the name looks like a misspelling.
    pub did_you_mean: Option<&'static str>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct JsonTraceParent {
    pub valid: bool,
    /// The header value as found.
    pub value: String,
    /// Each field's raw text, or null when the value has no such field.
    pub version: Option<String>,
    pub trace_id: Option<String>,
    pub parent_id: Option<String>,
    pub flags: Option<String>,
    /// From `tracelab-context`'s own reading of the flags; null when they
    /// do not decode.
    pub sampled: Option<bool>,
    pub random: Option<bool>,
    pub errors: Vec<JsonViolation>,
    pub warnings: Vec<JsonViolation>,
}

#[derive(Debug, Serialize)]
pub struct JsonTraceState {
    pub valid: bool,
    /// Every tracestate found, combined; error offsets are into this value.
    pub value: String,
    pub entries: Vec<JsonEntry>,
    pub errors: Vec<JsonViolation>,
    pub warnings: Vec<JsonViolation>,
    /// Where a value in a log line was cut short, and why.
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct JsonEntry {
    pub key: String,
    pub value: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct JsonViolation {
    pub rule: &'static str,
    pub start: usize,
    pub end: usize,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct JsonReceiver {
    pub action: &'static str,
    pub traceparent: String,
    pub tracestate: Option<String>,
    /// Why the trace restarts, or what happened to the tracestate.
    pub note: Option<String>,
}

fn split_violations(violations: &[Violation]) -> (Vec<JsonViolation>, Vec<JsonViolation>) {
    let json = |v: &Violation| JsonViolation {
        rule: v.rule.name(),
        start: v.start,
        end: v.end,
        message: v.message.to_string(),
    };
    let errors = violations
        .iter()
        .filter(|v| v.severity == Severity::Error)
        .map(json)
        .collect();
    let warnings = violations
        .iter()
        .filter(|v| v.severity == Severity::Warning)
        .map(json)
        .collect();
    (errors, warnings)
}

impl From<&Decoded> for JsonReport {
    fn from(decoded: &Decoded) -> Self {
        let traceparent = decoded.traceparent.as_ref().map(|report| {
            let value = decoded
                .found
                .traceparent()
                .next()
                .map(|h| h.value.clone())
                .unwrap_or_default();
            let raw = |name| report.field(name).map(|f| value[f.start..f.end].to_owned());
            // The bits as `tracelab-context` read them (none when the flags
            // do not decode): never a second, laxer reading here.
            let bit = |name: &str| {
                report
                    .flag_bits
                    .iter()
                    .find(|bit| bit.name == name)
                    .map(|bit| bit.set)
            };
            let (errors, warnings) = split_violations(&report.violations);
            JsonTraceParent {
                valid: report.is_valid(),
                version: raw(FieldName::Version),
                trace_id: raw(FieldName::TraceId),
                parent_id: raw(FieldName::ParentId),
                flags: raw(FieldName::TraceFlags),
                sampled: bit("sampled"),
                random: bit("random"),
                errors,
                warnings,
                value,
            }
        });
        let tracestate = decoded.tracestate.as_ref().map(|report| {
            let (errors, warnings) = split_violations(&report.violations);
            JsonTraceState {
                valid: report.is_valid(),
                value: decoded.tracestate_value.clone().unwrap_or_default(),
                entries: report
                    .entries
                    .iter()
                    .map(|e| JsonEntry {
                        key: e.key.clone(),
                        value: e.value.clone(),
                    })
                    .collect(),
                errors,
                warnings,
                note: decoded.found.tracestate().find_map(|h| h.note.clone()),
            }
        });
        let decision = &decoded.decision;
        JsonReport {
            traceparent,
            tracestate,
            receiver: JsonReceiver {
                action: decision.action.as_str(),
                traceparent: decision.traceparent.to_string(),
                tracestate: decision.tracestate.as_ref().map(|t| t.to_string()),
                note: decision
                    .restart_reason
                    .as_ref()
                    .map(|r| r.to_string())
                    .or_else(|| decision.tracestate_note()),
            },
            other_headers: decoded
                .found
                .others
                .iter()
                .map(|o| JsonOtherHeader {
                    name: o.name.clone(),
                    value: o.value.clone(),
                    line: o.line,
                    system: o.carried.system.map(|s| s.as_str()),
                    what: o.carried.what,
                    trace_id: o.carried.trace_id.clone(),
                    span_id: o.carried.span_id.clone(),
                    sampled: o.carried.sampled,
                    did_you_mean: o.carried.did_you_mean.map(|h| h.as_str()),
                    note: o.carried.note.clone(),
                })
                .collect(),
            choice: decoded.found.choice.clone(),
        }
    }
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const OK: Style = AnsiColor::Green.on_default().bold();
const BAD: Style = AnsiColor::Red.on_default().bold();
const WARN: Style = AnsiColor::Yellow.on_default().bold();
const FIELD: [Style; 4] = [
    AnsiColor::Magenta.on_default(),
    AnsiColor::Blue.on_default(),
    AnsiColor::Cyan.on_default(),
    AnsiColor::Yellow.on_default(),
];

/// Text with control characters escaped, so that pasted junk cannot drive
/// the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| -> Box<dyn Iterator<Item = char>> {
            if c.is_control() {
                Box::new(c.escape_default())
            } else {
                Box::new(std::iter::once(c))
            }
        })
        .collect()
}

/// Values longer than this are shown cut, without an underline.
const SHOWN: usize = 160;

/// The underline under `value` marking `start..end` (byte offsets), when the
/// value is short and plain enough to line up in a terminal.
fn underline(value: &str, start: usize, end: usize) -> Option<String> {
    if value.chars().count() > SHOWN || value.chars().any(|c| c.is_control() || !c.is_ascii()) {
        return None;
    }
    let before = value.get(..start)?.len();
    let width = value.get(start..end)?.len().max(1);
    Some(format!("{}{}", " ".repeat(before), "^".repeat(width)))
}

fn shown(value: &str) -> String {
    printable(&tracelab_context::traceparent::display_text(value, SHOWN))
}

fn render_violation(out: &mut String, value: &str, v: &Violation) {
    let (style, word) = match v.severity {
        Severity::Error => (BAD, "error"),
        Severity::Warning => (WARN, "warning"),
    };
    out.push_str(&format!(
        "    {style}{word}{style:#} {BOLD}{}{BOLD:#} at {}..{}: {}\n",
        v.rule, v.start, v.end, v.message
    ));
    if let Some(marks) = underline(value, v.start, v.end) {
        out.push_str(&format!(
            "        {}\n        {style}{marks}{style:#}\n",
            printable(value)
        ));
    }
}

/// Other systems' headers and near-misses: what each is and the ids it carries.
fn render_others(out: &mut String, found: &tracelab_context::FoundHeaders) {
    for other in &found.others {
        let c = &other.carried;
        out.push_str(&format!(
            "{BOLD}other header{BOLD:#} {} {DIM}(line {}){DIM:#}: {}\n",
            printable(&other.name),
            other.line,
            c.what
        ));
        if let Some(meant) = c.did_you_mean {
            out.push_str(&format!(
                "  {WARN}did you mean {}?{WARN:#}\n",
                meant.as_str()
            ));
        }
        let mut ids = Vec::new();
        if let Some(id) = &c.trace_id {
            ids.push(format!("trace-id {id}"));
        }
        if let Some(id) = &c.span_id {
            ids.push(format!("span-id {id}"));
        }
        if let Some(sampled) = c.sampled {
            ids.push(if sampled { "sampled" } else { "not sampled" }.to_owned());
        }
        if !ids.is_empty() {
            out.push_str(&format!("  {}\n", ids.join("  ")));
        }
        if let Some(note) = &c.note {
            out.push_str(&format!("  {DIM}{}{DIM:#}\n", printable(note)));
        }
    }
    if found.others_omitted > 0 {
        out.push_str(&format!(
            "  … and {} more other headers\n",
            found.others_omitted
        ));
    }
}

/// The human-readable report, with ANSI styles (stripped when not on a terminal).
pub fn render(decoded: &Decoded) -> String {
    let mut out = String::new();
    let verdict = |valid: bool| {
        if valid {
            format!("{OK}✔ valid{OK:#}")
        } else {
            format!("{BAD}✘ invalid{BAD:#}")
        }
    };
    let found = &decoded.found;
    if found.headers.is_empty() {
        out.push_str("No traceparent or tracestate found.\n");
        if let Some(first) = found.ignored.first() {
            out.push_str(&format!(
                "{DIM}line {}: {}{DIM:#}\n",
                first.line, first.reason
            ));
        }
        render_others(&mut out, found);
        return out;
    }
    if let Some(choice) = &found.choice {
        out.push_str(&format!("{DIM}{}{DIM:#}\n", printable(choice)));
    }
    if let (Some(report), Some(header)) = (&decoded.traceparent, found.traceparent().next()) {
        let value = header.value.as_str();
        out.push_str(&format!(
            "{BOLD}traceparent{BOLD:#}  {}  {}\n",
            shown(value),
            verdict(report.is_valid())
        ));
        out.push_str(&format!(
            "  {DIM}from {}, line {}{DIM:#}\n",
            header.source.describe(),
            header.line
        ));
        for (i, field) in report.fields.iter().enumerate() {
            let style = FIELD.get(i).copied().unwrap_or(DIM);
            let mark = if field.valid { " " } else { "✘" };
            out.push_str(&format!(
                "  {mark} {style}{:<12}{style:#} {:<34} {}\n",
                field.name.as_str(),
                printable(&field.raw),
                field.value.as_deref().unwrap_or("—")
            ));
        }
        if !report.flag_bits.is_empty() {
            let set: Vec<String> = report
                .flag_bits
                .iter()
                .filter(|b| b.set)
                .map(|b| format!("bit {} {}", b.bit, b.name))
                .collect();
            out.push_str(&format!(
                "    {DIM}flag bits set: {}{DIM:#}\n",
                if set.is_empty() {
                    "none".to_owned()
                } else {
                    set.join(", ")
                }
            ));
        }
        for v in &report.violations {
            render_violation(&mut out, value, v);
        }
        if report.omitted > 0 {
            out.push_str(&format!("    … and {} more findings\n", report.omitted));
        }
    }
    if let (Some(report), Some(value)) = (&decoded.tracestate, &decoded.tracestate_value) {
        let lines = found.tracestate().count();
        out.push_str(&format!(
            "{BOLD}tracestate{BOLD:#}   {}  {}\n",
            shown(value),
            verdict(report.is_valid())
        ));
        out.push_str(&format!(
            "  {DIM}{} entr{}, {} of {} characters{}{DIM:#}\n",
            report.entries.len() + report.entries_omitted,
            if report.entries.len() + report.entries_omitted == 1 {
                "y"
            } else {
                "ies"
            },
            report.propagated_len,
            tracelab_context::tracestate::PROPAGATION_LIMIT,
            if lines > 1 {
                format!(", combined from {lines} header lines")
            } else {
                String::new()
            }
        ));
        for entry in report.entries.iter().take(40) {
            let mark = if entry.valid { " " } else { "✘" };
            out.push_str(&format!(
                "  {mark} {:>2}  {:<20} {}\n",
                entry.position,
                printable(&entry.key),
                entry
                    .value
                    .as_deref()
                    .map(printable)
                    .unwrap_or_else(|| "— (no '=')".to_owned())
            ));
        }
        if report.entries.len() + report.entries_omitted > 40 {
            out.push_str(&format!(
                "    … {} more entries\n",
                report.entries.len() + report.entries_omitted - 40
            ));
        }
        if !report.truncation.is_empty() {
            let order: Vec<String> = report.truncation.iter().map(usize::to_string).collect();
            out.push_str(&format!(
                "    {DIM}to fit 512 characters a vendor drops entries {} (in that order){DIM:#}\n",
                order.join(", ")
            ));
        }
        for v in &report.violations {
            render_violation(&mut out, value, v);
        }
        if report.omitted > 0 {
            out.push_str(&format!("    … and {} more findings\n", report.omitted));
        }
        if let Some(note) = found.tracestate().find_map(|h| h.note.as_deref()) {
            out.push_str(&format!("    {DIM}{}{DIM:#}\n", printable(note)));
        }
    }
    render_others(&mut out, found);
    let decision = &decoded.decision;
    out.push_str(&format!(
        "{BOLD}receiver{BOLD:#}     {BOLD}{}{BOLD:#}",
        decision.action.as_str()
    ));
    match &decision.restart_reason {
        Some(reason) => out.push_str(&format!(": {reason}\n")),
        None => out.push_str(": same trace-id, a new span as the parent of the next hop\n"),
    }
    if let Some(note) = decision.tracestate_note() {
        out.push_str(&format!("  {DIM}{note}{DIM:#}\n"));
    }
    out.push_str(&format!("  sends traceparent: {}\n", decision.traceparent));
    if let Some(state) = &decision.tracestate {
        out.push_str(&format!(
            "  sends tracestate:  {}\n",
            shown(&state.to_string())
        ));
    }
    if found.ignored_omitted + found.ignored.len() > 0 {
        out.push_str(&format!(
            "{DIM}{} other line(s) ignored{DIM:#}\n",
            found.ignored.len() + found.ignored_omitted
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn json_for_a_valid_pair() {
        let decoded = decode(
            &format!("traceparent: {TP}\ntracestate: rojo=1"),
            &mut RandomIds,
        );
        let json = serde_json::to_value(JsonReport::from(&decoded)).expect("serialisable");
        assert_eq!(json["traceparent"]["valid"], true);
        assert_eq!(
            json["traceparent"]["trace_id"],
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(json["traceparent"]["sampled"], true);
        assert_eq!(json["traceparent"]["random"], false);
        assert_eq!(json["tracestate"]["entries"][0]["key"], "rojo");
        assert_eq!(json["receiver"]["action"], "continue");
        assert_eq!(json["receiver"]["tracestate"], "rojo=1");
        let sent = json["receiver"]["traceparent"].as_str().expect("a string");
        assert!(
            sent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
                && !sent.contains("00f067aa0ba902b7")
        );
        assert_eq!(exit_code(&decoded), EXIT_VALID);
    }

    #[test]
    fn json_for_an_invalid_value_lists_every_error() {
        let decoded = decode(
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-0000000000000000-01",
            &mut RandomIds,
        );
        let json = serde_json::to_value(JsonReport::from(&decoded)).expect("serialisable");
        let rules: Vec<&str> = json["traceparent"]["errors"]
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|e| e["rule"].as_str())
            .collect();
        assert_eq!(rules, vec!["trace-id.uppercase", "parent-id.all-zero"]);
        assert_eq!(
            json["traceparent"]["errors"][0]["start"], 4,
            "the first uppercase digit"
        );
        assert_eq!(json["receiver"]["action"], "restart");
        assert_eq!(json["tracestate"], serde_json::Value::Null);
        assert_eq!(exit_code(&decoded), EXIT_INVALID);
    }

    #[test]
    fn report_underlines_the_broken_characters() {
        let decoded = decode(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
            &mut RandomIds,
        );
        let text = anstream::adapter::strip_str(&render(&decoded)).to_string();
        assert!(text.contains("✘ invalid"), "{text}");
        assert!(text.contains("trace-flags.hex at 54..55"), "{text}");
        let caret_line = text
            .lines()
            .find(|l| l.trim_start().starts_with('^'))
            .expect("an underline");
        assert_eq!(caret_line.find('^'), Some(8 + 54));
    }

    #[test]
    fn control_characters_are_escaped() {
        let decoded = decode("traceparent: 00-\u{1b}[31m", &mut RandomIds);
        let text = render(&decoded);
        assert!(!anstream::adapter::strip_str(&text)
            .to_string()
            .contains('\u{1b}'));
        assert!(text.contains("\\u{1b}"));
    }
}
