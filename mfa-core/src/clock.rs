//! Time: a [`Timestamp`] type and the injected [`Clock`].

use core::fmt;
use core::time::Duration;

/// A point in time, in whole seconds since the Unix epoch.
///
/// Whole seconds are what every rule here needs (TOTP steps, expiries,
/// lock-outs) and what every database stores without loss. Arithmetic
/// saturates: nothing here can overflow or panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Self = Self(0);

    /// `secs` seconds after the Unix epoch.
    #[must_use]
    pub const fn from_unix(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub const fn unix(self) -> u64 {
        self.0
    }

    /// `self + duration`, saturating at the largest representable time.
    #[must_use]
    pub fn plus(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration.as_secs()))
    }

    /// `self - duration`, saturating at the epoch.
    #[must_use]
    pub fn minus(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration.as_secs()))
    }

    /// How long after `earlier` this is; zero if it is not after it.
    #[must_use]
    pub fn since(self, earlier: Self) -> Duration {
        Duration::from_secs(self.0.saturating_sub(earlier.0))
    }

    /// The current system time (the epoch if the system clock is before it).
    #[must_use]
    pub fn now_system() -> Self {
        Self(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}

/// Where the service gets the time. Injected so that tests never sleep:
/// see `testing::ManualClock` (feature `testing`).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now_system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_unix(10);
        assert_eq!(t.plus(Duration::from_secs(5)).unix(), 15);
        assert_eq!(t.minus(Duration::from_secs(50)), Timestamp::EPOCH);
        assert_eq!(
            Timestamp::from_unix(u64::MAX)
                .plus(Duration::from_secs(1))
                .unix(),
            u64::MAX
        );
        assert_eq!(t.since(Timestamp::from_unix(20)), Duration::ZERO);
        assert_eq!(Timestamp::from_unix(20).since(t), Duration::from_secs(10));
        assert!(SystemClock.now() > Timestamp::from_unix(1_700_000_000));
    }
}
