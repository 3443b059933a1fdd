//! Attribute values as text, and the small encodings the store needs (hex
//! ids, base64 bytes, a stable hash).
//!
//! OTLP values nest arbitrarily deep (arrays of key-value lists of arrays
//! …). Nothing here recurses: every walk keeps an explicit stack, so a
//! value nested 100,000 deep is rendered like any other, in memory
//! proportional to its size.

use std::fmt::Write as _;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::AnyValue;

/// The deepest nesting of arrays and key-value lists the store accepts in
/// one attribute value (or log body).
///
/// Why a cap at all: prost decodes at most 100 nested messages, and each
/// level of an array costs two (the `ArrayValue` and the `AnyValue` in it),
/// so a deeper value could be written but never read back. 32 levels leave
/// room for the span, event or data point around the value.
pub const MAX_VALUE_NESTING: usize = 32;

/// An empty value, what a key-value pair without a value stands for.
static EMPTY: AnyValue = AnyValue { value: None };

/// How deeply arrays and key-value lists nest in `value` (a scalar is 0, an
/// array of scalars 1), counting no further than `MAX_VALUE_NESTING + 1`.
/// Walks with an explicit stack.
pub(crate) fn nesting(value: &AnyValue) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&AnyValue, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        if deepest > MAX_VALUE_NESTING {
            break;
        }
        match &value.value {
            Some(Value::ArrayValue(array)) => {
                deepest = deepest.max(depth + 1);
                stack.extend(array.values.iter().map(|item| (item, depth + 1)));
            }
            Some(Value::KvlistValue(list)) => {
                deepest = deepest.max(depth + 1);
                stack.extend(
                    list.values
                        .iter()
                        .map(|pair| (pair.value.as_ref().unwrap_or(&EMPTY), depth + 1)),
                );
            }
            _ => {}
        }
    }
    deepest
}

/// `Err` says that `value` (at `field`) is nested too deeply to store.
pub(crate) fn check_value(field: &str, value: &AnyValue) -> Result<(), String> {
    if nesting(value) > MAX_VALUE_NESTING {
        return Err(too_deep(field));
    }
    Ok(())
}

fn too_deep(field: &str) -> String {
    format!(
        "{field}: arrays and key-value lists nested more than {MAX_VALUE_NESTING} deep, \
         more than the store can read back"
    )
}

/// A value as JSON text: strings quoted, numbers and booleans bare, bytes as
/// base64 strings, arrays as JSON arrays, key-value lists as JSON objects
/// (keys in their order, duplicates kept), an empty value as `null`. A
/// double that JSON cannot hold (NaN, ±infinity) becomes the string `"NaN"`,
/// `"Infinity"` or `"-Infinity"`.
///
/// This is how Jaeger shows an array or map attribute (as a string tag
/// holding JSON). Walks with an explicit stack, so any depth is fine.
pub fn value_to_json(value: &AnyValue) -> String {
    enum Step<'a> {
        Value(&'a AnyValue),
        Key(&'a str),
        Text(&'static str),
    }
    let mut out = String::new();
    let mut stack = vec![Step::Value(value)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Text(text) => out.push_str(text),
            Step::Key(key) => {
                push_json_string(&mut out, key);
                out.push(':');
            }
            Step::Value(value) => match &value.value {
                None | Some(Value::StringValueStrindex(_)) => out.push_str("null"),
                Some(Value::StringValue(text)) => push_json_string(&mut out, text),
                Some(Value::BoolValue(flag)) => out.push_str(if *flag { "true" } else { "false" }),
                Some(Value::IntValue(number)) => {
                    let _ = write!(out, "{number}");
                }
                Some(Value::DoubleValue(number)) => match serde_json::Number::from_f64(*number) {
                    Some(number) => {
                        let _ = write!(out, "{number}");
                    }
                    None => push_json_string(&mut out, &non_finite_name(*number)),
                },
                Some(Value::BytesValue(bytes)) => push_json_string(&mut out, &base64(bytes)),
                Some(Value::ArrayValue(array)) => {
                    out.push('[');
                    stack.push(Step::Text("]"));
                    for (idx, item) in array.values.iter().enumerate().rev() {
                        stack.push(Step::Value(item));
                        if idx > 0 {
                            stack.push(Step::Text(","));
                        }
                    }
                }
                Some(Value::KvlistValue(list)) => {
                    out.push('{');
                    stack.push(Step::Text("}"));
                    for (idx, pair) in list.values.iter().enumerate().rev() {
                        stack.push(Step::Value(pair.value.as_ref().unwrap_or(&EMPTY)));
                        stack.push(Step::Key(&pair.key));
                        if idx > 0 {
                            stack.push(Step::Text(","));
                        }
                    }
                }
            },
        }
    }
    out
}

/// A value as the text a tag search compares with: a string as itself,
/// `true`/`false`, an integer in decimal, a double as Rust prints it
/// (`0.5`, `1`), bytes in base64 (as Jaeger shows them), an empty value as
/// the empty string, and arrays and key-value lists as [`value_to_json`].
pub fn value_to_text(value: &AnyValue) -> String {
    match &value.value {
        None | Some(Value::StringValueStrindex(_)) => String::new(),
        Some(Value::StringValue(text)) => text.clone(),
        Some(Value::BoolValue(flag)) => flag.to_string(),
        Some(Value::IntValue(number)) => number.to_string(),
        Some(Value::DoubleValue(number)) if number.is_finite() => number.to_string(),
        Some(Value::DoubleValue(number)) => non_finite_name(*number),
        Some(Value::BytesValue(bytes)) => base64(bytes),
        Some(Value::ArrayValue(_) | Value::KvlistValue(_)) => value_to_json(value),
    }
}

/// Attribute values longer than this are indexed by their hash.
const INDEXED_TEXT_MAX: usize = 64;

/// What the attribute index holds for a value's text (and what a tag
/// search looks up): the text itself, or for text longer than 64 bytes a
/// marker and its 64-bit hash. Long values (payloads, stack traces, SQL)
/// would otherwise be stored twice more, in the table and in its index;
/// measured on 2 KB attributes, the index took more than the spans. A
/// search for a long value still matches exactly, save for a 1 in 2^64
/// chance of a hash collision adding a trace.
pub(crate) fn index_text(text: String) -> String {
    if text.len() <= INDEXED_TEXT_MAX {
        return text;
    }
    format!("\u{1}fnv1a:{:016x}", fnv1a(&[text.as_bytes()]) as u64)
}

/// What the tag index holds for an attribute whose value reads `text`:
/// FNV-1a of the key and [`index_text`] of the text. A tag search looks up
/// the same hash, so it finds exactly the spans whose attribute has that key
/// and text, save for a 1 in 2^64 chance of a hash collision adding a
/// trace (the chance the index already took for values over 64 bytes).
pub(crate) fn tag_hash(key: &str, text: &str) -> i64 {
    if text.len() <= INDEXED_TEXT_MAX {
        fnv1a(&[key.as_bytes(), text.as_bytes()])
    } else {
        fnv1a(&[key.as_bytes(), index_text(text.to_owned()).as_bytes()])
    }
}

/// [`tag_hash`] of an attribute, without copying a string value.
pub(crate) fn attribute_tag_hash(key: &str, value: Option<&AnyValue>) -> i64 {
    match value.and_then(|value| value.value.as_ref()) {
        Some(Value::StringValue(text)) => tag_hash(key, text),
        _ => tag_hash(key, &value.map(value_to_text).unwrap_or_default()),
    }
}

fn non_finite_name(number: f64) -> String {
    if number.is_nan() {
        "NaN".to_owned()
    } else if number > 0.0 {
        "Infinity".to_owned()
    } else {
        "-Infinity".to_owned()
    }
}

/// Appends `text` as a JSON string literal.
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if u32::from(ch) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(ch));
            }
            ch => out.push(ch),
        }
    }
    out.push('"');
}

/// Lowercase hex, as trace and span ids are written.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Standard base64 with padding, as Go's `encoding/json` writes `[]byte`
/// (and so as Jaeger writes a binary tag).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let triple = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for (idx, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if idx <= chunk.len() {
                out.push(char::from(ALPHABET[((triple >> shift) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// 64-bit FNV-1a over several byte strings, each followed by a separator
/// byte so that `("ab", "c")` and `("a", "bc")` differ. Stable across
/// builds and platforms (unlike `std`'s hasher), because the hashes are
/// stored. A hash only narrows a lookup; the store compares the bytes too,
/// so a collision costs a comparison, never a wrong match.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(std::iter::once(&0xff)) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    // Stored as SQLite's signed integer; only equality matters.
    hash as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValue, KeyValueList};

    fn string(text: &str) -> AnyValue {
        AnyValue {
            value: Some(Value::StringValue(text.to_owned())),
        }
    }

    fn array(values: Vec<AnyValue>) -> AnyValue {
        AnyValue {
            value: Some(Value::ArrayValue(ArrayValue { values })),
        }
    }

    /// An array nested `depth` deep around a string, built without recursion.
    fn nested(depth: usize) -> AnyValue {
        let mut value = string("x");
        for _ in 0..depth {
            value = array(vec![value]);
        }
        value
    }

    #[test]
    fn json_of_every_kind() {
        let value = AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![
                    KeyValue {
                        key: "s".into(),
                        value: Some(string("a\"b\n")),
                        key_strindex: 0,
                    },
                    KeyValue {
                        key: "b".into(),
                        value: Some(AnyValue {
                            value: Some(Value::BoolValue(true)),
                        }),
                        key_strindex: 0,
                    },
                    KeyValue {
                        key: "i".into(),
                        value: Some(AnyValue {
                            value: Some(Value::IntValue(-7)),
                        }),
                        key_strindex: 0,
                    },
                    KeyValue {
                        key: "d".into(),
                        value: Some(AnyValue {
                            value: Some(Value::DoubleValue(1.5)),
                        }),
                        key_strindex: 0,
                    },
                    KeyValue {
                        key: "nan".into(),
                        value: Some(AnyValue {
                            value: Some(Value::DoubleValue(f64::NAN)),
                        }),
                        key_strindex: 0,
                    },
                    KeyValue {
                        key: "bytes".into(),
                        value: Some(AnyValue {
                            value: Some(Value::BytesValue(vec![0, 0, 48, 57])),
                        }),
                        key_strindex: 0,
                    },
                    KeyValue {
                        key: "a".into(),
                        value: Some(array(vec![string("x"), array(vec![])])),
                        key_strindex: 0,
                    },
                    KeyValue {
                        key: "none".into(),
                        value: None,
                        key_strindex: 0,
                    },
                ],
            })),
        };
        let json = value_to_json(&value);
        assert_eq!(
            json,
            r#"{"s":"a\"b\n","b":true,"i":-7,"d":1.5,"nan":"NaN","bytes":"AAAwOQ==","a":["x",[]],"none":null}"#
        );
        // It is JSON, as Jaeger's array tags are.
        assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
    }

    #[test]
    fn deep_values_render_without_recursion_and_are_measured() {
        // Dropping a 100,000-deep value recurses in prost's generated Drop;
        // never drop it, so the test thread's stack is not what is tested.
        let deep = std::mem::ManuallyDrop::new(nested(100_000));
        let json = value_to_json(&deep);
        assert_eq!(json.len(), 100_000 * 2 + 3);
        assert_eq!(
            json,
            format!("{}\"x\"{}", "[".repeat(100_000), "]".repeat(100_000))
        );
        assert_eq!(nesting(&deep), MAX_VALUE_NESTING + 1);
        assert_eq!(nesting(&nested(0)), 0);
        assert_eq!(nesting(&nested(3)), 3);
        assert!(check_value("v", &nested(MAX_VALUE_NESTING)).is_ok());
        let err = check_value("attributes[0].value", &nested(MAX_VALUE_NESTING + 1)).unwrap_err();
        assert!(
            err.starts_with("attributes[0].value: arrays and key-value lists nested more than 32")
        );
    }

    #[test]
    fn base64_matches_go() {
        // Go: base64.StdEncoding.EncodeToString(...)
        let cases: [(&[u8], &str); 5] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
        ];
        for (bytes, expected) in cases {
            assert_eq!(base64(bytes), expected);
        }
    }

    #[test]
    fn long_texts_are_indexed_by_hash() {
        assert_eq!(index_text("short".into()), "short");
        let long = "x".repeat(65);
        let key = index_text(long.clone());
        assert!(key.starts_with("\u{1}fnv1a:") && key.len() == 23, "{key:?}");
        assert_eq!(index_text(long), key);
        assert_ne!(index_text("y".repeat(65)), key);
    }

    #[test]
    fn tags_hash_the_text_a_search_compares_with() {
        let int = AnyValue {
            value: Some(Value::IntValue(200)),
        };
        assert_eq!(
            attribute_tag_hash("code", Some(&int)),
            tag_hash("code", "200")
        );
        assert_eq!(
            attribute_tag_hash("route", Some(&string("/a"))),
            tag_hash("route", "/a")
        );
        assert_eq!(attribute_tag_hash("empty", None), tag_hash("empty", ""));
        // Key and text are kept apart.
        assert_ne!(tag_hash("ab", "c"), tag_hash("a", "bc"));
        // A long text hashes as its index text, so a store migrated from
        // rows holding that index text finds the same spans.
        let long = "x".repeat(65);
        assert_eq!(
            tag_hash("k", &long),
            tag_hash("k", &index_text(long.clone()))
        );
        assert_ne!(tag_hash("k", &long), tag_hash("k", &"x".repeat(66)));
    }

    #[test]
    fn hex_and_hash() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
        assert_eq!(fnv1a(&[b"abc"]), fnv1a(&[b"abc"]));
    }
}
