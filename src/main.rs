use std::process::ExitCode;

fn main() -> ExitCode {
    cellstream::post::command::reuse_freed_memory();
    cellstream::cli::main()
}
