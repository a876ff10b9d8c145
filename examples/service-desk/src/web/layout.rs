//! The page frame (header, navigation, banners) and small shared pieces.
//! maud escapes every interpolated value; nothing here builds HTML by hand.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::people::Person;

/// Where in the navigation a page belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    None,
    Tickets,
    Profile,
    Configuration,
    Outbox,
}

/// The comment the enrollment banner replaces (see `enroll_banner`).
pub(crate) const BANNER_SLOT: &str = "<!--enroll-banner-->";

/// What every page frame needs.
pub(crate) struct Frame<'a> {
    pub(crate) title: &'a str,
    pub(crate) me: Option<&'a Person>,
    pub(crate) nav: Nav,
    /// The session's CSRF token (for the sign-out form).
    pub(crate) csrf: &'a str,
    /// Whether the development outbox exists.
    pub(crate) outbox: bool,
}

/// A full page.
pub(crate) fn page(frame: &Frame<'_>, body: Markup) -> Markup {
    let tab = |nav: Nav| {
        if frame.nav == nav {
            "tab active"
        } else {
            "tab"
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · Service Desk" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/tickets" { span.logo { "SD" } " Service Desk" }
                    @if let Some(me) = frame.me {
                        nav {
                            a class=(tab(Nav::Tickets)) href="/tickets" { "Tickets" }
                            @if me.is_admin() {
                                a class=(tab(Nav::Configuration)) href="/admin/security" { "Configuration" }
                            }
                            @if frame.outbox {
                                a class=(tab(Nav::Outbox)) href="/dev/outbox" { "Outbox (dev)" }
                            }
                        }
                        div.me {
                            a class=(tab(Nav::Profile)) href="/security" title="Profile" {
                                span.avatar { (initials(&me.name)) } (me.name)
                            }
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(frame.csrf);
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    } @else if frame.outbox {
                        nav { a class=(tab(Nav::Outbox)) href="/dev/outbox" { "Outbox (dev)" } }
                    }
                }
                (PreEscaped(BANNER_SLOT))
                main { (body) }
                footer { "Service Desk — the mfa demo. Two-factor authentication by mfa-core, mfa-axum and mfa-store-sql." }
            }
        }
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect()
}

/// A page answered with `status`.
pub(crate) fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, Html(markup.into_string())).into_response();
    response.headers_mut().insert(
        "cache-control",
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// A friendly error page (never a stack trace).
pub(crate) fn error_page(
    frame: &Frame<'_>,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> Response {
    respond(
        status,
        page(
            frame,
            html! {
                section.card.narrow {
                    h1 { (heading) }
                    p { (text) }
                    p { a.button href="/tickets" { "Back to tickets" } }
                }
            },
        ),
    )
}

/// A callout.
pub(crate) fn notice(kind: &str, text: Markup) -> Markup {
    html! { div class={"notice " (kind)} role="status" { (text) } }
}

/// The left-hand menu of Configuration → Advanced Settings.
pub(crate) fn admin_menu(active: &str) -> Markup {
    let item = |href: &str, label: &str| {
        html! {
            a class=(if href == active { "side active" } else { "side" }) href=(href) { (label) }
        }
    };
    html! {
        aside.sidebar {
            h3 { "Configuration" }
            p.crumb { "Advanced Settings" }
            (item("/admin/security", "Security"))
            (item("/admin/people", "People"))
            (item("/admin/audit", "Audit log"))
        }
    }
}

/// The left-hand menu of the profile.
pub(crate) fn profile_menu() -> Markup {
    html! {
        aside.sidebar {
            h3 { "Profile" }
            a.side.active href="/security" { "Password & Security" }
        }
    }
}
