//! Plots: object precision, recall and F1 against the IoU threshold, the cell count per frame, and a training run's curves.
use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use super::{draw_err, DrawResult, FONT};
use crate::eval::ObjectCounts;
use crate::model::HistoryRow;

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const PALE_BLUE: RGBColor = RGBColor(174, 199, 232);

/// Cells counted in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FrameCount {
    pub t: usize,
    pub result: usize,
    /// `None` where the frame has no truth.
    pub truth: Option<usize>,
}

/// The mesh of every plot here: axis descriptions, 14 px labels, 15 px
/// descriptions and faint minor lines; the caller adds formatters and draws it.
fn mesh<'a, 'b, DB, X, Y>(chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>, x_desc: &str, y_desc: &str) -> MeshStyle<'a, 'b, X, Y, DB>
where
    DB: DrawingBackend,
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut m = chart.configure_mesh();
    m.x_desc(x_desc).y_desc(y_desc).label_style((FONT, 14)).axis_desc_style((FONT, 15)).light_line_style(RGBColor(240, 240, 240));
    m
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
    mesh(&mut chart, "IoU threshold", "score").draw().map_err(draw_err)?;
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

/// How many labels an axis of whole numbers (frames, steps, cells) over
/// `span` takes: at most 10, and never more than its whole numbers, so that
/// no two ticks round to the same label.
pub(crate) fn whole_labels(span: f64) -> usize {
    (span.max(0.0).floor() as usize + 1).clamp(2, 10)
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
    mesh(&mut chart, "frame", "cells").x_labels(whole_labels((t1 - t0) as f64)).y_labels(whole_labels(top)).y_label_formatter(&|v| format!("{v:.0}")).draw().map_err(draw_err)?;
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

/// Draws a training run's history: above, the training loss of every step
/// (faint) and its mean over each validation period (bold) on the left axis,
/// and the validation SEG (CTC measure, Maška et al. 2014) on the right axis
/// (0–1); below, the learning rate on a log axis. All against the step.
/// Draws empty axes for an empty history, and the loss alone before the
/// first validation.
pub fn draw_training_curves<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, rows: &[HistoryRow]) -> DrawResult {
    let (_, h) = root.dim_in_pixel();
    let (top, bottom) = root.split_vertically(h * 64 / 100);
    let last = rows.iter().map(|r| r.step).max().unwrap_or(1).max(1) as f64;
    let first = rows.iter().map(|r| r.step).min().unwrap_or(0).saturating_sub(1) as f64;
    let steps = first..last;

    let per_step: Vec<(f64, f64)> = rows.iter().filter_map(|r| Some((r.step as f64, r.loss?))).filter(|p| p.1.is_finite()).collect();
    // Mean loss of each validation period, at its last step.
    let mut means: Vec<(f64, f64)> = Vec::new();
    for period in rows.chunk_by(|a, b| a.epoch == b.epoch) {
        let losses: Vec<f64> = period.iter().filter_map(|r| r.loss).filter(|v| v.is_finite()).collect();
        if !losses.is_empty() {
            means.push((period[period.len() - 1].step as f64, losses.iter().sum::<f64>() / losses.len() as f64));
        }
    }
    let seg: Vec<(f64, f64)> = rows.iter().filter_map(|r| Some((r.step as f64, r.val_seg?))).collect();
    let loss_top = per_step.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1e-6) * 1.05;

    let mut chart = ChartBuilder::on(&top)
        .caption("training loss and validation SEG", (FONT, 18))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .right_y_label_area_size(60)
        .build_cartesian_2d(steps.clone(), 0.0..loss_top)
        .map_err(draw_err)?
        .set_secondary_coord(steps.clone(), 0.0..1.0);
    mesh(&mut chart, "step", "loss").x_labels(whole_labels(steps.end - steps.start)).x_label_formatter(&|v| format!("{v:.0}")).draw().map_err(draw_err)?;
    chart
        .configure_secondary_axes()
        .y_desc("validation SEG")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(LineSeries::new(per_step, PALE_BLUE.stroke_width(1)))
        .map_err(draw_err)?
        .label("loss per step")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], PALE_BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(means.clone(), BLUE.stroke_width(2)))
        .map_err(draw_err)?
        .label("mean loss per validation period")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLUE.stroke_width(2)));
    chart.draw_series(means.iter().map(|&p| Circle::new(p, 3, BLUE.filled()))).map_err(draw_err)?;
    if !seg.is_empty() {
        chart
            .draw_secondary_series(LineSeries::new(seg.clone(), ORANGE.stroke_width(2)))
            .map_err(draw_err)?
            .label("validation SEG (right axis)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], ORANGE.stroke_width(2)));
        chart.draw_secondary_series(seg.iter().map(|&p| Circle::new(p, 3, ORANGE.filled()))).map_err(draw_err)?;
    }
    legend(&mut chart, SeriesLabelPosition::MiddleRight)?;

    let lrs: Vec<(f64, f64)> = rows.iter().map(|r| (r.step as f64, r.lr)).filter(|p| p.1 > 0.0 && p.1.is_finite()).collect();
    let lo = lrs.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = lrs.iter().map(|p| p.1).fold(0.0f64, f64::max);
    let (lo, hi) = if lrs.is_empty() { (1e-5, 1e-2) } else { (lo / 1.5, hi * 1.5) };
    // No right axis, but the same right margin: the steps line up with the panel above.
    let mut chart = ChartBuilder::on(&bottom)
        .margin(14)
        .margin_right(14 + 60)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(steps.clone(), (lo..hi).log_scale())
        .map_err(draw_err)?;
    mesh(&mut chart, "step", "learning rate").x_labels(whole_labels(steps.end - steps.start)).x_label_formatter(&|v| format!("{v:.0}")).y_label_formatter(&|v| format!("{v:.0e}")).y_labels(4).draw().map_err(draw_err)?;
    chart.draw_series(LineSeries::new(lrs, GREEN.stroke_width(2))).map_err(draw_err)?;
    Ok(())
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

    fn history(steps: usize, val_every: usize) -> Vec<HistoryRow> {
        (1..=steps)
            .map(|s| HistoryRow {
                epoch: s.div_ceil(val_every),
                step: s,
                loss: Some(1.0 / (1.0 + 0.1 * s as f64) + 0.05 * ((s * 7) % 5) as f64),
                val_seg: (s % val_every == 0).then_some(0.8 * s as f64 / steps as f64),
                lr: 1e-3 * 0.5f64.powi((s / 20) as i32),
                seconds: s as f64,
            })
            .collect()
    }

    #[test]
    fn training_curves_show_loss_seg_and_learning_rate() {
        let rows = history(60, 10);
        let svg = draw_svg(900, 640, |r| draw_training_curves(r, &rows)).unwrap();
        for word in ["training loss and validation SEG", "loss", "validation SEG", "learning rate", "step", "mean loss per validation period"] {
            assert!(has_text(&svg, word), "{word} missing");
        }
        let png = draw_bitmap(900, 640, |r| draw_training_curves(r, &rows)).unwrap();
        assert_eq!(png.dimensions(), (900, 640));
        let count = |c: RGBColor| png.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
        assert!(count(BLUE) > 200, "mean loss drawn: {} px", count(BLUE));
        assert!(count(ORANGE) > 200, "validation SEG drawn: {} px", count(ORANGE));
        assert!(count(GREEN) > 200, "learning rate drawn: {} px", count(GREEN));
        assert!(count(PALE_BLUE) > 100, "per-step loss drawn: {} px", count(PALE_BLUE));
    }

    #[test]
    fn training_curves_before_validation_and_of_nothing_still_draw() {
        let rows: Vec<HistoryRow> = history(6, 10);
        assert!(rows.iter().all(|r| r.val_seg.is_none()));
        let svg = draw_svg(900, 640, |r| draw_training_curves(r, &rows)).unwrap();
        assert!(has_text(&svg, "loss per step") && !has_text(&svg, "validation SEG (right axis)"));
        let png = draw_bitmap(900, 640, |r| draw_training_curves(r, &rows)).unwrap();
        assert!(png.pixels().filter(|p| p.0 == [BLUE.0, BLUE.1, BLUE.2]).count() > 0, "one mean-loss point");
        draw_bitmap(900, 640, |r| draw_training_curves(r, &[])).unwrap();
        // A constant learning rate and a single step do not collapse the axes.
        let one = [HistoryRow { epoch: 1, step: 1, loss: None, val_seg: Some(0.0), lr: 1e-3, seconds: 1.0 }];
        draw_bitmap(900, 640, |r| draw_training_curves(r, &one)).unwrap();
    }
}
