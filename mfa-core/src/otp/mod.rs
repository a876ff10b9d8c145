//! HOTP (RFC 4226) and TOTP (RFC 6238).
//!
//! Construction validates every parameter ([`Digits`], [`TotpConfig`],
//! [`Window`]), so nothing can fail or panic afterwards. [`Totp::verify`]
//! computes *every* step of the window (the same work whatever matches),
//! compares codes in constant time, and never returns a step at or before
//! the last accepted one (RFC 6238 §5.2). No heap allocation happens while
//! generating or verifying.
//!
//! ```
//! use mfa_core::Secret;
//! use mfa_core::otp::{Code, Totp, TotpConfig, Verdict, Window};
//!
//! let secret = Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?;
//! let totp = Totp::new(&secret, &TotpConfig::default());
//! let now = 1_700_000_000;
//!
//! // What the authenticator app shows now:
//! let shown = totp.generate_at(now).expect("after T0");
//! let typed = Code::parse(&shown.expose(), totp.config().digits())?;
//!
//! let Verdict::Match { step, .. } = totp.verify(&typed, now, Window::default(), None) else {
//!     panic!("the current code is accepted");
//! };
//! // Remember `step`: the same code is refused from now on.
//! assert_eq!(totp.verify(&typed, now, Window::default(), Some(step)), Verdict::Replay);
//! # Ok::<(), mfa_core::Error>(())
//! ```

mod code;
mod key;

use core::fmt;
use core::str::FromStr;

use subtle::{ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater};

pub use code::Code;
use key::PreparedKey;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The HMAC hash function.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA-1: the default, and the only one every authenticator app
    /// honours.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in `otpauth://` URIs: `SHA1`, `SHA256` or `SHA512`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Accepts `SHA1`, `SHA256`, `SHA512` in any case, with or without a
    /// dash (`sha-256`).
    fn from_str(name: &str) -> Result<Self> {
        let name = name.trim();
        let family = name.get(..3).filter(|f| f.eq_ignore_ascii_case("SHA"));
        let size = name.get(3..).map(|s| s.strip_prefix('-').unwrap_or(s));
        match (family, size) {
            (Some(_), Some("1")) => Ok(Self::Sha1),
            (Some(_), Some("256")) => Ok(Self::Sha256),
            (Some(_), Some("512")) => Ok(Self::Sha512),
            _ => Err(Error::UnsupportedAlgorithm),
        }
    }
}

/// Number of digits in a code: 6, 7 or 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digits(u8);

impl Digits {
    /// Six digits, the default.
    pub const SIX: Self = Self(6);
    /// Seven digits.
    pub const SEVEN: Self = Self(7);
    /// Eight digits.
    pub const EIGHT: Self = Self(8);
    /// Fewest digits allowed (RFC 4226 §5.3).
    pub const MIN: u8 = 6;
    /// Most digits allowed.
    pub const MAX: u8 = 8;

    /// Validates a digit count.
    ///
    /// # Errors
    /// [`Error::InvalidDigits`] unless `digits` is 6, 7 or 8.
    pub fn new(digits: u32) -> Result<Self> {
        match u8::try_from(digits) {
            Ok(d @ Self::MIN..=Self::MAX) => Ok(Self(d)),
            _ => Err(Error::InvalidDigits(digits)),
        }
    }

    /// The count as a number.
    #[must_use]
    pub fn get(self) -> u8 {
        self.0
    }

    /// `value mod 10^digits`, with each divisor a constant so the
    /// compiler turns the division into a multiplication.
    #[inline]
    fn reduce(self, value: u32) -> u32 {
        match self.0 {
            6 => value % 1_000_000,
            7 => value % 10_000_000,
            _ => value % 100_000_000,
        }
    }
}

impl Default for Digits {
    fn default() -> Self {
        Self::SIX
    }
}

/// TOTP parameters: algorithm, digits, period and T0 (RFC 6238 §4.1).
///
/// Always valid once built; the default is what every authenticator app
/// expects (SHA-1, 6 digits, 30 s, T0 = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TotpConfig {
    algorithm: Algorithm,
    digits: Digits,
    period: u32,
    t0: u64,
}

impl TotpConfig {
    /// Shortest period accepted, in seconds.
    pub const MIN_PERIOD: u32 = 1;
    /// Longest period accepted, in seconds (one hour).
    pub const MAX_PERIOD: u32 = 3600;
    /// The period authenticator apps assume when none is given.
    pub const DEFAULT_PERIOD: u32 = 30;

    /// Validated parameters with T0 = 0.
    ///
    /// # Errors
    /// [`Error::InvalidPeriod`] unless `period_secs` is within
    /// [`MIN_PERIOD`](Self::MIN_PERIOD)..=[`MAX_PERIOD`](Self::MAX_PERIOD).
    pub fn new(algorithm: Algorithm, digits: Digits, period_secs: u64) -> Result<Self> {
        let period = u32::try_from(period_secs)
            .ok()
            .filter(|p| (Self::MIN_PERIOD..=Self::MAX_PERIOD).contains(p))
            .ok_or(Error::InvalidPeriod {
                found: period_secs,
                min: Self::MIN_PERIOD,
                max: Self::MAX_PERIOD,
            })?;
        Ok(Self {
            algorithm,
            digits,
            period,
            t0: 0,
        })
    }

    /// The same parameters counting steps from `t0` (Unix seconds) instead
    /// of the Unix epoch. Authenticator apps only know T0 = 0, so such a
    /// configuration cannot be exported as an `otpauth://` URI.
    #[must_use]
    pub fn with_t0(self, t0: u64) -> Self {
        Self { t0, ..self }
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

    /// Step length in seconds.
    #[must_use]
    pub fn period(&self) -> u32 {
        self.period
    }

    /// Unix time at which step 0 starts.
    #[must_use]
    pub fn t0(&self) -> u64 {
        self.t0
    }
}

impl Default for TotpConfig {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
            period: Self::DEFAULT_PERIOD,
            t0: 0,
        }
    }
}

/// How many steps before and after the current one a code may come from.
///
/// The default, ±1 step, absorbs clock drift and the time it takes to type
/// (RFC 6238 §5.2 recommends at most one step of network delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    behind: u8,
    ahead: u8,
}

impl Window {
    /// The widest reach on either side.
    pub const MAX_STEPS: u8 = 10;
    /// Only the current step.
    pub const EXACT: Self = Self {
        behind: 0,
        ahead: 0,
    };

    /// A window reaching `behind` steps into the past and `ahead` steps into
    /// the future.
    ///
    /// # Errors
    /// [`Error::InvalidWindow`] if either side exceeds
    /// [`MAX_STEPS`](Self::MAX_STEPS).
    pub fn new(behind: u32, ahead: u32) -> Result<Self> {
        let widest = behind.max(ahead);
        if widest > u32::from(Self::MAX_STEPS) {
            return Err(Error::InvalidWindow {
                found: widest,
                max: Self::MAX_STEPS,
            });
        }
        // Both fit: each is at most MAX_STEPS.
        Ok(Self {
            behind: u8::try_from(behind).unwrap_or(Self::MAX_STEPS),
            ahead: u8::try_from(ahead).unwrap_or(Self::MAX_STEPS),
        })
    }

    /// `steps` each way.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn symmetric(steps: u32) -> Result<Self> {
        Self::new(steps, steps)
    }

    /// Steps reached into the past.
    #[must_use]
    pub fn behind(&self) -> u8 {
        self.behind
    }

    /// Steps reached into the future.
    #[must_use]
    pub fn ahead(&self) -> u8 {
        self.ahead
    }
}

impl Default for Window {
    fn default() -> Self {
        Self {
            behind: 1,
            ahead: 1,
        }
    }
}

/// What [`Totp::verify`] (or [`Hotp::verify`]) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum Verdict {
    /// The code belongs to `step` (a TOTP time step or HOTP counter), which
    /// is newer than the last accepted one. Store `step` as the new last
    /// accepted step *before* letting anyone in.
    Match {
        /// The matched step or counter.
        step: u64,
        /// Position of `step` relative to the current step (TOTP) or the
        /// expected counter (HOTP): the clock drift to remember.
        offset: i16,
    },
    /// The code is valid only for steps at or before the last accepted
    /// one: a replay.
    Replay,
    /// The code matches no step in the window.
    NoMatch,
}

/// HOTP (RFC 4226): codes from a counter.
///
/// ```
/// use mfa_core::Secret;
/// use mfa_core::otp::{Algorithm, Digits, Hotp};
///
/// // RFC 4226 Appendix D, counter 0.
/// let hotp = Hotp::new(&Secret::from_bytes(b"12345678901234567890")?, Algorithm::Sha1, Digits::SIX);
/// assert_eq!(hotp.generate(0).expose().as_str(), "755224");
/// # Ok::<(), mfa_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Hotp {
    key: PreparedKey,
    algorithm: Algorithm,
    digits: Digits,
}

impl Hotp {
    /// Prepares the key once; generating and verifying reuse it.
    #[must_use]
    pub fn new(secret: &Secret, algorithm: Algorithm, digits: Digits) -> Self {
        Self {
            key: PreparedKey::new(algorithm, secret.expose_bytes()),
            algorithm,
            digits,
        }
    }

    /// The code for `counter`.
    pub fn generate(&self, counter: u64) -> Code {
        Code::new(self.value(counter), self.digits)
    }

    #[inline]
    fn value(&self, counter: u64) -> u32 {
        self.digits.reduce(self.key.truncated(counter))
    }

    /// Checks `code` against counters `next ..= next + look_ahead`, all of
    /// them, in constant time, and returns the *first* matching counter
    /// (RFC 4226 §7.4 resynchronisation): the caller stores `step + 1` as
    /// the next expected counter. Counters before `next` are never checked,
    /// so used codes cannot be replayed.
    pub fn verify(&self, code: &Code, next: u64, look_ahead: u8) -> Verdict {
        let last = next.saturating_add(u64::from(look_ahead));
        // Scan from newest to oldest so the last selected is the first.
        let found = self.scan(code, (next..=last).rev(), next);
        match found.matched {
            Some(step) => Verdict::Match {
                step,
                offset: offset_of(step, next),
            },
            None => Verdict::NoMatch,
        }
    }

    /// Computes the code of every counter in `counters` and keeps the last
    /// one (in iteration order) that equals `code` and is `>= fresh_from`.
    /// All candidates are computed and compared whatever matches.
    fn scan(&self, code: &Code, counters: impl Iterator<Item = u64>, fresh_from: u64) -> Scan {
        let wanted = code.value();
        let comparable = code.digits().get().ct_eq(&self.digits.get());
        let mut chosen: u64 = 0;
        let mut any_fresh = subtle::Choice::from(0);
        let mut any_stale = subtle::Choice::from(0);
        for counter in counters {
            let equal = self.value(counter).ct_eq(&wanted) & comparable;
            let fresh = !fresh_from.ct_gt(&counter);
            let take = equal & fresh;
            chosen.conditional_assign(&counter, take);
            any_fresh |= take;
            any_stale |= equal & !fresh;
        }
        Scan {
            matched: bool::from(any_fresh).then_some(chosen),
            stale: bool::from(any_stale),
        }
    }
}

struct Scan {
    matched: Option<u64>,
    stale: bool,
}

fn offset_of(step: u64, center: u64) -> i16 {
    // Steps come from a window of at most 255 steps each way.
    if step >= center {
        i16::try_from(step - center).unwrap_or(i16::MAX)
    } else {
        i16::try_from(center - step).map_or(i16::MIN, |d| -d)
    }
}

impl fmt::Debug for Hotp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hotp")
            .field("key", &"<redacted>")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits.get())
            .finish()
    }
}

/// TOTP (RFC 6238): codes from the time.
///
/// Times are Unix seconds (`u64`); all arithmetic is checked, so times near
/// 0, before T0 or near `u64::MAX` simply have fewer (or no) valid steps.
#[derive(Clone)]
pub struct Totp {
    hotp: Hotp,
    config: TotpConfig,
}

impl Totp {
    /// Prepares the key once for `config`.
    #[must_use]
    pub fn new(secret: &Secret, config: &TotpConfig) -> Self {
        Self {
            hotp: Hotp::new(secret, config.algorithm, config.digits),
            config: *config,
        }
    }

    /// The parameters.
    #[must_use]
    pub fn config(&self) -> &TotpConfig {
        &self.config
    }

    /// The step containing Unix time `at`, or `None` before T0.
    #[must_use]
    pub fn step_at(&self, at: u64) -> Option<u64> {
        at.checked_sub(self.config.t0)
            .map(|since| since / u64::from(self.config.period))
    }

    /// Unix time at which `step` begins, or `None` if it is past `u64::MAX`.
    #[must_use]
    pub fn step_start(&self, step: u64) -> Option<u64> {
        step.checked_mul(u64::from(self.config.period))
            .and_then(|offset| offset.checked_add(self.config.t0))
    }

    /// The code for `step`.
    pub fn generate_step(&self, step: u64) -> Code {
        self.hotp.generate(step)
    }

    /// The code an authenticator shows at Unix time `at`, or `None` before T0.
    #[must_use]
    pub fn generate_at(&self, at: u64) -> Option<Code> {
        self.step_at(at).map(|step| self.generate_step(step))
    }

    /// Verifies `code` typed at Unix time `at`.
    ///
    /// Every step of `window` around the current step is computed and
    /// compared in constant time, whatever matches. The result is the
    /// *newest* matching step that is newer than `last_accepted_step`
    /// (RFC 6238 §5.2); a code that matches only older steps is a
    /// [`Verdict::Replay`]. Before T0 nothing matches.
    ///
    /// # Security
    /// Single use holds only if the caller records the returned step as the
    /// new `last_accepted_step` atomically (compare-and-set) before
    /// granting access; the service layer does this through its `Store`.
    pub fn verify(
        &self,
        code: &Code,
        at: u64,
        window: Window,
        last_accepted_step: Option<u64>,
    ) -> Verdict {
        match self.step_at(at) {
            Some(current) => self.verify_step(code, current, window, last_accepted_step),
            None => Verdict::NoMatch,
        }
    }

    /// As [`verify`](Self::verify), with the current step given directly —
    /// for callers that shift the window by a remembered drift.
    pub fn verify_step(
        &self,
        code: &Code,
        current_step: u64,
        window: Window,
        last_accepted_step: Option<u64>,
    ) -> Verdict {
        let first = current_step.saturating_sub(u64::from(window.behind));
        let last = current_step.saturating_add(u64::from(window.ahead));
        // Steps newer than the last accepted one; when that is u64::MAX no
        // step is fresh and `fresh_from` is never reached.
        let (fresh_from, none_fresh) = match last_accepted_step {
            None => (0, false),
            Some(accepted) => match accepted.checked_add(1) {
                Some(next) => (next, false),
                None => (u64::MAX, true),
            },
        };
        // Oldest to newest, so the last selected match is the newest.
        let found = self.hotp.scan(code, first..=last, fresh_from);
        match found.matched {
            Some(step) if !none_fresh => Verdict::Match {
                step,
                offset: offset_of(step, current_step),
            },
            Some(_) => Verdict::Replay,
            None if found.stale => Verdict::Replay,
            None => Verdict::NoMatch,
        }
    }
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Totp")
            .field("key", &"<redacted>")
            .field("config", &self.config)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totp() -> Totp {
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        Totp::new(&secret, &TotpConfig::default())
    }

    #[test]
    fn parameters_are_validated_at_construction() {
        assert!(matches!(Digits::new(5), Err(Error::InvalidDigits(5))));
        assert!(matches!(Digits::new(9), Err(Error::InvalidDigits(9))));
        assert!(matches!(Digits::new(300), Err(Error::InvalidDigits(300))));
        assert_eq!(Digits::new(7).unwrap(), Digits::SEVEN);
        for bad in [0, 3601, u64::MAX] {
            assert!(matches!(
                TotpConfig::new(Algorithm::Sha1, Digits::SIX, bad),
                Err(Error::InvalidPeriod { found, min: 1, max: 3600 }) if found == bad
            ));
        }
        assert!(TotpConfig::new(Algorithm::Sha1, Digits::SIX, 1).is_ok());
        assert!(TotpConfig::new(Algorithm::Sha1, Digits::SIX, 3600).is_ok());
        assert!(matches!(
            Window::new(1, 11),
            Err(Error::InvalidWindow { found: 11, max: 10 })
        ));
        assert_eq!(Window::symmetric(10).unwrap().ahead(), 10);
    }

    #[test]
    fn algorithm_names_are_tolerant() {
        for (name, alg) in [
            ("SHA1", Algorithm::Sha1),
            ("sha1", Algorithm::Sha1),
            ("Sha-256", Algorithm::Sha256),
            ("sha512", Algorithm::Sha512),
        ] {
            assert_eq!(name.parse::<Algorithm>().unwrap(), alg);
        }
        for bad in ["MD5", "SHA", "SHA-", "SHA384", "", "SHA-1-", "S-HA1"] {
            assert!(bad.parse::<Algorithm>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_same_code_at_two_steps_returns_the_newest_unused() {
        // Find a secret whose codes repeat within a ±3 window, so the same
        // six digits are valid at two steps.
        let config = TotpConfig::default();
        let window = Window::symmetric(3).unwrap();
        let now_step = 1_000u64;
        for seed in 0u32..200_000 {
            let mut bytes = [0u8; 20];
            bytes[..4].copy_from_slice(&seed.to_be_bytes());
            let totp = Totp::new(&Secret::from_bytes(&bytes).unwrap(), &config);
            let codes: Vec<u32> = (now_step - 3..=now_step + 3)
                .map(|s| totp.hotp.value(s))
                .collect();
            let pair = (0..codes.len()).find_map(|i| {
                (i + 1..codes.len())
                    .find(|&j| codes[i] == codes[j])
                    .map(|j| (i, j))
            });
            let Some((i, j)) = pair else { continue };
            let older = now_step - 3 + i as u64;
            let newer = now_step - 3 + j as u64;
            let code = totp.generate_step(older);
            let verdict = |last| totp.verify_step(&code, now_step, window, last);
            assert_eq!(
                verdict(None),
                Verdict::Match {
                    step: newer,
                    offset: offset_of(newer, now_step)
                }
            );
            assert!(matches!(verdict(Some(older)), Verdict::Match { step, .. } if step == newer));
            assert!(
                matches!(verdict(Some(older - 1)), Verdict::Match { step, .. } if step == newer)
            );
            assert_eq!(verdict(Some(newer)), Verdict::Replay);
            assert_eq!(verdict(Some(u64::MAX)), Verdict::Replay);
            return;
        }
        panic!("no secret with a repeated code found");
    }

    #[test]
    fn a_step_at_or_before_the_last_accepted_is_never_returned() {
        let totp = totp();
        let now = 1_111_111_109;
        let current = totp.step_at(now).unwrap();
        for delta in [-1i64, 0, 1] {
            let step = current.checked_add_signed(delta).unwrap();
            let code = totp.generate_step(step);
            for last in [step, step + 1, step + 5, u64::MAX] {
                assert_eq!(
                    totp.verify(&code, now, Window::default(), Some(last)),
                    Verdict::Replay,
                    "step {step} last {last}"
                );
            }
            assert_eq!(
                totp.verify(&code, now, Window::default(), Some(step - 1)),
                Verdict::Match {
                    step,
                    offset: i16::try_from(delta).unwrap()
                }
            );
        }
        let outside = totp.generate_step(current + 2);
        assert_eq!(
            totp.verify(&outside, now, Window::default(), None),
            Verdict::NoMatch
        );
    }

    #[test]
    fn time_arithmetic_never_overflows() {
        let totp = totp();
        let window = Window::symmetric(Window::MAX_STEPS.into()).unwrap();
        for at in [0, 1, 29, 30, 20_000_000_000, u64::MAX - 1, u64::MAX] {
            let code = totp.generate_at(at).unwrap();
            assert!(matches!(
                totp.verify(&code, at, window, None),
                Verdict::Match { .. }
            ));
            assert!(matches!(
                totp.verify(&code, at, window, Some(u64::MAX)),
                Verdict::Replay
            ));
        }
        // Period 1: the step is the time itself, so step + window saturates.
        let one = Totp::new(
            &Secret::from_bytes(&[9u8; 20]).unwrap(),
            &TotpConfig::new(Algorithm::Sha256, Digits::EIGHT, 1).unwrap(),
        );
        let code = one.generate_at(u64::MAX).unwrap();
        assert_eq!(
            one.verify(&code, u64::MAX, Window::default(), None),
            Verdict::Match {
                step: u64::MAX,
                offset: 0
            }
        );
        assert_eq!(one.step_start(u64::MAX), Some(u64::MAX));
        assert_eq!(totp.step_start(u64::MAX), None);
    }

    #[test]
    fn before_t0_nothing_matches() {
        let secret = Secret::from_bytes(&[3u8; 20]).unwrap();
        let totp = Totp::new(&secret, &TotpConfig::default().with_t0(1_000));
        assert_eq!(totp.step_at(999), None);
        assert!(totp.generate_at(999).is_none());
        let code = totp.generate_step(0);
        assert_eq!(
            totp.verify(&code, 999, Window::default(), None),
            Verdict::NoMatch
        );
        assert_eq!(
            totp.verify(&code, 1_000, Window::default(), None),
            Verdict::Match { step: 0, offset: 0 }
        );
        assert_eq!(totp.step_start(2), Some(1_060));
    }

    #[test]
    fn a_code_of_other_length_never_matches() {
        let totp = totp();
        let six = totp.generate_step(5);
        let as_eight = Code::new(six.value(), Digits::EIGHT);
        assert_eq!(
            totp.verify_step(&as_eight, 5, Window::default(), None),
            Verdict::NoMatch
        );
    }

    #[test]
    fn hotp_look_ahead_returns_the_first_match() {
        let hotp = totp().hotp;
        let code = hotp.generate(7);
        assert_eq!(
            hotp.verify(&code, 5, 3),
            Verdict::Match { step: 7, offset: 2 }
        );
        assert_eq!(hotp.verify(&code, 8, 3), Verdict::NoMatch);
        assert_eq!(hotp.verify(&code, 3, 3), Verdict::NoMatch);
        let top = hotp.generate(u64::MAX);
        assert!(matches!(
            hotp.verify(&top, u64::MAX - 1, 10),
            Verdict::Match {
                step: u64::MAX,
                offset: 1
            }
        ));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", totp());
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains("1234"));
    }
}
