//! The contract scenarios, one function each. Every scenario builds its
//! own subjects' state through the HTTP endpoints only (TOTP codes are
//! computed from the key `POST /totp` returns, sent codes read from
//! [`World::notifier`], time moved with [`World::advance`]) and asserts
//! statuses, headers and JSON bodies: the same for every adapter, since
//! the core decides them.
//!
//! * Basics: anonymous requests, open routes, unknown paths and methods,
//!   the OpenAPI document.
//! * Success paths: every endpoint of the person's profile and of the
//!   administrator.
//! * Errors: broken bodies, bad values on every body endpoint, refused,
//!   replayed and throttled codes, codes sent too soon, what the policy
//!   forbids.
//! * The known two-factor failures of other products, one scenario each.
//! * Enforcement: the `mfa-enroll-by` header and enrollment first.
//!
//! # Panics
//! Every scenario panics (an assertion failure naming the request) when
//! the application under test breaks the contract.
#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "scenarios fail the test by panicking, like assertions"
)]

use core::future::Future;
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;

use serde_json::{Value, json};

use super::{Browser, Harness, PREFIX, TestResponse, World};
use crate::clock::{Clock, Timestamp};
use crate::http::PROBLEM_JSON;
use crate::otp::{Algorithm, Digits, Totp, TotpConfig};
use crate::secret::Secret;
use crate::subject::{Channel, SubjectId};

mod admin;
mod attacks;
mod basics;
mod enforcement;
mod errors;
mod journey;

pub use admin::*;
pub use attacks::*;
pub use basics::*;
pub use enforcement::*;
pub use errors::*;
pub use journey::*;

/// The sources of the scenarios, for the check that the case list names
/// every one of them.
#[cfg(test)]
pub(super) const SOURCES: &[&str] = &[
    include_str!("admin.rs"),
    include_str!("attacks.rs"),
    include_str!("basics.rs"),
    include_str!("enforcement.rs"),
    include_str!("errors.rs"),
    include_str!("journey.rs"),
    include_str!("mod.rs"),
];

/// A browser's `User-Agent` in the scenarios that remember a device.
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// The remember-device cookie's name in [`World::new`]'s configuration.
const DEVICE_COOKIE: &str = "mfa_device";

/// Seconds in the default remember-device period (30 days).
const THIRTY_DAYS: u64 = 30 * 86_400;

/// The endpoint `path` under [`PREFIX`].
fn mfa(path: &str) -> String {
    format!("{PREFIX}{path}")
}

/// The world's time.
fn now<H: Harness>(harness: &H) -> Timestamp {
    harness.world().clock.now()
}

/// Asserts a JSON answer with `status`; returns the body.
#[track_caller]
fn expect_json(response: &TestResponse, status: u16, what: &str) -> Value {
    assert_eq!(
        response.status,
        status,
        "{what}: status (body {})",
        String::from_utf8_lossy(&response.body)
    );
    let content_type = response.header("content-type").unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{what}: content type {content_type:?}"
    );
    response.json()
}

/// Asserts a problem answer: `status`, `application/problem+json`, the
/// stable `code`, and a body whose `status` matches; returns the body.
#[track_caller]
fn expect_problem(response: &TestResponse, status: u16, code: &str, what: &str) -> Value {
    assert_eq!(
        response.status,
        status,
        "{what}: status (body {})",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.header("content-type"),
        Some(PROBLEM_JSON),
        "{what}: content type"
    );
    let body = response.json();
    assert_eq!(body["code"], code, "{what}: problem code in {body}");
    assert_eq!(body["status"], status, "{what}: status in the body");
    assert_eq!(
        body["type"],
        format!("urn:mfa:problem:{code}"),
        "{what}: problem type"
    );
    body
}

/// Asserts a client error (4xx) with a problem body, never a server
/// error; returns the status.
#[track_caller]
fn expect_client_error(response: &TestResponse, what: &str) -> u16 {
    assert!(
        (400..500).contains(&response.status),
        "{what}: expected a 4xx, got {} (body {})",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.header("content-type"),
        Some(PROBLEM_JSON),
        "{what}: content type"
    );
    let body = response.json();
    assert_eq!(body["status"], response.status, "{what}: status in {body}");
    assert!(body["code"].is_string(), "{what}: no code in {body}");
    response.status
}

/// Asserts an empty `204 No Content`.
#[track_caller]
fn expect_no_content(response: &TestResponse, what: &str) {
    assert_eq!(
        response.status,
        204,
        "{what}: status (body {})",
        String::from_utf8_lossy(&response.body)
    );
    assert!(response.body.is_empty(), "{what}: a 204 has no body");
}

/// A string member of a JSON body.
#[track_caller]
fn text(body: &Value, member: &str) -> String {
    body[member]
        .as_str()
        .unwrap_or_else(|| panic!("no string {member:?} in {body}"))
        .to_owned()
}

/// An authenticator app set up with the key `POST /totp` returned.
#[derive(Debug)]
struct Phone {
    totp: Totp,
}

impl Phone {
    /// The app, from `POST /totp`'s answer (key, algorithm, digits,
    /// period).
    #[track_caller]
    fn new(enrollment: &Value) -> Self {
        let secret = Secret::from_base32(&text(enrollment, "key")).expect("a base32 key");
        let algorithm = match text(enrollment, "algorithm").as_str() {
            "SHA1" => Algorithm::Sha1,
            "SHA256" => Algorithm::Sha256,
            "SHA512" => Algorithm::Sha512,
            other => panic!("unknown algorithm {other:?}"),
        };
        let digits = enrollment["digits"]
            .as_u64()
            .and_then(|d| u32::try_from(d).ok())
            .and_then(|d| Digits::new(d).ok())
            .expect("digits");
        let period = enrollment["period"].as_u64().expect("period");
        let config = TotpConfig::new(algorithm, digits, period).expect("a valid configuration");
        Self {
            totp: Totp::new(&secret, &config),
        }
    }

    /// The code the app shows at `at`.
    fn code_at(&self, at: Timestamp) -> String {
        self.totp
            .generate_at(at.unix())
            .expect("after T0")
            .expose()
            .to_string()
    }

    /// A code of the right length that is none of the codes accepted
    /// around `at` (the steps one period either side included).
    fn wrong_code_at(&self, at: Timestamp) -> String {
        let period = Duration::from_secs(u64::from(self.totp.config().period()));
        let taken = [at.minus(period), at, at.plus(period)].map(|t| self.code_at(t));
        (0..10u32)
            .map(|shift| {
                let right: u32 = self.code_at(at).parse().expect("digits");
                format!("{:06}", (right + 314_159 + shift) % 1_000_000)
            })
            .find(|code| !taken.contains(code))
            .expect("one of ten candidates differs from three codes")
    }

    /// Moves the clock on one period and returns the code of that new
    /// step: a code never used before.
    fn fresh_code(&self, world: &World) -> String {
        let period = Duration::from_secs(u64::from(self.totp.config().period()));
        self.code_at(world.advance(period))
    }
}

/// Enrolls an authenticator app through `POST /totp` and
/// `POST /totp/confirm`; returns the app and the confirmation's body.
async fn enroll_totp<H: Harness>(browser: &mut Browser<'_, H>, name: &str) -> (Phone, Value) {
    let started = browser.send("POST", &mfa("/totp"), None, &[]).await;
    let enrollment = expect_json(&started, 201, "POST /totp");
    let phone = Phone::new(&enrollment);
    let code = phone.code_at(now(browser.harness));
    let confirmed = browser
        .send(
            "POST",
            &mfa("/totp/confirm"),
            Some(json!({"id": enrollment["id"], "code": code, "name": name})),
            &[],
        )
        .await;
    let body = expect_json(&confirmed, 201, "POST /totp/confirm");
    (phone, body)
}

/// `POST /verify` with the next step's code from `phone`.
async fn verify_totp<H: Harness>(browser: &mut Browser<'_, H>, phone: &Phone) -> TestResponse {
    let code = phone.fresh_code(browser.harness.world());
    browser
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code})),
            &[],
        )
        .await
}

/// A browser of `subject` who enrolled an authenticator app and verified
/// with it: a session that passed the second step just now.
async fn signed_up<'h, H: Harness>(harness: &'h H, subject: &str) -> (Browser<'h, H>, Phone) {
    let mut browser = Browser::new(harness, Some(subject));
    let (phone, _) = enroll_totp(&mut browser, "Phone").await;
    let verified = verify_totp(&mut browser, &phone).await;
    expect_json(&verified, 200, "POST /verify after enrolling");
    (browser, phone)
}

/// A new browser (no cookies: a new session, password only) of `subject`.
fn new_browser<'h, H: Harness>(harness: &'h H, subject: &str) -> Browser<'h, H> {
    Browser::new(harness, Some(subject))
}

/// The newest code sent to `subject` on `channel`.
#[track_caller]
fn sent_code(world: &World, subject: &str, channel: Channel) -> String {
    let id = SubjectId::new(subject).expect("a valid id");
    world
        .notifier
        .last_code(&id, channel)
        .unwrap_or_else(|| panic!("no {channel:?} code was sent to {subject}"))
}

/// Registers e-mail as a factor of a browser whose session verified
/// recently: `POST /channels/email` and its confirmation.
async fn register_email<H: Harness>(browser: &mut Browser<'_, H>, subject: &str) -> Value {
    let started = browser
        .send("POST", &mfa("/channels/email"), None, &[])
        .await;
    expect_json(&started, 202, "POST /channels/email");
    let code = sent_code(browser.harness.world(), subject, Channel::Email);
    let confirmed = browser
        .send(
            "POST",
            &mfa("/channels/email/confirm"),
            Some(json!({"code": code})),
            &[],
        )
        .await;
    expect_json(&confirmed, 201, "POST /channels/email/confirm")
}

/// The session cookie set by the gate or an endpoint, in a browser that
/// holds cookies of this application: every cookie but the remembered
/// device's.
fn session_cookies<H>(browser: &Browser<'_, H>, device_cookie: &str) -> Vec<(String, String)>
where
    H: Harness,
{
    browser
        .cookies()
        .into_iter()
        .filter(|(name, _)| name != device_cookie)
        .collect()
}

/// Policy JSON: one rule.
fn rule(mode: &str, grace_secs: Option<u64>, remember_secs: Option<u64>) -> Value {
    let mut rule = json!({
        "mode": mode,
        "methods": {"app": true, "email": true, "sms": true},
        "remember_device_secs": remember_secs,
    });
    if let Some(grace) = grace_secs {
        rule["grace_secs"] = json!(grace);
    }
    rule
}

/// Policy JSON: the default policy with `agent` replaced by `agent_rule`.
fn policy_with_agents(agent_rule: Value) -> Value {
    let optional = rule("optional", None, Some(THIRTY_DAYS));
    json!({
        "roles": {"agent": agent_rule, "end_user": optional.clone()},
        "default": optional,
    })
}

/// Decodes `%XX` escapes; `None` for a broken escape or non-UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hex = core::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Asserts a `303 See Other` to `page` with a `next` that is a local path
/// (percent-encoded, decoding to a path [`safe_next`](crate::http::safe_next)
/// keeps); returns the decoded `next`.
#[track_caller]
fn expect_redirect(response: &TestResponse, page: &str, what: &str) -> String {
    assert_eq!(response.status, 303, "{what}: status");
    let location = response
        .header("location")
        .unwrap_or_else(|| panic!("{what}: no Location"));
    let prefix = format!("{page}?next=");
    let encoded = location
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{what}: Location {location:?} is not {prefix}…"));
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b)),
        "{what}: next is not percent-encoded: {encoded:?}"
    );
    let next =
        percent_decode(encoded).unwrap_or_else(|| panic!("{what}: broken escape in {encoded:?}"));
    assert!(next.starts_with('/'), "{what}: next {next:?}");
    assert_eq!(
        crate::http::safe_next(&next),
        next,
        "{what}: next {next:?} is not a local path"
    );
    next
}

/// Runs `futures` at the same time on the current task (polling each in
/// turn, like `futures::future::join_all`), returning their outputs in
/// order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    core::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
