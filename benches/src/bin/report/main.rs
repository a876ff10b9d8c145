//! Writes BENCHMARKS.md and its chart (`docs/benchmarks.svg`,
//! `docs/benchmarks.png`) from the measurements of one `scripts/report`
//! run. Not run on its own: `bash scripts/report` measures, then calls
//!
//! ```text
//! report <measurements folder> <criterion folder> <repository root>
//! ```
//!
//! Every figure the report shows comes from those folders; a section whose
//! measurements are missing says so instead of showing old figures.
#![forbid(unsafe_code)]

mod chart;
mod data;
mod fmt;
mod sections;

use std::path::PathBuf;
use std::process::ExitCode;

/// Whether a promised figure was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Reached.
    Met,
    /// Not reached.
    Missed,
    /// The run could not measure it; the reason.
    NotMeasured(String),
}

/// One target of the issues, with what this run measured.
#[derive(Debug)]
pub(crate) struct Target {
    /// The promise (`verify ≥ 0.7× the no-op`).
    pub(crate) what: String,
    /// The figure measured.
    pub(crate) measured: String,
    /// Met or not.
    pub(crate) verdict: Verdict,
    /// The section it is explained in (its heading's anchor).
    pub(crate) section: &'static str,
}

impl Verdict {
    /// Met when `ok`.
    pub(crate) fn of(ok: bool) -> Self {
        if ok { Self::Met } else { Self::Missed }
    }

    /// `**met**` / `**missed**` / `not measured (…)`.
    pub(crate) fn text(&self) -> String {
        match self {
            Self::Met => "**met**".to_owned(),
            Self::Missed => "**missed**".to_owned(),
            Self::NotMeasured(why) => format!("*not measured* ({why})"),
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [measurements, criterion, root] = &args[..] else {
        return Err(
            "usage: report <measurements folder> <criterion folder> <repository root>".to_owned(),
        );
    };
    let root = PathBuf::from(root);
    let data = data::Data::load(measurements.as_ref(), criterion.as_ref())?;
    let markdown = sections::render(&data);
    let svg = chart::svg(&data);
    std::fs::write(root.join("BENCHMARKS.md"), markdown)
        .map_err(|e| format!("BENCHMARKS.md: {e}"))?;
    let docs = root.join("docs");
    std::fs::write(docs.join("benchmarks.svg"), &svg)
        .map_err(|e| format!("docs/benchmarks.svg: {e}"))?;
    let png = chart::png(&svg)?;
    std::fs::write(docs.join("benchmarks.png"), png)
        .map_err(|e| format!("docs/benchmarks.png: {e}"))?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("report: {message}");
            ExitCode::FAILURE
        }
    }
}
