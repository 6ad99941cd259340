//! Reading and writing single-page grayscale TIFF frames and label masks.
//!
//! CTC data arrives as 8-bit, 16-bit or float32 grayscale TIFFs, uncompressed
//! or LZW / Deflate / Zstandard compressed, in strips or tiles; the `tiff`
//! crate decodes all of these. Anything else (RGB, several pages, a truncated
//! file) is refused with a [`CtcError`] that names the file.
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use ndarray::Array2;
use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::encoder::{TiffEncoder, colortype};

use super::error::{CtcError, Result};

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

/// Decodes the single grayscale page of a TIFF held in `reader`.
fn decode_page<R: Read + Seek>(path: &Path, reader: R) -> Result<((usize, usize), Samples)> {
    decode_page_bits(path, reader).map(|(shape, s, _)| (shape, s))
}

fn decode_page_bits<R: Read + Seek>(path: &Path, reader: R) -> Result<((usize, usize), Samples, u8)> {
    let mut dec = decoder(path, reader)?;
    let (shape, color) = page_header(path, &mut dec)?;
    if dec.more_images() {
        let mut pages = 1;
        while dec.more_images() && pages < 10_000 {
            if dec.next_image().is_err() {
                break;
            }
            pages += 1;
        }
        return Err(CtcError::new(
            path,
            format!("is a multi-page TIFF ({pages} pages); expected one 2D frame per file"),
        ));
    }
    Ok((shape, page_samples(path, &mut dec, shape)?, color.bit_depth()))
}

/// A TIFF decoder with limits that admit frames of up to 2 GB.
pub(super) fn decoder<R: Read + Seek>(path: &Path, reader: R) -> Result<Decoder<R>> {
    let mut limits = Limits::default();
    limits.decoding_buffer_size = 1 << 31;
    limits.intermediate_buffer_size = 1 << 30;
    Ok(Decoder::new(reader).map_err(|e| tiff_err(path, e))?.with_limits(limits))
}

/// The (height, width) and colour type of the decoder's current page;
/// refuses empty and colour pages.
pub(super) fn page_header<R: Read + Seek>(path: &Path, dec: &mut Decoder<R>) -> Result<((usize, usize), ColorType)> {
    let (w, h) = dec.dimensions().map_err(|e| tiff_err(path, e))?;
    if w == 0 || h == 0 {
        return Err(CtcError::new(path, format!("TIFF image is empty ({w}×{h})")));
    }
    let color = dec.colortype().map_err(|e| tiff_err(path, e))?;
    match color {
        ColorType::Gray(_) => {}
        ColorType::RGB(_) | ColorType::RGBA(_) | ColorType::Palette(_) | ColorType::YCbCr(_) => {
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
    }
    Ok(((h as usize, w as usize), color))
}

/// The samples of the decoder's current page, of `(h, w)` pixels.
pub(super) fn page_samples<R: Read + Seek>(path: &Path, dec: &mut Decoder<R>, (h, w): (usize, usize)) -> Result<Samples> {
    let data = dec.read_image().map_err(|e| tiff_err(path, e))?;
    let n = h * w;
    let samples = match data {
        DecodingResult::U8(v) => Samples::U8(v),
        DecodingResult::U16(v) => Samples::U16(v),
        DecodingResult::F32(v) => Samples::F32(v),
        DecodingResult::F64(v) => Samples::F32(v.into_iter().map(|x| x as f32).collect()),
        DecodingResult::F16(v) => Samples::F32(v.into_iter().map(f32::from).collect()),
        DecodingResult::U32(v) => Samples::Unsigned(v.into_iter().map(u64::from).collect()),
        DecodingResult::U64(v) => Samples::Unsigned(v),
        DecodingResult::I8(v) => signed(path, v.into_iter().map(i64::from))?,
        DecodingResult::I16(v) => signed(path, v.into_iter().map(i64::from))?,
        DecodingResult::I32(v) => signed(path, v.into_iter().map(i64::from))?,
        DecodingResult::I64(v) => signed(path, v.into_iter())?,
    };
    let len = match &samples {
        Samples::Unsigned(v) => v.len(),
        Samples::U8(v) => v.len(),
        Samples::U16(v) => v.len(),
        Samples::F32(v) => v.len(),
    };
    if len != n {
        return Err(CtcError::new(
            path,
            format!("TIFF holds {len} samples for a {w}×{h} image; expected one sample per pixel"),
        ));
    }
    Ok(samples)
}

fn signed(path: &Path, it: impl Iterator<Item = i64>) -> Result<Samples> {
    let mut out = Vec::new();
    for v in it {
        if v < 0 {
            return Err(CtcError::new(path, format!("has a negative value {v}; labels and intensities must be ≥ 0")));
        }
        out.push(v as u64);
    }
    Ok(Samples::Unsigned(out))
}

pub(super) fn open(path: &Path) -> Result<BufReader<File>> {
    let file = File::open(path).map_err(|e| CtcError::io(path, &e))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(CtcError::new(path, "is a folder; expected a TIFF file"));
    }
    Ok(BufReader::new(file))
}

/// Reads a raw grayscale frame (8-bit, 16-bit or float; other integer widths become float).
pub fn read_frame(path: &Path) -> Result<Frame> {
    let (shape, samples) = decode_page(path, open(path)?)?;
    frame_from(path, shape, samples)
}

/// Decodes a raw frame from TIFF bytes in memory; `path` only names it in errors.
pub fn decode_frame(path: &Path, bytes: &[u8]) -> Result<Frame> {
    let (shape, samples) = decode_page(path, std::io::Cursor::new(bytes))?;
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
    let (shape, samples) = decode_page(path, open(path)?)?;
    mask_from(path, shape, samples)
}

/// Reads a label mask and the bits per sample it was stored with.
pub fn read_mask_with_bits(path: &Path) -> Result<(Mask, u8)> {
    let (shape, samples, bits) = decode_page_bits(path, open(path)?)?;
    Ok((mask_from(path, shape, samples)?, bits))
}

/// Decodes a label mask from TIFF bytes in memory; `path` only names it in errors.
pub fn decode_mask(path: &Path, bytes: &[u8]) -> Result<Mask> {
    let (shape, samples) = decode_page(path, std::io::Cursor::new(bytes))?;
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

/// Writes `bytes` to `path` through a temporary file in the same folder and a
/// rename, so that an interrupted write never leaves a half-written `path`.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| CtcError::new(path, "has no file name"))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_data()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(CtcError::new(path, format!("cannot write: {e}")));
    }
    Ok(())
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
