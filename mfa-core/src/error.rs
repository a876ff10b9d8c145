//! The crate's one error type.

use core::fmt;

use crate::factor::{Channel, FactorKind};

/// Everything that can go wrong in `mfa-core`.
///
/// Messages say what was wrong and what is accepted; they never contain a
/// secret, a one-time code or a token, so they are safe to log and to show.
/// A wrong code is *not* an error: it is an outcome (the OTP engine's
/// `Verdict`, the service's `Verification`).
///
/// This module is the bottom layer of the crate: it depends on nothing
/// above it. Variants that report a bound carry it (`min`, `max`), filled
/// in by the module that owns the limit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The number of digits is not 6, 7 or 8.
    #[error("a one-time code must have 6, 7 or 8 digits, not {0}")]
    InvalidDigits(u32),

    /// The TOTP period is outside the accepted bounds.
    #[error("the TOTP period must be between {min} and {max} seconds, not {found}")]
    InvalidPeriod {
        /// The period that was asked for, in seconds.
        found: u64,
        /// The shortest period accepted, in seconds.
        min: u32,
        /// The longest period accepted, in seconds.
        max: u32,
    },

    /// A verification window wider than the engine allows.
    #[error("a verification window may reach at most {max} steps each way, not {found}")]
    InvalidWindow {
        /// The widest side of the window that was asked for.
        found: u32,
        /// The most steps a window may reach on either side.
        max: u8,
    },

    /// The algorithm name is not one of SHA1, SHA256, SHA512.
    #[error("unsupported OTP algorithm: use SHA1, SHA256 or SHA512")]
    UnsupportedAlgorithm,

    /// A secret shorter than the minimum.
    #[error(
        "a secret must be at least {min} bytes ({bits} bits); this one has {found} bytes",
        bits = .min * 8
    )]
    SecretTooShort {
        /// Length of the rejected secret in bytes.
        found: usize,
        /// The shortest length accepted, in bytes.
        min: usize,
    },

    /// A secret longer than the maximum.
    #[error("a secret may be at most {max} bytes; this one has {found} bytes")]
    SecretTooLong {
        /// Length of the rejected secret in bytes.
        found: usize,
        /// The longest length accepted, in bytes.
        max: usize,
    },

    /// Text that is not valid base32 (RFC 4648).
    #[error("the key is not valid base32: {0}")]
    InvalidBase32(Base32Problem),

    /// A one-time code that is not well formed; the code itself is never
    /// included.
    #[error("{0}")]
    InvalidCode(CodeProblem),

    /// An `otpauth://` URI that cannot be parsed or built.
    #[error("invalid otpauth URI: {0}")]
    InvalidUri(UriProblem),

    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng(#[source] getrandom::Error),

    /// The text does not fit in a QR code.
    #[error("the text is too long to fit in a QR code")]
    QrTooLong(#[source] fast_qr::qr::QRCodeError),

    /// PNG encoding failed.
    #[cfg(feature = "png")]
    #[error("PNG encoding failed")]
    Png(#[source] png::EncodingError),

    /// Input from a client that is not acceptable (a 4xx, never a 5xx).
    #[error("{0}")]
    InvalidInput(InputProblem),

    /// The operation needs a second-factor verification younger than the
    /// step-up window (10 minutes by default).
    #[error("confirm it is you: verify a code again, then retry")]
    StepUpRequired,

    /// The policy does not allow this (method not allowed, MFA disabled
    /// for the role, MFA required so it cannot be turned off…).
    #[error("not allowed by the security policy: {0}")]
    PolicyForbids(PolicyProblem),

    /// The thing named does not exist (for this subject).
    #[error("{0} not found")]
    NotFound(&'static str),

    /// The subject must first set up what the operation needs.
    #[error("{0}")]
    Precondition(PreconditionProblem),

    /// The store cannot be reached or timed out. Retry later; adapters
    /// answer 503.
    #[error("the MFA store is unavailable; try again shortly")]
    StoreUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// The store failed for another reason (a bug, corrupt data…).
    #[error("the MFA store failed")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// The notifier could not deliver a code.
    #[error("the code could not be sent; try again shortly")]
    Notify(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// No sealing key, duplicate key ids, or a malformed key.
    #[error(
        "invalid sealing key configuration: give at least one 32-byte key, each with its own id"
    )]
    InvalidSealingKey,

    /// Encryption failed.
    #[error("sealing a secret failed")]
    SealingFailed,

    /// A sealed secret was altered, truncated or belongs elsewhere.
    #[error("a sealed secret is corrupt or does not belong to this credential")]
    SealedCorrupt,

    /// A sealed secret names a key that is not configured.
    #[error("a secret is sealed with key id {0}, which is not configured")]
    UnknownSealingKey(u32),

    /// A stored hash does not have 32 bytes.
    #[error("a stored code hash is malformed")]
    InvalidHash,

    /// The pepper is shorter than 32 bytes.
    #[error("the pepper must be at least 32 bytes")]
    PepperTooShort,
}

impl Error {
    /// The class of this error: what an adapter needs to pick a response
    /// (see [`ErrorKind`] for the table).
    ///
    /// Every variant maps to exactly one kind, so one table from kind to
    /// HTTP status covers every error this crate returns.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidDigits(_)
            | Self::InvalidPeriod { .. }
            | Self::InvalidWindow { .. }
            | Self::UnsupportedAlgorithm
            | Self::SecretTooShort { .. }
            | Self::SecretTooLong { .. }
            | Self::InvalidBase32(_)
            | Self::InvalidCode(_)
            | Self::InvalidUri(_)
            | Self::QrTooLong(_)
            | Self::InvalidInput(_) => ErrorKind::BadInput,
            Self::StepUpRequired => ErrorKind::StepUpRequired,
            Self::PolicyForbids(_) => ErrorKind::ForbiddenByPolicy,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Precondition(_) => ErrorKind::Precondition,
            Self::StoreUnavailable(_) | Self::Notify(_) => ErrorKind::Unavailable,
            Self::Rng(_)
            | Self::Store(_)
            | Self::InvalidSealingKey
            | Self::SealingFailed
            | Self::SealedCorrupt
            | Self::UnknownSealingKey(_)
            | Self::InvalidHash
            | Self::PepperTooShort => ErrorKind::Internal,
            #[cfg(feature = "png")]
            Self::Png(_) => ErrorKind::Internal,
        }
    }
}

/// The class of an [`Error`], from [`Error::kind`]: one value per way a
/// caller should react, so an adapter needs a single table from kind to
/// response. The suggested HTTP status is given with each kind.
///
/// | kind | errors | suggested status |
/// |---|---|---|
/// | [`BadInput`](Self::BadInput) | `InvalidDigits`, `InvalidPeriod`, `InvalidWindow`, `UnsupportedAlgorithm`, `SecretTooShort`, `SecretTooLong`, `InvalidBase32`, `InvalidCode`, `InvalidUri`, `QrTooLong`, `InvalidInput` | 422 (400 if the body does not parse at all) |
/// | [`StepUpRequired`](Self::StepUpRequired) | `StepUpRequired` | 403, problem code `step_up_required` |
/// | [`ForbiddenByPolicy`](Self::ForbiddenByPolicy) | `PolicyForbids` | 403 |
/// | [`NotFound`](Self::NotFound) | `NotFound` | 404 |
/// | [`Precondition`](Self::Precondition) | `Precondition` | 409 |
/// | [`Unavailable`](Self::Unavailable) | `StoreUnavailable`, `Notify` | 503 with `Retry-After` |
/// | [`Internal`](Self::Internal) | `Rng`, `Png`, `Store`, `InvalidSealingKey`, `SealingFailed`, `SealedCorrupt`, `UnknownSealingKey`, `InvalidHash`, `PepperTooShort` | 500; log the error, send no detail |
///
/// Only `BadInput`, `StepUpRequired`, `ForbiddenByPolicy`, `NotFound` and
/// `Precondition` are caused by the request; their messages are written
/// for the person and safe to show. `Unavailable` and `Internal` are the
/// server's problem: never a 4xx, and the cause chain is for the log.
///
/// A wrong, expired or replayed code and a lock-out are not errors at all
/// but outcomes (`Verification`, `Confirmation`), so they have no kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client sent something malformed or out of bounds: a code that
    /// is not a code, a bad key, URI, identifier, name or policy. Fix the
    /// input and retry.
    BadInput,
    /// The operation is sensitive and the session has not verified a
    /// second factor recently enough: verify again, then retry.
    StepUpRequired,
    /// The security policy does not allow this for the subject (MFA
    /// disabled for the role, method not allowed, last factor under an
    /// enforced requirement).
    ForbiddenByPolicy,
    /// What the request names does not exist for this subject: an
    /// enrollment (or it expired), an authenticator, a channel factor, a
    /// remembered device.
    NotFound,
    /// The subject's set-up does not allow the operation yet: no address
    /// on the channel, the channel not registered, no second factor at
    /// all, or the authenticator limit reached.
    Precondition,
    /// A back end (the store, or the notifier delivering a code) cannot be
    /// reached or timed out; nothing is wrong with the request. Retry
    /// shortly.
    Unavailable,
    /// A failure on the server side: the store failed otherwise, the
    /// operating system's random number generator failed, a sealed secret
    /// is corrupt or its key is missing, a configured key or pepper is
    /// invalid.
    Internal,
}

impl ErrorKind {
    /// A stable `snake_case` name, usable as a problem code or a metric
    /// label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadInput => "bad_input",
            Self::StepUpRequired => "step_up_required",
            Self::ForbiddenByPolicy => "forbidden_by_policy",
            Self::NotFound => "not_found",
            Self::Precondition => "precondition",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// Whether the request caused it (a 4xx), as opposed to the server
    /// ([`Unavailable`](Self::Unavailable), [`Internal`](Self::Internal)).
    #[must_use]
    pub fn is_client_error(self) -> bool {
        !matches!(self, Self::Unavailable | Self::Internal)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Convenience alias for results whose error is [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why a text is not valid base32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Base32Problem {
    /// A character outside `A`–`Z`, `2`–`7`, spaces, `-` and trailing `=`.
    InvalidCharacter,
    /// The number of characters cannot come from encoding whole bytes.
    InvalidLength,
    /// `=` appears before the end, or the amount of padding is wrong.
    InvalidPadding,
}

impl fmt::Display for Base32Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidCharacter => {
                "it may contain only the letters A-Z, the digits 2-7, spaces and dashes"
            }
            Self::InvalidLength => "it has a number of characters no key can have (truncated?)",
            Self::InvalidPadding => "the '=' padding is misplaced",
        })
    }
}

/// Why a one-time code input is not well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeProblem {
    /// Nothing but spaces was entered.
    Empty,
    /// A character other than ASCII digits, spaces and `-` between digits.
    InvalidCharacter,
    /// Far more characters than any code has.
    TooLong,
    /// Only digits, but not as many as expected.
    WrongLength {
        /// Digits the code must have.
        expected: u8,
        /// Digits that were entered.
        found: usize,
    },
}

impl fmt::Display for CodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("enter the code shown in your authenticator app"),
            Self::InvalidCharacter => {
                f.write_str("a code contains only the digits 0-9 (spaces and dashes are ignored)")
            }
            Self::TooLong => f.write_str("that is far too long to be a code"),
            Self::WrongLength { expected, found } => {
                write!(f, "the code must have {expected} digits, not {found}")
            }
        }
    }
}

/// Why an `otpauth://` URI was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriProblem {
    /// It does not start with `otpauth://`.
    Scheme,
    /// The type is neither `totp` nor `hotp`.
    Type,
    /// The label (`Issuer:account`) is missing or empty.
    MissingAccount,
    /// A name contains a control character or is too long.
    InvalidName,
    /// An account name containing `:` needs an issuer to stay unambiguous.
    ColonInAccountWithoutIssuer,
    /// A `%` escape is malformed or does not decode to UTF-8.
    Encoding,
    /// The `secret` parameter is missing.
    MissingSecret,
    /// `hotp` URIs need a `counter` parameter.
    MissingCounter,
    /// A parameter that must appear once appears twice.
    DuplicateParameter,
    /// `digits`, `period` or `counter` is not a number.
    InvalidNumber,
    /// Authenticator apps assume T0 = 0; a URI cannot carry another epoch.
    NonZeroT0,
    /// The whole URI is longer than any authenticator would accept.
    TooLong,
    /// The label names an issuer (`Issuer:account`) other than the
    /// `issuer` parameter; the two must be equal when both are present.
    IssuerMismatch,
}

impl fmt::Display for UriProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Scheme => "it must start with otpauth://",
            Self::Type => "the type must be totp or hotp",
            Self::MissingAccount => "the account name is missing",
            Self::InvalidName => {
                "issuer and account name must be 1 to 256 characters, without control characters or surrounding spaces"
            }
            Self::ColonInAccountWithoutIssuer => {
                "an account name containing ':' needs an issuer"
            }
            Self::Encoding => "a %-escape is malformed or not UTF-8",
            Self::MissingSecret => "the secret parameter is missing",
            Self::MissingCounter => "an hotp URI needs a counter parameter",
            Self::DuplicateParameter => "a parameter appears more than once",
            Self::InvalidNumber => "digits, period and counter must be whole numbers",
            Self::NonZeroT0 => "authenticator apps assume T0 = 0; this key uses another epoch",
            Self::TooLong => "it is too long",
            Self::IssuerMismatch => {
                "the issuer before ':' in the label differs from the issuer parameter; they must be the same"
            }
        })
    }
}

/// Why client input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputProblem {
    /// An identifier (named) is empty, too long or has control characters.
    Identifier(&'static str),
    /// A role name is not 1–64 of `a-z 0-9 _ - .`.
    Role,
    /// Not `email` or `sms`.
    Channel,
    /// Not a factor kind.
    Factor,
    /// Not an audit action.
    AuditAction,
    /// An authenticator name is empty, too long or has control characters.
    Name,
    /// An enforced role allows no method.
    PolicyNoMethod,
    /// A grace or remember-device period is longer than a year.
    PolicyPeriod,
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Identifier(what) => {
                write!(
                    f,
                    "the {what} must be 1 to 255 bytes without control characters"
                )
            }
            Self::Role => {
                f.write_str("a role name must be 1 to 64 characters of a-z, 0-9, '_', '-' and '.'")
            }
            Self::Channel => f.write_str("the channel must be \"email\" or \"sms\""),
            Self::Factor => {
                f.write_str("the factor must be \"totp\", \"recovery\", \"email\" or \"sms\"")
            }
            Self::AuditAction => f.write_str("unknown audit action"),
            Self::Name => {
                f.write_str("the name must be 1 to 64 characters without control characters")
            }
            Self::PolicyNoMethod => {
                f.write_str("a role that requires MFA must allow at least one method")
            }
            Self::PolicyPeriod => {
                f.write_str("grace and remember-device periods may be at most 366 days")
            }
        }
    }
}

/// Why the policy forbids an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyProblem {
    /// MFA is disabled for the subject's roles.
    MfaDisabled,
    /// The method is not allowed for the subject's roles.
    MethodNotAllowed(FactorKind),
    /// MFA is required, so the last factor cannot be removed nor MFA
    /// turned off.
    MfaRequired,
    /// Remembering browsers is not allowed for the subject's roles.
    RememberNotAllowed,
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MfaDisabled => f.write_str("two-factor authentication is disabled for your role"),
            Self::MethodNotAllowed(kind) => write!(f, "the {kind} method is not allowed for your role"),
            Self::MfaRequired => f.write_str(
                "two-factor authentication is required for your role; add another method before removing this one",
            ),
            Self::RememberNotAllowed => f.write_str("remembering this browser is not allowed for your role"),
        }
    }
}

/// What must be set up first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PreconditionProblem {
    /// No address on file for the channel.
    NoAddress(Channel),
    /// The channel is not registered as a factor.
    ChannelNotEnrolled(Channel),
    /// The subject has no second factor.
    NotEnrolled,
    /// The subject already has the maximum number of authenticators.
    TooManyAuthenticators,
    /// The channel was verified for another address than the subject's
    /// current one: it is not a usable factor until registered again.
    ChannelAddressChanged(Channel),
}

impl fmt::Display for PreconditionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAddress(Channel::Email) => {
                f.write_str("there is no e-mail address on your account")
            }
            Self::NoAddress(Channel::Sms) => {
                f.write_str("there is no phone number on your account")
            }
            Self::ChannelNotEnrolled(channel) => {
                write!(f, "{channel} codes are not set up for your account")
            }
            Self::NotEnrolled => {
                f.write_str("two-factor authentication is not set up for your account")
            }
            Self::TooManyAuthenticators => {
                f.write_str("you have the maximum number of authenticator apps; remove one first")
            }
            Self::ChannelAddressChanged(channel) => write!(
                f,
                "your {channel} address changed since {channel} codes were set up; set them up again"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed() -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(std::io::Error::other("back end"))
    }

    /// Every variant (and every problem of the variants that carry one)
    /// with the kind it must have: the table in [`ErrorKind`]'s docs.
    fn table() -> Vec<(Error, ErrorKind)> {
        use ErrorKind::*;
        let mut rows = vec![
            (Error::InvalidDigits(9), BadInput),
            (
                Error::InvalidPeriod {
                    found: 0,
                    min: 1,
                    max: 3600,
                },
                BadInput,
            ),
            (Error::InvalidWindow { found: 99, max: 10 }, BadInput),
            (Error::UnsupportedAlgorithm, BadInput),
            (Error::SecretTooShort { found: 3, min: 16 }, BadInput),
            (
                Error::SecretTooLong {
                    found: 999,
                    max: 128,
                },
                BadInput,
            ),
            (
                Error::QrTooLong(fast_qr::qr::QRCodeError::EncodedData),
                BadInput,
            ),
            (Error::StepUpRequired, StepUpRequired),
            (Error::NotFound("authenticator"), NotFound),
            (Error::StoreUnavailable(boxed()), Unavailable),
            (Error::Notify(boxed()), Unavailable),
            (Error::Rng(getrandom::Error::UNSUPPORTED), Internal),
            (Error::Store(boxed()), Internal),
            (Error::InvalidSealingKey, Internal),
            (Error::SealingFailed, Internal),
            (Error::SealedCorrupt, Internal),
            (Error::UnknownSealingKey(7), Internal),
            (Error::InvalidHash, Internal),
            (Error::PepperTooShort, Internal),
        ];
        #[cfg(feature = "png")]
        rows.push((Error::Png(png::EncodingError::LimitsExceeded), Internal));
        for problem in [
            Base32Problem::InvalidCharacter,
            Base32Problem::InvalidLength,
            Base32Problem::InvalidPadding,
        ] {
            rows.push((Error::InvalidBase32(problem), BadInput));
        }
        for problem in [
            CodeProblem::Empty,
            CodeProblem::InvalidCharacter,
            CodeProblem::TooLong,
            CodeProblem::WrongLength {
                expected: 6,
                found: 5,
            },
        ] {
            rows.push((Error::InvalidCode(problem), BadInput));
        }
        for problem in [
            UriProblem::Scheme,
            UriProblem::Type,
            UriProblem::MissingAccount,
            UriProblem::InvalidName,
            UriProblem::ColonInAccountWithoutIssuer,
            UriProblem::Encoding,
            UriProblem::MissingSecret,
            UriProblem::MissingCounter,
            UriProblem::DuplicateParameter,
            UriProblem::InvalidNumber,
            UriProblem::NonZeroT0,
            UriProblem::TooLong,
        ] {
            rows.push((Error::InvalidUri(problem), BadInput));
        }
        for problem in [
            InputProblem::Identifier("subject id"),
            InputProblem::Role,
            InputProblem::Channel,
            InputProblem::Factor,
            InputProblem::AuditAction,
            InputProblem::Name,
            InputProblem::PolicyNoMethod,
            InputProblem::PolicyPeriod,
        ] {
            rows.push((Error::InvalidInput(problem), BadInput));
        }
        for problem in [
            PolicyProblem::MfaDisabled,
            PolicyProblem::MethodNotAllowed(FactorKind::Sms),
            PolicyProblem::MfaRequired,
            PolicyProblem::RememberNotAllowed,
        ] {
            rows.push((Error::PolicyForbids(problem), ForbiddenByPolicy));
        }
        for problem in [
            PreconditionProblem::NoAddress(Channel::Email),
            PreconditionProblem::NoAddress(Channel::Sms),
            PreconditionProblem::ChannelNotEnrolled(Channel::Email),
            PreconditionProblem::NotEnrolled,
            PreconditionProblem::TooManyAuthenticators,
        ] {
            rows.push((Error::Precondition(problem), Precondition));
        }
        rows
    }

    #[test]
    fn every_variant_has_its_kind() {
        for (error, kind) in table() {
            assert_eq!(error.kind(), kind, "{error:?}");
        }
    }

    #[test]
    fn only_server_side_kinds_are_not_client_errors() {
        for (error, kind) in table() {
            let server_side = matches!(kind, ErrorKind::Unavailable | ErrorKind::Internal);
            assert_eq!(kind.is_client_error(), !server_side, "{error:?}");
            // What a client may see says nothing about the back end.
            assert!(!error.to_string().contains("back end"), "{error}");
        }
    }

    #[test]
    fn kind_names_are_stable_and_distinct() {
        let all = [
            (ErrorKind::BadInput, "bad_input"),
            (ErrorKind::StepUpRequired, "step_up_required"),
            (ErrorKind::ForbiddenByPolicy, "forbidden_by_policy"),
            (ErrorKind::NotFound, "not_found"),
            (ErrorKind::Precondition, "precondition"),
            (ErrorKind::Unavailable, "unavailable"),
            (ErrorKind::Internal, "internal"),
        ];
        for (kind, name) in all {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
        }
        let names: std::collections::BTreeSet<_> = all.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn the_bottom_layer_imports_nothing_above_it() {
        // `factor` (names of factors and channels) imports nothing from the
        // crate; this module imports only `factor`. Anything else would
        // make the error type depend on the modules that depend on it.
        let outside = |source: &str, allowed: &[&str]| -> Vec<String> {
            source
                .lines()
                .filter(|line| line.contains("crate::"))
                .filter(|line| !allowed.iter().any(|a| line.contains(a)))
                .map(str::to_owned)
                .collect()
        };
        let this = include_str!("error.rs");
        let marker = ["#[cfg(test)]", "\nmod tests"].concat();
        let (code, _tests) = this.split_once(&marker).unwrap_or((this, ""));
        assert_eq!(outside(code, &["crate::factor::"]), Vec::<String>::new());
        assert_eq!(
            outside(include_str!("factor.rs"), &[]),
            Vec::<String>::new()
        );
    }
}
