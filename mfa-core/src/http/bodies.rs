//! Request and response bodies of the HTTP contract (JSON).

use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::clock::Timestamp;
use crate::service::{AuthenticatorInfo, ChannelInfo, DeviceInfo, Status};
use crate::subject::FactorKind;

/// `POST /totp/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotpRequest {
    /// The enrollment's `id` from `POST /totp`.
    pub id: String,
    /// The first code the app shows.
    pub code: String,
    /// A name for the authenticator ("Work phone").
    pub name: String,
    /// `wide`: accept a code up to 10 steps (5 minutes) off, once, for a
    /// phone whose clock is wrong; `standard` (the default) otherwise.
    #[serde(default)]
    pub tolerance: Tolerance,
}

/// How far off a confirming code may be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// ±1 step.
    #[default]
    Standard,
    /// ±10 steps, once.
    Wide,
}

/// `PATCH /factors/totp/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    /// The new name (1-64 characters, no control characters).
    pub name: String,
}

/// `POST /channels/{channel}/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmChannelRequest {
    /// The code that was sent.
    pub code: String,
}

/// Which kind of code a verification uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyMethod {
    /// A code from an authenticator app.
    Totp,
    /// A recovery code.
    Recovery,
    /// A code sent by e-mail.
    Email,
    /// A code sent by SMS.
    Sms,
}

/// `POST /verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// Which kind of code.
    pub method: VerifyMethod,
    /// The code as typed.
    pub code: String,
    /// Remember this browser (when the policy allows it).
    #[serde(default)]
    pub remember_device: bool,
}

/// `GET /status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// Factors, recovery codes, the rule and the decision.
    #[serde(flatten)]
    pub status: Status,
    /// Whether this session passed the second step.
    pub verified: bool,
    /// When it did.
    pub verified_at: Option<Timestamp>,
    /// Whether a remembered browser let it through.
    pub device_remembered: bool,
}

/// `POST /totp`: everything to show once. The key, URI and QR code carry
/// the new secret: serve them over HTTPS with `Cache-Control: no-store`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentResponse {
    /// Pass back to `POST /totp/confirm`.
    pub id: String,
    /// The key grouped for typing.
    pub key: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
    /// SHA1, SHA256 or SHA512.
    pub algorithm: String,
    /// Digits per code.
    pub digits: u8,
    /// Seconds per code.
    pub period: u32,
    /// When the enrollment stops being confirmable.
    pub expires_at: Timestamp,
}

/// A factor was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolledResponse {
    /// The new authenticator (authenticator apps).
    pub authenticator: Option<AuthenticatorInfo>,
    /// The first recovery codes, if the subject had none: show them once.
    pub recovery_codes: Option<Vec<String>>,
}

/// A code is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentResponse {
    /// When the code stops working.
    pub expires_at: Timestamp,
    /// When another may be asked for.
    pub resend_after: Timestamp,
}

/// `POST /verify` succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedResponse {
    /// The factor used.
    pub factor: FactorKind,
    /// When the session passed the check (sensitive changes are allowed
    /// for 10 minutes after).
    pub verified_at: Timestamp,
    /// Unused recovery codes left (after a recovery code).
    pub recovery_codes_left: Option<u32>,
    /// Whether few recovery codes are left: suggest regenerating.
    pub recovery_codes_low: bool,
    /// Until when this browser is remembered, if it was asked to be.
    pub remembered_until: Option<Timestamp>,
}

/// `POST /recovery-codes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodesResponse {
    /// The new codes; show them once.
    pub codes: Vec<String>,
}

/// `GET /factors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorsResponse {
    /// Authenticator apps, oldest first.
    pub authenticators: Vec<AuthenticatorInfo>,
    /// E-mail / SMS.
    pub channels: Vec<ChannelInfo>,
}

/// `GET /devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicesResponse {
    /// Remembered browsers, newest first.
    pub devices: Vec<DeviceInfo>,
}

/// `GET /admin/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditResponse {
    /// Events, newest first.
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<u64>,
}
