//! `safe_next` never panics and keeps its documented promises: it answers
//! the candidate itself or `/`; what it lets through is at most
//! `MAX_NEXT_LEN` bytes of printable ASCII without a backslash that start
//! with exactly one `/` (so no scheme and no other host); and the same
//! holds once the path is percent-decoded, the way a later step (a
//! framework reading the query, a host application decoding it again)
//! would: no control character, and no second `/` or `\` at the start —
//! not even once a browser has dropped the tabs and newlines it ignores in
//! URLs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_core::http::{MAX_NEXT_LEN, safe_next};

/// Decodes every `%` followed by two hex digits; anything else stays as
/// it is.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = match bytes.get(i + 1..i + 3) {
            Some(&[high, low]) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                std::str::from_utf8(&[high, low])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            }
            _ => None,
        };
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// A path a browser resolves on this site: one leading `/`, not followed
/// by another `/` or `\`, once tabs and newlines are gone.
fn stays_local(path: &[u8]) -> bool {
    let kept: Vec<u8> = path
        .iter()
        .copied()
        .filter(|b| !matches!(b, b'\t' | b'\n' | b'\r'))
        .collect();
    kept.first() == Some(&b'/') && !matches!(kept.get(1), Some(b'/' | b'\\'))
}

fuzz_target!(|candidate: &str| {
    let next = safe_next(candidate);
    assert!(
        next == candidate || next == "/",
        "{candidate:?} became {next:?}"
    );
    assert_eq!(safe_next(next), next, "accepted once, accepted again");
    if next == "/" {
        return;
    }
    assert!(next.len() <= MAX_NEXT_LEN);
    assert!(
        next.bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'\\'),
        "{next:?}: only printable ASCII, no backslash"
    );
    assert!(stays_local(next.as_bytes()), "{next:?} leaves the site");

    let decoded = percent_decode(next);
    assert!(
        !decoded.iter().any(u8::is_ascii_control),
        "{next:?} decodes to a control character: {decoded:?}"
    );
    assert!(
        stays_local(&decoded),
        "{next:?} decodes to {:?}, which leaves the site",
        String::from_utf8_lossy(&decoded)
    );
});
