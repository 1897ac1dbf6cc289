//! The test bench: a temporary project, a temporary `SCOPECRAFT_HOME` and
//! `HOME`, and a private tmux server reached through `TMUX_TMPDIR` (as the
//! binary reaches tmux), killed when the bench is dropped.

#![allow(dead_code)] // each test module uses part of the bench

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_scopecraft-tmux");

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A temporary world for one test.
pub struct Bench {
    pub dir: TempDir,
    /// The project root (holds `.tasks/`).
    pub project: PathBuf,
    pub home: PathBuf,
    pub scopecraft_home: PathBuf,
    pub tmux_tmpdir: PathBuf,
    extra_env: Vec<(String, String)>,
}

impl Bench {
    /// An empty project: `.tasks/` with nothing in it.
    pub fn new() -> Bench {
        let dir = tempfile::Builder::new()
            .prefix("sct-")
            .tempdir()
            .expect("temporary directory");
        let root = dir.path().canonicalize().unwrap();
        let project = root.join("project");
        let home = root.join("home");
        let scopecraft_home = root.join("scopecraft-home");
        let tmux_tmpdir = root.join("tmux");
        for d in [&project, &home, &scopecraft_home, &tmux_tmpdir] {
            fs::create_dir_all(d).unwrap();
        }
        fs::create_dir_all(project.join(".tasks")).unwrap();
        Bench {
            dir,
            project,
            home,
            scopecraft_home,
            tmux_tmpdir,
            extra_env: Vec::new(),
        }
    }

    /// A project holding a copy of `tests/fixtures/<name>/.tasks`.
    pub fn with_fixture(name: &str) -> Bench {
        let bench = Bench::new();
        fs::remove_dir_all(bench.project.join(".tasks")).unwrap();
        copy_dir(
            &fixtures().join(name).join(".tasks"),
            &bench.project.join(".tasks"),
        );
        bench
    }

    /// Adds an environment variable for every run of the binary.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Bench {
        self.extra_env.push((
            key.to_string(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
        self
    }

    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.project.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }

    /// The binary as a user runs it, from the project root.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.project);
        self.isolate(&mut cmd);
        cmd
    }

    fn isolate(&self, cmd: &mut Command) {
        cmd.env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .env_remove("SCOPECRAFT_AGENT")
            .env("HOME", &self.home)
            .env("SCOPECRAFT_HOME", &self.scopecraft_home)
            .env("TMUX_TMPDIR", &self.tmux_tmpdir)
            .env("NO_COLOR", "1");
        for (key, value) in &self.extra_env {
            cmd.env(key, value);
        }
    }

    /// Runs the binary with `args` and returns what happened.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self.cmd().args(args).output().expect("running the binary");
        Run::from(output)
    }

    /// A tmux command against this bench's private server.
    pub fn tmux<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("tmux");
        cmd.arg("-f").arg("/dev/null").args(args);
        self.isolate(&mut cmd);
        Run::from(cmd.output().expect("running tmux"))
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = self.tmux(["kill-server"]);
    }
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts exit code 2 (bad input) with a message containing `needle`,
    /// and returns the run.
    #[track_caller]
    pub fn bad_input(self, needle: &str) -> Run {
        assert_eq!(
            self.code,
            Some(2),
            "expected exit 2\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout))
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Polls `check` every 25 ms until it returns `Some`, or panics after
/// `timeout` with `what`.
#[track_caller]
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}
