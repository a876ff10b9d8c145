//! `Api::handle` with arbitrary bytes as the request body, on every route
//! of the contract. Whatever comes in: no panic, never a 5xx (the store
//! and the notifier here never fail, so a 5xx can only come from what was
//! sent), every non-2xx answer is `application/problem+json` whose body
//! parses and carries a `code` matching the status, a 429 has
//! `Retry-After`, and a state-changing request to an endpoint with a body
//! (or a claimed `Content-Length`) over `max_body` is 413 — and only
//! then.
//!
//! Each input builds a fresh world (a `MemoryStore` at a fixed time, fixed
//! keys and ids), so a crash replays: only the remembered browser's token
//! and the recovery codes are random, and no property depends on them.
//! Input layout (the files in `seeds/http_api` follow
//! it):
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | route: index into `ROUTES` (modulo its length) |
//! | 1 | method: below 0xc0 the route's own, else one of `METHODS` |
//! | 2 | bits 0-1 subject (alice, root, erin, none); bit 2 an authenticator is enrolled; bit 3 an enrollment is pending; bit 4 a remembered browser's cookie is sent; bits 5-6 session (empty, verified now, verified 11 minutes ago, verified for someone else) |
//! | 3 | bits 0-2 `Content-Type`; bits 3-4 `Sec-Fetch-Site` / `Origin`; bits 5-6 claimed `Content-Length` (the body's, none, 0, 1 MiB) |
//! | 4 | the `{channel}` / `{id}` path parameter: one of `PARAMS`, or a real id |
//! | 5 | length of the query string that follows (0: none) |
//! | 6.. | the query string, then the body |
//!
//! In the body, `%CODE%` becomes the enrolled authenticator's current
//! code, `%PCODE%` the pending one's, `%ID%` the pending enrollment's id
//! and `%REC%` a recovery code, so the fuzzer also reaches the paths
//! behind an accepted code.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use mfa_core::http::{
    Api, ApiRequest, Directory, HttpConfig, MfaSession, PROBLEM_JSON, Problem, ROUTES,
    RequestFacts, changes_state,
};
use mfa_core::notify::{CodeMessage, Notice};
use mfa_core::otp::{Totp, TotpConfig};
use mfa_core::policy::SessionState;
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{Confirmation, DriftTolerance};
use mfa_core::store::PendingTotp;
use mfa_core::{
    Clock, CredentialId, MemoryStore, Mfa, MfaConfig, Notifier, Pepper, Result, Role, Secret,
    Store, Subject, SubjectId, Timestamp,
};

/// The world's time once it is set up.
const NOW: u64 = 1_800_000_000;
/// The largest body the fuzzed configuration takes (small, so that
/// libFuzzer's inputs cross it).
const MAX_BODY: u64 = 1024;
/// The keys of the enrolled and the pending authenticator.
const KEY: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const OTHER_KEY: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "post",
];

const CONTENT_TYPES: [Option<&str>; 8] = [
    Some("application/json"),
    None,
    Some("Application/JSON; charset=utf-8"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("application/jsonp"),
    Some("multipart/form-data; boundary=x"),
    Some(""),
];

/// Path parameters besides the real ids (selectors 0-3 of byte 4).
const PARAMS: [&str; 12] = [
    "email", "sms", "alice", "root", "nobody", "EMAIL", "..", "%2F", "a b", "ä", "0", "push",
];

/// A clock the setup moves, then leaves at [`NOW`].
#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(self.0.load(Ordering::Relaxed))
    }
}

/// Delivers nothing, always successfully.
struct Quiet;

impl Notifier for Quiet {
    async fn send_code(&self, _message: CodeMessage<'_>) -> Result<()> {
        Ok(())
    }

    async fn notify(&self, _notice: Notice<'_>) -> Result<()> {
        Ok(())
    }
}

/// alice and bob (agents), erin (end user), root (agent and admin).
fn person(id: &str) -> Subject {
    let roles = match id {
        "root" => vec![Role::AGENT, Role::new("admin").expect("a role name")],
        "erin" => vec![Role::END_USER],
        _ => vec![Role::AGENT],
    };
    Subject::new(SubjectId::new(id).expect("a subject id"), roles)
        .with_email(format!("{id}@example.com"))
        .with_phone("+15550100")
}

struct People;

impl Directory for People {
    async fn subject(&self, id: &SubjectId) -> Result<Option<Subject>> {
        Ok(["alice", "bob", "erin", "root"]
            .contains(&id.as_str())
            .then(|| person(id.as_str())))
    }

    async fn subjects(&self) -> Result<Vec<Subject>> {
        Ok(["alice", "bob", "erin", "root"].map(person).to_vec())
    }
}

/// Drives a future that never waits (the memory store's and these
/// stand-ins' never do) to its end.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("a future over the memory store kept waiting");
}

/// What the setup made that a request can name.
#[derive(Default)]
struct Made {
    code: Option<String>,
    pending_id: Option<String>,
    pending_code: Option<String>,
    recovery: Option<String>,
    authenticator_id: Option<String>,
    device_id: Option<String>,
    device_token: Option<String>,
}

/// Puts an authenticator enrollment with a fixed key straight into the
/// store, as `Mfa::start_totp_enrollment` would (which also draws a QR
/// code: most of the time of a run, for a picture nobody reads here).
/// Returns its id and the app that shows its codes.
fn put_pending(
    mfa: &Mfa<MemoryStore, Quiet, TestClock>,
    sealer: &Sealer,
    subject: &Subject,
    id: &str,
    key: &str,
    at: u64,
) -> (CredentialId, Totp) {
    let id = CredentialId::new(id).expect("an id");
    let secret = Secret::from_base32(key).expect("a base32 key");
    let config = TotpConfig::default();
    let pending = PendingTotp {
        id: id.clone(),
        subject: subject.id.clone(),
        sealed_secret: sealer.seal(&secret, &subject.id, &id).expect("sealed"),
        config,
        created_at: Timestamp::from_unix(at),
        expires_at: Timestamp::from_unix(at + 600),
    };
    ready(mfa.store().put_pending_totp(pending)).expect("stored");
    (id, Totp::new(&secret, &config))
}

fn code_at(app: &Totp, at: u64) -> String {
    app.generate_at(at).expect("after T0").expose().to_string()
}

/// Sets up `subject` as byte 2 asks: the authenticator an hour before
/// [`NOW`], the pending enrollment and the remembered browser a minute
/// before.
fn set_up(
    mfa: &Mfa<MemoryStore, Quiet, TestClock>,
    sealer: &Sealer,
    clock: &TestClock,
    subject: &Subject,
    who: u8,
) -> Made {
    let mut made = Made::default();
    let earlier = NOW - 3600;
    clock.0.store(earlier, Ordering::Relaxed);
    if who & 0b100 != 0 {
        let (id, app) = put_pending(mfa, sealer, subject, "fuzzapp1", KEY, earlier);
        let confirmed = ready(mfa.confirm_totp_enrollment(
            subject,
            &id,
            &code_at(&app, earlier),
            "Phone",
            DriftTolerance::Standard,
        ))
        .expect("confirmation");
        let Confirmation::Enrolled {
            authenticator,
            recovery_codes,
        } = confirmed
        else {
            panic!("the first code did not confirm: {confirmed:?}");
        };
        made.authenticator_id = authenticator.map(|a| a.id.as_str().to_owned());
        made.recovery = recovery_codes.and_then(|c| c.first().map(|c| c.expose().to_owned()));
        made.code = Some(code_at(&app, NOW));
    }
    // A minute before now: the pending enrollment is still open (10
    // minutes), and the session that remembers the browser has just
    // verified (step-up).
    let recently = NOW - 60;
    clock.0.store(recently, Ordering::Relaxed);
    if who & 0b1000 != 0 {
        let (id, app) = put_pending(mfa, sealer, subject, "fuzzapp2", OTHER_KEY, recently);
        made.pending_id = Some(id.as_str().to_owned());
        made.pending_code = Some(code_at(&app, NOW));
    }
    if who & 0b1_0000 != 0 {
        let state = SessionState {
            verified_at: Some(Timestamp::from_unix(recently)),
            device_remembered: false,
        };
        if let Ok(remembered) = ready(mfa.remember_device(subject, "Firefox", &state)) {
            made.device_id = Some(remembered.id.as_str().to_owned());
            made.device_token = Some(remembered.token.expose().to_owned());
        }
    }
    clock.0.store(NOW, Ordering::Relaxed);
    made
}

/// `body` with the placeholders replaced by what the setup made.
fn fill(body: &[u8], made: &Made) -> Vec<u8> {
    let mut out = body.to_vec();
    for (placeholder, value) in [
        (&b"%PCODE%"[..], &made.pending_code),
        (b"%CODE%", &made.code),
        (b"%ID%", &made.pending_id),
        (b"%REC%", &made.recovery),
    ] {
        let Some(value) = value else { continue };
        while let Some(at) = out
            .windows(placeholder.len())
            .position(|w| w == placeholder)
        {
            out.splice(at..at + placeholder.len(), value.bytes());
        }
    }
    out
}

/// Whether `path` fits `template` (one `{param}` segment, non-empty):
/// the route table's rule, written again as the oracle.
fn fits(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            if t.starts_with('{') {
                !p.is_empty()
            } else {
                t == p
            }
        })
}

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<6>() else {
        return;
    };
    let [route, method, who, headers, param, query_len] = *head;
    let route = &ROUTES[usize::from(route) % ROUTES.len()];
    let method = if method < 0xc0 {
        route.method
    } else {
        METHODS[usize::from(method) % METHODS.len()]
    };
    let (query, body) = rest.split_at(usize::from(query_len).min(rest.len()));
    let query = (query_len != 0)
        .then(|| std::str::from_utf8(query).ok())
        .flatten();

    let clock = TestClock(Arc::new(AtomicU64::new(NOW)));
    let sealer = Sealer::new(vec![SealingKey::new(1, [0x44; 32])]).expect("a key");
    let config = MfaConfig::new(
        "Fuzz Desk",
        Pepper::new(&[0x33; 32]).expect("a pepper"),
        sealer.clone(),
    );
    let mfa = Arc::new(Mfa::new(MemoryStore::new(), Quiet, clock.clone(), config));
    let subject = person(["alice", "root", "erin", "alice"][usize::from(who & 0b11)]);
    let signed_in = who & 0b11 != 0b11;
    let made = set_up(&mfa, &sealer, &clock, &subject, who);
    let api = Api::new(
        Arc::clone(&mfa),
        HttpConfig {
            max_body: MAX_BODY,
            ..HttpConfig::default()
        },
    )
    .with_directory(People);

    let param = match param % 16 {
        0 => made.authenticator_id.clone(),
        1 => made.device_id.clone(),
        2 => made.pending_id.clone(),
        3 => made.authenticator_id.clone().map(|id| id.to_uppercase()),
        n => Some(PARAMS[usize::from(n - 4)].to_owned()),
    }
    .unwrap_or_else(|| "none".to_owned());
    let path = route
        .path
        .replace("{channel}", &param)
        .replace("{id}", &param);

    let at = Timestamp::from_unix(NOW);
    let session = match (who >> 5) & 0b11 {
        0 => MfaSession::default(),
        1 => MfaSession::verified(&subject.id, at),
        2 => MfaSession::verified(&subject.id, Timestamp::from_unix(NOW - 660)),
        _ => MfaSession::verified(&SubjectId::new("bob").expect("an id"), at),
    };
    let cookie = made
        .device_token
        .as_ref()
        .filter(|_| who & 0b1_0000 != 0)
        .map(|token| format!("sid=x; mfa_device={token}"));
    let (sec_fetch_site, origin) = match (headers >> 3) & 0b11 {
        0 => (None, None),
        1 => (Some("same-origin"), None),
        2 => (Some("cross-site"), Some("https://evil.example")),
        _ => (None, Some("https://evil.example")),
    };
    let body = fill(body, &made);
    let content_length = match (headers >> 5) & 0b11 {
        0 => Some(body.len() as u64),
        1 => None,
        2 => Some(0),
        _ => Some(1 << 20),
    };
    let request = ApiRequest {
        facts: RequestFacts {
            method,
            content_type: CONTENT_TYPES[usize::from(headers & 0b111)],
            content_length,
            origin,
            sec_fetch_site,
            host: Some("desk.example"),
        },
        path: &path,
        query,
        body: &body,
        subject: signed_in.then_some(&subject),
        session: &session,
        cookies: cookie.as_deref(),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    };
    let response = ready(api.handle(request));

    let status = response.status;
    let shown = || String::from_utf8_lossy(&response.body).into_owned();
    assert!(
        (200..500).contains(&status),
        "{method} {path}: status {status}, body {}",
        shown()
    );
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if (200..300).contains(&status) {
        if !response.body.is_empty() {
            assert_eq!(header("content-type"), Some("application/json"));
            serde_json::from_slice::<serde_json::Value>(&response.body).expect("a JSON body");
        }
    } else {
        assert_eq!(
            header("content-type"),
            Some(PROBLEM_JSON),
            "{method} {path}"
        );
        let problem: Problem = serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("{method} {path}: not a problem ({e}): {}", shown()));
        assert_eq!(problem.status, status, "{}", shown());
        assert_eq!(problem.code.status(), status, "{}", shown());
        if status == 429 {
            let retry: u64 = header("retry-after")
                .expect("429 has Retry-After")
                .parse()
                .expect("seconds");
            assert!(retry >= 1);
        }
    }

    // The body limit: an endpoint (method and path) that changes state
    // answers 413 exactly when the body, or the length it claims, is over
    // the limit.
    let found = ROUTES
        .iter()
        .any(|r| r.method == method && fits(r.path, &path));
    let over = (body.len() as u64).max(content_length.unwrap_or(0)) > MAX_BODY;
    if found && changes_state(method) {
        assert_eq!(
            status == 413,
            over,
            "{method} {path}: status {status}, {} bytes",
            body.len()
        );
    } else {
        assert_ne!(status, 413, "{method} {path}: 413 without a body to refuse");
    }
});
