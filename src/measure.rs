//! Per-frame cell counts, areas, positions and intensities: the numbers behind `--stats` and `export --raw`.
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::ctc::{CtcError, Mask};

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

/// The median of values sorted in ascending order (the mean of the middle
/// two for an even count), 0 for none.
pub fn median_of_sorted(sorted: &[u64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2] as f64,
        n => (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0,
    }
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

/// The median of `values` (the mean of the middle two for an even count),
/// by selection rather than a sort; `None` for none. Reorders `values`.
///
/// ```
/// assert_eq!(cellstream::measure::median(&mut [3.0, 1.0, 2.0, 5.0]), Some(2.5));
/// assert_eq!(cellstream::measure::median(&mut []), None);
/// ```
pub fn median(values: &mut [f32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let (below, &mut upper, _) = values.select_nth_unstable_by(n / 2, f32::total_cmp);
    Some(match below.iter().copied().max_by(f32::total_cmp) {
        Some(lower) if n.is_multiple_of(2) => (f64::from(lower) + f64::from(upper)) / 2.0,
        _ => f64::from(upper),
    })
}

/// Streams frame and object statistics into `FILE.csv` and `FILE.objects.csv`,
/// each through a temporary file renamed by [`StatsWriter::finish`].
pub struct StatsWriter {
    paths: [PathBuf; 2],
    tmps: [PathBuf; 2],
    frames: csv::Writer<BufWriter<File>>,
    objects: csv::Writer<BufWriter<File>>,
    done: bool,
}

/// `cells.csv` → `cells.objects.csv`.
pub fn objects_path(path: &Path) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!("{stem}.objects.csv"))
}

impl StatsWriter {
    pub fn create(path: &Path) -> Result<StatsWriter, CtcError> {
        let paths = [path.to_path_buf(), objects_path(path)];
        let tmp = |p: &Path| p.with_file_name(format!(".{}.{}.tmp", p.file_name().unwrap_or_default().to_string_lossy(), std::process::id()));
        let tmps = [tmp(&paths[0]), tmp(&paths[1])];
        // Errors name the file asked for, not the hidden one written first.
        let open = |i: usize| -> Result<csv::Writer<BufWriter<File>>, CtcError> {
            crate::ctc::check_output_file(&paths[i])?;
            let f = File::create(&tmps[i]).map_err(|e| CtcError::new(&paths[i], format!("cannot write: {e}")))?;
            Ok(csv::Writer::from_writer(BufWriter::new(f)))
        };
        let frames = open(0)?;
        let objects = open(1).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmps[0]);
        })?;
        Ok(StatsWriter { paths, tmps, frames, objects, done: false })
    }

    pub fn add(&mut self, frame: usize, mask: &Mask) -> Result<FrameStats, CtcError> {
        let (f, objs) = measure_frame(frame, mask);
        let err = |i: usize| {
            let p = self.paths[i].clone();
            move |e: csv::Error| CtcError::new(&p, format!("cannot write: {e}"))
        };
        self.frames.serialize(&f).map_err(err(0))?;
        for o in &objs {
            self.objects.serialize(o).map_err(err(1))?;
        }
        Ok(f)
    }

    pub fn finish(mut self) -> Result<(), CtcError> {
        for (i, w) in [&mut self.frames, &mut self.objects].into_iter().enumerate() {
            w.flush().map_err(|e| CtcError::new(&self.paths[i], format!("cannot write: {e}")))?;
        }
        for i in 0..2 {
            std::fs::rename(&self.tmps[i], &self.paths[i]).map_err(|e| CtcError::new(&self.paths[i], format!("cannot write: {e}")))?;
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for StatsWriter {
    fn drop(&mut self) {
        if !self.done {
            for t in &self.tmps {
                let _ = std::fs::remove_file(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn csvs_appear_only_on_finish() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("cells.csv");
        let mut w = StatsWriter::create(&p).unwrap();
        w.add(0, &array![[1, 1, 0], [0, 2, 2]]).unwrap();
        w.add(1, &array![[0, 0, 0], [3, 3, 3]]).unwrap();
        assert!(!p.exists());
        w.finish().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text, "frame,cells,mean_area,median_area\n0,2,2.0,2.0\n1,1,3.0,3.0\n");
        let objs = std::fs::read_to_string(d.path().join("cells.objects.csv")).unwrap();
        assert!(objs.starts_with("frame,label,area,x,y\n0,1,2,0.5,0.0\n"), "{objs}");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }
}
