//! The figures per endpoint and the invariants checked after a run.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{Value, json};

use crate::client::Outcome;
use crate::mix::{Kind, Record, Role, Subject};

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
    /// `verify_succeeded` audit rows written during the mix, if the
    /// database was read.
    pub(crate) audited_successes: Option<u64>,
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
        Outcome::Status(200) => r.kind.is_verify() || r.kind == Kind::Confirm,
        Outcome::Status(201) => r.kind == Kind::Confirm,
        _ => false,
    };

    // (a) No (subject, step) accepted twice; no wrong code accepted.
    let mut per_step: HashMap<(usize, u64), u64> = HashMap::new();
    for record in all().filter(accepted) {
        match record.step {
            Some(step) if !record.kind.is_wrong() => {
                *per_step.entry((record.subject, step)).or_default() += 1;
            }
            _ => violations.push(format!(
                "a wrong code was accepted for {}",
                name(subjects, record.subject)
            )),
        }
    }
    for ((subject, step), n) in &per_step {
        if *n > 1 {
            violations.push(format!(
                "step {step} of {} accepted {n} times",
                name(subjects, *subject)
            ));
        }
    }

    // (b) No subject accepted while it had been told it was locked.
    let mut locks: HashMap<usize, Vec<(f64, u64)>> = HashMap::new();
    for record in mix.iter().filter(|r| r.kind.is_verify()) {
        if record.problem.as_deref() == Some("locked") {
            match record.until {
                Some(until) => locks
                    .entry(record.subject)
                    .or_default()
                    .push((record.answer.received_at, until)),
                None => violations.push("a 429 locked without `until`".to_owned()),
            }
            if record.answer.retry_after.is_none() {
                violations.push("a 429 locked without Retry-After".to_owned());
            }
        }
    }
    // A lock can be lifted before its time, by design: the charge that
    // set it (the fifth) belongs to an attempt that evaluated nothing — a
    // right code whose step was already used, or one that failed before
    // its code was checked — and is given back (`ThrottleRule::refund`).
    // A lock is counted as voided so, not as a violation, when such an
    // attempt for the subject was in flight while the lock was reported.
    let refundable = |r: &&Record| {
        matches!(r.kind, Kind::VerifyRight | Kind::VerifyReplay)
            && matches!(r.answer.outcome, Outcome::Status(401 | 503))
    };
    let mut voided = 0u64;
    for record in mix.iter().filter(accepted) {
        let sent = record.answer.sent_at;
        // `until` is whole seconds: one second of slack for the rounding.
        let Some((told, until)) = locks.get(&record.subject).and_then(|locks| {
            locks
                .iter()
                .find(|(told, until)| sent > *told && sent + 1.0 < *until as f64)
                .copied()
        }) else {
            continue;
        };
        let refunded = mix.iter().filter(refundable).any(|r| {
            r.subject == record.subject
                && r.answer.sent_at < told
                && r.answer.received_at > told - 1.0
        });
        if refunded {
            voided += 1;
        } else {
            violations.push(format!(
                "{} accepted at {sent:.3}, after being told at {told:.3} it was locked until {until}",
                name(subjects, record.subject)
            ));
        }
    }

    // (c) Wrong codes evaluated per subject within the guess budget.
    let mut wrong_evaluated: HashMap<usize, u64> = HashMap::new();
    let mut mix_accepted: HashMap<usize, u64> = HashMap::new();
    for record in mix {
        if record.kind.is_wrong() && record.problem.as_deref() == Some("code_rejected") {
            *wrong_evaluated.entry(record.subject).or_default() += 1;
        }
        if accepted(&record) {
            *mix_accepted.entry(record.subject).or_default() += 1;
        }
    }
    let mut most_evaluated = 0u64;
    for (subject, evaluated) in &wrong_evaluated {
        let successes = mix_accepted.get(subject).copied().unwrap_or(0);
        let budget = wrong_code_budget(expect.run_secs, successes);
        let attacked = subjects
            .get(*subject)
            .is_some_and(|s| s.role == Role::Attacked);
        if attacked && *evaluated > most_evaluated {
            most_evaluated = *evaluated;
        }
        if *evaluated > budget {
            violations.push(format!(
                "{}: {evaluated} wrong codes evaluated, budget {budget} for {} s and {successes} accepted",
                name(subjects, *subject),
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
        if record.answer.latency > expect.max_latency {
            violations.push(format!(
                "{}: answered in {} ms, more than {} ms",
                record.kind.name(),
                record.answer.latency.as_millis(),
                expect.max_latency.as_millis()
            ));
        }
    }
    violations.dedup();

    // (e) The audit trail agrees with what the clients saw.
    let observed: u64 = mix.iter().filter(accepted).count() as u64;
    if let Some(audited) = expect.audited_successes
        && audited != observed
    {
        violations.push(format!(
            "{audited} verify_succeeded audit rows, but {observed} verifications answered 200"
        ));
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
        "audited_successes": expect.audited_successes,
        "steps_accepted_twice": per_step.values().filter(|n| **n > 1).count(),
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
        let answer = Answer {
            outcome: Outcome::Status(status),
            body: bytes::Bytes::from(body.to_owned()),
            retry_after: (status == 429 || status == 503).then_some(5),
            latency: Duration::from_millis(10),
            sent_at: at,
            received_at: at + 0.01,
        };
        Record::new(kind, 0, step, answer)
    }

    fn check(mix: &[Record]) -> Vec<String> {
        let subjects = [Subject::for_tests("user0", Role::Clumsy)];
        let expect = Expectations {
            run_secs: 10,
            max_latency: Duration::from_secs(5),
            expect_outage: false,
            audited_successes: None,
        };
        invariants(&subjects, &[], mix, &expect).0
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
