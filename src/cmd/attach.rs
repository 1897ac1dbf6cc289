//! `attach`: show a session's window. Inside tmux (same server) the client
//! switches to it; outside, this terminal attaches; with `--terminal` a GUI
//! terminal opens attached to it.

use anyhow::Result;

use super::{Globals, Run};
use crate::books::{Books, ExecType, Record};
use crate::cli::AttachArgs;
use crate::error::bail_input;
use crate::terminal;
use crate::tmux::{self, Commands, Tmux};

impl Run for AttachArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let books = Books::for_project(&project)?;
        let record = super::find_session(&project, &books, &self.session)?;
        let (Some(ExecType::Tmux), Some(place)) = (record.exec_type, &record.tmux) else {
            if record.status.is_live() {
                bail_input!(
                    "{} ({}) runs headless; there is no window to attach to. Follow it with: scopecraft-tmux logs {} --mode {} -f",
                    record.task_id,
                    record.mode_name(),
                    record.task_id,
                    record.mode_name()
                );
            }
            bail_input!(
                "{} ({}) ran headless and has ended: {}; there is no window to attach to. See what it did with: scopecraft-tmux logs {} --mode {}",
                record.task_id,
                record.mode_name(),
                how_it_ended(&record),
                record.task_id,
                record.mode_name()
            );
        };
        let Some(window) = place.window_id.clone() else {
            bail_input!("{} has no tmux window recorded", record.session_name);
        };
        // Without tmux no server answers, whatever runs.
        tmux::check_installed(true)?;
        let tmux = Tmux::at(place.socket.as_deref());
        if !tmux.server_running() {
            bail_input!(
                "the tmux server of {} is gone ({}); the session was {}",
                record.session_name,
                place
                    .socket
                    .as_ref()
                    .map_or("default socket".into(), |s| s.display().to_string()),
                record.status
            );
        }
        // Closed once its run ended (a key pressed, or the window killed).
        if tmux
            // list-panes fails on a missing target; display-message does not.
            .run_one(["list-panes", "-t", &window, "-F", "#{window_id}"])
            .is_err()
        {
            bail_input!(
                "the window of {} ({}) is closed: the session {}; see what it did with: scopecraft-tmux logs {} --mode {}",
                record.task_id,
                record.mode_name(),
                how_it_ended(&record),
                record.task_id,
                record.mode_name()
            );
        }
        let mut attach = vec!["tmux".to_string()];
        if let Some(socket) = &place.socket {
            attach.extend(["-S".to_string(), socket.display().to_string()]);
        }
        attach.extend([
            "attach-session".to_string(),
            "-t".to_string(),
            window.clone(),
        ]);

        if let Some(requested) = self.terminal {
            let chosen = terminal::pick(requested)?;
            return terminal::open(chosen, &attach);
        }
        let mut commands = Commands::new();
        if inside_same_server(place.socket.as_deref()) {
            commands.add(["switch-client", "-t", &window]);
            tmux.run(&commands)?;
            return Ok(());
        }
        commands.add(["attach-session", "-t", &window]);
        Err(tmux.interactive(&commands).env_remove("TMUX").exec())
    }
}

/// `completed (exit 0)`, `failed (SIGKILL)`, `stopped`.
fn how_it_ended(record: &Record) -> String {
    match record.outcome() {
        outcome if outcome.is_empty() => record.status.to_string(),
        outcome => format!("{} ({outcome})", record.status),
    }
}

/// Whether we run inside a client of the server at `socket`.
fn inside_same_server(socket: Option<&std::path::Path>) -> bool {
    let Ok(tmux_env) = std::env::var("TMUX") else {
        return false;
    };
    let ours = tmux_env.split(',').next().unwrap_or_default();
    match socket {
        Some(socket) => std::path::Path::new(ours) == socket,
        None => true,
    }
}
