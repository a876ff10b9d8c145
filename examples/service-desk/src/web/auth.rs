//! Signing in: the password (first factor) and the second-step page.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use mfa_axum::{Rejection, SecondStepPending};
use mfa_core::FactorKind;
use mfa_core::http::{ProblemCode, safe_next};
use mfa_core::policy::{Decision, SessionState};
use serde::Deserialize;
use tower_sessions::Session;

use super::layout::{self, Nav, notice};
use super::{Desk, Me, USER_KEY, csrf_ok, csrf_token, encode, refusal_code};

/// `?next=` of the sign-in and verify pages.
#[derive(Debug, Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

impl Next {
    fn target(&self) -> &str {
        safe_next(self.next.as_deref().unwrap_or("/tickets"))
    }
}

/// The sign-in form.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `GET /login`.
pub(crate) async fn login_page(
    State(desk): State<Desk>,
    session: Session,
    Query(next): Query<Next>,
) -> Response {
    login_form(&desk, &session, next.target(), None, StatusCode::OK).await
}

async fn login_form(
    desk: &Desk,
    session: &Session,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let csrf = csrf_token(session).await;
    let frame = desk.frame("Sign in", None, Nav::None, &csrf);
    let body = html! {
        section.card.narrow {
            h1 { "Sign in to Service Desk" }
            @if let Some(error) = error { (notice("error", html! { (error) })) }
            form.stack method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                label { "E-mail" input type="email" name="email" autocomplete="username" required autofocus; }
                label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                button.primary type="submit" { "Sign in" }
            }
        }
        section.card.narrow.muted {
            h2 { "Demo accounts" }
            table {
                thead { tr { th { "E-mail" } th { "Password" } th { "Role" } } }
                tbody {
                    @for person in desk.people.all() {
                        tr { td { code { (person.email) } } td { code { (person.password) } } td { (person.role_label()) } }
                    }
                }
            }
        }
    };
    layout::respond(status, layout::page(&frame, body))
}

/// `POST /login`: checks the password, then starts a new session for the
/// person (a new id: one planted before sign-in is worthless) and sends
/// them on; the MFA gate takes over from there.
pub(crate) async fn login(
    State(desk): State<Desk>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(&form.next).to_owned();
    if !csrf_ok(&session, &form.csrf).await {
        return login_form(
            &desk,
            &session,
            &next,
            Some("The form expired. Please sign in again."),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let Some(person) = desk.people.sign_in(&form.email, &form.password).await else {
        return login_form(
            &desk,
            &session,
            &next,
            Some("That e-mail and password do not match an account."),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    // Nothing of the previous session carries over (the MFA state of
    // someone else signed in before in this browser included).
    if session.flush().await.is_err()
        || session.cycle_id().await.is_err()
        || session.insert(USER_KEY, &person.id).await.is_err()
    {
        return unavailable();
    }
    let target = if next == "/" { "/tickets" } else { &next };
    Redirect::to(target).into_response()
}

/// `POST /logout`.
pub(crate) async fn logout(session: Session, Form(form): Form<CsrfOnly>) -> Response {
    if !csrf_ok(&session, &form.csrf).await {
        return Redirect::to("/tickets").into_response();
    }
    match session.flush().await {
        Ok(()) => Redirect::to("/login").into_response(),
        Err(_) => unavailable(),
    }
}

/// A form with only its CSRF token.
#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [("retry-after", "5")],
        "The service is busy; try again in a few seconds.",
    )
        .into_response()
}

/// `GET /verify`: the second step — a code from the app, a recovery code,
/// or a code sent by e-mail or SMS; "remember this browser" when the
/// policy allows. The form posts to `POST /mfa/verify` (the page's script).
pub(crate) async fn verify_page(
    State(desk): State<Desk>,
    session: Session,
    axum::Extension(Me(me)): axum::Extension<Me>,
    Query(next): Query<Next>,
    pending: Result<SecondStepPending, Rejection>,
) -> Response {
    let target = next.target().to_owned();
    let subject = match pending {
        Ok(SecondStepPending(subject)) => subject,
        Err(rejection) => {
            return match refusal_code(&rejection) {
                // Passed already, or nothing to pass: on to the page.
                Some(ProblemCode::Precondition) => Redirect::to(&target).into_response(),
                Some(ProblemCode::EnrollmentRequired) => {
                    Redirect::to(&format!("/security?next={}", encode(&target))).into_response()
                }
                _ => super::refusal_page(&desk, &session, &me, &rejection).await,
            };
        }
    };
    let status = match desk.mfa().status(&subject, &SessionState::default()).await {
        Ok(status) => status,
        Err(error) => return super::service_error(&desk, &session, &me, &error).await,
    };
    let methods = match &status.decision {
        Decision::VerifyNow { methods } => methods.clone(),
        _ => vec![FactorKind::Totp, FactorKind::Recovery],
    };
    let has = |kind| methods.contains(&kind);
    let remember_days = status.rule.remember_device.map(|d| d.as_secs() / 86_400);
    let csrf = csrf_token(&session).await;
    let frame = desk.frame("Two-factor authentication", Some(&me), Nav::None, &csrf);
    let first = [
        FactorKind::Totp,
        FactorKind::Email,
        FactorKind::Sms,
        FactorKind::Recovery,
    ]
    .into_iter()
    .find(|k| has(*k))
    .unwrap_or(FactorKind::Recovery);
    let body = html! {
        section.card.narrow #verify data-next=(target) data-method=(method_name(first)) {
            h1 { "Two-factor authentication" }
            p.lead #verify-prompt { (prompt(first)) }
            div #verify-message role="alert" hidden {}
            form.stack #verify-form autocomplete="off" {
                label { span #code-label { "Code" }
                    input #verify-code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus maxlength="64";
                }
                @if let Some(days) = remember_days {
                    label.check { input #verify-remember type="checkbox" name="remember"; " Remember this browser for " (days) " days" }
                }
                button.primary type="submit" { "Verify" }
            }
            div.alternatives {
                p.small { "Other ways to sign in:" }
                @if has(FactorKind::Totp) {
                    button.link type="button" data-use-method="totp" { "Use my authenticator app" }
                }
                @if has(FactorKind::Email) {
                    button.link type="button" data-send="email" { "Send me a code by e-mail" }
                }
                @if has(FactorKind::Sms) {
                    button.link type="button" data-send="sms" { "Send me a code by SMS" }
                }
                @if has(FactorKind::Recovery) {
                    button.link type="button" data-use-method="recovery" { "Use a recovery code" }
                }
            }
        }
    };
    layout::respond(StatusCode::OK, layout::page(&frame, body))
}

fn method_name(kind: FactorKind) -> &'static str {
    match kind {
        FactorKind::Totp => "totp",
        FactorKind::Email => "email",
        FactorKind::Sms => "sms",
        _ => "recovery",
    }
}

fn prompt(kind: FactorKind) -> &'static str {
    match kind {
        FactorKind::Totp => "Enter the 6-digit code from your authenticator app.",
        FactorKind::Email | FactorKind::Sms => "Ask for a code below, then enter it here.",
        _ => "Enter one of your recovery codes.",
    }
}
