//! [`MfaGate`]: the middleware in front of the application's own routes.

use core::future::{Future, Ready, ready};
use core::pin::Pin;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{Error, HttpRequest};
use mfa_core::http::{ENROLL_BY_HEADER, GateOutcome, GateRequest, SessionUpdate, wants_html};

use crate::convert::{self, MfaError};
use crate::handle::MfaHandle;

/// The gate in front of the application's own routes, as actix
/// middleware: wrap the routes (a resource, a scope or the whole
/// application) that need the second step.
///
/// For each request it reads the [`Subject`](mfa_core::Subject) the host
/// application's first-factor middleware put into the request's
/// extensions, the session's MFA value, the `Accept` header, the path and
/// query, and the `Cookie` header; asks [`Api::gate`](mfa_core::http::Api::gate)
/// (through the [`MfaHandle`] in the application's data); saves the
/// session change it returns; and then either calls the route, adding
/// `mfa-enroll-by` when enrollment is due by a deadline, or answers with
/// the core's refusal: 401 `mfa_required`, 403 `enrollment_required`, or
/// for browsers a redirect to the application's verify or enroll page
/// with a local `next`.
///
/// It needs actix-session's `SessionMiddleware` around it, and an
/// [`MfaHandle`] in the application's data; without either it answers
/// 500 with a problem naming what is missing, and never lets the request
/// through.
#[derive(Debug, Clone, Copy, Default)]
pub struct MfaGate;

impl<S, B> Transform<S, ServiceRequest> for MfaGate
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = MfaGateService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(MfaGateService {
            service: Rc::new(service),
        }))
    }
}

/// The service [`MfaGate`] wraps a route in.
#[derive(Debug)]
pub struct MfaGateService<S> {
    service: Rc<S>,
}

/// The gate's verdict on one request.
enum Verdict {
    Pass(Option<HeaderValue>),
    Refuse(MfaError),
}

impl<S, B> Service<ServiceRequest> for MfaGateService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            match judge(request.request()).await {
                Verdict::Pass(enroll_by) => {
                    let mut response = service.call(request).await?;
                    if let Some(deadline) = enroll_by {
                        response
                            .headers_mut()
                            .insert(HeaderName::from_static(ENROLL_BY_HEADER), deadline);
                    }
                    Ok(response.map_into_left_body())
                }
                Verdict::Refuse(error) => Ok(request
                    .into_response(convert::respond(error.response()))
                    .map_into_right_body()),
            }
        })
    }
}

/// Asks the core about `request` and saves the session change.
async fn judge(request: &HttpRequest) -> Verdict {
    let prepared = MfaHandle::of(request).and_then(|h| Ok((h, convert::session(request)?)));
    let (handle, session) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => return Verdict::Refuse(error),
    };
    let subject = convert::subject(request);
    let stored = convert::read(&session);
    let cookies = convert::cookies(request);
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.path(), |pq| pq.as_str());
    let outcome = handle
        .gate(GateRequest {
            subject: subject.as_ref(),
            session: &stored,
            html: wants_html(convert::header(request, "accept")),
            path_and_query,
            cookies: cookies.as_deref(),
        })
        .await;
    let (update, verdict) = match outcome {
        GateOutcome::Pass { session, enroll_by } => {
            let header = enroll_by.map(|at| HeaderValue::from(at.unix()));
            (session, Verdict::Pass(header))
        }
        GateOutcome::Refuse(mut response) => {
            let update = core::mem::replace(&mut response.session, SessionUpdate::Keep);
            (update, Verdict::Refuse(MfaError::from_response(response)))
        }
    };
    match convert::apply(&session, &update) {
        Ok(()) => verdict,
        Err(error) => Verdict::Refuse(error),
    }
}
