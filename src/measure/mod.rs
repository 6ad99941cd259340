//! Per-frame cell counts, areas, positions and intensities: the numbers behind `--stats` and `export --raw`.
use std::collections::{BTreeMap, HashMap};

use ndarray::Array2;

use crate::ctc::Mask;

mod median;
mod stats_file;

pub use median::{median, median_of_sorted};
pub use stats_file::{objects_path, StatsWriter};

/// Summary of one frame's instances.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FrameStats {
    pub frame: usize,
    pub cells: usize,
    pub mean_area: f64,
    pub median_area: f64,
}

/// One object of one frame.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ObjectStats {
    pub frame: usize,
    pub label: u32,
    pub area: u64,
    /// Centroid column (x) and row (y), in pixels.
    pub x: f64,
    pub y: f64,
}

/// Measures every labelled object of `mask` in one pass over its pixels.
///
/// ```
/// use ndarray::array;
/// let (f, objs) = cellstream::measure::measure_frame(3, &array![[1, 1, 0], [0, 0, 2]]);
/// assert_eq!((f.cells, f.mean_area, f.median_area), (2, 1.5, 1.5));
/// assert_eq!((objs[0].x, objs[0].y), (0.5, 0.0));
/// ```
pub fn measure_frame(frame: usize, mask: &Mask) -> (FrameStats, Vec<ObjectStats>) {
    let mut acc: BTreeMap<u32, (u64, f64, f64)> = BTreeMap::new();
    for ((y, x), &l) in mask.indexed_iter() {
        if l != 0 {
            let e = acc.entry(l).or_insert((0, 0.0, 0.0));
            e.0 += 1;
            e.1 += x as f64;
            e.2 += y as f64;
        }
    }
    let objects: Vec<ObjectStats> = acc
        .into_iter()
        .map(|(label, (n, sx, sy))| ObjectStats { frame, label, area: n, x: sx / n as f64, y: sy / n as f64 })
        .collect();
    let mut areas: Vec<u64> = objects.iter().map(|o| o.area).collect();
    areas.sort_unstable();
    let cells = areas.len();
    let mean_area = if cells == 0 { 0.0 } else { areas.iter().sum::<u64>() as f64 / cells as f64 };
    (FrameStats { frame, cells, mean_area, median_area: median_of_sorted(&areas) }, objects)
}

/// The intensity of one object in one channel, over its pixels: TrackMate's
/// spot intensity features (`MEAN_INTENSITY_CH1`, …) and scikit-image's
/// `regionprops` `intensity_mean`, `intensity_min`, `intensity_max`,
/// `intensity_std`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intensity {
    pub mean: f64,
    /// The middle value (the mean of the middle two for an even count).
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// The sum over the object's pixels (its integrated intensity).
    pub total: f64,
    /// The standard deviation over the object's pixels (population, numpy's
    /// default `ddof=0`).
    pub std: f64,
}

/// The intensity of every labelled object of `mask` in `frame` (the same
/// size), by label: one pass that sorts the pixels into their objects, then
/// each object's statistics from its own values (the standard deviation in
/// two passes, for precision). A NaN or infinite pixel is no data and is
/// left out, as numpy's `nanmean` and its kin leave it (an object with no
/// other pixel measures NaN throughout).
///
/// ```
/// use ndarray::array;
/// let mask = array![[1, 1, 0], [2, 2, 2]];
/// let frame = array![[4.0, 6.0, 99.0], [1.0, 2.0, 6.0]];
/// let by_label = cellstream::measure::measure_intensities(&mask, &frame);
/// let (one, two) = (by_label[&1], by_label[&2]);
/// assert_eq!((one.mean, one.median, one.min, one.max, one.total, one.std), (5.0, 5.0, 4.0, 6.0, 10.0, 1.0));
/// assert_eq!((two.mean, two.median, two.total), (3.0, 2.0, 9.0));
/// let gaps = array![[4.0, f32::NAN, 99.0], [f32::NAN, f32::INFINITY, f32::NAN]];
/// let by_label = cellstream::measure::measure_intensities(&mask, &gaps);
/// assert_eq!((by_label[&1].mean, by_label[&1].max), (4.0, 4.0));
/// assert!(by_label[&2].mean.is_nan() && by_label[&2].median.is_nan() && by_label[&2].max.is_nan());
/// ```
pub fn measure_intensities(mask: &Mask, frame: &Array2<f32>) -> BTreeMap<u32, Intensity> {
    assert_eq!(mask.dim(), frame.dim(), "a mask and its frame have one size");
    let mut values: HashMap<u32, Vec<f32>> = HashMap::new();
    for (&l, &v) in mask.iter().zip(frame.iter()) {
        if l != 0 {
            let object = values.entry(l).or_default();
            if v.is_finite() {
                object.push(v);
            }
        }
    }
    values
        .into_iter()
        .map(|(label, mut v)| {
            if v.is_empty() {
                let none = f64::NAN;
                return (label, Intensity { mean: none, median: none, min: none, max: none, total: none, std: none });
            }
            let n = v.len() as f64;
            let total: f64 = v.iter().map(|&x| f64::from(x)).sum();
            let mean = total / n;
            let std = (v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n).sqrt();
            let median = median(&mut v).expect("an object has pixels");
            let min = v.iter().copied().min_by(f32::total_cmp).map_or(0.0, f64::from);
            let max = v.iter().copied().max_by(f32::total_cmp).map_or(0.0, f64::from);
            (label, Intensity { mean, median, min, max, total, std })
        })
        .collect()
}
