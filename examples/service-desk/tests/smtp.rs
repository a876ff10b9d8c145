//! With `SMTP_URL`, e-mail leaves through SMTP: a one-time code and a
//! security notice reach a relay (a small fake one on loopback, which
//! speaks just enough SMTP and keeps what it is given); SMS stays in the
//! outbox only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::sync::{Arc, Mutex};

use mfa_core::notify::{CodeMessage, Notice, NoticeKind};
use mfa_core::otp::{Code, Digits};
use mfa_core::{Channel, Notifier, Role, Subject, SubjectId, Timestamp};
use service_desk::config::Smtp;
use service_desk::outbox::{DeskNotifier, Outbox};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A relay that accepts every message; returns its port and the messages'
/// DATA sections.
async fn relay() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&received);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let kept = Arc::clone(&kept);
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 relay ready\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            kept.lock().unwrap().push(data.take().unwrap_or_default());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-relay\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, received)
}

fn jordan() -> Subject {
    Subject::new(SubjectId::new("jordan").unwrap(), [Role::END_USER])
        .with_email("jordan@customer.example")
        .with_phone("+1 555 0103")
}

#[tokio::test]
async fn e_mail_goes_through_the_relay_and_sms_to_the_outbox() {
    let (port, received) = relay().await;
    let outbox = Arc::new(Outbox::default());
    let smtp = Smtp {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "desk@desk.example".to_owned(),
    };
    let notifier = DeskNotifier::new(Some(Arc::clone(&outbox)), Some(&smtp)).unwrap();
    let subject = jordan();
    let code = Code::parse("493 817", Digits::SIX).unwrap();
    for channel in [Channel::Email, Channel::Sms] {
        notifier
            .send_code(CodeMessage {
                subject: &subject,
                channel,
                to: subject.address(channel).unwrap(),
                code: &code,
                expires_at: Timestamp::from_unix(1_796_054_700),
                issuer: "Service Desk",
            })
            .await
            .unwrap();
    }
    notifier
        .notify(Notice {
            subject: &subject,
            kind: NoticeKind::MfaResetByAdmin,
            at: Timestamp::from_unix(1_796_054_700),
            issuer: "Service Desk",
            to: None,
        })
        .await
        .unwrap();

    let mails = received.lock().unwrap().clone();
    assert_eq!(mails.len(), 2, "the code and the notice, by e-mail");
    assert!(mails[0].contains("493817") && mails[0].contains("To: jordan@customer.example"));
    assert!(mails[0].contains("From: desk@desk.example"));
    assert!(mails[1].contains("was reset"));
    let messages = outbox.messages();
    assert_eq!(messages.len(), 3, "everything is in the development outbox");
    assert!(
        messages
            .iter()
            .any(|m| m.channel == Channel::Sms && m.body.contains("493817"))
    );
}

#[tokio::test]
async fn a_relay_that_is_down_fails_the_send() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let smtp = Smtp {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "desk@desk.example".to_owned(),
    };
    let notifier = DeskNotifier::new(None, Some(&smtp)).unwrap();
    let subject = jordan();
    let code = Code::parse("493817", Digits::SIX).unwrap();
    let sent = notifier
        .send_code(CodeMessage {
            subject: &subject,
            channel: Channel::Email,
            to: "jordan@customer.example",
            code: &code,
            expires_at: Timestamp::from_unix(1_796_054_700),
            issuer: "Service Desk",
        })
        .await;
    assert!(
        sent.is_err(),
        "the person must learn the code did not go out"
    );
    // No relay and no outbox: SMS cannot go anywhere either.
    let sent = notifier
        .send_code(CodeMessage {
            subject: &subject,
            channel: Channel::Sms,
            to: "+1 555 0103",
            code: &code,
            expires_at: Timestamp::from_unix(1_796_054_700),
            issuer: "Service Desk",
        })
        .await;
    assert!(sent.unwrap_err().to_string().contains("could not be sent"));
}

#[test]
fn bad_relay_settings_are_named() {
    for (url, named) in [
        ("smtps://relay:465", "smtp://"),
        ("smtp://relay:port", "port"),
        ("smtp://", "host"),
    ] {
        let smtp = Smtp {
            url: url.to_owned(),
            from: "desk@desk.example".to_owned(),
        };
        let error = DeskNotifier::new(None, Some(&smtp))
            .unwrap_err()
            .to_string();
        assert!(error.contains(named), "{url}: {error}");
    }
}
