//! The model segmenter's maps on disk: foreground and seed probabilities as float TIFFs that `postprocess` reads back.
//!
//! `track --save-probabilities DIR` writes, for every frame `t`,
//! `DIR/foreground/probTTT.tif` (`1 − p(background)`) and
//! `DIR/seeds/seedTTT.tif` (`p(cell) − p(boundary)`), both 32-bit float in
//! [0, 1] ([`Probabilities::maps`]). Those are all the post chain reads, so
//! `cellstream postprocess --input DIR/foreground --seeds DIR/seeds
//! --closing-radius 0 --min-area 20` (the model's defaults) redraws `track`'s
//! cells exactly, and other post-processing settings can be tried without
//! running the network again. Like a result folder, `DIR` is written all or
//! nothing.
use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::ctc::{self, CtcError, Frame, StagedFolder};
#[cfg(doc)]
use crate::model::Probabilities;

/// The sub-folder of the foreground probability maps.
pub const FOREGROUND_DIR: &str = "foreground";
/// The sub-folder of the seed maps.
pub const SEEDS_DIR: &str = "seeds";

/// Streams the maps of one run into a hidden folder; [`MapWriter::publish`]
/// moves them into place.
#[derive(Debug)]
pub struct MapWriter {
    staged: StagedFolder,
    digits: usize,
}

impl MapWriter {
    /// Prepares `dest`. It may exist only as an earlier output of this kind
    /// (holding nothing but `foreground/` and `seeds/`); anything else there is
    /// refused before a frame is read.
    pub fn create(dest: &Path, digits: usize) -> ctc::Result<MapWriter> {
        let staged = StagedFolder::create(dest, |name| name == FOREGROUND_DIR || name == SEEDS_DIR, "saved probability maps")?;
        for sub in [FOREGROUND_DIR, SEEDS_DIR] {
            let dir = staged.tmp().join(sub);
            std::fs::create_dir(&dir).map_err(|e| CtcError::io(&dir, &e))?;
        }
        Ok(MapWriter { staged, digits })
    }

    /// The folder the maps will be published to.
    pub fn dest(&self) -> &Path {
        self.staged.dest()
    }

    /// Writes frame `t`'s two maps, as [`Probabilities::maps`] makes them
    /// (any thread; frames in any order).
    pub fn write(&self, t: usize, foreground: Array2<f32>, seeds: Array2<f32>) -> ctc::Result<()> {
        let d = self.digits;
        ctc::write_frame(&self.staged.tmp().join(FOREGROUND_DIR).join(format!("prob{t:0d$}.tif")), &Frame::F32(foreground)).map_err(|e| self.staged.shown(e))?;
        ctc::write_frame(&self.staged.tmp().join(SEEDS_DIR).join(format!("seed{t:0d$}.tif")), &Frame::F32(seeds)).map_err(|e| self.staged.shown(e))
    }

    /// Moves the complete folder into place (replacing an earlier one).
    pub fn publish(self) -> ctc::Result<PathBuf> {
        self.staged.publish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Probabilities;
    use ndarray::array;

    fn probs() -> Probabilities {
        Probabilities {
            background: array![[1.0f32, 0.2], [0.0, 0.5]],
            cell: array![[0.0f32, 0.7], [0.9, 0.1]],
            boundary: array![[0.0f32, 0.1], [0.1, 0.4]],
        }
    }

    #[test]
    fn maps_appear_only_when_published_and_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("maps");
        let w = MapWriter::create(&dest, 3).unwrap();
        let (foreground, seeds) = probs().maps();
        w.write(7, foreground, seeds).unwrap();
        assert!(!dest.exists(), "nothing may appear before publish");
        w.publish().unwrap();
        let fg = ctc::read_frame(&dest.join("foreground/prob007.tif")).unwrap();
        let seeds = ctc::read_frame(&dest.join("seeds/seed007.tif")).unwrap();
        let (want_fg, want_seeds) = probs().maps();
        assert_eq!(fg, Frame::F32(want_fg));
        assert_eq!(seeds, Frame::F32(want_seeds.clone()));
        // p(cell) − p(boundary), clamped: 0.6, 0.8 and 0 where boundary wins.
        assert!((want_seeds[[0, 1]] - 0.6).abs() < 1e-6 && (want_seeds[[1, 0]] - 0.8).abs() < 1e-6);
        assert_eq!(want_seeds[[1, 1]], 0.0);
    }

    #[test]
    fn a_dropped_writer_leaves_nothing_and_an_earlier_output_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("maps");
        {
            let w = MapWriter::create(&dest, 3).unwrap();
            let (foreground, seeds) = probs().maps();
            w.write(0, foreground, seeds).unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a failed run leaves nothing behind");
        let w = MapWriter::create(&dest, 3).unwrap();
        let (foreground, seeds) = probs().maps();
        w.write(0, foreground.clone(), seeds.clone()).unwrap();
        w.publish().unwrap();
        let w = MapWriter::create(&dest, 3).unwrap();
        w.write(1, foreground, seeds).unwrap();
        w.publish().unwrap();
        let names: Vec<_> = std::fs::read_dir(dest.join("foreground")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("prob001.tif")]);
    }

    #[test]
    fn a_folder_holding_other_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "keep me").unwrap();
        let e = MapWriter::create(dir.path(), 3).unwrap_err().to_string();
        assert!(e.contains("notes.txt") && e.contains(&dir.path().display().to_string()), "{e}");
        assert_eq!(std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "keep me");
    }
}
