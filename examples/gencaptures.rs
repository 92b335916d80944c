//! Writes generated captures for `scripts/bench.sh` (and for people trying `traceadal batch`).
//!
//! ```text
//! cargo run --release --example gencaptures -- single DIR SESSIONS [--clean] [--no-large]
//!     DIR/outlook-SESSIONS.saz and DIR/outlook-SESSIONS.har
//! cargo run --release --example gencaptures -- queue DIR COUNT SESSIONS
//!     COUNT captures in DIR/ticket-NNN/, SAZ and HAR alternating, tenants and outcomes mixed
//! cargo run --release --example gencaptures -- netlog DIR COPIES
//!     DIR/chromium-COPIES.json: COPIES copies of a NetLog recorded from Chromium (8 sessions
//!     of the AADSTS500011 loop each), sources renumbered (`samplegen::netlog_copies`)
//! ```
//! The same arguments always write the same bytes. The captures come from `samplegen::bulk`
//! (the sample generator's actors and writers, streamed).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use samplegen::{bulk, netlog_copies};

/// The recorded NetLog every bulk NetLog copies (tests/recorded/record.sh made it).
const NETLOG_TEMPLATE: &str = include_str!("../tests/recorded/chromium-netlog-500011.json");

fn usage() -> ExitCode {
    eprintln!(
        "usage: gencaptures single DIR SESSIONS [--clean] [--no-large]\n       gencaptures queue DIR COUNT SESSIONS\n       gencaptures netlog DIR COPIES"
    );
    ExitCode::from(2)
}

fn number(s: Option<&String>) -> Option<usize> {
    s.and_then(|s| s.replace('_', "").parse().ok())
}

fn single(dir: &Path, n: usize, clean: bool, large: bool) -> std::io::Result<Vec<PathBuf>> {
    let mut s = if clean {
        bulk::Scenario::clean("contoso.com")
    } else {
        bulk::Scenario::broken("contoso.com")
    };
    s.large_body = large;
    let saz = dir.join(format!("outlook-{n}.saz"));
    let har = dir.join(format!("outlook-{n}.har"));
    bulk::write_saz(&saz, n, &s)?;
    bulk::write_har(&har, n, &s)?;
    Ok(vec![saz, har])
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
            (Some(dir), Some(count), Some(n)) => std::fs::create_dir_all(dir)
                .and_then(|_| bulk::write_queue(Path::new(dir), count, n)),
            _ => return usage(),
        },
        Some("netlog") => match (positional.get(1), number(positional.get(2).copied())) {
            (Some(dir), Some(copies)) => std::fs::create_dir_all(dir).and_then(|_| {
                let path = Path::new(dir).join(format!("chromium-{copies}.json"));
                netlog_copies::write_copies(&path, NETLOG_TEMPLATE, copies).map(|_| vec![path])
            }),
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
