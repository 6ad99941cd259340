//! The animated GIF of a sequence: overlays downscaled and subsampled, written frame by frame.
use std::io::Write;

use image::codecs::gif::{GifEncoder, Repeat};
use image::imageops::{self, FilterType};
use image::{Delay, RgbImage};

/// The time points shown in the GIF: all of `times` when there are at most
/// `max_frames`, else every k-th (k = ⌈n / max_frames⌉), always starting with the first.
///
/// ```
/// use cellstream::render::gif::gif_times;
/// assert_eq!(gif_times(&[0, 1, 2, 3, 4], 10), vec![0, 1, 2, 3, 4]);
/// assert_eq!(gif_times(&[0, 1, 2, 3, 4], 2), vec![0, 3]);
/// ```
pub fn gif_times(times: &[usize], max_frames: usize) -> Vec<usize> {
    let step = times.len().div_ceil(max_frames.max(1)).max(1);
    times.iter().step_by(step).copied().collect()
}

/// The GIF's size for frames of `width`×`height`: the long side at most
/// `max_side`, the aspect ratio kept, never enlarged.
pub fn gif_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_side {
        return (width, height);
    }
    let s = f64::from(max_side) / f64::from(long);
    (((f64::from(width) * s).round() as u32).max(1), ((f64::from(height) * s).round() as u32).max(1))
}

/// Shrinks an overlay to the GIF's size with a triangle (bilinear) filter.
pub fn downscale(img: &RgbImage, max_side: u32) -> RgbImage {
    let (w, h) = gif_size(img.width(), img.height(), max_side);
    if (w, h) == img.dimensions() {
        img.clone()
    } else {
        imageops::resize(img, w, h, FilterType::Triangle)
    }
}

/// Writes an endlessly looping GIF one frame at a time, so that only the
/// current frame is in memory. Each frame gets its own 256-colour palette
/// (NeuQuant, image's GIF encoder).
pub struct GifWriter<W: Write> {
    encoder: GifEncoder<W>,
    delay: Delay,
}

impl<W: Write> GifWriter<W> {
    /// A GIF showing each frame for `frame_ms` milliseconds.
    pub fn new(out: W, frame_ms: u32) -> image::ImageResult<GifWriter<W>> {
        // Speed 10 of 1–30: the palette is good enough for outlines on grey, and fast.
        let mut encoder = GifEncoder::new_with_speed(out, 10);
        encoder.set_repeat(Repeat::Infinite)?;
        Ok(GifWriter { encoder, delay: Delay::from_numer_denom_ms(frame_ms, 1) })
    }

    /// Appends one frame (all frames must have one size).
    pub fn push(&mut self, img: &RgbImage) -> image::ImageResult<()> {
        let rgba = image::DynamicImage::ImageRgb8(img.clone()).into_rgba8();
        self.encoder.encode_frame(image::Frame::from_parts(rgba, 0, 0, self.delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::AnimationDecoder;

    #[test]
    fn times_are_subsampled_evenly() {
        let t: Vec<usize> = (0..250).collect();
        let g = gif_times(&t, 100);
        assert_eq!(g.len(), 84);
        assert_eq!(&g[..3], &[0, 3, 6]);
        assert_eq!(gif_times(&t[..100], 100).len(), 100);
        assert!(gif_times(&[], 100).is_empty());
    }

    #[test]
    fn sizes_keep_the_aspect_ratio() {
        assert_eq!(gif_size(1000, 1000, 512), (512, 512));
        assert_eq!(gif_size(1300, 1000, 512), (512, 394));
        assert_eq!(gif_size(256, 256, 512), (256, 256));
        assert_eq!(gif_size(4000, 2, 512), (512, 1));
    }

    #[test]
    fn frames_round_trip() {
        let mut bytes = Vec::new();
        {
            let mut g = GifWriter::new(&mut bytes, 100).unwrap();
            for v in [0u8, 128, 255] {
                g.push(&RgbImage::from_pixel(6, 4, image::Rgb([v, v, 0]))).unwrap();
            }
        }
        let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[2].buffer().dimensions(), (6, 4));
        assert_eq!(frames[1].delay().numer_denom_ms(), (100, 1));
        let p = frames[2].buffer().get_pixel(3, 2);
        assert!(p.0[0] > 240 && p.0[2] < 15, "{p:?}");
    }
}
