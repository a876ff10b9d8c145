//! [`DevOutbox`]: one-time codes to a JSON-lines file, for a test harness
//! driving a running app over HTTP (local testing only).

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::notify::{CodeMessage, LogNotifier, Notice, Notifier};

/// The environment variable [`DevOutbox::from_env`] reads.
pub const DEV_OUTBOX_VAR: &str = "MFA_DEV_OUTBOX";

/// A [`Notifier`] for **local testing only**: with a file set, it appends
/// one JSON line per message to it — *with the code in clear* — so that a
/// harness (`mfa-load`, say) can read the codes an app under test sends;
/// without one, it is [`LogNotifier`] (nothing delivered, no code shown).
///
/// It is off unless asked for ([`from_env`](Self::from_env) with
/// `MFA_DEV_OUTBOX=<path>`, or [`open`](Self::open)); never point it at a
/// file others can read, and never turn it on in production: whoever reads
/// the file can pass the second step of anyone the app sends a code to.
///
/// A code is one line:
///
/// ```text
/// {"at":1764511200,"subject":"user3","channel":"email","to":"user3@example.com","code":"123456","expires_at":1764511500}
/// ```
///
/// and a security notice one line with `notice` (its kind, as `Debug`
/// prints it) instead of `channel`, `code` and `expires_at`. `at` is Unix
/// seconds when the line was written. Each line goes out in one `write`
/// on a file opened for appending, so several processes can share the
/// file (two app instances behind a load test). Writes are blocking and
/// small; a failed write fails the send (`Error::Notify`), like a mail
/// server that is down.
#[derive(Debug, Default)]
pub struct DevOutbox {
    file: Option<(PathBuf, Mutex<File>)>,
}

impl DevOutbox {
    /// Off: behaves as [`LogNotifier`].
    #[must_use]
    pub fn off() -> Self {
        Self { file: None }
    }

    /// Appends to `path` (created if missing).
    ///
    /// # Errors
    /// The file cannot be opened for appending.
    pub fn open(path: impl Into<PathBuf>) -> std::io::Result<Self> {
        let path = path.into();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Self {
            file: Some((path, Mutex::new(file))),
        })
    }

    /// [`open`](Self::open) on the path in `MFA_DEV_OUTBOX` when it is set
    /// and not empty; [`off`](Self::off) otherwise.
    ///
    /// # Errors
    /// The file cannot be opened for appending.
    pub fn from_env() -> std::io::Result<Self> {
        match std::env::var_os(DEV_OUTBOX_VAR) {
            Some(path) if !path.is_empty() => Self::open(PathBuf::from(path)),
            _ => Ok(Self::off()),
        }
    }

    /// The file codes go to, if on.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(path, _)| path.as_path())
    }

    /// Writes `line` and a newline in one call.
    fn append(file: &Mutex<File>, mut line: String) -> std::io::Result<()> {
        line.push('\n');
        let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
        file.write_all(line.as_bytes())
    }
}

/// Unix seconds now.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `value` as a JSON string, quotes included.
fn json_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Notifier for DevOutbox {
    async fn send_code(&self, message: CodeMessage<'_>) -> Result<()> {
        let Some((_, file)) = &self.file else {
            return LogNotifier.send_code(message).await;
        };
        let line = format!(
            r#"{{"at":{},"subject":{},"channel":{},"to":{},"code":{},"expires_at":{}}}"#,
            now(),
            json_string(message.subject.id.as_str()),
            json_string(message.channel.as_str()),
            json_string(message.to),
            json_string(message.code.expose().as_str()),
            message.expires_at.unix(),
        );
        Self::append(file, line).map_err(|e| Error::Notify(Box::new(e)))
    }

    async fn notify(&self, notice: Notice<'_>) -> Result<()> {
        let Some((_, file)) = &self.file else {
            return LogNotifier.notify(notice).await;
        };
        let mut line = format!(
            r#"{{"at":{},"subject":{},"notice":{}"#,
            now(),
            json_string(notice.subject.id.as_str()),
            json_string(&format!("{:?}", notice.kind)),
        );
        if let Some(to) = notice.to {
            line.push_str(&format!(r#","to":{}"#, json_string(to)));
        }
        line.push('}');
        Self::append(file, line).map_err(|e| Error::Notify(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::clock::Timestamp;
    use crate::notify::NoticeKind;
    use crate::otp::{Code, Digits};
    use crate::subject::{Channel, Subject, SubjectId};

    fn ready<F: Future>(future: F) -> F::Output {
        let mut future = core::pin::pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(output) => output,
            Poll::Pending => unreachable!("DevOutbox never waits"),
        }
    }

    #[test]
    fn one_json_line_per_message_and_off_by_default() {
        let path = std::env::temp_dir().join(format!(
            "mfa-dev-outbox-{}-{}.jsonl",
            std::process::id(),
            now()
        ));
        let _ = std::fs::remove_file(&path);
        let outbox = DevOutbox::open(&path).unwrap();
        assert_eq!(outbox.path(), Some(path.as_path()));
        let subject =
            Subject::new(SubjectId::new("al\"ice").unwrap(), []).with_email("alice@example.com");
        let code = Code::new(12_345, Digits::SIX);
        for _ in 0..2 {
            ready(outbox.send_code(CodeMessage {
                subject: &subject,
                channel: Channel::Email,
                to: "alice@example.com",
                code: &code,
                expires_at: Timestamp::from_unix(1_700_000_300),
                issuer: "Test",
            }))
            .unwrap();
        }
        ready(outbox.notify(Notice {
            subject: &subject,
            kind: NoticeKind::ChannelAdded(Channel::Email),
            at: Timestamp::from_unix(1_700_000_000),
            issuer: "Test",
            to: None,
        }))
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        let first = &lines[0];
        assert_eq!(first["subject"], "al\"ice");
        assert_eq!(first["channel"], "email");
        assert_eq!(first["to"], "alice@example.com");
        assert_eq!(first["code"], "012345");
        assert_eq!(first["expires_at"], 1_700_000_300);
        assert!(first["at"].as_u64().unwrap() > 1_700_000_000);
        assert!(
            lines[2]["notice"]
                .as_str()
                .unwrap()
                .contains("ChannelAdded")
        );
        assert!(lines[2].get("code").is_none());

        assert_eq!(DevOutbox::off().path(), None);
        assert_eq!(DevOutbox::default().path(), None);
        assert_eq!(json_string("a\u{1}\n"), r#""a\u0001\n""#);
    }
}
