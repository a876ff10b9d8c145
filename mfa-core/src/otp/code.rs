//! One-time codes: parsing what a person typed, and the value itself.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::Digits;
use crate::error::{CodeProblem, Error, Result};

/// A one-time code of 6, 7 or 8 digits.
///
/// Made by [`Code::parse`] from user input or by the engine when
/// generating. Like a [`Secret`](crate::Secret), it is never printed
/// (`Debug` is redacted), is zeroized on drop, and compares in constant
/// time; [`expose`](Self::expose) gives the digits when they must be shown
/// or sent.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Code {
    value: u32,
    #[zeroize(skip)]
    digits: Digits,
}

impl Code {
    /// Inputs longer than this (in bytes) are refused before being read.
    pub const MAX_INPUT_LEN: usize = 64;

    pub(crate) fn new(value: u32, digits: Digits) -> Self {
        Self { value, digits }
    }

    /// Parses what a person typed or pasted.
    ///
    /// Surrounding white space is ignored, and so are spaces and `-`
    /// *between* digits (`123 456`, `123-456`). Anything else — letters,
    /// full-width or other non-ASCII digits, a sign, a separator at either
    /// end, the wrong number of digits — is refused with a typed reason.
    ///
    /// ```
    /// use mfa_core::otp::{Code, Digits};
    ///
    /// assert!(Code::parse(" 123 456\n", Digits::SIX).is_ok());
    /// assert!(Code::parse("123-456", Digits::SIX).is_ok());
    /// assert!(Code::parse("12345", Digits::SIX).is_err());
    /// assert!(Code::parse("１２３４５６", Digits::SIX).is_err()); // full-width
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidCode`] with a [`CodeProblem`] saying what is wrong;
    /// its message never repeats the input.
    pub fn parse(input: &str, digits: Digits) -> Result<Self> {
        if input.len() > Self::MAX_INPUT_LEN {
            return Err(Error::InvalidCode(CodeProblem::TooLong));
        }
        let trimmed = input.trim_matches(|c: char| c.is_ascii_whitespace());
        if trimmed.is_empty() {
            return Err(Error::InvalidCode(CodeProblem::Empty));
        }
        let mut value: u32 = 0;
        let mut count: usize = 0;
        let mut after_separator = false;
        for byte in trimmed.bytes() {
            match byte {
                b'0'..=b'9' => {
                    if count < usize::from(Digits::MAX) {
                        value = value * 10 + u32::from(byte - b'0');
                    }
                    count += 1;
                    after_separator = false;
                }
                // A separator needs a digit before it; one after it is
                // checked by the next byte or by the end of input.
                b' ' | b'-' if count > 0 => after_separator = true,
                _ => {
                    value.zeroize();
                    return Err(Error::InvalidCode(CodeProblem::InvalidCharacter));
                }
            }
        }
        if after_separator {
            value.zeroize();
            return Err(Error::InvalidCode(CodeProblem::InvalidCharacter));
        }
        if count != usize::from(digits.get()) {
            value.zeroize();
            return Err(Error::InvalidCode(CodeProblem::WrongLength {
                expected: digits.get(),
                found: count,
            }));
        }
        Ok(Self { value, digits })
    }

    /// Parses a code of 6, 7 or 8 digits, whichever was typed (for a
    /// subject whose authenticators differ in length), with the same
    /// leniency as [`parse`](Self::parse).
    ///
    /// # Errors
    /// As [`parse`](Self::parse); a length other than 6–8 digits is
    /// [`CodeProblem::WrongLength`] expecting 6.
    pub fn parse_any(input: &str) -> Result<Self> {
        let typed = input.bytes().filter(u8::is_ascii_digit).count();
        let digits = u32::try_from(typed)
            .ok()
            .and_then(|n| Digits::new(n).ok())
            .unwrap_or(Digits::SIX);
        Self::parse(input, digits)
    }

    /// How many digits this code has.
    #[must_use]
    pub fn digits(&self) -> Digits {
        self.digits
    }

    /// The digits, zero-padded, for showing to the person who must type
    /// them or for sending by e-mail or SMS.
    #[must_use]
    pub fn expose(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{:0width$}",
            self.value,
            width = usize::from(self.digits.get())
        ))
    }

    pub(crate) fn value(&self) -> u32 {
        self.value
    }
}

impl ConstantTimeEq for Code {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.value.ct_eq(&other.value) & self.digits.get().ct_eq(&other.digits.get())
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Code {}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code(<redacted>, {} digits)", self.digits.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(input: &str) -> CodeProblem {
        match Code::parse(input, Digits::SIX) {
            Err(Error::InvalidCode(p)) => p,
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    #[test]
    fn accepts_what_people_type() {
        for input in [
            "123456",
            " 123456 ",
            "123 456",
            "123-456",
            "12 34 56",
            "1-2-3-4-5-6",
            "123 - 456",
            "\t123456\r\n",
        ] {
            let code = Code::parse(input, Digits::SIX).unwrap();
            assert_eq!(code.expose().as_str(), "123456", "{input:?}");
        }
        assert_eq!(
            Code::parse("000042", Digits::SIX)
                .unwrap()
                .expose()
                .as_str(),
            "000042"
        );
        assert_eq!(
            Code::parse("1234 5678", Digits::EIGHT)
                .unwrap()
                .expose()
                .as_str(),
            "12345678"
        );
    }

    #[test]
    fn refuses_everything_else_with_a_reason() {
        assert_eq!(problem(""), CodeProblem::Empty);
        assert_eq!(problem("   "), CodeProblem::Empty);
        assert_eq!(problem("12345a"), CodeProblem::InvalidCharacter);
        assert_eq!(problem("１２３４５６"), CodeProblem::InvalidCharacter);
        assert_eq!(problem("١٢٣٤٥٦"), CodeProblem::InvalidCharacter);
        assert_eq!(problem("+123456"), CodeProblem::InvalidCharacter);
        assert_eq!(problem("-123456"), CodeProblem::InvalidCharacter);
        assert_eq!(problem("123456-"), CodeProblem::InvalidCharacter);
        assert_eq!(problem("123_456"), CodeProblem::InvalidCharacter);
        assert_eq!(problem("123.456"), CodeProblem::InvalidCharacter);
        assert_eq!(
            problem("12345"),
            CodeProblem::WrongLength {
                expected: 6,
                found: 5
            }
        );
        assert_eq!(
            problem("1234567"),
            CodeProblem::WrongLength {
                expected: 6,
                found: 7
            }
        );
        assert_eq!(
            problem("99999999999999999999"),
            CodeProblem::WrongLength {
                expected: 6,
                found: 20
            }
        );
        assert_eq!(problem(&"1".repeat(65)), CodeProblem::TooLong);
    }

    #[test]
    fn messages_never_repeat_the_input() {
        for input in ["12345", "1234567", "98765x", "987654321"] {
            let message = Code::parse(input, Digits::SIX).unwrap_err().to_string();
            assert!(!message.contains("987"), "{message}");
            assert!(!message.contains("123"), "{message}");
        }
    }

    #[test]
    fn debug_is_redacted_and_equality_is_by_value_and_length() {
        let a = Code::parse("012345", Digits::SIX).unwrap();
        assert_eq!(format!("{a:?}"), "Code(<redacted>, 6 digits)");
        assert_eq!(a, Code::new(12_345, Digits::SIX));
        assert_ne!(a, Code::new(12_345, Digits::SEVEN));
        assert_ne!(a, Code::new(12_346, Digits::SIX));
    }
}
