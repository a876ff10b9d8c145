//! Every endpoint of a person's profile on its success path.

use core::time::Duration;

use serde_json::{Value, json};

use super::{
    DEVICE_COOKIE, FIREFOX, Phone, THIRTY_DAYS, expect_json, expect_no_content, expect_problem,
    mfa, new_browser, now, rule, sent_code, text,
};
use crate::subject::Channel;
use crate::testing::contract::{Harness, PROTECTED};

/// One person through every profile endpoint, with the exact answers:
/// status → enroll an authenticator app → confirm it (201, the recovery
/// codes once) → verify (200, the session raised) → factors → devices →
/// regenerate the recovery codes (the old ones stop working) → register
/// e-mail codes → send a code → verify by e-mail → remember the browser →
/// add and remove a second authenticator → remove e-mail → forget the
/// browser → turn two-factor authentication off.
#[allow(clippy::too_many_lines, reason = "one journey, step by step")]
pub async fn every_profile_endpoint_on_its_success_path<H: Harness>(harness: &H) {
    let world = harness.world();
    let t0 = now(harness).unix();
    let optional = rule("optional", None, Some(THIRTY_DAYS));
    let optional = json!({
        "mode": "optional",
        "methods": optional["methods"],
        "remember_device_secs": THIRTY_DAYS,
        "required_since": null,
        "grace_changed_at": null,
    });
    let mut alice = new_browser(harness, "alice");

    // Nothing set up yet.
    let status = alice.send("GET", &mfa("/status"), None, &[]).await;
    assert_eq!(
        expect_json(&status, 200, "GET /status"),
        json!({
            "authenticators": [],
            "channels": [],
            "recovery_codes_left": 0,
            "recovery_codes_low": true,
            "rule": optional,
            "decision": {"decision": "allow"},
            "verified": false,
            "verified_at": null,
            "device_remembered": false,
        })
    );

    // Enroll an authenticator app: the key, once, never cached.
    let started = alice.send("POST", &mfa("/totp"), None, &[]).await;
    let enrollment = expect_json(&started, 201, "POST /totp");
    assert_eq!(started.header("cache-control"), Some("no-store"));
    assert!(text(&enrollment, "uri").starts_with("otpauth://totp/"));
    assert!(text(&enrollment, "qr_svg").contains("<svg"));
    assert!(!text(&enrollment, "id").is_empty());
    assert_eq!(
        (
            &enrollment["algorithm"],
            &enrollment["digits"],
            &enrollment["period"],
            &enrollment["expires_at"],
        ),
        (&json!("SHA1"), &json!(6), &json!(30), &json!(t0 + 600))
    );
    let phone = Phone::new(&enrollment);
    let confirmed = alice
        .send(
            "POST",
            &mfa("/totp/confirm"),
            Some(json!({
                "id": enrollment["id"],
                "code": phone.code_at(now(harness)),
                "name": "Work phone",
            })),
            &[],
        )
        .await;
    let confirmed_body = expect_json(&confirmed, 201, "POST /totp/confirm");
    assert_eq!(confirmed.header("cache-control"), Some("no-store"));
    let authenticator = confirmed_body["authenticator"].clone();
    assert_eq!(
        authenticator,
        json!({
            "id": authenticator["id"],
            "name": "Work phone",
            "created_at": t0,
            "last_used_at": t0,
        })
    );
    let first_codes = confirmed_body["recovery_codes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(first_codes.len(), 10, "ten recovery codes, shown once");

    // Confirming the app verified this session with it (the person just
    // showed they hold it; its code is spent): the gate lets it through.
    let gated = alice.send("GET", PROTECTED, None, &[]).await;
    assert_eq!(
        expect_json(&gated, 200, "gate after enrolling"),
        json!({"ok": true})
    );
    // A new session (password only) must verify.
    let mut other = new_browser(harness, "alice");
    let gated = other.send("GET", PROTECTED, None, &[]).await;
    expect_problem(&gated, 401, "mfa_required", "gate in a new session");

    // Verify: the session is raised.
    let code = phone.fresh_code(world);
    let t1 = now(harness).unix();
    let verified = alice
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code})),
            &[],
        )
        .await;
    assert_eq!(
        expect_json(&verified, 200, "POST /verify"),
        json!({
            "factor": "totp",
            "verified_at": t1,
            "recovery_codes_left": null,
            "recovery_codes_low": false,
            "remembered_until": null,
        })
    );
    let gated = alice.send("GET", PROTECTED, None, &[]).await;
    assert_eq!(expect_json(&gated, 200, "gate"), json!({"ok": true}));
    let status = alice.send("GET", &mfa("/status"), None, &[]).await;
    let status = expect_json(&status, 200, "GET /status, verified");
    assert_eq!(
        (
            &status["verified"],
            &status["verified_at"],
            &status["recovery_codes_left"],
            &status["decision"],
        ),
        (
            &json!(true),
            &json!(t1),
            &json!(10),
            &json!({"decision": "allow"})
        )
    );
    let authenticator = json!({
        "id": authenticator["id"],
        "name": "Work phone",
        "created_at": t0,
        "last_used_at": t1,
    });
    assert_eq!(status["authenticators"], json!([authenticator]));

    let factors = alice.send("GET", &mfa("/factors"), None, &[]).await;
    assert_eq!(
        expect_json(&factors, 200, "GET /factors"),
        json!({"authenticators": [authenticator], "channels": []})
    );
    let devices = alice.send("GET", &mfa("/devices"), None, &[]).await;
    assert_eq!(
        expect_json(&devices, 200, "GET /devices"),
        json!({"devices": []})
    );

    // New recovery codes (step-up: the session verified a moment ago).
    let regenerated = alice.send("POST", &mfa("/recovery-codes"), None, &[]).await;
    let new_codes = expect_json(&regenerated, 200, "POST /recovery-codes");
    assert_eq!(regenerated.header("cache-control"), Some("no-store"));
    let new_codes = new_codes["codes"].as_array().cloned().unwrap_or_default();
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !first_codes.contains(c)));
    let old = alice
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "recovery", "code": first_codes[0]})),
            &[],
        )
        .await;
    expect_problem(&old, 401, "code_rejected", "a replaced recovery code");
    let recovered = alice
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "recovery", "code": new_codes[0]})),
            &[],
        )
        .await;
    let t2 = now(harness).unix();
    assert_eq!(
        expect_json(&recovered, 200, "POST /verify with a recovery code"),
        json!({
            "factor": "recovery",
            "verified_at": t2,
            "recovery_codes_left": 9,
            "recovery_codes_low": false,
            "remembered_until": null,
        })
    );

    // E-mail codes as a second factor.
    let started = alice.send("POST", &mfa("/channels/email"), None, &[]).await;
    assert_eq!(
        expect_json(&started, 202, "POST /channels/email"),
        json!({"expires_at": t2 + 300, "resend_after": t2 + 60})
    );
    let code = sent_code(world, "alice", Channel::Email);
    let confirmed = alice
        .send(
            "POST",
            &mfa("/channels/email/confirm"),
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_eq!(
        expect_json(&confirmed, 201, "POST /channels/email/confirm"),
        json!({"authenticator": null, "recovery_codes": null})
    );
    let factors = alice.send("GET", &mfa("/factors"), None, &[]).await;
    assert_eq!(
        expect_json(&factors, 200, "GET /factors with e-mail")["channels"],
        json!([{"channel": "email", "added_at": t2, "address_current": true}])
    );

    // A sign-in code by e-mail, after the resend delay.
    let t3 = world.advance(Duration::from_secs(61)).unix();
    let sent = alice.send("POST", &mfa("/send/email"), None, &[]).await;
    assert_eq!(
        expect_json(&sent, 202, "POST /send/email"),
        json!({"expires_at": t3 + 300, "resend_after": t3 + 60})
    );
    let code = sent_code(world, "alice", Channel::Email);
    let by_email = alice
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "email", "code": code})),
            &[],
        )
        .await;
    assert_eq!(
        expect_json(&by_email, 200, "POST /verify by e-mail"),
        json!({
            "factor": "email",
            "verified_at": t3,
            "recovery_codes_left": null,
            "recovery_codes_low": false,
            "remembered_until": null,
        })
    );

    // Remember this browser.
    let code = phone.fresh_code(world);
    let t4 = now(harness).unix();
    let remembered = alice
        .send(
            "POST",
            &mfa("/verify"),
            Some(json!({"method": "totp", "code": code, "remember_device": true})),
            &[("user-agent", FIREFOX)],
        )
        .await;
    assert_eq!(
        expect_json(&remembered, 200, "POST /verify, remember")["remembered_until"],
        json!(t4 + THIRTY_DAYS)
    );
    let cookie = remembered
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .find(|v| v.starts_with(&format!("{DEVICE_COOKIE}=")))
        .unwrap_or_else(|| panic!("no remember-device cookie in {:?}", remembered.headers));
    assert_eq!(world.config.device_cookie.name, DEVICE_COOKIE);
    for attribute in ["Path=/", "Max-Age=2592000", "HttpOnly", "SameSite=Lax"] {
        assert!(
            cookie.split("; ").any(|a| a == attribute),
            "{attribute} in {cookie}"
        );
    }
    let devices = alice.send("GET", &mfa("/devices"), None, &[]).await;
    let devices = expect_json(&devices, 200, "GET /devices, one remembered");
    let device = devices["devices"][0].clone();
    assert_eq!(
        devices,
        json!({"devices": [{
            "id": device["id"],
            "name": device["name"],
            "created_at": t4,
            "expires_at": t4 + THIRTY_DAYS,
            "last_used_at": null,
        }]})
    );
    assert!(text(&device, "name").contains("Firefox"), "{device}");

    // A second authenticator (step-up), then removed.
    let started = alice.send("POST", &mfa("/totp"), None, &[]).await;
    let second = expect_json(&started, 201, "POST /totp, a second app");
    let second_phone = Phone::new(&second);
    let confirmed = alice
        .send(
            "POST",
            &mfa("/totp/confirm"),
            Some(json!({
                "id": second["id"],
                "code": second_phone.code_at(now(harness)),
                "name": "Tablet",
                "tolerance": "wide",
            })),
            &[],
        )
        .await;
    let confirmed = expect_json(&confirmed, 201, "POST /totp/confirm, a second app");
    assert_eq!(confirmed["recovery_codes"], Value::Null, "codes only once");
    let second_id = text(&confirmed["authenticator"], "id");
    let renamed = alice
        .send(
            "PATCH",
            &mfa(&format!("/factors/totp/{second_id}")),
            Some(json!({"name": "Work tablet"})),
            &[],
        )
        .await;
    let renamed = expect_json(&renamed, 200, "PATCH /factors/totp/{id}");
    assert_eq!(renamed["name"], "Work tablet");
    assert_eq!(renamed["id"], second_id.as_str());
    let listed = alice.send("GET", &mfa("/factors"), None, &[]).await;
    let listed = expect_json(&listed, 200, "GET /factors after renaming");
    assert!(
        listed["authenticators"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["name"] == "Work tablet")),
        "the new name is listed"
    );
    let unknown = alice
        .send(
            "PATCH",
            &mfa("/factors/totp/nope"),
            Some(json!({"name": "x"})),
            &[],
        )
        .await;
    expect_problem(&unknown, 404, "not_found", "PATCH an unknown authenticator");
    let removed = alice
        .send(
            "DELETE",
            &mfa(&format!("/factors/totp/{second_id}")),
            None,
            &[],
        )
        .await;
    expect_no_content(&removed, "DELETE /factors/totp/{id}");
    let again = alice
        .send(
            "DELETE",
            &mfa(&format!("/factors/totp/{second_id}")),
            None,
            &[],
        )
        .await;
    expect_problem(&again, 404, "not_found", "DELETE a removed authenticator");

    // Remove e-mail, forget the browser.
    let removed = alice
        .send("DELETE", &mfa("/factors/channels/email"), None, &[])
        .await;
    expect_no_content(&removed, "DELETE /factors/channels/email");
    let device_id = text(&device, "id");
    let forgotten = alice
        .send("DELETE", &mfa(&format!("/devices/{device_id}")), None, &[])
        .await;
    expect_no_content(&forgotten, "DELETE /devices/{id}");
    let devices = alice.send("GET", &mfa("/devices"), None, &[]).await;
    assert_eq!(
        expect_json(&devices, 200, "GET /devices, none"),
        json!({"devices": []})
    );
    let factors = alice.send("GET", &mfa("/factors"), None, &[]).await;
    let factors = expect_json(&factors, 200, "GET /factors, one app");
    assert_eq!(factors["channels"], json!([]));
    assert_eq!(
        factors["authenticators"].as_array().map(Vec::len),
        Some(1),
        "{factors}"
    );

    // Turn it off: nothing left, and the gate lets a new session through.
    let disabled = alice.send("POST", &mfa("/disable"), None, &[]).await;
    expect_no_content(&disabled, "POST /disable");
    let status = alice.send("GET", &mfa("/status"), None, &[]).await;
    let status = expect_json(&status, 200, "GET /status after disabling");
    assert_eq!(
        (
            &status["authenticators"],
            &status["channels"],
            &status["recovery_codes_left"],
        ),
        (&json!([]), &json!([]), &json!(0))
    );
    let mut again = new_browser(harness, "alice");
    let gated = again.send("GET", PROTECTED, None, &[]).await;
    expect_json(&gated, 200, "gate, MFA off");
}
