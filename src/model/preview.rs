//! Training previews: after each validation, the prediction on one fixed validation crop beside its truth, as a PNG.
use std::io::Write;
use std::ops::Range;
use std::path::PathBuf;

use anyhow::{Context, Result};
use ndarray::s;
use tch::Device;

use super::data::TrainSequence;
use super::infer::{InferOptions, Precision, Streamer, Tiles};
use super::net::ConvLstmUNet;
use crate::ctc::Frame;
use crate::eval::seg_score;
use crate::render::colour::{display_range, grey_image};
use crate::render::overlay::draw_side_by_side;

/// Longest side of the preview crop, in pixels.
pub const PREVIEW_SIDE: usize = 256;

/// The crop a run previews: chosen once, the same after every validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewCrop {
    /// Index of the sequence in the training data.
    pub seq: usize,
    /// Frames streamed, from the first validation frame to the shown one (the last).
    pub frames: Range<usize>,
    pub rows: Range<usize>,
    pub cols: Range<usize>,
    /// Whether the shown frame is held out; a training frame is shown only
    /// where no validation frame has truth.
    pub held_out: bool,
}

impl PreviewCrop {
    /// The first sequence with a validation block, its first validation
    /// frame with truth, and the centred crop of at most
    /// [`PREVIEW_SIDE`]² pixels (the whole frame if smaller). Where no
    /// validation frame has truth (`--val-fraction 0`, or truth on a few
    /// early frames only), the last training frame with truth of the first
    /// sequence that has one, streamed from up to 4 frames before it.
    /// `None` when no frame has truth.
    pub fn choose(data: &[TrainSequence], splits: &[(Range<usize>, Range<usize>)]) -> Option<PreviewCrop> {
        let crop = |seq: usize, frames: Range<usize>, held_out: bool| {
            let (h, w) = data[seq].frames[frames.end - 1].dim();
            let (ch, cw) = (h.min(PREVIEW_SIDE), w.min(PREVIEW_SIDE));
            let (y, x) = ((h - ch) / 2, (w - cw) / 2);
            PreviewCrop { seq, frames, rows: y..y + ch, cols: x..x + cw, held_out }
        };
        let held_out = data.iter().zip(splits).enumerate().find_map(|(seq, (s, (_, val)))| {
            let shown = val.clone().find(|&i| s.truth[i].is_some())?;
            Some(crop(seq, val.start..shown + 1, true))
        });
        held_out.or_else(|| {
            data.iter().zip(splits).enumerate().find_map(|(seq, (s, (train, _)))| {
                let shown = train.clone().rev().find(|&i| s.truth[i].is_some())?;
                Some(crop(seq, shown.saturating_sub(4).max(train.start)..shown + 1, false))
            })
        })
    }
}

/// Where and what a run previews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub dir: PathBuf,
    pub crop: PreviewCrop,
}

/// Streams the crop of `crop.frames` from zero state through `net` (the
/// crop alone, so cells at its edge see less context than in validation),
/// labels the last frame's cells as validation does, and writes it beside
/// its truth ([`draw_side_by_side`]) to `dir/epochNNN.png`, captioned with the
/// epoch, step, validation SEG and the crop's own SEG. Returns the path.
pub fn write_preview(preview: &Preview, net: &ConvLstmUNet, device: Device, data: &[TrainSequence], epoch: usize, step: usize, val_seg: Option<f64>) -> Result<PathBuf> {
    let (crop, dir) = (&preview.crop, &preview.dir);
    let s = &data[crop.seq];
    let cut = |i: usize| s.frames[i].slice(s![crop.rows.clone(), crop.cols.clone()]).to_owned();
    let options = InferOptions { tiles: Tiles::Full, precision: Precision::F32, ..Default::default() };
    let mut streamer = Streamer::new(options, net.config(), device)?;
    let mut probs = None;
    for i in crop.frames.clone() {
        probs = Some(streamer.push(net, device, &cut(i))?);
    }
    let shown = crop.frames.end - 1;
    let prediction = probs.expect("at least the shown frame").instances();
    let truth = s.truth[shown].as_ref().expect("the shown frame has truth").slice(s![crop.rows.clone(), crop.cols.clone()]).to_owned();
    let crop_seg = seg_score(&truth, &prediction).value();
    let frame = Frame::F32(cut(shown));
    let grey = grey_image(&frame, display_range(&frame, 0.005, 0.998));
    let fmt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
    let caption = format!("epoch {epoch}, step {step}: validation SEG {}, this crop {} ({} frame {})", fmt(val_seg), fmt(crop_seg), s.name, s.times[shown]);
    let img = draw_side_by_side(&grey, &prediction, &truth, &caption).map_err(|e| anyhow::anyhow!("{}: cannot draw the preview: {e}", dir.display()))?;
    let path = dir.join(format!("epoch{epoch:03}.png"));
    let png = crate::render::png_bytes(&img);
    crate::ctc::write_atomic(&path, |w| w.write_all(&png)).with_context(|| "writing the preview")?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctc::Mask;
    use ndarray::Array2;

    #[test]
    fn the_crop_is_the_first_annotated_validation_frame_centred() {
        let seq = |h: usize, w: usize, truth: &[bool]| {
            let frames = vec![Array2::<f32>::zeros((h, w)); truth.len()];
            let masks = truth.iter().map(|&t| t.then(|| Mask::zeros((h, w)))).collect();
            TrainSequence::from_frames("s", frames, masks).unwrap()
        };
        // The first sequence has no validation block; the second's first
        // validation frame (6) has no truth, its next (7) does.
        let data = [seq(40, 48, &[true; 6]), seq(300, 600, &[true, true, true, true, true, true, false, true, true])];
        let splits = vec![(0..6, 6..6), (0..6, 6..9)];
        let c = PreviewCrop::choose(&data, &splits).unwrap();
        assert_eq!(c, PreviewCrop { seq: 1, frames: 6..8, rows: 22..278, cols: 172..428, held_out: true });
        // A small frame is shown whole.
        let c = PreviewCrop::choose(&data[..1], &[(0..4, 4..6)]).unwrap();
        assert_eq!((c.frames, c.rows, c.cols, c.held_out), (4..5, 0..40, 0..48, true));
        // No validation block: the last annotated training frame, after four before it.
        let c = PreviewCrop::choose(&data[..1], &[(0..6, 6..6)]).unwrap();
        assert_eq!((c.seq, c.frames, c.held_out), (0, 1..6, false));
        let none = [seq(40, 48, &[false; 6])];
        assert_eq!(PreviewCrop::choose(&none, &[(0..6, 6..6)]), None);
    }
}
