//! What an adapter keeps in the framework's session: one value under one
//! key, bound to the subject it was made for.

use core::time::Duration;

use crate::clock::Timestamp;
use crate::policy::SessionState;
use crate::subject::SubjectId;

/// The session key adapters store [`MfaSession`] under.
pub const SESSION_KEY: &str = "mfa";

/// The MFA state of one browser session. Serialized into the framework's
/// session under [`SESSION_KEY`]. It is bound to `subject`: a session made
/// for another subject (the first factor changed) counts as empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MfaSession {
    /// Whose session this is.
    pub subject: Option<SubjectId>,
    /// What the session has proved.
    pub state: SessionState,
    /// When the gate last asked the store whether a verified session still
    /// counts (an administrator reset, MFA turned off or the last factor
    /// removed end it within the adapter's revalidation interval, 60 s by
    /// default; see [`fresh`](Self::fresh)). Set only when the check let
    /// the session through.
    pub checked_at: Option<Timestamp>,
    /// The enrollment deadline the last check found, if enrollment is due
    /// by one (repeated on every response until the next check).
    pub enroll_by: Option<Timestamp>,
}

impl MfaSession {
    /// The state for `subject`: this session's if it was made for them,
    /// an empty one otherwise.
    #[must_use]
    pub fn for_subject(self, subject: &SubjectId) -> Self {
        if self.subject.as_ref() == Some(subject) {
            self
        } else {
            Self {
                subject: Some(subject.clone()),
                ..Self::default()
            }
        }
    }

    /// A session that passed the second step at `at`: verified, and
    /// checked at the same time.
    #[must_use]
    pub fn verified(subject: &SubjectId, at: Timestamp) -> Self {
        Self {
            subject: Some(subject.clone()),
            state: SessionState {
                verified_at: Some(at),
                device_remembered: false,
            },
            checked_at: Some(at),
            enroll_by: None,
        }
    }

    /// Whether the gate may let the session through at `now` without
    /// asking the store: a check let it through less than `revalidate`
    /// ago.
    #[must_use]
    pub fn fresh(&self, now: Timestamp, revalidate: Duration) -> bool {
        self.checked_at
            .is_some_and(|at| at <= now && now.since(at) < revalidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> SubjectId {
        SubjectId::new(s).unwrap()
    }

    #[test]
    fn a_session_of_another_subject_is_empty() {
        let alice = MfaSession::verified(&id("alice"), Timestamp::from_unix(10));
        assert_eq!(alice.clone().for_subject(&id("alice")), alice);
        let bob = alice.for_subject(&id("bob"));
        assert_eq!(bob.subject, Some(id("bob")));
        assert_eq!(bob.state, SessionState::default());
    }

    #[test]
    fn fresh_for_the_revalidation_interval_only() {
        let s = MfaSession::verified(&id("alice"), Timestamp::from_unix(100));
        let minute = Duration::from_secs(60);
        assert!(s.fresh(Timestamp::from_unix(159), minute));
        assert!(!s.fresh(Timestamp::from_unix(160), minute));
        assert!(
            !s.fresh(Timestamp::from_unix(99), minute),
            "a clock that went back"
        );
        assert!(!MfaSession::default().fresh(Timestamp::from_unix(100), minute));
    }

    #[test]
    fn old_sessions_still_load() {
        let s: MfaSession = serde_json::from_str("{}").unwrap();
        assert_eq!(s, MfaSession::default());
        let s: MfaSession =
            serde_json::from_str(r#"{"subject":"alice","state":{"verified_at":5}}"#).unwrap();
        assert_eq!(s.state.verified_at, Some(Timestamp::from_unix(5)));
    }
}
