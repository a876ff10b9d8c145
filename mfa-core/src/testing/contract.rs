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
//! The behaviour every adapter must reproduce is the reference harness's
//! (`mfa-core/tests/http_contract.rs`): [`Api`] called
//! directly, with no web framework, sessions kept server-side under a
//! random id in a cookie, the id renewed whenever the core asks for it.
//!
//! An adapter's `tests/contract.rs` implements [`Harness`] over its
//! framework's in-process client and invokes
//! `mfa_core::http_contract_suite!(name, factory)` (see
//! `mfa-axum/tests/contract.rs` and `mfa-actix/tests/contract.rs`).
//!
//! The scenarios are listed in [`CASES`]; each is a function of
//! [`scenarios`], callable on its own to debug it.

use core::future::Future;
use core::time::Duration;
use std::sync::Arc;

use super::{ManualClock, RecordingNotifier};
use crate::clock::Timestamp;
use crate::http::{Api, Directory, HttpConfig};
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

/// The endpoints and gate every harness serves: [`World::api`].
pub type TestApi = Api<MemoryStore, RecordingNotifier, ManualClock, TestDirectory>;

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

    /// Enrolls and confirms an authenticator app for the directory
    /// subject `id` through the service (no HTTP), with the code of the
    /// current step; returns the app, to compute codes with.
    ///
    /// # Panics
    /// If `id` is not in [`subjects`](Self::subjects) or the service
    /// refuses the enrollment.
    #[allow(
        clippy::expect_used,
        clippy::panic,
        reason = "a test helper fails the test by panicking"
    )]
    pub async fn enroll_authenticator(&self, id: &str) -> crate::otp::Totp {
        let subject = Self::subject(id).expect("a subject of the test directory");
        let enrollment = self
            .mfa
            .start_totp_enrollment(&subject, &crate::policy::SessionState::default())
            .await
            .expect("enrollment starts");
        let app = crate::otp::Totp::new(
            &crate::Secret::from_base32(&enrollment.key).expect("the key is base32"),
            &enrollment.config,
        );
        let code = app
            .generate_at(crate::Clock::now(&self.clock).unix())
            .expect("after T0")
            .expose();
        let confirmed = self
            .mfa
            .confirm_totp_enrollment(
                &subject,
                &enrollment.id,
                &code,
                "Phone",
                crate::service::DriftTolerance::Standard,
            )
            .await
            .expect("the confirmation is answered");
        if !matches!(confirmed, crate::service::Confirmation::Enrolled { .. }) {
            panic!("the first code did not confirm the enrollment: {confirmed:?}");
        }
        app
    }

    /// The code `app` shows at the next time step: the clock moves 30 s
    /// (the current step may be used up already).
    ///
    /// # Panics
    /// Never for a clock after T0.
    #[allow(clippy::expect_used, reason = "the test clock is past T0")]
    #[must_use]
    pub fn next_code(&self, app: &crate::otp::Totp) -> String {
        let now = self.advance(Duration::from_secs(30));
        app.generate_at(now.unix())
            .expect("after T0")
            .expose()
            .to_string()
    }

    /// The endpoints and gate over this world's service and
    /// configuration, with [`TestDirectory`] as the user directory: what
    /// an adapter under test wraps.
    #[must_use]
    pub fn api(&self) -> TestApi {
        Api::new(Arc::clone(&self.mfa), self.config.clone()).with_directory(TestDirectory)
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
        if let Some(jar) = self.cookie_header() {
            headers.push(("cookie".to_owned(), jar));
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

    /// Sends `method uri` with exactly `body` and `headers` (names any
    /// case), plus only the subject header and the cookie jar: no
    /// `Sec-Fetch-Site` and no `Content-Type` unless given. For requests
    /// a page on another site, a form or a broken client would send.
    pub async fn send_raw(
        &mut self,
        method: &str,
        uri: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
            .collect();
        if let Some(subject) = &self.subject {
            all.push((SUBJECT_HEADER.to_owned(), subject.clone()));
        }
        if let Some(jar) = self.cookie_header() {
            all.push(("cookie".to_owned(), jar));
        }
        let response = self
            .harness
            .send(TestRequest {
                method: method.to_owned(),
                uri: uri.to_owned(),
                headers: all,
                body,
            })
            .await;
        self.keep_cookies(&response);
        response
    }

    /// Another tab of this browser: the same subject and a copy of the
    /// cookie jar (from then on each keeps its own jar), so that two
    /// requests of one session can be sent at the same time.
    #[must_use]
    pub fn fork(&self) -> Self {
        Self {
            harness: self.harness,
            subject: self.subject.clone(),
            cookies: self.cookies.clone(),
        }
    }

    /// The `Cookie` header this browser sends, if it holds any cookie.
    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
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

pub mod scenarios;

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
    // The timer is made inside the runtime: `timeout` needs its context.
    let timed = async { tokio::time::timeout(limit, scenario).await };
    if runtime.block_on(local.run_until(timed)).is_err() {
        panic!("the scenario did not finish within {limit:?}");
    }
}

/// Runs the HTTP contract suite against one adapter: expands to `mod
/// name { … }` with one `#[test]` per scenario of [`CASES`]. `factory`
/// is an expression of type `impl Fn() -> impl Future<Output = H>` with
/// `H:` [`Harness`], called once per scenario. Scenarios run through
/// [`run_local`], or through `run = runner` (any callable that takes the
/// scenario's future and drives it to completion, such as
/// `|f| actix_web::rt::System::new().block_on(f)`).
#[macro_export]
macro_rules! http_contract_suite {
    ($name:ident, $factory:expr $(,)?) => {
        $crate::http_contract_suite!($name, $factory, run = $crate::testing::contract::run_local);
    };
    ($name:ident, $factory:expr, run = $run:expr $(,)?) => {
        $crate::__http_contract_list! { __http_contract_cases! { $name, $factory, $run; } }
    };
}

/// The one list of contract scenarios: calls `$callback! { $($args)*
/// [scenarios] }`. Both the tests [`http_contract_suite!`] generates and
/// [`CASES`] come from it, and a unit test checks that it names every
/// public scenario function of [`scenarios`] once.
#[doc(hidden)]
#[macro_export]
macro_rules! __http_contract_list {
    ($callback:ident! { $($args:tt)* }) => {
        $crate::$callback! {
            $($args)*
            [
                // Basics.
                no_subject_is_not_authenticated,
                routes_open_to_a_subject_without_factors,
                unknown_paths_are_404_and_wrong_methods_405,
                the_openapi_document_is_served,
                // Success paths.
                every_profile_endpoint_on_its_success_path,
                administrator_endpoints_on_their_success_path,
                // Errors.
                broken_bodies_are_4xx_problems,
                bad_values_are_4xx_never_5xx,
                refused_and_replayed_codes_get_one_answer,
                too_many_wrong_codes_lock_with_retry_after,
                codes_asked_for_too_soon_are_429,
                what_the_policy_forbids_is_403,
                a_failing_message_service_is_503,
                // The known failures of other products.
                password_only_sessions_reach_nothing_protected,
                a_session_from_before_verification_is_dead,
                redirects_stay_on_this_site,
                cross_site_and_form_requests_change_nothing,
                sensitive_changes_need_a_fresh_code,
                the_same_code_at_once_is_accepted_once,
                parallel_guesses_are_throttled_for_every_session,
                remembered_devices_are_bound_revocable_and_reset,
                admin_endpoints_need_a_verified_administrator,
                // Enforcement.
                a_grace_period_sends_the_enroll_by_header,
                no_grace_means_enrollment_first,
            ]
        }
    };
}

/// Implementation detail of [`http_contract_suite!`]: the names as
/// [`CASES`].
#[doc(hidden)]
#[macro_export]
macro_rules! __http_contract_names {
    ([$($case:ident),* $(,)?]) => {
        /// Every scenario, by name, as
        /// [`http_contract_suite!`](crate::http_contract_suite) runs them.
        pub const CASES: &[&str] = &[$(stringify!($case)),*];
    };
}

/// Implementation detail of [`http_contract_suite!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __http_contract_cases {
    ($name:ident, $factory:expr, $run:expr; [$($case:ident),* $(,)?]) => {
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

crate::__http_contract_list! { __http_contract_names! {} }

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every `pub async fn` at the start of a line in the scenarios'
    /// sources.
    fn public_scenarios() -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for source in super::scenarios::SOURCES {
            for (i, _) in source.match_indices("\npub async fn ") {
                let name: String = source[i + 14..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.insert(name);
            }
        }
        found
    }

    #[test]
    fn the_case_list_names_every_public_scenario_once() {
        let listed: BTreeSet<String> = super::CASES.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(
            listed.len(),
            super::CASES.len(),
            "a scenario is listed twice"
        );
        assert_eq!(
            listed,
            public_scenarios(),
            "the macro's case list and the public scenario functions differ"
        );
    }

    #[test]
    fn the_check_sees_the_scenarios() {
        let found = public_scenarios();
        assert!(found.len() >= 20, "{found:?}");
        assert!(found.contains("no_subject_is_not_authenticated"));
        assert!(found.contains("the_same_code_at_once_is_accepted_once"));
    }
}
