// SPDX-License-Identifier: GPL-2.0
//! Standard output, for every command.
//!
//! Every byte a command prints goes through here, so that a failed write
//! is an error the command returns rather than a panic: `print!` panics
//! when the write fails, and clap's completion and manual generators
//! `expect` on theirs. A reader that went away (`sysfence policy list |
//! head -1`: EPIPE, since Rust ignores SIGPIPE) is the end of the output,
//! not a failure: `main` ends the command quietly with status 0, as a
//! pipeline's writer is not expected to fail when its reader has read
//! enough. Any other failure (`> /dev/full`: ENOSPC) is one line on
//! stderr and status 1.

use std::fmt;
use std::io::{self, Write};

/// Writes to standard output as `print!` does, returning
/// `Result<(), OutputError>` instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write_fmt(format_args!($($arg)*))
    };
}

/// Writes a line to standard output as `println!` does, returning
/// `Result<(), OutputError>` instead of panicking.
macro_rules! outln {
    () => {
        $crate::out::write_str("\n")
    };
    ($($arg:tt)*) => {
        $crate::out::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};

/// A write to standard output that failed.
#[derive(Debug)]
pub struct OutputError(io::Error);

impl OutputError {
    /// Whether the reader of standard output went away (EPIPE): the output
    /// is not wanted any more, which ends the command but is no failure.
    pub fn is_closed(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }
}

impl From<io::Error> for OutputError {
    fn from(e: io::Error) -> Self {
        OutputError(e)
    }
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "writing to standard output: {}", self.0)
    }
}

impl std::error::Error for OutputError {}

/// Writes `text` to standard output.
pub fn write_str(text: &str) -> Result<(), OutputError> {
    write_bytes(text.as_bytes())
}

/// Writes `bytes` to standard output.
pub fn write_bytes(bytes: &[u8]) -> Result<(), OutputError> {
    Ok(io::stdout().lock().write_all(bytes)?)
}

/// Writes formatted text to standard output (what [`out!`] expands to).
pub fn write_fmt(args: fmt::Arguments<'_>) -> Result<(), OutputError> {
    Ok(io::stdout().lock().write_fmt(args)?)
}

/// Flushes standard output: a line-buffered stdout holds a last line
/// without a newline until here, and its write can fail too.
pub fn flush() -> Result<(), OutputError> {
    Ok(io::stdout().lock().flush()?)
}

/// Writes `value` as `--json` output: one compact JSON document on one
/// line. Every command prints its `--json` this way, a stream (`events`,
/// `top`) one such line per event or refresh, so that any `--json` output
/// can be read line by line (`jq -c`, `grep`, `sed`) the same way.
pub fn json_line(value: &impl serde::Serialize) -> Result<(), JsonLineError> {
    let mut line = serde_json::to_string(value)?;
    line.push('\n');
    Ok(write_str(&line)?)
}

/// The error of [`json_line`]: the value does not serialize (a map with
/// keys that are not strings), or the write failed.
#[derive(Debug, thiserror::Error)]
pub enum JsonLineError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Whether standard output is a terminal (for screen control codes).
pub fn is_terminal() -> bool {
    use std::io::IsTerminal;
    io::stdout().is_terminal()
}

/// Whether `err` is (or wraps, as a boxed error) a write to a standard
/// output whose reader went away.
pub fn is_closed(err: &(dyn std::error::Error + 'static)) -> bool {
    err.downcast_ref::<OutputError>()
        .is_some_and(OutputError::is_closed)
}

#[cfg(test)]
mod tests {
    use super::OutputError;
    use std::io;

    #[test]
    fn a_closed_pipe_is_the_end_and_other_failures_say_what_failed() {
        let closed = OutputError::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(closed.is_closed());
        let boxed: Box<dyn std::error::Error> = Box::new(closed);
        assert!(super::is_closed(boxed.as_ref()));
        let full = OutputError::from(io::Error::from_raw_os_error(libc::ENOSPC));
        assert!(!full.is_closed());
        assert_eq!(
            full.to_string(),
            "writing to standard output: No space left on device (os error 28)"
        );
    }

    /// Every print goes through this module: `print!` and `println!`
    /// panic when standard output fails.
    #[test]
    fn nothing_prints_around_this_module() {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut stack = vec![std::path::PathBuf::from(src)];
        let mut offenders = Vec::new();
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    let bare = |m: &str| {
                        code.match_indices(m)
                            .any(|(i, _)| !code[..i].ends_with('e') && !code[..i].ends_with("_"))
                    };
                    // Spelt in pieces so that this test does not find itself.
                    if bare(&["print", "ln!("].concat())
                        || bare(&["print", "!("].concat())
                        || code.contains("io::stdout()") && p.file_name().unwrap() != "out.rs"
                    {
                        offenders.push(format!("{}:{}: {line}", p.display(), n + 1));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "{}", offenders.join("\n"));
    }
}
