//! Overlays: a frame with each cell's outline in its track's colour, its label, division marks, the misses and false cells found against truth, and a prediction beside its truth.
use std::collections::HashSet;

use image::{Rgb, RgbImage};
use ndarray::Array2;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::colour::track_colour;
use super::text::GlyphText;
use super::{draw_err, register_font, DrawResult, FONT};
use crate::ctc::Mask;
use crate::eval::{match_objects, FrameMatch, Overlap};
use crate::measure::ObjectStats;

/// Red: misses and false cells (track colours keep clear of it).
pub const ERROR_RED: Rgb<u8> = Rgb([255, 32, 32]);
/// White: division marks.
pub const DIVISION_WHITE: Rgb<u8> = Rgb([255, 255, 255]);

/// The inner boundary of every labelled object: pixels with a label whose
/// 4-neighbour has another label, or lies outside the image (scikit-image's
/// `find_boundaries(mode="inner")`, connectivity 1).
///
/// ```
/// use cellstream::render::overlay::outline;
/// use ndarray::array;
/// let m = array![[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]];
/// let o = outline(&m);
/// assert!(o[[1, 1]] && o[[1, 2]] && !o[[2, 2]] && !o[[0, 0]]);
/// ```
pub fn outline(mask: &Mask) -> Array2<bool> {
    let (h, w) = mask.dim();
    Array2::from_shape_fn((h, w), |(y, x)| {
        let l = mask[[y, x]];
        l != 0
            && (y == 0
                || x == 0
                || y + 1 == h
                || x + 1 == w
                || mask[[y - 1, x]] != l
                || mask[[y + 1, x]] != l
                || mask[[y, x - 1]] != l
                || mask[[y, x + 1]] != l)
    })
}

/// How a result frame compares with its truth: which truth objects have no
/// result object (misses) and which result objects have no truth object
/// (false cells).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Comparison {
    /// Labels of missed truth objects, increasing.
    pub misses: Vec<u32>,
    /// Labels of false result objects, increasing.
    pub false_cells: Vec<u32>,
}

/// How truth and result objects are paired for [`compare`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MatchRule {
    /// One-to-one matching with IoU above the threshold, as the object
    /// precision and recall ([`match_objects`]); for segmentation truth.
    Iou(f64),
    /// The CTC detection rule (a result object covers more than half of the
    /// truth object; [`FrameMatch`]); for tracking truth, whose objects may be
    /// markers smaller than the cells.
    Ctc,
}

/// Finds the misses and false cells of one frame from its overlap table.
///
/// ```
/// use cellstream::eval::Overlap;
/// use cellstream::render::overlay::{compare, MatchRule};
/// use ndarray::array;
/// let truth = array![[1, 1, 0, 2, 2, 0]];
/// let result = array![[5, 5, 0, 0, 0, 6]];
/// let c = compare(&Overlap::count(&truth, &result), MatchRule::Iou(0.5));
/// assert_eq!((c.misses, c.false_cells), (vec![2], vec![6]));
/// ```
pub fn compare(o: &Overlap, rule: MatchRule) -> Comparison {
    let (truth_hit, result_hit): (HashSet<u32>, HashSet<u32>) = match rule {
        MatchRule::Iou(t) => match_objects(o, t)
            .into_iter()
            .map(|(i, j, _)| (o.truth[i].label, o.result[j].label))
            .unzip(),
        MatchRule::Ctc => FrameMatch::from_overlap(o).pairs.into_iter().unzip(),
    };
    Comparison {
        misses: o.truth_labels().into_iter().filter(|l| !truth_hit.contains(l)).collect(),
        false_cells: o.result_labels().into_iter().filter(|l| !result_hit.contains(l)).collect(),
    }
}

/// What to draw on one frame besides the outlines.
#[derive(Debug, Clone, Default)]
pub struct Marks<'a> {
    /// The cells of the result mask (label, area, centroid).
    pub cells: &'a [ObjectStats],
    /// Labels of tracks that begin in this frame as daughters of a division.
    pub divisions: HashSet<u32>,
    /// The truth mask of this frame and how the result compares with it.
    pub truth: Option<(&'a Mask, &'a Comparison)>,
}

/// How an overlay looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverlayStyle {
    /// Draw each cell's track label at its centroid.
    pub labels: bool,
    /// Tint each cell with its track colour at this opacity (0: outlines only);
    /// useful without a raw frame.
    pub fill: f32,
    /// Text height of the labels, in pixels.
    pub font_px: u32,
}

impl OverlayStyle {
    /// Labels sized for cells of `median_area` pixels: half the diameter of
    /// a disk of that area, between 10 and 18 px, so that labels of
    /// neighbouring cells rarely overlap.
    ///
    /// ```
    /// use cellstream::render::overlay::OverlayStyle;
    /// assert_eq!(OverlayStyle::for_cells(424.0).font_px, 12); // 23 px cells
    /// assert_eq!(OverlayStyle::for_cells(0.0).font_px, 10);
    /// ```
    pub fn for_cells(median_area: f64) -> OverlayStyle {
        let diameter = 2.0 * (median_area.max(0.0) / std::f64::consts::PI).sqrt();
        OverlayStyle { labels: true, fill: 0.0, font_px: (diameter * 0.5).round().clamp(10.0, 18.0) as u32 }
    }
}

fn blend(p: &mut Rgb<u8>, c: Rgb<u8>, alpha: f32) {
    for k in 0..3 {
        p.0[k] = (f32::from(p.0[k]) * (1.0 - alpha) + f32::from(c.0[k]) * alpha).round() as u8;
    }
}

/// Draws the overlay of one frame onto `base` (the raw frame in grey, or a
/// black image): cell outlines in their track's colour ([`track_colour`]),
/// false cells tinted red, missed truth objects as dashed red outlines,
/// a white ring around each daughter in the frame where its track begins, and
/// the track labels in white with a black shadow.
///
/// # Panics
/// If `base`, the mask and the truth mask differ in size.
pub fn draw_overlay(base: &mut RgbImage, mask: &Mask, marks: &Marks, style: &OverlayStyle) -> DrawResult {
    let (h, w) = mask.dim();
    assert_eq!((base.width() as usize, base.height() as usize), (w, h), "overlay base and mask differ in size");
    let false_cells: HashSet<u32> = marks.truth.map(|t| t.1.false_cells.iter().copied().collect()).unwrap_or_default();
    if style.fill > 0.0 || !false_cells.is_empty() {
        for ((y, x), &l) in mask.indexed_iter() {
            if l == 0 {
                continue;
            }
            let p = base.get_pixel_mut(x as u32, y as u32);
            if false_cells.contains(&l) {
                blend(p, ERROR_RED, 0.45);
            } else if style.fill > 0.0 {
                blend(p, track_colour(l, 1.0), style.fill);
            }
        }
    }
    for ((y, x), &edge) in outline(mask).indexed_iter() {
        if edge {
            base.put_pixel(x as u32, y as u32, track_colour(mask[[y, x]], 1.0));
        }
    }
    if let Some((truth, cmp)) = marks.truth {
        assert_eq!(truth.dim(), mask.dim(), "truth and result masks differ in size");
        let missed: HashSet<u32> = cmp.misses.iter().copied().collect();
        if !missed.is_empty() {
            for ((y, x), &edge) in outline(truth).indexed_iter() {
                // Dashes of 3 pixels along both diagonals.
                if edge && missed.contains(&truth[[y, x]]) && ((x + y) / 3) % 2 == 0 {
                    base.put_pixel(x as u32, y as u32, ERROR_RED);
                }
            }
        }
    }
    if marks.divisions.is_empty() && !style.labels {
        return Ok(());
    }
    register_font();
    let root = GlyphText(BitMapBackend::with_buffer(base.as_mut(), (w as u32, h as u32))).into_drawing_area();
    let ring = ShapeStyle { color: RGBColor(255, 255, 255).to_rgba(), filled: false, stroke_width: 2 };
    for c in marks.cells.iter().filter(|c| marks.divisions.contains(&c.label)) {
        let r = (c.area as f64 / std::f64::consts::PI).sqrt() + 4.0;
        root.draw(&Circle::new((c.x.round() as i32, c.y.round() as i32), r.round() as i32, ring)).map_err(draw_err)?;
    }
    if style.labels {
        let font = (FONT, style.font_px as f64).into_font();
        let pos = Pos::new(HPos::Center, VPos::Center);
        let shadow = font.clone().color(&BLACK).pos(pos);
        let text = font.color(&WHITE).pos(pos);
        for c in marks.cells {
            let (x, y) = (c.x.round() as i32, c.y.round() as i32);
            let s = c.label.to_string();
            root.draw_text(&s, &shadow, (x + 1, y + 1)).map_err(draw_err)?;
            root.draw_text(&s, &text, (x, y)).map_err(draw_err)?;
        }
    }
    root.present().map_err(draw_err)?;
    Ok(())
}

/// Side of the smallest panel [`draw_side_by_side`] shows: smaller frames are
/// enlarged by a whole factor (nearest neighbour) until they reach it.
pub const PANEL_MIN_SIDE: u32 = 256;

/// A prediction beside its truth, for watching a network learn: on the left
/// `grey` with the predicted cells' outlines in their label colours, the
/// false cells tinted red and the missed truth cells dashed in red (one-to-one
/// matching at IoU 0.5, [`compare`]); on the right `grey` with the truth
/// outlines. `caption` is written above; both panels are enlarged by the
/// same whole factor to at least [`PANEL_MIN_SIDE`] pixels on their longer side.
///
/// # Panics
/// If `grey`, `prediction` and `truth` differ in size.
pub fn draw_side_by_side(grey: &RgbImage, prediction: &Mask, truth: &Mask, caption: &str) -> std::result::Result<RgbImage, String> {
    let (w, h) = grey.dimensions();
    assert_eq!(truth.dim(), prediction.dim(), "truth and prediction differ in size");
    let cmp = compare(&Overlap::count(truth, prediction), MatchRule::Iou(0.5));
    let style = OverlayStyle { labels: false, fill: 0.0, font_px: 12 };
    let mut left = grey.clone();
    draw_overlay(&mut left, prediction, &Marks { truth: Some((truth, &cmp)), ..Default::default() }, &style)?;
    let mut right = grey.clone();
    draw_overlay(&mut right, truth, &Marks::default(), &style)?;

    let scale = (PANEL_MIN_SIDE / w.max(h).max(1)).max(1);
    let (pw, ph) = (w * scale, h * scale);
    let enlarge = |img: &RgbImage| image::imageops::resize(img, pw, ph, image::imageops::FilterType::Nearest);
    const GAP: u32 = 8;
    const HEADER: u32 = 46;
    let mut canvas = RgbImage::from_pixel(2 * pw + GAP, ph + HEADER, Rgb([255, 255, 255]));
    image::imageops::replace(&mut canvas, &enlarge(&left), 0, i64::from(HEADER));
    image::imageops::replace(&mut canvas, &enlarge(&right), i64::from(pw + GAP), i64::from(HEADER));

    register_font();
    let (cw, ch) = canvas.dimensions();
    let root = GlyphText(BitMapBackend::with_buffer(canvas.as_mut(), (cw, ch))).into_drawing_area();
    let text = (FONT, 14.0).into_font().color(&BLACK);
    root.draw_text(caption, &text, (4, 4)).map_err(draw_err)?;
    let small = (FONT, 12.0).into_font().color(&RGBColor(60, 60, 60));
    let missed = if cmp.misses.is_empty() { String::new() } else { format!(", {} missed (dashed)", cmp.misses.len()) };
    let false_cells = if cmp.false_cells.is_empty() { String::new() } else { format!(", {} false (red)", cmp.false_cells.len()) };
    root.draw_text(&format!("prediction{missed}{false_cells}"), &small, (4, 26)).map_err(draw_err)?;
    root.draw_text("truth", &small, ((pw + GAP) as i32 + 4, 26)).map_err(draw_err)?;
    root.present().map_err(draw_err)?;
    drop(root);
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::measure_frame;
    use ndarray::array;

    #[test]
    fn outline_of_a_square_and_two_touching_cells() {
        let m: Mask = array![
            [0, 0, 0, 0, 0],
            [0, 1, 1, 1, 0],
            [0, 1, 1, 1, 0],
            [0, 1, 1, 1, 0],
            [0, 0, 0, 0, 0],
        ];
        let o = outline(&m).mapv(u8::from);
        assert_eq!(
            o,
            array![
                [0, 0, 0, 0, 0],
                [0, 1, 1, 1, 0],
                [0, 1, 0, 1, 0],
                [0, 1, 1, 1, 0],
                [0, 0, 0, 0, 0],
            ]
        );
        // Touching cells each keep their own edge; the image border is an edge.
        let m: Mask = array![[1, 1, 2, 2], [1, 1, 2, 2]];
        assert_eq!(outline(&m).mapv(u8::from), array![[1, 1, 1, 1], [1, 1, 1, 1]]);
        let m: Mask = array![[3, 3, 3], [3, 3, 3], [3, 3, 3]];
        assert_eq!(outline(&m).iter().filter(|&&e| !e).count(), 1);
    }

    #[test]
    fn ctc_rule_accepts_small_markers() {
        // The truth marker 1 lies inside result cell 5: a CTC match, but an IoU of 0.25.
        let truth: Mask = array![[0, 1, 0, 0]];
        let result: Mask = array![[5, 5, 5, 5]];
        let o = Overlap::count(&truth, &result);
        assert_eq!(compare(&o, MatchRule::Ctc), Comparison::default());
        assert_eq!(compare(&o, MatchRule::Iou(0.5)), Comparison { misses: vec![1], false_cells: vec![5] });
    }

    #[test]
    fn overlay_draws_outlines_misses_false_cells_and_divisions() {
        // Result: cell 4 (3×3, top left) matches truth 1; cell 9 (bottom right) is false;
        // truth 2 (right column, rows 0..4) is missed.
        let mut mask: Mask = Array2::zeros((12, 12));
        let mut truth: Mask = Array2::zeros((12, 12));
        for y in 1..4 {
            for x in 1..4 {
                mask[[y, x]] = 4;
                truth[[y, x]] = 1;
            }
        }
        for y in 0..5 {
            truth[[y, 11]] = 2;
        }
        for y in 8..11 {
            for x in 8..11 {
                mask[[y, x]] = 9;
            }
        }
        let cmp = compare(&Overlap::count(&truth, &mask), MatchRule::Iou(0.5));
        assert_eq!(cmp, Comparison { misses: vec![2], false_cells: vec![9] });
        let (_, cells) = measure_frame(0, &mask);
        let marks = Marks { cells: &cells, divisions: [4].into(), truth: Some((&truth, &cmp)) };
        let mut img = RgbImage::new(12, 12);
        let style = OverlayStyle { labels: false, fill: 0.0, font_px: 11 };
        draw_overlay(&mut img, &mask, &marks, &style).unwrap();
        assert_eq!(*img.get_pixel(1, 1), track_colour(4, 1.0), "outline in the track colour");
        assert_eq!(*img.get_pixel(8, 8), track_colour(9, 1.0), "false cell keeps its outline");
        let centre = img.get_pixel(9, 9);
        assert!(centre.0[0] > 100 && centre.0[1] < 30, "false cell tinted red: {centre:?}");
        // Dashes: (x + y) / 3 even is drawn, so rows 1–3 of column 11 but not rows 0 and 4.
        assert_eq!(*img.get_pixel(11, 1), ERROR_RED, "miss dashed in red");
        assert_eq!(*img.get_pixel(11, 3), ERROR_RED);
        assert_eq!(*img.get_pixel(11, 0), Rgb([0, 0, 0]), "a gap between dashes");
        assert_eq!(*img.get_pixel(11, 4), Rgb([0, 0, 0]));
        let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
        assert!(white > 10, "a white division ring is drawn: {white} white pixels");
    }

    #[test]
    fn labels_are_drawn_legibly() {
        let mut mask: Mask = Array2::zeros((40, 60));
        for y in 5..35 {
            for x in 10..50 {
                mask[[y, x]] = 17;
            }
        }
        let (_, cells) = measure_frame(0, &mask);
        let marks = Marks { cells: &cells, ..Default::default() };
        let mut img = RgbImage::new(60, 40);
        draw_overlay(&mut img, &mask, &marks, &OverlayStyle { labels: true, fill: 0.0, font_px: 14 }).unwrap();
        // White glyph pixels near the centroid (29.5, 19.5), inside the cell.
        let text: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(x, y, p)| p.0.iter().all(|&c| c > 120) && (11..49).contains(x) && (6..34).contains(y))
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(text.len() > 15, "label \"17\" drawn: {} light pixels", text.len());
        let (xs, ys): (Vec<u32>, Vec<u32>) = text.into_iter().unzip();
        let (x0, x1) = (*xs.iter().min().unwrap(), *xs.iter().max().unwrap());
        let (y0, y1) = (*ys.iter().min().unwrap(), *ys.iter().max().unwrap());
        assert!(x0 < 30 && x1 > 29 && y0 < 24 && y1 > 15, "text centred on the cell: x {x0}..{x1}, y {y0}..{y1}");
        assert!((6..=16).contains(&(y1 - y0)), "about 10 px tall digits at 14 px: {}", y1 - y0);
    }

    #[test]
    fn side_by_side_shows_prediction_and_truth_enlarged_with_a_caption() {
        // Truth: cells 1 and 2; prediction finds cell 1 (as label 7) and a false cell 8.
        let mut truth: Mask = Array2::zeros((20, 32));
        let mut pred: Mask = Array2::zeros((20, 32));
        for y in 2..8 {
            for x in 2..8 {
                truth[[y, x]] = 1;
                pred[[y, x]] = 7;
            }
            for x in 20..26 {
                truth[[y, x]] = 2;
            }
        }
        for y in 12..18 {
            for x in 12..18 {
                pred[[y, x]] = 8;
            }
        }
        let grey = RgbImage::from_pixel(32, 20, Rgb([90, 90, 90]));
        let img = draw_side_by_side(&grey, &pred, &truth, "epoch 3  validation SEG 0.500").unwrap();
        // 32 px wide: enlarged 8× to 256 px; two panels, a gap and the header.
        assert_eq!(img.dimensions(), (2 * 256 + 8, 160 + 46));
        let at = |panel: u32, x: u32, y: u32| *img.get_pixel(panel * (256 + 8) + x * 8 + 3, 46 + y * 8 + 3);
        assert_eq!(at(0, 2, 2), track_colour(7, 1.0), "predicted outline in its colour");
        assert_eq!(at(0, 4, 4), Rgb([90, 90, 90]), "inside shows the frame");
        assert_eq!(at(0, 24, 2), ERROR_RED, "missed truth cell dashed in red");
        assert!(at(0, 14, 14).0[0] > 120 && at(0, 14, 14).0[1] < 80, "false cell tinted red");
        assert_eq!(at(1, 2, 2), track_colour(1, 1.0), "truth outline on the right");
        assert_eq!(at(1, 14, 14), Rgb([90, 90, 90]), "no false cell in the truth");
        let dark = img.enumerate_pixels().filter(|&(_, y, p)| y < 44 && p.0[0] < 120).count();
        assert!(dark > 100, "caption and panel titles drawn: {dark} dark px");
        // A frame larger than the minimum is not enlarged.
        let big = RgbImage::new(300, 10);
        let img = draw_side_by_side(&big, &Mask::zeros((10, 300)), &Mask::zeros((10, 300)), "x").unwrap();
        assert_eq!(img.dimensions(), (608, 56));
    }
}
