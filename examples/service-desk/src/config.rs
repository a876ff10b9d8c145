//! [`Config`]: the desk's settings, from flags and the environment.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::Error;

/// What `--help` prints.
pub const HELP: &str = "\
service-desk: a help desk with two-factor authentication (the mfa demo)

USAGE: cargo run -p service-desk -- [OPTIONS]

OPTIONS (each also read from the environment variable in brackets):
  --bind ADDR          address to listen on [SERVICE_DESK_BIND] (127.0.0.1)
  --port N             port [SERVICE_DESK_PORT] (8080; 0 picks a free one)
  --data-dir PATH      data folder: SQLite database, demo keys
                       [SERVICE_DESK_DATA] (./service-desk-data)
  --database-url URL   sqlite://..., postgres://... or mysql://...
                       [DATABASE_URL] (a SQLite file in the data folder)
  --smtp-url URL       send e-mail through this SMTP relay, e.g.
                       smtp://127.0.0.1:25 [SMTP_URL] (none: the outbox)
  --smtp-from ADDR     sender address [SMTP_FROM] (desk@localhost)
  --no-dev-outbox      hide the development outbox page
                       [SERVICE_DESK_DEV_OUTBOX=0] (shown by default)
  --secure-cookies     mark cookies Secure (behind HTTPS)
                       [SERVICE_DESK_SECURE_COOKIES=1]
  -h, --help           this text

KEYS (production must set both; the demo generates them into the data folder):
  MFA_SEALING_KEY      64 hex digits: seals TOTP secrets at rest
  MFA_PEPPER           64+ hex digits: keys the hashes of recovery codes
";

/// The desk's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub bind: IpAddr,
    /// Port to listen on (0: any free port).
    pub port: u16,
    /// Data folder: the SQLite database and, for the demo, the keys.
    pub data_dir: PathBuf,
    /// The database; `None`: `sqlite://<data_dir>/service-desk.db`.
    pub database_url: Option<String>,
    /// E-mail through SMTP; `None`: e-mail only reaches the outbox.
    pub smtp: Option<Smtp>,
    /// Whether the development outbox page exists (and keeps messages).
    pub dev_outbox: bool,
    /// Whether cookies are marked `Secure` (serve over HTTPS then).
    pub secure_cookies: bool,
    /// The sealing key (`MFA_SEALING_KEY`); `None`: generated once into
    /// the data folder.
    pub sealing_key: Option<[u8; 32]>,
    /// The recovery-code pepper (`MFA_PEPPER`); `None`: generated once
    /// into the data folder.
    pub pepper: Option<Vec<u8>>,
}

/// The SMTP relay.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// `smtp://host:port` (with `user:password@` if the relay wants it).
    pub url: String,
    /// The sender address.
    pub from: String,
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    /// Print [`HELP`].
    Help,
    /// Run with these settings.
    Run(Box<Config>),
}

impl Config {
    /// The defaults: 127.0.0.1:8080, `./service-desk-data`, SQLite, the
    /// outbox on, cookies not `Secure` (plain HTTP on localhost).
    #[must_use]
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            data_dir: data_dir.into(),
            database_url: None,
            smtp: None,
            dev_outbox: true,
            secure_cookies: false,
            sealing_key: None,
            pepper: None,
        }
    }

    /// The database URL in use.
    #[must_use]
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("service-desk.db").display()
            )
        })
    }

    /// The settings from the environment, then the flags in `args` (the
    /// flags win).
    ///
    /// # Errors
    /// [`Error::Config`] naming the flag or variable that is wrong.
    pub fn from_args(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Command, Error> {
        let mut config =
            Self::new(env("SERVICE_DESK_DATA").unwrap_or_else(|| "service-desk-data".to_owned()));
        if let Some(bind) = env("SERVICE_DESK_BIND") {
            config.bind = parse_ip(&bind, "SERVICE_DESK_BIND")?;
        }
        if let Some(port) = env("SERVICE_DESK_PORT") {
            config.port = parse_port(&port, "SERVICE_DESK_PORT")?;
        }
        config.database_url = env("DATABASE_URL").filter(|url| !url.is_empty());
        let mut smtp_url = env("SMTP_URL").filter(|url| !url.is_empty());
        let mut smtp_from = env("SMTP_FROM").unwrap_or_else(|| "desk@localhost".to_owned());
        if let Some(flag) = env("SERVICE_DESK_DEV_OUTBOX") {
            config.dev_outbox = parse_flag(&flag, "SERVICE_DESK_DEV_OUTBOX")?;
        }
        if let Some(flag) = env("SERVICE_DESK_SECURE_COOKIES") {
            config.secure_cookies = parse_flag(&flag, "SERVICE_DESK_SECURE_COOKIES")?;
        }
        if let Some(hex) = env("MFA_SEALING_KEY") {
            let bytes = crate::keys::from_hex(&hex)
                .ok_or_else(|| Error::Config("MFA_SEALING_KEY is not hexadecimal".to_owned()))?;
            let key = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                Error::Config("MFA_SEALING_KEY must be 64 hex digits (32 bytes)".to_owned())
            })?;
            config.sealing_key = Some(key);
        }
        if let Some(hex) = env("MFA_PEPPER") {
            let bytes = crate::keys::from_hex(&hex)
                .ok_or_else(|| Error::Config("MFA_PEPPER is not hexadecimal".to_owned()))?;
            config.pepper = Some(bytes);
        }

        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value)),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| -> Result<String, Error> {
                inline
                    .map(str::to_owned)
                    .or_else(|| args.next())
                    .ok_or_else(|| Error::Config(format!("{name} needs a value")))
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "--bind" => config.bind = parse_ip(&value("--bind")?, "--bind")?,
                "--port" => config.port = parse_port(&value("--port")?, "--port")?,
                "--data-dir" => config.data_dir = value("--data-dir")?.into(),
                "--database-url" => config.database_url = Some(value("--database-url")?),
                "--smtp-url" => smtp_url = Some(value("--smtp-url")?),
                "--smtp-from" => smtp_from = value("--smtp-from")?,
                "--no-dev-outbox" => config.dev_outbox = false,
                "--secure-cookies" => config.secure_cookies = true,
                other => {
                    return Err(Error::Config(format!(
                        "unknown option {other} (see --help)"
                    )));
                }
            }
        }
        config.smtp = smtp_url.map(|url| Smtp {
            url,
            from: smtp_from,
        });
        Ok(Command::Run(Box::new(config)))
    }
}

fn parse_ip(text: &str, name: &str) -> Result<IpAddr, Error> {
    text.parse()
        .map_err(|_| Error::Config(format!("{name}: {text:?} is not an IP address")))
}

fn parse_port(text: &str, name: &str) -> Result<u16, Error> {
    text.parse()
        .map_err(|_| Error::Config(format!("{name}: {text:?} is not a port number")))
}

fn parse_flag(text: &str, name: &str) -> Result<bool, Error> {
    match text {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::Config(format!("{name}: {text:?} is not 1 or 0"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Command, Error> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_args(args.iter().map(|a| (*a).to_owned()), |name| {
            env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn run(command: Command) -> Config {
        match command {
            Command::Run(config) => *config,
            Command::Help => panic!("expected a configuration"),
        }
    }

    #[test]
    fn defaults_then_environment_then_flags() {
        let config = run(parse(&[], &[]).unwrap());
        assert_eq!(
            (config.bind.to_string(), config.port),
            ("127.0.0.1".into(), 8080)
        );
        assert!(config.dev_outbox && !config.secure_cookies && config.smtp.is_none());
        assert!(
            config
                .database_url()
                .starts_with("sqlite://service-desk-data/")
        );

        let env = [
            ("SERVICE_DESK_PORT", "9000"),
            ("SMTP_URL", "smtp://relay:25"),
        ];
        let config = run(parse(&["--port=9100", "--bind", "0.0.0.0"], &env).unwrap());
        assert_eq!(
            (config.bind.to_string(), config.port),
            ("0.0.0.0".into(), 9100)
        );
        assert_eq!(
            config.smtp.map(|s| s.url),
            Some("smtp://relay:25".to_owned())
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (args, env, named) in [
            (&["--port", "eighty"][..], &[][..], "--port"),
            (&["--bogus"][..], &[][..], "--bogus"),
            (&["--bind"][..], &[][..], "--bind"),
            (
                &[][..],
                &[("MFA_SEALING_KEY", "abcd")][..],
                "MFA_SEALING_KEY",
            ),
            (
                &[][..],
                &[("SERVICE_DESK_DEV_OUTBOX", "maybe")][..],
                "OUTBOX",
            ),
        ] {
            let error = parse(args, env).unwrap_err().to_string();
            assert!(error.contains(named), "{error}");
        }
        assert!(matches!(parse(&["--help"], &[]), Ok(Command::Help)));
    }
}
