//! The figures per endpoint and the invariants checked after a run.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{Value, json};

use crate::client::Outcome;
use crate::mix::{Factor, Kind, Record, Role, Subject, Token};

/// The throttle of `docs/security.md`: 5 evaluated failures, then a lock
/// of 1 minute doubling with each further failure, capped at 1 hour.
const FREE_FAILURES: u64 = 5;
const FIRST_LOCK_SECS: u64 = 60;
const MAX_LOCK_SECS: u64 = 3600;

/// How many locks can end within `secs` of the first one starting: each
/// end lets one more code be evaluated (which locks again, twice as long).
pub(crate) fn lock_ends_within(secs: u64) -> u64 {
    let (mut elapsed, mut lock, mut ends) = (0u64, FIRST_LOCK_SECS, 0u64);
    loop {
        elapsed = elapsed.saturating_add(lock);
        if elapsed > secs {
            return ends;
        }
        ends += 1;
        lock = lock.saturating_mul(2).min(MAX_LOCK_SECS);
    }
}

/// The most wrong codes one subject can have had evaluated in `secs`:
/// 5, plus one per lock that ended; each accepted code may clear the
/// count and give 5 more, and the locks of all those series together
/// last at least a minute each.
pub(crate) fn wrong_code_budget(secs: u64, accepted: u64) -> u64 {
    if accepted == 0 {
        FREE_FAILURES + lock_ends_within(secs)
    } else {
        FREE_FAILURES * (accepted + 1) + secs / FIRST_LOCK_SECS + 1
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

/// Per endpoint: count, rate, p50/p99/max latency, count per status.
pub(crate) fn endpoints(records: &[Record], secs: f64) -> BTreeMap<Kind, Value> {
    let mut by_kind: BTreeMap<Kind, Vec<&Record>> = BTreeMap::new();
    for record in records {
        by_kind.entry(record.kind).or_default().push(record);
    }
    by_kind
        .into_iter()
        .map(|(kind, records)| {
            let mut latencies: Vec<Duration> = records.iter().map(|r| r.answer.latency).collect();
            latencies.sort();
            let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
            for record in &records {
                let mut key = record.answer.outcome.key();
                if let Some(problem) = &record.problem {
                    key = format!("{key} {problem}");
                }
                *statuses.entry(key).or_default() += 1;
            }
            let summary = json!({
                "requests": records.len(),
                "per_second": ((records.len() as f64 / secs.max(0.001)) * 10.0).round() / 10.0,
                "p50_ms": ms(percentile(&latencies, 0.50)),
                "p99_ms": ms(percentile(&latencies, 0.99)),
                "max_ms": ms(latencies.last().copied().unwrap_or_default()),
                "statuses": statuses,
            });
            (kind, summary)
        })
        .collect()
}

/// What the checks need besides the records.
#[derive(Debug)]
pub(crate) struct Expectations {
    /// Seconds from the first request of the mix to the last answer.
    pub(crate) run_secs: u64,
    /// The longest any answer may take (acquire timeout + slack).
    pub(crate) max_latency: Duration,
    /// The run includes a database outage: 503s must have been seen,
    /// and accepted codes after the last of them.
    pub(crate) expect_outage: bool,
    /// Audit rows written during the mix, per `action/factor`
    /// (`verify_succeeded/totp`, `recovery_code_used/recovery`, …), if
    /// the database was read.
    pub(crate) audited: Option<BTreeMap<String, u64>>,
    /// Codes the outbox holds for the run's subjects, if there is one.
    pub(crate) outbox_codes: Option<u64>,
}

/// The send cooldown of `docs/security.md` (60 s between two codes to
/// one subject on one channel), less the second the server's clock
/// rounds away.
const COOLDOWN_SECS: f64 = 59.0;

/// What a token is called in a violation.
fn token_name(token: &Token) -> String {
    match token {
        Token::Step(step) => format!("step {step}"),
        Token::Recovery(_) => "a recovery code".to_owned(),
        Token::Sent(line) => format!("the code sent (outbox line {line})"),
    }
}

/// Checks the invariants over `setup` (the enrollments) and `mix`.
/// Returns one line per violation (empty: all held) and the facts.
pub(crate) fn invariants(
    subjects: &[Subject],
    setup: &[Record],
    mix: &[Record],
    expect: &Expectations,
) -> (Vec<String>, Value) {
    let mut violations = Vec::new();
    let all = || setup.iter().chain(mix);
    // A verification answers 200; a confirmation 200 or 201.
    let accepted = |r: &&Record| match r.answer.outcome {
        Outcome::Status(200) => r.kind.is_verify() || r.kind.is_confirm(),
        Outcome::Status(201) => r.kind.is_confirm(),
        _ => false,
    };

    // (a) No step, recovery code or sent code accepted twice; no wrong
    // code accepted.
    let mut per_token: HashMap<(usize, &Token), u64> = HashMap::new();
    for record in all().filter(accepted) {
        match &record.token {
            Some(token) if !record.kind.is_wrong() => {
                *per_token.entry((record.subject, token)).or_default() += 1;
            }
            _ => violations.push(format!(
                "a wrong code was accepted for {} ({})",
                name(subjects, record.subject),
                record.kind.name()
            )),
        }
    }
    let twice = |pick: fn(&Token) -> bool| {
        per_token
            .iter()
            .filter(|((_, token), n)| pick(token) && **n > 1)
            .count()
    };
    let once = |pick: fn(&Token) -> bool| per_token.keys().filter(|(_, t)| pick(t)).count();
    let is_step = |t: &Token| matches!(t, Token::Step(_));
    let is_recovery = |t: &Token| matches!(t, Token::Recovery(_));
    let is_sent = |t: &Token| matches!(t, Token::Sent(_));
    for ((subject, token), n) in &per_token {
        if *n > 1 {
            violations.push(format!(
                "{} of {} accepted {n} times",
                token_name(token),
                name(subjects, *subject)
            ));
        }
    }
    // ... and a recovery code or sent code, sent as it came, is accepted
    // once: refused everywhere (with no failure that could have consumed
    // it unseen) means the server lost it.
    let mut attempts: HashMap<(usize, &Token), (bool, bool, bool)> = HashMap::new();
    let first_use = |k: Kind| {
        matches!(
            k,
            Kind::RecoveryRight
                | Kind::RecoveryReplay
                | Kind::EmailRight
                | Kind::EmailReplay
                | Kind::EmailConfirm
        )
    };
    for record in all().filter(|r| first_use(r.kind)) {
        let Some(token) = &record.token else {
            continue;
        };
        let entry = attempts.entry((record.subject, token)).or_default();
        match record.answer.outcome {
            Outcome::Status(200 | 201) => entry.0 = true,
            Outcome::Status(401) => entry.1 = true,
            Outcome::Status(429) => {}
            // A 503, a timeout: the code may have been consumed unseen.
            _ => entry.2 = true,
        }
    }
    let mut refused_never_accepted = (0u64, 0u64);
    for ((subject, token), (ok, refused, unknown)) in &attempts {
        if *refused && !*ok && !*unknown {
            if is_recovery(token) {
                refused_never_accepted.0 += 1;
            } else {
                refused_never_accepted.1 += 1;
            }
            violations.push(format!(
                "{} of {} was refused, never accepted",
                token_name(token),
                name(subjects, *subject)
            ));
        }
    }

    // (b) No subject accepted while it had been told its factor was
    // locked (the throttle is per subject and factor).
    let mut locks: HashMap<(usize, Factor), Vec<(f64, u64)>> = HashMap::new();
    for record in mix {
        let Some(factor) = record.kind.factor() else {
            continue;
        };
        if record.problem.as_deref() == Some("locked") {
            match record.until {
                Some(until) => locks
                    .entry((record.subject, factor))
                    .or_default()
                    .push((record.answer.received_at, until)),
                None => violations.push("a 429 locked without `until`".to_owned()),
            }
            if record.answer.retry_after.is_none() {
                violations.push("a 429 locked without Retry-After".to_owned());
            }
        }
    }
    // A lock can be lifted before its time, by design: one of the charges
    // that set it (the fifth) belongs to an attempt whose charge is given
    // back (`ThrottleRule::refund`, `ThrottleRule::succeed`) — a right
    // code (accepted, or a TOTP step already used), an e-mail code when
    // no code was active, or an attempt that failed before its code was
    // checked. A lock is counted as voided so, not as a violation, when
    // such an attempt on the subject's factor was in flight while the
    // lock was reported.
    let gives_back = |r: &&Record| match r.answer.outcome {
        Outcome::Status(200) => r.kind.is_verify(),
        Outcome::Status(401) => r.kind.refunded_when_rejected(),
        Outcome::Status(503) => {
            r.kind.factor().is_some()
                && (r.kind.factor() != Some(Factor::Totp) || !r.kind.is_wrong())
        }
        _ => false,
    };
    let mut voided = 0u64;
    for record in mix.iter().filter(accepted) {
        let Some(factor) = record.kind.factor() else {
            continue;
        };
        let sent = record.answer.sent_at;
        // `until` is whole seconds: one second of slack for the rounding.
        let Some((told, until)) = locks.get(&(record.subject, factor)).and_then(|locks| {
            locks
                .iter()
                .find(|(told, until)| sent > *told && sent + 1.0 < *until as f64)
                .copied()
        }) else {
            continue;
        };
        let refunded = mix.iter().filter(gives_back).any(|r| {
            r.subject == record.subject
                && r.kind.factor() == Some(factor)
                && r.answer.sent_at < told
                && r.answer.received_at > told - 1.0
        });
        if refunded {
            voided += 1;
        } else {
            violations.push(format!(
                "{} accepted by {} at {sent:.3}, after being told at {told:.3} it was locked until {until}",
                name(subjects, record.subject),
                factor.name()
            ));
        }
    }

    // (c) Wrong codes evaluated per subject and factor within the guess
    // budget.
    let mut wrong_evaluated: HashMap<(usize, Factor), u64> = HashMap::new();
    let mut mix_accepted: HashMap<(usize, Factor), u64> = HashMap::new();
    let mut accepted_by_factor: BTreeMap<&str, u64> = BTreeMap::new();
    for record in mix {
        let Some(factor) = record.kind.factor() else {
            continue;
        };
        if record.kind.evaluated_when_rejected()
            && record.problem.as_deref() == Some("code_rejected")
        {
            *wrong_evaluated.entry((record.subject, factor)).or_default() += 1;
        }
        if accepted(&record) {
            *mix_accepted.entry((record.subject, factor)).or_default() += 1;
            *accepted_by_factor.entry(factor.name()).or_default() += 1;
        }
    }
    let mut most_evaluated = 0u64;
    for ((subject, factor), evaluated) in &wrong_evaluated {
        let successes = mix_accepted.get(&(*subject, *factor)).copied().unwrap_or(0);
        let budget = wrong_code_budget(expect.run_secs, successes);
        let attacked = subjects
            .get(*subject)
            .is_some_and(|s| s.role == Role::Attacked);
        if attacked && *factor == Factor::Totp && *evaluated > most_evaluated {
            most_evaluated = *evaluated;
        }
        if *evaluated > budget {
            violations.push(format!(
                "{}: {evaluated} wrong {} codes evaluated, budget {budget} for {} s and {successes} accepted",
                name(subjects, *subject),
                factor.name(),
                expect.run_secs
            ));
        }
    }

    // (d) No 500 (nor any other 5xx than 503), every 503 with
    // Retry-After, no timeout, no broken connection, nothing slower than
    // the bound.
    let mut unavailable = 0u64;
    let mut last_unavailable = None::<f64>;
    for record in all() {
        match record.answer.outcome {
            Outcome::Status(503) => {
                unavailable += 1;
                let at = record.answer.received_at;
                last_unavailable = Some(last_unavailable.map_or(at, |l: f64| l.max(at)));
                if record.answer.retry_after.is_none() {
                    violations.push(format!("{}: 503 without Retry-After", record.kind.name()));
                }
            }
            Outcome::Status(status) if status >= 500 => {
                violations.push(format!("{}: {status}", record.kind.name()));
            }
            Outcome::Status(_) => {}
            Outcome::Timeout | Outcome::Transport => violations.push(format!(
                "{}: {} after {} ms",
                record.kind.name(),
                record.answer.outcome.key(),
                record.answer.latency.as_millis()
            )),
        }
        // One bound for every request: after a store failure nothing asks
        // the store again (mfa-core does not give a charge back to a store
        // that just failed; found here with the database stopped, when a
        // recovery verification waited two acquire timeouts, 6.1 s).
        let bound = expect.max_latency;
        if record.answer.latency > bound {
            violations.push(format!(
                "{}: answered in {} ms, more than {} ms",
                record.kind.name(),
                record.answer.latency.as_millis(),
                bound.as_millis()
            ));
        }
    }

    // (e) Codes are sent (202), or refused for the cooldown (429
    // `too_soon` with `until` and Retry-After), or the database is down
    // (503); never two to one subject within the cooldown; and the
    // outbox holds exactly one code per 202.
    let is_send = |r: &&Record| matches!(r.kind, Kind::Send | Kind::EmailEnroll);
    let mut sent_at: HashMap<usize, Vec<(f64, f64)>> = HashMap::new();
    let mut sends: BTreeMap<String, u64> = BTreeMap::new();
    for record in all().filter(is_send) {
        let status = record.answer.status();
        match status {
            Some(202) => sent_at
                .entry(record.subject)
                .or_default()
                .push((record.answer.sent_at, record.answer.received_at)),
            Some(429)
                if record.problem.as_deref() == Some("too_soon")
                    && record.until.is_some()
                    && record.answer.retry_after.is_some() => {}
            Some(503) | None => {}
            Some(other) => violations.push(format!(
                "{}: answered {other} {}",
                record.kind.name(),
                record.problem.as_deref().unwrap_or("")
            )),
        }
        if record.kind == Kind::Send {
            let mut key = record.answer.outcome.key();
            if let Some(problem) = &record.problem {
                key = format!("{key} {problem}");
            }
            *sends.entry(key).or_default() += 1;
        }
    }
    let mut within_cooldown = 0u64;
    let mut sent_202 = 0u64;
    for (subject, times) in &mut sent_at {
        sent_202 += times.len() as u64;
        times.sort_by(|a, b| a.0.total_cmp(&b.0));
        for pair in times.windows(2) {
            if let [(earlier, _), (_, later)] = pair
                && later - earlier < COOLDOWN_SECS
            {
                within_cooldown += 1;
                violations.push(format!(
                    "two codes sent to {} within {:.1} s",
                    name(subjects, *subject),
                    later - earlier
                ));
            }
        }
    }
    // A send answered 503 may have delivered its code first (the audit
    // row written after the delivery failed): at most that many more.
    let sends_failed = all()
        .filter(is_send)
        .filter(|r| !matches!(r.answer.status(), Some(status) if status < 500))
        .count() as u64;
    if let Some(in_outbox) = expect.outbox_codes
        && !(sent_202..=sent_202 + sends_failed).contains(&in_outbox)
    {
        violations.push(format!(
            "{in_outbox} codes in the outbox for the run's subjects, but {sent_202} sends answered 202 (and {sends_failed} failed)"
        ));
    }
    violations.dedup();

    // (f) The audit trail agrees with what the clients saw.
    let observed: u64 = mix.iter().filter(accepted).count() as u64;
    let audited_total = expect.audited.as_ref().map(|audited| {
        audited
            .iter()
            .filter(|(key, _)| key.starts_with("verify_succeeded/"))
            .map(|(_, n)| n)
            .sum::<u64>()
    });
    if let (Some(audited), Some(total)) = (&expect.audited, audited_total) {
        if total != observed {
            violations.push(format!(
                "{total} verify_succeeded audit rows, but {observed} verifications answered 200"
            ));
        }
        let rows = |key: &str| audited.get(key).copied().unwrap_or(0);
        for factor in [Factor::Totp, Factor::Recovery, Factor::Email] {
            let seen = accepted_by_factor.get(factor.name()).copied().unwrap_or(0);
            let key = format!("verify_succeeded/{}", factor.name());
            if rows(&key) != seen {
                violations.push(format!(
                    "{} {key} audit rows, but {seen} {} verifications answered 200",
                    rows(&key),
                    factor.name()
                ));
            }
        }
        // A recovery code is audited as used before the attempt is
        // settled: one whose settlement failed (a 503) may have its row.
        let recovered = accepted_by_factor.get("recovery").copied().unwrap_or(0);
        let failed = mix
            .iter()
            .filter(|r| r.kind.factor() == Some(Factor::Recovery) && !r.kind.is_wrong())
            .filter(|r| !matches!(r.answer.status(), Some(status) if status < 500))
            .count() as u64;
        let used_rows = rows("recovery_code_used/recovery");
        if !(recovered..=recovered + failed).contains(&used_rows) {
            violations.push(format!(
                "{used_rows} recovery_code_used audit rows, but {recovered} recovery codes answered 200 (and {failed} failed)"
            ));
        }
    }

    // The outage: seen, and recovered from.
    let mut slowest_503 = Duration::ZERO;
    for record in all().filter(|r| r.answer.outcome == Outcome::Status(503)) {
        slowest_503 = slowest_503.max(record.answer.latency);
    }
    // Recovered: answers that needed the database (a status, a code
    // accepted or rejected) came again after the last 503.
    let served = |r: &&Record| match (r.kind, r.answer.outcome) {
        (Kind::Status, Outcome::Status(200)) => true,
        (kind, Outcome::Status(200 | 401)) => kind.is_verify(),
        _ => false,
    };
    let served_after_outage = last_unavailable.map(|last| {
        mix.iter()
            .filter(served)
            .filter(|r| r.answer.sent_at > last)
            .count()
    });
    let accepted_after_outage = last_unavailable.map(|last| {
        mix.iter()
            .filter(accepted)
            .filter(|r| r.answer.sent_at > last)
            .count()
    });
    if expect.expect_outage {
        match served_after_outage {
            None => violations.push("an outage was expected, but no 503 came".to_owned()),
            Some(0) => violations
                .push("nothing was served from the database after the last 503".to_owned()),
            Some(_) => {}
        }
    }

    let facts = json!({
        "accepted_codes": observed,
        "accepted_by_factor": accepted_by_factor,
        "audited_successes": audited_total,
        "audited": expect.audited,
        "steps_accepted_twice": twice(is_step),
        "recovery_codes_accepted": once(is_recovery),
        "recovery_codes_accepted_twice": twice(is_recovery),
        "recovery_codes_refused_never_accepted": refused_never_accepted.0,
        "sent_codes_accepted": once(is_sent),
        "sent_codes_accepted_twice": twice(is_sent),
        "sent_codes_refused_never_accepted": refused_never_accepted.1,
        "send_answers": sends,
        "codes_sent_202": sent_202,
        "sends_failed": sends_failed,
        "outbox_codes": expect.outbox_codes,
        "sends_within_cooldown": within_cooldown,
        "locks_told": locks.values().map(Vec::len).sum::<usize>(),
        "most_wrong_codes_evaluated_for_an_attacked_subject": most_evaluated,
        "wrong_code_budget_for_an_attacked_subject": wrong_code_budget(expect.run_secs, 0),
        "unavailable_503": unavailable,
        "slowest_503_ms": ms(slowest_503),
        "served_after_last_503": served_after_outage,
        "accepted_after_last_503": accepted_after_outage,
        "locks_lifted_by_a_refund": voided,
        "violations": violations,
    });
    (violations, facts)
}

fn name(subjects: &[Subject], index: usize) -> String {
    subjects
        .get(index)
        .map_or_else(|| format!("subject #{index}"), |s| s.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Answer;

    fn record(kind: Kind, step: Option<u64>, status: u16, body: &str, at: f64) -> Record {
        with_token(kind, step.map(Token::Step), status, body, at)
    }

    fn with_token(kind: Kind, token: Option<Token>, status: u16, body: &str, at: f64) -> Record {
        let answer = Answer {
            outcome: Outcome::Status(status),
            body: bytes::Bytes::from(body.to_owned()),
            retry_after: (status == 429 || status == 503).then_some(5),
            latency: Duration::from_millis(10),
            sent_at: at,
            received_at: at + 0.01,
        };
        Record::new(kind, 0, token, answer)
    }

    fn expectations() -> Expectations {
        Expectations {
            run_secs: 10,
            max_latency: Duration::from_secs(5),
            expect_outage: false,
            audited: None,
            outbox_codes: None,
        }
    }

    fn check(mix: &[Record]) -> Vec<String> {
        let subjects = [Subject::for_tests("user0", Role::Clumsy)];
        invariants(&subjects, &[], mix, &expectations()).0
    }

    #[test]
    fn recovery_and_sent_codes_are_checked() {
        let code = || Some(Token::Recovery("abcd-efgh-ijkm".to_owned()));
        let ok = with_token(Kind::RecoveryReplay, code(), 200, "{}", 100.0);
        let lost = with_token(
            Kind::RecoveryReplay,
            code(),
            401,
            r#"{"code":"code_rejected"}"#,
            100.0,
        );
        assert!(check(&[ok.clone(), lost.clone()]).is_empty());
        // Accepted twice.
        assert_eq!(check(&[ok.clone(), ok.clone()]).len(), 1);
        // Refused and never accepted (unless a 503 may have consumed it).
        assert_eq!(check(std::slice::from_ref(&lost)).len(), 1);
        let failed = with_token(
            Kind::RecoveryRight,
            code(),
            503,
            r#"{"code":"unavailable"}"#,
            100.0,
        );
        assert!(check(&[lost, failed]).is_empty());
        // A used one accepted again.
        let used = with_token(Kind::RecoveryUsed, code(), 200, "{}", 101.0);
        assert_eq!(check(&[ok, used]).len(), 1);
        // A sent code accepted twice, a wrong one accepted.
        let sent = with_token(Kind::EmailReplay, Some(Token::Sent(3)), 200, "{}", 100.0);
        assert!(check(std::slice::from_ref(&sent)).is_empty());
        assert_eq!(check(&[sent.clone(), sent]).len(), 1);
        let wrong = with_token(Kind::EmailWrong, None, 200, "{}", 100.0);
        assert_eq!(check(&[wrong]).len(), 1);
        // A lock on e-mail codes does not hold TOTP codes back.
        let locked = record(
            Kind::EmailWrong,
            None,
            429,
            r#"{"code":"locked","until":200}"#,
            99.0,
        );
        let totp = record(Kind::VerifyRight, Some(7), 200, "{}", 100.0);
        assert!(check(&[locked.clone(), totp]).is_empty());
        let email = with_token(Kind::EmailRight, Some(Token::Sent(4)), 200, "{}", 100.0);
        assert_eq!(check(&[locked, email]).len(), 1);
    }

    #[test]
    fn sends_are_checked() {
        let sent = |at: f64| with_token(Kind::Send, None, 202, "{}", at);
        assert!(check(&[sent(0.0), sent(60.0)]).is_empty());
        // Two within the cooldown.
        assert_eq!(check(&[sent(0.0), sent(30.0)]).len(), 1);
        // A refusal for the cooldown is fine, a precondition is not.
        let too_soon = with_token(
            Kind::Send,
            None,
            429,
            r#"{"code":"too_soon","until":60}"#,
            1.0,
        );
        assert!(check(&[sent(0.0), too_soon]).is_empty());
        let no_factor = with_token(Kind::Send, None, 409, r#"{"code":"precondition"}"#, 1.0);
        assert_eq!(check(&[no_factor]).len(), 1);
        // The outbox holds one code per 202.
        let subjects = [Subject::for_tests("user0", Role::Regular)];
        let mut expect = expectations();
        expect.outbox_codes = Some(2);
        assert!(
            invariants(&subjects, &[sent(0.0)], &[sent(61.0)], &expect)
                .0
                .is_empty()
        );
        assert_eq!(
            invariants(&subjects, &[], &[sent(61.0)], &expect).0.len(),
            1
        );
        // ... and at most one more per failed send (delivered, then the
        // database failed).
        let failed = with_token(Kind::Send, None, 503, r#"{"code":"unavailable"}"#, 70.0);
        let mix = [sent(61.0), failed];
        expect.outbox_codes = Some(3);
        assert!(
            invariants(&subjects, &[sent(0.0)], &mix, &expect)
                .0
                .is_empty()
        );
        expect.outbox_codes = Some(4);
        assert_eq!(
            invariants(&subjects, &[sent(0.0)], &mix, &expect).0.len(),
            1
        );
    }

    #[test]
    fn the_audit_is_compared_per_factor() {
        let subjects = [Subject::for_tests("user0", Role::Regular)];
        let code = Some(Token::Recovery("abcd-efgh-ijkm".to_owned()));
        let mix = [
            record(Kind::VerifyRight, Some(7), 200, "{}", 100.0),
            with_token(Kind::RecoveryRight, code, 200, "{}", 100.0),
        ];
        let mut expect = expectations();
        let rows = |pairs: &[(&str, u64)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect::<BTreeMap<_, _>>()
        };
        expect.audited = Some(rows(&[
            ("verify_succeeded/totp", 1),
            ("verify_succeeded/recovery", 1),
            ("recovery_code_used/recovery", 1),
        ]));
        assert!(invariants(&subjects, &[], &mix, &expect).0.is_empty());
        // The same total, on the wrong factors; a recovery not audited.
        expect.audited = Some(rows(&[
            ("verify_succeeded/totp", 2),
            ("recovery_code_used/recovery", 0),
        ]));
        assert_eq!(invariants(&subjects, &[], &mix, &expect).0.len(), 3);
    }

    #[test]
    fn violations_are_found() {
        let ok = record(Kind::VerifyRight, Some(7), 200, "{}", 100.0);
        assert!(check(std::slice::from_ref(&ok)).is_empty());
        // The same step twice.
        let again = record(Kind::VerifyReplay, Some(7), 200, "{}", 100.5);
        assert_eq!(check(&[ok.clone(), again]).len(), 1);
        // Accepted after a lock until 200 was reported, with nothing refundable in flight.
        let locked = record(
            Kind::VerifyWrong,
            None,
            429,
            r#"{"code":"locked","until":200}"#,
            99.0,
        );
        assert_eq!(check(&[locked.clone(), ok.clone()]).len(), 1);
        // ... unless a right code whose charge was given back was in flight.
        let refunded = record(
            Kind::VerifyRight,
            Some(6),
            401,
            r#"{"code":"code_rejected"}"#,
            98.995,
        );
        assert!(check(&[locked, refunded, ok.clone()]).is_empty());
        // Six wrong codes evaluated in 10 s: one over the budget.
        let wrong: Vec<Record> = (0..6)
            .map(|i| {
                record(
                    Kind::VerifyWrong,
                    None,
                    401,
                    r#"{"code":"code_rejected"}"#,
                    f64::from(i),
                )
            })
            .collect();
        assert_eq!(check(&wrong).len(), 1);
        // A 500, and a 503 is fine.
        let status = record(Kind::Status, None, 500, "{}", 1.0);
        assert_eq!(check(&[status]).len(), 1);
        let unavailable = record(Kind::Status, None, 503, r#"{"code":"unavailable"}"#, 1.0);
        assert!(check(&[unavailable]).is_empty());
    }

    #[test]
    fn the_budget_follows_docs_security() {
        // 5 at once, then at 1, 3, 7, 15 and 31 min: 10 in the first hour.
        assert_eq!(wrong_code_budget(10, 0), 5);
        assert_eq!(wrong_code_budget(59, 0), 5);
        assert_eq!(wrong_code_budget(60, 0), 6);
        assert_eq!(wrong_code_budget(180, 0), 7);
        assert_eq!(wrong_code_budget(3600, 0), 10);
        // Capped at an hour a lock: one more an hour after 63 min.
        assert_eq!(wrong_code_budget(31 * 60 + 3600, 0), 11);
        assert_eq!(wrong_code_budget(30, 2), 16);
    }

    #[test]
    fn percentiles() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&d, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.99), Duration::ZERO);
    }
}
