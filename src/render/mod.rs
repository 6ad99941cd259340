//! Pictures of a result: overlays, an animated GIF, the lineage forest, precision–recall and count plots, and a one-file HTML report.
//!
//! Each family of pictures is a plain function over images and records:
//! [`colour`] (a stable colour per track, grey levels for display),
//! [`overlay`] (outlines, labels, division marks, misses and false cells),
//! [`gif`] (the animated sequence), [`lineage`] (layout and drawing of the
//! lineage forest), [`plots`] (PR-versus-IoU and cell counts), [`report`]
//! (the HTML page). [`frames`] streams a result folder with its raw frames and
//! truth one time point at a time through them, and [`command`] wires the
//! `render` and `report` subcommands.
//!
//! Charts and text are drawn with plotters; text uses DejaVu Sans, shipped in
//! `assets/fonts/` (licence beside it), so the pictures need no system fonts.
pub mod colour;
pub mod command;
pub mod frames;
pub mod gif;
pub mod lineage;
pub mod overlay;
pub mod plots;
pub mod report;
pub mod text;

use std::sync::Once;

use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;

pub use command::{render_command, report_command, RenderArgs, ReportArgs};

/// The font family every picture's text uses.
pub const FONT: &str = "sans-serif";

pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers DejaVu Sans with plotters as [`FONT`] (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_err() {
            panic!("the bundled DejaVu Sans font does not parse");
        }
    });
}

/// A drawing error of any plotters backend, as text.
pub type DrawResult = std::result::Result<(), String>;

/// Converts a plotters error into [`DrawResult`]'s error.
pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draws a picture of `w`×`h` pixels on a white RGB bitmap with `draw`
/// (text by [`text::GlyphText`]).
pub fn draw_bitmap(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<text::GlyphText<BitMapBackend<'_>>, Shift>) -> DrawResult,
) -> std::result::Result<RgbImage, String> {
    register_font();
    let mut img = RgbImage::new(w, h);
    {
        let root = text::GlyphText(BitMapBackend::with_buffer(img.as_mut(), (w, h))).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    Ok(img)
}

/// Draws a picture of `w`×`h` pixels as an SVG document with `draw`.
pub fn draw_svg(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
) -> std::result::Result<String, String> {
    register_font();
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    Ok(text)
}

/// Encodes an RGB image as PNG bytes (fast deflate: overlays are many and large).
pub fn png_bytes(img: &RgbImage) -> Vec<u8> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::ImageEncoder;
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .expect("PNG encoding into memory cannot fail");
    out
}
