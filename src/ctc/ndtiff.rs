//! Micro-Manager 2's NDTiff datasets read as a time-lapse: each image found by its axes in `NDTiff.index`.
//!
//! Micro-Manager 2 and pycro-manager write an acquisition as NDTiff: a
//! folder holding `NDTiff.index` and one or more `*_NDTiffStack*.tif` files.
//! The index lists every image with its axes (a JSON object such as
//! `{"time": 12, "z": 3, "channel": "DAPI"}`), the file it lies in, and the
//! offset, size and pixel type of its uncompressed pixels (format:
//! <https://github.com/micro-manager/NDTiffStorage>). [`NdTiff`] reads one
//! channel's frames in time order, a time point's z slices projected where
//! the user asks (`--project`), as for a hyperstack TIFF. Channels are
//! numbered from 1 in the order the index first names them; of several
//! positions (the wells or fields of a plate), one is read at a time, named
//! as the index numbers it. A dataset of tiles (`row`, `column`) or of RGB
//! images, a time point missing, or one short of a slice, is refused with
//! the folder named.
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::channels::number_named;
use super::error::{CtcError, Result};
use super::frame_range::FrameRange;
use super::planes::{z_project, Planes, Projection};
use super::sequence::{retry_for, steps_until_done, stopped_following};
use super::tiff_io::Frame;

/// The index file that makes a folder an NDTiff dataset.
const INDEX: &str = "NDTiff.index";

/// Whether `path` is an NDTiff dataset: a folder holding `NDTiff.index`.
pub fn is_ndtiff(path: &Path) -> bool {
    path.is_dir() && path.join(INDEX).is_file()
}

/// Where one image's pixels lie.
#[derive(Debug, Clone)]
struct Image {
    file: Arc<PathBuf>,
    offset: u64,
    /// Bytes a pixel: 1 or 2.
    bytes: usize,
}

/// An NDTiff dataset read as frames: time point `t` is one 2D plane of the
/// channel read, or the projection of its z slices.
#[derive(Debug, Clone)]
pub struct NdTiff {
    pub path: PathBuf,
    /// By time point, the images to read (the z slices, in order).
    frames: Vec<Vec<Image>>,
    pub time_points: usize,
    /// (height, width).
    pub dim: (usize, usize),
    /// The name the index gives the channel read (`DAPI`), where it names channels.
    pub channel_name: Option<String>,
    projection: Option<Projection>,
}

/// One entry of the index.
struct Entry {
    axes: serde_json::Map<String, Value>,
    file: String,
    offset: u64,
    width: usize,
    height: usize,
    pixel_type: u32,
    compression: u32,
}

/// The entries of an index file's bytes, in order, and how many bytes they
/// take; a zero length ends them (an index a running acquisition has not
/// finished). An entry cut short is an error.
fn entries(path: &Path, data: &[u8]) -> Result<(Vec<Entry>, usize)> {
    let (out, used) = complete_entries(path, data)?;
    if used < data.len() && data.get(used..used + 4) != Some(&[0, 0, 0, 0]) {
        return Err(CtcError::new(path, "is not a readable NDTiff index: an entry cut short"));
    }
    Ok((out, used))
}

/// The whole entries at the start of `data`, and the bytes they take (an
/// entry still being written ends them).
fn complete_entries(path: &Path, data: &[u8]) -> Result<(Vec<Entry>, usize)> {
    let bad = |what: &str| CtcError::new(path, format!("is not a readable NDTiff index: {what}"));
    let mut at = 0;
    let mut out = Vec::new();
    let u32_at = |at: usize| -> Option<u32> { data.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))) };
    loop {
        let start = at;
        let Some(n) = u32_at(at).map(|n| n as usize).filter(|&n| n > 0) else { return Ok((out, start)) };
        let Some(axes) = data.get(at + 4..at + 4 + n) else { return Ok((out, start)) };
        let axes: serde_json::Map<String, Value> = serde_json::from_slice(axes).map_err(|e| bad(&format!("axes that are not a JSON object ({e})")))?;
        at += 4 + n;
        let Some(n) = u32_at(at).map(|n| n as usize) else { return Ok((out, start)) };
        let Some(file) = data.get(at + 4..at + 4 + n) else { return Ok((out, start)) };
        let file = String::from_utf8(file.to_vec()).map_err(|_| bad("a file name that is not UTF-8"))?;
        at += 4 + n;
        let Some(v) = (0..8).map(|i| u32_at(at + 4 * i)).collect::<Option<Vec<u32>>>() else { return Ok((out, start)) };
        at += 32;
        out.push(Entry { axes, file, offset: u64::from(v[0]), width: v[1] as usize, height: v[2] as usize, pixel_type: v[3], compression: v[4] });
    }
}

/// An axis value as text, for keys and messages (`"DAPI"` as DAPI, 3 as 3).
fn value_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Refuses `planes.position` for `path` unless it is an NDTiff acquisition:
/// other inputs have no positions.
pub fn refuse_position(path: &Path, planes: Planes) -> Result<()> {
    match planes.position {
        Some(p) if !is_ndtiff(path) => Err(CtcError::new(path, format!("is not a Micro-Manager NDTiff acquisition; --position {p} picks one of the positions such an acquisition holds"))),
        _ => Ok(()),
    }
}

/// The values axis `axis` takes in the index of the NDTiff acquisition in
/// folder `path`, in the order it first names them. Reads the index, no
/// pixel.
fn axis_values(path: &Path, axis: &str) -> Result<(PathBuf, Vec<Value>)> {
    let (index, entries) = index_entries(path)?;
    Ok((index, distinct(entries.iter(), axis)))
}

/// The index of the NDTiff acquisition in folder `path` and its entries.
/// A plate's positions, each opened on its own, share one reading of the
/// index (kept while its length and modification time stay the same), so
/// an index of a few hundred thousand images is parsed once, not once a
/// position.
fn index_entries(path: &Path) -> Result<(PathBuf, Arc<Vec<Entry>>)> {
    type Key = (PathBuf, u64, Option<std::time::SystemTime>);
    static LAST: std::sync::Mutex<Option<(Key, Arc<Vec<Entry>>)>> = std::sync::Mutex::new(None);
    let index = path.join(INDEX);
    let meta = std::fs::metadata(&index).map_err(|e| CtcError::io(&index, &e))?;
    let key = (std::path::absolute(&index).unwrap_or_else(|_| index.clone()), meta.len(), meta.modified().ok());
    if let Some((k, e)) = LAST.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
        && *k == key
    {
        return Ok((index, Arc::clone(e)));
    }
    let data = std::fs::read(&index).map_err(|e| CtcError::io(&index, &e))?;
    let (entries, _) = entries(&index, &data)?;
    // Not kept if it grew while being read (an acquisition still writing).
    let entries = Arc::new(entries);
    if data.len() as u64 == key.1 {
        *LAST.lock().unwrap_or_else(|p| p.into_inner()) = Some((key, Arc::clone(&entries)));
    }
    Ok((index, entries))
}

/// The values `entries` give axis `axis`, each once, in the order they
/// first give them.
fn distinct<'a>(entries: impl IntoIterator<Item = &'a Entry>, axis: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in entries.into_iter().filter_map(|e| e.axes.get(axis)) {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

/// The positions of the NDTiff acquisition in folder `path` (the wells or
/// fields of a plate), as its index numbers them, in the order it first
/// names them; none for an acquisition without a position axis.
pub fn ndtiff_positions(path: &Path) -> Result<Vec<i64>> {
    let (index, values) = axis_values(path, "position")?;
    values.iter().map(|v| v.as_i64().ok_or_else(|| CtcError::new(&index, format!("gives an image the position {v}, not a whole number")))).collect()
}

/// The channels of the NDTiff acquisition in folder `path` by name, in the
/// order its index first names them (the order `--channel N` counts them
/// in); none for an acquisition without a channel axis.
pub fn ndtiff_channel_names(path: &Path) -> Result<Vec<String>> {
    Ok(axis_values(path, "channel")?.1.iter().map(value_text).collect())
}

impl NdTiff {
    /// Opens the NDTiff dataset in folder `path` and reads `planes` of each
    /// time point: of several positions, the one named; of several
    /// channels, the one named (from 1, in the order the index first names
    /// them); of several z slices, their
    /// projection, which must be asked for. Reads the index, no pixel.
    pub fn open(path: &Path, planes: Planes) -> Result<NdTiff> {
        let (index, entries) = index_entries(path)?;
        if entries.is_empty() {
            return Err(CtcError::new(&index, "lists no image"));
        }
        Self::from_entries(path, &entries.iter().collect::<Vec<_>>(), planes)
    }

    /// [`NdTiff::open`] of the images `entries` of the index.
    fn from_entries(path: &Path, entries: &[&Entry], planes: Planes) -> Result<NdTiff> {
        // The values each axis but time and z takes, in the order the index
        // first names them (a set beside each list keeps this linear).
        let mut values: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut seen: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
        for e in entries {
            for (k, v) in e.axes.iter().filter(|(k, _)| !matches!(k.as_str(), "time" | "z")) {
                if seen.insert((k.clone(), v.to_string())) {
                    values.entry(k.clone()).or_default().push(v.clone());
                }
            }
        }
        for (axis, what) in [("row", "tile rows"), ("column", "tile columns")] {
            if let Some(v) = values.get(axis).filter(|v| v.len() > 1) {
                return Err(CtcError::new(path, format!("holds {} {what}; cellstream reads an acquisition of one tile a position", v.len())));
            }
        }
        let positions = values.get("position").cloned().unwrap_or_default();
        let listed = || positions.iter().map(value_text).collect::<Vec<_>>().join(", ");
        let position = match planes.position {
            None if positions.len() > 1 => {
                return Err(CtcError::new(path, format!("holds {} positions ({}); --position N picks the one to read", positions.len(), listed())));
            }
            None => None,
            Some(p) if positions.iter().any(|v| v.as_i64() == Some(p)) => Some(Value::from(p)),
            Some(p) if positions.is_empty() => {
                return Err(CtcError::new(path, format!("has no positions (one field of view); there is no position {p}")));
            }
            Some(p) => return Err(CtcError::new(path, format!("has the positions {}; there is no position {p}", listed()))),
        };
        let known = ["time", "channel", "z", "position", "row", "column"];
        if let Some((other, v)) = values.iter().find(|(k, v)| !known.contains(&k.as_str()) && v.len() > 1) {
            return Err(CtcError::new(path, format!("has an axis {other:?} with {} values; cellstream reads the axes time, channel and z", v.len())));
        }
        let channels = values.get("channel").cloned().unwrap_or_default();
        let named: Vec<String> = channels.iter().enumerate().map(|(i, c)| format!("{}: {}", i + 1, value_text(c))).collect();
        let channel = match planes.channel {
            None if channels.len() > 1 => {
                return Err(CtcError::new(path, format!("holds {} channels ({}); --channel N picks the one to track", channels.len(), named.join(", "))));
            }
            None => channels.first().cloned(),
            Some(c) if c == 0 || c > channels.len().max(1) => {
                let has = if channels.len() <= 1 { "one channel".to_string() } else { format!("{} channels ({})", channels.len(), named.join(", ")) };
                // Channels named by numbers (a laser line: 561) are counted from 1 all the same.
                let hint = match channels.iter().position(|v| value_text(v) == c.to_string()) {
                    Some(i) => format!(" (channels count from 1: the one named {c} is --channel {})", i + 1),
                    None => String::new(),
                };
                return Err(CtcError::new(path, format!("has {has}; there is no channel {c}{hint}")));
            }
            Some(c) => channels.get(c - 1).cloned(),
        };
        // The chosen channel's images, by time point, then z.
        let mut by_time: BTreeMap<i64, BTreeMap<i64, &Entry>> = BTreeMap::new();
        let number = |e: &Entry, axis: &str| -> Result<i64> {
            match e.axes.get(axis) {
                None => Ok(0),
                Some(v) => v.as_i64().ok_or_else(|| CtcError::new(path, format!("gives an image the {axis} {v}, not a whole number"))),
            }
        };
        let chosen = |e: &&Entry| {
            (channel.is_none() || e.axes.get("channel") == channel.as_ref()) && (position.is_none() || e.axes.get("position") == position.as_ref())
        };
        for e in entries.iter().copied().filter(chosen) {
            let (t, z) = (number(e, "time")?, number(e, "z")?);
            by_time.entry(t).or_default().insert(z, e);
        }
        // A time point the acquisition reached (in any channel of the
        // position) without an image of the channel read: a time point
        // missing in the time-lapse, not one to skip.
        if let Some(c) = &channel {
            for e in entries.iter().copied().filter(|e| position.is_none() || e.axes.get("position") == position.as_ref()) {
                let t = number(e, "time")?;
                if !by_time.contains_key(&t) {
                    return Err(CtcError::new(path, format!("has no image of channel {} at time point {t}, where other channels have one", value_text(c))));
                }
            }
        }
        if by_time.is_empty() {
            return Err(CtcError::new(path, "lists no image of the channel and position read"));
        }
        let (&first, _) = by_time.iter().next().expect("one entry at least");
        if let Some((a, b)) = by_time.keys().zip(by_time.keys().skip(1)).find(|(a, b)| **b != **a + 1) {
            return Err(CtcError::new(path, format!("lists time points {a} and {b} but none between them")));
        }
        if first != 0 {
            return Err(CtcError::new(path, format!("begins at time point {first}; its first time point is missing")));
        }
        let slices = by_time[&first].len();
        if let Some((t, zs)) = by_time.iter().find(|(_, zs)| zs.len() != slices) {
            return Err(CtcError::new(path, format!("gives time point {t} {} z slice(s) but time point {first} {slices}; every time point must have the same slices", zs.len())));
        }
        let range = match planes.project {
            None if slices > 1 => {
                return Err(CtcError::new(path, format!("holds {slices} z slices a time point; cellstream tracks one 2D frame per time point (--project max projects each time point's z slices)")));
            }
            None => 0..1,
            Some(_) if slices == 1 => return Err(CtcError::new(path, "has no z slices to project (one image a time point)")),
            Some(_) => planes.slices.map_or(Ok(0..slices), |r| r.within(path, slices))?,
        };
        let e0 = by_time[&first].values().next().expect("a slice");
        let dim = (e0.height, e0.width);
        let mut files: BTreeMap<&str, Arc<PathBuf>> = BTreeMap::new();
        let mut frames = Vec::with_capacity(by_time.len());
        for (t, zs) in &by_time {
            let mut images = Vec::new();
            for e in zs.values().skip(range.start).take(range.len()) {
                let bytes = match (e.pixel_type, e.compression) {
                    (_, c) if c != 0 => return Err(CtcError::new(path, format!("holds compressed pixels (compression {c}) at time point {t}; cellstream reads uncompressed NDTiff"))),
                    (0, _) => 1,
                    (1 | 3..=6, _) => 2,
                    (2, _) => return Err(CtcError::new(path, "holds RGB images; cellstream reads grayscale NDTiff")),
                    (p, _) => return Err(CtcError::new(path, format!("holds pixels of an unknown type {p}"))),
                };
                if (e.height, e.width) != dim {
                    return Err(CtcError::new(path, format!("holds an image of {}×{} at time point {t}, where the first is {}×{}", e.width, e.height, dim.1, dim.0)));
                }
                let file = files.entry(e.file.as_str()).or_insert_with(|| Arc::new(path.join(&e.file))).clone();
                images.push(Image { file, offset: e.offset, bytes });
            }
            frames.push(images);
        }
        let channel_name = channel.as_ref().map(value_text);
        Ok(NdTiff { path: path.to_path_buf(), time_points: frames.len(), frames, dim, channel_name, projection: planes.project })
    }

    /// Digits of the frame numbers in a result for this dataset (3, or more past 999).
    pub fn digits(&self) -> usize {
        (self.time_points.saturating_sub(1)).to_string().len().max(3)
    }

    /// Frame `t`: its image, or the projection of its z slices.
    pub fn read(&self, t: usize) -> Result<Frame> {
        let images = self.frames.get(t).ok_or_else(|| CtcError::new(&self.path, format!("has {} time points; there is no frame {t}", self.time_points)))?;
        match self.projection {
            None => self.image(&images[0]),
            Some(kind) => z_project(&self.path, kind, images.iter().map(|i| self.image(i))),
        }
    }

    /// The frames in time order, read one at a time.
    pub fn frames(&self) -> impl Iterator<Item = Result<(usize, Frame)>> + Send + use<> {
        self.frames_in(None)
    }

    /// [`NdTiff::frames`] of the time points in `range` alone.
    pub fn frames_in(&self, range: Option<FrameRange>) -> impl Iterator<Item = Result<(usize, Frame)>> + Send + use<> {
        let data = self.clone();
        (0..self.time_points).filter(move |&t| FrameRange::admits(range, t)).map(move |t| data.read(t).map(|f| (t, f)))
    }

    /// The frames of an acquisition still being written, in time order, as
    /// they come: the index is read again every `poll`, and a time point is
    /// read once it is whole: once a later one has begun, once it holds as
    /// many images as the first time point, or, for the last, once the index
    /// has not grown for `wait`, which also ends the frames. Each whole time
    /// point is checked as [`NdTiff::open`] checks a finished dataset; an
    /// image the index lists but whose pixels are not all there yet is read
    /// again every `poll` for up to `wait`.
    /// A channel given by name (`channel_name`) is looked up among those the
    /// index names once the first time point is whole.
    /// Only the time points in `range` are read (all for None), and the
    /// stream ends after its last.
    pub fn follow(path: &Path, planes: Planes, channel_name: Option<String>, range: Option<FrameRange>, wait: Duration, poll: Duration) -> impl Iterator<Item = Result<(usize, Frame)>> + Send + use<> {
        let (path, index) = (path.to_path_buf(), path.join(INDEX));
        let (mut entries, mut used, mut grew) = (Vec::<Entry>::new(), 0, Instant::now());
        let (mut next, mut whole) = (range.map_or(0, |r| r.first), None::<NdTiff>);
        steps_until_done(move || -> Result<Option<(usize, Frame)>> {
            if range.and_then(|r| r.last).is_some_and(|l| next > l) {
                return Ok(None);
            }
            loop {
                if let Some(data) = whole.as_ref().filter(|d| next < d.time_points) {
                    let frame = retry_for(wait, poll, || data.read(next))?;
                    next += 1;
                    return Ok(Some((next - 1, frame)));
                }
                let quiet = grew.elapsed() >= wait || stopped_following();
                if let Some(last) = whole_time_points(&entries, quiet) {
                    let upto: Vec<&Entry> = entries.iter().filter(|e| time_of(e) <= last).collect();
                    if whole.as_ref().is_none_or(|d| d.time_points <= last as usize) {
                        let mut planes = planes;
                        if let Some(name) = &channel_name {
                            let names: Vec<String> = distinct(upto.iter().copied(), "channel").iter().map(value_text).collect();
                            planes.channel = Some(number_named(&path, &names, name)?);
                        }
                        whole = Some(Self::from_entries(&path, &upto, planes)?);
                        if next < whole.as_ref().map_or(0, |d| d.time_points) {
                            continue;
                        }
                    }
                }
                if quiet {
                    return if entries.is_empty() { Err(CtcError::new(&index, "lists no image")) } else { Ok(None) };
                }
                std::thread::sleep(poll);
                let data = std::fs::read(&index).map_err(|e| CtcError::io(&index, &e))?;
                let (more, took) = complete_entries(&index, data.get(used..).unwrap_or_default())?;
                if !more.is_empty() {
                    (used, grew) = (used + took, Instant::now());
                    entries.extend(more);
                }
            }
        })
    }

    /// One image's pixels, little-endian as NDTiff writes them.
    fn image(&self, image: &Image) -> Result<Frame> {
        let (h, w) = self.dim;
        let mut bytes = vec![0u8; h * w * image.bytes];
        let file = image.file.as_path();
        let mut f = File::open(file).map_err(|e| CtcError::io(file, &e))?;
        f.seek(SeekFrom::Start(image.offset)).and_then(|_| f.read_exact(&mut bytes)).map_err(|e| {
            CtcError::new(file, format!("cannot read the {w}×{h} image the index puts at byte {}: {e} (a file cut short?)", image.offset))
        })?;
        Ok(match image.bytes {
            1 => Frame::U8(ndarray::Array2::from_shape_vec((h, w), bytes).expect("h × w samples")),
            _ => Frame::U16(ndarray::Array2::from_shape_vec((h, w), bytes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect()).expect("h × w samples")),
        })
    }
}

/// An entry's time point (0 without a time axis; -1 for one that is not a
/// whole number, which [`NdTiff::open`] refuses).
fn time_of(e: &Entry) -> i64 {
    e.axes.get("time").map_or(Some(0), Value::as_i64).unwrap_or(-1)
}

/// The last time point up to which every time point of a growing index is
/// whole: a later one has begun, or it holds as many images as the first
/// time point, or (`quiet`) the index has stopped growing. None where not
/// even the first is.
fn whole_time_points(entries: &[Entry], quiet: bool) -> Option<i64> {
    let mut count: BTreeMap<i64, usize> = BTreeMap::new();
    for e in entries {
        *count.entry(time_of(e)).or_default() += 1;
    }
    let (&last, _) = count.iter().next_back()?;
    if quiet {
        return Some(last);
    }
    let first = count.values().next().copied().unwrap_or(0);
    let done = if count.len() > 1 && count[&last] >= first { last } else { last - 1 };
    (done >= *count.keys().next().expect("one time point")).then_some(done)
}
