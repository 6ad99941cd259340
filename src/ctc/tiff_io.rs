//! Reading and writing single-page grayscale TIFF frames and label masks.
//!
//! CTC data arrives as 8-bit, 16-bit or float32 grayscale TIFFs, uncompressed
//! or LZW / Deflate / Zstandard compressed, in strips or tiles; the `tiff`
//! crate decodes all of these. A frame of several channels (RGB, bands, or
//! one page a channel) is read one [`Channel`] at a time when the user names
//! it. Anything else (a colour frame with no channel named, a palette, a
//! truncated file) is refused with a [`CtcError`] that names the file.
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use ndarray::Array2;
use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::encoder::{TiffEncoder, colortype};

use super::error::{CtcError, Result};
use super::planes::Planes;
use super::staging::write_atomic;

/// A label image: 0 is background, every other value one object.
pub type Mask = Array2<u32>;

/// One raw grayscale frame, in the sample type it was stored with.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    U8(Array2<u8>),
    U16(Array2<u16>),
    F32(Array2<f32>),
}

impl Frame {
    /// (height, width).
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Frame::U8(a) => a.dim(),
            Frame::U16(a) => a.dim(),
            Frame::F32(a) => a.dim(),
        }
    }

    /// The frame as float intensities, values unchanged.
    pub fn to_f32(&self) -> Array2<f32> {
        match self {
            Frame::U8(a) => a.mapv(f32::from),
            Frame::U16(a) => a.mapv(f32::from),
            Frame::F32(a) => a.clone(),
        }
    }

    /// Largest value the sample type can hold (1.0 for float frames).
    pub fn type_max(&self) -> f32 {
        match self {
            Frame::U8(_) => u8::MAX as f32,
            Frame::U16(_) => u16::MAX as f32,
            Frame::F32(_) => 1.0,
        }
    }
}

/// Pixel data of one decoded page, before it is interpreted.
pub(super) enum Samples {
    Unsigned(Vec<u64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
}

/// A frame's pixels as the samples of a page, to be read as a frame or a mask.
pub(super) fn samples_of(frame: Frame) -> Samples {
    match frame {
        Frame::U8(a) => Samples::U8(a.into_raw_vec_and_offset().0),
        Frame::U16(a) => Samples::U16(a.into_raw_vec_and_offset().0),
        Frame::F32(a) => Samples::F32(a.into_raw_vec_and_offset().0),
    }
}

pub(super) fn tiff_err(path: &Path, err: tiff::TiffError) -> CtcError {
    use tiff::TiffError::*;
    let what = match err {
        IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "truncated TIFF: the file ends before its image data".to_string()
        }
        IoError(e) => format!("cannot read TIFF: {e}"),
        FormatError(e) => format!("corrupt TIFF: {e}"),
        UnsupportedError(e) => format!("unsupported TIFF: {e}"),
        LimitsExceeded => "TIFF image is larger than the reader's memory limit".to_string(),
        IntSizeError => "TIFF sizes overflow this platform's integers".to_string(),
        UsageError(e) => format!("cannot read TIFF: {e}"),
    };
    CtcError::new(path, what)
}

/// Which channel of a frame to read, counted from 1 as Fiji counts them
/// (`track --channel 2`). `None` asks for a grayscale frame: one sample per
/// pixel on one page. A channel is either one sample of each pixel (an RGB
/// or multi-band page) or, in a frame file of several grayscale pages, one
/// page.
pub type Channel = Option<usize>;

/// What a file of several pages is refused as: a raw frame, whose pages may
/// be channels or z slices the user can name, or a label mask.
#[derive(Clone, Copy)]
enum Reading {
    Frame,
    Mask,
}

/// Decodes the single grayscale page of a TIFF held in `reader`.
fn decode_page<R: Read + Seek>(path: &Path, reader: R, reading: Reading) -> Result<((usize, usize), Samples)> {
    decode_page_bits(path, reader, None, reading).map(|(shape, s, _)| (shape, s))
}

fn decode_page_bits<R: Read + Seek>(path: &Path, reader: R, channel: Channel, reading: Reading) -> Result<((usize, usize), Samples, u8)> {
    let mut dec = decoder(path, reader)?;
    let mut page = page_header(path, &mut dec)?;
    if dec.more_images() {
        let mut pages = 1;
        while dec.more_images() && pages < 10_000 {
            if dec.next_image().is_err() {
                break;
            }
            pages += 1;
        }
        let Some(c) = channel.filter(|_| page.samples == 1) else {
            let what = match reading {
                Reading::Frame => "one 2D frame per file (if its pages are channels, --channel picks one; if z slices, --project max projects them)",
                Reading::Mask => "one 2D label mask per file (cellstream segments and tracks in 2D and reads no 3D masks)",
            };
            return Err(CtcError::new(path, format!("is a multi-page TIFF ({pages} pages); expected {what}")));
        };
        if c > pages {
            return Err(CtcError::new(path, format!("has {pages} pages, one channel each; there is no channel {c}")));
        }
        let first = page.dim;
        dec.seek_to_image(c - 1).map_err(|e| tiff_err(path, e))?;
        page = page_header(path, &mut dec)?;
        if page.dim != first {
            return Err(CtcError::new(
                path,
                format!("page {} is {}×{} but page 0 is {}×{} (width×height); the pages are not channels of one frame", c - 1, page.dim.1, page.dim.0, first.1, first.0),
            ));
        }
        return Ok((page.dim, page_samples(path, &mut dec, &page, None)?, page.color.bit_depth()));
    }
    Ok((page.dim, page_samples(path, &mut dec, &page, channel)?, page.color.bit_depth()))
}

/// A TIFF decoder with limits that admit frames of up to 2 GB.
pub(super) fn decoder<R: Read + Seek>(path: &Path, reader: R) -> Result<Decoder<R>> {
    let mut limits = Limits::default();
    limits.decoding_buffer_size = 1 << 31;
    limits.intermediate_buffer_size = 1 << 30;
    Ok(Decoder::new(reader).map_err(|e| tiff_err(path, e))?.with_limits(limits))
}

/// What [`page_header`] reads of a page before its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PageHeader {
    /// (height, width).
    pub dim: (usize, usize),
    pub color: ColorType,
    /// Samples per pixel: 1 for grayscale, 3 for RGB, any number of bands.
    pub samples: usize,
    /// Whether each sample lies in a plane of its own (PlanarConfiguration 2)
    /// rather than interleaved pixel by pixel.
    pub planar: bool,
    /// Whether 0 is white (PhotometricInterpretation 0): the decoder has
    /// inverted such a page's samples.
    pub white_is_zero: bool,
}

/// The size and sample layout of the decoder's current page; refuses empty
/// pages and colour models whose samples are not intensities (palette,
/// YCbCr as JPEG stores it, CMYK, Lab).
pub(super) fn page_header<R: Read + Seek>(path: &Path, dec: &mut Decoder<R>) -> Result<PageHeader> {
    let (w, h) = dec.dimensions().map_err(|e| tiff_err(path, e))?;
    if w == 0 || h == 0 {
        return Err(CtcError::new(path, format!("TIFF image is empty ({w}×{h})")));
    }
    let color = dec.colortype().map_err(|e| tiff_err(path, e))?;
    let samples = match color {
        ColorType::Gray(_) => 1,
        ColorType::GrayA(_) => 2,
        ColorType::RGB(_) => 3,
        ColorType::RGBA(_) => 4,
        ColorType::Multiband { num_samples, .. } => usize::from(num_samples),
        ColorType::Palette(_) | ColorType::YCbCr(_) => {
            return Err(CtcError::new(
                path,
                format!("is a colour TIFF ({color:?}); expected a single-channel grayscale image"),
            ));
        }
        other => {
            return Err(CtcError::new(
                path,
                format!("has {other:?} pixels; expected a single-channel grayscale image"),
            ));
        }
    };
    let planar = dec.find_tag_unsigned::<u16>(Tag::PlanarConfiguration).ok().flatten() == Some(2);
    let white_is_zero = dec.find_tag_unsigned::<u16>(Tag::PhotometricInterpretation).ok().flatten() == Some(0);
    Ok(PageHeader { dim: (h as usize, w as usize), color, samples, planar, white_is_zero })
}

/// A colour type as a user reads it: "RGB, 16-bit", "3 bands, 8-bit".
pub(super) fn colour_name(color: ColorType) -> String {
    match color {
        ColorType::Multiband { bit_depth, num_samples } => format!("{num_samples} bands, {bit_depth}-bit"),
        ColorType::GrayA(b) => format!("grey and alpha, {b}-bit"),
        other => format!("{other:?}").replace('(', ", ").replace(')', "-bit"),
    }
}

/// Which sample of each pixel of `page` is `channel` (from 0): refuses a
/// page of several samples with no channel named, and a channel it lacks.
pub(super) fn channel_index(path: &Path, page: &PageHeader, channel: Channel) -> Result<usize> {
    let n = page.samples;
    match channel {
        None | Some(1) if n == 1 => Ok(0),
        None => {
            let has = if matches!(page.color, ColorType::RGB(_) | ColorType::RGBA(_)) { "is a colour TIFF of" } else { "has" };
            Err(CtcError::new(
                path,
                format!("{has} {n} channels per pixel ({}); expected one grayscale channel (for raw frames, --channel 1 to {n} picks one)", colour_name(page.color)),
            ))
        }
        Some(c) if c == 0 || c > n => {
            let what = if n == 1 { "one channel".to_string() } else { format!("{n} channels per pixel") };
            Err(CtcError::new(path, format!("has {what}; there is no channel {c}")))
        }
        Some(c) => Ok(c - 1),
    }
}

/// The samples of the decoder's current `page`: its only channel, or channel
/// `channel` (from 1) of a page with several samples per pixel.
pub(super) fn page_samples<R: Read + Seek>(path: &Path, dec: &mut Decoder<R>, page: &PageHeader, channel: Channel) -> Result<Samples> {
    channel_index(path, page, channel)?;
    let mut data = DecodingResult::U8(Vec::new());
    dec.read_image_to_buffer(&mut data).map_err(|e| tiff_err(path, e))?;
    decoded_samples(path, page, channel, data)
}

/// The samples of `page` as decoded into `data`: its only channel, or
/// channel `channel` (from 1) of a page with several samples per pixel.
pub(super) fn decoded_samples(path: &Path, page: &PageHeader, channel: Channel, data: DecodingResult) -> Result<Samples> {
    let n = page.samples;
    let k = channel_index(path, page, channel)?;
    let (h, w) = page.dim;
    let pixels = h * w;
    let pick = |len: usize| -> Result<Option<(usize, usize)>> {
        if len != pixels * n {
            return Err(CtcError::new(
                path,
                format!("TIFF holds {len} samples for a {w}×{h} image of {n} channel(s); expected {}", pixels * n),
            ));
        }
        Ok((n > 1).then_some((k, n)))
    };
    // A 1-bit (bilevel) page comes packed eight pixels a byte, each row
    // starting on a byte: read as 0 and 255, as ImageJ stores a binary image.
    let data = match data {
        DecodingResult::U8(v) if page.color == ColorType::Gray(1) => DecodingResult::U8(unpack_bits(path, &v, page.dim, page.white_is_zero)?),
        other => other,
    };
    let planar = page.planar;
    fn channel_of<T: Copy>(v: Vec<T>, pick: Option<(usize, usize)>, pixels: usize, planar: bool) -> Vec<T> {
        match pick {
            None => v,
            Some((k, _)) if planar => v[k * pixels..(k + 1) * pixels].to_vec(),
            Some((k, n)) => v.into_iter().skip(k).step_by(n).collect(),
        }
    }
    macro_rules! take {
        ($v:expr) => {{
            let v = $v;
            let p = pick(v.len())?;
            channel_of(v, p, pixels, planar)
        }};
    }
    Ok(match data {
        DecodingResult::U8(v) => Samples::U8(take!(v)),
        DecodingResult::U16(v) => Samples::U16(take!(v)),
        DecodingResult::F32(v) => Samples::F32(take!(v)),
        DecodingResult::F64(v) => Samples::F32(take!(v).into_iter().map(|x| x as f32).collect()),
        DecodingResult::F16(v) => Samples::F32(take!(v).into_iter().map(f32::from).collect()),
        DecodingResult::U32(v) => Samples::Unsigned(take!(v).into_iter().map(u64::from).collect()),
        DecodingResult::U64(v) => Samples::Unsigned(take!(v)),
        DecodingResult::I8(v) => signed(path, take!(v).into_iter().map(i64::from))?,
        DecodingResult::I16(v) => signed(path, take!(v).into_iter().map(i64::from))?,
        DecodingResult::I32(v) => signed(path, take!(v).into_iter().map(i64::from))?,
        DecodingResult::I64(v) => signed(path, take!(v).into_iter())?,
    })
}

/// The pixels of a 1-bit page of `dim` (height, width) packed in `bytes`
/// (most significant bit first, each row padded to a whole byte; TIFF 6.0,
/// section 3), as 0 and 255: 255 where the bit is set in the file. A bit is
/// data, as tifffile reads it (and writes a boolean array: white-is-zero,
/// True set), whatever PhotometricInterpretation says it looks like; the
/// decoder's inversion of a white-is-zero page (`inverted`) is undone.
fn unpack_bits(path: &Path, bytes: &[u8], dim: (usize, usize), inverted: bool) -> Result<Vec<u8>> {
    let (h, w) = dim;
    let row = w.div_ceil(8);
    if bytes.len() != h * row {
        return Err(CtcError::new(path, format!("1-bit TIFF holds {} bytes for a {w}×{h} image; expected {}", bytes.len(), h * row)));
    }
    Ok(bytes.chunks_exact(row).flat_map(|r| (0..w).map(move |x| if (r[x / 8] & (0x80 >> (x % 8)) != 0) != inverted { 255 } else { 0 })).collect())
}

/// Signed samples as unsigned ones; a negative value is an error naming `path`.
pub(super) fn signed(path: &Path, it: impl Iterator<Item = i64>) -> Result<Samples> {
    let mut out = Vec::new();
    for v in it {
        if v < 0 {
            return Err(CtcError::new(path, format!("has a negative value {v}; labels and intensities must be ≥ 0")));
        }
        out.push(v as u64);
    }
    Ok(Samples::Unsigned(out))
}

/// The first page's ImageDescription of the TIFF at `path` (ImageJ's or
/// OME's), empty where it has none.
pub(super) fn description(path: &Path) -> Result<String> {
    let mut dec = decoder(path, open(path)?)?;
    Ok(dec.get_tag_ascii_string(tiff::tags::Tag::ImageDescription).unwrap_or_default())
}

pub(super) fn open(path: &Path) -> Result<BufReader<File>> {
    let file = File::open(path).map_err(|e| CtcError::io(path, &e))?;
    match file.metadata() {
        Ok(m) if m.is_dir() => return Err(CtcError::new(path, "is a folder; expected a TIFF file")),
        // As a copy cut off before its first byte leaves it.
        Ok(m) if m.len() == 0 => return Err(CtcError::new(path, "is empty (0 bytes); expected a TIFF file")),
        _ => {}
    }
    Ok(BufReader::new(file))
}

/// Reads a raw grayscale frame (8-bit, 16-bit or float; other integer widths become float).
pub fn read_frame(path: &Path) -> Result<Frame> {
    read_frame_planes(path, Planes::default())
}

/// Reads the [`Planes`] of a raw frame file that make its frame: one channel
/// (a sample of each pixel of an RGB or multi-band page, or one page of a
/// file of several), and, with a projection, the z slices that its pages are
/// projected into one 2D frame. The default is [`read_frame`].
///
/// ```
/// use cellstream::ctc::{read_frame_planes, Frame};
/// use ndarray::array;
/// # let d = tempfile::tempdir().unwrap();
/// let p = d.path().join("t000.tif");
/// // One RGB pixel row: (1, 2, 3), (4, 5, 6).
/// let mut f = std::fs::File::create(&p).unwrap();
/// tiff::encoder::TiffEncoder::new(&mut f).unwrap().write_image::<tiff::encoder::colortype::RGB8>(2, 1, &[1, 2, 3, 4, 5, 6]).unwrap();
/// assert_eq!(read_frame_planes(&p, Some(2).into()).unwrap(), Frame::U8(array![[2, 5]]));
/// let e = read_frame_planes(&p, None.into()).unwrap_err().to_string();
/// assert!(e.contains("3 channels per pixel") && e.contains("--channel 1 to 3"), "{e}");
/// let e = read_frame_planes(&p, Some(4).into()).unwrap_err().to_string();
/// assert!(e.contains("there is no channel 4"), "{e}");
/// ```
pub fn read_frame_planes(path: &Path, planes: Planes) -> Result<Frame> {
    if super::pattern::is_pattern(path) {
        // A time point of z slices, one file each (`…_time000000012_z{z}.tif`).
        return super::pattern::read_slices(path, planes);
    }
    if let Some(kind) = planes.project {
        return super::planes::read_frame_projected(path, planes.channel, kind, planes.slices);
    }
    let (shape, samples, _) = decode_page_bits(path, open(path)?, planes.channel, Reading::Frame)?;
    frame_from(path, shape, samples)
}

/// Decodes a raw frame from TIFF bytes in memory; `path` only names it in errors.
pub fn decode_frame(path: &Path, bytes: &[u8]) -> Result<Frame> {
    let (shape, samples) = decode_page(path, std::io::Cursor::new(bytes), Reading::Frame)?;
    frame_from(path, shape, samples)
}

fn shaped<T>(path: &Path, shape: (usize, usize), v: Vec<T>) -> Result<Array2<T>> {
    Array2::from_shape_vec(shape, v).map_err(|e| CtcError::new(path, e.to_string()))
}

pub(super) fn frame_from(path: &Path, shape: (usize, usize), samples: Samples) -> Result<Frame> {
    Ok(match samples {
        Samples::U8(v) => Frame::U8(shaped(path, shape, v)?),
        Samples::U16(v) => Frame::U16(shaped(path, shape, v)?),
        Samples::F32(v) => Frame::F32(shaped(path, shape, v)?),
        Samples::Unsigned(v) => Frame::F32(shaped(path, shape, v.into_iter().map(|x| x as f32).collect())?),
    })
}

/// Reads a label mask: any unsigned (or non-negative signed) integer TIFF.
pub fn read_mask(path: &Path) -> Result<Mask> {
    let (shape, samples) = decode_page(path, open(path)?, Reading::Mask)?;
    mask_from(path, shape, samples)
}

/// Reads a label mask and the bits per sample it was stored with.
pub fn read_mask_with_bits(path: &Path) -> Result<(Mask, u8)> {
    let (shape, samples, bits) = decode_page_bits(path, open(path)?, None, Reading::Mask)?;
    Ok((mask_from(path, shape, samples)?, bits))
}

/// Decodes a label mask from TIFF bytes in memory; `path` only names it in errors.
pub fn decode_mask(path: &Path, bytes: &[u8]) -> Result<Mask> {
    let (shape, samples) = decode_page(path, std::io::Cursor::new(bytes), Reading::Mask)?;
    mask_from(path, shape, samples)
}

pub(super) fn mask_from(path: &Path, shape: (usize, usize), samples: Samples) -> Result<Mask> {
    let v: Vec<u32> = match samples {
        Samples::U8(v) => v.into_iter().map(u32::from).collect(),
        Samples::U16(v) => v.into_iter().map(u32::from).collect(),
        Samples::Unsigned(v) => {
            let mut out = Vec::with_capacity(v.len());
            for x in v {
                out.push(u32::try_from(x).map_err(|_| {
                    CtcError::new(path, format!("label {x} does not fit in 32 bits"))
                })?);
            }
            out
        }
        Samples::F32(v) => {
            let mut out = Vec::with_capacity(v.len());
            for x in v {
                if !(x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f32) {
                    return Err(CtcError::new(
                        path,
                        format!("is a float image with value {x}; a label mask needs whole non-negative labels"),
                    ));
                }
                out.push(x as u32);
            }
            out
        }
    };
    shaped(path, shape, v)
}

fn encode_err(e: tiff::TiffError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Writes a label mask as an uncompressed 16-bit TIFF (what every CTC tool reads).
/// Labels above 65535 cannot be stored and are refused.
pub fn write_mask(path: &Path, mask: &Mask) -> Result<()> {
    let (h, w) = mask.dim();
    // Check the largest label, then narrow in one branch-free (vectorised) pass.
    let max = mask.fold(0u32, |m, &v| m.max(v));
    if max > u16::MAX as u32 {
        return Err(CtcError::new(path, format!("label {max} does not fit the 16-bit CTC mask format")));
    }
    let data: Vec<u16> = match mask.as_slice() {
        Some(s) => s.iter().map(|&v| v as u16).collect(),
        None => mask.iter().map(|&v| v as u16).collect(),
    };
    write_atomic(path, |wr| {
        let mut enc = TiffEncoder::new(wr).map_err(encode_err)?;
        enc.write_image::<colortype::Gray16>(w as u32, h as u32, &data).map_err(encode_err)
    })
}

/// Writes a raw frame as an uncompressed TIFF in its own sample type.
pub fn write_frame(path: &Path, frame: &Frame) -> Result<()> {
    let (h, w) = frame.dim();
    write_atomic(path, |wr| {
        let mut enc = TiffEncoder::new(wr).map_err(encode_err)?;
        match frame {
            Frame::U8(a) => enc.write_image::<colortype::Gray8>(w as u32, h as u32, &contiguous(a)),
            Frame::U16(a) => enc.write_image::<colortype::Gray16>(w as u32, h as u32, &contiguous(a)),
            Frame::F32(a) => enc.write_image::<colortype::Gray32Float>(w as u32, h as u32, &contiguous(a)),
        }
        .map_err(encode_err)
    })
}

fn contiguous<T: Clone>(a: &Array2<T>) -> Vec<T> {
    a.iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// An uncompressed little-endian 1-bit TIFF of `w`×`h` pixels packed in
    /// `rows` (each row padded to a byte), with PhotometricInterpretation `photometric`.
    fn bilevel_tiff(w: u16, h: u16, photometric: u16, rows: &[u8]) -> Vec<u8> {
        let entries: [(u16, u16, u32); 8] = [
            (256, 3, w as u32), // ImageWidth
            (257, 3, h as u32), // ImageLength
            (258, 3, 1),        // BitsPerSample
            (259, 3, 1),        // Compression: none
            (262, 3, photometric as u32),
            (273, 4, 8), // StripOffsets: the pixels right after the header
            (278, 3, h as u32), // RowsPerStrip
            (279, 4, rows.len() as u32), // StripByteCounts
        ];
        let mut b = b"II*\0".to_vec();
        let ifd = 8 + rows.len() as u32;
        b.extend(ifd.to_le_bytes());
        b.extend(rows);
        b.extend((entries.len() as u16).to_le_bytes());
        for (tag, kind, value) in entries {
            b.extend(tag.to_le_bytes());
            b.extend(kind.to_le_bytes());
            b.extend(1u32.to_le_bytes());
            b.extend(if kind == 3 { (value as u16 as u32).to_le_bytes() } else { value.to_le_bytes() });
        }
        b.extend(0u32.to_le_bytes());
        b
    }

    #[test]
    fn one_bit_pages_read_as_imagej_binary() {
        let p = Path::new("binary.tif");
        // 10 pixels a row: two bytes, the second padded.
        let rows = [0b1000_0001, 0b0100_0000, 0b0000_0000, 0b1100_0000];
        let on = |v: u8| if v == 1 { 255u8 } else { 0 };
        let want = array![[1, 0, 0, 0, 0, 0, 0, 1, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]].mapv(on);
        assert_eq!(decode_frame(p, &bilevel_tiff(10, 2, 1, &rows)).unwrap(), Frame::U8(want.clone()));
        assert_eq!(decode_mask(p, &bilevel_tiff(10, 2, 1, &rows)).unwrap(), want.mapv(u32::from));
        // White-is-zero (as tifffile writes a boolean array): a set bit is still 255.
        assert_eq!(decode_frame(p, &bilevel_tiff(10, 2, 0, &rows)).unwrap(), Frame::U8(want));
    }

    #[test]
    fn mask_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mask000.tif");
        let m: Mask = array![[0, 1, 1], [2, 0, 65535]];
        write_mask(&p, &m).unwrap();
        assert_eq!(read_mask(&p).unwrap(), m);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn mask_label_too_large_is_refused_and_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mask000.tif");
        let m: Mask = array![[0, 70000]];
        let err = write_mask(&p, &m).unwrap_err();
        assert!(err.to_string().contains("70000"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn frame_round_trip_all_types() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t000.tif");
        for f in [
            Frame::U8(array![[1, 2], [3, 255]]),
            Frame::U16(array![[1, 2], [3, 65535]]),
            Frame::F32(array![[0.5, -2.0], [3.25, 1e9]]),
        ] {
            write_frame(&p, &f).unwrap();
            assert_eq!(read_frame(&p).unwrap(), f);
        }
    }

    #[test]
    fn truncated_tiff_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t007.tif");
        write_frame(&p, &Frame::U16(Array2::from_elem((64, 64), 7))).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_frame(&p).unwrap_err();
        assert_eq!(err.path, p);
        assert!(err.what.contains("TIFF"), "{err}");
    }

    #[test]
    fn not_a_tiff_is_an_error() {
        let err = decode_frame(Path::new("x.tif"), b"hello world, not a tiff").unwrap_err();
        assert!(err.to_string().starts_with("x.tif: "), "{err}");
    }
}
