//! Writing what a command produced: stdout, stderr and colour. Every
//! command's module uses these; none uses another command's.

use std::io::{IsTerminal, Write};

use super::exit::Outcome;
use crate::report::{Explained, Output};

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

/// [`emit`] a library function's result; an error's [`Explained`]
/// diagnostics are written before it is returned (exit 2).
pub fn emit_explained<E>(result: Result<Output, E>) -> anyhow::Result<Outcome>
where
    E: Explained + Into<anyhow::Error>,
{
    match result {
        Ok(output) => emit(output),
        Err(err) => {
            eprint(err.explanation());
            Err(err.into())
        }
    }
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
