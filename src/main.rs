use std::process::ExitCode;

fn main() -> ExitCode {
    cellstream::cli::main()
}
