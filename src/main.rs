//! The `wpc` binary: all of it lives in the library's CLI layer.

fn main() -> std::process::ExitCode {
    wpc::cli::main()
}
