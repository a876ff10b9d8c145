//! Where to send a browser after the second step: only a local path.

/// The `next` target to redirect to after verification or enrollment:
/// `candidate` if it is a local absolute path, otherwise `/`.
///
/// Accepted: a path that starts with exactly one `/`, followed by
/// printable ASCII without a backslash, and is at most 2,048 bytes. Refused
/// (replaced by `/`): anything with a scheme (`https://evil.example`), a
/// scheme-relative URL (`//evil.example`), `/\evil` (browsers read `\` as
/// `/`), percent-encoded slashes or backslashes right after the first `/`
/// (`/%2F%2Fevil`, `/%5Cevil`), control characters, spaces and non-ASCII
/// (which some browsers strip or normalise into something else), and
/// percent-encoded control characters anywhere (`/%09/evil`: decoded once
/// by whoever reads the query, it is `/<tab>/evil`, and browsers drop the
/// tab and go to `//evil`; `%0D%0A` would split a header).
///
/// ```
/// use mfa_core::http::safe_next;
///
/// assert_eq!(safe_next("/tickets/42?tab=notes"), "/tickets/42?tab=notes");
/// assert_eq!(safe_next("//evil.example"), "/");
/// assert_eq!(safe_next("https://evil.example/"), "/");
/// assert_eq!(safe_next("/\\evil.example"), "/");
/// assert_eq!(safe_next("/%2F%2Fevil.example"), "/");
/// assert_eq!(safe_next("/%09/evil.example"), "/");
/// ```
#[must_use]
pub fn safe_next(candidate: &str) -> &str {
    if is_local_path(candidate) {
        candidate
    } else {
        "/"
    }
}

/// Longest `next` accepted, in bytes.
pub const MAX_NEXT_LEN: usize = 2048;

fn is_local_path(candidate: &str) -> bool {
    let bytes = candidate.as_bytes();
    if bytes.len() > MAX_NEXT_LEN || bytes.first() != Some(&b'/') {
        return false;
    }
    // Printable ASCII only, and never a backslash anywhere.
    if !bytes
        .iter()
        .all(|b| (0x21..=0x7e).contains(b) && *b != b'\\')
    {
        return false;
    }
    // After the leading slash: not another slash, and not an encoded slash
    // or backslash (which a later decoding step could turn into `//`).
    let rest = &candidate[1..];
    if rest.starts_with('/') {
        return false;
    }
    let lower = rest.get(..3).map(str::to_ascii_lowercase);
    !matches!(lower.as_deref(), Some("%2f" | "%5c"))
        && !rest.to_ascii_lowercase().contains("%2f%2f")
        && !encodes_a_control_character(bytes)
}

/// Whether a `%XX` escape in `bytes` stands for an ASCII control character
/// (`%00`-`%1F`, `%7F`): what the first decoding turns into the bytes
/// refused above.
fn encodes_a_control_character(bytes: &[u8]) -> bool {
    bytes.windows(3).any(|w| match *w {
        [b'%', high, low] => match (hex_value(high), hex_value(low)) {
            (Some(high), Some(low)) => ((high << 4) | low).is_ascii_control(),
            _ => false,
        },
        _ => false,
    })
}

/// The value of one hexadecimal digit.
fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_pass() {
        for ok in [
            "/",
            "/tickets",
            "/tickets/42?tab=a&b=c#notes",
            "/a%20b",
            "/x/%2Fy",
        ] {
            assert_eq!(safe_next(ok), ok, "{ok}");
        }
    }

    #[test]
    fn everything_else_becomes_the_root() {
        for bad in [
            "",
            "tickets",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/x/%2f%2fevil",
            "https://evil.example",
            "javascript:alert(1)",
            "/tickets\r\nSet-Cookie: x=1",
            "/tick\tets",
            "/tickets\0",
            "/ticket s",
            "/tickets/é",
            "/\u{202e}",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(MAX_NEXT_LEN))), "/");
    }

    /// Caught by the `next_url` fuzz target (seed `encoded_tab`):
    /// `/%09/evil.example` passed, and once decoded (as the host
    /// application reads `next` from its query) it is
    /// `/<tab>/evil.example`, which browsers resolve to `//evil.example`,
    /// another site.
    #[test]
    fn encoded_control_characters_are_refused() {
        for bad in [
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/%09%09/evil.example",
            "/tickets%0D%0ASet-Cookie:%20sid=x",
            "/tickets%00",
            "/tickets?q=%7F",
            "/tickets?q=%1f",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
        // Other escapes, and `%` not followed by two hex digits, stay.
        for ok in ["/a%20b", "/caf%C3%A9", "/x?q=%41", "/100%", "/%+9", "/%0g"] {
            assert_eq!(safe_next(ok), ok, "{ok:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn whatever_comes_in_what_goes_out_is_a_local_path(input in "\\PC{0,40}|/[\\\\/%2FfC5c.:a-z]{0,12}") {
            let out = safe_next(&input);
            proptest::prop_assert!(out == input || out == "/");
            proptest::prop_assert!(out.starts_with('/'));
            proptest::prop_assert!(!out.starts_with("//"));
            proptest::prop_assert!(!out.contains('\\'));
            proptest::prop_assert!(out.bytes().all(|b| (0x21..=0x7e).contains(&b)));
            let lower = out.to_ascii_lowercase();
            proptest::prop_assert!(!lower.starts_with("/%2f") && !lower.starts_with("/%5c"));
        }
    }
}
