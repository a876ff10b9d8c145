//! The known two-factor failures of other products, one scenario each:
//! what an attacker who has the password (or a session cookie, or a page
//! on another site) tries, refused the same way by every adapter.

use core::time::Duration;

use serde_json::{Value, json};

use super::{
    DEVICE_COOKIE, FIREFOX, THIRTY_DAYS, enroll_totp, expect_json, expect_no_content,
    expect_problem, expect_redirect, join_all, mfa, new_browser, now, register_email, sent_code,
    session_cookies, signed_up, text, verify_totp,
};
use crate::http::{Access, ROUTES};
use crate::subject::Channel;
use crate::testing::contract::{Browser, Harness, PROTECTED, TestResponse};

/// A request to `route` with placeholder parameters and, where it takes
/// one, a JSON body.
fn placeholder(route: &crate::http::Route) -> (String, Option<Value>) {
    let uri = mfa(&route
        .path
        .replace("{channel}", "email")
        .replace("{id}", "alice"));
    let body = matches!(route.method, "POST" | "PUT").then(|| json!({}));
    (uri, body)
}

/// (1) A password-only session of a subject who has a second factor
/// reaches nothing behind the gate and no endpoint but those of the
/// second step: the gate answers 401 `mfa_required` to JSON clients and
/// 303 to the verify page (with a local `next`) to browsers; every
/// profile and administrator endpoint is 401 `mfa_required`; adding a
/// factor is 403 `step_up_required`.
pub async fn password_only_sessions_reach_nothing_protected<H: Harness>(harness: &H) {
    let world = harness.world();
    signed_up(harness, "alice").await;
    let mut thief = new_browser(harness, "alice");

    let gated = thief.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 401, "mfa_required", "gate, JSON");
    let gated = thief
        .send("GET", PROTECTED, None, &[("accept", "application/json")])
        .await;
    expect_problem(
        &gated,
        401,
        "mfa_required",
        "gate, Accept: application/json",
    );
    let page = format!("{PROTECTED}?tab=notes");
    let gated = thief
        .send(
            "GET",
            &page,
            None,
            &[("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")],
        )
        .await;
    let next = expect_redirect(&gated, &world.config.verify_page, "gate, browser");
    assert_eq!(next, page, "next is the page asked for");
    assert_eq!(gated.header("cache-control"), Some("no-store"));

    for route in ROUTES {
        if !matches!(route.access, Access::Verified | Access::Admin) {
            continue;
        }
        let (uri, body) = placeholder(route);
        let response = thief.send(route.method, &uri, body, &[]).await;
        expect_problem(
            &response,
            401,
            "mfa_required",
            &format!("{} {uri}, password only", route.method),
        );
    }
    for path in ["/totp", "/channels/email", "/channels/sms"] {
        let response = thief.send("POST", &mfa(path), None, &[]).await;
        expect_problem(
            &response,
            403,
            "step_up_required",
            &format!("POST {path}, password only"),
        );
    }
    let status = thief.send("GET", &mfa("/status"), None, &[]).await;
    let status = expect_json(&status, 200, "GET /status, password only");
    assert_eq!(
        (&status["verified"], &status["decision"]),
        (
            &json!(false),
            &json!({"decision": "verify_now", "methods": ["totp", "recovery"]})
        )
    );
}

/// (2) The session id changes when the session passes the second step,
/// and the one from before is dead: replaying the old cookie jar gets an
/// unverified session. The same holds when a remembered browser raises a
/// session, and a session made for one subject counts for no other.
pub async fn a_session_from_before_verification_is_dead<H: Harness>(harness: &H) {
    let world = harness.world();
    let mut setup = new_browser(harness, "alice");
    let status = setup.send("GET", &mfa("/status"), None, &[]).await;
    expect_json(&status, 200, "GET /status");
    let before_enrolling = session_cookies(&setup, DEVICE_COOKIE);
    assert!(!before_enrolling.is_empty(), "the session has a cookie");
    let (phone, _) = enroll_totp(&mut setup, "Phone").await;
    assert_ne!(
        session_cookies(&setup, DEVICE_COOKIE),
        before_enrolling,
        "the session cookie changes when confirming a factor verifies the session"
    );
    // A new sign-in (password only).
    let mut alice = new_browser(harness, "alice");
    let gated = alice.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 401, "mfa_required", "before verifying");
    let before = alice.cookies();
    let code = phone.fresh_code(world);
    let verified = alice
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code})),
            &[],
        )
        .await;
    expect_json(&verified, 200, "POST /verify");
    assert_ne!(
        session_cookies(&alice, DEVICE_COOKIE),
        before,
        "the session cookie changes on verification"
    );
    let gated = alice.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "the verified session");

    let mut replay = new_browser(harness, "alice");
    replay.set_cookies(before.clone());
    let gated = replay.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 401, "mfa_required", "the old session id");
    let status = replay.send("GET", &mfa("/status"), None, &[]).await;
    assert_eq!(
        expect_json(&status, 200, "GET /status, old session id")["verified"],
        false
    );
    let codes = replay
        .send("POST", &mfa("/recovery-codes"), None, &[])
        .await;
    expect_problem(
        &codes,
        401,
        "mfa_required",
        "the old session id changes things",
    );

    // A session raised by the remembered-device cookie: the id from
    // before (without the cookie) stays unraised. Bob's session exists
    // before he has a factor (the gate stores that it checked it), he
    // enrolls in it, and a remembered browser raises it.
    let mut bob = new_browser(harness, "bob");
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "bob, no factor yet");
    let unraised = bob.cookies();
    assert!(!unraised.is_empty(), "bob's session has a cookie");
    // Bob sets up an app in another browser; once this session is checked
    // again, it must verify.
    let mut bob_phone_browser = new_browser(harness, "bob");
    let (bob_phone, _) = enroll_totp(&mut bob_phone_browser, "Phone").await;
    world.advance(world.config.revalidate + Duration::from_secs(1));
    let mut elsewhere = new_browser(harness, "bob");
    let code = bob_phone.fresh_code(world);
    let verified = elsewhere
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code, "remember_device": true})),
            &[],
        )
        .await;
    expect_json(&verified, 200, "bob remembers a browser");
    let bob_device = elsewhere
        .cookie(DEVICE_COOKIE)
        .expect("the remember-device cookie")
        .to_owned();
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 401, "mfa_required", "bob's session, enrolled");
    let mut jar = unraised.clone();
    jar.push((DEVICE_COOKIE.to_owned(), bob_device));
    bob.set_cookies(jar);
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_json(
        &gated,
        200,
        "bob's session, raised by the remembered browser",
    );
    let mut planted = new_browser(harness, "bob");
    planted.set_cookies(unraised);
    let gated = planted.send("GET", PROTECTED, None, &[]).await;
    expect_problem(
        &gated,
        401,
        "mfa_required",
        "the session id from before the remembered browser raised it",
    );

    // Bob (who has a factor) with alice's verified session.
    let mut bob = new_browser(harness, "bob");
    bob.set_cookies(session_cookies(&alice, DEVICE_COOKIE));
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 401, "mfa_required", "bob with alice's session");
}

/// (3) Whatever `next` a request carries, the redirect to the verify
/// page names a local path only, percent-encoded: never another site
/// (`//evil.example`, `/\evil`, `https://evil.example`, `/%2F%2Fevil`),
/// never a control character; a `next` too long to be safe becomes `/`.
pub async fn redirects_stay_on_this_site<H: Harness>(harness: &H) {
    let world = harness.world();
    signed_up(harness, "alice").await;
    let mut thief = new_browser(harness, "alice");
    let html = [("accept", "text/html")];
    for evil in [
        "//evil.example",
        "///evil.example",
        "/%5Cevil.example",
        "/%5C%5Cevil.example",
        "%5C%5Cevil.example",
        "https://evil.example",
        "https:evil.example",
        "/%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "/%2f/evil.example",
        "javascript:alert(1)",
        "/%0D%0ASet-Cookie:%20sid=evil",
        "/tickets%00.example",
        "/%09/evil.example",
        "%E2%80%AE//evil.example",
    ] {
        for uri in [
            format!("{PROTECTED}?next={evil}"),
            format!("{PROTECTED}?tab=1&next={evil}"),
        ] {
            let gated = thief.send("GET", &uri, None, &html).await;
            let what = format!("GET {uri}");
            let next = expect_redirect(&gated, &world.config.verify_page, &what);
            assert!(
                next == "/" || next.starts_with(PROTECTED),
                "{what}: next {next:?} is the page asked for, or the root"
            );
        }
    }
    let long = format!("{PROTECTED}?q={}", "a".repeat(3000));
    let gated = thief.send("GET", &long, None, &html).await;
    let next = expect_redirect(&gated, &world.config.verify_page, "a very long next");
    assert_eq!(next, "/");
}

/// A state-changing request with `headers` and `body`; the answer.
async fn forged<H: Harness>(
    browser: &mut Browser<'_, H>,
    method: &str,
    uri: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> TestResponse {
    browser.send_raw(method, uri, body.to_vec(), headers).await
}

/// (4) Turning MFA on or off, regenerating recovery codes, removing a
/// factor or a remembered browser, verifying: refused from another site
/// (`Origin` of another host without `Sec-Fetch-Site`, `Sec-Fetch-Site:
/// cross-site` or `same-site`, `Origin: null`: 403 `cross_site`) and as a
/// form or plain text (415), and nothing changes. The same requests from
/// this site, or from a client that is not a browser, work.
#[allow(clippy::too_many_lines, reason = "one table of forgeries")]
pub async fn cross_site_and_form_requests_change_nothing<H: Harness>(harness: &H) {
    let world = harness.world();
    let (mut alice, phone) = signed_up(harness, "alice").await;
    register_email(&mut alice, "alice").await;
    let code = phone.fresh_code(world);
    let remembered = alice
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code, "remember_device": true})),
            &[],
        )
        .await;
    expect_json(&remembered, 200, "remember this browser");
    let factors = alice.send("GET", &mfa("/factors"), None, &[]).await;
    let factors = expect_json(&factors, 200, "GET /factors");
    let totp_id = text(&factors["authenticators"][0], "id");
    let devices = alice.send("GET", &mfa("/devices"), None, &[]).await;
    let devices = expect_json(&devices, 200, "GET /devices");
    let device_id = text(&devices["devices"][0], "id");
    let status_before = expect_json(
        &alice.send("GET", &mfa("/status"), None, &[]).await,
        200,
        "GET /status",
    );

    let changes: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", mfa("/totp"), None),
        ("POST", mfa("/channels/sms"), None),
        ("POST", mfa("/disable"), None),
        ("POST", mfa("/recovery-codes"), None),
        ("DELETE", mfa(&format!("/factors/totp/{totp_id}")), None),
        ("DELETE", mfa("/factors/channels/email"), None),
        ("DELETE", mfa(&format!("/devices/{device_id}")), None),
        (
            "POST",
            mfa("/verify"),
            Some(json!({"method": "totp", "code": phone.code_at(now(harness))})),
        ),
        ("PUT", mfa("/admin/policy"), Some(json!({}))),
    ];
    let evil = "https://evil.example";
    for (method, uri, body) in &changes {
        let json_body = body
            .as_ref()
            .map(|b| serde_json::to_vec(b).unwrap_or_default())
            .unwrap_or_default();
        let json_type: &[(&str, &str)] = if body.is_some() {
            &[("content-type", "application/json")]
        } else {
            &[]
        };
        let cross_site: [(Vec<(&str, &str)>, &str); 5] = [
            (vec![("origin", evil)], "Origin of another site"),
            (
                vec![("origin", evil), ("host", "desk.example")],
                "Origin of another site, Host given",
            ),
            (
                vec![("sec-fetch-site", "cross-site"), ("origin", evil)],
                "Sec-Fetch-Site: cross-site",
            ),
            (
                vec![("sec-fetch-site", "same-site")],
                "Sec-Fetch-Site: same-site",
            ),
            (vec![("origin", "null")], "Origin: null"),
        ];
        for (mut headers, case) in cross_site {
            headers.extend_from_slice(json_type);
            let response = forged(&mut alice, method, uri, &json_body, &headers).await;
            expect_problem(
                &response,
                403,
                "cross_site",
                &format!("{method} {uri}, {case}"),
            );
        }
        for (content_type, form) in [
            ("application/x-www-form-urlencoded", &b"confirm=yes"[..]),
            ("text/plain", b"{}"),
            ("multipart/form-data; boundary=x", b"--x--"),
        ] {
            for site in ["cross-site", "same-origin"] {
                let headers = [("content-type", content_type), ("sec-fetch-site", site)];
                let response = forged(&mut alice, method, uri, form, &headers).await;
                expect_problem(
                    &response,
                    415,
                    "unsupported_media_type",
                    &format!("{method} {uri}, {content_type}, {site}"),
                );
            }
        }
    }

    // Nothing changed.
    let status_after = expect_json(
        &alice.send("GET", &mfa("/status"), None, &[]).await,
        200,
        "GET /status after the forgeries",
    );
    assert_eq!(status_after, status_before, "the forgeries changed nothing");
    let devices_after = alice.send("GET", &mfa("/devices"), None, &[]).await;
    assert_eq!(
        expect_json(&devices_after, 200, "GET /devices after the forgeries"),
        devices
    );

    // This site's own requests work: an Origin naming this host, and a
    // client that sends neither header.
    let same_host = [("origin", "https://desk.example"), ("host", "desk.example")];
    let response = forged(&mut alice, "POST", &mfa("/recovery-codes"), b"", &same_host).await;
    expect_json(&response, 200, "POST /recovery-codes, Origin of this host");
    let uri = mfa(&format!("/devices/{device_id}"));
    let response = forged(&mut alice, "DELETE", &uri, b"", &[]).await;
    expect_no_content(&response, "DELETE /devices/{id}, no browser headers");
}

/// (5) Sensitive changes need a fresh code: ten minutes after the last
/// verification, turning MFA off, regenerating recovery codes, removing
/// a factor or a remembered browser, and adding a factor are 403
/// `step_up_required` (while the gate still lets the session through);
/// after a new verification (which cycles the session id) they are
/// allowed.
#[allow(clippy::too_many_lines, reason = "every sensitive change, twice")]
pub async fn sensitive_changes_need_a_fresh_code<H: Harness>(harness: &H) {
    let world = harness.world();
    let (mut alice, phone) = signed_up(harness, "alice").await;
    register_email(&mut alice, "alice").await;
    let (_, tablet) = enroll_totp(&mut alice, "Tablet").await;
    let tablet_id = text(&tablet["authenticator"], "id");
    let code = phone.fresh_code(world);
    let remembered = alice
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code, "remember_device": true})),
            &[("user-agent", FIREFOX)],
        )
        .await;
    expect_json(&remembered, 200, "remember this browser");
    let devices = alice.send("GET", &mfa("/devices"), None, &[]).await;
    let device_id = text(
        &expect_json(&devices, 200, "GET /devices")["devices"][0],
        "id",
    );

    world.advance(Duration::from_secs(10 * 60 + 1));
    let gated = alice.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "the gate, 10 minutes on");
    let sensitive = [
        ("POST", mfa("/disable")),
        ("POST", mfa("/recovery-codes")),
        ("DELETE", mfa(&format!("/factors/totp/{tablet_id}"))),
        ("DELETE", mfa("/factors/channels/email")),
        ("DELETE", mfa(&format!("/devices/{device_id}"))),
        ("POST", mfa("/totp")),
        ("POST", mfa("/channels/sms")),
        ("POST", mfa("/channels/email")),
    ];
    for (method, uri) in &sensitive {
        let response = alice.send(method, uri, None, &[]).await;
        expect_problem(
            &response,
            403,
            "step_up_required",
            &format!("{method} {uri}, verified 10 minutes ago"),
        );
    }
    let factors = alice.send("GET", &mfa("/factors"), None, &[]).await;
    let factors = expect_json(&factors, 200, "GET /factors, 10 minutes on");
    assert_eq!(factors["authenticators"].as_array().map(Vec::len), Some(2));
    assert_eq!(factors["channels"].as_array().map(Vec::len), Some(1));

    // A fresh code, and each is allowed. The step-up cycles the session
    // id like the first verification: a copy of the session id taken
    // before it is dead, and does not ride on the fresh code.
    let before_step_up = session_cookies(&alice, DEVICE_COOKIE);
    let verified = verify_totp(&mut alice, &phone).await;
    expect_json(&verified, 200, "step up");
    assert_ne!(
        session_cookies(&alice, DEVICE_COOKIE),
        before_step_up,
        "the session cookie changes on step-up"
    );
    let mut copy = new_browser(harness, "alice");
    copy.set_cookies(before_step_up);
    let codes = copy.send("POST", &mfa("/recovery-codes"), None, &[]).await;
    expect_problem(
        &codes,
        401,
        "mfa_required",
        "the session id from before the step-up",
    );
    let codes = alice.send("POST", &mfa("/recovery-codes"), None, &[]).await;
    expect_json(&codes, 200, "POST /recovery-codes after step-up");
    let started = alice.send("POST", &mfa("/totp"), None, &[]).await;
    expect_json(&started, 201, "POST /totp after step-up");
    let started = alice.send("POST", &mfa("/channels/sms"), None, &[]).await;
    expect_json(&started, 202, "POST /channels/sms after step-up");
    for (method, uri) in [
        ("DELETE", mfa(&format!("/devices/{device_id}"))),
        ("DELETE", mfa(&format!("/factors/totp/{tablet_id}"))),
        ("DELETE", mfa("/factors/channels/email")),
        ("POST", mfa("/disable")),
    ] {
        let response = alice.send(method, &uri, None, &[]).await;
        expect_no_content(&response, &format!("{method} {uri} after step-up"));
    }
}

/// `POST /verify` with `body` from every browser at once.
async fn race<H: Harness>(browsers: &mut [Browser<'_, H>], body: Value) -> Vec<TestResponse> {
    let uri = mfa("/verify");
    let sends: Vec<_> = browsers
        .iter_mut()
        .map(|b| b.send("POST", &uri, Some(body.clone()), &[]))
        .collect();
    join_all(sends).await
}

/// Asserts exactly one answer is 200 and the others 401 `code_rejected`.
#[track_caller]
fn accepted_once(answers: &[TestResponse], what: &str) {
    let accepted = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(accepted, 1, "{what}: exactly one is accepted");
    for answer in answers.iter().filter(|r| r.status != 200) {
        expect_problem(answer, 401, "code_rejected", what);
    }
}

/// (6) The same code sent twice (or three times) at once — from one
/// session and from two — is accepted exactly once: authenticator codes,
/// recovery codes and e-mail codes alike. The others get 401
/// `code_rejected`.
pub async fn the_same_code_at_once_is_accepted_once<H: Harness>(harness: &H) {
    let world = harness.world();
    let mut alice = new_browser(harness, "alice");
    let (phone, confirmed) = enroll_totp(&mut alice, "Phone").await;
    let recovery = confirmed["recovery_codes"][0].clone();

    let code = phone.fresh_code(world);
    let one = new_browser(harness, "alice");
    let mut browsers = vec![one.fork(), one, new_browser(harness, "alice")];
    let answers = race(&mut browsers, json!({"method": "totp", "code": code})).await;
    accepted_once(&answers, "one authenticator code three times");

    let mut browsers = vec![new_browser(harness, "alice"), new_browser(harness, "alice")];
    let answers = race(
        &mut browsers,
        json!({"method": "recovery", "code": recovery}),
    )
    .await;
    accepted_once(&answers, "one recovery code twice");

    let verified = verify_totp(&mut alice, &phone).await;
    expect_json(&verified, 200, "verify");
    register_email(&mut alice, "alice").await;
    world.advance(Duration::from_secs(61));
    let mut browsers = vec![new_browser(harness, "alice"), new_browser(harness, "alice")];
    let sent = browsers[0]
        .send("POST", &mfa("/send/email"), None, &[])
        .await;
    expect_json(&sent, 202, "POST /send/email");
    let code = sent_code(world, "alice", Channel::Email);
    let answers = race(&mut browsers, json!({"method": "email", "code": code})).await;
    accepted_once(&answers, "one e-mail code twice");
}

/// (7) Ten wrong codes at once, from ten sessions: at most five are
/// evaluated (401), the rest are 429 `locked` with `Retry-After`; a new
/// session of the same subject is locked too, even with the right code;
/// after the lock the right code works.
pub async fn parallel_guesses_are_throttled_for_every_session<H: Harness>(harness: &H) {
    let world = harness.world();
    let (_, phone) = signed_up(harness, "alice").await;
    let t = now(harness);
    let mut guessers: Vec<_> = (0..10).map(|_| new_browser(harness, "alice")).collect();
    let wrong = phone.wrong_code_at(t);
    let uri = mfa("/verify");
    let sends: Vec<_> = guessers
        .iter_mut()
        .map(|b| {
            b.send(
                "POST",
                &uri,
                Some(json!({"method": "totp", "code": wrong.clone()})),
                &[],
            )
        })
        .collect();
    let answers = join_all(sends).await;
    let mut rejected = 0;
    let mut wait = 0;
    for (i, answer) in answers.iter().enumerate() {
        if answer.status == 401 {
            expect_problem(answer, 401, "code_rejected", &format!("guess {i}"));
            rejected += 1;
        } else {
            expect_problem(answer, 429, "locked", &format!("guess {i}"));
            let secs: u64 = answer
                .header("retry-after")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("guess {i}: Retry-After in seconds"));
            assert!(secs >= 1, "guess {i}: Retry-After {secs}");
            wait = wait.max(secs);
        }
    }
    assert!(rejected <= 5, "{rejected} guesses were evaluated");
    assert!(wait > 0, "some guesses were locked out");

    let mut newcomer = new_browser(harness, "alice");
    let right = newcomer
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": phone.code_at(t)})),
            &[],
        )
        .await;
    expect_problem(&right, 429, "locked", "a new session, the right code");
    assert!(right.header("retry-after").is_some());

    world.advance(Duration::from_secs(wait + 1));
    let code = phone.code_at(now(harness));
    let after = newcomer
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code})),
            &[],
        )
        .await;
    expect_json(&after, 200, "the right code after the lock");
}

/// The remember-device cookie of a browser of `subject`, from a
/// verification that asks to be remembered.
async fn remember<H: Harness>(browser: &mut Browser<'_, H>, phone: &super::Phone) -> String {
    let code = phone.fresh_code(browser.harness.world());
    let response = browser
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code, "remember_device": true})),
            &[("user-agent", FIREFOX)],
        )
        .await;
    expect_json(&response, 200, "verify, remember this browser");
    browser
        .cookie(DEVICE_COOKIE)
        .expect("the remember-device cookie")
        .to_owned()
}

/// A new session holding only the remember-device cookie `token`.
fn with_device<'h, H: Harness>(harness: &'h H, subject: &str, token: &str) -> Browser<'h, H> {
    let mut browser = new_browser(harness, subject);
    browser.set_cookies(vec![(DEVICE_COOKIE.to_owned(), token.to_owned())]);
    browser
}

/// (8) The remember-device cookie (the default policy allows 30 days):
/// a new session holding only it passes the gate (but is no step-up);
/// it is refused for another subject, after the browser is forgotten
/// (`DELETE /devices/{id}`; an existing session within a minute), after
/// an administrator reset, and after 30 days.
#[allow(clippy::too_many_lines, reason = "every way a remembered browser ends")]
pub async fn remembered_devices_are_bound_revocable_and_reset<H: Harness>(harness: &H) {
    let world = harness.world();
    let (mut alice, phone) = signed_up(harness, "alice").await;
    let token = remember(&mut alice, &phone).await;

    let mut later = with_device(harness, "alice", &token);
    let gated = later.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, remembered browser");
    let status = later.send("GET", &mfa("/status"), None, &[]).await;
    let status = expect_json(&status, 200, "GET /status, remembered browser");
    assert_eq!(
        (&status["verified"], &status["device_remembered"]),
        (&json!(false), &json!(true))
    );
    let codes = later.send("POST", &mfa("/recovery-codes"), None, &[]).await;
    expect_problem(
        &codes,
        403,
        "step_up_required",
        "a remembered browser is no step-up",
    );

    // Another subject presenting alice's cookie.
    signed_up(harness, "bob").await;
    let mut bob = with_device(harness, "bob", &token);
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 401, "mfa_required", "bob with alice's cookie");

    // Forgotten.
    let devices = alice.send("GET", &mfa("/devices"), None, &[]).await;
    let device_id = text(
        &expect_json(&devices, 200, "GET /devices")["devices"][0],
        "id",
    );
    let forgotten = alice
        .send("DELETE", &mfa(&format!("/devices/{device_id}")), None, &[])
        .await;
    expect_no_content(&forgotten, "DELETE /devices/{id}");
    let mut fresh = with_device(harness, "alice", &token);
    let gated = fresh.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 401, "mfa_required", "a forgotten browser");
    world.advance(Duration::from_secs(61));
    let gated = later.send("GET", PROTECTED, None, &[]).await;
    expect_problem(
        &gated,
        401,
        "mfa_required",
        "a session of a forgotten browser, a minute on",
    );

    // Reset by an administrator.
    let token = remember(&mut alice, &phone).await;
    let mut before_reset = with_device(harness, "alice", &token);
    let gated = before_reset.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, remembered again");
    let (mut root, _) = signed_up(harness, "root").await;
    let reset = root
        .send("POST", &mfa("/admin/subjects/alice/reset"), None, &[])
        .await;
    expect_json(&reset, 200, "reset alice");
    let mut after_reset = with_device(harness, "alice", &token);
    let status = after_reset.send("GET", &mfa("/status"), None, &[]).await;
    assert_eq!(
        expect_json(&status, 200, "GET /status after the reset")["device_remembered"],
        false
    );
    let mut alice = new_browser(harness, "alice");
    let (phone, _) = enroll_totp(&mut alice, "New phone").await;
    let mut after_reset = with_device(harness, "alice", &token);
    let gated = after_reset.send("GET", PROTECTED, None, &[]).await;
    expect_problem(
        &gated,
        401,
        "mfa_required",
        "a browser remembered before the reset",
    );

    // Thirty days on.
    let verified = verify_totp(&mut alice, &phone).await;
    expect_json(&verified, 200, "verify with the new phone");
    let token = remember(&mut alice, &phone).await;
    world.advance(Duration::from_secs(THIRTY_DAYS - 60));
    let mut month = with_device(harness, "alice", &token);
    let gated = month.send("GET", PROTECTED, None, &[]).await;
    expect_json(
        &gated,
        200,
        "a remembered browser, a minute short of 30 days",
    );
    world.advance(Duration::from_secs(61));
    let mut expired = with_device(harness, "alice", &token);
    let gated = expired.send("GET", PROTECTED, None, &[]).await;
    expect_problem(
        &gated,
        401,
        "mfa_required",
        "a remembered browser after 30 days",
    );
}
