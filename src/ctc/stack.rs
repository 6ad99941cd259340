//! A time-lapse held in one multi-page TIFF (an ImageJ or tifffile stack), read page by page as frames.
//!
//! Microscopes and Fiji often save a 2D+t series as one file of T pages
//! rather than a CTC folder of `tTTT.tif`. [`Stack`] takes each page as the
//! frame of that index (page 0 is frame 0) and streams them: one page is in
//! memory at a time. Of a hyperstack of channels over time, or of colour
//! pages, one channel is read when the user names it; of z slices over time,
//! each time point's projection when the user asks for one. Hyperstacks with
//! z slices and no projection asked for, colour pages with no channel named
//! and pages of different sizes are refused, each with the file (and page)
//! named. ImageJ's stacks over 4 GB, one TIFF header for pixels laid out
//! page after page, are read page by page as well.
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

use super::error::{CtcError, Result};
use super::frame_range::FrameRange;
use super::planes::{channel_of_hyperstack, count, z_project, Axes, Planes, Projection};
use super::sequence::Sequence;
use super::ndtiff::{is_ndtiff, refuse_position, NdTiff};
use super::zarr::{is_zarr, ZarrImage};
use super::tiff_io::{channel_index, decoded_samples, decoder, frame_from, mask_from, open, page_header, page_samples, samples_of, tiff_err, Channel, Frame, Mask, PageHeader, Samples};

/// A multi-page TIFF read as a time-lapse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub path: PathBuf,
    /// Time points, one frame each: the pages, or a hyperstack's time points.
    pub time_points: usize,
    /// (height, width) of the first page; every page must match it.
    pub dim: (usize, usize),
    /// Frame t is page `first + t * step`: every page, or one channel's pages
    /// of a hyperstack; or, with a projection, the projection of its `slices`
    /// pages `first + t * step + z * z_step`.
    first: usize,
    step: usize,
    z_step: usize,
    slices: usize,
    projection: Option<Projection>,
    /// The channel read from pages of several samples per pixel (RGB).
    sample_channel: Channel,
    /// Where the pages' pixels lie when one header serves them all.
    contiguous: Option<Contiguous>,
}

/// The pages of an ImageJ stack over 4 GB: one TIFF header, that of page 0,
/// describes every page, and the pixels of page `p` lie uncompressed at
/// `offset + p * page_bytes`. Fiji writes such files and reads them back,
/// as tifffile does (its `truncate=True`); other TIFF readers see one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Contiguous {
    offset: u64,
    page_bytes: u64,
    header: PageHeader,
    bits: u8,
    float: bool,
    big_endian: bool,
}

impl Contiguous {
    /// The layout of a stack of `images` pages whose description says so
    /// and whose file holds page 0's header alone (the decoder on it):
    /// refuses compressed or scattered pixels and a file too short for them.
    fn find<R: Read + Seek>(path: &Path, dec: &mut Decoder<R>, header: PageHeader, images: usize) -> Result<Contiguous> {
        let refuse = |what: String| CtcError::new(path, format!("says it holds {images} images (ImageJ) in one TIFF page, but {what}"));
        let compression = dec.find_tag_unsigned::<u16>(Tag::Compression).map_err(|e| tiff_err(path, e))?.unwrap_or(1);
        if compression != 1 {
            return Err(refuse(format!("its pixels are compressed (TIFF compression {compression}); ImageJ stores such stacks uncompressed")));
        }
        let mut strips = |tag| dec.find_tag_unsigned_vec::<u64>(tag).map_err(|e| tiff_err(path, e));
        let (Some(offsets), Some(counts)) = (strips(Tag::StripOffsets)?, strips(Tag::StripByteCounts)?) else {
            return Err(refuse("its pixels are not in strips".to_string()));
        };
        if offsets.is_empty() || offsets.len() != counts.len() || offsets.windows(2).zip(&counts).any(|(o, c)| o[0] + c != o[1]) {
            return Err(refuse("its pixels are not stored in one run".to_string()));
        }
        let bits = header.color.bit_depth();
        let format = dec.find_tag_unsigned::<u16>(Tag::SampleFormat).map_err(|e| tiff_err(path, e))?.unwrap_or(1);
        let float = match (format, bits) {
            (1, 8 | 16 | 32) => false,
            (3, 32 | 64) => true,
            _ => return Err(refuse(format!("its samples ({bits}-bit, TIFF sample format {format}) are not ImageJ's"))),
        };
        let (h, w) = header.dim;
        let page_bytes = (h * w * header.samples) as u64 * u64::from(bits / 8);
        let stored: u64 = counts.iter().sum();
        if stored != page_bytes {
            return Err(refuse(format!("its first page holds {stored} bytes where a {w}×{h} page of {bits}-bit samples takes {page_bytes}")));
        }
        let offset = offsets[0];
        let length = std::fs::metadata(path).map_err(|e| CtcError::io(path, &e))?.len();
        let whole = length.saturating_sub(offset) / page_bytes;
        if whole < images as u64 {
            return Err(refuse(format!("the file ends after {whole} of them ({length} bytes); it is cut short")));
        }
        let big_endian = matches!(dec.byte_order(), tiff::tags::ByteOrder::BigEndian);
        Ok(Contiguous { offset, page_bytes, header, bits, float, big_endian })
    }

    /// The samples of page `p`, read from the decoder's file.
    fn read<R: Read + Seek>(&self, path: &Path, dec: &mut Decoder<R>, p: usize, channel: Channel) -> Result<Samples> {
        let file = dec.inner();
        let mut bytes = vec![0; self.page_bytes as usize];
        file.seek(SeekFrom::Start(self.offset + p as u64 * self.page_bytes))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| CtcError::io(path, &e))?;
        macro_rules! words {
            ($t:ty, $n:literal) => {
                bytes
                    .chunks_exact($n)
                    .map(|b| {
                        let b: [u8; $n] = b.try_into().expect("chunks of the word's size");
                        if self.big_endian { <$t>::from_be_bytes(b) } else { <$t>::from_le_bytes(b) }
                    })
                    .collect()
            };
        }
        let data = match (self.bits, self.float) {
            (8, _) => DecodingResult::U8(bytes),
            (16, _) => DecodingResult::U16(words!(u16, 2)),
            (32, false) => DecodingResult::U32(words!(u32, 4)),
            (32, true) => DecodingResult::F32(words!(f32, 4)),
            _ => DecodingResult::F64(words!(f64, 8)),
        };
        decoded_samples(path, &self.header, channel, data)
    }
}

impl Stack {
    /// Opens `path`, checks its first page (grayscale, not empty) and any
    /// ImageJ or OME description of a hyperstack, and counts its pages. No
    /// pixel is read.
    pub fn open(path: &Path) -> Result<Stack> {
        Stack::open_planes(path, Planes::default())
    }

    /// [`Stack::open`], reading `planes` of each time point: of a hyperstack
    /// of channels over time (ImageJ's `channels=` and `frames=`, or OME's
    /// `SizeC` and `SizeT` in the page order of its `DimensionOrder`), one
    /// channel's pages; of a stack of colour pages, one sample of each pixel;
    /// of z slices over time (`slices=`, `SizeZ`), each time point's
    /// projection of all its slices or of `planes.slices`, which must be
    /// asked for.
    pub fn open_planes(path: &Path, planes: Planes) -> Result<Stack> {
        let channel = planes.channel;
        let mut dec = decoder(path, open(path)?)?;
        let page = page_header(path, &mut dec)?;
        let description = dec.get_tag_ascii_string(Tag::ImageDescription).unwrap_or_default();
        let axes = Axes::read(&description);
        let mut pages = 1;
        while dec.more_images() {
            dec.next_image().map_err(|e| tiff_err(path, e)).map_err(|e| at_page(e, path, pages))?;
            pages += 1;
        }
        // ImageJ writes stacks over 4 GB with one header for all pages, the
        // pixels of every page one after another; read as TIFF, they would
        // silently be one frame.
        let mut contiguous = None;
        if let Some(images) = count(&description, "images=").filter(|&n| n > pages) {
            if pages > 1 {
                return Err(CtcError::new(
                    path,
                    format!("says it holds {images} images (ImageJ) but has {pages} TIFF pages; the file may be cut short"),
                ));
            }
            dec.seek_to_image(0).map_err(|e| tiff_err(path, e))?;
            contiguous = Some(Contiguous::find(path, &mut dec, page, images)?);
            pages = images;
        }
        // A hyperstack whose pages do not add up is said so first, before
        // any advice on which channel or slices to read from it.
        if axes.channels * axes.slices > 1 && pages != axes.channels * axes.slices * axes.times {
            return Err(CtcError::new(path, format!("says it holds {} but has {pages} pages", axes.text())));
        }
        let dim = page.dim;
        let plain = Stack { path: path.to_path_buf(), time_points: pages, dim, first: 0, step: 1, z_step: 0, slices: 1, projection: None, sample_channel: None, contiguous };
        let hyperstack = |c: usize, z: std::ops::Range<usize>, projection: Option<Projection>, sample_channel: Channel| -> Result<Stack> {
            if pages != axes.channels * axes.slices * axes.times {
                return Err(CtcError::new(path, format!("says it holds {} but has {pages} pages", axes.text())));
            }
            let (first, step, z_step) = (axes.page(c, z.start, 0), axes.page(0, 0, 1), axes.page(0, 1, 0));
            Ok(Stack { time_points: axes.times, first, step, z_step, slices: z.len(), projection, sample_channel, ..plain.clone() })
        };
        if let Some(kind) = planes.project {
            if axes.slices == 1 {
                let what = if axes.described { format!("its description names {}", axes.text()) } else { "it names no axes".to_string() };
                return Err(CtcError::new(
                    path,
                    format!("has no z slices to project ({what}; its {pages} pages are read as time points); --project is for ImageJ or OME hyperstacks of z slices over time, or frame files of z slices"),
                ));
            }
            let z = planes.slices.map_or(Ok(0..axes.slices), |r| r.within(path, axes.slices))?;
            if page.samples > 1 {
                channel_index(path, &page, channel)?;
                return hyperstack(0, z, Some(kind), channel);
            }
            return hyperstack(channel_of_hyperstack(path, &axes, channel)?, z, Some(kind), None);
        }
        if axes.channels > 1 && axes.times > 1 && axes.slices == 1 {
            return hyperstack(channel_of_hyperstack(path, &axes, channel)?, 0..1, None, None);
        }
        refuse_hyperstack(path, &axes)?;
        if page.samples == 1 && channel.is_some_and(|c| c != 1) {
            return Err(CtcError::new(
                path,
                format!("has one channel (a stack of {pages} grayscale pages, read as time points); there is no channel {}", channel.unwrap_or(0)),
            ));
        }
        channel_index(path, &page, channel)?;
        Ok(Stack { sample_channel: channel, ..plain })
    }

    /// Digits of the frame numbers in a result for this stack (3, or more past 999).
    pub fn digits(&self) -> usize {
        (self.time_points.saturating_sub(1)).to_string().len().max(3)
    }

    /// How many frames it holds, as its user counts them: "40 pages", or
    /// "40 time points" of a hyperstack.
    pub fn length_text(&self) -> String {
        let unit = if self.step == 1 && self.first == 0 && self.slices == 1 { "page" } else { "time point" };
        format!("{} {unit}{}", self.time_points, if self.time_points == 1 { "" } else { "s" })
    }

    /// The page that holds frame `t` (its first z slice).
    fn page(&self, t: usize) -> usize {
        self.first + t * self.step
    }

    /// Frame `t` alone (for drawing a result over its frames in any order).
    pub fn read_page(&self, t: usize) -> Result<Frame> {
        if t >= self.time_points {
            return Err(CtcError::new(&self.path, format!("has {}; there is no frame {t}", self.length_text())));
        }
        let mut dec = decoder(&self.path, open(&self.path)?)?;
        read_frame_page(self, &mut dec, t, frame_from)
    }

    /// The frames in time order, decoded one at a time. A page that is not
    /// grayscale (or lacks the channel asked for), or whose size differs from
    /// the first page's, is an error naming the file and the page.
    pub fn frames(&self) -> Result<StackPages<Frame>> {
        self.frames_in(None)
    }

    /// [`Stack::frames`] of the time points in `range` alone; the pages
    /// outside it are not decoded.
    pub fn frames_in(&self, range: Option<FrameRange>) -> Result<StackPages<Frame>> {
        self.pages_as(frame_from, range)
    }

    /// The pages as label masks (a label stack from Fiji, StarDist or
    /// Cellpose), in order, one at a time; checked as [`Stack::frames`] and as
    /// [`super::read_mask`] checks a mask.
    pub fn masks(&self) -> Result<StackPages<Mask>> {
        self.masks_in(None)
    }

    /// [`Stack::masks`] of the time points in `range` alone.
    pub fn masks_in(&self, range: Option<FrameRange>) -> Result<StackPages<Mask>> {
        self.pages_as(mask_from, range)
    }

    /// The pages of the time points in `range` (all for None), each made a
    /// frame or a mask by `convert` as it is asked for.
    fn pages_as<T>(&self, convert: Convert<T>, range: Option<FrameRange>) -> Result<StackPages<T>> {
        let (next, end) = match range {
            Some(r) => (r.first, r.last.map_or(self.time_points, |l| self.time_points.min(l + 1))),
            None => (0, self.time_points),
        };
        Ok(StackPages { stack: self.clone(), dec: Some(decoder(&self.path, open(&self.path)?)?), next, end, convert })
    }
}

/// How a page's samples become a frame or a mask.
type Convert<T> = fn(&Path, (usize, usize), Samples) -> Result<T>;

/// The frames of a [`Stack`] in order, as frames or masks.
pub struct StackPages<T> {
    stack: Stack,
    dec: Option<Decoder<BufReader<File>>>,
    next: usize,
    /// One past the last time point to read.
    end: usize,
    convert: Convert<T>,
}

impl<T> Iterator for StackPages<T> {
    type Item = Result<(usize, T)>;

    fn next(&mut self) -> Option<Self::Item> {
        let dec = self.dec.as_mut()?;
        let t = self.next;
        if t >= self.end {
            return None;
        }
        let read = read_frame_page(&self.stack, dec, t, self.convert).map(|f| (t, f));
        self.next += 1;
        if read.is_err() {
            self.dec = None;
        }
        Some(read)
    }
}

/// Frame `t` of `stack`: its page, or the projection of its z slices,
/// checked against the first page's size.
fn read_frame_page<R: Read + Seek, T>(stack: &Stack, dec: &mut Decoder<R>, t: usize, convert: Convert<T>) -> Result<T> {
    let path = &stack.path;
    let p = stack.page(t);
    if let Some(kind) = stack.projection {
        let slices = (0..stack.slices).map(|z| p + z * stack.z_step).map(|q| {
            page_at(stack, dec, q, "the z slices of a frame must have one size").and_then(|s| frame_from(path, stack.dim, s).map_err(|e| at_page(e, path, q)))
        });
        let frame = z_project(path, kind, slices)?;
        return convert(path, stack.dim, samples_of(frame));
    }
    let samples = page_at(stack, dec, p, "every frame of a stack must have one size")?;
    convert(path, stack.dim, samples).map_err(|e| at_page(e, path, p))
}

/// The samples of page `q` of `stack`'s file: behind its own TIFF header,
/// checked to be the first page's size (`rule` says why it must be), or at
/// its place in an ImageJ stack over 4 GB.
fn page_at<R: Read + Seek>(stack: &Stack, dec: &mut Decoder<R>, q: usize, rule: &str) -> Result<Samples> {
    let path = &stack.path;
    if let Some(c) = &stack.contiguous {
        return c.read(path, dec, q, stack.sample_channel).map_err(|e| at_page(e, path, q));
    }
    // The decoder keeps the offsets of the pages it has passed, so stepping
    // through them in order reads each page's header once.
    dec.seek_to_image(q).map_err(|e| at_page(tiff_err(path, e), path, q))?;
    let page = page_header(path, dec).map_err(|e| at_page(e, path, q))?;
    if page.dim != stack.dim {
        return Err(CtcError::new(
            path,
            format!("page {q} is {}×{} but page 0 is {}×{} (width×height); {rule}", page.dim.1, page.dim.0, stack.dim.1, stack.dim.0),
        ));
    }
    page_samples(path, dec, &page, stack.sample_channel).map_err(|e| at_page(e, path, q))
}

/// Frames in time order, each read as it is asked for.
pub type FrameStream = Box<dyn Iterator<Item = Result<(usize, Frame)>> + Send>;

/// Raw frames, to track or draw on: a sequence folder, a stack, an OME-Zarr image or an NDTiff dataset.
#[derive(Debug, Clone)]
pub enum RawFrames {
    Folder(Sequence),
    Stack(Stack),
    Zarr(ZarrImage),
    NdTiff(NdTiff),
}

impl RawFrames {
    /// A sequence folder (`tTTT.tif`), an OME-Zarr image (`image.zarr`), an
    /// NDTiff dataset (a folder with `NDTiff.index`) or, for a file, a
    /// multi-page TIFF stack.
    pub fn open(path: &Path) -> Result<RawFrames> {
        RawFrames::open_planes(path, Planes::default())
    }

    /// [`RawFrames::open`], reading [`Planes`] of each frame: one channel,
    /// and z slices projected.
    pub fn open_planes(path: &Path, planes: Planes) -> Result<RawFrames> {
        RawFrames::open_span(path, planes, None)
    }

    /// [`RawFrames::open_planes`] for reading the time points in `range`
    /// alone: a sequence folder's numbering need have no gap there, wherever
    /// else it has one ([`Sequence::open_span`]).
    pub fn open_span(path: &Path, planes: Planes, range: Option<FrameRange>) -> Result<RawFrames> {
        refuse_position(path, planes)?;
        if is_zarr(path) {
            ZarrImage::open(path, planes).map(RawFrames::Zarr)
        } else if is_ndtiff(path) {
            NdTiff::open(path, planes).map(RawFrames::NdTiff)
        } else if path.is_file() {
            Stack::open_planes(path, planes).map(RawFrames::Stack)
        } else {
            Sequence::open_span(path, range).map(|s| RawFrames::Folder(s.with_planes(planes)))
        }
    }

    /// Frames (time points) it holds.
    pub fn len(&self) -> usize {
        match self {
            RawFrames::Folder(s) => s.len(),
            RawFrames::Stack(s) => s.time_points,
            RawFrames::Zarr(z) => z.time_points,
            RawFrames::NdTiff(n) => n.time_points,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Digits of the frame numbers in a result for it (3, or more past 999).
    pub fn digits(&self) -> usize {
        match self {
            RawFrames::Folder(s) => s.digits(),
            RawFrames::Stack(s) => s.digits(),
            RawFrames::Zarr(z) => z.digits(),
            RawFrames::NdTiff(n) => n.digits(),
        }
    }

    /// The frames in time order, decoded one at a time; a frame whose size
    /// differs from the first's is an error naming its file (and page).
    pub fn frames(&self) -> Result<FrameStream> {
        self.frames_in(None)
    }

    /// [`RawFrames::frames`] of the time points in `range` alone (all for
    /// None); the frames outside it are not decoded.
    pub fn frames_in(&self, range: Option<FrameRange>) -> Result<FrameStream> {
        Ok(match self {
            RawFrames::Folder(s) => Box::new(s.frames_in(range)),
            RawFrames::Stack(s) => Box::new(s.frames_in(range)?),
            RawFrames::Zarr(z) => Box::new(z.frames_in(range)),
            RawFrames::NdTiff(n) => Box::new(n.frames_in(range)),
        })
    }

    /// The time points it holds that lie in `range` (all for None), in order.
    pub fn times_in(&self, range: Option<FrameRange>) -> Vec<usize> {
        let all: Box<dyn Iterator<Item = usize>> = match self {
            RawFrames::Folder(s) => Box::new(s.frames.times()),
            _ => Box::new(0..self.len()),
        };
        all.filter(|&t| FrameRange::admits(range, t)).collect()
    }

    /// Whether frame `t` is there.
    pub fn has(&self, t: usize) -> bool {
        match self {
            RawFrames::Folder(s) => s.frames.path(t).is_some(),
            RawFrames::Stack(s) => t < s.time_points,
            RawFrames::Zarr(z) => t < z.time_points,
            RawFrames::NdTiff(n) => t < n.time_points,
        }
    }

    /// Frame `t`, and the file it came from (for messages).
    pub fn read(&self, t: usize) -> Result<(Frame, PathBuf)> {
        match self {
            RawFrames::Folder(s) => Ok((s.read(t)?, s.frames.path(t).map(Path::to_path_buf).unwrap_or_default())),
            RawFrames::Stack(s) => Ok((s.read_page(t)?, s.path.clone())),
            RawFrames::Zarr(z) => Ok((z.read(t)?, z.path.clone())),
            RawFrames::NdTiff(n) => Ok((n.read(t)?, n.path.join("NDTiff.index"))),
        }
    }

    /// Where frame `t` is (its file) or would be (`DIR/tTTT.tif`; of a
    /// file-name pattern, the pattern), or the stack.
    pub fn frame_path(&self, t: usize) -> PathBuf {
        match self {
            RawFrames::Folder(s) if s.frames.path(t).is_none() && super::is_pattern(s.dir()) => s.dir().to_path_buf(),
            RawFrames::Folder(s) => s.frames.path(t).map(Path::to_path_buf).unwrap_or_else(|| s.dir().join(format!("t{t:0w$}.tif", w = s.digits()))),
            RawFrames::Stack(s) => s.path.clone(),
            RawFrames::Zarr(z) => z.path.clone(),
            RawFrames::NdTiff(n) => n.path.clone(),
        }
    }
}

/// `e` with the page it concerns named.
fn at_page(e: CtcError, path: &Path, page: usize) -> CtcError {
    CtcError::new(path, format!("page {page}: {}", e.what))
}

/// Refuses a hyperstack with z slices and another axis: more than one of
/// channels, z slices and time points. A plain stack is a time-lapse
/// whatever its one axis is called (Fiji opens an image sequence as slices,
/// tifffile may call a 3D array's first axis channels).
fn refuse_hyperstack(path: &Path, axes: &Axes) -> Result<()> {
    let named = [axes.channels, axes.slices, axes.times].iter().filter(|&&n| n > 1).count();
    if named > 1 {
        return Err(CtcError::new(
            path,
            format!("is a hyperstack of {}; cellstream tracks one 2D frame per time point (--project max projects each time point's z slices)", axes.text()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperstack_descriptions_are_read() {
        let p = Path::new("movie.tif");
        for plain in [
            "ImageJ=1.54f\nimages=40\nframes=40\n",
            "ImageJ=1.54f\nimages=40\nslices=40\n",
            "ImageJ=1.11a\nimages=10\nchannels=10\nhyperstack=true\n",
            "ImageJ=1.54f\nimages=80\nchannels=1\nframes=80\n",
            r#"<OME><Image><Pixels SizeC="1" SizeT="10" SizeZ="1"/></Image></OME>"#,
            "",
        ] {
            assert!(refuse_hyperstack(p, &Axes::read(plain)).is_ok(), "{plain}");
        }
        let e = refuse_hyperstack(p, &Axes::read("ImageJ=1.54f\nimages=80\nchannels=2\nslices=2\nframes=20\n")).unwrap_err().to_string();
        assert!(e.contains("movie.tif") && e.contains("2 channels × 2 z slices × 20 time points") && e.contains("--project max"), "{e}");
        let e = refuse_hyperstack(p, &Axes::read(r#"<OME><Image><Pixels SizeC="1" SizeT="10" SizeZ="7"/></Image></OME>"#)).unwrap_err().to_string();
        assert!(e.contains("7 z slices × 10 time points"), "{e}");
        // Channels over time are read one channel at a time, in the order the description gives.
        let imagej = Axes::read("ImageJ=1.54f\nimages=80\nchannels=2\nframes=40\nhyperstack=true\n");
        assert_eq!((imagej.channels, imagej.slices, imagej.times, imagej.page(1, 0, 3)), (2, 1, 40, 7));
        let ome = Axes::read(r#"<OME><Image><Pixels DimensionOrder="XYZTC" SizeC="3" SizeT="10" SizeZ="1"/></Image></OME>"#);
        assert_eq!((ome.channels, ome.slices, ome.times, ome.page(1, 0, 3)), (3, 1, 10, 13));
        assert_eq!(channel_of_hyperstack(p, &ome, Some(3)).unwrap(), 2);
        let e = channel_of_hyperstack(p, &ome, None).unwrap_err().to_string();
        assert!(e.contains("3 channels × 10 time points") && e.contains("--channel 1 to 3"), "{e}");
        let e = channel_of_hyperstack(p, &ome, Some(4)).unwrap_err().to_string();
        assert!(e.contains("there is no channel 4"), "{e}");
    }
}
