//! The prepared HMAC key.
//!
//! HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)) (RFC 2104). The two key
//! blocks never change, so their compression is done once, here, and only
//! the two chaining states are kept. An OTP message is an 8-byte counter,
//! so each code then costs exactly two compression-function calls — one
//! for `counter ‖ padding`, one for `inner digest ‖ padding` — with both
//! blocks built on the stack: no heap, no hasher buffers, no dispatch per
//! byte. The compression functions are the RustCrypto ones (`sha1`,
//! `sha2`), which pick SHA-NI / ARMv8 instructions at run time.
//!
//! Correctness is pinned by the RFC 4226 / RFC 6238 vectors, by a
//! differential test against the `hmac` crate for every algorithm and every
//! key length from 0 to 200 bytes (both sides of both block sizes), and by
//! property tests against totp-rs.
//!
//! Why not `hmac::Hmac` itself, cloned per step from a pre-keyed instance?
//! It also keeps the two key states, but besides the two compressions each
//! step clones a block buffer and goes through the generic buffered `Mac`
//! interface; measured per step it was slower for every algorithm, in every
//! run (BENCHMARKS.md, "One HMAC step"), so this stays.

use sha1::Digest;
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::Algorithm;

/// FIPS 180-4 §5.3.1: SHA-1 initial hash value.
const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];
/// FIPS 180-4 §5.3.3: SHA-256 initial hash value.
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];
/// FIPS 180-4 §5.3.5: SHA-512 initial hash value.
const SHA512_IV: [u64; 8] = [
    0x6a09_e667_f3bc_c908,
    0xbb67_ae85_84ca_a73b,
    0x3c6e_f372_fe94_f82b,
    0xa54f_f53a_5f1d_36f1,
    0x510e_527f_ade6_82d1,
    0x9b05_688c_2b3e_6c1f,
    0x1f83_d9ab_fb41_bd6b,
    0x5be0_cd19_137e_2179,
];

/// The chaining states after the `K ⊕ ipad` and `K ⊕ opad` blocks. Both
/// are key-equivalent, so they are zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) enum PreparedKey {
    Sha1 { inner: [u32; 5], outer: [u32; 5] },
    Sha256 { inner: [u32; 8], outer: [u32; 8] },
    Sha512 { inner: [u64; 8], outer: [u64; 8] },
}

impl PreparedKey {
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        match algorithm {
            Algorithm::Sha1 => {
                let (inner, outer) = prepare::<Sha1, u32, 5, 64>(key, SHA1_IV, sha1_compress);
                Self::Sha1 { inner, outer }
            }
            Algorithm::Sha256 => {
                let (inner, outer) = prepare::<Sha256, u32, 8, 64>(key, SHA256_IV, sha256_compress);
                Self::Sha256 { inner, outer }
            }
            Algorithm::Sha512 => {
                let (inner, outer) =
                    prepare::<Sha512, u64, 8, 128>(key, SHA512_IV, sha512_compress);
                Self::Sha512 { inner, outer }
            }
        }
    }

    /// RFC 4226 §5.3: HMAC(counter), then dynamic truncation to 31 bits.
    #[inline]
    pub(crate) fn truncated(&self, counter: u64) -> u32 {
        match self {
            Self::Sha1 { inner, outer } => mac(inner, outer, sha1_compress, counter),
            Self::Sha256 { inner, outer } => mac(inner, outer, sha256_compress, counter),
            Self::Sha512 { inner, outer } => mac(inner, outer, sha512_compress, counter),
        }
    }
}

#[inline(always)]
fn sha1_compress(state: &mut [u32; 5], block: &[u8; 64]) {
    sha1::block_api::compress(state, core::slice::from_ref(block));
}

#[inline(always)]
fn sha256_compress(state: &mut [u32; 8], block: &[u8; 64]) {
    sha2::block_api::compress256(state, core::slice::from_ref(block));
}

#[inline(always)]
fn sha512_compress(state: &mut [u64; 8], block: &[u8; 128]) {
    sha2::block_api::compress512(state, core::slice::from_ref(block));
}

/// A big-endian state word (SHA-1/256 use `u32`, SHA-512 `u64`).
trait Word: Copy + Zeroize {
    const BYTES: usize;
    fn write_be(self, out: &mut [u8]);
}

impl Word for u32 {
    const BYTES: usize = 4;
    #[inline(always)]
    fn write_be(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_be_bytes());
    }
}

impl Word for u64 {
    const BYTES: usize = 8;
    #[inline(always)]
    fn write_be(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_be_bytes());
    }
}

/// Compresses the two key blocks (RFC 2104 §2: a key longer than a block
/// is hashed first, a shorter one zero-padded).
fn prepare<D: Digest, W: Word, const N: usize, const B: usize>(
    key: &[u8],
    iv: [W; N],
    compress: fn(&mut [W; N], &[u8; B]),
) -> ([W; N], [W; N]) {
    let mut ipad = [0x36u8; B];
    let mut opad = [0x5cu8; B];
    let mut xor_key = |key: &[u8]| {
        for ((i, o), k) in ipad.iter_mut().zip(opad.iter_mut()).zip(key) {
            *i ^= k;
            *o ^= k;
        }
    };
    if key.len() > B {
        let mut digest = D::digest(key);
        xor_key(&digest);
        digest.as_mut_slice().zeroize();
    } else {
        xor_key(key);
    }
    let (mut inner, mut outer) = (iv, iv);
    compress(&mut inner, &ipad);
    compress(&mut outer, &opad);
    ipad.zeroize();
    opad.zeroize();
    (inner, outer)
}

/// The final block of a message of `msg.len()` bytes that follows one key
/// block: message, `0x80`, zeros, bit length (the last 8 bytes; SHA-512's
/// 16-byte length field has a zero high half at these sizes).
#[inline(always)]
fn last_block<const B: usize>(msg: &[u8]) -> [u8; B] {
    let mut block = [0u8; B];
    let (head, rest) = block.split_at_mut(msg.len());
    head.copy_from_slice(msg);
    if let Some(first) = rest.first_mut() {
        *first = 0x80;
    }
    let bits = ((B + msg.len()) as u64) * 8;
    if let Some(tail) = block.get_mut(B - 8..) {
        tail.copy_from_slice(&bits.to_be_bytes());
    }
    block
}

/// Serialises a state as its big-endian digest into `out`, returning the
/// digest length.
#[inline(always)]
fn digest_bytes<W: Word, const N: usize>(state: &[W; N], out: &mut [u8; 64]) -> usize {
    for (chunk, word) in out.chunks_exact_mut(W::BYTES).zip(state) {
        word.write_be(chunk);
    }
    N * W::BYTES
}

#[inline(always)]
fn mac<W: Word, const N: usize, const B: usize>(
    inner: &[W; N],
    outer: &[W; N],
    compress: fn(&mut [W; N], &[u8; B]),
    counter: u64,
) -> u32 {
    let mut digest = [0u8; 64];
    let mut state = *inner;
    compress(&mut state, &last_block::<B>(&counter.to_be_bytes()));
    let len = digest_bytes(&state, &mut digest);
    let mut state_out = *outer;
    compress(
        &mut state_out,
        &last_block::<B>(digest.get(..len).unwrap_or_default()),
    );
    let len = digest_bytes(&state_out, &mut digest);
    dynamic_truncation(digest.get(..len).unwrap_or_default())
}

/// RFC 4226 §5.3. Every HMAC output here is at least 20 bytes and the
/// offset at most 15, so the four bytes read are always in range.
#[inline(always)]
fn dynamic_truncation(hash: &[u8]) -> u32 {
    let offset = usize::from(hash.last().copied().unwrap_or(0) & 0x0f);
    let mut word = [0u8; 4];
    for (dst, src) in word.iter_mut().zip(hash.iter().skip(offset)) {
        *dst = *src;
    }
    u32::from_be_bytes(word) & 0x7fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    fn reference<D>(key: &[u8], counter: u64) -> u32
    where
        D: hmac::EagerHash,
        Hmac<D>: hmac::KeyInit + Mac,
    {
        let mut mac = <Hmac<D> as hmac::KeyInit>::new_from_slice(key).unwrap();
        mac.update(&counter.to_be_bytes());
        dynamic_truncation(&mac.finalize().into_bytes())
    }

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
    fn equals_the_hmac_crate_for_every_key_length() {
        // Every length from empty to well past both block sizes: the 16-128
        // bytes a `Secret` may have, and beyond, so every branch of RFC 2104
        // key handling is compared (keys longer than 64 bytes are hashed
        // for SHA-1/256; for SHA-512 only those longer than 128 bytes).
        for len in 0..=200 {
            let key: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            for counter in [0, 1, 0x0123_4567_89ab_cdef, u64::MAX] {
                let ours = |alg| PreparedKey::new(alg, &key).truncated(counter);
                assert_eq!(ours(Algorithm::Sha1), reference::<Sha1>(&key, counter));
                assert_eq!(ours(Algorithm::Sha256), reference::<Sha256>(&key, counter));
                assert_eq!(ours(Algorithm::Sha512), reference::<Sha512>(&key, counter));
            }
        }
    }

    #[test]
    fn zeroize_clears_the_states() {
        let mut key = PreparedKey::new(Algorithm::Sha256, &[7u8; 20]);
        key.zeroize();
        match key {
            PreparedKey::Sha256 { inner, outer } => {
                assert_eq!(inner, [0; 8]);
                assert_eq!(outer, [0; 8]);
            }
            _ => unreachable!(),
        }
    }
}
