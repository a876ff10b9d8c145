//! Criterion benchmarks for the mfa workspace; see `benches/` and BENCHMARKS.md.
//!
//! The library holds what the bench targets and the binaries share: the
//! bench server's code ([`peer`]), and [`record`], through which a bench
//! hands the facts criterion does not keep (allocation counts, statements
//! per sign-in, sizes) to the report that `scripts/report` regenerates
//! BENCHMARKS.md from.
#![forbid(unsafe_code)]

use std::path::PathBuf;

pub mod peer;

/// The folder `scripts/report` collects measurements in, from
/// `MFA_REPORT_DIR`; `None` when a bench runs on its own.
pub fn report_dir() -> Option<PathBuf> {
    std::env::var_os("MFA_REPORT_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

/// Writes `value` as `<MFA_REPORT_DIR>/<name>.json` for the report, when
/// `MFA_REPORT_DIR` is set; otherwise does nothing. A bench also prints
/// what it records, so a run on its own shows the same facts.
///
/// # Errors
///
/// When the folder cannot be created or the file written; the bench
/// should fail then rather than leave the report without its facts.
pub fn record(name: &str, value: &serde_json::Value) -> std::io::Result<()> {
    let Some(dir) = report_dir() else {
        return Ok(());
    };
    std::fs::create_dir_all(&dir)?;
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(format!("{name}.json")), text)
}
