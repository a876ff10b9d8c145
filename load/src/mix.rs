//! The subjects, their enrollment through the real endpoints, and the
//! timed mix of sign-in attempts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hyper::Method;
use mfa_core::Secret;
use mfa_core::otp::{Totp, TotpConfig};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{Answer, Http, Session, unix_now};

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// `POST /login` (the first factor).
    Login,
    /// `POST /mfa/totp`.
    Enroll,
    /// `POST /mfa/totp/confirm`.
    Confirm,
    /// `GET /mfa/status`.
    Status,
    /// `POST /mfa/send/email`.
    Send,
    /// `POST /mfa/verify` with the code of the current step.
    VerifyRight,
    /// `POST /mfa/verify` with a code valid at no step near now.
    VerifyWrong,
    /// `POST /mfa/verify`: one copy of a right code sent several times
    /// at once, each copy from its own session.
    VerifyReplay,
    /// `POST /mfa/verify`: a burst of wrong codes at a subject that never
    /// sends a right one (the guess budget).
    VerifyAttack,
}

impl Kind {
    /// The name in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Login => "POST /login",
            Self::Enroll => "POST /mfa/totp",
            Self::Confirm => "POST /mfa/totp/confirm",
            Self::Status => "GET /mfa/status",
            Self::Send => "POST /mfa/send/email",
            Self::VerifyRight => "POST /mfa/verify (right)",
            Self::VerifyWrong => "POST /mfa/verify (wrong)",
            Self::VerifyReplay => "POST /mfa/verify (replayed)",
            Self::VerifyAttack => "POST /mfa/verify (attack)",
        }
    }

    /// Whether the request was a `POST /mfa/verify`.
    pub(crate) fn is_verify(self) -> bool {
        matches!(
            self,
            Self::VerifyRight | Self::VerifyWrong | Self::VerifyReplay | Self::VerifyAttack
        )
    }

    /// Whether the code sent was wrong.
    pub(crate) fn is_wrong(self) -> bool {
        matches!(self, Self::VerifyWrong | Self::VerifyAttack)
    }
}

/// One request and what came back.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) kind: Kind,
    /// The subject's index in the run.
    pub(crate) subject: usize,
    /// The TOTP step of the code sent, when it was a right one.
    pub(crate) step: Option<u64>,
    pub(crate) answer: Answer,
    /// The problem's `code`, when the answer was a problem.
    pub(crate) problem: Option<String>,
    /// The problem's `until` (a lock's end, Unix seconds).
    pub(crate) until: Option<u64>,
}

impl Record {
    pub(crate) fn new(kind: Kind, subject: usize, step: Option<u64>, answer: Answer) -> Self {
        let json = answer.json();
        let problem = json.get("code").and_then(|c| c.as_str()).map(str::to_owned);
        let until = json.get("until").and_then(serde_json::Value::as_u64);
        Self {
            kind,
            subject,
            step,
            answer,
            problem,
            until,
        }
    }
}

/// How the mix treats a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Right codes, replays, status and send-code: never a wrong code,
    /// so never locked.
    Regular,
    /// Right and wrong codes: locked now and then.
    Clumsy,
    /// Only ever sent wrong codes, in bursts (the guess budget).
    Attacked,
}

impl Role {
    /// Half the subjects regular, a quarter clumsy, a quarter attacked.
    pub(crate) fn of(index: usize) -> Self {
        match index % 4 {
            2 => Self::Clumsy,
            3 => Self::Attacked,
            _ => Self::Regular,
        }
    }
}

/// A demo user with an enrolled authenticator.
#[derive(Clone)]
pub(crate) struct Subject {
    pub(crate) name: String,
    pub(crate) role: Role,
    totp: Totp,
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subject")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Subject {
    /// A subject with a fixed key, for the checks' tests.
    #[cfg(test)]
    pub(crate) fn for_tests(name: &str, role: Role) -> Self {
        let secret = Secret::from_bytes(&[7; 20]).unwrap();
        Self {
            name: name.to_owned(),
            role,
            totp: Totp::new(&secret, &TotpConfig::default()),
        }
    }

    /// The current step and its code, as the authenticator app shows it.
    fn current(&self) -> (u64, String) {
        let now = unix_now() as u64;
        let step = self.totp.step_at(now).unwrap_or_default();
        let code = self.totp.generate_step(step).expose().to_string();
        (step, code)
    }

    /// A six-digit code that is none of the codes of the steps around
    /// now (so the server can only reject it).
    fn wrong_code(&self, rng: &mut Rng) -> String {
        let now = unix_now() as u64;
        let step = self.totp.step_at(now).unwrap_or_default();
        let near: Vec<String> = (step.saturating_sub(3)..=step + 3)
            .map(|s| self.totp.generate_step(s).expose().to_string())
            .collect();
        loop {
            let candidate = format!("{:06}", rng.next() % 1_000_000);
            if !near.contains(&candidate) {
                return candidate;
            }
        }
    }
}

/// A small xorshift generator: the mix needs variety, not secrecy.
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn seeded(salt: u64) -> Self {
        let mut bytes = [0u8; 8];
        let seed = match getrandom::fill(&mut bytes) {
            Ok(()) => u64::from_le_bytes(bytes),
            Err(_) => (unix_now() * 1e6) as u64,
        };
        Self((seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// What every task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) http: Http,
    pub(crate) targets: Vec<String>,
    pub(crate) timeout: Duration,
    next_target: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(http: Http, targets: Vec<String>, timeout: Duration) -> Self {
        Self {
            http,
            targets,
            timeout,
            next_target: AtomicUsize::new(0),
        }
    }

    /// The next base URL, round-robin.
    fn target(&self) -> &str {
        let n = self.next_target.fetch_add(1, Ordering::Relaxed);
        self.targets
            .get(n % self.targets.len().max(1))
            .map_or("", String::as_str)
    }

    /// A fresh, password-only session for `subject` on the next target;
    /// `None` if the first factor was refused or failed.
    async fn sign_in(
        &self,
        subject: usize,
        name: &str,
        records: &mut Vec<Record>,
    ) -> Option<Session> {
        let mut session = Session::new(self.target());
        let body = json!({ "user": name, "password": "demo" });
        let answer = session
            .send(
                &self.http,
                Method::POST,
                "/login",
                Some(&body),
                self.timeout,
            )
            .await;
        let ok = answer.status().is_some_and(|s| (200..300).contains(&s));
        records.push(Record::new(Kind::Login, subject, None, answer));
        ok.then_some(session)
    }
}

/// Signs in and enrolls an authenticator for each of `names`, at most
/// `concurrency` at a time. The records include each confirmation, whose
/// step counts as accepted.
///
/// # Errors
/// The first subject that could not be enrolled, and why.
pub(crate) async fn enroll_all(
    shared: &Arc<Shared>,
    names: Vec<(String, Role)>,
    concurrency: usize,
) -> Result<(Vec<Subject>, Vec<Record>), String> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (index, (name, role)) in names.into_iter().enumerate() {
        let shared = shared.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
            let mut records = Vec::new();
            let subject = enroll(&shared, index, name, role, &mut records).await;
            subject.map(|subject| (index, subject, records))
        });
    }
    let mut subjects = Vec::new();
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, subject, records) = joined.map_err(|e| e.to_string())??;
        subjects.push((index, subject));
        all.extend(records);
    }
    subjects.sort_by_key(|(index, _)| *index);
    Ok((subjects.into_iter().map(|(_, s)| s).collect(), all))
}

async fn enroll(
    shared: &Shared,
    index: usize,
    name: String,
    role: Role,
    records: &mut Vec<Record>,
) -> Result<Subject, String> {
    let mut session = shared
        .sign_in(index, &name, records)
        .await
        .ok_or_else(|| format!("{name}: sign-in refused (is DEMO_USERS large enough?)"))?;
    let answer = session
        .send(
            &shared.http,
            Method::POST,
            "/mfa/totp",
            None,
            shared.timeout,
        )
        .await;
    let started = answer.json();
    let record = Record::new(Kind::Enroll, index, None, answer);
    let (status, problem) = (record.answer.status(), record.problem.clone());
    records.push(record);
    if !status.is_some_and(|s| (200..300).contains(&s)) {
        // The body may hold a key: only its problem code is shown.
        return Err(format!(
            "{name}: POST /mfa/totp answered {status:?} {problem:?} (already enrolled? use --first-user)"
        ));
    }
    let field = |key: &str| started.get(key).cloned().unwrap_or_default();
    let (id, key) = (field("id"), field("key"));
    let (Some(id), Some(key)) = (id.as_str(), key.as_str()) else {
        return Err(format!("{name}: no id or key in the enrollment"));
    };
    let config = TotpConfig::default();
    if field("digits").as_u64() != Some(6)
        || field("period").as_u64() != Some(u64::from(config.period()))
    {
        return Err(format!("{name}: not a 6-digit, 30 s authenticator"));
    }
    let secret = Secret::from_base32(key).map_err(|e| format!("{name}: key: {e}"))?;
    let subject = Subject {
        name,
        role,
        totp: Totp::new(&secret, &config),
    };
    // Confirmed with the code of the step before (typed just as it
    // changed, inside the ±1 window), so that the current step is still
    // free for the mix; with the current one if that is refused.
    let (current, _) = subject.current();
    let mut outcome = (None, None);
    for step in [current.saturating_sub(1), current] {
        let code = subject.totp.generate_step(step).expose().to_string();
        let body = json!({ "id": id, "code": code, "name": "load" });
        let answer = session
            .send(
                &shared.http,
                Method::POST,
                "/mfa/totp/confirm",
                Some(&body),
                shared.timeout,
            )
            .await;
        let record = Record::new(Kind::Confirm, index, Some(step), answer);
        outcome = (record.answer.status(), record.problem.clone());
        records.push(record);
        if outcome.0 != Some(401) {
            break;
        }
    }
    let (status, problem) = outcome;
    if !status.is_some_and(|s| (200..300).contains(&s)) {
        // The body may hold recovery codes: only its problem code is shown.
        return Err(format!(
            "{}: confirm answered {status:?} {problem:?}",
            subject.name
        ));
    }
    Ok(subject)
}

/// The shares of the mix, in percent (the rest is the attack).
const STATUS: u64 = 15;
const SEND: u64 = STATUS + 10;
const RIGHT: u64 = SEND + 30;
const WRONG: u64 = RIGHT + 20;
const REPLAY: u64 = WRONG + 15;

/// Copies of a right code sent at once in a replay.
pub(crate) const REPLAY_COPIES: usize = 4;
/// Wrong codes sent at once at an attacked subject.
pub(crate) const ATTACK_BURST: usize = 8;

/// Runs `concurrency` workers until `deadline`; each iteration starts
/// from fresh sessions. Returns every record.
pub(crate) async fn run_mix(
    shared: Arc<Shared>,
    subjects: Arc<Vec<Subject>>,
    concurrency: usize,
    deadline: Instant,
) -> Vec<Record> {
    let mut workers = JoinSet::new();
    for worker in 0..concurrency.max(1) {
        let shared = shared.clone();
        let subjects = subjects.clone();
        workers.spawn(async move {
            let mut rng = Rng::seeded(worker as u64);
            let mut records = Vec::new();
            while Instant::now() < deadline {
                one_iteration(&shared, &subjects, &mut rng, &mut records).await;
            }
            records
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = workers.join_next().await {
        if let Ok(records) = joined {
            all.extend(records);
        }
    }
    all
}

/// A random subject whose role is one of `roles`.
fn pick(subjects: &[Subject], roles: &[Role], rng: &mut Rng) -> Option<usize> {
    let pool: Vec<usize> = (0..subjects.len())
        .filter(|&i| subjects.get(i).is_some_and(|s| roles.contains(&s.role)))
        .collect();
    if pool.is_empty() {
        return None;
    }
    pool.get((rng.next() % pool.len() as u64) as usize).copied()
}

async fn one_iteration(
    shared: &Arc<Shared>,
    subjects: &Arc<Vec<Subject>>,
    rng: &mut Rng,
    records: &mut Vec<Record>,
) {
    use Role::{Attacked, Clumsy, Regular};
    let roll = rng.next() % 100;
    let roles: &[Role] = match roll {
        r if r < SEND => &[Regular, Clumsy],
        r if r < RIGHT => &[Regular, Clumsy],
        r if r < WRONG => &[Clumsy],
        r if r < REPLAY => &[Regular],
        _ => &[Attacked],
    };
    let Some(index) = pick(subjects, roles, rng) else {
        return;
    };
    let Some(subject) = subjects.get(index) else {
        return;
    };
    match roll {
        r if r < STATUS => {
            let Some(mut session) = shared.sign_in(index, &subject.name, records).await else {
                return;
            };
            let answer = session
                .send(
                    &shared.http,
                    Method::GET,
                    "/mfa/status",
                    None,
                    shared.timeout,
                )
                .await;
            records.push(Record::new(Kind::Status, index, None, answer));
        }
        r if r < SEND => {
            let Some(mut session) = shared.sign_in(index, &subject.name, records).await else {
                return;
            };
            let answer = session
                .send(
                    &shared.http,
                    Method::POST,
                    "/mfa/send/email",
                    None,
                    shared.timeout,
                )
                .await;
            records.push(Record::new(Kind::Send, index, None, answer));
        }
        r if r < RIGHT => {
            let (step, code) = subject.current();
            let codes = vec![code];
            burst(
                shared,
                index,
                subject,
                Kind::VerifyRight,
                Some(step),
                codes,
                records,
            )
            .await;
        }
        r if r < WRONG => {
            let codes = vec![subject.wrong_code(rng)];
            burst(
                shared,
                index,
                subject,
                Kind::VerifyWrong,
                None,
                codes,
                records,
            )
            .await;
        }
        r if r < REPLAY => {
            let (step, code) = subject.current();
            let codes = vec![code; REPLAY_COPIES];
            burst(
                shared,
                index,
                subject,
                Kind::VerifyReplay,
                Some(step),
                codes,
                records,
            )
            .await;
        }
        _ => {
            let codes = (0..ATTACK_BURST).map(|_| subject.wrong_code(rng)).collect();
            burst(
                shared,
                index,
                subject,
                Kind::VerifyAttack,
                None,
                codes,
                records,
            )
            .await;
        }
    }
}

/// Signs in once per code (round-robin over the targets), then sends all
/// the codes at once, each from its own session.
async fn burst(
    shared: &Arc<Shared>,
    index: usize,
    subject: &Subject,
    kind: Kind,
    step: Option<u64>,
    codes: Vec<String>,
    records: &mut Vec<Record>,
) {
    let mut sessions = Vec::new();
    for _ in 0..codes.len() {
        match shared.sign_in(index, &subject.name, records).await {
            Some(session) => sessions.push(session),
            None => return,
        }
    }
    let mut sends = JoinSet::new();
    for (mut session, code) in sessions.into_iter().zip(codes) {
        let shared = shared.clone();
        sends.spawn(async move {
            let body = json!({ "method": "totp", "code": code });
            let answer = session
                .send(
                    &shared.http,
                    Method::POST,
                    "/mfa/verify",
                    Some(&body),
                    shared.timeout,
                )
                .await;
            Record::new(kind, index, step, answer)
        });
    }
    while let Some(joined) = sends.join_next().await {
        if let Ok(record) = joined {
            records.push(record);
        }
    }
}
