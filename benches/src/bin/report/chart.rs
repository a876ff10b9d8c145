//! The report's chart: verify throughput and latency per framework and per
//! engine, four panels of horizontal bars, drawn as SVG and rasterised to
//! PNG with resvg (text in DejaVu Sans, or any TrueType font found).

use std::fmt::Write as _;

use serde_json::Value;

use crate::data::Data;
use crate::fmt::{int, significant};
use crate::sections::{ENGINES, SIZES};

const WIDTH: f64 = 1200.0;
const PANEL_W: f64 = 580.0;
const PANEL_H: f64 = 330.0;
const GAP: f64 = 20.0;
const TOP: f64 = 56.0;
const HEIGHT: f64 = TOP + 2.0 * PANEL_H + 2.0 * GAP;
const LABEL_W: f64 = 250.0;

/// Bar colours: ours, the baseline/peer, a second series of ours.
const OURS: &str = "#2b6cb0";
const OTHER: &str = "#a0aec0";
const OURS_LIGHT: &str = "#90cdf4";
const PEER: &str = "#dd6b20";

/// One bar.
struct Bar {
    label: String,
    value: f64,
    shown: String,
    colour: &'static str,
}

struct Panel {
    title: String,
    unit: &'static str,
    bars: Vec<Bar>,
    /// Why it is empty, if it is.
    empty: &'static str,
}

fn runs<'a>(data: &'a Data, file: &str) -> &'a [Value] {
    data.fact(file, "/runs")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text<'a>(run: &'a Value, key: &str) -> &'a str {
    run.get(key).and_then(Value::as_str).unwrap_or("")
}

fn number(run: &Value, key: &str) -> f64 {
    run.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// HTTP over loopback, requests/s at 64 connections (else the most).
fn http_throughput(data: &Data) -> Panel {
    let runs = runs(data, "http-socket");
    let conns = if runs.iter().any(|r| number(r, "connections") == 64.0) {
        64.0
    } else {
        16.0
    };
    let mut bars = Vec::new();
    for framework in ["axum", "actix"] {
        for (request, shown, colour) in [
            ("noop", "no-op JSON", OTHER),
            ("right", "verify, accepted", OURS),
            ("wrong", "verify, refused", OURS_LIGHT),
        ] {
            if let Some(r) = runs.iter().find(|r| {
                text(r, "framework") == framework
                    && text(r, "request") == request
                    && number(r, "connections") == conns
            }) {
                let value = crate::sections::counted_rate(r);
                let flag = if request == "right" && number(r, "reused") > 0.0 {
                    " (reused users)"
                } else {
                    ""
                };
                bars.push(Bar {
                    label: format!("{framework}: {shown}{flag}"),
                    value,
                    shown: int(value),
                    colour,
                });
            }
        }
    }
    Panel {
        title: format!("HTTP over loopback, MemoryStore: answers/s ({conns} connections)"),
        unit: "answers/s",
        bars,
        empty: "scripts/http-bench did not run",
    }
}

/// HTTP verify latency p50 and p99 over loopback, at 64 connections.
fn http_latency(data: &Data) -> Panel {
    let runs = runs(data, "http-socket");
    let conns = if runs.iter().any(|r| number(r, "connections") == 64.0) {
        64.0
    } else {
        16.0
    };
    let mut bars = Vec::new();
    for framework in ["axum", "actix"] {
        for request in ["noop", "right"] {
            if let Some(r) = runs.iter().find(|r| {
                text(r, "framework") == framework
                    && text(r, "request") == request
                    && number(r, "connections") == conns
            }) {
                let shown = if request == "noop" { "no-op" } else { "verify" };
                for (pct, key, colour) in [("p50", "p50_ms", OURS), ("p99", "p99_ms", OURS_LIGHT)] {
                    let value = number(r, key);
                    bars.push(Bar {
                        label: format!("{framework}: {shown} {pct}"),
                        value,
                        shown: format!("{} ms", significant(value)),
                        colour: if request == "noop" { OTHER } else { colour },
                    });
                }
            }
        }
    }
    Panel {
        title: format!("HTTP over loopback: latency, ms ({conns} connections)"),
        unit: "ms",
        bars,
        empty: "scripts/http-bench did not run",
    }
}

/// Sign-in latency per engine and population (criterion medians, µs).
fn engine_latency(data: &Data) -> Panel {
    let mut bars = Vec::new();
    for (engine, shown) in ENGINES {
        for count in SIZES {
            if let Some(ns) = data.ns(&format!("verify/{engine}/{count}-subjects")) {
                let us = ns / 1_000.0;
                bars.push(Bar {
                    label: format!(
                        "{shown}, {} subjects",
                        if count == 1_000 { "1k" } else { "1M" }
                    ),
                    value: us,
                    shown: format!("{} µs", significant(us)),
                    colour: if count == 1_000 { OURS } else { OURS_LIGHT },
                });
            }
        }
    }
    Panel {
        title: "Sign-in per engine: Mfa::verify, median µs".to_owned(),
        unit: "µs",
        bars,
        empty: "the store bench did not run",
    }
}

/// Accepted sign-ins/s (and wrong codes/s) on PostgreSQL: ours and django-otp.
fn peer(data: &Data) -> Panel {
    let runs = runs(data, "peer");
    let mut bars = Vec::new();
    for (system, shown) in [("mfa", "mfa"), ("django", "django-otp")] {
        for kind in ["right", "wrong"] {
            for conns in [16.0, 64.0] {
                if let Some(r) = runs.iter().find(|r| {
                    text(r, "system") == system
                        && text(r, "kind") == kind
                        && number(r, "connections") == conns
                }) {
                    let counted = if kind == "right" { "s200" } else { "s401" };
                    let value = number(r, counted) / number(r, "seconds").max(0.001);
                    bars.push(Bar {
                        label: format!("{shown}: {kind}, c{conns}"),
                        value,
                        shown: int(value),
                        colour: match (system, kind) {
                            ("mfa", "right") => OURS,
                            ("mfa", _) => OURS_LIGHT,
                            _ => PEER,
                        },
                    });
                }
            }
        }
    }
    Panel {
        title: "TOTP verify on PostgreSQL vs django-otp: codes answered/s".to_owned(),
        unit: "codes/s",
        bars,
        empty: "scripts/peer did not run",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn draw(out: &mut String, panel: &Panel, x: f64, y: f64) {
    let _ = writeln!(
        out,
        r##"<rect x="{x}" y="{y}" width="{PANEL_W}" height="{PANEL_H}" fill="#ffffff" stroke="#e2e8f0"/>"##
    );
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" font-size="15" font-weight="bold" fill="#1a202c">{}</text>"##,
        x + 12.0,
        y + 24.0,
        escape(&panel.title)
    );
    if panel.bars.is_empty() {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" font-size="14" fill="#718096">not measured: {}</text>"##,
            x + 12.0,
            y + PANEL_H / 2.0,
            escape(panel.empty)
        );
        return;
    }
    let max = panel
        .bars
        .iter()
        .map(|b| b.value)
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let area_top = y + 40.0;
    let row = ((PANEL_H - 56.0) / panel.bars.len() as f64).min(34.0);
    let bar_h = row * 0.7;
    let scale = (PANEL_W - LABEL_W - 90.0) / max;
    for (i, bar) in panel.bars.iter().enumerate() {
        let top = area_top + i as f64 * row;
        let width = (bar.value * scale).max(1.0);
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" font-size="12" fill="#2d3748" text-anchor="end">{}</text>"##,
            x + LABEL_W - 8.0,
            top + bar_h * 0.75,
            escape(&bar.label)
        );
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{top:.1}" width="{width:.1}" height="{bar_h:.1}" fill="{}"/>"##,
            x + LABEL_W,
            bar.colour
        );
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#1a202c">{}</text>"##,
            x + LABEL_W + width + 6.0,
            top + bar_h * 0.75,
            escape(&bar.shown)
        );
    }
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" font-size="11" fill="#718096" text-anchor="end">{}</text>"##,
        x + PANEL_W - 10.0,
        y + PANEL_H - 8.0,
        panel.unit
    );
}

/// The chart as SVG.
pub(crate) fn svg(data: &Data) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, sans-serif">"##
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#f7fafc"/>"##
    );
    let date = data.machine("date").unwrap_or("");
    let cpu = data.machine("cpu").unwrap_or("unknown CPU");
    let vcpus = data.machine("vcpus").unwrap_or("?");
    let _ = writeln!(
        out,
        r##"<text x="{GAP}" y="34" font-size="20" font-weight="bold" fill="#1a202c">mfa: verify throughput and latency per framework and per engine</text>"##
    );
    let _ = writeln!(
        out,
        r##"<text x="{}" y="34" font-size="12" fill="#4a5568" text-anchor="end">{} · {} vCPUs · {} · bash scripts/report</text>"##,
        WIDTH - GAP,
        escape(cpu),
        escape(vcpus),
        escape(date)
    );
    let panels = [
        http_throughput(data),
        peer(data),
        engine_latency(data),
        http_latency(data),
    ];
    for (i, panel) in panels.iter().enumerate() {
        let column = (i % 2) as f64;
        let line = (i / 2) as f64;
        draw(
            &mut out,
            panel,
            GAP / 2.0 + column * (PANEL_W + GAP),
            TOP + line * (PANEL_H + GAP),
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The fonts for the chart's text: DejaVu Sans (regular and bold) where
/// Debian puts it, else the first `.ttf` under the usual folders.
fn fonts() -> Vec<Vec<u8>> {
    let dejavu: Vec<Vec<u8>> = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"]
        .iter()
        .filter_map(|f| std::fs::read(format!("/usr/share/fonts/truetype/dejavu/{f}")).ok())
        .collect();
    if !dejavu.is_empty() {
        return dejavu;
    }
    fn find(dir: &std::path::Path, depth: u8) -> Option<std::path::PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("ttf"))
            {
                return Some(path);
            }
            if depth > 0
                && path.is_dir()
                && let Some(found) = find(&path, depth - 1)
            {
                return Some(found);
            }
        }
        None
    }
    ["/usr/share/fonts", "/usr/local/share/fonts"]
        .iter()
        .find_map(|d| find(std::path::Path::new(d), 4))
        .and_then(|p| std::fs::read(p).ok())
        .into_iter()
        .collect()
}

/// The chart as PNG.
pub(crate) fn png(svg: &str) -> Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    let fonts = fonts();
    if fonts.is_empty() {
        return Err(
            "no TrueType font for the chart's text (Debian: apt-get install fonts-dejavu-core)"
                .into(),
        );
    }
    for bytes in fonts {
        options.fontdb_mut().load_font_data(bytes);
    }
    if let Some(face) = options.fontdb.faces().next()
        && let Some((family, _)) = face.families.first()
    {
        options.font_family = family.clone();
    }
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("chart SVG: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("chart size")?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    // Opaque background: premultiplied RGBA is plain RGBA.
    let mut encoded = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut encoded, size.width(), size.height());
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| format!("chart PNG: {e}"))?;
        writer
            .write_image_data(pixmap.data())
            .map_err(|e| format!("chart PNG: {e}"))?;
    }
    Ok(encoded)
}
