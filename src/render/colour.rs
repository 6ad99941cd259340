//! Colours: one fixed colour per track, and the grey levels of a raw frame for display.
use image::{Rgb, RgbImage};
use ndarray::Array2;

use crate::ctc::Frame;

/// The golden-ratio conjugate: stepping the hue by it spreads consecutive
/// labels around the colour wheel (M. Ankerl, "How to generate random colors
/// programmatically", 2009).
const GOLDEN: f64 = 0.618_033_988_749_895;

/// Hues kept clear of pure red (±0.05 of a turn), which marks misses and false cells.
const RED_MARGIN: f64 = 0.05;

/// The colour of track `label`: a hue fixed by the label (golden-ratio
/// stepping), full saturation, value `value` in [0, 1]. The same label gets
/// the same colour in every frame, picture and run; nearby labels get
/// distant hues. Use `value` 1 on dark images, about 0.7 on white.
///
/// ```
/// use cellstream::render::colour::track_colour;
/// assert_eq!(track_colour(7, 1.0), track_colour(7, 1.0));
/// assert_ne!(track_colour(7, 1.0), track_colour(8, 1.0));
/// ```
pub fn track_colour(label: u32, value: f64) -> Rgb<u8> {
    let h = (f64::from(label) * GOLDEN).fract();
    let h = RED_MARGIN + h * (1.0 - 2.0 * RED_MARGIN);
    hsv(h, 0.75, value)
}

/// HSV (all in [0, 1]) to 8-bit RGB (A. R. Smith, "Color gamut transform pairs", SIGGRAPH 1978).
pub fn hsv(h: f64, s: f64, v: f64) -> Rgb<u8> {
    let h6 = (h.rem_euclid(1.0)) * 6.0;
    let i = h6.floor();
    let f = h6 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    let (r, g, b) = match i as u32 % 6 {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    let c = |x: f64| (x * 255.0).round().clamp(0.0, 255.0) as u8;
    Rgb([c(r), c(g), c(b)])
}

/// The grey levels shown as black and white: the `lo` and `hi` quantiles
/// (e.g. 0.005 and 0.998) of the frame's pixel values, as an image viewer's
/// auto-contrast does (ImageJ's "Auto" saturates 0.35 %).
pub fn display_range(frame: &Frame, lo: f64, hi: f64) -> (f32, f32) {
    fn from_histogram(hist: &[u64], lo: f64, hi: f64) -> (f32, f32) {
        let n: u64 = hist.iter().sum();
        let at = |q: f64| -> f32 {
            let k = ((n as f64 - 1.0) * q).round() as u64;
            let mut seen = 0;
            for (v, &c) in hist.iter().enumerate() {
                seen += c;
                if seen > k {
                    return v as f32;
                }
            }
            (hist.len() - 1) as f32
        };
        (at(lo), at(hi))
    }
    let range = match frame {
        Frame::U8(a) => {
            let mut hist = vec![0u64; 256];
            a.iter().for_each(|&v| hist[v as usize] += 1);
            from_histogram(&hist, lo, hi)
        }
        Frame::U16(a) => {
            let mut hist = vec![0u64; 65536];
            a.iter().for_each(|&v| hist[v as usize] += 1);
            from_histogram(&hist, lo, hi)
        }
        Frame::F32(a) => {
            // Quantiles of at most 2¹⁶ evenly spaced samples.
            let step = (a.len() / 65536).max(1);
            let mut s: Vec<f32> = a.iter().step_by(step).copied().filter(|v| v.is_finite()).collect();
            if s.is_empty() {
                return (0.0, 1.0);
            }
            s.sort_by(f32::total_cmp);
            let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
            (at(lo), at(hi))
        }
    };
    if range.1 > range.0 { range } else { (range.0, range.0 + 1.0) }
}

/// The frame as an RGB grey image, `range.0` black and `range.1` white.
pub fn grey_image(frame: &Frame, range: (f32, f32)) -> RgbImage {
    fn map<T: Copy>(a: &Array2<T>, f: impl Fn(T) -> u8) -> RgbImage {
        let (h, w) = a.dim();
        let mut raw = Vec::with_capacity(w * h * 3);
        for &v in a.iter() {
            let g = f(v);
            raw.extend_from_slice(&[g, g, g]);
        }
        RgbImage::from_raw(w as u32, h as u32, raw).expect("buffer of w·h·3 bytes")
    }
    let (lo, hi) = range;
    let scale = 255.0 / (hi - lo);
    let grey = move |v: f32| ((v - lo) * scale).round().clamp(0.0, 255.0) as u8;
    match frame {
        Frame::U8(a) => {
            let lut: Vec<u8> = (0..256).map(|v| grey(v as f32)).collect();
            map(a, |v| lut[v as usize])
        }
        Frame::U16(a) => map(a, |v| grey(f32::from(v))),
        Frame::F32(a) => map(a, grey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn colours_are_stable_bright_and_not_red() {
        for label in 1..500u32 {
            let c = track_colour(label, 1.0);
            assert_eq!(c, track_colour(label, 1.0));
            assert_eq!(*c.0.iter().max().unwrap(), 255, "value 1 means one channel at full");
            let pure_red = c.0[0] == 255 && c.0[1] < 40 && c.0[2] < 40;
            assert!(!pure_red, "label {label} is red: {c:?}");
        }
        // Consecutive labels differ clearly.
        let (a, b) = (track_colour(1, 1.0).0, track_colour(2, 1.0).0);
        let d: i32 = a.iter().zip(b).map(|(x, y)| (i32::from(*x) - i32::from(y)).abs()).sum();
        assert!(d > 150, "{a:?} vs {b:?}");
    }

    #[test]
    fn hsv_primaries() {
        assert_eq!(hsv(0.0, 1.0, 1.0), Rgb([255, 0, 0]));
        assert_eq!(hsv(1.0 / 3.0, 1.0, 1.0), Rgb([0, 255, 0]));
        assert_eq!(hsv(2.0 / 3.0, 1.0, 1.0), Rgb([0, 0, 255]));
        assert_eq!(hsv(0.5, 0.0, 0.5), Rgb([128, 128, 128]));
    }

    #[test]
    fn display_range_ignores_outliers() {
        // 1000 pixels 100..=199 ten times each, one hot pixel of 60000.
        let mut v: Vec<u16> = (0..1000).map(|i| 100 + (i % 100) as u16).collect();
        v[0] = 60000;
        let f = Frame::U16(Array2::from_shape_vec((10, 100), v).unwrap());
        let (lo, hi) = display_range(&f, 0.005, 0.995);
        assert_eq!(lo, 100.0);
        assert_eq!(hi, 199.0);
        let g = grey_image(&f, (lo, hi));
        assert_eq!(g.get_pixel(0, 0), &Rgb([255, 255, 255]), "saturates");
        assert_eq!(g.get_pixel(0, 1), &Rgb([0, 0, 0]), "the low quantile is black");
        assert_eq!(g.get_pixel(99, 0), &Rgb([255, 255, 255]), "the high quantile is white");
    }

    #[test]
    fn flat_frames_do_not_divide_by_zero() {
        let f = Frame::U8(array![[7, 7], [7, 7]]);
        let r = display_range(&f, 0.0, 1.0);
        assert_eq!(r, (7.0, 8.0));
        assert_eq!(grey_image(&f, r).get_pixel(1, 1), &Rgb([0, 0, 0]));
        let f = Frame::F32(array![[0.0, 0.5], [1.0, f32::NAN]]);
        assert_eq!(display_range(&f, 0.0, 1.0), (0.0, 1.0));
    }
}
