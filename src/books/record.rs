//! One session's record: Scopecraft's `.info.json` fields with their
//! meaning kept, and ours beside them in the same camelCase.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How a session ran, or how it ended. Read also in Scopecraft's words
/// (its own records in the folder say `waiting_feedback` or `error`, which
/// its monitor shows with the waiting and the ended runs); written in ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The agent runs.
    Running,
    /// An interactive agent waits for its user.
    #[serde(alias = "waiting_feedback")]
    Waiting,
    /// Exit 0.
    Completed,
    /// A non-zero exit or a signal.
    #[serde(alias = "error")]
    Failed,
    /// Asked to stop (`stop`, the window closed).
    Stopped,
    /// Its window or process vanished (tmux killed, machine rebooted).
    Interrupted,
}

impl Status {
    /// Running or waiting: the agent process should exist.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Running | Status::Waiting)
    }

    /// The value Scopecraft's code knows (its record type and its monitor
    /// page): `running`, `waiting_feedback`, `completed`, and `failed` for
    /// every other end. Our finer state goes in fields of our own.
    pub fn scopecraft(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Waiting => "waiting_feedback",
            Status::Completed => "completed",
            Status::Failed | Status::Stopped | Status::Interrupted => "failed",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Waiting => "waiting",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Stopped => "stopped",
            Status::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a live agent does, as its hooks last said: finer than [`Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activity {
    /// It works (a prompt was submitted, a tool runs).
    Working,
    /// It waits for its user: finished its turn, asks a permission or a question.
    Waiting,
    /// Its turn ended on an error it cannot get past alone (rate limit,
    /// authentication, billing), or the user interrupted it.
    Blocked,
    /// The agent's session ended; the supervisor records how the process ended.
    Ended,
}

/// The agent's state from its hooks: what, why, since when, and the hook
/// event that said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentState {
    pub state: Activity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub event: String,
    pub since: String,
}

/// The last notification of a run's state, for the debounce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notified {
    pub state: String,
    pub at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExecType {
    /// A tmux window in the session `scopecraft`
    Tmux,
    /// Headless, in the background
    Detached,
    /// Headless, inside `docker run`
    Docker,
    /// In the foreground of the terminal that ran `work` (not a `--exec`
    /// choice: `work` is the command for it)
    #[value(skip)]
    Terminal,
}

impl ExecType {
    /// Whether the agent runs on a terminal, for a person (tmux, `work`).
    pub fn is_interactive(self) -> bool {
        matches!(self, ExecType::Tmux | ExecType::Terminal)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExecType::Tmux => "tmux",
            ExecType::Detached => "detached",
            ExecType::Docker => "docker",
            ExecType::Terminal => "terminal",
        }
    }

    /// Scopecraft's `type`: tmux and terminal runs are interactive.
    pub fn scopecraft_type(self) -> &'static str {
        match self {
            ExecType::Tmux | ExecType::Terminal => "interactive",
            ExecType::Detached | ExecType::Docker => "autonomous-task",
        }
    }
}

impl fmt::Display for ExecType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a tmux run lives; commands target the ids, never the names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TmuxPlace {
    pub session: String,
    pub window_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pane_id: Option<String>,
    /// The tmux server's socket, so later commands reach the same server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorktreePlace {
    pub path: PathBuf,
    pub branch: String,
}

/// One run of the session, in `sessionHistory`. `sessionId` and
/// `resumedFrom` are Scopecraft's; the rest is ours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The run's own record for Scopecraft, `task-<taskId>-<epochMs>`
    /// (`<name>.info.json`, log `logs/<name>.log`). Absent in runs
    /// recorded before runs had records of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_file: Option<PathBuf>,
    pub start_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_type: Option<ExecType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_signal: Option<String>,
    /// The conversation ids this run had before `sessionId` (Claude Code
    /// starts a new one on `/clear`, and `/resume` switches to another).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_session_ids: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A session's record, `<sessionName>.session.json` (`<task>.<mode>`): the
/// state of one (task, mode) key across its runs, which our commands read.
/// Each run also has a record of its own for Scopecraft ([`RunRecord`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    // Scopecraft's fields, with Scopecraft's meaning.
    pub session_name: String,
    pub task_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    pub status: Status,
    pub start_time: String,
    #[serde(default)]
    pub last_updated: String,
    #[serde(default)]
    pub log_file: PathBuf,
    /// The agent's process id (for a Docker run, the `docker` client's:
    /// the agent itself runs in the container).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// `interactive` (tmux) or `autonomous-task` (headless).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Scopecraft's name for the agent's conversation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_session_id: Option<String>,
    #[serde(default)]
    pub session_history: Vec<Run>,

    // Ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_type: Option<ExecType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_root: Option<PathBuf>,
    /// Where the agent runs: the worktree, or the project root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmux: Option<TmuxPlace>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<WorktreePlace>,
    /// Docker runs: the container's name (`docker stop` takes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_file: Option<PathBuf>,
    /// The agent's argv without the prompt (the supervisor adds it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agent_command: Vec<String>,
    /// How the agent takes its prompt: as the last argument, or on stdin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_on_stdin: Option<bool>,
    /// The prompt goes as one argument with this prefix (`--prompt-interactive=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_prefix: Option<String>,
    /// Which agent runs (`claude`, `codex`, `gemini`, or a configured
    /// profile); `--continue` resumes with the same one. None: Claude Code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Headless: where to write the final result text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_to: Option<PathBuf>,
    /// tmux: keep the pane open after the agent ends until a key is pressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_pane: Option<bool>,
    /// The supervisor watching the agent, and how to tell it from a later
    /// process with the same pid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_pid: Option<u32>,
    /// When the agent (`pid`, leader of its own process group) started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_start_ticks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_start_ticks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// Set when `stop` asked the session to end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_requested: Option<bool>,
    /// What the agent's hooks last said (interactive Claude Code runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_state: Option<AgentState>,
    /// Set while the run says it works but nothing came from it (no hook
    /// event, no output) for the configured time: the time of the last sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck_since: Option<String>,
    /// The last state the user was notified of, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<Notified>,
    /// Processes the agent started that a stop could not end (their pids).
    #[serde(rename = "unendedPids", default, skip_serializing_if = "Vec::is_empty")]
    pub unended: Vec<u32>,

    /// Fields we do not know (written by Scopecraft or a later version),
    /// kept as they are on every rewrite; never `agentEnv`.
    #[serde(flatten, deserialize_with = "without_environment")]
    pub extra: Map<String, Value>,
}

/// The fields we do not know, less `agentEnv`: records of the earlier
/// layout held the agent's environment (its PATH, perhaps secrets), which
/// no output of ours shows and no rewrite keeps, whatever the file holds.
fn without_environment<'de, D>(fields: D) -> Result<Map<String, Value>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let mut fields = Map::deserialize(fields)?;
    fields.remove(ENVIRONMENT_FIELD);
    Ok(fields)
}

/// Where the earlier layout kept the agent's environment.
pub(super) const ENVIRONMENT_FIELD: &str = "agentEnv";

impl Record {
    /// Ours (written by scopecraft-tmux), as opposed to a Scopecraft record
    /// in the same folder: only ours are reconciled and supervised.
    pub fn is_ours(&self) -> bool {
        self.exec_type.is_some()
    }

    pub fn mode_name(&self) -> &str {
        self.mode.as_deref().unwrap_or("-")
    }

    /// The current run, the last of `sessionHistory`.
    pub fn current_run_mut(&mut self) -> Option<&mut Run> {
        self.session_history.last_mut()
    }

    /// Copies the outcome fields into the current run.
    pub fn close_current_run(&mut self) {
        let (status, end, code, signal) = (
            self.status,
            self.end_time.clone(),
            self.exit_code,
            self.exit_signal.clone(),
        );
        let session_id = self.agent_session_id.clone();
        if let Some(run) = self.current_run_mut() {
            run.status = Some(status);
            run.end_time = end;
            run.exit_code = code;
            run.exit_signal = signal;
            if run.session_id.is_none() {
                run.session_id = session_id;
            }
        }
    }

    /// The agent's conversation id: the session's and the current run's;
    /// the run keeps the ids it had before.
    pub fn set_conversation(&mut self, id: &str) {
        self.agent_session_id = Some(id.to_string());
        self.real_session_id = Some(id.to_string());
        if let Some(run) = self.current_run_mut()
            && let Some(before) = run.session_id.replace(id.to_string())
            && before != id
            && !run.previous_session_ids.contains(&before)
        {
            run.previous_session_ids.push(before);
        }
    }

    /// The agent that runs (Claude Code unless the record names another).
    pub fn agent_name(&self) -> &str {
        self.agent.as_deref().unwrap_or(crate::agent::DEFAULT)
    }

    /// The state as people read it: a live run's finer state (`waiting`,
    /// `blocked`, `stuck`) where there is one, else the status.
    pub fn state_word(&self) -> &'static str {
        if !self.status.is_live() {
            return self.status.as_str();
        }
        if self.stuck_since.is_some() {
            return "stuck";
        }
        match self.agent_state.as_ref().map(|s| s.state) {
            Some(Activity::Blocked) => "blocked",
            _ => self.status.as_str(),
        }
    }

    /// Why a live run waits or is blocked, as its agent said
    /// (`permission_prompt`, `rate_limit`, …); empty otherwise.
    pub fn state_reason(&self) -> &str {
        match &self.agent_state {
            Some(state) if self.status == Status::Waiting => state.reason.as_deref().unwrap_or(""),
            _ => "",
        }
    }

    /// The state with its reason, for tables: `waiting (permission_prompt)`,
    /// `blocked (rate_limit)`, `stuck (quiet 12m)`, `completed`.
    pub fn state_label(&self) -> String {
        let word = self.state_word();
        if word == "stuck" {
            let quiet = self
                .stuck_since
                .as_deref()
                .and_then(super::age)
                .map(|d| format!(" (quiet {})", crate::output::duration(d)))
                .unwrap_or_default();
            return format!("{word}{quiet}");
        }
        match self.state_reason() {
            "" => word.to_string(),
            reason => format!("{word} ({reason})"),
        }
    }

    /// "exit 0", "exit 3", "exit 53 (turn limit exceeded)" (a code the
    /// agent documents), "SIGKILL", or "" while running.
    pub fn outcome(&self) -> String {
        match (&self.exit_code, &self.exit_signal) {
            (_, Some(signal)) => signal.clone(),
            (Some(code), None) => match crate::agent::exit_meaning(self.agent_name(), *code) {
                Some(meaning) => format!("exit {code} ({meaning})"),
                None => format!("exit {code}"),
            },
            (None, None) => String::new(),
        }
    }
}

/// One run's record for Scopecraft's reader, `task-<taskId>-<epochMs>.info.json`:
/// Scopecraft's fields with their meaning (`status` in its vocabulary, the
/// run's own log, start and conversation), then ours (`state` says how the
/// run ended in our words). Written from the session's record, never read
/// back by our commands; it carries no environment and no agent command.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord<'a> {
    pub session_name: &'a str,
    pub task_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<&'a str>,
    pub log_file: &'a Path,
    pub start_time: &'a str,
    pub last_updated: &'a str,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub execution_mode: &'static str,
    pub docker_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_session_id: Option<&'a str>,
    pub session_history: [HistoryEntry<'a>; 1],

    // Ours.
    /// The session (task, mode) this run belongs to: `<sessionKey>.session.json`.
    pub session_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'a str>,
    pub exec_type: ExecType,
    pub state: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_signal: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_requested: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_file: Option<&'a Path>,
    /// A tmux run's terminal output, for people (`logFile` holds the
    /// conversation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_log: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_root: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workdir: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worktree: Option<&'a WorktreePlace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmux: Option<&'a TmuxPlace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<&'a str>,
}

/// Scopecraft's `sessionHistory` entry.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry<'a> {
    pub session_id: &'a str,
    pub start_time: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<&'a str>,
}

impl Record {
    /// The current run's own record, when it has one (runs recorded
    /// before runs had records of their own do not). `terminal_log`: where
    /// a tmux run's pane output goes.
    pub fn run_record<'a>(&'a self, terminal_log: Option<&'a Path>) -> Option<RunRecord<'a>> {
        let exec = self.exec_type?;
        let run = self.session_history.last()?;
        let name = run.record.as_deref()?;
        let conversation = run
            .session_id
            .as_deref()
            .or(self.agent_session_id.as_deref());
        Some(RunRecord {
            session_name: name,
            task_id: &self.task_id,
            parent_id: self.parent_id.as_deref(),
            log_file: run.log_file.as_deref().unwrap_or(&self.log_file),
            start_time: &run.start_time,
            last_updated: &self.last_updated,
            status: self.status.scopecraft(),
            pid: self.pid,
            kind: exec.scopecraft_type(),
            execution_mode: exec.as_str(),
            docker_enabled: exec == ExecType::Docker,
            real_session_id: conversation,
            session_history: [HistoryEntry {
                session_id: conversation.unwrap_or_default(),
                start_time: &run.start_time,
                resumed_from: run.resumed_from.as_deref(),
            }],
            session_key: &self.session_name,
            mode: self.mode.as_deref(),
            exec_type: exec,
            state: self.status,
            exit_code: self.exit_code,
            exit_signal: self.exit_signal.as_deref(),
            end_time: self.end_time.as_deref(),
            stop_requested: self.stop_requested,
            prompt_file: self.prompt_file.as_deref(),
            terminal_log: terminal_log.filter(|_| exec == ExecType::Tmux),
            project_root: self.project_root.as_deref(),
            workdir: self.workdir.as_deref(),
            worktree: self.worktree.as_ref(),
            tmux: self.tmux.as_ref(),
            container: self.container.as_deref(),
        })
    }

    /// The current run's record name, when it has one.
    pub fn run_name(&self) -> Option<&str> {
        self.session_history.last()?.record.as_deref()
    }

    /// The logs of the session's runs, oldest first, each once: a session
    /// recorded before runs had logs of their own has one for all.
    pub fn run_logs(&self) -> Vec<PathBuf> {
        let mut logs: Vec<PathBuf> = Vec::new();
        for run in &self.session_history {
            let log = run.log_file.as_ref().unwrap_or(&self.log_file);
            if !log.as_os_str().is_empty() && !logs.contains(log) {
                logs.push(log.clone());
            }
        }
        if logs.is_empty() && !self.log_file.as_os_str().is_empty() {
            logs.push(self.log_file.clone());
        }
        logs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scopecraft_records_and_keeps_their_fields() {
        let text = r#"{
          "sessionName": "task-test-feedback-flow-05B-1748658020078",
          "taskId": "test-feedback-flow-05B",
          "logFile": ".tasks/.autonomous-sessions/logs/task-test-feedback-flow-05B-1748658020078.log",
          "startTime": "2025-05-31T02:20:20.078Z",
          "status": "running",
          "pid": 99783,
          "executionFlags": {"x": 1}
        }"#;
        let record: Record = serde_json::from_str(text).unwrap();
        assert!(!record.is_ours());
        assert_eq!(record.pid, Some(99783));
        let again: Value = serde_json::to_value(&record).unwrap();
        assert_eq!(again["executionFlags"]["x"], 1);
        assert_eq!(again["sessionName"], record.session_name);
    }

    #[test]
    fn scopecraft_statuses_are_read_in_our_words_and_ours_written_unchanged() {
        for (theirs, ours) in [
            ("waiting_feedback", Status::Waiting),
            ("error", Status::Failed),
            ("waiting", Status::Waiting),
            ("stopped", Status::Stopped),
        ] {
            let status: Status = serde_json::from_value(Value::from(theirs)).unwrap();
            assert_eq!(status, ours, "{theirs}");
        }
        assert_eq!(serde_json::to_value(Status::Waiting).unwrap(), "waiting");
        assert_eq!(serde_json::to_value(Status::Failed).unwrap(), "failed");
    }

    #[test]
    fn outcome_prefers_the_signal() {
        let mut record: Record = serde_json::from_str(
            r#"{"sessionName":"s","taskId":"t","status":"failed","startTime":"x"}"#,
        )
        .unwrap();
        record.exit_code = Some(3);
        assert_eq!(record.outcome(), "exit 3");
        record.exit_signal = Some("SIGKILL".into());
        assert_eq!(record.outcome(), "SIGKILL");
    }
}
