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

pub mod browser;
pub mod podman;
pub mod served;

pub const BIN: &str = env!("CARGO_BIN_EXE_scopecraft-tmux");

/// How long a test waits for what the binary does in the background: long
/// enough for a machine busy with other builds, since only a failure waits
/// it out.
pub const WAIT: Duration = Duration::from_secs(20);

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

    /// A project with the tasks `ids` (v2, in `current/`) and a mode
    /// `implementation` whose template names the task, using the fake agent.
    pub fn with_tasks(ids: &[&str]) -> Bench {
        let bench = Bench::new().with_fake_agent();
        for id in ids {
            bench.task(id, &format!("Do the work of {id}."));
        }
        bench.write(
            ".tasks/.modes/implementation/base.md",
            "---\ninput:\n  taskId: string\n---\n\nImplement {taskId}.\n",
        );
        bench.write(
            ".tasks/.config/scopecraft-tmux.toml",
            "default-mode = \"implementation\"\n",
        );
        bench
    }

    /// Writes a v2 task `id` in `current/`.
    pub fn task(&self, id: &str, instruction: &str) -> PathBuf {
        self.write(
            &format!(".tasks/current/{id}.task.md"),
            &format!(
                "# Task {id}\n\n---\ntype: feature\nstatus: todo\narea: cli\n---\n\n\
                 ## Instruction\n{instruction}\n\n## Tasks\n- [ ] do it\n\n## Deliverable\n\n## Log\n"
            ),
        )
    }

    /// Makes the project a git repository on `main` with everything in it
    /// committed; the binary's git calls see the same isolated git
    /// configuration as [`git`].
    pub fn with_git(self) -> Bench {
        git(&self.project, &["init", "-q", "-b", "main"]);
        git(&self.project, &["add", "-A"]);
        git(&self.project, &["commit", "-qm", "tasks and modes"]);
        self.with_git_env()
    }

    /// Runs the binary with the isolated git configuration of [`git`].
    pub fn with_git_env(self) -> Bench {
        GIT_ENV
            .iter()
            .fold(self, |bench, (key, value)| bench.env(key, value))
    }

    /// Uses tests/fake-agent/claude as the agent (through SCOPECRAFT_AGENT).
    pub fn with_fake_agent(self) -> Bench {
        let agent = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-agent/claude");
        self.env("SCOPECRAFT_AGENT", agent)
    }

    /// Uses tests/fake-agent/<agent> (`codex`, `gemini`) as the program of
    /// whichever agent runs (through SCOPECRAFT_AGENT).
    pub fn with_fake(self, agent: &str) -> Bench {
        let fake = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fake-agent")
            .join(agent);
        self.env("SCOPECRAFT_AGENT", fake)
    }

    /// Puts the recording stand-in for `docker` (tests/fake-docker) first
    /// on PATH: no Docker engine runs on our machines.
    pub fn with_docker_stand_in(self) -> Bench {
        let stand_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-docker");
        let path = format!(
            "{}:{}",
            stand_in.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        self.env("PATH", path)
    }

    /// What the docker stand-in was asked, in order: (command, argv).
    pub fn docker_calls(&self) -> Vec<Vec<String>> {
        let dir = self.scopecraft_home.join("fake-docker/calls");
        let Ok(entries) = fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                fs::read_to_string(p)
                    .unwrap()
                    .lines()
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    }

    /// Tells the fake agent how to behave for `task` (`default` for all):
    /// shell assignments such as `exit_code=3` or `sleep=30`.
    pub fn agent_behaviour(&self, task: &str, conf: &str) {
        let dir = self.scopecraft_home.join("fake-agent");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(format!("{task}.conf")), conf).unwrap();
    }

    /// What the fake agent received, one entry per call for `task`, in the
    /// order of the calls (their folders are named by their start time).
    pub fn agent_calls(&self, task: &str) -> Vec<AgentCall> {
        let dir = self.scopecraft_home.join("fake-agent/calls");
        let Ok(entries) = fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut calls: Vec<AgentCall> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&format!("{task}."))
            })
            .map(|dir| AgentCall {
                argv: fs::read(dir.join("argv"))
                    .unwrap_or_default()
                    .split(|b| *b == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
                prompt: fs::read_to_string(dir.join("prompt")).unwrap_or_default(),
                stdin: fs::read_to_string(dir.join("stdin")).ok(),
                cwd: fs::read_to_string(dir.join("cwd"))
                    .unwrap_or_default()
                    .trim_end()
                    .to_string(),
                dir,
            })
            .collect();
        calls.sort_by(|a, b| a.dir.cmp(&b.dir));
        calls
    }

    /// Waits until the agent for `task` has been called `count` times.
    #[track_caller]
    pub fn wait_for_agent(&self, task: &str, count: usize) -> Vec<AgentCall> {
        wait_for(&format!("{count} agent call(s) for {task}"), WAIT, || {
            let calls = self.agent_calls(task);
            (calls.len() >= count && calls.iter().all(|c| c.dir.join("prompt").exists()))
                .then_some(calls)
        })
    }

    /// The session record of `task` in `mode`, through `status --json`.
    pub fn record(&self, task: &str, mode: &str) -> serde_json::Value {
        self.run(["status", task, "--mode", mode, "--json"])
            .ok()
            .json()
    }

    /// The file of the session `session_name`'s state (in the bench's only project).
    pub fn record_path(&self, session_name: &str) -> PathBuf {
        let project = self
            .scopecraft_home
            .join("projects")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        project
            .join("sessions")
            .join(format!("{session_name}.session.json"))
    }

    /// Waits until the session of `task` in `mode` has `status`.
    #[track_caller]
    pub fn wait_for_status(&self, task: &str, mode: &str, status: &str) -> serde_json::Value {
        wait_for(&format!("{task} ({mode}) to be {status}"), WAIT, || {
            let run = self.run(["status", task, "--mode", mode, "--json"]);
            if run.code != Some(0) {
                return None;
            }
            let record = run.json();
            (record["status"] == status).then_some(record)
        })
    }

    /// Waits until the supervisor of `task` in `mode` has taken the run
    /// over and started the agent (the record has the agent's pid): the
    /// record says `running` from the dispatch on, before the supervisor
    /// has labelled its window or opened the log.
    #[track_caller]
    pub fn wait_for_agent_started(&self, task: &str, mode: &str) -> serde_json::Value {
        wait_for(
            &format!("the agent of {task} ({mode}) to start"),
            WAIT,
            || {
                let record = self.record(task, mode);
                (record["status"] == "running" && record["pid"].is_u64()).then_some(record)
            },
        )
    }

    /// Waits until the supervisor of `task` in `mode` has ended: it still
    /// tells tmux and tidies the books after writing how the run ended.
    #[track_caller]
    pub fn wait_for_supervisor_end(&self, task: &str, mode: &str) {
        let record = self.record(task, mode);
        let pid = record["supervisorPid"]
            .as_u64()
            .unwrap_or_else(|| panic!("{task} ({mode}) has no supervisor: {record}"));
        wait_for(
            &format!("the supervisor of {task} ({mode}) to end"),
            WAIT,
            || process_gone(pid).then_some(()),
        );
    }

    /// `list-windows -a` of the private server: `session:name` per window.
    pub fn windows(&self) -> Vec<String> {
        let run = self.tmux(["list-windows", "-a", "-F", "#{session_name}:#{window_name}"]);
        if run.code != Some(0) {
            return Vec::new();
        }
        run.stdout.lines().map(str::to_string).collect()
    }

    /// Whether this bench's tmux server runs.
    pub fn server_running(&self) -> bool {
        self.tmux(["list-sessions"]).code == Some(0)
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
        self.cmd_of(Path::new(BIN))
    }

    /// `program` (a copy of the binary) run as [`Bench::cmd`] runs the binary.
    pub fn cmd_of(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.project);
        self.isolate(&mut cmd);
        for (key, value) in &self.extra_env {
            cmd.env(key, value);
        }
        cmd
    }

    fn isolate(&self, cmd: &mut Command) {
        cmd.env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .env_remove("SCOPECRAFT_AGENT")
            .env("HOME", &self.home)
            // Claude Code's folder (the fake agent's transcripts): this
            // bench's, never the user's.
            .env("CLAUDE_CONFIG_DIR", self.home.join(".claude"))
            .env("SCOPECRAFT_HOME", &self.scopecraft_home)
            .env("TMUX_TMPDIR", &self.tmux_tmpdir)
            .env("NO_COLOR", "1");
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

impl Bench {
    /// The id of the pane of the session `main` ([`Bench::start_server`]).
    pub fn main_pane(&self) -> String {
        self.tmux(["display-message", "-p", "-t", "main", "#{pane_id}"])
            .ok()
            .stdout
            .trim()
            .to_string()
    }

    /// Starts this bench's tmux server with a session `main` (120×40) whose
    /// pane is in `dir`; the server (and so `run-shell`) gets the bench's
    /// environment, the fake agent included.
    pub fn start_server(&self, dir: &Path) {
        let mut cmd = Command::new("tmux");
        cmd.args([
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "120",
            "-y",
            "40",
            "-c",
        ])
        .arg(dir);
        self.isolate(&mut cmd);
        for (key, value) in &self.extra_env {
            cmd.env(key, value);
        }
        let run = Run::from(cmd.output().expect("starting tmux"));
        assert_eq!(run.code, Some(0), "tmux new-session: {}", run.stderr);
    }

    /// The project's session folder in the books (it may not exist yet).
    pub fn sessions_dir(&self) -> PathBuf {
        self.scopecraft_home
            .join("projects")
            .join(encode_root(&self.project))
            .join("sessions")
    }

    /// Runs the binary with `args`, killed (and the test failed) when it
    /// has not ended within `limit`: for what used to hang.
    #[track_caller]
    pub fn run_within<I, S>(&self, limit: Duration, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        let mut child = self
            .cmd()
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("running the binary");
        let deadline = Instant::now() + limit;
        while child.try_wait().expect("waiting for the binary").is_none() {
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{}` did not end within {limit:?}", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Run::from(child.wait_with_output().expect("collecting the output"))
    }

    /// A global tmux option of this bench's server; empty when unset.
    pub fn option(&self, name: &str) -> String {
        let run = self.tmux(["show-options", "-gqv", name]);
        run.stdout
            .strip_suffix('\n')
            .unwrap_or(&run.stdout)
            .to_string()
    }
}

impl Bench {
    /// A terminal client running `args` (`tmux attach …`) under `script`
    /// (a pseudo-terminal), as a user's terminal would; what the terminal
    /// was sent goes to `typescript`.
    pub fn attach_client(&self, args: &[&str], typescript: &Path) -> std::process::Child {
        let command = args
            .iter()
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut cmd = Command::new("script");
        cmd.args(["-qfec", &command])
            .arg(typescript)
            .current_dir(&self.project)
            .env_remove("TMUX")
            .env("HOME", &self.home)
            // Claude Code's folder (the fake agent's transcripts): this
            // bench's, never the user's.
            .env("CLAUDE_CONFIG_DIR", self.home.join(".claude"))
            .env("SCOPECRAFT_HOME", &self.scopecraft_home)
            .env("TMUX_TMPDIR", &self.tmux_tmpdir)
            .env("TERM", "xterm-256color")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd.spawn().unwrap()
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        self.end_live_sessions();
        let _ = self.tmux(["kill-server"]);
    }
}

impl Bench {
    /// Ends what a test left running: headless supervisors and their agents
    /// are not tied to the tmux server, so killing it does not end them.
    fn end_live_sessions(&self) {
        let Ok(projects) = fs::read_dir(self.scopecraft_home.join("projects")) else {
            return;
        };
        for project in projects.flatten() {
            let Ok(records) = fs::read_dir(project.path().join("sessions")) else {
                continue;
            };
            for record in records.flatten() {
                let Ok(text) = fs::read_to_string(record.path()) else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                if !matches!(value["status"].as_str(), Some("running" | "waiting")) {
                    continue;
                }
                for (field, group) in [("pid", true), ("supervisorPid", false)] {
                    if let Some(pid) = value[field].as_i64().and_then(|p| i32::try_from(p).ok())
                        && pid > 1
                    {
                        // SAFETY: kill(2); a negative pid is the agent's group.
                        unsafe { libc::kill(if group { -pid } else { pid }, libc::SIGKILL) };
                    }
                }
            }
        }
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

/// Scopecraft's directory name for a project root (SPEC §5).
pub fn encode_root(root: &Path) -> String {
    root.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .map(|part| {
            part.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
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

/// Git without the user's or the system's configuration, with a fixed
/// author: for the tests' git and the binary's.
const GIT_ENV: [(&str, &str); 6] = [
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_AUTHOR_NAME", "t"),
    ("GIT_AUTHOR_EMAIL", "t@localhost"),
    ("GIT_COMMITTER_NAME", "t"),
    ("GIT_COMMITTER_EMAIL", "t@localhost"),
];

/// Runs git in `dir` (isolated as [`GIT_ENV`] says), asserts it succeeded,
/// and returns its stdout.
#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = git_unchecked(dir, args);
    assert!(
        output.code == Some(0),
        "git {args:?} in {}: {}",
        dir.display(),
        output.stderr
    );
    output.stdout
}

/// Runs git in `dir` whatever comes of it.
pub fn git_unchecked(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).args(args);
    for (key, value) in GIT_ENV {
        cmd.env(key, value);
    }
    Run::from(cmd.output().expect("running git"))
}

/// Sends `signal` to `pid`; a negative `signal` sends its opposite to the
/// process group `pid` leads.
pub fn kill(pid: u64, signal: i32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    let target = if signal < 0 { -pid } else { pid };
    // SAFETY: kill(2).
    unsafe { libc::kill(target, signal.abs()) };
}

/// Whether `pid` is gone (or a zombie nobody has reaped yet).
/// The start time of process `pid` (clock ticks after boot), as a record's
/// `supervisorStartTicks` holds it.
pub fn start_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields = stat.rsplit_once(')').unwrap().1;
    fields.split_whitespace().nth(19).unwrap().parse().unwrap()
}

pub fn process_gone(pid: u64) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
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

/// Polls `check` every 25 ms until it returns `Some`, or gives `None`
/// after `timeout` (for callers that explain the failure themselves).
pub fn wait_for_or_none<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// One call of the fake agent.
#[derive(Debug, Clone)]
pub struct AgentCall {
    pub dir: PathBuf,
    pub argv: Vec<String>,
    /// The prompt as the agent read it (last argument, or stdin with -p).
    pub prompt: String,
    pub stdin: Option<String>,
    pub cwd: String,
}
