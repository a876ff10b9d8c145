//! The service desk: a small help-desk web application whose agents and
//! customers sign in with a password and a second factor, built only on
//! [`mfa_axum`] (the gate, the MFA endpoints and the extractors) and
//! [`mfa_store_sql`]. Run it with `cargo run -p service-desk`; `--help`
//! lists the settings.
//!
//! What it shows, page by page, is in the repository's README
//! ("The service desk"). The pieces:
//!
//! * [`Config`] — where it listens, which database, the keys, the mail.
//! * [`start`] — opens the database, applies the migrations, seeds the demo
//!   accounts and serves the application until [`Running::stop`].
//! * [`people`] — the demo accounts and tickets (the application's own data,
//!   kept in memory: they are fixtures) and the user directory the MFA
//!   administrator endpoints use.
//! * [`outbox`] — the notifier: e-mail through SMTP when configured, and a
//!   development outbox page showing every message "sent".

#![forbid(unsafe_code)]

pub mod config;
pub mod keys;
pub mod outbox;
pub mod people;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use mfa_core::http::{Api, HttpConfig};
use mfa_core::{Mfa, MfaConfig, SystemClock};
use mfa_store_sql::AnyStore;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::Config;

use crate::outbox::{DeskNotifier, Outbox};
use crate::people::People;

/// The MFA service of the desk.
pub type DeskMfa = Mfa<AnyStore, DeskNotifier, SystemClock>;

/// The MFA endpoints and gate of the desk, with its user directory.
pub type DeskApi = Api<AnyStore, DeskNotifier, SystemClock, People>;

/// What can stop the desk from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or malformed; the message names it.
    #[error("configuration: {0}")]
    Config(String),
    /// The data folder or a key file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, with the path.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] mfa_store_sql::SqlStoreError),
    /// The MFA service refused a setting (a key too short, say).
    #[error("MFA setup: {0}")]
    Mfa(#[from] mfa_core::Error),
    /// A password hash could not be made for a demo account.
    #[error("password hashing failed: {0}")]
    Password(String),
    /// The SMTP URL could not be used.
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// A running desk.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The database URL it uses (a SQLite file in the data folder unless
    /// `DATABASE_URL` said otherwise).
    pub database_url: String,
    /// The demo accounts (with their passwords, for the start-up banner and
    /// the tests).
    pub people: People,
    /// Whether the keys were generated into the data folder (a demo only).
    pub generated_keys: bool,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The address to open in a browser.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving (requests in flight finish) and waits for it.
    ///
    /// # Errors
    /// The server's I/O error, if it failed.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops (Ctrl-C for the binary).
    ///
    /// # Errors
    /// The server's I/O error, if it failed.
    pub async fn wait(&mut self) -> std::io::Result<()> {
        match (&mut self.task).await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }
}

/// Opens the database (creating the SQLite file and the data folder if
/// needed), applies the migrations, seeds the demo accounts and starts
/// serving on `config.bind:config.port` (port 0: any free port).
///
/// # Errors
/// [`Error`]: a bad setting, an unreachable database, a key file that
/// cannot be read or written, a port in use.
pub async fn start(config: Config) -> Result<Running, Error> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| Error::Io {
        what: format!("creating the data folder {}", config.data_dir.display()),
        source,
    })?;
    let keys = keys::load(&config)?;
    let database_url = config.database_url();
    let store = AnyStore::connect(&database_url).await?;
    store.migrate().await?;

    let outbox = config.dev_outbox.then(|| Arc::new(Outbox::default()));
    let notifier = DeskNotifier::new(outbox.clone(), config.smtp.as_ref())?;
    let mfa = Arc::new(Mfa::new(
        store,
        notifier,
        SystemClock,
        MfaConfig::new("Service Desk", keys.pepper, keys.sealer),
    ));
    let people = People::demo().await?;
    let mut http = HttpConfig {
        verify_page: "/verify".to_owned(),
        enroll_page: "/security".to_owned(),
        ..HttpConfig::default()
    };
    http.device_cookie.secure = config.secure_cookies;
    let api = Arc::new(Api::new(mfa, http).with_directory(people.clone()));
    let app = web::app(web::Desk {
        api,
        people: people.clone(),
        outbox,
        secure_cookies: config.secure_cookies,
    });

    let listener = TcpListener::bind((config.bind, config.port))
        .await
        .map_err(|source| Error::Io {
            what: format!("listening on {}:{}", config.bind, config.port),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Io {
        what: "reading the listening address".to_owned(),
        source,
    })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Running {
        addr,
        database_url,
        people,
        generated_keys: keys.generated,
        stop: Some(stop),
        task,
    })
}
