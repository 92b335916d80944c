//! The HAR floor: parse a HAR file with the fastest well-kept Rust JSON parser measured
//! (serde_json into `IgnoredAny`: every byte read and validated, nothing built), doing nothing
//! else, and print the number of entries. `scripts/bench.sh` runs it as
//! `target/release/examples/har_floor FILE`; docs/performance.md has the parsers compared.
//! `har_floor --netlog FILE` is the same floor for a Chromium NetLog: the whole document
//! parsed the same way, and the number of its `events` printed.
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

/// A NetLog: `constants` and `events` (and `polledData`), all read, only the events counted.
#[derive(Deserialize)]
struct NetLog {
    events: Vec<IgnoredAny>,
}

fn main() {
    let mut args: Vec<_> = std::env::args_os().skip(1).collect();
    let netlog = args.first().is_some_and(|a| a == "--netlog");
    if netlog {
        args.remove(0);
    }
    let [path] = args.as_slice() else {
        eprintln!("usage: har_floor [--netlog] FILE");
        std::process::exit(2);
    };
    let data = match std::fs::read(path) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("har_floor: {}: {e}", path.to_string_lossy());
            std::process::exit(2);
        }
    };
    let count = if netlog {
        serde_json::from_slice::<NetLog>(&data).map(|n| n.events.len())
    } else {
        serde_json::from_slice::<Har>(&data).map(|har| har.log.entries.len())
    };
    match count {
        Ok(n) => println!("{n}"),
        Err(e) => {
            eprintln!("har_floor: {}: {e}", path.to_string_lossy());
            std::process::exit(1);
        }
    }
}
