//! [`router`]: the endpoints of the contract, each handled by
//! [`Api::handle`].

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN, USER_AGENT};
use axum::http::{HeaderName, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use mfa_core::http::{
    Api, ApiRequest, ApiResponse, Directory, Problem, ProblemCode, ROUTES, RequestFacts,
    SessionUpdate,
};
use mfa_core::{Clock, Notifier, Store, Subject};
use tower_sessions::Session;

use crate::convert::{apply, cookie_header, header, into_response, load};
use crate::error::Error;

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// The MFA endpoints: exactly the (method, path) pairs of
/// [`ROUTES`], to nest under the prefix of
/// [`HttpConfig`](mfa_core::http::HttpConfig) (`/mfa`):
/// `Router::new().nest("/mfa", mfa_axum::router(api))`.
///
/// Every request, on a documented path or not, is answered by
/// [`Api::handle`]: an unknown path is a 404 problem, a documented path
/// with another method a 405 problem, a body over
/// [`HttpConfig::max_body`](mfa_core::http::HttpConfig::max_body) a 413
/// problem (axum's own body limit does not apply). (axum hands a nested
/// router neither `/mfa/` nor paths outside `/mfa`: those get the
/// application's own fallback.) The router has no
/// state of its own (`St` is the application's), and needs the
/// tower-sessions `SessionManagerLayer` and the application's first-factor
/// middleware (putting the [`Subject`] into the request's extensions) in
/// front of it.
pub fn router<St, S, N, C, D>(api: Arc<Api<S, N, C, D>>) -> Router<St>
where
    St: Clone + Send + Sync + 'static,
    S: Store,
    N: Notifier,
    C: Clock,
    D: Directory,
{
    let handler = move |request: Request| {
        let api = Arc::clone(&api);
        async move { endpoint(&api, request).await }
    };
    let mut paths: BTreeMap<&str, MethodRouter<St>> = BTreeMap::new();
    for route in ROUTES {
        let Ok(filter) = Method::from_bytes(route.method.as_bytes())
            .map_err(drop)
            .and_then(|m| MethodFilter::try_from(m).map_err(drop))
        else {
            tracing::error!(method = route.method, "mfa-axum: cannot route this method");
            continue;
        };
        let methods = paths
            .remove(route.path)
            .unwrap_or_else(|| MethodRouter::new().fallback(handler.clone()));
        paths.insert(route.path, methods.on(filter, handler.clone()));
    }
    paths
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
        .fallback(handler)
}

/// One request: read the body (up to the limit), ask the core, apply the
/// session change, answer.
async fn endpoint<S: Store, N: Notifier, C: Clock, D: Directory>(
    api: &Api<S, N, C, D>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Some(session) = parts.extensions.get::<Session>() else {
        return Error::MissingSessionLayer.into_response();
    };
    let max_body = api.config().max_body;
    let (body, too_large) = match read(body, max_body).await {
        Ok(body) => (body, false),
        Err(error) if is_too_large(error.as_ref()) => (Bytes::new(), true),
        Err(error) => {
            tracing::debug!(%error, "mfa-axum: the request body could not be read");
            let problem = Problem::new(ProblemCode::MalformedRequest)
                .detail("the request body could not be read");
            return into_response(ApiResponse::problem(&problem));
        }
    };
    let declared = header(&parts.headers, &CONTENT_LENGTH).and_then(|v| v.parse().ok());
    let stored = match load(session).await {
        Ok(stored) => stored,
        Err(error) => return error.into_response(),
    };
    let cookies = cookie_header(&parts.headers);
    let mut response = api
        .handle(ApiRequest {
            facts: RequestFacts {
                method: parts.method.as_str(),
                content_type: header(&parts.headers, &CONTENT_TYPE),
                // Past the limit: at least one byte more than allowed.
                content_length: declared.max(too_large.then(|| max_body.saturating_add(1))),
                origin: header(&parts.headers, &ORIGIN),
                sec_fetch_site: header(&parts.headers, &SEC_FETCH_SITE),
                host: header(&parts.headers, &HOST)
                    .or_else(|| parts.uri.authority().map(|a| a.as_str())),
            },
            path: parts.uri.path(),
            query: parts.uri.query(),
            body: &body,
            subject: parts.extensions.get::<Subject>(),
            session: &stored,
            cookies: cookies.as_deref(),
            user_agent: header(&parts.headers, &USER_AGENT),
        })
        .await;
    let update = core::mem::replace(&mut response.session, SessionUpdate::Keep);
    match apply(session, update).await {
        Ok(()) => into_response(response),
        Err(error) => error.into_response(),
    }
}

/// The body, or an error once it is longer than `limit` bytes.
async fn read(body: Body, limit: u64) -> Result<Bytes, axum::BoxError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(Limited::new(body, limit).collect().await?.to_bytes())
}

/// Whether reading stopped at a length limit (ours, or one the
/// application put on the body before).
fn is_too_large(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}
