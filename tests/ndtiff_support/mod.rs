//! NDTiff datasets written by the tests, for the readers to read.
use std::path::Path;

use cellstream::ctc::Frame;

/// Writes an NDTiff dataset after the format's description (NDTiffStorage):
/// the images' pixels, little-endian, one after another in
/// `data_NDTiffStack.tif` (after 8 bytes the readers never look at), and
/// `NDTiff.index` listing each with its axes, offset, size and pixel type.
pub fn write_ndtiff(dir: &Path, images: &[(serde_json::Value, Frame)]) {
    std::fs::create_dir_all(dir).unwrap();
    let (mut pixels, mut index) = (vec![0u8; 8], Vec::new());
    for (axes, frame) in images {
        let (h, w) = frame.dim();
        let (bytes, kind): (Vec<u8>, u32) = match frame {
            Frame::U8(a) => (a.iter().copied().collect(), 0),
            Frame::U16(a) => (a.iter().flat_map(|v| v.to_le_bytes()).collect(), 1),
            Frame::F32(_) => unreachable!("NDTiff holds integers"),
        };
        let (axes, file) = (axes.to_string(), "data_NDTiffStack.tif");
        index.extend((axes.len() as u32).to_le_bytes());
        index.extend(axes.as_bytes());
        index.extend((file.len() as u32).to_le_bytes());
        index.extend(file.as_bytes());
        for v in [pixels.len() as u32, w as u32, h as u32, kind, 0, 0, 0, 0] {
            index.extend(v.to_le_bytes());
        }
        pixels.extend(bytes);
    }
    std::fs::write(dir.join("data_NDTiffStack.tif"), pixels).unwrap();
    std::fs::write(dir.join("NDTiff.index"), index).unwrap();
}
