//! Text on bitmap pictures: the bundled font's glyphs placed by their advances, kerning and side bearings, rasterised with ab_glyph.
//!
//! plotters 0.3.7 draws ab_glyph text without each glyph's left side
//! bearing (a "10" reads "1 0"); [`GlyphText`] wraps any backend and draws
//! text itself, passing everything else through.
use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(super::FONT_BYTES).expect("the bundled DejaVu Sans font parses"))
}

/// Lays out `text` at `size` px (ascent − descent = `size`, as plotters
/// sizes fonts) from the origin with the baseline at the ascent, calling
/// `pixel(x, y, coverage)` for every covered pixel; returns (width, height).
pub fn layout_text(text: &str, size: f32, mut pixel: impl FnMut(i32, i32, f32)) -> (u32, u32) {
    let f = font().as_scaled(PxScale::from(size));
    let mut x = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            x += f.kern(p, id);
        }
        let glyph = id.with_scale_and_position(f.scale(), point(x, f.ascent()));
        if let Some(o) = f.outline_glyph(glyph) {
            let b = o.px_bounds();
            o.draw(|gx, gy, cov| pixel(b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32, cov));
        }
        x += f.h_advance(id);
        prev = Some(id);
    }
    (x.ceil() as u32, (f.ascent() - f.descent()).ceil() as u32)
}

/// A backend whose text is drawn by [`layout_text`]; all else goes to `B`.
pub struct GlyphText<B>(pub B);

impl<B: DrawingBackend> DrawingBackend for GlyphText<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }
    fn draw_pixel(&mut self, p: BackendCoord, c: BackendColor) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(&mut self, a: BackendCoord, b: BackendCoord, s: &S) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(a, b, s)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(a, b, s, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, s)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        c: BackendCoord,
        r: u32,
        s: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(c, r, s, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        s: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, s)
    }
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(&self, text: &str, style: &S) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        Ok(layout_text(text, style.size() as f32, |_, _, _| {}))
    }

    fn draw_text<S: BackendTextStyle>(&mut self, text: &str, style: &S, pos: BackendCoord) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        let mut pixels = Vec::new();
        let (w, h) = layout_text(text, style.size() as f32, |x, y, c| pixels.push((x, y, c)));
        let (w, h) = (w as i32, h as i32);
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0,
            HPos::Center => -w / 2,
            HPos::Right => -w,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let (iw, ih) = self.get_size();
        let turn = style.transform();
        for (x, y, cov) in pixels {
            let (x, y) = turn.transform(x + dx, y + dy);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if cov > 0.0 && x >= 0 && y >= 0 && x < iw as i32 && y < ih as i32 {
                let c = BackendColor { alpha: colour.alpha * f64::from(cov.min(1.0)), rgb: colour.rgb };
                self.0.draw_pixel((x, y), c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns of `text` holding ink, at `size` px.
    fn ink_columns(text: &str, size: f32) -> Vec<bool> {
        let mut cols = vec![false; 200];
        layout_text(text, size, |x, _, c| {
            if c > 0.3 {
                cols[x as usize] = true;
            }
        });
        cols
    }

    /// Widest run of empty columns between the first and last inked column.
    fn widest_gap(cols: &[bool]) -> usize {
        let first = cols.iter().position(|&c| c).unwrap();
        let last = cols.iter().rposition(|&c| c).unwrap();
        cols[first..=last].split(|&c| c).map(<[bool]>::len).max().unwrap_or(0)
    }

    #[test]
    fn digits_sit_together() {
        // "10" must not read "1 0": the gap between the digits is at most
        // what it is in "40" (where plotters' own ab_glyph text was right).
        let g10 = widest_gap(&ink_columns("10", 20.0));
        let g40 = widest_gap(&ink_columns("40", 20.0));
        assert!(g10 <= g40 + 1, "gap in \"10\" {g10} px, in \"40\" {g40} px");
        let (w, h) = layout_text("10", 20.0, |_, _, _| {});
        assert!((18..=28).contains(&w) && (19..=21).contains(&h), "{w}×{h}");
    }
}
