//! The framework-neutral HTTP contract (feature `http`): what both web
//! adapters share, so that they behave the same and make no security
//! decision of their own.
//!
//! * [`Problem`] and [`ProblemCode`]: RFC 9457 problem details with a
//!   stable `code`, and the one table from [`Error`](crate::Error) kinds
//!   and outcomes to HTTP status codes ([`Problem::from_error`],
//!   [`ProblemCode::status`]).
//! * [`MfaSession`]: the value an adapter keeps in the framework's session
//!   under [`SESSION_KEY`], bound to its subject.
//! * [`safe_next`]: the only `next` redirect targets accepted are local
//!   paths.
//! * [`check_same_site`] and [`check_body`]: state-changing requests must
//!   come from this site (`Origin` / `Sec-Fetch-Site`) and carry a bounded
//!   `application/json` body.
//! * [`DeviceCookie`]: the attributes of the remember-device cookie.
//!
//! ```
//! use mfa_core::http::{Problem, ProblemCode, safe_next};
//!
//! let locked = Problem::new(ProblemCode::Locked);
//! assert_eq!(locked.status, 429);
//! assert_eq!(safe_next("//evil.example"), "/");
//! ```

mod cookie;
mod guard;
mod next;
mod problem;
mod session;

pub use cookie::DeviceCookie;
pub use guard::{RequestFacts, changes_state, check_body, check_same_site};
pub use next::{MAX_NEXT_LEN, safe_next};
pub use problem::{PROBLEM_JSON, Problem, ProblemCode, UNAVAILABLE_RETRY_SECS};
pub use session::{MfaSession, SESSION_KEY};

mod api;
mod bodies;
mod openapi;
mod routes;

pub use api::{
    Api, ApiRequest, ApiResponse, Directory, ENROLL_BY_HEADER, GateOutcome, GateRequest,
    HttpConfig, Need, NoDirectory, SessionUpdate, wants_html,
};
pub use bodies::{
    AuditResponse, ConfirmChannelRequest, ConfirmTotpRequest, DevicesResponse, EnrolledResponse,
    EnrollmentResponse, FactorsResponse, RecoveryCodesResponse, RenameRequest, SentResponse,
    StatusResponse, Tolerance, VerifiedResponse, VerifyMethod, VerifyRequest,
};
pub use openapi::document as openapi_document;
pub use routes::{Access, Endpoint, ROUTES, Route};
