//! `attach`: show a session's window. Inside tmux (same server) the client
//! switches to it; outside, this terminal attaches; with `--terminal` a GUI
//! terminal opens attached to it.

use anyhow::Result;

use super::{Globals, Run};
use crate::books::Books;
use crate::cli::AttachArgs;
use crate::ops::attach;
use crate::terminal::{self, Gui};
use crate::tmux::{Commands, Tmux};

impl Run for AttachArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let books = Books::for_project(&project)?;
        let record = super::find_session(&project, &books, &self.session)?;
        let window = attach::window(&record)?;
        show(&window, self.terminal)
    }
}

/// Shows an open window: in a GUI terminal (`terminal`), else by
/// switching this tmux client to it (inside tmux, same server), else by
/// attaching this terminal (replacing this process with `tmux attach`).
pub fn show(window: &attach::Window, terminal: Option<Gui>) -> Result<()> {
    if let Some(requested) = terminal {
        let chosen = terminal::pick(requested)?;
        return terminal::open(chosen, &window.attach).map(drop);
    }
    let tmux = Tmux::at(window.place.socket.as_deref());
    let mut commands = Commands::new();
    if inside_same_server(window.place.socket.as_deref()) {
        commands.add(["switch-client", "-t", &window.id]);
        tmux.run(&commands)?;
        return Ok(());
    }
    commands.add(["attach-session", "-t", &window.id]);
    Err(tmux.interactive(&commands).env_remove("TMUX").exec())
}

/// Whether we run inside a client of the server at `socket`.
pub fn inside_same_server(socket: Option<&std::path::Path>) -> bool {
    let Ok(tmux_env) = std::env::var("TMUX") else {
        return false;
    };
    let ours = tmux_env.split(',').next().unwrap_or_default();
    match socket {
        Some(socket) => std::path::Path::new(ours) == socket,
        None => true,
    }
}
