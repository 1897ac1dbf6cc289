//! `status`: one task's session(s), with how each ended.

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::books::{self, Books, Record};
use crate::cli::StatusArgs;
use crate::output;

impl Run for StatusArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let books = Books::for_project(&project)?;
        let records = super::find_sessions(&project, &books, &self.session)?;
        if self.json {
            return match (&self.session.mode, records.as_slice()) {
                (Some(_), [one]) => output::json(one),
                _ => output::json(&records),
            };
        }
        let mut out = output::stdout();
        for record in &records {
            describe(&mut out, record)?;
        }
        out.flush()?;
        Ok(())
    }
}

fn describe(out: &mut impl Write, record: &Record) -> Result<()> {
    let outcome = record.outcome();
    let outcome = if outcome.is_empty() {
        String::new()
    } else {
        format!(" ({outcome})")
    };
    let since = match (&record.end_time, record.status.is_live()) {
        (_, true) => books::age(&record.start_time)
            .map(|d| format!(" for {}", output::duration(d)))
            .unwrap_or_default(),
        (Some(end), false) => books::age(end)
            .map(|d| format!(", {} ago", output::duration(d)))
            .unwrap_or_default(),
        (None, false) => String::new(),
    };
    writeln!(
        out,
        "{} ({}): {}{outcome}{since}",
        record.task_id,
        record.mode_name(),
        record.state_label()
    )?;
    let exec = record.exec_type.map_or("-".to_string(), |e| e.to_string());
    writeln!(
        out,
        "  exec:         {exec}, {}",
        super::list::place(record)
    )?;
    if let Some(id) = record
        .agent_session_id
        .as_ref()
        .or(record.real_session_id.as_ref())
    {
        writeln!(out, "  conversation: {id}")?;
    }
    if record.is_ours() {
        writeln!(out, "  agent:        {}", record.agent_name())?;
    }
    writeln!(out, "  started:      {}", record.start_time)?;
    if let Some(end) = &record.end_time {
        writeln!(out, "  ended:        {end}")?;
    }
    if let Some(dir) = &record.workdir {
        writeln!(out, "  workdir:      {}", dir.display())?;
    }
    if let Some(worktree) = &record.worktree {
        writeln!(out, "  worktree:     branch {}", worktree.branch)?;
    }
    if let Some(path) = &record.save_to {
        writeln!(out, "  result to:    {}", path.display())?;
    }
    writeln!(out, "  log:          {}", record.log_file.display())?;
    if let Some(prompt) = &record.prompt_file {
        writeln!(out, "  prompt:       {}", prompt.display())?;
    }
    if record.session_history.len() > 1 {
        writeln!(out, "  runs:         {}", record.session_history.len())?;
    }
    Ok(())
}
