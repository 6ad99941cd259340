//! `cellstream evaluate` from the command line: outputs, truth of any kind, and errors that name the file.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cellstream::ctc::{self, Mask, TrackRecord};
use ndarray::{array, Array2};

fn write_masks(dir: &Path, prefix: &str, masks: &[Mask]) {
    std::fs::create_dir_all(dir).unwrap();
    for (t, m) in masks.iter().enumerate() {
        ctc::write_mask(&dir.join(format!("{prefix}{t:03}.tif")), m).unwrap();
    }
}

/// Truth: object 1 in frames 0-1 divides into 2 and 3 in frame 2.
fn truth_masks() -> Vec<Mask> {
    vec![
        array![[1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]],
        array![[0, 1, 1, 0, 0, 0], [0, 1, 1, 0, 0, 0]],
        array![[2, 2, 0, 0, 3, 3], [2, 2, 0, 0, 3, 3]],
    ]
}

fn truth_tracks() -> Vec<TrackRecord> {
    vec![TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 2, 1), TrackRecord::new(3, 2, 2, 1)]
}

/// Writes a truth folder with TRA and/or SEG (SEG on frames 0 and 2).
fn write_truth(dir: &Path, tra: bool, seg: bool) {
    let masks = truth_masks();
    if tra {
        write_masks(&dir.join("TRA"), "man_track", &masks);
        ctc::write_tracks(&dir.join("TRA/man_track.txt"), &truth_tracks()).unwrap();
    }
    if seg {
        std::fs::create_dir_all(dir.join("SEG")).unwrap();
        for t in [0, 2] {
            ctc::write_mask(&dir.join(format!("SEG/man_seg{t:03}.tif")), &masks[t]).unwrap();
        }
    }
}

/// The truth plus a one-pixel false positive (label 9) in frame 1.
fn write_result(dir: &Path) {
    let mut masks = truth_masks();
    masks[1][[0, 5]] = 9;
    write_masks(dir, "mask", &masks);
    let mut tracks = truth_tracks();
    tracks.push(TrackRecord::new(9, 1, 1, 0));
    ctc::write_tracks(&dir.join("res_track.txt"), &tracks).unwrap();
}

/// A temporary folder holding a truth (TRA and/or SEG) and the result of `write_result`.
fn folders(gt_name: &str, res_name: &str, tra: bool, seg: bool) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let (gt, res) = (d.path().join(gt_name), d.path().join(res_name));
    write_truth(&gt, tra, seg);
    write_result(&res);
    (d, gt, res)
}

fn evaluate(args: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cellstream"));
    cmd.arg("evaluate");
    for a in args {
        cmd.arg(a);
    }
    cmd.output().unwrap()
}

fn run(gt: &Path, res: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<PathBuf> = vec!["--gt".into(), gt.into(), "--res".into(), res.into()];
    args.extend(extra.iter().map(PathBuf::from));
    evaluate(&args.iter().map(|p| p.as_path()).collect::<Vec<_>>())
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn line<'a>(text: &'a str, measure: &str) -> &'a str {
    text.lines().find(|l| l.split_whitespace().next() == Some(measure)).unwrap_or_else(|| panic!("no {measure} in\n{text}"))
}

#[test]
fn writes_table_json_and_csv() {
    let (d, gt, res) = folders("01_GT", "01_RES", true, true);
    let (json, csv) = (d.path().join("s.json"), d.path().join("s.csv"));
    let o = run(&gt, &res, &["--json", json.to_str().unwrap(), "--csv", csv.to_str().unwrap(), "--iou", "0.3,0.6"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // 4 truth objects, one false positive: DET = 1 - 1/40; one FP in AOGM.
    assert!(line(&out, "DET").ends_with("0.975000"), "{out}");
    assert!(line(&out, "SEG").ends_with("1.000000"), "{out}");
    assert!(line(&out, "FP").ends_with(" 1"), "{out}");
    assert!(line(&out, "BC(0)").ends_with("1.000000"), "{out}");

    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for k in ["DET", "SEG", "TRA", "LNK", "AOGM", "NS", "FN", "FP", "ED", "EA", "EC", "CT", "TF", "foreground_iou", "dice"] {
        assert!(v[k].is_number(), "{k} in {v}");
    }
    for i in 0..4 {
        assert_eq!(v[format!("BC({i})")], 1.0);
    }
    assert_eq!(v["DET"], 0.975);
    assert_eq!(v["AOGM"], 1.0);
    // BIO(i): the mean of CT, TF, BC(i) (CCA: no track born by a division divides); OP_CLB(i) = (LNK + BIO(i)) / 2.
    for i in 0..4 {
        let bio = (v["CT"].as_f64().unwrap() + v["TF"].as_f64().unwrap() + 1.0) / 3.0;
        assert!(v["CCA"].is_null());
        assert!((v[format!("BIO({i})")].as_f64().unwrap() - bio).abs() < 1e-12);
        assert!((v[format!("OP_CLB({i})")].as_f64().unwrap() - (v["LNK"].as_f64().unwrap() + bio) / 2.0).abs() < 1e-12);
    }
    // 4 vertices, 3 edges (one continuation, two parent links).
    assert_eq!(v["AOGM_0"], 40.0 + 4.5);
    // CT: 3 of 3 truth tracks found exactly, result has 4 tracks: 2*3/7.
    assert_eq!(v["CT"], 6.0 / 7.0);
    let pr = v["pr"].as_array().unwrap();
    assert_eq!(pr.len(), 2);
    assert_eq!(pr[0]["iou"], 0.3);
    // Object measures use SEG frames 0 and 2: three objects, all found, no FP there.
    assert_eq!((pr[1]["tp"].as_u64(), pr[1]["fp"].as_u64(), pr[1]["fn"].as_u64()), (Some(3), Some(0), Some(0)));
    assert_eq!(pr[1]["f1"], 1.0);
    assert_eq!(v["frames"]["SEG"], 2);

    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("measure,iou,value\n"));
    assert!(text.contains("\nDET,,0.975\n"), "{text}");
    assert!(text.contains("\nprecision,0.05,1\n"), "{text}");
    assert!(text.contains("\nrecall,0.95,1\n"), "{text}");
    assert!(text.contains("\nf1,0.3,1\n"), "{text}");
}

/// A dataset folder, as `track DATASET` writes it: each NN_RES scored
/// against NN_GT (else NN_ST) beside it, as `evaluate` scores it alone, then
/// the mean; a result without truth is named and left out of the mean.
#[test]
fn a_dataset_scores_each_sequence_and_their_mean() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("Fluo-X");
    // 01: the result with a false positive; 02: silver truth, the truth itself as result; 03: no truth.
    write_truth(&data.join("01_GT"), true, true);
    write_result(&data.join("01_RES"));
    write_truth(&data.join("02_ST"), true, false);
    write_masks(&data.join("02_RES"), "mask", &truth_masks());
    ctc::write_tracks(&data.join("02_RES/res_track.txt"), &truth_tracks()).unwrap();
    write_result(&data.join("03_RES"));
    let (json, csv) = (d.path().join("s.json"), d.path().join("s.csv"));
    let o = run(&data, &data, &["--json", json.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let single = |n: &str, truth: &str| -> serde_json::Value {
        let j = d.path().join(format!("{n}.json"));
        assert!(run(&data.join(truth), &data.join(format!("{n}_RES")), &["--json", j.to_str().unwrap()]).status.success());
        serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap()
    };
    let (one, two) = (single("01", "01_GT"), single("02", "02_ST"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["sequences"]["01"], one);
    assert_eq!(v["sequences"]["02"], two);
    assert_eq!(v["unscored"], serde_json::json!(["03"]));
    for k in ["DET", "TRA", "CHOTA", "MOTA"] {
        let mean = (one[k].as_f64().unwrap() + two[k].as_f64().unwrap()) / 2.0;
        assert!((v["mean"][k].as_f64().unwrap() - mean).abs() < 1e-12, "{k}");
    }
    assert!(one["DET"].as_f64().unwrap() < 1.0 && two["DET"] == 1.0);
    // A report beside the sequences in the dataset folder is written; one
    // inside a sequence's result or truth is refused.
    let beside = data.join("scores.json");
    assert!(run(&data, &data, &["--json", beside.to_str().unwrap()]).status.success() && beside.is_file());
    std::fs::remove_file(&beside).unwrap();
    let inside = data.join("02_ST/scores.json");
    let o = run(&data, &data, &["--json", inside.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("which this command reads") && !inside.exists(), "{}", stderr(&o));
    // Object precision, recall and F1 at each threshold: the means of the sequences'.
    for (i, iou) in ["0.25", "0.5", "0.75"].iter().enumerate() {
        for k in ["precision", "recall", "f1"] {
            let mean = (one["pr"][i][k].as_f64().unwrap() + two["pr"][i][k].as_f64().unwrap()) / 2.0;
            assert!((v["mean"][format!("{k}@{iou}")].as_f64().unwrap() - mean).abs() < 1e-12, "{k}@{iou}: {}", v["mean"]);
            assert!(out.contains(&format!("{k}@{iou}")), "{out}");
        }
    }
    // SEG: 02 has no segmentation truth, so the mean has none.
    assert!(v["mean"]["SEG"].is_null());
    assert!(out.contains("01_RES: scored against") && out.contains("02_RES: scored against") && out.contains("not scored") && out.contains("03_RES"), "{out}");
    assert!(out.contains("mean over the 2 sequences 01, 02"), "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("sequence,measure,iou,value\n01,SEG,,1\n"), "{text}");
    assert!(text.contains(&format!("\nmean,DET,,{}\n", v["mean"]["DET"])), "{text}");
    assert!(text.contains(&format!("\nmean,precision,0.5,{}\n", v["mean"]["precision@0.5"].as_f64().unwrap())), "{text}");
    // A truth folder given as --gt for a dataset of results is refused by name.
    let o = run(&data.join("01_GT"), &data, &[]);
    assert!(!o.status.success() && stderr(&o).contains("none of the results 01_RES, 02_RES, 03_RES in") && stderr(&o).contains("sought 01_GT or 01_ST; 02_GT"), "{}", stderr(&o));
}

#[test]
fn segmentation_truth_alone() {
    let (d, gt, res) = folders("02_ST", "02_RES", false, true);
    let json = d.path().join("s.json");
    let o = run(&gt, &res, &["--json", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(line(&out, "TRA").ends_with("n/a"), "{out}");
    assert!(line(&out, "BC(0)").ends_with("n/a"), "{out}");
    assert!(line(&out, "SEG").ends_with("1.000000"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(v["TRA"].is_null() && v["DET"].is_null() && v["NS"].is_null() && v["CT"].is_null());
    assert_eq!(v["SEG"], 1.0);
}

#[test]
fn tracking_truth_alone_scores_objects_on_tra() {
    let (d, gt, res) = folders("GT", "RES", true, false);
    let json = d.path().join("s.json");
    let o = run(&gt, &res, &["--json", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(v["SEG"].is_null() && v["OP_CTB"].is_null());
    assert_eq!(v["TRA"], 1.0 - 1.0 / 44.5);
    // All three TRA frames: 4 objects found, the false positive counted.
    assert_eq!((v["pr"][0]["tp"].as_u64(), v["pr"][0]["fp"].as_u64()), (Some(4), Some(1)));
}

#[test]
fn result_without_track_file_gets_detection_only() {
    let (_d, gt, res) = folders("GT", "RES", true, true);
    std::fs::remove_file(res.join("res_track.txt")).unwrap();
    let o = run(&gt, &res, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(line(&out, "DET").ends_with("0.975000"), "{out}");
    assert!(line(&out, "TRA").ends_with("n/a"), "{out}");
    assert!(line(&out, "ED").ends_with("n/a"), "{out}");
    assert!(out.contains("holds no res_track.txt, so the tracking measures (TRA, LNK"), "{out}");
}

/// Reports into a folder that does not exist, or onto a folder: refused
/// by name before scoring, and neither report written.
#[test]
fn reports_that_cannot_be_written_are_named_first() {
    let (d, gt, res) = folders("GT", "RES", true, true);
    let json = d.path().join("s.json");
    let csv = d.path().join("nodir/s.csv");
    let o = run(&gt, &res, &["--json", json.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(!o.status.success() && ["nodir/s.csv", "the folder", "does not exist"].iter().all(|n| stderr(&o).contains(n)), "{}", stderr(&o));
    assert!(!json.exists());
    let o = run(&gt, &res, &["--json", d.path().to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("is a folder; give the name of a file"), "{}", stderr(&o));
}

/// Runs an evaluation expected to fail; checks the message, and that no
/// JSON was written.
fn fails(gt: &Path, res: &Path, extra: &[&str], needles: &[&str]) {
    let json = res.parent().unwrap().join("never.json");
    let mut args = vec!["--json", json.to_str().unwrap()];
    args.extend(extra);
    let o = run(gt, res, &args);
    assert!(!o.status.success(), "should fail: {}", stdout(&o));
    let err = stderr(&o);
    for n in needles {
        assert!(err.contains(n), "error should mention {n:?}: {err}");
    }
    assert!(!json.exists(), "a JSON report was written despite the error");
}

#[test]
fn missing_folders_are_named() {
    let (d, gt, res) = folders("GT", "RES", true, true);
    fails(&d.path().join("nope_GT"), &res, &[], &["nope_GT", "does not exist"]);
    fails(&gt, &d.path().join("nope_RES"), &[], &["nope_RES", "does not exist"]);
    std::fs::create_dir(d.path().join("empty")).unwrap();
    fails(&d.path().join("empty"), &res, &[], &["empty", "neither SEG/ nor TRA/"]);
}

#[test]
fn missing_result_frame_is_named() {
    let (_d, gt, res) = folders("GT", "RES", true, true);
    std::fs::remove_file(res.join("mask002.tif")).unwrap();
    ctc::write_tracks(&res.join("res_track.txt"), &[TrackRecord::new(1, 0, 1, 0), TrackRecord::new(9, 1, 1, 0)]).unwrap();
    fails(&gt, &res, &[], &["mask002.tif", "is missing", "man_track002.tif"]);
}

#[test]
fn extra_result_frames_are_named() {
    let (_d, gt, res) = folders("GT", "RES", true, false);
    ctc::write_mask(&res.join("mask003.tif"), &Array2::zeros((2, 6))).unwrap();
    fails(&gt, &res, &[], &["RES", "1 frame(s) (3–3)", "same frames"]);
}

#[test]
fn size_mismatch_names_both_files() {
    let (_d, gt, res) = folders("GT", "RES", true, true);
    let mut big = Array2::<u32>::zeros((3, 6));
    big[[0, 0]] = 1;
    ctc::write_mask(&res.join("mask001.tif"), &big).unwrap();
    fails(&gt, &res, &[], &["mask001.tif", "is 6×3", "man_track001.tif", "is 6×2"]);
}

#[test]
fn invalid_result_tracks_are_refused() {
    let (_d, gt, res) = folders("GT", "RES", true, true);
    ctc::write_tracks(&res.join("res_track.txt"), &truth_tracks()).unwrap(); // 9 unlisted
    fails(&gt, &res, &[], &["not a valid CTC result", "label 9", "cellstream validate"]);
}

#[test]
fn truth_label_missing_from_track_file() {
    let (_d, gt, res) = folders("GT", "RES", true, false);
    ctc::write_tracks(&gt.join("TRA/man_track.txt"), &[TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 2, 1)]).unwrap();
    fails(&gt, &res, &[], &["man_track002.tif", "label 3 is not listed", "man_track.txt"]);
}

#[test]
fn bad_thresholds_and_unreadable_masks() {
    let (_d, gt, res) = folders("GT", "RES", true, true);
    fails(&gt, &res, &["--iou", "0.5,1.5"], &["--iou 1.5", "[0, 1)"]);
    std::fs::write(res.join("mask001.tif"), b"II*\0garbage").unwrap();
    fails(&gt, &res, &[], &["mask001.tif"]);
}

#[test]
fn edge_margin_leaves_cut_objects_out_of_the_object_measures() {
    // One 6×7 frame of segmentation truth: 1 is cut by the left edge, 2 lies
    // inside. The result finds both and adds 8 inside and 9 on the right edge.
    let d = tempfile::tempdir().unwrap();
    let (gt, res) = (d.path().join("02_ST"), d.path().join("02_RES"));
    let truth: Mask = array![
        [0, 0, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0, 0],
        [1, 1, 0, 2, 2, 0, 0],
        [0, 0, 0, 2, 2, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ];
    let mut result = truth.clone();
    result[[1, 4]] = 8;
    result[[3, 6]] = 9;
    std::fs::create_dir_all(gt.join("SEG")).unwrap();
    ctc::write_mask(&gt.join("SEG/man_seg000.tif"), &truth).unwrap();
    write_masks(&res, "mask", &[result]);
    let score = |extra: &[&str]| -> (serde_json::Value, String, String) {
        let (json, csv) = (d.path().join("s.json"), d.path().join("s.csv"));
        let mut args = vec!["--json", json.to_str().unwrap(), "--csv", csv.to_str().unwrap()];
        args.extend(extra);
        let o = run(&gt, &res, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        let v = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        (v, stdout(&o), std::fs::read_to_string(&csv).unwrap())
    };
    let counts = |v: &serde_json::Value| {
        let p = &v["pr"][1]; // IoU 0.5
        (p["tp"].as_u64().unwrap(), p["fp"].as_u64().unwrap(), p["fn"].as_u64().unwrap())
    };
    let (all, out, csv) = score(&[]);
    assert_eq!(counts(&all), (2, 2, 0));
    assert!(all["edge_margin"].is_null());
    assert!(!out.contains("left out"), "{out}");
    assert!(csv.contains("\nedge_margin,,\n"), "{csv}");

    let (cut, out, csv) = score(&["--edge-margin", "0"]);
    // 1 and its partner, and 9, are left out; 2 is found, 8 is false.
    assert_eq!(counts(&cut), (1, 1, 0));
    assert_eq!(cut["edge_margin"], 0);
    assert_eq!(cut["SEG"], all["SEG"]);
    assert!(out.contains("objects cut by the frame's edge are left out"), "{out}");
    assert!(csv.contains("\nedge_margin,,0\n"), "{csv}");

    // A margin of 1 reaches 8 (row 1) but not 2 (rows 2–3 of 6, columns 3–4 of 7).
    let (near, out, _) = score(&["--edge-margin", "1"]);
    assert_eq!(counts(&near), (1, 0, 0));
    assert!(out.contains("within 1 px of the frame's edge"), "{out}");
}

#[test]
fn reports_inside_the_folders_scored_or_named_twice_are_refused() {
    // Written inside the truth or the result, a report would replace what
    // is scored (a track file, a mask); named twice, one would replace the other.
    let (d, gt, res) = folders("01_GT", "01_RES", true, true);
    let track_file = gt.join("TRA/man_track.txt");
    let before = std::fs::read(&track_file).unwrap();
    let csv = d.path().join("s.csv");
    let (csv_s, track_s, mask_s) = (csv.to_str().unwrap(), track_file.to_str().unwrap(), res.join("mask000.tif"));
    for (extra, says) in [
        (vec!["--csv", track_s], "which this command reads"),
        (vec!["--json", mask_s.to_str().unwrap()], "which this command reads"),
        (vec!["--json", csv_s, "--csv", csv_s], "is named twice"),
    ] {
        let o = run(&gt, &res, &extra);
        assert!(!o.status.success() && stderr(&o).contains(says), "{extra:?}: {}", stderr(&o));
    }
    assert_eq!(std::fs::read(&track_file).unwrap(), before);
    assert!(!csv.exists());
    assert!(cellstream::ctc::read_mask(&res.join("mask000.tif")).is_ok());
}

/// Copies the files of `from` named `PREFIXTTT.tif` for the time points of
/// `range` into `to`, with its track file (`track_file`) cut to them.
fn cut_copy(from: &Path, to: &Path, prefix: &str, track_file: Option<&str>, range: (usize, usize)) {
    std::fs::create_dir_all(to).unwrap();
    for t in range.0..=range.1 {
        let name = format!("{prefix}{t:03}.tif");
        if from.join(&name).exists() {
            std::fs::copy(from.join(&name), to.join(&name)).unwrap();
        }
    }
    if let Some(file) = track_file {
        let tracks = ctc::read_tracks(&from.join(file)).unwrap();
        ctc::write_tracks(&to.join(file), &ctc::clip_tracks(&tracks, range.0, range.1)).unwrap();
    }
}

#[test]
fn frames_scores_that_span_as_a_sequence_cut_to_it() {
    let d = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/fluo");
    let res = d.path().join("01_RES");
    let o = Command::new(env!("CARGO_BIN_EXE_cellstream"))
        .args(["track", "--segmenter", "classical", "-q", "--out"])
        .arg(&res)
        .arg(sample.join("01"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = run(&sample.join("01_GT"), &res, &[]);
    assert!(whole.status.success(), "{}", stderr(&whole));
    // Spans that cut through tracks and divisions, the first frame and the
    // last, and one frame alone.
    for (a, b) in [(0, 39), (10, 24), (17, 39), (31, 31)] {
        let cut = d.path().join(format!("cut-{a}-{b}"));
        cut_copy(&sample.join("01_GT/TRA"), &cut.join("GT/TRA"), "man_track", Some("man_track.txt"), (a, b));
        cut_copy(&sample.join("01_GT/SEG"), &cut.join("GT/SEG"), "man_seg", None, (a, b));
        cut_copy(&res, &cut.join("RES"), "mask", Some("res_track.txt"), (a, b));
        let json = |gt: &Path, res: &Path, frames: &[&str], name: &str| {
            let out = d.path().join(format!("{name}-{a}-{b}.json"));
            let mut extra = vec!["--json", out.to_str().unwrap()];
            extra.extend(frames);
            let o = run(gt, res, &extra);
            assert!(o.status.success(), "{a}-{b}: {}", stderr(&o));
            std::fs::read_to_string(out).unwrap()
        };
        let range = format!("{a}-{b}");
        let spanned = json(&sample.join("01_GT"), &res, &["--frames", &range], "span");
        assert_eq!(spanned, json(&cut.join("GT"), &cut.join("RES"), &[], "cut"), "--frames {range}");
        if (a, b) == (0, 39) {
            assert_eq!(stdout(&run(&sample.join("01_GT"), &res, &["--frames", &range])), stdout(&whole), "the whole sequence");
        } else {
            assert_ne!(stdout(&run(&sample.join("01_GT"), &res, &["--frames", &range])), stdout(&whole), "--frames {range}");
        }
    }
    // An open span reaches the last frame.
    assert_eq!(stdout(&run(&sample.join("01_GT"), &res, &["--frames", "17-"])), stdout(&run(&sample.join("01_GT"), &res, &["--frames", "17-39"])));
}

#[test]
fn frames_on_a_small_lineage_drops_the_mother_before_the_span() {
    let (_d, gt, res) = folders("GT", "RES", true, true);
    // Frame 2 alone: the daughters 2 and 3 begin there without their mother,
    // in truth and result alike, so the lineage is right and the false object
    // of frame 1 is not seen.
    let o = run(&gt, &res, &["--frames", "2-2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for m in ["TRA", "DET", "SEG"] {
        assert!(line(&out, m).ends_with("1.000000"), "{m}: {out}");
    }
    assert!(out.contains("frames scored: 1 with tracking truth, 1 with segmentation truth"), "{out}");
    // Frames 1-2 keep the division and the false object.
    let out = stdout(&run(&gt, &res, &["--frames", "1-2"]));
    assert!(!line(&out, "DET").ends_with("1.000000") && line(&out, "LNK").ends_with("1.000000"), "{out}");
}

#[test]
fn frames_errors_name_the_folder_and_the_frame() {
    let (_d, gt, res) = folders("GT", "RES", true, true);
    fails(&gt, &res, &["--frames", "3-9"], &["TRA", "holds truth for frames 0–2", "--frames 3-9 names none of them"]);
    fails(&gt, &res, &["--frames", "2-1"], &["ends before it starts"]);
    // The result of part of the sequence: scored on that part, or named with a hint.
    std::fs::remove_file(res.join("mask000.tif")).unwrap();
    ctc::write_tracks(&res.join("res_track.txt"), &[TrackRecord::new(1, 1, 1, 0), TrackRecord::new(2, 2, 2, 1), TrackRecord::new(3, 2, 2, 1), TrackRecord::new(9, 1, 1, 0)]).unwrap();
    fails(&gt, &res, &[], &["mask000.tif", "is missing", "the result holds frames 1–2", "`evaluate --frames 1-2` scores those it shares with the truth"]);
    // A result that runs past the truth: the hint names the frames they share.
    ctc::write_mask(&res.join("mask003.tif"), &Array2::zeros((2, 6))).unwrap();
    fails(&gt, &res, &[], &["the result holds frames 1–3", "`evaluate --frames 1-2`"]);
    std::fs::remove_file(res.join("mask003.tif")).unwrap();
    fails(&gt, &res, &["--frames", "0-2"], &["mask000.tif", "is missing"]);
    // A mask missing inside the result's own span is a result cut short: no hint.
    let o = run(&gt, &res, &["--frames", "0-2"]);
    assert!(!stderr(&o).contains("--frames 1-2"), "{}", stderr(&o));
    let o = run(&gt, &res, &["--frames", "1-2"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_closed_pipe_ends_the_report_quietly_after_the_files_asked_for() {
    let (d, gt, res) = folders("GT", "RES", true, true);
    // `true` exits without reading, so the pipe is closed before evaluate
    // (which first loads its libraries) prints its first line.
    let (json, csv) = (d.path().join("s.json"), d.path().join("s.csv"));
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("{} evaluate --gt {} --res {} --json {} --csv {} | true", env!("CARGO_BIN_EXE_cellstream"), gt.display(), res.display(), json.display(), csv.display()))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(!stderr(&o).contains("panicked") && stderr(&o).is_empty(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&json).unwrap().contains("\"SEG\""), "the JSON is written whatever becomes of the table");
    assert!(std::fs::read_to_string(&csv).unwrap().starts_with("measure,"));
}
