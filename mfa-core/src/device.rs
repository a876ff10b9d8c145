//! Remembered devices: "don't ask again on this browser for 30 days".
//!
//! The browser keeps a random 256-bit token (in a cookie the adapter
//! sets); the store keeps only its keyed hash, a name derived from the
//! user agent, and the expiry. Devices are listed, revoked one by one or
//! all at once, and all cleared by an MFA reset.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::pepper::{CodeHash, Pepper, Purpose};
use crate::subject::SubjectId;

/// Longest device name kept, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// The token given to the browser. Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct DeviceToken(String);

impl DeviceToken {
    /// A fresh random token: 32 bytes as 52 base32 characters.
    ///
    /// # Errors
    /// [`Error::Rng`] if the operating system cannot provide randomness.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *bytes).map_err(Error::Rng)?;
        Ok(Self(
            crate::encoding::base32_encode(&*bytes).to_ascii_lowercase(),
        ))
    }

    /// The token text, for the cookie.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceToken(<redacted>)")
    }
}

/// The stored hash of a token presented by `subject`'s browser.
pub(crate) fn hash(pepper: &Pepper, subject: &SubjectId, token: &str) -> CodeHash {
    pepper.hash(Purpose::DeviceToken, subject, token.trim().as_bytes())
}

/// A short human name for a device from its `User-Agent` header, such as
/// "Firefox on Windows" or "Safari on iPhone". Unknown agents become
/// "Unknown browser"; the result never exceeds [`MAX_NAME_CHARS`] and has no
/// control characters.
#[must_use]
pub fn name_from_user_agent(user_agent: &str) -> String {
    let ua = user_agent;
    let has = |needle: &str| ua.contains(needle);
    // Order matters: Edge and Opera also say "Chrome", Chrome also says
    // "Safari".
    let browser = if has("Edg/") || has("Edge/") {
        Some("Edge")
    } else if has("OPR/") || has("Opera") {
        Some("Opera")
    } else if has("Firefox/") || has("FxiOS/") {
        Some("Firefox")
    } else if has("Chrome/") || has("CriOS/") || has("Chromium/") {
        Some("Chrome")
    } else if has("Safari/") {
        Some("Safari")
    } else {
        None
    };
    let platform = if has("iPhone") {
        Some("iPhone")
    } else if has("iPad") {
        Some("iPad")
    } else if has("Android") {
        Some("Android")
    } else if has("Windows") {
        Some("Windows")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Linux") {
        Some("Linux")
    } else {
        None
    };
    let name = match (browser, platform) {
        (Some(b), Some(p)) => format!("{b} on {p}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(p)) => format!("Browser on {p}"),
        (None, None) => "Unknown browser".to_owned(),
    };
    name.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_common_user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0 Safari/537.36",
                "Chrome on Linux",
            ),
            ("curl/8.5.0", "Unknown browser"),
            ("", "Unknown browser"),
        ];
        for (ua, name) in cases {
            assert_eq!(name_from_user_agent(ua), name, "{ua}");
        }
    }

    #[test]
    fn tokens_are_random_and_redacted() {
        let a = DeviceToken::generate().unwrap();
        assert_eq!(a.expose().len(), 52);
        assert_ne!(a, DeviceToken::generate().unwrap());
        assert_eq!(format!("{a:?}"), "DeviceToken(<redacted>)");
        let pepper = Pepper::new(&[5; 32]).unwrap();
        let s = SubjectId::new("s").unwrap();
        assert_eq!(
            hash(&pepper, &s, a.expose()),
            hash(&pepper, &s, &format!(" {} ", a.expose()))
        );
    }
}
