//! The exit code of a command, the same for every command and format: 0
//! clean, 1 findings or a failed verification, 2 usage, configuration or
//! I/O errors (printed here).

use std::io::Write;
use std::process::ExitCode;

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
