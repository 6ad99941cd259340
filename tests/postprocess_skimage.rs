//! `cellstream postprocess` agrees with the same chain in scikit-image/scipy.
//!
//! Runs `scripts/compare-post.py` on a small synthetic input (it draws touching
//! cells as float probability TIFFs, runs both chains and writes the figures as
//! JSON) and checks the mean best IoU of scikit-image's objects. Skipped, with a
//! message, where the Python tools (`.pyenv`, made by `scripts/setup`) are absent.
mod py_support;

#[test]
fn agrees_with_scikit_image_on_touching_cells() {
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("figures.json");
    let args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"--width", &"320", &"--height", &"240", &"--cells", &"40", &"--frames", &"2", &"--rounds", &"1", &"--seed", &"3",
        &"--threshold", &"0.5", &"--closing-radius", &"2", &"--min-area", &"30", &"--min-distance", &"5",
        &"--binary", &env!("CARGO_BIN_EXE_cellstream"), &"--json", &json,
    ];
    if py_support::run_script("compare-post.py", &args).is_none() {
        return;
    }
    let figures: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let iou = figures["mean_best_iou"].as_f64().expect("mean_best_iou in the JSON");
    let objects = figures["skimage_objects_per_frame"].as_f64().unwrap();
    assert!(objects >= 10.0, "too few objects to compare: {figures}");
    assert!(iou >= 0.95, "mean best IoU with scikit-image {iou:.4} < 0.95: {figures}");
}
