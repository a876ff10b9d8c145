//! The OpenAPI 3.1 description of the endpoints, generated from the route
//! table (so it cannot list a path the adapters do not mount, or miss one
//! they do). Committed as `docs/openapi.json`; a test fails when that file
//! is stale.

use serde_json::{Map, Value, json};

use super::problem::ProblemCode;
use super::routes::{Access, Endpoint, ROUTES};

/// The OpenAPI document for endpoints mounted under `prefix`.
#[must_use]
pub fn document(prefix: &str) -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut operation = json!({
            "operationId": operation_id(route.endpoint),
            "summary": route.summary,
            "tags": [tag(route.access)],
            "responses": responses(route.endpoint, route.access),
        });
        let mut parameters = Vec::new();
        if route.path.contains("{channel}") {
            parameters.push(json!({"name": "channel", "in": "path", "required": true,
                "schema": {"type": "string", "enum": ["email", "sms"]}}));
        }
        if route.path.contains("{id}") {
            parameters.push(json!({"name": "id", "in": "path", "required": true,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255}}));
        }
        if route.endpoint == Endpoint::Audit {
            parameters
                .push(json!({"name": "subject", "in": "query", "schema": {"type": "string"}}));
            parameters.push(json!({"name": "before", "in": "query", "schema": {"type": "integer", "minimum": 0}}));
            parameters.push(json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}));
        }
        if let (Some(op), false) = (operation.as_object_mut(), parameters.is_empty()) {
            op.insert("parameters".to_owned(), Value::Array(parameters));
        }
        if let (Some(op), Some(schema)) =
            (operation.as_object_mut(), request_schema(route.endpoint))
        {
            op.insert(
                "requestBody".to_owned(),
                json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
            );
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(entry) = entry.as_object_mut() {
            entry.insert(route.method.to_ascii_lowercase(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mfa",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Two-factor authentication endpoints, the same on every adapter. Errors are RFC 9457 problem details (application/problem+json) with a stable `code`. State-changing requests take application/json only and must come from the same site.",
        },
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {"schemas": schemas()},
    })
}

fn operation_id(endpoint: Endpoint) -> String {
    let debug = format!("{endpoint:?}");
    let mut id = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if i == 0 {
            id.push(c.to_ascii_lowercase());
        } else {
            id.push(c);
        }
    }
    id
}

fn tag(access: Access) -> &'static str {
    match access {
        Access::Public => "meta",
        Access::SecondStep => "second step",
        Access::Verified => "profile",
        Access::Admin => "administration",
    }
}

fn request_schema(endpoint: Endpoint) -> Option<&'static str> {
    match endpoint {
        Endpoint::ConfirmTotp => Some("ConfirmTotpRequest"),
        Endpoint::ConfirmChannel => Some("ConfirmChannelRequest"),
        Endpoint::RenameAuthenticator => Some("RenameRequest"),
        Endpoint::Verify => Some("VerifyRequest"),
        Endpoint::PutPolicy | Endpoint::DryRun => Some("Policy"),
        _ => None,
    }
}

fn responses(endpoint: Endpoint, access: Access) -> Value {
    let (status, description) = match endpoint {
        Endpoint::StartTotp | Endpoint::ConfirmTotp | Endpoint::ConfirmChannel => {
            ("201", "Created")
        }
        Endpoint::StartChannel | Endpoint::SendCode => ("202", "A code is on its way"),
        Endpoint::RemoveAuthenticator
        | Endpoint::RemoveChannel
        | Endpoint::RevokeDevice
        | Endpoint::Disable => ("204", "Done"),
        _ => ("200", "OK"),
    };
    let mut out = Map::new();
    let body = if status == "204" {
        json!({"description": description})
    } else {
        json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}})
    };
    out.insert(status.to_owned(), body);
    let mut codes = vec![ProblemCode::MalformedRequest, ProblemCode::InvalidInput];
    if access != Access::Public {
        codes.extend([ProblemCode::NotAuthenticated, ProblemCode::Unavailable]);
    }
    if request_schema(endpoint).is_some()
        || !matches!(
            endpoint,
            Endpoint::Status
                | Endpoint::ListFactors
                | Endpoint::ListDevices
                | Endpoint::GetPolicy
                | Endpoint::Audit
                | Endpoint::OpenApi
        )
    {
        codes.extend([
            ProblemCode::PayloadTooLarge,
            ProblemCode::UnsupportedMediaType,
            ProblemCode::CrossSite,
        ]);
    }
    match access {
        Access::Verified => codes.extend([
            ProblemCode::MfaRequired,
            ProblemCode::EnrollmentRequired,
            ProblemCode::StepUpRequired,
        ]),
        Access::Admin => codes.extend([
            ProblemCode::MfaRequired,
            ProblemCode::EnrollmentRequired,
            ProblemCode::NotAdmin,
        ]),
        _ => {}
    }
    match endpoint {
        Endpoint::ConfirmTotp | Endpoint::ConfirmChannel | Endpoint::Verify => {
            codes.extend([
                ProblemCode::CodeRejected,
                ProblemCode::Locked,
                ProblemCode::FactorBlocked,
            ]);
        }
        Endpoint::StartChannel | Endpoint::SendCode => {
            codes.extend([
                ProblemCode::TooSoon,
                ProblemCode::FactorBlocked,
                ProblemCode::Precondition,
            ]);
        }
        _ => {}
    }
    codes.extend([ProblemCode::ForbiddenByPolicy, ProblemCode::NotFound]);
    for code in codes {
        let key = code.status().to_string();
        let entry = out.entry(key).or_insert_with(|| {
            json!({"description": "", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
        });
        if let Some(description) = entry.get_mut("description") {
            let text = description.as_str().unwrap_or("");
            let joined = if text.is_empty() {
                code.as_str().to_owned()
            } else {
                format!("{text}, {}", code.as_str())
            };
            *description = Value::String(joined);
        }
    }
    // Locks, sends too soon and an unavailable back end say when to try
    // again.
    for status in ["429", "503"] {
        if let Some(Value::Object(answer)) = out.get_mut(status) {
            answer.insert(
                "headers".to_owned(),
                json!({"Retry-After": {
                    "description": "Seconds until trying again makes sense (also `retry_after` in the body)",
                    "schema": {"type": "integer", "minimum": 1},
                }}),
            );
        }
    }
    if endpoint == Endpoint::Verify
        && let Some(Value::Object(answer)) = out.get_mut("200")
    {
        answer.insert(
            "headers".to_owned(),
            json!({"Set-Cookie": {
                "description": "The remember-device cookie, when `remember_device` was asked for and the policy allows it",
                "schema": {"type": "string"},
            }}),
        );
    }
    Value::Object(out)
}

fn schemas() -> Value {
    let codes: Vec<&str> = ProblemCode::ALL.iter().map(|c| c.as_str()).collect();
    json!({
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "code"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "code": {"type": "string", "enum": codes},
                "detail": {"type": "string"},
                "retry_after": {"type": "integer", "minimum": 1},
                "until": {"type": "integer"},
            },
        },
        "ConfirmTotpRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["id", "code", "name"],
            "properties": {
                "id": {"type": "string"},
                "code": {"type": "string", "description": "6-8 digits; spaces and dashes between digits are ignored"},
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "tolerance": {"type": "string", "enum": ["standard", "wide"]},
            },
        },
        "RenameRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name"],
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 64}},
        },
        "ConfirmChannelRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["code"],
            "properties": {"code": {"type": "string"}},
        },
        "VerifyRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["method", "code"],
            "properties": {
                "method": {"type": "string", "enum": ["totp", "recovery", "email", "sms"]},
                "code": {"type": "string"},
                "remember_device": {"type": "boolean"},
            },
        },
        "Policy": {
            "type": "object",
            "description": "Rules by role name and a default rule; see mfa_core::policy::Policy",
            "required": ["roles", "default"],
            "properties": {
                "roles": {"type": "object"},
                "default": {"type": "object"},
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_once() {
        let doc = document("/mfa");
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = 0;
        for (path, methods) in paths {
            for method in methods.as_object().unwrap().keys() {
                assert!(
                    ROUTES
                        .iter()
                        .any(|r| r.path == path && r.method.eq_ignore_ascii_case(method)),
                    "{method} {path}"
                );
                operations += 1;
            }
        }
        assert_eq!(operations, ROUTES.len());
    }

    #[test]
    fn waits_are_documented_as_retry_after() {
        let doc = document("/mfa");
        let verify = &doc["paths"]["/verify"]["post"]["responses"];
        for status in ["429", "503"] {
            assert!(
                verify[status]["headers"]["Retry-After"].is_object(),
                "{status}"
            );
        }
        assert!(verify["200"]["headers"]["Set-Cookie"].is_object());
        let send = &doc["paths"]["/send/{channel}"]["post"]["responses"];
        assert!(send["429"]["headers"]["Retry-After"].is_object());
    }
}
