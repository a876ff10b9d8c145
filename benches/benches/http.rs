//! mfa-axum in process: whole requests through an axum `Router` (the
//! tower-sessions session layer over its `MemoryStore`, a first-factor
//! stand-in, the MFA gate and routes), sent with `tower::ServiceExt::oneshot`
//! on a current-thread tokio runtime. No sockets, no HTTP parsing: what is
//! timed is the framework, the session layer and mfa.
//!
//! - `gate`: `GET /app` with a verified session cookie, behind
//!   `MfaLayer` and in an identical app without it. The manual clock
//!   stands still, so the session stays within the 60 s revalidation
//!   interval: the gate reads the session and asks the MFA store nothing.
//!   A third app puts, instead of the gate, a middleware that only reads
//!   the MFA session value: the share of tower-sessions in the gate's cost.
//! - `verify`: `POST /mfa/verify` with the right code and with a wrong one,
//!   beside `POST /noop`, a handler that parses the same JSON body and
//!   answers a JSON body of the verify answer's shape, and
//!   `POST /noop-sign-in`, which also cycles the session id and stores a
//!   value as an accepted verification does.
//!
//! Run: `cargo bench -p mfa-benches --bench http`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench setup fails loudly

use std::cell::RefCell;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt as _;
use mfa_axum::MfaLayer;
use mfa_core::http::{MfaSession, SESSION_KEY};
use mfa_core::otp::Totp;
use mfa_core::store::Settlement;
use mfa_core::testing::contract::{PREFIX, SUBJECT_HEADER, World};
use mfa_core::{FactorKind, Store, SubjectId, Timestamp};
use tokio::runtime::Runtime;
use tower::ServiceExt as _;
use tower_sessions::{MemoryStore as SessionStore, Session, SessionManagerLayer};

/// Who signs in (an agent of the contract's directory).
const WHO: &str = "alice";

/// The gated route of the application.
const APP: &str = "/app";

/// The application's own route: a small JSON body.
async fn app_route() -> Response {
    ([(CONTENT_TYPE, "application/json")], r#"{"ok":true}"#).into_response()
}

/// What `/noop` reads: the verify request's fields.
#[derive(serde::Deserialize)]
struct NoopRequest {
    method: String,
    code: String,
}

/// What `/noop` answers: the fields of the verify answer.
#[derive(serde::Serialize)]
struct NoopResponse<'a> {
    factor: &'a str,
    verified_at: u64,
    recovery_codes_left: Option<u32>,
    recovery_codes_low: bool,
    remembered_until: Option<u64>,
}

/// Parses the JSON body and answers JSON; touches neither the session
/// nor mfa.
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
    let body = serde_json::to_vec(&answer).unwrap();
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

/// Like `/noop`, and like a sign-in it also cycles the session id and
/// stores a value of the MFA session's shape: the session-layer work that
/// an accepted verification does besides mfa's.
async fn noop_sign_in(Extension(session): Extension<Session>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<NoopRequest>(&body) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let at = Timestamp::from_unix(1_800_000_000);
    let value = MfaSession::verified(&SubjectId::new(WHO).unwrap(), at);
    session.cycle_id().await.unwrap();
    session.insert(SESSION_KEY, value).await.unwrap();
    let answer = NoopResponse {
        factor: &request.method,
        verified_at: at.unix(),
        recovery_codes_left: None,
        recovery_codes_low: request.code.is_empty(),
        remembered_until: None,
    };
    let body = serde_json::to_vec(&answer).unwrap();
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

/// Reads the MFA session value as the gate does (tower-sessions loads the
/// record from its store, the value is deserialized), and decides nothing.
async fn read_session(request: Request, next: Next) -> Response {
    let session = request.extensions().get::<Session>().unwrap();
    let value: Option<MfaSession> = session.get(SESSION_KEY).await.unwrap();
    assert!(value.is_some(), "a verified session");
    next.run(request).await
}

/// What stands in front of `GET /app`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Front {
    /// `MfaLayer`.
    Gate,
    /// Nothing.
    Nothing,
    /// A middleware that only reads the MFA session value.
    SessionRead,
}

/// The application: `GET /app` (behind `front`), `POST /noop` and
/// `POST /noop-sign-in`, the MFA routes under `/mfa`, a first-factor
/// stand-in (the subject named by the `x-test-subject` header, as in the
/// contract suite) and the session layer over `sessions`. Every variant
/// shares one session store, so a session verified through one is the
/// same session in the others.
fn application(world: &World, sessions: &SessionStore, front: Front) -> Router {
    let api = Arc::new(world.api());
    let subject = World::subject(WHO).unwrap();
    let first_factor = move |mut request: Request, next: Next| {
        let signed_in = request
            .headers()
            .get(SUBJECT_HEADER)
            .is_some_and(|v| v.as_bytes() == subject.id.as_str().as_bytes());
        if signed_in {
            request.extensions_mut().insert(subject.clone());
        }
        next.run(request)
    };
    let app = Router::new().route(APP, get(app_route));
    let app = match front {
        Front::Gate => app.layer(MfaLayer::new(Arc::clone(&api))),
        Front::Nothing => app,
        Front::SessionRead => app.layer(middleware::from_fn(read_session)),
    };
    app.route("/noop", post(noop))
        .route("/noop-sign-in", post(noop_sign_in))
        .nest(PREFIX, mfa_axum::router(api))
        .layer(middleware::from_fn(first_factor))
        .layer(SessionManagerLayer::new(sessions.clone()).with_secure(false))
}

/// A code that is not the current step's.
fn wrong_code(world: &World, app: &Totp) -> String {
    let right = world.next_code(app);
    if right == "000000" {
        "000001"
    } else {
        "000000"
    }
    .to_owned()
}

/// A request from [`WHO`]'s browser, as the contract's `Browser` sends it:
/// same-origin, the first factor, the session cookie, and a JSON body for
/// a `POST`.
fn request(method: &str, uri: &str, cookie: Option<&str>, body: Option<String>) -> Request {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("sec-fetch-site", "same-origin")
        .header(SUBJECT_HEADER, WHO);
    if let Some(cookie) = cookie {
        builder = builder.header(COOKIE, cookie);
    }
    let body = match body {
        Some(json) => {
            builder = builder.header(CONTENT_TYPE, "application/json");
            Body::from(json)
        }
        None => Body::empty(),
    };
    builder.body(body).unwrap()
}

/// The verify request's body.
fn verify_body(code: &str) -> String {
    format!(r#"{{"method":"totp","code":"{code}"}}"#)
}

/// Sends one request and reads the whole answer (the timed part).
/// The `Set-Cookie` header, if any, is moved into `set_cookie`.
async fn send(
    app: Router,
    request: Request,
    set_cookie: &RefCell<Option<HeaderValue>>,
) -> (StatusCode, Bytes) {
    let mut response = app.oneshot(request).await.unwrap();
    if let Some(value) = response.headers_mut().remove(SET_COOKIE) {
        *set_cookie.borrow_mut() = Some(value);
    }
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body)
}

/// The `name=value` part of a `Set-Cookie` value.
fn cookie_pair(set_cookie: &HeaderValue) -> String {
    let value = set_cookie.to_str().unwrap();
    value.split(';').next().unwrap().trim().to_owned()
}

/// Sends `request` outside any timing, for setup and checks; updates
/// `cookie` from the answer.
fn send_untimed(
    rt: &Runtime,
    app: &Router,
    request: Request,
    cookie: &mut Option<String>,
) -> (StatusCode, Bytes) {
    let set_cookie = RefCell::new(None);
    let answer = rt.block_on(send(app.clone(), request, &set_cookie));
    if let Some(value) = set_cookie.take() {
        *cookie = Some(cookie_pair(&value));
    }
    answer
}

fn gate(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let world = World::new();
    let authenticator = rt.block_on(world.enroll_authenticator(WHO));
    let sessions = SessionStore::default();
    let gated = application(&world, &sessions, Front::Gate);
    let ungated = application(&world, &sessions, Front::Nothing);
    let reading = application(&world, &sessions, Front::SessionRead);

    // The gate is on: without a second factor the route is refused.
    let mut cookie = None;
    let (status, _) = send_untimed(&rt, &gated, request("GET", APP, None, None), &mut cookie);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Verify through the application; the session cookie it sets is the
    // verified session. The clock does not move after this.
    let code = world.next_code(&authenticator);
    let verify = request(
        "POST",
        &format!("{PREFIX}/verify"),
        None,
        Some(verify_body(&code)),
    );
    let (status, body) = send_untimed(&rt, &gated, verify, &mut cookie);
    assert_eq!(status, StatusCode::OK, "{body:?}");
    let cookie = cookie.expect("a session cookie");
    for app in [&gated, &ungated, &reading] {
        let get = request("GET", APP, Some(&cookie), None);
        let (status, body) = send_untimed(&rt, app, get, &mut None);
        assert_eq!(
            (status, &body[..]),
            (StatusCode::OK, &br#"{"ok":true}"#[..])
        );
    }

    let mut group = c.benchmark_group("http-gate");
    let unused = RefCell::new(None);
    for (name, app) in [
        ("GET /app, gated", &gated),
        ("GET /app, no gate", &ungated),
        ("GET /app, no gate, session read", &reading),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || (app.clone(), request("GET", APP, Some(&cookie), None)),
                |(app, request)| rt.block_on(send(app, request, &unused)),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
    // Still the fast path: the session was never checked against the store
    // again (the clock stood still), so nothing was written back.
    assert!(unused.borrow().is_none(), "the gate rewrote the session");
}

fn verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let world = World::new();
    let authenticator = rt.block_on(world.enroll_authenticator(WHO));
    let sessions = SessionStore::default();
    let app = application(&world, &sessions, Front::Gate);
    let subject = World::subject(WHO).unwrap();
    let uri = format!("{PREFIX}/verify");

    // One session for every iteration: the first verification makes it,
    // and each accepted one cycles its id (the new cookie is carried to
    // the next request), so the session store keeps one record.
    let mut cookie = None;
    let code = world.next_code(&authenticator);
    let right = request("POST", &uri, cookie.as_deref(), Some(verify_body(&code)));
    let (status, verified) = send_untimed(&rt, &app, right, &mut cookie);
    assert_eq!(status, StatusCode::OK, "{verified:?}");
    let wrong = wrong_code(&world, &authenticator);
    let refused = request("POST", &uri, cookie.as_deref(), Some(verify_body(&wrong)));
    let (status, problem) = send_untimed(&rt, &app, refused, &mut cookie);
    assert!(status.is_client_error(), "{status}: {problem:?}");
    let noop_request = request("POST", "/noop", cookie.as_deref(), Some(verify_body(&code)));
    let (status, answer) = send_untimed(&rt, &app, noop_request, &mut cookie);
    assert_eq!(status, StatusCode::OK);
    let before = cookie.clone();
    let sign_in = request(
        "POST",
        "/noop-sign-in",
        cookie.as_deref(),
        Some(verify_body(&code)),
    );
    let (status, _) = send_untimed(&rt, &app, sign_in, &mut cookie);
    assert_eq!(status, StatusCode::OK);
    assert_ne!(cookie, before, "the session id was cycled");
    eprintln!(
        "verify answers {} bytes (accepted), {} bytes (refused); /noop {} bytes",
        verified.len(),
        problem.len(),
        answer.len()
    );
    let refund = || {
        rt.block_on(world.store.settle_attempt(
            &subject.id,
            FactorKind::Totp,
            world.mfa.config().throttle,
            Settlement::Refunded,
        ))
        .unwrap();
    };
    refund();

    let cookie = RefCell::new(cookie.expect("a session cookie"));
    let set_cookie = RefCell::new(None);
    // Carries a cycled session id over to the next request (untimed).
    let take_cookie = || {
        if let Some(value) = set_cookie.take() {
            *cookie.borrow_mut() = cookie_pair(&value);
        }
        cookie.borrow().clone()
    };

    let mut group = c.benchmark_group("http-verify");
    // `PerIteration`: each setup runs right before its request, so the
    // clock has moved to a fresh step and the code is that step's.
    // Rarely (about 1 in 500,000) two neighbouring steps share their
    // digits and the newer one was consumed already: a replay, refused.
    // No assertion on the outcome inside the loop.
    group.bench_function("POST /mfa/verify, right code", |b| {
        b.iter_batched(
            || {
                let code = world.next_code(&authenticator);
                let cookie = take_cookie();
                let body = verify_body(&code);
                (
                    app.clone(),
                    request("POST", &uri, Some(&cookie), Some(body)),
                )
            },
            |(app, request)| rt.block_on(send(app, request, &set_cookie)),
            BatchSize::PerIteration,
        );
    });
    // A wrong code: computed in full and charged as a failure; the charge
    // is given back in the untimed setup so the lock never engages.
    group.bench_function("POST /mfa/verify, wrong code", |b| {
        b.iter_batched(
            || {
                refund();
                let code = wrong_code(&world, &authenticator);
                let cookie = take_cookie();
                let body = verify_body(&code);
                (
                    app.clone(),
                    request("POST", &uri, Some(&cookie), Some(body)),
                )
            },
            |(app, request)| rt.block_on(send(app, request, &set_cookie)),
            BatchSize::PerIteration,
        );
    });
    // The same request shape and setup (a fresh code, the session cookie),
    // to a handler that only parses the body and answers JSON.
    group.bench_function("POST /noop (parse JSON, answer JSON)", |b| {
        b.iter_batched(
            || {
                let code = world.next_code(&authenticator);
                let cookie = take_cookie();
                let body = verify_body(&code);
                (
                    app.clone(),
                    request("POST", "/noop", Some(&cookie), Some(body)),
                )
            },
            |(app, request)| rt.block_on(send(app, request, &set_cookie)),
            BatchSize::PerIteration,
        );
    });
    // The same, plus cycling the session id and storing a value: the
    // session-layer share of an accepted verification.
    group.bench_function("POST /noop-sign-in (+ cycle id, store value)", |b| {
        b.iter_batched(
            || {
                let code = world.next_code(&authenticator);
                let cookie = take_cookie();
                let body = verify_body(&code);
                let uri = "/noop-sign-in";
                (app.clone(), request("POST", uri, Some(&cookie), Some(body)))
            },
            |(app, request)| rt.block_on(send(app, request, &set_cookie)),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, gate, verify);
criterion_main!(benches);
