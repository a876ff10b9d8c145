//! # mfa-core
//!
//! Framework-free multi-factor authentication for Rust services. The
//! centre is the service, [`Mfa`]: it enrolls authenticator apps and
//! e-mail/SMS codes, accepts each code exactly once, throttles guessing,
//! hands out recovery codes, remembers browsers, asks for a fresh
//! verification before sensitive changes and applies the administrator's
//! per-role [`policy`]. Its methods are `async` and generic over what the
//! application supplies: a [`Store`] (where MFA state lives —
//! [`MemoryStore`] here, `mfa-store-sql` for SQLite, PostgreSQL and
//! MySQL/MariaDB), a [`Notifier`] (how codes and security notices reach
//! people) and a [`Clock`]. The crate itself has no async runtime, web
//! framework or database dependency: any executor can drive the futures,
//! and an HTTP adapter only translates requests into calls and outcomes
//! into responses.
//!
//! Under the service lie pure, synchronous building blocks, usable on
//! their own:
//!
//! * [`otp`] — HOTP and TOTP with SHA-1/256/512, 6–8 digits, any period
//!   from 1 s to 1 h and any T0; a prepared HMAC key so each step costs two
//!   compressions; window verification that checks every step in constant
//!   time and never accepts a step twice; forgiving code input parsing.
//! * [`Secret`] — CSPRNG generation, base32 in and out, minimum length
//!   enforced, zeroized on drop, never printed.
//! * [`KeyUri`] — build and parse `otpauth://` URIs.
//! * [`qr`] — the URI as a compact SVG QR code (PNG with the `png` feature).
//! * [`policy`], [`recovery`], [`seal`], [`pepper`], [`device`] — the rules
//!   and the cryptography the service applies.
//! * [`Store`] — where MFA state lives, as semantic operations whose
//!   atomicity is part of the contract; [`MemoryStore`] is a complete,
//!   thread-safe in-memory implementation.
//!
//! Errors carry an [`ErrorKind`] ([`Error::kind`]) so an adapter maps every
//! error to a response with one table. The crate's design, data flow and
//! security parameters are described in the repository's
//! `docs/architecture.md`.
//!
//! ## Example: the service — enroll an authenticator app, then sign in
//!
//! ```
//! use mfa_core::notify::LogNotifier;
//! use mfa_core::otp::Totp;
//! use mfa_core::policy::SessionState;
//! use mfa_core::seal::{Sealer, SealingKey};
//! use mfa_core::service::{Attempt, Confirmation, DriftTolerance, Verification};
//! use mfa_core::{Clock, MemoryStore, Mfa, MfaConfig, Pepper, Role, Secret, Subject, SubjectId};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Any executor drives the service; here a single-threaded tokio runtime.
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! runtime.block_on(async {
//!     let config = MfaConfig::new(
//!         "Service Desk",
//!         Pepper::new(&[0x42; 32])?,                       // from your secret store
//!         Sealer::new(vec![SealingKey::new(1, [7; 32])])?, // ditto; add keys to rotate
//!     );
//!     let mfa = Mfa::new(MemoryStore::new(), LogNotifier, mfa_core::SystemClock, config);
//!     let alice =
//!         Subject::new(SubjectId::new("alice")?, [Role::AGENT]).with_email("alice@example.com");
//!
//!     // Profile → Two-factor authentication → Enable: show the QR code and the key.
//!     let enrollment = mfa.start_totp_enrollment(&alice, &SessionState::default()).await?;
//!     assert!(enrollment.qr_svg.starts_with("<svg"));
//!
//!     // Her authenticator app computes codes from that key (we play the app here).
//!     let app = Totp::new(&Secret::from_base32(&enrollment.key)?, &enrollment.config);
//!     let now = mfa.clock().now().unix();
//!     let shown = app.generate_at(now).ok_or("before T0")?;
//!     let (id, code) = (&enrollment.id, shown.expose());
//!     let confirmed = mfa
//!         .confirm_totp_enrollment(&alice, id, &code, "Phone", DriftTolerance::Standard)
//!         .await?;
//!     assert!(matches!(confirmed, Confirmation::Enrolled { recovery_codes: Some(_), .. }));
//!
//!     // Sign-in with the app's next code: accepted once…
//!     let period = u64::from(enrollment.config.period());
//!     let next = app.generate_at(now + period).ok_or("before T0")?;
//!     let signed_in = mfa.verify(&alice, Attempt::Totp(&next.expose())).await?;
//!     assert!(matches!(signed_in, Verification::Accepted { .. }));
//!     // …and never again; the code that confirmed the app is used up too.
//!     let replay = mfa.verify(&alice, Attempt::Totp(&next.expose())).await?;
//!     assert_eq!(replay, Verification::Rejected);
//!     let reused = mfa.verify(&alice, Attempt::Totp(&shown.expose())).await?;
//!     assert_eq!(reused, Verification::Rejected);
//!     Ok(())
//! })
//! # }
//! ```
//!
//! ## Example: the OTP engine alone
//!
//! ```
//! use mfa_core::otp::{Code, Totp, TotpConfig, Verdict, Window};
//! use mfa_core::{KeyUri, Secret};
//!
//! // Enrollment: a new secret, shown as a QR code and as a typed key.
//! let secret = Secret::generate()?;
//! let config = TotpConfig::default(); // SHA-1, 6 digits, 30 s
//! let totp = Totp::new(&secret, &config);
//! let typed_key = secret.to_base32_grouped();
//! let uri = KeyUri::totp(secret, Some("Service Desk"), "alice@example.com", &config)?;
//! let qr_svg = uri.qr_svg()?;
//! assert!(qr_svg.starts_with("<svg"));
//! # let _ = typed_key;
//!
//! // Later: the user types the code their app shows.
//! let now = 1_700_000_000; // Unix seconds, from your clock
//! # let shown = totp.generate_at(now).expect("after T0").expose();
//! let code = Code::parse(&shown, config.digits())?; // "123 456" is fine too
//! let mut last_accepted_step = None; // persisted per authenticator
//! match totp.verify(&code, now, Window::default(), last_accepted_step) {
//!     Verdict::Match { step, .. } => last_accepted_step = Some(step), // let them in
//!     Verdict::Replay | Verdict::NoMatch => unreachable!("the current code matches"),
//! }
//! // The same code again is a replay.
//! assert_eq!(totp.verify(&code, now, Window::default(), last_accepted_step), Verdict::Replay);
//! # Ok::<(), mfa_core::Error>(())
//! ```
//!
//! ## Features
//! * `png` — PNG output for QR codes ([`qr::png`], [`qr::png_data_uri`]).
//! * `serde` — `Serialize`/`Deserialize` for the policy (the store's
//!   format), decisions, outcomes, status and the session state; their JSON
//!   forms are pinned by golden files in the crate's tests.
//! * `tracing` — [`notify::LogNotifier`] logs structured `tracing` events
//!   (never a code, secret, token or address) instead of writing to
//!   standard error.
//! * `testing` — the `testing` module: the store conformance suite (run it
//!   on a backend with `store_conformance_suite!`), a manual clock, a
//!   recording notifier and `DevOutbox` (codes to a file named by
//!   `MFA_DEV_OUTBOX`, for a harness driving a running app; local testing
//!   only, off unless set).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod audit;
mod clock;
pub mod device;
mod encoding;
mod error;
mod factor;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod memory;
pub mod notify;
pub mod otp;
pub mod pepper;
pub mod policy;
pub mod qr;
pub mod recovery;
pub mod seal;
mod secret;
pub mod service;
pub mod store;
mod subject;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod throttle;
pub mod uri;

pub use clock::{Clock, SystemClock, Timestamp};
pub use error::{
    Base32Problem, CodeProblem, Error, ErrorKind, InputProblem, PolicyProblem, PreconditionProblem,
    Result, UriProblem,
};
pub use factor::{Channel, FactorKind};
pub use memory::MemoryStore;
pub use notify::Notifier;
pub use pepper::Pepper;
pub use secret::Secret;
pub use service::{Mfa, MfaConfig};
pub use store::Store;
pub use subject::{CredentialId, Role, Subject, SubjectId};
pub use uri::KeyUri;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
