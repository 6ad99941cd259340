//! `cellstream postprocess` agrees with the same chain in scikit-image/scipy.
//!
//! Runs `scripts/compare-post.py` on a small synthetic input (it draws touching
//! cells as float probability TIFFs, runs both chains and writes the figures as
//! JSON) and checks the mean best IoU of scikit-image's objects. Skipped, with a
//! message, where the Python tools (`.pyenv`, made by `scripts/setup`) are absent.
use std::path::Path;
use std::process::Command;

#[test]
fn agrees_with_scikit_image_on_touching_cells() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".pyenv/bin/python");
    if !python.exists() {
        eprintln!("skipping: {} is absent (run scripts/setup)", python.display());
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("figures.json");
    let out = Command::new(&python)
        .arg(root.join("scripts/compare-post.py"))
        .args(["--width", "320", "--height", "240", "--cells", "40", "--frames", "2", "--rounds", "1", "--seed", "3"])
        .args(["--threshold", "0.5", "--closing-radius", "2", "--min-area", "30", "--min-distance", "5"])
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_cellstream"))
        .arg("--json")
        .arg(&json)
        .output()
        .expect("run scripts/compare-post.py");
    assert!(
        out.status.success(),
        "compare-post.py failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let iou = figures["mean_best_iou"].as_f64().expect("mean_best_iou in the JSON");
    let objects = figures["skimage_objects_per_frame"].as_f64().unwrap();
    assert!(objects >= 10.0, "too few objects to compare: {figures}");
    assert!(iou >= 0.95, "mean best IoU with scikit-image {iou:.4} < 0.95: {figures}");
}
