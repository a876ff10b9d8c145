//! The prepared HMAC key: the inner and outer hash states after absorbing
//! the padded key are computed once, so each code costs exactly two
//! compression-function calls (one for `counter ‖ padding`, one for
//! `inner-hash ‖ padding`) and no heap allocation.

use hmac::digest::{Digest, KeyInit, Mac, block_api::EagerHash};
use hmac::Hmac;
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use zeroize::Zeroize;

use super::Algorithm;

/// HMAC states keyed with a secret. Both states are secret-equivalent; the
/// hash cores zeroize themselves on drop (the `zeroize` feature of `sha1`
/// and `sha2`), including the per-step clones.
#[derive(Clone)]
pub(crate) enum PreparedKey {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl PreparedKey {
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(keyed(key)),
            Algorithm::Sha256 => Self::Sha256(keyed(key)),
            Algorithm::Sha512 => Self::Sha512(keyed(key)),
        }
    }

    /// RFC 4226 §5.3: HMAC(counter), dynamic truncation, 31-bit value.
    #[inline]
    pub(crate) fn truncated(&self, counter: u64) -> u32 {
        let message = counter.to_be_bytes();
        match self {
            Self::Sha1(mac) => dynamic_truncation(&sign(mac, &message)),
            Self::Sha256(mac) => dynamic_truncation(&sign(mac, &message)),
            Self::Sha512(mac) => dynamic_truncation(&sign(mac, &message)),
        }
    }
}

/// Keys an HMAC without the fallible `new_from_slice`: the key is reduced to
/// one block exactly as RFC 2104 §2 says (hashed when longer than a block,
/// zero-padded otherwise), which is what `new_from_slice` does inside.
fn keyed<D>(key: &[u8]) -> Hmac<D>
where
    D: EagerHash + Digest,
    Hmac<D>: KeyInit,
{
    let mut block = hmac::digest::Key::<Hmac<D>>::default();
    if key.len() > block.len() {
        let mut digest = D::digest(key);
        copy_prefix(&mut block, &digest);
        digest.as_mut_slice().zeroize();
    } else {
        copy_prefix(&mut block, key);
    }
    let mac = <Hmac<D> as KeyInit>::new(&block);
    block.as_mut_slice().zeroize();
    mac
}

fn copy_prefix(block: &mut [u8], bytes: &[u8]) {
    for (dst, src) in block.iter_mut().zip(bytes) {
        *dst = *src;
    }
}

#[inline]
fn sign<D>(mac: &Hmac<D>, message: &[u8]) -> hmac::digest::Output<Hmac<D>>
where
    D: EagerHash,
    Hmac<D>: Mac + Clone,
{
    let mut mac = mac.clone();
    mac.update(message);
    mac.finalize().into_bytes()
}

/// RFC 4226 §5.3. Every HMAC output is at least 20 bytes, and the offset is
/// at most 15, so the four bytes read are always in range.
#[inline]
fn dynamic_truncation(hash: &[u8]) -> u32 {
    let offset = usize::from(hash.last().copied().unwrap_or(0) & 0x0f);
    let mut word = [0u8; 4];
    copy_prefix(&mut word, hash.get(offset..).unwrap_or_default());
    u32::from_be_bytes(word) & 0x7fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4226_truncation_example() {
        // RFC 4226 §5.4: the worked example.
        let hash = [
            0x1f, 0x86, 0x98, 0x69, 0x0e, 0x02, 0xca, 0x16, 0x61, 0x85, 0x50, 0xef, 0x7f, 0x19,
            0xda, 0x8e, 0x94, 0x5b, 0x55, 0x5a,
        ];
        assert_eq!(dynamic_truncation(&hash), 0x50ef_7f19);
        assert_eq!(dynamic_truncation(&hash) % 1_000_000, 872_921);
    }

    #[test]
    fn long_keys_are_hashed_like_rfc2104() {
        // A 100-byte key is longer than SHA-1's 64-byte block: the prepared
        // key must equal HMAC keyed by the slice API.
        let key = [0x5au8; 100];
        let ours = sign(
            match &PreparedKey::new(Algorithm::Sha1, &key) {
                PreparedKey::Sha1(mac) => mac,
                _ => unreachable!(),
            },
            b"message",
        );
        let mut reference = <Hmac<Sha1> as KeyInit>::new_from_slice(&key).unwrap();
        reference.update(b"message");
        assert_eq!(ours, reference.finalize().into_bytes());
    }
}
