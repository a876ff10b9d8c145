//! Type conversions between axum / tower-sessions and the core's
//! framework-neutral HTTP types, and the one check every gate and
//! extractor runs.

use core::any::Any;
use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::OriginalUri;
use axum::http::header::{ACCEPT, COOKIE};
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use mfa_core::http::{
    Api, ApiResponse, Directory, GateOutcome, GateRequest, MfaSession, Need, SESSION_KEY,
    SessionUpdate, wants_html,
};
use mfa_core::{Clock, Notifier, Store, Subject, Timestamp};
use tower_sessions::Session;

use crate::error::{Error, Rejection};

/// A boxed, sendable future.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The core's gate and checks, without the `Api`'s type parameters.
trait Gatekeeper: Send + Sync {
    /// [`Api::gate`] (`need` is `None`) or [`Api::require`].
    fn check<'a>(
        &'a self,
        need: Option<Need>,
        request: GateRequest<'a>,
    ) -> BoxFuture<'a, GateOutcome>;
}

impl<S: Store, N: Notifier, C: Clock, D: Directory> Gatekeeper for Api<S, N, C, D> {
    fn check<'a>(
        &'a self,
        need: Option<Need>,
        request: GateRequest<'a>,
    ) -> BoxFuture<'a, GateOutcome> {
        match need {
            None => Box::pin(self.gate(request)),
            Some(need) => Box::pin(self.require(need, request)),
        }
    }
}

/// What [`MfaLayer`](crate::MfaLayer) puts in request extensions for the
/// extractors: the `Api`, type-erased (and as `Any` for
/// [`MfaHandle`](crate::MfaHandle)). Private, so no one else can insert it.
#[derive(Clone)]
pub(crate) struct Context {
    gatekeeper: Arc<dyn Gatekeeper>,
    pub(crate) api: Arc<dyn Any + Send + Sync>,
}

impl core::fmt::Debug for Context {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new<S: Store, N: Notifier, C: Clock, D: Directory>(
        api: Arc<Api<S, N, C, D>>,
    ) -> Self {
        Self {
            gatekeeper: api.clone(),
            api,
        }
    }
}

/// Marks a request the gate let through, with the subject it passed
/// ([`Verified`](crate::Verified) then asks nothing more).
#[derive(Debug, Clone)]
pub(crate) struct GatePassed(pub(crate) Subject);

/// Runs the gate (`need` is `None`) or an extractor's check on a request
/// and applies the session change the core asks for, whatever the answer.
/// `Ok` with the enrollment deadline to announce when it passes.
pub(crate) async fn check(
    context: &Context,
    need: Option<Need>,
    extensions: &Extensions,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Option<Timestamp>, Rejection> {
    let session = extensions
        .get::<Session>()
        .ok_or(Error::MissingSessionLayer)?;
    let stored = load(session).await?;
    let cookies = cookie_header(headers);
    let uri = extensions.get::<OriginalUri>().map_or(uri, |o| &o.0);
    let request = GateRequest {
        subject: extensions.get::<Subject>(),
        session: &stored,
        html: wants_html(header(headers, &ACCEPT)),
        path_and_query: uri.path_and_query().map_or("/", |pq| pq.as_str()),
        cookies: cookies.as_deref(),
    };
    match context.gatekeeper.check(need, request).await {
        GateOutcome::Pass {
            session: update,
            enroll_by,
        } => {
            apply(session, update).await?;
            Ok(enroll_by)
        }
        GateOutcome::Refuse(mut response) => {
            let update = core::mem::replace(&mut response.session, SessionUpdate::Keep);
            apply(session, update).await?;
            Err(Rejection::new(response))
        }
    }
}

/// The MFA value of the session (empty when there is none, or when what is
/// stored no longer reads as one).
pub(crate) async fn load(session: &Session) -> Result<MfaSession, Error> {
    match session.get::<MfaSession>(SESSION_KEY).await {
        Ok(value) => Ok(value.unwrap_or_default()),
        Err(tower_sessions::session::Error::SerdeJson(error)) => {
            tracing::warn!(%error, "mfa-axum: unreadable MFA session value, read as empty");
            Ok(MfaSession::default())
        }
        Err(error) => Err(Error::Session(error)),
    }
}

/// Applies the core's session change: a new id first if asked, then the
/// value.
pub(crate) async fn apply(session: &Session, update: SessionUpdate) -> Result<(), Error> {
    if let SessionUpdate::Replace {
        session: value,
        renew_id,
    } = update
    {
        if renew_id {
            session.cycle_id().await.map_err(Error::Session)?;
        }
        session
            .insert(SESSION_KEY, value)
            .await
            .map_err(Error::Session)?;
    }
    Ok(())
}

/// A header's value, if it is there and visible ASCII.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `Cookie` header; several (as HTTP/2 sends them) joined with `; `.
pub(crate) fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let parts: Vec<&str> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The core's answer as an axum response (repeated headers such as
/// `set-cookie` are kept). The session change must have been applied.
pub(crate) fn into_response(api: ApiResponse) -> Response {
    let mut response = Response::new(Body::from(api.body));
    *response.status_mut() =
        StatusCode::from_u16(api.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in api.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().append(name, value);
            }
            _ => tracing::error!(
                header = name,
                "mfa-axum: dropped an invalid response header"
            ),
        }
    }
    response
}
