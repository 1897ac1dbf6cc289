//! `__hook`: run by Claude Code for each hook event of an interactive run
//! (see `agent::claude_hook_settings`), the event's JSON on stdin. Codex
//! CLI's `notify` runs it too, after every turn, as `__hook <record>
//! waiting <turn JSON>`, whose `thread-id` is the conversation to resume.
//! It never fails the agent and never answers it: exit 0 and nothing on
//! stdout, whatever happens (Claude Code reads a hook's stdout as context
//! or a decision). Fast: most calls read the record and stop.

use std::io::{IsTerminal, Read};

use anyhow::Result;

use super::{Globals, Run};
use crate::books;
use crate::cli::HookArgs;
use crate::config::Config;
use crate::hook::{self, Said};
use crate::notify;
use crate::status;
use crate::tmux::Tmux;

impl Run for HookArgs {
    fn run(&self, _globals: &Globals) -> Result<()> {
        if let Err(err) = self.receive() {
            eprintln!("scopecraft-tmux: hook: {err:#}");
        }
        Ok(())
    }
}

impl HookArgs {
    fn receive(&self) -> Result<()> {
        let Some(said) = self.said() else {
            return Ok(());
        };
        books::adopt_home_of(&self.record);
        let Some((record, changed)) = hook::receive(&self.record, &said)? else {
            return Ok(());
        };
        let Some(place) = record.tmux.as_ref().filter(|_| changed.state) else {
            return Ok(());
        };
        let tmux = Tmux::at(place.socket.as_deref());
        let state = record.state_word();
        let alert = if notify::notable(state) {
            let text = format!(
                "scopecraft: {} ({}) {}",
                record.task_id,
                record.mode_name(),
                record.state_label()
            );
            let config = Config::of_root(record.project_root.as_deref());
            notify::decide(&record, &notify::audience(Some(&tmux)), &config, text)
        } else {
            None
        };
        if let Some(alert) = &alert {
            notify::desktop(alert);
            let (books, name) = books::locate(&self.record)?;
            notify::stamp(&books, &name, state)?;
        }
        status::publish(&tmux, place.pane_id.as_deref(), state, alert.as_ref())
    }

    /// What the call says: the state named on the command line (Codex, or
    /// an earlier version's Claude Code hooks), else the hook input.
    fn said(&self) -> Option<Said> {
        match &self.state {
            Some(state) => {
                let mut said = hook::legacy(state);
                said.session_id = self.payload.as_deref().and_then(codex_thread);
                Some(said)
            }
            None => read_input().map(|input| hook::interpret(&input)),
        }
    }
}

/// The hook input on stdin, read to its end (the agent writes all of it).
fn read_input() -> Option<hook::Input> {
    let mut stdin = std::io::stdin().lock();
    if stdin.is_terminal() {
        return None;
    }
    let mut bytes = Vec::new();
    stdin.read_to_end(&mut bytes).ok()?;
    hook::parse(&bytes)
}

/// The `thread-id` of Codex's `agent-turn-complete` notification.
fn codex_thread(payload: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(payload).ok()?;
    let id = value.get("thread-id")?.as_str()?;
    (!id.is_empty()).then(|| id.to_string())
}
