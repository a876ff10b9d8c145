//! `cargo run -p mfa-load -- --target http://127.0.0.1:3000 --duration 10`:
//! load on the MFA endpoints of running example apps over real HTTP, then
//! checks that nothing was accepted twice and the throttle held.
//!
//! `scripts/load` starts the servers and the database and runs it. What
//! it does, against one or more base URLs (round-robin):
//!
//! 1. signs in `--subjects` demo users (`user{N}` from `--first-user`,
//!    password `demo`: the examples' `DEMO_USERS`) and enrolls an
//!    authenticator for each through `POST /mfa/totp` and
//!    `/mfa/totp/confirm`; with `--outbox FILE` (the file the servers'
//!    `MFA_DEV_OUTBOX` names) the "regular" subjects register e-mail codes
//!    first (`POST /mfa/channels/email`, the code read from the outbox and
//!    confirmed from 4 sessions at once: one must be accepted). The first
//!    factor's answer carries the recovery codes, kept per subject;
//! 2. for `--duration` seconds runs `--concurrency` workers, each
//!    iteration on fresh password-only sessions: status, verify with the
//!    right code, the right code sent several times at once (a replay), a
//!    recovery code (once, or several copies at once, or one used before)
//!    and — with an outbox — send-code by e-mail, the code read from the
//!    outbox and verified (once, several copies at once, or after a wrong
//!    one) on "regular" subjects (half), which never send a wrong TOTP
//!    code; wrong and right codes on "clumsy" subjects (a quarter), and
//!    bursts of wrong codes at "attacked" subjects (a quarter), which
//!    never send a right one;
//! 3. prints requests/s, p50/p99 latency and the count per status for each
//!    endpoint, writes them as JSON (`--out`), and exits 1 if an invariant
//!    broke: a TOTP step, recovery code or sent code accepted twice (over
//!    setup and mix), a recovery or sent code refused everywhere though
//!    never accepted (with no 503 that could have consumed it), a wrong or
//!    used code accepted, a subject accepted while it had been told that
//!    factor was locked (unless an attempt whose charge is given back — a
//!    success, a used step, a failure — was in flight: counted as
//!    `locks_lifted_by_a_refund`), more wrong codes evaluated per factor
//!    than the guess budget of `docs/security.md`, a send-code answered
//!    other than 202, 429 `too_soon` (with `until` and `Retry-After`) or
//!    503, two codes sent to one subject within the 60 s cooldown, an
//!    outbox whose codes for the run's subjects differ from the 202s, a
//!    5xx other than 503 (or a 503 without `Retry-After`), a timeout or an
//!    answer slower than `--max-latency-ms`, and — with `--database-url` —
//!    `verify_succeeded` audit rows per factor (and `recovery_code_used`
//!    rows) that do not match the 200s seen. With `--expect-outage` (the
//!    database was stopped during the run) 503s must have come and codes
//!    must have been accepted again after the last one; `--ready-file` is
//!    written when the mix starts, for a script to time the fault.

#![forbid(unsafe_code)]

mod check;
mod client;
mod mix;
mod outbox;

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mfa_store_sql::sqlx;
use serde_json::{Value, json};

use crate::mix::{Kind, Shared};

/// The command line.
#[derive(Debug)]
struct Args {
    targets: Vec<String>,
    subjects: usize,
    first_user: usize,
    concurrency: usize,
    duration: Duration,
    database_url: Option<String>,
    out: Option<String>,
    label: String,
    max_latency: Duration,
    expect_outage: bool,
    ready_file: Option<String>,
    outbox: Option<String>,
}

const USAGE: &str = "usage: mfa-load --target URL [--target URL ...] [--subjects N] \
[--first-user N] [--concurrency N] [--duration SECS] [--database-url URL] [--out FILE] \
[--label NAME] [--max-latency-ms MS] [--expect-outage] [--ready-file FILE] [--outbox FILE]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        targets: Vec::new(),
        subjects: 16,
        first_user: 0,
        concurrency: 16,
        duration: Duration::from_secs(10),
        database_url: None,
        out: None,
        label: "load".to_owned(),
        // The store's acquire timeout (3 s) and 2 s of slack.
        max_latency: Duration::from_secs(5),
        expect_outage: false,
        ready_file: None,
        outbox: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: a number\n{USAGE}"))
        };
        match flag.as_str() {
            "--target" => args.targets.push(value()?),
            "--subjects" => args.subjects = number(value()?)? as usize,
            "--first-user" => args.first_user = number(value()?)? as usize,
            "--concurrency" => args.concurrency = number(value()?)? as usize,
            "--duration" => args.duration = Duration::from_secs(number(value()?)?),
            "--database-url" => args.database_url = Some(value()?),
            "--out" => args.out = Some(value()?),
            "--label" => args.label = value()?,
            "--max-latency-ms" => args.max_latency = Duration::from_millis(number(value()?)?),
            "--expect-outage" => args.expect_outage = true,
            "--ready-file" => args.ready_file = Some(value()?),
            "--outbox" => args.outbox = Some(value()?),
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.targets.is_empty() {
        return Err(format!("at least one --target\n{USAGE}"));
    }
    if args.subjects < 4 {
        return Err("--subjects: at least 4 (regular, clumsy and attacked subjects)".to_owned());
    }
    Ok(args)
}

/// The audit rows for accepted codes (`verify_succeeded`,
/// `recovery_code_used`) in mfa-store-sql's schema, per `action/factor`.
async fn audit_counts(url: &str) -> Result<BTreeMap<String, u64>, String> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT action, COALESCE(factor, ''), count(*) FROM mfa_audit \
         WHERE action IN ('verify_succeeded', 'recovery_code_used') GROUP BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .map_err(|e| format!("audit count: {e}"))?;
    pool.close().await;
    rows.into_iter()
        .map(|(action, factor, n)| {
            u64::try_from(n)
                .map(|n| (format!("{action}/{factor}"), n))
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// `after` less `before`, per key.
fn audit_delta(
    before: &BTreeMap<String, u64>,
    after: BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .into_iter()
        .map(|(key, n)| {
            let was = before.get(&key).copied().unwrap_or(0);
            (key, n.saturating_sub(was))
        })
        .collect()
}

fn table(label: &str, secs: f64, endpoints: &[(Kind, Value)]) -> String {
    let mut out = format!(
        "\n{label}: {secs:.1} s\n{:<30} {:>8} {:>8} {:>9} {:>9}  statuses\n",
        "endpoint", "requests", "req/s", "p50 ms", "p99 ms"
    );
    for (kind, e) in endpoints {
        let statuses = e
            .get("statuses")
            .and_then(Value::as_object)
            .map(|s| {
                s.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<30} {:>8} {:>8} {:>9} {:>9}  {statuses}\n",
            kind.name(),
            e["requests"].to_string(),
            e["per_second"].to_string(),
            e["p50_ms"].to_string(),
            e["p99_ms"].to_string(),
        ));
    }
    out
}

async fn run(args: Args) -> Result<bool, String> {
    let shared = Arc::new(Shared::new(
        client::client(),
        args.targets.clone(),
        // Long enough to tell a hang from a slow answer.
        args.max_latency.max(Duration::from_secs(2)) * 2,
        args.outbox.clone().map(outbox::Outbox::new),
    ));
    let names = (0..args.subjects)
        .map(|i| (format!("user{}", args.first_user + i), mix::Role::of(i)))
        .collect();
    let started = Instant::now();
    let (subjects, setup) = mix::enroll_all(&shared, names, args.concurrency).await?;
    let setup_secs = started.elapsed().as_secs_f64();
    let before = match &args.database_url {
        Some(url) => Some(audit_counts(url).await?),
        None => None,
    };

    if let Some(path) = &args.ready_file {
        // Tells a script the mix starts now (for timing a fault).
        std::fs::write(path, b"mix\n").map_err(|e| format!("{path}: {e}"))?;
    }
    let subjects = Arc::new(subjects);
    let mix_started = Instant::now();
    let deadline = mix_started + args.duration;
    let records = mix::run_mix(shared.clone(), subjects.clone(), args.concurrency, deadline).await;
    let mix_secs = mix_started.elapsed().as_secs_f64();

    let audited = match (&args.database_url, before) {
        (Some(url), Some(before)) => Some(audit_delta(&before, audit_counts(url).await?)),
        _ => None,
    };
    let outbox_codes = match &shared.outbox {
        Some(outbox) => {
            let names: HashSet<&str> = subjects.iter().map(|s| s.name.as_str()).collect();
            Some(outbox.codes_sent_to(&names)?)
        }
        None => None,
    };
    let expect = check::Expectations {
        run_secs: mix_secs.ceil() as u64 + 1,
        max_latency: args.max_latency,
        expect_outage: args.expect_outage,
        audited,
        outbox_codes,
    };
    let (violations, facts) = check::invariants(&subjects, &setup, &records, &expect);
    let endpoints: Vec<(Kind, Value)> = check::endpoints(&records, mix_secs).into_iter().collect();
    let setup_endpoints: Vec<(Kind, Value)> =
        check::endpoints(&setup, setup_secs).into_iter().collect();

    let mut text = table(
        &format!("{} — setup ({} subjects)", args.label, subjects.len()),
        setup_secs,
        &setup_endpoints,
    );
    text.push_str(&table(
        &format!(
            "{} — mix ({} workers, {} targets)",
            args.label,
            args.concurrency,
            args.targets.len()
        ),
        mix_secs,
        &endpoints,
    ));
    text.push_str(&format!(
        "total: {:.0} req/s; checks: {}\n",
        records.len() as f64 / mix_secs.max(0.001),
        serde_json::to_string(&facts).unwrap_or_default()
    ));
    for violation in violations.iter().take(20) {
        text.push_str(&format!("VIOLATION: {violation}\n"));
    }
    if violations.len() > 20 {
        text.push_str(&format!("… and {} more\n", violations.len() - 20));
    }
    let _ = std::io::stdout().lock().write_all(text.as_bytes());

    if let Some(path) = &args.out {
        let to_map = |endpoints: &[(Kind, Value)]| {
            endpoints
                .iter()
                .map(|(k, v)| (k.name().to_owned(), v.clone()))
                .collect::<serde_json::Map<_, _>>()
        };
        let summary = json!({
            "label": args.label,
            "targets": args.targets,
            "subjects": subjects.len(),
            "concurrency": args.concurrency,
            "setup_seconds": setup_secs,
            "mix_seconds": mix_secs,
            "requests": records.len(),
            "requests_per_second": records.len() as f64 / mix_secs.max(0.001),
            "setup": to_map(&setup_endpoints),
            "endpoints": to_map(&endpoints),
            "checks": facts,
        });
        let pretty = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
        std::fs::write(path, pretty).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(violations.is_empty())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mfa-load: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("mfa-load: {message}");
            ExitCode::from(2)
        }
    }
}
