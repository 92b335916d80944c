//! Where the password of an encrypted SAZ comes from: an environment variable, a file, or a
//! prompt without echo on a terminal. Never from the command line, where `ps` would show it.

use std::io::IsTerminal;

use super::ReadArgs;
use crate::capture::Password;

pub fn resolve(args: &ReadArgs, encrypted: bool) -> Result<Option<Password>, String> {
    if let Some(var) = &args.password_env {
        return match std::env::var(var) {
            Ok(v) => Ok(Some(Password::new(v))),
            Err(_) => Err(format!(
                "--password-env: environment variable {var} is not set"
            )),
        };
    }
    if let Some(file) = &args.password_file {
        // The first line only, read under a cap: `/dev/zero` is not read whole.
        let line = super::files::first_line("--password-file", file)?;
        return Ok(Some(Password::new(line)));
    }
    if encrypted
        && !super::output::capturing()
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
    {
        let value = rpassword::prompt_password("SAZ password: ")
            .map_err(|e| format!("cannot read the password: {e}"))?;
        return Ok(Some(Password::new(value)));
    }
    Ok(None)
}
