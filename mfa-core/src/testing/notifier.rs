//! [`RecordingNotifier`]: keeps every code and notice for the test to read.

use core::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::notify::{CodeMessage, Notice, NoticeKind, Notifier};
use crate::subject::{Channel, SubjectId};

/// A code [`RecordingNotifier`] was asked to send. `Debug` never shows the
/// code.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordedCode {
    /// For whom.
    pub subject: SubjectId,
    /// E-mail or SMS.
    pub channel: Channel,
    /// The address it went to.
    pub to: String,
    /// The code's digits, as the message would show them.
    pub code: String,
    /// When the code stops working.
    pub expires_at: Timestamp,
}

impl fmt::Debug for RecordedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedCode")
            .field("subject", &self.subject)
            .field("channel", &self.channel)
            .field("to", &self.to)
            .field("code", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A notice [`RecordingNotifier`] was asked to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedNotice {
    /// For whom.
    pub subject: SubjectId,
    /// What happened.
    pub kind: NoticeKind,
    /// When.
    pub at: Timestamp,
    /// The address it was sent to instead of the subject's current one
    /// (a notice to a previous address).
    pub to: Option<String>,
}

#[derive(Default)]
struct Log {
    codes: Vec<RecordedCode>,
    notices: Vec<RecordedNotice>,
}

/// A [`Notifier`] for tests: it delivers nothing and records every code
/// message and notice, in order. Clones share the records, so a test keeps
/// one clone and hands the other to the service.
///
/// [`fail_sends`](Self::fail_sends) makes [`send_code`](Notifier::send_code)
/// fail with [`Error::Notify`] (recording nothing) to exercise delivery
/// failures; notices are always recorded.
///
/// `Debug` shows only how many messages were recorded.
#[derive(Clone, Default)]
pub struct RecordingNotifier {
    log: Arc<Mutex<Log>>,
    failing: Arc<AtomicBool>,
}

impl RecordingNotifier {
    /// A notifier with nothing recorded, delivering successfully.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Log) -> R) -> R {
        f(&mut self.log.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// From now on, [`send_code`](Notifier::send_code) fails (`true`) or
    /// succeeds (`false`).
    pub fn fail_sends(&self, fail: bool) {
        self.failing.store(fail, Ordering::SeqCst);
    }

    /// Every code sent so far, oldest first.
    #[must_use]
    pub fn codes(&self) -> Vec<RecordedCode> {
        self.with(|log| log.codes.clone())
    }

    /// The digits of the newest code sent to `subject` on `channel`.
    #[must_use]
    pub fn last_code(&self, subject: &SubjectId, channel: Channel) -> Option<String> {
        self.with(|log| {
            log.codes
                .iter()
                .rev()
                .find(|c| c.subject == *subject && c.channel == channel)
                .map(|c| c.code.clone())
        })
    }

    /// Every notice so far, oldest first.
    #[must_use]
    pub fn notices(&self) -> Vec<RecordedNotice> {
        self.with(|log| log.notices.clone())
    }

    /// The kinds of the notices sent to `subject`, oldest first.
    #[must_use]
    pub fn notices_for(&self, subject: &SubjectId) -> Vec<NoticeKind> {
        self.with(|log| {
            log.notices
                .iter()
                .filter(|n| n.subject == *subject)
                .map(|n| n.kind)
                .collect()
        })
    }

    /// Forgets everything recorded (the failure switch stays as it is).
    pub fn clear(&self) {
        self.with(|log| *log = Log::default());
    }
}

impl fmt::Debug for RecordingNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|log| {
            f.debug_struct("RecordingNotifier")
                .field("codes", &log.codes.len())
                .field("notices", &log.notices.len())
                .field("failing", &self.failing.load(Ordering::SeqCst))
                .finish()
        })
    }
}

/// The error [`RecordingNotifier`] fails sends with.
#[derive(Debug)]
struct DeliveryFailed;

impl fmt::Display for DeliveryFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordingNotifier was told to fail sends")
    }
}

impl std::error::Error for DeliveryFailed {}

impl Notifier for RecordingNotifier {
    async fn send_code(&self, message: CodeMessage<'_>) -> Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::Notify(Box::new(DeliveryFailed)));
        }
        let record = RecordedCode {
            subject: message.subject.id.clone(),
            channel: message.channel,
            to: message.to.to_owned(),
            code: message.code.expose().to_string(),
            expires_at: message.expires_at,
        };
        self.with(|log| log.codes.push(record));
        Ok(())
    }

    async fn notify(&self, notice: Notice<'_>) -> Result<()> {
        let record = RecordedNotice {
            subject: notice.subject.id.clone(),
            kind: notice.kind,
            at: notice.at,
            to: notice.to.map(str::to_owned),
        };
        self.with(|log| log.notices.push(record));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::{Code, Digits};
    use crate::subject::{Role, Subject};

    fn subject(id: &str) -> Subject {
        Subject::new(SubjectId::new(id).unwrap(), [Role::END_USER]).with_email("a@example.org")
    }

    #[test]
    fn records_codes_and_notices_and_can_fail() {
        crate::testing::run_case(async {
            let notifier = RecordingNotifier::new();
            let shared = notifier.clone();
            let alice = subject("alice");
            let bob = subject("bob");
            let send = |who: &Subject, digits: &str, channel| {
                let code = Code::parse(digits, Digits::SIX).unwrap();
                let notifier = notifier.clone();
                let who = who.clone();
                async move {
                    notifier
                        .send_code(CodeMessage {
                            subject: &who,
                            channel,
                            to: "a@example.org",
                            code: &code,
                            expires_at: Timestamp::from_unix(300),
                            issuer: "Test",
                        })
                        .await
                }
            };
            send(&alice, "123456", Channel::Email).await?;
            send(&alice, "654321", Channel::Email).await?;
            send(&alice, "111111", Channel::Sms).await?;
            send(&bob, "222222", Channel::Email).await?;
            assert_eq!(shared.codes().len(), 4);
            assert_eq!(shared.codes()[0].to, "a@example.org");
            assert_eq!(shared.codes()[0].expires_at, Timestamp::from_unix(300));
            assert_eq!(
                shared.last_code(&alice.id, Channel::Email).as_deref(),
                Some("654321")
            );
            assert_eq!(
                shared.last_code(&alice.id, Channel::Sms).as_deref(),
                Some("111111")
            );
            assert_eq!(shared.last_code(&bob.id, Channel::Sms), None);
            let debug = format!("{:?} {:?}", shared.codes(), shared);
            assert!(!debug.contains("654321"), "{debug}");

            shared.fail_sends(true);
            let failed = send(&alice, "999999", Channel::Email).await;
            assert!(matches!(failed, Err(Error::Notify(_))), "{failed:?}");
            assert_eq!(shared.codes().len(), 4, "a failed send is not recorded");
            shared.fail_sends(false);
            send(&alice, "999999", Channel::Email).await?;
            assert_eq!(
                shared.last_code(&alice.id, Channel::Email).as_deref(),
                Some("999999")
            );

            for (who, kind, at) in [
                (&alice, NoticeKind::AuthenticatorAdded, 10),
                (&bob, NoticeKind::MfaDisabled, 11),
                (&alice, NoticeKind::RecoveryCodeUsed { left: 3 }, 12),
            ] {
                notifier
                    .notify(Notice {
                        subject: who,
                        kind,
                        at: Timestamp::from_unix(at),
                        issuer: "Test",
                        to: None,
                    })
                    .await?;
            }
            assert_eq!(
                shared.notices_for(&alice.id),
                vec![
                    NoticeKind::AuthenticatorAdded,
                    NoticeKind::RecoveryCodeUsed { left: 3 }
                ]
            );
            assert_eq!(
                shared.notices()[1],
                RecordedNotice {
                    subject: bob.id.clone(),
                    kind: NoticeKind::MfaDisabled,
                    at: Timestamp::from_unix(11),
                    to: None,
                }
            );
            assert_eq!(shared.notices().len(), 3);

            shared.clear();
            assert!(notifier.codes().is_empty());
            assert!(notifier.notices().is_empty());
            Ok::<(), Error>(())
        });
    }
}
