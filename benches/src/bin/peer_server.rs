//! The bench server of `scripts/peer` (django-otp side by side) and
//! `scripts/http-bench` (verify beside a no-op over real sockets): run with
//! `cargo run --release -p mfa-benches --bin peer_server` and the
//! environment below. Not an example to copy: a bench harness (the code
//! is in `mfa_benches::peer`).
//!
//! - `PEER_STORE`: `postgres` (the default) or `memory` (`mfa_core`'s
//!   `MemoryStore`).
//! - `PEER_DATABASE_URL`: with `postgres`, a PostgreSQL database (created by
//!   the script); the store is migrated on start.
//! - `PEER_FRAMEWORK`: `axum` (the default: `mfa_axum`, tower-sessions over
//!   its in-memory store) or `actix` (`mfa_actix`, actix-session over a
//!   server-side in-memory store).
//! - `PEER_USERS`: how many subjects to seed (`u0`, `u1`, …), each with an
//!   authenticator app enrolled through `Mfa` (start + confirm), 1,000
//!   unless set.
//! - `PEER_ADDR`: where to listen, `127.0.0.1:8081` unless set.
//! - `PEER_CODES`: the file `POST /bench/sessions` writes.
//!
//! Routes, the same on both frameworks: the real MFA routes under `/mfa`;
//! `POST /login {"user":"u7"}`, the first factor for a seeded user (no
//! password: the bench measures the second factor); `GET /app` behind the
//! gate; `POST /noop`, which parses the verify body and answers JSON of
//! the verify answer's shape, outside the session and mfa layers; and
//! `POST /bench/sessions`, which signs every seeded user in afresh (a new
//! session each, as `/login` would) and writes, per user, the session
//! cookie and the codes of the next steps to `PEER_CODES`:
//!
//! ```text
//! <first step> <steps>
//! <user> <cookie value> <code of step 0> <code of step 1> …
//! ```
//!
//! An accepted verification cycles the session id, so each run of the load
//! generator asks for fresh sessions first.
#![forbid(unsafe_code)]

use std::sync::Arc;

use mfa_benches::peer::{self, Failure, Serve, Service, actix_app, axum_app, env};
use mfa_core::{MemoryStore, Store};
use mfa_store_sql::PostgresStore;

/// Seeds the users, then serves with the framework named by `PEER_FRAMEWORK`.
async fn run<S: Store>(mfa: Arc<Service<S>>) -> Result<(), Failure> {
    let count: usize = env("PEER_USERS", "1000").parse()?;
    let started = std::time::Instant::now();
    let users = peer::seed(&mfa, count).await?;
    eprintln!(
        "peer_server: seeded {} users in {:.1} s",
        users.len(),
        started.elapsed().as_secs_f64()
    );
    let serve = Serve {
        addr: env("PEER_ADDR", "127.0.0.1:8081"),
        codes: env("PEER_CODES", "peer-codes.txt").into(),
        users,
    };
    match env("PEER_FRAMEWORK", "axum").as_str() {
        "axum" => axum_app::serve(mfa, serve).await,
        "actix" => actix_app::serve(mfa, serve).await,
        other => Err(format!("PEER_FRAMEWORK: axum or actix, not {other:?}").into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    match env("PEER_STORE", "postgres").as_str() {
        "memory" => run(peer::service(MemoryStore::new())?).await,
        "postgres" => {
            let url = std::env::var("PEER_DATABASE_URL").map_err(|_| "set PEER_DATABASE_URL")?;
            let store = PostgresStore::connect(&url).await?;
            store.migrate().await?;
            run(peer::service(store)?).await
        }
        other => Err(format!("PEER_STORE: memory or postgres, not {other:?}").into()),
    }
}
