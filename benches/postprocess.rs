//! Post-processing speed on a realistic frame: ms per frame for each stage and for
//! the whole chain, on one core. `cargo bench --bench postprocess [-- WIDTH HEIGHT CELLS]`;
//! `BENCH_ONLY=watershed` times only the stages whose name holds that word;
//! `BENCH_REPS=n` sets the number of timed runs (15).
use std::hint::black_box;
use std::time::Instant;

use cellstream::post::{self, PostParams, SeedMode};
use ndarray::Array2;

/// A probability map of `cells` touching elliptic cells with noise (xorshift RNG).
fn synthetic(h: usize, w: usize, cells: usize, seed: u64) -> Array2<f32> {
    let mut s = seed | 1;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut p = Array2::<f32>::zeros((h, w));
    for _ in 0..cells {
        let (cy, cx) = (rnd() * h as f64, rnd() * w as f64);
        let (a, b, t) = (12.0 + rnd() * 12.0, 10.0 + rnd() * 8.0, rnd() * std::f64::consts::PI);
        let r = a.max(b) + 4.0;
        let (y0, y1) = ((cy - r).max(0.0) as usize, ((cy + r) as usize + 1).min(h));
        let (x0, x1) = ((cx - r).max(0.0) as usize, ((cx + r) as usize + 1).min(w));
        for y in y0..y1 {
            for x in x0..x1 {
                let (dy, dx) = (y as f64 - cy, x as f64 - cx);
                let (u, v) = (dx * t.cos() + dy * t.sin(), -dx * t.sin() + dy * t.cos());
                let e = ((u / a).powi(2) + (v / b).powi(2)).sqrt();
                let q = 1.0 / (1.0 + ((e - 1.0) * 8.0).exp());
                p[[y, x]] = p[[y, x]].max(q as f32);
            }
        }
    }
    p.mapv_inplace(|v| (v + (rnd() as f32 - 0.5) * 0.5).clamp(0.0, 1.0));
    p
}

/// Runs `f` `reps` times after one warm-up; prints the median and the minimum wall
/// time per run (the minimum is the least disturbed by other processes on the
/// machine) and returns the median.
fn time<T>(name: &str, reps: usize, mut f: impl FnMut() -> T) -> f64 {
    if let Ok(only) = std::env::var("BENCH_ONLY")
        && !name.contains(&only)
    {
        return f64::NAN;
    }
    black_box(f());
    let mut ms: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    println!("{name:<42} {median:8.2} ms/frame median {:8.2} min", ms[0]);
    median
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (w, h, cells) = match args[..] {
        [w, h, c, ..] => (w, h, c),
        _ => (1300, 1000, 400),
    };
    // As `cellstream postprocess` does: keep freed buffers for the next frame.
    cellstream::cli::reuse_freed_memory();
    let reps = std::env::var("BENCH_REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(15);
    let prob = synthetic(h, w, cells, 7);
    let params = PostParams { closing_radius: 3, min_area: 40, seeds: SeedMode::DistanceMaxima { min_distance: 7 }, ..PostParams::default() };
    println!("post-processing, {w}×{h}, {cells} cells, one thread, {reps} runs (allocator tuned as in the CLI)");
    let fg = post::threshold(prob.view(), params.threshold);
    time("threshold", reps, || post::threshold(prob.view(), params.threshold));
    let closed = post::close_disk(fg.view(), 3);
    time("closing, disk r=3", reps, || post::close_disk(fg.view(), 3));
    time("closing, disk r=15", reps, || post::close_disk(fg.view(), 15));
    time("remove small components", reps, || post::remove_small_components(closed.view(), 40, post::Connectivity::Eight));
    time("fill holes", reps, || post::fill_holes(closed.view()));
    time("label components (8)", reps, || post::label_components(closed.view(), post::Connectivity::Eight));
    time("squared distance transform", reps, || post::squared_distance_transform(closed.view()));
    let (labels, _) = post::foreground_components(prob.view(), &params);
    let fgc = labels.mapv(|l| l != 0);
    let d2 = post::squared_distance_transform(fgc.view());
    time("local maxima, min_distance 7", reps, || post::local_maxima(d2.view(), labels.view(), 7));
    let peaks = post::local_maxima(d2.view(), labels.view(), 7);
    let markers = post::markers_from_points(labels.dim(), &peaks);
    let top = d2.iter().copied().filter(|&d| d != post::NO_BACKGROUND).max().unwrap_or(0);
    let levels = d2.mapv(|d| top - d.min(top));
    time("watershed (hierarchical queue)", reps, || {
        post::watershed_levels(levels.view(), markers.view(), fgc.view(), post::Connectivity::Eight)
    });
    let fl = levels.mapv(|l| l as f32);
    time("watershed (binary heap)", reps, || post::watershed(fl.view(), markers.view(), fgc.view(), post::Connectivity::Eight));
    time("foreground components", reps, || post::foreground_components(prob.view(), &params));
    time("whole chain (instances_from_probability)", reps, || post::instances_from_probability(prob.view(), &params));
    let n = post::instances_from_probability(prob.view(), &params).iter().copied().max().unwrap_or(0);
    println!("{n} objects");
}
