//! `logs`: a session's output for people (a headless run's stream-json
//! rendered, a tmux run's text), or as written (`--raw`), optionally
//! followed until the run ends (`-f`). The stream is
//! [`crate::ops::logs::LogStream`].

use std::io::{self, Write};

use anyhow::Result;

use super::{Globals, Run};
use crate::books::{self, Books, Record, Status};
use crate::cli::LogsArgs;
use crate::error::Exit;
use crate::ops::logs::{Begun, LogStream, is_live};
use crate::output;

impl Run for LogsArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let books = Books::for_project(&project)?;
        let record = super::find_session(&project, &books, &self.session)?;
        let mut out = Counting::new(output::stdout());
        let mut stream = LogStream::open(&project, &books, record, self.raw, self.terminal);
        let begun = stream.begin(&mut out, self.follow)?;
        let ended = if self.follow {
            let record = stream.record();
            if is_live(record) && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                eprintln!(
                    "── following {} ({}) until it ends; Ctrl-C stops following",
                    record.task_id,
                    record.mode_name()
                );
            }
            stream.follow(&books, &mut out)?
        } else {
            if begun == Begun::Nothing {
                eprintln!(
                    "scopecraft-tmux: no output yet ({} does not exist)",
                    stream.path().display()
                );
            }
            stream.record().clone()
        };
        if !self.raw {
            trailer(&mut out, &ended, self.follow)?;
        }
        out.flush()?;
        if self.follow {
            return match ended.status {
                Status::Completed => Ok(()),
                Status::Stopped => Err(Exit(3).into()),
                Status::Interrupted => Err(Exit(4).into()),
                _ => Err(Exit(1).into()),
            };
        }
        Ok(())
    }
}

/// "── fix-05A (implementation) completed, exit 0".
fn trailer(out: &mut Counting<impl Write>, record: &Record, following: bool) -> io::Result<()> {
    if out.written > 0 {
        writeln!(out)?;
    }
    let who = format!("{} ({})", record.task_id, record.mode_name());
    if is_live(record) && !following {
        let since = books::age(&record.start_time)
            .map(|d| format!(" for {}", output::duration(d)))
            .unwrap_or_default();
        return writeln!(
            out,
            "── {who} {}{since}; follow with: scopecraft-tmux logs {} --mode {} -f",
            record.status,
            record.task_id,
            record.mode_name()
        );
    }
    let outcome = record.outcome();
    let outcome = if outcome.is_empty() {
        String::new()
    } else {
        format!(", {outcome}")
    };
    writeln!(out, "── {who} {}{outcome}", record.status)
}

/// A writer that counts what went through it.
struct Counting<W: Write> {
    inner: W,
    written: u64,
}

impl<W: Write> Counting<W> {
    fn new(inner: W) -> Self {
        Counting { inner, written: 0 }
    }
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
