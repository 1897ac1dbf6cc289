//! `next`: the plugin's next key. Switches the client to the run that has
//! waited longest for its user, or from one of them to the next, and says
//! which on the client: the books, then one tmux call.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use super::{Globals, Run};
use crate::books::{self, Record};
use crate::cli::NextArgs;
use crate::menu;
use crate::ops::waiting;
use crate::output;
use crate::tmux::{Commands, Tmux};

impl Run for NextArgs {
    fn run(&self, _globals: &Globals) -> Result<()> {
        let socket = server_socket();
        if socket.is_none() && !self.print {
            return Err(crate::error::bad_input(
                "not inside tmux: `next` switches a tmux client to the run that waits \
                 (the plugin's next key runs it)",
            ));
        }
        let records: Vec<Record> = waiting::everywhere()?
            .into_iter()
            .filter(|r| socket.as_deref().is_none_or(|s| waiting::on_server(r, s)))
            .collect();
        let queue = waiting::queue(&records);
        let client = self.client.as_deref();
        let mut commands = Vec::new();
        let current = self.window.clone().or_else(pane_window);
        match waiting::after(&queue, current.as_deref()) {
            None => commands.push(menu::message(client, "nothing waits for you")),
            Some(record) => {
                let mut switch = vec!["switch-client".to_string()];
                if let Some(client) = client {
                    switch.extend(["-c".into(), client.into()]);
                }
                switch.extend(["-t".into(), waiting::window(record).unwrap_or("").into()]);
                commands.push(switch);
                let at = queue.iter().position(|r| std::ptr::eq(*r, record));
                let text = format!(
                    "{}/{} {}",
                    at.map_or(1, |at| at + 1),
                    queue.len(),
                    describe(record)
                );
                commands.push(menu::message(client, &text));
            }
        }
        if self.print {
            let mut out = output::stdout();
            for command in &commands {
                writeln!(out, "{}", menu::command_text(command))?;
            }
            out.flush()?;
            return Ok(());
        }
        let tmux = Tmux::from_env();
        let mut batch = Commands::new();
        for command in &commands {
            batch.add(command);
        }
        if let Err(err) = tmux.run(&batch) {
            // The window went away since the books were written: say so.
            let mut batch = Commands::new();
            batch.add(menu::message(client, &format!("{err:#}")));
            tmux.run(&batch).map_err(|_| err)?;
        }
        Ok(())
    }
}

/// `fix-11A (implementation) waiting (permission_prompt) for 3m`.
fn describe(record: &Record) -> String {
    let age = books::age(waiting::since(record))
        .map(|age| format!(" for {}", output::duration(age)))
        .unwrap_or_default();
    format!(
        "{} ({}) {}{age}",
        record.task_id,
        record.mode_name(),
        record.state_label()
    )
}

/// From a shell inside tmux (no `--window`): the window of its pane.
fn pane_window() -> Option<String> {
    let pane = std::env::var("TMUX_PANE").ok()?;
    let answer = Tmux::from_env()
        .run_one(["display-message", "-p", "-t", &pane, "#{window_id}"])
        .ok()?;
    let window = answer.trim();
    (!window.is_empty()).then(|| window.to_string())
}

/// This tmux server's socket: `$TMUX` says it inside tmux, `run-shell`
/// included.
fn server_socket() -> Option<PathBuf> {
    let tmux = std::env::var_os("TMUX")?;
    let tmux = tmux.to_str()?;
    let socket = tmux.split(',').next().filter(|s| !s.is_empty())?;
    Some(PathBuf::from(socket))
}
