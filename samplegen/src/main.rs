//! `cargo run -p samplegen -- samples` writes every sample into `samples/`;
//! `cargo run -p samplegen -- noisy <scenario> <dir>` writes the scenario with the noise layer
//! (`<scenario>.noisy.saz`, `<scenario>.noisy.har`) into `<dir>`, for a look by hand;
//! `cargo run -p samplegen -- adversarial <dir>` writes the adversarial set (issue 17) and
//! its `cases.tsv` into `<dir>`.

use std::path::PathBuf;
use std::process::ExitCode;

fn noisy(name: &str, dir: &str) -> ExitCode {
    let (Some(saz), Some(har)) = (samplegen::noisy_saz(name), samplegen::noisy_har(name)) else {
        eprintln!("samplegen: no noisy form of {name} (unknown or inconclusive scenario)");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    let write =
        |ext: &str, data: &[u8]| std::fs::write(dir.join(format!("{name}.noisy.{ext}")), data);
    match write("saz", &saz).and_then(|()| write("har", &har)) {
        Ok(()) => {
            println!(
                "wrote {name}.noisy.saz and {name}.noisy.har to {}",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("samplegen: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, name, dir] = args.as_slice() {
        if cmd == "noisy" {
            return noisy(name, dir);
        }
    }
    if let [cmd, dir] = args.as_slice() {
        if cmd == "adversarial" {
            return match samplegen::adversarial::write_all(&PathBuf::from(dir)) {
                Ok(files) => {
                    println!("wrote {} cases and cases.tsv to {dir}", files.len() - 1);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("samplegen: {dir}: {e}");
                    ExitCode::FAILURE
                }
            };
        }
    }
    let dir = match args.first() {
        Some(d) if args.len() == 1 => PathBuf::from(d),
        _ => {
            eprintln!("usage: samplegen <output-dir>   (e.g. cargo run -p samplegen -- samples)\n       samplegen noisy <scenario> <dir>\n       samplegen adversarial <dir>");
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
