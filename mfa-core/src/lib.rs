//! # mfa-core
//!
//! Framework-free multi-factor authentication for Rust services: the
//! RFC 4226 / RFC 6238 one-time-password engine, secrets, `otpauth://` Key
//! URIs and QR codes. Pure and synchronous: no I/O, no web framework, no
//! database, no async runtime.
//!
//! * [`otp`] — HOTP and TOTP with SHA-1/256/512, 6–8 digits, any period
//!   from 1 s to 1 h and any T0; a prepared HMAC key so each step costs two
//!   compressions; window verification that checks every step in constant
//!   time and never accepts a step twice; forgiving code input parsing.
//! * [`Secret`] — CSPRNG generation, base32 in and out, minimum length
//!   enforced, zeroized on drop, never printed.
//! * [`KeyUri`] — build and parse `otpauth://` URIs.
//! * [`qr`] — the URI as a compact SVG QR code (PNG with the `png` feature).
//! * [`Store`] — where MFA state lives, as semantic operations whose
//!   atomicity is part of the contract; [`MemoryStore`] is a complete,
//!   thread-safe in-memory implementation.
//!
//! ## Example: enroll an authenticator app, then verify a code
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
//! * `testing` — the `testing` module: the store conformance suite (run it
//!   on a backend with `store_conformance_suite!`), a manual clock and a
//!   recording notifier.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod audit;
mod clock;
pub mod device;
mod encoding;
mod error;
mod factor;
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
