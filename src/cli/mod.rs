//! The command line: argument definitions (clap derive) and one module per command.
//! Each command returns a [`Status`]; `main` only turns it into a process exit code.

mod analyze;
mod batch;
mod convert;
mod explain;
mod files;
mod output;
mod password;
mod redact;
mod sessions;
// Issue 21 item 3.
mod diff;
mod show;
mod stdin;

mod completions;
mod man;
mod notes;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::capture::{DecodeLimits, ReadOptions};

pub use crate::analysis::Status;

#[derive(Debug, Parser)]
#[command(
    name = "traceadal",
    version,
    about = "Find the Outlook ADAL/HMA loop (autodiscover -> 401 -> AADSTS500011) and its neighbours in Fiddler SAZ and HAR captures, and print the fix.",
    after_help = "Exit codes (analyze, batch): 0 no error finding; 1 an error finding; 2 usage error, unreadable capture or an output that cannot be written; 3 inconclusive: the capture cannot show the failure (no sessions, HTTPS decryption off), capture again. Several captures: 2 over 1 over 3 over 0.",
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour the severities and the verdict: `auto` when stdout is a terminal and NO_COLOR
    /// is not set; never in JSON, markdown, CSV, PowerShell or a file written with -o.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorWhen {
    /// Never colour.
    Never,
    /// Colour when stdout is a terminal and NO_COLOR is not set (default).
    #[default]
    Auto,
    /// Colour the table on stdout even in a pipe (`less -R`).
    Always,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose captures: flows, AADSTS codes, missing SPNs, findings and the fix script.
    Analyze(AnalyzeArgs),
    /// Analyse every SAZ and HAR in a folder (recursively) in parallel: one row per capture,
    /// the missing SPNs per tenant, one fix script for the whole queue.
    Batch(BatchArgs),
    /// Print the catalog entry of an AADSTS code or a Windows broker (WAM) error code.
    Explain(ExplainArgs),
    /// List the sessions a capture holds, as Fiddler's session list shows them.
    Sessions(SessionsArgs),
    /// Write a copy of a SAZ or HAR with every secret replaced by a same-length placeholder
    /// (tokens, codes, cookies, passwords, JWT signatures, SAML assertions), to pass on.
    Redact(RedactArgs),
    /// Compare the same user's captures before and after a change: flows and findings
    /// resolved, still there or new, the SPNs now accepted, and a one-line verdict.
    #[command(after_help = DIFF_EXIT_CODES)]
    Diff(DiffArgs),
    /// Show sessions in full, as Fiddler's inspectors do: heads in wire order, the decoded
    /// body (JSON and XML pretty, binary summarised), the auth schemes, the token's claims by
    /// name, AADSTS codes, x-ms-diagnostics, and the flows and findings citing them.
    Show(ShowArgs),
    /// Convert a capture: a SAZ to a HAR 1.2 (as Chrome and Fiddler export it), a HAR to a
    /// SAZ (as Fiddler Classic saves it). Redacted as `redact` redacts, unless --show-secrets.
    Convert(ConvertArgs),
    /// Print the completion script of a shell (bash, zsh, fish, powershell, elvish), made from
    /// this command line; README says where each shell loads it from.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) of traceadal, made from this command line, or write the
    /// pages of every command into a folder with --dir.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write traceadal.1 and one page per command (traceadal-analyze.1, ...) into this
    /// folder instead of printing traceadal.1 (`--dir ~/.local/share/man/man1`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// How to open captures: shared by every command that reads one.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// Read the SAZ password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password_file")]
    pub password_env: Option<String>,
    /// Read the SAZ password from the first line of this file (at most 4 KiB).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Largest decoded body, in MiB; bigger bodies are cut and the session reported.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub max_body_mib: u64,
    /// Most a compressed capture (.har.gz, zlib HAR) may inflate to, in MiB; past it, or past
    /// 100 times its compressed size once over 64 MiB, it is refused as a compression bomb.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub max_inflated_mib: u64,
}

impl ReadArgs {
    /// The read options, asking for the password on a terminal when none was given and
    /// `encrypted` says one is needed.
    pub fn options(&self, encrypted: bool) -> Result<ReadOptions, String> {
        let password = password::resolve(self, encrypted)?;
        Ok(ReadOptions {
            password,
            limits: self.limits(),
        })
    }

    pub fn limits(&self) -> DecodeLimits {
        DecodeLimits {
            max_decoded: self.max_body_mib.saturating_mul(1024 * 1024),
            max_inflated: self.max_inflated_mib.saturating_mul(1024 * 1024),
        }
    }
}

/// What the user wants hidden besides secrets: shared by every command that prints capture
/// content (and `redact`, whose copy gets same-length placeholders).
#[derive(Debug, Clone, Default, Args)]
pub struct RedactRules {
    /// Also hide TEXT wherever it appears (a user, tenant or host name): case-insensitive,
    /// also percent-encoded, JSON-escaped or as HTML references; printed as `<term>`. May be
    /// repeated. Applies with --show-secrets too.
    #[arg(long = "redact-term", value_name = "TEXT")]
    pub terms: Vec<String>,
    /// Also hide whatever this regex (Rust `regex` syntax, case-sensitive unless `(?i)`)
    /// matches; printed as `<term>`. May be repeated.
    #[arg(long = "redact-regex", value_name = "RE")]
    pub regexes: Vec<String>,
}

impl RedactRules {
    /// The rules compiled; the error names the flag, never the rule.
    pub fn compile(&self) -> Result<std::sync::Arc<crate::redact::UserRules>, String> {
        crate::redact::UserRules::new(&self.terms, &self.regexes).map(std::sync::Arc::new)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    /// A header line and one row per session (RFC 4180), for spreadsheets.
    Csv,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// The capture (.saz, .har, .har.gz, .zhar); `-` reads it from standard input.
    pub capture: PathBuf,
    /// Only sessions to this host (case-insensitive; `*` and `?` are wildcards:
    /// `*.contoso.com` matches subdomains, `*` every host).
    #[arg(long, value_name = "H")]
    pub host: Option<String>,
    /// Only sessions answered with this status code.
    #[arg(long, value_name = "N")]
    pub status: Option<u16>,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Print tokens, codes, cookies and passwords as captured (for your own machine only).
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub rules: RedactRules,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only sessions of this client process (`outlook`, `outlook.exe` or `outlook:4242`;
    /// case-insensitive; `*` and `?` are wildcards).
    #[arg(long, value_name = "P")]
    pub process: Option<String>,
    /// Only sessions with this request method (case-insensitive).
    #[arg(long, value_name = "M")]
    pub method: Option<String>,
    /// Only sessions that started at or after T: `2026-11-20T07:14:02Z` (RFC 3339; no
    /// offset is UTC), `07:14:02` (UTC, on the day of the capture's first session) or `+30`
    /// (seconds after the capture's first session).
    #[arg(long, value_name = "T")]
    pub from: Option<String>,
    /// Only sessions that started at or before T (same forms as --from).
    #[arg(long, value_name = "T")]
    pub to: Option<String>,
    /// Only sessions that started after session ID did.
    #[arg(long, value_name = "ID")]
    pub after: Option<u64>,
    /// Only the sessions of the report's N-th token flow (1 is the first row of "Token
    /// flows", `loops[0]` in the JSON report).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub flow: Option<u64>,
    /// Only the sessions the finding ID cites (`spn-missing`, ...).
    #[arg(long, value_name = "ID")]
    pub finding: Option<String>,
    /// Only sessions whose request or response (heads and decoded bodies) match REGEX
    /// (Rust `regex` syntax). The text searched is the redacted text: a grep for a token
    /// finds nothing unless --show-secrets is given.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// Heads, bodies and what traceadal knows, for a terminal (default).
    Text,
    /// `traceadal.show/1` (docs/inspect.md).
    Json,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The capture (.saz, .har, .har.gz, .zhar); `-` reads it from standard input, named
    /// `<stdin>`.
    pub capture: PathBuf,
    /// Session ids, as the report and `sessions` cite them.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<u64>,
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
    /// Print tokens, codes, cookies and passwords as captured (for your own machine only).
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub rules: RedactRules,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Tables for a terminal (default).
    Table,
    /// `traceadal.report/1`; one report per line with several captures.
    Json,
    /// For pasting into a ticket.
    Markdown,
    /// One self-contained page (verdict, fix script, findings, sequence diagrams of the
    /// flows, timeline, session details): opens from a mail attachment, fetches nothing.
    Html,
    /// The fix script alone (all captures together, deduplicated per tenant).
    Powershell,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// One or more captures (.saz, .har, .har.gz, .zhar); `-` reads one from standard input,
    /// named `<stdin>` in the report.
    #[arg(required = true)]
    pub captures: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Write the output to this file instead of stdout: a regular file, none of the
    /// captures (`-` or `/dev/stdout` is stdout); created 0600 with --show-secrets.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print tokens, codes, cookies and passwords as captured (for your own machine only).
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub rules: RedactRules,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BatchFormat {
    /// One row per capture, then the missing SPNs per tenant (default).
    Table,
    /// One `traceadal.report/1` object per line; `{"schema", "capture": {"path"}, "error"}`
    /// for a file that could not be read.
    Ndjson,
    /// A header line and one row per capture (RFC 4180), for spreadsheets.
    Csv,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The folder of captures. Every file whose content is SAZ or HAR is taken, whatever
    /// its name; other files are skipped and counted.
    pub dir: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Only files whose path relative to DIR, or whose name, matches this glob
    /// (`*.saz`, `ticket-42/**`); may be repeated. Inside a zip of captures it applies to
    /// each capture's own name (`*.saz` takes `tickets.zip!/case-1/x.saz`); a glob the zip's
    /// own name matches takes all of it.
    #[arg(long = "glob", value_name = "G")]
    pub globs: Vec<String>,
    #[arg(long, value_enum, default_value_t = BatchFormat::Table)]
    pub format: BatchFormat,
    /// Also write the Microsoft Graph PowerShell fix: to a folder (`OUT/`, or one that
    /// exists) one script per tenant, named for it (`contoso.com-72f988bf.ps1`); to FILE one
    /// script with a section per tenant. Each SPN once, idempotent; exit code 1 when an SPN
    /// is still missing after it ran.
    #[arg(long, value_name = "FILE|DIR/")]
    pub fix_script: Option<PathBuf>,
    /// Write the output to this file instead of stdout: a regular file, none of the
    /// captures (`-` or `/dev/stdout` is stdout); created 0600 with --show-secrets.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Name every file skipped as neither SAZ nor HAR in the summary (else the first 10).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Print tokens, codes, cookies and passwords as captured (for your own machine only).
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub rules: RedactRules,
    /// The password options apply to every encrypted capture; batch never prompts.
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// The capture to copy (.saz, .har, .har.gz, .zhar; `-`: standard input).
    /// `--password-env`/`--password-file` give its password when it is an encrypted SAZ.
    pub input: PathBuf,
    /// Where to write the copy: a SAZ for a SAZ, a plain (uncompressed) HAR for a HAR.
    /// Never the input itself, nor a directory, FIFO or device; created 0600 (a replaced
    /// file keeps its mode).
    pub output: PathBuf,
    /// Encrypt the output SAZ (AES-256) with the password in this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "out_password_file")]
    pub out_password_env: Option<String>,
    /// Encrypt the output SAZ (AES-256) with the password on the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub out_password_file: Option<PathBuf>,
    /// Keep only the bodies the diagnosis reads (sign-ins and token requests to Entra ID,
    /// EWS, Autodiscover); every other body becomes a placeholder saying so. Heads stay, so the copy
    /// tells the same story with far less for anyone to read.
    #[arg(long)]
    pub drop_bodies_except_auth: bool,
    #[command(flatten)]
    pub rules: RedactRules,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConvertTo {
    /// HAR 1.2 (JSON).
    Har,
    /// Fiddler session archive.
    Saz,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The capture to convert (.saz, .har, .har.gz, .zhar). `--password-env`/`--password-file`
    /// give its password when it is an encrypted SAZ.
    pub input: PathBuf,
    /// Where to write: never the input itself, nor a directory, FIFO or device; written to a
    /// temporary file renamed into place, created 0600 (a replaced file keeps its mode).
    pub output: PathBuf,
    /// The format to write; by default OUT's extension (.har or .saz) says.
    #[arg(long, value_enum)]
    pub to: Option<ConvertTo>,
    /// Keep tokens, codes, cookies and passwords as captured (for your own machine only);
    /// by default the copy is redacted exactly as `traceadal redact` redacts.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub rules: RedactRules,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// An AADSTS code (`AADSTS500011` or `500011`), a Windows broker (WAM) code
    /// (`0xCAA70004`, or the decimal a log prints, signed or not); `all` lists both catalogs.
    #[arg(allow_negative_numbers = true)]
    pub code: String,
    #[command(flatten)]
    pub rules: RedactRules,
}

/// `diff`'s exit codes (also in README.md and docs/diff.md).
const DIFF_EXIT_CODES: &str = "Exit codes: 0 fixed (every error of BEFORE is gone from an AFTER that could show it) or nothing new; 1 an error of BEFORE is still in AFTER, or AFTER has a new error; 2 usage error or a capture that could not be read; 3 not shown: AFTER cannot show whether an error of BEFORE is gone (it does not reach the host, Entra ID is not decrypted, it is inconclusive): capture again.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Tables for a terminal (default).
    Table,
    /// For pasting into a ticket.
    Markdown,
    /// `traceadal.diff/1` (docs/diff.md).
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The capture from before the change (.saz, .har, .har.gz, .zhar).
    pub before: PathBuf,
    /// The capture from after the change, of the same user.
    pub after: PathBuf,
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Write the output to this file instead of stdout: a regular file, neither capture
    /// (`-` or `/dev/stdout` is stdout); created 0600 with --show-secrets.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print tokens, codes, cookies and passwords as captured (for your own machine only).
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub rules: RedactRules,
    /// The password options apply to both captures.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> Status {
    // The user's rules first, before any file is read: a bad regex is a usage error.
    let no_rules = RedactRules::default();
    let rules = match &cli.command {
        Command::Analyze(a) => &a.rules,
        Command::Batch(a) => &a.rules,
        Command::Explain(a) => &a.rules,
        Command::Sessions(a) => &a.rules,
        Command::Redact(a) => &a.rules,
        Command::Diff(a) => &a.rules,
        Command::Show(a) => &a.rules,
        Command::Convert(a) => &a.rules,
        Command::Completions(_) | Command::Man(_) => &no_rules,
    };
    let rules = match rules.compile() {
        Ok(r) => r,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    let color = cli.color;
    let status = output::with_user_rules(rules, || output::with_color(color, || run_command(cli)));
    // Standard input's spooled copy, if `-` was read, goes with the command.
    stdin::release();
    status
}

fn run_command(cli: Cli) -> Status {
    match cli.command {
        Command::Analyze(mut args) => {
            args.output = dash_is_stdout(args.output);
            analyze::run(&args)
        }
        Command::Batch(mut args) => {
            args.output = dash_is_stdout(args.output);
            batch::run(&args)
        }
        Command::Explain(args) => explain::run(&args),
        Command::Sessions(args) => sessions::run(&args),
        Command::Redact(args) => redact::run(&args),
        Command::Diff(mut args) => {
            args.output = dash_is_stdout(args.output);
            diff::run(&args)
        }
        Command::Show(args) => show::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}

/// `-o -` is standard output, as in most command-line tools (issue 20: it created a file
/// named `-`).
fn dash_is_stdout(output: Option<PathBuf>) -> Option<PathBuf> {
    output.filter(|p| p.as_os_str() != "-")
}

/// What a command run by [`run_captured`] returned and printed.
#[derive(Debug)]
pub struct Captured {
    pub exit: Status,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Parse `args` (the arguments after the program name) and run the command on this thread as
/// the `traceadal` process would with stdin from /dev/null and stdout and stderr to pipes:
/// what it prints is collected and returned, no password is asked for, output is not fitted
/// to a terminal. The exit code is `main`'s, usage errors and `--help` included. For tests
/// that need no process boundary. Not for `batch`, which swaps the process's panic hook
/// while it runs and draws a progress bar when stderr is a terminal.
pub fn run_captured<I, T>(args: I) -> Captured
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let argv = std::iter::once(std::ffi::OsString::from("traceadal"))
        .chain(args.into_iter().map(Into::into));
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            // As in `main`: --help and --version on stdout, exit 0; usage errors on stderr, 2.
            let text = e.render().to_string().into_bytes();
            let (exit, stdout, stderr) = if e.use_stderr() {
                (Status::Unreadable, Vec::new(), text)
            } else {
                (Status::Clean, text, Vec::new())
            };
            return Captured {
                exit,
                stdout,
                stderr,
            };
        }
    };
    let (exit, stdout, stderr) = output::capture(|| run(cli));
    Captured {
        exit,
        stdout,
        stderr,
    }
}

/// What a capture argument opened as: a capture, or a zip of captures (what tickets
/// attach, issue 21), each inside to be opened by [`crate::capture::saz::attachments`];
/// either with the read options it opened with (the password given or asked for).
pub(crate) enum Opened {
    One(crate::capture::Capture, ReadOptions),
    Zip(crate::capture::saz::attachments::Attachments, ReadOptions),
}

/// Open a capture; a zip of captures is refused, saying which captures it holds and that
/// `analyze` and `batch` open them.
pub(crate) fn open_capture(
    path: &std::path::Path,
    read: &ReadArgs,
) -> Result<crate::capture::Capture, String> {
    match open_any(path, read)? {
        Opened::One(c, _) => Ok(c),
        Opened::Zip(a, _) => Err(format!(
            "{}: a zip of {} capture(s) ({}), not a capture itself: `traceadal analyze` reads each (named {}), `traceadal batch` a folder of such zips; or extract one",
            a.name,
            a.captures.len(),
            a.listing(),
            a.inner_name(0)
        )),
    }
}

/// Open a capture; when it turns out to be encrypted and no password was given, ask for one
/// on a terminal and try once more. `-` is standard input ([`stdin`]), named `<stdin>`. A
/// zip that holds no Fiddler session but captures is [`Opened::Zip`].
pub(crate) fn open_any(path: &std::path::Path, read: &ReadArgs) -> Result<Opened, String> {
    use crate::capture::{attachments, Capture, CaptureErrorKind, Format};
    let name = stdin::shown(path);
    let from_stdin = stdin::is_stdin(path);
    if !from_stdin {
        files::check_input(path)?;
    }
    let path = &*stdin::resolved(path, read.limits().max_inflated)?;
    let shown = |e: crate::capture::CaptureError| format!("{name}: {}", e.kind);
    let mut options = read.options(false)?;
    let capture = match Capture::open(path, &options) {
        Err(e)
            if matches!(e.kind, CaptureErrorKind::PasswordRequired)
                && options.password.is_none() =>
        {
            options = read.options(true)?;
            if options.password.is_none() {
                return Err(shown(e));
            }
            Capture::open(path, &options).map_err(shown)
        }
        other => other.map_err(shown),
    }?;
    if capture.format() == Format::Saz && capture.session_hint() == Some(0) {
        let zip =
            attachments::inspect(path, &name, &options).map_err(|e| format!("{name}: {e}"))?;
        if let Some(zip) = zip {
            return Ok(Opened::Zip(zip, options));
        }
    }
    let capture = if from_stdin {
        capture.named(stdin::NAME)
    } else {
        capture
    };
    Ok(Opened::One(capture, options))
}

/// Report an error on stderr. Messages should never carry capture content; they still pass
/// through the redaction layer, in case one does.
pub(crate) fn report_error(message: impl std::fmt::Display) {
    let message = message.to_string();
    output::print_error(&format!(
        "traceadal: {}",
        output::redactor(false).text(&message)
    ));
}
