//! The filter box's text, read as a [`SpanFilter`].
//!
//! `SpanFilter` requires every criterion it holds (AND), so one box that
//! searches "service, name, attribute key or value" needs words that say which
//! criterion they set. The syntax takes the forms people type in Jaeger,
//! Tempo and Honeycomb searches; it is shown as the input's placeholder, in
//! the help overlay, and beside the box ([`SYNTAX`]) whenever part of a query
//! is not understood:
//! - `service:NAME`: the whole service name (ignoring ASCII case); several
//!   `service:` words match any of them (either/or);
//! - `name:TEXT`, or any other word: a substring of the span name (the name
//!   words joined by one space, so `GET /bands` finds `GET /bands/{id}`);
//! - `attr:TEXT`: a substring of an attribute key or value (several must
//!   each be found);
//! - `error` (or `is:error`, `status:error`): failed spans only;
//! - durations: `>5ms` longer than, `>=5ms` at least, `<1ms` shorter than,
//!   `<=1ms` at most, in `ns`, `us` (`µs`), `ms` or `s`, with decimals
//!   (`>1.5s`); a bare number is milliseconds (`>10` is `>10ms`, as
//!   Honeycomb's `duration_ms`; Jaeger's form wants the unit, which reads
//!   the same here); several bounds all hold (`>1ms <5ms`);
//! - `-` before any of these leaves out the spans it matches: `-error`,
//!   `-service:db`, `-GET`, `->5s`.
//!
//! An operator followed by anything but a number is text (`<b>1</b>`). A
//! word that looks like a criterion but cannot be read (`>5parsecs`,
//! `service:` with no name) is left out of the filter, and a note says which
//! word and why, so a typo never silently hides every span.
//!
//! This is the one reading of the syntax: the browser's filter box uses it
//! today, and a command-line filter would too. It holds no DOM.

use crate::view::SpanFilter;

/// Longest filter text read. Anything longer is cut (at a character
/// boundary): a pasted megabyte must not be matched against every span on
/// every keystroke, nor end up in the URL fragment.
pub const MAX_QUERY_CHARS: usize = 200;

/// The syntax in one line, for the help overlay and beside the box when a
/// word is not understood.
pub const SYNTAX: &str = "service:NAME (several: either) · name:TEXT or plain words · attr:TEXT · error · >5ms >=1.5s <200us <=800ns (a bare number is ms) · -word leaves out what it matches";

/// The filter and what could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub filter: SpanFilter,
    /// One sentence per word not understood, naming it; empty when every
    /// word was read.
    pub notes: Vec<String>,
}

/// Reads the filter box's text.
pub fn parse_query(text: &str) -> ParsedQuery {
    let text = truncate_chars(text, MAX_QUERY_CHARS);
    let mut parsed = ParsedQuery::default();
    let mut name_words: Vec<&str> = Vec::new();
    for typed in text.split_whitespace() {
        let (negated, word) = match typed.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => (true, rest),
            _ => (false, typed),
        };
        // A negated word fills a filter of its own, which then leaves out
        // what it matches.
        let mut excluded = SpanFilter::default();
        let filter = if negated {
            &mut excluded
        } else {
            &mut parsed.filter
        };
        match read_word(filter, word) {
            Ok(Some(name)) if negated => excluded.name_contains = Some(name.to_owned()),
            Ok(Some(name)) => name_words.push(name),
            Ok(None) => {}
            Err(why) => {
                parsed.notes.push(format!(
                    "“{typed}” is not understood ({why}), so it is left out."
                ));
                continue;
            }
        }
        if negated {
            parsed.filter.excluded.push(excluded);
        }
    }
    if !name_words.is_empty() {
        parsed.filter.name_contains = Some(name_words.join(" "));
    }
    parsed
}

/// Adds the criterion `word` sets to `filter`, or returns the text it
/// searches span names for; `Err` says why it cannot be read.
fn read_word<'a>(filter: &mut SpanFilter, word: &'a str) -> Result<Option<&'a str>, &'static str> {
    let (at_least, inclusive, value) = match word.as_bytes() {
        [b'>', b'=', ..] => (true, true, &word[2..]),
        [b'<', b'=', ..] => (false, true, &word[2..]),
        [b'>', ..] => (true, false, &word[1..]),
        [b'<', ..] => (false, false, &word[1..]),
        _ => return read_key_word(filter, word),
    };
    // A bound is an operator and a number: `<b>1</b>` or a lone `>` is text.
    if !value.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return read_key_word(filter, word);
    }
    let (number, unit) = split_number(value);
    // A bare number is milliseconds.
    let nanos = parse_number_nanos(number, if unit.is_empty() { "ms" } else { unit })
        .ok_or("a duration is a number and ns, us, ms or s")?;
    if at_least {
        // Strictly longer is at least one nanosecond more (clamped at the
        // 584-year maximum, which nothing is longer than).
        let min = if inclusive {
            nanos
        } else {
            nanos.saturating_add(1)
        };
        // Several bounds all hold: keep the tightest.
        filter.min_duration_nanos = filter.min_duration_nanos.max(Some(min));
    } else {
        let max = if inclusive {
            nanos
        } else {
            nanos.checked_sub(1).ok_or("nothing is shorter than 0")?
        };
        filter.max_duration_nanos = Some(filter.max_duration_nanos.map_or(max, |old| old.min(max)));
    }
    Ok(None)
}

/// `key:value` words and `error`; anything else is name text.
fn read_key_word<'a>(
    filter: &mut SpanFilter,
    word: &'a str,
) -> Result<Option<&'a str>, &'static str> {
    let Some((key, value)) = word.split_once(':') else {
        if word.eq_ignore_ascii_case("error") {
            filter.errors_only = true;
            return Ok(None);
        }
        return Ok(Some(word));
    };
    let known = ["service", "name", "attr", "is", "status"]
        .iter()
        .position(|known| key.eq_ignore_ascii_case(known));
    match known {
        // Any other `key:value` is text in a span name (`redis:GET`).
        None => return Ok(Some(word)),
        Some(_) if value.is_empty() => return Err("nothing follows the colon"),
        Some(0) => filter.services.push(value.to_owned()),
        Some(1) => return Ok(Some(value)),
        Some(2) => filter.attributes_contain.push(value.to_owned()),
        Some(_) if value.eq_ignore_ascii_case("error") => filter.errors_only = true,
        Some(_) => return Err("only error can follow it"),
    }
    Ok(None)
}

/// The first `max_chars` characters of `text`.
pub fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((byte_idx, _)) => &text[..byte_idx],
        None => text,
    }
}

/// Nanoseconds in one `unit` (`ns`, `us`, `µs`, `ms`, `s`, any ASCII case).
fn unit_nanos(unit: &str) -> Option<u64> {
    match unit.to_ascii_lowercase().as_str() {
        "ns" => Some(1),
        "us" | "µs" => Some(1_000),
        "ms" => Some(1_000_000),
        "s" => Some(1_000_000_000),
        _ => None,
    }
}

/// `5ms`, `1.5s`, `200us`, `200µs`, `800ns` as nanoseconds; the unit is
/// required here (the filter box reads a bare number as milliseconds).
///
/// Read with integers, digit by digit: exact for every decimal a person
/// types (`0.1s` is 100,000,000 ns, not one less), digits past the
/// nanosecond are dropped, and a value past `u64::MAX` ns (584 years) is
/// clamped to it. Parsing through `f64` would be less exact and would put
/// the standard library's float parser and its 10 KB table into the browser
/// bundle for this one box.
pub fn parse_duration_nanos(text: &str) -> Option<u64> {
    let (number, unit) = split_number(text);
    parse_number_nanos(number, unit)
}

/// `text` split where its digits and dots end.
fn split_number(text: &str) -> (&str, &str) {
    let unit_start = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    text.split_at(unit_start)
}

/// `number` (digits with at most one dot) of `unit`s, as nanoseconds.
fn parse_number_nanos(number: &str, unit: &str) -> Option<u64> {
    let unit_nanos = unit_nanos(unit)?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    // At least one digit, only digits, and one dot at most (the split took
    // the first).
    if (whole.is_empty() && fraction.is_empty())
        || !(whole.bytes().chain(fraction.bytes())).all(|byte| byte.is_ascii_digit())
    {
        return None;
    }
    let mut nanos = whole.bytes().fold(0u64, |total, digit| {
        total
            .saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    });
    nanos = nanos.saturating_mul(unit_nanos);
    // Each fraction digit is worth a tenth of the one before it.
    let mut place = unit_nanos;
    for digit in fraction.bytes() {
        place /= 10;
        nanos = nanos.saturating_add(u64::from(digit - b'0') * place);
    }
    Some(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_set_criteria_and_the_rest_is_the_name() {
        let parsed = parse_query("GET service:Bands-API /bands attr:503 error >1.5ms");
        assert_eq!(parsed.filter.services, ["Bands-API"]);
        assert_eq!(parsed.filter.attributes_contain, ["503"]);
        assert!(parsed.filter.errors_only);
        assert_eq!(parsed.filter.min_duration_nanos, Some(1_500_001));
        assert_eq!(parsed.filter.name_contains.as_deref(), Some("GET /bands"));
        assert!(parsed.notes.is_empty());
    }

    /// Issue 21, item 9: each of these read as nothing and matched no span.
    #[test]
    fn the_forms_of_jaeger_tempo_and_honeycomb_searches_are_read() {
        let ms = 1_000_000;
        let cases: [(&str, Option<u64>, Option<u64>); 7] = [
            (">=10ms", Some(10 * ms), None),
            (">10ms", Some(10 * ms + 1), None),
            ("<1ms", None, Some(ms - 1)),
            ("<=1ms", None, Some(ms)),
            // A bare number is milliseconds.
            (">10", Some(10 * ms + 1), None),
            ("<=2.5", None, Some(2_500_000)),
            (">1ms >=2ms <9ms <=8ms", Some(2 * ms), Some(8 * ms)),
        ];
        for (text, min, max) in cases {
            let parsed = parse_query(text);
            assert_eq!(parsed.notes, Vec::<String>::new(), "{text}");
            assert_eq!(parsed.filter.min_duration_nanos, min, "{text}");
            assert_eq!(parsed.filter.max_duration_nanos, max, "{text}");
            assert_eq!(parsed.filter.name_contains, None, "{text}");
        }
        let parsed = parse_query("name:GET Name:/bands");
        assert_eq!(parsed.filter.name_contains.as_deref(), Some("GET /bands"));
        assert!(parse_query("status:ERROR").filter.errors_only);
        assert!(parse_query("is:error").filter.errors_only);
        // `key:value` words of no known key are name text.
        let parsed = parse_query("redis:GET");
        assert_eq!(parsed.filter.name_contains.as_deref(), Some("redis:GET"));
        assert!(parsed.notes.is_empty());
    }

    #[test]
    fn an_operator_without_a_number_is_name_text() {
        for text in ["<b>1</b>", ">", "=>"] {
            let parsed = parse_query(text);
            assert_eq!(parsed.filter.name_contains.as_deref(), Some(text));
            assert!(parsed.notes.is_empty(), "{text}");
        }
    }

    #[test]
    fn several_services_are_either_or() {
        let parsed = parse_query("service:db service:cache");
        assert_eq!(parsed.filter.services, ["db", "cache"]);
    }

    #[test]
    fn a_dash_leaves_out_what_the_word_matches() {
        let parsed = parse_query("-error -service:db GET -POST ->5s");
        let filter = &parsed.filter;
        assert!(!filter.errors_only);
        assert_eq!(filter.name_contains.as_deref(), Some("GET"));
        assert_eq!(filter.excluded.len(), 4);
        assert!(filter.excluded[0].errors_only);
        assert_eq!(filter.excluded[1].services, ["db"]);
        assert_eq!(filter.excluded[2].name_contains.as_deref(), Some("POST"));
        assert_eq!(filter.excluded[3].min_duration_nanos, Some(5_000_000_001));
        // A lone dash is text.
        assert_eq!(parse_query("-").filter.name_contains.as_deref(), Some("-"));
    }

    #[test]
    fn words_not_understood_are_left_out_and_named() {
        for (text, typed) in [
            (">5parsecs", ">5parsecs"),
            (">=5parsecs", ">=5parsecs"),
            ("service:", "service:"),
            ("-attr:", "-attr:"),
            ("<0ms", "<0ms"),
            ("status:ok", "status:ok"),
            (">1.2.3ms", ">1.2.3ms"),
        ] {
            let parsed = parse_query(&format!("GET {text}"));
            assert_eq!(parsed.notes.len(), 1, "{text}: {:?}", parsed.notes);
            assert!(
                parsed.notes[0].starts_with(&format!("“{typed}” is not understood")),
                "{text}: {:?}",
                parsed.notes
            );
            // The rest of the query still applies.
            assert_eq!(parsed.filter.min_duration_nanos, None, "{text}");
            assert!(parsed.filter.services.is_empty(), "{text}");
            assert!(parsed.filter.excluded.is_empty(), "{text}");
        }
    }

    #[test]
    fn durations_are_read_exactly_in_every_unit() {
        assert_eq!(parse_duration_nanos("800ns"), Some(800));
        assert_eq!(parse_duration_nanos("200us"), Some(200_000));
        assert_eq!(parse_duration_nanos("200µs"), Some(200_000));
        assert_eq!(parse_duration_nanos("5MS"), Some(5_000_000));
        assert_eq!(parse_duration_nanos("0.1s"), Some(100_000_000));
        assert_eq!(parse_duration_nanos(".5ms"), Some(500_000));
        assert_eq!(parse_duration_nanos("2.ms"), Some(2_000_000));
        assert_eq!(parse_duration_nanos("1.2345678919s"), Some(1_234_567_891));
        assert_eq!(parse_duration_nanos("1.5ns"), Some(1));
        assert_eq!(
            parse_duration_nanos("99999999999999999999s"),
            Some(u64::MAX)
        );
    }

    #[test]
    fn durations_without_digits_unit_or_with_two_dots_are_refused() {
        for text in [
            "ms", ".ms", "5", "5 ms", "1.2.3ms", "5parsecs", "-5ms", "", "５ms",
        ] {
            assert_eq!(parse_duration_nanos(text), None, "{text:?}");
        }
    }

    #[test]
    fn empty_text_is_an_empty_filter() {
        assert!(parse_query("   ").filter.is_empty());
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let text = "é".repeat(MAX_QUERY_CHARS + 5);
        assert_eq!(
            truncate_chars(&text, MAX_QUERY_CHARS).chars().count(),
            MAX_QUERY_CHARS
        );
    }
}
