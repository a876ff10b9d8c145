//! Sending codes and security notices: the [`Notifier`] trait.

use core::future::Future;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::otp::Code;
use crate::subject::{Channel, FactorKind, Subject};

/// A one-time code to deliver.
#[derive(Debug)]
pub struct CodeMessage<'a> {
    /// Who it is for.
    pub subject: &'a Subject,
    /// E-mail or SMS.
    pub channel: Channel,
    /// The address on that channel.
    pub to: &'a str,
    /// The code; `code.expose()` gives the digits to put in the message.
    /// `Debug` on this message never shows it.
    pub code: &'a Code,
    /// When the code stops working.
    pub expires_at: Timestamp,
    /// The service name to show ("Your Service Desk code is …").
    pub issuer: &'a str,
}

/// A security notice to the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoticeKind {
    /// An authenticator app was added.
    AuthenticatorAdded,
    /// An authenticator app was removed.
    AuthenticatorRemoved,
    /// E-mail or SMS was added as a factor.
    ChannelAdded(Channel),
    /// E-mail or SMS was removed as a factor.
    ChannelRemoved(Channel),
    /// A recovery code was used; `left` remain.
    RecoveryCodeUsed {
        /// Unused codes remaining.
        left: u32,
    },
    /// A new set of recovery codes was generated.
    RecoveryCodesRegenerated,
    /// The subject turned MFA off.
    MfaDisabled,
    /// An administrator reset the subject's MFA.
    MfaResetByAdmin,
    /// Too many wrong codes locked verification until `until`.
    LockedOut {
        /// End of the lock.
        until: Timestamp,
    },
    /// Too many consecutive wrong codes (100) blocked this kind of factor
    /// until another factor succeeds or an administrator resets it.
    FactorBlocked(FactorKind),
    /// E-mail or SMS codes were moved to a new address. Sent to the
    /// *previous* address ([`Notice::to`]).
    ChannelAddressChanged(Channel),
}

/// A security notice to deliver.
#[derive(Debug)]
pub struct Notice<'a> {
    /// Who it is for (send to their e-mail address, typically).
    pub subject: &'a Subject,
    /// What happened.
    pub kind: NoticeKind,
    /// When.
    pub at: Timestamp,
    /// The service name.
    pub issuer: &'a str,
    /// Deliver to this address (on the channel the kind names) instead of
    /// the subject's current one: a notice to an address being replaced.
    pub to: Option<&'a str>,
}

/// Delivers codes and notices. Implementations choose the transport (SMTP,
/// an SMS gateway, a queue…).
///
/// Errors from [`send_code`](Self::send_code) fail the send (the person
/// must be told the code did not go out); errors from
/// [`notify`](Self::notify) are recorded but never undo the operation that
/// caused the notice.
pub trait Notifier: Send + Sync + 'static {
    /// Delivers a one-time code.
    fn send_code(&self, message: CodeMessage<'_>) -> impl Future<Output = Result<()>> + Send;

    /// Delivers a security notice.
    fn notify(&self, notice: Notice<'_>) -> impl Future<Output = Result<()>> + Send;
}

/// A notifier that delivers nothing and logs one line per message —
/// *without* the code and without the address. For development set-ups
/// where another part of the app shows codes, or where codes are not used.
///
/// With the `tracing` feature each message is an `INFO` event with target
/// `mfa::notify` and the fields `subject`, `channel` and `expires_at`
/// (codes) or `subject` and `notice` (notices); without it, a line on
/// standard error with the same facts. Neither ever contains a code, a
/// secret, a token or an address.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    async fn send_code(&self, message: CodeMessage<'_>) -> Result<()> {
        #[cfg(feature = "tracing")]
        tracing::info!(
            target: "mfa::notify",
            subject = message.subject.id.as_str(),
            channel = message.channel.as_str(),
            expires_at = message.expires_at.unix(),
            "one-time code not delivered (LogNotifier)"
        );
        #[cfg(not(feature = "tracing"))]
        eprintln!(
            "mfa: would send a {} code to subject {} (expires {})",
            message.channel, message.subject.id, message.expires_at
        );
        Ok(())
    }

    async fn notify(&self, notice: Notice<'_>) -> Result<()> {
        #[cfg(feature = "tracing")]
        tracing::info!(
            target: "mfa::notify",
            subject = notice.subject.id.as_str(),
            notice = ?notice.kind,
            "security notice not delivered (LogNotifier)"
        );
        #[cfg(not(feature = "tracing"))]
        eprintln!(
            "mfa: would notify subject {}: {:?}",
            notice.subject.id, notice.kind
        );
        Ok(())
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use super::*;
    use crate::otp::Digits;
    use crate::subject::SubjectId;

    /// Collects every event as `target name=value …`.
    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<Vec<String>>>);

    struct Line<'a>(&'a mut String);

    impl Visit for Line<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn core::fmt::Debug) {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    impl Subscriber for Collect {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut line = event.metadata().target().to_owned();
            event.record(&mut Line(&mut line));
            if let Ok(mut lines) = self.0.lock() {
                lines.push(line);
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    fn ready<F: Future>(future: F) -> F::Output {
        let mut future = core::pin::pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(output) => output,
            Poll::Pending => unreachable!("LogNotifier never waits"),
        }
    }

    #[test]
    fn events_have_fields_and_no_code_or_address() {
        let collect = Collect::default();
        let subject =
            Subject::new(SubjectId::new("alice").unwrap(), []).with_email("alice@example.com");
        let code = Code::new(987_654, Digits::SIX);
        tracing::subscriber::with_default(collect.clone(), || {
            ready(LogNotifier.send_code(CodeMessage {
                subject: &subject,
                channel: Channel::Email,
                to: "alice@example.com",
                code: &code,
                expires_at: Timestamp::from_unix(1_700_000_300),
                issuer: "Service Desk",
            }))
            .unwrap();
            ready(LogNotifier.notify(Notice {
                subject: &subject,
                kind: NoticeKind::LockedOut {
                    until: Timestamp::from_unix(1_700_000_060),
                },
                at: Timestamp::from_unix(1_700_000_000),
                issuer: "Service Desk",
                to: None,
            }))
            .unwrap();
        });
        let lines = collect.0.lock().unwrap().clone();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let [code_line, notice_line] = [&lines[0], &lines[1]];
        assert!(code_line.starts_with("mfa::notify"), "{code_line}");
        for field in [
            "subject=\"alice\"",
            "channel=\"email\"",
            "expires_at=1700000300",
        ] {
            assert!(code_line.contains(field), "{code_line}");
        }
        assert!(notice_line.contains("notice=LockedOut"), "{notice_line}");
        for line in &lines {
            assert!(!line.contains("987654"), "{line}");
            assert!(!line.contains("example.com"), "{line}");
        }
    }
}
