//! The QR codes we draw decode, with an independent decoder (rqrr), to the
//! exact URI. The SVG is rasterised by resvg, a full SVG renderer, so the
//! check covers our path syntax as a browser would read it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use mfa_core::otp::{Algorithm, Digits, TotpConfig};
use mfa_core::{KeyUri, Secret, qr};

fn uris() -> Vec<String> {
    let config = TotpConfig::new(Algorithm::Sha512, Digits::EIGHT, 60).unwrap();
    vec![
        KeyUri::totp(
            Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(),
            Some("Service Desk"),
            "alice@example.com",
            &TotpConfig::default(),
        )
        .unwrap()
        .to_uri()
        .to_string(),
        KeyUri::totp(
            Secret::generate_len(64).unwrap(),
            Some("Dépôt: Help/Desk"),
            "very.long.agent.name+mfa@support.example.co.uk",
            &config,
        )
        .unwrap()
        .to_uri()
        .to_string(),
    ]
}

fn decode_luma(width: usize, height: usize, luma: impl Fn(usize, usize) -> u8) -> String {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code in the image");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    content
}

#[test]
fn svg_decodes_to_the_exact_uri() {
    for uri in uris() {
        let svg = qr::svg(&uri).unwrap();
        assert!(svg.len() <= 10 * 1024, "{} bytes", svg.len());
        let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).unwrap();
        let size = tree.size().to_int_size();
        let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
        resvg::render(
            &tree,
            resvg::tiny_skia::Transform::default(),
            &mut pixmap.as_mut(),
        );
        let width = pixmap.width() as usize;
        let pixels = pixmap.data();
        let decoded = decode_luma(width, pixmap.height() as usize, |x, y| {
            // RGBA; the image is black on white, so red is the luminance.
            pixels[(y * width + x) * 4]
        });
        assert_eq!(decoded, uri);
    }
}

#[cfg(feature = "png")]
#[test]
fn png_decodes_to_the_exact_uri() {
    for uri in uris() {
        for scale in [2, 4] {
            let bytes = qr::png(&uri, scale).unwrap();
            let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
            let mut reader = decoder.read_info().unwrap();
            let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buffer).unwrap();
            assert_eq!(info.color_type, png::ColorType::Grayscale);
            assert_eq!(info.bit_depth, png::BitDepth::One);
            let (width, height) = (info.width as usize, info.height as usize);
            let stride = info.line_size;
            let decoded = decode_luma(width, height, |x, y| {
                let bit = buffer[y * stride + x / 8] & (0x80 >> (x % 8));
                if bit == 0 { 0 } else { 255 }
            });
            assert_eq!(decoded, uri);
        }
        let data_uri = qr::png_data_uri(&uri, 4).unwrap();
        assert!(data_uri.starts_with("data:image/png;base64,iVBORw0KGgo"));
    }
}
