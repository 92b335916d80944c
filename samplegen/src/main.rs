//! `cargo run -p samplegen -- samples` writes every sample into `samples/`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = match std::env::args_os().nth(1) {
        Some(d) => PathBuf::from(d),
        None => {
            eprintln!("usage: samplegen <output-dir>   (e.g. cargo run -p samplegen -- samples)");
            return ExitCode::from(2);
        }
    };
    match samplegen::write_all(&dir) {
        Ok(files) => {
            println!("wrote {} files to {}", files.len(), dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("samplegen: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
