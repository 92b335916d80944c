//! Laying a table out within a width without cutting a word (issue 20).
//!
//! comfy-table splits a word that is longer than its column, which broke correlation ids,
//! AppIds, cmdlets, finding ids, codes and dates over two lines, where a paste into the
//! Entra sign-in logs or a shell fails. [`fit`] gives every column at least the width of its
//! longest word (header included): cells then wrap only at spaces and line breaks. When
//! those widths do not fit the table's width, the table becomes a list instead: one block
//! per row, each cell after its header, wrapped at word boundaries ([`records`]); a word
//! longer than the whole width overflows the line, whole.

use comfy_table::{ColumnConstraint, Table, Width};

/// The width of a table whose caller set none.
pub const FIXED_WIDTH: u16 = 120;

/// The longest word of `text`, in characters: a run between spaces and line breaks (where
/// the table wraps), a date and its time (`2026-11-20 07:14:02Z`) counted as one.
fn longest_word(text: &str) -> usize {
    glue_dates(text)
        .split([' ', '\n'])
        .map(|w| w.trim_end_matches('\r').chars().count())
        .max()
        .unwrap_or(0)
}

/// What holds a date and its time together while text is wrapped: wrapping splits at ASCII
/// spaces only, and this is not one. Turned back into a space once the text is wrapped.
const GLUE: char = '\u{a0}';

/// `text` with the space between a date and its time (`2026-11-20 07:14:02Z`, as evidence
/// writes times) replaced by [`GLUE`], so a wrap never puts them on two lines (issue 20).
fn glue_dates(text: &str) -> std::borrow::Cow<'_, str> {
    // `dddd-dd-dd` ending at `i` (exclusive), not the tail of a longer word.
    let date_before = |b: &[u8], i: usize| {
        i >= 10
            && b[i - 10..i].iter().enumerate().all(|(k, c)| {
                if k == 4 || k == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            })
            && (i == 10 || !b[i - 11].is_ascii_alphanumeric())
    };
    // `dd:dd` starting at `i`.
    let time_at = |b: &[u8], i: usize| {
        b.get(i..i + 5).is_some_and(|t| {
            t.iter().enumerate().all(|(k, c)| {
                if k == 2 {
                    *c == b':'
                } else {
                    c.is_ascii_digit()
                }
            })
        })
    };
    let b = text.as_bytes();
    let joins: Vec<usize> = (0..b.len())
        .filter(|&i| b[i] == b' ' && date_before(b, i) && time_at(b, i + 1))
        .collect();
    if joins.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + joins.len());
    let mut from = 0;
    for i in joins {
        out.push_str(&text[from..i]);
        out.push(GLUE);
        from = i + 1;
    }
    out.push_str(&text[from..]);
    std::borrow::Cow::Owned(out)
}

/// `t` rendered within its width (`set_width`, else [`FIXED_WIDTH`]), no word cut.
pub fn fit(t: &mut Table) -> String {
    let width = usize::from(t.width().unwrap_or(FIXED_WIDTH));
    let columns = t.column_count();
    let padding = |t: &Table, c: usize| t.column(c).map_or(2, |c| usize::from(c.padding_width()));
    // Each column's narrowest width that cuts no word, padding included.
    let minimum: Vec<usize> = (0..columns)
        .map(|c| {
            let longest = t
                .column_cells_with_header_iter(c)
                .flatten()
                .map(|cell| longest_word(&cell.content()))
                .max()
                .unwrap_or(0);
            longest.max(1) + padding(t, c)
        })
        .collect();
    // What the caller asked for on top (a URL column kept whole, say), where it fits.
    let asked: Vec<usize> = (0..columns)
        .map(|c| match t.column(c).and_then(|c| c.constraint()) {
            Some(ColumnConstraint::LowerBoundary(Width::Fixed(w))) => {
                usize::from(*w).max(minimum[c])
            }
            _ => minimum[c],
        })
        .collect();
    // Borders: one between and one each side of the columns.
    let total = |widths: &[usize]| widths.iter().sum::<usize>() + columns + 1;
    let widths = if total(&asked) <= width {
        asked
    } else if total(&minimum) <= width {
        minimum
    } else {
        return records(t, width);
    };
    for (c, w) in widths.into_iter().enumerate() {
        if let (Some(column), Ok(w)) = (t.column_mut(c), u16::try_from(w)) {
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(w)));
        }
    }
    t.to_string()
}

/// `t` as a list within `width`: per row, each non-empty cell after its header, the
/// header's column padded to the longest header, rows apart by a blank line.
pub fn records(t: &Table, width: usize) -> String {
    let headers: Vec<String> = t
        .header()
        .map(|h| {
            h.cell_iter()
                .map(|c| c.content().split_whitespace().collect::<Vec<_>>().join(" "))
                .collect()
        })
        .unwrap_or_default();
    let label = headers.iter().map(|h| h.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (i, row) in t.row_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (c, cell) in row.cell_iter().enumerate() {
            let content = cell.content();
            if content.trim().is_empty() {
                continue;
            }
            let header = headers.get(c).map_or("", String::as_str);
            let mut lead = format!("{header:<label$}  ");
            let rest = " ".repeat(lead.chars().count());
            for line in content.lines() {
                out.push_str(&wrap_words(line, &lead, &rest, width));
                lead.clone_from(&rest);
            }
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// `text` after `lead`, wrapped at `width` under `rest`, never inside a word: GUIDs,
/// cmdlets, ids and dates hold hyphens, so no hyphenation either. Each line ends in `\n`.
pub fn wrap_words(text: &str, lead: &str, rest: &str, width: usize) -> String {
    let options = textwrap::Options::new(width.max(1))
        .initial_indent(lead)
        .subsequent_indent(rest)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut out = String::new();
    let text = glue_dates(text);
    for line in textwrap::wrap(&text, options) {
        out.push_str(&line.trim_end().replace(GLUE, " "));
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str(lead.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use comfy_table::presets::UTF8_FULL_CONDENSED;
    use comfy_table::ContentArrangement;

    fn table(width: u16) -> Table {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(width);
        t.set_header(vec!["Code", "Correlation", "Meaning"]);
        t.add_row(vec![
            "AADSTS500011",
            "8f52adc8-765c-425a-9ae1-80d41747433a",
            "No service principal in the tenant carries the name of the resource the client asked for.",
        ]);
        t
    }

    /// Every word of the cells is on one line of the output.
    fn whole(out: &str) {
        for word in [
            "AADSTS500011",
            "8f52adc8-765c-425a-9ae1-80d41747433a",
            "Correlation",
            "principal",
        ] {
            assert!(out.contains(word), "{word} cut in:\n{out}");
        }
    }

    #[test]
    fn a_table_that_fits_cuts_no_word() {
        for width in [70, 80, 120, 200] {
            let out = fit(&mut table(width));
            whole(&out);
            assert!(out.contains('┆'), "a table at {width}:\n{out}");
            let widest = out.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            assert!(widest <= usize::from(width), "wider than {width}:\n{out}");
        }
    }

    #[test]
    fn a_table_that_does_not_fit_becomes_a_list() {
        let out = fit(&mut table(40));
        whole(&out);
        assert!(!out.contains('┆'));
        assert!(out.starts_with("Code         AADSTS500011\nCorrelation  8f52adc8"));
        // The prose wraps under itself, within the width; the GUID overflows, whole.
        for line in out.lines().filter(|l| !l.contains("8f52adc8")) {
            assert!(line.chars().count() <= 40, "{out}");
        }
        // A word longer than the width overflows whole.
        let out = fit(&mut table(20));
        whole(&out);
    }

    /// Issue 20: "at 2026-11-20 07:14:02Z" wrapped between the date and the time.
    #[test]
    fn a_date_and_its_time_stay_on_one_line() {
        let text = "Entra ID answered at 2026-11-20 07:14:02Z with AADSTS500011 again";
        for width in 20..=70 {
            let out = wrap_words(text, "", "", width);
            assert!(out.contains("2026-11-20 07:14:02Z"), "at {width}:\n{out}");
            assert!(!out.contains('\u{a0}'), "{out}");
        }
        assert_eq!(longest_word(text), "2026-11-20 07:14:02Z".len());
        // A space that does not join a date to a time still wraps.
        assert_eq!(longest_word("2026-11-20 and 07:14"), "2026-11-20".len());
        assert_eq!(longest_word("x2026-11-20 07:14"), "x2026-11-20".len());
        assert_eq!(
            glue_dates("at 2026-11-20 07:14:02Z, 2026-11-21 08:00"),
            "at 2026-11-20\u{a0}07:14:02Z, 2026-11-21\u{a0}08:00"
        );
    }

    #[test]
    fn a_header_is_not_cut_either() {
        let mut t = table(70);
        t.set_header(vec!["Code", "Correlation", "Attempts"]);
        let out = fit(&mut t);
        assert!(out.contains("Attempts"), "{out}");
    }
}
