//! The HTTP contract suite (features `testing` and `http`): the scenarios
//! every web adapter must pass, written once against a small
//! [`Harness`] trait that each adapter implements over its framework's
//! in-process test client.
//!
//! A harness serves one application built the same way on every
//! framework (see [`World`]): the adapter's MFA routes under
//! [`PREFIX`], its session layer, its gate in front of
//! [`PROTECTED`], an ungated [`PUBLIC`] route, and a first-factor stand-in
//! that puts the [`Subject`] named by the [`SUBJECT_HEADER`] request header
//! (one of [`World::subjects`]) into the request's extensions.
//!
//! ```ignore
//! // tests/contract.rs of an adapter
//! mfa_core::http_contract_suite!(axum, || async { MyHarness::new(World::new()) });
//! ```

use core::future::Future;
use core::time::Duration;
use std::sync::Arc;

use super::{ManualClock, RecordingNotifier};
use crate::clock::Timestamp;
use crate::http::{Directory, HttpConfig};
use crate::seal::{Sealer, SealingKey};
use crate::service::{Mfa, MfaConfig};
use crate::subject::{Role, Subject, SubjectId};
use crate::{MemoryStore, Pepper, Result};

/// Where the MFA endpoints are mounted.
pub const PREFIX: &str = "/mfa";
/// A route of the application behind the gate: answers 200 with
/// `{"ok":true}` to `GET`.
pub const PROTECTED: &str = "/app/tickets";
/// A route without the gate: answers 200 to `GET`.
pub const PUBLIC: &str = "/public";
/// The request header the first-factor stand-in reads the subject id
/// from. A request without it has no authenticated subject.
pub const SUBJECT_HEADER: &str = "x-test-subject";

/// The service every harness uses.
pub type TestMfa = Mfa<MemoryStore, RecordingNotifier, ManualClock>;

/// A request as the suite sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query (`/mfa/verify`).
    pub uri: String,
    /// Headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// A response as the harness returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResponse {
    /// The status.
    pub status: u16,
    /// Headers, names lower case, in order (`set-cookie` may repeat).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The first header called `name`.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not JSON).
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What an adapter's test provides: one application, built from a
/// [`World`], that the suite sends requests to.
pub trait Harness: 'static {
    /// Sends one request through the whole application (session layer,
    /// first-factor stand-in, gate, routes) and returns the response.
    /// The future need not be `Send`: scenarios run on one thread (see
    /// [`run_local`]).
    fn send(&self, request: TestRequest) -> impl Future<Output = TestResponse>;

    /// The world the application was built from.
    fn world(&self) -> &World;
}

/// Everything an application under test shares with the suite: the
/// service (over a [`MemoryStore`], a [`RecordingNotifier`] and a
/// [`ManualClock`]), the HTTP configuration and the user directory.
#[derive(Debug, Clone)]
pub struct World {
    /// The service.
    pub mfa: Arc<TestMfa>,
    /// The HTTP configuration (prefix [`PREFIX`], `admin` role, local
    /// HTTP: the device cookie is not `Secure`).
    pub config: HttpConfig,
    /// The clock (shared with `mfa`).
    pub clock: ManualClock,
    /// The notifier (shared with `mfa`): the outbox.
    pub notifier: RecordingNotifier,
    /// The store (shared with `mfa`).
    pub store: MemoryStore,
}

impl World {
    /// A fresh world at a fixed time.
    ///
    /// # Panics
    /// Never: the fixed keys are valid.
    #[must_use]
    #[allow(clippy::expect_used, reason = "fixed, valid test keys")]
    pub fn new() -> Self {
        let clock = ManualClock::new(Timestamp::from_unix(1_800_000_000));
        let notifier = RecordingNotifier::new();
        let store = MemoryStore::new();
        let config = MfaConfig::new(
            "Contract Desk",
            Pepper::new(&[0x33; 32]).expect("a 32-byte pepper"),
            Sealer::new(vec![SealingKey::new(1, [0x44; 32])]).expect("one key"),
        );
        let mfa = Arc::new(Mfa::new(
            store.clone(),
            notifier.clone(),
            clock.clone(),
            config,
        ));
        let mut http = HttpConfig {
            prefix: PREFIX.to_owned(),
            verify_page: "/verify-page".to_owned(),
            enroll_page: "/enroll-page".to_owned(),
            ..HttpConfig::default()
        };
        http.device_cookie.secure = false;
        Self {
            mfa,
            config: http,
            clock,
            notifier,
            store,
        }
    }

    /// The people of the test directory: `alice` and `bob` (agents),
    /// `erin` (end user), `root` (agent and `admin`).
    #[must_use]
    pub fn subjects() -> Vec<Subject> {
        let person = |id: &str, roles: Vec<Role>| {
            SubjectId::new(id).map(|sid| {
                Subject::new(sid, roles)
                    .with_email(format!("{id}@example.com"))
                    .with_phone("+15550100")
            })
        };
        let admin = Role::new("admin").unwrap_or(Role::AGENT);
        [
            person("alice", vec![Role::AGENT]),
            person("bob", vec![Role::AGENT]),
            person("erin", vec![Role::END_USER]),
            person("root", vec![Role::AGENT, admin]),
        ]
        .into_iter()
        .filter_map(core::result::Result::ok)
        .collect()
    }

    /// The subject named `id` in [`subjects`](Self::subjects).
    #[must_use]
    pub fn subject(id: &str) -> Option<Subject> {
        Self::subjects().into_iter().find(|s| s.id.as_str() == id)
    }

    /// Moves the clock on.
    pub fn advance(&self, by: Duration) -> Timestamp {
        self.clock.advance(by)
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// The test directory: [`World::subjects`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TestDirectory;

impl Directory for TestDirectory {
    async fn subject(&self, id: &SubjectId) -> Result<Option<Subject>> {
        Ok(World::subject(id.as_str()))
    }

    async fn subjects(&self) -> Result<Vec<Subject>> {
        Ok(World::subjects())
    }
}

/// A browser: sends requests as one subject, keeps the cookies the
/// application sets (session and remembered device) and sends them back.
#[derive(Debug)]
pub struct Browser<'h, H> {
    harness: &'h H,
    subject: Option<String>,
    cookies: Vec<(String, String)>,
}

impl<'h, H: Harness> Browser<'h, H> {
    /// A browser with no cookies, signed in (first factor) as `subject`.
    pub fn new(harness: &'h H, subject: Option<&str>) -> Self {
        Self {
            harness,
            subject: subject.map(str::to_owned),
            cookies: Vec::new(),
        }
    }

    /// Sends `method uri` with a JSON `body` (`None`: no body), plus
    /// `extra` headers, from this site (`Sec-Fetch-Site: same-origin`).
    pub async fn send(
        &mut self,
        method: &str,
        uri: &str,
        body: Option<serde_json::Value>,
        extra: &[(&str, &str)],
    ) -> TestResponse {
        let mut headers = vec![("sec-fetch-site".to_owned(), "same-origin".to_owned())];
        if let Some(subject) = &self.subject {
            headers.push((SUBJECT_HEADER.to_owned(), subject.clone()));
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            headers.push(("cookie".to_owned(), jar.join("; ")));
        }
        let body = match body {
            Some(json) => {
                headers.push(("content-type".to_owned(), "application/json".to_owned()));
                serde_json::to_vec(&json).unwrap_or_default()
            }
            None => Vec::new(),
        };
        for (name, value) in extra {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push(((*name).to_ascii_lowercase(), (*value).to_owned()));
        }
        let response = self
            .harness
            .send(TestRequest {
                method: method.to_owned(),
                uri: uri.to_owned(),
                headers,
                body,
            })
            .await;
        self.keep_cookies(&response);
        response
    }

    /// The cookie `name` this browser holds.
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Replaces the cookie jar (to replay an old session id, say).
    pub fn set_cookies(&mut self, cookies: Vec<(String, String)>) {
        self.cookies = cookies;
    }

    /// The cookie jar.
    #[must_use]
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.cookies.clone()
    }

    fn keep_cookies(&mut self, response: &TestResponse) {
        for (name, value) in &response.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = value.split(';').next().unwrap_or("");
            let Some((cookie, content)) = pair.trim().split_once('=') else {
                continue;
            };
            let expired = value
                .split(';')
                .any(|attr| attr.trim().eq_ignore_ascii_case("max-age=0"));
            self.cookies.retain(|(n, _)| n != cookie);
            if !expired && !content.is_empty() {
                self.cookies.push((cookie.to_owned(), content.to_owned()));
            }
        }
    }
}

/// The contract scenarios, one function each. Every scenario builds its
/// own subjects' state through the HTTP endpoints and asserts statuses
/// and bodies; it panics (an assertion) when the adapter breaks the
/// contract.
pub mod scenarios {
    use super::*;

    /// A request without an authenticated subject is 401
    /// `not_authenticated` on the gate and on every endpoint but the
    /// OpenAPI document.
    pub async fn no_subject_is_not_authenticated<H: Harness>(harness: &H) {
        let mut anonymous = Browser::new(harness, None);
        let gate = anonymous.send("GET", PROTECTED, None, &[]).await;
        assert_eq!(gate.status, 401, "gate");
        assert_eq!(gate.json()["code"], "not_authenticated");
        assert_eq!(
            gate.header("content-type"),
            Some(crate::http::PROBLEM_JSON),
            "problem+json"
        );
        for route in crate::http::ROUTES {
            let uri = format!(
                "{PREFIX}{}",
                route
                    .path
                    .replace("{channel}", "email")
                    .replace("{id}", "x")
            );
            let body =
                (route.method != "GET" && route.method != "DELETE").then(|| serde_json::json!({}));
            let response = anonymous.send(route.method, &uri, body, &[]).await;
            if route.access == crate::http::Access::Public {
                assert_eq!(response.status, 200, "{} {uri}", route.method);
            } else {
                assert_eq!(response.status, 401, "{} {uri}", route.method);
                assert_eq!(response.json()["code"], "not_authenticated");
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
        assert_eq!(gated.status, 200);
        assert_eq!(gated.json()["ok"], true);
    }
}

/// Runs `scenario` to completion on a fresh single-threaded tokio runtime
/// (with a `LocalSet`, so futures that are not `Send` work), failing the
/// test after 60 s.
///
/// # Panics
/// If the runtime cannot start, or the scenario takes longer than 60 s.
#[allow(clippy::panic, reason = "a test helper fails the test by panicking")]
pub fn run_local<F: Future<Output = ()>>(scenario: F) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => panic!("cannot start the test runtime: {error}"),
    };
    let local = tokio::task::LocalSet::new();
    let limit = Duration::from_secs(60);
    if runtime
        .block_on(local.run_until(tokio::time::timeout(limit, scenario)))
        .is_err()
    {
        panic!("the scenario did not finish within {limit:?}");
    }
}

/// Runs the HTTP contract suite against one adapter: expands to `mod
/// name { … }` with one `#[test]` per scenario. `factory` is an
/// expression of type `impl Fn() -> impl Future<Output = H>` with `H:`
/// [`Harness`], called once per scenario. Scenarios run through
/// [`run_local`], or through `run = runner` (any callable that takes the
/// scenario's future and drives it to completion, such as
/// `|f| actix_web::rt::System::new().block_on(f)`).
#[macro_export]
macro_rules! http_contract_suite {
    ($name:ident, $factory:expr $(,)?) => {
        $crate::http_contract_suite!($name, $factory, run = $crate::testing::contract::run_local);
    };
    ($name:ident, $factory:expr, run = $run:expr $(,)?) => {
        $crate::__http_contract_cases! {
            $name, $factory, $run;
            no_subject_is_not_authenticated,
            routes_open_to_a_subject_without_factors,
        }
    };
}

/// Implementation detail of [`http_contract_suite!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __http_contract_cases {
    ($name:ident, $factory:expr, $run:expr; $($case:ident),* $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[test]
                fn $case() {
                    ($run)(async {
                        let harness = ($factory)().await;
                        $crate::testing::contract::scenarios::$case(&harness).await;
                    });
                }
            )*
        }
    };
}
