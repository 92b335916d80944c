//! `ticket-attachments.zip` (issue 21): what a ticket system or a mail gateway hands over, a
//! plain zip holding captures rather than being one: two existing samples (a SAZ and a HAR)
//! in a folder named after the case, and the note the user wrote. No `raw/` entry: a SAZ
//! reader that opened it as a SAZ would find no session.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The file written into `samples/`.
pub const FILE: &str = "ticket-attachments.zip";

/// The captures it holds: (entry name, sample file), in the archive's order.
pub const INNER: &[(&str, &str)] = &[
    (
        "case-20261120-0042/outlook-prompt.saz",
        "adal-500011-json.saz",
    ),
    (
        "case-20261120-0042/browser-export.har",
        "aadsts-53003-ca.har",
    ),
];

/// The note beside them (not a capture).
pub const NOTE: &str = "case-20261120-0042/user-note.txt";

/// The archive, from the samples' bytes in `files` (what `all_files` made so far).
pub fn files(files: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(crate::saz::saved_at());
    for (entry, sample) in INNER {
        let bytes = &files
            .iter()
            .find(|(name, _)| name == sample)
            .expect("the sample exists")
            .1;
        w.start_file(*entry, opts).expect("zip entry");
        w.write_all(bytes).expect("zip write");
    }
    w.start_file(NOTE, opts).expect("zip entry");
    w.write_all(
        b"Outlook keeps asking for my password since Monday; the browser says I cannot get \
          there from here. Fiddler trace and the Edge export attached.\r\n",
    )
    .expect("zip write");
    let bytes = w.finish().expect("zip finish").into_inner();
    vec![(FILE.to_string(), bytes)]
}
