//! The supervisor: the process that runs the agent, waits for it, and writes
//! how it ended into the books. In a tmux pane it is the pane's command (so
//! an interactive run ends with a real exit status, without relying on
//! `remain-on-exit`); headless it runs in the background in its own session.
//!
//! The agent runs in its own process group. In a pane that group is made the
//! terminal's foreground group, so Ctrl-C reaches the agent and not us.
//! SIGTERM (from `stop`) or SIGHUP (the window closed) ends the agent's group
//! (SIGKILL after a grace period) and records `stopped`; a SIGHUP because the
//! tmux server went away records `interrupted`.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::books::{self, Books, ExecType, Record, Status};
use crate::config::Config;
use crate::docker;
use crate::files;
use crate::notify;
use crate::process;
use crate::procs;
use crate::status::{self, Counts};
use crate::stream;
use crate::tmux::{self, Commands, Tmux};
use crate::transcript;

/// How long the agent has to end after SIGTERM or SIGHUP before SIGKILL.
const GRACE: Duration = Duration::from_secs(10);

/// How long to wait, once the agent has exited, for the rest of its
/// output (a process it started in the background may keep the pipe open).
const READER_GRACE: Duration = Duration::from_secs(5);

/// Why the agent was asked to end, if it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    /// SIGTERM, SIGINT or SIGQUIT (`scopecraft-tmux stop`).
    Requested,
    /// SIGHUP: the terminal went away (window closed or tmux server gone).
    Hangup,
}

/// What the stream of a headless run told us.
#[derive(Debug, Default)]
struct StreamFacts {
    session_id: Option<String>,
    result_text: Option<String>,
}

/// Runs the agent of the record at `record_path` to its end; returns its
/// exit status (none when it never started).
pub fn run(record_path: &Path, path_var: Option<&std::ffi::OsStr>) -> Result<Option<ExitStatus>> {
    let (books, name) = books::locate(record_path)?;
    // The status summary needs the home of these books, whatever
    // environment tmux gave us.
    books::adopt_home_of(record_path);

    // What the agent starts stays below us, even what leaves its process
    // group or session: a stop then finds and ends it.
    procs::become_subreaper();
    // Registered before the agent exists, so no SIGCHLD is missed.
    let mut signals = Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGCHLD])
        .context("installing signal handlers")?;
    // A detached supervisor starts with the ending signals blocked (a
    // `stop` right after the dispatch would otherwise kill it before it had
    // handlers): one that came meanwhile is caught now. Before any thread or
    // the agent starts, so neither inherits the mask.
    mask_ending(libc::SIG_UNBLOCK);
    let record = begin(&books, &name)?;
    let exec = record.exec_type.unwrap_or(ExecType::Detached);
    let tmux = exec_tmux(&record);
    // `stop` came before we could start the agent: start nothing.
    if record.stop_requested == Some(true) {
        let record = update(&books, &name, |record| {
            record.status = Status::Stopped;
            record.end_time = Some(books::now());
            record.close_current_run();
        })?;
        publish_end(&books, &record, false);
        return Ok(None);
    }
    if let Some(tmux) = &tmux {
        announce(&books, tmux, &record);
    }

    let facts = Arc::new(Mutex::new(StreamFacts::default()));
    // Dropped when the agent has ended, which ends the watch.
    let (_watching, watch_end) = mpsc::channel::<()>();
    let conversation = transcript_start(&record, exec);
    let (status, reason) = match spawn(&books, &record, exec, &facts, path_var) {
        Ok((child, reader)) => {
            watch_for_stuck(
                books.clone(),
                name.clone(),
                Config::of_root(record.project_root.as_deref()).stuck_after(),
                watch_end,
            );
            let follower = conversation.and_then(|start| {
                transcript::Follower::start(start, &record.log_file)
                    .map_err(|err| {
                        say(&format!(
                            "scopecraft-tmux: the conversation is not logged: {err:#}"
                        ));
                    })
                    .ok()
            });
            let pid = child.id();
            // The agent runs: a record that cannot say so (a full disk)
            // must not end its supervision.
            if let Err(err) = update(&books, &name, |r| {
                r.pid = Some(pid);
                r.agent_start_ticks = procs::start_ticks(pid);
            }) {
                say(&format!(
                    "scopecraft-tmux: could not record the agent's pid {pid}: {err:#}"
                ));
            }
            // A Docker run's agent is the `docker` client; the container
            // is stopped through the engine.
            let container = record
                .container
                .clone()
                .zip(record.agent_command.first().map(PathBuf::from));
            let (status, reason, spare) = wait(
                &child,
                &mut signals,
                container.as_ref(),
                exec.is_interactive(),
            )?;
            // `work`: the terminal is ours again once the agent is gone.
            if exec == ExecType::Terminal {
                reclaim_terminal();
            }
            // Asked to stop: what the agent left running goes too.
            if reason.is_some() {
                let unended = end_leftovers(&spare);
                if !unended.is_empty() {
                    say(&format!(
                        "scopecraft-tmux: could not end what the agent started: {}",
                        procs::describe(&unended)
                    ));
                    let _ = update(&books, &name, |r| r.unended = unended);
                }
            }
            // The conversation's last turns, and how it ended, before the
            // record says it has.
            if let Some(follower) = follower {
                follower.finish(reason.is_none() && status.success());
            }
            // The rest of the stream is still in the pipe: copy it all,
            // unless something the agent left behind holds the pipe open.
            if let Some(reader) = reader
                && reader.recv_timeout(READER_GRACE).is_err()
            {
                say(&format!(
                    "scopecraft-tmux: the agent's output is still held open by a process it left behind; not waiting for it after {}s",
                    READER_GRACE.as_secs()
                ));
            }
            (Some(status), reason)
        }
        Err(err) => {
            say(&format!(
                "scopecraft-tmux: could not start the agent: {err:#}"
            ));
            (None, None)
        }
    };
    // The reader thread has seen the whole stream once the pipe closed.
    let facts = std::mem::take(&mut *facts.lock().unwrap_or_else(|p| p.into_inner()));

    // The result file is there by the time the record says the run ended.
    if let (Some(path), Some(text)) = (&record.save_to, &facts.result_text)
        && let Err(err) = books::write_atomic(path, text.as_bytes())
    {
        say(&format!(
            "scopecraft-tmux: could not save the result: {err:#}"
        ));
    }
    let gone = reason == Some(StopReason::Hangup) && tmux.as_ref().is_some_and(server_gone);
    let record = finish(&books, &name, status, reason, gone, &facts)?;
    publish_end(&books, &record, reason == Some(StopReason::Hangup));
    // The run is told: from here a signal ends us as it ends any program,
    // also one that came once the agent had ended (it would otherwise be
    // lost while the pane waits for a key).
    default_signals();
    if let Some(signal) = signals.pending().find(|s| ENDING.contains(s)) {
        // SAFETY: raise(2) of a signal whose action is now the default.
        unsafe { libc::raise(signal) };
    }
    if exec == ExecType::Tmux
        && reason != Some(StopReason::Hangup)
        && record.keep_pane != Some(false)
    {
        say(&summary(&record));
        wait_for_key();
        return_clients(&record);
    }
    Ok(status)
}

/// Before the window closes: when it is the last of its session, tmux
/// would detach the clients looking at it with the session
/// (`detach-on-destroy`). A client that came from another session (the
/// menu's Attach, `attach` inside tmux) goes back there instead; one that
/// attached from a shell detaches, back to that shell. One tmux call, and
/// one more only when there is a client to send back.
fn return_clients(record: &Record) {
    let (Some(tmux), Ok(pane)) = (exec_tmux(record), std::env::var("TMUX_PANE")) else {
        return;
    };
    let mut ask = Commands::new();
    ask.add([
        "display-message",
        "-p",
        "-t",
        &pane,
        "#{session_windows}\t#{session_id}\t#{session_name}",
    ]);
    ask.add([
        "list-clients",
        "-F",
        "#{client_name}\t#{session_id}\t#{client_last_session}",
    ]);
    let Ok(answer) = tmux.run(&ask) else {
        return;
    };
    let mut lines = answer.lines();
    let first: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let ["1", session, name] = first[..] else {
        return;
    };
    let mut back = Commands::new();
    for line in lines {
        if let [client, at, last] = line.split('\t').collect::<Vec<_>>()[..]
            && at == session
            && !last.is_empty()
            && last != name
        {
            back.add(["switch-client", "-c", client, "-t", &format!("={last}")]);
        }
    }
    if !back.argv().is_empty() {
        let _ = tmux.run(&back);
    }
}

/// Watches a run that says it works for signs of life, and marks it
/// possibly stuck (`stuckSince`, published to tmux) when it showed none for
/// `after`: no hook event changed its state and its log (the pane's output
/// for a tmux run, the stream for a headless one) did not grow. A sign
/// clears the mark: any word from the agent (a hook call clears it, also
/// one that leaves the state as it was), and quiet counts again from there.
/// Ends when `end` is dropped or the run ends.
fn watch_for_stuck(books: Books, name: String, after: Duration, end: mpsc::Receiver<()>) {
    let every = (after / 4).clamp(Duration::from_millis(200), Duration::from_secs(30));
    std::thread::spawn(move || {
        // Whether the record was marked when we last saw it, and when the
        // agent last cleared a mark.
        let mut marked = false;
        let mut cleared = None;
        while let Err(mpsc::RecvTimeoutError::Timeout) = end.recv_timeout(every) {
            let Ok(Some(record)) = books.read_raw(&name) else {
                continue;
            };
            if !record.status.is_live() {
                return;
            }
            if marked && record.stuck_since.is_none() {
                cleared = humantime::parse_rfc3339(&record.last_updated).ok();
            }
            marked = record.stuck_since.is_some();
            let outputs = outputs(&books, &record);
            if stuck_since(&record, after, &outputs, cleared).is_some() == marked {
                continue;
            }
            let Ok(record) = update(&books, &name, |record| {
                record.stuck_since = stuck_since(record, after, &outputs, cleared);
            }) else {
                continue;
            };
            marked = record.stuck_since.is_some();
            if let Some(tmux) = report_tmux(&record) {
                let pane = record.tmux.as_ref().and_then(|p| p.pane_id.as_deref());
                let _ = status::publish(&tmux, pane, record.state_word(), None);
            }
        }
    });
}

/// Where a run's output goes: its run's log (a headless stream), and a
/// tmux run's terminal output.
fn outputs(books: &Books, record: &Record) -> Vec<PathBuf> {
    let mut paths = vec![
        record
            .session_history
            .last()
            .and_then(|run| run.log_file.clone())
            .unwrap_or_else(|| record.log_file.clone()),
    ];
    if record.exec_type == Some(ExecType::Tmux) {
        paths.push(books.terminal_log(record));
    }
    paths
}

/// When the last sign of a working run came, if it came longer than
/// `after` ago: the latest of its start, its last state change, the last
/// write to its `outputs` and the moment the agent last `cleared` a mark.
fn stuck_since(
    record: &Record,
    after: Duration,
    outputs: &[PathBuf],
    cleared: Option<std::time::SystemTime>,
) -> Option<String> {
    let working = record.status == Status::Running
        && record
            .agent_state
            .as_ref()
            .is_none_or(|s| s.state != books::Activity::Ended);
    if !working {
        return None;
    }
    let parse = |time: &str| humantime::parse_rfc3339(time).ok();
    let written = outputs
        .iter()
        .filter_map(|path| fs::metadata(path).and_then(|m| m.modified()).ok());
    let last = [
        parse(&record.start_time),
        record.agent_state.as_ref().and_then(|s| parse(&s.since)),
        cleared,
    ]
    .into_iter()
    .flatten()
    .chain(written)
    .max()?;
    let quiet = std::time::SystemTime::now().duration_since(last).ok()?;
    (quiet > after).then(|| humantime::format_rfc3339_millis(last).to_string())
}

/// The tmux server a run reports to: its own, or for a headless run
/// started inside tmux, that one.
fn report_tmux(record: &Record) -> Option<Tmux> {
    exec_tmux(record).or_else(|| std::env::var_os("TMUX").is_some().then(Tmux::from_env))
}

/// Where an interactive Claude Code run's conversation starts in its
/// transcript: the run's log is that conversation, turned into the
/// stream-json a headless run writes (Claude Code shows it in the pane only).
fn transcript_start(record: &Record, exec: ExecType) -> Option<transcript::Start> {
    let claude = record
        .agent
        .as_deref()
        .is_none_or(|agent| agent == "claude");
    if !exec.is_interactive() || !claude || record.run_name().is_none() {
        return None;
    }
    let id = record.agent_session_id.as_deref()?;
    let workdir = record.workdir.as_deref()?;
    // Claude Code names the folder after its working directory as the
    // system gives it (links resolved).
    let cwd = fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
    transcript::Start::now(&cwd, id)
}

/// The tmux server of a tmux run.
fn exec_tmux(record: &Record) -> Option<Tmux> {
    let place = record.tmux.as_ref()?;
    (record.exec_type == Some(ExecType::Tmux)).then(|| Tmux::at(place.socket.as_deref()))
}

/// Marks the record as supervised by this process.
fn begin(books: &Books, name: &str) -> Result<Record> {
    let pane = std::env::var("TMUX_PANE").ok();
    let begun = update(books, name, |record| {
        let me = std::process::id();
        record.status = Status::Running;
        record.supervisor_pid = Some(me);
        record.supervisor_start_ticks = procs::start_ticks(me);
        record.boot_id = procs::boot_id();
        if let (Some(place), Some(pane)) = (record.tmux.as_mut(), pane.clone()) {
            place.pane_id = Some(pane);
        }
    })?;
    // Room for the end of the run, should the disk fill up meanwhile.
    books.reserve(name);
    Ok(begun)
}

/// Reads, changes and writes the record under its lock.
fn update(books: &Books, name: &str, change: impl FnOnce(&mut Record)) -> Result<Record> {
    let _lock = books.lock(name)?;
    let mut record = books
        .read_raw(name)?
        .with_context(|| format!("the session record {name} vanished"))?;
    change(&mut record);
    books.write(&mut record)?;
    Ok(record)
}

/// Labels the window, keeps the pane's output in the log, and publishes
/// the new state: one tmux call.
fn announce(books: &Books, tmux: &Tmux, record: &Record) {
    let Some(pane) = record.tmux.as_ref().and_then(|p| p.pane_id.clone()) else {
        return;
    };
    let mut commands = Commands::new();
    let project = record
        .project_root
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    for (option, value) in [
        ("automatic-rename", "off"),
        ("allow-rename", "off"),
        ("@scopecraft-task", record.task_id.as_str()),
        ("@scopecraft-mode", record.mode_name()),
        ("@scopecraft-project", project.as_str()),
        ("@scopecraft-session", record.session_name.as_str()),
        ("@scopecraft-state", Status::Running.as_str()),
    ] {
        commands.add(["set-option", "-w", "-t", &pane, option, value]);
    }
    // The shell tmux starts opens the log by its name: made (or checked)
    // here first, so a symlink planted in its place is refused, not followed.
    let terminal_log = books.terminal_log(record);
    match open_log(&terminal_log) {
        Ok(_) => {
            // pipe-pane runs a shell command, which tmux first expands as a
            // format: the path is ours, quoted for the shell and `#` escaped.
            let log = tmux::escape_format(&shell_words::quote(&terminal_log.to_string_lossy()));
            commands.add([
                "pipe-pane",
                "-o",
                "-t",
                &pane,
                &format!("exec cat >> {log}"),
            ]);
        }
        Err(err) => say(&format!(
            "scopecraft-tmux: the pane's output is not logged: {err:#}"
        )),
    }
    if let Ok(counts) = Counts::all() {
        counts.push(&mut commands);
    }
    if let Err(err) = tmux.run(&commands) {
        say(&format!(
            "scopecraft-tmux: could not label the window: {err:#}"
        ));
    }
}

/// The agent, and (headless) word from the thread copying its stream to
/// the log once the stream has ended.
type Spawned = (Child, Option<mpsc::Receiver<()>>);

fn spawn(
    books: &Books,
    record: &Record,
    exec: ExecType,
    facts: &Arc<Mutex<StreamFacts>>,
    path_var: Option<&std::ffi::OsStr>,
) -> Result<Spawned> {
    let (program, args) = record
        .agent_command
        .split_first()
        .context("the record holds no agent command")?;
    let prompt = match &record.prompt_file {
        Some(path) => Some(
            fs::read_to_string(path)
                .with_context(|| format!("reading the prompt {}", path.display()))?,
        ),
        None => None,
    };
    let on_stdin = record.prompt_on_stdin.unwrap_or(false);
    let mut cmd = process::cmd(program).args(args);
    if let (Some(prompt), false) = (&prompt, on_stdin) {
        cmd = match &record.prompt_prefix {
            Some(prefix) => cmd.arg(format!("{prefix}{prompt}")),
            None => cmd.arg(prompt),
        };
    }
    if let Some(dir) = &record.workdir {
        cmd = cmd.current_dir(dir);
    }
    if let Some(path) = path_var {
        cmd = cmd.env("PATH", path);
    }
    // `docker run -e TASK_ID -e WORK_MODE` passes these on to the container.
    if exec == ExecType::Docker {
        cmd = cmd
            .env(docker::TASK_VAR, &record.task_id)
            .env(docker::MODE_VAR, record.mode_name());
    }
    cmd = cmd
        .env("SCOPECRAFT_TASK_ID", &record.task_id)
        .env("SCOPECRAFT_MODE", record.mode_name())
        .env("SCOPECRAFT_SESSION_NAME", &record.session_name);

    let command = cmd.command_mut();
    if exec.is_interactive() {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                take_terminal();
                Ok(())
            });
        }
        return Ok((cmd.spawn()?, None));
    }

    command.process_group(0);
    let log = open_log(&record.log_file)?;
    command
        .stdin(if on_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(log);
    let mut child = cmd.spawn()?;
    if let (Some(mut stdin), Some(prompt)) = (child.stdin.take(), prompt.filter(|_| on_stdin)) {
        std::thread::spawn(move || {
            let _ = stdin.write_all(prompt.as_bytes());
        });
    }
    let reader = match child.stdout.take() {
        Some(stdout) => {
            let log = open_log(&record.log_file)?;
            let facts = Arc::clone(facts);
            let (books, name) = (books.clone(), record.session_name.clone());
            let known = record.agent_session_id.clone();
            let (done, ended) = mpsc::channel();
            std::thread::spawn(move || {
                // Recorded as soon as the stream names it, so a run that is
                // killed before its end can still be continued.
                let note_id = |id: &str| {
                    if known.as_deref() != Some(id) {
                        let _ = update(&books, &name, |r| set_conversation(r, id));
                    }
                };
                copy_stream(stdout, log, &facts, note_id);
                let _ = done.send(());
            });
            Some(ended)
        }
        None => None,
    };
    Ok((child, reader))
}

/// In the child, before exec: a process group of its own, made the
/// terminal's foreground group (SIGTTOU blocked meanwhile, as a shell does).
fn take_terminal() {
    // SAFETY: setpgid, sigprocmask and tcsetpgrp are async-signal-safe.
    unsafe {
        libc::setpgid(0, 0);
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::sigprocmask(libc::SIG_BLOCK, &block, &mut old);
        libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpid());
        libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// Takes the terminal back for ourselves once the agent is gone.
fn reclaim_terminal() {
    // SAFETY: as above, in our own process.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::sigprocmask(libc::SIG_BLOCK, &block, &mut old);
        libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp());
        libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// The session's log, ours: never reached through a planted symlink.
pub fn open_log(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    files::open_append(path).with_context(|| format!("opening the log {}", path.display()))
}

/// Appends the agent's stdout to the log line by line, each line in one
/// write so the agent's stderr (appended to the same file) cannot split it,
/// noting the conversation id and the final result (whichever agent wrote
/// the stream: [`stream::StreamReader`]). A
/// line longer than [`stream::MAX_LINE`] goes out piece by piece, unread,
/// so memory stays bounded.
fn copy_stream(
    stdout: impl Read,
    mut log: File,
    facts: &Mutex<StreamFacts>,
    mut on_session_id: impl FnMut(&str),
) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut line = Vec::new();
    let mut oversized = false;
    let mut reader_state = stream::StreamReader::default();
    let mut note = |line: &[u8]| {
        if line.first() != Some(&b'{') {
            return;
        }
        let Ok(event) = serde_json::from_slice::<serde_json::Value>(line) else {
            return;
        };
        let id = reader_state.note(&event);
        let mut facts = facts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = id {
            on_session_id(&id);
            facts.session_id = Some(id);
        }
        // A failed run's text is an error message, not a result to save.
        facts.result_text = reader_state.result_text.clone();
    };
    loop {
        let chunk = match reader.fill_buf() {
            Ok([]) => break,
            Ok(chunk) => chunk,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let (part, ends) = match chunk.iter().position(|&b| b == b'\n') {
            Some(end) => (&chunk[..=end], true),
            None => (chunk, false),
        };
        if !oversized && line.len() + part.len() > stream::MAX_LINE {
            let _ = log.write_all(&line);
            line = Vec::new();
            oversized = true;
        }
        if oversized {
            let _ = log.write_all(part);
        } else {
            line.extend_from_slice(part);
        }
        let used = part.len();
        reader.consume(used);
        if ends {
            if !oversized {
                let _ = log.write_all(&line);
                note(&line);
            }
            line.clear();
            oversized = false;
        }
    }
    // The last line, when the stream does not end with a newline.
    if !line.is_empty() {
        let _ = log.write_all(&line);
        note(&line);
    }
}

/// How long what the agent left running gets between SIGTERM and SIGKILL
/// once a stop has ended the agent.
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);

/// Ends every process still below us (but `spare`, the `docker stop` we
/// started): what the agent started and left behind, in its group or not.
/// Returns those that could not be ended.
fn end_leftovers(spare: &[u32]) -> Vec<u32> {
    let me = std::process::id();
    let below = || {
        procs::reap_orphans(spare);
        let mut pids = procs::descendants(me);
        pids.retain(|pid| !spare.contains(pid));
        pids
    };
    procs::end_all(below, LEFTOVER_GRACE)
}

/// Waits for the agent, passing stop requests on to its process group, or
/// for a Docker run to the container through `docker stop` (the `docker`
/// client we started is not the process that must end). The group gets
/// SIGKILL if it has not ended after the grace period. Orphans we inherit
/// meanwhile are reaped. Returns the pids of the `docker stop` started.
fn wait(
    child: &Child,
    signals: &mut Signals,
    container: Option<&(String, PathBuf)>,
    in_terminal: bool,
) -> Result<(ExitStatus, Option<StopReason>, Vec<u32>)> {
    let group = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let mut reason = None;
    let mut spare = vec![group];
    loop {
        match reap(group, in_terminal)? {
            Reaped::Ended(status) => {
                done.store(true, Ordering::SeqCst);
                spare.retain(|&pid| pid != group);
                return Ok((status, reason, spare));
            }
            // Ctrl-Z in the pane stopped the agent; with no shell to bring
            // it back, the pane would be frozen: resume it at once.
            Reaped::Suspended => {
                procs::signal_group(group, libc::SIGCONT);
                continue;
            }
            Reaped::Running => {}
        }
        for signal in signals.wait() {
            let asked = match signal {
                SIGCHLD => {
                    procs::reap_orphans(&spare);
                    None
                }
                SIGHUP => Some(StopReason::Hangup),
                SIGTERM | SIGINT | SIGQUIT => Some(StopReason::Requested),
                _ => None,
            };
            let Some(asked) = asked else { continue };
            if reason.is_none() {
                reason = Some(asked);
                let forward = if asked == StopReason::Hangup {
                    SIGHUP
                } else {
                    SIGTERM
                };
                match container {
                    // Started here, not in a thread, so it runs even when
                    // the client ends at once and we with it.
                    Some((name, docker)) => match docker::stop(docker, name) {
                        Ok(mut stopping) => {
                            spare.push(stopping.id());
                            std::thread::spawn(move || stopping.wait());
                        }
                        Err(err) => say(&format!("scopecraft-tmux: {err:#}")),
                    },
                    None => {
                        procs::signal_group(group, forward);
                        procs::signal_group(group, libc::SIGCONT);
                    }
                }
                let done = Arc::clone(&done);
                std::thread::spawn(move || {
                    std::thread::sleep(GRACE);
                    if !done.load(Ordering::SeqCst) {
                        procs::signal_group(group, libc::SIGKILL);
                    }
                });
            }
        }
    }
}

enum Reaped {
    Running,
    Suspended,
    Ended(ExitStatus),
}

/// `waitpid` without blocking; in a terminal also reports a stopped agent.
fn reap(pid: u32, in_terminal: bool) -> Result<Reaped> {
    let pid = libc::pid_t::try_from(pid).context("a process id")?;
    let mut status = 0;
    let flags = libc::WNOHANG | if in_terminal { libc::WUNTRACED } else { 0 };
    loop {
        // SAFETY: waitpid on our own child.
        let result = unsafe { libc::waitpid(pid, &mut status, flags) };
        if result == -1 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err).context("waiting for the agent");
        }
        if result == 0 {
            return Ok(Reaped::Running);
        }
        if libc::WIFSTOPPED(status) {
            return Ok(Reaped::Suspended);
        }
        return Ok(Reaped::Ended(ExitStatus::from_raw(status)));
    }
}

/// The signals that end a run (and, once it has ended, us).
const ENDING: [i32; 4] = [SIGTERM, SIGHUP, SIGINT, SIGQUIT];

/// Blocks (`SIG_BLOCK`) or unblocks (`SIG_UNBLOCK`) the ending signals in
/// the calling thread. Async-signal-safe: `dispatch` blocks them between
/// fork and exec of a detached supervisor.
pub fn mask_ending(how: libc::c_int) {
    // SAFETY: sigemptyset, sigaddset and sigprocmask on a set of our own
    // are async-signal-safe and touch nothing else.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in ENDING {
            libc::sigaddset(&mut set, signal);
        }
        libc::sigprocmask(how, &set, std::ptr::null_mut());
    }
}

/// Puts back the default actions of the signals we caught, so that once the
/// agent has ended `kill` or a closed window ends us as usual.
fn default_signals() {
    for signal in ENDING {
        // SAFETY: resetting a disposition to its default.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
    }
}

/// Whether the tmux server stopped answering (it was killed), as opposed to
/// only our window closing. A dying server may answer briefly: ask a few
/// times.
fn server_gone(tmux: &Tmux) -> bool {
    for _ in 0..5 {
        if !tmux.server_running() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    false
}

fn finish(
    books: &Books,
    name: &str,
    status: Option<ExitStatus>,
    reason: Option<StopReason>,
    server_gone: bool,
    facts: &StreamFacts,
) -> Result<Record> {
    let end = |record: &mut Record| {
        record.exit_code = status.and_then(|s| s.code());
        record.exit_signal = status.and_then(|s| s.signal()).map(procs::signal_name);
        if status.is_none() {
            record.exit_code = Some(127);
        }
        record.status = match reason {
            Some(StopReason::Hangup) if server_gone => Status::Interrupted,
            Some(_) => Status::Stopped,
            None if record.exit_code == Some(0) => Status::Completed,
            None => Status::Failed,
        };
        record.end_time = Some(books::now());
        record.stuck_since = None;
        if let Some(id) = &facts.session_id {
            set_conversation(record, id);
        }
        record.close_current_run();
    };
    let written = write_end(books, name, &end);
    books.release_reserve(name);
    written
}

/// How often the end of a run is tried on a full disk, half a second apart.
const END_ATTEMPTS: u32 = 5;

/// Writes the end of a run so that it survives a full disk: the room set
/// aside when the run began is given back and the write tried again (a few
/// times: space may come back); failing that, the outcome is kept outside
/// the books, where their readers find it, and the log and tmux say so.
fn write_end(books: &Books, name: &str, end: &dyn Fn(&mut Record)) -> Result<Record> {
    let mut released = false;
    for attempt in 1..=END_ATTEMPTS {
        match update(books, name, |record| end(record)) {
            Ok(record) => return Ok(record),
            Err(err) if files::is_disk_full(&err) => {
                if !released {
                    released = books.release_reserve(name);
                    if released {
                        continue;
                    }
                }
                say(&format!(
                    "scopecraft-tmux: recording the end of the run failed ({err:#}); attempt {attempt} of {END_ATTEMPTS}"
                ));
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(err) => return Err(err),
        }
    }
    let mut record = books
        .read_raw(name)?
        .with_context(|| format!("the session record {name} vanished"))?;
    end(&mut record);
    record.last_updated = books::now();
    let kept = books.strand(&record)?;
    let message = format!(
        "scopecraft-tmux: the disk holding {} is full: {} {} ({}) is kept in {} until the books can take it",
        books.dir().display(),
        record.session_name,
        record.status,
        record.outcome(),
        kept.display()
    );
    say(&message);
    if let Some(tmux) = exec_tmux(&record) {
        let _ = tmux.run_one(["display-message", &tmux::escape_format(&message)]);
    }
    Ok(record)
}

/// The conversation the agent reported (Claude Code may start a new one
/// when resuming; Codex names its thread itself).
fn set_conversation(record: &mut Record, id: &str) {
    record.set_conversation(id);
}

/// Sets the window's state, refreshes the status summary and, when the
/// user is not looking at the run, tells them how it ended (see `notify`).
fn publish_end(books: &Books, record: &Record, window_gone: bool) {
    let tmux = report_tmux(record);
    let alert = notify::decide(
        record,
        &notify::audience(tmux.as_ref()),
        &Config::of_root(record.project_root.as_deref()),
        notice(record),
    );
    if let Some(alert) = &alert {
        notify::desktop(alert);
        let _ = notify::stamp(books, &record.session_name, record.state_word());
    }
    let Some(tmux) = tmux else {
        return;
    };
    let pane = record
        .tmux
        .as_ref()
        .and_then(|p| p.pane_id.as_deref())
        .filter(|_| !window_gone);
    let _ = status::publish(&tmux, pane, record.state_word(), alert.as_ref());
}

/// "scopecraft: fix-05A (implementation) completed, exit 0".
fn notice(record: &Record) -> String {
    let outcome = record.outcome();
    let outcome = if outcome.is_empty() {
        String::new()
    } else {
        format!(", {outcome}")
    };
    format!(
        "scopecraft: {} ({}) {}{outcome}",
        record.task_id,
        record.mode_name(),
        record.status
    )
}

fn summary(record: &Record) -> String {
    let duration = books::age(&record.start_time)
        .map(|d| format!(" after {}", crate::output::duration(d)))
        .unwrap_or_default();
    format!(
        "\n── {}{duration}. Press any key to close this window.",
        notice(record)
    )
}

/// Writes a line to our terminal; a terminal that went away is not an error.
fn say(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// Waits for one key press on the pane's terminal.
fn wait_for_key() {
    reclaim_terminal();
    let stdin = libc::STDIN_FILENO;
    // SAFETY: plain termios calls on our own terminal.
    unsafe {
        let mut saved: libc::termios = std::mem::zeroed();
        let is_tty = libc::tcgetattr(stdin, &mut saved) == 0;
        if is_tty {
            let mut raw = saved;
            raw.c_lflag &= !(libc::ICANON | libc::ECHO);
            raw.c_cc[libc::VMIN] = 1;
            raw.c_cc[libc::VTIME] = 0;
            libc::tcsetattr(stdin, libc::TCSANOW, &raw);
        }
        let mut byte = [0u8; 1];
        let _ = io::stdin().read(&mut byte);
        if is_tty {
            libc::tcsetattr(stdin, libc::TCSANOW, &saved);
        }
    }
}

/// The saved result of a headless run, resolved against the directory the
/// user dispatched from.
pub fn resolve_save_to(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(std::env::current_dir()
        .context("reading the current directory")?
        .join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_stream_whole_and_notes_the_id_and_the_result() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let huge = format!(
            "{{\"type\":\"user\",\"x\":\"{}\"}}",
            "y".repeat(stream::MAX_LINE)
        );
        let input = format!(
            "{}\nnot json\n{huge}\n{}",
            r#"{"type":"system","subtype":"init","session_id":"abc"}"#,
            r#"{"type":"result","subtype":"success","result":"Done."}"#
        );
        let facts = Mutex::new(StreamFacts::default());
        let mut seen = Vec::new();
        copy_stream(input.as_bytes(), open_log(&path).unwrap(), &facts, |id| {
            seen.push(id.to_string());
        });
        assert!(
            fs::read(&path).unwrap() == input.as_bytes(),
            "every byte, in order"
        );
        assert_eq!(seen, ["abc"]);
        let facts = facts.into_inner().unwrap();
        assert_eq!(facts.session_id.as_deref(), Some("abc"));
        assert_eq!(facts.result_text.as_deref(), Some("Done."));
    }
}
