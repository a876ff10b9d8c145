//! [`configure`]: the endpoints of the contract, mounted in a scope.

use actix_web::http::Method;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use mfa_core::http::{ApiRequest, Problem, ProblemCode, ROUTES, RequestFacts};

use crate::convert::{self, MfaError};
use crate::handle::MfaHandle;

/// Registers the MFA endpoints — exactly the (method, path) pairs of
/// [`mfa_core::http::ROUTES`] — on `cfg`, each answered by
/// [`Api::handle`](mfa_core::http::Api::handle) through the
/// [`MfaHandle`] in the application's data. Mount it in a scope:
/// `web::scope("/mfa").configure(mfa_actix::configure)`.
///
/// Every answer is the core's: a documented path with another method is
/// 405 and any other path in the scope 404, both as problem+json; a body
/// larger than [`HttpConfig::max_body`](mfa_core::http::HttpConfig::max_body)
/// is never read past the limit and answered 413. The session changes the
/// core asks for (a raised session under a new id after a verification)
/// are saved through actix-session.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        // Parameters never span a `/`: the path under the scope is the
        // request path's last `segments` segments.
        let segments = path.matches('/').count();
        let to = move |request: HttpRequest, payload: web::Payload| {
            endpoint(request, payload, Some(segments))
        };
        let mut resource = web::resource(path).default_service(web::to(to));
        for route in ROUTES.iter().filter(|r| r.path == path) {
            if let Ok(method) = Method::from_bytes(route.method.as_bytes()) {
                resource = resource.route(web::method(method).to(to));
            }
        }
        cfg.service(resource);
    }
    cfg.default_service(web::to(|request: HttpRequest, payload: web::Payload| {
        endpoint(request, payload, None)
    }));
}

/// One request to the endpoints; `segments`: see [`configure`] (`None`
/// for the scope's default service).
async fn endpoint(
    request: HttpRequest,
    payload: web::Payload,
    segments: Option<usize>,
) -> HttpResponse {
    match serve(&request, payload, segments).await {
        Ok(response) => response,
        Err(error) => convert::respond(error.response()),
    }
}

async fn serve(
    request: &HttpRequest,
    payload: web::Payload,
    segments: Option<usize>,
) -> Result<HttpResponse, MfaError> {
    let handle = MfaHandle::of(request)?;
    let session = convert::session(request)?;
    let (body, content_length) = read_body(request, payload, handle.config().max_body).await?;
    let stored = convert::read(&session);
    let subject = convert::subject(request);
    let cookies = convert::cookies(request);
    let path = match segments {
        Some(n) => last_segments(request.path(), n),
        None => request.match_info().unprocessed(),
    };
    let query = request.query_string();
    let mut response = handle
        .handle(ApiRequest {
            facts: RequestFacts {
                method: request.method().as_str(),
                content_type: convert::header(request, "content-type"),
                content_length,
                origin: convert::header(request, "origin"),
                sec_fetch_site: convert::header(request, "sec-fetch-site"),
                host: convert::host(request),
            },
            path,
            query: (!query.is_empty()).then_some(query),
            body: &body,
            subject: subject.as_ref(),
            session: &stored,
            cookies: cookies.as_deref(),
            user_agent: convert::header(request, "user-agent"),
        })
        .await;
    let update = core::mem::replace(&mut response.session, mfa_core::http::SessionUpdate::Keep);
    convert::apply(&session, &update)?;
    Ok(convert::respond(&response))
}

/// The body, read up to `max` bytes, and the length to tell the core: a
/// body over the limit is left unread and reported longer than `max`, so
/// the core answers 413.
async fn read_body(
    request: &HttpRequest,
    payload: web::Payload,
    max: u64,
) -> Result<(Bytes, Option<u64>), MfaError> {
    let declared = convert::header(request, "content-length").and_then(|v| v.trim().parse().ok());
    let over = Some(declared.unwrap_or(0).max(max.saturating_add(1)));
    if declared.is_some_and(|len: u64| len > max) {
        return Ok((Bytes::new(), over));
    }
    match payload
        .to_bytes_limited(usize::try_from(max).unwrap_or(usize::MAX))
        .await
    {
        Ok(Ok(body)) => Ok((body, declared)),
        Ok(Err(_)) => Err(MfaError::problem(
            &Problem::new(ProblemCode::MalformedRequest).detail("the request body was cut off"),
        )),
        Err(_) => Ok((Bytes::new(), over)),
    }
}

/// The last `n` `/`-separated segments of `path`, with their leading `/`.
fn last_segments(path: &str, n: usize) -> &str {
    let mut start = path.len();
    for _ in 0..n {
        start = path.get(..start).and_then(|p| p.rfind('/')).unwrap_or(0);
    }
    path.get(start..).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::last_segments;

    #[test]
    fn the_path_under_the_scope_is_the_last_segments() {
        assert_eq!(
            last_segments("/mfa/channels/sms/confirm", 3),
            "/channels/sms/confirm"
        );
        assert_eq!(last_segments("/x/mfa/verify", 1), "/verify");
        assert_eq!(last_segments("/verify", 1), "/verify");
        assert_eq!(last_segments("/verify", 4), "/verify");
    }
}
