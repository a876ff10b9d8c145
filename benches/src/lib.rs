//! Criterion benchmarks for the mfa workspace (see `benches/` and
//! BENCHMARKS.md), and the bench server's code ([`peer`]).
#![forbid(unsafe_code)]

pub mod peer;
