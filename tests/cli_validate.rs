//! `cellstream validate`: exit codes and messages on good and bad result folders.
use std::path::Path;
use std::process::Command;

use cellstream::ctc::{self, TrackRecord};
use ndarray::array;

fn validate(dir: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cellstream")).arg("validate").arg(dir).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn good_result(dir: &Path) {
    let w = ctc::ResultWriter::create(dir, 3).unwrap();
    w.write_mask(0, &array![[1, 1, 0], [0, 0, 0]]).unwrap();
    w.write_mask(1, &array![[2, 0, 3], [0, 0, 3]]).unwrap();
    w.finish(&[
        TrackRecord::new(1, 0, 0, 0),
        TrackRecord::new(2, 1, 1, 1),
        TrackRecord::new(3, 1, 1, 1),
    ])
    .unwrap();
}

#[test]
fn a_valid_result_exits_zero() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path().join("01_RES");
    good_result(&r);
    let (code, text) = validate(&r);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("valid CTC result"), "{text}");
}

#[test]
fn bad_folders_name_the_file_and_the_fault() {
    let d = tempfile::tempdir().unwrap();
    // missing folder
    let (code, text) = validate(&d.path().join("nope"));
    assert_ne!(code, 0);
    assert!(text.contains("nope: does not exist"), "{text}");
    // empty folder
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, text) = validate(&empty);
    assert_ne!(code, 0);
    assert!(text.contains("holds no maskTTT.tif"), "{text}");
    // malformed track file
    let r = d.path().join("R1");
    good_result(&r);
    std::fs::write(r.join("res_track.txt"), "1 0 0 0\n2 1 one 1\n").unwrap();
    let (code, text) = validate(&r);
    assert_ne!(code, 0);
    assert!(text.contains("res_track.txt: line 2"), "{text}");
    // corrupt mask
    let r = d.path().join("R2");
    good_result(&r);
    std::fs::write(r.join("mask001.tif"), b"II*\0garbage").unwrap();
    let (code, text) = validate(&r);
    assert_ne!(code, 0);
    assert!(text.contains("mask001.tif") && text.contains("TIFF"), "{text}");
    // gap in the numbering
    let r = d.path().join("R3");
    good_result(&r);
    std::fs::copy(r.join("mask001.tif"), r.join("mask003.tif")).unwrap();
    let (code, text) = validate(&r);
    assert_ne!(code, 0);
    assert!(text.contains("mask002.tif is missing"), "{text}");
    // a mask label missing from the track file
    let r = d.path().join("R4");
    good_result(&r);
    std::fs::write(r.join("res_track.txt"), "1 0 0 0\n2 1 1 1\n").unwrap();
    let (code, text) = validate(&r);
    assert_eq!(code, 1);
    assert!(text.contains("frame 1, label 3: appears in the masks but is not listed"), "{text}");
}

#[test]
fn the_json_report_is_never_written_into_the_result() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path().join("01_RES");
    good_result(&r);
    let before = std::fs::read(r.join("res_track.txt")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cellstream")).arg("validate").arg(&r).arg("--json").arg(r.join("res_track.txt")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && text.contains("res_track.txt: lies inside") && text.contains("which this command reads"), "{text}");
    assert_eq!(std::fs::read(r.join("res_track.txt")).unwrap(), before);
}
