//! `cellstream postprocess` end to end: naming, input types, seeds, and bad input.
use std::path::Path;
use std::process::{Command, Output};

use cellstream::ctc::{read_mask, write_frame, Frame};
use ndarray::Array2;

mod py_support;

fn cellstream(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cellstream")).args(args).output().expect("run cellstream")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Two touching discs of radius 9 (one foreground component, two cells).
fn two_cells() -> Array2<f32> {
    Array2::from_shape_fn((40, 60), |(y, x)| {
        let d = |cx: f32| ((y as f32 - 20.0).powi(2) + (x as f32 - cx).powi(2)).sqrt();
        if d(20.0) <= 9.0 || d(36.0) <= 9.0 { 0.9 } else { 0.05 }
    })
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn run_ok(args: &[&str]) -> String {
    let o = cellstream(args);
    assert!(o.status.success(), "cellstream {args:?} failed: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn float_probabilities_become_masks_named_by_their_number() {
    let d = tempfile::tempdir().unwrap();
    let (inp, out) = (d.path().join("prob"), d.path().join("seg"));
    std::fs::create_dir(&inp).unwrap();
    for name in ["cells_12_prob.tif", "cells_7_prob.tif"] {
        write_frame(&inp.join(name), &Frame::F32(two_cells())).unwrap();
    }
    let stdout = run_ok(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--threads", "1"]);
    assert!(stdout.contains("2 masks (4 objects)"), "{stdout}");
    assert_eq!(names(&out), vec!["mask007.tif", "mask012.tif"]);
    let m = read_mask(&out.join("mask007.tif")).unwrap();
    assert_eq!(m.dim(), (40, 60));
    assert_eq!(m[[0, 0]], 0);
    let (a, b) = (m[[20, 20]], m[[20, 36]]);
    assert!(a != 0 && b != 0 && a != b, "touching cells not split: {a} {b}");
    assert_eq!(m.iter().copied().max(), Some(2));
}

#[test]
fn integer_maps_are_scaled_by_their_type_maximum_and_wide_numbers_widen_names() {
    let d = tempfile::tempdir().unwrap();
    let (inp, out) = (d.path().join("fg"), d.path().join("seg"));
    std::fs::create_dir(&inp).unwrap();
    let p = two_cells();
    write_frame(&inp.join("fg0003.tif"), &Frame::U8(p.mapv(|v| if v > 0.5 { 255 } else { 0 }))).unwrap();
    // 40000 / 65535 = 0.61 > 0.5; 20000 / 65535 = 0.31.
    write_frame(&inp.join("fg1234.tif"), &Frame::U16(p.mapv(|v| if v > 0.5 { 40000 } else { 20000 }))).unwrap();
    let o = cellstream(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Numbers with a gap are kept, and the gap is noted: track --masks would refuse it.
    assert!(stderr(&o).contains("between 3 (fg0003.tif) and 1234 (fg1234.tif)"), "{}", stderr(&o));
    assert_eq!(names(&out), vec!["mask0003.tif", "mask1234.tif"]);
    for n in ["mask0003.tif", "mask1234.tif"] {
        assert_eq!(read_mask(&out.join(n)).unwrap().iter().copied().max(), Some(2), "{n}");
    }
}

#[test]
fn zero_one_masks_need_threshold_zero_and_say_so() {
    let d = tempfile::tempdir().unwrap();
    let (inp, out) = (d.path().join("fg"), d.path().join("seg"));
    std::fs::create_dir(&inp).unwrap();
    write_frame(&inp.join("m1.tif"), &Frame::U8(two_cells().mapv(|v| u8::from(v > 0.5)))).unwrap();
    let o = cellstream(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("--threshold 0"), "{}", stderr(&o));
    assert_eq!(read_mask(&out.join("mask001.tif")).unwrap().iter().copied().max(), Some(0));
    run_ok(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--threshold", "0"]);
    assert_eq!(read_mask(&out.join("mask001.tif")).unwrap().iter().copied().max(), Some(2));
}

#[test]
fn boolean_maps_from_tifffile_are_read_as_foreground() {
    // tifffile (and so scikit-image) writes a boolean array as a 1-bit TIFF,
    // white-is-zero; a set bit is foreground, at the default threshold.
    let Some(py) = py_support::tool("python", "the tifffile boolean map") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let (inp, out) = (d.path().join("fg"), d.path().join("seg"));
    std::fs::create_dir(&inp).unwrap();
    let code = "import sys, numpy as np, tifffile\n\
                m = np.zeros((40, 50), bool); m[5:20, 5:20] = True; m[25:35, 30:45] = True\n\
                tifffile.imwrite(sys.argv[1], m)";
    let o = Command::new(py).args(["-c", code]).arg(inp.join("m000.tif")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    run_ok(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-split"]);
    let m = read_mask(&out.join("mask000.tif")).unwrap();
    assert_eq!(m.iter().copied().max(), Some(2));
    assert_eq!(m.iter().filter(|&&v| v > 0).count(), 15 * 15 + 10 * 15);
    assert_eq!((m[[0, 0]], m[[10, 10]] > 0, m[[30, 40]] > 0), (0, true, true));
}

#[test]
fn signed_maps_out_of_range_are_refused_saying_they_are_not_scaled() {
    let d = tempfile::tempdir().unwrap();
    let inp = d.path().join("fg");
    std::fs::create_dir(&inp).unwrap();
    let v: Vec<i16> = two_cells().iter().map(|&p| if p > 0.5 { 30000 } else { 0 }).collect();
    let mut f = std::fs::File::create(inp.join("p000.tif")).unwrap();
    tiff::encoder::TiffEncoder::new(&mut f).unwrap().write_image::<tiff::encoder::colortype::GrayI16>(60, 40, &v).unwrap();
    drop(f);
    fails_naming(&inp, "p000.tif", "signed");
}

#[test]
fn a_tracking_result_is_not_replaced_by_masks_alone() {
    let d = tempfile::tempdir().unwrap();
    let (inp, out) = (d.path().join("fg"), d.path().join("01_RES"));
    std::fs::create_dir(&inp).unwrap();
    write_frame(&inp.join("p000.tif"), &Frame::F32(two_cells())).unwrap();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("res_track.txt"), "1 0 0 0\n").unwrap();
    let o = cellstream(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("holds a tracking result"), "{}", stderr(&o));
    assert_eq!(names(&out), vec!["res_track.txt"]);
}

#[test]
fn options_change_the_chain() {
    let d = tempfile::tempdir().unwrap();
    let (inp, out) = (d.path().join("prob"), d.path().join("seg"));
    std::fs::create_dir(&inp).unwrap();
    write_frame(&inp.join("t000.tif"), &Frame::F32(two_cells())).unwrap();
    let max_label = |extra: &[&str]| {
        let mut args = vec!["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        run_ok(&args);
        read_mask(&out.join("mask000.tif")).unwrap().iter().copied().max().unwrap()
    };
    assert_eq!(max_label(&["--no-split"]), 1);
    assert_eq!(max_label(&["--h-maxima", "1"]), 2);
    assert_eq!(max_label(&["--min-area", "1000"]), 0);
    assert_eq!(max_label(&["--connectivity", "4", "--closing-radius", "0"]), 2);
    let o = cellstream(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-split", "--h-maxima", "2"]);
    assert!(!o.status.success());
    let o = cellstream(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--threshold", "1.5"]);
    assert!(!o.status.success() && stderr(&o).contains("1.5"), "{}", stderr(&o));
}

#[test]
fn seed_maps_split_cells_where_the_seeds_say() {
    let d = tempfile::tempdir().unwrap();
    let (inp, seeds, out) = (d.path().join("cell"), d.path().join("seed"), d.path().join("seg"));
    std::fs::create_dir(&inp).unwrap();
    std::fs::create_dir(&seeds).unwrap();
    // One elongated cell region; three seeds along it.
    let cell = Array2::from_shape_fn((20, 90), |(y, x)| if (5..15).contains(&y) && (5..85).contains(&x) { 0.9f32 } else { 0.0 });
    let seed = Array2::from_shape_fn((20, 90), |(y, x)| {
        if (8..12).contains(&y) && [(10, 20), (40, 50), (70, 80)].iter().any(|&(a, b)| (a..b).contains(&x)) { 0.9f32 } else { 0.1 }
    });
    write_frame(&inp.join("c5.tif"), &Frame::F32(cell)).unwrap();
    write_frame(&seeds.join("s5.tif"), &Frame::F32(seed)).unwrap();
    let (i, s, o) = (inp.to_str().unwrap(), seeds.to_str().unwrap(), out.to_str().unwrap());
    run_ok(&["postprocess", "--input", i, "--seeds", s, "--out", o]);
    let m = read_mask(&out.join("mask005.tif")).unwrap();
    assert_eq!(m.iter().copied().max(), Some(3));
    assert!(m[[10, 6]] != 0 && m[[10, 84]] != 0 && m[[10, 6]] != m[[10, 84]]);
    // A seed folder lacking a number is an error naming it.
    std::fs::rename(seeds.join("s5.tif"), seeds.join("s6.tif")).unwrap();
    let r = cellstream(&["postprocess", "--input", i, "--seeds", s, "--out", o]);
    assert!(!r.status.success());
    assert!(stderr(&r).contains("numbered 5"), "{}", stderr(&r));
}

/// Runs a failing postprocess into an existing result and checks that the error
/// names `culprit` and that the old result is untouched.
fn fails_naming(inp: &Path, culprit: &str, what: &str) {
    let out = inp.parent().unwrap().join("seg");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("mask000.tif"), b"previous result").unwrap();
    let o = cellstream(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!o.status.success(), "succeeded on bad input");
    let e = stderr(&o);
    assert!(e.contains(culprit) && e.contains(what), "error does not name {culprit} / {what}: {e}");
    assert_eq!(names(&out), vec!["mask000.tif"]);
    assert_eq!(std::fs::read(out.join("mask000.tif")).unwrap(), b"previous result");
    assert_eq!(names(inp.parent().unwrap()).len(), 2, "temporary files left: {:?}", names(inp.parent().unwrap()));
}

#[test]
fn folder_without_tiffs_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let inp = d.path().join("empty");
    std::fs::create_dir(&inp).unwrap();
    std::fs::write(inp.join("notes.txt"), b"no images here").unwrap();
    fails_naming(&inp, "empty", "no .tif");
}

#[test]
fn corrupt_tiff_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let inp = d.path().join("prob");
    std::fs::create_dir(&inp).unwrap();
    for t in 0..4 {
        write_frame(&inp.join(format!("p{t}.tif")), &Frame::F32(two_cells())).unwrap();
    }
    let bytes = std::fs::read(inp.join("p2.tif")).unwrap();
    std::fs::write(inp.join("p2.tif"), &bytes[..bytes.len() / 3]).unwrap();
    fails_naming(&inp, "p2.tif", "TIFF");
}

#[test]
fn rgb_tiff_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let inp = d.path().join("prob");
    std::fs::create_dir(&inp).unwrap();
    write_frame(&inp.join("p0.tif"), &Frame::F32(two_cells())).unwrap();
    let f = std::fs::File::create(inp.join("p1.tif")).unwrap();
    let mut enc = tiff::encoder::TiffEncoder::new(f).unwrap();
    enc.write_image::<tiff::encoder::colortype::RGB8>(4, 2, &[128u8; 24]).unwrap();
    fails_naming(&inp, "p1.tif", "colour");
}

#[test]
fn float_values_outside_zero_one_are_an_error_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let inp = d.path().join("logits");
    std::fs::create_dir(&inp).unwrap();
    write_frame(&inp.join("l3.tif"), &Frame::F32(two_cells().mapv(|v| v * 10.0 - 5.0))).unwrap();
    fails_naming(&inp, "l3.tif", "[0, 1]");
}

#[test]
fn writing_into_the_input_folder_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let inp = d.path().join("prob");
    std::fs::create_dir(&inp).unwrap();
    write_frame(&inp.join("mask001.tif"), &Frame::F32(two_cells())).unwrap();
    let o = cellstream(&["postprocess", "--input", inp.to_str().unwrap(), "--out", inp.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("input folder"), "{}", stderr(&o));
    assert!(inp.join("mask001.tif").is_file());
}

#[test]
fn merge_fragments_removes_a_speck_far_below_the_median_cell() {
    let d = tempfile::tempdir().unwrap();
    let (inp, out) = (d.path().join("prob"), d.path().join("seg"));
    std::fs::create_dir(&inp).unwrap();
    let mut prob = two_cells();
    prob.slice_mut(ndarray::s![2..5, 52..55]).fill(0.9); // a 9-px speck on its own
    write_frame(&inp.join("t000.tif"), &Frame::F32(prob)).unwrap();
    let labels = |extra: &[&str]| {
        let mut args = vec!["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--min-area", "5"];
        args.extend_from_slice(extra);
        run_ok(&args);
        read_mask(&out.join("mask000.tif")).unwrap().iter().copied().max().unwrap()
    };
    assert_eq!(labels(&[]), 3);
    // Median area about 250 px: the speck is under 0.2 of it and borders nothing.
    assert_eq!(labels(&["--merge-fragments", "0.2"]), 2);
    let o = cellstream(&["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--merge-fragments", "1"]);
    assert!(!o.status.success() && stderr(&o).contains("merge-fragments"), "{}", stderr(&o));
}

#[test]
fn exclude_on_edges_removes_exactly_the_cells_the_frame_cuts() {
    let d = tempfile::tempdir().unwrap();
    let (inp, out) = (d.path().join("prob"), d.path().join("seg"));
    std::fs::create_dir(&inp).unwrap();
    let mut prob = two_cells();
    prob.slice_mut(ndarray::s![10..20, 0..6]).fill(0.9); // a cell cut by the left edge
    prob.slice_mut(ndarray::s![34..40, 50..58]).fill(0.9); // one cut by the bottom edge
    write_frame(&inp.join("t000.tif"), &Frame::F32(prob)).unwrap();
    let mask = |extra: &[&str]| {
        let mut args = vec!["postprocess", "--input", inp.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        run_ok(&args);
        read_mask(&out.join("mask000.tif")).unwrap()
    };
    assert_eq!(mask(&[]).iter().copied().max(), Some(4));
    let inner = mask(&["--exclude-on-edges"]);
    assert_eq!(inner.iter().copied().max(), Some(2), "the two whole cells stay, numbered 1 and 2");
    assert!(cellstream::post::border_labels(inner.view(), 0).is_empty());
    assert_ne!(inner[[20, 20]], inner[[20, 36]]);
    assert!(inner[[20, 20]] != 0 && inner[[20, 36]] != 0);
}

/// ilastik's probability export: a channel a class (background, then
/// cell). `--channel 2` reads the cells' probability, as a one-channel map
/// of it would be read; without it the file is refused, pointing at the flag.
#[test]
fn one_channel_of_several_is_read_with_channel() {
    let d = tempfile::tempdir().unwrap();
    let (two, one) = (d.path().join("two"), d.path().join("one"));
    std::fs::create_dir(&two).unwrap();
    std::fs::create_dir(&one).unwrap();
    let cells = two_cells();
    let background = cells.mapv(|p| 1.0 - p);
    let mut enc = tiff::encoder::TiffEncoder::new(std::fs::File::create(two.join("img_3_Probabilities.tif")).unwrap()).unwrap();
    for page in [&background, &cells] {
        enc.write_image::<tiff::encoder::colortype::Gray32Float>(60, 40, page.as_slice().unwrap()).unwrap();
    }
    drop(enc);
    write_frame(&one.join("img_3.tif"), &Frame::F32(cells)).unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    run_ok(&["postprocess", "--input", two.to_str().unwrap(), "--out", a.to_str().unwrap(), "--channel", "2"]);
    run_ok(&["postprocess", "--input", one.to_str().unwrap(), "--out", b.to_str().unwrap()]);
    assert_eq!(read_mask(&a.join("mask003.tif")).unwrap(), read_mask(&b.join("mask003.tif")).unwrap());
    let o = cellstream(&["postprocess", "--input", two.to_str().unwrap(), "--out", d.path().join("c").to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("img_3_Probabilities.tif") && stderr(&o).contains("--channel"), "{}", stderr(&o));
}
