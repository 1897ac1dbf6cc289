//! `__hook`: called by Claude Code's hooks in an interactive run (see
//! `agent::waiting_hooks`) to record that the agent waits for its user, or
//! works again. Fast and silent: the agent waits for it. Codex CLI's
//! `notify` calls it too, after every turn, with the turn's JSON appended,
//! whose `thread-id` is the conversation to resume.

use anyhow::Result;

use super::{Globals, Run};
use crate::books::{self, Status};
use crate::cli::HookArgs;
use crate::status;
use crate::tmux::Tmux;

impl Run for HookArgs {
    fn run(&self, _globals: &Globals) -> Result<()> {
        let state = if self.state == "waiting" {
            Status::Waiting
        } else {
            Status::Running
        };
        books::adopt_home_of(&self.record);
        let (books, name) = books::locate(&self.record)?;
        // Most hooks (every tool use) change nothing: seen without a lock.
        match books.read_raw(&name)? {
            Some(record) if record.status.is_live() && record.status != state => {}
            _ => return Ok(()),
        }
        let record = {
            let _lock = books.lock(&name)?;
            let Some(mut record) = books.read_raw(&name)? else {
                return Ok(());
            };
            let thread = self.payload.as_deref().and_then(codex_thread);
            let new_thread = thread
                .as_deref()
                .filter(|id| record.agent_session_id.as_deref() != Some(*id));
            // Only a live session changes, and only when the state (or the
            // conversation) differs: most hooks (every tool use) end here
            // without writing.
            if !record.status.is_live() || (record.status == state && new_thread.is_none()) {
                return Ok(());
            }
            if let Some(id) = new_thread {
                record.set_conversation(id);
            }
            record.status = state;
            books.write(&mut record)?;
            record
        };
        let Some(place) = &record.tmux else {
            return Ok(());
        };
        status::publish(
            &Tmux::at(place.socket.as_deref()),
            place.pane_id.as_deref(),
            state,
            None,
        )?;
        Ok(())
    }
}

/// The `thread-id` of Codex's `agent-turn-complete` notification.
fn codex_thread(payload: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(payload).ok()?;
    let id = value.get("thread-id")?.as_str()?;
    (!id.is_empty()).then(|| id.to_string())
}
