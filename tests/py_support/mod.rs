//! The Python tools that `scripts/setup` installs into `.pyenv`, for the tests
//! that compare with them; each such test skips, with a message, without them.
#![allow(dead_code)] // each test file uses its part
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `.pyenv/bin/NAME` (`python`, `geff`, …), or `None` after saying that
/// `what` is skipped because it is absent.
pub fn tool(name: &str, what: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pyenv/bin").join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipped {what}: {} is absent (run scripts/setup)", path.display());
        None
    }
}

/// Runs `scripts/SCRIPT` with the venv's Python and `args`, and fails the
/// test with the script's output if it fails. `None` where the venv is absent.
pub fn run_script(script: &str, args: &[&dyn AsRef<OsStr>]) -> Option<()> {
    let python = tool("python", script)?;
    let mut c = Command::new(python);
    c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(script));
    for a in args {
        c.arg(a);
    }
    let out = c.output().unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    assert!(
        out.status.success(),
        "scripts/{script} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(())
}
