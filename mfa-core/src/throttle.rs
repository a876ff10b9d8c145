//! Guessing is throttled per subject and factor kind.
//!
//! After [`ThrottleRule::free_failures`] consecutive failures (5) the
//! factor is locked for [`ThrottleRule::base_lock`] (1 min); every further
//! failure doubles the lock, up to [`ThrottleRule::max_lock`] (1 h). A
//! success resets the count. While locked no code is computed at all, and
//! the answer is the same whether the code would have been right or not.

use core::time::Duration;

use crate::clock::Timestamp;

/// The throttling parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ThrottleRule {
    /// Consecutive failures allowed before the first lock.
    pub free_failures: u32,
    /// Length of the first lock.
    pub base_lock: Duration,
    /// Longest lock.
    pub max_lock: Duration,
}

impl Default for ThrottleRule {
    fn default() -> Self {
        Self {
            free_failures: 5,
            base_lock: Duration::from_secs(60),
            max_lock: Duration::from_secs(3600),
        }
    }
}

impl ThrottleRule {
    /// How long to lock after the `failures`-th consecutive failure, or
    /// `None` while failures are still free.
    #[must_use]
    pub fn lock_for(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.free_failures.max(1))?;
        let factor = 1u32.checked_shl(beyond.min(31)).unwrap_or(u32::MAX);
        Some(
            self.base_lock
                .checked_mul(factor)
                .unwrap_or(self.max_lock)
                .min(self.max_lock),
        )
    }

    /// The state after one more failure on top of `failures`, at `now`.
    #[must_use]
    pub fn after_failure(&self, failures: u32, now: Timestamp) -> ThrottleState {
        let failures = failures.saturating_add(1);
        ThrottleState {
            failures,
            locked_until: self.lock_for(failures).map(|d| now.plus(d)),
        }
    }
}

/// Consecutive failures of one factor kind for one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ThrottleState {
    /// Consecutive failures so far.
    pub failures: u32,
    /// Locked until this time, if a lock was ever set in this run of
    /// failures (it may already be over).
    pub locked_until: Option<Timestamp>,
}

impl ThrottleState {
    /// The end of the lock, if it is still in force at `now`.
    #[must_use]
    pub fn locked_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_free_then_one_minute_doubling_to_an_hour() {
        let rule = ThrottleRule::default();
        let minutes = |f| rule.lock_for(f).map(|d: Duration| d.as_secs() / 60);
        assert_eq!((1..=4).map(minutes).collect::<Vec<_>>(), vec![None; 4]);
        assert_eq!(minutes(5), Some(1));
        assert_eq!(minutes(6), Some(2));
        assert_eq!(minutes(7), Some(4));
        assert_eq!(minutes(11), Some(60)); // 64 min, capped at 60
        assert_eq!(minutes(10), Some(32));
        assert_eq!(minutes(40), Some(60));
        assert_eq!(minutes(u32::MAX), Some(60));
    }

    #[test]
    fn state_after_failure() {
        let rule = ThrottleRule::default();
        let now = Timestamp::from_unix(1000);
        assert_eq!(
            rule.after_failure(0, now),
            ThrottleState {
                failures: 1,
                locked_until: None
            }
        );
        let locked = rule.after_failure(4, now);
        assert_eq!(locked.locked_until, Some(Timestamp::from_unix(1060)));
        assert_eq!(locked.locked_at(now), Some(Timestamp::from_unix(1060)));
        assert_eq!(locked.locked_at(Timestamp::from_unix(1060)), None);
        assert_eq!(rule.after_failure(u32::MAX, now).failures, u32::MAX);
    }
}
