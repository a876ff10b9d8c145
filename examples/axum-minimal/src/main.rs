//! Run with `cargo run -p axum-minimal`: the smallest complete axum app with
//! two-factor authentication (SQLite in `axum-minimal.db`, or
//! `DATABASE_URL`), on <http://127.0.0.1:3000>. With curl (`-b jar -c jar`
//! keeps the cookies; add `-H 'content-type: application/json'` to posts):
//!
//! ```text
//! POST /login  {"user":"alice","password":"demo"}   first factor
//! GET  /tickets                                     200 (MFA is optional)
//! POST /mfa/totp                                    key and QR code
//! POST /mfa/totp/confirm {"id":"…","code":"…","name":"Phone"}
//! POST /logout, then /login: GET /tickets is 401 mfa_required until
//! POST /mfa/verify {"method":"totp","code":"…"}
//! ```
//!
//! Settings, all optional, from the environment:
//!
//! * `DATABASE_URL` — `sqlite://…` or `postgres://…` (default
//!   `sqlite://axum-minimal.db`); several instances on one PostgreSQL
//!   database share every MFA guarantee.
//! * `BIND` and `PORT` — where to listen (default `127.0.0.1` and `3000`).
//! * `DEMO_USERS=N` — for load tests (`scripts/load`): users `user0` …
//!   `user{N-1}` besides `alice`, password `demo`, each with an e-mail
//!   address.
//! * `MFA_DEV_OUTBOX=<path>` — **local testing only** (`scripts/load`):
//!   every one-time code sent is appended to this file as a JSON line,
//!   code in clear ([`mfa_core::testing::DevOutbox`]), so a test harness
//!   can sign in with e-mail codes. Unset (the default), codes are only
//!   logged, without the code. Never set it in production.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use mfa_axum::{MfaLayer, Verified};
use mfa_core::http::{Api, HttpConfig};
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::testing::{DEV_OUTBOX_VAR, DevOutbox};
use mfa_core::{Mfa, MfaConfig, Pepper, Role, Subject, SubjectId, SystemClock};
use mfa_store_sql::AnyStore;
use serde::Deserialize;
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

/// Where the first factor keeps the signed-in user.
const USER_KEY: &str = "user";

#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
}

/// Whether `user` is one of the demo users: `alice`, or `user0` …
/// `user{demo_users - 1}` (`DEMO_USERS`).
fn is_demo_user(user: &str, demo_users: u32) -> bool {
    user == "alice"
        || user
            .strip_prefix("user")
            .and_then(|n| n.parse::<u32>().ok())
            // Exactly `user7`: not `user07` nor `user+7`.
            .is_some_and(|n| n < demo_users && user == format!("user{n}"))
}

/// The first factor: hard-coded users with the password `demo` (a real
/// app checks a password hash, e.g. with argon2).
async fn login(demo_users: u32, session: Session, Json(login): Json<Login>) -> StatusCode {
    if !is_demo_user(&login.user, demo_users) || login.password != "demo" {
        return StatusCode::UNAUTHORIZED;
    }
    // A new session id at sign-in: an id planted before is worthless.
    match session.cycle_id().await {
        Ok(()) => match session.insert(USER_KEY, &login.user).await {
            Ok(()) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        },
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn logout(session: Session) -> StatusCode {
    match session.flush().await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The signed-in user as the MFA subject, in the request's extensions.
async fn subject(session: Session, mut request: Request, next: Next) -> Response {
    if let Ok(Some(user)) = session.get::<String>(USER_KEY).await {
        let email = format!("{user}@example.com");
        if let Ok(id) = SubjectId::new(user) {
            let subject = Subject::new(id, [Role::AGENT]).with_email(email);
            request.extensions_mut().insert(subject);
        }
    }
    next.run(request).await
}

async fn tickets(Verified(who): Verified) -> String {
    format!("the tickets of {}\n", who.id)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo_users = match std::env::var("DEMO_USERS") {
        Ok(n) => n.parse::<u32>().map_err(|_| "DEMO_USERS: a number")?,
        Err(_) => 0,
    };
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1".into());
    let port = match std::env::var("PORT") {
        Ok(port) => port.parse::<u16>().map_err(|_| "PORT: a port number")?,
        Err(_) => 3000,
    };
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://axum-minimal.db".into());
    let store = AnyStore::connect(&url).await?;
    store.migrate().await?;
    let config = MfaConfig::new(
        "Axum Minimal",
        Pepper::new(&[0x42; 32])?, // demo keys: load yours from a secret store
        Sealer::new(vec![SealingKey::new(1, [7; 32])])?,
    );
    // LogNotifier unless MFA_DEV_OUTBOX is set (local testing only).
    let notifier = DevOutbox::from_env().map_err(|e| format!("{DEV_OUTBOX_VAR}: {e}"))?;
    if let Some(path) = notifier.path() {
        eprintln!(
            "{DEV_OUTBOX_VAR}: one-time codes go to {} in clear (local testing only)",
            path.display()
        );
    }
    let mfa = Arc::new(Mfa::new(store, notifier, SystemClock, config));
    let mut http = HttpConfig::default();
    http.device_cookie.secure = false; // plain HTTP on localhost only
    let api = Arc::new(Api::new(mfa, http));

    let app = Router::new()
        .route("/tickets", get(tickets))
        .layer(MfaLayer::new(api.clone())) // the gate, for the routes above
        .nest("/mfa", mfa_axum::router(api))
        .route(
            "/login",
            post(move |session, body| login(demo_users, session, body)),
        )
        .route("/logout", post(logout))
        .layer(middleware::from_fn(subject))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let listener = tokio::net::TcpListener::bind((bind.as_str(), port)).await?;
    eprintln!("axum-minimal on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
