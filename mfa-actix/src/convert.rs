//! Type conversions between actix-web and `mfa_core::http`: request
//! facts in, [`ApiResponse`] out, the session value read and written.

use actix_session::{Session, SessionExt};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use mfa_core::http::{ApiResponse, MfaSession, Problem, ProblemCode, SESSION_KEY, SessionUpdate};

/// A refusal from the gate, an endpoint or an extractor: the core's
/// answer (a problem+json body, or a redirect), sent as it is. Its
/// [`Display`](core::fmt::Display) text is for logs only; the response
/// is always [`error_response`](ResponseError::error_response)'s.
#[derive(Debug, Clone)]
pub struct MfaError(Box<ApiResponse>);

impl MfaError {
    /// The refusal for `problem`.
    #[must_use]
    pub fn problem(problem: &Problem) -> Self {
        Self(Box::new(ApiResponse::problem(problem)))
    }

    /// The core's response this error sends.
    #[must_use]
    pub fn response(&self) -> &ApiResponse {
        &self.0
    }

    pub(crate) fn from_response(response: ApiResponse) -> Self {
        Self(Box::new(response))
    }
}

impl core::fmt::Display for MfaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "mfa refusal, status {}", self.0.status)
    }
}

impl std::error::Error for MfaError {}

impl ResponseError for MfaError {
    fn status_code(&self) -> StatusCode {
        status(self.0.status)
    }

    fn error_response(&self) -> HttpResponse {
        respond(&self.0)
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The actix response for the core's: status, every header in order
/// (`set-cookie` may repeat), body.
pub(crate) fn respond(response: &ApiResponse) -> HttpResponse {
    let mut builder = HttpResponse::build(status(response.status));
    for &(name, ref value) in &response.headers {
        builder.append_header((name, value.as_str()));
    }
    builder.body(response.body.clone())
}

/// A request header as text (`None` if absent or not visible ASCII).
pub(crate) fn header<'r>(request: &'r HttpRequest, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The `Cookie` header; several (as HTTP/2 sends them) joined with `; `.
pub(crate) fn cookies(request: &HttpRequest) -> Option<String> {
    let values: Vec<&str> = request
        .headers()
        .get_all("cookie")
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join("; "))
}

/// The `Host` header, or the authority of the request line (HTTP/2).
pub(crate) fn host(request: &HttpRequest) -> Option<&str> {
    header(request, "host").or_else(|| request.uri().authority().map(|a| a.as_str()))
}

/// The subject the host application's first-factor middleware put into
/// the request's extensions.
pub(crate) fn subject(request: &HttpRequest) -> Option<mfa_core::Subject> {
    request.extensions().get::<mfa_core::Subject>().cloned()
}

/// A key only ever written into the throw-away session of [`session`].
const PROBE: &str = "mfa-actix.probe";

/// The request's actix-session [`Session`], or the 500 problem naming the
/// missing `SessionMiddleware`.
///
/// `SessionMiddleware` puts the session into the request's extensions
/// before the application runs, and [`SessionExt::get_session`] silently
/// makes an empty one when it is missing: changes to that one are never
/// saved, so a verification would be forgotten without a word. To tell
/// the two apart with actix-session's public API only, the extensions are
/// set aside, a marked session is made in their place, and the set-aside
/// extensions are put back over it: the middleware's session, if there is
/// one, replaces the marked one. Should actix-session ever keep its
/// session elsewhere, this fails closed (every request is refused).
pub(crate) fn session(request: &HttpRequest) -> Result<Session, MfaError> {
    let saved = core::mem::take(&mut *request.extensions_mut());
    let marked = request.get_session().insert(PROBE, true).is_ok();
    request.extensions_mut().extend(saved);
    let session = request.get_session();
    if marked && !session.contains_key(PROBE) {
        return Ok(session);
    }
    let _ = session.remove(PROBE);
    Err(MfaError::problem(
        &Problem::new(ProblemCode::Internal).detail(
            "mfa-actix: no session; wrap the application in actix-session's SessionMiddleware \
             (outside the first-factor middleware and the MfaGate)",
        ),
    ))
}

/// What the session holds under [`SESSION_KEY`]; an empty value when
/// nothing (or something unreadable) is there.
pub(crate) fn read(session: &Session) -> MfaSession {
    session
        .get::<MfaSession>(SESSION_KEY)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Applies the core's session change: a new id first if asked, then the
/// new value.
pub(crate) fn apply(session: &Session, update: &SessionUpdate) -> Result<(), MfaError> {
    if let SessionUpdate::Replace {
        session: value,
        renew_id,
    } = update
    {
        if *renew_id {
            session.renew();
        }
        session.insert(SESSION_KEY, value).map_err(|_| {
            MfaError::problem(
                &Problem::new(ProblemCode::Internal).detail("the session could not be written"),
            )
        })?;
    }
    Ok(())
}
