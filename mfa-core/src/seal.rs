//! Sealing TOTP secrets at rest.
//!
//! A secret is encrypted with XChaCha20-Poly1305 (RustCrypto
//! `chacha20poly1305`) under the newest configured key, with a fresh random
//! 192-bit nonce. The key id travels with the ciphertext so that older keys
//! can still open what they sealed, and the associated data binds the
//! ciphertext to its subject and credential: a sealed secret copied onto
//! another row does not open. A database dump alone reveals no secret.
//!
//! ```
//! use mfa_core::seal::{SealingKey, Sealer};
//! use mfa_core::{CredentialId, Secret, SubjectId};
//!
//! let sealer = Sealer::new(vec![SealingKey::new(1, [7u8; 32])])?;
//! let subject = SubjectId::new("alice")?;
//! let credential = CredentialId::generate()?;
//! let secret = Secret::generate()?;
//! let sealed = sealer.seal(&secret, &subject, &credential)?;
//! assert_eq!(sealer.open(&sealed, &subject, &credential)?, secret);
//! # Ok::<(), mfa_core::Error>(())
//! ```

use core::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::subject::{CredentialId, SubjectId};

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
const AAD_DOMAIN: &[u8] = b"mfa/totp-secret/v1";

/// A 256-bit sealing key with its id.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SealingKey {
    #[zeroize(skip)]
    id: u32,
    key: [u8; 32],
}

impl SealingKey {
    /// A key with an id of your choosing (e.g. 1, 2, 3 as you rotate).
    #[must_use]
    pub fn new(id: u32, key: [u8; 32]) -> Self {
        Self { id, key }
    }

    /// A fresh random key.
    ///
    /// # Errors
    /// [`Error::Rng`] if the operating system cannot provide randomness.
    pub fn generate(id: u32) -> Result<Self> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(Error::Rng)?;
        Ok(Self { id, key })
    }

    /// Decodes a key from 64 hex characters (how it is usually kept in an
    /// environment variable or secret store).
    ///
    /// # Errors
    /// [`Error::InvalidSealingKey`] if `hex` is not 64 hex digits.
    pub fn from_hex(id: u32, hex: &str) -> Result<Self> {
        let hex = hex.trim();
        let mut key = [0u8; 32];
        if hex.len() != 64 {
            return Err(Error::InvalidSealingKey);
        }
        for (byte, pair) in key.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let nibble = |c: u8| char::from(c).to_digit(16).ok_or(Error::InvalidSealingKey);
            let value = nibble(pair.first().copied().unwrap_or(b'x'))? * 16
                + nibble(pair.get(1).copied().unwrap_or(b'x'))?;
            *byte = u8::try_from(value).map_err(|_| Error::InvalidSealingKey)?;
        }
        Ok(Self { id, key })
    }

    /// The key id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealingKey {{ id: {}, key: <redacted> }}", self.id)
    }
}

/// A sealed secret: format version, key id, nonce and ciphertext with tag.
/// Not secret itself, but only the [`Sealer`] with the right key opens it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    /// The stored form, for a database column.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads the stored form back. Only the framing is checked here;
    /// authenticity is checked by [`Sealer::open`].
    ///
    /// # Errors
    /// [`Error::SealedCorrupt`] if the bytes cannot be a sealed secret.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() <= HEADER_LEN || bytes.first() != Some(&FORMAT_VERSION) {
            return Err(Error::SealedCorrupt);
        }
        Ok(Self(bytes))
    }

    /// The id of the key that sealed it.
    #[must_use]
    pub fn key_id(&self) -> u32 {
        let mut id = [0u8; 4];
        if let Some(bytes) = self.0.get(1..5) {
            id.copy_from_slice(bytes);
        }
        u32::from_be_bytes(id)
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sealed {{ key_id: {}, len: {} }}",
            self.key_id(),
            self.0.len()
        )
    }
}

/// Seals with the newest key, opens with any configured key.
#[derive(Clone)]
pub struct Sealer {
    /// Ordered newest first.
    keys: Vec<SealingKey>,
}

impl Sealer {
    /// A sealer over `keys`. The key with the *highest id* seals; all of
    /// them open.
    ///
    /// # Errors
    /// [`Error::InvalidSealingKey`] if `keys` is empty or two keys share an id.
    pub fn new(mut keys: Vec<SealingKey>) -> Result<Self> {
        keys.sort_by_key(|k| core::cmp::Reverse(k.id));
        if keys.is_empty()
            || keys
                .windows(2)
                .any(|w| w.first().map(|k| k.id) == w.get(1).map(|k| k.id))
        {
            return Err(Error::InvalidSealingKey);
        }
        Ok(Self { keys })
    }

    /// The id of the key new secrets are sealed with.
    #[must_use]
    pub fn current_key_id(&self) -> u32 {
        self.keys.first().map_or(0, |k| k.id)
    }

    /// Seals `secret` for `credential` of `subject`.
    ///
    /// # Errors
    /// [`Error::Rng`] if no nonce can be drawn; [`Error::SealingFailed`]
    /// if encryption fails.
    pub fn seal(
        &self,
        secret: &Secret,
        subject: &SubjectId,
        credential: &CredentialId,
    ) -> Result<Sealed> {
        self.seal_bytes(secret.expose_bytes(), subject, credential)
    }

    /// Seals any bytes (an address to notify later, say) for `credential`
    /// of `subject`, exactly as [`seal`](Self::seal) seals a secret.
    ///
    /// # Errors
    /// As [`seal`](Self::seal).
    pub fn seal_bytes(
        &self,
        plain: &[u8],
        subject: &SubjectId,
        credential: &CredentialId,
    ) -> Result<Sealed> {
        let key = self.keys.first().ok_or(Error::InvalidSealingKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(Error::Rng)?;
        let aad = associated_data(key.id, subject, credential);
        let cipher = XChaCha20Poly1305::new((&key.key).into());
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::SealingFailed)?;
        let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&key.id.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(Sealed(out))
    }

    /// Opens a sealed secret.
    ///
    /// # Errors
    /// [`Error::UnknownSealingKey`] if its key is not configured;
    /// [`Error::SealedCorrupt`] if it was altered or belongs to another
    /// subject or credential.
    pub fn open(
        &self,
        sealed: &Sealed,
        subject: &SubjectId,
        credential: &CredentialId,
    ) -> Result<Secret> {
        Secret::from_bytes(&self.open_bytes(sealed, subject, credential)?)
    }

    /// Opens what [`seal_bytes`](Self::seal_bytes) sealed.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_bytes(
        &self,
        sealed: &Sealed,
        subject: &SubjectId,
        credential: &CredentialId,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let key_id = sealed.key_id();
        let key = self
            .keys
            .iter()
            .find(|k| k.id == key_id)
            .ok_or(Error::UnknownSealingKey(key_id))?;
        let nonce = sealed
            .0
            .get(5..HEADER_LEN)
            .and_then(|n| XNonce::try_from(n).ok())
            .ok_or(Error::SealedCorrupt)?;
        let ciphertext = sealed.0.get(HEADER_LEN..).ok_or(Error::SealedCorrupt)?;
        let aad = associated_data(key_id, subject, credential);
        let cipher = XChaCha20Poly1305::new((&key.key).into());
        Ok(Zeroizing::new(
            cipher
                .decrypt(
                    &nonce,
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| Error::SealedCorrupt)?,
        ))
    }

    /// Whether `sealed` is already under the current key.
    #[must_use]
    pub fn is_current(&self, sealed: &Sealed) -> bool {
        sealed.key_id() == self.current_key_id()
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field(
                "key_ids",
                &self.keys.iter().map(|k| k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Domain, key id, and both identifiers, each length-prefixed so that no
/// two different pairs give the same bytes.
fn associated_data(key_id: u32, subject: &SubjectId, credential: &CredentialId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(
        AAD_DOMAIN.len() + 12 + subject.as_str().len() + credential.as_str().len(),
    );
    aad.extend_from_slice(AAD_DOMAIN);
    aad.extend_from_slice(&key_id.to_be_bytes());
    for part in [subject.as_str(), credential.as_str()] {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        aad.extend_from_slice(&len.to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (SubjectId, CredentialId) {
        (
            SubjectId::new("alice").unwrap(),
            CredentialId::new("c1").unwrap(),
        )
    }

    #[test]
    fn round_trip_and_no_plaintext_in_output() {
        let sealer = Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap();
        let (subject, credential) = ids();
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        let sealed = sealer.seal(&secret, &subject, &credential).unwrap();
        assert!(!sealed.as_bytes().windows(8).any(|w| w == b"12345678"));
        let b32 = secret.to_base32();
        assert!(
            !sealed
                .as_bytes()
                .windows(8)
                .any(|w| w == &b32.as_bytes()[..8])
        );
        assert_eq!(sealer.open(&sealed, &subject, &credential).unwrap(), secret);
        // Two seals of the same secret differ (fresh nonce).
        assert_ne!(sealer.seal(&secret, &subject, &credential).unwrap(), sealed);
    }

    #[test]
    fn bound_to_subject_and_credential() {
        let sealer = Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap();
        let (subject, credential) = ids();
        let sealed = sealer
            .seal(&Secret::generate().unwrap(), &subject, &credential)
            .unwrap();
        let other_subject = SubjectId::new("mallory").unwrap();
        let other_credential = CredentialId::new("c2").unwrap();
        assert!(matches!(
            sealer.open(&sealed, &other_subject, &credential),
            Err(Error::SealedCorrupt)
        ));
        assert!(matches!(
            sealer.open(&sealed, &subject, &other_credential),
            Err(Error::SealedCorrupt)
        ));
        // Length prefixes: ("ab", "c") and ("a", "bc") are different data.
        let ab = SubjectId::new("ab").unwrap();
        let c = CredentialId::new("c").unwrap();
        let a = SubjectId::new("a").unwrap();
        let bc = CredentialId::new("bc").unwrap();
        let sealed = sealer.seal(&Secret::generate().unwrap(), &ab, &c).unwrap();
        assert!(sealer.open(&sealed, &a, &bc).is_err());
    }

    #[test]
    fn tampering_is_detected() {
        let sealer = Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap();
        let (subject, credential) = ids();
        let sealed = sealer
            .seal(&Secret::generate().unwrap(), &subject, &credential)
            .unwrap();
        for i in HEADER_LEN..sealed.as_bytes().len() {
            let mut bytes = sealed.as_bytes().to_vec();
            bytes[i] ^= 1;
            let tampered = Sealed::from_bytes(bytes).unwrap();
            assert!(matches!(
                sealer.open(&tampered, &subject, &credential),
                Err(Error::SealedCorrupt)
            ));
        }
        assert!(Sealed::from_bytes(vec![]).is_err());
        assert!(Sealed::from_bytes(vec![9; 64]).is_err());
    }

    #[test]
    fn rotation_newest_seals_all_open() {
        let (subject, credential) = ids();
        let old = Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap();
        let sealed_old = old
            .seal(&Secret::generate().unwrap(), &subject, &credential)
            .unwrap();
        let both = Sealer::new(vec![
            SealingKey::new(1, [1; 32]),
            SealingKey::new(2, [2; 32]),
        ])
        .unwrap();
        assert_eq!(both.current_key_id(), 2);
        assert!(both.open(&sealed_old, &subject, &credential).is_ok());
        assert!(!both.is_current(&sealed_old));
        let sealed_new = both
            .seal(&Secret::generate().unwrap(), &subject, &credential)
            .unwrap();
        assert_eq!(sealed_new.key_id(), 2);
        assert!(matches!(
            old.open(&sealed_new, &subject, &credential),
            Err(Error::UnknownSealingKey(2))
        ));
        assert!(Sealer::new(vec![]).is_err());
        assert!(
            Sealer::new(vec![
                SealingKey::new(1, [1; 32]),
                SealingKey::new(1, [2; 32])
            ])
            .is_err()
        );
    }

    #[test]
    fn keys_from_hex_and_redacted() {
        let key = SealingKey::from_hex(3, &"ab".repeat(32)).unwrap();
        assert_eq!(key.id(), 3);
        assert!(SealingKey::from_hex(3, "abc").is_err());
        assert!(SealingKey::from_hex(3, &"zz".repeat(32)).is_err());
        assert_eq!(format!("{key:?}"), "SealingKey { id: 3, key: <redacted> }");
    }
}
