//! Policy evaluation, table-driven: every requirement × enrolled factors ×
//! allowed methods × session state × grace record, with the expected
//! decision written out, plus exhaustive invariants over the whole product.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use core::time::Duration;

use mfa_core::policy::{
    Decision, DryRunSubject, Factors, GraceRecord, MethodSet, Policy, Requirement, RolePolicy,
    SessionState, dry_run, evaluate,
};
use mfa_core::{Channel, FactorKind, Role, Subject, SubjectId, Timestamp};

const DAY: u64 = 86_400;
const NOW: u64 = 1_800_000_000;

fn t(secs: u64) -> Timestamp {
    Timestamp::from_unix(secs)
}

fn days(n: u64) -> Duration {
    Duration::from_secs(n * DAY)
}

fn agent() -> Subject {
    Subject::new(SubjectId::new("agent-1").unwrap(), [Role::AGENT])
        .with_email("a@example.com")
        .with_phone("+15550100")
}

fn policy_for_agents(rule: RolePolicy) -> Policy {
    let mut policy = Policy::default();
    policy.set_role(Role::AGENT, rule);
    policy
}

#[derive(Clone, Copy, Debug)]
enum Req {
    Off,
    Opt,
    Now,
    Grace7,
}

#[derive(Clone, Copy, Debug)]
enum Enrolled {
    Nothing,
    App,
    Email,
    Sms,
    /// E-mail registered, but the subject has no address any more.
    EmailNoAddress,
    AppAndCodes,
}

#[derive(Clone, Copy, Debug)]
enum Allowed {
    All,
    AppOnly,
    EmailOnly,
}

#[derive(Clone, Copy, Debug)]
enum Session {
    Fresh,
    Verified,
    Remembered,
}

#[derive(Clone, Copy, Debug)]
enum Grace {
    None,
    /// Fixed 2 days ago with a 7-day grace.
    Running,
    /// Fixed 10 days ago with a 7-day grace: past.
    Past,
}

#[derive(Debug, PartialEq)]
enum Want {
    Allow,
    Verify(&'static [FactorKind]),
    EnrollNow,
    /// Deadline in days from now.
    EnrollBy(u64),
}

fn inputs(
    req: Req,
    enrolled: Enrolled,
    allowed: Allowed,
    remember: bool,
) -> (Policy, Subject, Factors) {
    let methods = match allowed {
        Allowed::All => MethodSet::ALL,
        Allowed::AppOnly => MethodSet::APP_ONLY,
        Allowed::EmailOnly => MethodSet {
            app: false,
            email: true,
            sms: false,
        },
    };
    let rule = match req {
        Req::Off => RolePolicy::disabled(),
        Req::Opt => RolePolicy::optional(),
        Req::Now => RolePolicy::required(Duration::ZERO),
        Req::Grace7 => RolePolicy::required(days(7)),
    }
    .with_methods(methods)
    .with_remember_device(remember.then_some(days(30)));
    let mut subject = agent();
    let mut factors = Factors::default();
    match enrolled {
        Enrolled::Nothing => {}
        Enrolled::App => factors.authenticators = 1,
        Enrolled::AppAndCodes => {
            factors.authenticators = 2;
            factors.recovery_codes = 10;
        }
        Enrolled::Email => factors.channels = vec![Channel::Email],
        Enrolled::Sms => factors.channels = vec![Channel::Sms],
        Enrolled::EmailNoAddress => {
            factors.channels = vec![Channel::Email];
            subject.email = None;
        }
    }
    (policy_for_agents(rule), subject, factors)
}

fn decide(
    req: Req,
    enrolled: Enrolled,
    allowed: Allowed,
    session: Session,
    remember: bool,
    grace: Grace,
) -> Decision {
    let (policy, subject, factors) = inputs(req, enrolled, allowed, remember);
    let session = match session {
        Session::Fresh => SessionState::default(),
        Session::Verified => SessionState {
            verified_at: Some(t(NOW - 60)),
            device_remembered: false,
        },
        Session::Remembered => SessionState {
            verified_at: None,
            device_remembered: true,
        },
    };
    let grace = match grace {
        Grace::None => None,
        Grace::Running => Some(GraceRecord {
            fixed_at: t(NOW - 2 * DAY),
            deadline: t(NOW + 5 * DAY),
        }),
        Grace::Past => Some(GraceRecord {
            fixed_at: t(NOW - 10 * DAY),
            deadline: t(NOW - 3 * DAY),
        }),
    };
    evaluate(&policy, &subject, &factors, &session, grace, t(NOW))
}

fn matches_want(decision: &Decision, want: &Want) -> bool {
    match (decision, want) {
        (Decision::Allow, Want::Allow) | (Decision::EnrollNow { .. }, Want::EnrollNow) => true,
        (Decision::VerifyNow { methods }, Want::Verify(expected)) => methods == expected,
        (Decision::EnrollBy { deadline, .. }, Want::EnrollBy(d)) => *deadline == t(NOW + d * DAY),
        _ => false,
    }
}

#[test]
fn the_table() {
    use Allowed::*;
    use Enrolled::*;
    use FactorKind::{Email as E, Recovery as R, Sms as S, Totp as T};
    use Grace::{None as NoGrace, Past, Running};
    use Req::*;
    use Session::*;
    #[rustfmt::skip]
    let rows: &[(Req, Enrolled, Allowed, Session, bool, Grace, Want)] = &[
        // Disabled: always allow, whatever is enrolled.
        (Off, Nothing, All, Fresh, true, NoGrace, Want::Allow),
        (Off, App, All, Fresh, true, NoGrace, Want::Allow),
        (Off, AppAndCodes, All, Fresh, true, Past, Want::Allow),
        // Optional: nothing enrolled → allow; enrolled → verify unless verified/remembered.
        (Opt, Nothing, All, Fresh, true, NoGrace, Want::Allow),
        (Opt, App, All, Fresh, true, NoGrace, Want::Verify(&[T])),
        (Opt, AppAndCodes, All, Fresh, true, NoGrace, Want::Verify(&[T, R])),
        (Opt, Email, All, Fresh, true, NoGrace, Want::Verify(&[E])),
        (Opt, Sms, All, Fresh, true, NoGrace, Want::Verify(&[S])),
        (Opt, App, All, Verified, true, NoGrace, Want::Allow),
        (Opt, App, All, Remembered, true, NoGrace, Want::Allow),
        // Remembering not allowed: the remembered flag does not count.
        (Opt, App, All, Remembered, false, NoGrace, Want::Verify(&[T])),
        // A method the policy no longer allows does not count.
        (Opt, Sms, AppOnly, Fresh, true, NoGrace, Want::Allow),
        (Opt, App, EmailOnly, Fresh, true, NoGrace, Want::Allow),
        (Opt, EmailNoAddress, All, Fresh, true, NoGrace, Want::Allow),
        // Required, no grace: enroll now unless a usable factor exists.
        (Now, Nothing, All, Fresh, true, NoGrace, Want::EnrollNow),
        (Now, Nothing, All, Verified, true, NoGrace, Want::EnrollNow),
        (Now, App, All, Fresh, true, NoGrace, Want::Verify(&[T])),
        (Now, App, All, Verified, true, NoGrace, Want::Allow),
        (Now, AppAndCodes, AppOnly, Remembered, true, NoGrace, Want::Allow),
        (Now, Sms, AppOnly, Verified, true, NoGrace, Want::EnrollNow),
        (Now, App, EmailOnly, Verified, true, NoGrace, Want::EnrollNow),
        (Now, Email, EmailOnly, Fresh, true, NoGrace, Want::Verify(&[E])),
        (Now, EmailNoAddress, All, Verified, true, NoGrace, Want::EnrollNow),
        // Required with a 7-day grace.
        (Grace7, Nothing, All, Fresh, true, NoGrace, Want::EnrollBy(7)),
        (Grace7, Nothing, All, Fresh, true, Running, Want::EnrollBy(5)),
        (Grace7, Nothing, All, Verified, true, Past, Want::EnrollNow),
        (Grace7, Sms, AppOnly, Verified, true, Running, Want::EnrollBy(5)),
        (Grace7, Sms, AppOnly, Verified, true, Past, Want::EnrollNow),
        (Grace7, App, All, Fresh, true, Past, Want::Verify(&[T])),
        (Grace7, App, All, Verified, true, Past, Want::Allow),
        (Grace7, AppAndCodes, All, Remembered, false, Running, Want::Verify(&[T, R])),
    ];
    for (i, (req, enrolled, allowed, session, remember, grace, want)) in rows.iter().enumerate() {
        let got = decide(*req, *enrolled, *allowed, *session, *remember, *grace);
        assert!(
            matches_want(&got, want),
            "row {i}: {req:?} {enrolled:?} {allowed:?} {session:?} remember={remember} {grace:?}: got {got:?}, want {want:?}"
        );
    }
}

#[test]
fn invariants_over_every_combination() {
    let reqs = [Req::Off, Req::Opt, Req::Now, Req::Grace7];
    let enrolled = [
        Enrolled::Nothing,
        Enrolled::App,
        Enrolled::Email,
        Enrolled::Sms,
        Enrolled::EmailNoAddress,
        Enrolled::AppAndCodes,
    ];
    let allowed = [Allowed::All, Allowed::AppOnly, Allowed::EmailOnly];
    let sessions = [Session::Fresh, Session::Verified, Session::Remembered];
    let graces = [Grace::None, Grace::Running, Grace::Past];
    let mut count = 0;
    for req in reqs {
        for e in enrolled {
            for a in allowed {
                for s in sessions {
                    for remember in [false, true] {
                        for g in graces {
                            count += 1;
                            let d = decide(req, e, a, s, remember, g);
                            let ctx = format!("{req:?} {e:?} {a:?} {s:?} {remember} {g:?}: {d:?}");
                            match req {
                                Req::Off => assert_eq!(d, Decision::Allow, "{ctx}"),
                                Req::Opt => assert!(
                                    matches!(d, Decision::Allow | Decision::VerifyNow { .. }),
                                    "{ctx}"
                                ),
                                Req::Now => {
                                    assert!(!matches!(d, Decision::EnrollBy { .. }), "{ctx}")
                                }
                                Req::Grace7 => {}
                            }
                            if let Decision::VerifyNow { methods } = &d {
                                assert!(!methods.is_empty(), "{ctx}");
                                assert!(matches!(s, Session::Fresh | Session::Remembered), "{ctx}");
                            }
                            if let Decision::EnrollBy { deadline, .. } = d {
                                assert!(deadline > t(NOW), "{ctx}");
                            }
                            // A verified session never has to verify again.
                            if matches!(s, Session::Verified) {
                                assert!(!matches!(d, Decision::VerifyNow { .. }), "{ctx}");
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(count, 4 * 6 * 3 * 3 * 2 * 3);
}

#[test]
fn strictest_role_wins() {
    let mut policy = Policy::default();
    policy.set_role(Role::AGENT, RolePolicy::required(days(7)));
    policy.set_role(Role::END_USER, RolePolicy::optional());
    let lead = Role::new("team_lead").unwrap();
    policy.set_role(
        lead.clone(),
        RolePolicy::required(days(2)).with_methods(MethodSet::APP_ONLY),
    );
    let off = Role::new("kiosk").unwrap();
    policy.set_role(off.clone(), RolePolicy::disabled());

    let effective = |roles: &[Role]| policy.effective(roles);
    assert_eq!(
        effective(&[Role::END_USER]).requirement,
        Requirement::Optional
    );
    assert_eq!(
        effective(&[Role::END_USER, Role::AGENT]).requirement,
        Requirement::Required { grace: days(7) }
    );
    // The shorter grace is stricter.
    let both = effective(&[Role::AGENT, lead.clone()]);
    assert_eq!(both.requirement, Requirement::Required { grace: days(2) });
    assert_eq!(both.methods, MethodSet::APP_ONLY);
    // Disabled never beats anything.
    assert_eq!(
        effective(&[off.clone(), Role::END_USER]).requirement,
        Requirement::Optional
    );
    assert_eq!(effective(&[off]).requirement, Requirement::Disabled);
    // Unknown roles and no role: the default rule.
    assert_eq!(effective(&[Role::new("guest").unwrap()]), policy.default);
    assert_eq!(effective(&[]), policy.default);
    // Ties: fewer methods, then shorter remember period.
    let a = Role::new("a").unwrap();
    let b = Role::new("b").unwrap();
    let mut ties = policy.clone();
    ties.set_role(
        a.clone(),
        RolePolicy::required(days(7)).with_remember_device(None),
    );
    ties.set_role(b.clone(), RolePolicy::required(days(7)));
    assert_eq!(
        ties.effective(&[b.clone(), a.clone()]).remember_device,
        None
    );
    assert_eq!(ties.effective(&[a, b]).remember_device, None);
}

#[test]
fn grace_is_fixed_then_shortened_but_never_lengthened_for_the_deferred() {
    let day0 = t(NOW);
    let current = Policy::default();
    // Day 0: enforce for agents with 30 days.
    let mut candidate = current.clone();
    candidate.set_role(Role::AGENT, RolePolicy::required(days(30)));
    let enforced = current.prepare_update(candidate, day0).unwrap();
    let rule = *enforced.rule(&Role::AGENT);
    assert_eq!(rule.required_since, Some(day0));
    assert_eq!(rule.grace_changed_at, Some(day0));

    let subject = agent();
    let nothing = Factors::default();
    let fresh = SessionState::default();
    // Day 5: the agent first signs in; the deadline is fixed at day 35.
    let day5 = day0.plus(days(5));
    let fixed = GraceRecord {
        fixed_at: day5,
        deadline: day5.plus(days(30)),
    };
    assert_eq!(
        evaluate(&enforced, &subject, &nothing, &fresh, None, day5),
        Decision::EnrollBy {
            deadline: fixed.deadline,
            methods: MethodSet::ALL
        }
    );
    // Re-saving the same policy on day 10 changes nothing.
    let day10 = day0.plus(days(10));
    let same = enforced.prepare_update(enforced.clone(), day10).unwrap();
    assert_eq!(same.rule(&Role::AGENT).grace_changed_at, Some(day0));
    assert!(matches!(
        evaluate(&same, &subject, &nothing, &fresh, Some(fixed), day10),
        Decision::EnrollBy { deadline, .. } if deadline == fixed.deadline
    ));
    // Day 20: the admin shortens the grace to 7 days: the deferred agent
    // must now enroll by day 27, not day 35.
    let day20 = day0.plus(days(20));
    let mut shorter = enforced.clone();
    shorter.set_role(Role::AGENT, RolePolicy::required(days(7)));
    let shortened = enforced.prepare_update(shorter, day20).unwrap();
    assert_eq!(shortened.rule(&Role::AGENT).required_since, Some(day0));
    assert_eq!(shortened.rule(&Role::AGENT).grace_changed_at, Some(day20));
    assert!(matches!(
        evaluate(&shortened, &subject, &nothing, &fresh, Some(fixed), day20),
        Decision::EnrollBy { deadline, .. } if deadline == day20.plus(days(7))
    ));
    // An agent first seen on day 25 gets the full 7 days from then.
    let day25 = day0.plus(days(25));
    let late = GraceRecord {
        fixed_at: day25,
        deadline: day25.plus(days(7)),
    };
    assert!(matches!(
        evaluate(&shortened, &subject, &nothing, &fresh, Some(late), day25),
        Decision::EnrollBy { deadline, .. } if deadline == late.deadline
    ));
    // Day 28: past the shortened deadline.
    let day28 = day0.plus(days(28));
    assert!(matches!(
        evaluate(&shortened, &subject, &nothing, &fresh, Some(fixed), day28),
        Decision::EnrollNow { .. }
    ));
    // Lengthening to 60 days never takes the deferred agent beyond the
    // deadline first fixed for them (day 35).
    let day29 = day0.plus(days(29));
    let mut longer = shortened.clone();
    longer.set_role(Role::AGENT, RolePolicy::required(days(60)));
    let lengthened = shortened.prepare_update(longer, day29).unwrap();
    assert!(matches!(
        evaluate(&lengthened, &subject, &nothing, &fresh, Some(fixed), day29),
        Decision::EnrollBy { deadline, .. } if deadline == fixed.deadline
    ));
    // Enforcement off, then on again on day 40: stale records are ignored
    // and everyone gets a fresh grace.
    let day40 = day0.plus(days(40));
    let mut off = lengthened.clone();
    off.set_role(Role::AGENT, RolePolicy::optional());
    let relaxed = lengthened.prepare_update(off, day40).unwrap();
    assert_eq!(relaxed.rule(&Role::AGENT).required_since, None);
    let mut again = relaxed.clone();
    again.set_role(Role::AGENT, RolePolicy::required(days(7)));
    let reenforced = relaxed.prepare_update(again, day40).unwrap();
    assert!(matches!(
        evaluate(&reenforced, &subject, &nothing, &fresh, Some(fixed), day40),
        Decision::EnrollBy { deadline, .. } if deadline == day40.plus(days(7))
    ));
}

/// A rule `Required` with `grace` days, enforced since day `since` and
/// with its grace last changed on day `changed` (days from `NOW`).
fn required_rule(grace: u64, since: u64, changed: u64) -> RolePolicy {
    RolePolicy {
        required_since: Some(t(NOW + since * DAY)),
        grace_changed_at: Some(t(NOW + changed * DAY)),
        ..RolePolicy::required(days(grace))
    }
}

#[test]
fn a_stricter_rule_caps_the_recorded_deadline() {
    // Agents: 30 days since day 0. The subject's deadline was fixed on
    // day 5 under it (day 35). A second role's rule (team leads) may be
    // stricter; `None` means the subject does not have that role.
    #[derive(Debug)]
    enum Rule {
        Required(u64, u64, u64),
        Optional,
    }
    use Rule::{Optional as Opt, Required as Req};
    /// Agent rule, lead rule, record (fixed, deadline), now, want.
    type Row = (Rule, Option<Rule>, Option<(u64, u64)>, u64, Want);
    #[rustfmt::skip]
    let rows: &[Row] = &[
        // (agent rule, lead rule, record (fixed, deadline), now, want) — days.
        // Only the agents' rule: the recorded deadline.
        (Req(30, 0, 0), None, Some((5, 35)), 10, Want::EnrollBy(35)),
        // A lead rule enforced before the record was fixed (day 1), with
        // 2 days: the subject's requirement started on day 5, so day 7.
        (Req(30, 0, 0), Some(Req(2, 1, 1)), Some((5, 35)), 6, Want::EnrollBy(7)),
        (Req(30, 0, 0), Some(Req(2, 1, 1)), Some((5, 35)), 7, Want::EnrollNow),
        // Enforced on day 10 with 7 days: day 17, not a fresh 7 days from
        // whenever the subject is next seen.
        (Req(30, 0, 0), Some(Req(7, 10, 10)), Some((5, 35)), 11, Want::EnrollBy(17)),
        (Req(30, 0, 0), Some(Req(7, 10, 10)), Some((5, 35)), 16, Want::EnrollBy(17)),
        // Enforced on day 10 with 29 days: stricter than the agents' rule,
        // but day 39 is later than the recorded day 35, which stays.
        (Req(30, 0, 0), Some(Req(29, 10, 10)), Some((5, 35)), 20, Want::EnrollBy(35)),
        // Its grace shortened to 2 days on day 20: day 22.
        (Req(30, 0, 0), Some(Req(2, 1, 20)), Some((5, 35)), 21, Want::EnrollBy(22)),
        // A record fixed under the lead rule itself is kept.
        (Req(30, 0, 0), Some(Req(7, 10, 10)), Some((12, 19)), 13, Want::EnrollBy(19)),
        // A lead role that only allows MFA changes nothing.
        (Req(30, 0, 0), Some(Opt), Some((5, 35)), 20, Want::EnrollBy(35)),
        // The agents' own grace shortened to 7 days on day 20: day 27.
        (Req(7, 0, 20), None, Some((5, 35)), 20, Want::EnrollBy(27)),
        // Agents no longer required; leads since day 40: the day-5 record
        // belongs to an enforcement that ended, so a fresh 7 days.
        (Opt, Some(Req(7, 40, 40)), Some((5, 35)), 41, Want::EnrollBy(48)),
        // No record yet: now + the strictest grace.
        (Req(30, 0, 0), Some(Req(7, 10, 10)), None, 12, Want::EnrollBy(19)),
    ];
    let lead = Role::new("team_lead").unwrap();
    let rule = |r: &Rule| match *r {
        Rule::Required(grace, since, changed) => required_rule(grace, since, changed),
        Rule::Optional => RolePolicy::optional(),
    };
    for (i, (agent_rule, lead_rule, record, now, want)) in rows.iter().enumerate() {
        let mut policy = Policy::default();
        policy.set_role(Role::AGENT, rule(agent_rule));
        let mut roles = vec![Role::AGENT];
        if let Some(lead_rule) = lead_rule {
            policy.set_role(lead.clone(), rule(lead_rule));
            roles.push(lead.clone());
        }
        let subject = Subject::new(SubjectId::new("s").unwrap(), roles);
        let record = record.map(|(fixed, deadline)| GraceRecord {
            fixed_at: t(NOW + fixed * DAY),
            deadline: t(NOW + deadline * DAY),
        });
        let now = t(NOW + now * DAY);
        let got = evaluate(
            &policy,
            &subject,
            &Factors::default(),
            &SessionState::default(),
            record,
            now,
        );
        let ok = match (&got, want) {
            (Decision::EnrollNow { .. }, Want::EnrollNow) => true,
            (Decision::EnrollBy { deadline, .. }, Want::EnrollBy(d)) => {
                *deadline == t(NOW + d * DAY)
            }
            _ => false,
        };
        assert!(
            ok,
            "row {i}: agent {agent_rule:?}, lead {lead_rule:?}, record {record:?}: got {got:?}, want {want:?}"
        );
        // Never later than the recorded deadline while that record is in
        // force (rows whose record is not stale).
        if let (Some(record), Decision::EnrollBy { deadline, .. }) = (record, &got)
            && record.fixed_at >= t(NOW)
            && !matches!(agent_rule, Rule::Optional)
        {
            assert!(*deadline <= record.deadline, "row {i}: lengthened");
        }
    }
}

#[test]
fn invalid_policies_are_refused() {
    let current = Policy::default();
    let mut no_method = current.clone();
    no_method.set_role(
        Role::AGENT,
        RolePolicy::required(days(1)).with_methods(MethodSet::NONE),
    );
    assert!(current.prepare_update(no_method, t(NOW)).is_err());
    let mut long = current.clone();
    long.set_role(Role::AGENT, RolePolicy::required(days(400)));
    assert!(current.prepare_update(long, t(NOW)).is_err());
    let mut remember = current.clone();
    remember.set_role(
        Role::AGENT,
        RolePolicy::optional().with_remember_device(Some(days(400))),
    );
    assert!(remember.validate().is_err());
    // Optional with no methods is allowed (it simply offers nothing).
    let mut nothing = current.clone();
    nothing.set_role(
        Role::AGENT,
        RolePolicy::optional().with_methods(MethodSet::NONE),
    );
    assert!(nothing.validate().is_ok());
}

#[test]
fn dry_run_counts_who_would_be_forced() {
    let now = t(NOW);
    let subjects: Vec<Subject> = (0..6)
        .map(|i| {
            let role = if i < 4 { Role::AGENT } else { Role::END_USER };
            Subject::new(SubjectId::new(format!("s{i}")).unwrap(), [role])
                .with_email("x@example.com")
        })
        .collect();
    let with_app = Factors {
        authenticators: 1,
        ..Factors::default()
    };
    fn entries<'a>(
        subjects: &'a [Subject],
        now: Timestamp,
        with_app: &Factors,
    ) -> Vec<DryRunSubject<'a>> {
        subjects
            .iter()
            .enumerate()
            .map(|(i, subject)| DryRunSubject {
                subject,
                // s0 has an app; s1 was deferred earlier (deadline in 2 days).
                factors: if i == 0 {
                    with_app.clone()
                } else {
                    Factors::default()
                },
                grace: (i == 1).then_some(GraceRecord {
                    fixed_at: now.minus(days(1)),
                    deadline: now.plus(days(2)),
                }),
            })
            .collect()
    }
    let current = Policy::default();
    let mut candidate = current.clone();
    candidate.set_role(Role::AGENT, RolePolicy::required(days(7)));
    let prepared = current.prepare_update(candidate, now).unwrap();
    let report = dry_run(&prepared, entries(&subjects, now, &with_app), now);
    assert_eq!(report.subjects, 6);
    assert_eq!(report.compliant, 1);
    assert_eq!(report.not_required, 2);
    assert_eq!(report.enroll_now, 0);
    // The earlier record predates this enforcement, so s1 gets 7 days too.
    assert_eq!(report.enroll_by.get(&now.plus(days(7))), Some(&3));

    let mut strict = current.clone();
    strict.set_role(Role::AGENT, RolePolicy::required(Duration::ZERO));
    strict.set_role(Role::END_USER, RolePolicy::required(Duration::ZERO));
    let prepared = current.prepare_update(strict, now).unwrap();
    let report = dry_run(&prepared, entries(&subjects, now, &with_app), now);
    assert_eq!(
        (report.compliant, report.enroll_now, report.not_required),
        (1, 5, 0)
    );
    assert!(report.enroll_by.is_empty());
}
