//! Trace ids, span ids and trace flags: the fixed-size values a `traceparent`
//! carries, their lowercase-hex form, and where new ones come from.

use std::fmt;

/// A 16-byte trace id. The all-zero id is invalid (W3C Trace Context §3.2.2.3),
/// so a `TraceId` built by this crate's parsers and generators is never zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id, sent as the `parent-id` of a `traceparent`. The all-zero
/// id is invalid (W3C Trace Context §3.2.2.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(pub [u8; 8]);

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
#[inline]
pub(crate) fn decode_lower_hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    // Accumulate a flag instead of returning early: the loop stays branch-free.
    let mut bad = 0u8;
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let (hi, lo) = (
            LOWER_HEX[usize::from(pair[0])],
            LOWER_HEX[usize::from(pair[1])],
        );
        bad |= (hi | lo) & 0xf0;
        out[i] = (hi << 4) | (lo & 0x0f);
    }
    (bad == 0).then_some(out)
}

macro_rules! hex_id {
    ($ty:ident, $len:expr, $what:literal) => {
        impl $ty {
            /// Parses lowercase hex of exactly the right length; zero is rejected.
            pub fn from_hex(text: &str) -> Option<Self> {
                let bytes = decode_lower_hex::<$len>(text.as_bytes())?;
                let id = $ty(bytes);
                (!id.is_zero()).then_some(id)
            }
            pub fn is_zero(&self) -> bool {
                self.0.iter().all(|&b| b == 0)
            }
            /// A new random id from the operating system's (or the browser's)
            /// random source; never all-zero.
            pub fn random() -> Result<Self, getrandom::Error> {
                loop {
                    let mut bytes = [0u8; $len];
                    getrandom::fill(&mut bytes)?;
                    let id = $ty(bytes);
                    // The chance is 2^-64 or less, but the rule is absolute.
                    if !id.is_zero() {
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
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn new_trace_id(&mut self) -> TraceId {
        // A platform without a random source cannot run tracelab at all;
        // the fallback keeps the id valid rather than panicking.
        TraceId::random().unwrap_or(TraceId([0x01; 16]))
    }
    fn new_span_id(&mut self) -> SpanId {
        SpanId::random().unwrap_or(SpanId([0x01; 8]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn random_ids_are_not_zero_and_differ() {
        let mut ids = RandomIds;
        let a = ids.new_trace_id();
        let b = ids.new_trace_id();
        assert!(!a.is_zero());
        assert_ne!(a, b, "two random 128-bit ids collided");
        assert!(!ids.new_span_id().is_zero());
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
