//! How figures are written in the report.

/// A duration given in nanoseconds, with three significant digits:
/// `340.8 ns`, `3.20 µs`, `898 µs`, `1.02 ms`.
pub(crate) fn time(ns: f64) -> String {
    let (value, unit) = if ns < 1_000.0 {
        (ns, "ns")
    } else if ns < 1_000_000.0 {
        (ns / 1_000.0, "µs")
    } else if ns < 1_000_000_000.0 {
        (ns / 1_000_000.0, "ms")
    } else {
        (ns / 1_000_000_000.0, "s")
    };
    format!("{} {unit}", significant(value))
}

/// Three significant digits (one decimal at least below 1,000).
pub(crate) fn significant(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// A whole number with thousands separators: `16,000`.
pub(crate) fn int(value: f64) -> String {
    let rounded = value.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// A ratio: `1.30×`.
pub(crate) fn ratio(value: f64) -> String {
    format!("{value:.2}×")
}

/// Milliseconds: `12.5 ms`.
pub(crate) fn ms(value: f64) -> String {
    format!("{} ms", significant(value))
}

/// The smallest and largest of `values` as `a–b` (or `a` when equal),
/// each written by `show`.
pub(crate) fn range(values: &[f64], show: impl Fn(f64) -> String) -> String {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.is_empty() {
        String::from("—")
    } else if show(low) == show(high) {
        show(low)
    } else {
        format!("{}–{}", show(low), show(high))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures() {
        assert_eq!(time(340.84), "341 ns");
        assert_eq!(time(3_204.0), "3.20 µs");
        assert_eq!(time(898_000.0), "898 µs");
        assert_eq!(time(1_020_000.0), "1.02 ms");
        assert_eq!(int(16_000.0), "16,000");
        assert_eq!(int(999.4), "999");
        assert_eq!(int(1_234_567.0), "1,234,567");
        assert_eq!(ratio(1.304), "1.30×");
        assert_eq!(range(&[1.0, 2.0], ratio), "1.00×–2.00×");
        assert_eq!(range(&[], ratio), "—");
    }
}
