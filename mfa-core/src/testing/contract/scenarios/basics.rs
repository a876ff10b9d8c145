//! Anonymous requests, open routes, unknown paths and methods, the
//! OpenAPI document.

use super::{expect_json, expect_problem, mfa, new_browser};
use crate::http::{Access, ROUTES};
use crate::testing::contract::{Browser, Harness, PREFIX, PROTECTED, PUBLIC};

/// A request without an authenticated subject is 401
/// `not_authenticated` on the gate and on every endpoint but the
/// OpenAPI document.
pub async fn no_subject_is_not_authenticated<H: Harness>(harness: &H) {
    let mut anonymous = Browser::new(harness, None);
    let gate = anonymous.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gate, 401, "not_authenticated", "gate");
    let html = anonymous
        .send("GET", PROTECTED, None, &[("accept", "text/html")])
        .await;
    expect_problem(&html, 401, "not_authenticated", "gate, for a browser");
    for route in ROUTES {
        let uri = mfa(&route
            .path
            .replace("{channel}", "email")
            .replace("{id}", "x"));
        let body =
            (route.method != "GET" && route.method != "DELETE").then(|| serde_json::json!({}));
        let response = anonymous.send(route.method, &uri, body, &[]).await;
        let what = format!("{} {uri}", route.method);
        if route.access == Access::Public {
            expect_json(&response, 200, &what);
        } else {
            expect_problem(&response, 401, "not_authenticated", &what);
        }
    }
}

/// The ungated route answers without the second step; the gated one
/// passes a subject who has no factor under the default (optional)
/// policy.
pub async fn routes_open_to_a_subject_without_factors<H: Harness>(harness: &H) {
    let mut alice = Browser::new(harness, Some("alice"));
    assert_eq!(alice.send("GET", PUBLIC, None, &[]).await.status, 200);
    let gated = alice.send("GET", PROTECTED, None, &[]).await;
    let body = expect_json(&gated, 200, "gate");
    assert_eq!(body, serde_json::json!({"ok": true}));
    assert_eq!(gated.header(crate::http::ENROLL_BY_HEADER), None);
}

/// A path under the prefix that is no endpoint is 404 `not_found`; an
/// endpoint's path with another method is 405 `method_not_allowed` with
/// an `Allow` header listing its methods. Both are problem+json, for
/// anyone (the route is looked up before anything else).
pub async fn unknown_paths_are_404_and_wrong_methods_405<H: Harness>(harness: &H) {
    for subject in [None, Some("alice")] {
        let mut browser = Browser::new(harness, subject);
        for path in [
            "/nope",
            "/status/",
            "/factors/totp",
            "/channels//confirm",
            "/admin",
        ] {
            let response = browser.send("GET", &mfa(path), None, &[]).await;
            expect_problem(&response, 404, "not_found", &format!("GET {PREFIX}{path}"));
        }
        for (method, path, allow) in [
            ("DELETE", "/status", "GET"),
            ("GET", "/verify", "POST"),
            ("PUT", "/totp", "POST"),
            ("POST", "/admin/policy", "GET, PUT"),
            ("PATCH", "/devices/x", "DELETE"),
            ("POST", "/openapi.json", "GET"),
        ] {
            let what = format!("{method} {PREFIX}{path}");
            let response = browser.send(method, &mfa(path), None, &[]).await;
            expect_problem(&response, 405, "method_not_allowed", &what);
            assert_eq!(response.header("allow"), Some(allow), "{what}: Allow");
        }
    }
}

/// `GET /openapi.json` serves the document generated from the route
/// table, to anyone.
pub async fn the_openapi_document_is_served<H: Harness>(harness: &H) {
    let expected = crate::http::openapi_document(PREFIX);
    for subject in [None, Some("alice")] {
        let mut browser = Browser::new(harness, subject);
        let response = browser.send("GET", &mfa("/openapi.json"), None, &[]).await;
        assert_eq!(expect_json(&response, 200, "GET /openapi.json"), expected);
    }
    let mut alice = new_browser(harness, "alice");
    let status = alice.send("GET", &mfa("/status"), None, &[]).await;
    expect_json(&status, 200, "GET /status");
}
