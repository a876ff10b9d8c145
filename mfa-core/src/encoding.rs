//! RFC 4648 base32 (the alphabet authenticator apps use for keys) and the
//! small base64 encoder behind `data:` URIs.
//!
//! Written here rather than pulled in so that decoding can be as forgiving
//! as people typing keys need (lowercase, spaces, dashes, no padding) and so
//! that every intermediate buffer that holds key material is zeroized.

use crate::error::{Base32Problem, Error, Result};
use zeroize::{Zeroize, Zeroizing};

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes `bytes` as unpadded, uppercase base32.
pub(crate) fn base32_encode(bytes: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(bytes.len().div_ceil(5) * 8));
    let mut buffer: u64 = 0;
    let mut bits: u32 = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u64::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(base32_char(buffer >> bits));
        }
    }
    if bits > 0 {
        out.push(base32_char(buffer << (5 - bits)));
    }
    buffer.zeroize();
    out
}

fn base32_char(index: u64) -> char {
    // `index & 31` is always a valid index into the 32-entry alphabet.
    char::from(BASE32_ALPHABET[(index & 31) as usize])
}

/// Decodes base32 the way a person types it: case-insensitive, spaces and
/// `-` ignored anywhere, `=` padding optional but only at the end.
pub(crate) fn base32_decode(text: &str) -> Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() * 5 / 8));
    let mut buffer: u64 = 0;
    let mut bits: u32 = 0;
    let mut symbols: usize = 0;
    let mut padding: usize = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a',
            b'2'..=b'7' => byte - b'2' + 26,
            b' ' | b'-' | b'\t' => continue,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => return Err(Error::InvalidBase32(Base32Problem::InvalidCharacter)),
        };
        if padding > 0 {
            return Err(Error::InvalidBase32(Base32Problem::InvalidPadding));
        }
        symbols += 1;
        buffer = (buffer << 5) | u64::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            // Truncation to the low 8 bits is the point.
            out.push((buffer >> bits) as u8);
        }
    }
    buffer.zeroize();
    // Only these remainders can come from whole bytes (RFC 4648 §6).
    if !matches!(symbols % 8, 0 | 2 | 4 | 5 | 7) {
        return Err(Error::InvalidBase32(Base32Problem::InvalidLength));
    }
    if padding > 0 && !(symbols + padding).is_multiple_of(8) {
        return Err(Error::InvalidBase32(Base32Problem::InvalidPadding));
    }
    Ok(out)
}

/// Appends standard base64 with padding (RFC 4648 §4), for `data:` URIs.
#[cfg(feature = "png")]
pub(crate) fn base64_encode_into(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |v: u32, shift: u32| char::from(ALPHABET[((v >> shift) & 63) as usize]);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| chunk.get(i).copied().map_or(0, u32::from);
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sextet(v, 18));
        out.push(sextet(v, 12));
        out.push(if chunk.len() > 1 { sextet(v, 6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(v, 0) } else { '=' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_base32_vectors() {
        // RFC 4648 §10, without padding on the encoder side.
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base32_encode(plain.as_bytes()).as_str(), encoded);
            assert_eq!(base32_decode(encoded).unwrap().as_slice(), plain.as_bytes());
        }
        assert_eq!(base32_decode("MZXW6YQ=").unwrap().as_slice(), b"foob");
        assert_eq!(base32_decode("MY======").unwrap().as_slice(), b"f");
    }

    #[test]
    fn decoding_forgives_what_people_type() {
        let want = b"12345678901234567890";
        let canonical = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(base32_encode(want).as_str(), canonical);
        for typed in [
            "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
            "gezd-gnbv-gy3t-qojq-gezd-gnbv-gy3t-qojq",
            " GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ ",
        ] {
            assert_eq!(base32_decode(typed).unwrap().as_slice(), want, "{typed}");
        }
    }

    #[test]
    fn decoding_refuses_what_no_key_is() {
        let problem = |text: &str| match base32_decode(text) {
            Err(Error::InvalidBase32(p)) => p,
            other => panic!("{text:?} gave {other:?}"),
        };
        assert_eq!(problem("MZXW1"), Base32Problem::InvalidCharacter);
        assert_eq!(problem("MZXW8"), Base32Problem::InvalidCharacter);
        assert_eq!(problem("MZÉW6"), Base32Problem::InvalidCharacter);
        assert_eq!(problem("M"), Base32Problem::InvalidLength);
        assert_eq!(problem("MZX"), Base32Problem::InvalidLength);
        assert_eq!(problem("MZXW6Y"), Base32Problem::InvalidLength);
        assert_eq!(problem("MY=A"), Base32Problem::InvalidPadding);
        assert_eq!(problem("MY==="), Base32Problem::InvalidPadding);
    }

    #[cfg(feature = "png")]
    #[test]
    fn rfc4648_base64_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            base64_encode_into(&mut out, plain.as_bytes());
            assert_eq!(out, encoded);
        }
    }
}
