//! The remember-device cookie: separate from the session, opaque,
//! `HttpOnly`, `SameSite=Lax`, `Secure` by default, scoped to a path.

use core::fmt::Write as _;
use core::time::Duration;

/// How the remember-device cookie is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCookie {
    /// Its name: `mfa_device`.
    pub name: String,
    /// The path it is sent for: `/` (the gate reads it on every route).
    pub path: String,
    /// `Secure` (sent over HTTPS only): on by default; turn it off only
    /// for local development over plain HTTP.
    pub secure: bool,
}

impl Default for DeviceCookie {
    fn default() -> Self {
        Self {
            name: "mfa_device".to_owned(),
            path: "/".to_owned(),
            secure: true,
        }
    }
}

impl DeviceCookie {
    /// The `Set-Cookie` value that stores `token` for `max_age`.
    #[must_use]
    pub fn set(&self, token: &str, max_age: Duration) -> String {
        let mut value = format!(
            "{}={}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax",
            self.name,
            token,
            self.path,
            max_age.as_secs()
        );
        if self.secure {
            value.push_str("; Secure");
        }
        value
    }

    /// The `Set-Cookie` value that removes it.
    #[must_use]
    pub fn clear(&self) -> String {
        let mut value = String::new();
        let _ = write!(
            value,
            "{}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax",
            self.name, self.path
        );
        if self.secure {
            value.push_str("; Secure");
        }
        value
    }

    /// This cookie's value in a `Cookie` request header, if present (the
    /// first one; tokens are URL-safe, so no decoding is needed).
    #[must_use]
    pub fn read<'a>(&self, cookie_header: &'a str) -> Option<&'a str> {
        cookie_header.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == self.name && !value.is_empty()).then_some(value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_always_set() {
        let cookie = DeviceCookie::default();
        let set = cookie.set("abc", Duration::from_secs(30 * 86_400));
        assert_eq!(
            set,
            "mfa_device=abc; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(cookie.clear().contains("Max-Age=0"));
        let local = DeviceCookie {
            secure: false,
            ..DeviceCookie::default()
        };
        assert!(!local.set("abc", Duration::from_secs(1)).contains("Secure"));
    }

    #[test]
    fn reads_its_own_cookie_only() {
        let cookie = DeviceCookie::default();
        assert_eq!(cookie.read("a=1; mfa_device=tok; b=2"), Some("tok"));
        assert_eq!(cookie.read("mfa_device_x=tok"), None);
        assert_eq!(cookie.read("mfa_device="), None);
        assert_eq!(cookie.read(""), None);
    }
}
