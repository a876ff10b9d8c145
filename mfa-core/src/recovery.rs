//! Recovery codes: what gets someone back in when the phone is lost.
//!
//! Ten codes per set, each 12 characters of Crockford's base32 alphabet
//! (no `i`, `l`, `o`, `u`): 60 random bits, shown grouped as
//! `xxxx-xxxx-xxxx`. Input is normalised the forgiving way — any case,
//! dashes and spaces ignored, `i`/`l` read as `1` and `o` as `0` — so a
//! code read off paper works. Only a keyed hash is stored (see
//! [`crate::pepper`]); each code works once; generating a new set replaces
//! the old one.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{CodeProblem, Error, Result};
use crate::pepper::{CodeHash, Pepper, Purpose};
use crate::subject::SubjectId;

/// Codes in a new set.
pub const CODES_PER_SET: usize = 10;
/// Characters per code (5 bits each: 60 bits).
pub const CODE_CHARS: usize = 12;
/// At or below this many unused codes the set is "low".
pub const LOW_WATERMARK: u32 = 3;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// One recovery code, formatted `xxxx-xxxx-xxxx`. Zeroized on drop, never
/// printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// The formatted code, to show once.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

/// Draws a new set of codes.
///
/// # Errors
/// [`Error::Rng`] if the operating system cannot provide randomness.
pub fn generate_set() -> Result<Vec<RecoveryCode>> {
    (0..CODES_PER_SET).map(|_| generate_one()).collect()
}

fn generate_one() -> Result<RecoveryCode> {
    // 60 bits: the low 60 of a random u64, five bits per character.
    let mut bytes = Zeroizing::new([0u8; 8]);
    getrandom::fill(&mut *bytes).map_err(Error::Rng)?;
    let mut bits = Zeroizing::new(u64::from_be_bytes(*bytes));
    let mut text = String::with_capacity(CODE_CHARS + 2);
    for i in 0..CODE_CHARS {
        if i > 0 && i % 4 == 0 {
            text.push('-');
        }
        text.push(char::from(ALPHABET[(*bits & 31) as usize]));
        *bits >>= 5;
    }
    Ok(RecoveryCode(text))
}

/// Normalises what someone typed into the 12 canonical characters.
///
/// # Errors
/// [`Error::InvalidCode`] if characters outside the alphabet (after the
/// look-alike mapping) are present, or the length is not 12.
pub fn normalize(input: &str) -> Result<Zeroizing<String>> {
    if input.len() > 64 {
        return Err(Error::InvalidCode(CodeProblem::TooLong));
    }
    let mut out = Zeroizing::new(String::with_capacity(CODE_CHARS));
    for c in input.chars() {
        let c = match c.to_ascii_lowercase() {
            ' ' | '-' | '\t' | '\r' | '\n' => continue,
            'i' | 'l' => '1',
            'o' => '0',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return Err(Error::InvalidCode(CodeProblem::InvalidCharacter)),
        };
        out.push(c);
    }
    match out.len() {
        0 => Err(Error::InvalidCode(CodeProblem::Empty)),
        CODE_CHARS => Ok(out),
        found => Err(Error::InvalidCode(CodeProblem::WrongLength {
            expected: CODE_CHARS as u8,
            found,
        })),
    }
}

/// The stored hash of a (normalised) code for `subject`.
pub(crate) fn hash(pepper: &Pepper, subject: &SubjectId, normalized: &str) -> CodeHash {
    pepper.hash(Purpose::RecoveryCode, subject, normalized.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_set_is_ten_distinct_well_formed_codes() {
        let set = generate_set().unwrap();
        assert_eq!(set.len(), CODES_PER_SET);
        let distinct: HashSet<&str> = set.iter().map(RecoveryCode::expose).collect();
        assert_eq!(distinct.len(), CODES_PER_SET);
        for code in &set {
            let text = code.expose();
            assert_eq!(text.len(), 14);
            assert_eq!(text.as_bytes()[4], b'-');
            assert_eq!(text.as_bytes()[9], b'-');
            assert_eq!(normalize(text).unwrap().len(), CODE_CHARS);
        }
        assert_eq!(format!("{:?}", set[0]), "RecoveryCode(<redacted>)");
    }

    #[test]
    fn input_is_normalised_forgivingly() {
        let canonical = "0123456789ab";
        for typed in [
            "0123-4567-89ab",
            "0123 4567 89AB",
            "O123-4567-89AB",
            "0I23-4567-89ab",
            "0L23456789ab",
            " 0123456789ab\n",
        ] {
            assert_eq!(normalize(typed).unwrap().as_str(), canonical, "{typed}");
        }
        assert!(matches!(
            normalize("0123-4567-89au"),
            Err(Error::InvalidCode(CodeProblem::InvalidCharacter))
        ));
        assert!(matches!(
            normalize("0123-4567"),
            Err(Error::InvalidCode(CodeProblem::WrongLength { .. }))
        ));
        assert!(matches!(
            normalize("--"),
            Err(Error::InvalidCode(CodeProblem::Empty))
        ));
        assert!(matches!(
            normalize("０123456789ab"),
            Err(Error::InvalidCode(CodeProblem::InvalidCharacter))
        ));
    }

    #[test]
    fn codes_carry_sixty_bits() {
        // Every character position takes every value of the alphabet over
        // enough draws, so no bit is stuck.
        let mut seen = vec![HashSet::new(); CODE_CHARS];
        for _ in 0..400 {
            let code = generate_one().unwrap();
            let plain = normalize(code.expose()).unwrap();
            for (i, c) in plain.chars().enumerate() {
                seen[i].insert(c);
            }
        }
        assert!(
            seen.iter().all(|s| s.len() == 32),
            "{:?}",
            seen.iter().map(HashSet::len).collect::<Vec<_>>()
        );
    }
}
