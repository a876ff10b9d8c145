//! # mfa-axum
//!
//! The axum/tower adapter of [`mfa_core`]: the second factor for an axum
//! application that already signs people in. It only converts types; every
//! decision is made by [`mfa_core::http::Api`], the same for every web
//! framework (see the repository's `docs/architecture.md`).
//!
//! * [`MfaLayer`] — the gate in front of the application's own routes:
//!   passes verified sessions, answers the others with a problem+json
//!   (`mfa_required`, `enrollment_required`, …) or, for browsers, a
//!   redirect to the application's verify or enroll page.
//! * [`router`] — the MFA endpoints (enroll, verify, recovery codes,
//!   remembered devices, administration, `openapi.json`), to nest under
//!   `/mfa`.
//! * Extractors — [`Verified`], [`SecondStepPending`], [`SteppedUp`],
//!   [`Admin`] and [`MfaHandle`]; refusals are problem+json ([`Rejection`]).
//!
//! The MFA state lives in the tower-sessions [`Session`](tower_sessions::Session)
//! under [`SESSION_KEY`](mfa_core::http::SESSION_KEY); its id is cycled when
//! the session passes the second step. The application provides:
//!
//! 1. tower-sessions' `SessionManagerLayer` (outermost: the gate, the
//!    routes and the extractors read the session; without it they answer
//!    500, naming the missing layer, and log it);
//! 2. a middleware that puts the signed-in person's [`mfa_core::Subject`]
//!    into the request's extensions (its first factor);
//! 3. an [`Api`](mfa_core::http::Api) over a [`Mfa`](mfa_core::Mfa) with
//!    its store (`mfa-store-sql`), notifier and clock.
//!
//! ## Example
//!
//! ```
//! use std::sync::Arc;
//!
//! use axum::extract::Request;
//! use axum::middleware::{self, Next};
//! use axum::response::Response;
//! use axum::{Router, routing::get};
//! use mfa_axum::{MfaLayer, Verified};
//! use mfa_core::http::{Api, HttpConfig};
//! use mfa_core::notify::LogNotifier;
//! use mfa_core::seal::{Sealer, SealingKey};
//! use mfa_core::{MemoryStore, Mfa, MfaConfig, Pepper, Role, Subject, SubjectId, SystemClock};
//! use tower::ServiceExt as _;
//! use tower_sessions::{MemoryStore as SessionStore, Session, SessionManagerLayer};
//!
//! /// Your first factor: whoever your login put into the session is the subject.
//! async fn first_factor(mut request: Request, next: Next) -> Response {
//!     if let Some(session) = request.extensions().get::<Session>().cloned() {
//!         if let Ok(Some(user)) = session.get::<String>("user").await {
//!             if let Ok(id) = SubjectId::new(user) {
//!                 request.extensions_mut().insert(Subject::new(id, [Role::AGENT]));
//!             }
//!         }
//!     }
//!     next.run(request).await
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = MfaConfig::new(
//!     "Service Desk",
//!     Pepper::new(&[0x42; 32])?,                       // from your secret store
//!     Sealer::new(vec![SealingKey::new(1, [7; 32])])?, // ditto
//! );
//! let mfa = Arc::new(Mfa::new(MemoryStore::new(), LogNotifier, SystemClock, config));
//! let api = Arc::new(Api::new(mfa, HttpConfig::default()));
//!
//! let app: Router = Router::new()
//!     .route("/tickets", get(|Verified(who): Verified| async move { who.id.to_string() }))
//!     .layer(MfaLayer::new(api.clone())) // the gate: the routes above only
//!     .nest("/mfa", mfa_axum::router(api)) // the MFA endpoints
//!     .layer(middleware::from_fn(first_factor))
//!     .layer(SessionManagerLayer::new(SessionStore::default()));
//!
//! // Not signed in: the gate refuses, with a problem.
//! let request = Request::get("/tickets").body(axum::body::Body::empty())?;
//! let response = app.clone().oneshot(request).await?;
//! assert_eq!(response.status(), 401);
//! assert_eq!(response.headers()["content-type"], "application/problem+json");
//! // The endpoints are there.
//! let request = Request::get("/mfa/openapi.json").body(axum::body::Body::empty())?;
//! assert_eq!(app.oneshot(request).await?.status(), 200);
//! # Ok(())
//! # }
//! ```
//!
//! Order matters: axum's `.layer` wraps the routes added before it, and
//! the last layer added runs first. So the gate covers `/tickets` but not
//! `/mfa` (nested after it), and the session layer runs before the
//! first-factor middleware, which runs before the gate.
//!
//! ## With axum-login
//!
//! axum-login signs the user in (its `AuthSession` holds `user`); MFA
//! needs only the subject. Add a middleware after axum-login's
//! `AuthManagerLayer` that maps `auth_session.user` to a
//! [`mfa_core::Subject`] (id, roles, e-mail and phone for codes) and
//! inserts it into the request's extensions, exactly like
//! `first_factor` above.
//!
//! The sessions: this crate uses tower-sessions 0.15, while axum-login
//! 0.18 depends on tower-sessions 0.14, whose `Session` is another type
//! (this crate would not find it: every request would be answered 500,
//! naming the missing `SessionManagerLayer`). Until axum-login moves to
//! 0.15 and both can share one `SessionManagerLayer`, run the MFA session
//! layer beside axum-login's: a `SessionManagerLayer` of tower-sessions
//! 0.15 with its own cookie name (`with_name("mfa_session")`), over a
//! store of its own. Then end both on sign-out (`flush` the MFA
//! session in the logout handler): the MFA value is bound to the subject
//! only, so the same person signing in again in that browser would
//! otherwise find it still verified.
//!
//! ## Security
//!
//! * Put the gate on every route that needs the second factor; the
//!   extractors are for handlers that need more (or less) than the gate.
//! * Session cookies: keep tower-sessions' `Secure` default in
//!   production (`with_secure(false)` only for local HTTP), and
//!   `SameSite=Lax` or stricter. State-changing MFA endpoints also check
//!   `Origin` / `Sec-Fetch-Site` and accept only `application/json`.
//! * The MFA endpoints read at most
//!   [`HttpConfig::max_body`](mfa_core::http::HttpConfig::max_body) bytes
//!   of a body (16 KiB).

#![forbid(unsafe_code)]

mod convert;
mod error;
mod extract;
mod layer;
mod routes;

pub use error::{Error, Rejection};
pub use extract::{Admin, MfaHandle, SecondStepPending, SteppedUp, Verified};
pub use layer::{MfaGate, MfaLayer};
pub use routes::router;
