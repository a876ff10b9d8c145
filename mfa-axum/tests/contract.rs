//! The HTTP contract suite on axum, and the route table as mounted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use common::AxumHarness;
use mfa_core::testing::contract::World;

mfa_core::http_contract_suite!(
    axum,
    || async { AxumHarness::new(World::new()) },
    run = common::run,
);

/// The router's (method, path) pairs are exactly the documented ones.
mod mounted {
    use std::collections::BTreeSet;

    use super::common::{self, AxumHarness};
    use axum::extract::{MatchedPath, Request};
    use axum::middleware::{self, Next};
    use axum::response::Response;
    use mfa_core::http::{PROBLEM_JSON, openapi_document};
    use mfa_core::testing::contract::{Browser, PREFIX, World};

    /// Tags each response with the path axum matched (the fallback for
    /// unknown paths matches none).
    async fn tag(request: Request, next: Next) -> Response {
        let matched = request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned());
        let mut response = next.run(request).await;
        if let Some(matched) = matched {
            response
                .headers_mut()
                .insert("x-matched", matched.parse().unwrap());
        }
        response
    }

    #[test]
    fn the_router_mounts_exactly_the_documented_paths_and_methods() {
        common::run(async {
            let world = World::new();
            let tagged = axum::Router::new().nest(
                "/tagged",
                mfa_axum::router(common::api(&world)).route_layer(middleware::from_fn(tag)),
            );
            let harness = AxumHarness::with_routes(world, tagged);
            let document = openapi_document(PREFIX);
            let paths = document["paths"].as_object().unwrap();
            let mut documented = BTreeSet::new();
            for (path, operations) in paths {
                for method in operations.as_object().unwrap().keys() {
                    documented.insert((method.to_ascii_uppercase(), path.clone()));
                }
            }
            assert_eq!(documented.len(), mfa_core::http::ROUTES.len());
            let mut browser = Browser::new(&harness, Some("alice"));
            for path in paths.keys() {
                let uri = format!(
                    "/tagged{}",
                    path.replace("{channel}", "email").replace("{id}", "x")
                );
                for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                    let response = browser.send(method, &uri, None, &[]).await;
                    // axum matches the path (whatever the method)...
                    let matched = format!("/tagged{path}");
                    assert_eq!(
                        response.header("x-matched"),
                        Some(matched.as_str()),
                        "{method} {uri}"
                    );
                    // ...and only the documented methods are served.
                    if documented.contains(&(method.to_owned(), path.clone())) {
                        assert_ne!(response.status, 405, "{method} {uri}");
                        assert_ne!(response.status, 404, "{method} {uri}");
                    } else {
                        assert_eq!(response.status, 405, "{method} {uri}");
                        assert_eq!(response.header("content-type"), Some(PROBLEM_JSON));
                        assert_eq!(response.json()["code"], "method_not_allowed");
                    }
                }
            }
            for uri in [
                "/tagged",
                "/tagged/nope",
                "/tagged/status/x",
                "/tagged/admin",
            ] {
                let response = browser.send("GET", uri, None, &[]).await;
                assert_eq!(response.status, 404, "{uri}");
                assert_eq!(response.header("content-type"), Some(PROBLEM_JSON), "{uri}");
                assert_eq!(response.json()["code"], "not_found", "{uri}");
                assert_eq!(response.header("x-matched"), None, "{uri}");
            }
        });
    }
}
