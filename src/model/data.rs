//! Training sequences: normalised frames with per-frame truth, read from CTC folders.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use ndarray::Array2;

use crate::segment::{percentile_normalise, percentile_normalise_frame, PERCENTILES};
use crate::ctc::{self, FrameRange, Mask, Sequence, Truth};

/// Where a frame's training truth came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TruthSource {
    GoldSeg,
    SilverSeg,
    /// Tracking masks used as segmentation (GT, else ST, `TRA/`).
    TrackingMarkers,
}

/// One sequence ready for training: frames normalised per frame
/// (percentiles 1–99.8) and the truth of each frame, if any.
#[derive(Debug, Clone)]
pub struct TrainSequence {
    pub name: String,
    /// CTC frame number of each kept frame.
    pub times: Vec<usize>,
    pub frames: Vec<Array2<f32>>,
    pub truth: Vec<Option<Mask>>,
    pub sources: Vec<Option<TruthSource>>,
}

impl TrainSequence {
    /// A sequence from raw frames held in memory (normalised here); `truth`
    /// has one entry per frame. Frames and masks must share one size.
    pub fn from_frames(name: &str, frames: Vec<Array2<f32>>, truth: Vec<Option<Mask>>) -> Result<TrainSequence> {
        if frames.is_empty() || frames.len() != truth.len() {
            bail!("{name}: {} frames but {} truth entries (need one per frame, at least one)", frames.len(), truth.len());
        }
        let dim = frames[0].dim();
        for (t, (f, m)) in frames.iter().zip(&truth).enumerate() {
            if f.dim() != dim || m.as_ref().is_some_and(|m| m.dim() != dim) {
                bail!("{name}: frame {t} or its mask differs in size from frame 0");
            }
        }
        let sources = truth.iter().map(|m| m.as_ref().map(|_| TruthSource::GoldSeg)).collect();
        let frames = frames.iter().map(|f| percentile_normalise(f, PERCENTILES.0, PERCENTILES.1)).collect();
        Ok(TrainSequence { name: name.to_string(), times: (0..truth.len()).collect(), frames, truth, sources })
    }

    /// Reads a CTC sequence folder `NN` and its truth (`NN_GT`, `NN_ST`
    /// beside it), keeping frames in `range`. Each frame's truth is the first
    /// of: GT `SEG/`, ST `SEG/`, GT `TRA/`, ST `TRA/` that has that frame.
    pub fn load(dir: &Path, range: Option<FrameRange>) -> Result<TrainSequence> {
        Self::load_with(dir, range, false, ctc::Planes::default())
    }

    /// [`TrainSequence::load`], each frame's grey levels reversed first
    /// ([`super::invert`]) when `invert` is set, as inference does for a
    /// model trained so ([`super::ModelConfig::invert`]); of frames with
    /// several channels or z slices, the [`ctc::Planes`] named.
    pub fn load_with(dir: &Path, range: Option<FrameRange>, invert: bool, planes: ctc::Planes) -> Result<TrainSequence> {
        let seq = Sequence::open(dir)?.with_planes(planes);
        let truth_dirs = seq.truth_dirs();
        if truth_dirs.is_empty() {
            bail!("{}: no truth beside it (expected {n}_GT or {n}_ST)", dir.display(), n = seq.name());
        }
        let truths: Vec<Truth> = truth_dirs.iter().map(|d| Truth::open(d)).collect::<ctc::Result<_>>()?;
        let gold = |t: &Truth| t.dir.file_name().is_some_and(|n| n.to_string_lossy().ends_with("_GT"));
        let outlines = tracking_masks_are_outlines(&truths)?;
        let tra_outlines = matches!(outlines, Outlines::Untold(_));
        let masks: Vec<&ctc::FrameFiles> =
            truths.iter().flat_map(|tr| tr.seg.iter().chain(tr.tra.as_ref().filter(|_| tra_outlines).map(|t| &t.0))).collect();
        masks_have_frames(dir, &seq.frames, &masks, range)?;
        let mut warned_binary = false;
        let mut out = TrainSequence { name: seq.name(), times: vec![], frames: vec![], truth: vec![], sources: vec![] };
        for t in seq.frames.times().filter(|&t| range.is_none_or(|r| r.contains(t))) {
            let path = seq.frames.path(t).expect("listed frame");
            // NaN or infinite pixels (a float image's "no data") as background, as `track` takes them.
            let frame = crate::segment::fill_non_finite(seq.read(t)?).0;
            let frame = if invert { super::invert(&frame) } else { frame };
            if let Some(first) = out.frames.first()
                && first.dim() != frame.dim()
            {
                bail!("{}: frame size differs from the sequence's first frame", path.display());
            }
            let seg = truths.iter().find_map(|tr| {
                let p = tr.seg.as_ref()?.path(t)?;
                Some((p.to_path_buf(), if gold(tr) { TruthSource::GoldSeg } else { TruthSource::SilverSeg }))
            });
            let found = seg.or_else(|| {
                truths.iter().filter(|_| tra_outlines).find_map(|tr| Some((tr.tra.as_ref()?.0.path(t)?.to_path_buf(), TruthSource::TrackingMarkers)))
            });
            let (mask, source) = match found {
                Some((p, source)) => {
                    let m = ctc::read_mask(&p)?;
                    if m.dim() != frame.dim() {
                        bail!("{}: mask is {}×{} but frame {t} is {}×{} (width×height)", p.display(), m.dim().1, m.dim().0, frame.dim().1, frame.dim().0);
                    }
                    if !warned_binary && let Some(pieces) = binary_mask_pieces(&m) {
                        eprintln!(
                            "warning: {}: one label for {pieces} separate objects: a binary (semantic) mask, not instance labels? Each cell needs a label of its own (0 background, 1, 2, … the cells), or the network learns no boundaries between them",
                            p.display()
                        );
                        warned_binary = true;
                    }
                    (Some(m), Some(source))
                }
                None => (None, None),
            };
            out.times.push(t);
            out.frames.push(percentile_normalise_frame(&frame, PERCENTILES.0, PERCENTILES.1));
            out.truth.push(mask);
            out.sources.push(source);
        }
        if out.frames.is_empty() {
            let held = seq.frames.span().map_or_else(|| "no frames".to_string(), |(a, b)| format!("frames {a}–{b}"));
            bail!("{}: no frames in the range {} (it holds {held})", dir.display(), range.map(String::from).unwrap_or_default());
        }
        if let Outlines::Untold(folders) = &outlines
            && !folders.is_empty()
            && out.sources.contains(&Some(TruthSource::TrackingMarkers))
        {
            eprintln!(
                "note: {}: its tracking masks stand in for segmentation on frames without SEG, taken as outlines: no frame has SEG as well to tell them from markers. If they are markers (as in most of the CTC's gold truth), train without TRA/",
                folders.join(", ")
            );
        }
        if out.truth.iter().all(Option::is_none) {
            let names: Vec<String> = truth_dirs.iter().map(|d| d.display().to_string()).collect();
            bail!("{}: none of the chosen frames has truth in {}", dir.display(), names.join(" or "));
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Frames with truth, by source: (gold SEG, silver SEG, tracking markers).
    pub fn truth_counts(&self) -> (usize, usize, usize) {
        let n = |s| self.sources.iter().filter(|&&x| x == Some(s)).count();
        (n(TruthSource::GoldSeg), n(TruthSource::SilverSeg), n(TruthSource::TrackingMarkers))
    }
}

/// Of a mask with a single label, the number of separate (8-connected)
/// objects it draws, when there are several: a binary mask saved where
/// instance labels were meant (a thresholded image from Fiji).
fn binary_mask_pieces(m: &ctc::Mask) -> Option<usize> {
    let mut labels = m.iter().filter(|&&l| l != 0);
    let first = *labels.next()?;
    if labels.any(|&l| l != first) {
        return None;
    }
    let (_, n) = crate::post::label_components(m.mapv(|l| l != 0).view(), crate::post::Connectivity::Eight);
    (n > 1).then_some(n)
}

/// What the tracking masks of a sequence's truth were found to be.
enum Outlines {
    Markers,
    /// Outlines, as far as could be told: the `TRA/` folders where no frame
    /// has SEG as well to compare with.
    Untold(Vec<String>),
}

/// Refuses truth masks (of the time points in `range`) that have no frame
/// of their number in `frames`: masks pair with frames by number, so a mask
/// without its frame means frames or masks numbered otherwise than the
/// other (from 1 against from 0), and training would pair every mask with
/// the wrong frame. The error names the first such mask, how many there
/// are, and the offset that would pair them all, where one does.
fn masks_have_frames(dir: &Path, frames: &ctc::FrameFiles, masks: &[&ctc::FrameFiles], range: Option<FrameRange>) -> Result<()> {
    let orphans: Vec<(usize, &Path)> = masks
        .iter()
        .flat_map(|m| m.times().filter(|&t| FrameRange::admits(range, t) && frames.path(t).is_none()).map(|t| (t, m.path(t).expect("listed mask"))))
        .collect();
    let Some(&(t, first)) = orphans.first() else { return Ok(()) };
    let held = frames.span().map_or_else(|| "none".to_string(), |(a, b)| format!("{a}–{b}"));
    let more = match orphans.len() {
        1 => String::new(),
        n => format!(" ({} more masks have no frame either)", n - 1),
    };
    // Numbered from 1 against from 0, or any other shift that would pair every mask.
    let mask_first = masks.iter().filter_map(|m| m.span()).map(|s| s.0).min().expect("a mask is listed");
    let shift = frames.span().and_then(|(a, b)| {
        let pairs = |t: usize| (t + a).checked_sub(mask_first).is_some_and(|u| frames.path(u).is_some());
        masks.iter().all(|m| m.times().all(pairs)).then(|| {
            let mask_last = masks.iter().filter_map(|m| m.span()).map(|s| s.1).max().expect("a mask is listed");
            format!("; the masks are numbered {mask_first}–{mask_last} and the frames {a}–{b}: renumber one or the other so that each mask bears its frame's number")
        })
    });
    bail!(
        "{}: a mask of frame {t}, but {} has no frame {t} (its frames are {held}){more}. Masks pair with frames by number{}",
        first.display(),
        dir.display(),
        shift.unwrap_or_else(|| ": give each mask its frame's number, remove the masks of frames that are not there, or train on a span whose frames are all there (--frames A-B)".to_string())
    )
}

/// Whether the tracking masks (`TRA/`) of `truths` outline the cells, so
/// that they can stand in for segmentation where a frame has none (as in
/// Fluo-N2DH-SIM+), or are markers (most of the CTC's gold truth: a blob
/// inside each cell). Told on up to three frames that have both: markers
/// cover less than half the segmentation's cell pixels. Said when they are
/// markers; taken as outlines where no frame has both, those truth folders
/// returned to be named if their masks are used.
fn tracking_masks_are_outlines(truths: &[Truth]) -> Result<Outlines> {
    let foreground = |p: &Path| -> Result<usize> { Ok(ctc::read_mask(p)?.iter().filter(|&&l| l != 0).count()) };
    let mut untold = Vec::new();
    for tr in truths {
        let Some((tra, _)) = &tr.tra else { continue };
        let both: Vec<usize> = tr.seg.as_ref().map(|seg| seg.times().filter(|&t| tra.path(t).is_some()).take(3).collect()).unwrap_or_default();
        let Some(seg) = tr.seg.as_ref().filter(|_| !both.is_empty()) else {
            untold.push(tra.dir.display().to_string());
            continue;
        };
        let (mut covered, mut cells) = (0, 0);
        for &t in &both {
            covered += foreground(tra.path(t).expect("listed"))?;
            cells += foreground(seg.path(t).expect("listed"))?;
        }
        if cells > 0 && 2 * covered < cells {
            eprintln!(
                "{}: its tracking masks are markers, not outlines (they cover {:.0}% of the cells' pixels in SEG on frames {}), so frames without SEG carry no truth",
                tra.dir.display(),
                100.0 * covered as f64 / cells as f64,
                both.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
            );
            return Ok(Outlines::Markers);
        }
    }
    Ok(Outlines::Untold(untold))
}

/// The sequence folders a path names: itself when it holds `tTTT.tif`
/// frames, else its subfolders named by digits that hold TIFFs (a dataset
/// folder such as `PhC-C2DL-PSC/` holding `01/`, `02/`; [`ctc::dataset_sequences`]).
pub fn sequence_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    // A truth or result folder given for its sequence: name the one meant.
    let named = |p: &Path| p.canonicalize().ok().and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_default();
    let beside = |p: &Path| -> Option<(String, PathBuf)> {
        let name = named(p);
        let (seq, kind) = name.rsplit_once('_')?;
        (seq.bytes().all(|b| b.is_ascii_digit()) && ["GT", "ST", "RES"].contains(&kind)).then(|| (seq.to_string(), p.join("..")))
    };
    let truth_part = ["SEG", "TRA"].contains(&named(dir).as_str());
    if let Some((seq, parent)) = beside(dir).or_else(|| truth_part.then(|| beside(&dir.join(".."))).flatten()) {
        let parent = parent.canonicalize().unwrap_or(parent);
        return Err(anyhow!(
            "{}: is a truth or result folder, not a sequence; --data takes the sequence folder {} (its truth is found beside it) or the dataset folder {}",
            dir.display(),
            parent.join(&seq).display(),
            parent.display()
        ));
    }
    // tTTT.tif frames, or any TIFFs numbered at the end of their names
    // (img_1.tif), as `track` reads a sequence folder.
    let is_frame = |p: &PathBuf| {
        p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
            let lower = n.to_ascii_lowercase();
            ctc::parse_frame_name(n, "t").is_some() || ((lower.ends_with(".tif") || lower.ends_with(".tiff")) && lower.trim_end_matches(".tiff").trim_end_matches(".tif").ends_with(|c: char| c.is_ascii_digit()))
        })
    };
    if entries.iter().any(is_frame) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let seqs: Vec<PathBuf> = ctc::dataset_sequences(dir).into_iter().map(|n| dir.join(n)).collect();
    if seqs.is_empty() {
        return Err(anyhow!("{}: neither a sequence folder (tTTT.tif frames) nor a dataset folder (NN/ sequence subfolders)", dir.display()));
    }
    Ok(seqs)
}

/// Loads every sequence the given folders name (see [`sequence_dirs`]).
pub fn load_sequences(dirs: &[PathBuf], range: Option<FrameRange>, invert: bool, planes: ctc::Planes) -> Result<Vec<TrainSequence>> {
    let mut out = Vec::new();
    for d in dirs {
        for s in sequence_dirs(d)? {
            // Of a dataset folder, a sequence without truth (CTC's test
            // sequences) is left out, said so; one named itself must have it.
            if s != *d && Sequence::open(&s)?.truth_dirs().is_empty() {
                eprintln!("{}: no truth beside it (NN_GT or NN_ST); left out of training", s.display());
                continue;
            }
            out.push((s.display().to_string(), TrainSequence::load_with(&s, range, invert, planes)?));
        }
    }
    if out.is_empty() {
        bail!("no training data given (--data DIR)");
    }
    // Named by the folder's own name ("01") where that tells them apart,
    // else by the path given (sim/01 and psc/01).
    let names: Vec<String> = out.iter().map(|(_, s)| s.name.clone()).collect();
    let out: Vec<TrainSequence> = out
        .into_iter()
        .map(|(path, mut seq)| {
            if names.iter().filter(|n| **n == seq.name).count() > 1 {
                seq.name = path;
            }
            seq
        })
        .collect();
    Ok(out)
}

/// Refuses training data no window can be drawn from: at least one
/// sequence needs `window` consecutive training frames ([`split`]) with truth
/// among them. The error says of each sequence why it gives none: too few
/// frames for the window, or every annotated frame held out for validation,
/// or none annotated among its training frames.
pub fn check_trainable(data: &[TrainSequence], fraction: f64, window: usize) -> Result<()> {
    let mut why = Vec::new();
    for s in data {
        let (train, val) = split(s.len(), fraction, window);
        let span = |r: &std::ops::Range<usize>| format!("{}–{}", s.times[r.start], s.times[r.end - 1]);
        let annotated = |r: &std::ops::Range<usize>| s.truth[r.clone()].iter().any(Option::is_some);
        if train.len() < window {
            why.push(format!("{} has {} frames, fewer than the window of {window} (--window {} or less)", s.name, s.len(), s.len()));
        } else if !annotated(&train) && !val.is_empty() && annotated(&val) {
            why.push(format!(
                "{}: every annotated frame lies in the validation block (frames {}); --val-fraction 0 trains on them, or annotate a frame among {}",
                s.name,
                span(&val),
                span(&train)
            ));
        } else if !annotated(&train) {
            why.push(format!("{}: none of its training frames ({}) has truth", s.name, span(&train)));
        } else {
            return Ok(());
        }
    }
    bail!("no training window of {window} consecutive frames with truth among them: {}", why.join("; "))
}

/// The split of a sequence's frames (indices) into training frames and a
/// later, disjoint validation block of `round(fraction·len)` frames. The
/// training part keeps at least `window` frames; if it cannot, there is no
/// validation block.
pub fn split(len: usize, fraction: f64, window: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let val = ((len as f64) * fraction).round() as usize;
    if val == 0 || len < val + window {
        return (0..len, len..len);
    }
    (0..len - val, len - val..len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_block_is_last_and_disjoint() {
        assert_eq!(split(35, 0.15, 5), (0..30, 30..35));
        assert_eq!(split(6, 0.15, 5), (0..5, 5..6));
        assert_eq!(split(5, 0.15, 5), (0..5, 5..5));
        assert_eq!(split(20, 0.0, 5), (0..20, 20..20));
    }

    #[test]
    fn folders_without_frames_or_truth_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let e = sequence_dirs(d.path()).unwrap_err().to_string();
        assert!(e.contains("neither a sequence folder"), "{e}");
        let seq = d.path().join("01");
        std::fs::create_dir(&seq).unwrap();
        ctc::write_frame(&seq.join("t000.tif"), &ctc::Frame::U8(Array2::zeros((4, 4)))).unwrap();
        assert_eq!(sequence_dirs(d.path()).unwrap(), vec![seq.clone()]);
        let e = TrainSequence::load(&seq, None).unwrap_err().to_string();
        assert!(e.contains("no truth beside it") && e.contains("01_GT"), "{e}");
        std::fs::create_dir_all(d.path().join("01_ST/SEG")).unwrap();
        ctc::write_mask(&d.path().join("01_ST/SEG/man_seg000.tif"), &Mask::zeros((4, 5))).unwrap();
        let e = TrainSequence::load(&seq, None).unwrap_err().to_string();
        assert!(e.contains("man_seg000.tif") && e.contains("5×4"), "{e}");
        let e = TrainSequence::load(&seq, Some("3-9".parse().unwrap())).unwrap_err().to_string();
        assert!(e.contains("no frames in the range 3-9"), "{e}");
    }

    #[test]
    fn data_without_a_training_window_says_why() {
        let frames = |n: usize| (0..n).map(|_| Array2::<f32>::zeros((4, 4))).collect::<Vec<_>>();
        let cell = || Some(Mask::from_elem((4, 4), 1));
        // Every frame annotated, but 12 frames against a window of 30.
        let all = TrainSequence::from_frames("01", frames(12), (0..12).map(|_| cell()).collect()).unwrap();
        let e = check_trainable(std::slice::from_ref(&all), 0.15, 30).unwrap_err().to_string();
        assert!(e.contains("01 has 12 frames, fewer than the window of 30 (--window 12 or less)"), "{e}");
        assert!(check_trainable(std::slice::from_ref(&all), 0.15, 5).is_ok());
        // Truth on the last two frames alone, which validation holds out.
        let late = TrainSequence::from_frames("02", frames(12), (0..12).map(|t| if t >= 10 { cell() } else { None }).collect()).unwrap();
        let e = check_trainable(std::slice::from_ref(&late), 0.15, 3).unwrap_err().to_string();
        assert!(e.contains("02: every annotated frame lies in the validation block (frames 10–11); --val-fraction 0 trains on them, or annotate a frame among 0–9"), "{e}");
        assert!(check_trainable(std::slice::from_ref(&late), 0.0, 3).is_ok());
        // One trainable sequence is enough.
        assert!(check_trainable(&[late, all], 0.15, 3).is_ok());
    }

    #[test]
    fn masks_without_their_frame_are_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        let seq = d.path().join("01");
        std::fs::create_dir_all(d.path().join("01_GT/SEG")).unwrap();
        std::fs::create_dir(&seq).unwrap();
        // Frames numbered from 1 (img_1 … img_4), masks from 0: each mask would
        // pair with the frame after its own, and mask 0 with none.
        for t in 0..4 {
            ctc::write_frame(&seq.join(format!("img_{}.tif", t + 1)), &ctc::Frame::U8(Array2::zeros((4, 4)))).unwrap();
            ctc::write_mask(&d.path().join(format!("01_GT/SEG/man_seg{t:03}.tif")), &Mask::from_elem((4, 4), 1)).unwrap();
        }
        let e = TrainSequence::load(&seq, None).unwrap_err().to_string();
        assert!(e.contains("man_seg000.tif: a mask of frame 0, but") && e.contains("has no frame 0 (its frames are 1–4)"), "{e}");
        assert!(e.contains("the masks are numbered 0–3 and the frames 1–4: renumber"), "{e}");
        // A span that leaves the orphan out trains on the masks it holds.
        assert_eq!(TrainSequence::load(&seq, Some("2-4".parse().unwrap())).unwrap().times, vec![2, 3, 4]);
        // A stray mask past the last frame: named, with no renumbering to suggest.
        std::fs::rename(seq.join("img_4.tif"), seq.join("img_0.tif")).unwrap();
        ctc::write_mask(&d.path().join("01_GT/SEG/man_seg040.tif"), &Mask::from_elem((4, 4), 1)).unwrap();
        let e = TrainSequence::load(&seq, None).unwrap_err().to_string();
        assert!(e.contains("man_seg040.tif: a mask of frame 40") && e.contains("its frames are 0–3") && e.contains("remove the masks of frames that are not there"), "{e}");
        assert!(!e.contains("more masks"), "{e}");
    }

    #[test]
    fn truth_priority_gold_then_silver_then_tracking() {
        let d = tempfile::tempdir().unwrap();
        let seq = d.path().join("02");
        std::fs::create_dir(&seq).unwrap();
        for t in 0..3 {
            ctc::write_frame(&seq.join(format!("t00{t}.tif")), &ctc::Frame::U8(Array2::from_elem((4, 4), t as u8))).unwrap();
        }
        let mask = |v: u32| Mask::from_elem((4, 4), v);
        std::fs::create_dir_all(d.path().join("02_GT/SEG")).unwrap();
        std::fs::create_dir_all(d.path().join("02_GT/TRA")).unwrap();
        std::fs::create_dir_all(d.path().join("02_ST/SEG")).unwrap();
        ctc::write_mask(&d.path().join("02_GT/SEG/man_seg000.tif"), &mask(1)).unwrap();
        ctc::write_mask(&d.path().join("02_ST/SEG/man_seg000.tif"), &mask(2)).unwrap();
        ctc::write_mask(&d.path().join("02_ST/SEG/man_seg001.tif"), &mask(3)).unwrap();
        for t in 0..3 {
            ctc::write_mask(&d.path().join(format!("02_GT/TRA/man_track00{t}.tif")), &mask(4)).unwrap();
        }
        std::fs::write(d.path().join("02_GT/TRA/man_track.txt"), "4 0 2 0\n").unwrap();
        let s = TrainSequence::load(&seq, None).unwrap();
        let first: Vec<u32> = s.truth.iter().map(|m| m.as_ref().unwrap()[(0, 0)]).collect();
        assert_eq!(first, vec![1, 3, 4]);
        assert_eq!(s.truth_counts(), (1, 1, 1));
        let s = TrainSequence::load(&d.path().join("02"), Some("1-1".parse().unwrap())).unwrap();
        assert_eq!(s.times, vec![1]);
    }

    /// `dir/01`, for one 6×5 frame the caller writes as `t000.tif`, with a
    /// truth that labels the whole frame one cell.
    fn one_frame_sequence(dir: &Path) -> PathBuf {
        let seq = dir.join("01");
        std::fs::create_dir_all(dir.join("01_GT/SEG")).unwrap();
        std::fs::create_dir(&seq).unwrap();
        ctc::write_mask(&dir.join("01_GT/SEG/man_seg000.tif"), &Mask::from_elem((6, 5), 1)).unwrap();
        seq
    }

    #[test]
    fn inverted_loading_normalises_the_inverted_frames() {
        let d = tempfile::tempdir().unwrap();
        let seq = one_frame_sequence(d.path());
        let frame = ctc::Frame::U16(Array2::from_shape_fn((6, 5), |(y, x)| (y * 900 + x * 40) as u16));
        ctc::write_frame(&seq.join("t000.tif"), &frame).unwrap();
        let plain = TrainSequence::load_with(&seq, None, false, ctc::Planes::default()).unwrap();
        let inverted = TrainSequence::load_with(&seq, None, true, ctc::Planes::default()).unwrap();
        assert_eq!(plain.frames[0], percentile_normalise_frame(&frame, PERCENTILES.0, PERCENTILES.1));
        assert_eq!(inverted.frames[0], percentile_normalise_frame(&super::super::invert(&frame), PERCENTILES.0, PERCENTILES.1));
        // The brightest pixel becomes the darkest.
        assert!(inverted.frames[0][(5, 4)] < inverted.frames[0][(0, 0)] && plain.frames[0][(5, 4)] > plain.frames[0][(0, 0)]);
    }

    #[test]
    fn a_channel_of_frames_with_several_is_loaded_as_that_channel_alone() {
        use tiff::encoder::{colortype::RGB16, TiffEncoder};
        let d = tempfile::tempdir().unwrap();
        let seq = one_frame_sequence(d.path());
        let green = Array2::from_shape_fn((6, 5), |(y, x)| (y * 900 + x * 40) as u16);
        // RGB: red and blue vary otherwise, green is the channel trained on.
        let rgb: Vec<u16> = green.iter().enumerate().flat_map(|(i, &g)| [(i * 7 % 13) as u16 * 1000, g, 60_000 - g]).collect();
        let mut file = std::fs::File::create(seq.join("t000.tif")).unwrap();
        TiffEncoder::new(&mut file).unwrap().write_image::<RGB16>(5, 6, &rgb).unwrap();
        let green_frame = ctc::Frame::U16(green);
        let got = TrainSequence::load_with(&seq, None, false, Some(2).into()).unwrap();
        assert_eq!(got.frames[0], percentile_normalise_frame(&green_frame, PERCENTILES.0, PERCENTILES.1));
        let e = TrainSequence::load_with(&seq, None, false, ctc::Planes::default()).unwrap_err().to_string();
        assert!(e.contains("t000.tif") && e.contains("--channel 1 to 3"), "{e}");
    }

    #[test]
    fn z_slices_are_loaded_as_their_projection() {
        use tiff::encoder::{colortype::Gray16, TiffEncoder};
        let d = tempfile::tempdir().unwrap();
        let seq = one_frame_sequence(d.path());
        let slices: Vec<Array2<u16>> = (0..3u16).map(|z| Array2::from_shape_fn((6, 5), |(y, x)| (y * 900 + x * 40) as u16 ^ (z * 301))).collect();
        let mut file = std::fs::File::create(seq.join("t000.tif")).unwrap();
        let mut tiff = TiffEncoder::new(&mut file).unwrap();
        for s in &slices {
            tiff.write_image::<Gray16>(5, 6, s.as_slice().unwrap()).unwrap();
        }
        drop(file);
        for kind in [ctc::Projection::Max, ctc::Projection::Mean] {
            let projected = ctc::z_project(&seq, kind, slices.iter().map(|s| Ok(ctc::Frame::U16(s.clone())))).unwrap();
            let got = TrainSequence::load_with(&seq, None, false, ctc::Planes { project: Some(kind), ..ctc::Planes::default() }).unwrap();
            assert_eq!(got.frames[0], percentile_normalise_frame(&projected, PERCENTILES.0, PERCENTILES.1), "{kind:?}");
        }
        let e = TrainSequence::load_with(&seq, None, false, ctc::Planes::default()).unwrap_err().to_string();
        assert!(e.contains("t000.tif") && e.contains("--project max"), "{e}");
    }
}
