//! What the adapter itself does: the extractors, the session changes it
//! applies, the body limit, the enrollment deadline header, and the
//! answers when the application forgot a layer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::routing::get;
use common::{AxumHarness, TestApi, into_test_response, run};
use mfa_axum::{Admin, MfaHandle, MfaLayer, SecondStepPending, SteppedUp, Verified};
use mfa_core::http::PROBLEM_JSON;
use mfa_core::policy::{Policy, RolePolicy};
use mfa_core::testing::contract::{Browser, PREFIX, PROTECTED, SUBJECT_HEADER, World};
use mfa_core::{Clock, MemoryStore, Role, Subject, SubjectId};
use serde_json::json;
use tower::ServiceExt as _;
use tower_sessions::Session;

fn who(subject: &Subject) -> String {
    subject.id.as_str().to_owned()
}

/// Routes that use the extractors, ungated.
fn extractor_routes() -> Router {
    Router::new()
        .route(
            "/verified",
            get(|Verified(s): Verified| async move { who(&s) }),
        )
        .route(
            "/pending",
            get(|SecondStepPending(s): SecondStepPending| async move { who(&s) }),
        )
        .route(
            "/stepped",
            get(|SteppedUp(s): SteppedUp| async move { who(&s) }),
        )
        .route("/admin", get(|Admin(s): Admin| async move { who(&s) }))
        .route(
            "/handle",
            get(|api: MfaHandle<_, _, _, _>| async move {
                let api: MfaHandle<_, _, _, mfa_core::testing::contract::TestDirectory> = api;
                let _: &TestApi = &api;
                api.config().prefix.clone()
            }),
        )
        .route(
            "/login",
            get(|Extension(session): Extension<Session>| async move {
                session.insert("user", "signed in").await.unwrap();
            }),
        )
        .route(
            "/wrong-handle",
            get(
                |_: MfaHandle<
                    MemoryStore,
                    mfa_core::notify::LogNotifier,
                    mfa_core::SystemClock,
                >| async { "" },
            ),
        )
}

#[test]
fn second_step_then_step_up_through_extractors_and_gate() {
    run(async {
        let harness = AxumHarness::with_routes(World::new(), extractor_routes());
        let world = &harness.world;
        let app = world.enroll_authenticator("alice").await;
        let mut alice = Browser::new(&harness, Some("alice"));

        // First factor only.
        let gated = alice.send("GET", PROTECTED, None, &[]).await;
        assert_eq!(gated.status, 401);
        assert_eq!(gated.json()["code"], "mfa_required");
        let html = [("accept", "text/html,application/xhtml+xml")];
        let page = alice
            .send("GET", &format!("{PROTECTED}?tab=2"), None, &html)
            .await;
        assert_eq!(page.status, 303);
        assert_eq!(
            page.header("location"),
            Some("/verify-page?next=/app/tickets%3Ftab%3D2")
        );
        let pending = alice.send("GET", "/pending", None, &[]).await;
        assert_eq!(
            (pending.status, pending.body.as_slice()),
            (200, &b"alice"[..])
        );
        for (uri, code) in [("/verified", "mfa_required"), ("/stepped", "mfa_required")] {
            let refused = alice.send("GET", uri, None, &[]).await;
            assert_eq!(refused.status, 401, "{uri}");
            assert_eq!(refused.header("content-type"), Some(PROBLEM_JSON));
            assert_eq!(refused.json()["code"], code, "{uri}");
        }

        // The second step: the session id is cycled (the application's
        // login made the session).
        assert_eq!(alice.send("GET", "/login", None, &[]).await.status, 200);
        let before = alice.cookie("id").map(str::to_owned);
        assert!(before.is_some(), "a session cookie");
        let code = world.next_code(&app);
        let verified = alice
            .send(
                "POST",
                &format!("{PREFIX}/verify"),
                Some(json!({"method": "totp", "code": code})),
                &[],
            )
            .await;
        assert_eq!(verified.status, 200, "{:?}", verified.json());
        assert_ne!(
            alice.cookie("id").map(str::to_owned),
            before,
            "new session id"
        );
        let mut replayed = Browser::new(&harness, Some("alice"));
        replayed.set_cookies(vec![("id".to_owned(), before.unwrap())]);
        assert_eq!(
            replayed.send("GET", PROTECTED, None, &[]).await.status,
            401,
            "old id is dead"
        );

        // Verified.
        let gated = alice.send("GET", PROTECTED, None, &[]).await;
        assert_eq!(
            (gated.status, gated.json()["ok"].clone()),
            (200, json!(true))
        );
        assert_eq!(alice.send("GET", "/verified", None, &[]).await.status, 200);
        assert_eq!(alice.send("GET", "/stepped", None, &[]).await.status, 200);
        let pending = alice.send("GET", "/pending", None, &[]).await;
        assert_eq!(
            (pending.status, pending.json()["code"].clone()),
            (409, json!("precondition"))
        );

        // The step-up window (10 minutes) passes; the session stays verified.
        world.advance(Duration::from_secs(11 * 60));
        let stepped = alice.send("GET", "/stepped", None, &[]).await;
        assert_eq!(stepped.status, 403);
        assert_eq!(stepped.json()["code"], "step_up_required");
        assert_eq!(alice.send("GET", "/verified", None, &[]).await.status, 200);
        assert_eq!(alice.send("GET", PROTECTED, None, &[]).await.status, 200);

        // Stepping up opens it again.
        let code = world.next_code(&app);
        let again = alice
            .send(
                "POST",
                &format!("{PREFIX}/verify"),
                Some(json!({"method": "totp", "code": code})),
                &[],
            )
            .await;
        assert_eq!(again.status, 200);
        assert_eq!(alice.send("GET", "/stepped", None, &[]).await.status, 200);

        // Someone else's first factor on this session starts from nothing.
        let mut erin = Browser::new(&harness, Some("erin"));
        erin.set_cookies(alice.cookies());
        assert_eq!(
            erin.send("GET", PROTECTED, None, &[]).await.status,
            200,
            "no factor"
        );
        let stepped = erin.send("GET", "/stepped", None, &[]).await;
        assert_eq!(
            (stepped.status, stepped.json()["code"].clone()),
            (403, json!("step_up_required"))
        );
        let mut bob = Browser::new(&harness, Some("bob"));
        bob.set_cookies(alice.cookies());
        let _ = world.enroll_authenticator("bob").await;
        assert_eq!(bob.send("GET", "/stepped", None, &[]).await.status, 401);
        assert_eq!(bob.send("GET", PROTECTED, None, &[]).await.status, 401);

        // No first factor.
        let mut anonymous = Browser::new(&harness, None);
        for uri in ["/verified", "/pending", "/stepped"] {
            let response = anonymous.send("GET", uri, None, &[]).await;
            assert_eq!(response.status, 401, "{uri}");
            assert_eq!(response.json()["code"], "not_authenticated", "{uri}");
        }
    });
}

#[test]
fn the_admin_extractor_follows_the_administrator_endpoints_rule() {
    run(async {
        let harness = AxumHarness::with_routes(World::new(), extractor_routes());
        let world = &harness.world;
        // No factor (the policy is optional, so the gate passes): enroll first.
        let mut root = Browser::new(&harness, Some("root"));
        let refused = root.send("GET", "/admin", None, &[]).await;
        assert_eq!(
            (refused.status, refused.json()["code"].clone()),
            (403, json!("enrollment_required"))
        );
        // Not an administrator.
        let mut alice = Browser::new(&harness, Some("alice"));
        let refused = alice.send("GET", "/admin", None, &[]).await;
        assert_eq!(
            (refused.status, refused.json()["code"].clone()),
            (403, json!("not_admin"))
        );
        // Enrolled, remembered on a browser, then that browser alone: the
        // gate lets it through, the administration pages do not.
        let app = world.enroll_authenticator("root").await;
        let refused = root.send("GET", "/admin", None, &[]).await;
        assert_eq!(
            (refused.status, refused.json()["code"].clone()),
            (401, json!("mfa_required"))
        );
        let code = world.next_code(&app);
        let verified = root
            .send(
                "POST",
                &format!("{PREFIX}/verify"),
                Some(json!({"method": "totp", "code": code, "remember_device": true})),
                &[],
            )
            .await;
        assert_eq!(verified.status, 200);
        let admin = root.send("GET", "/admin", None, &[]).await;
        assert_eq!((admin.status, admin.body.as_slice()), (200, &b"root"[..]));
        let device = root.cookie("mfa_device").map(str::to_owned);
        let mut remembered = Browser::new(&harness, Some("root"));
        remembered.set_cookies(vec![("mfa_device".to_owned(), device.unwrap())]);
        assert_eq!(
            remembered.send("GET", PROTECTED, None, &[]).await.status,
            200
        );
        let refused = remembered.send("GET", "/admin", None, &[]).await;
        assert_eq!(
            (refused.status, refused.json()["code"].clone()),
            (401, json!("mfa_required"))
        );
    });
}

#[test]
fn handle_gives_the_layers_api_and_refuses_another_type() {
    run(async {
        let harness = AxumHarness::with_routes(World::new(), extractor_routes());
        let mut alice = Browser::new(&harness, Some("alice"));
        let handle = alice.send("GET", "/handle", None, &[]).await;
        assert_eq!(
            (handle.status, handle.body.as_slice()),
            (200, PREFIX.as_bytes())
        );
        let wrong = alice.send("GET", "/wrong-handle", None, &[]).await;
        assert_eq!(wrong.status, 500);
        assert_eq!(wrong.header("content-type"), Some(PROBLEM_JSON));
        assert_eq!(wrong.json()["code"], "internal");
    });
}

#[test]
fn a_deadline_to_enroll_is_announced_on_gated_responses() {
    run(async {
        let harness = AxumHarness::new(World::new());
        let world = &harness.world;
        let mut policy = Policy::default();
        policy.set_role(
            Role::AGENT,
            RolePolicy::required(Duration::from_secs(7 * 86_400)),
        );
        world
            .mfa
            .update_policy(&SubjectId::new("root").unwrap(), policy)
            .await
            .unwrap();
        let mut alice = Browser::new(&harness, Some("alice"));
        let gated = alice.send("GET", PROTECTED, None, &[]).await;
        assert_eq!(gated.status, 200);
        let deadline = world.clock.now().unix() + 7 * 86_400;
        assert_eq!(
            gated.header("mfa-enroll-by"),
            Some(deadline.to_string().as_str())
        );
    });
}

#[test]
fn bodies_over_the_limit_are_the_cores_413_problem() {
    run(async {
        let harness = AxumHarness::new(World::new());
        let max = usize::try_from(harness.world.config.max_body).unwrap();
        let big = vec![b' '; max + 1];
        let declared = big.len().to_string();
        for content_length in [None, Some(declared.as_str()), Some("10")] {
            let mut request = Request::post(format!("{PREFIX}/verify"))
                .header("content-type", "application/json")
                .header(SUBJECT_HEADER, "alice");
            if let Some(length) = content_length {
                request = request.header("content-length", length);
            }
            let request = request.body(Body::from(big.clone())).unwrap();
            let response =
                into_test_response(harness.app.clone().oneshot(request).await.unwrap()).await;
            assert_eq!(response.status, 413, "{content_length:?}");
            assert_eq!(response.header("content-type"), Some(PROBLEM_JSON));
            assert_eq!(response.json()["code"], "payload_too_large");
        }
        // At the limit it is read (and here, not JSON).
        let mut alice = Browser::new(&harness, Some("alice"));
        let response = alice
            .send(
                "POST",
                &format!("{PREFIX}/verify"),
                None,
                &[("content-type", "application/json")],
            )
            .await;
        assert_ne!(response.status, 413);
    });
}

#[test]
fn a_missing_session_layer_is_a_500_naming_it_never_a_pass() {
    run(async {
        let world = World::new();
        let api = common::api(&world);
        let app = Router::new()
            .route(PROTECTED, get(common::tickets))
            .layer(MfaLayer::new(api.clone()))
            .nest(PREFIX, mfa_axum::router(api))
            .layer(axum::middleware::from_fn(common::first_factor));
        for uri in [PROTECTED.to_owned(), format!("{PREFIX}/status")] {
            let request = Request::get(uri.as_str())
                .header(SUBJECT_HEADER, "alice")
                .body(Body::empty())
                .unwrap();
            let response = into_test_response(app.clone().oneshot(request).await.unwrap()).await;
            assert_eq!(response.status, 500, "{uri}");
            assert_eq!(response.header("content-type"), Some(PROBLEM_JSON));
            let detail = response.json()["detail"].as_str().unwrap().to_owned();
            assert!(detail.contains("SessionManagerLayer"), "{detail}");
        }
    });
}

#[test]
fn extractors_without_the_layer_are_a_500_naming_it() {
    run(async {
        let app = Router::new()
            .route(
                "/verified",
                get(|Verified(s): Verified| async move { who(&s) }),
            )
            .layer(tower_sessions::SessionManagerLayer::new(
                tower_sessions::MemoryStore::default(),
            ));
        let request = Request::get("/verified").body(Body::empty()).unwrap();
        let response = into_test_response(app.oneshot(request).await.unwrap()).await;
        assert_eq!(response.status, 500);
        assert_eq!(response.header("content-type"), Some(PROBLEM_JSON));
        let detail = response.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("MfaLayer"), "{detail}");
    });
}

/// With tower-sessions' defaults (what an application gets unless it
/// weakens them), the session cookie the gate causes is `HttpOnly`,
/// `SameSite` and `Secure`: the adapter sets no cookie attribute of its
/// own on the session.
#[test]
fn the_session_cookie_keeps_the_session_layers_defaults() {
    run(async {
        let world = World::new();
        let api = common::api(&world);
        let app = Router::new()
            .route(PROTECTED, get(common::tickets))
            .layer(MfaLayer::new(api.clone()))
            .nest(PREFIX, mfa_axum::router(api))
            .layer(axum::middleware::from_fn(common::first_factor))
            .layer(tower_sessions::SessionManagerLayer::new(
                tower_sessions::MemoryStore::default(),
            ));
        // Alice has no factor yet: the gate passes and stores that it
        // checked the session, which starts one.
        let request = Request::get(PROTECTED)
            .header(SUBJECT_HEADER, "alice")
            .body(Body::empty())
            .unwrap();
        let response = into_test_response(app.oneshot(request).await.unwrap()).await;
        assert_eq!(response.status, 200);
        let cookie = response.header("set-cookie").expect("a session cookie");
        let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
        for attribute in ["HttpOnly", "Secure"] {
            assert!(attributes.contains(&attribute), "{attribute} in {cookie}");
        }
        assert!(
            attributes
                .iter()
                .any(|a| *a == "SameSite=Strict" || *a == "SameSite=Lax"),
            "SameSite in {cookie}"
        );
    });
}
