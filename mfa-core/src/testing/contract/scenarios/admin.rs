//! The administrator's endpoints: their success paths, and who may not
//! use them.

use core::time::Duration;

use serde_json::{Value, json};

use super::{
    DEVICE_COOKIE, THIRTY_DAYS, expect_json, expect_problem, mfa, new_browser, now,
    policy_with_agents, rule, signed_up, text,
};
use crate::http::{Access, ROUTES};
use crate::policy::Policy;
use crate::testing::contract::{Harness, PROTECTED};

/// A verified administrator reads the policy, runs a candidate against
/// the directory, resets a person (whose factors are then gone), stores
/// the candidate, and pages through the audit trail.
#[allow(clippy::too_many_lines, reason = "one journey, step by step")]
pub async fn administrator_endpoints_on_their_success_path<H: Harness>(harness: &H) {
    let world = harness.world();
    let (mut root, _) = signed_up(harness, "root").await;
    let (mut alice, _) = signed_up(harness, "alice").await;
    let t = now(harness).unix();

    let policy = root.send("GET", &mfa("/admin/policy"), None, &[]).await;
    let default = serde_json::to_value(Policy::default()).expect("a policy serializes");
    assert_eq!(expect_json(&policy, 200, "GET /admin/policy"), default);

    // Agents must enroll within a week: root and alice have a factor,
    // bob has not, erin is an end user.
    let week = 7 * 86_400;
    let candidate = policy_with_agents(rule("required", Some(week), Some(THIRTY_DAYS)));
    let dry_run = root
        .send(
            "POST",
            &mfa("/admin/policy/dry-run"),
            Some(candidate.clone()),
            &[],
        )
        .await;
    assert_eq!(
        expect_json(&dry_run, 200, "POST /admin/policy/dry-run"),
        json!({
            "subjects": 4,
            "compliant": 2,
            "not_required": 1,
            "enroll_now": 0,
            "enroll_by": {(t + week).to_string(): 1},
        })
    );
    let unchanged = root.send("GET", &mfa("/admin/policy"), None, &[]).await;
    assert_eq!(
        expect_json(&unchanged, 200, "GET /admin/policy after a dry run"),
        default,
        "a dry run stores nothing"
    );

    // Reset alice: everything she had goes.
    let reset = root
        .send("POST", &mfa("/admin/subjects/alice/reset"), None, &[])
        .await;
    assert_eq!(
        expect_json(&reset, 200, "POST /admin/subjects/alice/reset"),
        json!({
            "authenticators": 1,
            "pending": 0,
            "recovery_codes": 10,
            "channels": 0,
            "devices": 0,
        })
    );
    let nobody = root
        .send("POST", &mfa("/admin/subjects/nobody/reset"), None, &[])
        .await;
    expect_problem(&nobody, 404, "not_found", "resetting an unknown subject");
    let factors = alice.send("GET", &mfa("/factors"), None, &[]).await;
    assert_eq!(
        expect_json(&factors, 200, "alice's factors after the reset"),
        json!({"authenticators": [], "channels": []})
    );

    // Store the candidate: the enforcement is dated.
    let stored = root
        .send("PUT", &mfa("/admin/policy"), Some(candidate.clone()), &[])
        .await;
    let mut expected = candidate;
    expected["roles"]["agent"]["required_since"] = json!(t);
    expected["roles"]["agent"]["grace_changed_at"] = json!(t);
    for stamp in ["required_since", "grace_changed_at"] {
        expected["roles"]["end_user"][stamp] = Value::Null;
        expected["default"][stamp] = Value::Null;
    }
    assert_eq!(expect_json(&stored, 200, "PUT /admin/policy"), expected);
    let read = root.send("GET", &mfa("/admin/policy"), None, &[]).await;
    assert_eq!(
        expect_json(&read, 200, "GET /admin/policy after PUT"),
        expected
    );

    // The audit trail, newest first, in pages of three.
    world.advance(Duration::from_secs(1));
    let all = root
        .send("GET", &mfa("/admin/audit?limit=500"), None, &[])
        .await;
    let all = expect_json(&all, 200, "GET /admin/audit?limit=500");
    assert_eq!(all["next_before"], Value::Null, "one page holds them all");
    let all = all["events"].as_array().cloned().unwrap_or_default();
    assert!(all.len() > 6, "{all:?}");
    let newest = &all[0];
    assert_eq!(
        (&newest["action"], &newest["actor"], &newest["subject"]),
        (
            &json!("policy_updated"),
            &json!({"kind": "admin", "id": "root"}),
            &Value::Null
        ),
        "{newest}"
    );
    let mut paged = Vec::new();
    let mut uri = mfa("/admin/audit?limit=3");
    loop {
        let page = root.send("GET", &uri, None, &[]).await;
        let page = expect_json(&page, 200, &format!("GET {uri}"));
        let events = page["events"].as_array().cloned().unwrap_or_default();
        assert!(events.len() <= 3, "{page}");
        paged.extend(events);
        match page["next_before"].as_u64() {
            Some(before) => uri = mfa(&format!("/admin/audit?limit=3&before={before}")),
            None => break,
        }
        assert!(paged.len() <= all.len(), "paging does not end");
    }
    assert_eq!(paged, all, "the pages, in order, are the whole trail");
    let ids: Vec<u64> = all.iter().filter_map(|e| e["id"].as_u64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    let alices = root
        .send(
            "GET",
            &mfa("/admin/audit?subject=alice&limit=500"),
            None,
            &[],
        )
        .await;
    let alices = expect_json(&alices, 200, "GET /admin/audit?subject=alice");
    let alices = alices["events"].as_array().cloned().unwrap_or_default();
    assert!(!alices.is_empty());
    assert!(alices.iter().all(|e| e["subject"] == "alice"), "{alices:?}");
    let reset_event = alices
        .iter()
        .find(|e| e["action"] == "mfa_reset")
        .unwrap_or_else(|| panic!("no mfa_reset event in {alices:?}"));
    assert_eq!(reset_event["actor"], json!({"kind": "admin", "id": "root"}));
    for bad in ["limit=x", "before=-1", "evil=1", "subject=%zz"] {
        let response = root
            .send("GET", &mfa(&format!("/admin/audit?{bad}")), None, &[])
            .await;
        expect_problem(&response, 422, "invalid_input", &format!("audit ?{bad}"));
    }
    assert!(!text(newest, "action").is_empty());
}

/// Every administrator endpoint refuses a verified subject without the
/// role (403 `not_admin`), the administrator before the second step (401
/// `mfa_required`, also with only a remembered browser), and an
/// administrator who has no second factor at all (403
/// `enrollment_required`): policy and resets are never one password away.
pub async fn admin_endpoints_need_a_verified_administrator<H: Harness>(harness: &H) {
    let world = harness.world();
    let admin_routes: Vec<_> = ROUTES
        .iter()
        .filter(|r| r.access == Access::Admin)
        .collect();
    assert_eq!(
        admin_routes.len(),
        5,
        "the scenario covers every admin route"
    );
    let request = |route: &crate::http::Route| {
        let uri = mfa(&route.path.replace("{id}", "alice"));
        let body = matches!(route.method, "PUT" | "POST")
            .then(|| serde_json::to_value(Policy::default()).expect("a policy serializes"));
        (route.method, uri, body)
    };
    // An administrator with no factor: refused, told to enroll.
    let mut root = new_browser(harness, "root");
    for route in &admin_routes {
        let (method, uri, body) = request(route);
        let response = root.send(method, &uri, body, &[]).await;
        expect_problem(
            &response,
            403,
            "enrollment_required",
            &format!("{method} {uri}, administrator without a factor"),
        );
    }

    // A verified agent: not an administrator.
    let (mut alice, _) = signed_up(harness, "alice").await;
    for route in &admin_routes {
        let (method, uri, body) = request(route);
        let response = alice.send(method, &uri, body, &[]).await;
        expect_problem(&response, 403, "not_admin", &format!("{method} {uri}"));
    }

    // The administrator, enrolled, remembered on this browser, in a new
    // session: the gate lets the browser through, the administrator's
    // endpoints want the second step itself.
    let (mut root, phone) = signed_up(harness, "root").await;
    let remembered = {
        let code = phone.fresh_code(world);
        root.send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code, "remember_device": true})),
            &[],
        )
        .await
    };
    expect_json(&remembered, 200, "root remembers this browser");
    let device = root
        .cookie(DEVICE_COOKIE)
        .expect("the remember-device cookie")
        .to_owned();
    let mut password_only = new_browser(harness, "root");
    let mut remembered_only = new_browser(harness, "root");
    remembered_only.set_cookies(vec![(DEVICE_COOKIE.to_owned(), device)]);
    let gated = remembered_only.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, remembered browser");
    for route in &admin_routes {
        let (method, uri, body) = request(route);
        for (browser, what) in [
            (&mut password_only, "password only"),
            (&mut remembered_only, "remembered browser only"),
        ] {
            let response = browser.send(method, &uri, body.clone(), &[]).await;
            expect_problem(
                &response,
                401,
                "mfa_required",
                &format!("{method} {uri}, administrator, {what}"),
            );
        }
        // The verified administrator may.
        let response = root.send(method, &uri, body, &[]).await;
        assert_eq!(
            response.status, 200,
            "{method} {uri}, verified administrator"
        );
    }
}
