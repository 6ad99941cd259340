//! OME-Zarr images (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) read as a time-lapse, one time point at a time.
//!
//! napari, ultrack, bioformats2raw and the NGFF converters store images as
//! OME-Zarr: a folder (`image.zarr`) holding a group whose attributes name
//! the axes (`t`, `c`, `z`, `y`, `x`, some of them) and the resolution levels
//! (`multiscales`), and the levels themselves as chunked, compressed arrays.
//! [`ZarrImage`] reads the full-resolution level, time point by time point,
//! decoding only the chunks a frame touches: one channel when the user names
//! it (`--channel`), and each time point's z slices projected when the user
//! asks (`--project`), as for a hyperstack TIFF (the slices of one time
//! point are read together, so that a chunk holding several of them is
//! decoded once, and held while they are projected). Label images
//! (`image.zarr/labels/cells`) read as masks. Anything else (no `multiscales`,
//! no `y` and `x` last, an axis we do not know, a data type that is not
//! intensities or labels) is refused with the folder named.
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use zarrs::array::chunk_cache::{ChunkCache, ChunkCacheDecodedLruChunkLimit};
use zarrs::array::{Array, ArraySubset, CodecOptions};
use zarrs::filesystem::FilesystemStore;
use zarrs::group::Group;
use zarrs::storage::ReadableStorageTraits;

/// The store behind an image: a folder on disk.
type Storage = dyn ReadableStorageTraits;

use super::error::{CtcError, Result};
use super::frame_range::FrameRange;
use super::planes::{z_project, Planes, Projection};
use super::tiff_io::{frame_from, mask_from, signed, Frame, Mask, Samples};

/// Whether `path` is a Zarr folder: it holds `.zgroup`, `.zarray` (Zarr v2)
/// or `zarr.json` (Zarr v3).
pub fn is_zarr(path: &Path) -> bool {
    path.is_dir() && [".zgroup", ".zarray", "zarr.json"].iter().any(|f| path.join(f).is_file())
}

/// An OME-Zarr image read as frames: time point `t` is one 2D plane (one
/// channel, one z slice or the projection of the slices).
#[derive(Clone)]
pub struct ZarrImage {
    pub path: PathBuf,
    array: Arc<Array<Storage>>,
    /// Decoded chunks kept for the next frames, where a chunk holds several
    /// time points (which would otherwise be decoded once a frame).
    cache: Option<Arc<ChunkCacheDecodedLruChunkLimit>>,
    /// The array's axes, by their NGFF names, in its order.
    axes: Vec<char>,
    /// Time points: the length of the `t` axis, or 1 without one.
    pub time_points: usize,
    /// (height, width).
    pub dim: (usize, usize),
    channel: usize,
    slices: Range<usize>,
    projection: Option<Projection>,
    /// Whether a time point with no chunk stored has been warned of.
    warned_empty: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for ZarrImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZarrImage").field("path", &self.path).field("axes", &self.axes).field("time_points", &self.time_points).field("dim", &self.dim).finish()
    }
}

impl ZarrImage {
    /// Opens the OME-Zarr image in folder `path` and reads `planes` of each
    /// time point: of several channels, the one named (from 1, as Fiji and
    /// napari's layer list count them); of several z slices, their
    /// projection, which must be asked for. No pixel is read.
    pub fn open(path: &Path, planes: Planes) -> Result<ZarrImage> {
        let store: Arc<Storage> = Arc::new(FilesystemStore::new(path).map_err(|e| CtcError::new(path, format!("cannot open as Zarr: {e}")))?);
        let (level, axes) = match Group::open(store.clone(), "/") {
            Ok(group) => multiscale_level(path, group.attributes())?,
            // Group metadata that cannot be read (JSON cut short or mistyped)
            // is named, not taken for a bare array.
            Err(e) if path.join(".zgroup").is_file() => {
                return Err(CtcError::new(path, format!("cannot read its group metadata (.zgroup, .zattrs): {e}")));
            }
            // A bare array: its own dimension names, or (t, y, x).
            Err(_) => (String::new(), Vec::new()),
        };
        let array = Array::open(store, &format!("/{level}")).map_err(|e| CtcError::new(path, format!("cannot open its array {level:?}: {e}")))?;
        let shape: Vec<usize> = array.shape().iter().map(|&n| n as usize).collect();
        let axes = if axes.is_empty() { bare_axes(path, &array, shape.len())? } else { axes };
        if axes.len() != shape.len() {
            return Err(CtcError::new(path, format!("names {} axes ({}) for an array of {} dimensions", axes.len(), axes.iter().collect::<String>(), shape.len())));
        }
        let size = |a: char| axes.iter().position(|&x| x == a).map_or(1, |i| shape[i]);
        let (channels, slices, times) = (size('c'), size('z'), size('t'));
        let text = describe(channels, slices, times);
        let channel = match planes.channel {
            None if channels > 1 => {
                let names = match zarr_channel_names(path)? {
                    Some(names) => format!(" ({})", names.iter().enumerate().map(|(i, n)| format!("{}: {n}", i + 1)).collect::<Vec<_>>().join(", ")),
                    None => String::new(),
                };
                return Err(CtcError::new(path, format!("holds {text}{names}; --channel 1 to {channels} picks the channel to track")));
            }
            None => 0,
            Some(c) if c == 0 || c > channels => {
                let has = if channels == 1 { "one channel".to_string() } else { format!("{channels} channels") };
                return Err(CtcError::new(path, format!("has {has}; there is no channel {c}")));
            }
            Some(c) => c - 1,
        };
        let slices = match planes.project {
            None if slices > 1 => {
                return Err(CtcError::new(path, format!("holds {text}; cellstream tracks one 2D frame per time point (--project max projects each time point's z slices)")));
            }
            None => 0..1,
            Some(_) if slices == 1 => {
                return Err(CtcError::new(path, format!("has no z slices to project (it holds {text})")));
            }
            Some(_) => planes.slices.map_or(Ok(0..slices), |r| r.within(path, slices))?,
        };
        let dim = (size('y'), size('x'));
        if dim.0 == 0 || dim.1 == 0 {
            return Err(CtcError::new(path, format!("holds empty planes ({}×{})", dim.1, dim.0)));
        }
        let array = Arc::new(array);
        let cache = time_chunk_cache(&array, &axes, &shape);
        Ok(ZarrImage { path: path.to_path_buf(), array, cache, axes, time_points: times, dim, channel, slices, projection: planes.project, warned_empty: Arc::default() })
    }

    /// Digits of the frame numbers in a result for this image (3, or more past 999).
    pub fn digits(&self) -> usize {
        (self.time_points.saturating_sub(1)).to_string().len().max(3)
    }

    /// Frame `t`: its plane, or the projection of its z slices. A time
    /// point none of whose chunks is stored reads as the array's fill value,
    /// as Zarr defines it; that is said once (a writer skips chunks of fill
    /// alone, but a microscope's frame is seldom blank: more likely chunks
    /// were lost or the array is longer than what was written).
    pub fn read(&self, t: usize) -> Result<Frame> {
        if t >= self.time_points {
            return Err(CtcError::new(&self.path, format!("has {} time points; there is no frame {t}", self.time_points)));
        }
        if !self.warned_empty.load(std::sync::atomic::Ordering::Relaxed) && !self.stored(t) && !self.warned_empty.swap(true, std::sync::atomic::Ordering::Relaxed) {
            eprintln!(
                "warning: {}: time point {t} has no data stored (no chunk of it), so it reads as the array's fill value, a blank frame; check the image is whole (said once)",
                self.path.display()
            );
        }
        match self.projection {
            None => frame_from(&self.path, self.dim, self.planes(t, self.slices.start..self.slices.start + 1)?),
            Some(kind) => {
                // The slices in one read, so that a chunk holding several
                // of them is decoded once, then projected one by one.
                let stack = self.planes(t, self.slices.clone())?;
                let slices = split_planes(stack, self.dim.0 * self.dim.1);
                z_project(&self.path, kind, slices.into_iter().map(|s| frame_from(&self.path, self.dim, s)))
            }
        }
    }

    /// The frames in time order, decoded one at a time.
    pub fn frames(&self) -> impl Iterator<Item = Result<(usize, Frame)>> + Send + use<> {
        self.frames_in(None)
    }

    /// [`ZarrImage::frames`] of the time points in `range` alone.
    pub fn frames_in(&self, range: Option<FrameRange>) -> impl Iterator<Item = Result<(usize, Frame)>> + Send + use<> {
        let image = self.clone();
        (0..self.time_points).filter(move |&t| FrameRange::admits(range, t)).map(move |t| image.read(t).map(|f| (t, f)))
    }

    /// The masks of a label image in time order, decoded one at a time.
    pub fn masks(&self) -> impl Iterator<Item = Result<(usize, Mask)>> + Send + use<> {
        self.masks_in(None)
    }

    /// [`ZarrImage::masks`] of the time points in `range` alone.
    pub fn masks_in(&self, range: Option<FrameRange>) -> impl Iterator<Item = Result<(usize, Mask)>> + Send + use<> {
        let image = self.clone();
        (0..self.time_points)
            .filter(move |&t| FrameRange::admits(range, t))
            .map(move |t| image.planes(t, 0..1).and_then(|s| mask_from(&image.path, image.dim, s)).map(|m| (t, m)))
    }

    /// Whether any chunk holding time point `t` is stored (true where that
    /// cannot be told).
    fn stored(&self, t: usize) -> bool {
        let ranges: Vec<Range<u64>> = self.array.shape().iter().zip(&self.axes).map(|(&n, &a)| if a == 't' { t as u64..t as u64 + 1 } else { 0..n }).collect();
        let Ok(Some(chunks)) = self.array.chunks_in_array_subset(&ArraySubset::new_with_ranges(&ranges)) else { return true };
        let store = self.array.storage();
        chunks.indices().into_iter().any(|c| !matches!(store.size_key(&self.array.chunk_key(&c)), Ok(None)))
    }

    /// The samples of the planes at time point `t`, slices `z`, of the
    /// channel read, one plane after the other.
    fn planes(&self, t: usize, z: Range<usize>) -> Result<Samples> {
        let ranges: Vec<Range<u64>> = self
            .axes
            .iter()
            .map(|a| match a {
                't' => t as u64..t as u64 + 1,
                'c' => self.channel as u64..self.channel as u64 + 1,
                'z' => z.start as u64..z.end as u64,
                'y' => 0..self.dim.0 as u64,
                _ => 0..self.dim.1 as u64,
            })
            .collect();
        let err = |e: zarrs::array::ArrayError| CtcError::new(&self.path, format!("cannot read time point {t}: {e}"));
        let kind = self.array.data_type().to_string();
        macro_rules! read {
            ($t:ty) => {
                match &self.cache {
                    Some(cache) => cache.retrieve_array_subset::<Vec<$t>>(&ranges, &CodecOptions::default()),
                    None => self.array.retrieve_array_subset::<Vec<$t>>(&ranges),
                }
                .map_err(err)?
            };
        }
        let signed = |v: Vec<i64>| signed(&self.path, v.into_iter()).map_err(|e| CtcError::new(&self.path, format!("time point {t}: {}", e.what)));
        Ok(match kind.split(" / ").next().unwrap_or("") {
            "uint8" | "bool" => Samples::U8(read!(u8)),
            "uint16" => Samples::U16(read!(u16)),
            "uint32" => Samples::Unsigned(read!(u32).into_iter().map(u64::from).collect()),
            "uint64" => Samples::Unsigned(read!(u64)),
            "int8" => signed(read!(i8).into_iter().map(i64::from).collect())?,
            "int16" => signed(read!(i16).into_iter().map(i64::from).collect())?,
            "int32" => signed(read!(i32).into_iter().map(i64::from).collect())?,
            "int64" => signed(read!(i64))?,
            "float32" => Samples::F32(read!(f32)),
            "float64" => Samples::F32(read!(f64).into_iter().map(|v| v as f32).collect()),
            _ => return Err(CtcError::new(&self.path, format!("holds {kind} values; expected integer or float intensities or labels"))),
        })
    }
}

/// A cache of decoded chunks for an array whose chunks hold several time
/// points: twice the chunks one time point touches, so that each chunk is
/// decoded once as the frames are read in order. None where each chunk holds
/// one time point.
fn time_chunk_cache(array: &Arc<Array<Storage>>, axes: &[char], shape: &[usize]) -> Option<Arc<ChunkCacheDecodedLruChunkLimit>> {
    let t = axes.iter().position(|&a| a == 't')?;
    let first = array.chunk_shape(&vec![0; axes.len()]).ok()?;
    if first[t].get() <= 1 {
        return None;
    }
    let frame: Vec<Range<u64>> = shape.iter().enumerate().map(|(i, &n)| if i == t { 0..1 } else { 0..n as u64 }).collect();
    let touched = array.chunks_in_array_subset(&ArraySubset::new_with_ranges(&frame)).ok()??.num_elements();
    Some(Arc::new(ChunkCacheDecodedLruChunkLimit::new(array.clone(), 2 * touched.max(1))))
}

/// `samples` of consecutive planes of `pixels` pixels each, plane by plane.
fn split_planes(samples: Samples, pixels: usize) -> Vec<Samples> {
    macro_rules! split {
        ($v:expr, $kind:ident) => {
            $v.chunks_exact(pixels).map(|p| Samples::$kind(p.to_vec())).collect()
        };
    }
    match samples {
        Samples::U8(v) => split!(v, U8),
        Samples::U16(v) => split!(v, U16),
        Samples::F32(v) => split!(v, F32),
        Samples::Unsigned(v) => split!(v, Unsigned),
    }
}

/// "3 time points × 2 channels × 4 z slices", of the axes longer than 1.
fn describe(channels: usize, slices: usize, times: usize) -> String {
    let parts: Vec<String> = [(times, "time point"), (channels, "channel"), (slices, "z slice")]
        .iter()
        .filter(|(n, _)| *n > 1)
        .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    if parts.is_empty() { "one plane".to_string() } else { parts.join(" × ") }
}

/// The full-resolution level of an OME-Zarr group and its axes, from the
/// group's `multiscales` (NGFF 0.4; under `ome` in 0.5).
fn multiscale_level(path: &Path, attrs: &serde_json::Map<String, Value>) -> Result<(String, Vec<char>)> {
    let multiscales = ome_attribute(attrs, "multiscales");
    let Some(first) = multiscales.and_then(|m| m.get(0)) else {
        let hint = if attrs.contains_key("labels") { " (its label images lie in labels/NAME; give one of them)" } else { "" };
        return Err(CtcError::new(path, format!("is a Zarr group but not an OME-Zarr image: it has no multiscales{hint}")));
    };
    let level = first.get("datasets").and_then(|d| d.get(0)).and_then(|d| d.get("path")).and_then(Value::as_str);
    let Some(level) = level else {
        return Err(CtcError::new(path, "names no dataset path in its multiscales"));
    };
    let names: Vec<String> = first
        .get("axes")
        .and_then(Value::as_array)
        .map(|axes| axes.iter().filter_map(|a| a.get("name").or(Some(a)).and_then(Value::as_str).map(str::to_lowercase)).collect())
        .unwrap_or_default();
    if names.is_empty() {
        return Err(CtcError::new(path, "names no axes in its multiscales (NGFF 0.3 and earlier); save it as NGFF 0.4 or later"));
    }
    Ok((level.to_string(), check_axes(path, &names)?))
}

/// An OME-NGFF attribute of a group: under `ome` (NGFF 0.5, Zarr v3) or
/// at the top (NGFF 0.4, Zarr v2).
fn ome_attribute<'a>(attrs: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    attrs.get("ome").and_then(|o| o.get(key)).or_else(|| attrs.get(key))
}

/// The attributes of the Zarr group at `path`; none for a bare array.
fn group_attributes(path: &Path) -> Result<Option<serde_json::Map<String, Value>>> {
    let store: Arc<Storage> = Arc::new(FilesystemStore::new(path).map_err(|e| CtcError::new(path, format!("cannot open as Zarr: {e}")))?);
    Ok(Group::open(store, "/").ok().map(|g| g.attributes().clone()))
}

/// `omero.channels[].label` of the OME-Zarr image at `path`: its channels'
/// names, in order, where it names every one.
pub(super) fn zarr_channel_names(path: &Path) -> Result<Option<Vec<String>>> {
    let Some(attrs) = group_attributes(path)? else { return Ok(None) };
    let labels: Option<Vec<String>> = ome_attribute(&attrs, "omero")
        .and_then(|o| o.get("channels"))
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().map(|c| c.get("label").and_then(Value::as_str).map(str::to_string)).collect::<Option<Vec<_>>>());
    Ok(labels.filter(|l| !l.is_empty()))
}

/// The calibration an OME-Zarr image at `path` records: the size of a pixel
/// along x and of a step along t, each the scale of the first resolution
/// level (times the multiscale's own scale, where it has one) in its axis's
/// unit (`micrometer` as µm, `second` as s); each where the axis names a
/// unit.
pub fn zarr_calibration(path: &Path) -> Result<super::calibration::Recorded> {
    let Some(attrs) = group_attributes(path)? else { return Err(CtcError::new(path, "cannot open as a Zarr group")) };
    let multiscales = ome_attribute(&attrs, "multiscales");
    let Some(first) = multiscales.and_then(|m| m.get(0)) else { return Ok((None, None)) };
    let scale = |transforms: Option<&Value>| -> Option<Vec<f64>> {
        transforms?.as_array()?.iter().find(|t| t.get("type").and_then(Value::as_str) == Some("scale"))?.get("scale")?.as_array()?.iter().map(Value::as_f64).collect()
    };
    let level = scale(first.get("datasets").and_then(|d| d.get(0)).and_then(|d| d.get("coordinateTransformations")));
    let whole = scale(first.get("coordinateTransformations"));
    let axes: Vec<(String, Option<String>)> = first
        .get("axes")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|x| (x.get("name").and_then(Value::as_str).unwrap_or_default().to_lowercase(), x.get("unit").and_then(Value::as_str).map(str::to_string))).collect())
        .unwrap_or_default();
    let along = |name: &str| -> Option<(f64, String)> {
        let i = axes.iter().position(|(n, _)| n == name)?;
        let unit = axes[i].1.clone()?;
        let size = level.as_ref().and_then(|l| l.get(i).copied()).unwrap_or(1.0) * whole.as_ref().and_then(|w| w.get(i).copied()).unwrap_or(1.0);
        (size > 0.0).then(|| (size, ngff_unit(&unit)))
    };
    Ok((along("x"), along("t")))
}

/// An OME-NGFF unit name as cellstream writes units: `micrometer` as µm,
/// `second` as s; others as they are.
fn ngff_unit(unit: &str) -> String {
    match unit {
        "micrometer" => "µm",
        "nanometer" => "nm",
        "millimeter" => "mm",
        "second" => "s",
        "millisecond" => "ms",
        "minute" => "min",
        "hour" => "h",
        other => other,
    }
    .to_string()
}

/// A bare Zarr array's axes: its dimension names, or t, y, x for three
/// dimensions and y, x for two.
fn bare_axes(path: &Path, array: &Array<Storage>, n: usize) -> Result<Vec<char>> {
    let named: Option<Vec<String>> = array.dimension_names().as_ref().and_then(|names| names.iter().map(|n| n.as_ref().map(|s| s.to_lowercase())).collect());
    match named {
        Some(names) => check_axes(path, &names),
        None if n == 3 => Ok(vec!['t', 'y', 'x']),
        None if n == 2 => Ok(vec!['y', 'x']),
        None => Err(CtcError::new(path, format!("is a Zarr array of {n} dimensions with no axis names; save it as OME-Zarr (NGFF) so its axes are named"))),
    }
}

/// NGFF axis names as t, c, z, y, x, with y and x last and none twice.
fn check_axes(path: &Path, names: &[String]) -> Result<Vec<char>> {
    let axes: Vec<char> = names
        .iter()
        .map(|n| match n.as_str() {
            "t" | "time" => Ok('t'),
            "c" | "channel" => Ok('c'),
            "z" => Ok('z'),
            "y" => Ok('y'),
            "x" => Ok('x'),
            other => Err(CtcError::new(path, format!("has an axis {other:?}; cellstream reads the NGFF axes t, c, z, y and x"))),
        })
        .collect::<Result<_>>()?;
    let n = axes.len();
    if n < 2 || axes[n - 2..] != ['y', 'x'] || (1..n).any(|i| axes[..i].contains(&axes[i])) {
        return Err(CtcError::new(path, format!("has axes {}; expected y and x last, each axis once", names.join(", "))));
    }
    Ok(axes)
}
