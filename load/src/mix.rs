//! The subjects, their enrollment through the real endpoints, and the
//! timed mix of sign-in attempts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::Method;
use mfa_core::Secret;
use mfa_core::otp::{Totp, TotpConfig};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{Answer, Http, Session, unix_now};
use crate::outbox::Outbox;

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// `POST /login` (the first factor).
    Login,
    /// `POST /mfa/totp`.
    Enroll,
    /// `POST /mfa/totp/confirm`.
    Confirm,
    /// `POST /mfa/channels/email` (a code is sent).
    EmailEnroll,
    /// `POST /mfa/channels/email/confirm`: the code sent, several copies
    /// at once, each from its own session.
    EmailConfirm,
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
    /// `POST /mfa/verify` with a recovery code not sent before.
    RecoveryRight,
    /// `POST /mfa/verify`: a recovery code not sent before, several
    /// copies at once.
    RecoveryReplay,
    /// `POST /mfa/verify` with a recovery code sent before (never to be
    /// accepted again).
    RecoveryUsed,
    /// `POST /mfa/verify` with the e-mail code just sent.
    EmailRight,
    /// `POST /mfa/verify`: the e-mail code just sent, several copies at
    /// once.
    EmailReplay,
    /// `POST /mfa/verify` with an e-mail code that is not the one sent.
    EmailWrong,
}

/// The factor a verification is charged to (the throttle is per
/// subject and factor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Factor {
    /// Authenticator app codes.
    Totp,
    /// Recovery codes.
    Recovery,
    /// Codes sent by e-mail.
    Email,
}

impl Factor {
    /// The name in the audit table's `factor` column.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Recovery => "recovery",
            Self::Email => "email",
        }
    }
}

impl Kind {
    /// The name in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Login => "POST /login",
            Self::Enroll => "POST /mfa/totp",
            Self::Confirm => "POST /mfa/totp/confirm",
            Self::EmailEnroll => "POST /mfa/channels/email",
            Self::EmailConfirm => "POST /mfa/channels/email/confirm",
            Self::Status => "GET /mfa/status",
            Self::Send => "POST /mfa/send/email",
            Self::VerifyRight => "POST /mfa/verify (right)",
            Self::VerifyWrong => "POST /mfa/verify (wrong)",
            Self::VerifyReplay => "POST /mfa/verify (replayed)",
            Self::VerifyAttack => "POST /mfa/verify (attack)",
            Self::RecoveryRight => "POST /mfa/verify recovery",
            Self::RecoveryReplay => "POST /mfa/verify recovery (replayed)",
            Self::RecoveryUsed => "POST /mfa/verify recovery (used)",
            Self::EmailRight => "POST /mfa/verify email",
            Self::EmailReplay => "POST /mfa/verify email (replayed)",
            Self::EmailWrong => "POST /mfa/verify email (wrong)",
        }
    }

    /// The factor of a `POST /mfa/verify`; `None` for other requests.
    pub(crate) fn factor(self) -> Option<Factor> {
        match self {
            Self::VerifyRight | Self::VerifyWrong | Self::VerifyReplay | Self::VerifyAttack => {
                Some(Factor::Totp)
            }
            Self::RecoveryRight | Self::RecoveryReplay | Self::RecoveryUsed => {
                Some(Factor::Recovery)
            }
            Self::EmailRight | Self::EmailReplay | Self::EmailWrong => Some(Factor::Email),
            Self::Login
            | Self::Enroll
            | Self::Confirm
            | Self::EmailEnroll
            | Self::EmailConfirm
            | Self::Status
            | Self::Send => None,
        }
    }

    /// Whether the request was a `POST /mfa/verify`.
    pub(crate) fn is_verify(self) -> bool {
        self.factor().is_some()
    }

    /// Whether the request confirmed an enrollment with a code.
    pub(crate) fn is_confirm(self) -> bool {
        matches!(self, Self::Confirm | Self::EmailConfirm)
    }

    /// Whether the code sent could only be refused: a wrong one, or a
    /// recovery code already sent before.
    pub(crate) fn is_wrong(self) -> bool {
        matches!(
            self,
            Self::VerifyWrong | Self::VerifyAttack | Self::EmailWrong | Self::RecoveryUsed
        )
    }

    /// Whether a `code_rejected` answer means the code was evaluated
    /// (the charge stays: it counts against the guess budget). A used
    /// TOTP step and a sent code no longer active are refused without
    /// being evaluated (`Checked::Nothing`: the charge is given back);
    /// a recovery code is evaluated whenever it is refused. A wrong
    /// e-mail code is evaluated only while a code is active: counting it
    /// always is the stricter bound.
    pub(crate) fn evaluated_when_rejected(self) -> bool {
        matches!(
            self,
            Self::VerifyWrong
                | Self::VerifyAttack
                | Self::RecoveryRight
                | Self::RecoveryReplay
                | Self::RecoveryUsed
                | Self::EmailWrong
        )
    }

    /// Whether a 401 answer gave the attempt's charge back (nothing was
    /// evaluated): a right TOTP code whose step was used, an e-mail code
    /// when no code (or another) was active.
    pub(crate) fn refunded_when_rejected(self) -> bool {
        matches!(
            self,
            Self::VerifyRight
                | Self::VerifyReplay
                | Self::EmailRight
                | Self::EmailReplay
                | Self::EmailWrong
        )
    }
}

/// What makes a right code single-use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Token {
    /// The TOTP step of a right code.
    Step(u64),
    /// A recovery code.
    Recovery(String),
    /// A sent code: its line in the outbox (one line per message, so two
    /// sends with the same digits stay apart).
    Sent(u64),
}

/// One request and what came back.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) kind: Kind,
    /// The subject's index in the run.
    pub(crate) subject: usize,
    /// What the code sent was (a TOTP step, a recovery code, a sent
    /// code), when it was a right one or a recovery code sent before.
    pub(crate) token: Option<Token>,
    pub(crate) answer: Answer,
    /// The problem's `code`, when the answer was a problem.
    pub(crate) problem: Option<String>,
    /// The problem's `until` (a lock's end, Unix seconds).
    pub(crate) until: Option<u64>,
}

impl Record {
    pub(crate) fn new(kind: Kind, subject: usize, token: Option<Token>, answer: Answer) -> Self {
        let json = answer.json();
        let problem = json.get("code").and_then(|c| c.as_str()).map(str::to_owned);
        let until = json.get("until").and_then(serde_json::Value::as_u64);
        Self {
            kind,
            subject,
            token,
            answer,
            problem,
            until,
        }
    }
}

/// How the mix treats a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Right codes, replays, status, recovery codes and — with an outbox —
    /// e-mail codes: never a wrong TOTP code, so never locked on it.
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

/// A subject's recovery codes, as the mix uses them up.
#[derive(Debug, Default)]
struct RecoveryCodes {
    /// Never sent yet.
    unused: Vec<String>,
    /// Sent at least once (accepted, or refused: never to be accepted).
    used: Vec<String>,
}

/// A demo user with an enrolled authenticator, its recovery codes and,
/// for regular subjects when there is an outbox, e-mail codes.
pub(crate) struct Subject {
    pub(crate) name: String,
    pub(crate) role: Role,
    /// Whether e-mail codes were registered.
    pub(crate) email: bool,
    totp: Totp,
    recovery: Mutex<RecoveryCodes>,
    /// The outbox line of the newest code sent to this subject.
    last_sent: Mutex<Option<u64>>,
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subject")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl Subject {
    fn new(name: String, role: Role, totp: Totp) -> Self {
        Self {
            name,
            role,
            email: false,
            totp,
            recovery: Mutex::new(RecoveryCodes::default()),
            last_sent: Mutex::new(None),
        }
    }

    /// A subject with a fixed key, for the checks' tests.
    #[cfg(test)]
    pub(crate) fn for_tests(name: &str, role: Role) -> Self {
        let secret = Secret::from_bytes(&[7; 20]).unwrap();
        Self::new(
            name.to_owned(),
            role,
            Totp::new(&secret, &TotpConfig::default()),
        )
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

    fn with_recovery<T>(&self, f: impl FnOnce(&mut RecoveryCodes) -> T) -> T {
        let mut codes = self.recovery.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut codes)
    }

    /// The subject's newest sent code in the outbox, if it is newer than
    /// the last one taken; remembered as taken.
    fn take_sent_code(&self, outbox: &Outbox) -> Option<(u64, String)> {
        let mut last = self
            .last_sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (line, code) = outbox.newest_email_code(&self.name, *last).ok()??;
        *last = Some(line);
        Some((line, code))
    }
}

/// The recovery codes in a confirmation's answer (`recovery_codes`).
fn recovery_codes(answer: &Answer) -> Vec<String> {
    answer
        .json()
        .get("recovery_codes")
        .and_then(serde_json::Value::as_array)
        .map(|codes| {
            codes
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
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
    /// Where the servers write the codes they send (`MFA_DEV_OUTBOX`);
    /// without it no subject gets e-mail codes.
    pub(crate) outbox: Option<Outbox>,
    next_target: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(
        http: Http,
        targets: Vec<String>,
        timeout: Duration,
        outbox: Option<Outbox>,
    ) -> Self {
        Self {
            http,
            targets,
            timeout,
            outbox,
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

/// Signs in and enrolls each of `names`, at most `concurrency` at a time:
/// e-mail codes first for the regular subjects when there is an outbox
/// (so that their send cooldown starts as early as possible), then an
/// authenticator. The records include each confirmation, whose step or
/// sent code counts as accepted.
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

fn is_success(record: &Record) -> bool {
    record
        .answer
        .status()
        .is_some_and(|s| (200..300).contains(&s))
}

async fn enroll(
    shared: &Arc<Shared>,
    index: usize,
    name: String,
    role: Role,
    records: &mut Vec<Record>,
) -> Result<Subject, String> {
    let mut session = shared
        .sign_in(index, &name, records)
        .await
        .ok_or_else(|| format!("{name}: sign-in refused (is DEMO_USERS large enough?)"))?;
    let mut first_codes = Vec::new();
    let mut email = false;
    if role == Role::Regular
        && let Some(outbox) = &shared.outbox
    {
        let (raised, codes) = enroll_email(shared, outbox, index, &name, session, records).await?;
        session = raised;
        first_codes = codes;
        email = true;
    }
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
    let mut subject = Subject::new(name, role, Totp::new(&secret, &config));
    subject.email = email;
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
        if first_codes.is_empty() {
            first_codes = recovery_codes(&answer);
        }
        let record = Record::new(Kind::Confirm, index, Some(Token::Step(step)), answer);
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
    if first_codes.is_empty() {
        return Err(format!(
            "{}: no recovery codes came with the first factor",
            subject.name
        ));
    }
    subject.with_recovery(|codes| codes.unused = first_codes);
    Ok(subject)
}

/// Registers e-mail codes: `POST /mfa/channels/email` in `session`, the
/// code read from the outbox, then confirmed from `REPLAY_COPIES`
/// sessions at once (round-robin over the targets): exactly one must be
/// accepted. Returns the session whose confirmation was accepted (it has
/// just verified, as adding the authenticator next requires) and the
/// recovery codes that came with it.
async fn enroll_email(
    shared: &Arc<Shared>,
    outbox: &Outbox,
    index: usize,
    name: &str,
    mut session: Session,
    records: &mut Vec<Record>,
) -> Result<(Session, Vec<String>), String> {
    let answer = session
        .send(
            &shared.http,
            Method::POST,
            "/mfa/channels/email",
            None,
            shared.timeout,
        )
        .await;
    let record = Record::new(Kind::EmailEnroll, index, None, answer);
    let (status, problem) = (record.answer.status(), record.problem.clone());
    records.push(record);
    if status != Some(202) {
        return Err(format!(
            "{name}: POST /mfa/channels/email answered {status:?} {problem:?} (is MFA_DEV_OUTBOX set for the servers?)"
        ));
    }
    let (line, code) = outbox
        .newest_email_code(name, None)?
        .ok_or_else(|| format!("{name}: no code in the outbox after a 202"))?;
    let mut sessions = vec![session];
    for _ in 1..REPLAY_COPIES {
        let more = shared
            .sign_in(index, name, records)
            .await
            .ok_or_else(|| format!("{name}: sign-in refused"))?;
        sessions.push(more);
    }
    let mut sends = JoinSet::new();
    for mut session in sessions {
        let shared = shared.clone();
        let code = code.clone();
        sends.spawn(async move {
            let body = json!({ "code": code });
            let answer = session
                .send(
                    &shared.http,
                    Method::POST,
                    "/mfa/channels/email/confirm",
                    Some(&body),
                    shared.timeout,
                )
                .await;
            (session, answer)
        });
    }
    let mut winner = None;
    while let Some(joined) = sends.join_next().await {
        let (session, answer) = joined.map_err(|e| e.to_string())?;
        let codes = recovery_codes(&answer);
        let record = Record::new(Kind::EmailConfirm, index, Some(Token::Sent(line)), answer);
        if is_success(&record) && winner.is_none() {
            winner = Some((session, codes));
        }
        records.push(record);
    }
    winner.ok_or_else(|| format!("{name}: none of the e-mail confirmations was accepted"))
}

/// The shares of the mix, in percent (the rest is the attack).
const STATUS: u64 = 12;
const EMAIL: u64 = STATUS + 6;
const RECOVERY: u64 = EMAIL + 4;
const RIGHT: u64 = RECOVERY + 28;
const WRONG: u64 = RIGHT + 20;
const REPLAY: u64 = WRONG + 18;

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

/// A random subject that `fits`.
fn pick(subjects: &[Subject], fits: impl Fn(&Subject) -> bool, rng: &mut Rng) -> Option<usize> {
    let pool: Vec<usize> = (0..subjects.len())
        .filter(|&i| subjects.get(i).is_some_and(&fits))
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
    let fits = |s: &Subject| match roll {
        r if r < STATUS => matches!(s.role, Regular | Clumsy),
        r if r < EMAIL => s.email,
        r if r < RECOVERY => s.role == Regular,
        r if r < RIGHT => matches!(s.role, Regular | Clumsy),
        r if r < WRONG => s.role == Clumsy,
        r if r < REPLAY => s.role == Regular,
        _ => s.role == Attacked,
    };
    let Some(index) = pick(subjects, fits, rng) else {
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
        r if r < EMAIL => email_iteration(shared, index, subject, rng, records).await,
        r if r < RECOVERY => recovery_iteration(shared, index, subject, rng, records).await,
        r if r < RIGHT => {
            let (step, code) = subject.current();
            let codes = vec![code];
            let token = Some(Token::Step(step));
            burst(
                shared,
                index,
                subject,
                Kind::VerifyRight,
                token,
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
            let token = Some(Token::Step(step));
            burst(
                shared,
                index,
                subject,
                Kind::VerifyReplay,
                token,
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

/// Asks for an e-mail code; when one is sent, reads it from the outbox
/// and verifies with it: once, several copies at once, or after a wrong
/// one.
async fn email_iteration(
    shared: &Arc<Shared>,
    index: usize,
    subject: &Subject,
    rng: &mut Rng,
    records: &mut Vec<Record>,
) {
    let Some(outbox) = &shared.outbox else {
        return;
    };
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
    let sent = answer.status() == Some(202);
    records.push(Record::new(Kind::Send, index, None, answer));
    if !sent {
        return;
    }
    // A 202 comes after the notifier wrote the line.
    let Some((line, code)) = subject.take_sent_code(outbox) else {
        return;
    };
    let token = Some(Token::Sent(line));
    match rng.next() % 4 {
        0 => {
            let codes = vec![code];
            burst(
                shared,
                index,
                subject,
                Kind::EmailRight,
                token,
                codes,
                records,
            )
            .await;
        }
        1 => {
            let wrong = loop {
                let candidate = format!("{:06}", rng.next() % 1_000_000);
                if candidate != code {
                    break candidate;
                }
            };
            let codes = vec![wrong];
            burst(
                shared,
                index,
                subject,
                Kind::EmailWrong,
                None,
                codes,
                records,
            )
            .await;
            let codes = vec![code];
            burst(
                shared,
                index,
                subject,
                Kind::EmailRight,
                token,
                codes,
                records,
            )
            .await;
        }
        _ => {
            let codes = vec![code; REPLAY_COPIES];
            burst(
                shared,
                index,
                subject,
                Kind::EmailReplay,
                token,
                codes,
                records,
            )
            .await;
        }
    }
}

/// Verifies with a recovery code never sent before — once, or several
/// copies at once — or, now and then (and once they are all used), with
/// one sent before.
async fn recovery_iteration(
    shared: &Arc<Shared>,
    index: usize,
    subject: &Subject,
    rng: &mut Rng,
    records: &mut Vec<Record>,
) {
    let roll = rng.next() % 10;
    let (kind, code) = subject
        .with_recovery(|codes| {
            let used = |codes: &RecoveryCodes, n: u64| {
                let len = codes.used.len() as u64;
                (len > 0)
                    .then(|| codes.used.get((n % len.max(1)) as usize).cloned())
                    .flatten()
            };
            if roll < 2
                && let Some(code) = used(codes, rng.next())
            {
                return Some((Kind::RecoveryUsed, code));
            }
            match codes.unused.pop() {
                Some(code) if roll < 6 => Some((Kind::RecoveryRight, code)),
                Some(code) => Some((Kind::RecoveryReplay, code)),
                None => used(codes, rng.next()).map(|code| (Kind::RecoveryUsed, code)),
            }
        })
        .unzip();
    let (Some(kind), Some(code)) = (kind, code) else {
        return;
    };
    let copies = if kind == Kind::RecoveryReplay {
        REPLAY_COPIES
    } else {
        1
    };
    let token = Some(Token::Recovery(code.clone()));
    let statuses = burst(
        shared,
        index,
        subject,
        kind,
        token,
        vec![code.clone(); copies],
        records,
    )
    .await;
    if kind == Kind::RecoveryUsed {
        return;
    }
    // A code no copy reached (a sign-in failed, locked) is still unused;
    // one that was accepted or refused is used; one whose fate is unknown
    // (a 503: consumed, maybe, before the failure) is put aside.
    let untouched = statuses.iter().all(|s| *s == Some(429));
    let evaluated = statuses.iter().any(|s| matches!(s, Some(200 | 401)));
    subject.with_recovery(|codes| {
        if untouched {
            codes.unused.push(code);
        } else if evaluated {
            codes.used.push(code);
        }
    });
}

/// Signs in once per code (round-robin over the targets), then sends all
/// the codes at once, each from its own session, with the method of
/// `kind`'s factor. Returns the statuses (empty if a sign-in failed and
/// nothing was sent).
async fn burst(
    shared: &Arc<Shared>,
    index: usize,
    subject: &Subject,
    kind: Kind,
    token: Option<Token>,
    codes: Vec<String>,
    records: &mut Vec<Record>,
) -> Vec<Option<u16>> {
    let method = match kind.factor() {
        Some(Factor::Recovery) => "recovery",
        Some(Factor::Email) => "email",
        Some(Factor::Totp) | None => "totp",
    };
    let mut sessions = Vec::new();
    for _ in 0..codes.len() {
        match shared.sign_in(index, &subject.name, records).await {
            Some(session) => sessions.push(session),
            None => return Vec::new(),
        }
    }
    let mut sends = JoinSet::new();
    for (mut session, code) in sessions.into_iter().zip(codes) {
        let shared = shared.clone();
        let token = token.clone();
        sends.spawn(async move {
            let body = json!({ "method": method, "code": code });
            let answer = session
                .send(
                    &shared.http,
                    Method::POST,
                    "/mfa/verify",
                    Some(&body),
                    shared.timeout,
                )
                .await;
            Record::new(kind, index, token, answer)
        });
    }
    let mut statuses = Vec::new();
    while let Some(joined) = sends.join_next().await {
        if let Ok(record) = joined {
            statuses.push(record.answer.status());
            records.push(record);
        }
    }
    statuses
}
