//! The HTTP contract suite against mfa-actix, through `actix_web::test`
//! (no network), plus the adapter's own checks: the registered routes are
//! exactly the documented ones, a missing session middleware is refused,
//! bodies over the limit get the core's 413, and the extractors refuse
//! with problem+json.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_session::SessionMiddleware;
use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, time::Duration};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Condition, Next, from_fn};
use actix_web::test as actix_test;
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, web};
use mfa_actix::{Admin, MfaGate, MfaHandle, SecondStepPending, SteppedUp, Verified};
use mfa_core::MemoryStore;
use mfa_core::http::{Api, NoDirectory, PROBLEM_JSON, openapi_document};
use mfa_core::otp::{Totp, TotpConfig};
use mfa_core::policy::RolePolicy;
use mfa_core::testing::contract::{
    Browser, Harness, PREFIX, PROTECTED, PUBLIC, SUBJECT_HEADER, TestDirectory, TestRequest,
    TestResponse, World,
};
use mfa_core::testing::{ManualClock, RecordingNotifier};
use mfa_core::{Clock, Role, Secret, SubjectId};
use serde_json::json;

/// A server-side session store in memory: the cookie holds only a key,
/// and a key that was renewed or deleted is dead, so a session id planted
/// before a verification is worth nothing after it.
#[derive(Clone, Default)]
struct MemorySessions {
    sessions: Rc<RefCell<HashMap<String, HashMap<String, String>>>>,
    issued: Rc<Cell<u64>>,
}

impl MemorySessions {
    /// A new key (a counter: the store lives for one test, and the
    /// cookie is signed and encrypted by the middleware anyway).
    fn new_key(&self) -> Result<SessionKey, anyhow::Error> {
        self.issued.set(self.issued.get() + 1);
        Ok(SessionKey::try_from(format!(
            "session-{}",
            self.issued.get()
        ))?)
    }
}

impl SessionStore for MemorySessions {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        Ok(self.sessions.borrow().get(key.as_ref()).cloned())
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        _ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let key = self.new_key().map_err(SaveError::Other)?;
        self.sessions
            .borrow_mut()
            .insert(key.as_ref().to_owned(), state);
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        if let Some(stored) = self.sessions.borrow_mut().get_mut(key.as_ref()) {
            *stored = state;
            return Ok(key);
        }
        self.save(state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(&self, _key: &SessionKey, _ttl: &Duration) -> Result<(), anyhow::Error> {
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        self.sessions.borrow_mut().remove(key.as_ref());
        Ok(())
    }
}

/// The first-factor stand-in: `x-test-subject` names one of the world's
/// subjects.
async fn first_factor(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let subject = request
        .headers()
        .get(SUBJECT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(World::subject);
    if let Some(subject) = subject {
        request.extensions_mut().insert(subject);
    }
    next.call(request).await
}

/// Routes the adapter's own tests add to the contract's application.
fn extractor_routes(cfg: &mut web::ServiceConfig) {
    async fn verified(who: Verified) -> HttpResponse {
        HttpResponse::Ok().json(json!({"subject": who.subject.id.as_str()}))
    }
    async fn pending(who: SecondStepPending) -> HttpResponse {
        HttpResponse::Ok().json(json!({
            "subject": who.subject.id.as_str(),
            "pending": who.pending.map(|c| c.as_str()),
        }))
    }
    async fn stepped_up(who: SteppedUp) -> HttpResponse {
        HttpResponse::Ok().json(json!({"subject": who.subject.id.as_str()}))
    }
    async fn admin(who: Admin) -> HttpResponse {
        HttpResponse::Ok().json(json!({"subject": who.subject.id.as_str()}))
    }
    async fn handle(handle: MfaHandle) -> HttpResponse {
        let typed = handle
            .api::<MemoryStore, RecordingNotifier, ManualClock, TestDirectory>()
            .is_some();
        let untyped = handle
            .api::<MemoryStore, RecordingNotifier, ManualClock, NoDirectory>()
            .is_some();
        HttpResponse::Ok().json(json!({
            "prefix": handle.config().prefix,
            "typed": typed,
            "untyped": untyped,
        }))
    }
    async fn login(session: actix_session::Session) -> HttpResponse {
        session.insert("login", true).unwrap();
        HttpResponse::Ok().finish()
    }
    cfg.route("/x/verified", web::get().to(verified))
        .route("/x/login", web::get().to(login))
        .route("/x/pending", web::get().to(pending))
        .route("/x/stepped-up", web::get().to(stepped_up))
        .route("/x/admin", web::get().to(admin))
        .route("/x/handle", web::get().to(handle));
}

async fn ok() -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

/// A function that sends one request through the application.
type SendFn = Box<dyn Fn(TestRequest) -> Pin<Box<dyn Future<Output = TestResponse>>>>;

/// The harness: the contract's application (the endpoints under
/// [`PREFIX`], the gate in front of [`PROTECTED`], [`PUBLIC`] without it,
/// the first-factor stand-in, sessions in [`MemorySessions`] — or no
/// session middleware at all, for the test that it is required), reached
/// through `actix_web::test`.
struct ActixHarness {
    world: World,
    send: SendFn,
}

impl ActixHarness {
    async fn new(world: World, sessions: Option<MemorySessions>) -> Self {
        let api = Api::new(world.mfa.clone(), world.config.clone()).with_directory(TestDirectory);
        let app = App::new()
            .app_data(MfaHandle::new(api))
            .service(web::scope(PREFIX).configure(mfa_actix::configure))
            .service(
                web::resource(PROTECTED)
                    .wrap(MfaGate)
                    .route(web::get().to(ok)),
            )
            .route(PUBLIC, web::get().to(ok))
            .configure(extractor_routes)
            .route("/x/rmap", web::get().to(resource_map))
            .wrap(from_fn(first_factor))
            .wrap(Condition::new(
                sessions.is_some(),
                SessionMiddleware::builder(sessions.unwrap_or_default(), Key::from(&[7; 64]))
                    .cookie_secure(false)
                    .build(),
            ));
        let app = Rc::new(actix_test::init_service(app).await);
        let send: SendFn = Box::new(move |request| {
            let app = Rc::clone(&app);
            Box::pin(async move {
                let method = Method::from_bytes(request.method.as_bytes()).unwrap();
                let mut builder = actix_test::TestRequest::default()
                    .method(method)
                    .uri(&request.uri);
                for (name, value) in &request.headers {
                    builder = builder.append_header((name.as_str(), value.as_str()));
                }
                let request = builder.set_payload(request.body).to_request();
                let response = match actix_test::try_call_service(&*app, request).await {
                    Ok(response) => response.map_into_boxed_body(),
                    Err(error) => ServiceResponse::new(
                        actix_test::TestRequest::default().to_http_request(),
                        error.error_response(),
                    ),
                };
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
                    .collect();
                let body = actix_test::read_body(response).await.to_vec();
                TestResponse {
                    status,
                    headers,
                    body,
                }
            })
        });
        Self { world, send }
    }

    async fn contract() -> Self {
        Self::new(World::new(), Some(MemorySessions::default())).await
    }
}

impl Harness for ActixHarness {
    fn send(&self, request: TestRequest) -> impl Future<Output = TestResponse> {
        (self.send)(request)
    }

    fn world(&self) -> &World {
        &self.world
    }
}

fn run(scenario: impl Future<Output = ()>) {
    actix_web::rt::System::new().block_on(scenario);
}

mfa_core::http_contract_suite!(actix, ActixHarness::contract, run = super::run);

// ----- the adapter's own checks ---------------------------------------

/// For every documented path (parameters filled in) and a few others: the
/// pattern of the registered resource it hits, if any.
async fn resource_map(request: HttpRequest) -> HttpResponse {
    let document = openapi_document(PREFIX);
    let mut probes: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| fill(p))
        .collect();
    probes.extend(
        [
            "/nope",
            "/status/",
            "/status/x",
            "/admin",
            "/totp/confirm/x",
            "",
        ]
        .map(String::from),
    );
    let hits: serde_json::Map<String, serde_json::Value> = probes
        .into_iter()
        .map(|p| {
            let pattern = request
                .resource_map()
                .match_pattern(&format!("{PREFIX}{p}"));
            (p, json!(pattern))
        })
        .collect();
    HttpResponse::Ok().json(hits)
}

fn fill(template: &str) -> String {
    template
        .replace("{channel}", "email")
        .replace("{id}", "abc")
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

#[test]
fn configure_registers_exactly_the_documented_paths_and_methods() {
    run(async {
        let harness = ActixHarness::contract().await;
        let mut root = Browser::new(&harness, Some("root"));
        let document = openapi_document(PREFIX);
        let paths = document["paths"].as_object().unwrap();
        let hits = root.send("GET", "/x/rmap", None, &[]).await.json();
        let hits = hits.as_object().unwrap();
        for template in paths.keys() {
            assert_eq!(
                hits[&fill(template)],
                json!(format!("{PREFIX}{template}")),
                "{template} is registered as itself"
            );
        }
        let registered = hits.values().filter(|v| !v.is_null()).count();
        assert_eq!(
            registered,
            paths.len(),
            "no other path is registered: {hits:?}"
        );
        for (template, operations) in paths {
            let uri = format!("{PREFIX}{}", fill(template));
            for method in METHODS {
                let body = (method != "GET").then(|| json!({}));
                let response = root.send(method, &uri, body, &[]).await;
                let documented = operations.get(method.to_ascii_lowercase()).is_some();
                if documented {
                    let unrouted =
                        response.status == 405 || response.json()["detail"] == "no such endpoint";
                    assert!(!unrouted, "{method} {uri}: {}", response.status);
                } else {
                    assert_eq!(response.status, 405, "{method} {uri}");
                    assert_eq!(response.json()["code"], "method_not_allowed");
                    assert_eq!(response.header("content-type"), Some(PROBLEM_JSON));
                }
            }
        }
        for uri in ["/mfa/nope", "/mfa/status/", "/mfa", "/mfa/admin"] {
            let response = root.send("GET", uri, None, &[]).await;
            assert_eq!(response.status, 404, "{uri}");
            assert_eq!(response.json()["code"], "not_found", "{uri}");
            assert_eq!(response.header("content-type"), Some(PROBLEM_JSON));
        }
    });
}

#[test]
fn without_session_middleware_nothing_passes() {
    run(async {
        let harness = ActixHarness::new(World::new(), None).await;
        let mut alice = Browser::new(&harness, Some("alice"));
        for uri in [
            PROTECTED,
            "/mfa/status",
            "/x/verified",
            "/x/pending",
            "/x/stepped-up",
        ] {
            let response = alice.send("GET", uri, None, &[]).await;
            assert_eq!(response.status, 500, "{uri}");
            assert_eq!(response.header("content-type"), Some(PROBLEM_JSON), "{uri}");
            let problem = response.json();
            assert_eq!(problem["code"], "internal");
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("SessionMiddleware"),
                "{uri}: {problem}"
            );
        }
        let public = alice.send("GET", PUBLIC, None, &[]).await;
        assert_eq!(
            public.status, 200,
            "ungated routes are not the gate's business"
        );
    });
}

#[test]
fn bodies_over_the_limit_get_the_cores_413() {
    run(async {
        let harness = ActixHarness::contract().await;
        let max = harness.world().config.max_body;
        let big = vec![b' '; usize::try_from(max).unwrap() + 1];
        for declared in [None, Some("5")] {
            let mut headers = vec![
                (SUBJECT_HEADER.to_owned(), "alice".to_owned()),
                ("content-type".to_owned(), "application/json".to_owned()),
            ];
            if let Some(length) = declared {
                headers.push(("content-length".to_owned(), length.to_owned()));
            }
            let response = harness
                .send(TestRequest {
                    method: "POST".to_owned(),
                    uri: "/mfa/verify".to_owned(),
                    headers,
                    body: big.clone(),
                })
                .await;
            assert_eq!(response.status, 413, "declared {declared:?}");
            assert_eq!(response.header("content-type"), Some(PROBLEM_JSON));
            assert_eq!(response.json()["code"], "payload_too_large");
        }
        let mut alice = Browser::new(&harness, Some("alice"));
        let fits = alice
            .send(
                "POST",
                "/mfa/verify",
                Some(json!({"method": "totp", "code": "123456"})),
                &[],
            )
            .await;
        assert_eq!(fits.status, 409, "a small body is read: {}", fits.json());
        assert_eq!(
            fits.json()["code"],
            "precondition",
            "alice has no factor yet"
        );
    });
}

/// Enrolls an authenticator app for the browser's subject through the
/// endpoints; the app, to compute codes with.
async fn enroll_totp(browser: &mut Browser<'_, ActixHarness>, world: &World) -> Totp {
    let started = browser.send("POST", "/mfa/totp", None, &[]).await;
    assert_eq!(started.status, 201, "{}", started.json());
    let started = started.json();
    let secret = Secret::from_base32(started["key"].as_str().unwrap()).unwrap();
    let app = Totp::new(&secret, &TotpConfig::default());
    let code = app.generate_at(world.clock.now().unix()).unwrap();
    let confirmed = browser
        .send(
            "POST",
            "/mfa/totp/confirm",
            Some(json!({"id": started["id"], "code": *code.expose(), "name": "Phone"})),
            &[],
        )
        .await;
    assert_eq!(confirmed.status, 201, "{}", confirmed.json());
    app
}

/// Verifies with the app's code one step later than the last one used.
async fn verify(
    browser: &mut Browser<'_, ActixHarness>,
    world: &World,
    app: &Totp,
) -> TestResponse {
    let now = world.advance(core::time::Duration::from_secs(30));
    let code = app.generate_at(now.unix()).unwrap();
    browser
        .send(
            "POST",
            "/mfa/verify",
            Some(json!({"method": "totp", "code": *code.expose()})),
            &[],
        )
        .await
}

#[test]
fn extractors_follow_the_core_and_refuse_with_problems() {
    run(async {
        let harness = ActixHarness::contract().await;
        let world = harness.world().clone();
        let mut anonymous = Browser::new(&harness, None);
        for uri in ["/x/verified", "/x/pending", "/x/stepped-up"] {
            let response = anonymous.send("GET", uri, None, &[]).await;
            assert_eq!(response.status, 401, "{uri}");
            assert_eq!(response.header("content-type"), Some(PROBLEM_JSON));
            assert_eq!(response.json()["code"], "not_authenticated");
        }
        let handle = anonymous.send("GET", "/x/handle", None, &[]).await.json();
        assert_eq!(
            handle,
            json!({"prefix": PREFIX, "typed": true, "untyped": false})
        );

        // No factor, MFA optional: verified in the gate's sense, nothing
        // pending, but no step-up without a factor to step up with.
        let mut alice = Browser::new(&harness, Some("alice"));
        let verified = alice.send("GET", "/x/verified", None, &[]).await;
        assert_eq!(
            (verified.status, verified.json()["subject"].clone()),
            (200, json!("alice"))
        );
        let pending = alice.send("GET", "/x/pending", None, &[]).await.json();
        assert_eq!(pending, json!({"subject": "alice", "pending": null}));
        let stepped = alice.send("GET", "/x/stepped-up", None, &[]).await;
        assert_eq!(stepped.status, 403);
        assert_eq!(stepped.json()["code"], "step_up_required");

        // With a factor, a new browser session must verify first.
        let app = enroll_totp(&mut alice, &world).await;
        let mut laptop = Browser::new(&harness, Some("alice"));
        let refused = laptop.send("GET", "/x/verified", None, &[]).await;
        assert_eq!(
            (refused.status, refused.json()["code"].clone()),
            (401, json!("mfa_required"))
        );
        let pending = laptop.send("GET", "/x/pending", None, &[]).await.json();
        assert_eq!(pending["pending"], "mfa_required");
        let stepped = laptop.send("GET", "/x/stepped-up", None, &[]).await;
        assert_eq!(
            stepped.json()["code"],
            "mfa_required",
            "the gate comes first"
        );

        assert_eq!(verify(&mut laptop, &world, &app).await.status, 200);
        assert_eq!(
            laptop.send("GET", "/x/verified", None, &[]).await.status,
            200
        );
        assert_eq!(
            laptop.send("GET", "/x/stepped-up", None, &[]).await.status,
            200
        );
        let pending = laptop.send("GET", "/x/pending", None, &[]).await.json();
        assert_eq!(pending["pending"], json!(null));

        // Past the step-up window the session still passes the gate.
        world.advance(core::time::Duration::from_secs(11 * 60));
        assert_eq!(
            laptop.send("GET", "/x/verified", None, &[]).await.status,
            200
        );
        let stale = laptop.send("GET", "/x/stepped-up", None, &[]).await;
        assert_eq!(
            (stale.status, stale.json()["code"].clone()),
            (403, json!("step_up_required"))
        );
    });
}

#[test]
fn the_admin_extractor_follows_the_administrator_endpoints_rule() {
    run(async {
        let harness = ActixHarness::contract().await;
        let world = harness.world().clone();
        let code = |browser: &TestResponse| browser.json()["code"].clone();
        // No factor (the gate passes under the optional policy): enroll first.
        let mut root = Browser::new(&harness, Some("root"));
        let refused = root.send("GET", "/x/admin", None, &[]).await;
        assert_eq!(
            (refused.status, code(&refused)),
            (403, json!("enrollment_required"))
        );
        // Not an administrator.
        let mut alice = Browser::new(&harness, Some("alice"));
        let refused = alice.send("GET", "/x/admin", None, &[]).await;
        assert_eq!((refused.status, code(&refused)), (403, json!("not_admin")));
        // Enrolled (the confirmation verifies this session): through.
        let app = enroll_totp(&mut root, &world).await;
        let admin = root.send("GET", "/x/admin", None, &[]).await;
        assert_eq!(
            (admin.status, admin.json()["subject"].clone()),
            (200, json!("root"))
        );
        // A new session with only the remembered browser: the gate lets it
        // through, the administration pages do not.
        let mut laptop = Browser::new(&harness, Some("root"));
        let now = world.advance(core::time::Duration::from_secs(30));
        let remembered = laptop
            .send(
                "POST",
                "/mfa/verify",
                Some(json!({
                    "method": "totp",
                    "code": *app.generate_at(now.unix()).unwrap().expose(),
                    "remember_device": true,
                })),
                &[],
            )
            .await;
        assert_eq!(remembered.status, 200);
        let device = laptop.cookie("mfa_device").unwrap().to_owned();
        let mut remembered_only = Browser::new(&harness, Some("root"));
        remembered_only.set_cookies(vec![("mfa_device".to_owned(), device)]);
        assert_eq!(
            remembered_only
                .send("GET", "/x/verified", None, &[])
                .await
                .status,
            200
        );
        let refused = remembered_only.send("GET", "/x/admin", None, &[]).await;
        assert_eq!(
            (refused.status, code(&refused)),
            (401, json!("mfa_required"))
        );
    });
}

#[test]
fn an_old_session_cookie_is_dead_after_verification() {
    run(async {
        let harness = ActixHarness::contract().await;
        let world = harness.world().clone();
        let mut alice = Browser::new(&harness, Some("alice"));
        let app = enroll_totp(&mut alice, &world).await;

        // A session whose id the attacker knows (planted before sign-in;
        // the host's login wrote to it).
        let mut victim = Browser::new(&harness, Some("alice"));
        assert_eq!(victim.send("GET", "/x/login", None, &[]).await.status, 200);
        let planted = victim.cookies();
        assert!(!planted.is_empty(), "the login started a session");
        assert_eq!(victim.send("GET", PROTECTED, None, &[]).await.status, 401);

        let verified = verify(&mut victim, &world, &app).await;
        assert_eq!(verified.status, 200, "{}", verified.json());
        assert_ne!(victim.cookies(), planted, "a new session id");
        assert_eq!(victim.send("GET", PROTECTED, None, &[]).await.status, 200);

        let mut attacker = Browser::new(&harness, Some("alice"));
        attacker.set_cookies(planted);
        let replay = attacker.send("GET", PROTECTED, None, &[]).await;
        assert_eq!(replay.status, 401, "the planted id is not verified");
        assert_eq!(replay.json()["code"], "mfa_required");
    });
}

#[test]
fn the_gate_redirects_browsers_and_announces_enrollment_deadlines() {
    run(async {
        let harness = ActixHarness::contract().await;
        let world = harness.world().clone();
        let root = SubjectId::new("root").unwrap();
        let mut policy = world.mfa.policy().await.unwrap();
        policy.roles.insert(
            Role::AGENT,
            RolePolicy::required(core::time::Duration::from_secs(7 * 86_400)),
        );
        policy.roles.insert(
            Role::END_USER,
            RolePolicy::required(core::time::Duration::ZERO),
        );
        world.mfa.update_policy(&root, policy).await.unwrap();

        let mut alice = Browser::new(&harness, Some("alice"));
        let graced = alice.send("GET", PROTECTED, None, &[]).await;
        assert_eq!(graced.status, 200);
        let deadline = world.clock.now().unix() + 7 * 86_400;
        assert_eq!(
            graced.header("mfa-enroll-by"),
            Some(deadline.to_string().as_str())
        );

        let mut erin = Browser::new(&harness, Some("erin"));
        let json = erin.send("GET", PROTECTED, None, &[]).await;
        assert_eq!(
            (json.status, json.json()["code"].clone()),
            (403, json!("enrollment_required"))
        );
        let html = erin
            .send(
                "GET",
                "/app/tickets?tab=open",
                None,
                &[("accept", "text/html")],
            )
            .await;
        assert_eq!(html.status, 303);
        assert_eq!(
            html.header("location"),
            Some("/enroll-page?next=/app/tickets%3Ftab%3Dopen")
        );
    });
}

/// With actix-session's defaults (what an application gets unless it
/// weakens them), the session cookie the gate causes is `HttpOnly`,
/// `SameSite` and `Secure`: the adapter sets no cookie attribute of its
/// own on the session.
#[test]
fn the_session_cookie_keeps_the_session_middlewares_defaults() {
    run(async {
        let world = World::new();
        let api = Api::new(world.mfa.clone(), world.config.clone()).with_directory(TestDirectory);
        let app = App::new()
            .app_data(MfaHandle::new(api))
            .service(
                web::resource(PROTECTED)
                    .wrap(MfaGate)
                    .route(web::get().to(ok)),
            )
            .wrap(from_fn(first_factor))
            .wrap(SessionMiddleware::new(
                MemorySessions::default(),
                Key::from(&[7; 64]),
            ));
        let app = actix_test::init_service(app).await;
        // Alice has no factor yet: the gate passes and stores that it
        // checked the session, which starts one.
        let request = actix_test::TestRequest::get()
            .uri(PROTECTED)
            .insert_header((SUBJECT_HEADER, "alice"))
            .to_request();
        let response = actix_test::call_service(&app, request).await;
        assert_eq!(response.status().as_u16(), 200);
        let cookie = response
            .headers()
            .get("set-cookie")
            .expect("a session cookie")
            .to_str()
            .unwrap()
            .to_owned();
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
