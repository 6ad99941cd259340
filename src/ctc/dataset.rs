//! CTC dataset folders: the sequences `NN` in them, their truth `NN_GT` or `NN_ST`, and the results `NN_RES`.
use std::path::{Path, PathBuf};

use super::sequence::{holds_tiff_files, list_frame_files, read_dir_names};

/// The sequence folders of a CTC dataset folder (`Fluo-N2DL-HeLa/01`,
/// `…/02`): its subfolders named by a number that hold TIFF files, in order.
/// Empty for any other folder.
///
/// ```
/// # let d = tempfile::tempdir().unwrap();
/// for s in ["02", "01", "01_GT"] {
///     std::fs::create_dir(d.path().join(s)).unwrap();
///     std::fs::write(d.path().join(s).join("t000.tif"), b"").unwrap();
/// }
/// std::fs::create_dir(d.path().join("03")).unwrap(); // no TIFF in it
/// assert_eq!(cellstream::ctc::dataset_sequences(d.path()), ["01", "02"]);
/// ```
pub fn dataset_sequences(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = read_dir_names(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && holds_tiff_files(&dir.join(n)).unwrap_or(false))
        .collect();
    out.sort_by_key(|n| (n.parse::<u64>().unwrap_or(u64::MAX), n.clone()));
    out
}

/// The names of sequence `name`'s truth folders, best first: gold truth
/// `NN_GT`, then silver truth `NN_ST`.
///
/// ```
/// assert_eq!(cellstream::ctc::truth_names("02"), ["02_GT", "02_ST"]);
/// ```
pub fn truth_names(name: &str) -> [String; 2] {
    [format!("{name}_GT"), format!("{name}_ST")]
}

/// The truth folders of sequence `name` in `dataset` that exist, best first:
/// `NN_GT`, then `NN_ST`.
pub fn truth_folders(dataset: &Path, name: &str) -> Vec<PathBuf> {
    truth_names(name).into_iter().map(|n| dataset.join(n)).filter(|p| p.is_dir()).collect()
}

/// The truth folder of sequence `name` in `dataset`: `NN_GT` where there is
/// one, else `NN_ST`; None for neither.
pub fn dataset_truth(dataset: &Path, name: &str) -> Option<PathBuf> {
    truth_folders(dataset, name).into_iter().next()
}

/// The result folders of a CTC dataset folder (`01_RES`, `02_RES`: a number,
/// then `_RES`), by name; None for a folder that holds masks itself, or no
/// such folder.
///
/// ```
/// # let d = tempfile::tempdir().unwrap();
/// for s in ["02_RES", "01_RES", "01", "x_RES"] {
///     std::fs::create_dir(d.path().join(s)).unwrap();
/// }
/// assert_eq!(cellstream::ctc::dataset_results(d.path()), Some(vec!["01_RES".to_string(), "02_RES".to_string()]));
/// assert_eq!(cellstream::ctc::dataset_results(&d.path().join("01")), None);
/// ```
pub fn dataset_results(dir: &Path) -> Option<Vec<String>> {
    if !dir.is_dir() || list_frame_files(dir, "mask").is_ok_and(|f| !f.is_empty()) {
        return None;
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| result_sequence(n).is_some())
        .collect();
    names.sort();
    (!names.is_empty()).then_some(names)
}

/// The sequence a result folder is named after: `01` for `01_RES`; None for
/// a name that is not a number followed by `_RES`.
///
/// ```
/// use cellstream::ctc::result_sequence;
/// assert_eq!((result_sequence("01_RES"), result_sequence("_RES"), result_sequence("a_RES")), (Some("01"), None, None));
/// ```
pub fn result_sequence(name: &str) -> Option<&str> {
    name.strip_suffix("_RES").filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}
