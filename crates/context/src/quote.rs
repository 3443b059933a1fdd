//! Text quoted in messages as a person reads it.
//!
//! Rust's `escape_debug` writes `'\"00'` for a pasted `"00` and `'\u{a0}00'`
//! for a leading no-break space: escapes a person has to decode. Here the
//! text is quoted as it is, and each character that cannot be seen is taken
//! out of the quotes and named beside them, with its code point and where it
//! stands: `'00' (a no-break space, U+00A0, before 00)`.

/// At most this many characters of a text are quoted.
const MAX_QUOTED: usize = 24;
/// At most this many runs of invisible characters are named.
const MAX_NAMED: usize = 3;

/// What an invisible character is called ("a no-break space"), or `None`
/// for one that shows. A plain space shows between the quotes.
///
/// A short list rather than Unicode's tables: these are the characters that
/// reach a pasted header (from word processors, chat apps and web pages).
pub fn invisible_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\t' => "a tab",
        '\n' => "a line feed",
        '\r' => "a carriage return",
        '\u{a0}' => "a no-break space",
        '\u{ad}' => "a soft hyphen",
        '\u{2000}'..='\u{200a}' | '\u{205f}' => "a typographic space",
        '\u{200b}' => "a zero-width space",
        '\u{200c}' | '\u{200d}' | '\u{2060}' => "a zero-width joiner",
        '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            "a text direction mark"
        }
        '\u{2028}' | '\u{2029}' => "a line separator",
        '\u{202f}' => "a narrow no-break space",
        '\u{3000}' => "an ideographic space",
        '\u{fe00}'..='\u{fe0f}' => "a variation selector",
        '\u{feff}' => "a byte order mark",
        c if c.is_control() => "a control character",
        _ => return None,
    })
}

/// `text` quoted for a message: `'text'`, cut to 24 characters with `…`,
/// any invisible character left out of the quotes and named after them.
/// Text that is only invisible characters is named without quotes.
///
/// ```
/// use tracelab_context::quote::quoted;
/// assert_eq!(quoted("\"00"), "'\"00'");
/// assert_eq!(quoted("\u{a0}00"), "'00' (a no-break space, U+00A0, before 00)");
/// assert_eq!(quoted("\t"), "a tab, U+0009");
/// ```
pub fn quoted(text: &str) -> String {
    let mut shown = String::new();
    // Each run of one invisible character: (name, code point, count, the
    // visible text before it).
    let mut runs: Vec<(&'static str, u32, usize, usize)> = Vec::new();
    let mut more = 0;
    for (i, c) in text.chars().enumerate() {
        if i == MAX_QUOTED {
            shown.push('…');
            break;
        }
        let Some(name) = invisible_name(c) else {
            shown.push(c);
            continue;
        };
        let full = runs.len() == MAX_NAMED;
        match runs.last_mut() {
            Some(last) if last.1 == c as u32 && last.3 == shown.len() => last.2 += 1,
            _ if full => more += 1,
            _ => runs.push((name, c as u32, 1, shown.len())),
        }
    }
    if runs.is_empty() {
        return format!("'{shown}'");
    }
    let mut names = Vec::with_capacity(runs.len() + 1);
    for &(name, code, count, at) in &runs {
        let what = if count == 1 {
            name.to_owned()
        } else {
            // "a tab" → "2 tabs": every name starts with "a " or "an ".
            let bare = name.split_once(' ').map_or(name, |(_, rest)| rest);
            format!("{count} {bare}s")
        };
        let place = if at < shown.len() {
            format!(", before {}", head(&shown[at..]))
        } else if at > 0 {
            format!(", after {}", tail(&shown[..at]))
        } else {
            String::new()
        };
        names.push(format!("{what}, U+{code:04X}{place}"));
    }
    if more > 0 {
        names.push(format!(
            "{more} more invisible character{}",
            if more == 1 { "" } else { "s" }
        ));
    }
    if shown.is_empty() {
        names.join("; ")
    } else {
        format!("'{shown}' ({})", names.join("; "))
    }
}

/// The first few characters of `text`, to say where something stands.
fn head(text: &str) -> &str {
    match text.char_indices().nth(8) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// The last few characters of `text`.
fn tail(text: &str) -> &str {
    let n = text.chars().count();
    match text.char_indices().nth(n.saturating_sub(8)) {
        Some((i, _)) => &text[i..],
        None => text,
    }
}

/// `n` and the noun, singular or plural: `1 member`, `2 members`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text_is_quoted_as_it_is() {
        assert_eq!(quoted("\"00"), "'\"00'");
        assert_eq!(quoted("it's"), "'it's'");
        assert_eq!(quoted("é🙂"), "'é🙂'");
        assert_eq!(quoted(&"a".repeat(30)), format!("'{}…'", "a".repeat(24)));
    }

    #[test]
    fn invisible_characters_are_named_with_where_they_stand() {
        assert_eq!(
            quoted("\u{a0}00"),
            "'00' (a no-break space, U+00A0, before 00)"
        );
        assert_eq!(
            quoted("01\u{200b}"),
            "'01' (a zero-width space, U+200B, after 01)"
        );
        assert_eq!(quoted("\t\t"), "2 tabs, U+0009");
        assert_eq!(
            quoted("\u{1b}[31m"),
            "'[31m' (a control character, U+001B, before [31m)"
        );
        assert_eq!(
            quoted("\u{feff}a\u{a0}b\tc\rd\ne"),
            "'abcde' (a byte order mark, U+FEFF, before abcde; a no-break space, U+00A0, before bcde; a tab, U+0009, before cde; 2 more invisible characters)"
        );
    }

    #[test]
    fn no_control_character_reaches_a_message() {
        let all: String = (0u32..0x3100).filter_map(char::from_u32).collect();
        assert!(!quoted(&all).chars().any(char::is_control));
        for c in (0u32..0x3100).filter_map(char::from_u32) {
            assert!(
                !quoted(&c.to_string()).chars().any(char::is_control),
                "{c:?}"
            );
        }
    }
}
