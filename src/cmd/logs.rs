//! `logs`: a session's output for people (a headless run's stream-json
//! rendered, a tmux run's text), or as written (`--raw`), optionally
//! followed until the run ends (`-f`). The log is read in chunks, so a log
//! of any size streams through in constant memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use super::{Globals, Run};
use crate::books::{self, Books, ExecType, Record, Status};
use crate::cli::LogsArgs;
use crate::error::Exit;
use crate::output;
use crate::procs;
use crate::stream;
use crate::tmux::{Commands, Tmux};

/// How often `-f` looks for more output and for the end of the run.
const POLL: Duration = Duration::from_millis(150);

/// How much of the log is read at a time.
const CHUNK: usize = 64 * 1024;

impl Run for LogsArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let books = Books::for_project(&project)?;
        let record = super::find_session(&project, &books, &self.session)?;
        let path = match &record.log_file {
            p if p.as_os_str().is_empty() => books.log_path(&record.session_name),
            // Scopecraft's own records name the log relative to the project.
            p if p.is_relative() => project.root.join(p),
            p => p.clone(),
        };
        let terminal = record.exec_type == Some(ExecType::Tmux);
        // One renderer for both kinds of run: a session's log holds the
        // stream-json of its headless runs and the terminal output of its
        // tmux runs when it was continued from one to the other.
        let mut sink: Box<dyn Sink> = if self.raw {
            Box::new(Raw)
        } else {
            Box::new(stream::LogRenderer::default())
        };
        let mut out = Counting::new(output::stdout());
        let mut log = LogFile::new(path);

        // A tmux window still open: its text as tmux renders it, which a
        // recording of the terminal's output cannot give (redraws, cursor
        // moves). With -f, the recorded output continues from here.
        let captured = match (terminal, self.raw) {
            (true, false) => capture_pane(&record),
            _ => None,
        };
        if let Some(text) = &captured {
            out.write_all(text.as_bytes())?;
            log.skip_to_end();
        }

        let ended = if self.follow {
            if is_live(&record) && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                eprintln!(
                    "── following {} ({}) until it ends; Ctrl-C stops following",
                    record.task_id,
                    record.mode_name()
                );
            }
            follow(&books, record, &mut log, sink.as_mut(), &mut out, terminal)?
        } else {
            if captured.is_none() {
                if !log.pump(sink.as_mut(), &mut out)? {
                    eprintln!(
                        "scopecraft-tmux: no output yet ({} does not exist)",
                        log.path.display()
                    );
                }
                sink.finish(&mut out)?;
            }
            record
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

/// Prints the log as it grows until the record says the run has ended;
/// returns the record as it ended.
fn follow(
    books: &Books,
    mut record: Record,
    log: &mut LogFile,
    sink: &mut dyn Sink,
    out: &mut dyn Write,
    terminal: bool,
) -> Result<Record> {
    loop {
        log.pump(sink, out)?;
        out.flush()?;
        if let Some(current) = books.read(&record.session_name)? {
            record = current;
        }
        if !is_live(&record) {
            break;
        }
        std::thread::sleep(POLL);
    }
    // A headless run's log is complete before its record says it ended;
    // a pane's output reaches the log through `pipe-pane`, a moment later.
    if terminal {
        std::thread::sleep(POLL);
    }
    log.pump(sink, out)?;
    sink.finish(out)?;
    Ok(record)
}

/// Whether the run may still write to its log. Scopecraft's own records
/// are never reconciled, so for them the recorded process must exist.
fn is_live(record: &Record) -> bool {
    record.status.is_live() && (record.is_ours() || record.pid.is_some_and(procs::exists))
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

/// The text of the run's pane, when its window is still open: one tmux
/// call that also checks the pane is still ours (a restarted server
/// reuses pane ids).
fn capture_pane(record: &Record) -> Option<String> {
    let place = record.tmux.as_ref()?;
    let pane = place.pane_id.as_deref()?;
    let mut commands = Commands::new();
    commands.add([
        "display-message",
        "-p",
        "-t",
        pane,
        "#{@scopecraft-session}",
    ]);
    commands.add(["capture-pane", "-p", "-J", "-S", "-", "-t", pane]);
    let printed = Tmux::at(place.socket.as_deref()).run(&commands).ok()?;
    let (owner, text) = printed.split_once('\n')?;
    if owner != record.session_name {
        return None;
    }
    // -J keeps trailing spaces; the screen below the last output is blank.
    let mut lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    Some(lines.iter().map(|l| format!("{l}\n")).collect())
}

/// What the log's bytes become on the way out.
trait Sink {
    fn feed(&mut self, chunk: &[u8], out: &mut dyn Write) -> io::Result<()>;
    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()>;
}

/// `--raw`: the bytes as they are.
struct Raw;

impl Sink for Raw {
    fn feed(&mut self, chunk: &[u8], out: &mut dyn Write) -> io::Result<()> {
        out.write_all(chunk)
    }
    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for stream::LogRenderer {
    fn feed(&mut self, chunk: &[u8], out: &mut dyn Write) -> io::Result<()> {
        stream::LogRenderer::feed(self, chunk, out)
    }
    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        stream::LogRenderer::finish(self, out)
    }
}

/// A log that may not exist yet and may still grow.
struct LogFile {
    path: PathBuf,
    file: Option<File>,
    /// Where reading goes on; with `skip` set, the end at first opening.
    position: u64,
    skip: bool,
    buffer: Vec<u8>,
}

impl LogFile {
    fn new(path: PathBuf) -> LogFile {
        LogFile {
            path,
            file: None,
            position: 0,
            skip: false,
            buffer: vec![0; CHUNK],
        }
    }

    /// Starts after what the log holds now (what a pane capture showed).
    fn skip_to_end(&mut self) {
        self.skip = true;
    }

    /// Feeds everything written since the last call; false when there is
    /// no log (yet).
    fn pump(&mut self, sink: &mut dyn Sink, out: &mut dyn Write) -> Result<bool> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(mut file) => {
                    if self.skip {
                        self.position = file.seek(SeekFrom::End(0))?;
                    }
                    self.file = Some(file);
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
                Err(err) => {
                    return Err(err).with_context(|| format!("opening {}", self.path.display()));
                }
            }
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(false);
        };
        // Truncated under us: start again from the top.
        if file.metadata().map(|m| m.len()).unwrap_or(0) < self.position {
            self.position = file.seek(SeekFrom::Start(0))?;
        }
        loop {
            let read = match file.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    return Err(err).with_context(|| format!("reading {}", self.path.display()));
                }
            };
            self.position += read as u64;
            sink.feed(&self.buffer[..read], out)?;
        }
        Ok(true)
    }
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
