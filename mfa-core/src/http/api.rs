//! [`Api`]: the endpoints and the gate, framework-neutral. An adapter
//! turns its framework's request into an [`ApiRequest`] or a
//! [`GateRequest`], calls [`Api::handle`] or [`Api::gate`], and turns the
//! answer back: every security decision is made here, once.

use core::fmt::Write as _;
use core::future::Future;
use core::time::Duration;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::bodies::{
    AuditResponse, ConfirmChannelRequest, ConfirmTotpRequest, DevicesResponse, EnrolledResponse,
    EnrollmentResponse, FactorsResponse, RecoveryCodesResponse, RenameRequest, SentResponse,
    StatusResponse, Tolerance, VerifiedResponse, VerifyMethod, VerifyRequest,
};
use super::cookie::DeviceCookie;
use super::guard::{RequestFacts, check_body, check_same_site};
use super::next::safe_next;
use super::problem::{PROBLEM_JSON, Problem, ProblemCode};
use super::routes::{self, Access, Endpoint, Lookup};
use super::session::MfaSession;
use crate::audit::AuditQuery;
use crate::clock::{Clock, Timestamp};
use crate::error::{Error, Result};
use crate::notify::Notifier;
use crate::policy::{Decision, Policy};
use crate::service::{Attempt, Confirmation, DriftTolerance, Mfa, SendOutcome, Verification};
use crate::store::Store;
use crate::subject::{Channel, CredentialId, Role, Subject, SubjectId};

/// How the HTTP layer behaves; the same for both adapters.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where the endpoints are mounted: `/mfa` (documentation only; the
    /// adapter mounts them there).
    pub prefix: String,
    /// The application's page for the second step (`/verify` unless
    /// set; the application serves it, e.g. with a form that posts to
    /// `POST /mfa/verify`); browsers that need it are redirected there
    /// with `next=` (a local path) added to its query.
    pub verify_page: String,
    /// The application's page for setting up a factor (`/enroll` unless
    /// set; the application serves it).
    pub enroll_page: String,
    /// Subjects with this role may use the administrator endpoints
    /// (`admin`).
    pub admin_role: Role,
    /// A verified session passes the gate without a store round trip for
    /// this long, then is checked again: 60 s.
    pub revalidate: Duration,
    /// The remember-device cookie.
    pub device_cookie: DeviceCookie,
    /// Origins besides the request's own host allowed to send
    /// state-changing requests (`https://desk.example`).
    pub allowed_origins: Vec<String>,
    /// Largest request body, in bytes: 16 KiB.
    pub max_body: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            prefix: "/mfa".to_owned(),
            verify_page: "/verify".to_owned(),
            enroll_page: "/enroll".to_owned(),
            admin_role: Role::new("admin").unwrap_or(Role::AGENT),
            revalidate: Duration::from_secs(60),
            device_cookie: DeviceCookie::default(),
            allowed_origins: Vec::new(),
            max_body: 16 * 1024,
        }
    }
}

/// Where the administrator endpoints find the people they act on: the
/// host application's user directory.
pub trait Directory: Send + Sync + 'static {
    /// The subject with this id, if there is one.
    fn subject(&self, id: &SubjectId) -> impl Future<Output = Result<Option<Subject>>> + Send;

    /// Everyone a policy applies to (for the dry run).
    fn subjects(&self) -> impl Future<Output = Result<Vec<Subject>>> + Send;
}

/// No directory: resetting another subject answers `not_found`, and the
/// dry run counts nobody.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDirectory;

impl Directory for NoDirectory {
    async fn subject(&self, _id: &SubjectId) -> Result<Option<Subject>> {
        Ok(None)
    }

    async fn subjects(&self) -> Result<Vec<Subject>> {
        Ok(Vec::new())
    }
}

/// A request to one of the endpoints, as the adapter saw it.
#[derive(Debug, Clone, Copy)]
pub struct ApiRequest<'a> {
    /// Method and headers.
    pub facts: RequestFacts<'a>,
    /// The path under the prefix (`/verify`), without the query string.
    pub path: &'a str,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// The body (the adapter stops reading past [`HttpConfig::max_body`]).
    pub body: &'a [u8],
    /// The subject the host application authenticated, if any.
    pub subject: Option<&'a Subject>,
    /// What the framework session holds under
    /// [`SESSION_KEY`](super::SESSION_KEY) (default when nothing).
    pub session: &'a MfaSession,
    /// The `Cookie` header (the remember-device cookie is read from it).
    pub cookies: Option<&'a str>,
    /// The `User-Agent` header (names a remembered browser).
    pub user_agent: Option<&'a str>,
}

/// What to do with the framework session after a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionUpdate {
    /// Leave it as it is.
    Keep,
    /// Store `session` under [`SESSION_KEY`](super::SESSION_KEY); with
    /// `renew_id`, give the session a new id first (the state was raised:
    /// a session id an attacker planted before is dead from now on).
    Replace {
        /// The new value.
        session: MfaSession,
        /// Cycle the session id.
        renew_id: bool,
    },
}

/// An answer to send: status, headers, body, and the session change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers to set (`Content-Type`, `Retry-After`, `Set-Cookie`,
    /// `Location`, `Cache-Control`).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// What to do with the session.
    pub session: SessionUpdate,
}

impl ApiResponse {
    /// A JSON response.
    fn json<T: Serialize>(status: u16, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(body) => Self {
                status,
                headers: vec![("content-type", "application/json".to_owned())],
                body,
                session: SessionUpdate::Keep,
            },
            Err(_) => Self::problem(&Problem::new(ProblemCode::Internal)),
        }
    }

    /// No content.
    fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            session: SessionUpdate::Keep,
        }
    }

    /// A problem response (with `Retry-After` when the problem has one).
    #[must_use]
    pub fn problem(problem: &Problem) -> Self {
        let mut headers = vec![("content-type", PROBLEM_JSON.to_owned())];
        if let Some(secs) = problem.retry_after {
            headers.push(("retry-after", secs.to_string()));
        }
        // A 401 names how to authenticate (RFC 9110 §11.6.1): with the
        // second factor, through these endpoints.
        if problem.status == 401 {
            headers.push((
                "www-authenticate",
                format!("MFA error=\"{}\"", problem.code.as_str()),
            ));
        }
        Self {
            status: problem.status,
            headers,
            body: problem.to_json(),
            session: SessionUpdate::Keep,
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Secrets or one-time codes in the body: never cached.
    fn no_store(self) -> Self {
        self.header("cache-control", "no-store")
    }

    fn session(mut self, session: SessionUpdate) -> Self {
        self.session = session;
        self
    }
}

/// The gate's view of a request to one of the application's own routes.
#[derive(Debug, Clone, Copy)]
pub struct GateRequest<'a> {
    /// The subject the host application authenticated, if any.
    pub subject: Option<&'a Subject>,
    /// The framework session's MFA value (default when nothing).
    pub session: &'a MfaSession,
    /// The client prefers HTML (see [`wants_html`]): refusals become
    /// redirects to the application's pages.
    pub html: bool,
    /// Path and query of the request, for `next`.
    pub path_and_query: &'a str,
    /// The `Cookie` header.
    pub cookies: Option<&'a str>,
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateOutcome {
    /// Let the request through, after applying `session`.
    Pass {
        /// What to do with the session.
        session: SessionUpdate,
        /// Enrollment is required by this deadline: adapters send it as
        /// the `MFA-Enroll-By` header (Unix seconds).
        enroll_by: Option<Timestamp>,
    },
    /// Answer with this instead (a problem, or a redirect for browsers).
    Refuse(ApiResponse),
}

/// What an adapter's extractor asks of a session (see [`Api::require`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Need {
    /// What the gate asks: the session passed the second step, or the
    /// subject needs none now.
    Verified,
    /// The first factor only: the subject has a factor this session has
    /// not used yet (a page that asks for the code).
    SecondStepPending,
    /// The gate passes and the session verified a second factor within
    /// the step-up window ([`MfaConfig::step_up`](crate::MfaConfig::step_up)):
    /// a sensitive action of the application's own.
    SteppedUp,
    /// The gate passes, the subject has the administrator role and the
    /// session passed the second step itself ([`Api::check_admin`]): the
    /// application's own administration pages.
    Admin,
}

/// The header the gate adds when enrollment is due by a deadline.
pub const ENROLL_BY_HEADER: &str = "mfa-enroll-by";

/// Whether an `Accept` header prefers HTML (a browser navigating) over
/// JSON.
#[must_use]
pub fn wants_html(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|part| {
            part.split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/html"))
        })
    })
}

/// The endpoints and the gate over one [`Mfa`].
pub struct Api<S, N, C, D = NoDirectory> {
    mfa: Arc<Mfa<S, N, C>>,
    config: HttpConfig,
    directory: D,
}

impl<S, N, C, D> core::fmt::Debug for Api<S, N, C, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Api")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Current {
    /// The session change the checks call for: none, or the checked
    /// session (with a new id if a remembered browser raised it).
    fn update(&self) -> SessionUpdate {
        if self.changed {
            SessionUpdate::Replace {
                session: self.session.clone(),
                renew_id: self.raised,
            }
        } else {
            SessionUpdate::Keep
        }
    }
}

/// A session's standing after the checks of [`Api::current`].
struct Current {
    session: MfaSession,
    changed: bool,
    /// A remembered browser raised the session just now: like a
    /// verification, its id must be cycled.
    raised: bool,
    decision: Decision,
}

impl<S: Store, N: Notifier, C: Clock> Api<S, N, C, NoDirectory> {
    /// The endpoints and gate over `mfa`, with no user directory.
    pub fn new(mfa: Arc<Mfa<S, N, C>>, config: HttpConfig) -> Self {
        Self {
            mfa,
            config,
            directory: NoDirectory,
        }
    }
}

impl<S: Store, N: Notifier, C: Clock, D: Directory> Api<S, N, C, D> {
    /// The same, with the host application's user directory for the
    /// administrator endpoints.
    pub fn with_directory<D2: Directory>(self, directory: D2) -> Api<S, N, C, D2> {
        Api {
            mfa: self.mfa,
            config: self.config,
            directory,
        }
    }

    /// The service.
    pub fn mfa(&self) -> &Arc<Mfa<S, N, C>> {
        &self.mfa
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    fn now(&self) -> Timestamp {
        self.mfa.clock().now()
    }

    /// Where `session` stands for `subject` now. A session checked less
    /// than [`HttpConfig::revalidate`] ago costs no store round trip.
    /// Otherwise: a verification made before the subject's current
    /// factors existed (an administrator reset, MFA turned off, the last
    /// factor removed) no longer counts; the remember-device cookie is
    /// checked again; and the policy decides. A session the cookie raises
    /// is `raised`: the caller cycles its id, as after a verification.
    async fn current(
        &self,
        subject: &Subject,
        session: &MfaSession,
        cookies: Option<&str>,
    ) -> Result<Current> {
        let now = self.now();
        let mut session = session.clone().for_subject(&subject.id);
        if session.fresh(now, self.config.revalidate) {
            let decision = match session.enroll_by {
                Some(deadline) if deadline > now => Decision::EnrollBy {
                    deadline,
                    methods: crate::policy::MethodSet::default(),
                },
                _ => Decision::Allow,
            };
            return Ok(Current {
                session,
                changed: false,
                raised: false,
                decision,
            });
        }
        let before = session.clone();
        let token = cookies.and_then(|c| self.config.device_cookie.read(c));
        session.state.device_remembered = match token {
            Some(token) => self.mfa.check_device(subject, token).await?,
            None => false,
        };
        // A verified session: the status (which decides too) says whether
        // the factor it verified with is still there; decide again only if
        // the verification no longer counts.
        let decision = match session.state.verified_at {
            Some(verified_at) => {
                let status = self.mfa.status(subject, &session.state).await?;
                let still_there = status
                    .authenticators
                    .iter()
                    .map(|a| a.created_at)
                    .chain(status.channels.iter().map(|c| c.added_at))
                    .any(|added| added <= verified_at);
                if still_there {
                    status.decision
                } else {
                    session.state.verified_at = None;
                    self.mfa.decide(subject, &session.state).await?
                }
            }
            None => self.mfa.decide(subject, &session.state).await?,
        };
        session.checked_at = match decision {
            Decision::Allow | Decision::EnrollBy { .. } => Some(now),
            Decision::VerifyNow { .. } | Decision::EnrollNow { .. } => None,
        };
        session.enroll_by = match decision {
            Decision::EnrollBy { deadline, .. } => Some(deadline),
            _ => None,
        };
        Ok(Current {
            changed: session != before,
            raised: session.state.device_remembered && !before.state.device_remembered,
            session,
            decision,
        })
    }

    /// Where the session of a gate-like request stands, and the session
    /// change that follows; `Err` with the answer when there is no
    /// subject or the store fails.
    async fn standing(
        &self,
        request: &GateRequest<'_>,
    ) -> core::result::Result<(Current, SessionUpdate), ApiResponse> {
        let Some(subject) = request.subject else {
            return Err(ApiResponse::problem(&Problem::new(
                ProblemCode::NotAuthenticated,
            )));
        };
        let current = self
            .current(subject, request.session, request.cookies)
            .await
            .map_err(|error| ApiResponse::problem(&Problem::from(&error)))?;
        let update = current.update();
        Ok((current, update))
    }

    /// The gate in front of the application's own routes.
    pub async fn gate(&self, request: GateRequest<'_>) -> GateOutcome {
        let (current, session) = match self.standing(&request).await {
            Ok(standing) => standing,
            Err(refusal) => return GateOutcome::Refuse(refusal),
        };
        let refusal = match current.decision {
            Decision::Allow => {
                return GateOutcome::Pass {
                    session,
                    enroll_by: None,
                };
            }
            Decision::EnrollBy { deadline, .. } => {
                return GateOutcome::Pass {
                    session,
                    enroll_by: Some(deadline),
                };
            }
            Decision::VerifyNow { .. } => (ProblemCode::MfaRequired, &self.config.verify_page),
            Decision::EnrollNow { .. } => {
                (ProblemCode::EnrollmentRequired, &self.config.enroll_page)
            }
        };
        let response = if request.html {
            let next = safe_next(request.path_and_query);
            let location = with_next(refusal.1, next);
            ApiResponse::empty(303)
                .header("location", location)
                .header("cache-control", "no-store")
        } else {
            ApiResponse::problem(&Problem::new(refusal.0))
        };
        GateOutcome::Refuse(response.session(session))
    }

    /// Whether `session` is recent enough for a sensitive change by
    /// `subject`: it passed a second-factor check within the service's
    /// step-up window ([`MfaConfig::step_up`](crate::MfaConfig::step_up),
    /// 10 minutes). A session made for another subject never is. For an
    /// adapter's step-up extractor, after the gate let the request
    /// through (call it with the session as the gate left it).
    ///
    /// # Errors
    /// [`ProblemCode::StepUpRequired`].
    pub fn check_step_up(
        &self,
        subject: &Subject,
        session: &MfaSession,
    ) -> core::result::Result<(), Problem> {
        let session = session.clone().for_subject(&subject.id);
        self.mfa
            .require_step_up(&session.state)
            .map_err(|e| Problem::from(&e))
    }

    /// Whether `subject` may act as an administrator in `session`: they
    /// have [`HttpConfig::admin_role`] and this session passed the second
    /// step itself. The policy may let an administrator through the gate
    /// without one (no factor under an optional rule, or a remembered
    /// browser); the policy and other people's factors are never one
    /// password away. The rule of the administrator endpoints, for the
    /// application's own administration pages (after the gate let the
    /// request through; call it with the session as the gate left it).
    ///
    /// # Errors
    /// [`ProblemCode::NotAdmin`]; [`ProblemCode::MfaRequired`] when the
    /// session did not verify a factor the subject has;
    /// [`ProblemCode::EnrollmentRequired`] when they have none; a store
    /// failure's problem.
    pub async fn check_admin(
        &self,
        subject: &Subject,
        session: &MfaSession,
    ) -> core::result::Result<(), Problem> {
        if !subject.roles.contains(&self.config.admin_role) {
            return Err(ProblemCode::NotAdmin.into());
        }
        let session = session.clone().for_subject(&subject.id);
        if session.state.verified_at.is_some() {
            return Ok(());
        }
        let factors = self.mfa.factors(subject).await?;
        let enrolled = factors.authenticators > 0 || !factors.channels.is_empty();
        Err(if enrolled {
            ProblemCode::MfaRequired
        } else {
            ProblemCode::EnrollmentRequired
        }
        .into())
    }

    /// Whether the session of `request` meets `need`, for an adapter's
    /// extractors: [`GateOutcome::Pass`] with the session change to apply,
    /// or [`GateOutcome::Refuse`] with a problem (never a redirect:
    /// `request.html` is ignored) and the session change to apply all the
    /// same. Refusals: `not_authenticated` without a subject; for
    /// [`Need::Verified`], the gate's problems; for
    /// [`Need::SecondStepPending`], `enrollment_required` when the subject
    /// must enroll and `precondition` when the second step is not pending
    /// (passed, or not needed); for [`Need::SteppedUp`], the gate's
    /// problems, then `step_up_required`; for [`Need::Admin`], the gate's
    /// problems, then those of [`Api::check_admin`].
    pub async fn require(&self, need: Need, request: GateRequest<'_>) -> GateOutcome {
        let request = GateRequest {
            html: false,
            ..request
        };
        match need {
            Need::Verified => self.gate(request).await,
            Need::SteppedUp | Need::Admin => match self.gate(request).await {
                GateOutcome::Pass { session, enroll_by } => {
                    // The session as the gate left it (or read it).
                    let current = match &session {
                        SessionUpdate::Replace { session, .. } => session.clone(),
                        SessionUpdate::Keep => request.session.clone(),
                    };
                    let Some(subject) = request.subject else {
                        let problem = Problem::new(ProblemCode::NotAuthenticated);
                        return GateOutcome::Refuse(ApiResponse::problem(&problem));
                    };
                    let checked = if need == Need::Admin {
                        self.check_admin(subject, &current).await
                    } else {
                        self.check_step_up(subject, &current)
                    };
                    match checked {
                        Ok(()) => GateOutcome::Pass { session, enroll_by },
                        Err(problem) => {
                            GateOutcome::Refuse(ApiResponse::problem(&problem).session(session))
                        }
                    }
                }
                refused @ GateOutcome::Refuse(_) => refused,
            },
            Need::SecondStepPending => {
                let (current, session) = match self.standing(&request).await {
                    Ok(standing) => standing,
                    Err(refusal) => return GateOutcome::Refuse(refusal),
                };
                let problem = match current.decision {
                    Decision::VerifyNow { .. } => {
                        return GateOutcome::Pass {
                            session,
                            enroll_by: None,
                        };
                    }
                    Decision::EnrollNow { .. } => Problem::new(ProblemCode::EnrollmentRequired),
                    Decision::Allow | Decision::EnrollBy { .. } => Problem::new(
                        ProblemCode::Precondition,
                    )
                    .detail("the second step is not pending: this session passed it or needs none"),
                };
                GateOutcome::Refuse(ApiResponse::problem(&problem).session(session))
            }
        }
    }

    /// One request to the endpoints.
    pub async fn handle(&self, request: ApiRequest<'_>) -> ApiResponse {
        match self.route(request).await {
            Ok(response) => response,
            Err(problem) => ApiResponse::problem(&problem),
        }
    }

    async fn route(&self, request: ApiRequest<'_>) -> core::result::Result<ApiResponse, Problem> {
        let matched = match routes::lookup(request.facts.method, request.path) {
            Lookup::Found(matched) => matched,
            Lookup::WrongMethod => {
                let allow = routes::methods(request.path).join(", ");
                return Ok(
                    ApiResponse::problem(&Problem::new(ProblemCode::MethodNotAllowed))
                        .header("allow", allow),
                );
            }
            Lookup::Missing => {
                return Err(Problem::new(ProblemCode::NotFound).detail("no such endpoint"));
            }
        };
        let facts = RequestFacts {
            content_length: Some(request.body.len() as u64).max(request.facts.content_length),
            ..request.facts
        };
        check_body(&facts, self.config.max_body)?;
        check_same_site(&facts, &self.config.allowed_origins)?;
        let route = matched.route;
        if route.access == Access::Public {
            return Ok(ApiResponse::json(
                200,
                &super::openapi::document(&self.config.prefix),
            ));
        }
        let subject = request
            .subject
            .ok_or_else(|| Problem::new(ProblemCode::NotAuthenticated))?;
        // The sign-in path (sending and checking a code, confirming an
        // enrollment) takes the session as it is: no store round trip
        // before the service's own. Everything else checks where the
        // session stands first (a verification older than the subject's
        // factors, say after an administrator reset, no longer counts).
        let on_sign_in_path = matches!(
            route.endpoint,
            Endpoint::Verify
                | Endpoint::SendCode
                | Endpoint::ConfirmTotp
                | Endpoint::ConfirmChannel
        );
        let mut current = if on_sign_in_path {
            Current {
                session: request.session.clone().for_subject(&subject.id),
                changed: false,
                raised: false,
                decision: Decision::Allow,
            }
        } else {
            self.current(subject, request.session, request.cookies)
                .await
                .map_err(|e| Problem::from(&e))?
        };
        if matches!(route.access, Access::Verified | Access::Admin) {
            match current.decision {
                Decision::Allow | Decision::EnrollBy { .. } => {}
                Decision::VerifyNow { .. } => return Err(ProblemCode::MfaRequired.into()),
                Decision::EnrollNow { .. } => return Err(ProblemCode::EnrollmentRequired.into()),
            }
        }
        if route.access == Access::Admin {
            self.check_admin(subject, &current.session).await?;
        }
        let call = Call {
            subject,
            session: &mut current.session,
            param: matched.param,
            request,
        };
        let response = self.dispatch(route.endpoint, call).await?;
        // Keep what the checks above learned about the session, unless the
        // endpoint replaced it.
        Ok(match response.session {
            SessionUpdate::Keep => {
                let update = current.update();
                response.session(update)
            }
            SessionUpdate::Replace { .. } => response,
        })
    }

    #[allow(clippy::too_many_lines)]
    async fn dispatch(
        &self,
        endpoint: Endpoint,
        call: Call<'_, '_>,
    ) -> core::result::Result<ApiResponse, Problem> {
        let mfa = &self.mfa;
        let Call {
            subject,
            session,
            param,
            request,
        } = call;
        let state = session.state;
        Ok(match endpoint {
            Endpoint::Status => {
                let status = mfa.status(subject, &state).await?;
                ApiResponse::json(
                    200,
                    &StatusResponse {
                        status,
                        verified: state.verified_at.is_some(),
                        verified_at: state.verified_at,
                        device_remembered: state.device_remembered,
                    },
                )
            }
            Endpoint::StartTotp => {
                let enrollment = mfa.start_totp_enrollment(subject, &state).await?;
                ApiResponse::json(
                    201,
                    &EnrollmentResponse {
                        id: enrollment.id.to_string(),
                        key: enrollment.key.to_string(),
                        uri: enrollment.uri.to_string(),
                        qr_svg: enrollment.qr_svg.to_string(),
                        algorithm: enrollment.config.algorithm().as_str().to_owned(),
                        digits: enrollment.config.digits().get(),
                        period: enrollment.config.period(),
                        expires_at: enrollment.expires_at,
                    },
                )
                .no_store()
            }
            Endpoint::ConfirmTotp => {
                let body: ConfirmTotpRequest = parse(request.body)?;
                let id = CredentialId::new(body.id)?;
                let tolerance = match body.tolerance {
                    Tolerance::Standard => DriftTolerance::Standard,
                    Tolerance::Wide => DriftTolerance::Wide,
                };
                let confirmation = mfa
                    .confirm_totp_enrollment(subject, &id, &body.code, &body.name, tolerance)
                    .await?;
                self.confirmed(confirmation, subject, session)
            }
            Endpoint::StartChannel => {
                let channel = channel(param)?;
                let outcome = mfa
                    .start_channel_enrollment(subject, channel, &state)
                    .await?;
                self.sent(outcome)
            }
            Endpoint::ConfirmChannel => {
                let channel = channel(param)?;
                let body: ConfirmChannelRequest = parse(request.body)?;
                let confirmation = mfa
                    .confirm_channel_enrollment(subject, channel, &body.code)
                    .await?;
                self.confirmed(confirmation, subject, session)
            }
            Endpoint::SendCode => {
                let outcome = mfa.send_code(subject, channel(param)?).await?;
                self.sent(outcome)
            }
            Endpoint::Verify => {
                let body: VerifyRequest = parse(request.body)?;
                self.verify(subject, session, &body, request.user_agent)
                    .await?
            }
            Endpoint::RegenerateRecoveryCodes => {
                let codes = mfa.regenerate_recovery_codes(subject, &state).await?;
                ApiResponse::json(
                    200,
                    &RecoveryCodesResponse {
                        codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
                    },
                )
                .no_store()
            }
            Endpoint::ListFactors => {
                let status = mfa.status(subject, &state).await?;
                ApiResponse::json(
                    200,
                    &FactorsResponse {
                        authenticators: status.authenticators,
                        channels: status.channels,
                    },
                )
            }
            Endpoint::RenameAuthenticator => {
                let id = CredentialId::new(param.unwrap_or_default())?;
                let body: RenameRequest = parse(request.body)?;
                let renamed = mfa.rename_authenticator(subject, &id, &body.name).await?;
                ApiResponse::json(200, &renamed)
            }
            Endpoint::RemoveAuthenticator => {
                let id = CredentialId::new(param.unwrap_or_default())?;
                mfa.remove_authenticator(subject, &id, &state).await?;
                ApiResponse::empty(204)
            }
            Endpoint::RemoveChannel => {
                mfa.remove_channel(subject, channel(param)?, &state).await?;
                ApiResponse::empty(204)
            }
            Endpoint::ListDevices => ApiResponse::json(
                200,
                &DevicesResponse {
                    devices: mfa.devices(subject).await?,
                },
            ),
            Endpoint::RevokeDevice => {
                let id = CredentialId::new(param.unwrap_or_default())?;
                mfa.revoke_device(subject, &id, &state).await?;
                ApiResponse::empty(204)
            }
            Endpoint::Disable => {
                mfa.disable(subject, &state).await?;
                ApiResponse::empty(204)
            }
            Endpoint::GetPolicy => ApiResponse::json(200, &mfa.policy().await?),
            Endpoint::PutPolicy => {
                let candidate: Policy = parse(request.body)?;
                ApiResponse::json(200, &mfa.update_policy(&subject.id, candidate).await?)
            }
            Endpoint::DryRun => {
                let candidate: Policy = parse(request.body)?;
                let everyone = self.directory.subjects().await?;
                ApiResponse::json(200, &mfa.dry_run(candidate, &everyone).await?)
            }
            Endpoint::ResetSubject => {
                let id = SubjectId::new(param.unwrap_or_default())?;
                let target = self
                    .directory
                    .subject(&id)
                    .await?
                    .ok_or(Error::NotFound("subject"))?;
                ApiResponse::json(200, &mfa.reset(&subject.id, &target).await?)
            }
            Endpoint::Audit => {
                let query = audit_query(request.query)?;
                let events = mfa.audit_events(&query).await?;
                let full = u32::try_from(events.len()).is_ok_and(|n| n >= query.limit);
                let next_before = events.last().filter(|_| full).map(|e| e.id);
                ApiResponse::json(
                    200,
                    &AuditResponse {
                        events,
                        next_before,
                    },
                )
            }
            Endpoint::OpenApi => {
                ApiResponse::json(200, &super::openapi::document(&self.config.prefix))
            }
        })
    }

    /// `POST /verify`: on success the session is raised (and its id
    /// cycled), and the browser remembered if asked and allowed.
    async fn verify(
        &self,
        subject: &Subject,
        session: &MfaSession,
        body: &VerifyRequest,
        user_agent: Option<&str>,
    ) -> core::result::Result<ApiResponse, Problem> {
        let attempt = match body.method {
            VerifyMethod::Totp => Attempt::Totp(&body.code),
            VerifyMethod::Recovery => Attempt::Recovery(&body.code),
            VerifyMethod::Email => Attempt::Sent(Channel::Email, &body.code),
            VerifyMethod::Sms => Attempt::Sent(Channel::Sms, &body.code),
        };
        let now = self.now();
        let (factor, recovery_codes_left, recovery_codes_low) =
            match self.mfa.verify(subject, attempt).await? {
                Verification::Accepted {
                    factor,
                    recovery_codes_left,
                    recovery_codes_low,
                    ..
                } => (factor, recovery_codes_left, recovery_codes_low),
                refused => return Ok(self.refused(refused, now)),
            };
        let mut raised = MfaSession::verified(&subject.id, now);
        raised.state.device_remembered = session.state.device_remembered;
        let mut response_headers = Vec::new();
        let mut remembered_until = None;
        if body.remember_device {
            match self
                .mfa
                .remember_device(subject, user_agent.unwrap_or(""), &raised.state)
                .await
            {
                Ok(remembered) => {
                    let max_age = Duration::from_secs(
                        remembered.expires_at.unix().saturating_sub(now.unix()),
                    );
                    response_headers.push((
                        "set-cookie",
                        self.config
                            .device_cookie
                            .set(remembered.token.expose(), max_age),
                    ));
                    remembered_until = Some(remembered.expires_at);
                }
                // Not allowed by the policy: the verification stands.
                Err(Error::PolicyForbids(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        let mut response = ApiResponse::json(
            200,
            &VerifiedResponse {
                factor,
                verified_at: now,
                recovery_codes_left,
                recovery_codes_low,
                remembered_until,
            },
        )
        .session(SessionUpdate::Replace {
            session: raised,
            renew_id: true,
        });
        response.headers.extend(response_headers);
        Ok(response)
    }

    /// A code that was not accepted: one answer whatever the reason.
    fn refused(&self, verification: Verification, now: Timestamp) -> ApiResponse {
        let problem = match verification {
            Verification::Locked { until } => Problem::new(ProblemCode::Locked).until(until, now),
            Verification::Blocked => Problem::new(ProblemCode::FactorBlocked),
            Verification::Accepted { .. } | Verification::Rejected => {
                Problem::new(ProblemCode::CodeRejected)
            }
        };
        ApiResponse::problem(&problem)
    }

    /// A confirmation's answer. A confirmed factor verifies the session,
    /// as `POST /verify` with it would (its id cycled): the person has
    /// just shown they hold it, and its code is spent.
    fn confirmed(
        &self,
        confirmation: Confirmation,
        subject: &Subject,
        session: &MfaSession,
    ) -> ApiResponse {
        let now = self.now();
        let mut raised = MfaSession::verified(&subject.id, now);
        raised.state.device_remembered = session.state.device_remembered;
        let raised = SessionUpdate::Replace {
            session: raised,
            renew_id: true,
        };
        match confirmation {
            Confirmation::Enrolled {
                authenticator,
                recovery_codes,
            } => ApiResponse::json(
                201,
                &EnrolledResponse {
                    authenticator,
                    recovery_codes: recovery_codes
                        .map(|codes| codes.iter().map(|c| c.expose().to_owned()).collect()),
                },
            )
            .no_store()
            .session(raised),
            Confirmation::Rejected => {
                ApiResponse::problem(&Problem::new(ProblemCode::CodeRejected))
            }
            Confirmation::Locked { until } => {
                ApiResponse::problem(&Problem::new(ProblemCode::Locked).until(until, now))
            }
            Confirmation::Blocked => {
                ApiResponse::problem(&Problem::new(ProblemCode::FactorBlocked))
            }
        }
    }

    fn sent(&self, outcome: SendOutcome) -> ApiResponse {
        match outcome {
            SendOutcome::Sent {
                expires_at,
                resend_after,
            } => ApiResponse::json(
                202,
                &SentResponse {
                    expires_at,
                    resend_after,
                },
            ),
            SendOutcome::TooSoon { retry_after } => ApiResponse::problem(
                &Problem::new(ProblemCode::TooSoon).until(retry_after, self.now()),
            ),
            SendOutcome::Blocked => ApiResponse::problem(&Problem::new(ProblemCode::FactorBlocked)),
        }
    }
}

/// What an endpoint works on.
struct Call<'r, 'a> {
    subject: &'a Subject,
    session: &'r mut MfaSession,
    param: Option<&'a str>,
    request: ApiRequest<'a>,
}

/// A JSON body: syntax errors are 400, wrong shapes and values 422. The
/// detail says where, never what (it could echo a code).
fn parse<T: DeserializeOwned>(body: &[u8]) -> core::result::Result<T, Problem> {
    // Well-formed first (400), then the right shape (422), whatever order
    // the fields come in.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
        Problem::new(ProblemCode::MalformedRequest).detail(format!(
            "the body is not a complete JSON document (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    let shape = || {
        Problem::new(ProblemCode::InvalidInput)
            .detail("a field is missing, unknown, or of the wrong type or value")
    };
    // Every body is an object (serde would also read a struct from an
    // array of its fields).
    if !value.is_object() {
        return Err(shape());
    }
    serde_json::from_value(value).map_err(|_| shape())
}

fn channel(param: Option<&str>) -> Result<Channel> {
    routes::channel(param).ok_or(Error::NotFound("channel (use email or sms)"))
}

/// `subject`, `before` and `limit` from the audit endpoint's query string.
fn audit_query(query: Option<&str>) -> core::result::Result<AuditQuery, Problem> {
    let mut result = AuditQuery::latest(50);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let bad = || {
            Problem::new(ProblemCode::InvalidInput)
                .detail("the query takes subject (an id), before (a number) and limit (1-500)")
        };
        match name {
            "subject" => {
                result.subject = Some(SubjectId::new(percent_decode(value).ok_or_else(bad)?)?)
            }
            "before" => result.before = Some(value.parse().map_err(|_| bad())?),
            "limit" => {
                let limit: u32 = value.parse().map_err(|_| bad())?;
                result.limit = limit.clamp(1, AuditQuery::MAX_LIMIT);
            }
            _ => return Err(bad()),
        }
    }
    Ok(result)
}

/// `page` with `next` (percent-encoded) added to its query: `?next=`,
/// or `&next=` when the page has a query already (`/login?step=2`).
fn with_next(page: &str, next: &str) -> String {
    let separator = if page.contains('?') { '&' } else { '?' };
    format!("{page}{separator}next={}", percent_encode(next))
}

/// Percent-encodes a query value (unreserved characters and `/` pass).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Decodes `%XX` and `+`; `None` for broken escapes or non-UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = core::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_wanted_only_when_asked_for() {
        assert!(wants_html(Some(
            "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!wants_html(Some("application/json")));
        assert!(!wants_html(Some("*/*")));
        assert!(!wants_html(None));
    }

    #[test]
    fn query_values_round_trip() {
        let next = "/tickets/42?tab=notes&x=a b";
        assert_eq!(percent_decode(&percent_encode(next)).as_deref(), Some(next));
        assert_eq!(percent_encode("/a?b=c"), "/a%3Fb%3Dc");
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }

    #[test]
    fn every_401_says_how_to_authenticate_and_nothing_else_does() {
        for code in ProblemCode::ALL {
            let response = ApiResponse::problem(&Problem::new(code));
            let challenge = response
                .headers
                .iter()
                .find(|(name, _)| *name == "www-authenticate")
                .map(|(_, value)| value.clone());
            if response.status == 401 {
                assert_eq!(challenge, Some(format!("MFA error=\"{}\"", code.as_str())));
            } else {
                assert_eq!(challenge, None, "{code:?}");
            }
        }
    }

    #[test]
    fn next_joins_the_page_query() {
        assert_eq!(with_next("/verify", "/a?b=c"), "/verify?next=/a%3Fb%3Dc");
        assert_eq!(
            with_next("/login?step=2", "/tickets"),
            "/login?step=2&next=/tickets"
        );
    }

    #[test]
    fn audit_queries_parse_or_are_refused() {
        let q = audit_query(Some("subject=alice%40example.com&before=10&limit=9999")).unwrap();
        assert_eq!(q.subject.unwrap().as_str(), "alice@example.com");
        assert_eq!((q.before, q.limit), (Some(10), AuditQuery::MAX_LIMIT));
        assert!(audit_query(Some("limit=x")).is_err());
        assert!(audit_query(Some("evil=1")).is_err());
        assert_eq!(audit_query(None).unwrap().limit, 50);
    }
}
