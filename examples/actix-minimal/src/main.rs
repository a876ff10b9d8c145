//! `cargo run -p actix-minimal`, then drive it with curl on
//! <http://127.0.0.1:8080>: the smallest complete actix-web application
//! with two-factor authentication.
//!
//! * `POST /login` — the first factor (a hard-coded user, `alice`: check a
//!   password here in a real application) puts the user into the session;
//!   a middleware maps it to a [`Subject`] in the request's extensions.
//! * `/mfa/…` — the MFA endpoints (`GET /mfa/openapi.json` lists them).
//! * `GET /tickets` — the protected route, behind the gate.
//!
//! ```text
//! curl -c jar -b jar -X POST localhost:8080/login
//! curl -c jar -b jar localhost:8080/tickets                 # 200 until alice enrolls
//! curl -c jar -b jar -X POST localhost:8080/mfa/totp        # key + QR code
//! curl -c jar -b jar -H 'content-type: application/json' \
//!      -d '{"id":"…","code":"123456","name":"Phone"}' localhost:8080/mfa/totp/confirm
//! ```
//!
//! State is an in-memory SQLite database with keys made at start-up; use
//! a file (`sqlite://mfa.db`) and keys from your secret store to keep
//! enrollments across restarts.
//!
//! Settings, all optional, from the environment:
//!
//! * `DATABASE_URL` — `sqlite://…` or `postgres://…` instead of the
//!   in-memory database.
//! * `BIND` and `PORT` — where to listen (default `127.0.0.1` and `8080`).
//! * `DEMO_USERS=N` — for load tests (`scripts/load`): users `user0` …
//!   `user{N-1}`, password `demo`, each with an e-mail address, signed in
//!   with `POST /login {"user":"user0","password":"demo"}` (a body-less
//!   `POST /login` still signs in `alice`).
//! * `MFA_DEV_OUTBOX=<path>` — **local testing only** (`scripts/load`):
//!   every one-time code sent is appended to this file as a JSON line,
//!   code in clear ([`mfa_core::testing::DevOutbox`]), so a test harness
//!   can sign in with e-mail codes. Unset (the default), codes are only
//!   logged, without the code. Never set it in production.

use std::sync::Arc;

use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionExt, SessionMiddleware};
use actix_web::body::MessageBody;
use actix_web::cookie::Key;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer, web};
use mfa_actix::{MfaGate, MfaHandle, Verified};
use mfa_core::http::{Api, HttpConfig};
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::testing::{DEV_OUTBOX_VAR, DevOutbox};
use mfa_core::{Mfa, MfaConfig, Pepper, Role, Subject, SubjectId, SystemClock};
use mfa_store_sql::AnyStore;
use serde::Deserialize;

/// The session key of the signed-in user (the first factor's, not MFA's).
const USER_KEY: &str = "user";

/// The credentials of a demo user (`DEMO_USERS`).
#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
}

/// How many demo users `DEMO_USERS` asked for.
#[derive(Clone, Copy)]
struct DemoUsers(u32);

/// Whether `user` is `user0` … `user{demo_users - 1}`.
fn is_demo_user(user: &str, DemoUsers(demo_users): DemoUsers) -> bool {
    user.strip_prefix("user")
        .and_then(|n| n.parse::<u32>().ok())
        // Exactly `user7`: not `user07` nor `user+7`.
        .is_some_and(|n| n < demo_users && user == format!("user{n}"))
}

/// `POST /login`: signs `alice` in (first factor only), in a new session;
/// with a JSON body, one of the `DEMO_USERS` (password `demo`).
async fn login(
    session: Session,
    demo_users: web::Data<DemoUsers>,
    body: web::Bytes,
) -> actix_web::Result<HttpResponse> {
    let user = if body.is_empty() {
        "alice".to_owned()
    } else {
        let login: Login = serde_json::from_slice(&body)
            .map_err(|_| actix_web::error::ErrorBadRequest("expected {\"user\",\"password\"}"))?;
        if !is_demo_user(&login.user, **demo_users) || login.password != "demo" {
            return Ok(HttpResponse::Unauthorized().finish());
        }
        login.user
    };
    session.renew();
    session.insert(USER_KEY, &user)?;
    Ok(HttpResponse::Ok().body(format!("signed in as {user} (first factor)\n")))
}

/// The signed-in user as a [`Subject`] in the request's extensions, where
/// the gate and the endpoints look for it.
async fn first_factor(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let user = request.get_session().get::<String>(USER_KEY).ok().flatten();
    let subject = user.and_then(|id| {
        let subject = Subject::new(SubjectId::new(&id).ok()?, [Role::AGENT]);
        Some(subject.with_email(format!("{id}@example.com")))
    });
    if let Some(subject) = subject {
        request.extensions_mut().insert(subject);
    }
    next.call(request).await
}

/// `GET /tickets`: only for sessions that passed the gate.
async fn tickets(who: Verified) -> HttpResponse {
    HttpResponse::Ok().body(format!("the tickets of {}\n", who.subject.id))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo_users = match std::env::var("DEMO_USERS") {
        Ok(n) => DemoUsers(n.parse().map_err(|_| "DEMO_USERS: a number")?),
        Err(_) => DemoUsers(0),
    };
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1".into());
    let port = match std::env::var("PORT") {
        Ok(port) => port.parse::<u16>().map_err(|_| "PORT: a port number")?,
        Err(_) => 8080,
    };
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".into());
    let store = AnyStore::connect(&url).await?;
    store.migrate().await?;
    let keys = Sealer::new(vec![SealingKey::generate(1)?])?;
    let config = MfaConfig::new("actix-minimal", Pepper::generate()?, keys);
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
    let handle = MfaHandle::new(Api::new(mfa, http));
    let key = Key::generate();
    eprintln!("listening on http://{bind}:{port}");
    HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
            .cookie_secure(false) // plain HTTP on localhost only
            .build();
        App::new()
            .app_data(handle.clone())
            .app_data(web::Data::new(demo_users))
            .route("/login", web::post().to(login))
            .service(web::scope("/mfa").configure(mfa_actix::configure))
            .service(web::resource("/tickets").wrap(MfaGate).get(tickets))
            .wrap(from_fn(first_factor))
            .wrap(sessions)
    })
    .bind((bind.as_str(), port))?
    .run()
    .await?;
    Ok(())
}
