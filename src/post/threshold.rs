//! From stored maps to foregrounds: probabilities from TIFF frames, and thresholding.
use ndarray::{Array2, ArrayView2};

use crate::ctc::Frame;

/// The foreground of a probability map: pixels with `prob > t` (a fixed global
/// threshold, as `prob > t` in NumPy).
///
/// ```
/// use cellstream::post::threshold;
/// use ndarray::array;
/// let fg = threshold(array![[0.2, 0.5, 0.9]].view(), 0.5);
/// assert_eq!(fg, array![[false, false, true]]);
/// ```
pub fn threshold(prob: ArrayView2<f32>, t: f32) -> Array2<bool> {
    prob.mapv(|p| p > t)
}

/// A probability map in [0, 1] from a frame written by any tool: 8- and 16-bit
/// frames are divided by their type's maximum (255 or 65535), so a 0/255 mask
/// becomes 0/1; float frames are taken as probabilities and must lie in [0, 1].
/// The error says what is wrong (the caller names the file).
///
/// ```
/// use cellstream::{ctc::Frame, post::probability_map};
/// use ndarray::array;
/// let p = probability_map(Frame::U8(array![[0, 255, 51]])).unwrap();
/// assert_eq!(p, array![[0.0, 1.0, 0.2]]);
/// assert!(probability_map(Frame::F32(array![[0.0, 3.5]])).is_err());
/// ```
pub fn probability_map(frame: Frame) -> Result<Array2<f32>, String> {
    match frame {
        Frame::U8(a) => Ok(a.mapv(|v| v as f32 / u8::MAX as f32)),
        Frame::U16(a) => Ok(a.mapv(|v| v as f32 / u16::MAX as f32)),
        Frame::F32(a) => {
            // One branch-free pass (NaN fails both comparisons).
            let in_range = a.iter().fold(true, |ok, &v| ok & (0.0..=1.0).contains(&v));
            if !in_range {
                if a.iter().any(|v| v.is_nan()) {
                    return Err("holds NaN values; a float input must be a probability map in [0, 1]".into());
                }
                let (lo, hi) = a.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
                return Err(format!(
                    "holds values from {lo} to {hi}; a probability map must lie in [0, 1] \
                     (only 8- and 16-bit unsigned maps are scaled, by 255 or 65535; float, signed and 32-bit integer samples are read as they are)"
                ));
            }
            Ok(a)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn sixteen_bit_scales_by_type_max() {
        let p = probability_map(Frame::U16(array![[0, 65535, 32768]])).unwrap();
        assert_eq!(threshold(p.view(), 0.5), array![[false, true, true]]);
    }

    #[test]
    fn nan_is_refused() {
        let e = probability_map(Frame::F32(array![[0.1, f32::NAN]])).unwrap_err();
        assert!(e.contains("NaN"), "{e}");
    }

    #[test]
    fn threshold_is_strict() {
        assert_eq!(threshold(array![[0.5f32]].view(), 0.5), array![[false]]);
        assert_eq!(threshold(array![[0.0f32, 0.004]].view(), 0.0), array![[false, true]]);
    }
}
