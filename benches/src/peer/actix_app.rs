//! The bench server on actix-web: the real `mfa_actix::configure` under
//! `/mfa`, actix-session over a server-side in-memory store (a cookie
//! store would keep the old session valid after the id is renewed, see
//! mfa-actix's docs; actix-session ships no in-memory one, so it is here).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore, UpdateError, generate_session_key,
};
use actix_session::{Session, SessionExt as _, SessionMiddleware};
use actix_web::body::MessageBody;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, CookieJar, Key};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage as _, HttpResponse, HttpServer, web};
use mfa_actix::{MfaGate, MfaHandle, Verified};
use mfa_core::http::{Api, HttpConfig};
use mfa_core::{Role, Store, Subject, SubjectId};

use super::{Failure, Login, Serve, Service, USER_KEY, codes_file, noop_answer};

/// The session cookie's name (actix-session's default, as tower-sessions').
const COOKIE: &str = "id";

/// One session's values, as actix-session hands them to a store.
type State = HashMap<String, String>;

/// A server-side session store in memory: the session key in the cookie,
/// the values here, behind one lock (as tower-sessions' `MemoryStore`).
/// Time-to-live is not enforced (a bench run is minutes long).
#[derive(Clone, Default)]
pub struct MemorySessions {
    sessions: Arc<Mutex<HashMap<String, State>>>,
}

impl std::fmt::Debug for MemorySessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySessions").finish_non_exhaustive()
    }
}

impl MemorySessions {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, State>) -> R) -> R {
        f(&mut self.sessions.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Stores `state` under a new key.
    fn insert(&self, state: State) -> SessionKey {
        let key = generate_session_key();
        self.with(|sessions| sessions.insert(key.as_ref().to_owned(), state));
        key
    }
}

impl SessionStore for MemorySessions {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<State>, LoadError> {
        Ok(self.with(|sessions| sessions.get(session_key.as_ref()).cloned()))
    }

    async fn save(&self, session_state: State, _: &Duration) -> Result<SessionKey, SaveError> {
        Ok(self.insert(session_state))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: State,
        _: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        // As actix-session's Redis store: an unknown key gets a new one.
        let known = self.with(|sessions| match sessions.get_mut(session_key.as_ref()) {
            Some(state) => {
                *state = session_state.clone();
                true
            }
            None => false,
        });
        if known {
            Ok(session_key)
        } else {
            Ok(self.insert(session_state))
        }
    }

    async fn update_ttl(&self, _: &SessionKey, _: &Duration) -> Result<(), anyhow::Error> {
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        self.with(|sessions| sessions.remove(session_key.as_ref()));
        Ok(())
    }
}

/// What the bench routes share.
#[derive(Clone)]
struct Bench {
    serve: Serve,
    sessions: MemorySessions,
    key: Key,
}

/// The first factor for a seeded user: a new session id, the user in it.
async fn login(session: Session, body: web::Bytes) -> HttpResponse {
    let Ok(login) = serde_json::from_slice::<Login>(&body) else {
        return HttpResponse::UnprocessableEntity().finish();
    };
    if SubjectId::new(login.user.as_str()).is_err() {
        return HttpResponse::UnprocessableEntity().finish();
    }
    session.renew();
    match session.insert(USER_KEY, &login.user) {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// The signed-in user as the MFA subject, in the request's extensions.
async fn subject(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Ok(Some(user)) = request.get_session().get::<String>(USER_KEY)
        && let Ok(id) = SubjectId::new(user)
    {
        request
            .extensions_mut()
            .insert(Subject::new(id, [Role::AGENT]));
    }
    next.call(request).await
}

async fn app(who: Verified) -> HttpResponse {
    HttpResponse::Ok().body(format!("hello {}\n", who.subject.id))
}

/// Parses the verify body and answers JSON; no session, no mfa.
async fn noop(body: web::Bytes) -> HttpResponse {
    match noop_answer(&body) {
        Some(body) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        None => HttpResponse::UnprocessableEntity().finish(),
    }
}

/// Signs every seeded user in afresh and writes the cookies and codes.
async fn bench_sessions(bench: web::Data<Bench>) -> HttpResponse {
    match write_sessions(&bench).await {
        Ok(count) => HttpResponse::Ok().body(format!("{count}\n")),
        Err(e) => HttpResponse::InternalServerError().body(format!("{e}\n")),
    }
}

async fn write_sessions(bench: &Bench) -> Result<usize, Failure> {
    let mut cookies = Vec::with_capacity(bench.serve.users.len());
    for (user, _) in bench.serve.users.iter() {
        // The value as actix-session stores it: JSON text.
        let value = serde_json::to_string(user)?;
        let key = bench
            .sessions
            .insert(State::from([(USER_KEY.to_owned(), value)]));
        // The cookie as actix-session's middleware would set it (its
        // default content security: encrypted with the key).
        let mut jar = CookieJar::new();
        jar.private_mut(&bench.key)
            .add(Cookie::new(COOKIE, String::from(key)));
        let cookie = jar.get(COOKIE).ok_or("the cookie just added")?;
        let encoded = cookie.encoded().stripped().to_string();
        let value = encoded
            .strip_prefix("id=")
            .ok_or("an encoded cookie starts with its name")?;
        cookies.push(value.to_owned());
    }
    let out = codes_file(&bench.serve.users, &cookies)?;
    tokio::fs::write(&*bench.serve.codes, out).await?;
    Ok(cookies.len())
}

/// Serves the bench routes with actix-web (one worker per CPU, actix's
/// default) until the process is stopped.
///
/// # Errors
///
/// If the address cannot be bound or the server fails.
pub async fn serve<S: Store>(mfa: Arc<Service<S>>, serve: Serve) -> Result<(), Failure> {
    let mut http = HttpConfig::default();
    http.device_cookie.secure = false; // plain HTTP on loopback
    let handle = MfaHandle::new(Api::new(mfa, http));
    let addr = serve.addr.clone();
    let bench = web::Data::new(Bench {
        serve,
        sessions: MemorySessions::default(),
        key: Key::from(&[0x5e; 64]), // a bench key, not a secret
    });
    eprintln!("peer_server (actix) on http://{addr}");
    HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(bench.sessions.clone(), bench.key.clone())
            .cookie_name(COOKIE.to_owned())
            .cookie_secure(false) // plain HTTP on loopback
            .build();
        App::new()
            .app_data(bench.clone())
            .route("/noop", web::post().to(noop))
            .route("/bench/sessions", web::post().to(bench_sessions))
            .service(
                web::scope("")
                    .app_data(handle.clone())
                    .route("/login", web::post().to(login))
                    .service(web::scope("/mfa").configure(mfa_actix::configure))
                    .service(web::resource("/app").wrap(MfaGate).get(app))
                    .wrap(from_fn(subject))
                    .wrap(sessions),
            )
    })
    .bind(addr.as_str())?
    .run()
    .await?;
    Ok(())
}
