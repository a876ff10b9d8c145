//! The names of factors and channels: vocabulary every layer speaks,
//! including the error type, so this module depends on nothing in the
//! crate. Parsing them from text lives with the other input validation in
//! the `subject` module.

use core::fmt;

/// Where a one-time code is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Channel {
    /// An e-mail message.
    Email,
    /// A text message.
    Sms,
}

impl Channel {
    /// Both channels.
    pub const ALL: [Self; 2] = [Self::Email, Self::Sms];

    /// `email` or `sms`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    /// The factor a code on this channel proves.
    #[must_use]
    pub fn factor(self) -> FactorKind {
        match self {
            Self::Email => FactorKind::Email,
            Self::Sms => FactorKind::Sms,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of factor a verification used. Throttling counts failures per
/// subject and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum FactorKind {
    /// A code from an authenticator app (TOTP).
    Totp,
    /// A single-use recovery code.
    Recovery,
    /// A code sent by e-mail.
    Email,
    /// A code sent by SMS.
    Sms,
}

impl FactorKind {
    /// Every kind.
    pub const ALL: [Self; 4] = [Self::Totp, Self::Recovery, Self::Email, Self::Sms];

    /// `totp`, `recovery`, `email` or `sms`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Recovery => "recovery",
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }
}

impl fmt::Display for FactorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
