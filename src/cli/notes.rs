//! What `redact` and `convert` tell the user about entries, grouped when many entries share
//! one reason.
//!
//! A rewriter notes each entry it changed beyond its secrets: `raw/60_s.txt: body replaced
//! by a placeholder (binary content is not kept)`. A capture of Outlook on the web holds
//! hundreds of images and fonts, and a line for each buried the few notes that matter (an
//! entry that did not decode, one left out) under a screenful of the same sentence. Notes
//! that name an entry and say the same thing of more than [`GROUP_FROM`] entries become one
//! line naming the first [`NAMED`] and counting the rest; the copy still marks every such
//! entry (`X-Traceadal-Redacted`, docs/secrets.md), so nothing is lost by not listing it.

use std::collections::HashMap;

/// Reasons shared by this many entries or fewer are listed entry by entry, as before.
const GROUP_FROM: usize = 3;

/// Entries named in a grouped line.
const NAMED: usize = 5;

/// `notes` in their order, those about more than [`GROUP_FROM`] entries for the same reason
/// made one line where the first of them stood:
/// `143 entries (raw/60_s.txt, raw/130_s.txt, raw/200_s.txt, raw/270_s.txt, raw/340_s.txt
/// and 138 more): body replaced by a placeholder (binary content is not kept)`.
pub(super) fn grouped(notes: &[String]) -> Vec<String> {
    let mut labels: HashMap<&str, Vec<&str>> = HashMap::new();
    for note in notes {
        if let Some((label, why)) = about_entry(note) {
            labels.entry(why).or_default().push(label);
        }
    }
    let mut out = Vec::with_capacity(notes.len());
    for note in notes {
        let Some((_, why)) = about_entry(note) else {
            out.push(note.clone());
            continue;
        };
        match labels.get_mut(why) {
            Some(named) if named.len() > GROUP_FROM => {
                let shown = named[..NAMED.min(named.len())].join(", ");
                let line = match named.len().checked_sub(NAMED) {
                    Some(rest) if rest > 0 => {
                        format!("{} entries ({shown} and {rest} more): {why}", named.len())
                    }
                    _ => format!("{} entries ({shown}): {why}", named.len()),
                };
                out.push(line);
                // The group is written once, where its first note stood.
                named.clear();
            }
            Some(named) if named.is_empty() => {}
            _ => out.push(note.clone()),
        }
    }
    out
}

/// A note's entry label and what it says of the entry, when it starts with a label the
/// rewriters write: a SAZ entry's name in the session layout (`raw/12_s.txt`), a SAZ entry by
/// its index (`entry #3`) or a HAR entry by its number (`entry 7`). Entry names outside the
/// layout are never written (they are capture content), so nothing else is taken for one.
fn about_entry(note: &str) -> Option<(&str, &str)> {
    let (label, why) = note.split_once(": ")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let saz_name = label.strip_prefix("raw/").is_some_and(|rest| {
        ["_c.txt", "_s.txt", "_m.xml", "_w.txt"]
            .iter()
            .any(|kind| rest.strip_suffix(kind).is_some_and(digits))
    });
    let numbered = label
        .strip_prefix("entry ")
        .is_some_and(|n| digits(n.strip_prefix('#').unwrap_or(n)));
    (saz_name || numbered).then_some((label, why))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    const BINARY: &str = "body replaced by a placeholder (binary content is not kept)";

    #[test]
    fn three_entries_with_one_reason_stay_one_line_each() {
        let given = notes(&[
            "raw/1_s.txt: body replaced by a placeholder (binary content is not kept)",
            "1 directory entry left out",
            "raw/2_s.txt: body replaced by a placeholder (binary content is not kept)",
            "raw/3_s.txt: body replaced by a placeholder (binary content is not kept)",
        ]);
        assert_eq!(grouped(&given), given);
    }

    #[test]
    fn four_entries_with_one_reason_are_one_line_where_the_first_stood() {
        let given = notes(&[
            "raw/2_c.txt: the body decodes only in part (bad chunked framing); the rest was dropped",
            "raw/4_s.txt: body replaced by a placeholder (binary content is not kept)",
            "raw/7_s.txt: body replaced by a placeholder (binary content is not kept)",
            "raw/9_s.txt: damaged entry data (bad compressed data or checksum); rewritten from what was read",
            "raw/11_s.txt: body replaced by a placeholder (binary content is not kept)",
            "raw/12_c.txt: body replaced by a placeholder (binary content is not kept)",
            "1 entry not in the SAZ layout left out (names not shown)",
        ]);
        assert_eq!(
            grouped(&given),
            notes(&[
                "raw/2_c.txt: the body decodes only in part (bad chunked framing); the rest was dropped",
                &format!("4 entries (raw/4_s.txt, raw/7_s.txt, raw/11_s.txt, raw/12_c.txt): {BINARY}"),
                "raw/9_s.txt: damaged entry data (bad compressed data or checksum); rewritten from what was read",
                "1 entry not in the SAZ layout left out (names not shown)",
            ])
        );
    }

    #[test]
    fn past_five_names_the_rest_are_counted() {
        let given: Vec<String> = (1..=143)
            .map(|i| format!("raw/{}_s.txt: {BINARY}", i * 70))
            .collect();
        assert_eq!(
            grouped(&given),
            [format!(
                "143 entries (raw/70_s.txt, raw/140_s.txt, raw/210_s.txt, raw/280_s.txt, \
                 raw/350_s.txt and 138 more): {BINARY}"
            )]
        );
    }

    #[test]
    fn reasons_are_grouped_apart_and_har_entries_too() {
        let mut given = Vec::new();
        for i in 1..=6 {
            given.push(format!(
                "entry {i}: response body replaced by a placeholder (a token answer)"
            ));
            given.push(format!("entry #{i}: unsupported compression method (Lzma); replaced by a placeholder entry"));
        }
        given.push("entry 9: a binary websocket message of 17 bytes of base64 that does not decode; replaced by a placeholder".into());
        assert_eq!(
            grouped(&given),
            [
                "6 entries (entry 1, entry 2, entry 3, entry 4, entry 5 and 1 more): response body replaced by a placeholder (a token answer)",
                "6 entries (entry #1, entry #2, entry #3, entry #4, entry #5 and 1 more): unsupported compression method (Lzma); replaced by a placeholder entry",
                "entry 9: a binary websocket message of 17 bytes of base64 that does not decode; replaced by a placeholder",
            ]
        );
    }

    /// A note that does not start with a label the rewriters write is never taken apart,
    /// however often it comes: its first words are not an entry's name.
    #[test]
    fn notes_without_an_entry_label_are_left_as_they_are() {
        let given = notes(&[
            "raw/x_s.txt: body replaced",
            "raw/x_s.txt: body replaced",
            "raw/x_s.txt: body replaced",
            "raw/x_s.txt: body replaced",
            "entry one: body replaced",
            "entry one: body replaced",
            "entry one: body replaced",
            "entry one: body replaced",
            "raw/1_x.txt: body replaced",
            "raw/2_x.txt: body replaced",
            "raw/3_x.txt: body replaced",
            "raw/4_x.txt: body replaced",
            "no label at all",
        ]);
        assert_eq!(grouped(&given), given);
    }
}
