//! `eval::evaluate` against py-ctcmetrics 1.3.3 (`ctc_evaluate`) on real CTC
//! data and on deliberately damaged results made here: every measure the two
//! share must agree to 1e-6. The object measures are checked against an
//! independent SciPy implementation (`linear_sum_assignment`).
//!
//! Needs ../shared/data/ctc and .pyenv (scripts/setup); each test prints a
//! message and passes when they are absent.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use cellstream::ctc::{self, Mask, ResultWriter, TrackRecord};
use cellstream::eval::{self, EvalOptions, Scores};
use ndarray::Array2;

const TOL: f64 = 1e-6;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared CTC data and the Python tools, or None (with a message).
fn setup(test: &str) -> Option<(PathBuf, PathBuf)> {
    let data = root().join("../shared/data/ctc");
    let py = root().join(".pyenv/bin");
    if !data.is_dir() {
        eprintln!("{test}: skipped, {} is absent", data.display());
        return None;
    }
    if !py.join("ctc_evaluate").is_file() {
        eprintln!("{test}: skipped, {} is absent (run scripts/setup)", py.join("ctc_evaluate").display());
        return None;
    }
    Some((data, py))
}

// ---------------------------------------------------------------- data

/// A sequence in memory: one mask per frame from time 0, and its tracks.
#[derive(Clone)]
struct Seq {
    masks: Vec<Mask>,
    tracks: Vec<TrackRecord>,
}

/// Reads the first `n` frames of a TRA truth or result folder, clipping the tracks.
fn load(dir: &Path, prefix: &str, track_file: &str, n: usize) -> Seq {
    let files = ctc::list_frame_files(dir, prefix).unwrap();
    let masks: Vec<Mask> = files.files.values().take(n).map(|p| ctc::read_mask(p).unwrap()).collect();
    let last = masks.len() - 1;
    let tracks = ctc::read_tracks(&dir.join(track_file))
        .unwrap()
        .into_iter()
        .filter(|t| t.begin <= last)
        .map(|t| TrackRecord { end: t.end.min(last), ..t })
        .collect();
    Seq { masks, tracks }
}

/// Writes a truth folder: TRA from `seq`, SEG for the frames in `seg_frames`
/// (taken from `seg`, or from `seq` itself).
fn write_truth(dir: &Path, seq: &Seq, tra: bool, seg_frames: &[usize], seg: Option<&[Mask]>) {
    if tra {
        std::fs::create_dir_all(dir.join("TRA")).unwrap();
        for (t, m) in seq.masks.iter().enumerate() {
            ctc::write_mask(&dir.join(format!("TRA/man_track{t:03}.tif")), m).unwrap();
        }
        ctc::write_tracks(&dir.join("TRA/man_track.txt"), &seq.tracks).unwrap();
    }
    if !seg_frames.is_empty() {
        std::fs::create_dir_all(dir.join("SEG")).unwrap();
        for &t in seg_frames {
            let m = seg.map_or(&seq.masks[t], |s| &s[t]);
            ctc::write_mask(&dir.join(format!("SEG/man_seg{t:03}.tif")), m).unwrap();
        }
    }
}

fn write_result(dir: &Path, seq: &Seq) {
    let w = ResultWriter::create(dir, 3).unwrap();
    for (t, m) in seq.masks.iter().enumerate() {
        w.write_mask(t, m).unwrap();
    }
    w.finish(&seq.tracks).unwrap();
    let v = ctc::validate_result(dir).unwrap();
    assert!(v.is_empty(), "damaged result is not valid: {v:?}");
}

// ---------------------------------------------------------------- damage

/// SplitMix64: a small deterministic generator for the damage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn labels_of(m: &Mask) -> BTreeSet<u32> {
    m.iter().copied().filter(|&v| v != 0).collect()
}

fn relabel(m: &mut Mask, from: u32, to: u32) {
    m.mapv_inplace(|v| if v == from { to } else { v });
}

/// Centroid (row, col) of each label of a frame.
fn centroids(m: &Mask) -> BTreeMap<u32, (f64, f64)> {
    let mut acc: BTreeMap<u32, (f64, f64, f64)> = BTreeMap::new();
    for ((y, x), &v) in m.indexed_iter() {
        if v != 0 {
            let a = acc.entry(v).or_default();
            a.0 += y as f64;
            a.1 += x as f64;
            a.2 += 1.0;
        }
    }
    acc.into_iter().map(|(l, a)| (l, (a.0 / a.2, a.1 / a.2))).collect()
}

/// Makes the track file agree with damaged masks: each run of frames in which
/// a label is present becomes a track; a label's later runs get new labels,
/// each the child of the run before (a gap link). Parent links of the
/// original tracks are kept where the parent still ends before the child.
fn repair(seq: &mut Seq, original: &[TrackRecord]) {
    let mut runs: BTreeMap<u32, Vec<(usize, usize)>> = BTreeMap::new();
    for (t, m) in seq.masks.iter().enumerate() {
        for l in labels_of(m) {
            let r = runs.entry(l).or_default();
            match r.last_mut() {
                Some(last) if last.1 + 1 == t => last.1 = t,
                _ => r.push((t, t)),
            }
        }
    }
    let mut next = runs.keys().last().copied().unwrap_or(0).max(original.iter().map(|t| t.label).max().unwrap_or(0)) + 1;
    let parent_of: HashMap<u32, u32> = original.iter().map(|t| (t.label, t.parent)).collect();
    let mut tracks = Vec::new();
    let mut last_run: HashMap<u32, (u32, usize)> = HashMap::new(); // label → (label of its last run, end)
    for (&l, rs) in &runs {
        let mut prev = 0;
        for (k, &(b, e)) in rs.iter().enumerate() {
            let label = if k == 0 { l } else { next };
            if k > 0 {
                next += 1;
                for t in b..=e {
                    relabel(&mut seq.masks[t], l, label);
                }
            }
            tracks.push(TrackRecord { label, begin: b, end: e, parent: prev });
            prev = label;
        }
        last_run.insert(l, (prev, rs.last().unwrap().1));
    }
    for t in tracks.iter_mut().filter(|t| t.parent == 0) {
        if let Some((p, end)) = parent_of.get(&t.label).and_then(|p| last_run.get(p))
            && *end < t.begin
        {
            t.parent = *p;
        }
    }
    seq.tracks = tracks;
}

/// Drops a tenth of the tracks whole, and single objects here and there.
fn drop_objects(seq: &mut Seq, rng: &mut Rng) {
    let gone: BTreeSet<u32> = seq.tracks.iter().filter(|_| rng.chance(0.1)).map(|t| t.label).collect();
    for m in &mut seq.masks {
        m.mapv_inplace(|v| if gone.contains(&v) { 0 } else { v });
        for l in labels_of(m) {
            if rng.chance(0.04) {
                relabel(m, l, 0);
            }
        }
    }
}

/// In some frames, paints an object's nearest neighbour with its label.
fn merge_neighbours(seq: &mut Seq, rng: &mut Rng) {
    for m in &mut seq.masks {
        let c = centroids(m);
        let mut used = BTreeSet::new();
        for (&a, &(ya, xa)) in &c {
            if used.contains(&a) || !rng.chance(0.15) {
                continue;
            }
            let near = c
                .iter()
                .filter(|(b, _)| **b != a && !used.contains(*b))
                .min_by(|p, q| {
                    let d = |(y, x): (f64, f64)| (y - ya).powi(2) + (x - xa).powi(2);
                    d(*p.1).total_cmp(&d(*q.1))
                });
            if let Some((&b, _)) = near {
                relabel(m, b, a);
                used.insert(a);
                used.insert(b);
            }
        }
    }
}

/// In some frames, cuts objects in two at their centroid column; the right
/// part gets a new label.
fn split_objects(seq: &mut Seq, rng: &mut Rng) {
    let mut next = 60_000;
    for m in &mut seq.masks {
        for (l, (_, xc)) in centroids(m) {
            if !rng.chance(0.2) {
                continue;
            }
            for ((_, x), v) in m.indexed_iter_mut() {
                if *v == l && x as f64 > xc {
                    *v = next;
                }
            }
            next += 1;
        }
    }
}

/// Renames every label, and swaps the identities of pairs of tracks from a
/// frame on.
fn swap_tracks(seq: &mut Seq, rng: &mut Rng) {
    let n = seq.masks.len();
    let alive: Vec<u32> = seq.tracks.iter().filter(|t| t.begin + 3 < t.end).map(|t| t.label).collect();
    for _ in 0..alive.len() / 4 {
        let (a, b) = (alive[rng.below(alive.len())], alive[rng.below(alive.len())]);
        let t0 = rng.below(n);
        for m in &mut seq.masks[t0..] {
            m.mapv_inplace(|v| if v == a { b } else if v == b { a } else { v });
        }
    }
    let rename = |v: u32| if v == 0 { 0 } else { 20_000 - v };
    for m in &mut seq.masks {
        m.mapv_inplace(rename);
    }
    for t in &mut seq.tracks {
        t.label = rename(t.label);
        t.parent = rename(t.parent);
    }
}

/// Shifts every frame by (dy, dx) pixels, filling with background.
fn shift(seq: &mut Seq, dy: isize, dx: isize) {
    for m in &mut seq.masks {
        let (h, w) = m.dim();
        *m = Array2::from_shape_fn((h, w), |(y, x)| {
            let (sy, sx) = (y as isize - dy, x as isize - dx);
            if sy < 0 || sx < 0 || sy >= h as isize || sx >= w as isize { 0 } else { m[[sy as usize, sx as usize]] }
        });
    }
}

/// Removes half of the parent links, hands some children to a wrong parent,
/// and cuts some tracks in two joined by a parent link (a semantic change).
fn break_links(seq: &mut Seq, rng: &mut Rng) {
    let ends: Vec<(u32, usize)> = seq.tracks.iter().map(|t| (t.label, t.end)).collect();
    let mut cut = Vec::new();
    for t in &mut seq.tracks {
        if t.end >= t.begin + 3 && rng.chance(0.2) {
            let (mid, new) = ((t.begin + t.end).div_ceil(2), 30_000 + t.label);
            for m in &mut seq.masks[mid..=t.end] {
                relabel(m, t.label, new);
            }
            cut.push(TrackRecord::new(new, mid, t.end, t.label));
            t.end = mid - 1;
        }
    }
    for t in &mut seq.tracks {
        if t.parent == 0 {
            continue;
        }
        if rng.chance(0.5) {
            t.parent = 0;
        } else if rng.chance(0.5)
            && let Some(&(p, _)) = ends.iter().find(|(p, e)| *p != t.parent && *p != t.label && e + 1 == t.begin)
        {
            t.parent = p;
        }
    }
    seq.tracks.extend(cut);
}

fn damaged(truth: &Seq, seed: u64, f: impl FnOnce(&mut Seq, &mut Rng)) -> Seq {
    let mut s = truth.clone();
    let mut rng = Rng(seed);
    f(&mut s, &mut rng);
    let original = s.tracks.clone();
    repair(&mut s, &original);
    s
}

// ---------------------------------------------------------------- reference

/// Runs `ctc_evaluate` and reads its CSV: name → value (None for "None").
fn py_ctcmetrics(py: &Path, gt: &Path, res: &Path, seg: bool, tra: bool) -> BTreeMap<String, Option<f64>> {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("scores.csv");
    let mut cmd = Command::new(py.join("ctc_evaluate"));
    cmd.args(["--gt".as_ref(), gt.as_os_str(), "--res".as_ref(), res.as_os_str(), "-n".as_ref(), "1".as_ref()]);
    cmd.args(["--csv-file".as_ref(), csv.as_os_str()]);
    if tra {
        cmd.args(["--det", "--tra", "--lnk", "--ct", "--tf", "--bc", "3"]);
        cmd.args(["--cca", "--chota", "--hota", "--mota", "--idf1", "--mtml", "--faf"]);
    }
    if seg {
        cmd.arg("--seg");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "ctc_evaluate failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let keys = lines.next().unwrap().split(';');
    let values = lines.next().unwrap().split(';');
    keys.zip(values).map(|(k, v)| (k.to_string(), if v == "None" { None } else { Some(v.parse().unwrap()) })).collect()
}

/// SEG by py-ctcmetrics' own functions, as `ctc_evaluate` computes it, for
/// truth without TRA/ (where `ctc_evaluate` itself cannot run).
fn py_seg_only(py: &Path, gt: &Path, res: &Path) -> f64 {
    let script = r#"
import sys
from os.path import basename, join
from ctc_metrics.scripts.evaluate import match_computed_to_reference_masks
from ctc_metrics.metrics import seg
from ctc_metrics.utils.filesystem import parse_masks
gt, res = sys.argv[1], sys.argv[2]
ref = parse_masks(join(gt, "SEG"))
comp = parse_masks(res)
comp = [comp[int(basename(x).replace("man_seg", "").replace(".tif", "").replace("_", ""))] for x in ref]
m = match_computed_to_reference_masks(ref, comp, threads=1)
print(repr(seg(m["labels_ref"], m["ious"])))
"#;
    let out = Command::new(py.join("python")).arg("-c").arg(script).arg(gt).arg(res).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

/// Object TP/FP/FN at IoU thresholds k/20 by SciPy's linear_sum_assignment
/// with StarDist's cost (matches first, then IoU), strict > threshold.
fn scipy_objects(py: &Path, truth_dir: &Path, res: &Path, ks: &[u32]) -> Vec<(u64, u64, u64)> {
    let script = r#"
import sys, os, numpy as np, tifffile
from scipy.optimize import linear_sum_assignment
truth, res, ks = sys.argv[1], sys.argv[2], [int(k) for k in sys.argv[3].split(",")]
tot = {k: [0, 0, 0] for k in ks}
for name in sorted(os.listdir(truth)):
    if not name.endswith(".tif"):
        continue
    t = int("".join(c for c in name if c.isdigit()))
    g = tifffile.imread(os.path.join(truth, name)).astype(np.int64)
    r = tifffile.imread(os.path.join(res, "mask%03d.tif" % t)).astype(np.int64)
    gl, rl = np.unique(g[g > 0]), np.unique(r[r > 0])
    ga = np.array([(g == l).sum() for l in gl]); ra = np.array([(r == l).sum() for l in rl])
    inter = np.zeros((len(gl), len(rl)))
    both = (g > 0) & (r > 0)
    pairs, counts = np.unique(np.stack([g[both], r[both]]), axis=1, return_counts=True)
    for (a, b), c in zip(pairs.T, counts):
        inter[np.searchsorted(gl, a), np.searchsorted(rl, b)] = c
    iou = inter / np.maximum(ga[:, None] + ra[None, :] - inter, 1)
    for k in ks:
        thr = k / 20
        n = max(min(len(gl), len(rl)), 1)
        cost = -(iou > thr).astype(float) - iou / (2 * n)
        rows, cols = linear_sum_assignment(cost)
        tp = int((iou[rows, cols] > thr).sum())
        tot[k][0] += tp; tot[k][1] += len(rl) - tp; tot[k][2] += len(gl) - tp
print(";".join("%d,%d,%d" % tuple(tot[k]) for k in ks))
"#;
    let ks_arg = ks.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(",");
    let out = Command::new(py.join("python")).arg("-c").arg(script).arg(truth_dir).arg(res).arg(ks_arg).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .split(';')
        .map(|x| {
            let v: Vec<u64> = x.split(',').map(|n| n.parse().unwrap()).collect();
            (v[0], v[1], v[2])
        })
        .collect()
}

/// Compares every measure py-ctcmetrics reports that we report too, and
/// returns the names compared.
fn compare(case: &str, py: &BTreeMap<String, Option<f64>>, ours: &Scores) -> BTreeSet<String> {
    let json = serde_json::to_value(ours).unwrap();
    let mut compared = BTreeSet::new();
    for (k, v) in py {
        // AOGM's parts are AOGM_NS … in py-ctcmetrics and NS … here; MOTA's
        // counts are TP, FP, FN, Precision, Recall there and MOTA_… here.
        let key = match (k.strip_prefix("AOGM_"), k.as_str()) {
            (Some(part), _) if part != "0" => part.to_string(),
            (_, "TP" | "FP" | "FN") => format!("MOTA_{k}"),
            (_, "Precision" | "Recall") => format!("MOTA_{}", k.to_lowercase()),
            _ => k.clone(),
        };
        let Some(mine) = json.get(&key) else { continue };
        let mine = mine.as_f64();
        match (v, mine) {
            (None, None) => {}
            (Some(a), Some(b)) => assert!((a - b).abs() <= TOL, "{case}: {k}: py-ctcmetrics {a}, cellstream {b}"),
            _ => panic!("{case}: {k}: py-ctcmetrics {v:?}, cellstream {mine:?}"),
        }
        compared.insert(key);
    }
    compared
}

fn expect_keys(case: &str, compared: &BTreeSet<String>, seg: bool, tra: bool) {
    let mut want: Vec<&str> = Vec::new();
    if tra {
        want.extend(["DET", "TRA", "LNK", "AOGM", "AOGM_0", "NS", "FN", "FP", "ED", "EA", "EC", "CT", "TF"]);
        want.extend(["BC(0)", "BC(1)", "BC(2)", "BC(3)", "gt_divisions", "tp_div(0)", "fp_div(3)", "fn_div(2)"]);
        want.extend(["CCA", "BIO(0)", "BIO(3)", "CHOTA", "HOTA", "MOTA", "IDSW", "MULTI-ASSIGNMENTS", "MOTA_TP", "MOTA_FP", "MOTA_FN"]);
        want.extend(["MOTA_precision", "MOTA_recall", "IDF1", "IDP", "IDR", "IDTP", "IDFP", "IDFN", "MT", "ML", "FAF"]);
    }
    if seg {
        want.push("SEG");
    }
    if seg && tra {
        want.extend(["OP_CSB", "OP_CTB"]);
    }
    for k in want {
        assert!(compared.contains(k), "{case}: {k} was not compared (compared: {compared:?})");
    }
}

/// Evaluates with both and compares; returns our scores.
fn check(case: &str, py: &Path, gt: &Path, res: &Path, seg: bool, tra: bool) -> Scores {
    let ours = eval::evaluate(gt, res, &EvalOptions::default()).unwrap_or_else(|e| panic!("{case}: {e}"));
    let reference = py_ctcmetrics(py, gt, res, seg, tra);
    let compared = compare(case, &reference, &ours);
    expect_keys(case, &compared, seg, tra);
    eprintln!(
        "{case}: {} measures equal; SEG {:?} DET {:?} TRA {:?} LNK {:?} BC(1) {:?} CT {:?} TF {:?} CHOTA {:?} HOTA {:?} MOTA {:?} IDF1 {:?}",
        compared.len(),
        ours.seg,
        ours.det,
        ours.tra,
        ours.lnk,
        ours.bc(1),
        ours.ct,
        ours.tf,
        ours.association.and_then(|a| a.chota),
        ours.association.and_then(|a| a.hota),
        ours.association.and_then(|a| a.mota),
        ours.association.and_then(|a| a.idf1)
    );
    ours
}

// ---------------------------------------------------------------- tests

#[test]
fn evaluator_fixture() {
    let Some((data, py)) = setup("evaluator_fixture") else { return };
    let d = data.join("evaluator-fixture");
    let s = check("evaluator-fixture", &py, &d.join("GT"), &d.join("res"), true, true);
    assert_eq!(s.tra_frames, 6);
    assert_eq!(s.seg_frames, 6);
}

#[test]
fn hela_result_against_its_damaged_self() {
    let Some((data, py)) = setup("hela_result_against_its_damaged_self") else { return };
    let truth = load(&data.join("Fluo-N2DL-HeLa/01_RES"), "mask", "res_track.txt", 30);
    let tmp = tempfile::tempdir().unwrap();
    let gt = tmp.path().join("01_GT");
    let seg_frames: Vec<usize> = (0..30).step_by(5).collect();
    write_truth(&gt, &truth, true, &seg_frames, None);
    let res = damaged(&truth, 7, |s, rng| {
        shift(s, 1, -2);
        drop_objects(s, rng);
        merge_neighbours(s, rng);
        break_links(s, rng);
    });
    write_result(&tmp.path().join("01_RES"), &res);
    let s = check("HeLa 01_RES damaged", &py, &gt, &tmp.path().join("01_RES"), true, true);
    assert!(s.tra.unwrap() < 0.99 && s.seg.unwrap() < 0.99);
    // The undamaged result scores perfectly.
    write_result(&tmp.path().join("same"), &truth);
    let s = check("HeLa 01_RES itself", &py, &gt, &tmp.path().join("same"), true, true);
    assert_eq!((s.tra, s.seg, s.bc(0)), (Some(1.0), Some(1.0), Some(1.0)));
}

/// SIM+ TRA truth (dense masks), first 40 frames, with one damage at a time.
#[test]
fn simulated_truth_with_damaged_results() {
    let Some((data, py)) = setup("simulated_truth_with_damaged_results") else { return };
    let truth = load(&data.join("Fluo-N2DH-SIM+/01_GT/TRA"), "man_track", "man_track.txt", 40);
    let tmp = tempfile::tempdir().unwrap();
    let gt = tmp.path().join("GT");
    write_truth(&gt, &truth, true, &[], None);
    // A second truth with SEG on every 10th frame.
    let gt_seg = tmp.path().join("01_GT");
    write_truth(&gt_seg, &truth, true, &[0, 10, 20, 30, 39], None);

    type Damage = Box<dyn Fn(&mut Seq, &mut Rng)>;
    type Effect = fn(&Scores) -> bool;
    let cases: Vec<(&str, Damage, Effect)> = vec![
        ("dropped objects", Box::new(drop_objects), |s| s.detection.unwrap().fn_ > 0 && s.links.unwrap().ea > 0),
        ("merged neighbours", Box::new(merge_neighbours), |s| s.detection.unwrap().ns > 0),
        ("split objects", Box::new(split_objects), |s| s.detection.unwrap().fp > 0 && s.detection.unwrap().fn_ > 0),
        ("swapped and relabelled tracks", Box::new(swap_tracks), |s| s.links.unwrap().ed > 0 && s.ct.unwrap() < 1.0),
        ("shifted masks", Box::new(|s, _| shift(s, 4, 3)), |s| s.foreground.unwrap().iou().unwrap() < 0.95),
        ("broken parent links", Box::new(break_links), |s| s.links.unwrap().ec > 0 && s.bc(0).unwrap() < 1.0),
    ];
    for (k, (name, damage, took_effect)) in cases.into_iter().enumerate() {
        let res = damaged(&truth, 100 + k as u64, damage);
        let dir = tmp.path().join(format!("RES{k}"));
        write_result(&dir, &res);
        let s = check(&format!("SIM+ {name}"), &py, &gt, &dir, false, true);
        assert!(took_effect(&s), "SIM+ {name}: the damage left no trace: {s:?}");
        if k % 2 == 0 {
            check(&format!("SIM+ {name}, with SEG"), &py, &gt_seg, &dir, true, true);
        }
    }
}

#[test]
fn psc_silver_truth_segmentation() {
    let Some((data, py)) = setup("psc_silver_truth_segmentation") else { return };
    let st = data.join("PhC-C2DL-PSC/02_ST");
    let res_dir = data.join("PhC-C2DL-PSC/02_RES");
    let s = eval::evaluate(&st, &res_dir, &EvalOptions::default()).unwrap();
    let reference = py_seg_only(&py, &st, &res_dir);
    assert!((s.seg.unwrap() - reference).abs() <= TOL, "SEG {:?} vs py-ctcmetrics {reference}", s.seg);
    assert_eq!((s.tra, s.det, s.seg_frames, s.tra_frames), (None, None, 50, 0));

    // The same result split and shifted: SEG well below 1.
    let result = load(&res_dir, "mask", "res_track.txt", 50);
    let tmp = tempfile::tempdir().unwrap();
    let res = damaged(&result, 3, |s, rng| {
        split_objects(s, rng);
        shift(s, 2, 2);
    });
    let dir = tmp.path().join("02_RES");
    write_result(&dir, &res);
    let s = eval::evaluate(&st, &dir, &EvalOptions::default()).unwrap();
    let reference = py_seg_only(&py, &st, &dir);
    assert!(reference < 0.9);
    assert!((s.seg.unwrap() - reference).abs() <= TOL, "SEG {:?} vs py-ctcmetrics {reference}", s.seg);

    // Object counts equal an independent SciPy implementation.
    let ks = [2, 5, 6, 10, 15, 18];
    let expected = scipy_objects(&py, &st.join("SEG"), &dir, &ks);
    for (k, e) in ks.iter().zip(expected) {
        let c = s.pr_curve.iter().find(|c| c.iou == f64::from(*k) / 20.0).unwrap();
        assert_eq!((c.tp, c.fp, c.fn_), e, "objects at IoU > {}", c.iou);
    }
}

/// Merges and splits make the Hungarian matching below IoU 0.5 matter; the
/// counts must equal SciPy's.
#[test]
fn object_counts_equal_scipy() {
    let Some((data, py)) = setup("object_counts_equal_scipy") else { return };
    let truth = load(&data.join("Fluo-N2DH-SIM+/01_GT/TRA"), "man_track", "man_track.txt", 12);
    let tmp = tempfile::tempdir().unwrap();
    let gt = tmp.path().join("GT");
    write_truth(&gt, &truth, false, &(0..12).collect::<Vec<_>>(), None);
    let res = damaged(&truth, 11, |s, rng| {
        merge_neighbours(s, rng);
        split_objects(s, rng);
        shift(s, 1, 1);
    });
    let dir = tmp.path().join("RES");
    write_result(&dir, &res);
    let s = eval::evaluate(&gt, &dir, &EvalOptions::default()).unwrap();
    let ks: Vec<u32> = (1..20).collect();
    let expected = scipy_objects(&py, &gt.join("SEG"), &dir, &ks);
    for (k, e) in ks.iter().zip(expected) {
        let c = s.pr_curve.iter().find(|c| c.iou == f64::from(*k) / 20.0).unwrap();
        assert_eq!((c.tp, c.fp, c.fn_), e, "objects at IoU > {}", c.iou);
    }
    let low = s.pr_curve.first().unwrap();
    let high = s.pr_curve.last().unwrap();
    assert!(low.tp > high.tp, "the damage should make the curve fall");
}

/// `seq` as though it held the frames `a..=b` alone, numbered from 0: each
/// track cut to the span and moved back by `a`, a parent outside the span
/// dropped. Written out here, apart from `ctc::clip_tracks`, which `evaluate
/// --frames` uses.
fn cut_and_renumbered(seq: &Seq, a: usize, b: usize) -> Seq {
    let kept: Vec<TrackRecord> =
        seq.tracks.iter().filter(|t| t.begin <= b && t.end >= a).map(|t| TrackRecord::new(t.label, t.begin.max(a) - a, t.end.min(b) - a, t.parent)).collect();
    let labels: BTreeSet<u32> = kept.iter().map(|t| t.label).collect();
    let tracks = kept.into_iter().map(|t| if labels.contains(&t.parent) { t } else { TrackRecord { parent: 0, ..t } }).collect();
    Seq { masks: seq.masks[a..=b].to_vec(), tracks }
}

/// `evaluate --frames A-B` on a whole sequence scores what py-ctcmetrics
/// scores on the sequence cut to those frames (and numbered from 0, as
/// py-ctcmetrics reads a sequence): divisions whose mother ends before A,
/// tracks that cross A or B, SEG frames inside the span and out of it.
#[test]
fn a_span_scores_as_py_ctcmetrics_scores_the_sequence_cut_to_it() {
    let Some((data, py)) = setup("a_span_scores_as_py_ctcmetrics_scores_the_sequence_cut_to_it") else { return };
    let truth = load(&data.join("Fluo-N2DL-HeLa/01_RES"), "mask", "res_track.txt", 30);
    let res = damaged(&truth, 11, |s, rng| {
        drop_objects(s, rng);
        merge_neighbours(s, rng);
        break_links(s, rng);
    });
    let tmp = tempfile::tempdir().unwrap();
    let (gt, res_dir) = (tmp.path().join("01_GT"), tmp.path().join("01_RES"));
    let seg_frames: Vec<usize> = (0..30).step_by(3).collect();
    write_truth(&gt, &truth, true, &seg_frames, None);
    write_result(&res_dir, &res);
    for (a, b) in [(7, 22), (0, 12), (16, 29)] {
        let case = format!("HeLa 01_RES damaged, frames {a}-{b}");
        let frames = Some(ctc::FrameRange { first: a, last: Some(b) });
        let ours = eval::evaluate(&gt, &res_dir, &EvalOptions { frames, ..EvalOptions::default() }).unwrap_or_else(|e| panic!("{case}: {e}"));
        let dir = tmp.path().join(format!("cut-{a}-{b}"));
        let cut_seg: Vec<usize> = seg_frames.iter().filter(|&&t| (a..=b).contains(&t)).map(|t| t - a).collect();
        write_truth(&dir.join("01_GT"), &cut_and_renumbered(&truth, a, b), true, &cut_seg, None);
        write_result(&dir.join("01_RES"), &cut_and_renumbered(&res, a, b));
        let reference = py_ctcmetrics(&py, &dir.join("01_GT"), &dir.join("01_RES"), true, true);
        let compared = compare(&case, &reference, &ours);
        expect_keys(&case, &compared, true, true);
        assert_eq!((ours.tra_frames, ours.seg_frames), (b - a + 1, cut_seg.len()), "{case}");
        assert!(ours.tra.unwrap() < 0.99, "{case}: the damage shows");
        eprintln!("{case}: {} measures equal py-ctcmetrics on the cut sequence; TRA {:?} BC(0) {:?}", compared.len(), ours.tra, ours.bc(0));
    }
}
