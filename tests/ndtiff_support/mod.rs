//! NDTiff datasets written by the tests, for the readers to read.
#![allow(dead_code)] // each test file uses its part
use std::io::Write;
use std::path::{Path, PathBuf};

use cellstream::ctc::Frame;

/// Writes an NDTiff dataset after the format's description (NDTiffStorage),
/// an image at a time as an acquisition does: each image's pixels,
/// little-endian, appended to `data_NDTiffStack.tif` (after 8 bytes the
/// readers never look at), then its entry to `NDTiff.index`, with its
/// axes, offset, size and pixel type.
pub struct NdTiffWriter {
    dir: PathBuf,
    written: usize,
}

impl NdTiffWriter {
    pub fn new(dir: &Path) -> NdTiffWriter {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("data_NDTiffStack.tif"), [0u8; 8]).unwrap();
        std::fs::write(dir.join("NDTiff.index"), []).unwrap();
        NdTiffWriter { dir: dir.to_path_buf(), written: 8 }
    }

    pub fn add(&mut self, axes: &serde_json::Value, frame: &Frame) {
        let (h, w) = frame.dim();
        let (bytes, kind): (Vec<u8>, u32) = match frame {
            Frame::U8(a) => (a.iter().copied().collect(), 0),
            Frame::U16(a) => (a.iter().flat_map(|v| v.to_le_bytes()).collect(), 1),
            Frame::F32(_) => unreachable!("NDTiff holds integers"),
        };
        let append = |name: &str, bytes: &[u8]| std::fs::OpenOptions::new().append(true).open(self.dir.join(name)).unwrap().write_all(bytes).unwrap();
        append("data_NDTiffStack.tif", &bytes);
        let (axes, file) = (axes.to_string(), "data_NDTiffStack.tif");
        let mut entry = Vec::new();
        entry.extend((axes.len() as u32).to_le_bytes());
        entry.extend(axes.as_bytes());
        entry.extend((file.len() as u32).to_le_bytes());
        entry.extend(file.as_bytes());
        for v in [self.written as u32, w as u32, h as u32, kind, 0, 0, 0, 0] {
            entry.extend(v.to_le_bytes());
        }
        append("NDTiff.index", &entry);
        self.written += bytes.len();
    }
}

/// An NDTiff dataset of `images` in `dir`, written all at once.
pub fn write_ndtiff(dir: &Path, images: &[(serde_json::Value, Frame)]) {
    let mut w = NdTiffWriter::new(dir);
    for (axes, frame) in images {
        w.add(axes, frame);
    }
}
