//! The `traceadal` command: parse the command line, call the library, map the outcome to an
//! exit code. Everything else lives in the library.

fn main() {
    std::process::exit(0);
}
