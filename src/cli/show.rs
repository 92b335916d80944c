//! `traceadal show CAPTURE ID...`: sessions in full, with what the analysis knows of them
//! (issue 21). The capture is analysed as `analyze` does, then read a second time for the
//! sessions asked for, whose bodies the analysis did not keep.

use std::collections::BTreeSet;

use super::{open_capture, output, report_error, stdin, ShowArgs, ShowFormat, Status};
use crate::analysis;
use crate::report::show::{write_text, CaptureRef, ShowDocument, Shown, SCHEMA};

pub fn run(args: &ShowArgs) -> Status {
    let capture = match open_capture(&args.capture, &args.read) {
        Ok(c) => c,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    // `-` is named `<stdin>`, as every command names it.
    let path = stdin::shown(&args.capture);
    let limits = args.read.limits();
    let analysis = match analysis::analyze(&capture, &limits) {
        Ok(a) => a,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    // The ids in the order asked, each once.
    let mut ids: Vec<u64> = Vec::new();
    for &id in &args.ids {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let known: BTreeSet<u64> = analysis.sessions.iter().map(|s| s.id).collect();
    let unknown: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|id| !known.contains(id))
        .collect();
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(u64::to_string).collect();
        let holds = match (known.first(), known.last()) {
            (Some(a), Some(b)) => format!("its sessions are numbered {a} to {b}"),
            _ => "it holds no readable session".to_string(),
        };
        let unreadable: Vec<String> = unknown
            .iter()
            .filter_map(|id| {
                analysis
                    .errors
                    .iter()
                    .find(|e| e.session == Some(*id))
                    .map(|e| format!("session {id} could not be read: {}", e.message))
            })
            .collect();
        report_error(format!(
            "{path}: no session {} in this capture ({holds}; `traceadal sessions {}` lists them){}",
            list.join(", "),
            args.capture.display(),
            if unreadable.is_empty() {
                String::new()
            } else {
                format!("; {}", unreadable.join("; "))
            }
        ));
        return Status::Unreadable;
    }
    let wanted: BTreeSet<u64> = ids.iter().copied().collect();
    let shown = capture.map_sessions(|r| match r {
        Ok(s) if wanted.contains(&s.id) => {
            Some(Shown::of(&s, &analysis, &limits, args.show_secrets))
        }
        _ => None,
    });
    let mut shown: Vec<Shown> = match shown {
        Ok(v) => v.into_iter().flatten().collect(),
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    // A capture may number two sessions alike (a damaged SAZ): show the first.
    let mut ordered = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(i) = shown.iter().position(|s| s.id == *id) {
            ordered.push(shown.swap_remove(i));
        }
    }
    let redactor = output::redactor(args.show_secrets);
    for s in &mut ordered {
        s.hide_hex(|text| redactor.text(text) != text);
        s.map_text(|text| redactor.text(text).into_owned());
    }
    let format = capture.format().as_str().to_string();
    let written = output::emit(None, &redactor, |out| match args.format {
        ShowFormat::Text => write_text(out, &ordered),
        ShowFormat::Json => {
            let doc = ShowDocument {
                schema: SCHEMA,
                capture: CaptureRef {
                    path: &path,
                    format: &format,
                },
                sessions: &ordered,
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
    });
    match written {
        Ok(()) => Status::Clean,
        Err(e) => {
            report_error(e);
            Status::Unreadable
        }
    }
}
