//! Writes generated captures for `scripts/bench.sh` (and for people trying `traceadal batch`).
//!
//! ```text
//! cargo run --release --example gencaptures -- single DIR SESSIONS [--clean] [--no-large]
//!     DIR/outlook-SESSIONS.saz and DIR/outlook-SESSIONS.har
//! cargo run --release --example gencaptures -- queue DIR COUNT SESSIONS
//!     COUNT captures in DIR/ticket-NNN/, SAZ and HAR alternating, tenants and outcomes mixed
//! ```
//! The same arguments always write the same bytes.

#[path = "../tests/support/gen.rs"]
mod capgen;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: gencaptures single DIR SESSIONS [--clean] [--no-large]\n       gencaptures queue DIR COUNT SESSIONS"
    );
    ExitCode::from(2)
}

fn number(s: Option<&String>) -> Option<usize> {
    s.and_then(|s| s.replace('_', "").parse().ok())
}

fn single(dir: &Path, n: usize, clean: bool, large: bool) -> std::io::Result<Vec<PathBuf>> {
    let mut s = if clean {
        capgen::Scenario::clean("contoso.com")
    } else {
        capgen::Scenario::broken("contoso.com")
    };
    s.large_body = large;
    let saz = dir.join(format!("outlook-{n}.saz"));
    let har = dir.join(format!("outlook-{n}.har"));
    capgen::write_saz(&saz, n, &s)?;
    capgen::write_har(&har, n, &s)?;
    Ok(vec![saz, har])
}

/// The scenario of the `i`-th capture of a queue: three tenants, every fourth capture clean.
pub fn queue_scenario(i: usize) -> capgen::Scenario {
    let domain = ["contoso.com", "fabrikam.com", "adatum.com"][i % 3];
    let mut s = if i % 4 == 3 {
        capgen::Scenario::clean(domain)
    } else {
        capgen::Scenario::broken(domain)
    };
    s.large_body = false;
    s
}

fn queue(dir: &Path, count: usize, n: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for i in 0..count {
        let ticket = dir.join(format!("ticket-{:03}", i / 2));
        std::fs::create_dir_all(&ticket)?;
        let s = queue_scenario(i);
        let path = if i % 2 == 0 {
            let p = ticket.join(format!("outlook-{i:03}.saz"));
            capgen::write_saz(&p, n, &s)?;
            p
        } else {
            let p = ticket.join(format!("browser-{i:03}.har"));
            capgen::write_har(&p, n, &s)?;
            p
        };
        out.push(path);
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let written = match positional.first().map(|s| s.as_str()) {
        Some("single") => match (positional.get(1), number(positional.get(2).copied())) {
            (Some(dir), Some(n)) => std::fs::create_dir_all(dir)
                .and_then(|_| single(Path::new(dir), n, flag("--clean"), !flag("--no-large"))),
            _ => return usage(),
        },
        Some("queue") => match (
            positional.get(1),
            number(positional.get(2).copied()),
            number(positional.get(3).copied()),
        ) {
            (Some(dir), Some(count), Some(n)) => {
                std::fs::create_dir_all(dir).and_then(|_| queue(Path::new(dir), count, n))
            }
            _ => return usage(),
        },
        _ => return usage(),
    };
    match written {
        Ok(paths) => {
            for p in paths {
                println!("{}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gencaptures: {e}");
            ExitCode::FAILURE
        }
    }
}
