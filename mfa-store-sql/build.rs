//! Rebuilds when a migration changes (they are embedded by
//! `sqlx::migrate!`), and sets `cfg(any_engine)` when at least one engine
//! feature is enabled.

fn main() {
    println!("cargo::rerun-if-changed=migrations");
    println!("cargo::rustc-check-cfg=cfg(any_engine)");
    let engines = ["SQLITE", "POSTGRES", "MYSQL"];
    if engines
        .iter()
        .any(|e| std::env::var_os(format!("CARGO_FEATURE_{e}")).is_some())
    {
        println!("cargo::rustc-cfg=any_engine");
    }
}
