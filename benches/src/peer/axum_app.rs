//! The bench server on axum: the real `mfa_axum::router` under `/mfa`,
//! tower-sessions over its in-memory store.

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
use mfa_core::{Role, Store, Subject, SubjectId};
use tower_sessions::{MemoryStore as SessionStore, Session, SessionManagerLayer};

use super::{Failure, Login, Serve, Service, USER_KEY, codes_file, noop_answer};

/// What the bench routes share.
#[derive(Clone)]
struct Bench {
    serve: Serve,
    /// The session layer's store.
    sessions: SessionStore,
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

/// Parses the verify body and answers JSON; no session, no mfa.
async fn noop(body: Bytes) -> Response {
    match noop_answer(&body) {
        Some(body) => ([(CONTENT_TYPE, "application/json")], body).into_response(),
        None => StatusCode::UNPROCESSABLE_ENTITY.into_response(),
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
    let mut cookies = Vec::with_capacity(bench.serve.users.len());
    for (user, _) in bench.serve.users.iter() {
        let session = Session::new(None, Arc::clone(&store), None);
        session.insert(USER_KEY, user).await?;
        session.save().await?;
        let id = session.id().ok_or("a saved session has an id")?;
        cookies.push(id.to_string());
    }
    let out = codes_file(&bench.serve.users, &cookies)?;
    tokio::fs::write(&*bench.serve.codes, out).await?;
    Ok(cookies.len())
}

/// Serves the bench routes with axum until the process is stopped.
///
/// # Errors
///
/// If the address cannot be bound or the server fails.
pub async fn serve<S: Store>(mfa: Arc<Service<S>>, serve: Serve) -> Result<(), Failure> {
    let mut http = HttpConfig::default();
    http.device_cookie.secure = false; // plain HTTP on loopback
    let api = Arc::new(Api::new(mfa, http));
    let sessions = SessionStore::default();
    let addr = serve.addr.clone();
    let bench = Bench {
        serve,
        sessions: sessions.clone(),
    };
    let router = Router::new()
        .route("/app", get(app))
        .layer(MfaLayer::new(Arc::clone(&api)))
        .nest("/mfa", mfa_axum::router(api))
        .route("/login", post(login))
        .layer(middleware::from_fn(subject))
        .layer(SessionManagerLayer::new(sessions).with_secure(false))
        .route("/noop", post(noop))
        .merge(
            Router::new()
                .route("/bench/sessions", post(bench_sessions))
                .with_state(bench),
        );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("peer_server (axum) on http://{addr}");
    axum::serve(listener, router).await?;
    Ok(())
}
