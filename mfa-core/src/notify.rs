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

/// A notifier that delivers nothing and writes one line per message to
/// standard error — *without* the code. For development set-ups where
/// another part of the app shows codes, or where codes are not used.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    async fn send_code(&self, message: CodeMessage<'_>) -> Result<()> {
        eprintln!(
            "mfa: would send a {} code to subject {} (expires {})",
            message.channel, message.subject.id, message.expires_at
        );
        Ok(())
    }

    async fn notify(&self, notice: Notice<'_>) -> Result<()> {
        eprintln!(
            "mfa: would notify subject {}: {:?}",
            notice.subject.id, notice.kind
        );
        Ok(())
    }
}
