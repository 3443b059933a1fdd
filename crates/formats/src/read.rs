//! What every importer shares: reading the typed fields of [`crate::raw`]
//! with errors that name the path, ids in hex or base64, and the capped problem
//! list. (Grouping spans into traces is `tracelab_trace::group`.)

use std::collections::HashSet;
use std::sync::Arc;

use tracelab_trace::model::{SpanId, TraceId};

use crate::base64;
use crate::path::Path;
use crate::raw::{Field, Found, List, Scalar};
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

    /// Adds the problems of `other`, met after these.
    pub(crate) fn append(&mut self, other: Problems) {
        let uncounted = other.total - other.list.len();
        for problem in other.list {
            self.total += 1;
            if self.list.len() < MAX_PROBLEMS {
                self.list.push(problem);
            }
        }
        self.total += uncounted;
    }

    pub(crate) fn at(&mut self, path: &Path, message: impl Into<String>, dropped: Dropped) {
        self.push(FieldError::new(path, message), dropped);
    }
}

/// What an import keeps while it reads: the problems, and the strings it
/// shares.
#[derive(Default)]
pub(crate) struct Reader {
    pub(crate) problems: Problems,
    pub(crate) strings: Strings,
}

/// Names a file repeats on every span (attribute keys, span and event
/// names), each allocated once per import and shared by every span that
/// has it: a lookup costs less than an allocation and its free, and the
/// model is smaller. (std's hasher, like the grouping's maps: keys chosen
/// to collide cannot make the work quadratic where it is seeded.)
#[derive(Default)]
pub(crate) struct Strings {
    shared: HashSet<Arc<str>>,
}

impl Strings {
    pub(crate) fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.shared.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        // A file of unique names must not grow the set without bound.
        if self.shared.len() < 1 << 16 {
            self.shared.insert(shared.clone());
        }
        shared
    }
}

/// A value that must be an object (an element of a list, or a field that
/// is there): the error says what was found instead.
pub(crate) fn object<'a, T>(field: &'a Field<'_, T>, path: &Path) -> Result<&'a T, FieldError> {
    field.get().map_err(|found| {
        FieldError::new(
            path,
            format!("expected an object, found {}", found.describe()),
        )
    })
}

/// An optional object field: absent is `None`.
pub(crate) fn optional_object<'a, T>(
    field: &'a Field<'_, T>,
    name: &str,
    path: &Path,
) -> Result<Option<&'a T>, FieldError> {
    match field {
        Field::Absent => Ok(None),
        _ => object(field, &path.field(name)).map(Some),
    }
}

/// An array field; absent reads as empty.
pub(crate) fn array<'a, 'de, T>(
    field: &'a Field<'de, List<'de, T>>,
    name: &str,
    path: &Path,
) -> Result<&'a [Field<'de, T>], FieldError> {
    match field {
        Field::Absent => Ok(&[]),
        Field::Ok(items) => Ok(items),
        Field::Bad(found) => Err(FieldError::new(
            &path.field(name),
            format!("expected an array, found {}", found.describe()),
        )),
    }
}

/// What a scalar field holds; `None` when absent.
pub(crate) fn found<'a, 'de>(field: &'a Scalar<'de>) -> Option<&'a Found<'de>> {
    match field {
        Field::Absent => None,
        Field::Ok(found) => Some(found),
        Field::Bad(found) => Some(found),
    }
}

/// A string field; absent reads as empty.
pub(crate) fn string<'a>(
    field: &'a Scalar<'_>,
    name: &str,
    path: &Path,
) -> Result<&'a str, FieldError> {
    match found(field) {
        None => Ok(""),
        Some(Found::Str(text)) => Ok(text),
        Some(other) => Err(FieldError::new(
            &path.field(name),
            format!("expected a string, found {}", other.describe()),
        )),
    }
}

/// An unsigned 64-bit integer field (a number or a decimal string);
/// absent reads as 0 (protobuf's default).
pub(crate) fn u64_field(field: &Scalar<'_>, name: &str, path: &Path) -> Result<u64, FieldError> {
    match found(field) {
        None => Ok(0),
        Some(value) => value.as_u64().ok_or_else(|| {
            FieldError::new(
                &path.field(name),
                format!(
                    "expected an unsigned 64-bit integer (a number or a decimal string), found {}",
                    value.describe()
                ),
            )
        }),
    }
}

/// The message for a value that is not a signed 64-bit integer.
pub(crate) fn not_i64(found: &Found<'_>) -> String {
    format!(
        "expected a signed 64-bit integer (a number or a decimal string), found {}",
        found.describe()
    )
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
    field: &Scalar<'_>,
    name: &str,
    path: &Path,
    how: IdText,
) -> Result<TraceId, FieldError> {
    let text = string(field, name, path)?;
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
    field: &Scalar<'_>,
    name: &str,
    path: &Path,
    how: IdText,
) -> Result<SpanId, FieldError> {
    let text = string(field, name, path)?;
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
    field: &Scalar<'_>,
    name: &str,
    path: &Path,
    how: IdText,
) -> Result<Option<SpanId>, FieldError> {
    let text = string(field, name, path)?;
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
