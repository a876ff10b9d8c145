//! Keyed hashing of everything that is stored only to be compared:
//! recovery codes, e-mail/SMS codes and remembered-device tokens.
//!
//! Each value is stored as HMAC-SHA-256 under a server-side *pepper* that
//! never enters the database, with a domain label and the subject id mixed
//! in. A dump of the tables therefore cannot be brute-forced (a six-digit
//! code has only a million values) without also stealing the pepper, and a
//! hash for one subject or purpose never matches another.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};
use crate::subject::SubjectId;

/// A stored hash (HMAC-SHA-256 output).
#[derive(Clone, Copy, Eq)]
pub struct CodeHash([u8; 32]);

impl CodeHash {
    /// Wraps 32 bytes read back from storage.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads a hash from a slice of 32 bytes.
    ///
    /// # Errors
    /// [`Error::SealedCorrupt`]-like framing errors are reported as
    /// [`Error::InvalidHash`] when the length is not 32.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| Error::InvalidHash)
    }

    /// The 32 bytes, for storage.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for CodeHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl core::hash::Hash for CodeHash {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeHash(..)")
    }
}

/// What a hash is of; part of the hashed data, so hashes of different
/// purposes never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    RecoveryCode,
    SentCode(crate::subject::Channel),
    DeviceToken,
    Address(crate::subject::Channel),
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::RecoveryCode => b"mfa/recovery-code/v1",
            Self::SentCode(crate::subject::Channel::Email) => b"mfa/email-code/v1",
            Self::SentCode(crate::subject::Channel::Sms) => b"mfa/sms-code/v1",
            Self::DeviceToken => b"mfa/device-token/v1",
            Self::Address(crate::subject::Channel::Email) => b"mfa/email-address/v1",
            Self::Address(crate::subject::Channel::Sms) => b"mfa/sms-address/v1",
        }
    }
}

/// The server-side secret key for [`CodeHash`]es. At least 32 bytes;
/// zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Pepper(Vec<u8>);

impl Pepper {
    /// Shortest accepted pepper, in bytes.
    pub const MIN_LEN: usize = 32;

    /// A pepper from configured bytes.
    ///
    /// # Errors
    /// [`Error::PepperTooShort`] below [`MIN_LEN`](Self::MIN_LEN) bytes.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < Self::MIN_LEN {
            return Err(Error::PepperTooShort);
        }
        Ok(Self(bytes.to_vec()))
    }

    /// A fresh random 32-byte pepper (for tests and first-run set-up; a
    /// real deployment keeps one stable pepper, or every stored hash stops
    /// matching).
    ///
    /// # Errors
    /// [`Error::Rng`] if the operating system cannot provide randomness.
    pub fn generate() -> Result<Self> {
        let mut bytes = vec![0u8; Self::MIN_LEN];
        getrandom::fill(&mut bytes).map_err(Error::Rng)?;
        Ok(Self(bytes))
    }

    pub(crate) fn hash(&self, purpose: Purpose, subject: &SubjectId, value: &[u8]) -> CodeHash {
        // HMAC takes keys of any length, so this cannot fail; the fallback
        // arm exists only to avoid an `expect`.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) else {
            return CodeHash([0; 32]);
        };
        for part in [purpose.label(), subject.as_str().as_bytes(), value] {
            mac.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            mac.update(part);
        }
        CodeHash(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subject::Channel;

    #[test]
    fn hashes_are_separated_by_purpose_subject_and_pepper() {
        let pepper = Pepper::new(&[1; 32]).unwrap();
        let alice = SubjectId::new("alice").unwrap();
        let bob = SubjectId::new("bob").unwrap();
        let h = |p: &Pepper, purpose, s: &SubjectId| p.hash(purpose, s, b"123456");
        let base = h(&pepper, Purpose::SentCode(Channel::Email), &alice);
        assert_eq!(base, h(&pepper, Purpose::SentCode(Channel::Email), &alice));
        assert_ne!(base, h(&pepper, Purpose::SentCode(Channel::Sms), &alice));
        assert_ne!(base, h(&pepper, Purpose::RecoveryCode, &alice));
        assert_ne!(base, h(&pepper, Purpose::SentCode(Channel::Email), &bob));
        assert_ne!(
            base,
            h(
                &Pepper::new(&[2; 32]).unwrap(),
                Purpose::SentCode(Channel::Email),
                &alice
            )
        );
        assert!(Pepper::new(&[1; 31]).is_err());
        assert_eq!(format!("{pepper:?}"), "Pepper(<redacted>)");
        assert_eq!(format!("{base:?}"), "CodeHash(..)");
    }
}
