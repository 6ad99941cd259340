//! `cellstream track NN`: the classical segmenter through the streaming pipeline,
//! on the bundled sample; errors mid-run leave nothing behind.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cellstream::ctc;

fn cellstream(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cellstream"));
    for a in args {
        c.arg(a);
    }
    c.output().unwrap()
}

/// The first `n` frames of the bundled fluorescence sample, copied to `dir/01`.
fn sample(dir: &Path, n: usize) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/fluo/01");
    let seq = dir.join("01");
    std::fs::create_dir_all(&seq).unwrap();
    for t in 0..n {
        let name = format!("t{t:03}.tif");
        std::fs::copy(src.join(&name), seq.join(&name)).unwrap();
    }
    seq
}

#[test]
fn tracks_the_sample_into_a_valid_result_with_stats() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 12);
    let stats = d.path().join("cells.csv");
    let o = cellstream(&[&"track", &seq, &"--stats", &stats]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let res = d.path().join("01_RES");
    assert_eq!(ctc::validate_result(&res).unwrap(), vec![], "the default output folder is 01_RES and valid");
    let rows = std::fs::read_to_string(&stats).unwrap();
    assert_eq!(rows.lines().count(), 13, "a header and one row a frame:\n{rows}");
    let first: Vec<&str> = rows.lines().nth(1).unwrap().split(',').collect();
    let cells: usize = first[1].parse().unwrap();
    assert!(cells >= 5, "the sample has some 24 cells, found {cells}");
    let objects = std::fs::read_to_string(d.path().join("cells.objects.csv")).unwrap();
    let per_frame0 = objects.lines().filter(|l| l.starts_with("0,")).count();
    assert_eq!(per_frame0, cells, "one centroid row per cell");
}

#[test]
fn a_corrupt_frame_mid_run_fails_fast_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 12);
    std::fs::write(seq.join("t006.tif"), b"II*\0this is not image data").unwrap();
    let stats = d.path().join("cells.csv");
    let o = cellstream(&[&"track", &seq, &"--out", &d.path().join("R"), &"--stats", &stats]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("t006.tif") && err.contains("TIFF"), "{err}");
    let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("01")], "nothing but the input is left: {left:?}");
}

#[test]
fn bad_sequences_are_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let seq = sample(d.path(), 4);
    std::fs::remove_file(seq.join("t002.tif")).unwrap();
    let o = cellstream(&[&"track", &seq]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("t002.tif is missing"));
    let o = cellstream(&[&"track", &d.path().join("02")]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("02: does not exist"));
    let good = sample(&d.path().join("b"), 2);
    let o = cellstream(&[&"track", &good, &"--out", &d.path().join("01_GT")]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("truth folder"));
}
