//! The HAR floor: parse a HAR file with the fastest well-kept Rust JSON parser measured
//! (serde_json into `IgnoredAny`: every byte read and validated, nothing built), doing nothing
//! else, and print the number of entries. `scripts/bench.sh` runs it as
//! `target/release/examples/har_floor FILE`; docs/performance.md has the parsers compared.
use serde::de::IgnoredAny;
use serde::Deserialize;

#[derive(Deserialize)]
struct Har {
    log: Log,
}

#[derive(Deserialize)]
struct Log {
    entries: Vec<IgnoredAny>,
}

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: har_floor FILE");
        std::process::exit(2);
    };
    let data = match std::fs::read(&path) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("har_floor: {}: {e}", path.to_string_lossy());
            std::process::exit(2);
        }
    };
    match serde_json::from_slice::<Har>(&data) {
        Ok(har) => println!("{}", har.log.entries.len()),
        Err(e) => {
            eprintln!("har_floor: {}: {e}", path.to_string_lossy());
            std::process::exit(1);
        }
    }
}
