//! The codes the servers sent, read from the file their `DevOutbox`
//! appends to (`MFA_DEV_OUTBOX`, one JSON line per message).

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

/// One code line.
#[derive(Debug, Clone)]
struct CodeLine {
    /// The line's number in the file, from 0 (one per message: what
    /// tells two sends apart, whatever their digits).
    line: u64,
    subject: String,
    channel: String,
    code: String,
}

/// What has been read so far.
#[derive(Debug, Default)]
struct Read {
    /// Bytes consumed.
    offset: u64,
    /// Lines seen (codes and notices).
    lines: u64,
    /// A last line still being written.
    partial: Vec<u8>,
    codes: Vec<CodeLine>,
}

/// The outbox file, read incrementally.
#[derive(Debug)]
pub(crate) struct Outbox {
    path: String,
    read: Mutex<Read>,
}

impl Outbox {
    /// The outbox at `path` (it need not exist yet).
    pub(crate) fn new(path: String) -> Self {
        Self {
            path,
            read: Mutex::new(Read::default()),
        }
    }

    /// Reads what was appended since the last call.
    fn refresh(&self, read: &mut Read) -> Result<(), String> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("{}: {e}", self.path)),
        };
        file.seek(SeekFrom::Start(read.offset))
            .map_err(|e| format!("{}: {e}", self.path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {e}", self.path))?;
        read.offset += bytes.len() as u64;
        let mut pending = std::mem::take(&mut read.partial);
        pending.extend_from_slice(&bytes);
        let mut rest = pending.as_slice();
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (line, tail) = rest.split_at(end);
            rest = tail.get(1..).unwrap_or_default();
            let number = read.lines;
            read.lines += 1;
            let Ok(json) = serde_json::from_slice::<Value>(line) else {
                continue;
            };
            let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
            if let (Some(subject), Some(channel), Some(code)) =
                (text("subject"), text("channel"), text("code"))
            {
                read.codes.push(CodeLine {
                    line: number,
                    subject,
                    channel,
                    code,
                });
            }
        }
        read.partial = rest.to_vec();
        Ok(())
    }

    /// The newest e-mail code sent to `subject` after line `after` (if
    /// given): its line number and digits.
    ///
    /// # Errors
    /// The file could not be read.
    pub(crate) fn newest_email_code(
        &self,
        subject: &str,
        after: Option<u64>,
    ) -> Result<Option<(u64, String)>, String> {
        let mut read = self.read.lock().unwrap_or_else(PoisonError::into_inner);
        self.refresh(&mut read)?;
        Ok(read
            .codes
            .iter()
            .rev()
            .find(|c| c.subject == subject && c.channel == "email")
            .filter(|c| after.is_none_or(|after| c.line > after))
            .map(|c| (c.line, c.code.clone())))
    }

    /// How many codes were sent to any of `subjects`.
    ///
    /// # Errors
    /// The file could not be read.
    pub(crate) fn codes_sent_to(&self, subjects: &HashSet<&str>) -> Result<u64, String> {
        let mut read = self.read.lock().unwrap_or_else(PoisonError::into_inner);
        self.refresh(&mut read)?;
        Ok(read
            .codes
            .iter()
            .filter(|c| subjects.contains(c.subject.as_str()))
            .count() as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn reads_appended_lines_and_finds_the_newest_code() {
        let path =
            std::env::temp_dir().join(format!("mfa-load-outbox-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let outbox = Outbox::new(path.to_string_lossy().into_owned());
        assert_eq!(outbox.newest_email_code("user1", None).unwrap(), None);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(
            b"{\"at\":1,\"subject\":\"user1\",\"channel\":\"email\",\"code\":\"111111\"}\n\
              {\"at\":1,\"subject\":\"user1\",\"notice\":\"ChannelAdded(Email)\"}\n\
              {\"at\":2,\"subject\":\"user2\",\"channel\":\"email\",\"code\":\"2222",
        )
        .unwrap();
        assert_eq!(
            outbox.newest_email_code("user1", None).unwrap(),
            Some((0, "111111".to_owned()))
        );
        assert_eq!(outbox.newest_email_code("user1", Some(0)).unwrap(), None);
        // The half-written line is read once it is complete.
        assert_eq!(outbox.newest_email_code("user2", None).unwrap(), None);
        file.write_all(
            b"22\"}\n{\"at\":3,\"subject\":\"user1\",\"channel\":\"email\",\"code\":\"333333\"}\n",
        )
        .unwrap();
        assert_eq!(
            outbox.newest_email_code("user2", None).unwrap(),
            Some((2, "222222".to_owned()))
        );
        assert_eq!(
            outbox.newest_email_code("user1", Some(0)).unwrap(),
            Some((3, "333333".to_owned()))
        );
        let names: HashSet<&str> = ["user1"].into_iter().collect();
        assert_eq!(outbox.codes_sent_to(&names).unwrap(), 2);
        let _ = std::fs::remove_file(&path);
    }
}
