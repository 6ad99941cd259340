//! Provisional SEG measure (Maška et al. 2014), in memory, for validation during training.
//!
//! Private to the model module until the `eval` stage's evaluator replaces it.
use std::collections::HashMap;

use crate::ctc::Mask;

/// Running SEG over frames: the mean, over all reference objects, of the
/// Jaccard index with the predicted object covering more than half of it
/// (0 when none does).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SegScore {
    sum: f64,
    objects: usize,
}

impl SegScore {
    /// Adds one frame: `truth` is the reference, `pred` the result.
    pub(crate) fn add(&mut self, truth: &Mask, pred: &Mask) {
        let mut area_r: HashMap<u32, usize> = HashMap::new();
        let mut area_s: HashMap<u32, usize> = HashMap::new();
        let mut overlap: HashMap<(u32, u32), usize> = HashMap::new();
        for (&r, &s) in truth.iter().zip(pred.iter()) {
            if s != 0 {
                *area_s.entry(s).or_default() += 1;
            }
            if r != 0 {
                *area_r.entry(r).or_default() += 1;
                if s != 0 {
                    *overlap.entry((r, s)).or_default() += 1;
                }
            }
        }
        // At most one result object can cover more than half of a reference object.
        for (&(r, s), &n) in &overlap {
            let ar = area_r[&r];
            if 2 * n > ar {
                self.sum += n as f64 / (ar + area_s[&s] - n) as f64;
            }
        }
        self.objects += area_r.len();
    }

    /// The SEG value, or `None` when no reference object was seen.
    pub(crate) fn value(&self) -> Option<f64> {
        (self.objects > 0).then(|| self.sum / self.objects as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matched_unmatched_and_perfect() {
        let truth = array![[1u32, 1, 0, 2], [1, 1, 0, 2]];
        let pred = array![[5u32, 5, 5, 0], [5, 5, 0, 0]];
        let mut s = SegScore::default();
        s.add(&truth, &pred);
        // Object 1: |R∩S| = 4 > 2, J = 4/5; object 2: not covered, 0.
        assert!((s.value().unwrap() - 0.4).abs() < 1e-12);
        let mut p = SegScore::default();
        p.add(&truth, &truth.mapv(|l| l * 7));
        assert_eq!(p.value(), Some(1.0));
        assert_eq!(SegScore::default().value(), None);
    }

    #[test]
    fn half_coverage_is_not_a_match() {
        let truth = array![[1u32, 1, 1, 1]];
        let pred = array![[2u32, 2, 0, 0]];
        let mut s = SegScore::default();
        s.add(&truth, &pred);
        assert_eq!(s.value(), Some(0.0));
    }

    /// Cross-check with py-ctcmetrics on real masks: frame 31's silver truth
    /// scored as a "result" against frame 30's.
    #[test]
    fn agrees_with_py_ctcmetrics() {
        let st = std::path::Path::new("../shared/data/ctc/PhC-C2DL-PSC/02_ST/SEG");
        let python = std::path::Path::new(".pyenv/bin/python");
        if !st.is_dir() || !python.exists() {
            eprintln!("skipped: needs {} and {}", st.display(), python.display());
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let res = dir.path().join("res");
        std::fs::create_dir(&res).unwrap();
        std::fs::copy(st.join("man_seg031.tif"), res.join("mask030.tif")).unwrap();
        let gt = dir.path().join("gt/SEG");
        std::fs::create_dir_all(&gt).unwrap();
        std::fs::copy(st.join("man_seg030.tif"), gt.join("man_seg030.tif")).unwrap();
        let out = std::process::Command::new(python)
            .args(["scripts/seg-frames.py", "--gt", dir.path().join("gt").to_str().unwrap(), "--res", res.to_str().unwrap(), "--frames", "30-30"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        let theirs: f64 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut ours = SegScore::default();
        ours.add(&crate::ctc::read_mask(&st.join("man_seg030.tif")).unwrap(), &crate::ctc::read_mask(&st.join("man_seg031.tif")).unwrap());
        let ours = ours.value().unwrap();
        eprintln!("SEG of frame 31 against 30: ours {ours:.6}, py-ctcmetrics {theirs:.6}");
        assert!((ours - theirs).abs() < 1e-6, "ours {ours}, py-ctcmetrics {theirs}");
        assert!(ours > 0.1 && ours < 0.99, "{ours}: frames 30 and 31 should overlap imperfectly");
    }
}
