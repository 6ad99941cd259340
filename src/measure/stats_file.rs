//! The `--stats` files: one row a frame in `FILE.csv`, one row an object in `FILE.objects.csv`, written whole or not at all.
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::{measure_frame, FrameStats};
use crate::ctc::{CtcError, Mask};

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
