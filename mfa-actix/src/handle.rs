//! [`MfaHandle`]: the [`Api`] in the application's data, behind a small
//! non-generic handle that the gate, the endpoints and the extractors
//! find.

use core::any::Any;
use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use mfa_core::http::{
    Api, ApiRequest, ApiResponse, Directory, GateOutcome, GateRequest, HttpConfig, MfaSession,
    Problem, ProblemCode,
};
use mfa_core::{Clock, Notifier, Store, Subject};

use crate::convert::MfaError;

/// A future the handle returns (not `Send`: actix runs each request on
/// one thread).
type Local<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// The calls the adapter makes, with the [`Api`]'s type parameters
/// erased so that the middleware, `configure` and the extractors need
/// none.
trait Endpoints: Send + Sync + 'static {
    fn handle<'a>(&'a self, request: ApiRequest<'a>) -> Local<'a, ApiResponse>;
    fn gate<'a>(&'a self, request: GateRequest<'a>) -> Local<'a, GateOutcome>;
    fn check_step_up(&self, subject: &Subject, session: &MfaSession) -> Result<(), Problem>;
    fn check_admin<'a>(
        &'a self,
        subject: &'a Subject,
        session: &'a MfaSession,
    ) -> Local<'a, Result<(), Problem>>;
    fn config(&self) -> &HttpConfig;
    fn as_any(&self) -> &dyn Any;
}

impl<S: Store, N: Notifier, C: Clock, D: Directory> Endpoints for Api<S, N, C, D> {
    fn handle<'a>(&'a self, request: ApiRequest<'a>) -> Local<'a, ApiResponse> {
        Box::pin(Api::handle(self, request))
    }

    fn gate<'a>(&'a self, request: GateRequest<'a>) -> Local<'a, GateOutcome> {
        Box::pin(Api::gate(self, request))
    }

    fn check_step_up(&self, subject: &Subject, session: &MfaSession) -> Result<(), Problem> {
        Api::check_step_up(self, subject, session)
    }

    fn check_admin<'a>(
        &'a self,
        subject: &'a Subject,
        session: &'a MfaSession,
    ) -> Local<'a, Result<(), Problem>> {
        Box::pin(Api::check_admin(self, subject, session))
    }

    fn config(&self) -> &HttpConfig {
        Api::config(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The [`Api`] as the application's data: register it once with
/// [`App::app_data`](actix_web::App::app_data), and the gate
/// ([`MfaGate`](crate::MfaGate)), the endpoints ([`configure`](crate::configure))
/// and the extractors find it. Cheap to clone (one [`Arc`]).
///
/// As an extractor it gives handlers the same [`Api`], typed again with
/// [`api`](Self::api), to call the service themselves. It fails with a
/// 500 problem naming the missing registration if the application has
/// none.
#[derive(Clone)]
pub struct MfaHandle {
    api: Arc<dyn Endpoints>,
}

impl core::fmt::Debug for MfaHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MfaHandle")
            .field("config", self.api.config())
            .finish()
    }
}

impl MfaHandle {
    /// Wraps `api`.
    pub fn new<S: Store, N: Notifier, C: Clock, D: Directory>(api: Api<S, N, C, D>) -> Self {
        Self { api: Arc::new(api) }
    }

    /// The HTTP configuration.
    #[must_use]
    pub fn config(&self) -> &HttpConfig {
        self.api.config()
    }

    /// The [`Api`], if it has these type parameters.
    #[must_use]
    pub fn api<S: Store, N: Notifier, C: Clock, D: Directory>(&self) -> Option<&Api<S, N, C, D>> {
        self.api.as_any().downcast_ref()
    }

    pub(crate) async fn handle(&self, request: ApiRequest<'_>) -> ApiResponse {
        self.api.handle(request).await
    }

    pub(crate) async fn gate(&self, request: GateRequest<'_>) -> GateOutcome {
        self.api.gate(request).await
    }

    pub(crate) fn check_step_up(
        &self,
        subject: &Subject,
        session: &MfaSession,
    ) -> Result<(), Problem> {
        self.api.check_step_up(subject, session)
    }

    pub(crate) async fn check_admin(
        &self,
        subject: &Subject,
        session: &MfaSession,
    ) -> Result<(), Problem> {
        self.api.check_admin(subject, session).await
    }

    /// The handle registered with the application, or the 500 problem
    /// that says how to register it.
    pub(crate) fn of(request: &HttpRequest) -> Result<Self, MfaError> {
        request.app_data::<Self>().cloned().ok_or_else(|| {
            MfaError::problem(&Problem::new(ProblemCode::Internal).detail(
                "mfa-actix: no MfaHandle in the application data; register it with \
                 App::app_data(MfaHandle::new(api))",
            ))
        })
    }
}

impl FromRequest for MfaHandle {
    type Error = MfaError;
    type Future = core::future::Ready<Result<Self, MfaError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        core::future::ready(Self::of(request))
    }
}
