//! Profile → Password & Security → Two-Factor Authentication.
//!
//! The page lists what the person has set up (read from the service) and
//! every change goes through the MFA endpoints (`/mfa/...`), called by the
//! page's script: enabling an authenticator app (QR code and typed key),
//! e-mail or SMS codes instead, renaming and removing, new recovery codes,
//! forgetting remembered browsers, turning it off. Changes the service
//! counts as sensitive answer `step_up_required`; the script then asks for
//! a fresh code and tries again.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use mfa_axum::{Rejection, Verified};
use mfa_core::http::{ProblemCode, safe_next};
use mfa_core::policy::{Decision, Requirement, SessionState};
use mfa_core::{Channel, Subject};
use serde::Deserialize;
use tower_sessions::Session;

use super::layout::{self, Nav, notice};
use super::{Desk, Me, csrf_token, encode, format, refusal_code};

/// `?next=`: where to go once a required enrollment is done.
#[derive(Debug, Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

/// `GET /security`.
pub(crate) async fn page(
    State(desk): State<Desk>,
    session: Session,
    axum::Extension(Me(me)): axum::Extension<Me>,
    Query(next): Query<Next>,
    verified: Result<Verified, Rejection>,
) -> Response {
    let Some(subject) = me.subject() else {
        return Redirect::to("/login").into_response();
    };
    if let Err(rejection) = &verified {
        match refusal_code(rejection) {
            // A factor exists and this session has not used it: verify first.
            Some(ProblemCode::MfaRequired) => {
                return Redirect::to(&format!("/verify?next={}", encode("/security")))
                    .into_response();
            }
            Some(ProblemCode::EnrollmentRequired) => {}
            _ => return super::refusal_page(&desk, &session, &me, rejection).await,
        }
    }
    let mfa = desk.mfa();
    let loaded = async {
        Ok::<_, mfa_core::Error>((
            mfa.status(&subject, &SessionState::default()).await?,
            mfa.devices(&subject).await?,
        ))
    }
    .await;
    let (status, devices) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return super::service_error(&desk, &session, &me, &error).await,
    };
    let csrf = csrf_token(&session).await;
    let frame = desk.frame("Password & Security", Some(&me), Nav::Profile, &csrf);
    let enrolled = !status.authenticators.is_empty() || !status.channels.is_empty();
    let methods = status.rule.methods;
    let disabled = status.rule.requirement == Requirement::Disabled;
    let required = matches!(status.rule.requirement, Requirement::Required { .. });
    let next = next
        .next
        .as_deref()
        .map(safe_next)
        .filter(|n| *n != "/")
        .unwrap_or("/tickets");
    let requirement = match status.decision {
        Decision::EnrollNow { .. } => Some(notice(
            "error",
            html! {
                strong { "Two-factor authentication is required." }
                " Your organisation asks everyone in your role to set it up before using the desk."
            },
        )),
        Decision::EnrollBy { deadline, .. } => Some(notice(
            "warn",
            html! {
                strong { "Two-factor authentication will be required." }
                " Set it up by " (format::date_time(deadline)) "."
            },
        )),
        _ => None,
    };
    let body = html! {
        div.with-sidebar {
            (layout::profile_menu())
            div.content #security data-next=(next) {
                section.card {
                    h1 { "Password & Security" }
                    h2 { "Password" }
                    p.muted { "Signed in as " strong { (me.email) } ". The demo accounts' passwords are fixed." }
                }
                section.card #two-factor {
                    h2 {
                        "Two-Factor Authentication "
                        @if enrolled { span.pill.on #mfa-state { "On" } } @else { span.pill.off #mfa-state { "Off" } }
                    }
                    @if let Some(requirement) = requirement { (requirement) }
                    div #security-message role="alert" hidden {}
                    @if disabled {
                        p.muted { "Your administrator has turned two-factor authentication off for your role." }
                    } @else {
                        p.muted { "A second step at sign-in: a code from an app on your phone, or one we send you." }
                        (authenticators(&status.authenticators, methods.app))
                        (setup_panels(&subject, methods.app, methods.email, methods.sms))
                    }
                    (channels(&status.channels))
                    @if enrolled {
                        (recovery(status.recovery_codes_left, status.recovery_codes_low))
                    }
                    (remembered(&devices))
                    @if enrolled && !required {
                        div.danger-zone {
                            h3 { "Turn off two-factor authentication" }
                            p.muted { "Removes every authenticator, e-mail/SMS code and recovery code." }
                            button.danger #disable-mfa type="button" { "Turn off" }
                        }
                    }
                }
            }
        }
        (codes_dialog())
        (step_up_dialog(&subject, &status))
    };
    layout::respond(StatusCode::OK, layout::page(&frame, body))
}

fn authenticators(list: &[mfa_core::service::AuthenticatorInfo], allowed: bool) -> Markup {
    html! {
        div.block {
            h3 { "Authenticator apps" }
            @if list.is_empty() {
                p.empty { "No authenticator app yet. Google Authenticator, Microsoft Authenticator and any other TOTP app work." }
            } @else {
                ul.items #authenticators {
                    @for app in list {
                        li data-id=(app.id.as_str()) {
                            form.inline.rename data-rename=(app.id.as_str()) {
                                input type="text" name="name" value=(app.name) maxlength="64" aria-label="Name" required;
                                button.small type="submit" { "Rename" }
                            }
                            span.muted.small {
                                "Added " (format::date(app.created_at))
                                @if let Some(used) = app.last_used_at { " · last used " (format::date_time(used)) }
                            }
                            button.small.danger type="button" data-remove-app=(app.id.as_str()) { "Remove" }
                        }
                    }
                }
            }
            @if allowed {
                button.primary #enable-app type="button" {
                    @if list.is_empty() { "Enable" } @else { "Add another authenticator app" }
                }
            }
        }
    }
}

fn setup_panels(subject: &Subject, app: bool, email: bool, sms: bool) -> Markup {
    let email_to = subject.address(Channel::Email).filter(|_| email);
    let sms_to = subject.address(Channel::Sms).filter(|_| sms);
    html! {
        @if app {
            div.panel #app-setup hidden {
                h3 { "Set up your authenticator app" }
                div.setup {
                    div.qr { img #qr alt="QR code to scan with your authenticator app"; }
                    ol.steps {
                        li { "Open Google Authenticator, Microsoft Authenticator or another app and add an account." }
                        li { "Scan the QR code, or type this key: " br; code #totp-key {} br;
                             span.muted.small #totp-details {} }
                        li { "Name it and enter the 6-digit code the app shows." }
                    }
                }
                form.stack #app-confirm autocomplete="off" {
                    label { "Name" input #app-name type="text" name="name" value="Authenticator app" maxlength="64" required; }
                    label { "Code from the app" input #app-code type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="10" required; }
                    div.row {
                        button.primary type="submit" { "Confirm" }
                        button.link type="button" data-cancel="app-setup" { "Cancel" }
                    }
                }
            }
        }
        @if email_to.is_some() || sms_to.is_some() {
            p { button.link #no-app type="button" { "I don't have an authenticator app" } }
            div.panel #channel-choice hidden {
                h3 { "Get codes by e-mail or SMS instead" }
                p.muted { "We send a code each time you sign in. Codes expire after 5 minutes." }
                div.row {
                    @if let Some(to) = email_to {
                        button.secondary type="button" data-channel-start="email" { "E-mail me at " (to) }
                    }
                    @if let Some(to) = sms_to {
                        button.secondary type="button" data-channel-start="sms" { "Text me at " (to) }
                    }
                }
                form.stack #channel-confirm hidden autocomplete="off" {
                    p #channel-sent {}
                    label { "Code" input #channel-code type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="10" required; }
                    div.row {
                        button.primary type="submit" { "Confirm" }
                        button.link type="button" data-cancel="channel-choice" { "Cancel" }
                    }
                }
            }
        }
    }
}

fn channels(list: &[mfa_core::service::ChannelInfo]) -> Markup {
    html! {
        @if !list.is_empty() {
            div.block {
                h3 { "E-mail and SMS codes" }
                ul.items #channels {
                    @for channel in list {
                        li {
                            strong { @if channel.channel == Channel::Email { "E-mail" } @else { "SMS" } }
                            span.muted.small {
                                "Added " (format::date(channel.added_at))
                                @if !channel.address_current { " · your address changed: set it up again" }
                            }
                            button.small.danger type="button" data-remove-channel=(channel.channel.as_str()) { "Remove" }
                        }
                    }
                }
            }
        }
    }
}

fn recovery(left: u32, low: bool) -> Markup {
    html! {
        div.block {
            h3 { "Recovery codes" }
            p #recovery-left class=(if low { "warn-text" } else { "muted" }) {
                (left) " of 10 unused."
                @if low { " You are running out: generate new ones." }
                " Each works once, if you lose your phone."
            }
            button.secondary #regenerate-codes type="button" { "Generate new recovery codes" }
        }
    }
}

fn remembered(devices: &[mfa_core::service::DeviceInfo]) -> Markup {
    html! {
        div.block {
            h3 { "Remembered browsers" }
            @if devices.is_empty() {
                p.empty { "No remembered browsers. Tick \"Remember this browser\" at sign-in to skip the second step on a browser of yours." }
            } @else {
                ul.items #devices {
                    @for device in devices {
                        li {
                            strong { (device.name) }
                            span.muted.small {
                                "Remembered " (format::date(device.created_at)) " · until " (format::date(device.expires_at))
                            }
                            button.small.danger type="button" data-revoke-device=(device.id.as_str()) { "Forget" }
                        }
                    }
                }
            }
        }
    }
}

fn codes_dialog() -> Markup {
    html! {
        dialog #codes-dialog {
            h2 { "Save your recovery codes" }
            p { "Each code signs you in once if you lose your phone. They are shown only now: keep them somewhere safe." }
            ol.codes #recovery-codes {}
            div.row {
                button.secondary #copy-codes type="button" { "Copy" }
                button.secondary #download-codes type="button" { "Download" }
                button.primary #codes-saved type="button" { "I have saved them" }
            }
        }
    }
}

fn step_up_dialog(subject: &Subject, status: &mfa_core::service::Status) -> Markup {
    let has_email = status.channels.iter().any(|c| c.channel == Channel::Email);
    let has_sms = status.channels.iter().any(|c| c.channel == Channel::Sms);
    let _ = subject;
    html! {
        dialog #step-up {
            form.stack #step-up-form method="dialog" autocomplete="off" {
                h2 { "Confirm it's you" }
                p.muted { "This change needs a fresh code." }
                div #step-up-message role="alert" hidden {}
                label { "Method"
                    select #step-up-method {
                        @if !status.authenticators.is_empty() { option value="totp" { "Authenticator app" } }
                        @if has_email { option value="email" { "Code by e-mail" } }
                        @if has_sms { option value="sms" { "Code by SMS" } }
                        option value="recovery" { "Recovery code" }
                    }
                }
                button.link #step-up-send type="button" hidden { "Send me the code" }
                label { "Code" input #step-up-code type="text" autocomplete="one-time-code" maxlength="64"; }
                div.row {
                    button.primary type="submit" value="verify" { "Confirm" }
                    button.link type="button" #step-up-cancel { "Cancel" }
                }
            }
        }
    }
}
