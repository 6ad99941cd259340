//! The `simulate` command: determinism, truth validity (ours and py-ctcmetrics'),
//! difficulty on the default settings, reading back, and refused arguments.
use std::path::{Path, PathBuf};
use std::process::Command;

use cellstream::ctc::{self, Frame, Sequence, Truth};
use cellstream::simulate::{simulate_all, Modality, SimConfig, SimStats};

const BIN: &str = env!("CARGO_BIN_EXE_cellstream");

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().expect("run cellstream")
}

fn sim(out: &Path, modality: &str, frames: usize, w: usize, h: usize, seed: u64) {
    let o = run(&[
        "simulate", "--out", out.to_str().unwrap(), "--modality", modality,
        "--frames", &frames.to_string(), "--width", &w.to_string(), "--height", &h.to_string(),
        "--seed", &seed.to_string(),
    ]);
    assert!(o.status.success(), "simulate failed: {}", String::from_utf8_lossy(&o.stderr));
}

/// Every file under `dir`, relative path → bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Copies the TRA truth as a result folder (maskTTT.tif + res_track.txt).
fn truth_as_result(seq: &Path) -> PathBuf {
    let res = seq.join("01_RES");
    std::fs::create_dir(&res).unwrap();
    let tra = seq.join("01_GT/TRA");
    for e in std::fs::read_dir(&tra).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if let Some(rest) = name.strip_prefix("man_track").filter(|r| r.ends_with(".tif")) {
            std::fs::copy(tra.join(&name), res.join(format!("mask{rest}"))).unwrap();
        }
    }
    std::fs::copy(tra.join("man_track.txt"), res.join("res_track.txt")).unwrap();
    res
}

const QUICK: &[(&str, usize, usize, usize)] = &[
    ("fluo", 12, 64, 48),
    ("fluo", 20, 100, 90),
    ("phase", 15, 80, 96),
    ("phase", 12, 32, 32),
    ("colony", 25, 96, 64),
    ("colony", 12, 40, 120),
];

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let d = tempfile::tempdir().unwrap();
    for m in ["fluo", "phase", "colony"] {
        let (a, b, c) = (d.path().join(format!("{m}a")), d.path().join(format!("{m}b")), d.path().join(format!("{m}c")));
        sim(&a, m, 6, 64, 64, 7);
        sim(&b, m, 6, 64, 64, 7);
        sim(&c, m, 6, 64, 64, 8);
        let (fa, fb, fc) = (files(&a), files(&b), files(&c));
        assert_eq!(fa.len(), 6 * 3 + 1, "{m}: 6 raw frames, 6 SEG, 6 TRA masks and man_track.txt");
        assert!(fa == fb, "{m}: the same seed must give identical files");
        let differ = fa.iter().zip(&fc).filter(|(x, y)| x.1 != y.1).count();
        assert!(differ >= 6, "{m}: another seed must give other frames ({differ} files differ)");
    }
}

#[test]
fn truth_is_a_valid_result_for_many_seeds_and_sizes() {
    let d = tempfile::tempdir().unwrap();
    for (i, &(m, frames, w, h)) in QUICK.iter().enumerate() {
        for seed in [1, 2, 3] {
            let seq = d.path().join(format!("{m}-{i}-{seed}"));
            sim(&seq, m, frames, w, h, seed);
            let res = truth_as_result(&seq);
            let v = ctc::validate_result(&res).unwrap();
            assert!(v.is_empty(), "{m} {w}×{h} seed {seed}: {v:#?}");
            // Each label is one 4-connected piece.
            for t in 0..frames {
                let mask = ctc::read_mask(&res.join(format!("mask{t:03}.tif"))).unwrap();
                for l in mask.iter().copied().filter(|&l| l != 0).collect::<std::collections::BTreeSet<_>>() {
                    assert_eq!(pieces(&mask, l), 1, "{m} seed {seed} frame {t} label {l}");
                }
            }
        }
    }
}

fn pieces(mask: &ndarray::Array2<u32>, label: u32) -> usize {
    let (h, w) = mask.dim();
    let mut seen = ndarray::Array2::<bool>::from_elem((h, w), false);
    let mut n = 0;
    for y in 0..h {
        for x in 0..w {
            if mask[[y, x]] != label || seen[[y, x]] {
                continue;
            }
            n += 1;
            let mut stack = vec![(y, x)];
            seen[[y, x]] = true;
            while let Some((py, px)) = stack.pop() {
                for (qy, qx) in [(py.wrapping_sub(1), px), (py + 1, px), (py, px.wrapping_sub(1)), (py, px + 1)] {
                    if qy < h && qx < w && mask[[qy, qx]] == label && !seen[[qy, qx]] {
                        seen[[qy, qx]] = true;
                        stack.push((qy, qx));
                    }
                }
            }
        }
    }
    n
}

#[test]
fn py_ctcmetrics_finds_the_truth_valid_with_tra_one() {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pyenv/bin/ctc_evaluate");
    if !py.exists() {
        eprintln!("skipped: {} is absent (run scripts/setup)", py.display());
        return;
    }
    let d = tempfile::tempdir().unwrap();
    for (i, &(m, frames, w, h)) in QUICK.iter().enumerate().step_by(2) {
        let seq = d.path().join(format!("{m}-{i}"));
        sim(&seq, m, frames, w, h, 11);
        let res = truth_as_result(&seq);
        let o = Command::new(&py)
            .args(["--gt", seq.join("01_GT").to_str().unwrap(), "--res", res.to_str().unwrap(), "--valid", "--tra"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{m}: {text}{}", String::from_utf8_lossy(&o.stderr));
        let value = |key: &str| -> f64 {
            let line = text.lines().find(|l| l.starts_with(&format!("{key}:"))).unwrap_or_else(|| panic!("{m}: no {key} in {text}"));
            line[key.len() + 1..].trim().parse().unwrap()
        };
        assert_eq!(value("Valid"), 1.0, "{m}: {text}");
        assert_eq!(value("TRA"), 1.0, "{m}: {text}");
    }
}

#[test]
fn default_settings_are_hard_enough() {
    for m in [Modality::Fluo, Modality::Phase, Modality::Colony] {
        for seed in [1, 2, 3] {
            let cfg = SimConfig { seed, ..SimConfig::new(m) };
            let (frames, tracks) = simulate_all(&cfg).unwrap();
            let mut s = SimStats::default();
            for f in &frames {
                s.add_mask(&f.mask);
            }
            s.set_tracks(&tracks);
            assert!(s.division_rate() >= 1.0 / 24.0, "{m} seed {seed}: {s}");
            assert!(s.touching_fraction() >= 0.10, "{m} seed {seed}: {s}");
        }
    }
}

#[test]
fn cells_sets_the_initial_count() {
    let d = tempfile::tempdir().unwrap();
    for (m, k) in [("fluo", 3), ("phase", 40), ("colony", 2)] {
        let out = d.path().join(m);
        let r = run(&["simulate", "--out", out.to_str().unwrap(), "--modality", m, "--frames", "1", "--cells", &k.to_string()]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let mask = ctc::read_mask(&out.join("01_GT/SEG/man_seg000.tif")).unwrap();
        let n = mask.iter().copied().filter(|&l| l != 0).collect::<std::collections::HashSet<_>>().len();
        // Cells placed across the border may be cut to slivers and dropped.
        assert!(n <= k && n * 10 >= k * 7, "{m}: {n} cells for --cells {k}");
    }
}

#[test]
fn colony_divides_hundreds_of_times() {
    let cfg = SimConfig { frames: 60, width: 320, height: 320, ..SimConfig::new(Modality::Colony) };
    let (_, tracks) = simulate_all(&cfg).unwrap();
    let divisions = cellstream::simulate::measure::division_count(&tracks);
    assert!(divisions >= 100, "{divisions} divisions from 8 founders in 60 frames");
}

#[test]
fn sequence_reads_back_with_the_ctc_reader() {
    let d = tempfile::tempdir().unwrap();
    for (m, bits16) in [("fluo", true), ("phase", false), ("colony", false)] {
        let seq = d.path().join(m);
        sim(&seq, m, 5, 72, 40, 3);
        let s = Sequence::open(&seq.join("01")).unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(s.truth_dirs(), vec![seq.join("01_GT")]);
        for f in s.frames() {
            let (_, frame) = f.unwrap();
            assert_eq!(frame.dim(), (40, 72));
            assert_eq!(matches!(frame, Frame::U16(_)), bits16, "{m}");
            assert_eq!(matches!(frame, Frame::U8(_)), !bits16, "{m}");
        }
        let truth = Truth::open(&seq.join("01_GT")).unwrap();
        assert_eq!(truth.seg.as_ref().unwrap().len(), 5);
        let (tra, tracks) = truth.tra.unwrap();
        assert_eq!(tra.len(), 5);
        assert!(!tracks.is_empty());
        // SEG and TRA hold the same masks.
        for t in 0..5 {
            assert_eq!(
                ctc::read_mask(truth.seg.as_ref().unwrap().path(t).unwrap()).unwrap(),
                ctc::read_mask(tra.path(t).unwrap()).unwrap()
            );
        }
    }
}

#[test]
fn bad_arguments_are_refused_with_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("s");
    let o = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["--frames", "0"], "--frames must be at least 1"),
        (vec!["--width", "0"], "too small"),
        (vec!["--height", "0"], "too small"),
        (vec!["--modality", "brightfield"], "brightfield"),
        (vec!["--frames", "-3"], "-3"),
    ] {
        let mut a = vec!["simulate", "--out", o];
        a.extend(args.iter().copied());
        let r = run(&a);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{args:?} should fail");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: nothing may be written");
    }
    // Output inside a truth folder.
    let gt = d.path().join("01_GT").join("sim");
    let r = run(&["simulate", "--out", gt.to_str().unwrap(), "--frames", "2"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("truth folder"), "{err}");
    assert!(!d.path().join("01_GT").exists());
    // An existing sequence is never overwritten.
    std::fs::create_dir_all(out.join("01")).unwrap();
    std::fs::write(out.join("01/t000.tif"), b"real data").unwrap();
    let r = run(&["simulate", "--out", o, "--frames", "2"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(out.join("01/t000.tif")).unwrap(), b"real data");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "no temporary folder left");
}

#[test]
fn an_output_path_that_is_a_file_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("file");
    std::fs::write(&f, b"x").unwrap();
    let r = run(&["simulate", "--out", f.to_str().unwrap(), "--frames", "2"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("not a folder"), "{err}");
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
}

#[test]
fn committed_sample_is_what_the_readme_command_makes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences");
    for m in [Modality::Fluo, Modality::Phase, Modality::Colony] {
        let dir = root.join(m.to_string());
        let cfg = SimConfig { frames: 40, width: 256, height: 256, seed: 1, ..SimConfig::new(m) };
        let (frames, tracks) = simulate_all(&cfg).unwrap();
        assert_eq!(ctc::read_tracks(&dir.join("01_GT/TRA/man_track.txt")).unwrap(), tracks, "{m}: regenerate sequences/ (see its README)");
        for f in &frames {
            let raw = ctc::read_frame(&dir.join(format!("01/t{:03}.tif", f.t))).unwrap();
            assert!(raw == f.raw, "{m} frame {}: regenerate sequences/ (see its README)", f.t);
            assert_eq!(ctc::read_mask(&dir.join(format!("01_GT/SEG/man_seg{:03}.tif", f.t))).unwrap(), f.mask);
            assert_eq!(ctc::read_mask(&dir.join(format!("01_GT/TRA/man_track{:03}.tif", f.t))).unwrap(), f.mask);
        }
    }
}

/// The summary: no division rate without divisions; a note where fewer
/// cells fit than were asked for.
#[test]
fn the_summary_says_what_was_made() {
    let d = tempfile::tempdir().unwrap();
    let o = run(&["simulate", "--modality", "colony", "--width", "64", "--height", "64", "--cells", "500", "--frames", "1", "--out", d.path().join("s").to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("0 divisions,") && !out.contains("one per"), "{out}");
    assert!(err.contains("of the 500 cells asked for fit into the first 64×64 frame"), "{err}");
}
