//! Watershed markers: local maxima at a minimum distance, h-maxima, or seeds from a map.
use std::collections::VecDeque;

use ndarray::{Array2, ArrayView2};

use super::region_labelling::{bounding_boxes, label_components, Connectivity};
use crate::ctc::Mask;

/// Local maxima of `image` within each label of `labels`, at least `min_distance`
/// apart, highest first: the semantics of scikit-image's
/// `peak_local_max(image, min_distance, labels=labels, exclude_border=False)`.
///
/// Per label, a pixel is a candidate if it equals the maximum of the label's pixels
/// in the `(2·min_distance + 1)²` square around it and exceeds the image minimum;
/// a label whose every pixel is a candidate (a plateau) keeps only the pixels that
/// a 3×3-cross opening removes, as scikit-image does. Candidates are then taken in
/// order of decreasing value (ties in raster order) and kept unless a kept one lies
/// at Chebyshev distance < `min_distance` (greedy spacing, skimage `ensure_spacing`;
/// skipped for `min_distance ≤ 1`). Labels are visited in increasing order.
///
/// The square maximum filter runs over each label's bounding box with the
/// van Herk / Gil–Werman algorithm (van Herk 1992; Gil & Werman 1993): three
/// comparisons per pixel whatever the window size.
///
/// ```
/// use cellstream::post::local_maxima;
/// use ndarray::array;
/// let image = array![[1u32, 2, 1, 0, 1, 3], [1, 1, 1, 0, 1, 1]];
/// let labels = array![[1u32, 1, 1, 0, 2, 2], [1, 1, 1, 0, 2, 2]];
/// assert_eq!(local_maxima(image.view(), labels.view(), 1), vec![(0, 1), (0, 5)]);
/// ```
pub fn local_maxima(image: ArrayView2<u32>, labels: ArrayView2<u32>, min_distance: usize) -> Vec<(usize, usize)> {
    assert_eq!(image.dim(), labels.dim(), "image and labels differ in shape");
    let n = labels.iter().copied().max().unwrap_or(0) as usize;
    let threshold = image.iter().copied().min().unwrap_or(0);
    let m = min_distance;
    let mut peaks = Vec::new();
    let mut scratch = MaxFilter::default();
    for bbox in bounding_boxes(labels, n).into_iter().enumerate().filter_map(|(i, b)| b.map(|b| (i as u32 + 1, b))) {
        let (label, b) = bbox;
        let (bh, bw) = (b.height(), b.width());
        let sub_img = image.slice(ndarray::s![b.y0..b.y1, b.x0..b.x1]);
        let sub_lab = labels.slice(ndarray::s![b.y0..b.y1, b.x0..b.x1]);
        let inside: Vec<bool> = sub_lab.iter().map(|&l| l == label).collect();
        // Values shifted by one so that 0 stands for "not this label" (skimage's bg_val).
        let vals: Vec<u32> = sub_img.iter().zip(&inside).map(|(&v, &i)| if i { v.saturating_add(1) } else { 0 }).collect();
        let mut cand: Vec<bool> = if m == 0 {
            inside.clone()
        } else {
            let maxf = scratch.run(&vals, bh, bw, m);
            let c: Vec<bool> = vals.iter().zip(&maxf).zip(&inside).map(|((v, f), &i)| i && v == f).collect();
            if c.iter().zip(&inside).all(|(&c, &i)| c || !i) {
                // Trivial (flat) label: scikit-image keeps its isolated pixels only.
                isolated_pixels(&inside, bh, bw)
            } else {
                c
            }
        };
        for (c, &v) in cand.iter_mut().zip(sub_img.iter()) {
            *c = *c && v > threshold;
        }
        let mut pts: Vec<(u32, usize, usize)> = cand
            .iter()
            .enumerate()
            .filter(|(_, c)| **c)
            .map(|(i, _)| (sub_img[[i / bw, i % bw]], i / bw, i % bw))
            .collect();
        pts.sort_by(|a, b| b.0.cmp(&a.0)); // stable: ties stay in raster order
        let kept = if m > 1 { ensure_spacing(&pts, m, bh, bw) } else { pts.iter().map(|p| (p.1, p.2)).collect() };
        peaks.extend(kept.into_iter().map(|(y, x)| (y + b.y0, x + b.x0)));
    }
    peaks
}

/// Greedy thinning of points sorted by priority: a point is kept unless a kept point
/// lies at Chebyshev distance < `m`. Kept points are bucketed in an `m × m` grid.
fn ensure_spacing(pts: &[(u32, usize, usize)], m: usize, bh: usize, bw: usize) -> Vec<(usize, usize)> {
    let (gh, gw) = (bh / m + 1, bw / m + 1);
    let mut grid: Vec<Vec<(usize, usize)>> = vec![Vec::new(); gh * gw];
    let mut kept = Vec::new();
    for &(_, y, x) in pts {
        let (cy, cx) = (y / m, x / m);
        let mut clash = false;
        'cells: for gy in cy.saturating_sub(1)..=(cy + 1).min(gh - 1) {
            for gx in cx.saturating_sub(1)..=(cx + 1).min(gw - 1) {
                if grid[gy * gw + gx].iter().any(|&(ky, kx)| ky.abs_diff(y) < m && kx.abs_diff(x) < m) {
                    clash = true;
                    break 'cells;
                }
            }
        }
        if !clash {
            grid[cy * gw + cx].push((y, x));
            kept.push((y, x));
        }
    }
    kept
}

/// Pixels of `inside` not covered by its opening with the 3×3 cross (outside = false).
fn isolated_pixels(inside: &[bool], h: usize, w: usize) -> Vec<bool> {
    let at = |y: isize, x: isize| y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w && inside[y as usize * w + x as usize];
    const CROSS: [(isize, isize); 5] = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)];
    let eroded: Vec<bool> = (0..h * w)
        .map(|i| {
            let (y, x) = ((i / w) as isize, (i % w) as isize);
            CROSS.iter().all(|&(dy, dx)| at(y + dy, x + dx))
        })
        .collect();
    (0..h * w)
        .map(|i| {
            let (y, x) = ((i / w) as isize, (i % w) as isize);
            let opened = CROSS.iter().any(|&(dy, dx)| {
                let (ny, nx) = (y + dy, x + dx);
                ny >= 0 && nx >= 0 && (ny as usize) < h && (nx as usize) < w && eroded[ny as usize * w + nx as usize]
            });
            inside[i] && !opened
        })
        .collect()
}

/// Reusable buffers of the separable square maximum filter.
#[derive(Default)]
struct MaxFilter {
    pad: Vec<u32>,
    pre: Vec<u32>,
    suf: Vec<u32>,
    rows: Vec<u32>,
}

impl MaxFilter {
    /// Maximum over the `(2r + 1)²` square around each pixel of the `h × w` image
    /// `v`, clipped to the image (values are ≥ 0, so clipping = padding with 0).
    fn run(&mut self, v: &[u32], h: usize, w: usize, r: usize) -> Vec<u32> {
        let k = 2 * r + 1;
        // Horizontal pass, row by row.
        let mut horiz = vec![0u32; h * w];
        let len = w + 2 * r;
        for y in 0..h {
            self.pad.clear();
            self.pad.resize(len, 0);
            self.pad[r..r + w].copy_from_slice(&v[y * w..(y + 1) * w]);
            self.pre.resize(len, 0);
            self.suf.resize(len, 0);
            for j in 0..len {
                self.pre[j] = if j % k == 0 { self.pad[j] } else { self.pre[j - 1].max(self.pad[j]) };
            }
            for j in (0..len).rev() {
                self.suf[j] = if j % k == k - 1 || j == len - 1 { self.pad[j] } else { self.suf[j + 1].max(self.pad[j]) };
            }
            for x in 0..w {
                horiz[y * w + x] = self.suf[x].max(self.pre[x + k - 1]);
            }
        }
        // Vertical pass on whole rows at a time (runs along memory).
        let rows = h + 2 * r;
        self.rows.clear();
        self.rows.resize(rows * w, 0);
        self.rows[r * w..(r + h) * w].copy_from_slice(&horiz);
        let mut pre = vec![0u32; rows * w];
        let mut suf = vec![0u32; rows * w];
        for j in 0..rows {
            let src = &self.rows[j * w..(j + 1) * w];
            if j % k == 0 {
                pre[j * w..(j + 1) * w].copy_from_slice(src);
            } else {
                let (a, b) = pre.split_at_mut(j * w);
                for ((o, &p), &s) in b[..w].iter_mut().zip(&a[(j - 1) * w..]).zip(src) {
                    *o = p.max(s);
                }
            }
        }
        for j in (0..rows).rev() {
            let src = &self.rows[j * w..(j + 1) * w];
            if j % k == k - 1 || j == rows - 1 {
                suf[j * w..(j + 1) * w].copy_from_slice(src);
            } else {
                let (a, b) = suf.split_at_mut((j + 1) * w);
                for ((o, &n), &s) in a[j * w..].iter_mut().zip(&b[..w]).zip(src) {
                    *o = n.max(s);
                }
            }
        }
        let mut out = vec![0u32; h * w];
        for y in 0..h {
            for x in 0..w {
                out[y * w + x] = suf[y * w + x].max(pre[(y + k - 1) * w + x]);
            }
        }
        out
    }
}

/// A marker image from points: the i-th point gets label i + 1.
pub fn markers_from_points(shape: (usize, usize), points: &[(usize, usize)]) -> Mask {
    let mut m = Mask::zeros(shape);
    for (i, &p) in points.iter().enumerate() {
        m[p] = i as u32 + 1;
    }
    m
}

/// The h-maxima of `image`: pixels of regional maxima whose height over their
/// surroundings (their dynamic) is at least `h`, as scikit-image's `h_maxima`
/// (8-connected). Computed as `image − R(image − h) ≥ h`, where `R` is the
/// morphological reconstruction by dilation under `image` (Soille 2003, §6.3.4),
/// done with Vincent's hybrid algorithm (1993, "Morphological grayscale
/// reconstruction in image analysis", IEEE TIP 2(2)): a raster and an anti-raster
/// scan, then a FIFO propagation.
///
/// ```
/// use cellstream::post::h_maxima;
/// use ndarray::array;
/// let image = array![[0.0f32, 3.0, 0.0, 1.0, 1.5, 1.0]];
/// assert_eq!(h_maxima(image.view(), 2.0), array![[false, true, false, false, false, false]]);
/// ```
pub fn h_maxima(image: ArrayView2<f32>, h: f32) -> Array2<bool> {
    let (hh, w) = image.dim();
    let f: Vec<f64> = image.iter().map(|&v| v as f64).collect();
    let (lo, hi) = f.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if f.is_empty() || !(h as f64 <= hi - lo) || h <= 0.0 {
        return Array2::from_elem((hh, w), false);
    }
    let h = h as f64;
    // As scikit-image: lower the marker by a relative epsilon so that `f - rec ≥ h`
    // holds exactly where the reconstruction stays at the marker.
    let marker: Vec<f64> = f.iter().map(|&v| v - h - 2.0 * f32::EPSILON as f64 * v.abs()).collect();
    let rec = reconstruct_by_dilation(marker, &f, hh, w);
    let out: Vec<bool> = f.iter().zip(&rec).map(|(&v, &r)| v - r >= h).collect();
    Array2::from_shape_vec((hh, w), out).expect("shape matches")
}

/// Grayscale reconstruction by dilation of `marker` (≤ `mask`) under `mask`,
/// 8-connected (Vincent 1993, hybrid algorithm).
fn reconstruct_by_dilation(mut rec: Vec<f64>, mask: &[f64], h: usize, w: usize) -> Vec<f64> {
    for (r, &m) in rec.iter_mut().zip(mask) {
        *r = r.min(m);
    }
    let idx = |y: usize, x: usize| y * w + x;
    // Neighbours scanned before a pixel in raster order (negated: after it).
    const BEFORE: [(isize, isize); 4] = [(-1, -1), (-1, 0), (-1, 1), (0, -1)];
    let inside = |y: isize, x: isize| y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w;
    for y in 0..h {
        for x in 0..w {
            let mut v = rec[idx(y, x)];
            for (dy, dx) in BEFORE {
                let (ny, nx) = (y as isize + dy, x as isize + dx);
                if inside(ny, nx) {
                    v = v.max(rec[idx(ny as usize, nx as usize)]);
                }
            }
            rec[idx(y, x)] = v.min(mask[idx(y, x)]);
        }
    }
    let mut fifo = VecDeque::new();
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let mut v = rec[idx(y, x)];
            for (dy, dx) in BEFORE {
                let (ny, nx) = (y as isize - dy, x as isize - dx);
                if inside(ny, nx) {
                    v = v.max(rec[idx(ny as usize, nx as usize)]);
                }
            }
            let v = v.min(mask[idx(y, x)]);
            rec[idx(y, x)] = v;
            for (dy, dx) in BEFORE {
                let (ny, nx) = (y as isize - dy, x as isize - dx);
                if inside(ny, nx) {
                    let q = idx(ny as usize, nx as usize);
                    if rec[q] < v && rec[q] < mask[q] {
                        fifo.push_back(idx(y, x));
                        break;
                    }
                }
            }
        }
    }
    while let Some(p) = fifo.pop_front() {
        let (y, x) = (p / w, p % w);
        for (dy, dx) in Connectivity::Eight.offsets() {
            let (ny, nx) = (y as isize + dy, x as isize + dx);
            if inside(ny, nx) {
                let q = idx(ny as usize, nx as usize);
                if rec[q] < rec[p] && mask[q] != rec[q] {
                    rec[q] = rec[p].min(mask[q]);
                    fifo.push_back(q);
                }
            }
        }
    }
    rec
}

/// Seeds from a probability map (e.g. a network's cell-minus-boundary output):
/// the connected components of `prob > t` inside `fg`, labelled 1, 2, … in raster order.
///
/// ```
/// use cellstream::post::{seeds_from_probability, Connectivity};
/// use ndarray::array;
/// let seed = array![[0.9f32, 0.1, 0.8, 0.9]];
/// let fg = array![[true, true, true, false]];
/// let (m, n) = seeds_from_probability(seed.view(), 0.5, fg.view(), Connectivity::Eight);
/// assert_eq!((m, n), (array![[1, 0, 2, 0]], 2));
/// ```
pub fn seeds_from_probability(prob: ArrayView2<f32>, t: f32, fg: ArrayView2<bool>, conn: Connectivity) -> (Mask, usize) {
    let seeds = ndarray::Zip::from(&prob).and(&fg).map_collect(|&p, &f| f && p > t);
    label_components(seeds.view(), conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    fn brute_max(v: &[u32], h: usize, w: usize, r: usize) -> Vec<u32> {
        (0..h * w)
            .map(|i| {
                let (y, x) = (i / w, i % w);
                let mut m = 0;
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                        m = m.max(v[yy * w + xx]);
                    }
                }
                m
            })
            .collect()
    }

    /// Local maxima as scikit-image defines them, by brute force on one label.
    fn brute_peaks(image: &Array2<u32>, labels: &Array2<u32>, m: usize) -> Vec<(usize, usize)> {
        let (h, w) = image.dim();
        let n = labels.iter().copied().max().unwrap_or(0);
        let thr = image.iter().copied().min().unwrap_or(0);
        let mut out = Vec::new();
        for l in 1..=n {
            let px: Vec<(usize, usize)> = labels.indexed_iter().filter(|(_, v)| **v == l).map(|(p, _)| p).collect();
            if px.is_empty() {
                continue;
            }
            let is_max = |&(y, x): &(usize, usize)| {
                px.iter().all(|&(py, px_)| py.abs_diff(y) > m || px_.abs_diff(x) > m || image[[py, px_]] <= image[[y, x]])
            };
            let mut cand: Vec<(usize, usize)> = px.iter().copied().filter(is_max).collect();
            if cand.len() == px.len() {
                let inl = |y: isize, x: isize| y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w && labels[[y as usize, x as usize]] == l;
                let eroded = |y: isize, x: isize| inl(y, x) && inl(y - 1, x) && inl(y + 1, x) && inl(y, x - 1) && inl(y, x + 1);
                cand.retain(|&(y, x)| {
                    let (y, x) = (y as isize, x as isize);
                    !(eroded(y, x) || eroded(y - 1, x) || eroded(y + 1, x) || eroded(y, x - 1) || eroded(y, x + 1))
                });
            }
            cand.retain(|&p| image[p] > thr);
            cand.sort_by(|a, b| image[*b].cmp(&image[*a]));
            let mut kept: Vec<(usize, usize)> = Vec::new();
            for c in cand {
                if m <= 1 || kept.iter().all(|k| k.0.abs_diff(c.0) >= m || k.1.abs_diff(c.1) >= m) {
                    kept.push(c);
                }
            }
            out.extend(kept);
        }
        out
    }

    proptest! {
        #[test]
        fn max_filter_equals_brute_force(h in 1usize..12, w in 1usize..12, r in 0usize..6, v in proptest::collection::vec(0u32..20, 144)) {
            let v = &v[..h * w];
            prop_assert_eq!(MaxFilter::default().run(v, h, w, r), brute_max(v, h, w, r));
        }

        #[test]
        fn local_maxima_equal_brute_force(h in 1usize..14, w in 1usize..14, m in 1usize..5,
                                          v in proptest::collection::vec(0u32..6, 196),
                                          l in proptest::collection::vec(0u32..3, 196)) {
            let image = Array2::from_shape_vec((h, w), v[..h * w].to_vec()).unwrap();
            let labels = Array2::from_shape_vec((h, w), l[..h * w].to_vec()).unwrap();
            prop_assert_eq!(local_maxima(image.view(), labels.view(), m), brute_peaks(&image, &labels, m));
        }
    }

    #[test]
    fn peaks_closer_than_min_distance_are_thinned() {
        let image = array![[0u32, 5, 0, 5, 0, 0, 0, 0, 0, 0, 2, 0]];
        let labels = Array2::from_elem((1, 12), 1u32);
        assert_eq!(local_maxima(image.view(), labels.view(), 1), vec![(0, 1), (0, 3), (0, 10)]);
        // With min_distance 3, (0, 3) lies 2 from the first kept peak (0, 1).
        assert_eq!(local_maxima(image.view(), labels.view(), 3), vec![(0, 1), (0, 10)]);
    }

    #[test]
    fn flat_label_keeps_isolated_pixels_like_scikit_image() {
        // A 1×3 bar of equal values: every pixel is a window maximum, the cross
        // opening of a bar one pixel thick is empty, so all pixels are peaks
        // before spacing.
        let image = array![[0u32, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]];
        let labels = array![[0u32, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]];
        assert_eq!(local_maxima(image.view(), labels.view(), 1), vec![(1, 1), (1, 2), (1, 3)]);
        assert_eq!(local_maxima(image.view(), labels.view(), 2), vec![(1, 1), (1, 3)]);
    }

    #[test]
    fn h_maxima_of_two_domes() {
        // Two domes of height 4 and 1 above a saddle at 1.
        let image = array![[0.0f32, 2.0, 5.0, 2.0, 1.0, 2.0, 0.0]];
        let hm = h_maxima(image.view(), 2.0);
        assert_eq!(hm, array![[false, false, true, false, false, false, false]]);
        let hm = h_maxima(image.view(), 0.5);
        assert_eq!(hm, array![[false, false, true, false, false, true, false]]);
    }
}
