//! The reference harness of the HTTP contract suite: a [`Harness`] over
//! [`Api`](mfa_core::http::Api) with no web framework at all. It is the
//! behaviour both adapters must reproduce:
//!
//! * paths under [`PREFIX`] go to [`Api::handle`](mfa_core::http::Api::handle)
//!   (path relative to the prefix, query apart), [`PROTECTED`] through
//!   [`Api::gate`](mfa_core::http::Api::gate) (answering `{"ok":true}` when
//!   it passes, with the `mfa-enroll-by` header when it says so),
//!   [`PUBLIC`] straight to 200, anything else 404;
//! * the first factor is the [`SUBJECT_HEADER`] request header naming one
//!   of [`World::subjects`]; without it (or naming nobody) there is no
//!   subject;
//! * sessions are kept server-side, in a map from a random id (the `sid`
//!   cookie) to the [`MfaSession`]; an id the map does not hold is never
//!   adopted (a new one is issued when there is something to store), and
//!   [`SessionUpdate::Replace`] with `renew_id` moves the session to a
//!   new id and deletes the old one.
//!
//! Also here: the test that `docs/openapi.json` is the document
//! [`openapi_document`] generates (`MFA_BLESS_OPENAPI=1` rewrites it), and
//! a structural check of that document.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use mfa_core::CredentialId;
use mfa_core::http::{
    ApiRequest, ApiResponse, ENROLL_BY_HEADER, GateOutcome, GateRequest, MfaSession, PROBLEM_JSON,
    Problem, ProblemCode, RequestFacts, SessionUpdate, openapi_document, wants_html,
};
use mfa_core::testing::contract::{
    Harness, PREFIX, PROTECTED, PUBLIC, SUBJECT_HEADER, TestApi, TestRequest, TestResponse, World,
};
use serde_json::Value;

/// The session cookie's name.
const SID: &str = "sid";

/// The application under test, framework-free.
struct Reference {
    world: World,
    api: TestApi,
    /// Server-side sessions by id.
    sessions: RefCell<HashMap<String, MfaSession>>,
}

impl Reference {
    fn new(world: World) -> Self {
        Self {
            api: world.api(),
            world,
            sessions: RefCell::new(HashMap::new()),
        }
    }

    /// Applies the core's session change; returns the `Set-Cookie` value
    /// when the browser must get a (new) session id.
    fn apply(&self, update: SessionUpdate, sid: Option<&str>) -> Option<String> {
        let SessionUpdate::Replace { session, renew_id } = update else {
            return None;
        };
        let mut sessions = self.sessions.borrow_mut();
        let known = sid.filter(|id| sessions.contains_key(*id));
        match known {
            Some(id) if !renew_id => {
                sessions.insert(id.to_owned(), session);
                None
            }
            _ => {
                if let Some(old) = known {
                    sessions.remove(old);
                }
                let id = CredentialId::generate().unwrap().as_str().to_owned();
                sessions.insert(id.clone(), session);
                Some(format!("{SID}={id}; Path=/; HttpOnly; SameSite=Lax"))
            }
        }
    }
}

/// The first header called `name`.
fn header<'r>(request: &'r TestRequest, name: &str) -> Option<&'r str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie<'c>(cookies: &'c str, name: &str) -> Option<&'c str> {
    cookies.split(';').find_map(|pair| {
        let (n, v) = pair.trim().split_once('=')?;
        (n == name).then_some(v)
    })
}

/// An [`ApiResponse`] as the suite sees it, plus the session cookie.
fn response(answer: ApiResponse, set_cookie: Option<String>) -> TestResponse {
    let mut headers: Vec<(String, String)> = answer
        .headers
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    headers.extend(set_cookie.map(|c| ("set-cookie".to_owned(), c)));
    TestResponse {
        status: answer.status,
        headers,
        body: answer.body,
    }
}

impl Harness for Reference {
    async fn send(&self, request: TestRequest) -> TestResponse {
        // Let other requests sent at the same time start too, as a
        // framework's service would.
        tokio::task::yield_now().await;
        let (path, query) = match request.uri.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (request.uri.as_str(), None),
        };
        let subject = header(&request, SUBJECT_HEADER).and_then(World::subject);
        let cookies = header(&request, "cookie");
        let sid = cookies.and_then(|c| cookie(c, SID));
        let session = sid
            .and_then(|id| self.sessions.borrow().get(id).cloned())
            .unwrap_or_default();

        if let Some(relative) = path
            .strip_prefix(PREFIX)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        {
            let facts = RequestFacts {
                method: &request.method,
                content_type: header(&request, "content-type"),
                content_length: header(&request, "content-length")
                    .and_then(|v| v.parse().ok())
                    .or(Some(request.body.len() as u64)),
                origin: header(&request, "origin"),
                sec_fetch_site: header(&request, "sec-fetch-site"),
                host: header(&request, "host"),
            };
            let answer = self
                .api
                .handle(ApiRequest {
                    facts,
                    path: relative,
                    query,
                    body: &request.body,
                    subject: subject.as_ref(),
                    session: &session,
                    cookies,
                    user_agent: header(&request, "user-agent"),
                })
                .await;
            let set_cookie = self.apply(answer.session.clone(), sid);
            return response(answer, set_cookie);
        }
        if path == PROTECTED {
            let outcome = self
                .api
                .gate(GateRequest {
                    subject: subject.as_ref(),
                    session: &session,
                    html: wants_html(header(&request, "accept")),
                    path_and_query: &request.uri,
                    cookies,
                })
                .await;
            return match outcome {
                GateOutcome::Pass { session, enroll_by } => {
                    let set_cookie = self.apply(session, sid);
                    let mut headers = vec![("content-type", "application/json".to_owned())];
                    if let Some(deadline) = enroll_by {
                        headers.push((ENROLL_BY_HEADER, deadline.unix().to_string()));
                    }
                    let ok = ApiResponse {
                        status: 200,
                        headers,
                        body: br#"{"ok":true}"#.to_vec(),
                        session: SessionUpdate::Keep,
                    };
                    response(ok, set_cookie)
                }
                GateOutcome::Refuse(answer) => {
                    let set_cookie = self.apply(answer.session.clone(), sid);
                    response(answer, set_cookie)
                }
            };
        }
        if path == PUBLIC {
            return TestResponse {
                status: 200,
                headers: vec![("content-type".to_owned(), "application/json".to_owned())],
                body: br#"{"ok":true}"#.to_vec(),
            };
        }
        response(
            ApiResponse::problem(&Problem::new(ProblemCode::NotFound)),
            None,
        )
    }

    fn world(&self) -> &World {
        &self.world
    }
}

mfa_core::http_contract_suite!(reference, || async { Reference::new(World::new()) });

#[test]
fn unknown_session_ids_are_never_adopted() {
    let reference = Reference::new(World::new());
    let set = reference.apply(
        SessionUpdate::Replace {
            session: MfaSession::default(),
            renew_id: false,
        },
        Some("chosen-by-the-client"),
    );
    let set = set.expect("a new id is issued");
    assert!(!set.contains("chosen-by-the-client"));
    assert_eq!(reference.sessions.borrow().len(), 1);
    assert_eq!(
        response(
            ApiResponse::problem(&Problem::new(ProblemCode::NotFound)),
            None
        )
        .header("content-type"),
        Some(PROBLEM_JSON)
    );
}

// ----- docs/openapi.json ---------------------------------------------------

/// Where the committed document lives.
fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

/// The document as committed: pretty JSON and a trailing newline.
fn generated() -> String {
    let mut text = serde_json::to_string_pretty(&openapi_document(PREFIX)).unwrap();
    text.push('\n');
    text
}

#[test]
fn the_committed_openapi_document_is_current() {
    let path = committed_path();
    let expected = generated();
    if std::env::var("MFA_BLESS_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is stale: run `MFA_BLESS_OPENAPI=1 cargo test -p mfa-core --all-features \
         --test http_contract the_committed_openapi_document_is_current` and commit it",
        path.display()
    );
}

/// Resolves a local JSON pointer (`#/components/schemas/Problem`).
fn resolve<'d>(document: &'d Value, reference: &str) -> Option<&'d Value> {
    let pointer = reference.strip_prefix('#')?;
    document.pointer(pointer)
}

/// Every `$ref` in `value`, with where it was found.
fn references(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                if key == "$ref" {
                    found.push((at.to_owned(), member.as_str().unwrap_or("").to_owned()));
                } else {
                    references(member, &format!("{at}/{key}"), found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                references(item, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// The structure OpenAPI 3.1 asks for, as far as it can be checked here:
/// version and info; every operation has an `operationId` (unique), a
/// summary and at least one response, each response a description and
/// JSON content; every `{param}` of a path is declared as a required path
/// parameter and nothing else is; request bodies have JSON content;
/// every `$ref` resolves.
#[test]
fn the_openapi_document_is_well_formed() {
    let document = openapi_document(PREFIX);
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["info"]["title"].is_string());
    assert!(document["info"]["version"].is_string());
    assert_eq!(document["servers"][0]["url"], PREFIX);
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut operation_ids = BTreeSet::new();
    let paths = document["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    for (path, item) in paths {
        assert!(path.starts_with('/'), "{path}");
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, operation) in item.as_object().expect("a path item") {
            let at = format!("{method} {path}");
            assert!(methods.contains(&method.as_str()), "{at}: method");
            let id = operation["operationId"].as_str().expect("operationId");
            assert!(operation_ids.insert(id.to_owned()), "{at}: duplicate {id}");
            assert!(operation["summary"].is_string(), "{at}: summary");
            let responses = operation["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{at}: no responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{at}: no success response"
            );
            for (status, answer) in responses {
                let code: u16 = status.parse().expect("a numeric status");
                assert!((100..600).contains(&code), "{at}: status {status}");
                let description = answer["description"].as_str().expect("description");
                assert!(!description.is_empty(), "{at} {status}: description");
                if code != 204 {
                    let content = answer["content"].as_object().expect("content");
                    let media = if code >= 400 {
                        PROBLEM_JSON
                    } else {
                        "application/json"
                    };
                    assert!(content.contains_key(media), "{at} {status}: {media}");
                    assert!(
                        content[media]["schema"].is_object(),
                        "{at} {status}: schema"
                    );
                }
            }
            let declared: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(p["required"], true, "{at}: path parameters are required");
                    assert!(p["schema"].is_object(), "{at}: parameter schema");
                    p["name"].as_str().expect("a parameter name")
                })
                .collect();
            assert_eq!(declared, templated, "{at}: path parameters");
            if let Some(body) = operation.get("requestBody") {
                assert!(
                    body["content"]["application/json"]["schema"].is_object(),
                    "{at}: request body"
                );
            }
        }
    }
    let mut found = Vec::new();
    references(&document, "#", &mut found);
    assert!(!found.is_empty());
    for (at, reference) in found {
        assert!(
            reference.starts_with("#/components/"),
            "{at}: {reference:?}"
        );
        assert!(
            resolve(&document, &reference).is_some_and(Value::is_object),
            "{at}: {reference} does not resolve"
        );
    }
    for (name, schema) in document["components"]["schemas"]
        .as_object()
        .expect("schemas")
    {
        assert!(schema["type"].is_string(), "schema {name}: type");
    }
}
