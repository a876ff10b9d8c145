//! Criterion benchmarks for the mfa workspace; see `benches/` and BENCHMARKS.md.
#![forbid(unsafe_code)]
