//! What one run of `scripts/report` measured: criterion's estimates, the
//! JSON facts the benches and scripts wrote, the machine and the phases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One criterion benchmark's median and its confidence interval, in ns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Estimate {
    /// The median's point estimate.
    pub(crate) median: f64,
}

/// One phase of the run, from `phases.tsv`.
#[derive(Debug)]
pub(crate) struct Phase {
    /// What ran (`otp`, `store`, `peer`, …).
    pub(crate) name: String,
    /// Its wall time in seconds.
    pub(crate) seconds: u64,
    /// `/proc/loadavg`'s first three fields before it started.
    pub(crate) load_before: String,
    /// … and after it ended.
    pub(crate) load_after: String,
    /// The command's exit status (0: it ran to the end).
    pub(crate) status: i32,
}

/// Everything the report is drawn from.
#[derive(Debug, Default)]
pub(crate) struct Data {
    /// Criterion's estimates by full benchmark id (`group/function`).
    pub(crate) criterion: BTreeMap<String, Estimate>,
    /// `<name>.json` files of the measurements folder, by name.
    pub(crate) facts: BTreeMap<String, Value>,
    /// `machine.tsv`: what the machine and its tools are.
    pub(crate) machine: Vec<(String, String)>,
    /// `phases.tsv`, in the order they ran.
    pub(crate) phases: Vec<Phase>,
}

impl Data {
    /// Reads a run: `measurements` holds the facts, `criterion` is
    /// `$CARGO_TARGET_DIR/criterion`.
    pub(crate) fn load(measurements: &Path, criterion: &Path) -> Result<Self, String> {
        let mut data = Self::default();
        let entries = std::fs::read_dir(measurements)
            .map_err(|e| format!("{}: {e}", measurements.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            match path.extension().and_then(|e| e.to_str()) {
                Some("json") => {
                    let value = read_json(&path)?;
                    data.facts.insert(stem.to_owned(), value);
                }
                _ if stem == "machine" => {
                    data.machine = read_tsv(&path)?
                        .into_iter()
                        .filter_map(|mut row| {
                            let value = row.pop()?;
                            Some((row.pop()?, value))
                        })
                        .collect()
                }
                _ if stem == "phases" => {
                    for row in read_tsv(&path)? {
                        if let [name, seconds, before, after, status] = &row[..] {
                            data.phases.push(Phase {
                                name: name.clone(),
                                seconds: seconds.parse().unwrap_or(0),
                                load_before: before.clone(),
                                load_after: after.clone(),
                                status: status.parse().unwrap_or(-1),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        if criterion.is_dir() {
            let mut found = Vec::new();
            walk(criterion, &mut found);
            for dir in found {
                let id = read_json(&dir.join("benchmark.json"))?
                    .get("full_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let median = read_json(&dir.join("estimates.json"))?
                    .pointer("/median/point_estimate")
                    .and_then(Value::as_f64);
                if let (Some(id), Some(median)) = (id, median) {
                    data.criterion.insert(id, Estimate { median });
                }
            }
        }
        Ok(data)
    }

    /// The median of criterion benchmark `id`, in ns.
    pub(crate) fn ns(&self, id: &str) -> Option<f64> {
        self.criterion.get(id).map(|e| e.median)
    }

    /// A fact file's value at a JSON pointer.
    pub(crate) fn fact(&self, file: &str, pointer: &str) -> Option<&Value> {
        self.facts.get(file)?.pointer(pointer)
    }

    /// A machine fact.
    pub(crate) fn machine(&self, key: &str) -> Option<&str> {
        self.machine
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// Every `…/new` folder below `dir` that holds a criterion estimate.
fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") && path.join("estimates.json").is_file() {
            found.push(path);
        } else {
            walk(&path, found);
        }
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_tsv(path: &Path) -> Result<Vec<Vec<String>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect())
}
