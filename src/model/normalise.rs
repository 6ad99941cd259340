//! Per-frame percentile normalisation of intensities (as CSBDeep's `normalize`, Weigert et al. 2018).
use ndarray::Array2;

/// Lower and upper percentiles mapped to 0 and 1.
pub const PERCENTILES: (f32, f32) = (1.0, 99.8);

/// The `q`-th percentile (0–100) with linear interpolation between order
/// statistics (numpy's default); NaN for an empty slice. Reorders `values`.
pub fn percentile(values: &mut [f32], q: f32) -> f32 {
    if values.is_empty() {
        return f32::NAN;
    }
    let pos = (q.clamp(0.0, 100.0) / 100.0) * (values.len() - 1) as f32;
    let lo = pos.floor() as usize;
    let (_, &mut a, rest) = values.select_nth_unstable_by(lo, f32::total_cmp);
    let frac = pos - lo as f32;
    if frac == 0.0 || rest.is_empty() {
        return a;
    }
    let b = rest.iter().copied().min_by(f32::total_cmp).unwrap_or(a);
    a + frac * (b - a)
}

/// Maps the frame's `lo`-th percentile to 0 and its `hi`-th to 1, linearly
/// (values outside stay outside). A flat frame becomes all zeros.
pub fn percentile_normalise(frame: &Array2<f32>, lo: f32, hi: f32) -> Array2<f32> {
    let mut v: Vec<f32> = frame.iter().copied().collect();
    let p_lo = percentile(&mut v, lo);
    let p_hi = percentile(&mut v, hi);
    let scale = if p_hi - p_lo > 1e-12 { 1.0 / (p_hi - p_lo) } else { 0.0 };
    frame.mapv(|x| (x - p_lo) * scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn percentiles_match_numpy() {
        // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 100]) = [1, 1.75, 2.5, 4]
        let v = [3.0f32, 1.0, 4.0, 2.0];
        for (q, want) in [(0.0, 1.0), (25.0, 1.75), (50.0, 2.5), (100.0, 4.0)] {
            assert_eq!(percentile(&mut v.clone(), q), want, "q={q}");
        }
        assert!(percentile(&mut [], 50.0).is_nan());
    }

    #[test]
    fn normalise_maps_percentiles_to_unit_range() {
        let f = array![[0.0f32, 10.0], [20.0, 30.0]];
        let n = percentile_normalise(&f, 0.0, 100.0);
        assert_eq!(n, array![[0.0, 1.0 / 3.0], [2.0 / 3.0, 1.0]]);
        assert_eq!(percentile_normalise(&Array2::from_elem((2, 2), 5.0), 1.0, 99.8), Array2::<f32>::zeros((2, 2)));
    }

    proptest! {
        #[test]
        fn invariant_to_gain_and_offset(v in prop::collection::vec(0.0f32..1000.0, 16), gain in 0.5f32..4.0, off in -50.0f32..50.0) {
            let a = Array2::from_shape_vec((4, 4), v).unwrap();
            let b = a.mapv(|x| gain * x + off);
            let (na, nb) = (percentile_normalise(&a, 1.0, 99.8), percentile_normalise(&b, 1.0, 99.8));
            for (x, y) in na.iter().zip(nb.iter()) {
                prop_assert!((x - y).abs() < 1e-3, "{x} vs {y}");
            }
        }
    }
}
