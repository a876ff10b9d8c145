//! Run with `cargo run -p service-desk` (then open <http://127.0.0.1:8080>);
//! `cargo run -p service-desk -- --help` lists the settings.

use service_desk::config::{Command, HELP};
use service_desk::{Config, start};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::from_args(std::env::args().skip(1), |name| std::env::var(name).ok())
    {
        Ok(Command::Run(config)) => *config,
        Ok(Command::Help) => {
            eprint!("{HELP}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("service-desk: {error}\n\n{HELP}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut running = match start(config).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("service-desk: cannot start: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    eprintln!("\nService Desk is running on {}", running.url());
    eprintln!("database: {}", redact(&running.database_url));
    if running.generated_keys {
        eprintln!(
            "warning: the sealing key and the recovery-code pepper were generated into the \
             data folder for this demo. Production must set MFA_SEALING_KEY and MFA_PEPPER \
             (and keep them secret)."
        );
    }
    eprintln!("\nDemo accounts (e-mail / password):");
    for person in running.people.all() {
        eprintln!(
            "  {:<26} {:<18} {}",
            person.email,
            person.password,
            person.role_label()
        );
    }
    eprintln!("\nPress Ctrl-C to stop.");
    tokio::select! {
        result = running.wait() => {
            if let Err(error) = result {
                eprintln!("service-desk: {error}");
                return std::process::ExitCode::FAILURE;
            }
        }
        _ = tokio::signal::ctrl_c() => {}
    }
    std::process::ExitCode::SUCCESS
}

/// A database URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
