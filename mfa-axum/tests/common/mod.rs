//! The application every test drives: the contract's layout (see
//! `mfa_core::testing::contract`) on axum, and a harness over it.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt as _;
use mfa_axum::MfaLayer;
use mfa_core::http::Api;
use mfa_core::testing::contract::{
    Harness, PREFIX, PROTECTED, PUBLIC, SUBJECT_HEADER, TestDirectory, TestRequest, TestResponse,
    World,
};
use tower::ServiceExt as _;
use tower_sessions::{MemoryStore as SessionStore, SessionManagerLayer};

pub type TestApi = Api<
    mfa_core::MemoryStore,
    mfa_core::testing::RecordingNotifier,
    mfa_core::testing::ManualClock,
    TestDirectory,
>;

/// The first-factor stand-in: the subject named by `x-test-subject`.
pub async fn first_factor(mut request: Request, next: Next) -> Response {
    let subject = request
        .headers()
        .get(SUBJECT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(World::subject);
    if let Some(subject) = subject {
        request.extensions_mut().insert(subject);
    }
    next.run(request).await
}

pub async fn tickets() -> Response {
    ([(CONTENT_TYPE, "application/json")], r#"{"ok":true}"#).into_response()
}

pub fn api(world: &World) -> Arc<TestApi> {
    Arc::new(Api::new(world.mfa.clone(), world.config.clone()).with_directory(TestDirectory))
}

/// The contract's application, with `extra` routes of the test's own
/// (ungated, after the MFA context layer) merged in.
pub fn app_with(world: &World, extra: Router) -> Router {
    let api = api(world);
    Router::new()
        .route(PROTECTED, get(tickets))
        .layer(MfaLayer::new(api.clone()))
        .merge(extra.layer(MfaLayer::ungated(api.clone())))
        .route(PUBLIC, get(|| async { "public" }))
        .nest(PREFIX, mfa_axum::router(api))
        .layer(middleware::from_fn(first_factor))
        .layer(SessionManagerLayer::new(SessionStore::default()).with_secure(false))
}

/// The harness: the application, driven with `oneshot`.
pub struct AxumHarness {
    pub app: Router,
    pub world: World,
}

impl AxumHarness {
    pub fn new(world: World) -> Self {
        Self::with_routes(world, Router::new())
    }

    pub fn with_routes(world: World, extra: Router) -> Self {
        Self {
            app: app_with(&world, extra),
            world,
        }
    }
}

pub async fn send(app: &Router, request: TestRequest) -> TestResponse {
    let mut builder = Request::builder()
        .method(request.method.as_str())
        .uri(request.uri.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let request = builder.body(Body::from(request.body)).unwrap();
    into_test_response(app.clone().oneshot(request).await.unwrap()).await
}

pub async fn into_test_response(response: Response) -> TestResponse {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    TestResponse {
        status,
        headers,
        body: body.to_vec(),
    }
}

impl Harness for AxumHarness {
    fn send(&self, request: TestRequest) -> impl Future<Output = TestResponse> {
        send(&self.app, request)
    }

    fn world(&self) -> &World {
        &self.world
    }
}

/// Runs a scenario on a single-threaded runtime with a `LocalSet`, failing
/// after 60 s. (`mfa_core::testing::contract::run_local` builds its timeout
/// outside the runtime and panics with "no reactor running"; this is the
/// same runner with the timeout built inside.)
pub fn run<F: Future<Output = ()>>(scenario: F) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let limit = std::time::Duration::from_secs(60);
    runtime
        .block_on(local.run_until(async { tokio::time::timeout(limit, scenario).await }))
        .expect("the scenario finishes within 60 s");
}
