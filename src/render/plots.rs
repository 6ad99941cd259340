//! Plots against truth: object precision, recall and F1 against the IoU threshold, and the cell count per frame.
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use super::{draw_err, DrawResult, FONT};
use crate::eval::ObjectCounts;

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);

/// Cells counted in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FrameCount {
    pub t: usize,
    pub result: usize,
    /// `None` where the frame has no truth.
    pub truth: Option<usize>,
}

/// Draws the legend of the series labelled so far.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(chart: &mut ChartContext<'a, DB, CT>, at: SeriesLabelPosition) -> DrawResult {
    chart
        .configure_series_labels()
        .position(at)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(draw_err)
}

/// Draws object precision, recall and F1 (pooled over frames) against the
/// IoU threshold of the one-to-one matching (StarDist's `matching`, Schmidt
/// et al. 2018), with a dashed line at IoU 0.5.
pub fn draw_pr_curve<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, curve: &[ObjectCounts], title: &str) -> DrawResult {
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(52)
        .build_cartesian_2d(0.0..1.0, 0.0..1.02)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc("IoU threshold")
        .y_desc("score")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(LineSeries::new([(0.5, 0.0), (0.5, 1.02)], RGBColor(160, 160, 160).stroke_width(1)))
        .map_err(draw_err)?;
    type Measure = fn(&ObjectCounts) -> Option<f64>;
    let series: [(&str, RGBColor, Measure); 3] =
        [("precision", BLUE, ObjectCounts::precision), ("recall", ORANGE, ObjectCounts::recall), ("F1", GREEN, ObjectCounts::f1)];
    for (name, colour, value) in series {
        let points: Vec<(f64, f64)> = curve.iter().filter_map(|c| Some((c.iou, value(c)?))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(draw_err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled()))).map_err(draw_err)?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerLeft)
}

/// Draws the number of cells in each frame: the result's, and the truth's
/// where the frame has truth.
pub fn draw_counts<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, counts: &[FrameCount], title: &str) -> DrawResult {
    // Frames on an integer axis, so ticks fall on frames.
    let t0 = counts.iter().map(|c| c.t).min().unwrap_or(0) as i64;
    let t1 = (counts.iter().map(|c| c.t).max().unwrap_or(1) as i64).max(t0 + 1);
    let top = counts.iter().map(|c| c.result.max(c.truth.unwrap_or(0))).max().unwrap_or(0).max(1) as f64 * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(52)
        .build_cartesian_2d(t0..t1, 0.0..top)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc("frame")
        .y_desc("cells")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()
        .map_err(draw_err)?;
    let truth: Vec<(i64, f64)> = counts.iter().filter_map(|c| Some((c.t as i64, c.truth? as f64))).collect();
    if !truth.is_empty() {
        chart
            .draw_series(LineSeries::new(truth, BLACK.stroke_width(2)))
            .map_err(draw_err)?
            .label("truth")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.stroke_width(2)));
    }
    let result: Vec<(i64, f64)> = counts.iter().map(|c| (c.t as i64, c.result as f64)).collect();
    chart
        .draw_series(LineSeries::new(result, BLUE.stroke_width(2)))
        .map_err(draw_err)?
        .label("result")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLUE.stroke_width(2)));
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::{draw_bitmap, draw_svg};
    use super::*;

    /// Whether plotters' SVG holds a text element reading `word`.
    pub(crate) fn has_text(svg: &str, word: &str) -> bool {
        svg.contains(&format!(">\n{word}\n</text>"))
    }

    fn curve() -> Vec<ObjectCounts> {
        crate::eval::curve_thresholds()
            .into_iter()
            .map(|iou| {
                let tp = (10.0 * (1.0 - iou)).round() as u64;
                ObjectCounts { iou, tp, fp: 10 - tp, fn_: 12 - tp }
            })
            .collect()
    }

    #[test]
    fn pr_curve_has_three_series_and_legible_text() {
        let svg = draw_svg(640, 420, |r| draw_pr_curve(r, &curve(), "precision and recall")).unwrap();
        for word in ["precision", "recall", "F1", "IoU threshold", "precision and recall"] {
            assert!(has_text(&svg, word), "{word} missing");
        }
        let png = draw_bitmap(640, 420, |r| draw_pr_curve(r, &curve(), "precision and recall")).unwrap();
        let blue = png.pixels().filter(|p| p.0 == [31, 119, 180]).count();
        assert!(blue > 200, "the precision line is drawn: {blue} px");
        // Text is rasterised: dark pixels in the caption band at the top.
        let dark = (0..640).flat_map(|x| (0..30).map(move |y| (x, y))).filter(|&(x, y)| png.get_pixel(x, y).0[0] < 100).count();
        assert!(dark > 50, "the caption is drawn: {dark} dark px");
    }

    #[test]
    fn counts_without_truth_draw_the_result_only() {
        let counts: Vec<FrameCount> = (0..5).map(|t| FrameCount { t, result: 3 + t, truth: None }).collect();
        let svg = draw_svg(640, 360, |r| draw_counts(r, &counts, "cells")).unwrap();
        assert!(has_text(&svg, "result") && !has_text(&svg, "truth"));
        let counts: Vec<FrameCount> = (0..5).map(|t| FrameCount { t, result: 3 + t, truth: Some(4) }).collect();
        let svg = draw_svg(640, 360, |r| draw_counts(r, &counts, "cells")).unwrap();
        assert!(has_text(&svg, "truth"));
        // A single frame does not collapse the axis.
        let one = [FrameCount { t: 7, result: 0, truth: Some(0) }];
        draw_bitmap(320, 240, |r| draw_counts(r, &one, "cells")).unwrap();
    }
}
