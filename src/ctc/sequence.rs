//! Finding the frames of a CTC sequence and of its truth or result folders.
//!
//! A sequence folder `NN/` holds `tTTT.tif` (3 or 4 digits); truth lives beside
//! it in `NN_GT/SEG/man_segTTT.tif`, `NN_GT/TRA/man_trackTTT.tif` +
//! `man_track.txt` (silver truth: `NN_ST/SEG`); results in `NN_RES/maskTTT.tif`
//! + `res_track.txt`. Listing a folder reads no image: frames stream later.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::{CtcError, Result};
use super::dataset::{dataset_sequences, truth_folders};
use super::frame_range::FrameRange;
use super::pattern::{is_pattern, list_pattern_files, list_pattern_planes, list_slice_files, names_slices, suggest_pattern};
use super::planes::Planes;
use super::tiff_io::{self, Frame, Mask};
use super::track_file::{self, TrackRecord};

/// Frame files of one kind in one folder, keyed by time point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameFiles {
    /// The folder; or, for frames named by a pattern, the pattern's path
    /// (`DIR/img_{t}_DAPI_000.tif`), which lists them again.
    pub dir: PathBuf,
    /// File name prefix: "t", "mask", "man_seg", "man_track".
    pub prefix: String,
    /// Digits in the time stamp (3 or 4 in CTC data).
    pub digits: usize,
    pub files: BTreeMap<usize, PathBuf>,
}

impl FrameFiles {
    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    pub fn times(&self) -> impl Iterator<Item = usize> + '_ {
        self.files.keys().copied()
    }
    pub fn path(&self, t: usize) -> Option<&Path> {
        self.files.get(&t).map(|p| p.as_path())
    }
    /// First and last time point.
    pub fn span(&self) -> Option<(usize, usize)> {
        Some((*self.files.keys().next()?, *self.files.keys().next_back()?))
    }
    /// The time points missing between the first and the last.
    pub fn gaps(&self) -> Vec<usize> {
        let Some((a, b)) = self.span() else { return vec![] };
        (a..=b).filter(|t| !self.files.contains_key(t)).collect()
    }
    /// Errors if any time point between the first and last is missing.
    /// Files named by number alone (no prefix, as [`Sequence::open`] takes
    /// another tool's `img_1.tif`) name a gap by the files around it.
    pub fn require_contiguous(&self) -> Result<()> {
        self.require_contiguous_in(None)
    }

    /// [`FrameFiles::require_contiguous`] of the time points in `range`
    /// alone: a gap outside it does not matter to a command that reads it alone.
    pub fn require_contiguous_in(&self, range: Option<FrameRange>) -> Result<()> {
        let gaps: Vec<usize> = self.gaps().into_iter().filter(|&t| FrameRange::admits(range, t)).collect();
        if let (Some(&t), true) = (gaps.first(), self.prefix.is_empty()) {
            let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let (&a, before) = self.files.range(..t).next_back().expect("a gap lies after the first frame");
            let (&b, after) = self.files.range(t..).next().expect("a gap lies before the last frame");
            let more = if b > a + 2 { format!(" (and {} more)", b - a - 2) } else { String::new() };
            return Err(CtcError::new(
                &self.dir,
                format!("gap in the frame numbering: no frame {t} between {} and {}{more}", name(before), name(after)),
            ));
        }
        if !gaps.is_empty() {
            let names: Vec<String> = gaps.iter().take(3).map(|t| format!("{}{:0width$}.tif", self.prefix, t, width = self.digits)).collect();
            let (verb, more) = match gaps.len() {
                1 => ("is", String::new()),
                2..=3 => ("are", String::new()),
                n => ("are", format!(" (and {} more)", n - 3)),
            };
            return Err(CtcError::new(&self.dir, format!("gap in the frame numbering: {} {verb} missing{more}", names.join(", "))));
        }
        Ok(())
    }
}

/// Parses `<prefix><digits>.tif` (or `.tiff`) and returns (time, digit count).
pub fn parse_frame_name(name: &str, prefix: &str) -> Option<(usize, usize)> {
    let stem = name.strip_suffix(".tif").or_else(|| name.strip_suffix(".tiff"))?;
    let digits = stem.strip_prefix(prefix)?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, digits.len()))
}

/// The names of the entries of folder `dir` (in no order); an error naming
/// it where it is missing or not a folder.
pub(super) fn read_dir_names(dir: &Path) -> Result<Vec<String>> {
    let meta = std::fs::metadata(dir).map_err(|e| CtcError::io(dir, &e))?;
    if !meta.is_dir() {
        return Err(CtcError::new(dir, "is not a folder"));
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| CtcError::io(dir, &e))? {
        let entry = entry.map_err(|e| CtcError::io(dir, &e))?;
        if let Some(n) = entry.file_name().to_str() {
            names.push(n.to_string());
        }
    }
    Ok(names)
}

/// Lists `<prefix>TTT.tif` files in `dir`. Errors if the folder is missing or
/// if the digit count differs between files; an empty list is not an error here.
pub fn list_frame_files(dir: &Path, prefix: &str) -> Result<FrameFiles> {
    let mut files = BTreeMap::new();
    let mut digits = None;
    for name in read_dir_names(dir)? {
        let Some((t, d)) = parse_frame_name(&name, prefix) else { continue };
        match digits {
            None => digits = Some(d),
            Some(d0) if d0 != d => {
                return Err(CtcError::new(
                    dir,
                    format!("frame names mix {d0}- and {d}-digit time stamps (e.g. {name})"),
                ));
            }
            _ => {}
        }
        if let Some(prev) = files.insert(t, dir.join(&name)) {
            return Err(CtcError::new(
                dir,
                format!("two files for time {t}: {} and {name}", prev.display()),
            ));
        }
    }
    Ok(FrameFiles { dir: dir.to_path_buf(), prefix: prefix.to_string(), digits: digits.unwrap_or(3), files })
}

/// Lists every TIFF in `dir`, ordered by the trailing number of its name
/// (for masks or maps written by other tools: `img_12.tif`, `frame0003_masks.tif`);
/// or, where `dir` is a file-name pattern (`DIR/img_{t}_DAPI_000.tif`), the
/// files it matches, by the number `{t}` marks ([`super::FilePattern`]).
pub fn list_numbered_tiffs(dir: &Path) -> Result<Vec<(usize, PathBuf)>> {
    if is_pattern(dir) {
        if names_slices(dir) {
            return Err(CtcError::new(
                dir,
                "names z slices ({z}); label masks and probability maps hold one 2D plane a time point: name one slice, or leave {z} out",
            ));
        }
        return Ok(list_pattern_files(dir)?.into_iter().collect());
    }
    let mut out = Vec::new();
    for name in read_dir_names(dir)? {
        let lower = name.to_ascii_lowercase();
        let Some(stem) = lower.strip_suffix(".tif").or_else(|| lower.strip_suffix(".tiff")) else { continue };
        let stem = &name[..stem.len()];
        let digits: String = stem.chars().rev().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return Err(CtcError::new(dir.join(&name), "has no frame number in its name"));
        }
        let digits: String = digits.chars().rev().collect();
        let t: usize = digits
            .parse()
            .map_err(|_| CtcError::new(dir.join(&name), "frame number in its name is too large"))?;
        out.push((t, dir.join(&name)));
    }
    out.sort();
    for w in out.windows(2) {
        if w[0].0 == w[1].0 {
            // Names that differ in another number as well (`img_t001_z003.tif`)
            // hold one plane each: a z slice or a channel of a time point.
            let numbers = |p: &Path| -> Vec<String> {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let mut all: Vec<String> = name.split(|c: char| !c.is_ascii_digit()).filter(|d| !d.is_empty()).map(str::to_string).collect();
                all.pop(); // the frame number itself
                all
            };
            let names: Vec<String> = out.iter().filter_map(|(_, p)| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect();
            let planes = match suggest_pattern(&names) {
                Some(pattern) if pattern.contains("{z}") => format!(
                    "; if each file holds one plane (a channel or z slice) of a time point, name the frames by a pattern with the time point as {{t}} and the z slice as {{z}}, e.g. '{}' --project max",
                    dir.join(pattern).display()
                ),
                Some(pattern) => format!(
                    "; if each file holds one plane (a channel or z slice) of a time point, name the frames by a pattern with the time point as {{t}}, e.g. '{}'",
                    dir.join(pattern).display()
                ),
                None if numbers(&w[0].1) != numbers(&w[1].1) => "; their names differ in another number: if each file holds one z slice or channel of a time point, name the frames by a pattern with the time point as {t} (DIR/img_{t}_z000.tif)".to_string(),
                None => String::new(),
            };
            let other = w[1].1.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            return Err(CtcError::new(&w[0].1, format!("has the same frame number {} as {other}{planes}", w[0].0)));
        }
    }
    if out.is_empty() {
        return Err(CtcError::new(dir, "holds no .tif files"));
    }
    Ok(out)
}

/// The label masks in `dir` in frame order: every TIFF, numbered by the
/// trailing number of its name; the numbers must run without a hole.
pub fn list_mask_frames(dir: &Path) -> Result<Vec<(usize, PathBuf)>> {
    mask_frames_in(dir, list_numbered_tiffs(dir)?, None)
}

/// Of the numbered mask files `files` of `dir` (in time order, as
/// [`list_numbered_tiffs`] lists them), those of the time points in `range`
/// (all for None). A jump in the numbering is an error, naming the files
/// around it, where a frame it skips lies in the range.
pub fn mask_frames_in(dir: &Path, files: Vec<(usize, PathBuf)>, range: Option<FrameRange>) -> Result<Vec<(usize, PathBuf)>> {
    for w in files.windows(2) {
        if (w[0].0 + 1..w[1].0).any(|t| FrameRange::admits(range, t)) {
            return Err(CtcError::new(
                dir,
                format!(
                    "frame numbers jump from {} ({}) to {} ({}); every frame is needed to link",
                    w[0].0,
                    file_name_of(&w[0].1),
                    w[1].0,
                    file_name_of(&w[1].1)
                ),
            ));
        }
    }
    Ok(files.into_iter().filter(|(t, _)| FrameRange::admits(range, *t)).collect())
}

fn file_name_of(p: &Path) -> String {
    p.file_name().unwrap_or_default().to_string_lossy().into_owned()
}

/// Passes each `(t, item)` on while every item is the size (height, width)
/// of the first, and otherwise fails naming the item's file: all frames of
/// a sequence, and all masks of a result, must have one size.
pub fn of_one_size<T>(items: impl Iterator<Item = Result<(usize, PathBuf, T, (usize, usize))>>) -> impl Iterator<Item = Result<(usize, T)>> {
    let mut size = None;
    items.map(move |item| {
        let (t, p, x, dim) = item?;
        match size {
            None => size = Some(dim),
            Some(s) if s != dim => {
                return Err(CtcError::new(
                    &p,
                    format!("frame is {}×{} but earlier frames are {}×{} (width×height); all frames must have one size", dim.1, dim.0, s.1, s.0),
                ));
            }
            _ => {}
        }
        Ok((t, x))
    })
}

/// [`list_numbered_tiffs`] for raw frames, whose pattern may gather each
/// time point's z slices from files of their own (`{z}`).
fn list_numbered_frames(dir: &Path) -> Result<Vec<(usize, PathBuf)>> {
    if is_pattern(dir) {
        return Ok(list_pattern_files(dir)?.into_iter().collect());
    }
    list_numbered_tiffs(dir)
}

/// Whether `dir` holds a file named `*.tif` or `*.tiff` (any case); of a
/// pattern, whether it matches a file.
pub(super) fn holds_tiff_files(dir: &Path) -> std::io::Result<bool> {
    if is_pattern(dir) {
        return Ok(list_pattern_planes(dir).is_ok());
    }
    Ok(std::fs::read_dir(dir)?.flatten().any(|e| {
        let n = e.file_name().to_string_lossy().to_ascii_lowercase();
        n.ends_with(".tif") || n.ends_with(".tiff")
    }))
}

/// A raw image sequence folder `NN/tTTT.tif`.
#[derive(Debug, Clone)]
pub struct Sequence {
    pub frames: FrameFiles,
    /// The planes read of each frame file ([`Sequence::with_planes`]).
    pub planes: Planes,
}

impl Sequence {
    /// Opens a sequence folder: it must exist and hold at least one `tTTT.tif`,
    /// numbered without gaps. A folder without `tTTT.tif` files but with TIFFs
    /// numbered at the end of their names (`img_1.tif`, `frame0003.tif`, as
    /// Fiji and microscopes export them) is read in the order of those
    /// numbers ([`list_numbered_tiffs`]), also without gaps. A path whose
    /// file name is a pattern (`DIR/img_{t}_DAPI_000.tif`,
    /// [`super::FilePattern`]) takes the files of `DIR` it matches, by the
    /// number `{t}` marks; the sequence's folder is then the pattern itself.
    ///
    /// ```
    /// # let d = tempfile::tempdir().unwrap();
    /// for t in [9, 10, 11] {
    ///     std::fs::write(d.path().join(format!("img_{t}.tif")), b"").unwrap(); // listing reads no image
    /// }
    /// let seq = cellstream::ctc::Sequence::open(d.path()).unwrap();
    /// assert_eq!(seq.frames.span(), Some((9, 11)));
    /// std::fs::remove_file(d.path().join("img_10.tif")).unwrap();
    /// let e = cellstream::ctc::Sequence::open(d.path()).unwrap_err().to_string();
    /// assert!(e.contains("no frame 10 between img_9.tif and img_11.tif"), "{e}");
    /// // A truth or result folder is not a sequence.
    /// # let d = tempfile::tempdir().unwrap();
    /// std::fs::write(d.path().join("man_seg000.tif"), b"").unwrap();
    /// let e = cellstream::ctc::Sequence::open(d.path()).unwrap_err().to_string();
    /// assert!(e.contains("not raw frames"), "{e}");
    /// ```
    pub fn open(dir: &Path) -> Result<Sequence> {
        Self::open_span(dir, None)
    }

    /// [`Sequence::open`] for reading the time points in `range` alone: the
    /// frame numbering need have no gap there, wherever else it has one.
    pub fn open_span(dir: &Path, range: Option<FrameRange>) -> Result<Sequence> {
        if is_pattern(dir) {
            return Self::open_listed(dir, list_numbered_frames(dir), range);
        }
        let frames = list_frame_files(dir, "t")?;
        if frames.is_empty() {
            return Self::open_listed(dir, list_numbered_frames(dir), range);
        }
        frames.require_contiguous_in(range)?;
        Ok(Sequence { frames, planes: Planes::default() })
    }

    /// [`Sequence::open`] for a folder a live acquisition writes into and
    /// may not have started yet: while it holds no TIFF at all, looks again
    /// every `poll` for up to `wait`. Of a pattern that gathers z slices
    /// (`{z}`), the last time point may still be short of slices:
    /// [`Sequence::follow`] checks each time point as it completes.
    /// Only the time points in `range` need follow one another, as in
    /// [`Sequence::open_span`].
    pub fn open_when_ready(dir: &Path, range: Option<FrameRange>, wait: Duration, poll: Duration) -> Result<Sequence> {
        let start = Instant::now();
        while matches!(holds_tiff_files(dir), Ok(false)) && start.elapsed() < wait && !stopped_following() {
            std::thread::sleep(poll);
        }
        if names_slices(dir) {
            return Self::open_listed(dir, list_pattern_planes(dir).map(|(files, _)| files.into_iter().collect()), range);
        }
        Sequence::open_span(dir, range)
    }

    /// [`Sequence::open`] of the frames `listed` in `dir` (TIFFs numbered at
    /// the end of their names, or named by a pattern), without a gap in `range`.
    fn open_listed(dir: &Path, listed: Result<Vec<(usize, PathBuf)>>, range: Option<FrameRange>) -> Result<Sequence> {
        let listed = listed.map_err(|e| {
            if e.path != dir || is_pattern(dir) {
                return e;
            }
            let mut what = "holds no frames (expected files named t000.tif, t001.tif, … or TIFFs numbered at the end of their names)".to_string();
            let sequences = dataset_sequences(dir);
            if let Some(first) = sequences.first() {
                let (plural, which) = if sequences.len() > 1 { ("s", "one of them, such as") } else { ("", "it:") };
                what = format!(
                    "holds no frames: it is a dataset folder holding the sequence{plural} {}; give {which} {}",
                    sequences.join(", "),
                    dir.join(first).display()
                );
            }
            CtcError::new(dir, what)
        })?;
        let first = listed[0].1.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(kind) = ["man_seg", "man_track", "mask"].iter().find(|k| parse_frame_name(&first, k).is_some()) {
            return Err(CtcError::new(
                dir,
                format!("holds CTC label masks ({kind}TTT.tif), not raw frames: `track --masks` links masks, `evaluate` scores them"),
            ));
        }
        let last = listed.last().map_or(0, |f| f.0);
        let files: BTreeMap<usize, PathBuf> = listed.into_iter().collect();
        let frames = FrameFiles { dir: dir.to_path_buf(), prefix: String::new(), digits: last.to_string().len().max(3), files };
        frames.require_contiguous_in(range)?;
        Ok(Sequence { frames, planes: Planes::default() })
    }

    /// The sequence, reading `planes` of each frame file: channel
    /// `planes.channel` (from 1), a sample of each pixel of RGB or multi-band
    /// frames or a page of frame files that hold one page a channel, and the
    /// projection of z slices ([`tiff_io::read_frame_planes`]).
    pub fn with_planes(self, planes: Planes) -> Sequence {
        Sequence { planes, ..self }
    }

    /// Frame `t` of the sequence (its planes, when they are named).
    pub fn read(&self, t: usize) -> Result<Frame> {
        let path = self.frames.path(t).ok_or_else(|| CtcError::new(self.dir(), format!("holds no frame {t}")))?;
        tiff_io::read_frame_planes(path, self.planes)
    }

    pub fn dir(&self) -> &Path {
        &self.frames.dir
    }
    pub fn len(&self) -> usize {
        self.frames.len()
    }
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
    pub fn digits(&self) -> usize {
        self.frames.digits
    }
    /// The sequence's name: `01` for `…/01` (and for `.` inside it).
    pub fn name(&self) -> String {
        let dir = self.dir().canonicalize().unwrap_or_else(|_| self.dir().to_path_buf());
        dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Streams the frames in time order, one decoded at a time, checking that
    /// every frame has the size of the first ([`of_one_size`]).
    pub fn frames(&self) -> impl Iterator<Item = Result<(usize, Frame)>> + Send + use<> {
        self.frames_in(None)
    }

    /// [`Sequence::frames`] of the time points in `range` alone; the others
    /// are not read.
    pub fn frames_in(&self, range: Option<FrameRange>) -> impl Iterator<Item = Result<(usize, Frame)>> + Send + use<> {
        let files: Vec<(usize, PathBuf)> =
            self.frames.files.iter().filter(|(t, _)| FrameRange::admits(range, **t)).map(|(&t, p)| (t, p.clone())).collect();
        let planes = self.planes;
        of_one_size(files.into_iter().map(move |(t, path)| {
            let f = tiff_io::read_frame_planes(&path, planes)?;
            let dim = f.dim();
            Ok((t, path, f, dim))
        }))
    }

    /// The frames of a folder still being written (a live acquisition), in
    /// time order with their files: those there now, then each next frame as
    /// it appears, until none has come for `wait`. A frame that appears later
    /// is read once its size has stayed the same for one `poll`; one that does
    /// not decode yet is read again every `poll` until it does, and is an
    /// error (naming it) if it still does not after `wait`. A later frame
    /// present when the next one has not come in `wait` is a gap error.
    ///
    /// Of a pattern that gathers each time point's z slices (`{z}`), a time
    /// point is read once it is whole: once a later time point has begun,
    /// once it has as many slices as the first time point, or, for the last,
    /// once no new slice has come for `wait`. A whole time point with more or
    /// fewer slices than the first is an error naming both.
    ///
    /// ```
    /// use std::time::Duration;
    /// # let d = tempfile::tempdir().unwrap();
    /// let frame = cellstream::ctc::Frame::U8(ndarray::Array2::zeros((4, 4)));
    /// cellstream::ctc::write_frame(&d.path().join("t000.tif"), &frame).unwrap();
    /// let seq = cellstream::ctc::Sequence::open(d.path()).unwrap();
    /// let dir = d.path().to_path_buf();
    /// let writer = std::thread::spawn(move || {
    ///     std::thread::sleep(Duration::from_millis(200));
    ///     cellstream::ctc::write_frame(&dir.join("t001.tif"), &frame).unwrap(); // written while we follow
    /// });
    /// let got: Vec<usize> = seq.follow(Duration::from_secs(1), Duration::from_millis(20)).map(|f| f.unwrap().0).collect();
    /// writer.join().unwrap();
    /// assert_eq!(got, vec![0, 1]);
    /// ```
    pub fn follow(&self, wait: Duration, poll: Duration) -> impl Iterator<Item = Result<(usize, PathBuf, Frame)>> + Send + use<> {
        self.follow_in(None, wait, poll)
    }

    /// [`Sequence::follow`] of the time points in `range` alone: the frames
    /// before it are not read, and the stream ends after its last. A frame
    /// that lands before the span is not read, but it shows the acquisition
    /// going on, so the wait for the span's first frame begins again.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cellstream::ctc::{write_frame, Frame, FrameRange, Sequence};
    /// # let d = tempfile::tempdir().unwrap();
    /// let frame = Frame::U8(ndarray::Array2::zeros((4, 4)));
    /// write_frame(&d.path().join("t000.tif"), &frame).unwrap();
    /// let seq = Sequence::open(d.path()).unwrap();
    /// let dir = d.path().to_path_buf();
    /// // Frames 1 to 3 land 0.3 s apart: frame 3 comes 0.9 s after the
    /// // follow begins, long after a wait of 0.5 s, but never 0.5 s after
    /// // the frame before it.
    /// let writer = std::thread::spawn(move || {
    ///     for t in 1..=3 {
    ///         std::thread::sleep(Duration::from_millis(300));
    ///         write_frame(&dir.join(format!("t00{t}.tif")), &frame).unwrap();
    ///     }
    /// });
    /// let span: FrameRange = "3".parse().unwrap();
    /// let got: Vec<usize> =
    ///     seq.follow_in(Some(span), Duration::from_millis(500), Duration::from_millis(20)).map(|f| f.unwrap().0).collect();
    /// writer.join().unwrap();
    /// assert_eq!(got, vec![3]);
    /// ```
    pub fn follow_in(&self, range: Option<FrameRange>, wait: Duration, poll: Duration) -> impl Iterator<Item = Result<(usize, PathBuf, Frame)>> + Send + use<> {
        let dir = self.frames.dir.clone();
        let numbered = self.frames.prefix.is_empty();
        let slices = names_slices(&dir);
        let planes = self.planes;
        let list = move |dir: &Path| -> Result<(BTreeMap<usize, PathBuf>, BTreeMap<usize, usize>)> {
            if slices {
                list_pattern_planes(dir)
            } else if numbered {
                Ok((list_numbered_frames(dir)?.into_iter().collect(), BTreeMap::new()))
            } else {
                Ok((list_frame_files(dir, "t")?.files, BTreeMap::new()))
            }
        };
        let mut known = self.frames.files.clone();
        // z slices by time point; the slices of the first time point read.
        let mut counts = if slices { list(&dir).map(|(_, c)| c).unwrap_or_default() } else { BTreeMap::new() };
        let mut first_slices: Option<(usize, usize)> = None;
        let listed_last = known.keys().next_back().copied();
        let mut next = known.keys().next().copied().unwrap_or(0).max(range.map_or(0, |r| r.first));
        let mut last_arrival = Instant::now();
        steps_until_done(move || -> Result<Option<(usize, PathBuf, Frame)>> {
            if range.and_then(|r| r.last).is_some_and(|l| next > l) {
                return Ok(None);
            }
            // Wait for the next frame's file (of z slices, for all of them).
            let path = loop {
                let quiet = last_arrival.elapsed() >= wait || stopped_following();
                if let Some(p) = known.get(&next) {
                    if !slices {
                        break p.clone();
                    }
                    let n = counts.get(&next).copied().unwrap_or(0);
                    let later = known.range(next + 1..).next().is_some();
                    match first_slices {
                        Some((t0, n0)) if n > n0 || (n < n0 && (later || quiet)) => {
                            let why = if later { "though a later time point has begun" } else { "and no slice came for" };
                            let waited = if later { String::new() } else { format!(" {:.1} s", wait.as_secs_f64()) };
                            return Err(CtcError::new(
                                &dir,
                                format!("gives time point {next} {n} z slice(s) ({}) but time point {t0} {n0}, {why}{waited}; every time point must have the same slices", p.file_name().unwrap_or_default().to_string_lossy()),
                            ));
                        }
                        Some((_, n0)) if n == n0 => break p.clone(),
                        None if later || quiet => {
                            first_slices = Some((next, n));
                            break p.clone();
                        }
                        _ => {}
                    }
                } else if quiet {
                    if let Some((&later, p)) = known.range(next..).next() {
                        return Err(CtcError::new(
                            &dir,
                            format!("gap in the frame numbering: no frame {next} came in {:.1} s, but {} (frame {later}) did", wait.as_secs_f64(), p.display()),
                        ));
                    }
                    return Ok(None);
                }
                std::thread::sleep(poll);
                let (now_known, now_counts) = list(&dir)?;
                // A new slice, or a new frame before the range asked for: the acquisition goes on.
                if (slices && (now_known != known || now_counts != counts)) || now_known.range(..next).count() > known.range(..next).count() {
                    last_arrival = Instant::now();
                }
                (known, counts) = (now_known, now_counts);
            };
            // A frame that came while we followed, or the last one there at
            // the start, may still be being written: wait for its size
            // (its slices' sizes) to settle.
            if listed_last.is_none_or(|l| next >= l) {
                let size = |p: &Path| -> Option<Vec<u64>> {
                    let files = if slices { list_slice_files(p).ok()? } else { vec![p.to_path_buf()] };
                    files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).ok()).collect()
                };
                let mut before = size(&path);
                loop {
                    std::thread::sleep(poll);
                    let now = size(&path);
                    if now == before {
                        break;
                    }
                    before = now;
                }
            }
            let frame = retry_for(wait, poll, || tiff_io::read_frame_planes(&path, planes))?;
            last_arrival = Instant::now();
            next += 1;
            Ok(Some((next - 1, path, frame)))
        })
    }

    /// Where the truth of this sequence lives: `NN_GT` beside it, or `NN_ST`.
    pub fn truth_dirs(&self) -> Vec<PathBuf> {
        let name = self.name();
        // `.` (or `..`) has no parent to join: the folder above it is `./..`.
        let parent = match (self.dir().parent(), self.dir().file_name()) {
            (Some(p), Some(_)) => p.to_path_buf(),
            _ => self.dir().join(".."),
        };
        truth_folders(&parent, &name)
    }
}

/// Set once the user asks a followed acquisition to end (`track --follow`
/// on Ctrl-C): the followed streams then end as if no file had come for
/// their wait, with the frames read so far.
static STOP_FOLLOWING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Asks every followed stream ([`Sequence::follow`], `NdTiff::follow`) to
/// end as if the acquisition had gone quiet. Async-signal-safe: a signal
/// handler may call it.
pub fn stop_following() {
    STOP_FOLLOWING.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Whether [`stop_following`] was called.
pub fn stopped_following() -> bool {
    STOP_FOLLOWING.load(std::sync::atomic::Ordering::SeqCst)
}

/// The items `step` gives one call at a time, until it gives none or an
/// error; the error is the last item.
pub(crate) fn steps_until_done<T>(mut step: impl FnMut() -> Result<Option<T>>) -> impl Iterator<Item = Result<T>> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let item = step().transpose();
        done = !matches!(item, Some(Ok(_)));
        item
    })
}

/// `read()`, tried again every `poll` while it fails, for up to `wait`: a
/// file a live acquisition is still writing may not decode yet. The last
/// error where it never succeeds.
pub(crate) fn retry_for<T>(wait: Duration, poll: Duration, mut read: impl FnMut() -> Result<T>) -> Result<T> {
    let first_try = Instant::now();
    loop {
        match read() {
            Ok(x) => return Ok(x),
            Err(e) if first_try.elapsed() >= wait => return Err(e),
            Err(_) => std::thread::sleep(poll),
        }
    }
}

/// A ground-truth folder (`NN_GT`, `NN_ST` or any name) holding `SEG/` and/or `TRA/`.
#[derive(Debug, Clone)]
pub struct Truth {
    pub dir: PathBuf,
    /// `SEG/man_segTTT.tif`, often only some frames.
    pub seg: Option<FrameFiles>,
    /// `TRA/man_trackTTT.tif` with `TRA/man_track.txt`.
    pub tra: Option<(FrameFiles, Vec<TrackRecord>)>,
}

impl Truth {
    pub fn open(dir: &Path) -> Result<Truth> {
        read_dir_names(dir)?;
        let seg_dir = dir.join("SEG");
        let seg = if seg_dir.is_dir() {
            let f = list_frame_files(&seg_dir, "man_seg")?;
            if f.is_empty() {
                return Err(CtcError::new(&seg_dir, "holds no man_segTTT.tif files"));
            }
            Some(f)
        } else {
            None
        };
        let tra_dir = dir.join("TRA");
        let tra = if tra_dir.is_dir() {
            let f = list_frame_files(&tra_dir, "man_track")?;
            if f.is_empty() {
                return Err(CtcError::new(&tra_dir, "holds no man_trackTTT.tif files"));
            }
            f.require_contiguous()?;
            let tracks = track_file::read_tracks(&tra_dir.join("man_track.txt"))?;
            Some((f, tracks))
        } else {
            None
        };
        if seg.is_none() && tra.is_none() {
            return Err(CtcError::new(dir, "holds neither SEG/ nor TRA/; not a CTC ground-truth folder"));
        }
        Ok(Truth { dir: dir.to_path_buf(), seg, tra })
    }
}

/// A result folder: `maskTTT.tif` for every frame, and `res_track.txt`.
#[derive(Debug, Clone)]
pub struct ResultDir {
    pub masks: FrameFiles,
    pub tracks: Vec<TrackRecord>,
}

impl ResultDir {
    pub fn open(dir: &Path) -> Result<ResultDir> {
        let masks = list_frame_files(dir, "mask")?;
        if masks.is_empty() {
            return Err(CtcError::new(dir, "holds no maskTTT.tif files; not a CTC result folder"));
        }
        masks.require_contiguous()?;
        let tracks = track_file::read_tracks(&dir.join("res_track.txt"))?;
        Ok(ResultDir { masks, tracks })
    }

    /// Refuses a lineage that cannot be drawn or measured as it stands: a
    /// track outside the masks' frames, a parent not listed or not ending
    /// before its child begins (see [`super::lineage_violations`]).
    pub fn check_lineage(&self) -> Result<()> {
        let (first, last) = self.masks.span().unwrap_or((0, 0));
        super::check_lineage(&self.masks.dir.join("res_track.txt"), &self.tracks, first, last)
    }

    pub fn read_mask(&self, t: usize) -> Result<Mask> {
        let p = self.masks.path(t).ok_or_else(|| {
            CtcError::new(&self.masks.dir, format!("has no mask for frame {t}"))
        })?;
        tiff_io::read_mask(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_names() {
        assert_eq!(parse_frame_name("t000.tif", "t"), Some((0, 3)));
        assert_eq!(parse_frame_name("t1234.tif", "t"), Some((1234, 4)));
        assert_eq!(parse_frame_name("man_seg012.tif", "man_seg"), Some((12, 3)));
        assert_eq!(parse_frame_name("man_track012.tif", "man_seg"), None);
        assert_eq!(parse_frame_name("t01a.tif", "t"), None);
        assert_eq!(parse_frame_name("t.tif", "t"), None);
    }

    fn touch(dir: &Path, name: &str) {
        std::fs::write(dir.join(name), b"").unwrap();
    }

    #[test]
    fn gap_is_named() {
        let d = tempfile::tempdir().unwrap();
        for n in ["t000.tif", "t001.tif", "t003.tif"] {
            touch(d.path(), n);
        }
        let e = Sequence::open(d.path()).unwrap_err();
        assert!(e.what.contains("t002.tif is missing"), "{e}");
    }

    #[test]
    fn empty_and_missing_folders() {
        let d = tempfile::tempdir().unwrap();
        let e = Sequence::open(d.path()).unwrap_err();
        assert!(e.what.contains("no frames"), "{e}");
        let e = Sequence::open(&d.path().join("nope")).unwrap_err();
        assert!(e.what.contains("does not exist"), "{e}");
    }

    #[test]
    fn a_dataset_folder_names_its_sequences() {
        let d = tempfile::tempdir().unwrap();
        for s in ["01", "02"] {
            std::fs::create_dir(d.path().join(s)).unwrap();
            touch(&d.path().join(s), "t000.tif");
        }
        let e = Sequence::open(d.path()).unwrap_err();
        assert!(e.what.contains("dataset folder holding the sequences 01, 02"), "{e}");
        assert!(e.what.ends_with(&format!("give one of them, such as {}", d.path().join("01").display())), "{e}");
        assert_eq!(e.path, d.path());
    }

    #[test]
    fn trailing_numbers() {
        let d = tempfile::tempdir().unwrap();
        for n in ["img_10_masks.tif", "img_9_masks.tif", "img_011_masks.TIF", "notes.txt"] {
            touch(d.path(), n);
        }
        let l = list_numbered_tiffs(d.path()).unwrap();
        let ts: Vec<usize> = l.iter().map(|x| x.0).collect();
        assert_eq!(ts, vec![9, 10, 11]);
        // The same number twice is refused; where the names differ in
        // another number too, one file a plane is the likely cause, and a
        // pattern with the number that varies most as the time point is
        // suggested.
        let d = tempfile::tempdir().unwrap();
        touch(d.path(), "img_1.tif");
        touch(d.path(), "img_01.tif");
        let e = list_numbered_tiffs(d.path()).unwrap_err();
        assert!(e.to_string().contains("img_01.tif: has the same frame number 1 as img_1.tif") && !e.what.contains("another number"), "{e}");
        let d = tempfile::tempdir().unwrap();
        for n in ["img_t000_z000.tif", "img_t000_z001.tif", "img_t001_z000.tif", "img_t001_z001.tif"] {
            touch(d.path(), n);
        }
        let e = Sequence::open(d.path()).unwrap_err();
        assert!(e.what.contains("the same frame number 0 as") && e.what.contains("img_t{t}_z{z}.tif' --project max"), "{e}");
    }
}
