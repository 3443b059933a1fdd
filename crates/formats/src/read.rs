//! What every importer shares: reading fields of a `serde_json::Value` with
//! errors that name the path, ids in hex or base64, and the capped problem
//! list. (Grouping spans into traces is `tracelab_trace::group`.)

use serde_json::{Map, Value};
use tracelab_trace::model::{SpanId, TraceId};

use crate::base64;
use crate::path::Path;
use crate::{Dropped, Problem, MAX_PROBLEMS};

/// A field that could not be read: where, and which rule it broke.
#[derive(Debug)]
pub(crate) struct FieldError {
    pub(crate) path: String,
    pub(crate) message: String,
}

impl FieldError {
    pub(crate) fn new(path: &Path, message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.render(),
            message: message.into(),
        }
    }
}

/// The problems of one import: every one is counted, the first
/// [`MAX_PROBLEMS`] are kept, so a file broken in a million places still
/// yields a short list.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    pub(crate) list: Vec<Problem>,
    pub(crate) total: usize,
}

impl Problems {
    pub(crate) fn push(&mut self, error: FieldError, dropped: Dropped) {
        self.total += 1;
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem {
                path: error.path,
                message: error.message,
                dropped,
            });
        }
    }

    pub(crate) fn at(&mut self, path: &Path, message: impl Into<String>, dropped: Dropped) {
        self.push(FieldError::new(path, message), dropped);
    }
}

/// What a value is, for "expected …, found …" messages (the value itself is
/// quoted only when short, so a message stays one line).
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(value) => format!("{value}"),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) if text.chars().count() <= 40 => format!("the string {text:?}"),
        Value::String(text) => format!("a string of {} characters", text.chars().count()),
        Value::Array(items) => format!("an array of {}", items.len()),
        Value::Object(_) => "an object".to_string(),
    }
}

pub(crate) fn object<'v>(
    value: &'v Value,
    path: &Path,
) -> Result<&'v Map<String, Value>, FieldError> {
    value.as_object().ok_or_else(|| {
        FieldError::new(
            path,
            format!("expected an object, found {}", describe(value)),
        )
    })
}

/// A field's value; `null` reads as absent, as protobuf's JSON mapping says.
pub(crate) fn get<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).filter(|value| !value.is_null())
}

/// The first of `names` that is present (OTLP's JSON mapping allows the
/// proto field name beside the lowerCamelCase one, and older OTLP versions
/// used other names).
pub(crate) fn get_any<'v, 'n>(
    object: &'v Map<String, Value>,
    names: &[&'n str],
) -> Option<(&'n str, &'v Value)> {
    names
        .iter()
        .find_map(|name| get(object, name).map(|value| (*name, value)))
}

/// An array field; absent reads as empty.
pub(crate) fn array<'v>(
    object: &'v Map<String, Value>,
    name: &str,
    path: &Path,
) -> Result<&'v [Value], FieldError> {
    match get(object, name) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(FieldError::new(
            &path.field(name),
            format!("expected an array, found {}", describe(other)),
        )),
    }
}

/// A string field; absent reads as empty.
pub(crate) fn string<'v>(
    object: &'v Map<String, Value>,
    name: &str,
    path: &Path,
) -> Result<&'v str, FieldError> {
    match get(object, name) {
        None => Ok(""),
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(FieldError::new(
            &path.field(name),
            format!("expected a string, found {}", describe(other)),
        )),
    }
}

/// An unsigned 64-bit integer, as a JSON number or a decimal string (the
/// protobuf JSON mapping writes 64-bit integers as strings, since
/// JavaScript's numbers cannot hold them).
pub(crate) fn u64_value(value: &Value, path: &Path) -> Result<u64, FieldError> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse::<u64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| {
        FieldError::new(
            path,
            format!(
                "expected an unsigned 64-bit integer (a number or a decimal string), found {}",
                describe(value)
            ),
        )
    })
}

/// A signed 64-bit integer, as a JSON number or a decimal string.
pub(crate) fn i64_value(value: &Value, path: &Path) -> Result<i64, FieldError> {
    let parsed = match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.parse::<i64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| {
        FieldError::new(
            path,
            format!(
                "expected a signed 64-bit integer (a number or a decimal string), found {}",
                describe(value)
            ),
        )
    })
}

/// An optional `u64` field; absent reads as 0 (protobuf's default).
pub(crate) fn u64_field(
    object: &Map<String, Value>,
    name: &str,
    path: &Path,
) -> Result<u64, FieldError> {
    match get(object, name) {
        None => Ok(0),
        Some(value) => u64_value(value, &path.field(name)),
    }
}

/// How a format writes its ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdText {
    /// Exactly two hex digits per byte, in any case (OTLP JSON); base64 of
    /// the right length is taken too, since protobuf's generic JSON mapping
    /// (Tempo, some api_v3 versions) writes ids that way.
    Exact,
    /// Base64 first (Tempo), hex of the exact length taken too.
    Base64,
    /// Hex with leading zeros dropped (Jaeger writes `%x`; Zipkin allows a
    /// 64-bit trace id): up to two digits per byte, padded on the left.
    LeftPadded,
}

fn hex_digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Reads an id of `N` bytes. The message says what was found and what was
/// expected (`30 hex digits, expected 32`).
pub(crate) fn id_bytes<const N: usize>(text: &str, how: IdText) -> Result<[u8; N], String> {
    let n_digits = 2 * N;
    let all_hex = text.bytes().all(|byte| hex_digit(byte).is_some());
    let hex_fits = match how {
        IdText::Exact | IdText::Base64 => text.len() == n_digits,
        IdText::LeftPadded => !text.is_empty() && text.len() <= n_digits,
    };
    if text.is_empty() {
        return Err(format!("empty, expected {n_digits} hex digits"));
    }
    if all_hex && hex_fits {
        let mut bytes = [0u8; N];
        // Right-align: a short Jaeger id lost its leading zeros.
        let padding = n_digits - text.len();
        for (position, byte) in text.bytes().enumerate() {
            let digit = hex_digit(byte).unwrap_or(0);
            let nibble = padding + position;
            bytes[nibble / 2] |= if nibble.is_multiple_of(2) {
                digit << 4
            } else {
                digit
            };
        }
        return Ok(bytes);
    }
    // Not hex of the right length: base64 of the right length is the other
    // way a protobuf JSON writer spells bytes.
    if let Ok(decoded) = base64::decode(text) {
        if let Ok(bytes) = <[u8; N]>::try_from(decoded.as_slice()) {
            return Ok(bytes);
        }
        // Text of the hex length was meant as hex: say which digit is wrong.
        if how == IdText::Base64 || (!all_hex && text.len() != n_digits) {
            return Err(format!("base64 of {} bytes, expected {N}", decoded.len()));
        }
    }
    if all_hex {
        return Err(match how {
            IdText::LeftPadded => format!("{} hex digits, expected at most {n_digits}", text.len()),
            _ => format!("{} hex digits, expected {n_digits}", text.len()),
        });
    }
    let (position, bad) = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii_hexdigit())
        .unwrap_or((0, '?'));
    Err(format!(
        "neither hex nor base64: {bad:?} at position {position}, expected {n_digits} hex digits"
    ))
}

/// A trace id field; required and not all zeros.
pub(crate) fn trace_id(
    object: &Map<String, Value>,
    name: &str,
    path: &Path,
    how: IdText,
) -> Result<TraceId, FieldError> {
    let text = string(object, name, path)?;
    let id = TraceId(
        id_bytes::<16>(text, how).map_err(|message| FieldError::new(&path.field(name), message))?,
    );
    if id.is_zero() {
        return Err(FieldError::new(
            &path.field(name),
            "all zeros, which no trace can have",
        ));
    }
    Ok(id)
}

/// A span id field; required and not all zeros.
pub(crate) fn span_id(
    object: &Map<String, Value>,
    name: &str,
    path: &Path,
    how: IdText,
) -> Result<SpanId, FieldError> {
    let text = string(object, name, path)?;
    let id = SpanId(
        id_bytes::<8>(text, how).map_err(|message| FieldError::new(&path.field(name), message))?,
    );
    if id.is_zero() {
        return Err(FieldError::new(
            &path.field(name),
            "all zeros, which no span can have",
        ));
    }
    Ok(id)
}

/// A parent span id field: absent, empty or all zeros is a root.
pub(crate) fn parent_span_id(
    object: &Map<String, Value>,
    name: &str,
    path: &Path,
    how: IdText,
) -> Result<Option<SpanId>, FieldError> {
    let text = string(object, name, path)?;
    if text.is_empty() {
        return Ok(None);
    }
    let id = SpanId(
        id_bytes::<8>(text, how).map_err(|message| FieldError::new(&path.field(name), message))?,
    );
    Ok((!id.is_zero()).then_some(id))
}

/// Microseconds (Jaeger, Zipkin) to the model's nanoseconds.
pub(crate) fn micros_to_nanos(micros: u64, path: &Path) -> Result<u64, FieldError> {
    micros.checked_mul(1000).ok_or_else(|| {
        FieldError::new(
            path,
            format!("{micros} microseconds is past what 64-bit nanoseconds hold (the year 2554)"),
        )
    })
}
