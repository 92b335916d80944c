//! The command line: argument definitions (clap derive) and one module per command.
//! Each command returns a [`Status`]; `main` only turns it into a process exit code.

mod analyze;
mod batch;
mod explain;
mod files;
mod output;
mod password;
mod redact;
mod sessions;

mod completions;
mod man;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::capture::{DecodeLimits, ReadOptions};

pub use crate::analysis::Status;

#[derive(Debug, Parser)]
#[command(
    name = "traceadal",
    version,
    about = "Find the Outlook ADAL/HMA loop (autodiscover -> 401 -> AADSTS500011) and its neighbours in Fiddler SAZ and HAR captures, and print the fix.",
    after_help = "Exit codes (analyze, batch): 0 no error finding; 1 an error finding; 2 usage error or unreadable capture; 3 inconclusive: the capture cannot show the failure (no sessions, HTTPS decryption off), capture again. Several captures: 2 over 1 over 3 over 0.",
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
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// The capture (.saz, .har, .har.gz, .zhar).
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
    /// One or more captures (.saz, .har, .har.gz, .zhar).
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
    /// (`*.saz`, `ticket-42/**`); may be repeated.
    #[arg(long = "glob", value_name = "G")]
    pub globs: Vec<String>,
    #[arg(long, value_enum, default_value_t = BatchFormat::Table)]
    pub format: BatchFormat,
    /// Also write one Microsoft Graph PowerShell fix script for the whole queue to FILE
    /// (deduplicated per tenant, each SPN once, idempotent).
    #[arg(long, value_name = "FILE")]
    pub fix_script: Option<PathBuf>,
    /// Write the output to this file instead of stdout: a regular file, none of the
    /// captures (`-` or `/dev/stdout` is stdout); created 0600 with --show-secrets.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
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
    /// The capture to copy (.saz, .har, .har.gz, .zhar). `--password-env`/`--password-file`
    /// give its password when it is an encrypted SAZ.
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

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// An AADSTS code (`AADSTS500011` or `500011`), a Windows broker (WAM) code
    /// (`0xCAA70004`, or the decimal a log prints, signed or not); `all` lists both catalogs.
    #[arg(allow_negative_numbers = true)]
    pub code: String,
    #[command(flatten)]
    pub rules: RedactRules,
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
    output::with_user_rules(rules, || output::with_color(color, || run_command(cli)))
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

/// Open a capture; when it turns out to be encrypted and no password was given, ask for one
/// on a terminal and try once more.
pub(crate) fn open_capture(
    path: &std::path::Path,
    read: &ReadArgs,
) -> Result<crate::capture::Capture, String> {
    use crate::capture::{Capture, CaptureErrorKind};
    files::check_input(path)?;
    let options = read.options(false)?;
    match Capture::open(path, &options) {
        Err(e)
            if matches!(e.kind, CaptureErrorKind::PasswordRequired)
                && options.password.is_none() =>
        {
            let options = read.options(true)?;
            if options.password.is_none() {
                return Err(e.to_string());
            }
            Capture::open(path, &options).map_err(|e| e.to_string())
        }
        other => other.map_err(|e| e.to_string()),
    }
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
