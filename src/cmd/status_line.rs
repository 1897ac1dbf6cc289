//! `status-line`: the sessions by state, for `#()` in a status line, or
//! pushed into tmux options (`--push`, the plugin's Refresh).

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::StatusLineArgs;
use crate::output;
use crate::status::Counts;
use crate::tmux::{Commands, Tmux};

impl Run for StatusLineArgs {
    fn run(&self, _globals: &Globals) -> Result<()> {
        let counts = if self.push {
            Counts::all()?
        } else {
            Counts::cached()?
        };
        if self.push {
            let mut commands = Commands::new();
            counts.push(&mut commands);
            Tmux::from_env().run(&commands)?;
            return Ok(());
        }
        let mut out = output::stdout();
        writeln!(out, "{}", counts.render())?;
        out.flush()?;
        Ok(())
    }
}
