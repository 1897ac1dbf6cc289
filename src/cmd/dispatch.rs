//! `dispatch`: start an agent on a task (the operation is
//! [`crate::ops::dispatch`]) and say what happened.

use std::io::{self, IsTerminal, Write};

use anyhow::Result;

use super::{Globals, Run};
use crate::books::{ExecType, Record};
use crate::cli::{AttachTo, DispatchArgs, LogsArgs, SessionArgs};
use crate::config::Config;
use crate::error::bail_input;
use crate::ops::attach;
use crate::ops::dispatch::{self, Outcome, Preview};
use crate::ops::sessions;
use crate::output;
use crate::project::Project;
use crate::terminal::{self, Gui};

impl Run for DispatchArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let config = Config::load(&project)?;
        let gui = self.check_attach(&config)?;
        let dispatched = dispatch::dispatch(&project, &config, &self.request())?;
        for note in &dispatched.notes {
            eprintln!("scopecraft-tmux: {note}");
        }
        let record = match &dispatched.outcome {
            Outcome::Started(record) => report_started(record).map(|()| record),
            Outcome::AlreadyRunning(record) => report_existing(record).map(|()| record),
            Outcome::Preview(preview) => return print_preview(preview),
        }?;
        match self.attach {
            Some(_) => go_to(globals, &project, record, gui),
            None => Ok(()),
        }
    }
}

impl DispatchArgs {
    /// What `--attach` needs, checked before anything starts: a GUI
    /// terminal for `=terminal`; for a tmux run outside tmux, a terminal to
    /// attach.
    fn check_attach(&self, config: &Config) -> Result<Option<Gui>> {
        match self.attach {
            None => Ok(None),
            Some(AttachTo::Terminal) => terminal::pick(Gui::Auto).map(Some),
            Some(AttachTo::Here) => {
                let mode = self.input.mode.as_deref().unwrap_or(config.default_mode());
                let exec = self.exec.unwrap_or_else(|| config.exec_for(mode));
                let on_a_terminal = io::stdin().is_terminal() && io::stdout().is_terminal();
                if exec == ExecType::Tmux && std::env::var_os("TMUX").is_none() && !on_a_terminal {
                    bail_input!(
                        "--attach outside tmux attaches this terminal, and there is none (stdin or stdout is not a terminal); \
                         dispatch without --attach, or with --attach=terminal for a GUI terminal"
                    );
                }
                Ok(None)
            }
        }
    }
}

/// `--attach`: a tmux run's window shown (see `attach`); a headless run's
/// log followed here (`logs -f`), or in a GUI terminal.
fn go_to(globals: &Globals, project: &Project, record: &Record, gui: Option<Gui>) -> Result<()> {
    if record.exec_type == Some(ExecType::Detached) || record.exec_type == Some(ExecType::Docker) {
        let Some(gui) = gui else {
            return LogsArgs {
                session: SessionArgs {
                    task: record.task_id.clone(),
                    mode: Some(record.mode_name().to_string()),
                },
                follow: true,
                raw: false,
                terminal: false,
            }
            .run(globals);
        };
        let exe = crate::process::own_program()?;
        let follow = [
            exe.display().to_string(),
            "--project".into(),
            project.root.display().to_string(),
            "logs".into(),
            record.task_id.clone(),
            "--mode".into(),
            record.mode_name().to_string(),
            "-f".into(),
        ];
        return terminal::open(gui, &follow).map(drop);
    }
    super::attach::show(&attach::window(record)?, gui)
}

impl DispatchArgs {
    fn request(&self) -> dispatch::Request {
        dispatch::Request {
            task: self.input.task.clone(),
            mode: self.input.mode.clone(),
            instructions: self.input.instructions.clone(),
            data: self.input.data.clone(),
            exec: self.exec,
            resume: self.resume,
            dry_run: self.dry_run,
            save_to: self.save_to.clone(),
            session: self.session.clone(),
            no_worktree: self.no_worktree,
            agent: self.agent.clone(),
            agent_args: self.agent_args.clone(),
            focus_existing: true,
            foreground: false,
        }
    }
}

fn print_preview(preview: &Preview) -> Result<()> {
    let mut out = output::stdout();
    writeln!(out, "dry run: nothing is started or written")?;
    writeln!(
        out,
        "session {} ({} run, task {}, mode {})",
        preview.session_name, preview.exec, preview.task_id, preview.mode
    )?;
    if let Some((new_window, new_session)) = &preview.tmux_commands {
        writeln!(out, "tmux:  {new_window}")?;
        writeln!(
            out,
            "       (or, when the session {} does not exist yet: {new_session})",
            preview.tmux_session
        )?;
    }
    if let Some(supervisor) = &preview.supervisor {
        writeln!(out, "supervisor: {supervisor}")?;
    }
    let mut agent = preview.agent.clone();
    if let Some((bytes, how)) = &preview.prompt {
        agent.push_str(&format!("  # prompt {how}: {bytes} bytes"));
    }
    writeln!(out, "agent: {agent}")?;
    match (&preview.worktree, &preview.in_place) {
        (Some(worktree), _) => writeln!(out, "worktree: {worktree}")?,
        (None, Some(why)) => writeln!(out, "worktree: none ({why})")?,
        (None, None) => {}
    }
    if let Some(dir) = &preview.workdir {
        writeln!(out, "in:    {}", dir.display())?;
    }
    out.flush()?;
    Ok(())
}

fn report_existing(record: &Record) -> Result<()> {
    let mut out = output::stdout();
    match (&record.exec_type, &record.tmux) {
        (Some(ExecType::Tmux), Some(place)) => writeln!(
            out,
            "{} ({}) is already running in tmux window {}:{} ({}); focused it",
            record.task_id,
            record.mode_name(),
            place.session,
            place.window_name,
            place.window_id.as_deref().unwrap_or("?")
        )?,
        (Some(ExecType::Terminal), _) => writeln!(
            out,
            "{} ({}) is already running in a terminal (`work`, {})",
            record.task_id,
            record.mode_name(),
            sessions::live_process(record)
        )?,
        _ => writeln!(
            out,
            "{} ({}) is already running headless ({}); follow it with: scopecraft-tmux logs {} --mode {} -f",
            record.task_id,
            record.mode_name(),
            sessions::live_process(record),
            record.task_id,
            record.mode_name()
        )?,
    }
    out.flush()?;
    Ok(())
}

fn report_started(record: &Record) -> Result<()> {
    let mut out = output::stdout();
    match &record.tmux {
        Some(place) => {
            writeln!(
                out,
                "dispatched {} ({}) to tmux window {}:{} ({})",
                record.task_id,
                record.mode_name(),
                place.session,
                place.window_name,
                place.window_id.as_deref().unwrap_or("?")
            )?;
            writeln!(
                out,
                "  attach: scopecraft-tmux attach {} --mode {}",
                record.task_id,
                record.mode_name()
            )?;
        }
        None => {
            writeln!(
                out,
                "dispatched {} ({}) headless (supervisor pid {})",
                record.task_id,
                record.mode_name(),
                record.supervisor_pid.map_or("?".into(), |p| p.to_string())
            )?;
            writeln!(
                out,
                "  follow: scopecraft-tmux logs {} --mode {} -f",
                record.task_id,
                record.mode_name()
            )?;
        }
    }
    if let Some(place) = &record.worktree {
        writeln!(
            out,
            "  worktree: {} (branch {})",
            place.path.display(),
            place.branch
        )?;
    }
    out.flush()?;
    Ok(())
}
