//! The `traceadal` command: parse the command line, call the library, map the outcome to an
//! exit code. Everything else lives in the library.

use clap::Parser;
use traceadal::cli::{self, Cli, Status};

/// The allocator decides peak memory here. glibc's kept freed per-session buffers (inflate
/// windows, de-chunked bodies of every size) in fragmented per-thread arenas: reading a
/// 10k-session SAZ held 140 MB resident for 14 MB of live heap (1.6 GB at 100k). mimalloc
/// fixed SAZ but held HAR entries freed on another thread than the parser's (58 MB for
/// `sessions` on the 10k HAR, glibc 16 MB). jemalloc does best on both; docs/performance.md.
/// It does not build for MSVC (Windows): there the system allocator is used.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let usage_error = e.use_stderr();
            // --help and --version print to stdout and exit 0; usage errors exit 2.
            let _ = e.print();
            std::process::exit(if usage_error {
                Status::Unreadable as i32
            } else {
                0
            });
        }
    };
    std::process::exit(cli::run(cli) as i32);
}
