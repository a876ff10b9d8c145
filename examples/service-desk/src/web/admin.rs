//! Configuration → Advanced Settings (administrators whose session passed
//! the second step itself: the `Admin` extractor, the same rule as the
//! MFA administrator endpoints): Security (the policy, with a dry run
//! before saving), People (reset someone's MFA), Audit log. And the
//! development outbox.

use core::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, PreEscaped, html};
use mfa_axum::{Admin, Rejection};
use mfa_core::audit::{AuditAction, AuditEvent, AuditQuery};
use mfa_core::policy::{Requirement, RolePolicy};
use mfa_core::{Role, SubjectId};
use serde::Deserialize;
use tower_sessions::Session;

use super::layout::{self, Nav, notice};
use super::{Desk, Me, csrf_token, format, redirect_for, refusal_code};
use crate::people::Person;

/// The administrator, or the answer for everyone else: the second step
/// or enrollment first, a friendly 403 for people without the role.
async fn admin(
    desk: &Desk,
    session: &Session,
    me: &Person,
    here: &str,
    admin: Result<Admin, Rejection>,
) -> Result<(), Response> {
    let rejection = match admin {
        Ok(_) => return Ok(()),
        Err(rejection) => rejection,
    };
    let code = refusal_code(&rejection);
    if let Some(redirect) = redirect_for(code, here) {
        return Err(redirect);
    }
    if code == Some(mfa_core::http::ProblemCode::NotAdmin) {
        let csrf = csrf_token(session).await;
        let frame = desk.frame("Not allowed", Some(me), Nav::Configuration, &csrf);
        return Err(layout::error_page(
            &frame,
            StatusCode::FORBIDDEN,
            "Administrators only",
            "Configuration is open to administrators. Ask one if you need a setting changed.",
        ));
    }
    Err(super::refusal_page(desk, session, me, &rejection).await)
}

/// `GET /admin/security`: per role, Disabled / Allowed / Enforced with a
/// grace period, which methods count, remembered browsers. The form's
/// script runs the dry run (`POST /mfa/admin/policy/dry-run`) and shows
/// how many people would have to enroll before it saves
/// (`PUT /mfa/admin/policy`).
pub(crate) async fn security(
    State(desk): State<Desk>,
    session: Session,
    axum::Extension(Me(me)): axum::Extension<Me>,
    allowed: Result<Admin, Rejection>,
) -> Response {
    if let Err(response) = admin(&desk, &session, &me, "/admin/security", allowed).await {
        return response;
    }
    let policy = match desk.mfa().policy().await {
        Ok(policy) => policy,
        Err(error) => return super::service_error(&desk, &session, &me, &error).await,
    };
    // The JSON the script starts from (kept whole: the fields the form
    // does not show, like when a requirement started, must survive).
    let json = serde_json::to_string(&policy)
        .unwrap_or_else(|_| "{}".to_owned())
        .replace('<', "\\u003c");
    let csrf = csrf_token(&session).await;
    let frame = desk.frame("Security settings", Some(&me), Nav::Configuration, &csrf);
    let body = html! {
        div.with-sidebar {
            (layout::admin_menu("/admin/security"))
            div.content {
                section.card {
                    p.crumb { "Configuration › Advanced Settings › Security" }
                    h1 { "Two-factor authentication" }
                    p.muted { "Allow people to protect their accounts with a second step, or enforce it for everyone in a role." }
                    div #policy-message role="alert" hidden {}
                    form #policy-form {
                        script #policy-json type="application/json" { (PreEscaped(json)) }
                        (role_fieldset("agent", "Agents", policy.rule(&Role::AGENT)))
                        (role_fieldset("end_user", "End users", policy.rule(&Role::END_USER)))
                        div #dry-run.panel hidden {}
                        div.row {
                            button.secondary #policy-preview type="submit" { "Preview changes" }
                            button.primary #policy-save type="button" disabled { "Save" }
                        }
                    }
                }
            }
        }
    };
    layout::respond(StatusCode::OK, layout::page(&frame, body))
}

fn role_fieldset(role: &str, label: &str, rule: &RolePolicy) -> Markup {
    let mode = match rule.requirement {
        Requirement::Disabled => "disabled",
        Requirement::Optional => "optional",
        Requirement::Required { .. } => "required",
    };
    let grace_days = match rule.requirement {
        Requirement::Required { grace } => grace.as_secs() / 86_400,
        _ => 7,
    };
    let remember_days = rule
        .remember_device
        .map_or(30, |d: Duration| d.as_secs() / 86_400);
    let radio = |value: &str, text: &str, hint: &str| {
        html! {
            label.choice {
                input type="radio" name={(role) "-mode"} value=(value) checked[mode == value];
                strong { (text) } span.muted.small { (hint) }
            }
        }
    };
    html! {
        fieldset.role data-role=(role) {
            legend { (label) }
            (radio("disabled", "Disabled", "No second step for anyone in this role."))
            (radio("optional", "Allowed", "People may turn it on for their own account."))
            (radio("required", "Enforced", "Everyone must set it up, after a grace period."))
            label.inline { "Grace period "
                input.num type="number" name={(role) "-grace"} min="0" max="365" value=(grace_days);
                " days (0: at their next request)" }
            p.small { "Methods that count:" }
            div.row {
                label.check { input type="checkbox" name={(role) "-app"} checked[rule.methods.app]; " Authenticator app" }
                label.check { input type="checkbox" name={(role) "-email"} checked[rule.methods.email]; " E-mail codes" }
                label.check { input type="checkbox" name={(role) "-sms"} checked[rule.methods.sms]; " SMS codes" }
            }
            div.row {
                label.check { input type="checkbox" name={(role) "-remember"} checked[rule.remember_device.is_some()]; " Allow \"remember this browser\" for " }
                input.num type="number" name={(role) "-remember-days"} min="1" max="365" value=(remember_days);
                " days"
            }
        }
    }
}

/// `GET /admin/people`: everyone, their second factors, and a reset.
pub(crate) async fn people(
    State(desk): State<Desk>,
    session: Session,
    axum::Extension(Me(me)): axum::Extension<Me>,
    allowed: Result<Admin, Rejection>,
) -> Response {
    if let Err(response) = admin(&desk, &session, &me, "/admin/people", allowed).await {
        return response;
    }
    let mut rows = Vec::new();
    for person in desk.people.all() {
        let Some(subject) = person.subject() else {
            continue;
        };
        match desk.mfa().factors(&subject).await {
            Ok(factors) => rows.push((person, factors)),
            Err(error) => return super::service_error(&desk, &session, &me, &error).await,
        }
    }
    let csrf = csrf_token(&session).await;
    let frame = desk.frame("People", Some(&me), Nav::Configuration, &csrf);
    let body = html! {
        div.with-sidebar {
            (layout::admin_menu("/admin/people"))
            div.content {
                section.card {
                    p.crumb { "Configuration › Advanced Settings › People" }
                    h1 { "People" }
                    div #people-message role="alert" hidden {}
                    table.list #people {
                        thead { tr { th { "Name" } th { "Role" } th { "Two-factor" } th {} } }
                        tbody {
                            @for (person, factors) in &rows {
                                tr data-person=(person.id) {
                                    td { strong { (person.name) } br; span.muted.small { (person.email) } }
                                    td { (person.role_label()) }
                                    td {
                                        @if factors.authenticators == 0 && factors.channels.is_empty() {
                                            span.pill.off { "Off" }
                                        } @else {
                                            span.pill.on { "On" } " "
                                            span.muted.small {
                                                (factors.authenticators) " app(s)"
                                                @for channel in &factors.channels { ", " (channel.as_str()) }
                                                ", " (factors.recovery_codes) " recovery codes"
                                            }
                                        }
                                    }
                                    td {
                                        button.small.danger type="button" data-reset=(person.id) data-name=(person.name) {
                                            "Reset two-factor"
                                        }
                                    }
                                }
                            }
                        }
                    }
                    p.muted.small { "A reset removes the person's authenticator apps, e-mail/SMS codes, recovery codes and remembered browsers, and tells them by e-mail. They set it up again at their next sign-in if it is enforced." }
                }
            }
        }
    };
    layout::respond(StatusCode::OK, layout::page(&frame, body))
}

/// The audit page's filters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditFilter {
    person: Option<String>,
    action: Option<String>,
    before: Option<u64>,
}

/// Events per page.
const PAGE: usize = 25;

/// `GET /admin/audit`: newest first, by person and by action, paged.
pub(crate) async fn audit(
    State(desk): State<Desk>,
    session: Session,
    axum::Extension(Me(me)): axum::Extension<Me>,
    Query(filter): Query<AuditFilter>,
    allowed: Result<Admin, Rejection>,
) -> Response {
    if let Err(response) = admin(&desk, &session, &me, "/admin/audit", allowed).await {
        return response;
    }
    let person = filter
        .person
        .as_deref()
        .filter(|p| !p.is_empty())
        .and_then(|p| SubjectId::new(p).ok());
    let action = filter
        .action
        .as_deref()
        .filter(|a| !a.is_empty())
        .and_then(|a| AuditAction::parse(a).ok());
    let (events, more) = match page_of_events(&desk, person.clone(), action, filter.before).await {
        Ok(page) => page,
        Err(error) => return super::service_error(&desk, &session, &me, &error).await,
    };
    let csrf = csrf_token(&session).await;
    let frame = desk.frame("Audit log", Some(&me), Nav::Configuration, &csrf);
    let person_value = person.as_ref().map_or("", SubjectId::as_str);
    let action_value = action.map_or("", AuditAction::as_str);
    let older = events.last().filter(|_| more).map(|e| {
        format!(
            "/admin/audit?person={person_value}&action={action_value}&before={}",
            e.id
        )
    });
    let body = html! {
        div.with-sidebar {
            (layout::admin_menu("/admin/audit"))
            div.content {
                section.card {
                    p.crumb { "Configuration › Advanced Settings › Audit log" }
                    h1 { "Audit log" }
                    form.filters method="get" action="/admin/audit" {
                        label { "Person "
                            select name="person" {
                                option value="" { "Everyone" }
                                @for p in desk.people.all() {
                                    option value=(p.id) selected[p.id == person_value] { (p.name) }
                                }
                            }
                        }
                        label { "Action "
                            select name="action" {
                                option value="" { "Any" }
                                @for a in AuditAction::ALL {
                                    option value=(a.as_str()) selected[a.as_str() == action_value] { (a.as_str().replace('_', " ")) }
                                }
                            }
                        }
                        button.secondary type="submit" { "Filter" }
                    }
                    @if events.is_empty() {
                        p.empty { "No events match." }
                    } @else {
                        table.list #audit {
                            thead { tr { th { "When" } th { "Person" } th { "Action" } th { "By" } th { "Detail" } } }
                            tbody {
                                @for event in &events { (audit_row(&desk, event)) }
                            }
                        }
                    }
                    div.row {
                        @if filter.before.is_some() {
                            a.button.secondary href={"/admin/audit?person=" (person_value) "&action=" (action_value)} { "Newest" }
                        }
                        @if let Some(older) = older { a.button.secondary #audit-older href=(older) { "Older →" } }
                    }
                }
            }
        }
    };
    layout::respond(StatusCode::OK, layout::page(&frame, body))
}

/// Up to [`PAGE`] events (by `person`, of `action`) older than `before`,
/// and whether there may be more. The action is filtered here, over at
/// most ten store pages.
async fn page_of_events(
    desk: &Desk,
    person: Option<SubjectId>,
    action: Option<AuditAction>,
    mut before: Option<u64>,
) -> mfa_core::Result<(Vec<AuditEvent>, bool)> {
    let mut events = Vec::new();
    let batch = if action.is_some() {
        500
    } else {
        PAGE as u32 + 1
    };
    for _ in 0..10 {
        let mut query = AuditQuery::latest(batch);
        query.subject = person.clone();
        query.before = before;
        let page = desk.mfa().audit_events(&query).await?;
        let exhausted = page.len() < batch as usize;
        before = page.last().map(|e| e.id);
        events.extend(
            page.into_iter()
                .filter(|e| action.is_none_or(|a| e.event.action == a)),
        );
        if events.len() > PAGE {
            events.truncate(PAGE);
            return Ok((events, true));
        }
        if exhausted {
            return Ok((events, false));
        }
    }
    Ok((events, true))
}

fn audit_row(desk: &Desk, event: &AuditEvent) -> Markup {
    let name = |id: &SubjectId| {
        desk.people
            .get(id.as_str())
            .map_or_else(|| id.as_str().to_owned(), |p| p.name.clone())
    };
    let by = match &event.event.actor {
        mfa_core::audit::Actor::Subject(id) => name(id),
        mfa_core::audit::Actor::Admin(id) => format!("{} (admin)", name(id)),
        _ => "system".to_owned(),
    };
    html! {
        tr {
            td.nowrap { (format::date_time(event.event.at)) }
            td { (event.event.subject.as_ref().map_or_else(|| "—".to_owned(), name)) }
            td { code { (event.event.action.as_str()) } }
            td { (by) }
            td.small {
                @if let Some(factor) = event.event.factor { (factor.as_str()) " " }
                (event.event.detail.as_deref().unwrap_or(""))
            }
        }
    }
}

/// `GET /dev/outbox` (only with the development flag): what the desk
/// "sent" by e-mail and SMS, newest first.
pub(crate) async fn outbox(
    State(desk): State<Desk>,
    session: Session,
    me: Option<axum::Extension<Me>>,
) -> Response {
    let me = me.map(|axum::Extension(Me(person))| person);
    let messages = desk
        .outbox
        .as_ref()
        .map(|o| o.messages())
        .unwrap_or_default();
    let csrf = csrf_token(&session).await;
    let frame = desk.frame("Outbox", me.as_ref(), Nav::Outbox, &csrf);
    let body = html! {
        section.card {
            h1 { "Outbox " span.pill.off { "development" } }
            (notice("info", html! { "E-mail and SMS messages the desk would have sent. This page exists only while the development flag is on (" code { "--no-dev-outbox" } " turns it off)." }))
            @if messages.is_empty() {
                p.empty { "Nothing sent yet." }
            } @else {
                @for message in &messages {
                    article.mail data-channel=(message.channel.as_str()) data-to=(message.to) {
                        p.meta {
                            span.pill { @if message.channel == mfa_core::Channel::Email { "E-mail" } @else { "SMS" } }
                            " to " strong { (message.to) } " · " (format::date_time(message.at))
                        }
                        h3 { (message.subject) }
                        pre { (message.body) }
                    }
                }
            }
        }
    };
    layout::respond(StatusCode::OK, layout::page(&frame, body))
}
