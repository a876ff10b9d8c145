//! Test support (feature `testing`): the store conformance suite, a manual
//! clock and a recording notifier.
//!
//! * [`store_conformance_suite!`](crate::store_conformance_suite) — one
//!   line per [`Store`](crate::Store) backend runs every case of
//!   [`suite`] against it, each as its own `#[test]`.
//! * [`ManualClock`] — a [`Clock`](crate::Clock) that moves only when the
//!   test says so. Tests never sleep.
//! * [`RecordingNotifier`] — a [`Notifier`](crate::Notifier) that keeps
//!   every code and notice for the test to read, and can be told to fail.
//! * [`DevOutbox`] — a [`Notifier`](crate::Notifier) that appends every
//!   code to a JSON-lines file when `MFA_DEV_OUTBOX` is set, for a harness
//!   driving a running app over HTTP (local testing only; off unless set).
//! * [`service_url`] — reads a database URL from the environment at run
//!   time, skipping (or, in CI, failing) when it is missing.
//!
//! ```
//! // tests/memory_store.rs
//! mfa_core::store_conformance_suite!(memory, || async { Some(mfa_core::MemoryStore::new()) });
//! # fn main() {}
//! ```

use core::future::Future;
use core::time::Duration;

use crate::error::{Error, Result};
use crate::pepper::CodeHash;
use crate::seal::Sealed;
use crate::subject::{CredentialId, SubjectId};

mod clock;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod contract;
mod hooked;
mod notifier;
mod outbox;
pub mod suite;

pub use clock::ManualClock;
pub use hooked::{Hook, Hooked};
pub use notifier::{RecordedCode, RecordedNotice, RecordingNotifier};
pub use outbox::{DEV_OUTBOX_VAR, DevOutbox};

/// The environment variable that turns a missing service into a failure.
pub const REQUIRE_SERVICES: &str = "MFA_REQUIRE_SERVICES";

/// Longest a single case may run before it is failed (a deadlocked store
/// should fail the test, not hang it).
pub const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// The URL of a service a test needs (a database, say), read from the
/// environment variable `var` at run time.
///
/// Set and non-empty: `Some(url)`. Otherwise the test should be skipped:
/// this prints `skipping: {var} is not set` to standard error and returns
/// `None` — unless `MFA_REQUIRE_SERVICES=1` (as in CI), where a missing
/// service is a failure and this panics.
///
/// ```no_run
/// # use mfa_core::testing::service_url;
/// let Some(url) = service_url("MFA_TEST_POSTGRES_URL") else {
///     return; // skipped
/// };
/// # let _ = url;
/// ```
///
/// # Panics
/// If `MFA_REQUIRE_SERVICES=1` and `var` is unset, empty or not UTF-8.
#[must_use]
pub fn service_url(var: &str) -> Option<String> {
    let require = std::env::var(REQUIRE_SERVICES).is_ok_and(|v| v == "1");
    resolve_service_url(var, std::env::var(var), require)
}

#[allow(
    clippy::panic,
    reason = "under MFA_REQUIRE_SERVICES=1 a missing service must fail the test"
)]
fn resolve_service_url(
    var: &str,
    value: core::result::Result<String, std::env::VarError>,
    require: bool,
) -> Option<String> {
    let problem = match value {
        Ok(url) if !url.is_empty() => return Some(url),
        Ok(_) | Err(std::env::VarError::NotPresent) => "is not set",
        Err(std::env::VarError::NotUnicode(_)) => "is not valid UTF-8",
    };
    if require {
        panic!("{REQUIRE_SERVICES}=1 but {var} {problem}");
    }
    eprintln!("skipping: {var} {problem}");
    None
}

/// Runs one async test case on a fresh multi-threaded runtime (4 worker
/// threads, all drivers the enabled tokio features provide), failing the
/// test if the case returns an error, panics or runs longer than
/// [`CASE_TIMEOUT`].
///
/// The case runs as a spawned task, so the timeout holds even for a case
/// that never yields (a store whose futures never wait, looping).
///
/// ```
/// mfa_core::testing::run_case(async {
///     let store = mfa_core::MemoryStore::new();
///     mfa_core::testing::suite::channels_add_list_remove(&store).await
/// });
/// ```
///
/// # Panics
/// If the runtime cannot start, or the case panics (its panic is passed
/// on), returns `Err` (the message shows the error and its sources) or
/// times out.
pub fn run_case<F, E>(case: F)
where
    F: Future<Output = core::result::Result<(), E>> + Send + 'static,
    E: std::error::Error + Send + 'static,
{
    run_case_within(case, CASE_TIMEOUT);
}

#[allow(clippy::panic, reason = "a test helper fails the test by panicking")]
fn run_case_within<F, E>(case: F, limit: Duration)
where
    F: Future<Output = core::result::Result<(), E>> + Send + 'static,
    E: std::error::Error + Send + 'static,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => panic!("cannot start the test runtime: {error}"),
    };
    let task = runtime.spawn(case);
    let outcome = runtime.block_on(async { tokio::time::timeout(limit, task).await });
    match outcome {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => panic!("the case failed: {}", error_chain(&error)),
        Ok(Err(join)) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Ok(Err(join)) => panic!("the case was cancelled: {join}"),
        Err(_) => {
            // The task may be spinning on a worker: do not wait for it.
            runtime.shutdown_background();
            panic!("the case did not finish within {limit:?} (a loop or deadlock?)");
        }
    }
}

/// `error: source: source…`, for failure messages.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(Error::Rng)?;
    Ok(bytes)
}

/// A new random subject id (`suite-` and 26 base32 characters), so that
/// cases never see each other's records even in a shared database.
///
/// # Errors
/// [`Error::Rng`] if the operating system cannot provide randomness.
pub fn fresh_subject() -> Result<SubjectId> {
    SubjectId::new(format!("suite-{}", CredentialId::generate()?))
}

/// A random [`CodeHash`] (stands for the keyed hash of some code or token).
///
/// # Errors
/// [`Error::Rng`] if the operating system cannot provide randomness.
pub fn fresh_hash() -> Result<CodeHash> {
    random().map(CodeHash::from_bytes)
}

/// A random, well-framed [`Sealed`] value (key id 1). It opens with no
/// key: stores never open what they keep.
///
/// # Errors
/// [`Error::Rng`] if the operating system cannot provide randomness.
pub fn fresh_sealed() -> Result<Sealed> {
    let mut bytes = vec![1u8, 0, 0, 0, 1];
    bytes.extend_from_slice(&random::<24>()?);
    bytes.extend_from_slice(&random::<36>()?);
    Sealed::from_bytes(bytes)
}

/// Runs the store conformance suite ([`testing::suite`](crate::testing::suite))
/// against one [`Store`](crate::Store) backend.
///
/// `store_conformance_suite!(name, factory)` expands to `mod name { … }`
/// with one `#[test]` per case. Each test starts a fresh runtime (see
/// [`run_case`](crate::testing::run_case)), calls `factory()` once inside
/// it and runs the case on the store it returns. `factory` is any
/// expression of type `impl Fn() -> impl Future<Output = Option<S>>` with
/// `S: Store` (the future must be `Send`: each case runs as a task);
/// returning `None` skips the case (the factory says why, for example with
/// [`service_url`](crate::testing::service_url)).
///
/// Cases use fresh random subject ids, so stores from one factory may share
/// a database, with one exception: the policy is global, and
/// `policy_load_save_round_trip` expects a store on which no policy was
/// ever saved.
///
/// The caller needs no dependency besides `mfa-core` with the `testing`
/// feature. Items in scope where the macro is invoked are visible to
/// `factory`.
///
/// ```
/// // tests/memory_store.rs
/// mfa_core::store_conformance_suite!(memory, || async { Some(mfa_core::MemoryStore::new()) });
/// # fn main() {}
/// ```
///
/// A backend that needs a service:
///
/// ```no_run
/// mfa_core::store_conformance_suite!(postgres, || async {
///     let url = mfa_core::testing::service_url("MFA_TEST_POSTGRES_URL")?;
///     // Connect to `url` and create a fresh schema here; a store that
///     // cannot be made fails the test (`panic!`/`expect`), it is not a skip.
///     # let _ = url;
///     Some(mfa_core::MemoryStore::new())
/// });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! store_conformance_suite {
    ($name:ident, $factory:expr $(,)?) => {
        $crate::__store_conformance_list! { __store_conformance_cases! { $name, $factory; } }
    };
}

/// The one list of conformance cases: calls `$callback! { $($args)* [cases
/// taking `&S`] [cases taking `Arc<S>`] }`. Both the tests
/// [`store_conformance_suite!`] generates and [`suite::CASES`] /
/// [`suite::SHARED_CASES`] come from it, and a unit test checks that it
/// names every public case function of [`suite`], so a case cannot be
/// left out silently.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_list {
    ($callback:ident! { $($args:tt)* }) => {
        $crate::$callback! {
            $($args)*
            // Cases taking `&S`.
            [
                pending_totp_put_replaces_previous,
                pending_totp_expires_at_expires_at,
                activate_totp_copies_fields_and_consumes_pending,
                activate_totp_only_for_its_subject,
                consume_totp_step_compare_and_set,
                begin_totp_attempt_charges_and_reads,
                accept_totp_step_consumes_settles_and_audits,
                list_totp_oldest_first_and_remove,
                rename_totp_sets_the_name_of_its_own,
                recovery_codes_replace_always_and_if_none,
                recovery_codes_consume_once_per_subject,
                channels_add_list_remove,
                sent_code_cooldown,
                sent_code_hourly_cap_sliding_window,
                sent_code_withdrawn_send_does_not_count,
                sent_code_new_code_replaces_previous,
                sent_code_accepted_once,
                sent_code_tries_run_out,
                sent_code_expires_at_expires_at,
                sent_code_channels_and_subjects_separate,
                throttle_charges_and_settles,
                remove_factor_keeps_one_usable,
                adding_a_factor_drops_pending_enrollments,
                devices_put_touch_list,
                devices_revoke,
                policy_load_save_round_trip,
                grace_fix_if_absent_and_clear,
                reset_subject_removes_exactly_its_records,
                audit_ids_order_filter_and_pages,
                sealed_secrets_pages_by_credential_id,
                replace_sealed_compare_and_set,
            ]
            // Concurrency cases taking `Arc<S>`.
            [
                concurrent_totp_step_single_winner,
                concurrent_accept_totp_step_single_winner,
                concurrent_recovery_code_single_winner,
                concurrent_sent_code_single_winner,
                concurrent_charges_stop_at_the_lock,
                concurrent_charges_keep_the_hourly_budget,
                concurrent_success_in_a_burst_keeps_the_run,
                concurrent_refunds_leave_the_factor_unlocked,
                concurrent_removals_keep_one_usable_factor,
                concurrent_activation_single_winner,
                concurrent_replace_recovery_if_none_single_winner,
                concurrent_fix_grace_same_record,
                concurrent_issue_sent_code_respects_hourly_cap,
            ]
        }
    };
}

/// Implementation detail of [`suite::CASES`].
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_names {
    ([$($case:ident),* $(,)?] [$($shared:ident),* $(,)?]) => {
        /// Every case taking `&S`, by name, as [`store_conformance_suite!`](crate::store_conformance_suite) runs them.
        pub const CASES: &[&str] = &[$(stringify!($case)),*];
        /// Every concurrency case (taking `Arc<S>`), by name.
        pub const SHARED_CASES: &[&str] = &[$(stringify!($shared)),*];
    };
}

/// Implementation detail of [`store_conformance_suite!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_cases {
    ($name:ident, $factory:expr; [$($case:ident),* $(,)?] [$($shared:ident),* $(,)?]) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[test]
                fn $case() {
                    $crate::testing::run_case(async {
                        match ($factory)().await {
                            ::core::option::Option::Some(store) => {
                                $crate::testing::suite::$case(&store).await
                            }
                            ::core::option::Option::None => ::core::result::Result::Ok(()),
                        }
                    });
                }
            )*

            $(
                #[test]
                fn $shared() {
                    $crate::testing::run_case(async {
                        match ($factory)().await {
                            ::core::option::Option::Some(store) => {
                                $crate::testing::suite::$shared(::std::sync::Arc::new(store)).await
                            }
                            ::core::option::Option::None => ::core::result::Result::Ok(()),
                        }
                    });
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_url_uses_a_non_empty_value() {
        assert_eq!(
            resolve_service_url("X", Ok("postgres://h/db".into()), true),
            Some("postgres://h/db".into())
        );
    }

    #[test]
    fn service_url_skips_when_unset_and_not_required() {
        assert_eq!(
            resolve_service_url("X", Err(std::env::VarError::NotPresent), false),
            None
        );
        assert_eq!(resolve_service_url("X", Ok(String::new()), false), None);
    }

    #[test]
    fn service_url_panics_when_required() {
        for value in [Err(std::env::VarError::NotPresent), Ok(String::new())] {
            let panic =
                std::panic::catch_unwind(|| resolve_service_url("MFA_TEST_X_URL", value, true))
                    .unwrap_err();
            let message = panic.downcast_ref::<String>().unwrap();
            assert_eq!(
                message,
                "MFA_REQUIRE_SERVICES=1 but MFA_TEST_X_URL is not set"
            );
        }
    }

    #[test]
    fn service_url_reads_the_environment() {
        // PATH is set in any test environment; the variable below never is.
        assert!(service_url("PATH").is_some());
        if std::env::var(REQUIRE_SERVICES).as_deref() != Ok("1") {
            assert_eq!(service_url("MFA_TEST_SURELY_NOT_SET_4F2A"), None);
        }
    }

    #[test]
    fn fresh_values_differ_and_are_well_formed() {
        assert_ne!(fresh_subject().unwrap(), fresh_subject().unwrap());
        assert_ne!(fresh_hash().unwrap(), fresh_hash().unwrap());
        let sealed = fresh_sealed().unwrap();
        assert_eq!(sealed.key_id(), 1);
        assert_ne!(sealed, fresh_sealed().unwrap());
    }

    #[test]
    fn run_case_reports_errors() {
        run_case(async { Ok::<(), Error>(()) });
        let panic = std::panic::catch_unwind(|| {
            run_case(async { Err::<(), Error>(Error::NotFound("thing")) });
        })
        .unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("thing not found"), "{message}");
    }

    #[test]
    fn run_case_fails_a_case_that_never_yields() {
        let started = std::time::Instant::now();
        let panic = std::panic::catch_unwind(|| {
            run_case_within(
                async {
                    // Blocks its worker without ever yielding, like a loop
                    // over a store whose futures are always ready.
                    std::thread::sleep(Duration::from_secs(3));
                    Ok::<(), Error>(())
                },
                Duration::from_millis(200),
            );
        })
        .unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("did not finish within 200ms"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn run_case_passes_on_a_case_panic() {
        let panic = std::panic::catch_unwind(|| {
            run_case(async {
                assert_eq!(1 + 1, 3, "arithmetic");
                Ok::<(), Error>(())
            });
        })
        .unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("arithmetic"), "{message}");
    }

    #[test]
    fn run_case_has_four_workers() {
        run_case(async {
            let workers = tokio::runtime::Handle::current().metrics().num_workers();
            assert_eq!(workers, 4);
            Ok::<(), Error>(())
        });
    }
}
