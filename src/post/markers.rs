//! Watershed markers: local maxima at a minimum distance, h-maxima, or seeds from a map.
use std::collections::VecDeque;

use ndarray::{Array2, ArrayView2};

use super::region_labelling::{label_components, Connectivity};
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
/// A window maximum is first of all a maximum of its 8 neighbours of the same label;
/// in a distance map those are few (ridge pixels), and only their windows are
/// scanned. When they are many (plateaus), the square maximum filter runs once over
/// the whole image instead, with the van Herk / Gil–Werman algorithm (van Herk 1992;
/// Gil & Werman 1993: three comparisons per pixel whatever the window size), so
/// the cost stays linear in the pixels for any `min_distance`.
///
/// ```
/// use cellstream::post::local_maxima;
/// use ndarray::array;
/// let image = array![[1u32, 2, 1, 0, 1, 3], [1, 1, 1, 0, 1, 1]];
/// let labels = array![[1u32, 1, 1, 0, 2, 2], [1, 1, 1, 0, 2, 2]];
/// assert_eq!(local_maxima(image.view(), labels.view(), 1), vec![(0, 1), (0, 5)]);
/// ```
pub fn local_maxima(image: ArrayView2<u32>, labels: ArrayView2<u32>, min_distance: usize) -> Vec<(usize, usize)> {
    local_maxima_by(image, labels, min_distance, None)
}

/// [`local_maxima`]; `use_filter` forces (or forbids) the whole-image maximum filter.
fn local_maxima_by(
    image: ArrayView2<u32>,
    labels: ArrayView2<u32>,
    min_distance: usize,
    use_filter: Option<bool>,
) -> Vec<(usize, usize)> {
    assert_eq!(image.dim(), labels.dim(), "image and labels differ in shape");
    let (h, w) = image.dim();
    let image = image.as_standard_layout();
    let labels = labels.as_standard_layout();
    let img = image.as_slice().expect("standard layout");
    let lab = labels.as_slice().expect("standard layout");
    // Signed views of the values (sign bit flipped) let plain SSE2 vectorise min/max.
    let (n, threshold) = img.iter().zip(lab).fold((i32::MIN, i32::MAX), |(n, t), (&v, &l)| {
        (n.max((l ^ 0x8000_0000) as i32), t.min((v ^ 0x8000_0000) as i32))
    });
    let (n, threshold) = if img.is_empty() { (0, 0) } else { ((n as u32 ^ 0x8000_0000) as usize, threshold as u32 ^ 0x8000_0000) };
    let m = min_distance;
    let mut area = vec![0usize; n + 1];
    // A window maximum is also a maximum of its 8 neighbours of the same label:
    // collect those first (few, in a distance map), then test their windows.
    let mut near: Vec<u32> = Vec::new();
    const CHUNK: usize = 16;
    for (c, chunk) in lab.chunks(CHUNK).enumerate() {
        if chunk.iter().fold(0, |a, &l| a | l) == 0 {
            continue; // background, 16 pixels at a time
        }
        for (j, &l) in chunk.iter().enumerate() {
            if l != 0 {
                let i = c * CHUNK + j;
                area[l as usize] += 1;
                if m == 0 || neighbourhood_max(img, lab, h, w, i) {
                    near.push(i as u32);
                }
            }
        }
    }
    let labelled = area.iter().skip(1).sum::<usize>();
    let cands: Vec<u32> = if m == 0 {
        near
    } else if !use_filter.unwrap_or(near.len() * (2 * m + 1) * (2 * m + 1) > 8 * labelled) {
        near.into_iter().filter(|&i| label_window_max(img, lab, h, w, i as usize, m)).collect()
    } else {
        // Many candidates (plateaus): one pass of the linear-time filter instead,
        // re-examining only pixels that another label's larger value may hide.
        let wmax = square_max_filter(img, h, w, m);
        near.into_iter().filter(|&i| img[i as usize] == wmax[i as usize] || label_window_max(img, lab, h, w, i as usize, m)).collect()
    };
    let mut cand_count = vec![0usize; n + 1];
    for &i in &cands {
        cand_count[lab[i as usize] as usize] += 1;
    }
    let mut cands = cands;
    // Flat labels (every pixel a candidate): skimage keeps their isolated pixels.
    let trivial: Vec<bool> = (0..=n).map(|l| m > 0 && l > 0 && area[l] > 0 && cand_count[l] == area[l]).collect();
    if trivial.iter().any(|&t| t) {
        let mut boxes: Vec<Option<(usize, usize, usize, usize)>> = vec![None; n + 1];
        for &i in &cands {
            let (l, y, x) = (lab[i as usize] as usize, i as usize / w, i as usize % w);
            if trivial[l] {
                let b = boxes[l].get_or_insert((y, y, x, x));
                *b = (b.0.min(y), b.1.max(y), b.2.min(x), b.3.max(x));
            }
        }
        cands.retain(|&i| !trivial[lab[i as usize] as usize]);
        for (l, b) in boxes.iter().enumerate() {
            let Some((y0, y1, x0, x1)) = *b else { continue };
            let (bh, bw) = (y1 - y0 + 1, x1 - x0 + 1);
            let inside: Vec<bool> = (0..bh * bw).map(|j| lab[(y0 + j / bw) * w + x0 + j % bw] == l as u32).collect();
            for (j, iso) in isolated_pixels(&inside, bh, bw).into_iter().enumerate() {
                if iso {
                    cands.push(((y0 + j / bw) * w + x0 + j % bw) as u32);
                }
            }
        }
    }
    cands.retain(|&i| img[i as usize] > threshold);
    // By label, then highest first, ties in raster order.
    cands.sort_unstable_by_key(|&i| (lab[i as usize], std::cmp::Reverse(img[i as usize]), i));
    let pts = cands.iter().map(|&i| (lab[i as usize], i as usize / w, i as usize % w));
    if m > 1 { ensure_spacing(pts, m, h, w) } else { pts.map(|(_, y, x)| (y, x)).collect() }
}

/// Whether no 8-neighbour of pixel `i` with its label has a larger value.
#[inline]
fn neighbourhood_max(img: &[u32], lab: &[u32], h: usize, w: usize, i: usize) -> bool {
    let (v, l) = (img[i], lab[i]);
    let beats = |j: usize| img[j] > v && lab[j] == l;
    let (y, x) = (i / w, i % w);
    if y > 0 && x > 0 && y + 1 < h && x + 1 < w {
        return !(beats(i - w) || beats(i + w) || beats(i - 1) || beats(i + 1)
            || beats(i - w - 1) || beats(i - w + 1) || beats(i + w - 1) || beats(i + w + 1));
    }
    label_window_max(img, lab, h, w, i, 1)
}

/// Whether pixel `i` is the maximum of the pixels of its label in the
/// `(2m + 1)²` window around it.
fn label_window_max(img: &[u32], lab: &[u32], h: usize, w: usize, i: usize, m: usize) -> bool {
    let (v, l) = (img[i], lab[i]);
    let (y, x) = (i / w, i % w);
    for yy in y.saturating_sub(m)..(y + m + 1).min(h) {
        let row = &img[yy * w..(yy + 1) * w];
        let lrow = &lab[yy * w..(yy + 1) * w];
        let (x0, x1) = (x.saturating_sub(m), (x + m + 1).min(w));
        if row[x0..x1].iter().zip(&lrow[x0..x1]).any(|(&u, &k)| u > v && k == l) {
            return false;
        }
    }
    true
}

/// Greedy thinning of `(label, y, x)` points sorted by label then priority: a point
/// is kept unless a kept point of its label lies at Chebyshev distance < `m`.
/// Kept points are bucketed in a grid of `m × m` cells.
fn ensure_spacing(pts: impl Iterator<Item = (u32, usize, usize)>, m: usize, h: usize, w: usize) -> Vec<(usize, usize)> {
    let (gh, gw) = (h / m + 1, w / m + 1);
    let mut grid: Vec<Vec<(u32, usize, usize)>> = vec![Vec::new(); gh * gw];
    let mut kept = Vec::new();
    for (l, y, x) in pts {
        let (cy, cx) = (y / m, x / m);
        let mut clash = false;
        'cells: for gy in cy.saturating_sub(1)..=(cy + 1).min(gh - 1) {
            for gx in cx.saturating_sub(1)..=(cx + 1).min(gw - 1) {
                if grid[gy * gw + gx].iter().any(|&(kl, ky, kx)| kl == l && ky.abs_diff(y) < m && kx.abs_diff(x) < m) {
                    clash = true;
                    break 'cells;
                }
            }
        }
        if !clash {
            grid[cy * gw + cx].push((l, y, x));
            kept.push((y, x));
        }
    }
    kept
}

/// Maximum over the `(2r + 1)²` square around each pixel of the `h × w` image `v`,
/// clipped to the image (van Herk 1992; Gil & Werman 1993). Values are ≥ 0, so
/// clipping is padding with 0. Rows are filtered one at a time, then columns a
/// block of `2r + 1` rows at a time, so that the loops run along memory.
fn square_max_filter(v: &[u32], h: usize, w: usize, r: usize) -> Vec<u32> {
    // Work on i32 with the sign bit flipped (an order-preserving map of u32), whose
    // maximum plain SSE2 vectorises; the pad value 0 becomes i32::MIN.
    if h == 0 || w == 0 {
        return Vec::new();
    }
    let flip = |x: u32| (x ^ 0x8000_0000) as i32;
    let k = 2 * r + 1;
    // Horizontal pass.
    let mut horiz = vec![i32::MIN; h * w];
    let len = w + 2 * r;
    let (mut pad, mut pre, mut suf) = (vec![i32::MIN; len], vec![0i32; len], vec![0i32; len]);
    for (src, dst) in v.chunks_exact(w).zip(horiz.chunks_exact_mut(w)) {
        for (p, &x) in pad[r..r + w].iter_mut().zip(src) {
            *p = flip(x);
        }
        // Running maxima within blocks of k, forwards and backwards.
        for (p, s) in pre.chunks_mut(k).zip(pad.chunks(k)) {
            let mut m = i32::MIN;
            for (p, &v) in p.iter_mut().zip(s) {
                m = m.max(v);
                *p = m;
            }
        }
        for (q, s) in suf.chunks_mut(k).zip(pad.chunks(k)) {
            let mut m = i32::MIN;
            for (q, &v) in q.iter_mut().zip(s).rev() {
                m = m.max(v);
                *q = m;
            }
        }
        for (x, d) in dst.iter_mut().enumerate() {
            *d = suf[x].max(pre[x + k - 1]);
        }
    }
    // Vertical pass over the rows padded with r rows of i32::MIN on each side: block b holds
    // padded rows [bk, bk + k); output row y (window = padded rows y..y + k) is
    // max(suffix max of its block from y, prefix max of the next block up to y + k - 1).
    let zero = vec![i32::MIN; w];
    let row = |j: usize| -> &[i32] { if j >= r && j - r < h { &horiz[(j - r) * w..(j - r + 1) * w] } else { &zero } };
    let mut out = vec![0u32; h * w];
    let (mut bsuf, mut bpre) = (vec![0i32; k * w], vec![0i32; k * w]);
    for b in 0..h.div_ceil(k) {
        for i in (0..k).rev() {
            let src = row(b * k + i);
            if i == k - 1 {
                bsuf[i * w..(i + 1) * w].copy_from_slice(src);
            } else {
                let (lo, hi) = bsuf.split_at_mut((i + 1) * w);
                for ((d, &s), &n) in lo[i * w..].iter_mut().zip(src).zip(&hi[..w]) {
                    *d = s.max(n);
                }
            }
        }
        for i in 0..k {
            let src = row((b + 1) * k + i);
            if i == 0 {
                bpre[..w].copy_from_slice(src);
            } else {
                let (lo, hi) = bpre.split_at_mut(i * w);
                for ((d, &s), &p) in hi[..w].iter_mut().zip(src).zip(&lo[(i - 1) * w..]) {
                    *d = s.max(p);
                }
            }
        }
        for y in b * k..((b + 1) * k).min(h) {
            let o = &mut out[y * w..(y + 1) * w];
            let s = &bsuf[(y - b * k) * w..(y - b * k + 1) * w];
            if y == b * k {
                for (o, &s) in o.iter_mut().zip(s) {
                    *o = s as u32 ^ 0x8000_0000;
                }
            } else {
                let p = &bpre[(y - b * k - 1) * w..(y - b * k) * w];
                for ((o, &s), &p) in o.iter_mut().zip(s).zip(p) {
                    *o = s.max(p) as u32 ^ 0x8000_0000;
                }
            }
        }
    }
    out
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

/// A marker image from points: the i-th point gets label i + 1.
///
/// ```
/// use cellstream::post::markers_from_points;
/// use ndarray::array;
/// assert_eq!(markers_from_points((2, 3), &[(0, 2), (1, 0)]), array![[0, 0, 1], [2, 0, 0]]);
/// ```
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
    // `!(h <= range)` also catches a NaN range.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    let too_high = !(h as f64 <= hi - lo);
    if f.is_empty() || too_high || h <= 0.0 {
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
            prop_assert_eq!(square_max_filter(v, h, w, r), brute_max(v, h, w, r));
        }

        #[test]
        fn local_maxima_equal_brute_force(h in 1usize..14, w in 1usize..14, m in 1usize..5,
                                          v in proptest::collection::vec(0u32..6, 196),
                                          l in proptest::collection::vec(0u32..3, 196)) {
            let image = Array2::from_shape_vec((h, w), v[..h * w].to_vec()).unwrap();
            let labels = Array2::from_shape_vec((h, w), l[..h * w].to_vec()).unwrap();
            let expected = brute_peaks(&image, &labels, m);
            prop_assert_eq!(&local_maxima_by(image.view(), labels.view(), m, Some(false)), &expected);
            prop_assert_eq!(&local_maxima_by(image.view(), labels.view(), m, Some(true)), &expected);
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
