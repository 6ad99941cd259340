//! Outputs written all or nothing: files staged beside their destination, and checks that an output neither lies in an input nor is named twice.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::error::{CtcError, Result};

/// Checks, before any work, that a file can be written at `path`: its
/// folder exists and `path` is not a folder. Commands that write several
/// files check them all first, so that a bad one is named before any is
/// written.
pub fn check_output_file(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(CtcError::new(path, "is a folder; give the name of a file to write"));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(CtcError::new(path, format!("cannot be written: the folder {} does not exist", dir.display())));
    }
    Ok(())
}

/// Refuses an output that is, or lies inside, one of `inputs` (a folder or
/// file the command reads: writing there would destroy what it reads), or
/// that is named twice. Links and `..` are resolved, so another spelling of
/// an input is caught. (Each output's own checks, such as
/// [`check_output_file`], are the caller's.)
pub fn check_outputs_apart(outputs: &[&Path], inputs: &[&Path]) -> Result<()> {
    // Where a path is or would be: its folder resolved, then its name.
    let resolved = |p: &Path| -> Option<std::path::PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    };
    let mut seen: Vec<(std::path::PathBuf, &Path)> = Vec::new();
    for &out in outputs {
        let Some(o) = resolved(out) else { continue };
        for &input in inputs {
            if let Some(i) = resolved(input)
                && o.starts_with(&i)
            {
                let what = if o == i { "is" } else { "lies inside" };
                return Err(CtcError::new(out, format!("{what} {}, which this command reads; write it elsewhere", input.display())));
            }
        }
        if let Some((_, first)) = seen.iter().find(|(p, _)| *p == o) {
            return Err(CtcError::new(out, format!("is named twice (also as {}); give each output its own file", first.display())));
        }
        seen.push((o, out));
    }
    Ok(())
}

/// Writes `path` all or nothing: into a hidden file beside it, moved into
/// place once whole. A failure leaves `path` as it was and no temporary file.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>) -> Result<()> {
    stage_file(path, write)?.commit()
}

/// A file written whole beside its destination under a hidden name, moved
/// into place by [`StagedFile::commit`]; dropped before, it is removed. A
/// command that writes several files stages them all, then commits them,
/// so that one that cannot be written leaves none of them written.
#[must_use = "a staged file is removed unless committed"]
#[derive(Debug)]
pub struct StagedFile {
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    committed: bool,
}

/// Stages `path`'s contents, written by `write` (see [`StagedFile`]).
pub fn stage_file(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>) -> Result<StagedFile> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| CtcError::new(path, "has no file name"))?;
    super::writer::remove_stale(dir, &name.to_string_lossy());
    let staged = StagedFile { tmp: dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id())), path: path.to_path_buf(), committed: false };
    let result = (|| {
        let file = File::create(&staged.tmp)?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_data()
    })();
    result.map_err(|e| CtcError::new(path, format!("cannot write: {e}")))?;
    Ok(staged)
}

impl StagedFile {
    /// Moves the staged file into place, replacing what was there.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.path).map_err(|e| CtcError::new(&self.path, format!("cannot write: {e}")))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_appear_only_when_committed() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.csv"), d.path().join("b.csv"));
        std::fs::write(&a, "earlier").unwrap();
        // Staged, then abandoned (as when a later output fails): nothing changes.
        let staged = stage_file(&a, |w| w.write_all(b"new")).unwrap();
        drop(staged);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "earlier");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "no temporary file left");
        // A write that fails leaves no file either.
        assert!(stage_file(&b, |_| Err(std::io::Error::other("disk full"))).unwrap_err().to_string().contains("b.csv: cannot write: disk full"));
        assert!(!b.exists());
        // Committed, both are in place.
        let staged = [stage_file(&a, |w| w.write_all(b"new")).unwrap(), stage_file(&b, |w| w.write_all(b"b")).unwrap()];
        for f in staged {
            f.commit().unwrap();
        }
        assert_eq!((std::fs::read_to_string(&a).unwrap().as_str(), std::fs::read_to_string(&b).unwrap().as_str()), ("new", "b"));
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }
}
