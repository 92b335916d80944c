//! The `traceadal` command: parse the command line, call the library, map the outcome to an
//! exit code. Everything else lives in the library.

#![forbid(unsafe_code)]

use clap::Parser;
use traceadal::cli::{self, Cli, Status};

mod allocator;

fn main() {
    allocator::tune();
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
