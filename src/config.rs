//! The project's configuration: `.tasks/.config/scopecraft-tmux.toml`.
//! Every key is optional; an unknown key is an error so that typos show.
//! (Mode files keep ChannelCoder's strict front matter, so per-mode
//! defaults live here, not there.)

use std::collections::BTreeMap;
use std::path::PathBuf;

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
    #[serde(default)]
    pub tmux: TmuxConfig,
    #[serde(default)]
    pub worktree: WorktreeConfig,
    #[serde(default)]
    pub docker: DockerConfig,
    /// Per-mode defaults, keyed by the mode name as passed (`code-review`).
    #[serde(default)]
    pub modes: BTreeMap<String, ModeConfig>,
    /// Where the file was read from, for messages.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AgentConfig {
    /// The agent's command line, split like a shell would (never run
    /// through one); `SCOPECRAFT_AGENT` overrides it.
    pub command: Option<String>,
    /// Arguments always passed, before `-- AGENT ARGS`.
    #[serde(default)]
    pub args: Vec<String>,
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

/// `--exec docker`: `docker run … <image> <agent argv>`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DockerConfig {
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
        config.source = Some(path);
        Ok(config)
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
