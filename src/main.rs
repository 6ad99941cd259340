//! The `cellstream` binary: the command line of [`cellstream::cli`], ended by `_exit` once its output is written.
use std::io::Write;
use std::process::ExitCode;

fn main() {
    cellstream::cli::reuse_freed_memory();
    let code = cellstream::cli::main();
    // ExitCode hides its number: the statuses the commands use are told apart here.
    let status = if code == ExitCode::SUCCESS {
        0
    } else if code == ExitCode::from(cellstream::cli::INTERRUPTED_STATUS) {
        cellstream::cli::INTERRUPTED_STATUS.into()
    } else {
        1
    };
    leave(status)
}

/// Ends the process once its output is written and flushed, without running
/// destructors: every result file is already renamed into place, and running
/// the C++ libraries' destructors and freeing the run's memory block by block
/// only delays the exit (0.34–0.38 s from the last rename to the end of a
/// 1024² `track` before, 0.16–0.19 s after), as clang's `-disable-free`
/// skips it for the same reason.
fn leave(status: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; all output was flushed above and
    // no other thread holds state that must reach a file (the commands join
    // their threads before returning).
    unsafe { libc::_exit(status) }
}
