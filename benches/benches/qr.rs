//! QR code rendering for an enrollment URI: ours beside the `qrcode`
//! crate's stock SVG renderer.
//!
//! Run: `cargo bench -p mfa-benches --bench qr`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench setup fails loudly

use std::alloc::System;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mfa_core::otp::TotpConfig;
use mfa_core::{KeyUri, Secret, qr};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn svg(c: &mut Criterion) {
    let uri = KeyUri::totp(
        // A fixed key so that every run draws the same code.
        Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").expect("valid key"),
        Some("Service Desk"),
        "alice@example.com",
        &TotpConfig::default(),
    )
    .expect("valid names")
    .to_uri();
    let region = Region::new(GLOBAL);
    let svg = qr::svg(&uri).expect("fits");
    let ours = region.change();
    eprintln!(
        "qr::svg for a {}-byte URI: {} bytes of SVG, {} allocations",
        uri.len(),
        svg.len(),
        ours.allocations
    );
    let region = Region::new(GLOBAL);
    let stock = stock_svg(&uri);
    let stats = region.change();
    eprintln!(
        "qrcode 0.14 stock SVG renderer: {} bytes of SVG, {} allocations",
        stock.len(),
        stats.allocations
    );
    mfa_benches::record(
        "qr",
        &serde_json::json!({
            "uri_bytes": uri.len(),
            "mfa-core": { "svg_bytes": svg.len(), "allocations": ours.allocations },
            "qrcode-stock": { "svg_bytes": stock.len(), "allocations": stats.allocations },
        }),
    )
    .expect("report folder");
    let mut group = c.benchmark_group("qr-svg");
    group.bench_function("mfa-core", |b| b.iter(|| qr::svg(black_box(&uri))));
    group.bench_function("qrcode-stock", |b| b.iter(|| stock_svg(black_box(&uri))));
    group.finish();
}

fn stock_svg(uri: &str) -> String {
    qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M)
        .expect("fits")
        .render::<qrcode::render::svg::Color<'_>>()
        .build()
}

criterion_group!(benches, svg);
criterion_main!(benches);
