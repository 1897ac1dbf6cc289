//! The one place external programs are started (tmux, git, docker, the agent).
//!
//! Every spawn goes through [`Cmd`], so a failure always names the command,
//! its exit status and what it printed on stderr, and a program missing from
//! `PATH` says so in words. Clippy forbids `Command::new` everywhere else.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// A command about to run. Build it, then `run`, `output` or `spawn` it.
pub struct Cmd {
    command: Command,
    program: OsString,
    args: Vec<OsString>,
    timeout: Option<Duration>,
    /// Said after "did not answer within …": what may hold the program.
    timeout_hint: Option<String>,
}

/// Builds a command for `program`, found on `PATH` unless it has a `/`.
pub fn cmd(program: impl AsRef<OsStr>) -> Cmd {
    let program = program.as_ref().to_os_string();
    #[allow(clippy::disallowed_methods)] // this module is the choke point
    let command = Command::new(&program);
    Cmd {
        command,
        program,
        args: Vec::new(),
        timeout: None,
        timeout_hint: None,
    }
}

impl Cmd {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Gives `output` and `output_unchecked` a time limit: a program that
    /// hangs (a wedged tmux server) is killed instead of blocking us, and
    /// whatever lock we hold, for ever.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// What a timeout's error adds: what may hold the program, how to
    /// allow it longer.
    pub fn timeout_hint(mut self, hint: impl Into<String>) -> Self {
        self.timeout_hint = Some(hint.into());
        self
    }

    /// Direct access for what this wrapper does not cover (process groups,
    /// redirections to files).
    pub fn command_mut(&mut self) -> &mut Command {
        &mut self.command
    }

    /// Runs to completion capturing stdout and stderr; a non-zero exit is an
    /// error carrying stderr. Returns stdout.
    pub fn output(self) -> Result<String> {
        let display = self.to_string();
        let output = self.output_unchecked()?;
        if !output.status.success() {
            bail!(
                "`{display}` {}: {}",
                describe_status(output.status),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        String::from_utf8(output.stdout).with_context(|| format!("`{display}` printed non-UTF-8"))
    }

    /// Runs to completion capturing stdout and stderr, whatever the status.
    pub fn output_unchecked(self) -> Result<Output> {
        if let Some(limit) = self.timeout {
            return self.output_within(limit);
        }
        let (child, display) = self.spawn_captured()?;
        child
            .wait_with_output()
            .with_context(|| format!("waiting for `{display}`"))
    }

    /// Starts the program with stdin closed and stdout and stderr piped.
    fn spawn_captured(mut self) -> Result<(Child, String)> {
        let display = self.to_string();
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = self
            .command
            .spawn()
            .map_err(|err| spawn_error(&self.program, &display, err))?;
        Ok((child, display))
    }

    /// Like [`Cmd::output_unchecked`], but gives up after `limit`: the
    /// program is killed and an error says it did not answer in time. A
    /// watchdog thread does the killing, so an answer is seen at once. The
    /// output is read on threads of its own, so a process the program left
    /// behind holding its stdout or stderr (a hung credential helper, a
    /// hook's child) cannot keep us waiting past the limit either.
    pub fn output_within(self, limit: Duration) -> Result<Output> {
        let deadline = Instant::now() + limit;
        let hint = self
            .timeout_hint
            .as_ref()
            .map(|hint| format!("; {hint}"))
            .unwrap_or_default();
        let (mut child, display) = self.spawn_captured()?;
        let stdout = read_on_a_thread(child.stdout.take());
        let stderr = read_on_a_thread(child.stderr.take());
        let pid = child.id();
        let finished = Arc::new((Mutex::new(false), Condvar::new()));
        let timed_out = Arc::new(AtomicBool::new(false));
        let watchdog = {
            let finished = Arc::clone(&finished);
            let timed_out = Arc::clone(&timed_out);
            std::thread::spawn(move || {
                let (lock, wake) = &*finished;
                let done = lock.lock().unwrap_or_else(|p| p.into_inner());
                let (done, _) = wake
                    .wait_timeout_while(done, limit, |done| !*done)
                    .unwrap_or_else(|p| p.into_inner());
                if !*done {
                    timed_out.store(true, Ordering::SeqCst);
                    crate::procs::signal(pid, libc::SIGKILL);
                }
            })
        };
        let status = child.wait();
        {
            let (lock, wake) = &*finished;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
            wake.notify_one();
        }
        let _ = watchdog.join();
        // What is still held open after the program ended gets until the
        // deadline (a moment, once the program was killed).
        let until = deadline.max(Instant::now() + Duration::from_millis(100));
        let stdout = stdout.recv_timeout(until.saturating_duration_since(Instant::now()));
        let stderr = stderr.recv_timeout(until.saturating_duration_since(Instant::now()));
        let (Ok(stdout), Ok(stderr)) = (stdout, stderr) else {
            bail!("`{display}` did not answer within {}{hint}", seconds(limit));
        };
        if timed_out.load(Ordering::SeqCst) {
            bail!("`{display}` did not answer within {}{hint}", seconds(limit));
        }
        Ok(Output {
            status: status.with_context(|| format!("waiting for `{display}`"))?,
            stdout: stdout?,
            stderr: stderr?,
        })
    }

    /// Starts the program and returns the child; stdio as configured.
    pub fn spawn(mut self) -> Result<Child> {
        let display = self.to_string();
        self.command
            .spawn()
            .map_err(|err| spawn_error(&self.program, &display, err))
    }

    /// Replaces this process with the program (used to hand the terminal
    /// over to `tmux attach`). Returns only on failure.
    #[cfg(unix)]
    pub fn exec(mut self) -> anyhow::Error {
        use std::os::unix::process::CommandExt;
        let display = self.to_string();
        let err = self.command.exec();
        spawn_error(&self.program, &display, err)
    }
}

impl fmt::Display for Cmd {
    /// The command as a shell-quoted line, for messages and `--dry-run`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = std::iter::once(&self.program)
            .chain(&self.args)
            .map(|word| word.to_string_lossy());
        f.write_str(&shell_words::join(words))
    }
}

/// `1.5s`, `60s`.
fn seconds(limit: Duration) -> String {
    format!("{}s", limit.as_secs_f64())
}

/// Reads `pipe` to its end on a thread; the bytes arrive on the channel.
fn read_on_a_thread(
    pipe: Option<impl Read + Send + 'static>,
) -> mpsc::Receiver<io::Result<Vec<u8>>> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let read = match pipe {
            Some(mut pipe) => pipe.read_to_end(&mut bytes).map(|_| bytes),
            None => Ok(bytes),
        };
        let _ = send.send(read);
    });
    receive
}

fn spawn_error(program: &OsStr, display: &str, err: io::Error) -> anyhow::Error {
    if err.kind() == io::ErrorKind::NotFound {
        anyhow!(
            "`{}` was not found on PATH (needed to run `{display}`)",
            program.to_string_lossy()
        )
    } else {
        anyhow!(err).context(format!("starting `{display}`"))
    }
}

/// "exited with 3" or "was killed by signal 9".
pub fn describe_status(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with {code}"),
        None => "ended abnormally".to_string(),
    }
}

/// Whether `program` can be started: a path that exists, or a name on `PATH`.
pub fn find_program(program: &str) -> Option<std::path::PathBuf> {
    let candidate = Path::new(program);
    if program.contains('/') {
        // Made absolute: it will be run from another directory.
        let absolute = std::path::absolute(candidate).ok()?;
        return is_executable(&absolute).then_some(absolute);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|full| is_executable(full))
}

/// This program's own path, for starting another copy of itself: a
/// supervisor, the agent's hooks, the menu's commands. A binary replaced
/// while it runs (`cargo install`, `scripts/install.sh`, a rebuild: a new
/// file renamed over the old) reads on Linux as `<path> (deleted)`; the file
/// now at `<path>` is the one to start.
pub fn own_program() -> Result<PathBuf> {
    #[allow(clippy::disallowed_methods)] // this is the one place that asks
    let exe = std::env::current_exe().context("finding this program's own path")?;
    replacement_of(exe)
}

/// `exe` as [`own_program`] reads it: itself when it is there, else the
/// file that replaced it.
fn replacement_of(exe: PathBuf) -> Result<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    if is_executable(&exe) {
        return Ok(exe);
    }
    let Some(original) = exe
        .as_os_str()
        .as_bytes()
        .strip_suffix(b" (deleted)")
        .map(|path| PathBuf::from(OsStr::from_bytes(path)))
    else {
        return Ok(exe);
    };
    if is_executable(&original) {
        return Ok(original);
    }
    bail!(
        "the scopecraft-tmux binary at {} was removed while this process (pid {}) ran, so it cannot start \
         another copy of itself; install it again, or restart this process (`scopecraft-tmux serve`, the menu)",
        original.display(),
        std::process::id()
    )
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn program(path: &Path, mode: u32) {
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_replaced_binary_is_started_from_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scopecraft-tmux");
        program(&path, 0o755);
        let deleted = dir.path().join("scopecraft-tmux (deleted)");
        assert_eq!(replacement_of(deleted).unwrap(), path);
        // Present as it is: itself.
        assert_eq!(replacement_of(path.clone()).unwrap(), path);
    }

    #[test]
    fn a_removed_binary_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scopecraft-tmux");
        let deleted = dir.path().join("scopecraft-tmux (deleted)");
        let err = format!("{:#}", replacement_of(deleted.clone()).unwrap_err());
        assert!(
            err.contains(&format!("binary at {} was removed", path.display())),
            "{err}"
        );
        // Something there that cannot run is no replacement.
        program(&path, 0o644);
        assert!(replacement_of(deleted).is_err());
    }
}
