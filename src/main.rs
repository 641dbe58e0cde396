//! The `wpc` binary: all of it lives in the library's CLI layer.

// A check allocates many small, short-lived nodes across threads; mimalloc
// cuts the time glibc's allocator spends on them by more than half.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wpc::cli::main()
}
