//! The endpoints, once: adapters mount exactly these (method, path)
//! pairs under their prefix, and the OpenAPI document is generated from
//! the same table.

use crate::subject::Channel;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the OpenAPI document).
    Public,
    /// A subject who passed the first factor, verified or not: the
    /// endpoints of the second step itself (status, send, verify,
    /// enrollment — which asks for step-up on its own once a factor
    /// exists).
    SecondStep,
    /// A subject whose session passed the second step (or who has no
    /// second factor and is not required to).
    Verified,
    /// A subject with the administrator role whose session passed the
    /// second step itself: a remembered browser is not enough, and an
    /// administrator without a factor must enroll one first.
    Admin,
}

/// One endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// The path under the prefix, with `{name}` parameters, as OpenAPI
    /// writes them.
    pub path: &'static str,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// Who may call it.
    pub access: Access,
    /// A one-line summary (OpenAPI `summary`).
    pub summary: &'static str,
}

/// The endpoints of the HTTP contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /status`.
    Status,
    /// `POST /totp`.
    StartTotp,
    /// `POST /totp/confirm`.
    ConfirmTotp,
    /// `POST /channels/{channel}`.
    StartChannel,
    /// `POST /channels/{channel}/confirm`.
    ConfirmChannel,
    /// `POST /send/{channel}`.
    SendCode,
    /// `POST /verify`.
    Verify,
    /// `POST /recovery-codes`.
    RegenerateRecoveryCodes,
    /// `GET /factors`.
    ListFactors,
    /// `PATCH /factors/totp/{id}`.
    RenameAuthenticator,
    /// `DELETE /factors/totp/{id}`.
    RemoveAuthenticator,
    /// `DELETE /factors/channels/{channel}`.
    RemoveChannel,
    /// `GET /devices`.
    ListDevices,
    /// `DELETE /devices/{id}`.
    RevokeDevice,
    /// `POST /disable`.
    Disable,
    /// `GET /admin/policy`.
    GetPolicy,
    /// `PUT /admin/policy`.
    PutPolicy,
    /// `POST /admin/policy/dry-run`.
    DryRun,
    /// `POST /admin/subjects/{id}/reset`.
    ResetSubject,
    /// `GET /admin/audit`.
    Audit,
    /// `GET /openapi.json`.
    OpenApi,
}

/// Every endpoint of the contract, in documentation order.
pub const ROUTES: &[Route] = &[
    route(
        "GET",
        "/status",
        Endpoint::Status,
        Access::SecondStep,
        "What the subject has set up and what the policy asks of this session",
    ),
    route(
        "POST",
        "/totp",
        Endpoint::StartTotp,
        Access::SecondStep,
        "Start enrolling an authenticator app (QR code and key)",
    ),
    route(
        "POST",
        "/totp/confirm",
        Endpoint::ConfirmTotp,
        Access::SecondStep,
        "Confirm an authenticator app with its first code",
    ),
    route(
        "POST",
        "/channels/{channel}",
        Endpoint::StartChannel,
        Access::SecondStep,
        "Start registering e-mail or SMS codes (a code is sent)",
    ),
    route(
        "POST",
        "/channels/{channel}/confirm",
        Endpoint::ConfirmChannel,
        Access::SecondStep,
        "Confirm e-mail or SMS codes with the code sent",
    ),
    route(
        "POST",
        "/send/{channel}",
        Endpoint::SendCode,
        Access::SecondStep,
        "Send a sign-in code by e-mail or SMS",
    ),
    route(
        "POST",
        "/verify",
        Endpoint::Verify,
        Access::SecondStep,
        "Pass the second step (or step up) with a code",
    ),
    route(
        "POST",
        "/recovery-codes",
        Endpoint::RegenerateRecoveryCodes,
        Access::Verified,
        "Replace the recovery codes (step-up)",
    ),
    route(
        "GET",
        "/factors",
        Endpoint::ListFactors,
        Access::Verified,
        "The subject's authenticators and e-mail/SMS factors",
    ),
    route(
        "PATCH",
        "/factors/totp/{id}",
        Endpoint::RenameAuthenticator,
        Access::Verified,
        "Rename an authenticator",
    ),
    route(
        "DELETE",
        "/factors/totp/{id}",
        Endpoint::RemoveAuthenticator,
        Access::Verified,
        "Remove an authenticator (step-up)",
    ),
    route(
        "DELETE",
        "/factors/channels/{channel}",
        Endpoint::RemoveChannel,
        Access::Verified,
        "Remove e-mail or SMS codes (step-up)",
    ),
    route(
        "GET",
        "/devices",
        Endpoint::ListDevices,
        Access::Verified,
        "Remembered browsers",
    ),
    route(
        "DELETE",
        "/devices/{id}",
        Endpoint::RevokeDevice,
        Access::Verified,
        "Forget a remembered browser (step-up)",
    ),
    route(
        "POST",
        "/disable",
        Endpoint::Disable,
        Access::Verified,
        "Turn two-factor authentication off (step-up)",
    ),
    route(
        "GET",
        "/admin/policy",
        Endpoint::GetPolicy,
        Access::Admin,
        "The security policy",
    ),
    route(
        "PUT",
        "/admin/policy",
        Endpoint::PutPolicy,
        Access::Admin,
        "Replace the security policy",
    ),
    route(
        "POST",
        "/admin/policy/dry-run",
        Endpoint::DryRun,
        Access::Admin,
        "How many people a candidate policy would force to enroll",
    ),
    route(
        "POST",
        "/admin/subjects/{id}/reset",
        Endpoint::ResetSubject,
        Access::Admin,
        "Reset a person's two-factor authentication",
    ),
    route(
        "GET",
        "/admin/audit",
        Endpoint::Audit,
        Access::Admin,
        "Audit events, newest first, paged",
    ),
    route(
        "GET",
        "/openapi.json",
        Endpoint::OpenApi,
        Access::Public,
        "This API's OpenAPI document",
    ),
];

const fn route(
    method: &'static str,
    path: &'static str,
    endpoint: Endpoint,
    access: Access,
    summary: &'static str,
) -> Route {
    Route {
        method,
        path,
        endpoint,
        access,
        summary,
    }
}

/// A matched request: the route and its path parameter, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Matched<'a> {
    pub(crate) route: &'static Route,
    pub(crate) param: Option<&'a str>,
}

/// What a path under the prefix is, for `method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup<'a> {
    /// A route.
    Found(Matched<'a>),
    /// The path exists, not with this method.
    WrongMethod,
    /// No such path.
    Missing,
}

/// Finds the route for `method` and `path` (under the prefix, without a
/// query string).
pub(crate) fn lookup<'a>(method: &str, path: &'a str) -> Lookup<'a> {
    let mut path_exists = false;
    for route in ROUTES {
        if let Some(param) = matches(route.path, path) {
            if route.method == method {
                return Lookup::Found(Matched { route, param });
            }
            path_exists = true;
        }
    }
    if path_exists {
        Lookup::WrongMethod
    } else {
        Lookup::Missing
    }
}

/// The methods `path` (under the prefix) has, in table order: the
/// `Allow` header of a 405.
pub(crate) fn methods(path: &str) -> Vec<&'static str> {
    ROUTES
        .iter()
        .filter(|route| matches(route.path, path).is_some())
        .map(|route| route.method)
        .collect()
}

/// Whether `path` fits `template`; the one `{param}` segment's value.
fn matches<'a>(template: &str, path: &'a str) -> Option<Option<&'a str>> {
    let mut param = None;
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(param),
            (Some(ts), Some(ps)) if ts.starts_with('{') => {
                if ps.is_empty() {
                    return None;
                }
                param = Some(ps);
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

/// The channel named in a path (`email` or `sms`).
pub(crate) fn channel(param: Option<&str>) -> Option<Channel> {
    param.and_then(|p| Channel::parse(p).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_found_and_only_with_its_method() {
        for route in ROUTES {
            let path = route
                .path
                .replace("{channel}", "email")
                .replace("{id}", "abc");
            match lookup(route.method, &path) {
                Lookup::Found(m) => assert_eq!(m.route, route),
                other => panic!("{} {path}: {other:?}", route.method),
            }
        }
        assert_eq!(lookup("DELETE", "/status"), Lookup::WrongMethod);
        assert_eq!(methods("/status"), ["GET"]);
        assert_eq!(methods("/admin/policy"), ["GET", "PUT"]);
        assert!(methods("/nope").is_empty());
        assert_eq!(lookup("GET", "/nope"), Lookup::Missing);
        assert_eq!(lookup("GET", "/status/"), Lookup::Missing);
        assert_eq!(lookup("POST", "/channels//confirm"), Lookup::Missing);
        let Lookup::Found(m) = lookup("POST", "/channels/sms/confirm") else {
            panic!("not found");
        };
        assert_eq!(
            (m.route.endpoint, m.param),
            (Endpoint::ConfirmChannel, Some("sms"))
        );
    }

    #[test]
    fn method_and_path_pairs_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for route in ROUTES {
            assert!(seen.insert((route.method, route.path)), "{route:?}");
        }
    }
}
