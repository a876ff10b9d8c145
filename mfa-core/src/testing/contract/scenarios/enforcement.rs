//! A policy that requires MFA: the `mfa-enroll-by` header during the
//! grace period, enrollment first once it is over or when there is none.

use core::time::Duration;

use serde_json::json;

use super::{
    THIRTY_DAYS, enroll_totp, expect_json, expect_problem, expect_redirect, mfa, new_browser, now,
    policy_with_agents, rule, signed_up, verify_totp,
};
use crate::http::{Access, ENROLL_BY_HEADER, ROUTES};
use crate::testing::contract::{Harness, PROTECTED};

/// Requires MFA of agents with `grace_secs`, as a verified `root`.
async fn require_agents<H: Harness>(harness: &H, grace_secs: u64) {
    let (mut root, _) = signed_up(harness, "root").await;
    let policy = policy_with_agents(rule("required", Some(grace_secs), Some(THIRTY_DAYS)));
    let stored = root
        .send("PUT", &mfa("/admin/policy"), Some(policy), &[])
        .await;
    expect_json(&stored, 200, "PUT /admin/policy");
}

/// With a grace period, an agent without a factor passes the gate with
/// the `mfa-enroll-by` header (the deadline, Unix seconds, fixed the first
/// time the requirement met them) and may use the profile endpoints;
/// after the deadline the gate answers 403 `enrollment_required` (303 to
/// the enroll page for browsers) until they enroll, then asks for the
/// second step. Someone the policy does not require gets no header.
pub async fn a_grace_period_sends_the_enroll_by_header<H: Harness>(harness: &H) {
    let world = harness.world();
    let week = 7 * 86_400;
    require_agents(harness, week).await;
    let deadline = now(harness).unix() + week;
    let methods = json!({"app": true, "email": true, "sms": true});

    let mut bob = new_browser(harness, "bob");
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    assert_eq!(
        expect_json(&gated, 200, "gate, in grace"),
        json!({"ok": true})
    );
    let header = deadline.to_string();
    assert_eq!(gated.header(ENROLL_BY_HEADER), Some(header.as_str()));
    let status = bob.send("GET", &mfa("/status"), None, &[]).await;
    assert_eq!(
        expect_json(&status, 200, "GET /status, in grace")["decision"],
        json!({"decision": "enroll_by", "deadline": deadline, "methods": methods})
    );
    let factors = bob.send("GET", &mfa("/factors"), None, &[]).await;
    expect_json(&factors, 200, "GET /factors, in grace");

    let mut erin = new_browser(harness, "erin");
    let gated = erin.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, not required");
    assert_eq!(gated.header(ENROLL_BY_HEADER), None);

    // Three days on, the deadline has not moved.
    world.advance(Duration::from_secs(3 * 86_400));
    let mut bob = new_browser(harness, "bob");
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, three days on");
    assert_eq!(gated.header(ENROLL_BY_HEADER), Some(header.as_str()));

    // Past the deadline: enrollment first.
    world.advance(Duration::from_secs(4 * 86_400));
    let mut bob = new_browser(harness, "bob");
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_problem(
        &gated,
        403,
        "enrollment_required",
        "gate, past the deadline",
    );
    let gated = bob
        .send("GET", PROTECTED, None, &[("accept", "text/html")])
        .await;
    let next = expect_redirect(&gated, &world.config.enroll_page, "gate, browser");
    assert_eq!(next, PROTECTED);
    let (phone, _) = enroll_totp(&mut bob, "Phone").await;
    // Confirming the app verified this session with it.
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, enrolled");
    assert_eq!(gated.header(ENROLL_BY_HEADER), None);
    let verified = verify_totp(&mut bob, &phone).await;
    expect_json(&verified, 200, "POST /verify");
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, verified");
    assert_eq!(gated.header(ENROLL_BY_HEADER), None);
}

/// With no grace period, an agent without a factor gets 403
/// `enrollment_required` from the gate (303 to the enroll page, with a
/// local `next`, for browsers) and from every profile and administrator
/// endpoint; the second-step endpoints still work, so they can enroll,
/// and then verify. An agent who enrolled earlier only verifies.
pub async fn no_grace_means_enrollment_first<H: Harness>(harness: &H) {
    let world = harness.world();
    let (_, alice_phone) = signed_up(harness, "alice").await;
    require_agents(harness, 0).await;

    let mut bob = new_browser(harness, "bob");
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 403, "enrollment_required", "gate");
    let page = format!("{PROTECTED}?view=all");
    let gated = bob
        .send("GET", &page, None, &[("accept", "text/html")])
        .await;
    let next = expect_redirect(&gated, &world.config.enroll_page, "gate, browser");
    assert_eq!(next, page);
    for route in ROUTES {
        if !matches!(route.access, Access::Verified | Access::Admin) {
            continue;
        }
        let uri = mfa(&route
            .path
            .replace("{channel}", "email")
            .replace("{id}", "x"));
        let body = matches!(route.method, "POST" | "PUT").then(|| json!({}));
        let response = bob.send(route.method, &uri, body, &[]).await;
        expect_problem(
            &response,
            403,
            "enrollment_required",
            &format!("{} {uri}, not enrolled", route.method),
        );
    }
    let status = bob.send("GET", &mfa("/status"), None, &[]).await;
    assert_eq!(
        expect_json(&status, 200, "GET /status, not enrolled")["decision"],
        json!({"decision": "enroll_now", "methods": {"app": true, "email": true, "sms": true}})
    );
    let (phone, _) = enroll_totp(&mut bob, "Phone").await;
    // Confirming the app verified this session with it.
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, enrolled");
    assert_eq!(gated.header(ENROLL_BY_HEADER), None);
    let verified = verify_totp(&mut bob, &phone).await;
    expect_json(&verified, 200, "POST /verify");
    let gated = bob.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, verified");

    let mut alice = new_browser(harness, "alice");
    let gated = alice.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 401, "mfa_required", "alice, enrolled before");
    let verified = verify_totp(&mut alice, &alice_phone).await;
    expect_json(&verified, 200, "alice verifies");
    let gated = alice.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "alice, verified");
}
