//! [`ManualClock`]: time that moves only when a test moves it.

use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::{Clock, Timestamp};

/// A [`Clock`] whose time the test sets. Clones share the same time, so a
/// test keeps one clone and hands the other to the service.
///
/// ```
/// use core::time::Duration;
/// use mfa_core::testing::ManualClock;
/// use mfa_core::{Clock, Timestamp};
///
/// let clock = ManualClock::new(Timestamp::from_unix(1_700_000_000));
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(shared.now(), Timestamp::from_unix(1_700_000_030));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    secs: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock showing `start`.
    #[must_use]
    pub fn new(start: Timestamp) -> Self {
        Self {
            secs: Arc::new(AtomicU64::new(start.unix())),
        }
    }

    /// Sets the time (backwards too).
    pub fn set(&self, to: Timestamp) {
        self.secs.store(to.unix(), Ordering::SeqCst);
    }

    /// Moves the time forward by `by` (whole seconds; saturating) and
    /// returns the new time.
    pub fn advance(&self, by: Duration) -> Timestamp {
        let step = |secs: u64| Some(Timestamp::from_unix(secs).plus(by).unix());
        let previous = self
            .secs
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, step)
            .unwrap_or_else(|current| current);
        Timestamp::from_unix(previous).plus(by)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(self.secs.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_advance_are_shared_by_clones() {
        let clock = ManualClock::new(Timestamp::from_unix(100));
        let other = clock.clone();
        assert_eq!(other.now(), Timestamp::from_unix(100));
        assert_eq!(
            clock.advance(Duration::from_secs(5)),
            Timestamp::from_unix(105)
        );
        assert_eq!(other.now(), Timestamp::from_unix(105));
        other.set(Timestamp::from_unix(50));
        assert_eq!(clock.now(), Timestamp::from_unix(50));
        clock.set(Timestamp::from_unix(u64::MAX - 1));
        assert_eq!(
            clock.advance(Duration::from_secs(10)),
            Timestamp::from_unix(u64::MAX)
        );
        assert_eq!(other.now(), Timestamp::from_unix(u64::MAX));
    }
}
