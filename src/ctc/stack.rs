//! A time-lapse held in one multi-page TIFF (an ImageJ or tifffile stack), read page by page as frames.
//!
//! Microscopes and Fiji often save a 2D+t series as one file of T pages
//! rather than a CTC folder of `tTTT.tif`. [`Stack`] takes each page as the
//! frame of that index (page 0 is frame 0) and streams them: one page is in
//! memory at a time. Hyperstacks with more than one of channels, z slices
//! and time points are refused, as are colour pages and pages of different
//! sizes, each with the file (and page) named.
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use tiff::decoder::Decoder;
use tiff::tags::Tag;

use super::error::{CtcError, Result};
use super::sequence::Sequence;
use super::tiff_io::{decoder, frame_from, mask_from, open, page_header, page_samples, read_frame, tiff_err, Frame, Mask, Samples};

/// A multi-page TIFF read as a time-lapse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub path: PathBuf,
    /// Pages, one frame each.
    pub pages: usize,
    /// (height, width) of the first page; every page must match it.
    pub dim: (usize, usize),
}

impl Stack {
    /// Opens `path`, checks its first page (grayscale, not empty) and any
    /// ImageJ or OME description of a hyperstack, and counts its pages. No
    /// pixel is read.
    pub fn open(path: &Path) -> Result<Stack> {
        let mut dec = decoder(path, open(path)?)?;
        let (dim, _) = page_header(path, &mut dec)?;
        let description = dec.get_tag_ascii_string(Tag::ImageDescription).unwrap_or_default();
        refuse_hyperstack(path, &description)?;
        let mut pages = 1;
        while dec.more_images() {
            dec.next_image().map_err(|e| tiff_err(path, e)).map_err(|e| at_page(e, path, pages))?;
            pages += 1;
        }
        // ImageJ writes stacks over 4 GB with one header for all pages; read
        // as TIFF, they would silently be one frame.
        if let Some(images) = count(&description, "images=").filter(|&n| n > pages) {
            return Err(CtcError::new(
                path,
                format!("says it holds {images} images (ImageJ) but has {pages} TIFF page(s); ImageJ's stacks over 4 GB cannot be read page by page, save them as an image sequence"),
            ));
        }
        Ok(Stack { path: path.to_path_buf(), pages, dim })
    }

    /// Digits of the frame numbers in a result for this stack (3, or more past 999).
    pub fn digits(&self) -> usize {
        (self.pages.saturating_sub(1)).to_string().len().max(3)
    }

    /// Page `t` alone (for drawing a result over its frames in any order).
    pub fn read_page(&self, t: usize) -> Result<Frame> {
        if t >= self.pages {
            return Err(CtcError::new(&self.path, format!("has {} pages; there is no page {t}", self.pages)));
        }
        let mut dec = decoder(&self.path, open(&self.path)?)?;
        dec.seek_to_image(t).map_err(|e| at_page(tiff_err(&self.path, e), &self.path, t))?;
        read_current_page(self, &mut dec, t, frame_from)
    }

    /// The frames in page order, decoded one at a time. A page that is not
    /// grayscale, or whose size differs from the first page's, is an error
    /// naming the file and the page.
    pub fn frames(&self) -> Result<StackPages<Frame>> {
        self.pages_as(frame_from)
    }

    /// The pages as label masks (a label stack from Fiji, StarDist or
    /// Cellpose), in order, one at a time; checked as [`Stack::frames`] and as
    /// [`super::read_mask`] checks a mask.
    pub fn masks(&self) -> Result<StackPages<Mask>> {
        self.pages_as(mask_from)
    }

    fn pages_as<T>(&self, convert: Convert<T>) -> Result<StackPages<T>> {
        Ok(StackPages { stack: self.clone(), dec: Some(decoder(&self.path, open(&self.path)?)?), next: 0, convert })
    }
}

/// How a page's samples become a frame or a mask.
type Convert<T> = fn(&Path, (usize, usize), Samples) -> Result<T>;

/// The pages of a [`Stack`] in order, as frames or masks.
pub struct StackPages<T> {
    stack: Stack,
    dec: Option<Decoder<BufReader<File>>>,
    next: usize,
    convert: Convert<T>,
}

impl<T> Iterator for StackPages<T> {
    type Item = Result<(usize, T)>;

    fn next(&mut self) -> Option<Self::Item> {
        let dec = self.dec.as_mut()?;
        let t = self.next;
        if t >= self.stack.pages {
            return None;
        }
        let read = read_page(&self.stack, dec, t, self.convert).map(|f| (t, f));
        self.next += 1;
        if read.is_err() {
            self.dec = None;
        }
        Some(read)
    }
}

fn read_page<R: Read + Seek, T>(stack: &Stack, dec: &mut Decoder<R>, t: usize, convert: Convert<T>) -> Result<T> {
    if t > 0 {
        dec.next_image().map_err(|e| tiff_err(&stack.path, e)).map_err(|e| at_page(e, &stack.path, t))?;
    }
    read_current_page(stack, dec, t, convert)
}

/// The decoder's current page, page `t` of `stack`, checked against the first page's size.
fn read_current_page<R: Read + Seek, T>(stack: &Stack, dec: &mut Decoder<R>, t: usize, convert: Convert<T>) -> Result<T> {
    let path = &stack.path;
    let (dim, _) = page_header(path, dec).map_err(|e| at_page(e, path, t))?;
    if dim != stack.dim {
        return Err(CtcError::new(
            path,
            format!(
                "page {t} is {}×{} but page 0 is {}×{} (width×height); every frame of a stack must have one size",
                dim.1, dim.0, stack.dim.1, stack.dim.0
            ),
        ));
    }
    let samples = page_samples(path, dec, dim).map_err(|e| at_page(e, path, t))?;
    convert(path, dim, samples).map_err(|e| at_page(e, path, t))
}

/// Raw frames to draw on: a sequence folder or a stack.
#[derive(Debug, Clone)]
pub enum RawFrames {
    Folder(Sequence),
    Stack(Stack),
}

impl RawFrames {
    /// A sequence folder (`tTTT.tif`) or, for a file, a multi-page TIFF stack.
    pub fn open(path: &Path) -> Result<RawFrames> {
        if path.is_file() { Stack::open(path).map(RawFrames::Stack) } else { Sequence::open(path).map(RawFrames::Folder) }
    }

    /// Whether frame `t` is there.
    pub fn has(&self, t: usize) -> bool {
        match self {
            RawFrames::Folder(s) => s.frames.path(t).is_some(),
            RawFrames::Stack(s) => t < s.pages,
        }
    }

    /// Frame `t`, and the file it came from (for messages).
    pub fn read(&self, t: usize) -> Result<(Frame, PathBuf)> {
        match self {
            RawFrames::Folder(s) => {
                let p = s.frames.path(t).ok_or_else(|| CtcError::new(s.dir(), format!("holds no frame {t}")))?;
                Ok((read_frame(p)?, p.to_path_buf()))
            }
            RawFrames::Stack(s) => Ok((s.read_page(t)?, s.path.clone())),
        }
    }

    /// Where frame `t` is or would be: `DIR/tTTT.tif`, or the stack.
    pub fn frame_path(&self, t: usize) -> PathBuf {
        match self {
            RawFrames::Folder(s) => s.dir().join(format!("t{t:0w$}.tif", w = s.digits())),
            RawFrames::Stack(s) => s.path.clone(),
        }
    }
}

/// `e` with the page it concerns named.
fn at_page(e: CtcError, path: &Path, page: usize) -> CtcError {
    CtcError::new(path, format!("page {page}: {}", e.what))
}

/// The number after `key` in an image description (`images=40`, `SizeT="40"`).
fn count(description: &str, key: &str) -> Option<usize> {
    let at = description.find(key)? + key.len();
    let digits: String = description[at..].chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// Refuses a hyperstack: an ImageJ (`channels=2`, `slices=5`, `frames=40`) or
/// OME (`SizeC="2"`, `SizeZ="5"`, `SizeT="40"`) description with more than one
/// of channels, z slices and time points. A plain stack is a time-lapse
/// whatever its one axis is called (Fiji opens an image sequence as slices,
/// tifffile may call a 3D array's first axis channels).
fn refuse_hyperstack(path: &Path, description: &str) -> Result<()> {
    let count = |key: &str| count(description, key);
    let axes: Vec<String> = [(["channels=", "SizeC=\""], "channels"), (["slices=", "SizeZ=\""], "z slices"), (["frames=", "SizeT=\""], "time points")]
        .iter()
        .filter_map(|(keys, what)| keys.iter().find_map(|k| count(k)).filter(|&n| n > 1).map(|n| format!("{n} {what}")))
        .collect();
    if axes.len() > 1 {
        return Err(CtcError::new(
            path,
            format!(
                "is a hyperstack of {}; cellstream reads a time-lapse of one grayscale 2D frame per page (keep one channel and one z slice first, e.g. in Fiji)",
                axes.join(" × ")
            ),
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
            assert!(refuse_hyperstack(p, plain).is_ok(), "{plain}");
        }
        let e = refuse_hyperstack(p, "ImageJ=1.54f\nimages=80\nchannels=2\nframes=40\n").unwrap_err().to_string();
        assert!(e.contains("movie.tif") && e.contains("2 channels × 40 time points"), "{e}");
        let e = refuse_hyperstack(p, r#"<OME><Image><Pixels SizeC="1" SizeT="10" SizeZ="7"/></Image></OME>"#).unwrap_err().to_string();
        assert!(e.contains("7 z slices × 10 time points"), "{e}");
    }
}
