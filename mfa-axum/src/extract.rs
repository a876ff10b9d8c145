//! Extractors for the application's handlers. Each asks the core
//! ([`Api::require`]) and applies the session change it returns; a
//! refusal is the core's problem+json ([`Rejection`]).

use core::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use mfa_core::Subject;
use mfa_core::http::{Api, Need, NoDirectory, Problem, ProblemCode};

use crate::convert::{Context, GatePassed, check};
use crate::error::{Error, Rejection};

/// The subject, if this session passed the second step or needs none
/// ([`Need::Verified`], what the gate asks). Behind [`MfaLayer`](crate::MfaLayer)'s
/// gate it costs nothing more. Refused: `not_authenticated`,
/// `mfa_required`, `enrollment_required`.
#[derive(Debug, Clone)]
pub struct Verified(pub Subject);

/// The subject, only while the second step is pending: they have a factor
/// and this session has not used it ([`Need::SecondStepPending`]), as on
/// the application's verify page (put it behind
/// [`MfaLayer::ungated`](crate::MfaLayer::ungated): the gate would refuse
/// such a session). Refused: `not_authenticated`, `enrollment_required`,
/// `precondition` (already verified, or no second step needed).
#[derive(Debug, Clone)]
pub struct SecondStepPending(pub Subject);

/// The subject, if the gate passes and this session verified a second
/// factor within the step-up window ([`Need::SteppedUp`]): for the
/// application's own sensitive actions. Refused as [`Verified`], then 403
/// `step_up_required` (verify again with `POST /verify`).
#[derive(Debug, Clone)]
pub struct SteppedUp(pub Subject);

/// The subject, if the gate passes, they have the administrator role
/// ([`HttpConfig::admin_role`](mfa_core::http::HttpConfig::admin_role)) and
/// this session passed the second step itself ([`Need::Admin`]): the rule
/// of the administrator endpoints, for the application's own
/// administration pages. Refused as [`Verified`], then 403 `not_admin`,
/// 401 `mfa_required` (a remembered browser is not enough) or 403
/// `enrollment_required`.
#[derive(Debug, Clone)]
pub struct Admin(pub Subject);

/// Checks `need` for the request and returns its subject.
async fn subject(parts: &Parts, need: Need) -> Result<Subject, Rejection> {
    let context = parts
        .extensions
        .get::<Context>()
        .ok_or(Error::MissingMfaLayer)?;
    check(
        context,
        Some(need),
        &parts.extensions,
        &parts.headers,
        &parts.uri,
    )
    .await?;
    // The core passes no request without a subject.
    parts.extensions.get::<Subject>().cloned().ok_or_else(|| {
        Rejection::new(mfa_core::http::ApiResponse::problem(&Problem::new(
            ProblemCode::NotAuthenticated,
        )))
    })
}

impl<St: Send + Sync> FromRequestParts<St> for Verified {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Rejection> {
        if let Some(GatePassed(subject)) = parts.extensions.get::<GatePassed>() {
            return Ok(Self(subject.clone()));
        }
        subject(parts, Need::Verified).await.map(Self)
    }
}

impl<St: Send + Sync> FromRequestParts<St> for SecondStepPending {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Rejection> {
        subject(parts, Need::SecondStepPending).await.map(Self)
    }
}

impl<St: Send + Sync> FromRequestParts<St> for SteppedUp {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Rejection> {
        subject(parts, Need::SteppedUp).await.map(Self)
    }
}

impl<St: Send + Sync> FromRequestParts<St> for Admin {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Rejection> {
        subject(parts, Need::Admin).await.map(Self)
    }
}

/// The [`Api`] given to [`MfaLayer`](crate::MfaLayer), for custom handlers
/// (it dereferences to it; [`Api::mfa`] is the service). The type
/// parameters must be the layer's: name them once in a type alias.
pub struct MfaHandle<S, N, C, D = NoDirectory>(pub Arc<Api<S, N, C, D>>);

impl<S, N, C, D> Clone for MfaHandle<S, N, C, D> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S, N, C, D> core::fmt::Debug for MfaHandle<S, N, C, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("MfaHandle").field(&self.0).finish()
    }
}

impl<S, N, C, D> Deref for MfaHandle<S, N, C, D> {
    type Target = Api<S, N, C, D>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<St, S, N, C, D> FromRequestParts<St> for MfaHandle<S, N, C, D>
where
    St: Send + Sync,
    S: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
    D: Send + Sync + 'static,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Rejection> {
        let context = parts
            .extensions
            .get::<Context>()
            .ok_or(Error::MissingMfaLayer)?;
        let api = Arc::clone(&context.api)
            .downcast::<Api<S, N, C, D>>()
            .map_err(|_| Error::HandleType)?;
        Ok(Self(api))
    }
}
