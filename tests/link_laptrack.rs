//! `cellstream track --masks` links at least as well as laptrack, the Python
//! LAP tracker, on the same masks.
//!
//! Runs `scripts/compare-linkers.py` on its two quick cases (the truth masks
//! of the bundled colony and fluorescence samples, labels shuffled): both
//! results must pass `cellstream validate` (the script fails otherwise), and
//! cellstream's TRA, LNK and BC(0) must reach laptrack's best over its
//! splitting cutoffs. Skipped, with a message, where the Python tools
//! (`.pyenv`, made by `scripts/setup`) are absent.
mod py_support;

#[test]
fn links_the_samples_at_least_as_well_as_laptrack() {
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("linkers.json");
    let args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"--only", &"sample, truth masks", &"--rounds", &"1", &"--binary", &env!("CARGO_BIN_EXE_cellstream"), &"--json", &json];
    if py_support::run_script("compare-linkers.py", &args).is_none() {
        return;
    }
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(rows.len(), 2, "the colony and fluorescence cases: {rows:?}");
    for row in &rows {
        let case = row["case"].as_str().unwrap();
        for measure in ["TRA", "LNK", "BC(0)"] {
            let ours = row["cellstream"][measure].as_f64().unwrap();
            let theirs = row["laptrack"][measure].as_f64().unwrap();
            assert!(ours >= theirs, "{case}: {measure} {ours:.4} below laptrack's {theirs:.4}");
        }
        // Relinking the truth's own masks should give the truth back.
        let bc0 = row["cellstream"]["BC(0)"].as_f64().unwrap();
        assert!(bc0 >= 0.95, "{case}: BC(0) {bc0:.3}");
    }
}
