//! `cellstream render` and `cellstream report` on the bundled sample: the
//! files, their sizes and counts; bad input fails naming the file and
//! leaves nothing in the output.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cellstream::ctc;
use image::AnimationDecoder;

fn cellstream(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cellstream"));
    for a in args {
        c.arg(a);
    }
    c.output().unwrap()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn raw() -> PathBuf {
    root().join("sequences/fluo/01")
}

fn gt() -> PathBuf {
    root().join("sequences/fluo/01_GT")
}

/// The sample's tracking truth copied as a result folder `dir/01_RES`.
fn truth_as_result(dir: &Path) -> PathBuf {
    let tra = gt().join("TRA");
    let res = dir.join("01_RES");
    std::fs::create_dir_all(&res).unwrap();
    for t in 0..40 {
        std::fs::copy(tra.join(format!("man_track{t:03}.tif")), res.join(format!("mask{t:03}.tif"))).unwrap();
    }
    std::fs::copy(tra.join("man_track.txt"), res.join("res_track.txt")).unwrap();
    res
}

fn ok(o: &Output) {
    assert!(o.status.success(), "stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn renders_the_sample_with_raw_and_truth() {
    let d = tempfile::tempdir().unwrap();
    let res = truth_as_result(d.path());
    let out = d.path().join("render");
    ok(&cellstream(&[&"render", &"--res", &res, &"--raw", &raw(), &"--gt", &gt(), &"--out", &out, &"--gif-frames", &"15"]));
    assert_eq!(
        names(&out),
        ["counts.csv", "counts.png", "counts.svg", "lineage.png", "lineage.svg", "overlays", "pr_curve.csv", "pr_curve.png", "pr_curve.svg", "sequence.gif"]
    );
    let overlays = names(&out.join("overlays"));
    assert_eq!(overlays.len(), 40);
    assert_eq!(overlays[7], "overlay007.png");
    let img = image::open(out.join("overlays/overlay020.png")).unwrap().into_rgb8();
    assert_eq!(img.dimensions(), (256, 256));
    let coloured = img.pixels().filter(|p| p.0.iter().max().unwrap() - p.0.iter().min().unwrap() > 60).count();
    assert!(coloured > 500, "outlines in track colours: {coloured} coloured pixels");
    // The truth as result: no cell is missed or false, so nothing is tinted red.
    let red = img.pixels().filter(|p| p.0 == [255, 32, 32]).count();
    assert_eq!(red, 0);

    // 40 frames at most 15: every 3rd, 14 frames, not enlarged.
    let gif = std::fs::File::open(out.join("sequence.gif")).unwrap();
    let frames = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(gif)).unwrap().into_frames().collect_frames().unwrap();
    assert_eq!(frames.len(), 14);
    assert_eq!(frames[0].buffer().dimensions(), (256, 256));

    let svg = std::fs::read_to_string(out.join("lineage.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let lineage = image::open(out.join("lineage.png")).unwrap();
    assert!(lineage.width() >= 480 && lineage.height() >= 360);
    let truth_tracks = std::fs::read_to_string(gt().join("TRA/man_track.txt")).unwrap().lines().count();
    assert!(svg.contains(&format!("Lineage: {truth_tracks} tracks, 11 divisions")), "the sample has 47 tracks and 11 divisions");

    let counts = std::fs::read_to_string(out.join("counts.csv")).unwrap();
    assert_eq!(counts.lines().count(), 41);
    for line in counts.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[1], f[2], "result and truth counts agree: {line}");
    }
    let curve = std::fs::read_to_string(out.join("pr_curve.csv")).unwrap();
    assert_eq!(curve.lines().count(), 20, "19 thresholds 0.05 … 0.95");
    for line in curve.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!((f[1], f[2]), ("1", "1"), "truth against itself: {line}");
    }
    assert_eq!(image::open(out.join("pr_curve.png")).unwrap().width(), 720);
}

#[test]
fn renders_a_tracked_result_without_raw_or_truth_and_replaces_an_earlier_render() {
    let d = tempfile::tempdir().unwrap();
    let res = d.path().join("01_RES");
    ok(&cellstream(&[&"track", &raw(), &"--out", &res, &"--segmenter", &"classical", &"-q"]));
    let out = d.path().join("pictures");
    ok(&cellstream(&[&"render", &"--res", &res, &"--out", &out, &"--gif-side", &"100"]));
    assert!(!out.join("pr_curve.png").exists(), "no PR curve without truth");
    let counts = std::fs::read_to_string(out.join("counts.csv")).unwrap();
    assert!(counts.lines().nth(1).unwrap().ends_with(','), "no truth count: {counts}");
    let gif = std::fs::File::open(out.join("sequence.gif")).unwrap();
    let frames = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(gif)).unwrap().into_frames().collect_frames().unwrap();
    assert_eq!((frames.len(), frames[0].buffer().dimensions()), (40, (100, 100)));
    // A GIF of no pixels or no frames is refused.
    for (flag, value) in [("--gif-side", "0"), ("--gif-frames", "0")] {
        let o = cellstream(&[&"render", &"--res", &res, &"--out", &d.path().join("none"), &flag, &value]);
        assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains(flag), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // An earlier render is replaced; a folder holding anything else is not.
    ok(&cellstream(&[&"render", &"--res", &res, &"--out", &out, &"--no-labels"]));
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let o = cellstream(&[&"render", &"--res", &res, &"--out", &out]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("notes.txt"));
    assert_eq!(names(d.path()), ["01_RES", "pictures"], "no temporary folder left");
}

/// Runs `render` on a broken result; it must fail naming `culprit` and leave
/// nothing but the inputs in `dir`.
fn fails_naming(dir: &Path, res: &Path, culprit: &str) {
    let out = dir.join("render");
    let o = cellstream(&[&"render", &"--res", &res, &"--raw", &raw(), &"--out", &out]);
    assert!(!o.status.success(), "render of a broken result succeeded");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(culprit), "the error names {culprit}: {err}");
    assert!(!out.exists(), "nothing half-written");
    assert_eq!(names(dir), ["01_RES"], "no temporary folder left");
}

#[test]
fn bad_input_names_the_file_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let res = truth_as_result(d.path());
    std::fs::remove_file(res.join("res_track.txt")).unwrap();
    fails_naming(d.path(), &res, "res_track.txt");

    let d = tempfile::tempdir().unwrap();
    let res = truth_as_result(d.path());
    cellstream::ctc::write_mask(&res.join("mask031.tif"), &ndarray::Array2::zeros((100, 120))).unwrap();
    fails_naming(d.path(), &res, "mask031.tif");
    let o = cellstream(&[&"render", &"--res", &res, &"--raw", &raw(), &"--out", &d.path().join("x")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("120×100") && err.contains("t031.tif"), "sizes and the raw frame named: {err}");

    let d = tempfile::tempdir().unwrap();
    let res = truth_as_result(d.path());
    std::fs::write(res.join("mask012.tif"), b"II*\0not a tiff at all").unwrap();
    fails_naming(d.path(), &res, "mask012.tif");

    let d = tempfile::tempdir().unwrap();
    let res = truth_as_result(d.path());
    // A result frame the raw sequence lacks.
    std::fs::copy(res.join("mask000.tif"), res.join("mask040.tif")).unwrap();
    fails_naming(d.path(), &res, "t040.tif");
}

#[test]
fn report_is_one_self_contained_page() {
    let d = tempfile::tempdir().unwrap();
    let res = truth_as_result(d.path());
    let params = d.path().join("run.toml");
    std::fs::write(&params, "segmenter = \"classical\"\nmin_area = 30\n").unwrap();
    let html = d.path().join("report.html");
    ok(&cellstream(&[&"report", &"--res", &res, &"--raw", &raw(), &"--gt", &gt(), &"--out", &html, &"--params", &params]));
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(!text.contains("http://") && !text.contains("https://"), "no external URL");
    for attr in ["src=", "href="] {
        for (i, _) in text.match_indices(attr) {
            assert!(text[i..].starts_with(&format!("{attr}\"data:image/png;base64,")), "{attr} at {i} is not a data URI");
        }
    }
    // Plots (2), lineage (1) and six sample overlays.
    assert_eq!(text.matches("<img ").count(), 9);
    // The truth against itself scores 1.
    for m in ["SEG", "DET", "TRA", "LNK"] {
        assert!(text.contains(&format!("<td>{m}</td><td class=\"num\">1.0000</td>")), "{m} = 1 in the table");
    }
    assert!(text.contains("min_area = 30"), "the parameter file is shown");
    assert!(text.contains(env!("CARGO_PKG_VERSION")) && text.contains("40 (time points 0–39), 256×256 pixels"));
    assert_eq!(names(d.path()), ["01_RES", "report.html", "run.toml"], "no temporary file left");

    // In a real browser, when one is installed.
    let script = root().join("scripts/screenshot-report");
    let has_browser = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|b| Command::new("sh").arg("-c").arg(format!("command -v {b}")).output().is_ok_and(|o| o.status.success()));
    if !has_browser {
        eprintln!("skipping the browser check: no Chromium (Debian: apt-get install chromium)");
        return;
    }
    let shot = d.path().join("report.png");
    let o = Command::new(script).arg(&html).arg(&shot).arg("1280,2400").output().unwrap();
    ok(&o);
    let png = image::open(&shot).unwrap().into_rgb8();
    assert_eq!(png.dimensions(), (1280, 2400));
    let non_white = png.pixels().filter(|p| p.0.iter().any(|&c| c < 200)).count();
    assert!(non_white > 50_000, "the page shows its tables and pictures: {non_white} non-white pixels");
}

#[test]
fn report_without_truth_says_so() {
    let d = tempfile::tempdir().unwrap();
    let res = truth_as_result(d.path());
    let html = d.path().join("r.html");
    ok(&cellstream(&[&"report", &"--res", &res, &"--out", &html]));
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("No truth given"));
    assert_eq!(text.matches("<img ").count(), 8, "counts, lineage, six overlays");
    let o = cellstream(&[&"report", &"--res", &d.path().join("nope"), &"--out", &html]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("nope"));
    // An earlier report is replaced; any other file, or one inside the
    // folders reported on, is refused and left as it was.
    ok(&cellstream(&[&"report", &"--res", &res, &"--out", &html]));
    let mine = d.path().join("notes.html");
    std::fs::write(&mine, "my notes").unwrap();
    let inside = res.join("res_track.txt");
    let before = std::fs::read(&inside).unwrap();
    for (out, says) in [(&mine, "is not an earlier cellstream report"), (&inside, "which this command reads")] {
        let o = cellstream(&[&"report", &"--res", &res, &"--out", out]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my notes");
    assert_eq!(std::fs::read(&inside).unwrap(), before);
}

#[test]
fn report_shows_the_settings_track_recorded_in_the_result() {
    let d = tempfile::tempdir().unwrap();
    let res = d.path().join("01_RES");
    let track = |extra: &[&str]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"track", &"--out", &res, &"--segmenter", &"classical", &"-q"];
        let r = raw();
        args.push(&r);
        for a in extra {
            args.push(a);
        }
        ok(&cellstream(&args));
    };
    track(&["--max-gap", "3", "--min-area", "40"]);
    let text = std::fs::read_to_string(res.join("cellstream.toml")).unwrap();
    let record: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(record["segmenter"]["kind"].as_str(), Some("classical"));
    assert_eq!(record["link"]["max_gap"].as_integer(), Some(3), "a flag given");
    assert_eq!(record["link"]["min_cycle"].as_integer(), Some(4), "a default in force");
    assert_eq!(record["post"]["min_area"].as_integer(), Some(40));
    assert_eq!(record["result"]["frames"].as_integer(), Some(40));
    let tracks = std::fs::read_to_string(res.join("res_track.txt")).unwrap().lines().count() as i64;
    assert_eq!(record["result"]["tracks"].as_integer(), Some(tracks));
    assert!(record["run"]["command"].as_str().unwrap().contains("--max-gap 3"));
    assert_eq!(cellstream::ctc::validate_result(&res).unwrap(), vec![], "the record does not disturb the result");

    // Tracking again replaces the result, record included.
    track(&["--max-gap", "1"]);
    let text = std::fs::read_to_string(res.join("cellstream.toml")).unwrap();
    assert!(text.contains("max_gap = 1") && !text.contains("max_gap = 3"));

    let html = d.path().join("r.html");
    ok(&cellstream(&[&"report", &"--res", &res, &"--out", &html]));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("cellstream.toml") && page.contains("max_gap = 1"), "the run's settings are in the report");
    assert!(page.contains("kind = &quot;classical&quot;"), "escaped TOML text");

    // A record that is not text is named, and no report is written.
    std::fs::write(res.join("cellstream.toml"), [0xff, 0xfe, 0x00]).unwrap();
    std::fs::remove_file(&html).unwrap();
    let o = cellstream(&[&"report", &"--res", &res, &"--out", &html]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cellstream.toml"), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(names(d.path()), ["01_RES"], "nothing written");
}

#[test]
fn edge_margin_leaves_cut_cells_out_of_the_curve_and_the_report() {
    // Truth without the cells the frame's edge cuts (as PhC-C2DL-PSC's silver
    // truth), the full truth as the result: those cells are its only errors.
    let d = tempfile::tempdir().unwrap();
    let res = truth_as_result(d.path());
    let cut = d.path().join("01_ST/SEG");
    std::fs::create_dir_all(&cut).unwrap();
    let mut removed = 0;
    for entry in std::fs::read_dir(gt().join("SEG")).unwrap() {
        let path = entry.unwrap().path();
        let mut m = cellstream::ctc::read_mask(&path).unwrap();
        let edge = cellstream::post::border_labels(m.view(), 0);
        removed += edge.len();
        m.mapv_inplace(|v| if edge.contains(&v) { 0 } else { v });
        cellstream::ctc::write_mask(&cut.join(path.file_name().unwrap()), &m).unwrap();
    }
    assert!(removed > 10, "the sample has cells on the edge: {removed}");
    let truth = d.path().join("01_ST");
    let precision_at_half = |out: &Path| -> f64 {
        let curve = std::fs::read_to_string(out.join("pr_curve.csv")).unwrap();
        let line = curve.lines().find(|l| l.starts_with("0.5,")).unwrap().to_string();
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[2], "1", "every truth cell is found: {line}");
        f[1].parse().unwrap()
    };
    let (all, inside) = (d.path().join("all"), d.path().join("inside"));
    ok(&cellstream(&[&"render", &"--res", &res, &"--gt", &truth, &"--out", &all]));
    ok(&cellstream(&[&"render", &"--res", &res, &"--gt", &truth, &"--out", &inside, &"--edge-margin", &"0"]));
    assert!(precision_at_half(&all) < 1.0);
    assert_eq!(precision_at_half(&inside), 1.0);

    let html = d.path().join("report.html");
    ok(&cellstream(&[&"report", &"--res", &res, &"--gt", &truth, &"--out", &html, &"--edge-margin", &"0"]));
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("Objects cut by the frame&#39;s edge are left out"), "the report says what it left out");
    assert!(text.contains("<td class=\"num\">1.0000</td><td class=\"num\">1.0000</td><td class=\"num\">1.0000</td>"), "precision, recall and F1 of 1");
}

#[test]
fn a_lineage_that_cannot_be_drawn_or_scored_is_refused_by_name() {
    // The sample's truth as a result, its first track given a parent that
    // is not listed: render, report and export refuse it, naming the file;
    // so does evaluate when the truth's own man_track.txt has the fault.
    let d = tempfile::tempdir().unwrap();
    let res = truth_as_result(d.path());
    let text = std::fs::read_to_string(res.join("res_track.txt")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let fields: Vec<String> = lines[0].split_whitespace().map(str::to_string).collect();
    lines[0] = format!("{} {} {} 999", fields[0], fields[1], fields[2]);
    std::fs::write(res.join("res_track.txt"), lines.join("\n") + "\n").unwrap();
    let says = format!("track {}: parent 999 is not listed", fields[0]);
    let (out, html, csv) = (d.path().join("render"), d.path().join("r.html"), d.path().join("l.csv"));
    for args in [
        vec![&"render" as &dyn AsRef<std::ffi::OsStr>, &"--res", &res, &"--out", &out],
        vec![&"report", &"--res", &res, &"--out", &html],
        vec![&"export", &res, &"--lineage", &csv],
    ] {
        let o = cellstream(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("res_track.txt") && err.contains(&says), "{err}");
    }
    assert!(!out.exists() && !html.exists() && !csv.exists());
    // The truth with that fault, scored against the sample's own truth as a result.
    let gt_copy = d.path().join("01_GT");
    std::fs::create_dir_all(gt_copy.join("TRA")).unwrap();
    for e in std::fs::read_dir(gt().join("TRA")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), gt_copy.join("TRA").join(e.file_name())).unwrap();
    }
    std::fs::copy(res.join("res_track.txt"), gt_copy.join("TRA/man_track.txt")).unwrap();
    let good = truth_as_result(&d.path().join("good"));
    let o = cellstream(&[&"evaluate", &"--gt", &gt_copy, &"--res", &good]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("man_track.txt") && err.contains(&says), "{err}");
}

/// Frames `a..=b` of result `whole` as a result folder `out` of their own,
/// its tracks cut to them: a division's daughters there may begin without a mother.
fn result_span(whole: &Path, out: &Path, a: usize, b: usize) -> PathBuf {
    std::fs::create_dir_all(out).unwrap();
    for t in a..=b {
        let name = format!("mask{t:03}.tif");
        std::fs::copy(whole.join(&name), out.join(&name)).unwrap();
    }
    let tracks = ctc::read_tracks(&whole.join("res_track.txt")).unwrap();
    ctc::write_tracks(&out.join("res_track.txt"), &ctc::clip_tracks(&tracks, a, b)).unwrap();
    out.to_path_buf()
}

#[test]
fn a_report_on_part_of_a_sequence_scores_that_part_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    let whole = truth_as_result(d.path());
    let res = result_span(&whole, &d.path().join("part"), 10, 29);
    let html = d.path().join("report.html");
    // Without the record of `track --frames`, refused as evaluate refuses it.
    let o = cellstream(&[&"report", &"--res", &res, &"--gt", &gt(), &"--out", &html]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("mask000.tif: is missing") && err.contains("`evaluate --frames 10-29`"), "{err}");
    assert!(!html.exists());
    // With it, scored on that span.
    std::fs::write(res.join(ctc::RUN_RECORD), "[run]\nframes = \"10-29\"\n").unwrap();
    let o = cellstream(&[&"report", &"--res", &res, &"--gt", &gt(), &"--out", &html]);
    ok(&o);
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(said.contains("was tracked from frames 10-29 alone") && said.contains("scored on those"), "{said}");
    let text = std::fs::read_to_string(&html).unwrap();
    for m in ["SEG", "DET", "TRA", "LNK"] {
        assert!(text.contains(&format!("<td>{m}</td><td class=\"num\">1.0000</td>")), "{m} = 1 in the table");
    }
    // evaluate --frames scores it as the report does.
    let o = cellstream(&[&"evaluate", &"--gt", &gt(), &"--res", &res, &"--frames", &"10-29"]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).lines().any(|l| l.starts_with("TRA") && l.ends_with("1.000000")));
}

#[test]
fn a_span_past_the_truth_is_refused_and_a_pattern_short_of_frames_is_named() {
    let d = tempfile::tempdir().unwrap();
    let whole = truth_as_result(d.path());
    // Truth of frames 0-19 alone; results of frames 10-29 and 25-29, as track --frames records them.
    let gt = result_span(&whole, &d.path().join("GT/TRA"), 0, 19);
    for t in 0..20 {
        std::fs::rename(gt.join(format!("mask{t:03}.tif")), gt.join(format!("man_track{t:03}.tif"))).unwrap();
    }
    std::fs::rename(gt.join("res_track.txt"), gt.join("man_track.txt")).unwrap();
    let gt = d.path().join("GT");
    for (a, b, says) in [(10, 29, "has masks for 10 frame(s) (20–29) that the tracking truth"), (25, 29, "holds truth for frames 0–19; --frames 25-29 names none of them")] {
        let res = result_span(&whole, &d.path().join(format!("R{a}")), a, b);
        std::fs::write(res.join(ctc::RUN_RECORD), format!("[run]\nframes = \"{a}-{b}\"\n")).unwrap();
        let html = d.path().join("report.html");
        let o = cellstream(&[&"report", &"--res", &res, &"--gt", &gt, &"--out", &html]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "{a}-{b}: {err}");
        assert!(!html.exists());
    }
    // Raw frames named by a pattern that holds none of the result's frames.
    let res = d.path().join("R10");
    let raws = d.path().join("raws");
    std::fs::create_dir(&raws).unwrap();
    for t in 0..5 {
        std::fs::copy(raw().join(format!("t{t:03}.tif")), raws.join(format!("img_{t}_x.tif"))).unwrap();
    }
    let pattern = raws.join("img_{t}_x.tif");
    let o = cellstream(&[&"render", &"--res", &res, &"--raw", &pattern, &"--out", &d.path().join("pictures")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("img_{t}_x.tif: names no file of frame 10; the result has"), "{err}");
}
