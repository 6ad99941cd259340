//! Writing a CTC result folder (`maskTTT.tif` + `res_track.txt`) all or nothing.
//!
//! Masks go into a hidden temporary folder beside the destination; only
//! [`ResultWriter::finish`] moves the complete result into place. A run that
//! fails or is interrupted leaves the destination as it was.
use std::path::{Path, PathBuf};

use super::error::{CtcError, Result};
use super::tiff_io::{self, Mask};
use super::track_file::{self, TrackRecord};

/// Streams the masks of one result, then publishes them with the track file.
#[derive(Debug)]
pub struct ResultWriter {
    staged: StagedFolder,
    digits: usize,
}

/// An output folder assembled in a hidden folder beside its destination
/// (`.NAME.partial-PID`) and moved into place only by [`StagedFolder::publish`];
/// dropped unpublished, it leaves nothing behind.
#[derive(Debug)]
pub struct StagedFolder {
    dest: PathBuf,
    tmp: PathBuf,
    done: bool,
}

impl StagedFolder {
    /// Prepares to build `dest`. `dest` may exist only as a folder whose every
    /// entry satisfies `replaceable` (an earlier output of the same kind);
    /// `kind` names that kind in the refusal ("a CTC result"). Truth folders
    /// (`*_GT`, `*_ST`) are refused.
    pub fn create(dest: &Path, replaceable: impl Fn(&str) -> bool, kind: &str) -> Result<StagedFolder> {
        Self::check(dest, &replaceable, kind)?;
        let name = dest
            .file_name()
            .ok_or_else(|| CtcError::new(dest, "is not a usable output folder name"))?
            .to_string_lossy()
            .into_owned();
        let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| CtcError::io(parent, &e))?;
        remove_stale(parent, &name);
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        // Errors name the folder asked for, not the hidden one built first.
        let cannot = |e: std::io::Error| CtcError::new(dest, format!("cannot be written: {e}"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(cannot)?;
        }
        std::fs::create_dir(&tmp).map_err(cannot)?;
        Ok(StagedFolder { dest: dest.to_path_buf(), tmp, done: false })
    }

    /// What [`StagedFolder::create`] checks of `dest` before it writes
    /// anything, for commands that check all their outputs first.
    pub fn check(dest: &Path, replaceable: impl Fn(&str) -> bool, kind: &str) -> Result<()> {
        refuse_truth_folder(dest)?;
        if dest.exists() {
            if !dest.is_dir() {
                return Err(CtcError::new(dest, "exists and is not a folder"));
            }
            for e in std::fs::read_dir(dest).map_err(|e| CtcError::io(dest, &e))? {
                let e = e.map_err(|e| CtcError::io(dest, &e))?;
                let name = e.file_name().to_string_lossy().into_owned();
                if !replaceable(&name) {
                    return Err(CtcError::new(
                        dest,
                        format!("already holds `{name}`, which is not part of {kind}; refusing to replace the folder"),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// The hidden folder to write into.
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }

    /// `err` as the user should read it: a path inside the hidden folder
    /// named as the same path inside the folder asked for.
    pub fn shown(&self, err: CtcError) -> CtcError {
        shown_as(err, &self.tmp, &self.dest)
    }

    /// Moves the finished folder to its destination, replacing an earlier one there.
    pub fn publish(mut self) -> Result<PathBuf> {
        let old = self.tmp.with_file_name(format!(
            ".{}.old-{}",
            self.dest.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let had_old = self.dest.exists();
        if had_old {
            std::fs::rename(&self.dest, &old).map_err(|e| CtcError::io(&self.dest, &e))?;
        }
        if let Err(e) = std::fs::rename(&self.tmp, &self.dest) {
            if had_old {
                let _ = std::fs::rename(&old, &self.dest);
            }
            return Err(CtcError::io(&self.dest, &e));
        }
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        self.done = true;
        Ok(self.dest.clone())
    }
}

impl Drop for StagedFolder {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// `err` with a path inside the hidden folder `tmp` named as the same path
/// inside `dest`, the output asked for; any other path as it is.
pub(crate) fn shown_as(mut err: CtcError, tmp: &Path, dest: &Path) -> CtcError {
    if let Ok(rest) = err.path.strip_prefix(tmp) {
        err.path = dest.join(rest);
    }
    err
}

/// Removes what runs killed by a signal (Ctrl-C, a time limit) left of
/// output `name` in `parent`: hidden `.NAME.partial-PID` and `.NAME.old-PID`
/// folders and `.NAME.PID.tmp` files whose process is gone. Those of a
/// process still running (another run writing the same output) are kept.
pub(crate) fn remove_stale(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix('.').and_then(|f| f.strip_prefix(name)) else { continue };
        let pid = rest.strip_prefix(".partial-").or_else(|| rest.strip_prefix(".old-")).or_else(|| rest.strip_prefix('.').and_then(|r| r.strip_suffix(".tmp")));
        let Some(pid) = pid.and_then(|p| p.parse::<i32>().ok()) else { continue };
        if pid == std::process::id() as i32 || process_alive(pid) {
            continue;
        }
        let path = e.path();
        let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
    }
}

/// Whether process `pid` is running (signal 0 reaches it, or it exists but
/// belongs to another user).
pub(crate) fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 sends nothing; it only checks the process exists.
    unsafe { libc::kill(pid, 0) == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) }
}

/// Errors if `dir` or a folder above it is a truth folder (`*_GT`, `*_ST`).
pub fn refuse_truth_folder(dir: &Path) -> Result<()> {
    for comp in dir.components() {
        let name = comp.as_os_str().to_string_lossy();
        if name.ends_with("_GT") || name.ends_with("_ST") {
            return Err(CtcError::new(
                dir,
                format!("refusing to write results into the truth folder `{name}`; choose another output folder"),
            ));
        }
    }
    Ok(())
}

/// The file in a result folder recording the settings of the run that made it
/// (written by `track`, shown by `report`; CTC tools ignore it).
pub const RUN_RECORD: &str = "cellstream.toml";

fn is_result_file(name: &str) -> bool {
    name == "res_track.txt" || name == RUN_RECORD || super::sequence::parse_frame_name(name, "mask").is_some()
}

impl ResultWriter {
    /// Prepares to write into `dest`, with time stamps of `digits` digits (3 or 4).
    /// `dest` may exist only as a folder holding nothing but a previous result.
    pub fn create(dest: &Path, digits: usize) -> Result<ResultWriter> {
        let staged = StagedFolder::create(dest, is_result_file, "a CTC result")?;
        Ok(ResultWriter { staged, digits: digits.max(3) })
    }

    pub fn dest(&self) -> &Path {
        self.staged.dest()
    }

    /// The file name of frame `t`'s mask, e.g. `mask007.tif`.
    pub fn mask_name(&self, t: usize) -> String {
        format!("mask{:0width$}.tif", t, width = self.digits)
    }

    /// Writes frame `t`'s mask (16-bit; labels must be ≤ 65535).
    pub fn write_mask(&self, t: usize, mask: &Mask) -> Result<()> {
        let name = self.mask_name(t);
        tiff_io::write_mask(&self.staged.tmp().join(&name), mask).map_err(|e| CtcError::new(self.dest().join(&name), e.what))
    }

    /// Rewrites frame `t`'s mask, written already, with each label `from`
    /// of `map` replaced by its `to` (0 erases it).
    pub fn relabel_written(&self, t: usize, map: &[(u32, u32)]) -> Result<()> {
        let mut mask = self.read_written(t)?;
        mask.mapv_inplace(|l| map.iter().find(|m| m.0 == l).map_or(l, |m| m.1));
        self.write_mask(t, &mask)
    }

    /// Frame `t`'s mask as written so far.
    pub fn read_written(&self, t: usize) -> Result<Mask> {
        let path = self.staged.tmp().join(self.mask_name(t));
        super::read_mask(&path).map_err(|e| CtcError::new(self.dest().join(self.mask_name(t)), e.what))
    }

    /// Removes `labels` from frame `t`'s mask, written already (pruned tracks).
    pub fn erase_labels(&self, t: usize, labels: &[u32]) -> Result<()> {
        self.relabel_written(t, &labels.iter().map(|&l| (l, 0)).collect::<Vec<_>>())
    }

    /// Writes the [`RUN_RECORD`] (TOML text) into the result.
    pub fn write_run_record(&self, text: &str) -> Result<()> {
        std::fs::write(self.staged.tmp().join(RUN_RECORD), text).map_err(|e| CtcError::io(self.dest().join(RUN_RECORD), &e))
    }

    /// Writes `res_track.txt` and moves the finished result to its destination,
    /// replacing an earlier result there.
    pub fn finish(self, tracks: &[TrackRecord]) -> Result<PathBuf> {
        track_file::write_tracks(&self.staged.tmp().join("res_track.txt"), tracks)
            .map_err(|e| CtcError::new(self.dest().join("res_track.txt"), e.what))?;
        self.staged.publish()
    }

    /// Moves the finished masks to their destination without a track file: a
    /// segmentation-only result (enough for the CTC SEG measure, not for TRA),
    /// e.g. from `cellstream postprocess`. Replaces an earlier result there.
    pub fn finish_masks_only(self) -> Result<PathBuf> {
        self.staged.publish()
    }
}

#[cfg(test)]
mod tests {
    /// What a killed run left is removed when the same output is written
    /// again; what a running process is writing is kept.
    #[test]
    fn leftovers_of_killed_runs_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let dead = gone.id();
        gone.wait().unwrap();
        let leftovers = [format!(".01_RES.partial-{dead}"), format!(".01_RES.old-{dead}")];
        let running = ".01_RES.partial-1"; // init: always running
        for name in leftovers.iter().map(String::as_str).chain([running, ".02_RES.partial-1"]) {
            std::fs::create_dir_all(d.path().join(name).join("x")).unwrap();
        }
        std::fs::write(d.path().join(format!(".c.csv.{dead}.tmp")), "half").unwrap();
        let staged = super::StagedFolder::create(&d.path().join("01_RES"), |_| false, "a CTC result").unwrap();
        super::remove_stale(d.path(), "c.csv");
        let mut names: Vec<String> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        let own = staged.tmp().file_name().unwrap().to_string_lossy().into_owned();
        let mut want = vec![running.to_string(), ".02_RES.partial-1".to_string(), own];
        want.sort();
        assert_eq!(names, want);
    }

    use super::*;
    use ndarray::array;

    #[test]
    fn errors_inside_the_hidden_folder_name_the_folder_asked_for() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("g.geff");
        let staged = StagedFolder::create(&dest, |_| false, "a GEFF").unwrap();
        let e = staged.shown(CtcError::new(staged.tmp().join("nodes/props/t"), "No space left on device"));
        assert_eq!(e.path, dest.join("nodes/props/t"));
        // A path elsewhere is left as it is.
        let e = staged.shown(CtcError::new(d.path().join("masks/mask000.tif"), "corrupt"));
        assert_eq!(e.path, d.path().join("masks/mask000.tif"));
    }

    #[test]
    fn refuses_truth_folders() {
        let d = tempfile::tempdir().unwrap();
        for name in ["01_GT", "01_ST"] {
            let e = ResultWriter::create(&d.path().join(name), 3).unwrap_err();
            assert!(e.what.contains("truth folder"), "{e}");
        }
        let e = ResultWriter::create(&d.path().join("01_GT/SEG"), 3).unwrap_err();
        assert!(e.what.contains("truth folder"), "{e}");
    }

    #[test]
    fn nothing_appears_until_finish() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("01_RES");
        {
            let w = ResultWriter::create(&dest, 3).unwrap();
            w.write_mask(0, &array![[0, 1]]).unwrap();
            // dropped without finish: an interrupted run
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0, "temporary folder left behind");
        let w = ResultWriter::create(&dest, 4).unwrap();
        w.write_mask(0, &array![[0, 1]]).unwrap();
        w.finish(&[TrackRecord::new(1, 0, 0, 0)]).unwrap();
        assert!(dest.join("mask0000.tif").is_file());
        assert!(dest.join("res_track.txt").is_file());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn replaces_old_result_but_not_foreign_folders() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("01_RES");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("mask005.tif"), b"old").unwrap();
        let w = ResultWriter::create(&dest, 3).unwrap();
        w.write_mask(0, &array![[1]]).unwrap();
        w.finish(&[TrackRecord::new(1, 0, 0, 0)]).unwrap();
        assert!(!dest.join("mask005.tif").exists());
        std::fs::write(dest.join("thesis.docx"), b"precious").unwrap();
        let e = ResultWriter::create(&dest, 3).unwrap_err();
        assert!(e.what.contains("thesis.docx"), "{e}");
    }

    #[test]
    fn masks_only_result_has_no_track_file_and_replaces_the_old_one() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("seg");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("res_track.txt"), b"1 0 0 0\n").unwrap();
        std::fs::write(dest.join("mask009.tif"), b"old").unwrap();
        let w = ResultWriter::create(&dest, 3).unwrap();
        w.write_mask(2, &array![[0, 1]]).unwrap();
        assert!(dest.join("mask009.tif").exists(), "old result replaced before finishing");
        w.finish_masks_only().unwrap();
        let mut names: Vec<String> =
            std::fs::read_dir(&dest).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, vec!["mask002.tif"]);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "temporary folders left behind");
    }

    #[test]
    fn label_overflow_names_the_result_file() {
        let d = tempfile::tempdir().unwrap();
        let w = ResultWriter::create(&d.path().join("R"), 3).unwrap();
        let e = w.write_mask(3, &array![[70000]]).unwrap_err();
        assert!(e.path.ends_with("R/mask003.tif"), "{e}");
    }
}
