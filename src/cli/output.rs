//! Writing what a command produced: stdout and stderr, colour, and the exit
//! code. Every command's module uses these; none uses another command's.
//!
//! Exit codes, the same for every command and format: 0 clean, 1 findings or
//! a failed verification, 2 usage, configuration or I/O errors.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::config::{ConfigError, Selection};
use crate::report::{Output, Report};

/// Exit status of a command that ran to completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report (exit 0).
    Clean,
    /// Findings or a failed verification (exit 1).
    Failed,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        match outcome {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Failed => ExitCode::from(1),
        }
    }
}

/// Usage, configuration and I/O errors: exit 2.
pub const EXIT_ERROR: u8 = 2;

/// The exit code of a command's result; an error is printed (exit 2).
pub fn exit_code(result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            let mut stderr = anstream::stderr();
            // Nothing sensible is left to do if stderr is gone.
            let _ = writeln!(stderr, "error: {}", message(&err));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The error and its causes, `: `-separated, each cause once: a library
/// error that already names its source in its message (`cannot write X:
/// why`) does not get it repeated.
fn message(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}

/// Writes a library function's [`Output`]: stderr, then stdout.
pub fn emit(output: Output) -> anyhow::Result<Outcome> {
    eprint(&output.stderr);
    print(&output.stdout)?;
    Ok(if output.failed {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

/// The config for a command that acts on it (every one but `check` and
/// `ci`): warnings go to stderr and the command goes on; errors go to stderr
/// and stop it with exit 2, like any other configuration error.
pub fn usable_config(
    loaded: Result<(crate::config::Config, Vec<crate::report::Finding>), ConfigError>,
) -> anyhow::Result<crate::config::Config> {
    match crate::config::usable(loaded) {
        Ok(usable) => {
            if !usable.warnings.is_empty() {
                eprint(&Report::new(usable.warnings, 1).text(false, false));
            }
            Ok(usable.config)
        }
        Err(err) => {
            if let ConfigError::Invalid { findings, .. } = &err {
                eprint(&Report::new(findings.clone(), 1).text(false, false));
            }
            Err(err.into())
        }
    }
}

/// [`usable_config`] of a [`Selection`], and the inputs it selected.
pub fn usable_selection(
    selection: Result<Selection, ConfigError>,
) -> anyhow::Result<(crate::config::Config, Vec<std::path::PathBuf>)> {
    let (loaded, inputs) = match selection {
        Ok(s) => (Ok((s.config, s.findings)), s.inputs),
        Err(err) => (Err(err), Vec::new()),
    };
    Ok((usable_config(loaded)?, inputs))
}

/// Colour for text on stdout: only on a terminal, never with `NO_COLOR`.
pub fn color_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Write to stdout; a closed pipe (`wpc check | head`) is not an error worth
/// a message, but any other failure is.
pub fn print(text: &str) -> anyhow::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(()),
    }
}

/// Write to stderr (diagnostics that must not mix with machine output).
pub fn eprint(text: &str) {
    if !text.is_empty() {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot write x: {source}")]
    struct Named {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let named = anyhow::Error::new(Named {
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(message(&named), "cannot write x: disk full");
        let context = anyhow::Error::new(std::io::Error::other("bad")).context("--now x");
        assert_eq!(message(&context), "--now x: bad");
    }
}
