//! The web application: pages, the first factor (sessions with a
//! password), and the MFA gate, endpoints and extractors of `mfa-axum`.
//!
//! Routes:
//!
//! | path | who | what |
//! |---|---|---|
//! | `/login`, `/logout` | anyone | the first factor (forms with a CSRF token) |
//! | `/verify` | signed in, second step pending | the second step |
//! | `/security` | signed in | Profile → Password & Security → Two-Factor Authentication |
//! | `/tickets`, `/tickets/{id}` | behind the gate | the product |
//! | `/admin/...` | administrators, second step passed | Configuration → Advanced Settings |
//! | `/mfa/...` | — | the MFA endpoints (`mfa_axum::router`), called by the pages' script |
//! | `/dev/outbox` | anyone, dev flag on | messages "sent" |

mod admin;
mod auth;
pub(crate) mod format;
mod layout;
mod security;
mod tickets;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use mfa_axum::{MfaLayer, Rejection};
use mfa_core::http::{ENROLL_BY_HEADER, Problem, ProblemCode, safe_next};
use mfa_core::{Subject, Timestamp};
use subtle::ConstantTimeEq as _;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, MemoryStore, Session, SessionManagerLayer};

use crate::outbox::Outbox;
use crate::people::{People, Person};
use crate::{DeskApi, DeskMfa};
use layout::{BANNER_SLOT, Frame, Nav};

/// Where the session keeps the signed-in person's id.
const USER_KEY: &str = "desk.user";
/// Where the session keeps its CSRF token.
const CSRF_KEY: &str = "desk.csrf";

/// The application's state.
#[derive(Clone)]
pub(crate) struct Desk {
    pub(crate) api: Arc<DeskApi>,
    pub(crate) people: People,
    pub(crate) outbox: Option<Arc<Outbox>>,
    pub(crate) secure_cookies: bool,
}

impl Desk {
    fn mfa(&self) -> &DeskMfa {
        self.api.mfa()
    }
}

/// The signed-in person (put into request extensions by `first_factor`).
#[derive(Clone)]
pub(crate) struct Me(pub(crate) Person);

/// The whole application.
pub(crate) fn app(desk: Desk) -> Router {
    let api = Arc::clone(&desk.api);
    // Behind the gate: a session must have passed the second step (or
    // need none); browsers that must verify or enroll are redirected to
    // /verify or /security with `next`.
    let gated = Router::new()
        .route("/tickets", get(tickets::list))
        .route("/tickets/{id}", get(tickets::show))
        .route("/admin/security", get(admin::security))
        .route("/admin/people", get(admin::people))
        .route("/admin/audit", get(admin::audit))
        .layer(MfaLayer::new(Arc::clone(&api)))
        .layer(middleware::from_fn(enroll_banner))
        .layer(middleware::from_fn(require_login));
    // Signed in, whatever the second step says: the pages that do it.
    let second_step = Router::new()
        .route("/verify", get(auth::verify_page))
        .route("/security", get(security::page))
        .layer(MfaLayer::ungated(Arc::clone(&api)))
        .layer(middleware::from_fn(require_login));
    let mut public = Router::new()
        .route("/", get(home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", axum::routing::post(auth::logout))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js));
    if desk.outbox.is_some() {
        public = public.route("/dev/outbox", get(admin::outbox));
    }
    let sessions = SessionManagerLayer::new(MemoryStore::default())
        .with_name("desk_session")
        .with_secure(desk.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(Duration::hours(8)));
    Router::new()
        .merge(gated)
        .merge(second_step)
        .merge(public)
        .nest("/mfa", mfa_axum::router(api))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(desk.clone(), first_factor))
        .layer(sessions)
        .layer(middleware::from_fn(security_headers))
        .with_state(desk)
}

/// The first factor: the person this session signed in as, as the MFA
/// [`Subject`] and as [`Me`], in the request's extensions.
async fn first_factor(
    State(desk): State<Desk>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    if let Ok(Some(id)) = session.get::<String>(USER_KEY).await
        && let Some(person) = desk.people.get(&id)
        && let Some(subject) = person.subject()
    {
        request.extensions_mut().insert::<Subject>(subject);
        request.extensions_mut().insert(Me(person.clone()));
    }
    next.run(request).await
}

/// Pages for signed-in people: the others go to the sign-in page, and come
/// back afterwards.
async fn require_login(request: Request, next: Next) -> Response {
    if request.extensions().get::<Me>().is_some() {
        return next.run(request).await;
    }
    let here = request
        .uri()
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    Redirect::to(&format!("/login?next={}", encode(safe_next(here)))).into_response()
}

/// While an enrollment deadline runs (the gate adds `mfa-enroll-by`), the
/// page gets a banner saying until when.
async fn enroll_banner(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let deadline = response
        .headers()
        .get(ENROLL_BY_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let Some(deadline) = deadline.filter(|_| html) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 4 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let banner = maud::html! {
        div.banner.warn role="alert" {
            "Your organisation requires two-factor authentication. Set it up by "
            strong { (format::date_time(Timestamp::from_unix(deadline))) }
            " — after that you cannot use the desk without it. "
            a href="/security" { "Set it up now" }
        }
    };
    let page = String::from_utf8_lossy(&bytes).replacen(BANNER_SLOT, &banner.into_string(), 1);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page))
}

/// Headers for every answer: no framing, no sniffing, scripts and styles
/// from this origin only.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn home(me: Option<axum::Extension<Me>>) -> Redirect {
    Redirect::to(if me.is_some() { "/tickets" } else { "/login" })
}

async fn not_found(
    State(desk): State<Desk>,
    session: Session,
    me: Option<axum::Extension<Me>>,
) -> Response {
    let me = me.map(|axum::Extension(Me(person))| person);
    let csrf = csrf_token(&session).await;
    let frame = desk.frame("Not found", me.as_ref(), Nav::None, &csrf);
    layout::error_page(
        &frame,
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. It may have moved, or the link is mistyped.",
    )
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../assets/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/app.js"),
    )
}

impl Desk {
    /// The page frame for `me`.
    fn frame<'a>(
        &self,
        title: &'a str,
        me: Option<&'a Person>,
        nav: Nav,
        csrf: &'a str,
    ) -> Frame<'a> {
        Frame {
            title,
            me,
            nav,
            csrf,
            outbox: self.outbox.is_some(),
        }
    }
}

/// This session's CSRF token, made on first use (empty if the session
/// store fails: every form post is then refused).
async fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF_KEY).await {
        return token;
    }
    let mut bytes = [0u8; 24];
    if getrandom::fill(&mut bytes).is_err() {
        return String::new();
    }
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match session.insert(CSRF_KEY, &token).await {
        Ok(()) => token,
        Err(_) => String::new(),
    }
}

/// Whether a form's token is this session's.
async fn csrf_ok(session: &Session, sent: &str) -> bool {
    match session.get::<String>(CSRF_KEY).await {
        Ok(Some(token)) if !token.is_empty() => token.as_bytes().ct_eq(sent.as_bytes()).into(),
        _ => false,
    }
}

/// The problem code of an extractor's refusal.
fn refusal_code(rejection: &Rejection) -> Option<ProblemCode> {
    serde_json::from_slice::<Problem>(&rejection.response().body)
        .ok()
        .map(|problem| problem.code)
}

/// Percent-encodes a query parameter value.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Where a refused page request goes instead: the second step, the
/// enrollment page, the sign-in page; `None` for other refusals.
fn redirect_for(code: Option<ProblemCode>, here: &str) -> Option<Response> {
    let next = encode(safe_next(here));
    let to = match code? {
        ProblemCode::MfaRequired => format!("/verify?next={next}"),
        ProblemCode::EnrollmentRequired => format!("/security?next={next}"),
        ProblemCode::NotAuthenticated => format!("/login?next={next}"),
        _ => return None,
    };
    Some(Redirect::to(&to).into_response())
}

/// A friendly page for a failed MFA call: 503 (try again) when the
/// database is unreachable, 500 otherwise; the cause is logged, not shown.
async fn service_error(
    desk: &Desk,
    session: &Session,
    me: &Person,
    error: &mfa_core::Error,
) -> Response {
    let csrf = csrf_token(session).await;
    let frame = desk.frame("Unavailable", Some(me), Nav::None, &csrf);
    if error.kind() == mfa_core::ErrorKind::Unavailable {
        tracing::warn!(%error, "service desk: the MFA store is unavailable");
        let mut response = layout::error_page(
            &frame,
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            "The desk cannot reach its database right now. Try again in a few seconds.",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        response
    } else {
        tracing::error!(%error, "service desk: an MFA call failed");
        layout::error_page(
            &frame,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The page could not be shown. The error was logged; try again.",
        )
    }
}

/// A friendly page for any other refusal of an MFA extractor (the session
/// store failing, say): its status and title, never the raw problem.
async fn refusal_page(
    desk: &Desk,
    session: &Session,
    me: &Person,
    rejection: &Rejection,
) -> Response {
    let problem = serde_json::from_slice::<Problem>(&rejection.response().body).ok();
    let status = StatusCode::from_u16(rejection.response().status)
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let title = problem
        .as_ref()
        .map_or("Something went wrong", |p| p.title.as_str());
    let csrf = csrf_token(session).await;
    let frame = desk.frame("Unavailable", Some(me), Nav::None, &csrf);
    let mut response = layout::error_page(
        &frame,
        status,
        title,
        "The page could not be shown. Try again in a few seconds.",
    );
    if let Some(secs) = problem.and_then(|p| p.retry_after)
        && let Ok(value) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
