//! The shared secret behind HOTP/TOTP codes.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{base32_decode, base32_encode};
use crate::error::{Error, Result};

/// A HOTP/TOTP shared secret.
///
/// The bytes are private: they are zeroized when the value is dropped, never
/// printed (`Debug` shows only `Secret(<redacted>)`, there is no `Display`
/// and no `Serialize`), and compared in constant time. Reading them takes an
/// explicit [`expose_bytes`](Self::expose_bytes) or
/// [`to_base32`](Self::to_base32) call that is easy to find in review.
///
/// # Security
/// Lengths below [`MIN_LEN`](Self::MIN_LEN) (128 bits, RFC 4226 §4 R6) are
/// refused wherever a secret is made: generated, decoded or parsed from an
/// `otpauth://` URI.
///
/// ```
/// use mfa_core::Secret;
///
/// let secret = Secret::generate()?;
/// assert_eq!(secret.len(), 20);
/// let typed = secret.to_base32_grouped(); // "ABCD EFGH ..." for typing
/// assert_eq!(Secret::from_base32(&typed)?, secret);
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// # Ok::<(), mfa_core::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret {
    bytes: Box<[u8]>,
}

impl Secret {
    /// Length of a generated secret: 20 bytes (160 bits, RFC 4226 §4).
    pub const DEFAULT_LEN: usize = 20;
    /// Shortest accepted secret: 16 bytes (128 bits).
    pub const MIN_LEN: usize = 16;
    /// Longest accepted secret: 128 bytes, enough for any HMAC-SHA-512 key.
    pub const MAX_LEN: usize = 128;

    /// Generates a [`DEFAULT_LEN`](Self::DEFAULT_LEN)-byte secret from the
    /// operating system's CSPRNG.
    ///
    /// # Errors
    /// [`Error::Rng`] if the operating system cannot provide randomness.
    pub fn generate() -> Result<Self> {
        Self::generate_len(Self::DEFAULT_LEN)
    }

    /// Generates a secret of `len` bytes from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`Error::SecretTooShort`] / [`Error::SecretTooLong`] outside
    /// [`MIN_LEN`](Self::MIN_LEN)..=[`MAX_LEN`](Self::MAX_LEN);
    /// [`Error::Rng`] if the operating system cannot provide randomness.
    pub fn generate_len(len: usize) -> Result<Self> {
        check_len(len)?;
        let mut bytes = vec![0u8; len].into_boxed_slice();
        getrandom::fill(&mut bytes).map_err(Error::Rng)?;
        Ok(Self { bytes })
    }

    /// Copies raw secret bytes.
    ///
    /// # Errors
    /// [`Error::SecretTooShort`] / [`Error::SecretTooLong`] outside
    /// [`MIN_LEN`](Self::MIN_LEN)..=[`MAX_LEN`](Self::MAX_LEN).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        check_len(bytes.len())?;
        Ok(Self {
            bytes: bytes.into(),
        })
    }

    /// Decodes a base32 key as people type or paste it: lowercase, spaces,
    /// dashes and missing `=` padding are all accepted.
    ///
    /// # Errors
    /// [`Error::InvalidBase32`] for text that is not base32, and the length
    /// errors of [`from_bytes`](Self::from_bytes).
    pub fn from_base32(text: &str) -> Result<Self> {
        // Refuse absurd input before decoding it.
        if text.len() > Self::MAX_LEN * 4 {
            return Err(Error::SecretTooLong {
                found: text.len() * 5 / 8,
                max: Self::MAX_LEN,
            });
        }
        let bytes: Zeroizing<Vec<u8>> = base32_decode(text)?;
        Self::from_bytes(&bytes)
    }

    /// The key as unpadded uppercase base32, the form `otpauth://` URIs use.
    #[must_use]
    pub fn to_base32(&self) -> Zeroizing<String> {
        base32_encode(&self.bytes)
    }

    /// The key as base32 in groups of four separated by spaces
    /// (`ABCD EFGH IJKL …`), the form to show someone who types it into an
    /// authenticator app.
    #[must_use]
    pub fn to_base32_grouped(&self) -> Zeroizing<String> {
        let plain = self.to_base32();
        let mut out = Zeroizing::new(String::with_capacity(plain.len() + plain.len() / 4));
        for (i, c) in plain.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }

    /// The raw bytes. Every call site is a place where the secret leaves
    /// this type: keep them few.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always `false`: a secret has at least [`MIN_LEN`](Self::MIN_LEN)
    /// bytes. Present because `len` is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

fn check_len(found: usize) -> Result<()> {
    if found < Secret::MIN_LEN {
        Err(Error::SecretTooShort {
            found,
            min: Secret::MIN_LEN,
        })
    } else if found > Secret::MAX_LEN {
        Err(Error::SecretTooLong {
            found,
            max: Secret::MAX_LEN,
        })
    } else {
        Ok(())
    }
}

impl ConstantTimeEq for Secret {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        // Lengths are not secret; `ct_eq` on slices of different length is
        // false without looking at the bytes.
        self.bytes.ct_eq(&other.bytes)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_default_length_and_distinct() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_eq!(a.len(), Secret::DEFAULT_LEN);
        assert_ne!(a, b);
        assert_eq!(Secret::generate_len(64).unwrap().len(), 64);
    }

    #[test]
    fn short_and_long_secrets_are_refused_with_a_clear_message() {
        let err = Secret::from_bytes(&[7u8; 10]).unwrap_err();
        assert!(matches!(err, Error::SecretTooShort { found: 10, min: 16 }));
        assert_eq!(
            err.to_string(),
            "a secret must be at least 16 bytes (128 bits); this one has 10 bytes"
        );
        assert!(matches!(
            Secret::generate_len(15),
            Err(Error::SecretTooShort { found: 15, min: 16 })
        ));
        assert!(matches!(
            Secret::from_bytes(&[0u8; 129]),
            Err(Error::SecretTooLong {
                found: 129,
                max: 128
            })
        ));
        // 80-bit keys, still handed out by some old services, are refused.
        assert!(matches!(
            Secret::from_base32("JBSWY3DPEHPK3PXP"),
            Err(Error::SecretTooShort { found: 10, min: 16 })
        ));
        assert!(Secret::from_base32(&"A".repeat(10_000)).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("1234"));
        assert!(!shown.contains("GEZD"));
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn equality_compares_content_and_length() {
        let a = Secret::from_bytes(&[1u8; 20]).unwrap();
        let b = Secret::from_bytes(&[1u8; 20]).unwrap();
        let c = Secret::from_bytes(&[1u8; 21]).unwrap();
        let mut d_bytes = [1u8; 20];
        d_bytes[19] = 2;
        let d = Secret::from_bytes(&d_bytes).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn grouped_base32_is_typed_back() {
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(
            secret.to_base32_grouped().as_str(),
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
        );
        assert_eq!(
            Secret::from_base32(&secret.to_base32_grouped()).unwrap(),
            secret
        );
    }

    #[test]
    fn zeroize_clears_the_bytes() {
        let mut secret = Secret::from_bytes(&[0xAB; 20]).unwrap();
        secret.zeroize();
        assert!(secret.expose_bytes().iter().all(|&b| b == 0));
    }
}
