//! Synthetic clips for the model tests: bright disks drifting over a noisy background.
#![allow(dead_code)]
use std::path::Path;

use cellstream::ctc::{self, Frame, Mask};
use ndarray::Array2;

/// A small deterministic generator (SplitMix64), so clips need no RNG crate.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `frames` frames of `h`×`w`: `cells` disks of radius 5–8 moving about one
/// pixel per frame, two of them touching; intensity 30 + noise outside,
/// 150 + noise inside. Returns raw frames and label masks.
pub fn disks(h: usize, w: usize, frames: usize, cells: usize, seed: u64) -> (Vec<Array2<f32>>, Vec<Mask>) {
    let mut rng = SplitMix(seed);
    let mut c: Vec<(f32, f32, f32, f32, f32)> = (0..cells)
        .map(|_| {
            let r = 5.0 + 3.0 * rng.unit();
            (r + 1.0 + (h as f32 - 2.0 * r - 2.0) * rng.unit(), r + 1.0 + (w as f32 - 2.0 * r - 2.0) * rng.unit(), r, rng.unit() - 0.5, rng.unit() - 0.5)
        })
        .collect();
    if cells >= 2 {
        // The second disk touches the first on its right.
        c[1] = (c[0].0, c[0].1 + c[0].2 + 6.0, 6.0, c[0].3, c[0].4);
    }
    let mut out_f = Vec::new();
    let mut out_m = Vec::new();
    for _ in 0..frames {
        let mut m = Mask::zeros((h, w));
        let mut f = Array2::<f32>::zeros((h, w));
        for (p, v) in f.indexed_iter_mut() {
            let mut label = 0;
            for (i, &(cy, cx, r, _, _)) in c.iter().enumerate() {
                let d = ((p.0 as f32 - cy).powi(2) + (p.1 as f32 - cx).powi(2)).sqrt();
                if d <= r && label == 0 {
                    label = i as u32 + 1;
                }
            }
            m[p] = label;
            *v = if label > 0 { 150.0 } else { 30.0 } + 20.0 * (rng.unit() - 0.5);
        }
        // Darken the pixels where two cells meet, as a membrane would.
        for y in 0..h {
            for x in 1..w {
                if m[(y, x)] != 0 && m[(y, x - 1)] != 0 && m[(y, x)] != m[(y, x - 1)] {
                    f[(y, x)] = 60.0;
                    f[(y, x - 1)] = 60.0;
                }
            }
        }
        out_f.push(f);
        out_m.push(m);
        for d in c.iter_mut() {
            d.0 = (d.0 + d.3).clamp(d.2, h as f32 - d.2 - 1.0);
            d.1 = (d.1 + d.4).clamp(d.2, w as f32 - d.2 - 1.0);
        }
    }
    (out_f, out_m)
}

/// Writes a clip as a CTC sequence `dir/01` with gold truth `dir/01_GT/SEG`
/// (masks on the frames in `annotated`).
pub fn write_ctc(dir: &Path, frames: &[Array2<f32>], masks: &[Mask], annotated: &[usize]) {
    let seq = dir.join("01");
    let seg = dir.join("01_GT/SEG");
    std::fs::create_dir_all(&seq).unwrap();
    std::fs::create_dir_all(&seg).unwrap();
    for (t, f) in frames.iter().enumerate() {
        ctc::write_frame(&seq.join(format!("t{t:03}.tif")), &Frame::U16(f.mapv(|v| v.clamp(0.0, 65535.0) as u16))).unwrap();
    }
    for &t in annotated {
        ctc::write_mask(&seg.join(format!("man_seg{t:03}.tif")), &masks[t]).unwrap();
    }
}

/// Dice of two foregrounds (labels > 0).
pub fn dice(a: &Mask, b: &Mask) -> f64 {
    let (mut both, mut na, mut nb) = (0usize, 0usize, 0usize);
    for (&x, &y) in a.iter().zip(b.iter()) {
        na += (x > 0) as usize;
        nb += (y > 0) as usize;
        both += (x > 0 && y > 0) as usize;
    }
    2.0 * both as f64 / (na + nb).max(1) as f64
}

/// SEG of one frame (eval's SEG; 1 when the reference has no object).
pub fn seg(truth: &Mask, pred: &Mask) -> f64 {
    cellstream::eval::seg_score(truth, pred).value().unwrap_or(1.0)
}
