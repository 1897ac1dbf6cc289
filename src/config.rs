//! The project's configuration: `.tasks/.config/scopecraft-tmux.toml`.
//! Every key is optional; an unknown key is an error so that typos show.
//! (Mode files keep ChannelCoder's strict front matter, so per-mode
//! defaults live here, not there.)

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::books::ExecType;
use crate::error::bad_input;
use crate::project::Project;

pub const FILE_NAME: &str = "scopecraft-tmux.toml";

/// The tmux session our windows go to unless configured otherwise.
pub const DEFAULT_SESSION: &str = "scopecraft";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The mode used when `--mode` is not given (default `auto`).
    pub default_mode: Option<String>,
    /// The exec type used when `--exec` is not given (default `tmux`).
    pub exec: Option<ExecType>,
    #[serde(default)]
    pub agent: AgentConfig,
    /// Agent profiles by name: built-in ones changed, others described.
    #[serde(default)]
    pub agents: BTreeMap<String, ProfileConfig>,
    #[serde(default)]
    pub tmux: TmuxConfig,
    #[serde(default)]
    pub worktree: WorktreeConfig,
    #[serde(default)]
    pub docker: DockerConfig,
    /// A run that says it works but shows no sign (no hook event, no
    /// output) for this long is shown as possibly stuck (default `10m`).
    pub stuck_after: Option<String>,
    #[serde(default)]
    pub notify: NotifyConfig,
    /// Per-mode defaults, keyed by the mode name as passed (`code-review`).
    #[serde(default)]
    pub modes: BTreeMap<String, ModeConfig>,
    /// Where the file was read from, for messages.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `agent = "codex"`, or the table `[agent]` (`name`, and `command` and
/// `args` for that agent, as `[agents.<name>]` would say them).
#[derive(Debug, Clone, Default)]
pub struct AgentConfig {
    /// The agent of every mode without its own (default `claude`).
    pub name: Option<String>,
    /// The agent's command line, split like a shell would (never run
    /// through one); `SCOPECRAFT_AGENT` overrides it.
    pub command: Option<String>,
    /// Arguments always passed, before `-- AGENT ARGS`.
    pub args: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AgentTable {
    name: Option<String>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
}

impl<'de> Deserialize<'de> for AgentConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = AgentConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an agent's name (\"codex\") or a table with name, command, args")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<AgentConfig, E> {
                Ok(AgentConfig {
                    name: Some(name.to_string()),
                    ..AgentConfig::default()
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<AgentConfig, A::Error> {
                let table =
                    AgentTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(AgentConfig {
                    name: table.name,
                    command: table.command,
                    args: table.args,
                })
            }
        }
        deserializer.deserialize_any(Either)
    }
}

/// `[agents.<name>]`: a built-in agent changed, or another described. Every
/// key is optional for a built-in one; another needs `command`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileConfig {
    /// The program (and arguments of its own), split like a shell would.
    pub command: Option<String>,
    /// How to install it, for the message when it is missing.
    pub install: Option<String>,
    /// Arguments always passed (where a template says `{args}`, else after
    /// the program).
    #[serde(default)]
    pub args: Vec<String>,
    /// The arguments of a new interactive / headless run; `{id}` where the
    /// agent takes a conversation id we choose.
    pub interactive: Option<Vec<String>>,
    pub headless: Option<Vec<String>>,
    /// The arguments that resume conversation `{id}`.
    pub resume_interactive: Option<Vec<String>>,
    pub resume_headless: Option<Vec<String>>,
    /// `"argument"` (last, after `--`), `"stdin"`, or a flag ending with `=`.
    pub interactive_prompt: Option<String>,
    pub headless_prompt: Option<String>,
    /// `"--allow={tools}"`: how the mode's tool lists are passed.
    pub allowed_tools: Option<String>,
    pub disallowed_tools: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TmuxConfig {
    /// The tmux session for our windows (default `scopecraft`).
    pub session: Option<String>,
    /// Keep a finished run's pane open with its summary until a key is
    /// pressed (default true).
    pub keep_pane: Option<bool>,
}

/// Telling the user that a run needs them or ended, when they are not
/// looking at it; the tmux option `@scopecraft-notify` wins over `mode`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NotifyConfig {
    /// `tmux` (a message on the attached clients, the default), `desktop`
    /// (that and a desktop notification) or `off`.
    pub mode: Option<NotifyMode>,
    /// No second notification of the same state of a run within this
    /// long (default `1m`).
    pub debounce: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyMode {
    Tmux,
    Desktop,
    Off,
}

impl NotifyMode {
    pub fn parse(text: &str) -> Option<NotifyMode> {
        match text.trim() {
            "tmux" => Some(NotifyMode::Tmux),
            "desktop" => Some(NotifyMode::Desktop),
            "off" => Some(NotifyMode::Off),
            _ => None,
        }
    }
}

/// `--exec docker`: `docker run … <image> <agent argv>`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DockerConfig {
    /// The container engine's command: `docker` (default), or one that
    /// takes Docker's arguments, such as `podman`; a name on PATH or a path.
    pub engine: Option<String>,
    /// The image the agent runs in (it must have the agent installed).
    pub image: Option<String>,
    /// Extra `-v` mounts, `SOURCE:TARGET[:OPTIONS]`; a SOURCE starting
    /// with `./`, `../` or `~/` is a path resolved against the project
    /// root or HOME, an absolute one is used as it is, anything else is a
    /// named volume. `/workspace` is the working tree's and cannot be
    /// mounted again.
    #[serde(default)]
    pub mounts: Vec<String>,
    /// Extra `-e` variables: `NAME` (passed on from our environment, the
    /// way for secrets such as ANTHROPIC_API_KEY) or `NAME=value`.
    #[serde(default)]
    pub env: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WorktreeConfig {
    /// Run each task in a git worktree of its own (default true).
    pub enabled: Option<bool>,
    /// The folder holding the task worktrees; relative to the main checkout,
    /// `~/` for the home directory (default `../<repo name>.worktrees`).
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModeConfig {
    /// The agent this mode runs (`codex`), unless `--agent` says otherwise.
    pub agent: Option<String>,
    /// Run this mode headless (`detached`) or in Docker by default.
    pub exec: Option<ExecType>,
    /// Headless runs of this mode save their final result here unless
    /// `--save-to` says otherwise: relative to the project root, `{task}`
    /// replaced by the task id (`reviews/{task}.md`).
    pub save_to: Option<String>,
}

impl Config {
    /// Reads the project's configuration; a missing file is the default.
    pub fn load(project: &Project) -> Result<Config> {
        let path = project.config_dir().join(FILE_NAME);
        let text = match crate::files::read_project_text(&path) {
            Ok(text) => text,
            Err(err) if err.is_not_found() => return Ok(Config::default()),
            Err(err) if err.is_refusal() => {
                return Err(bad_input(format!("{} {err}", path.display())));
            }
            Err(err) => {
                return Err(err).with_context(|| format!("reading {}", path.display()));
            }
        };
        let mut config: Config = toml::from_str(&text).map_err(|err| {
            // "line 2, column 8: invalid boolean…", and the line itself.
            let at = err
                .span()
                .map(|span| {
                    let line = text[..span.start].matches('\n').count() + 1;
                    let column =
                        span.start - text[..span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                    let shown = text.lines().nth(line - 1).unwrap_or_default().trim();
                    format!("line {line}, column {column} (`{shown}`): ")
                })
                .unwrap_or_default();
            bad_input(format!("{}: {at}{}", path.display(), err.message()))
        })?;
        for (key, value) in [
            ("stuck-after", &config.stuck_after),
            ("[notify] debounce", &config.notify.debounce),
        ] {
            if let Some(text) = value
                && humantime::parse_duration(text).is_err()
            {
                return Err(bad_input(format!(
                    "{}: {key} = {text:?} is not a duration (such as \"10m\" or \"90s\")",
                    path.display()
                )));
            }
        }
        config.source = Some(path);
        config.fold_agent_table();
        Ok(config)
    }

    /// `[agent] command` and `args` belong to the agent `[agent]` names.
    fn fold_agent_table(&mut self) {
        if self.agent.command.is_none() && self.agent.args.is_empty() {
            return;
        }
        let name = self
            .agent
            .name
            .clone()
            .unwrap_or_else(|| crate::agent::DEFAULT.to_string());
        let profile = self.agents.entry(name).or_default();
        if profile.command.is_none() {
            profile.command = self.agent.command.take();
        }
        let mut args = std::mem::take(&mut self.agent.args);
        args.append(&mut profile.args);
        profile.args = args;
    }

    #[cfg(test)]
    pub fn fold_agent_table_for_tests(&mut self) {
        self.fold_agent_table();
    }

    /// The agent for `mode` when `--agent` is not given: the mode's, the
    /// project's, else Claude Code; and where that came from.
    pub fn agent_for(&self, mode: &str) -> (String, String) {
        if let Some(name) = self.modes.get(mode).and_then(|m| m.agent.clone()) {
            return (name, self.describe(&format!("modes.{mode}.agent")));
        }
        match &self.agent.name {
            Some(name) => (name.clone(), self.describe("agent")),
            None => (crate::agent::DEFAULT.to_string(), "the default".to_string()),
        }
    }

    /// The configuration of the project at `root`; the default when there
    /// is none or it does not read (for processes that must not fail on it).
    pub fn of_root(root: Option<&std::path::Path>) -> Config {
        root.and_then(|root| Project::discover(root).ok())
            .and_then(|project| Config::load(&project).ok())
            .unwrap_or_default()
    }

    /// How long a working run may show no sign before it is possibly stuck.
    pub fn stuck_after(&self) -> Duration {
        self.stuck_after
            .as_deref()
            .and_then(|text| humantime::parse_duration(text).ok())
            .unwrap_or(Duration::from_secs(10 * 60))
    }

    /// The notification debounce window.
    pub fn notify_debounce(&self) -> Duration {
        self.notify
            .debounce
            .as_deref()
            .and_then(|text| humantime::parse_duration(text).ok())
            .unwrap_or(Duration::from_secs(60))
    }

    pub fn default_mode(&self) -> &str {
        self.default_mode.as_deref().unwrap_or("auto")
    }

    /// The exec type for `mode` when `--exec` is not given.
    pub fn exec_for(&self, mode: &str) -> ExecType {
        self.modes
            .get(mode)
            .and_then(|m| m.exec)
            .or(self.exec)
            .unwrap_or(ExecType::Tmux)
    }

    /// The configured result file of `mode` for `task`, if any.
    pub fn save_to_for(&self, mode: &str, task: &str) -> Option<String> {
        let pattern = self.modes.get(mode)?.save_to.as_deref()?;
        Some(pattern.replace("{task}", task))
    }

    pub fn session(&self) -> &str {
        self.tmux.session.as_deref().unwrap_or(DEFAULT_SESSION)
    }

    pub fn keep_pane(&self) -> bool {
        self.tmux.keep_pane.unwrap_or(true)
    }

    pub fn worktrees_enabled(&self) -> bool {
        self.worktree.enabled.unwrap_or(true)
    }

    /// "`key` in <file>", for messages.
    pub fn describe(&self, key: &str) -> String {
        match &self.source {
            Some(path) => format!("{key} in {}", path.display()),
            None => key.to_string(),
        }
    }
}
