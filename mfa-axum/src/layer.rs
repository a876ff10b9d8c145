//! [`MfaLayer`] and its service [`MfaGate`]: the gate in front of the
//! application's own routes.

use core::task::{Context as TaskContext, Poll};
use std::sync::Arc;

use axum::http::{HeaderValue, Request};
use axum::response::{IntoResponse, Response};
use mfa_core::http::{Api, Directory, ENROLL_BY_HEADER};
use mfa_core::{Clock, Notifier, Store, Subject};
use tower_layer::Layer;
use tower_service::Service;

use crate::convert::{BoxFuture, Context, GatePassed, check};

/// A tower [`Layer`] that puts the MFA gate ([`Api::gate`]) in front of
/// the routes it wraps, and the `Api` in request extensions for the
/// extractors ([`Verified`](crate::Verified), …).
///
/// It reads the [`Subject`] the application's first-factor middleware put
/// into the request's extensions and the tower-sessions
/// [`Session`](tower_sessions::Session), so it must run after both (in
/// axum, `.layer(MfaLayer::new(..))` before the layers that add them).
/// A request the gate refuses gets the core's answer: a problem+json
/// (`not_authenticated`, `mfa_required`, `enrollment_required`, …) or,
/// for a browser (`Accept: text/html`), a redirect to the application's
/// verify or enroll page with `next`. A request it lets through reaches
/// the route, and its response gets the `mfa-enroll-by` header while an
/// enrollment deadline runs. Without the session layer every request is
/// answered 500 (and logged), never let through.
#[derive(Debug, Clone)]
pub struct MfaLayer {
    context: Context,
    gate: bool,
}

impl MfaLayer {
    /// The gate over `api`.
    pub fn new<S: Store, N: Notifier, C: Clock, D: Directory>(api: Arc<Api<S, N, C, D>>) -> Self {
        Self {
            context: Context::new(api),
            gate: true,
        }
    }

    /// No gate: only the `Api` in request extensions, for routes that use
    /// the extractors but must stay open to sessions the gate refuses
    /// (the application's own verify page, with
    /// [`SecondStepPending`](crate::SecondStepPending)).
    pub fn ungated<S: Store, N: Notifier, C: Clock, D: Directory>(
        api: Arc<Api<S, N, C, D>>,
    ) -> Self {
        Self {
            gate: false,
            ..Self::new(api)
        }
    }
}

impl<I> Layer<I> for MfaLayer {
    type Service = MfaGate<I>;

    fn layer(&self, inner: I) -> MfaGate<I> {
        MfaGate {
            inner,
            context: self.context.clone(),
            gate: self.gate,
        }
    }
}

/// The [`Service`] of [`MfaLayer`].
#[derive(Debug, Clone)]
pub struct MfaGate<I> {
    inner: I,
    context: Context,
    gate: bool,
}

impl<I, B> Service<Request<B>> for MfaGate<I>
where
    I: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    I::Future: Send,
    B: Send + 'static,
{
    type Response = Response;
    type Error = I::Error;
    type Future = BoxFuture<'static, Result<Response, I::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), I::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request.
        let clone = self.inner.clone();
        let mut inner = core::mem::replace(&mut self.inner, clone);
        let context = self.context.clone();
        let gate = self.gate;
        Box::pin(async move {
            request.extensions_mut().insert(context.clone());
            if !gate {
                return inner.call(request).await;
            }
            let checked = check(
                &context,
                None,
                request.extensions(),
                request.headers(),
                request.uri(),
            )
            .await;
            let enroll_by = match checked {
                Ok(enroll_by) => enroll_by,
                Err(rejection) => return Ok(rejection.into_response()),
            };
            if let Some(subject) = request.extensions().get::<Subject>().cloned() {
                request.extensions_mut().insert(GatePassed(subject));
            }
            let mut response = inner.call(request).await?;
            if let Some(deadline) = enroll_by {
                response
                    .headers_mut()
                    .insert(ENROLL_BY_HEADER, HeaderValue::from(deadline.unix()));
            }
            Ok(response)
        })
    }
}
