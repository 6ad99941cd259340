//! Which planes of a TIFF make one 2D frame: a channel of several, and z slices projected as Fiji's Z Project does.
//!
//! A time-lapse of z-stacks (a CTC 3D sequence of `tTTT.tif` files whose
//! pages are slices, or an ImageJ or OME hyperstack with z slices and time
//! points) is tracked in 2D on each time point's projection: the maximum or
//! the mean of each pixel over the slices ([`z_project`]). [`Axes`] reads how
//! an ImageJ or OME description lays the pages out.
use std::io::{Read, Seek};
use std::path::Path;
use std::str::FromStr;

use ndarray::{Array2, Zip};
use tiff::decoder::Decoder;

use super::error::{CtcError, Result};
use super::tiff_io::{frame_from, page_header, page_samples, tiff_err, Channel, Frame};

/// How the z slices of one time point become one 2D frame (Fiji's
/// Image › Stacks › Z Project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Projection {
    /// Each pixel's brightest value over the slices, in the frames' own type.
    Max,
    /// Each pixel's mean over the slices, as float.
    Mean,
}

impl Projection {
    /// The name as `--project` takes it: `max` or `mean`.
    pub fn name(self) -> &'static str {
        match self {
            Projection::Max => "max",
            Projection::Mean => "mean",
        }
    }
}

impl FromStr for Projection {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Projection, String> {
        match s {
            "max" => Ok(Projection::Max),
            "mean" => Ok(Projection::Mean),
            _ => Err(format!("{s} is not a projection: max (each pixel's brightest slice) or mean")),
        }
    }
}

/// Which planes of a file make one frame: one [`Channel`] of several and,
/// for z-stacks, their [`Projection`], of every slice or of a
/// [`SliceRange`]. The default reads a file of one grayscale 2D page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Planes {
    pub channel: Channel,
    pub project: Option<Projection>,
    /// The slices the projection takes; all of them when unset.
    pub slices: Option<SliceRange>,
    /// Of a Micro-Manager NDTiff acquisition of several positions (the
    /// wells or fields of a plate), the one read, as its index numbers it
    /// (Micro-Manager's `Pos0` is 0). Other inputs have no positions.
    pub position: Option<i64>,
}

impl From<Channel> for Planes {
    fn from(channel: Channel) -> Planes {
        Planes { channel, ..Planes::default() }
    }
}

/// The z slices to project, counted from 1 as Fiji counts them, both ends
/// included (the start and stop slice of Fiji's Z Project): `2-4`, or `3`
/// for one slice alone.
///
/// ```
/// use cellstream::ctc::SliceRange;
/// assert_eq!("2-4".parse(), Ok(SliceRange { first: 2, last: 4 }));
/// assert_eq!("3".parse(), Ok(SliceRange { first: 3, last: 3 }));
/// assert!("0-2".parse::<SliceRange>().unwrap_err().contains("from 1"));
/// assert!("4-2".parse::<SliceRange>().unwrap_err().contains("ends before"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SliceRange {
    pub first: usize,
    pub last: usize,
}

impl SliceRange {
    /// The slices (from 0) of a stack of `slices` that the range names; a
    /// range past the last slice is an error naming `path`.
    pub(super) fn within(self, path: &Path, slices: usize) -> Result<std::ops::Range<usize>> {
        if self.last > slices {
            return Err(CtcError::new(path, format!("has {slices} z slices; --slices {} asks for slice {}", String::from(self), self.last)));
        }
        Ok(self.first - 1..self.last)
    }
}

impl FromStr for SliceRange {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<SliceRange, String> {
        let number = |n: &str| match n.trim().parse::<usize>() {
            Ok(v) if v >= 1 => Ok(v),
            _ => Err(format!("{s:?} is not a slice range: slices count from 1, as in Fiji (e.g. 2-4, or 3 for one slice)")),
        };
        let (first, last) = match s.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(s)?, number(s)?),
        };
        if last < first {
            return Err(format!("slice range {s:?} ends before it starts"));
        }
        Ok(SliceRange { first, last })
    }
}

impl TryFrom<String> for SliceRange {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<SliceRange, String> {
        s.parse()
    }
}

impl From<SliceRange> for String {
    fn from(r: SliceRange) -> String {
        if r.first == r.last { r.first.to_string() } else { format!("{}-{}", r.first, r.last) }
    }
}

/// The projection of `slices`, z slices of one size and sample type: each
/// pixel's maximum (in that type) or mean (as float) over them. The slices
/// are taken one at a time, so only the projection and one slice are held.
/// The first error of `slices` is returned as it is; no slices at all is an
/// error naming `path`.
///
/// ```
/// use cellstream::ctc::{z_project, Frame, Projection};
/// use ndarray::array;
/// use std::path::Path;
/// let slices = || [array![[1u16, 9], [4, 0]], array![[3, 2], [4, 6]]].map(|a| Ok(Frame::U16(a)));
/// let p = Path::new("t000.tif");
/// assert_eq!(z_project(p, Projection::Max, slices()).unwrap(), Frame::U16(array![[3, 9], [4, 6]]));
/// assert_eq!(z_project(p, Projection::Mean, slices()).unwrap(), Frame::F32(array![[2.0, 5.5], [4.0, 3.0]]));
/// ```
pub fn z_project(path: &Path, kind: Projection, slices: impl IntoIterator<Item = Result<Frame>>) -> Result<Frame> {
    let mut acc: Option<Frame> = None;
    let mut n = 0usize;
    for slice in slices {
        let slice = slice?;
        n += 1;
        acc = Some(match (acc, kind) {
            (None, Projection::Max) => slice,
            (None, Projection::Mean) => Frame::F32(slice.to_f32()),
            (Some(a), _) if a.dim() != slice.dim() => {
                let ((h, w), (sh, sw)) = (a.dim(), slice.dim());
                return Err(CtcError::new(path, format!("z slice {} is {sw}×{sh} but slice 0 is {w}×{h} (width×height)", n - 1)));
            }
            (Some(Frame::F32(mut a)), Projection::Mean) => {
                Zip::from(&mut a).and(&slice.to_f32()).for_each(|a, &s| *a += s);
                Frame::F32(a)
            }
            (Some(a), _) => max_of(a, slice),
        });
    }
    match (acc, kind) {
        (None, _) => Err(CtcError::new(path, "has no z slice to project")),
        (Some(Frame::F32(a)), Projection::Mean) => Ok(Frame::F32(a.mapv(|v| v / n as f32))),
        (Some(a), _) => Ok(a),
    }
}

/// Each pixel's larger value of two frames of one size: in their type when
/// they share it, else as float.
fn max_of(a: Frame, b: Frame) -> Frame {
    fn max_into<T: Copy + PartialOrd>(mut a: Array2<T>, b: &Array2<T>) -> Array2<T> {
        Zip::from(&mut a).and(b).for_each(|a, &b| {
            if b > *a {
                *a = b;
            }
        });
        a
    }
    match (a, b) {
        (Frame::U8(a), Frame::U8(b)) => Frame::U8(max_into(a, &b)),
        (Frame::U16(a), Frame::U16(b)) => Frame::U16(max_into(a, &b)),
        (a, b) => Frame::F32(max_into(a.to_f32(), &b.to_f32())),
    }
}

/// The axes an ImageJ (`channels=2`, `slices=5`, `frames=40`) or OME
/// (`SizeC="2"`, `SizeZ="5"`, `SizeT="40"`) description gives a stack, and
/// the order of its pages; 1 where it names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Axes {
    pub channels: usize,
    pub slices: usize,
    pub times: usize,
    /// The page order, fastest axis first: ImageJ's is always `CZT`; OME's
    /// follows `XY` in its `DimensionOrder`.
    pub order: [u8; 3],
    /// Whether the description names any of the three.
    pub described: bool,
}

impl Axes {
    pub fn read(description: &str) -> Axes {
        let named = |keys: [&str; 2]| keys.iter().find_map(|k| count(description, k));
        let (c, z, t) = (named(["channels=", "SizeC=\""]), named(["slices=", "SizeZ=\""]), named(["frames=", "SizeT=\""]));
        let mut order = *b"CZT";
        if let Some(at) = description.find("DimensionOrder=\"XY") {
            let given = &description.as_bytes()[at + "DimensionOrder=\"XY".len()..];
            if given.len() >= 3 && order.iter().all(|a| given[..3].contains(a)) {
                order.copy_from_slice(&given[..3]);
            }
        }
        let size = |n: Option<usize>| n.unwrap_or(1).max(1);
        Axes { channels: size(c), slices: size(z), times: size(t), order, described: c.or(z).or(t).is_some() }
    }

    /// The page holding channel `c`, slice `z` and time point `t` (each from 0).
    pub fn page(&self, c: usize, z: usize, t: usize) -> usize {
        let mut stride = 1;
        let mut page = 0;
        for axis in self.order {
            let (index, size) = match axis {
                b'C' => (c, self.channels),
                b'Z' => (z, self.slices),
                _ => (t, self.times),
            };
            page += index * stride;
            stride *= size;
        }
        page
    }

    /// "2 channels × 5 z slices × 40 time points", naming the axes over 1.
    pub fn text(&self) -> String {
        [(self.channels, "channels"), (self.slices, "z slices"), (self.times, "time points")]
            .iter()
            .filter(|(n, _)| *n > 1)
            .map(|(n, what)| format!("{n} {what}"))
            .collect::<Vec<_>>()
            .join(" × ")
    }
}

/// The number after `key` in an image description (`images=40`, `SizeT="40"`).
pub(super) fn count(description: &str, key: &str) -> Option<usize> {
    let at = description.find(key)? + key.len();
    let digits: String = description[at..].chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// The channel (from 0) of a hyperstack's `axes.channels` channels that
/// `channel` names; refuses none named where there are several, and one the
/// stack lacks.
pub(super) fn channel_of_hyperstack(path: &Path, axes: &Axes, channel: Channel) -> Result<usize> {
    match channel {
        None if axes.channels == 1 => Ok(0),
        None => Err(CtcError::new(path, format!("is a hyperstack of {}; --channel 1 to {} picks one", axes.text(), axes.channels))),
        Some(c) if c == 0 || c > axes.channels => Err(CtcError::new(path, format!("has {} channels; there is no channel {c}", axes.channels))),
        Some(c) => Ok(c - 1),
    }
}

/// The projection of the pages `pages` of the decoder's file, each checked
/// to be `dim` (height, width) and read at `sample` ([`Channel`] of a page of
/// several samples per pixel); errors name the page.
pub(super) fn project_pages<R: Read + Seek>(
    path: &Path,
    dec: &mut Decoder<R>,
    pages: impl Iterator<Item = usize>,
    dim: (usize, usize),
    sample: Channel,
    kind: Projection,
) -> Result<Frame> {
    let slices = pages.map(|p| read_page_as_frame(path, dec, p, dim, sample, "z slices of a frame"));
    z_project(path, kind, slices)
}

/// Page `p` of the decoder's file as a frame, checked to be `dim`; `what`
/// names the pages that must share a size in the message when it is not.
pub(super) fn read_page_as_frame<R: Read + Seek>(path: &Path, dec: &mut Decoder<R>, p: usize, dim: (usize, usize), sample: Channel, what: &str) -> Result<Frame> {
    let at_page = |e: CtcError| CtcError::new(path, format!("page {p}: {}", e.what));
    dec.seek_to_image(p).map_err(|e| at_page(tiff_err(path, e)))?;
    let page = page_header(path, dec).map_err(at_page)?;
    if page.dim != dim {
        return Err(CtcError::new(
            path,
            format!("page {p} is {}×{} but page 0 is {}×{} (width×height); the {what} must have one size", page.dim.1, page.dim.0, dim.1, dim.0),
        ));
    }
    let samples = page_samples(path, dec, &page, sample).map_err(at_page)?;
    frame_from(path, page.dim, samples).map_err(at_page)
}

/// Frame file `path` of z slices (a CTC 3D frame, or one time point of a
/// hyperstack saved alone) projected by `kind`, reading channel `channel`:
/// a sample of each pixel of colour slices, or the pages of one channel where
/// an ImageJ or OME description lays out channels × slices. Pages with no
/// description are all slices of one channel. `range` limits the slices.
pub(super) fn read_frame_projected(path: &Path, channel: Channel, kind: Projection, range: Option<SliceRange>) -> Result<Frame> {
    let mut dec = super::tiff_io::decoder(path, super::tiff_io::open(path)?)?;
    let first = page_header(path, &mut dec)?;
    let description = dec.get_tag_ascii_string(tiff::tags::Tag::ImageDescription).unwrap_or_default();
    let mut pages = 1;
    while dec.more_images() {
        dec.next_image().map_err(|e| tiff_err(path, e))?;
        pages += 1;
    }
    let axes = Axes::read(&description);
    let axes = if axes.described { axes } else { Axes { slices: pages, ..axes } };
    if axes.times > 1 {
        return Err(CtcError::new(
            path,
            format!("holds {}; a frame file holds one time point (give the file itself as the sequence to track it as a stack)", axes.text()),
        ));
    }
    if axes.channels * axes.slices != pages {
        return Err(CtcError::new(path, format!("says it holds {} but has {pages} pages", axes.text())));
    }
    if axes.slices == 1 {
        // As NDTiff, OME-Zarr and stacks refuse it: --project on 2D frames is a mistaken input.
        if first.samples > 1 {
            // A colour page: the samples may be what the user thinks slices
            // (tifffile saves an array of three 2D planes as RGB).
            return Err(CtcError::new(
                path,
                format!(
                    "has no z slices to project: one page of {} samples a pixel ({}); if those are your z slices, save them as pages (tifffile: photometric='minisblack'); else leave out --project and pick one with --channel 1 to {}",
                    first.samples,
                    super::tiff_io::colour_name(first.color),
                    first.samples
                ),
            ));
        }
        return Err(CtcError::new(path, "has no z slices to project (one plane); leave out --project for 2D frames"));
    }
    let (c, sample) = if first.samples > 1 {
        (0, channel)
    } else if axes.channels == 1 && channel.is_some_and(|c| c != 1) {
        return Err(CtcError::new(
            path,
            format!("has one channel ({pages} grayscale pages, read as z slices); there is no channel {}", channel.unwrap_or(0)),
        ));
    } else {
        (channel_of_hyperstack(path, &axes, channel)?, None)
    };
    let z = range.map_or(Ok(0..axes.slices), |r| r.within(path, axes.slices))?;
    project_pages(path, &mut dec, z.map(|z| axes.page(c, z, 0)), first.dim, sample, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn page_order_follows_the_description() {
        let imagej = Axes::read("ImageJ=1.54f\nimages=60\nchannels=2\nslices=3\nframes=10\nhyperstack=true\n");
        assert_eq!((imagej.channels, imagej.slices, imagej.times, imagej.order), (2, 3, 10, *b"CZT"));
        assert_eq!(imagej.page(1, 2, 4), 1 + 2 * 2 + 4 * 6);
        let ome = Axes::read(r#"<OME><Image><Pixels DimensionOrder="XYZTC" SizeC="3" SizeT="10" SizeZ="4"/></Image></OME>"#);
        assert_eq!(ome.order, *b"ZTC");
        assert_eq!(ome.page(2, 1, 5), 1 + 5 * 4 + 2 * 40);
        assert_eq!(ome.text(), "3 channels × 4 z slices × 10 time points");
        let plain = Axes::read("");
        assert!(!plain.described);
        assert_eq!(plain.page(0, 0, 7), 7);
    }

    #[test]
    fn projection_names_parse() {
        assert_eq!("max".parse::<Projection>(), Ok(Projection::Max));
        assert_eq!("mean".parse::<Projection>().map(Projection::name), Ok("mean"));
        assert!("sum".parse::<Projection>().unwrap_err().contains("max"));
    }

    #[test]
    fn slices_of_another_size_or_none_are_refused() {
        let p = Path::new("t004.tif");
        let e = z_project(p, Projection::Max, [Ok(Frame::U8(array![[1u8, 2]])), Ok(Frame::U8(array![[1u8], [2]]))]).unwrap_err().to_string();
        assert!(e.contains("t004.tif") && e.contains("z slice 1 is 1×2 but slice 0 is 2×1"), "{e}");
        assert!(z_project(p, Projection::Mean, []).unwrap_err().to_string().contains("no z slice"));
    }

    proptest! {
        /// The maximum and the mean are each pixel's own over the slices,
        /// whatever their order; 8-bit slices stay 8-bit under the maximum.
        #[test]
        fn projections_are_per_pixel(values in prop::collection::vec(0u8..=255, 6 * 4)) {
            let slices: Vec<Array2<u8>> = values.chunks(6).map(|c| Array2::from_shape_vec((2, 3), c.to_vec()).unwrap()).collect();
            let p = Path::new("t.tif");
            let max = z_project(p, Projection::Max, slices.iter().rev().map(|s| Ok(Frame::U8(s.clone())))).unwrap();
            let mean = z_project(p, Projection::Mean, slices.iter().map(|s| Ok(Frame::U8(s.clone())))).unwrap();
            let (Frame::U8(max), Frame::F32(mean)) = (max, mean) else { panic!("types") };
            for ((y, x), &m) in max.indexed_iter() {
                prop_assert_eq!(m, slices.iter().map(|s| s[(y, x)]).max().unwrap());
                let sum: f32 = slices.iter().map(|s| f32::from(s[(y, x)])).sum();
                prop_assert!((mean[(y, x)] - sum / 4.0).abs() < 1e-4);
            }
        }
    }
}
