//! Large Chromium NetLogs for `scripts/bench.sh` (through `examples/gencaptures.rs netlog`):
//! a NetLog recorded from a real Chromium, its events written again and again as if the same
//! sign-ins had happened one after another.
//!
//! The samples' writers have no NetLog side (Chromium's own recordings are the NetLog samples
//! of the tests), so a bulk NetLog is made from one of those recordings rather than from the
//! bulk actors: every copy is Chromium's bytes, with each copy's sources renumbered past the
//! previous copy's (`source.id` and the `source_dependency` links between a request, its
//! stream job and its socket) and its times moved after the previous copy's end. Sources
//! with a negative id (certificate verifier tasks, which no reader joins to a request) are
//! left as they are. Keys come out sorted, as Chromium's JSON writer writes them; one event
//! per line, as `--log-net-log` and net-export write them.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde_json::Value;

/// What a template gives to each copy.
struct Template {
    constants: Value,
    events: Vec<Value>,
    /// One more than the largest non-negative source id: the renumbering step.
    id_step: i64,
    /// The step between copies' times: the span of the template, plus one second.
    time_step: i64,
}

fn invalid(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("NetLog template: {what}"),
    )
}

fn ticks(v: Option<&Value>) -> Option<i64> {
    v?.as_str()?.parse().ok()
}

impl Template {
    fn parse(text: &str) -> io::Result<Template> {
        let doc: Value = serde_json::from_str(text).map_err(invalid)?;
        let constants = doc
            .get("constants")
            .cloned()
            .ok_or_else(|| invalid("no constants"))?;
        let events = doc
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| invalid("no events"))?;
        let ids = events.iter().filter_map(|e| e["source"]["id"].as_i64());
        let id_step = ids
            .filter(|id| *id >= 0)
            .max()
            .ok_or_else(|| invalid("no source"))?
            + 1;
        let times: Vec<i64> = events.iter().filter_map(|e| ticks(e.get("time"))).collect();
        let (Some(&first_time), Some(&last_time)) = (times.iter().min(), times.iter().max()) else {
            return Err(invalid("no event time"));
        };
        Ok(Template {
            constants,
            events,
            id_step,
            time_step: last_time - first_time + 1000,
        })
    }

    /// Event `e` as copy `k` writes it.
    fn copy(&self, e: &Value, k: i64) -> Value {
        let mut e = e.clone();
        let shift_id = |v: &mut Value| {
            if let Some(id) = v.as_i64().filter(|id| *id >= 0) {
                *v = Value::from(id + k * self.id_step);
            }
        };
        let shift_time = |v: &mut Value| {
            if let Some(t) = ticks(Some(v)) {
                *v = Value::from((t + k * self.time_step).to_string());
            }
        };
        shift_id(&mut e["source"]["id"]);
        if let Some(t) = e.get_mut("time") {
            shift_time(t);
        }
        if let Some(t) = e["source"].get_mut("start_time") {
            shift_time(t);
        }
        if let Some(dep) = e
            .get_mut("params")
            .and_then(|p| p.get_mut("source_dependency"))
        {
            shift_id(&mut dep["id"]);
        }
        e
    }
}

/// `copies` copies of the NetLog `template` (its JSON text) written to `path`; the number of
/// events written.
pub fn write_copies(path: &Path, template: &str, copies: usize) -> io::Result<usize> {
    let t = Template::parse(template)?;
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"{\"constants\":")?;
    serde_json::to_writer(&mut out, &t.constants)?;
    out.write_all(b",\n\"events\": [\n")?;
    let mut written = 0;
    for k in 0..copies {
        for e in &t.events {
            if written > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut out, &t.copy(e, k as i64))?;
            written += 1;
        }
    }
    out.write_all(b"\n]}\n")?;
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"{"constants":{"logEventTypes":{"REQUEST_ALIVE":1}},"events":[
{"phase":1,"source":{"id":7,"start_time":"100","type":1},"time":"100","type":1},
{"params":{"source_dependency":{"id":9,"type":2}},"phase":0,"source":{"id":7,"start_time":"100","type":1},"time":"150","type":1},
{"phase":0,"source":{"id":-2147483644,"start_time":"120","type":3},"time":"120","type":1},
{"phase":2,"source":{"id":9,"start_time":"110","type":2},"time":"300","type":1}
]}"#;

    /// A file name of this test process's own in the temporary folder.
    fn scratch(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("netlog-copies-{}-{name}.json", std::process::id()))
    }

    #[test]
    fn copies_renumber_sources_and_links_and_move_times_past_the_previous_copy() {
        let path = scratch("copies");
        assert_eq!(write_copies(&path, TEMPLATE, 3).unwrap(), 12);
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let events = doc["events"].as_array().unwrap();
        let ids: Vec<i64> = events
            .iter()
            .map(|e| e["source"]["id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                7,
                7,
                -2147483644,
                9,
                17,
                17,
                -2147483644,
                19,
                27,
                27,
                -2147483644,
                29
            ]
        );
        // The link from request 7 to job 9 follows both into each copy.
        let links: Vec<i64> = events
            .iter()
            .filter_map(|e| e["params"]["source_dependency"]["id"].as_i64())
            .collect();
        assert_eq!(links, [9, 19, 29]);
        // Span 200 ms plus one second between copies.
        let times: Vec<&str> = events.iter().map(|e| e["time"].as_str().unwrap()).collect();
        assert_eq!(
            times,
            [
                "100", "150", "120", "300", "1300", "1350", "1320", "1500", "2500", "2550", "2520",
                "2700"
            ]
        );
        assert_eq!(events[4]["source"]["start_time"], "1300");
        assert_eq!(
            doc["constants"],
            serde_json::json!({"logEventTypes": {"REQUEST_ALIVE": 1}})
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_template_without_events_or_sources_is_refused() {
        let path = scratch("refused");
        for bad in [
            "{}",
            r#"{"constants":{}}"#,
            r#"{"constants":{},"events":[]}"#,
            "not json",
        ] {
            let e = write_copies(&path, bad, 2).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{bad}");
        }
    }
}
