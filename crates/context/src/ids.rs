//! Trace ids, span ids and trace flags: the fixed-size values a `traceparent`
//! carries, their lowercase-hex form, and where new ones come from.

use std::fmt;

/// A 16-byte trace id. The all-zero id is invalid (W3C Trace Context
/// §3.2.2.3), so no `TraceId` is ever zero: the field is private and every
/// way to make one ([`TraceId::from_bytes`], [`TraceId::from_hex`],
/// [`TraceId::random`]) checks it.
///
/// ```
/// use tracelab_context::TraceId;
/// assert!(TraceId::from_bytes([0; 16]).is_none());
/// assert!(TraceId::from_hex("00000000000000000000000000000000").is_none());
/// ```
///
/// Building one around any bytes does not compile:
///
/// ```compile_fail
/// let zero = tracelab_context::TraceId([0; 16]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId([u8; 16]);

/// An 8-byte span id, sent as the `parent-id` of a `traceparent`. The all-zero
/// id is invalid (W3C Trace Context §3.2.2.4), so no `SpanId` is ever zero,
/// as for [`TraceId`].
///
/// ```compile_fail
/// let zero = tracelab_context::SpanId([0; 8]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId([u8; 8]);

/// The 8 bits of `trace-flags`, kept whole: bits this crate does not name are
/// preserved on parse and shown as unknown, and dropped only when a receiver
/// builds the header it sends on (W3C Trace Context §3.2.2.5.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TraceFlags(pub u8);

impl TraceFlags {
    /// Bit 0: the caller may have recorded trace data (§3.2.2.5.1).
    pub const SAMPLED: u8 = 0x01;
    /// Bit 1: the trace-id's rightmost 7 bytes are random (Level 2, §3.2.2.5.2).
    pub const RANDOM: u8 = 0x02;
    /// The bits this version of the spec defines.
    pub const KNOWN: u8 = Self::SAMPLED | Self::RANDOM;

    pub fn sampled(self) -> bool {
        self.0 & Self::SAMPLED != 0
    }
    pub fn random(self) -> bool {
        self.0 & Self::RANDOM != 0
    }
    /// The bits no published version of the spec defines.
    pub fn unknown_bits(self) -> u8 {
        self.0 & !Self::KNOWN
    }
    pub fn with_sampled(self, on: bool) -> Self {
        self.with_bit(Self::SAMPLED, on)
    }
    pub fn with_random(self, on: bool) -> Self {
        self.with_bit(Self::RANDOM, on)
    }
    fn with_bit(self, bit: u8, on: bool) -> Self {
        if on {
            TraceFlags(self.0 | bit)
        } else {
            TraceFlags(self.0 & !bit)
        }
    }
    /// The flags a receiver sends on: known bits kept, unknown bits zeroed.
    pub fn propagated(self) -> Self {
        TraceFlags(self.0 & Self::KNOWN)
    }
}

/// Writes bytes as lowercase hex, the only case W3C Trace Context allows.
pub(crate) fn write_hex(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        f.write_char(DIGITS[usize::from(b >> 4)] as char)?;
        f.write_char(DIGITS[usize::from(b & 0x0f)] as char)?;
    }
    Ok(())
}

/// Each byte's value as a lowercase hex digit, or `NOT_HEX`: a table, because
/// this sits on the hot path of every header parsed.
const NOT_HEX: u8 = 0xff;
const LOWER_HEX: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// The value of one lowercase hex digit, or `None` for anything else
/// (uppercase included: the spec's `HEXDIGLC` is lowercase only).
#[inline]
pub(crate) fn lower_hex_value(b: u8) -> Option<u8> {
    let v = LOWER_HEX[usize::from(b)];
    (v != NOT_HEX).then_some(v)
}

/// Decodes exactly `N` bytes from `2 * N` lowercase hex digits.
///
/// Ids are decoded eight digits at a time in a `u64` (SIMD within a
/// register): every request a service receives goes through here, and the
/// byte-by-byte table walk cost three times as much.
#[inline]
pub(crate) fn decode_lower_hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut chunks = text.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        out[at..at + 4].copy_from_slice(&decode_8_digits(u64::from_le_bytes(word))?);
        at += 4;
    }
    // What is left (the version and the flags: two digits) byte by byte.
    let mut bad = 0u8;
    for pair in chunks.remainder().chunks_exact(2) {
        let (hi, lo) = (
            LOWER_HEX[usize::from(pair[0])],
            LOWER_HEX[usize::from(pair[1])],
        );
        bad |= (hi | lo) & 0xf0;
        out[at] = (hi << 4) | (lo & 0x0f);
        at += 1;
    }
    (bad == 0).then_some(out)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` (all below 0x80) set when the byte
/// lies in `lo..=hi`. Below 0x80 the additions cannot carry between bytes.
#[inline]
fn bytes_in_range(word: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = word + ONES * u64::from(0x80 - lo);
    let above_hi = word + ONES * u64::from(0x7f - hi);
    at_least_lo & !above_hi & HIGH
}

/// Which kinds of byte a field that failed to decode holds: whether any is
/// neither a lowercase nor an uppercase hex digit, and where the uppercase
/// digits start and end. Eight bytes at a time, so that rejecting a header
/// costs about as little as accepting one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HexClasses {
    pub(crate) any_bad: bool,
    /// Byte offsets of the first and the last uppercase digit.
    pub(crate) upper: Option<(usize, usize)>,
}

pub(crate) fn hex_classes(text: &[u8]) -> HexClasses {
    let mut any_bad = false;
    let mut upper: Option<(usize, usize)> = None;
    for (chunk_idx, chunk) in text.chunks(8).enumerate() {
        // Pad a short chunk with '0', which is neither bad nor uppercase.
        let mut bytes = [b'0'; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        let word = u64::from_le_bytes(bytes);
        let non_ascii = word & HIGH;
        let ascii = word & !HIGH;
        let lower =
            (bytes_in_range(ascii, b'0', b'9') | bytes_in_range(ascii, b'a', b'f')) & !non_ascii;
        let upper_here = bytes_in_range(ascii, b'A', b'F') & !non_ascii;
        any_bad |= (lower | upper_here) != HIGH;
        if upper_here != 0 {
            let base = chunk_idx * 8;
            let first = base + upper_here.trailing_zeros() as usize / 8;
            let last = base + 7 - upper_here.leading_zeros() as usize / 8;
            upper = Some(upper.map_or((first, last), |(f, _)| (f, last)));
        }
    }
    HexClasses { any_bad, upper }
}

/// Eight lowercase hex digits (the first in the lowest byte) to four bytes.
#[inline]
fn decode_8_digits(word: u64) -> Option<[u8; 4]> {
    // Each byte below 0x80 (ASCII), so the range checks cannot carry from
    // one byte into the next.
    if word & HIGH != 0 {
        return None;
    }
    let digits = bytes_in_range(word, b'0', b'9');
    let letters = bytes_in_range(word, b'a', b'f');
    if digits | letters != HIGH {
        return None;
    }
    // '0'..'9' are 0x30..0x39 and 'a'..'f' 0x61..0x66: the low nibble, plus
    // 9 for a letter, is the digit's value.
    let nibbles = (word & (ONES * 0x0f)) + (letters >> 7) * 9;
    // Byte 2k holds the high nibble of output byte k, byte 2k+1 its low one.
    let high = nibbles & 0x00ff_00ff_00ff_00ff;
    let low = (nibbles >> 8) & 0x00ff_00ff_00ff_00ff;
    let pairs = (high << 4) | low;
    Some([
        pairs as u8,
        (pairs >> 16) as u8,
        (pairs >> 32) as u8,
        (pairs >> 48) as u8,
    ])
}

macro_rules! hex_id {
    ($ty:ident, $len:expr, $what:literal) => {
        impl $ty {
            /// The id of these bytes, or `None` for all zeros, which the spec
            /// forbids. `const`, so that fixed ids can be constants.
            pub const fn from_bytes(bytes: [u8; $len]) -> Option<Self> {
                let mut i = 0;
                while i < $len {
                    if bytes[i] != 0 {
                        return Some($ty(bytes));
                    }
                    i += 1;
                }
                None
            }
            /// Parses lowercase hex of exactly the right length; zero is rejected.
            pub fn from_hex(text: &str) -> Option<Self> {
                Self::from_bytes(decode_lower_hex::<$len>(text.as_bytes())?)
            }
            /// The id's bytes, as sent (big-endian, as the hex reads).
            pub const fn to_bytes(self) -> [u8; $len] {
                self.0
            }
            /// A new random id from the operating system's (or the browser's)
            /// random source; never all-zero.
            pub fn random() -> Result<Self, getrandom::Error> {
                loop {
                    let mut bytes = [0u8; $len];
                    getrandom::fill(&mut bytes)?;
                    // The chance is 2^-64 or less, but the rule is absolute.
                    if let Some(id) = Self::from_bytes(bytes) {
                        return Ok(id);
                    }
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($what, "("))?;
                write_hex(f, &self.0)?;
                f.write_str(")")
            }
        }
    };
}

hex_id!(TraceId, 16, "TraceId");
hex_id!(SpanId, 8, "SpanId");

impl fmt::Display for TraceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &[self.0])
    }
}
impl fmt::Debug for TraceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceFlags({:02x})", self.0)
    }
}

/// Where new ids come from. The browser's Build page and the native services
/// use [`RandomIds`]; the lesson uses a seeded source so that a seed
/// reproduces a trace exactly.
pub trait IdSource {
    fn new_trace_id(&mut self) -> TraceId;
    fn new_span_id(&mut self) -> SpanId;
}

/// Ids from `getrandom`: the OS on native targets, `crypto.getRandomValues`
/// in the browser.
///
/// A random source that fails is a broken platform, not bad input: every id
/// made without one would be the same, and colliding ids corrupt every
/// trace they touch. So it panics, saying why, rather than hand out a
/// constant id.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn new_trace_id(&mut self) -> TraceId {
        or_fail_loudly(TraceId::random())
    }
    fn new_span_id(&mut self) -> SpanId {
        or_fail_loudly(SpanId::random())
    }
}

/// The id, or a panic that names the failed random source.
fn or_fail_loudly<T>(id: Result<T, getrandom::Error>) -> T {
    match id {
        Ok(id) => id,
        Err(error) => panic!(
            "the platform's random source failed ({error}): tracelab will not make ids that would collide"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "random source failed")]
    fn a_failing_random_source_is_a_loud_failure_not_a_constant_id() {
        let failed: Result<TraceId, getrandom::Error> = Err(getrandom::Error::UNSUPPORTED);
        or_fail_loudly(failed);
    }

    #[test]
    fn no_constructor_makes_a_zero_id() {
        assert_eq!(TraceId::from_bytes([0; 16]), None);
        assert_eq!(SpanId::from_bytes([0; 8]), None);
        let mut one = [0; 16];
        one[15] = 1;
        assert_eq!(
            TraceId::from_bytes(one).map(|id| id.to_string()).as_deref(),
            Some("00000000000000000000000000000001")
        );
        assert_eq!(
            SpanId::from_bytes([0x80, 0, 0, 0, 0, 0, 0, 0]).map(SpanId::to_bytes),
            Some([0x80, 0, 0, 0, 0, 0, 0, 0])
        );
    }

    #[test]
    fn hex_round_trip_and_zero_rejected() {
        let id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("valid id");
        assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(TraceId::from_hex("00000000000000000000000000000000"), None);
        assert_eq!(TraceId::from_hex("4BF92F3577B34DA6A3CE929D0E0E4736"), None);
        assert_eq!(
            SpanId::from_hex("00f067aa0ba902b7")
                .map(|s| s.to_string())
                .as_deref(),
            Some("00f067aa0ba902b7")
        );
        assert_eq!(SpanId::from_hex("00f067aa0ba902b"), None);
    }

    #[test]
    fn eight_digits_at_a_time_agree_with_the_table() {
        // Every byte value in every position of a chunk, against the table.
        for position in 0..8 {
            for byte in 0..=255u8 {
                let mut text = *b"0123abcd";
                text[position] = byte;
                let expected = text
                    .chunks_exact(2)
                    .map(|p| Some((lower_hex_value(p[0])? << 4) | lower_hex_value(p[1])?))
                    .collect::<Option<Vec<u8>>>();
                let got = decode_8_digits(u64::from_le_bytes(text)).map(|b| b.to_vec());
                assert_eq!(got, expected, "byte {byte:#04x} at {position}");
            }
        }
    }

    #[test]
    fn hex_classes_agree_with_a_byte_by_byte_reading() {
        let is_upper = |b: u8| (b'A'..=b'F').contains(&b);
        for len in [1usize, 2, 7, 8, 9, 16, 17, 32] {
            for position in 0..len {
                for byte in [
                    b'0', b'a', b'f', b'g', b'A', b'F', b'G', b'-', b' ', 0x00, 0x7f, 0x80, 0xc3,
                    0xff,
                ] {
                    let mut text = vec![b'a'; len];
                    text[position] = byte;
                    if len > 3 {
                        text[len - 1] = b'B';
                    }
                    let uppers: Vec<usize> = (0..len).filter(|&i| is_upper(text[i])).collect();
                    let expected = HexClasses {
                        any_bad: text
                            .iter()
                            .any(|&b| lower_hex_value(b).is_none() && !is_upper(b)),
                        upper: uppers.first().map(|&f| (f, *uppers.last().unwrap_or(&f))),
                    };
                    assert_eq!(hex_classes(&text), expected, "{text:?}");
                }
            }
        }
    }

    #[test]
    fn random_ids_are_not_zero_and_differ() {
        let mut ids = RandomIds;
        let a = ids.new_trace_id();
        let b = ids.new_trace_id();
        assert_ne!(a.to_bytes(), [0; 16]);
        assert_ne!(a, b, "two random 128-bit ids collided");
        assert_ne!(ids.new_span_id().to_bytes(), [0; 8]);
    }

    #[test]
    fn flags_keep_unknown_bits_until_propagated() {
        let flags = TraceFlags(0xff);
        assert!(flags.sampled() && flags.random());
        assert_eq!(flags.unknown_bits(), 0xfc);
        assert_eq!(flags.propagated(), TraceFlags(0x03));
        assert_eq!(
            TraceFlags(0).with_sampled(true).with_random(true),
            TraceFlags(3)
        );
        assert_eq!(TraceFlags(3).with_sampled(false), TraceFlags(2));
    }
}
