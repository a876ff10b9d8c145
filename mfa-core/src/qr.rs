//! QR codes for `otpauth://` URIs.
//!
//! [`svg`] draws the whole code as *one* `<path>` (a one-module-thick
//! stroke per horizontal run of dark modules, with relative moves), which keeps a typical
//! enrollment code to a few kilobytes and a few dozen microseconds. With the
//! `png` feature, [`png()`] and [`png_data_uri()`] give a 1-bit PNG for places
//! that cannot show SVG (e-mail clients).
//!
//! The codes use error-correction level M and the 4-module quiet zone the
//! QR standard requires.
//!
//! # Security
//! The image encodes the URI, secret included: the strings and buffers
//! returned here are zeroized on drop. The QR encoder's own scratch buffers
//! are not under our control.
//!
//! ```
//! let svg = mfa_core::qr::svg("otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME")?;
//! assert!(svg.starts_with("<svg"));
//! assert_eq!(svg.matches("<path").count(), 1);
//! # Ok::<(), mfa_core::Error>(())
//! ```

use core::fmt::Write as _;

use fast_qr::{ECL, QRBuilder};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Light modules around the code, as the QR standard requires.
pub const QUIET_ZONE: usize = 4;
/// Pixels per module in the SVG's default `width`/`height` (CSS may
/// override them; the `viewBox` keeps it sharp at any size).
pub const SVG_MODULE_PX: usize = 5;

/// The module matrix, row by row, `true` for dark.
struct Matrix {
    width: usize,
    dark: Zeroizing<Vec<bool>>,
}

impl Matrix {
    fn encode(text: &str) -> Result<Self> {
        let code = QRBuilder::new(text)
            .ecl(ECL::M)
            .build()
            .map_err(Error::QrTooLong)?;
        let width = code.size;
        Ok(Self {
            width,
            dark: Zeroizing::new(
                code.data
                    .iter()
                    .take(width * width)
                    .map(|module| module.value())
                    .collect(),
            ),
        })
    }

    fn rows(&self) -> impl Iterator<Item = &[bool]> {
        self.dark.chunks(self.width.max(1))
    }
}

/// Renders `text` (normally an `otpauth://` URI) as an SVG document string.
///
/// The SVG has a white background `rect`, one black stroked `path`, a `viewBox`
/// in module units including the quiet zone, default `width`/`height` of
/// [`SVG_MODULE_PX`] pixels per module, `shape-rendering="crispEdges"` and
/// an accessible name.
///
/// # Errors
/// [`Error::QrTooLong`] if `text` does not fit in the largest QR code.
pub fn svg(text: &str) -> Result<Zeroizing<String>> {
    let matrix = Matrix::encode(text)?;
    let size = matrix.width + 2 * QUIET_ZONE;
    let px = size * SVG_MODULE_PX;
    // About 8 bytes per run; a run starts at most every other module.
    let mut out = Zeroizing::new(String::with_capacity(300 + matrix.width * matrix.width * 4));
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\" role=\"img\" \
         aria-label=\"QR code for your authenticator app\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"none\" stroke=\"#000\" d=\""
    );
    // Each run of dark modules is one horizontal stroke, one module thick,
    // along the middle of its row: `m dx dy h len`. Moves are relative to
    // the end of the previous run; the first `m` of a path is absolute
    // (SVG 1.1 §8.3.2), and carries the half-module offset every later
    // move inherits.
    let (mut pen_x, mut pen_y) = (0isize, 0isize);
    let mut first = true;
    for (y, row) in matrix.rows().enumerate() {
        let mut x = 0;
        while x < row.len() {
            if !row.get(x).copied().unwrap_or(false) {
                x += 1;
                continue;
            }
            let start = x;
            while row.get(x).copied().unwrap_or(false) {
                x += 1;
            }
            let (run_x, run_y) = (signed(start + QUIET_ZONE), signed(y + QUIET_ZONE));
            let len = x - start;
            let half = if first { ".5" } else { "" };
            let _ = write!(out, "m{} {}{half}h{len}", run_x - pen_x, run_y - pen_y);
            first = false;
            (pen_x, pen_y) = (run_x + signed(len), run_y);
        }
    }
    out.push_str("\"/></svg>");
    Ok(out)
}

fn signed(n: usize) -> isize {
    // QR codes are at most 177 modules wide.
    isize::try_from(n).unwrap_or(isize::MAX)
}

/// Renders `text` as a 1-bit grayscale PNG, `scale` pixels per module
/// (clamped to 1..=32), quiet zone included.
///
/// # Errors
/// [`Error::QrTooLong`] if `text` does not fit; [`Error::Png`] if encoding
/// fails.
#[cfg(feature = "png")]
pub fn png(text: &str, scale: u32) -> Result<Zeroizing<Vec<u8>>> {
    let matrix = Matrix::encode(text)?;
    let scale = usize::try_from(scale.clamp(1, 32)).unwrap_or(1);
    let side = (matrix.width + 2 * QUIET_ZONE) * scale;
    let row_bytes = side.div_ceil(8);
    // White (1) everywhere, then clear the bits of dark modules.
    let mut pixels = Zeroizing::new(vec![0xffu8; row_bytes * side]);
    for (y, row) in matrix.rows().enumerate() {
        for (x, _) in row.iter().enumerate().filter(|(_, dark)| **dark) {
            for py in (y + QUIET_ZONE) * scale..(y + QUIET_ZONE + 1) * scale {
                for px in (x + QUIET_ZONE) * scale..(x + QUIET_ZONE + 1) * scale {
                    if let Some(byte) = pixels.get_mut(py * row_bytes + px / 8) {
                        *byte &= !(0x80 >> (px % 8));
                    }
                }
            }
        }
    }
    let side32 = u32::try_from(side).unwrap_or(u32::MAX);
    let mut out = Zeroizing::new(Vec::with_capacity(pixels.len() / 4 + 128));
    {
        let mut encoder = ::png::Encoder::new(&mut *out, side32, side32);
        encoder.set_color(::png::ColorType::Grayscale);
        encoder.set_depth(::png::BitDepth::One);
        let mut writer = encoder.write_header().map_err(Error::Png)?;
        writer.write_image_data(&pixels).map_err(Error::Png)?;
        writer.finish().map_err(Error::Png)?;
    }
    Ok(out)
}

/// The PNG of [`png()`] as a `data:image/png;base64,…` URI for an `<img src>`.
///
/// # Errors
/// As [`png()`].
#[cfg(feature = "png")]
pub fn png_data_uri(text: &str, scale: u32) -> Result<Zeroizing<String>> {
    const PREFIX: &str = "data:image/png;base64,";
    let bytes = png(text, scale)?;
    // Sized once so no reallocation leaves a copy behind.
    let mut out = Zeroizing::new(String::with_capacity(
        PREFIX.len() + bytes.len().div_ceil(3) * 4,
    ));
    out.push_str(PREFIX);
    crate::encoding::base64_encode_into(&mut out, &bytes);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "otpauth://totp/Service%20Desk:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Service%20Desk";

    #[test]
    fn svg_is_one_compact_path() {
        let svg = svg(URI).unwrap();
        assert_eq!(svg.matches("<path").count(), 1);
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(svg.len() <= 10 * 1024, "{} bytes", svg.len());
        assert!(svg.ends_with("\"/></svg>"));
    }

    #[test]
    fn text_too_long_for_any_qr_code_is_an_error() {
        assert!(matches!(svg(&"x".repeat(5000)), Err(Error::QrTooLong(_))));
    }
}
