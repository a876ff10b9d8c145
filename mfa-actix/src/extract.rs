//! Extractors: the subject, as far as the core lets it through.
//!
//! Each asks [`Api::gate`](mfa_core::http::Api::gate) about the request
//! (free behind an [`MfaGate`](crate::MfaGate) that just asked: a session
//! checked within the revalidation interval costs no store round trip),
//! saves the session change it returns, and refuses with the core's
//! problem+json (never actix's default text).

use core::future::Future;
use core::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use mfa_core::http::{
    ApiResponse, GateOutcome, GateRequest, MfaSession, Problem, ProblemCode, SessionUpdate,
};
use mfa_core::{Subject, Timestamp};

use crate::convert::{self, MfaError};
use crate::handle::MfaHandle;

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, MfaError>>>>;

/// The subject, if this session passed the second step as the core's
/// gate rules it: verified (or a remembered browser), or no second factor
/// and none required yet. Refuses like the gate for API clients: 401
/// `not_authenticated` or `mfa_required`, 403 `enrollment_required`.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Who.
    pub subject: Subject,
    /// Enrollment is required by this deadline (the subject has none yet).
    pub enroll_by: Option<Timestamp>,
}

/// The subject at the second step: signed in with the first factor,
/// whether or not this session has passed the second step — what the
/// application's verify and enroll pages need. Refuses only a request
/// without a subject (401 `not_authenticated`) or when the store is
/// unavailable (503).
#[derive(Debug, Clone)]
pub struct SecondStepPending {
    /// Who.
    pub subject: Subject,
    /// What the second step still asks of this session:
    /// [`ProblemCode::MfaRequired`] (verify with a factor) or
    /// [`ProblemCode::EnrollmentRequired`] (set one up first); `None` once
    /// the session passes the gate (send the person on to `next`).
    pub pending: Option<ProblemCode>,
}

/// The subject, if this session passed the gate ([`Verified`]) and
/// verified a second factor recently enough for a sensitive change (the
/// service's step-up window). Refuses as [`Verified`] does, then with 403
/// `step_up_required`.
#[derive(Debug, Clone)]
pub struct SteppedUp {
    /// Who.
    pub subject: Subject,
}

/// The subject, if this session passed the gate ([`Verified`]), they have
/// the administrator role and the session passed the second step itself
/// (the rule of the administrator endpoints,
/// [`Api::check_admin`](mfa_core::http::Api::check_admin)): for the
/// application's own administration pages. Refuses as [`Verified`] does,
/// then with 403 `not_admin`, 401 `mfa_required` or 403
/// `enrollment_required`.
#[derive(Debug, Clone)]
pub struct Admin {
    /// Who.
    pub subject: Subject,
}

/// The gate's answer for an extractor.
struct Gated {
    handle: MfaHandle,
    subject: Option<Subject>,
    /// The session value as the gate left it.
    session: MfaSession,
    outcome: Result<Option<Timestamp>, ApiResponse>,
}

async fn gated(request: HttpRequest) -> Result<Gated, MfaError> {
    let handle = MfaHandle::of(&request)?;
    let session = convert::session(&request)?;
    let subject = convert::subject(&request);
    let cookies = convert::cookies(&request);
    let stored = convert::read(&session);
    let outcome = handle
        .gate(GateRequest {
            subject: subject.as_ref(),
            session: &stored,
            html: false,
            path_and_query: request.path(),
            cookies: cookies.as_deref(),
        })
        .await;
    let (update, outcome) = match outcome {
        GateOutcome::Pass { session, enroll_by } => (session, Ok(enroll_by)),
        GateOutcome::Refuse(mut response) => (
            core::mem::replace(&mut response.session, SessionUpdate::Keep),
            Err(response),
        ),
    };
    convert::apply(&session, &update)?;
    let session = match update {
        SessionUpdate::Replace { session, .. } => session,
        SessionUpdate::Keep => stored,
    };
    Ok(Gated {
        handle,
        subject,
        session,
        outcome,
    })
}

fn not_authenticated() -> MfaError {
    MfaError::problem(&Problem::new(ProblemCode::NotAuthenticated))
}

async fn verified(request: HttpRequest) -> Result<(Gated, Verified), MfaError> {
    let gated = gated(request).await?;
    let enroll_by = gated.outcome.clone().map_err(MfaError::from_response)?;
    let subject = gated.subject.clone().ok_or_else(not_authenticated)?;
    Ok((gated, Verified { subject, enroll_by }))
}

impl FromRequest for Verified {
    type Error = MfaError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move { Ok(verified(request).await?.1) })
    }
}

impl FromRequest for SteppedUp {
    type Error = MfaError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let (gated, Verified { subject, .. }) = verified(request).await?;
            gated
                .handle
                .check_step_up(&subject, &gated.session)
                .map_err(|problem| MfaError::problem(&problem))?;
            Ok(Self { subject })
        })
    }
}

impl FromRequest for Admin {
    type Error = MfaError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let (gated, Verified { subject, .. }) = verified(request).await?;
            gated
                .handle
                .check_admin(&subject, &gated.session)
                .await
                .map_err(|problem| MfaError::problem(&problem))?;
            Ok(Self { subject })
        })
    }
}

impl FromRequest for SecondStepPending {
    type Error = MfaError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let gated = gated(request).await?;
            let subject = gated.subject.ok_or_else(not_authenticated)?;
            let pending = match gated.outcome {
                Ok(_) => None,
                Err(response) => {
                    // The gate's refusal is one of the core's problems; only
                    // the two that mean "the second step is due" let through.
                    let code = serde_json::from_slice::<Problem>(&response.body)
                        .ok()
                        .map(|p| p.code);
                    match code {
                        Some(
                            code @ (ProblemCode::MfaRequired | ProblemCode::EnrollmentRequired),
                        ) => Some(code),
                        _ => return Err(MfaError::from_response(response)),
                    }
                }
            };
            Ok(Self { subject, pending })
        })
    }
}
