//! Error kinds that decide the exit code, and how an error reaches the user.
//!
//! Exit codes: 0 success, 1 failure, 2 bad usage or bad input. Clap's own
//! usage errors already exit with 2.

use std::fmt;
use std::io;
use std::process::ExitCode;

/// Input the user can fix: an unknown task, a malformed id, a missing
/// required template input. Exits with 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// Builds an `anyhow::Error` that exits with 2.
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(message.into()))
}

/// Returns early with a [`BadInput`] error built from a format string.
macro_rules! bail_input {
    ($($arg:tt)*) => {
        return Err($crate::error::bad_input(format!($($arg)*)))
    };
}
pub(crate) use bail_input;

/// Ends the program with this exit code; what it means was printed
/// already (`logs -f` ending with the run's status).
#[derive(Debug)]
pub struct Exit(pub u8);

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// Prints the error chain on stderr and picks the exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    if let Some(Exit(code)) = err.downcast_ref::<Exit>() {
        return ExitCode::from(*code);
    }
    let mut message = format!("scopecraft-tmux: {err}");
    for cause in err.chain().skip(1) {
        message.push_str(&format!("\n  caused by: {cause}"));
    }
    // Paths and names in it may come from files: shown, not acted on.
    eprintln!("{}", crate::output::printable_lines(&message));
    if err.chain().any(|cause| cause.is::<BadInput>()) {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io_err| io_err.kind() == io::ErrorKind::BrokenPipe)
    })
}
