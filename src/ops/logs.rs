//! A session's log as a stream: a headless run's stream-json rendered for
//! people (or the bytes as written), a tmux run's pane text while its
//! window is open, followed until the run ends. The log is read in chunks,
//! so a log of any size streams through in constant memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::books::{Books, ExecType, Record};
use crate::procs;
use crate::project::Project;
use crate::stream;
use crate::tmux::{Commands, Tmux};

/// How often a follower looks for more output and for the end of the run.
pub const POLL: Duration = Duration::from_millis(150);

/// How much of the log is read at a time.
const CHUNK: usize = 64 * 1024;

/// One session's output, from the start, as it grows.
pub struct LogStream {
    record: Record,
    /// The logs of the session's earlier runs, written before `log`.
    earlier: Vec<PathBuf>,
    log: LogFile,
    sink: Box<dyn Sink + Send>,
    terminal: bool,
    raw: bool,
}

/// What [`LogStream::begin`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begun {
    /// The text of the run's open pane, as tmux renders it.
    Pane,
    /// The log so far.
    Log,
    /// No log yet.
    Nothing,
}

impl LogStream {
    /// The output of `record`'s session; `raw`: the log's bytes as
    /// written; `terminal`: a tmux run's terminal output, not its
    /// conversation.
    pub fn open(
        project: &Project,
        books: &Books,
        record: Record,
        raw: bool,
        terminal: bool,
    ) -> LogStream {
        let conversation = log_path(project, books, &record);
        // A tmux run: its conversation (the agent's transcript, copied into
        // the run's log) once it has ended, else what its terminal shows.
        let terminal = record.exec_type == Some(ExecType::Tmux)
            && (terminal || is_live(&record) || !has_output(&conversation));
        let path = if terminal {
            books.terminal_log(&record)
        } else {
            conversation.clone()
        };
        let earlier = if path == conversation {
            let mut logs = record.run_logs();
            logs.retain(|log| *log != path);
            logs
        } else {
            Vec::new()
        };
        // One renderer for both kinds of run: a session's log holds the
        // stream-json of its headless runs and the terminal output of its
        // tmux runs when it was continued from one to the other.
        let sink: Box<dyn Sink + Send> = if raw {
            Box::new(Raw)
        } else {
            Box::new(stream::LogRenderer::default())
        };
        LogStream {
            terminal,
            earlier,
            record,
            log: LogFile::new(path),
            sink,
            raw,
        }
    }

    /// The record as last read.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The log's path.
    pub fn path(&self) -> &std::path::Path {
        &self.log.path
    }

    /// Writes what there is now. A tmux window still open: its text as
    /// tmux renders it, which a recording of the terminal's output cannot
    /// give (redraws, cursor moves); when followed, the recorded output
    /// continues from there. Otherwise the log so far (rendered unless
    /// raw), finished when `follow` is false.
    pub fn begin(&mut self, out: &mut dyn Write, follow: bool) -> Result<Begun> {
        // The log's length before the capture: output that lands in the
        // log meanwhile is sent after the capture (perhaps twice) rather
        // than lost; the log lags the pane it is piped from.
        let before = self.log.len_now();
        let captured = match (self.terminal, self.raw) {
            (true, false) => capture_pane(&self.record),
            _ => None,
        };
        if let Some(text) = &captured {
            out.write_all(text.as_bytes())?;
            self.log.start_at(before);
            return Ok(Begun::Pane);
        }
        let mut found = false;
        for path in std::mem::take(&mut self.earlier) {
            found |= LogFile::new(path).pump(self.sink.as_mut(), out)?;
        }
        if follow {
            return Ok(Begun::Log);
        }
        found |= self.log.pump(self.sink.as_mut(), out)?;
        self.sink.finish(out)?;
        Ok(if found { Begun::Log } else { Begun::Nothing })
    }

    /// Writes what was added since the last call, reads the record again,
    /// and says whether the run may still write (once false, the rest of
    /// the output is written and the stream finished).
    pub fn step(&mut self, books: &Books, out: &mut dyn Write) -> Result<bool> {
        self.log.pump(self.sink.as_mut(), out)?;
        out.flush()?;
        if let Some(current) = books.read(&self.record.session_name)? {
            self.record = current;
        }
        if is_live(&self.record) {
            return Ok(true);
        }
        // A headless run's log is complete before its record says it ended;
        // a pane's output reaches the log through `pipe-pane`, a moment later.
        if self.terminal {
            std::thread::sleep(POLL);
        }
        self.log.pump(self.sink.as_mut(), out)?;
        self.sink.finish(out)?;
        Ok(false)
    }

    /// Writes the log as it grows until the record says the run has
    /// ended; returns the record as it ended.
    pub fn follow(&mut self, books: &Books, out: &mut dyn Write) -> Result<Record> {
        while self.step(books, out)? {
            std::thread::sleep(POLL);
        }
        Ok(self.record.clone())
    }
}

/// Where a session's log is. Scopecraft's own records name it relative
/// to the project.
pub fn log_path(project: &Project, books: &Books, record: &Record) -> PathBuf {
    match &record.log_file {
        p if p.as_os_str().is_empty() => books.log_path(&record.session_name),
        p if p.is_relative() => project.root.join(p),
        p => p.clone(),
    }
}

/// Whether a log holds anything.
fn has_output(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

/// Whether the run may still write to its log. Scopecraft's own records
/// are never reconciled, so for them the recorded process must exist.
pub fn is_live(record: &Record) -> bool {
    record.status.is_live() && (record.is_ours() || record.pid.is_some_and(procs::exists))
}

/// The text of the run's pane, when its window is still open: one tmux
/// call that also checks the pane is still ours (a restarted server
/// reuses pane ids).
fn capture_pane(record: &Record) -> Option<String> {
    capture(record, &["-J", "-S", "-"])
}

/// The run's pane as tmux shows it, colours included (SGR escapes): its
/// last `history` lines of scrollback and the screen. `None` when the
/// window is closed or the pane no longer ours.
pub fn pane_screen(record: &Record, history: usize) -> Option<String> {
    capture(record, &["-e", "-J", "-S", &format!("-{history}")])
}

fn capture(record: &Record, flags: &[&str]) -> Option<String> {
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
    let mut capture = vec!["capture-pane", "-p"];
    capture.extend(flags);
    capture.extend(["-t", pane]);
    commands.add(capture);
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
    /// Where reading goes on.
    position: u64,
    buffer: Vec<u8>,
}

impl LogFile {
    fn new(path: PathBuf) -> LogFile {
        LogFile {
            path,
            file: None,
            position: 0,
            buffer: vec![0; CHUNK],
        }
    }

    /// How long the log is now (0 when there is none yet).
    fn len_now(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// Goes on from `position` (what a pane capture showed came before).
    fn start_at(&mut self, position: u64) {
        self.position = position;
    }

    /// Feeds everything written since the last call; false when there is
    /// no log (yet).
    fn pump(&mut self, sink: &mut dyn Sink, out: &mut dyn Write) -> Result<bool> {
        if self.file.is_none() {
            match crate::files::open_regular(&self.path, u64::MAX) {
                Ok(mut file) => {
                    file.seek(SeekFrom::Start(self.position))?;
                    self.file = Some(file);
                }
                Err(err) if err.is_not_found() => return Ok(false),
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
