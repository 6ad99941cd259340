//! Writing a simulated sequence to disk in CTC layout, all or nothing.
use std::path::{Path, PathBuf};

use super::{simulate, ConfigError, SimConfig, SimStats};
use crate::ctc::{self, CtcError};

/// Why a sequence could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    File(#[from] CtcError),
}

/// Removes the temporary folder unless the sequence was published.
struct Scratch(Option<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

fn mkdir(p: &Path) -> Result<(), CtcError> {
    std::fs::create_dir_all(p).map_err(|e| CtcError::new(p, format!("cannot create folder: {e}")))
}

/// Simulates `cfg` into `out/01/tTTT.tif`, `out/01_GT/SEG/man_segTTT.tif` and
/// `out/01_GT/TRA/man_trackTTT.tif` + `man_track.txt`. Everything is written
/// into a hidden folder inside `out` first and moved into place at the end,
/// so a failed run leaves no partial sequence. `out/01` and `out/01_GT` must
/// not exist yet (a real dataset is never overwritten).
pub fn write_sequence(cfg: &SimConfig, out: &Path) -> Result<SimStats, WriteError> {
    let made = !out.exists();
    let result = write_staged(cfg, out);
    if result.is_err() && made {
        // Only if still empty: the folder this run made, and nothing else.
        let _ = std::fs::remove_dir(out);
    }
    result
}

fn write_staged(cfg: &SimConfig, out: &Path) -> Result<SimStats, WriteError> {
    cfg.check()?;
    ctc::refuse_truth_folder(out)?;
    if out.exists() && !out.is_dir() {
        return Err(CtcError::new(out, "exists and is not a folder").into());
    }
    let (raw_dest, gt_dest) = (out.join("01"), out.join("01_GT"));
    for d in [&raw_dest, &gt_dest] {
        if d.exists() {
            return Err(CtcError::new(d, "already exists; remove it or choose another --out folder").into());
        }
    }
    mkdir(out)?;
    crate::ctc::remove_stale(out, "simulate");
    let tmp = out.join(format!(".simulate.partial-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| CtcError::new(&tmp, format!("cannot clear: {e}")))?;
    }
    let _scratch = Scratch(Some(tmp.clone()));
    // Errors name the file asked for (out/01/t003.tif), not the hidden one.
    let shown = |e: CtcError| ctc::shown_as(e, &tmp, out);
    let (raw_dir, seg_dir, tra_dir) = (tmp.join("01"), tmp.join("01_GT/SEG"), tmp.join("01_GT/TRA"));
    for d in [&raw_dir, &seg_dir, &tra_dir] {
        mkdir(d)?;
    }
    let digits = if cfg.frames > 1000 { 4 } else { 3 };
    let mut sim = simulate(cfg)?;
    let mut stats = SimStats::default();
    let mut first = true;
    for f in sim.by_ref() {
        if std::mem::take(&mut first) {
            // The frame holds fewer cells than asked for where they do not
            // fit (a few may lie hidden under others, or outside the frame).
            let placed = f.mask.iter().copied().collect::<std::collections::BTreeSet<u32>>().len().saturating_sub(1);
            if placed * 10 < cfg.cells * 9 {
                eprintln!("note: {placed} of the {} cells asked for fit into the first {}×{} frame", cfg.cells, cfg.width, cfg.height);
            }
        }
        let tt = format!("{:0digits$}", f.t);
        ctc::write_frame(&raw_dir.join(format!("t{tt}.tif")), &f.raw).map_err(shown)?;
        ctc::write_mask(&seg_dir.join(format!("man_seg{tt}.tif")), &f.mask).map_err(shown)?;
        ctc::write_mask(&tra_dir.join(format!("man_track{tt}.tif")), &f.mask).map_err(shown)?;
        stats.add_mask(&f.mask);
    }
    let tracks = sim.tracks();
    ctc::write_tracks(&tra_dir.join("man_track.txt"), &tracks).map_err(shown)?;
    stats.set_tracks(&tracks);
    let publish = |from: &Path, to: &Path| std::fs::rename(from, to).map_err(|e| CtcError::new(to, format!("cannot move into place: {e}")));
    publish(&raw_dir, &raw_dest)?;
    if let Err(e) = publish(&tmp.join("01_GT"), &gt_dest) {
        let _ = std::fs::rename(&raw_dest, &raw_dir);
        return Err(e.into());
    }
    Ok(stats) // `scratch` removes the now empty temporary folder

}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::Modality;

    #[test]
    fn an_unpublished_scratch_folder_is_removed() {
        let d = tempfile::tempdir().unwrap();
        let tmp = d.path().join(".simulate.partial-1");
        std::fs::create_dir_all(tmp.join("01_GT/TRA")).unwrap();
        std::fs::write(tmp.join("01_GT/TRA/man_track000.tif"), b"half").unwrap();
        drop(Scratch(Some(tmp.clone())));
        assert!(!tmp.exists());
    }

    #[test]
    fn writes_the_ctc_layout_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let cfg = SimConfig { frames: 2, width: 40, height: 32, ..SimConfig::new(Modality::Colony) };
        let stats = write_sequence(&cfg, d.path()).unwrap();
        assert_eq!(stats.frames, 2);
        let mut names: Vec<String> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["01", "01_GT"]);
        assert!(d.path().join("01/t001.tif").is_file());
        assert!(d.path().join("01_GT/SEG/man_seg001.tif").is_file());
        assert!(d.path().join("01_GT/TRA/man_track001.tif").is_file());
        assert!(d.path().join("01_GT/TRA/man_track.txt").is_file());
    }
}
