//! `cellstream track --masks DIR --out RES`: a valid result from any tool's masks, and a clear refusal of bad input.
mod link_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cellstream::ctc::{self, Frame, Mask, TrackRecord};
use cellstream::track::track_masks;
use cellstream::link::LinkConfig;
use link_support::{shuffle_labels, DiskSim, SimConfig};
use ndarray::Array2;

fn cellstream(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cellstream"));
    for a in args {
        c.arg(a);
    }
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A small dividing movie: masks with shuffled labels named like a tool's
/// export (`img_7.tif`, unpadded), and its truth as a CTC `01_GT/TRA` folder.
fn movie(dir: &Path) -> (PathBuf, PathBuf) {
    let mut sim = DiskSim::new(SimConfig {
        shape: (160, 200),
        cells: 5,
        radius: 9.0,
        step: 1.0,
        cycle: Some((12, 20)),
        max_cells: 20,
        seed: 3,
    });
    let (masks, gt) = (dir.join("cellpose"), dir.join("01_GT/TRA"));
    std::fs::create_dir_all(&masks).unwrap();
    std::fs::create_dir_all(&gt).unwrap();
    let mut rng = fastrand::Rng::with_seed(9);
    for t in 0..25 {
        let m = sim.frame();
        ctc::write_mask(&gt.join(format!("man_track{t:03}.tif")), &m).unwrap();
        ctc::write_mask(&masks.join(format!("img_{t}.tif")), &shuffle_labels(&m, &mut rng)).unwrap();
    }
    let tracks: Vec<TrackRecord> = sim.tracks.values().copied().collect();
    ctc::write_tracks(&gt.join("man_track.txt"), &tracks).unwrap();
    (masks, dir.join("01_GT"))
}

#[test]
fn links_a_tools_masks_into_a_valid_ctc_result() {
    let d = tempfile::tempdir().unwrap();
    let (masks, gt) = movie(d.path());
    let res = d.path().join("01_RES");
    let o = cellstream(&[&"track", &"--masks", &masks, &"--out", &res]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("25 frames linked"), "{said}");
    assert!(res.join("mask000.tif").is_file() && res.join("mask024.tif").is_file());
    assert_eq!(ctc::validate_result(&res).unwrap(), vec![]);
    let v = cellstream(&[&"validate", &res]);
    assert!(v.status.success());

    let eval = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pyenv/bin/ctc_evaluate");
    if !eval.is_file() {
        eprintln!("skipped the py-ctcmetrics check: {} is absent (run scripts/setup)", eval.display());
        return;
    }
    let o = Command::new(eval).args(["--valid", "--tra", "--gt"]).arg(&gt).arg("--res").arg(&res).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    println!("{text}");
    assert!(text.lines().any(|l| l.trim() == "Valid: 1.0"), "{text}");
    let tra: f64 = text.lines().find_map(|l| l.strip_prefix("TRA: ")).unwrap().trim().parse().unwrap();
    assert!(tra > 0.99, "TRA {tra}");
}

#[test]
fn options_change_the_linking() {
    let d = tempfile::tempdir().unwrap();
    let (masks, _) = movie(d.path());
    let res = d.path().join("R");
    let o = cellstream(&[&"track", &"--masks", &masks, &"--out", &res, &"--no-divisions", &"--max-gap", &"0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("(0 divisions, 0 resumed"));
    let tracks = ctc::read_tracks(&res.join("res_track.txt")).unwrap();
    assert!(tracks.iter().all(|t| t.parent == 0));
}

/// Expects `track --masks masks --out out` to fail with a message containing
/// `needle` and to write nothing. Runs the command's function (the binary
/// loads libtorch, over a second a start); `cli` runs the binary itself.
fn refuses(masks: &Path, out: &Path, needle: &str, cli: bool) {
    let e = if cli {
        let o = cellstream(&[&"track", &"--masks", &masks, &"--out", &out]);
        assert!(!o.status.success(), "should fail: {needle}");
        stderr(&o)
    } else {
        let e = track_masks(masks, out, LinkConfig::default()).expect_err(needle);
        format!("{e:#}")
    };
    assert!(e.contains(needle), "{e:?} should contain {needle:?}");
    assert!(!out.join("res_track.txt").exists(), "nothing is written");
    if let Some(parent) = out.parent().filter(|p| p.is_dir()) {
        let partial = std::fs::read_dir(parent).unwrap().flatten().any(|e| e.file_name().to_string_lossy().contains(".partial"));
        assert!(!partial, "no temporary folder is left behind");
    }
}

/// `cellstream track --masks MASKS --out OUT FLAGS…`.
fn track_masks_cli(masks: &Path, out: &Path, flags: &[&str]) -> Output {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track", &"--masks", &masks, &"--out", &out];
    args.extend(flags.iter().map(|f| f as &dyn AsRef<std::ffi::OsStr>));
    cellstream(&args)
}

/// [`track_masks_cli`] into `dir/name`, which must succeed: what it
/// printed, and the result folder.
fn track_masks_ok(masks: &Path, dir: &Path, name: &str, flags: &[&str]) -> (String, PathBuf) {
    let out = dir.join(name);
    let o = track_masks_cli(masks, &out, flags);
    assert!(o.status.success(), "{}", stderr(&o));
    (String::from_utf8_lossy(&o.stdout).into_owned(), out)
}

/// The labels of a mask's objects, in increasing order.
fn labels_in(m: &Mask) -> Vec<u32> {
    let mut l: Vec<u32> = m.iter().copied().filter(|&v| v != 0).collect();
    l.sort_unstable();
    l.dedup();
    l
}

fn write(dir: &Path, name: &str, m: &Mask) {
    ctc::write_mask(&dir.join(name), m).unwrap();
}

#[test]
fn bad_input_is_refused_with_the_file_and_the_reason() {
    let d = tempfile::tempdir().unwrap();
    let masks = d.path().join("masks");
    let out = d.path().join("out");
    refuses(&masks, &out, "masks: does not exist", true);
    std::fs::create_dir(&masks).unwrap();
    refuses(&masks, &out, "holds no .tif files", false);

    let m = Array2::from_shape_fn((20, 20), |(y, x)| (y / 10 * 2 + x / 10 + 1) as u32);
    write(&masks, "a_0.tif", &m);
    write(&masks, "a_2.tif", &m);
    refuses(&masks, &out, "frame numbers jump from 0 (a_0.tif) to 2 (a_2.tif)", false);
    write(&masks, "a_1.tif", &Array2::zeros((20, 21)));
    refuses(&masks, &out, "a_1.tif: frame is 21×20 but earlier frames are 20×20", false);
    std::fs::write(masks.join("a_1.tif"), b"not a tiff").unwrap();
    refuses(&masks, &out, "a_1.tif", false);
    ctc::write_frame(&masks.join("a_1.tif"), &Frame::F32(Array2::from_elem((20, 20), 0.5))).unwrap();
    refuses(&masks, &out, "a_1.tif: is a float image with value 0.5", false);
    std::fs::write(masks.join("notes.tif"), b"").unwrap();
    refuses(&masks, &out, "notes.tif: has no frame number in its name", false);
    std::fs::remove_file(masks.join("notes.tif")).unwrap();
    write(&masks, "a_1.tif", &m);

    refuses(&masks, &d.path().join("02_GT/TRA"), "truth folder", false);
    refuses(&masks, &masks, "is the input folder", false);
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("thesis.docx"), b"precious").unwrap();
    refuses(&masks, &out, "thesis.docx", false);
    assert!(out.join("thesis.docx").is_file());

    let fine = d.path().join("fine");
    let o = cellstream(&[&"track", &"--masks", &masks, &"--out", &fine]);
    assert!(o.status.success(), "the repaired folder links: {}", stderr(&o));
    // One mask of a result, linked into that result's own folder, would
    // replace the rest of it: refused, and the result is as it was.
    let before = std::fs::read_dir(&fine).unwrap().count();
    let o = cellstream(&[&"track", &"--masks", &fine.join("mask000.tif"), &"--out", &fine]);
    assert!(!o.status.success() && stderr(&o).contains("holds the masks read"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&fine).unwrap().count(), before);
    assert!(fine.join("res_track.txt").is_file() && fine.join("mask002.tif").is_file());
}

#[test]
fn more_tracks_than_16_bit_labels_hold_is_refused_cleanly() {
    let d = tempfile::tempdir().unwrap();
    let masks = d.path().join("masks");
    std::fs::create_dir(&masks).unwrap();
    // 22 500 isolated one-pixel objects a frame, on a lattice shifted every
    // frame so that none links: 67 500 tracks over three frames.
    for t in 0..3usize {
        let m = Array2::from_shape_fn((300, 300), |(y, x)| {
            ((y + t) % 2 == 0 && (x + t) % 2 == 0) as u32 * (1 + (y / 2 * 150 + x / 2) as u32)
        });
        write(&masks, &format!("m{t}.tif"), &m);
    }
    let cfg = LinkConfig { max_displacement: 0.1, ..LinkConfig::default() };
    let e = track_masks(&masks, &d.path().join("R"), cfg).unwrap_err();
    // The largest label of the frame is named (67 500 tracks in all).
    assert!(format!("{e:#}").contains("R/mask002.tif: label 67500 does not fit the 16-bit CTC mask format"), "{e:#}");
    assert!(!d.path().join("R").exists());
}

#[test]
fn track_needs_masks_or_a_sequence() {
    let o = cellstream(&[&"track", &"--out", &"x"]);
    assert_eq!(o.status.code(), Some(2), "a usage error");
    assert!(stderr(&o).contains("<SEQUENCE|STACK.tif|--masks <DIR|STACK.tif>>"), "{}", stderr(&o));
    let o = cellstream(&[&"track", &"01", &"--out", &"x"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("01: does not exist"), "{}", stderr(&o));
    let o = cellstream(&[&"track", &"--masks", &"m", &"--out", &"x", &"--max-displacement", &"0"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--max-displacement must be a positive number"), "{}", stderr(&o));
}

/// Linking the truth masks of simulated dense colonies (rod-shaped cells, all
/// touching, dividing every 5–16 frames): divisions are found at BC(0) ≥ 0.9
/// and tracking is near perfect.
#[test]
fn dense_colony_divisions_reach_bc0_of_0_9() {
    let d = tempfile::tempdir().unwrap();
    for seed in ["1", "2"] {
        let sim = d.path().join(format!("colony{seed}"));
        let o = cellstream(&[&"simulate", &"--modality", &"colony", &"--seed", &seed, &"--out", &sim]);
        assert!(o.status.success(), "{}", stderr(&o));
        let res = sim.join("01_RES");
        let o = cellstream(&[&"track", &"-q", &"--masks", &sim.join("01_GT/SEG"), &"--out", &res]);
        assert!(o.status.success(), "{}", stderr(&o));
        let json = sim.join("scores.json");
        let o = cellstream(&[&"evaluate", &"--gt", &sim.join("01_GT"), &"--res", &res, &"--json", &json]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let (bc, tra, lnk, divisions) = (v["BC(0)"].as_f64().unwrap(), v["TRA"].as_f64().unwrap(), v["LNK"].as_f64().unwrap(), v["gt_divisions"].as_u64().unwrap());
        println!("colony seed {seed}: {divisions} divisions, BC(0) {bc:.4}, TRA {tra:.5}, LNK {lnk:.5}");
        assert!(divisions >= 100, "the colony should divide often, has {divisions} divisions");
        assert!(bc >= 0.9, "colony seed {seed}: BC(0) {bc}");
        assert!(tra >= 0.99, "colony seed {seed}: TRA {tra}");
    }
}

#[test]
fn masks_lose_their_edge_cells_with_exclude_on_edges_and_segmenter_flags_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let (full, _) = movie(d.path());
    // The middle band of the movie, so that the frame's new edges cut cells.
    let masks = d.path().join("band");
    std::fs::create_dir_all(&masks).unwrap();
    for t in 0..25 {
        let m = ctc::read_mask(&full.join(format!("img_{t}.tif"))).unwrap();
        ctc::write_mask(&masks.join(format!("img_{t}.tif")), &m.slice(ndarray::s![.., 60..140]).to_owned()).unwrap();
    }
    let res = d.path().join("inner");
    let o = cellstream(&[&"track", &"--masks", &masks, &"--out", &res, &"-q", &"--exclude-on-edges"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(ctc::validate_result(&res).unwrap(), vec![]);
    assert!(std::fs::read_to_string(res.join("cellstream.toml")).unwrap().contains("exclude_on_edges = true"));
    let mut cut = 0;
    for t in 0..25 {
        let input = ctc::read_mask(&masks.join(format!("img_{t}.tif"))).unwrap();
        let out = ctc::read_mask(&res.join(format!("mask{t:03}.tif"))).unwrap();
        let edge = cellstream::post::border_labels(input.view(), 0);
        cut += edge.len();
        for (&i, &o) in input.iter().zip(out.iter()) {
            assert_eq!(o != 0, i != 0 && !edge.contains(&i), "frame {t}: exactly the uncut cells stay");
        }
    }
    assert!(cut > 0, "the movie has cells on its edge");
    for flag in [&["--model", "fluo"][..], &["--tta"], &["--min-area", "5"], &["--segmenter", "classical"]] {
        let out = d.path().join("refused");
        let o = track_masks_cli(&masks, &out, flag);
        assert!(!o.status.success() && stderr(&o).contains("cannot be used with") && stderr(&o).contains(flag[0]), "{flag:?}: {}", stderr(&o));
        assert!(!out.exists());
    }
}

#[test]
fn split_merges_parts_two_cells_a_tool_merged_for_two_frames() {
    // Two round cells touching side by side, moving right a pixel a frame;
    // in frames 2 and 3 the tool gave them one label.
    let d = tempfile::tempdir().unwrap();
    let masks = d.path().join("masks");
    std::fs::create_dir_all(&masks).unwrap();
    let centre = |t: usize, cell: usize| (15.0, 10.0 + t as f64 + 10.0 * cell as f64);
    let inside = |(y, x): (usize, usize), (cy, cx): (f64, f64), r: f64| (y as f64 - cy).powi(2) + (x as f64 - cx).powi(2) <= r * r;
    for t in 0..6 {
        let mut m = Mask::zeros((30, 40));
        for ((y, x), v) in m.indexed_iter_mut() {
            if inside((y, x), centre(t, 0), 5.2) {
                *v = 1;
            } else if inside((y, x), centre(t, 1), 5.2) {
                *v = if (2..4).contains(&t) { 1 } else { 2 };
            }
        }
        write(&masks, &format!("img_{t}.tif"), &m);
    }
    let run = |out: &Path, flags: &[&str]| {
        let o = track_masks_cli(&masks, out, flags);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(ctc::validate_result(out).unwrap(), vec![]);
        (String::from_utf8_lossy(&o.stdout).into_owned(), std::fs::read_to_string(out.join("cellstream.toml")).unwrap())
    };
    let mask = |out: &Path, t: usize| ctc::read_mask(&out.join(format!("mask{t:03}.tif"))).unwrap();
    // As they are (the default with --masks): one object in frames 2 and 3.
    let kept = d.path().join("kept");
    let (_, record) = run(&kept, &[]);
    assert!(record.contains("split_merges = false") && record.contains("merges_split = 0"), "{record}");
    assert_eq!(labels_in(&mask(&kept, 2)).len(), 1);
    // Split by the frame before: two cells in every frame, two tracks from start to end.
    let split = d.path().join("split");
    let (said, record) = run(&split, &["--split-merges", "on"]);
    assert!(said.contains("2 merged objects split"), "{said}");
    assert!(record.contains("split_merges = true") && record.contains("merges_split = 2"), "{record}");
    for t in 0..6 {
        let m = mask(&split, t);
        assert_eq!(labels_in(&m), vec![1, 2], "frame {t}");
        // Each cell is one object up to a pixel of where they meet.
        for cell in 0..2 {
            let label = m[[15, centre(t, cell).1 as usize]];
            assert!(m.indexed_iter().all(|(p, &v)| !inside(p, centre(t, cell), 4.0) || v == label), "frame {t}\n{m:?}");
        }
    }
    let tracks = ctc::read_tracks(&split.join("res_track.txt")).unwrap();
    assert_eq!(tracks.iter().map(|r| (r.begin, r.end, r.parent)).collect::<Vec<_>>(), vec![(0, 5, 0), (0, 5, 0)]);
    // A bad value is refused before anything is written.
    let refused = d.path().join("refused");
    let o = track_masks_cli(&masks, &refused, &["--split-merges", "yes"]);
    assert!(!o.status.success() && stderr(&o).contains("neither on nor off"), "{}", stderr(&o));
    assert!(!refused.exists());
}

#[test]
fn prune_branches_drops_a_piece_of_a_cell_cut_in_two_for_two_frames() {
    // One round cell moving right a pixel a frame over 10 frames; in frames
    // 4 and 5 the tool cut it in two halves (labels 1 and 2), which the
    // linker reads as a division whose right daughter vanishes at frame 6.
    let d = tempfile::tempdir().unwrap();
    let masks = d.path().join("masks");
    std::fs::create_dir_all(&masks).unwrap();
    let centre = |t: usize| (20.0, 15.0 + t as f64);
    for t in 0..10 {
        let mut m = Mask::zeros((40, 40));
        let (cy, cx) = centre(t);
        for ((y, x), v) in m.indexed_iter_mut() {
            if (y as f64 - cy).powi(2) + (x as f64 - cx).powi(2) <= 36.0 {
                *v = if (4..6).contains(&t) && x as f64 > cx { 2 } else { 1 };
            }
        }
        write(&masks, &format!("img_{t}.tif"), &m);
    }
    let run = |out: &Path, flags: &[&str]| track_masks_cli(&masks, out, flags);
    let tracks = |out: &Path| ctc::read_tracks(&out.join("res_track.txt")).unwrap();
    let labels = |out: &Path, t: usize| {
        let m = ctc::read_mask(&out.join(format!("mask{t:03}.tif"))).unwrap();
        (labels_in(&m), m.iter().filter(|&&v| v != 0).count())
    };
    // As linked: a division at frame 4 with a daughter of two frames.
    let plain = d.path().join("plain");
    let o = run(&plain, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let brief: Vec<TrackRecord> = tracks(&plain).into_iter().filter(|r| r.parent != 0 && r.end - r.begin < 2).collect();
    assert_eq!(brief.len(), 1, "{:?}", tracks(&plain));
    assert!(String::from_utf8_lossy(&o.stdout).contains("(1 division,"), "{}", String::from_utf8_lossy(&o.stdout));
    // Pruned: the piece is gone from the masks and the lineage; the rest is as linked.
    let pruned = d.path().join("pruned");
    let o = run(&pruned, &["--prune-branches", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("(0 divisions") && said.contains("1 brief branch pruned"), "{said}");
    assert_eq!(ctc::validate_result(&pruned).unwrap(), vec![]);
    let mut want = tracks(&plain);
    want.retain(|r| r.label != brief[0].label);
    assert_eq!(tracks(&pruned), want);
    for t in 0..10 {
        let ((before, area_before), (after, area_after)) = (labels(&plain, t), labels(&pruned, t));
        if (4..6).contains(&t) {
            assert_eq!(after, before.iter().copied().filter(|&l| l != brief[0].label).collect::<Vec<_>>(), "frame {t}");
            assert!(area_after < area_before && area_after * 3 > area_before, "frame {t}: {area_after} of {area_before} px kept");
        } else {
            assert_eq!((after, area_after), (before, area_before), "frame {t}");
        }
    }
    let record = std::fs::read_to_string(pruned.join("cellstream.toml")).unwrap();
    assert!(record.contains("prune_branches = 3") && record.contains("branches_pruned = 1"), "{record}");
    // With --stats, the tables measure the masks as published: without the piece.
    let with_stats = d.path().join("with_stats");
    let csv = d.path().join("cells.csv");
    let o = run(&with_stats, &["--prune-branches", "3", "--stats", &csv.to_string_lossy()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let objects = std::fs::read_to_string(d.path().join("cells.objects.csv")).unwrap();
    let rows: Vec<Vec<&str>> = objects.lines().skip(1).map(|l| l.split(',').collect()).collect();
    for t in 0..10 {
        let (labels_here, area) = labels(&pruned, t);
        let listed: Vec<u32> = rows.iter().filter(|r| r[0] == t.to_string()).map(|r| r[1].parse().unwrap()).collect();
        let listed_area: usize = rows.iter().filter(|r| r[0] == t.to_string()).map(|r| r[2].parse::<usize>().unwrap()).sum();
        assert_eq!((listed, listed_area), (labels_here, area), "frame {t}: {objects}");
    }
    let frames = std::fs::read_to_string(&csv).unwrap();
    assert!(frames.lines().nth(5).is_some_and(|l| l.starts_with("4,1,")), "{frames}");
}

/// A round mother (frames 0–3); in frame 4 the tool drew her two
/// daughters as one long object; from frame 5 they lie apart, moving off a
/// pixel a frame, the right one until frame `right_until`. The daughters were
/// born in frame 4.
fn late_division(dir: &Path, right_until: usize) -> PathBuf {
    let masks = dir.join("masks");
    std::fs::create_dir_all(&masks).unwrap();
    let disk = |m: &mut Mask, cx: f64, r: f64, label: u32| {
        for ((y, x), v) in m.indexed_iter_mut() {
            if (y as f64 - 20.0).powi(2) + (x as f64 - cx).powi(2) <= r * r {
                *v = label;
            }
        }
    };
    for t in 0..10 {
        let mut m = Mask::zeros((40, 48));
        match t {
            0..4 => disk(&mut m, 24.0, 7.0, 1),
            4 => {
                disk(&mut m, 19.5, 5.0, 1);
                disk(&mut m, 28.5, 5.0, 1);
            }
            _ => {
                let off = 4.5 + (t - 4) as f64;
                disk(&mut m, 24.0 - off, 5.0, 1);
                if t <= right_until {
                    disk(&mut m, 24.0 + off, 5.0, 2);
                }
            }
        }
        write(&masks, &format!("img_{t}.tif"), &m);
    }
    masks
}

#[test]
fn a_division_a_frame_late_moves_back_where_the_daughters_were_born_touching() {
    let d = tempfile::tempdir().unwrap();
    let masks = late_division(d.path(), 9);
    let run = |name: &str, flags: &[&str]| track_masks_ok(&masks, d.path(), name, flags);
    let tracks = |out: &Path| ctc::read_tracks(&out.join("res_track.txt")).unwrap();
    let mask = |out: &Path, t: usize| ctc::read_mask(&out.join(format!("mask{t:03}.tif"))).unwrap();
    let division = |out: &Path| {
        let t = tracks(out);
        let daughters: Vec<&TrackRecord> = t.iter().filter(|r| r.parent != 0).collect();
        assert_eq!(daughters.len(), 2, "{t:?}");
        let mother = t.iter().find(|r| r.label == daughters[0].parent).unwrap();
        (mother.end, daughters[0].begin, daughters[1].begin)
    };

    // As linked, the mother ends in frame 4 and the daughters begin in 5.
    let (_, off) = run("off", &["--backdate-divisions", "off"]);
    assert_eq!(division(&off), (4, 5, 5));
    assert_eq!(labels_in(&mask(&off, 4)).len(), 1);

    // By default the division moves back: frame 4's object is split between the daughters.
    let (said, on) = run("on", &[]);
    assert!(said.contains("1 division moved a frame earlier"), "{said}");
    assert_eq!(ctc::validate_result(&on).unwrap(), vec![]);
    assert_eq!(division(&on), (3, 4, 4));
    let (m4, m5) = (mask(&on, 4), mask(&on, 5));
    assert_eq!(labels_in(&m4), labels_in(&m5), "frame 4 holds the daughters");
    assert_eq!(m4.iter().filter(|&&l| l != 0).count(), mask(&off, 4).iter().filter(|&&l| l != 0).count(), "no pixel is lost");
    // Each half of the long object goes to the daughter on its side.
    assert_eq!((m4[[20, 17]], m4[[20, 31]]), (m5[[20, 17]], m5[[20, 31]]));
    for t in (0..10).filter(|&t| t != 4) {
        assert_eq!(mask(&on, t).mapv(|l| l != 0), mask(&off, t).mapv(|l| l != 0), "frame {t}");
    }
    let record = std::fs::read_to_string(on.join("cellstream.toml")).unwrap();
    assert!(record.contains("backdate_divisions = true") && record.contains("divisions_backdated = 1"), "{record}");

    // The frames leave the linker backdated, so --stats counts the
    // daughters in frame 4 as well.
    let csv = d.path().join("cells.csv");
    let (_, with_stats) = run("stats", &["--stats", &csv.to_string_lossy()]);
    assert_eq!(division(&with_stats), (3, 4, 4));
    let counts = std::fs::read_to_string(&csv).unwrap();
    let frame4 = counts.lines().find(|l| l.starts_with("4,")).unwrap_or_else(|| panic!("{counts}"));
    assert!(frame4.starts_with("4,2,"), "two cells in frame 4: {counts}");
}

#[test]
fn a_backdated_division_that_pruning_takes_apart_keeps_its_frames_as_linked() {
    // The right daughter is gone after two frames: --prune-branches 3 takes
    // the division apart, and the mother gets her frame-4 object back.
    let d = tempfile::tempdir().unwrap();
    let masks = late_division(d.path(), 6);
    let run = |name: &str, flags: &[&str]| track_masks_ok(&masks, d.path(), name, flags);
    let (said, backdated) = run("backdated", &["--prune-branches", "3"]);
    assert!(said.contains("1 brief branch pruned") && !said.contains("moved a frame earlier"), "{said}");
    let (_, plain) = run("plain", &["--prune-branches", "3", "--backdate-divisions", "off"]);
    assert_eq!(ctc::validate_result(&backdated).unwrap(), vec![]);
    assert_eq!(ctc::read_tracks(&backdated.join("res_track.txt")).unwrap(), ctc::read_tracks(&plain.join("res_track.txt")).unwrap());
    for t in 0..10 {
        let name = format!("mask{t:03}.tif");
        assert_eq!(ctc::read_mask(&backdated.join(&name)).unwrap(), ctc::read_mask(&plain.join(&name)).unwrap(), "{name}");
    }
    let record = std::fs::read_to_string(backdated.join("cellstream.toml")).unwrap();
    assert!(record.contains("divisions_backdated = 0") && record.contains("branches_pruned = 1"), "{record}");
    // Without pruning, the same masks have the division moved back.
    let (said, _) = run("unpruned", &[]);
    assert!(said.contains("1 division moved a frame earlier"), "{said}");
}
