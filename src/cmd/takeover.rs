//! `takeover`: a headless run becomes a tmux window on the same
//! conversation (the operation is [`crate::ops::takeover`]).

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::{AttachTo, TakeoverArgs};
use crate::config::Config;
use crate::ops::dispatch::Outcome;
use crate::ops::{attach, takeover};
use crate::output;
use crate::terminal::Gui;

impl Run for TakeoverArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let config = Config::load(&project)?;
        let gui = match self.attach {
            Some(AttachTo::Terminal) => Some(crate::terminal::pick(Gui::Auto)?),
            _ => None,
        };
        let (stopped, dispatched) = takeover::takeover(
            &project,
            &config,
            &self.session.task,
            self.session.mode.as_deref(),
        )?;
        for note in &dispatched.notes {
            eprintln!("scopecraft-tmux: {note}");
        }
        let record = match &dispatched.outcome {
            Outcome::Started(record) | Outcome::AlreadyRunning(record) => record,
            Outcome::Preview(_) => anyhow::bail!("a take-over is never a dry run"),
        };
        let mut out = output::stdout();
        let place = record.tmux.as_ref();
        writeln!(
            out,
            "took over {} ({}): the headless run is {}; conversation {} goes on in tmux window {}:{} ({})",
            record.task_id,
            record.mode_name(),
            stopped.status,
            record.agent_session_id.as_deref().unwrap_or("?"),
            place.map_or("?", |p| p.session.as_str()),
            place.map_or("?", |p| p.window_name.as_str()),
            place.and_then(|p| p.window_id.as_deref()).unwrap_or("?"),
        )?;
        out.flush()?;
        match self.attach {
            Some(_) => super::attach::show(&attach::window(record)?, gui),
            None => Ok(()),
        }
    }
}
