//! The desk's [`Notifier`]: one-time codes and security notices go out by
//! e-mail (SMTP, when configured) and, while the development outbox is on,
//! land in the [`Outbox`] the `/dev/outbox` page shows. SMS has no
//! transport in the demo: it reaches the outbox only.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message as Email, Tokio1Executor};
use mfa_core::notify::{CodeMessage, Notice, NoticeKind};
use mfa_core::{Channel, FactorKind, Notifier, Timestamp};

use crate::Error;
use crate::config::Smtp;

/// How many messages the outbox keeps (the oldest go first).
const OUTBOX_LEN: usize = 200;

/// One message as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Sequence number, from 1.
    pub id: u64,
    /// When.
    pub at: Timestamp,
    /// E-mail or SMS.
    pub channel: Channel,
    /// The address or number.
    pub to: String,
    /// The subject line (e-mail).
    pub subject: String,
    /// The text.
    pub body: String,
}

/// The development outbox: the latest messages, newest first.
#[derive(Debug, Default)]
pub struct Outbox {
    messages: Mutex<(u64, VecDeque<OutboxMessage>)>,
}

impl Outbox {
    /// Keeps a message.
    fn push(&self, at: Timestamp, channel: Channel, to: &str, subject: &str, body: String) {
        let mut guard = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        let (next, messages) = &mut *guard;
        *next += 1;
        messages.push_front(OutboxMessage {
            id: *next,
            at,
            channel,
            to: to.to_owned(),
            subject: subject.to_owned(),
            body,
        });
        messages.truncate(OUTBOX_LEN);
    }

    /// The messages, newest first.
    #[must_use]
    pub fn messages(&self) -> Vec<OutboxMessage> {
        let guard = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        guard.1.iter().cloned().collect()
    }
}

/// Codes and notices to the outbox and, for e-mail, SMTP.
#[derive(Clone)]
pub struct DeskNotifier {
    outbox: Option<Arc<Outbox>>,
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
}

impl core::fmt::Debug for DeskNotifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeskNotifier")
            .field("outbox", &self.outbox.is_some())
            .field("smtp", &self.smtp.is_some())
            .finish()
    }
}

impl DeskNotifier {
    /// A notifier writing to `outbox` (if any) and sending e-mail through
    /// `smtp` (if any).
    ///
    /// # Errors
    /// [`Error::Smtp`] for an SMTP URL or sender address lettre refuses.
    pub fn new(outbox: Option<Arc<Outbox>>, smtp: Option<&Smtp>) -> Result<Self, Error> {
        let smtp = match smtp {
            Some(smtp) => {
                let transport = relay(&smtp.url)?;
                let from = smtp
                    .from
                    .parse()
                    .map_err(|e| Error::Smtp(format!("SMTP_FROM: {e}")))?;
                Some((transport, from))
            }
            None => None,
        };
        Ok(Self { outbox, smtp })
    }

    async fn deliver(
        &self,
        at: Timestamp,
        channel: Channel,
        to: &str,
        subject: &str,
        body: String,
    ) -> mfa_core::Result<()> {
        let mut delivered = false;
        if let (Channel::Email, Some((transport, from))) = (channel, &self.smtp) {
            let to_box: Mailbox = to
                .parse()
                .map_err(|e| notify_error(format!("address: {e}")))?;
            let email = Email::builder()
                .from(from.clone())
                .to(to_box)
                .subject(subject)
                .body(body.clone())
                .map_err(|e| notify_error(e.to_string()))?;
            transport
                .send(email)
                .await
                .map_err(|e| notify_error(e.to_string()))?;
            delivered = true;
        }
        if let Some(outbox) = &self.outbox {
            outbox.push(at, channel, to, subject, body);
            delivered = true;
        }
        if delivered {
            Ok(())
        } else {
            Err(notify_error(format!(
                "no way to send {channel} here: set SMTP_URL (e-mail) or turn the development outbox on"
            )))
        }
    }
}

/// The SMTP transport for `smtp://[user:password@]host[:port]`: plain
/// SMTP to a relay on a trusted network (this build has no TLS stack).
fn relay(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, Error> {
    let rest = url.strip_prefix("smtp://").ok_or_else(|| {
        Error::Smtp("SMTP_URL must start with smtp:// (a relay without TLS)".to_owned())
    })?;
    let rest = rest.trim_end_matches('/');
    let (credentials, host_port) = match rest.rsplit_once('@') {
        Some((credentials, host_port)) => (Some(credentials), host_port),
        None => (None, rest),
    };
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| Error::Smtp(format!("SMTP_URL: {port:?} is not a port")))?,
        ),
        None => (host_port, 25),
    };
    if host.is_empty() {
        return Err(Error::Smtp("SMTP_URL names no host".to_owned()));
    }
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port);
    if let Some(credentials) = credentials {
        let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
        builder = builder.credentials(Credentials::new(user.to_owned(), password.to_owned()));
    }
    Ok(builder.build())
}

fn notify_error(message: String) -> mfa_core::Error {
    mfa_core::Error::Notify(message.into())
}

impl Notifier for DeskNotifier {
    async fn send_code(&self, message: CodeMessage<'_>) -> mfa_core::Result<()> {
        let code = message.code.expose();
        let expires = crate::web::format::time_of_day(message.expires_at);
        let body = match message.channel {
            Channel::Email => format!(
                "Your {issuer} sign-in code is {code}.\n\n\
                 It expires at {expires} and works once. If you did not ask for it, \
                 someone may know your password: change it.",
                issuer = message.issuer,
                code = code.as_str(),
            ),
            _ => format!(
                "{issuer} code: {code} (expires {expires}). Never share it.",
                issuer = message.issuer,
                code = code.as_str(),
            ),
        };
        let subject = format!("Your {} sign-in code", message.issuer);
        let now = Timestamp::now_system();
        self.deliver(now, message.channel, message.to, &subject, body)
            .await
    }

    async fn notify(&self, notice: Notice<'_>) -> mfa_core::Result<()> {
        let to = notice.to.or_else(|| notice.subject.address(Channel::Email));
        let Some(to) = to else {
            return Ok(());
        };
        let (subject, text) = notice_text(notice.kind);
        let body = format!(
            "{text}\n\nIf this was not you, contact your administrator now.\n\n{issuer}",
            issuer = notice.issuer
        );
        self.deliver(notice.at, Channel::Email, to, subject, body)
            .await
    }
}

/// The subject line and text of a security notice.
fn notice_text(kind: NoticeKind) -> (&'static str, String) {
    let factor = |kind: FactorKind| match kind {
        FactorKind::Totp => "authenticator app",
        FactorKind::Recovery => "recovery code",
        FactorKind::Email => "e-mail",
        FactorKind::Sms => "SMS",
        _ => "sign-in",
    };
    match kind {
        NoticeKind::AuthenticatorAdded => (
            "An authenticator app was added",
            "An authenticator app was added to your account.".to_owned(),
        ),
        NoticeKind::AuthenticatorRemoved => (
            "An authenticator app was removed",
            "An authenticator app was removed from your account.".to_owned(),
        ),
        NoticeKind::ChannelAdded(channel) => (
            "Sign-in codes were turned on",
            format!("Sign-in codes by {channel} were turned on for your account."),
        ),
        NoticeKind::ChannelRemoved(channel) => (
            "Sign-in codes were turned off",
            format!("Sign-in codes by {channel} were turned off for your account."),
        ),
        NoticeKind::RecoveryCodeUsed { left } => (
            "A recovery code was used",
            format!("A recovery code was used to sign in to your account. {left} remain."),
        ),
        NoticeKind::RecoveryCodesRegenerated => (
            "New recovery codes",
            "New recovery codes were made for your account; the old ones no longer work."
                .to_owned(),
        ),
        NoticeKind::MfaDisabled => (
            "Two-factor authentication was turned off",
            "Two-factor authentication was turned off for your account.".to_owned(),
        ),
        NoticeKind::MfaResetByAdmin => (
            "Your two-factor authentication was reset",
            "An administrator reset your two-factor authentication: your authenticator apps, \
             recovery codes and remembered browsers were removed. Set it up again from \
             Profile > Password & Security."
                .to_owned(),
        ),
        NoticeKind::LockedOut { until } => (
            "Too many wrong codes",
            format!(
                "Too many wrong sign-in codes were entered for your account. Codes are refused \
                 until {}.",
                crate::web::format::time_of_day(until)
            ),
        ),
        NoticeKind::FactorBlocked(kind) => (
            "Sign-in method blocked",
            format!(
                "After many wrong codes, your {} can no longer be used to sign in until \
                 another method succeeds or an administrator resets it.",
                factor(kind)
            ),
        ),
        NoticeKind::ChannelAddressChanged(channel) => (
            "Sign-in codes moved",
            format!("Sign-in codes by {channel} now go to a new address."),
        ),
        _ => (
            "Security notice",
            "Something changed in your account's security settings.".to_owned(),
        ),
    }
}
