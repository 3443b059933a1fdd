//! The filter box's text, read as a [`SpanFilter`].
//!
//! `SpanFilter` requires every criterion it holds (AND), so one box that
//! searches "service, name, attribute key or value" needs words that say which
//! criterion they set. The syntax, shown as the input's placeholder and in the
//! help overlay:
//! - `service:NAME`: the whole service name (ignoring ASCII case);
//! - `attr:TEXT`: a substring of an attribute key or value;
//! - `error`: failed spans only;
//! - `>DURATION`: at least that long (`>5ms`, `>1.5s`, `>200us`, `>800ns`);
//! - any other words: a substring of the span name (the words joined by one
//!   space, so `GET /bands` finds `GET /bands/{id}`).
//!
//! A word that looks like a criterion but cannot be read (`>5 parsecs`) is
//! searched for in the name instead, and a note says so.
//!
//! This is the one reading of the syntax: the browser's filter box uses it
//! today, and a command-line filter would too. It holds no DOM.

use crate::view::SpanFilter;

/// Longest filter text read. Anything longer is cut (at a character
/// boundary): a pasted megabyte must not be matched against every span on
/// every keystroke, nor end up in the URL fragment.
pub const MAX_QUERY_CHARS: usize = 200;

/// The filter and what could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub filter: SpanFilter,
    pub notes: Vec<String>,
}

/// Reads the filter box's text.
pub fn parse_query(text: &str) -> ParsedQuery {
    let text = truncate_chars(text, MAX_QUERY_CHARS);
    let mut parsed = ParsedQuery::default();
    let mut name_words: Vec<&str> = Vec::new();
    for word in text.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if let Some(service) = strip_prefix_ignore_case(word, "service:") {
            if !service.is_empty() {
                parsed.filter.service = Some(service.to_owned());
                continue;
            }
        } else if let Some(attribute) = strip_prefix_ignore_case(word, "attr:") {
            if !attribute.is_empty() {
                parsed.filter.attribute_contains = Some(attribute.to_owned());
                continue;
            }
        } else if lower == "error" || lower == "is:error" {
            parsed.filter.errors_only = true;
            continue;
        } else if let Some(duration) = word.strip_prefix('>') {
            match parse_duration_nanos(duration) {
                Some(nanos) => {
                    parsed.filter.min_duration_nanos = Some(nanos);
                    continue;
                }
                None => parsed.notes.push(format!(
                    "“{word}” is not a duration such as >5ms; searched for in span names instead."
                )),
            }
        }
        name_words.push(word);
    }
    if !name_words.is_empty() {
        parsed.filter.name_contains = Some(name_words.join(" "));
    }
    parsed
}

/// The first `max_chars` characters of `text`.
pub fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((byte_idx, _)) => &text[..byte_idx],
        None => text,
    }
}

fn strip_prefix_ignore_case<'a>(word: &'a str, prefix: &str) -> Option<&'a str> {
    let head = word.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &word[prefix.len()..])
}

/// `5ms`, `1.5s`, `200us`, `200µs`, `800ns` as nanoseconds.
///
/// Read with integers, digit by digit: exact for every decimal a person
/// types (`0.1s` is 100,000,000 ns, not one less), digits past the
/// nanosecond are dropped, and a value past `u64::MAX` ns (584 years) is
/// clamped to it. Parsing through `f64` would be less exact and would put
/// the standard library's float parser and its 10 KB table into the browser
/// bundle for this one box.
pub fn parse_duration_nanos(text: &str) -> Option<u64> {
    let unit_start = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_start);
    let unit_nanos: u64 = match unit.to_ascii_lowercase().as_str() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    // At least one digit, and one dot at most (the split took the first).
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
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
        assert_eq!(parsed.filter.service.as_deref(), Some("Bands-API"));
        assert_eq!(parsed.filter.attribute_contains.as_deref(), Some("503"));
        assert!(parsed.filter.errors_only);
        assert_eq!(parsed.filter.min_duration_nanos, Some(1_500_000));
        assert_eq!(parsed.filter.name_contains.as_deref(), Some("GET /bands"));
        assert!(parsed.notes.is_empty());
    }

    #[test]
    fn an_unreadable_duration_is_searched_as_text_with_a_note() {
        let parsed = parse_query(">5parsecs");
        assert_eq!(parsed.filter.name_contains.as_deref(), Some(">5parsecs"));
        assert_eq!(parsed.notes.len(), 1);
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
