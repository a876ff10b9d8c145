//! The sealing key and the recovery-code pepper: from the environment in
//! production; for the demo, generated once into the data folder (files
//! readable by the owner only) with a warning at start-up.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use hex::Hex;
use mfa_core::Pepper;
use mfa_core::seal::{Sealer, SealingKey};

use crate::{Config, Error};

/// The keys the MFA service needs.
pub(crate) struct Keys {
    pub(crate) pepper: Pepper,
    pub(crate) sealer: Sealer,
    /// At least one was generated into (or read back from) the data folder.
    pub(crate) generated: bool,
}

/// The keys of `config`, or those kept in its data folder (made on first
/// use).
pub(crate) fn load(config: &Config) -> Result<Keys, Error> {
    let mut generated = false;
    let sealing_key: [u8; 32] = match config.sealing_key {
        Some(key) => key,
        None => {
            generated = true;
            let bytes = kept(&config.data_dir.join("sealing.key"), 32)?;
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                Error::Config("sealing.key in the data folder must hold 32 bytes".to_owned())
            })?
        }
    };
    let pepper = match &config.pepper {
        Some(pepper) => pepper.clone(),
        None => {
            generated = true;
            kept(&config.data_dir.join("pepper.key"), 32)?
        }
    };
    Ok(Keys {
        pepper: Pepper::new(&pepper)?,
        sealer: Sealer::new(vec![SealingKey::new(1, sealing_key)])?,
        generated,
    })
}

/// The hex-encoded key in `path`, or `len` fresh random bytes written
/// there (owner-only permissions) if the file does not exist yet.
fn kept(path: &Path, len: usize) -> Result<Vec<u8>, Error> {
    match fs::read_to_string(path) {
        Ok(text) => from_hex(text.trim())
            .ok_or_else(|| Error::Config(format!("{} is not hexadecimal", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = vec![0; len];
            getrandom::fill(&mut bytes)
                .map_err(|e| Error::Config(format!("the system's random source failed: {e}")))?;
            let io = |source| Error::Io {
                what: format!("writing {}", path.display()),
                source,
            };
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io)?;
            writeln!(file, "{}", Hex(&bytes)).map_err(io)?;
            Ok(bytes)
        }
        Err(source) => Err(Error::Io {
            what: format!("reading {}", path.display()),
            source,
        }),
    }
}

/// Bytes from hexadecimal text (either case); `None` if it is not.
#[must_use]
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()
        })
        .collect()
}

mod hex {
    //! Hex output for the key files.
    use core::fmt;

    pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

    impl fmt::Display for Hex<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_refusals() {
        assert_eq!(from_hex("00ff10Ab"), Some(vec![0, 255, 16, 171]));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(Hex(&[0, 255, 16]).to_string(), "00ff10");
    }

    #[test]
    fn generated_keys_are_kept() {
        let dir = std::env::temp_dir().join(format!("desk-keys-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let config = Config::new(&dir);
        let first = kept(&dir.join("pepper.key"), 32).unwrap();
        assert_eq!(first, kept(&dir.join("pepper.key"), 32).unwrap());
        assert!(load(&config).unwrap().generated);
        fs::remove_dir_all(&dir).unwrap();
    }
}
