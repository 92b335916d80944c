//! The HAR floor: parse a HAR file with the fastest well-kept Rust JSON parser measured
//! (serde_json into `IgnoredAny`: every byte read and validated, nothing built), doing nothing
//! else, and print the number of entries. `scripts/bench.sh` runs it as
//! `target/release/examples/har_floor FILE`; docs/performance.md has the parsers compared.
//! `har_floor --netlog FILE` is the same floor for a Chromium NetLog: the whole document
//! parsed the same way, and the number of its `events` printed.
//!
//! The file is mapped into memory, the cheapest way to have its bytes: reading it into a
//! buffer (`std::fs::read`) copies every byte out of the page cache and faults in a fresh page
//! for each 4 KiB, which on the 55 MiB HAR cost the floor more CPU time (~28 ms) than
//! serde_json's own pass over a third of it. `--read` reads it that way instead, the floor of
//! a reader that, like traceadal's, takes the file through `read(2)`.
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
    let mut flag = |name: &str| match args.iter().position(|a| a == name) {
        Some(i) => {
            args.remove(i);
            true
        }
        None => false,
    };
    let netlog = flag("--netlog");
    let read = flag("--read");
    let [path] = args.as_slice() else {
        eprintln!("usage: har_floor [--netlog] [--read] FILE");
        std::process::exit(2);
    };
    let data = if read {
        Data::read(path)
    } else {
        Data::map(path)
    };
    let data = match data {
        Ok(data) => data,
        Err(e) => {
            eprintln!("har_floor: {}: {e}", path.to_string_lossy());
            std::process::exit(2);
        }
    };
    let data = data.bytes();
    let count = if netlog {
        serde_json::from_slice::<NetLog>(data).map(|n| n.events.len())
    } else {
        serde_json::from_slice::<Har>(data).map(|har| har.log.entries.len())
    };
    match count {
        Ok(n) => println!("{n}"),
        Err(e) => {
            eprintln!("har_floor: {}: {e}", path.to_string_lossy());
            std::process::exit(1);
        }
    }
}

/// The file's bytes: mapped, or read into a buffer (`--read`).
enum Data {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl Data {
    fn map(path: &std::ffi::OsStr) -> std::io::Result<Data> {
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() == 0 {
            // Nothing to map (a zero-length mapping is refused on some systems).
            return Ok(Data::Read(Vec::new()));
        }
        // SAFETY: the mapping is only read, and the benchmark's files do not change while
        // it runs (a file truncated under a mapping would raise SIGBUS, which is why
        // traceadal itself does not map captures).
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
        Ok(Data::Mapped(map))
    }

    fn read(path: &std::ffi::OsStr) -> std::io::Result<Data> {
        std::fs::read(path).map(Data::Read)
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Data::Mapped(map) => map,
            Data::Read(buf) => buf,
        }
    }
}
