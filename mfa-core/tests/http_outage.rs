//! A store outage over HTTP: while the store is unreachable, every
//! endpoint and the gate answer 503 `unavailable` with `Retry-After`,
//! never a 500, never a pass they could not check, and never the cause;
//! the tries made meanwhile are not charged, and once the store is back
//! the same requests work. A session verified
//! less than the revalidation interval ago passes the gate without the
//! store, as documented (`HttpConfig::revalidate`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use mfa_core::http::{
    Api, ApiRequest, ApiResponse, GateOutcome, GateRequest, HttpConfig, MfaSession, PROBLEM_JSON,
    RequestFacts, SessionUpdate, UNAVAILABLE_RETRY_SECS,
};
use mfa_core::otp::{Totp, TotpConfig};
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{Confirmation, DriftTolerance};
use mfa_core::store::{PendingTotp, Store};
use mfa_core::testing::{Hook, Hooked, ManualClock, RecordingNotifier};
use mfa_core::{
    Clock, CredentialId, Error, MemoryStore, Mfa, MfaConfig, Pepper, Result, Role, Secret, Subject,
    SubjectId, Timestamp,
};

/// What the outage says about itself: it must not reach the client.
const CAUSE: &str = "connection refused by db-primary.internal:5432";

/// A switch that cuts a [`MemoryStore`] off: while it is down, every call
/// fails with [`Error::StoreUnavailable`], as a database that cannot be
/// reached does, and changes nothing. `after` arms it to go down after
/// that many more calls (a database lost in the middle of a request);
/// `failed` counts the calls refused.
#[derive(Debug, Default)]
struct Switch {
    down: AtomicBool,
    after: AtomicI64,
    failed: AtomicU64,
}

#[derive(Debug, Clone)]
struct Down(Arc<Switch>);

impl Hook for Down {
    async fn before(&self) -> Result<()> {
        let switch = &self.0;
        if switch.after.fetch_sub(1, Ordering::SeqCst) == 1 {
            switch.down.store(true, Ordering::SeqCst);
        }
        if switch.down.load(Ordering::SeqCst) {
            switch.failed.fetch_add(1, Ordering::SeqCst);
            Err(Error::StoreUnavailable(CAUSE.into()))
        } else {
            Ok(())
        }
    }
}

type Outage = Hooked<MemoryStore, Down>;

type TestApi = Api<Outage, RecordingNotifier, ManualClock>;

/// Alice (an agent) with an authenticator app, the API over a store that
/// can go down, the switch, and the app.
async fn world() -> (
    TestApi,
    Arc<Switch>,
    ManualClock,
    Subject,
    Totp,
    Vec<String>,
) {
    let clock = ManualClock::new(Timestamp::from_unix(1_800_000_000));
    let down = Arc::new(Switch::default());
    let store = Hooked {
        store: MemoryStore::new(),
        hook: Down(Arc::clone(&down)),
    };
    let sealer = Sealer::new(vec![SealingKey::new(1, [0x44; 32])]).unwrap();
    let config = MfaConfig::new(
        "Outage Desk",
        Pepper::new(&[0x33; 32]).unwrap(),
        sealer.clone(),
    );
    let mfa = Arc::new(Mfa::new(
        store.clone(),
        RecordingNotifier::new(),
        clock.clone(),
        config,
    ));
    let alice = Subject::new(SubjectId::new("alice").unwrap(), [Role::AGENT]);

    // An authenticator, put in place the way the service starts one.
    let id = CredentialId::new("phone").unwrap();
    let secret = Secret::from_base32("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
    let totp = TotpConfig::default();
    let now = clock.now();
    store
        .put_pending_totp(PendingTotp {
            id: id.clone(),
            subject: alice.id.clone(),
            sealed_secret: sealer.seal(&secret, &alice.id, &id).unwrap(),
            config: totp,
            created_at: now,
            expires_at: now.plus(Duration::from_secs(600)),
        })
        .await
        .unwrap();
    let app = Totp::new(&secret, &totp);
    let code = app.generate_at(now.unix()).unwrap().expose().to_string();
    let confirmed = mfa
        .confirm_totp_enrollment(&alice, &id, &code, "Phone", DriftTolerance::Standard)
        .await
        .unwrap();
    let Confirmation::Enrolled {
        recovery_codes: Some(codes),
        ..
    } = confirmed
    else {
        panic!("not enrolled: {confirmed:?}")
    };
    let recovery = codes.iter().map(|c| c.expose().to_owned()).collect();
    clock.advance(Duration::from_secs(30));
    let api = Api::new(mfa, HttpConfig::default());
    (api, down, clock, alice, app, recovery)
}

/// `method path` with a JSON `body` (empty: none) from this site.
async fn send(
    api: &TestApi,
    alice: &Subject,
    session: &MfaSession,
    method: &str,
    path: &str,
    body: &str,
) -> ApiResponse {
    api.handle(ApiRequest {
        facts: RequestFacts {
            method,
            content_type: (!body.is_empty()).then_some("application/json"),
            content_length: Some(body.len() as u64),
            origin: None,
            sec_fetch_site: Some("same-origin"),
            host: Some("desk.example"),
        },
        path,
        query: None,
        body: body.as_bytes(),
        subject: Some(alice),
        session,
        cookies: Some("mfa_device=tok"),
        user_agent: None,
    })
    .await
}

/// Asserts the outage answer: 503 `unavailable`, `Retry-After`, the
/// cause kept back.
#[track_caller]
fn assert_unavailable(response: &ApiResponse, what: &str) {
    assert_eq!(response.status, 503, "{what}: {response:?}");
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("content-type"), Some(PROBLEM_JSON), "{what}");
    let retry = UNAVAILABLE_RETRY_SECS.to_string();
    assert_eq!(header("retry-after"), Some(retry.as_str()), "{what}");
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["code"], "unavailable", "{what}");
    assert_eq!(body["retry_after"], UNAVAILABLE_RETRY_SECS, "{what}");
    assert_eq!(body.get("detail"), None, "{what}: no cause");
    let text = String::from_utf8_lossy(&response.body);
    assert!(!text.contains("db-primary"), "{what}: {text}");
    assert_eq!(
        response.session,
        SessionUpdate::Keep,
        "{what}: the session stays"
    );
}

#[tokio::test]
async fn a_store_outage_is_503_with_retry_after_and_never_a_pass() {
    let (api, down, clock, alice, app, _) = world().await;
    let empty = MfaSession::default();
    let code = app
        .generate_at(clock.now().unix())
        .unwrap()
        .expose()
        .to_string();
    let verify = format!(r#"{{"method":"totp","code":"{code}"}}"#);

    down.down.store(true, Ordering::SeqCst);
    // More tries than the throttle lets through before a lock: none is
    // charged, since the store could not count it.
    for _ in 0..6 {
        let wrong = r#"{"method":"totp","code":"000000"}"#;
        let response = send(&api, &alice, &empty, "POST", "/verify", wrong).await;
        assert_unavailable(&response, "POST /verify, wrong code, store down");
    }
    for (method, path, body) in [
        ("GET", "/status", ""),
        ("POST", "/verify", verify.as_str()),
        ("POST", "/send/email", ""),
        ("GET", "/factors", ""),
        ("POST", "/totp", ""),
    ] {
        let response = send(&api, &alice, &empty, method, path, body).await;
        assert_unavailable(&response, &format!("{method} {path}, store down"));
    }
    // The gate cannot check an unverified session: refused, not passed.
    let gate = |session| GateRequest {
        subject: Some(&alice),
        session,
        html: false,
        path_and_query: "/tickets",
        cookies: None,
    };
    match api.gate(gate(&empty)).await {
        GateOutcome::Refuse(response) => assert_unavailable(&response, "the gate, store down"),
        GateOutcome::Pass { .. } => panic!("the gate passed a session it could not check"),
    }
    // A session verified seconds ago is within the revalidation interval:
    // it passes without the store.
    let verified = MfaSession::verified(&alice.id, clock.now());
    assert!(matches!(
        api.gate(gate(&verified)).await,
        GateOutcome::Pass { .. }
    ));
    // Past the interval it needs the store again.
    clock.advance(Duration::from_secs(61));
    match api.gate(gate(&verified)).await {
        GateOutcome::Refuse(response) => {
            assert_unavailable(
                &response,
                "a verified session due for its check, store down",
            );
        }
        GateOutcome::Pass { .. } => panic!("the gate skipped a check that was due"),
    }

    // Back up: everything works again, and the right code is accepted,
    // not locked out by the tries made during the outage.
    down.down.store(false, Ordering::SeqCst);
    let status = send(&api, &alice, &empty, "GET", "/status", "").await;
    assert_eq!(status.status, 200);
    let code = app
        .generate_at(clock.now().unix())
        .unwrap()
        .expose()
        .to_string();
    let verify = format!(r#"{{"method":"totp","code":"{code}"}}"#);
    let verified = send(&api, &alice, &empty, "POST", "/verify", &verify).await;
    assert_eq!(verified.status, 200, "{verified:?}");
}

/// A database lost in the middle of a verification (after the attempt was
/// charged) is answered 503 at once: the store is not asked again to give
/// the charge back, which would make the client wait a second timeout.
/// Checked for the first points of loss in a recovery-code and a TOTP
/// verification.
#[tokio::test]
async fn a_store_lost_mid_request_is_asked_nothing_more() {
    for lost_after in 1..=3 {
        let (api, down, clock, alice, app, recovery) = world().await;
        let empty = MfaSession::default();
        let totp = app
            .generate_at(clock.now().unix())
            .unwrap()
            .expose()
            .to_string();
        for body in [
            format!(r#"{{"method":"recovery","code":"{}"}}"#, recovery[0]),
            format!(r#"{{"method":"totp","code":"{totp}"}}"#),
        ] {
            down.failed.store(0, Ordering::SeqCst);
            down.after.store(lost_after, Ordering::SeqCst);
            let response = send(&api, &alice, &empty, "POST", "/verify", &body).await;
            down.after.store(0, Ordering::SeqCst);
            let lost = down.down.swap(false, Ordering::SeqCst);
            if lost {
                assert_unavailable(&response, &format!("{body}, lost after {lost_after}"));
                assert_eq!(
                    down.failed.load(Ordering::SeqCst),
                    1,
                    "{body}: the store was asked again after it failed (lost after {lost_after})"
                );
            } else {
                assert_eq!(response.status, 200, "{body}: {response:?}");
            }
            clock.advance(Duration::from_secs(30));
        }
    }
}
