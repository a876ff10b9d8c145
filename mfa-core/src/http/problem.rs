//! RFC 9457 problem details with a stable `code`, and the one table from
//! errors and outcomes to HTTP status codes.

use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind};

/// The stable, machine-readable reason of a refusal: the `code` member of
/// every problem response. Clients branch on it; the `title` and `detail`
/// are for people and may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemCode {
    /// 400: the body is not valid JSON, or a required part is missing.
    MalformedRequest,
    /// 413: the body is larger than allowed.
    PayloadTooLarge,
    /// 415: a state-changing request whose body is not `application/json`.
    UnsupportedMediaType,
    /// 422: well-formed JSON with a value that is not acceptable (a code
    /// with letters, an empty name).
    InvalidInput,
    /// 401: no authenticated first factor (the host application's login).
    NotAuthenticated,
    /// 401: this session has not passed the second step.
    MfaRequired,
    /// 403: the subject must enroll a second factor first.
    EnrollmentRequired,
    /// 403: a sensitive change needs a fresh second-factor check.
    StepUpRequired,
    /// 401: the code was not accepted (wrong, expired or already used —
    /// one answer for all).
    CodeRejected,
    /// 429: too many wrong codes; see `Retry-After`.
    Locked,
    /// 403: this kind of factor is blocked after too many failures; use
    /// another factor or ask an administrator.
    FactorBlocked,
    /// 429: a code was sent too recently; see `Retry-After`.
    TooSoon,
    /// 403: the policy does not allow this (MFA or the method is disabled,
    /// MFA is required so the last factor stays).
    ForbiddenByPolicy,
    /// 403: an administrator's endpoint, and this subject does not have
    /// the administrator role.
    NotAdmin,
    /// 403: a state-changing request from another site.
    CrossSite,
    /// 404: no such enrollment, factor, device or subject.
    NotFound,
    /// 409: not possible in the current state (no address on file, the
    /// channel is not registered, too many authenticators).
    Precondition,
    /// 405: the path exists, the method does not (the `Allow` header
    /// lists the methods it has).
    MethodNotAllowed,
    /// 503: the store or the message service is unavailable; see
    /// `Retry-After`.
    Unavailable,
    /// 500: a fault on the server (never caused by what a client sent).
    Internal,
}

impl ProblemCode {
    /// The HTTP status code.
    #[must_use]
    pub fn status(self) -> u16 {
        match self {
            Self::MalformedRequest => 400,
            Self::NotAuthenticated | Self::MfaRequired | Self::CodeRejected => 401,
            Self::EnrollmentRequired
            | Self::StepUpRequired
            | Self::FactorBlocked
            | Self::ForbiddenByPolicy
            | Self::NotAdmin
            | Self::CrossSite => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Precondition => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::InvalidInput => 422,
            Self::Locked | Self::TooSoon => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }

    /// The stable name (the `code` member).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedRequest => "malformed_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidInput => "invalid_input",
            Self::NotAuthenticated => "not_authenticated",
            Self::MfaRequired => "mfa_required",
            Self::EnrollmentRequired => "enrollment_required",
            Self::StepUpRequired => "step_up_required",
            Self::CodeRejected => "code_rejected",
            Self::Locked => "locked",
            Self::FactorBlocked => "factor_blocked",
            Self::TooSoon => "too_soon",
            Self::ForbiddenByPolicy => "forbidden_by_policy",
            Self::NotAdmin => "not_admin",
            Self::CrossSite => "cross_site",
            Self::NotFound => "not_found",
            Self::Precondition => "precondition",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// A short, stable human title.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::MalformedRequest => "Malformed request",
            Self::PayloadTooLarge => "Request body too large",
            Self::UnsupportedMediaType => "Send the request body as application/json",
            Self::InvalidInput => "Invalid input",
            Self::NotAuthenticated => "Sign in first",
            Self::MfaRequired => "Two-factor verification required",
            Self::EnrollmentRequired => "Set up two-factor authentication first",
            Self::StepUpRequired => "Confirm with a fresh code first",
            Self::CodeRejected => "That code didn't work",
            Self::Locked => "Too many attempts",
            Self::FactorBlocked => "This method is blocked",
            Self::TooSoon => "Please wait before asking for another code",
            Self::ForbiddenByPolicy => "Not allowed by the security policy",
            Self::NotAdmin => "Administrators only",
            Self::CrossSite => "Cross-site request refused",
            Self::NotFound => "Not found",
            Self::Precondition => "Not possible right now",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Unavailable => "Temporarily unavailable",
            Self::Internal => "Internal error",
        }
    }

    /// Every code, for documentation and tests.
    pub const ALL: [Self; 20] = [
        Self::MalformedRequest,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::InvalidInput,
        Self::NotAuthenticated,
        Self::MfaRequired,
        Self::EnrollmentRequired,
        Self::StepUpRequired,
        Self::CodeRejected,
        Self::Locked,
        Self::FactorBlocked,
        Self::TooSoon,
        Self::ForbiddenByPolicy,
        Self::NotAdmin,
        Self::CrossSite,
        Self::NotFound,
        Self::Precondition,
        Self::MethodNotAllowed,
        Self::Unavailable,
        Self::Internal,
    ];
}

/// The media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds to suggest in `Retry-After` when the store is unavailable.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// An RFC 9457 problem: what an adapter sends as the body of every refusal
/// (with [`PROBLEM_JSON`] as content type, [`status`](Self::status) as
/// status, and `Retry-After` when [`retry_after`](Self::retry_after) is
/// set).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// A URI naming the problem type: `urn:mfa:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// [`ProblemCode::title`].
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The stable code.
    pub code: ProblemCode,
    /// What went wrong, for the developer or the person (never a secret,
    /// a code or a stack trace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Seconds until trying again makes sense (`Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// When a lock ends (for [`ProblemCode::Locked`] and
    /// [`ProblemCode::TooSoon`]), Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
}

impl Problem {
    /// A problem with `code`'s status and title and no detail.
    #[must_use]
    pub fn new(code: ProblemCode) -> Self {
        Self {
            kind: format!("urn:mfa:problem:{}", code.as_str()),
            title: code.title().to_owned(),
            status: code.status(),
            code,
            detail: None,
            retry_after: None,
            until: None,
        }
    }

    /// With a detail message.
    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Locked or too soon until `until`, seen at `now`: sets `until` and
    /// `Retry-After` (at least one second).
    #[must_use]
    pub fn until(mut self, until: Timestamp, now: Timestamp) -> Self {
        self.until = Some(until);
        self.retry_after = Some(until.unix().saturating_sub(now.unix()).max(1));
        self
    }

    /// The problem for an [`Error`]: the one table from error kinds to
    /// statuses. Causes an attacker could tell apart get one answer;
    /// internal details are never sent (log the error itself instead).
    #[must_use]
    pub fn from_error(error: &Error) -> Self {
        let code = match error.kind() {
            ErrorKind::BadInput => ProblemCode::InvalidInput,
            ErrorKind::StepUpRequired => ProblemCode::StepUpRequired,
            ErrorKind::ForbiddenByPolicy => ProblemCode::ForbiddenByPolicy,
            ErrorKind::NotFound => ProblemCode::NotFound,
            ErrorKind::Precondition => ProblemCode::Precondition,
            ErrorKind::Unavailable => ProblemCode::Unavailable,
            _ => ProblemCode::Internal,
        };
        let problem = Self::new(code);
        match code {
            // The message says what to fix and never repeats a secret.
            ProblemCode::InvalidInput
            | ProblemCode::ForbiddenByPolicy
            | ProblemCode::NotFound
            | ProblemCode::Precondition => problem.detail(error.to_string()),
            ProblemCode::Unavailable => Self {
                retry_after: Some(UNAVAILABLE_RETRY_SECS),
                ..problem
            },
            _ => problem,
        }
    }

    /// The JSON body.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing this struct cannot fail (no maps with non-string
        // keys, no custom serializers that error).
        serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec())
    }
}

impl From<ProblemCode> for Problem {
    fn from(code: ProblemCode) -> Self {
        Self::new(code)
    }
}

impl From<Error> for Problem {
    fn from(error: Error) -> Self {
        Self::from_error(&error)
    }
}

impl From<&Error> for Problem {
    fn from(error: &Error) -> Self {
        Self::from_error(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_distinct_names_and_client_statuses() {
        let mut names: Vec<_> = ProblemCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ProblemCode::ALL.len());
        for code in ProblemCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let status = code.status();
            assert!((400..600).contains(&status));
            assert_eq!(
                status >= 500,
                matches!(code, ProblemCode::Internal | ProblemCode::Unavailable)
            );
        }
    }

    #[test]
    fn errors_map_to_one_status_each_and_never_leak() {
        let bad = Error::InvalidCode(crate::error::CodeProblem::InvalidCharacter);
        let problem = Problem::from_error(&bad);
        assert_eq!(
            (problem.status, problem.code),
            (422, ProblemCode::InvalidInput)
        );
        assert_eq!(Problem::from_error(&Error::StepUpRequired).status, 403);
        let down = Error::StoreUnavailable("database is down at 10.0.0.5".into());
        let problem = Problem::from_error(&down);
        assert_eq!(problem.status, 503);
        assert_eq!(problem.retry_after, Some(UNAVAILABLE_RETRY_SECS));
        assert_eq!(problem.detail, None, "internal details are not sent");
        let body = String::from_utf8(problem.to_json()).unwrap();
        assert!(body.contains("\"code\":\"unavailable\""), "{body}");
        assert!(!body.contains("10.0.0.5"));
    }

    #[test]
    fn until_sets_retry_after_of_at_least_a_second() {
        let now = Timestamp::from_unix(1000);
        let p = Problem::new(ProblemCode::Locked).until(Timestamp::from_unix(1060), now);
        assert_eq!(
            (p.retry_after, p.until),
            (Some(60), Some(Timestamp::from_unix(1060)))
        );
        let p = Problem::new(ProblemCode::Locked).until(now, now);
        assert_eq!(p.retry_after, Some(1));
    }
}
