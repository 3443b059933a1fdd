//! Base64 (RFC 4648), both alphabets, padding optional: what protobuf's JSON
//! mapping writes for `bytes` (Tempo's ids, OTLP's `bytesValue`) and Jaeger
//! for `binary` tags. A few lines here instead of a dependency, since the
//! crate goes into a size-bound wasm worker.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard alphabet, with padding (what protobuf's JSON mapping writes).
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

fn sextet(byte: u8) -> Option<u32> {
    Some(u32::from(match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        // Both alphabets: protobuf's JSON parsers accept either.
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    }))
}

/// Decodes standard or URL-safe base64, with or without padding. The error
/// says what is wrong, for a problem message.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    let trimmed = text.trim_end_matches('=');
    if text.len() - trimmed.len() > 2 {
        return Err("more than two '=' at the end".to_string());
    }
    if trimmed.len() % 4 == 1 {
        return Err(format!(
            "{} base64 characters cannot end a byte",
            trimmed.len()
        ));
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut accumulator = 0u32;
    let mut n_bits = 0;
    for (position, byte) in trimmed.bytes().enumerate() {
        let Some(value) = sextet(byte) else {
            return Err(format!(
                "not base64: {:?} at position {position}",
                byte as char
            ));
        };
        accumulator = (accumulator << 6) | value;
        n_bits += 6;
        if n_bits >= 8 {
            n_bits -= 8;
            out.push((accumulator >> n_bits) as u8);
            accumulator &= (1 << n_bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length_and_reads_both_alphabets() {
        for length in 0..20u8 {
            let bytes: Vec<u8> = (0..length).map(|i| i.wrapping_mul(37) ^ 0xfb).collect();
            assert_eq!(decode(&encode(&bytes)), Ok(bytes.clone()));
            assert_eq!(decode(encode(&bytes).trim_end_matches('=')), Ok(bytes));
        }
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(decode("-_8="), decode("+/8="));
        assert!(decode("a").is_err(), "one character cannot end a byte");
        assert!(decode("ab!d").is_err());
    }
}
