//! What a command's library function hands the command line: the text for
//! stdout, the text for stderr, and whether the command failed (exit 1).
//! The library never prints; `src/cli/` writes an `Output` and maps
//! `failed` to the exit code.

/// A command's result, ready to be written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Output {
    /// Machine or human output (stdout).
    pub stdout: String,
    /// Diagnostics that must not mix with it (stderr).
    pub stderr: String,
    /// Findings, an invalid input or a failed verification: exit 1.
    pub failed: bool,
}

impl Output {
    /// `text` on stdout, passing.
    pub fn stdout(text: impl Into<String>) -> Output {
        Output {
            stdout: text.into(),
            ..Output::default()
        }
    }

    /// `text` on stderr, failing.
    pub fn failure(text: impl Into<String>) -> Output {
        Output {
            stderr: text.into(),
            failed: true,
            ..Output::default()
        }
    }

    /// This output, failing when `failed` (it never un-fails one).
    pub fn failing_if(mut self, failed: bool) -> Output {
        self.failed |= failed;
        self
    }

    /// Appends `text` to stderr.
    pub fn note(&mut self, text: &str) {
        self.stderr.push_str(text);
    }
}

/// An error that comes with the diagnostics explaining it (the findings
/// naming each input that could not be read): the command line writes
/// them before the error itself (exit 2).
pub trait Explained {
    /// The text for stderr; empty when the error explains itself.
    fn explanation(&self) -> &str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_if_never_clears_a_failure() {
        assert!(Output::failure("x").failing_if(false).failed);
        assert!(Output::stdout("x").failing_if(true).failed);
        assert!(!Output::stdout("x").failing_if(false).failed);
    }
}
