//! The product the second factor protects: tickets.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use mfa_axum::Verified;
use tower_sessions::Session;

use super::layout::{self, Nav};
use super::{Desk, Me, csrf_token, format};

/// `GET /tickets`: agents see every ticket, end users their own.
pub(crate) async fn list(
    State(desk): State<Desk>,
    session: Session,
    axum::Extension(Me(me)): axum::Extension<Me>,
    Verified(_): Verified,
) -> Response {
    let csrf = csrf_token(&session).await;
    let frame = desk.frame("Tickets", Some(&me), Nav::Tickets, &csrf);
    let tickets = desk.people.tickets_for(&me);
    let body = html! {
        section.card {
            h1 { @if me.is_staff() { "All tickets" } @else { "My tickets" } }
            @if tickets.is_empty() {
                p.empty { "No tickets yet. When you ask for help, your requests appear here." }
            } @else {
                table.list #tickets {
                    thead { tr { th { "#" } th { "Subject" } th { "Requester" } th { "Status" } th { "Priority" } th { "Opened" } } }
                    tbody {
                        @for ticket in &tickets {
                            tr {
                                td { (ticket.id) }
                                td { a href={"/tickets/" (ticket.id)} { (ticket.title) } }
                                td { (desk.people.get(&ticket.requester).map_or("—", |p| p.name.as_str())) }
                                td { span class={"pill " (ticket.status)} { (ticket.status) } }
                                td { span class={"pill " (ticket.priority)} { (ticket.priority) } }
                                td { (format::date(ticket.opened)) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout::respond(StatusCode::OK, layout::page(&frame, body))
}

/// `GET /tickets/{id}`.
pub(crate) async fn show(
    State(desk): State<Desk>,
    session: Session,
    axum::Extension(Me(me)): axum::Extension<Me>,
    Verified(_): Verified,
    Path(id): Path<String>,
) -> Response {
    let csrf = csrf_token(&session).await;
    let ticket = id
        .parse()
        .ok()
        .and_then(|id| desk.people.ticket_for(&me, id));
    let Some(ticket) = ticket else {
        let frame = desk.frame("Not found", Some(&me), Nav::Tickets, &csrf);
        return layout::error_page(
            &frame,
            StatusCode::NOT_FOUND,
            "Ticket not found",
            "There is no such ticket, or it is not yours to see.",
        );
    };
    let frame = desk.frame(&ticket.title, Some(&me), Nav::Tickets, &csrf);
    let body = html! {
        section.card #ticket {
            p.crumb { a href="/tickets" { "Tickets" } " › #" (ticket.id) }
            h1 { (ticket.title) }
            p.meta {
                span class={"pill " (ticket.status)} { (ticket.status) } " "
                span class={"pill " (ticket.priority)} { (ticket.priority) }
                " · opened " (format::date(ticket.opened))
            }
            @for (author, text) in &ticket.messages {
                article.message {
                    h3 { (desk.people.get(author).map_or("Someone", |p| p.name.as_str())) }
                    p { (text) }
                }
            }
        }
    };
    layout::respond(StatusCode::OK, layout::page(&frame, body))
}
