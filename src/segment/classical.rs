//! The classical segmenter: background correction, a threshold, then the post-processing chain.
//!
//! The threshold is global (Otsu 1979) or local (Sauvola & Pietikäinen
//! 2000); the chain is closing, area opening, hole filling and the
//! distance-transform watershed ([`crate::post`]). It needs no weights and is
//! the baseline the model must beat.
use ndarray::{Array2, ArrayView2};

use super::background::{percentile_normalise, subtract_background, PERCENTILES};
use super::filter::gaussian_blur;
use super::threshold::{otsu_threshold, sauvola_threshold};
use crate::ctc::{Frame, Mask};
use crate::post::{instances_from_probability, PostParams, SeedMode};

/// Which cells stand out from the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
pub enum Polarity {
    /// Brighter than the background (fluorescence; PSC-like phase contrast).
    Bright,
    /// Darker than the background.
    Dark,
    /// Either: the absolute deviation from the background (phase contrast with halos).
    Both,
}

/// How the foreground threshold is chosen on the flattened frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdMethod {
    /// Otsu's global threshold (Otsu 1979).
    Otsu,
    /// Sauvola's local threshold over a (2r+1)² window (Sauvola & Pietikäinen 2000).
    Sauvola { radius: usize, k: f32 },
}

/// Settings of the classical segmenter.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicalParams {
    pub polarity: Polarity,
    /// σ of the wide Gaussian that estimates the background, in pixels.
    pub background_sigma: f32,
    /// σ of the Gaussian that smooths noise before thresholding (0: none).
    pub smooth_sigma: f32,
    pub threshold: ThresholdMethod,
    /// Post-processing of the foreground (its `threshold` is ignored: the
    /// foreground is already binary).
    pub post: PostParams,
}

impl Default for ClassicalParams {
    fn default() -> Self {
        ClassicalParams {
            polarity: Polarity::Bright,
            background_sigma: 25.0,
            smooth_sigma: 1.5,
            threshold: ThresholdMethod::Otsu,
            post: PostParams { closing_radius: 2, min_area: 25, seeds: SeedMode::DistanceMaxima { min_distance: 6 }, ..PostParams::default() },
        }
    }
}

/// The flattened, smoothed contrast image whose high values are cells,
/// normalised to [0, 1] between its 1st and 99.8th percentiles and clipped.
pub fn contrast_image(frame: &Frame, params: &ClassicalParams) -> Array2<f32> {
    let raw = frame.to_f32();
    let smooth = if params.smooth_sigma > 0.0 { gaussian_blur(raw.view(), params.smooth_sigma) } else { raw };
    let flat = subtract_background(smooth.view(), params.background_sigma);
    let signed = match params.polarity {
        Polarity::Bright => flat,
        Polarity::Dark => flat.mapv(|v| -v),
        Polarity::Both => {
            let abs = flat.mapv(f32::abs);
            // The deviation is hollow inside large dark cells: a second blur fills it.
            gaussian_blur(abs.view(), params.smooth_sigma.max(1.0) * 2.0)
        }
    };
    percentile_normalise(&signed, PERCENTILES.0, PERCENTILES.1).mapv_into(|v| v.clamp(0.0, 1.0))
}

/// The binary foreground of a contrast image, as a 0/1 probability map.
pub fn foreground(contrast: ArrayView2<f32>, method: ThresholdMethod) -> Array2<f32> {
    match method {
        ThresholdMethod::Otsu => {
            let t = otsu_threshold(contrast);
            contrast.mapv(|v| (v > t) as u8 as f32)
        }
        ThresholdMethod::Sauvola { radius, k } => {
            let t = sauvola_threshold(contrast, radius, k, 0.5);
            // Sauvola alone marks texture in flat background; require the pixel to
            // also clear a global floor (Otsu's threshold halved).
            let floor = 0.5 * otsu_threshold(contrast);
            ndarray::Zip::from(&contrast).and(&t).map_collect(|&v, &tt| (v > tt && v > floor) as u8 as f32)
        }
    }
}

/// Segments one frame into instances: the [`contrast_image`] (smoothed,
/// background removed, turned by polarity, percentile-normalised), its
/// [`foreground`] by Otsu's (1979) or Sauvola's (2000) threshold, then
/// [`instances_from_probability`]: closing, area opening, hole filling and
/// the distance-transform watershed from `params.post`'s seeds.
///
/// ```
/// use cellstream::ctc::Frame;
/// use cellstream::segment::{segment_classical, ClassicalParams};
/// use ndarray::Array2;
/// // Two bright 12×12 squares on a dark 64×64 frame.
/// let mut px = Array2::<u16>::from_elem((64, 64), 100);
/// px.slice_mut(ndarray::s![10..22, 10..22]).fill(1000);
/// px.slice_mut(ndarray::s![40..52, 30..42]).fill(1000);
/// let mask = segment_classical(&Frame::U16(px), &ClassicalParams::default());
/// let (a, b) = (mask[[16, 16]], mask[[46, 36]]);
/// assert!(a != 0 && b != 0 && a != b && mask[[0, 0]] == 0);
/// ```
pub fn segment_classical(frame: &Frame, params: &ClassicalParams) -> Mask {
    let contrast = contrast_image(frame, params);
    let fg = foreground(contrast.view(), params.threshold);
    instances_from_probability(fg.view(), &PostParams { threshold: 0.5, ..params.post })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disks(h: usize, w: usize, centres: &[(f32, f32, f32)], bg: impl Fn(usize, usize) -> f32) -> Array2<f32> {
        Array2::from_shape_fn((h, w), |(y, x)| {
            let inside = centres.iter().any(|&(cy, cx, r)| (y as f32 - cy).powi(2) + (x as f32 - cx).powi(2) <= r * r);
            bg(y, x) + if inside { 60.0 } else { 0.0 }
        })
    }

    #[test]
    fn separate_bright_cells_on_a_ramp_are_found() {
        let img = disks(96, 128, &[(20.0, 20.0, 8.0), (60.0, 90.0, 10.0), (70.0, 30.0, 7.0)], |_, x| 100.0 + x as f32 * 0.8);
        let m = segment_classical(&Frame::F32(img), &ClassicalParams::default());
        let mut labels: Vec<u32> = m.iter().copied().filter(|&v| v != 0).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), 3);
        assert_ne!(m[[20, 20]], 0);
        assert_ne!(m[[60, 90]], 0);
        assert_eq!(m[[5, 120]], 0);
    }

    #[test]
    fn touching_cells_are_split() {
        let img = disks(64, 96, &[(32.0, 34.0, 11.0), (32.0, 56.0, 11.0)], |_, _| 50.0);
        let m = segment_classical(&Frame::F32(img), &ClassicalParams::default());
        assert_ne!(m[[32, 30]], 0);
        assert_ne!(m[[32, 60]], 0);
        assert_ne!(m[[32, 30]], m[[32, 60]], "two touching disks must get two labels");
    }

    #[test]
    fn dark_cells_need_dark_or_both_polarity() {
        let img = disks(64, 64, &[(32.0, 32.0, 10.0)], |_, _| 200.0).mapv(|v| 400.0 - v);
        let frame = Frame::F32(img);
        for pol in [Polarity::Dark, Polarity::Both] {
            let m = segment_classical(&frame, &ClassicalParams { polarity: pol, ..ClassicalParams::default() });
            assert_ne!(m[[32, 32]], 0, "{pol:?}");
        }
    }
}
