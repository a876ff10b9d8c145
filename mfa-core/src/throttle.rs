//! Guessing is throttled per subject and factor kind, and the attempt is
//! paid for *before* its code is checked.
//!
//! Every attempt first takes a charge in the store ([`ThrottleRule::charge`],
//! applied atomically by [`Store::charge_attempt`](crate::Store::charge_attempt)):
//! the failure count goes up by one and, from the
//! [`free_failures`](ThrottleRule::free_failures)-th (5) charge on, the
//! factor is locked — for [`base_lock`](ThrottleRule::base_lock) (1 min),
//! doubling with every further charge up to [`max_lock`](ThrottleRule::max_lock)
//! (1 h). An attempt that finds the factor locked is refused without
//! looking at its code and without a charge. Only then is the code
//! checked, and:
//!
//! * a **wrong** code keeps its charge;
//! * a **right** code gives its own charge back and clears the failures of
//!   earlier runs ([`ThrottleRule::succeed`]) — but not those of the
//!   current run, charged within [`base_lock`](ThrottleRule::base_lock) of
//!   each other: a right code in the middle of a burst of guesses buys the
//!   guesser nothing;
//! * an attempt that evaluated nothing — the duplicate of a code accepted a
//!   moment ago (a double-submitted form), or a try when no sent code is
//!   active — gives its own charge back ([`ThrottleRule::refund`]).
//!
//! Because the charge is taken before the check and the lock is set by
//! the same atomic step, N parallel guesses get at most `free_failures`
//! evaluations before the lock, whatever N and however many app instances
//! share the store; after that one guess per lock period. With the defaults
//! that is 10 evaluated guesses in the first hour, and one an hour after.
//!
//! After [`max_failures`](ThrottleRule::max_failures) (100) consecutive
//! failures (NIST SP 800-63B §5.2.2) the factor kind is **blocked**: no
//! code of that kind is checked until the subject succeeds with another
//! factor kind or an administrator resets their MFA.

use core::time::Duration;

use crate::clock::Timestamp;

/// The throttling parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ThrottleRule {
    /// Charges allowed before the first lock: the lock starts with the
    /// `free_failures`-th charge (5).
    pub free_failures: u32,
    /// Length of the first lock (1 min). Charges less than this apart
    /// belong to one run, which a success does not clear.
    pub base_lock: Duration,
    /// Longest lock (1 h).
    pub max_lock: Duration,
    /// Consecutive failures after which the factor kind is blocked until
    /// another kind succeeds or an administrator resets it (100, the most
    /// NIST SP 800-63B §5.2.2 allows).
    pub max_failures: u32,
}

impl Default for ThrottleRule {
    fn default() -> Self {
        Self {
            free_failures: 5,
            base_lock: Duration::from_secs(60),
            max_lock: Duration::from_secs(3600),
            max_failures: 100,
        }
    }
}

/// Consecutive failures of one factor kind for one subject, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ThrottleState {
    /// Charged attempts not given back: consecutive failures, including
    /// attempts still being checked.
    pub failures: u32,
    /// Locked until this time, if the latest charge set a lock (it may
    /// already be over).
    pub locked_until: Option<Timestamp>,
    /// How many of `failures` belong to the current run (charges each
    /// less than [`ThrottleRule::base_lock`] after the previous one).
    pub recent: u32,
    /// When the latest charge was taken.
    pub last_charge_at: Option<Timestamp>,
    /// Attempts refused since the latest charge because the factor was
    /// locked or blocked.
    pub refused: u32,
}

/// What [`ThrottleRule::charge`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Charge {
    /// The attempt is paid for: check its code.
    Charged {
        /// The state after the charge (its lock, if any, applies to the
        /// attempts after this one).
        state: ThrottleState,
        /// Attempts that were refused while the previous lock lasted (the
        /// lock this charge follows); 0 if none.
        refused_before: u32,
    },
    /// Locked: the code must not be checked.
    Locked {
        /// End of the lock.
        until: Timestamp,
    },
    /// Blocked after [`ThrottleRule::max_failures`] failures: the code must
    /// not be checked.
    Blocked,
}

impl ThrottleRule {
    /// How long to lock after the `failures`-th consecutive charge, or
    /// `None` while charges are still free.
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

    /// [`free_failures`](Self::free_failures), at least 1.
    fn free(&self) -> u32 {
        self.free_failures.max(1)
    }

    /// Whether `state` refuses attempts at `now`: `Some(Blocked)` or
    /// `Some(Locked { .. })`, else `None`.
    #[must_use]
    pub fn refusal(&self, state: &ThrottleState, now: Timestamp) -> Option<Charge> {
        if state.failures >= self.max_failures.max(1) {
            return Some(Charge::Blocked);
        }
        state
            .locked_until
            .filter(|until| *until > now)
            .map(|until| Charge::Locked { until })
    }

    /// One attempt at `now` against `state`: the new state to store and
    /// the decision. A refused attempt only counts as refused.
    #[must_use]
    pub fn charge(&self, state: &ThrottleState, now: Timestamp) -> (ThrottleState, Charge) {
        if let Some(refusal) = self.refusal(state, now) {
            let refused = ThrottleState {
                refused: state.refused.saturating_add(1),
                ..*state
            };
            return (refused, refusal);
        }
        let failures = state.failures.saturating_add(1);
        let same_run = state
            .last_charge_at
            .is_some_and(|last| now < last.plus(self.base_lock));
        let charged = ThrottleState {
            failures,
            locked_until: self.lock_for(failures).map(|d| now.plus(d)),
            recent: if same_run {
                state.recent.saturating_add(1)
            } else {
                1
            },
            last_charge_at: Some(now),
            refused: 0,
        };
        (
            charged,
            Charge::Charged {
                state: charged,
                refused_before: state.refused,
            },
        )
    }

    /// Gives one charge back (the attempt evaluated nothing). The lock is
    /// lifted if the count falls below the free failures.
    #[must_use]
    pub fn refund(&self, state: &ThrottleState) -> ThrottleState {
        let failures = state.failures.saturating_sub(1);
        ThrottleState {
            failures,
            recent: state.recent.saturating_sub(1).min(failures),
            locked_until: state.locked_until.filter(|_| failures >= self.free()),
            ..*state
        }
    }

    /// A right code: its own charge is given back and only the current
    /// run's other charges stay (failures of earlier runs are cleared).
    #[must_use]
    pub fn succeed(&self, state: &ThrottleState) -> ThrottleState {
        let recent = state.recent.min(state.failures).saturating_sub(1);
        ThrottleState {
            failures: recent,
            recent,
            locked_until: state.locked_until.filter(|_| recent >= self.free()),
            ..*state
        }
    }
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

    fn t(secs: u64) -> Timestamp {
        Timestamp::from_unix(1000 + secs)
    }

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

    fn charged(rule: &ThrottleRule, state: &ThrottleState, now: Timestamp) -> ThrottleState {
        match rule.charge(state, now) {
            (next, Charge::Charged { state, .. }) => {
                assert_eq!(next, state);
                state
            }
            other => panic!("expected a charge, got {other:?}"),
        }
    }

    #[test]
    fn the_fifth_charge_locks_and_later_attempts_are_refused() {
        let rule = ThrottleRule::default();
        let mut state = ThrottleState::default();
        for i in 1..=4 {
            state = charged(&rule, &state, t(0));
            assert_eq!((state.failures, state.locked_until), (i, None));
        }
        state = charged(&rule, &state, t(0));
        assert_eq!(state.locked_until, Some(t(60)));
        let (refused, decision) = rule.charge(&state, t(59));
        assert_eq!(decision, Charge::Locked { until: t(60) });
        assert_eq!(refused.failures, 5);
        assert_eq!(refused.refused, 1);
        let (_, decision) = rule.charge(&refused, t(60));
        assert_eq!(
            decision,
            Charge::Charged {
                state: ThrottleState {
                    failures: 6,
                    locked_until: Some(t(180)),
                    recent: 1,
                    last_charge_at: Some(t(60)),
                    refused: 0,
                },
                refused_before: 1,
            }
        );
    }

    #[test]
    fn sequential_budget_is_ten_in_the_first_hour() {
        let rule = ThrottleRule::default();
        let mut state = ThrottleState::default();
        let mut evaluated = 0;
        for second in 0..3600 {
            // A guess every second, each as soon as allowed.
            let (next, decision) = rule.charge(&state, t(second));
            if matches!(decision, Charge::Charged { .. }) {
                evaluated += 1;
            }
            state = next;
        }
        assert_eq!(evaluated, 10);
    }

    #[test]
    fn a_success_keeps_the_current_run_and_clears_older_runs() {
        let rule = ThrottleRule::default();
        let mut state = ThrottleState::default();
        for _ in 0..3 {
            state = charged(&rule, &state, t(0));
        }
        // A right code in the same run: only its own charge comes back.
        let mine = charged(&rule, &state, t(1));
        assert_eq!(rule.succeed(&mine).failures, 3);
        // A right code after a pause: the earlier run is cleared.
        let mine = charged(&rule, &state, t(60));
        assert_eq!(
            rule.succeed(&mine),
            ThrottleState {
                failures: 0,
                recent: 0,
                locked_until: None,
                last_charge_at: Some(t(60)),
                refused: 0,
            }
        );
    }

    #[test]
    fn a_refund_gives_back_one_charge_and_its_lock() {
        let rule = ThrottleRule::default();
        let mut state = ThrottleState::default();
        for _ in 0..5 {
            state = charged(&rule, &state, t(0));
        }
        assert!(state.locked_until.is_some());
        let refunded = rule.refund(&state);
        assert_eq!((refunded.failures, refunded.locked_until), (4, None));
        assert_eq!(
            rule.refund(&ThrottleState::default()),
            ThrottleState::default()
        );
    }

    #[test]
    fn blocked_after_max_failures() {
        let rule = ThrottleRule {
            max_failures: 3,
            free_failures: 10,
            ..ThrottleRule::default()
        };
        let mut state = ThrottleState::default();
        for _ in 0..3 {
            state = charged(&rule, &state, t(0));
        }
        assert_eq!(rule.charge(&state, t(100_000)).1, Charge::Blocked);
        // A refund of the last charge unblocks.
        assert_eq!(rule.refusal(&rule.refund(&state), t(0)), None);
    }
}
