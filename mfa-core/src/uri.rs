//! `otpauth://` Key URIs: what a QR code carries to an authenticator app.
//!
//! The format is Google Authenticator's Key URI format:
//! `otpauth://TYPE/LABEL?PARAMETERS`, where the label is `Issuer:account`
//! and the issuer is repeated in the `issuer` parameter.
//!
//! Building percent-encodes everything outside the RFC 3986 unreserved set
//! (spaces, `:`, `@`, `/`, non-ASCII…), writes the issuer in both places and
//! leaves out parameters that have their default value. Parsing is tolerant
//! of what real generators emit — lowercase algorithm names, `%3A` as the
//! label separator, a missing `issuer` parameter, unknown extra parameters,
//! `+` for spaces in parameters — but validates every value exactly as the
//! constructors do. An issuer that contains `:` survives a round trip: the
//! `issuer` parameter tells where it ends in the label.
//!
//! ```
//! use mfa_core::{KeyUri, Secret};
//! use mfa_core::otp::TotpConfig;
//!
//! let secret = Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?;
//! let uri = KeyUri::totp(secret, Some("ACME: Support"), "alice@example.com", &TotpConfig::default())?;
//! let text = uri.to_uri();
//! assert_eq!(
//!     text.as_str(),
//!     "otpauth://totp/ACME%3A%20Support:alice%40example.com\
//!      ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%3A%20Support"
//! );
//! let back = KeyUri::parse(&text)?;
//! assert_eq!(back.issuer(), Some("ACME: Support"));
//! assert_eq!(back.account(), "alice@example.com");
//! # Ok::<(), mfa_core::Error>(())
//! ```

use core::fmt::Write as _;
use core::str::FromStr;

use zeroize::Zeroizing;

use crate::error::{Error, Result, UriProblem};
use crate::otp::{Algorithm, Digits, TotpConfig};
use crate::secret::Secret;

/// Longest issuer or account name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest URI accepted by [`KeyUri::parse`], in bytes.
pub const MAX_URI_LEN: usize = 4096;

/// TOTP or HOTP, with what is specific to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// Time-based: a period in seconds (T0 is always 0 in a URI).
    Totp {
        /// Step length in seconds.
        period: u32,
    },
    /// Counter-based, starting at `counter`.
    Hotp {
        /// The counter the next code is computed from.
        counter: u64,
    },
}

/// A parsed or buildable `otpauth://` Key URI. `Debug` never shows the
/// secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUri {
    secret: Secret,
    issuer: Option<String>,
    account: String,
    algorithm: Algorithm,
    digits: Digits,
    kind: KeyKind,
}

impl KeyUri {
    /// A TOTP key URI.
    ///
    /// # Errors
    /// [`Error::InvalidUri`] with [`UriProblem::NonZeroT0`] if `config`
    /// uses a T0 other than 0 (apps cannot be told), [`UriProblem::InvalidName`]
    /// for empty or over-long names, names with control characters or
    /// surrounding white space, and
    /// [`UriProblem::ColonInAccountWithoutIssuer`].
    pub fn totp(
        secret: Secret,
        issuer: Option<&str>,
        account: &str,
        config: &TotpConfig,
    ) -> Result<Self> {
        if config.t0() != 0 {
            return Err(Error::InvalidUri(UriProblem::NonZeroT0));
        }
        Self::checked(Self {
            secret,
            issuer: issuer.map(str::to_owned),
            account: account.to_owned(),
            algorithm: config.algorithm(),
            digits: config.digits(),
            kind: KeyKind::Totp {
                period: config.period(),
            },
        })
    }

    /// An HOTP key URI whose next code is computed from `counter`.
    ///
    /// # Errors
    /// The name errors of [`totp`](Self::totp).
    pub fn hotp(
        secret: Secret,
        issuer: Option<&str>,
        account: &str,
        algorithm: Algorithm,
        digits: Digits,
        counter: u64,
    ) -> Result<Self> {
        Self::checked(Self {
            secret,
            issuer: issuer.map(str::to_owned),
            account: account.to_owned(),
            algorithm,
            digits,
            kind: KeyKind::Hotp { counter },
        })
    }

    fn checked(self) -> Result<Self> {
        let invalid = |name: &str| {
            name.is_empty()
                || name.chars().count() > MAX_NAME_CHARS
                || name.chars().any(char::is_control)
                || name.trim() != name
        };
        if invalid(&self.account) || self.issuer.as_deref().is_some_and(invalid) {
            return Err(Error::InvalidUri(UriProblem::InvalidName));
        }
        if self.issuer.is_none() && self.account.contains(':') {
            return Err(Error::InvalidUri(UriProblem::ColonInAccountWithoutIssuer));
        }
        Ok(self)
    }

    /// Parses an `otpauth://` URI, validating every value as the
    /// constructors do (a secret shorter than 128 bits is refused).
    ///
    /// # Errors
    /// [`Error::InvalidUri`] saying what is wrong (among others
    /// [`UriProblem::IssuerMismatch`] when the label names an issuer other
    /// than the `issuer` parameter), or the error of the
    /// value that failed validation ([`Error::SecretTooShort`],
    /// [`Error::InvalidBase32`], [`Error::InvalidDigits`],
    /// [`Error::InvalidPeriod`], [`Error::UnsupportedAlgorithm`]).
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_URI_LEN {
            return Err(Error::InvalidUri(UriProblem::TooLong));
        }
        let rest = strip_prefix_ignore_case(text.trim(), "otpauth://")
            .ok_or(Error::InvalidUri(UriProblem::Scheme))?;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (kind, rest) = rest
            .split_once('/')
            .ok_or(Error::InvalidUri(UriProblem::MissingAccount))?;
        let is_totp = if kind.eq_ignore_ascii_case("totp") {
            true
        } else if kind.eq_ignore_ascii_case("hotp") {
            false
        } else {
            return Err(Error::InvalidUri(UriProblem::Type));
        };
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));

        let params = Params::parse(query)?;
        let secret_text = params
            .secret
            .as_deref()
            .ok_or(Error::InvalidUri(UriProblem::MissingSecret))?;
        let secret = Secret::from_base32(secret_text)?;
        let algorithm = match params.algorithm.as_deref() {
            Some(name) => name.parse()?,
            None => Algorithm::Sha1,
        };
        let digits = match params.digits.as_deref() {
            Some(d) => Digits::new(parse_number(d)?)?,
            None => Digits::SIX,
        };
        let kind = if is_totp {
            let period = match params.period.as_deref() {
                Some(p) => parse_number(p)?,
                None => u64::from(TotpConfig::DEFAULT_PERIOD),
            };
            let config = TotpConfig::new(algorithm, digits, period)?;
            KeyKind::Totp {
                period: config.period(),
            }
        } else {
            let counter = params
                .counter
                .as_deref()
                .ok_or(Error::InvalidUri(UriProblem::MissingCounter))?;
            KeyKind::Hotp {
                counter: parse_number(counter)?,
            }
        };
        let (label_issuer, account) = split_label(label, params.issuer.as_deref())?;
        let issuer = params.issuer.or(label_issuer);
        if account.is_empty() {
            return Err(Error::InvalidUri(UriProblem::MissingAccount));
        }
        Self::checked(Self {
            secret,
            issuer,
            account,
            algorithm,
            digits,
            kind,
        })
    }

    /// The URI text. It contains the secret, so it is zeroized on drop.
    #[must_use]
    pub fn to_uri(&self) -> Zeroizing<String> {
        let secret = self.secret.to_base32();
        let names = self.issuer.as_deref().map_or(0, str::len) * 2 + self.account.len();
        // Sized once so the buffer holding the secret is never reallocated
        // (which would leave a copy behind).
        let mut out = Zeroizing::new(String::with_capacity(160 + secret.len() + names * 3));
        out.push_str(match self.kind {
            KeyKind::Totp { .. } => "otpauth://totp/",
            KeyKind::Hotp { .. } => "otpauth://hotp/",
        });
        if let Some(issuer) = &self.issuer {
            percent_encode(&mut out, issuer);
            out.push(':');
        }
        percent_encode(&mut out, &self.account);
        out.push_str("?secret=");
        out.push_str(&secret);
        if let Some(issuer) = &self.issuer {
            out.push_str("&issuer=");
            percent_encode(&mut out, issuer);
        }
        if self.algorithm != Algorithm::Sha1 {
            out.push_str("&algorithm=");
            out.push_str(self.algorithm.as_str());
        }
        // Writing to a String cannot fail.
        if self.digits != Digits::SIX {
            let _ = write!(out, "&digits={}", self.digits.get());
        }
        match self.kind {
            KeyKind::Totp { period } if period != TotpConfig::DEFAULT_PERIOD => {
                let _ = write!(out, "&period={period}");
            }
            KeyKind::Totp { .. } => {}
            KeyKind::Hotp { counter } => {
                let _ = write!(out, "&counter={counter}");
            }
        }
        out
    }

    /// The shared secret.
    #[must_use]
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The service name, if any.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The account name (usually an e-mail address or user name).
    #[must_use]
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The HMAC hash function.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Digits per code.
    #[must_use]
    pub fn digits(&self) -> Digits {
        self.digits
    }

    /// TOTP or HOTP.
    #[must_use]
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The TOTP parameters, or `None` for an HOTP key.
    #[must_use]
    pub fn totp_config(&self) -> Option<TotpConfig> {
        match self.kind {
            KeyKind::Totp { period } => {
                TotpConfig::new(self.algorithm, self.digits, u64::from(period)).ok()
            }
            KeyKind::Hotp { .. } => None,
        }
    }

    /// The URI as a QR code in SVG (see [`crate::qr::svg`]).
    ///
    /// # Errors
    /// [`Error::QrTooLong`] if the URI does not fit in a QR code.
    pub fn qr_svg(&self) -> Result<Zeroizing<String>> {
        crate::qr::svg(&self.to_uri())
    }
}

impl FromStr for KeyUri {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Self::parse(text)
    }
}

/// The parameters we read; unknown ones are ignored.
#[derive(Default)]
struct Params {
    secret: Option<Zeroizing<String>>,
    issuer: Option<String>,
    algorithm: Option<String>,
    digits: Option<String>,
    period: Option<String>,
    counter: Option<String>,
}

impl Params {
    fn parse(query: &str) -> Result<Self> {
        let mut params = Self::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let value = || percent_decode(raw, true);
            let slot = match name.to_ascii_lowercase().as_str() {
                "secret" => {
                    if params.secret.is_some() {
                        return Err(Error::InvalidUri(UriProblem::DuplicateParameter));
                    }
                    params.secret = Some(Zeroizing::new(value()?));
                    continue;
                }
                "issuer" => &mut params.issuer,
                "algorithm" => &mut params.algorithm,
                "digits" => &mut params.digits,
                "period" => &mut params.period,
                "counter" => &mut params.counter,
                _ => continue,
            };
            if slot.is_some() {
                return Err(Error::InvalidUri(UriProblem::DuplicateParameter));
            }
            *slot = Some(value()?);
        }
        Ok(params)
    }
}

/// Splits a raw (still encoded) label into issuer and account.
///
/// With an `issuer` parameter, the label must agree with it (the Key URI
/// format requires the two to be equal when both are present):
/// 1. if the decoded label starts with the parameter followed by `:`,
///    that is the split (this is what lets an issuer contain `:`);
/// 2. else, if the decoded label has a `:`, what precedes the first one is
///    the label's issuer, and it must equal the parameter (a `+` in it may
///    stand for a space, as generators write it) —
///    [`UriProblem::IssuerMismatch`] otherwise;
/// 3. else the whole label is the account.
///
/// Without one:
/// 1. a literal `:` in the raw label separates issuer and account;
/// 2. else an encoded `%3A` does (some generators encode the separator);
/// 3. else the whole label is the account.
///
/// Spaces after the separator are dropped, as the format allows.
fn split_label(raw: &str, issuer_param: Option<&str>) -> Result<(Option<String>, String)> {
    let decoded = percent_decode(raw, false)?;
    if let Some(issuer) = issuer_param {
        let account = match decoded
            .strip_prefix(issuer)
            .and_then(|rest| rest.strip_prefix(':'))
        {
            Some(account) => account,
            None => match decoded.split_once(':') {
                None => decoded.as_str(),
                Some((label_issuer, account)) if label_issuer.replace('+', " ") == issuer => {
                    account
                }
                Some(_) => return Err(Error::InvalidUri(UriProblem::IssuerMismatch)),
            },
        };
        return Ok((Some(issuer.to_owned()), account.trim_start().to_owned()));
    }
    let split = raw.split_once(':').or_else(|| {
        let at = raw.to_ascii_lowercase().find("%3a")?;
        Some((raw.get(..at)?, raw.get(at + 3..)?))
    });
    match split {
        Some((issuer, account)) => Ok((
            Some(percent_decode(issuer, false)?),
            percent_decode(account, false)?.trim_start().to_owned(),
        )),
        None => Ok((None, decoded.trim_start().to_owned())),
    }
}

fn parse_number<T: FromStr>(text: &str) -> Result<T> {
    text.trim()
        .parse()
        .map_err(|_| Error::InvalidUri(UriProblem::InvalidNumber))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// Percent-encodes all but the RFC 3986 unreserved characters.
fn percent_encode(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// Decodes `%XX` escapes (and `+` as a space in query values) into UTF-8.
fn percent_decode(text: &str, plus_is_space: bool) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'%' => {
                let hex = |at: usize| {
                    bytes
                        .get(at)
                        .and_then(|&h| char::from(h).to_digit(16))
                        .ok_or(Error::InvalidUri(UriProblem::Encoding))
                };
                // Both nibbles are < 16, so the byte fits.
                out.push(u8::try_from(hex(i + 1)? * 16 + hex(i + 2)?).unwrap_or(0));
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::InvalidUri(UriProblem::Encoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn secret() -> Secret {
        Secret::from_base32(KEY).unwrap()
    }

    fn problem(text: &str) -> UriProblem {
        match KeyUri::parse(text) {
            Err(Error::InvalidUri(p)) => p,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn defaults_are_omitted_and_the_rest_is_written() {
        let plain = KeyUri::totp(secret(), Some("ACME"), "alice", &TotpConfig::default()).unwrap();
        assert_eq!(
            plain.to_uri().as_str(),
            format!("otpauth://totp/ACME:alice?secret={KEY}&issuer=ACME")
        );
        let config = TotpConfig::new(Algorithm::Sha512, Digits::EIGHT, 60).unwrap();
        let full = KeyUri::totp(secret(), None, "bob", &config).unwrap();
        assert_eq!(
            full.to_uri().as_str(),
            format!("otpauth://totp/bob?secret={KEY}&algorithm=SHA512&digits=8&period=60")
        );
        let hotp = KeyUri::hotp(secret(), Some("A"), "b", Algorithm::Sha1, Digits::SIX, 0).unwrap();
        assert_eq!(
            hotp.to_uri().as_str(),
            format!("otpauth://hotp/A:b?secret={KEY}&issuer=A&counter=0")
        );
    }

    #[test]
    fn names_are_percent_encoded() {
        let uri = KeyUri::totp(
            secret(),
            Some("Dépôt / Help Desk"),
            "jo@example.com",
            &TotpConfig::default(),
        )
        .unwrap();
        let text = uri.to_uri();
        assert!(
            text.starts_with(
                "otpauth://totp/D%C3%A9p%C3%B4t%20%2F%20Help%20Desk:jo%40example.com?"
            ),
            "{}",
            text.as_str()
        );
        assert!(text.ends_with("&issuer=D%C3%A9p%C3%B4t%20%2F%20Help%20Desk"));
        assert_eq!(KeyUri::parse(&text).unwrap(), uri);
    }

    #[test]
    fn tolerates_what_real_generators_emit() {
        // Lowercase algorithm, %3A separator, no issuer parameter, unknown
        // parameters, a space after the separator, lowercase scheme and type.
        let uri = KeyUri::parse(&format!(
            "OTPAUTH://TOTP/Example%3A%20alice%40google.com?secret={}&algorithm=sha256&image=https%3A%2F%2Fx&color=red&digits=8",
            KEY.to_lowercase()
        ))
        .unwrap();
        assert_eq!(uri.issuer(), Some("Example"));
        assert_eq!(uri.account(), "alice@google.com");
        assert_eq!(uri.algorithm(), Algorithm::Sha256);
        assert_eq!(uri.digits(), Digits::EIGHT);
        assert_eq!(uri.kind(), KeyKind::Totp { period: 30 });
        assert_eq!(uri.secret(), &secret());

        let spaced = KeyUri::parse(&format!(
            "otpauth://totp/Big+Corp:%20%20bob?secret={KEY}&issuer=Big+Corp"
        ))
        .unwrap();
        // `+` is a space in parameters but a literal in the path; the
        // parameter wins as the issuer.
        assert_eq!(spaced.issuer(), Some("Big Corp"));
        assert_eq!(spaced.account(), "bob");

        let bare = KeyUri::parse(&format!("otpauth://totp/carol?secret={KEY}")).unwrap();
        assert_eq!(bare.issuer(), None);
        assert_eq!(bare.account(), "carol");

        let hotp = KeyUri::parse(&format!("otpauth://hotp/x:y?counter=42&secret={KEY}")).unwrap();
        assert_eq!(hotp.kind(), KeyKind::Hotp { counter: 42 });
        assert_eq!(hotp.totp_config(), None);
    }

    #[test]
    fn an_issuer_with_a_colon_round_trips() {
        for issuer in ["ACME: Support", "a:b:c", ":", "x%3Ay"] {
            for account in ["alice", "a:b", "with space"] {
                let uri =
                    KeyUri::totp(secret(), Some(issuer), account, &TotpConfig::default()).unwrap();
                let back = KeyUri::parse(&uri.to_uri()).unwrap();
                assert_eq!(back.issuer(), Some(issuer), "{}", uri.to_uri().as_str());
                assert_eq!(back.account(), account);
            }
        }
    }

    #[test]
    fn a_label_issuer_other_than_the_issuer_parameter_is_refused() {
        for text in [
            format!("otpauth://totp/Evil:alice?secret={KEY}&issuer=ACME"),
            format!("otpauth://totp/ACME%20Inc:alice?secret={KEY}&issuer=ACME"),
            format!("otpauth://hotp/acme:alice?secret={KEY}&issuer=ACME&counter=1"),
            format!("otpauth://totp/Evil%3Aalice?secret={KEY}&issuer=ACME"),
        ] {
            assert_eq!(problem(&text), UriProblem::IssuerMismatch, "{text}");
        }
        // Equal, or only in one place: accepted.
        for (text, issuer, account) in [
            (
                format!("otpauth://totp/ACME:alice?secret={KEY}&issuer=ACME"),
                Some("ACME"),
                "alice",
            ),
            (
                format!("otpauth://totp/ACME:alice?secret={KEY}"),
                Some("ACME"),
                "alice",
            ),
            (
                format!("otpauth://totp/alice?secret={KEY}&issuer=ACME"),
                Some("ACME"),
                "alice",
            ),
            (
                format!("otpauth://totp/ACME%3A%20alice?secret={KEY}&issuer=ACME"),
                Some("ACME"),
                "alice",
            ),
            (format!("otpauth://totp/alice?secret={KEY}"), None, "alice"),
        ] {
            let uri = KeyUri::parse(&text).unwrap();
            assert_eq!((uri.issuer(), uri.account()), (issuer, account), "{text}");
        }
    }

    #[test]
    fn parsed_values_are_validated_like_constructed_ones() {
        let with = |params: &str| KeyUri::parse(&format!("otpauth://totp/a:b?{params}"));
        assert!(matches!(
            with("secret=JBSWY3DPEHPK3PXP"),
            Err(Error::SecretTooShort { found: 10, .. })
        ));
        assert!(matches!(
            with(&format!("secret={KEY}&digits=9")),
            Err(Error::InvalidDigits(9))
        ));
        assert!(matches!(
            with(&format!("secret={KEY}&period=0")),
            Err(Error::InvalidPeriod { found: 0, .. })
        ));
        assert!(matches!(
            with(&format!("secret={KEY}&algorithm=MD5")),
            Err(Error::UnsupportedAlgorithm)
        ));
        assert!(matches!(
            with("secret=not*base32"),
            Err(Error::InvalidBase32(_))
        ));
        assert_eq!(
            problem(&format!("otpauth://totp/a?secret={KEY}&digits=six")),
            UriProblem::InvalidNumber
        );
        assert_eq!(
            problem(&format!("otpauth://totp/a?secret={KEY}&secret={KEY}")),
            UriProblem::DuplicateParameter
        );
        assert_eq!(
            problem(&format!("otpauth://totp/a?secret={KEY}&issuer=x&ISSUER=y")),
            UriProblem::DuplicateParameter
        );
        assert_eq!(problem("https://example.com/"), UriProblem::Scheme);
        assert_eq!(
            problem(&format!("otpauth://motp/a?secret={KEY}")),
            UriProblem::Type
        );
        assert_eq!(
            problem("otpauth://totp/a?issuer=x"),
            UriProblem::MissingSecret
        );
        assert_eq!(
            problem(&format!("otpauth://totp/?secret={KEY}")),
            UriProblem::MissingAccount
        );
        assert_eq!(
            problem(&format!("otpauth://totp/x:?secret={KEY}")),
            UriProblem::MissingAccount
        );
        assert_eq!(
            problem(&format!("otpauth://totp?secret={KEY}")),
            UriProblem::MissingAccount
        );
        assert_eq!(
            problem(&format!("otpauth://hotp/a?secret={KEY}")),
            UriProblem::MissingCounter
        );
        assert_eq!(
            problem(&format!("otpauth://totp/a%ZZ?secret={KEY}")),
            UriProblem::Encoding
        );
        assert_eq!(
            problem(&format!("otpauth://totp/a%C3?secret={KEY}")),
            UriProblem::Encoding
        );
        assert_eq!(
            problem(&format!("otpauth://totp/a%0A?secret={KEY}")),
            UriProblem::InvalidName
        );
        assert_eq!(problem(&"x".repeat(MAX_URI_LEN + 1)), UriProblem::TooLong);
    }

    #[test]
    fn constructors_refuse_what_cannot_round_trip() {
        let config = TotpConfig::default();
        let err = |r: Result<KeyUri>| match r {
            Err(Error::InvalidUri(p)) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(KeyUri::totp(secret(), None, "a:b", &config)),
            UriProblem::ColonInAccountWithoutIssuer
        );
        assert_eq!(
            err(KeyUri::totp(secret(), None, "", &config)),
            UriProblem::InvalidName
        );
        assert_eq!(
            err(KeyUri::totp(secret(), Some(""), "a", &config)),
            UriProblem::InvalidName
        );
        assert_eq!(
            err(KeyUri::totp(secret(), None, &"x".repeat(257), &config)),
            UriProblem::InvalidName
        );
        assert_eq!(
            err(KeyUri::totp(secret(), Some(" ACME"), "a", &config)),
            UriProblem::InvalidName
        );
        assert_eq!(
            err(KeyUri::totp(secret(), None, "a", &config.with_t0(5))),
            UriProblem::NonZeroT0
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let uri = KeyUri::totp(secret(), Some("ACME"), "alice", &TotpConfig::default()).unwrap();
        let shown = format!("{uri:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
