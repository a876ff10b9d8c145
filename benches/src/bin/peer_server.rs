//! The mfa side of `scripts/peer` (django-otp side by side): run with
//! `cargo run --release -p mfa-benches --bin peer_server` and the
//! environment below. Not an example to copy: a bench harness.
//!
//! - `PEER_DATABASE_URL`: a PostgreSQL database (created by the script);
//!   the store is migrated on start.
//! - `PEER_USERS`: how many subjects to seed (`u0`, `u1`, …), each with an
//!   authenticator app enrolled through [`Mfa`] (start + confirm), 1,000
//!   unless set.
//! - `PEER_ADDR`: where to listen, `127.0.0.1:8081` unless set.
//! - `PEER_CODES`: the file `POST /bench/sessions` writes.
//!
//! Routes: the real `mfa_axum::router` under `/mfa` (session layer:
//! tower-sessions over its in-memory store); `POST /login {"user":"u7"}`,
//! the first factor for a seeded user (no password: the bench measures the
//! second factor); `GET /app` behind `MfaLayer`; `POST /noop`, which parses
//! the verify body and answers JSON without touching the session or mfa;
//! and `POST /bench/sessions`, which signs every seeded user in afresh (a
//! new session each, as `/login` would) and writes, per user, the session
//! cookie and the codes of the next steps to `PEER_CODES`:
//!
//! ```text
//! <first step> <steps>
//! <user> <cookie value> <code of step 0> <code of step 1> …
//! ```
//!
//! An accepted verification cycles the session id, so each run of the load
//! generator asks for fresh sessions first.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mfa_axum::{MfaLayer, Verified};
use mfa_core::http::{Api, HttpConfig};
use mfa_core::notify::LogNotifier;
use mfa_core::otp::Totp;
use mfa_core::policy::SessionState;
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{Confirmation, DriftTolerance};
use mfa_core::{Clock as _, Mfa, MfaConfig, Pepper, Role, Secret, Subject, SubjectId, SystemClock};
use mfa_store_sql::PostgresStore;
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore as SessionStore, Session, SessionManagerLayer};

/// Where the first factor keeps the signed-in user.
const USER_KEY: &str = "user";

/// How many steps of codes `POST /bench/sessions` writes per user (10
/// minutes' worth).
const STEPS: u64 = 20;

/// The seconds of one TOTP step.
const PERIOD: u64 = 30;

/// How many enrollments run at once while seeding.
const SEEDERS: usize = 32;

type Service = Mfa<PostgresStore, LogNotifier, SystemClock>;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// What the bench routes share.
#[derive(Clone)]
struct Bench {
    /// Every seeded user and their authenticator app.
    users: Arc<Vec<(String, Totp)>>,
    /// The session layer's store.
    sessions: SessionStore,
    /// Where `POST /bench/sessions` writes.
    codes: Arc<str>,
}

#[derive(Deserialize)]
struct Login {
    user: String,
}

/// The first factor for a seeded user: a new session id, the user in it.
async fn login(session: Session, Json(login): Json<Login>) -> StatusCode {
    if SubjectId::new(login.user.as_str()).is_err() {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    match session.cycle_id().await {
        Ok(()) => match session.insert(USER_KEY, &login.user).await {
            Ok(()) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        },
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The signed-in user as the MFA subject, in the request's extensions.
async fn subject(session: Session, mut request: Request, next: Next) -> Response {
    if let Ok(Some(user)) = session.get::<String>(USER_KEY).await
        && let Ok(id) = SubjectId::new(user)
    {
        request
            .extensions_mut()
            .insert(Subject::new(id, [Role::AGENT]));
    }
    next.run(request).await
}

async fn app(Verified(who): Verified) -> String {
    format!("hello {}\n", who.id)
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

/// Parses the verify body and answers JSON; no session, no mfa.
async fn noop(body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<NoopRequest>(&body) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let answer = NoopResponse {
        factor: &request.method,
        verified_at: 1_800_000_000,
        recovery_codes_left: None,
        recovery_codes_low: request.code.is_empty(),
        remembered_until: None,
    };
    match serde_json::to_vec(&answer) {
        Ok(body) => ([(CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Signs every seeded user in afresh and writes the cookies and codes.
async fn bench_sessions(State(bench): State<Bench>) -> Response {
    match write_sessions(&bench).await {
        Ok(count) => format!("{count}\n").into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

async fn write_sessions(bench: &Bench) -> Result<usize, Failure> {
    let store = Arc::new(bench.sessions.clone());
    let now = SystemClock.now().unix();
    let first = now / PERIOD;
    let mut out = String::with_capacity(bench.users.len() * 200);
    writeln!(out, "{first} {STEPS}")?;
    for (user, totp) in bench.users.iter() {
        let session = Session::new(None, Arc::clone(&store), None);
        session.insert(USER_KEY, user).await?;
        session.save().await?;
        let id = session.id().ok_or("a saved session has an id")?;
        write!(out, "{user} {id}")?;
        for step in first..first + STEPS {
            let code = totp.generate_at(step * PERIOD).ok_or("a step after T0")?;
            write!(out, " {}", code.expose().as_str())?;
        }
        out.push('\n');
    }
    tokio::fs::write(&*bench.codes, out).await?;
    Ok(bench.users.len())
}

/// Enrolls an authenticator app for `user` through the service, as a user
/// would: start, then confirm with the current code.
async fn enroll(mfa: &Service, user: String) -> Result<(String, Totp), Failure> {
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

/// Seeds `count` users, [`SEEDERS`] at a time.
async fn seed(mfa: &Arc<Service>, count: usize) -> Result<Vec<(String, Totp)>, Failure> {
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
    Ok(users)
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let url = std::env::var("PEER_DATABASE_URL").map_err(|_| "set PEER_DATABASE_URL")?;
    let count: usize = env("PEER_USERS", "1000").parse()?;
    let addr = env("PEER_ADDR", "127.0.0.1:8081");
    let codes: Arc<str> = env("PEER_CODES", "peer-codes.txt").into();

    let store = PostgresStore::connect(&url).await?;
    store.migrate().await?;
    let config = MfaConfig::new(
        "Peer Bench",
        Pepper::new(&[0x42; 32])?, // bench keys, not secrets
        Sealer::new(vec![SealingKey::new(1, [7; 32])])?,
    );
    let mfa = Arc::new(Mfa::new(store, LogNotifier, SystemClock, config));
    let started = std::time::Instant::now();
    let users = seed(&mfa, count).await?;
    eprintln!(
        "peer_server: seeded {} users in {:.1} s",
        users.len(),
        started.elapsed().as_secs_f64()
    );

    let mut http = HttpConfig::default();
    http.device_cookie.secure = false; // plain HTTP on loopback
    let api = Arc::new(Api::new(mfa, http));
    let sessions = SessionStore::default();
    let bench = Bench {
        users: Arc::new(users),
        sessions: sessions.clone(),
        codes,
    };
    let router = Router::new()
        .route("/app", get(app))
        .layer(MfaLayer::new(Arc::clone(&api)))
        .nest("/mfa", mfa_axum::router(api))
        .route("/login", post(login))
        .route("/noop", post(noop))
        .layer(middleware::from_fn(subject))
        .layer(SessionManagerLayer::new(sessions).with_secure(false))
        .merge(
            Router::new()
                .route("/bench/sessions", post(bench_sessions))
                .with_state(bench),
        );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("peer_server on http://{addr}");
    axum::serve(listener, router).await?;
    Ok(())
}
