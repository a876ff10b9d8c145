//! # mfa-actix
//!
//! The actix-web adapter of [`mfa_core`]'s HTTP contract: the same
//! endpoints, gate and answers as every other adapter, because every
//! decision is made by [`mfa_core::http::Api`]. This crate only converts
//! types.
//!
//! * [`MfaHandle`] — the [`Api`](mfa_core::http::Api) in the
//!   application's data, where everything below finds it.
//! * [`configure`] — the endpoints (`POST /verify`, `GET /status`, …,
//!   exactly [`mfa_core::http::ROUTES`]), mounted in a scope.
//! * [`MfaGate`] — middleware in front of the application's own routes:
//!   lets a session through once it passed the second step, refuses it
//!   (401/403 problem+json) or redirects a browser to the verify or enroll
//!   page otherwise.
//! * Extractors: [`Verified`], [`SecondStepPending`], [`SteppedUp`],
//!   [`Admin`] and [`MfaHandle`]; their refusals are problem+json ([`MfaError`]).
//!
//! The host application does the first factor: its own middleware puts
//! the signed-in [`Subject`](mfa_core::Subject) into the request's
//! extensions. MFA state lives in actix-session's `Session` under
//! [`SESSION_KEY`](mfa_core::http::SESSION_KEY), bound to that subject,
//! and the session id is renewed when the session is raised (use a
//! server-side session store so that the old id is dead). Without
//! `SessionMiddleware` the gate and the endpoints answer 500 with a
//! problem naming it, and let nothing through.
//!
//! ## Integration
//!
//! ```
//! use std::sync::Arc;
//!
//! use actix_session::{SessionMiddleware, storage::CookieSessionStore};
//! use actix_web::middleware::{Next, from_fn};
//! use actix_web::{App, HttpMessage, HttpResponse, body::MessageBody, cookie::Key, web};
//! use actix_web::dev::{ServiceRequest, ServiceResponse};
//! use mfa_actix::{MfaGate, MfaHandle, Verified};
//! use mfa_core::http::{Api, HttpConfig};
//! # use mfa_core::seal::{Sealer, SealingKey};
//! # use mfa_core::{MemoryStore, Mfa, MfaConfig, Pepper, Role, Subject, SubjectId, SystemClock};
//!
//! // Your login (the first factor): put the signed-in Subject into the extensions.
//! async fn first_factor(
//!     request: ServiceRequest,
//!     next: Next<impl MessageBody>,
//! ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
//!     if let Some(subject) = your_login(&request) {
//!         request.extensions_mut().insert(subject);
//!     }
//!     next.call(request).await
//! }
//! # fn your_login(_: &ServiceRequest) -> Option<Subject> {
//! #     Some(Subject::new(SubjectId::new("alice").ok()?, [Role::AGENT]))
//! # }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let config = MfaConfig::new("Desk", Pepper::generate()?, Sealer::new(vec![SealingKey::generate(1)?])?);
//! # let notifier = mfa_core::notify::LogNotifier;
//! let mfa = Arc::new(Mfa::new(MemoryStore::new(), notifier, SystemClock, config));
//! let handle = MfaHandle::new(Api::new(mfa, HttpConfig::default()));
//! let app = || {
//!     App::new()
//!         .app_data(handle.clone())
//!         .service(web::scope("/mfa").configure(mfa_actix::configure))
//!         .service(web::resource("/tickets").wrap(MfaGate).to(|who: Verified| async move {
//!             HttpResponse::Ok().body(format!("tickets of {}", who.subject.id))
//!         }))
//!         .wrap(from_fn(first_factor))
//!         .wrap(SessionMiddleware::new(CookieSessionStore::default(), Key::generate()))
//! };
//! # actix_web::rt::System::new().block_on(async {
//! #     use actix_web::test;
//! #     let app = test::init_service(app()).await;
//! #     // No factor yet and MFA optional: the gate lets alice through.
//! #     let response = test::call_service(&app, test::TestRequest::get().uri("/tickets").to_request()).await;
//! #     assert_eq!(response.status(), 200);
//! #     let response = test::call_service(&app, test::TestRequest::get().uri("/mfa/status").to_request()).await;
//! #     assert_eq!(response.status(), 200);
//! # });
//! # Ok(())
//! # }
//! ```
//!
//! A complete application (a login, SQLite, the gate, the endpoints) is
//! the repository's `examples/actix-minimal`. The contract (endpoints,
//! problem codes, statuses, session rules) is [`mfa_core::http`]'s; how
//! the crates fit together is in the repository's `docs/architecture.md`.

#![forbid(unsafe_code)]

mod convert;
mod extract;
mod gate;
mod handle;
mod routes;

pub use convert::MfaError;
pub use extract::{Admin, SecondStepPending, SteppedUp, Verified};
pub use gate::{MfaGate, MfaGateService};
pub use handle::MfaHandle;
pub use routes::configure;
