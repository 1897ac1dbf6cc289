//! `list`: every session in the books, newest first.

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::books::{self, Books, Record};
use crate::cli::ListArgs;
use crate::ops::sessions;
use crate::output::{self, pad};

impl Run for ListArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let (books_list, every_project) = if self.all {
            (books::all_projects()?, true)
        } else {
            match globals.project() {
                Ok(project) => (vec![Books::for_project(&project)?], false),
                // Run outside any project (not with --project): every
                // project's sessions.
                Err(_) if !globals.has_project_flag() => (books::all_projects()?, true),
                Err(err) => return Err(err),
            }
        };
        let records = sessions::list(&books_list)?;
        if self.json {
            return output::json(&records);
        }
        print_table(&records, every_project)
    }
}

pub fn print_table(records: &[Record], with_project: bool) -> Result<()> {
    let mut out = output::stdout();
    if records.is_empty() {
        writeln!(
            out,
            "no sessions yet (start one with: scopecraft-tmux dispatch <task>)"
        )?;
        out.flush()?;
        return Ok(());
    }
    let rows: Vec<[String; 7]> = records.iter().map(row).collect();
    let headers = [
        "TASK", "MODE", "EXEC", "STATUS", "OUTCOME", "STARTED", "WHERE",
    ];
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(output::printable(cell).chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                if i + 1 == cells.len() {
                    output::printable(cell).into_owned()
                } else {
                    pad(cell, width)
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(&headers))?;
    for (row, record) in rows.iter().zip(records) {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let mut text = line(&cells);
        if with_project && let Some(root) = &record.project_root {
            text.push_str(&format!(
                "  [{}]",
                output::printable(&root.display().to_string())
            ));
        }
        writeln!(out, "{text}")?;
    }
    out.flush()?;
    Ok(())
}

fn row(record: &Record) -> [String; 7] {
    let started = books::age(&record.start_time)
        .map(|age| format!("{} ago", output::duration(age)))
        .unwrap_or_else(|| record.start_time.clone());
    [
        record.task_id.clone(),
        record.mode_name().to_string(),
        record.exec_type.map_or("-".into(), |e| e.to_string()),
        record.state_label(),
        record.outcome(),
        started,
        place(record),
    ]
}

/// Where a session runs: its tmux window, or its process.
pub fn place(record: &Record) -> String {
    if let Some(tmux) = &record.tmux {
        return format!(
            "{}:{} {}",
            tmux.session,
            tmux.window_name,
            tmux.window_id.as_deref().unwrap_or("")
        )
        .trim_end()
        .to_string();
    }
    if let Some(container) = &record.container {
        return format!("container {container}");
    }
    match record.supervisor_pid.or(record.pid) {
        Some(pid) => format!("pid {pid}"),
        None => "-".to_string(),
    }
}
