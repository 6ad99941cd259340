//! The error every CTC reader and writer returns: the file and what is wrong with it.
use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with one file or folder of a CTC dataset, phrased for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtcError {
    /// The file or folder at fault.
    pub path: PathBuf,
    /// What is wrong with it, e.g. "frame t012 is missing (gap between t011 and t013)".
    pub what: String,
}

impl CtcError {
    pub fn new(path: impl AsRef<Path>, what: impl Into<String>) -> Self {
        CtcError { path: path.as_ref().to_path_buf(), what: what.into() }
    }

    pub(crate) fn io(path: impl AsRef<Path>, err: &std::io::Error) -> Self {
        let what = match err.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => err.to_string(),
        };
        CtcError::new(path, what)
    }
}

impl fmt::Display for CtcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.what)
    }
}

impl std::error::Error for CtcError {}

pub type Result<T> = std::result::Result<T, CtcError>;
