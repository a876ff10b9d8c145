//! What `peer_server` (the bench server of `scripts/peer` and
//! `scripts/http-bench`) shares between its stores and frameworks: the
//! seeding of users through [`Mfa`], the codes file `POST /bench/sessions`
//! writes, the `/noop` handler's body, and the settings read from the
//! environment. The framework apps are [`axum_app`] and [`actix_app`].
//!
//! Not an example to copy: a bench harness.

pub mod actix_app;
pub mod axum_app;

use std::fmt::Write as _;
use std::sync::Arc;

use mfa_core::notify::LogNotifier;
use mfa_core::otp::Totp;
use mfa_core::policy::SessionState;
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{Confirmation, DriftTolerance};
use mfa_core::{
    Clock as _, Mfa, MfaConfig, Pepper, Role, Secret, Store, Subject, SubjectId, SystemClock,
};
use serde::{Deserialize, Serialize};

/// Where the first factor keeps the signed-in user, in either framework's
/// session.
pub const USER_KEY: &str = "user";

/// How many steps of codes `POST /bench/sessions` writes per user (10
/// minutes' worth).
pub const STEPS: u64 = 20;

/// The seconds of one TOTP step.
pub const PERIOD: u64 = 30;

/// How many enrollments run at once while seeding.
const SEEDERS: usize = 32;

/// Any failure of the harness (it reports and stops).
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The service on store `S`, as the bench server runs it.
pub type Service<S> = Mfa<S, LogNotifier, SystemClock>;

/// Every seeded user and their authenticator app, in seeding order.
pub type Users = Arc<Vec<(String, Totp)>>;

/// The service with the bench's fixed keys (bench keys, not secrets).
///
/// # Errors
///
/// If the fixed keys are refused.
pub fn service<S: Store>(store: S) -> Result<Arc<Service<S>>, Failure> {
    let config = MfaConfig::new(
        "Peer Bench",
        Pepper::new(&[0x42; 32])?,
        Sealer::new(vec![SealingKey::new(1, [7; 32])])?,
    );
    Ok(Arc::new(Mfa::new(store, LogNotifier, SystemClock, config)))
}

/// Enrolls an authenticator app for `user` through the service, as a user
/// would: start, then confirm with the current code.
async fn enroll<S: Store>(mfa: &Service<S>, user: String) -> Result<(String, Totp), Failure> {
    let subject = Subject::new(SubjectId::new(user.as_str())?, [Role::AGENT]);
    let enrollment = mfa
        .start_totp_enrollment(&subject, &SessionState::default())
        .await?;
    let totp = Totp::new(&Secret::from_base32(&enrollment.key)?, &enrollment.config);
    let code = totp
        .generate_at(SystemClock.now().unix())
        .ok_or("a clock after T0")?;
    let confirmed = mfa
        .confirm_totp_enrollment(
            &subject,
            &enrollment.id,
            &code.expose(),
            "Phone",
            DriftTolerance::Standard,
        )
        .await?;
    if !matches!(confirmed, Confirmation::Enrolled { .. }) {
        return Err(format!("{user}: the first code did not confirm: {confirmed:?}").into());
    }
    Ok((user, totp))
}

/// Seeds `count` users (`u0`, `u1`, …), each enrolled through
/// [`Mfa`] (start + confirm), a few dozen at a time.
///
/// # Errors
///
/// The first enrollment that fails.
pub async fn seed<S: Store>(mfa: &Arc<Service<S>>, count: usize) -> Result<Users, Failure> {
    let mut tasks = Vec::with_capacity(SEEDERS);
    for seeder in 0..SEEDERS {
        let mfa = Arc::clone(mfa);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for n in (seeder..count).step_by(SEEDERS) {
                mine.push(enroll(&mfa, format!("u{n}")).await?);
            }
            Ok::<_, Failure>(mine)
        }));
    }
    let mut users = Vec::with_capacity(count);
    for task in tasks {
        users.extend(task.await??);
    }
    users.sort_by_key(|(user, _)| user.trim_start_matches('u').parse::<usize>().unwrap_or(0));
    Ok(Arc::new(users))
}

/// The codes file for `users`, whose fresh session cookies are `cookies`
/// (one per user, same order), from the current step on:
///
/// ```text
/// <first step> <steps>
/// <user> <cookie value> <code of step 0> <code of step 1> …
/// ```
///
/// # Errors
///
/// If the counts differ.
pub fn codes_file(users: &[(String, Totp)], cookies: &[String]) -> Result<String, Failure> {
    if users.len() != cookies.len() {
        return Err("one cookie per user".into());
    }
    let first = SystemClock.now().unix() / PERIOD;
    let mut out = String::with_capacity(users.len() * 220);
    writeln!(out, "{first} {STEPS}")?;
    for ((user, totp), cookie) in users.iter().zip(cookies) {
        write!(out, "{user} {cookie}")?;
        for step in first..first + STEPS {
            let code = totp.generate_at(step * PERIOD).ok_or("a step after T0")?;
            write!(out, " {}", code.expose().as_str())?;
        }
        out.push('\n');
    }
    Ok(out)
}

/// The body of `POST /login`: a seeded user (no password: the bench
/// measures the second factor).
#[derive(Debug, Deserialize)]
pub struct Login {
    /// `u0`, `u1`, …
    pub user: String,
}

/// What `/noop` reads: the verify request's fields.
#[derive(Deserialize)]
struct NoopRequest {
    method: String,
    code: String,
}

/// What `/noop` answers: the fields of the verify answer.
#[derive(Serialize)]
struct NoopResponse<'a> {
    factor: &'a str,
    verified_at: u64,
    recovery_codes_left: Option<u32>,
    recovery_codes_low: bool,
    remembered_until: Option<u64>,
}

/// The `/noop` answer to `body`: the verify body parsed with serde_json and
/// a JSON body of the verify answer's shape; `None` if `body` is not a
/// verify body (answer 422).
#[must_use]
pub fn noop_answer(body: &[u8]) -> Option<Vec<u8>> {
    let request = serde_json::from_slice::<NoopRequest>(body).ok()?;
    serde_json::to_vec(&NoopResponse {
        factor: &request.method,
        verified_at: 1_800_000_000,
        recovery_codes_left: None,
        recovery_codes_low: request.code.is_empty(),
        remembered_until: None,
    })
    .ok()
}

/// The variable `name`, or `default` if unset.
#[must_use]
pub fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// What a framework app needs to serve.
#[derive(Clone)]
pub struct Serve {
    /// Where to listen.
    pub addr: String,
    /// Where `POST /bench/sessions` writes.
    pub codes: Arc<str>,
    /// The seeded users.
    pub users: Users,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("addr", &self.addr)
            .field("codes", &self.codes)
            .field("users", &self.users.len())
            .finish()
    }
}
