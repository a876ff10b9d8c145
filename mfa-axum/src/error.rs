//! What can go wrong in the adapter itself (the core's refusals are
//! [`Rejection`]s), and how both become problem+json responses.

use axum::response::{IntoResponse, Response};
use mfa_core::http::{ApiResponse, Problem, ProblemCode, UNAVAILABLE_RETRY_SECS};

use crate::convert::into_response;

/// A fault of the application's setup or of the session store: never
/// caused by what a client sent. Answered as a problem (500 for a
/// missing layer, 503 for the session store) and logged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No tower-sessions [`Session`](tower_sessions::Session) in the
    /// request's extensions.
    #[error(
        "no tower-sessions Session in the request: add tower_sessions::SessionManagerLayer \
         in front of the MFA routes, MfaLayer and the MFA extractors"
    )]
    MissingSessionLayer,
    /// No [`MfaLayer`](crate::MfaLayer) in front of a route that uses an
    /// extractor.
    #[error(
        "no MFA context in the request: add mfa_axum::MfaLayer (or MfaLayer::ungated) \
         in front of routes that use the MFA extractors"
    )]
    MissingMfaLayer,
    /// [`MfaHandle`](crate::MfaHandle) names another `Api` type than the
    /// one the layer holds.
    #[error("MfaHandle names another Api type than the one given to MfaLayer")]
    HandleType,
    /// The session store failed (loading, cycling the id or writing).
    #[error("the session store failed")]
    Session(#[source] tower_sessions::session::Error),
}

impl Error {
    /// The problem sent for this error: `internal` with the error's text
    /// (it names the missing layer; no secret), or `unavailable` with
    /// `Retry-After` for the session store.
    #[must_use]
    pub fn problem(&self) -> Problem {
        match self {
            Self::Session(_) => Problem {
                retry_after: Some(UNAVAILABLE_RETRY_SECS),
                ..Problem::new(ProblemCode::Unavailable)
            },
            _ => Problem::new(ProblemCode::Internal).detail(self.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        Rejection::from(self).into_response()
    }
}

/// Why a request was refused by an extractor: a problem+json answer from
/// the core (`mfa_required`, `step_up_required`, …) or from an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection(ApiResponse);

impl Rejection {
    /// The answer: status, headers and problem body.
    #[must_use]
    pub fn response(&self) -> &ApiResponse {
        &self.0
    }

    pub(crate) fn new(response: ApiResponse) -> Self {
        Self(response)
    }
}

impl From<Error> for Rejection {
    fn from(error: Error) -> Self {
        match &error {
            Error::Session(source) => {
                tracing::warn!(error = %error, source = %source, "mfa-axum: session store failed");
            }
            _ => tracing::error!(error = %error, "mfa-axum: misconfigured application"),
        }
        Self(ApiResponse::problem(&error.problem()))
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        into_response(self.0)
    }
}
