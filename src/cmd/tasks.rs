//! `tasks`: every task of the project.

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::TasksArgs;
use crate::output::{self, pad, truncate};
use crate::task;

impl Run for TasksArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let status = self.status.as_deref().map(task::normalise);
        let kind = self.kind.as_deref().map(task::normalise);
        let tasks: Vec<task::Task> = task::list(&project)?
            .into_iter()
            .filter(|t| status.as_ref().is_none_or(|s| &t.status == s))
            .filter(|t| kind.as_ref().is_none_or(|k| &t.kind == k))
            .collect();
        if self.json {
            return output::json(&tasks);
        }
        let id_width = tasks
            .iter()
            .map(|t| t.id.chars().count())
            .max()
            .unwrap_or(2)
            .max(2);
        let mut out = output::stdout();
        writeln!(
            out,
            "{} {} {} {} {} TITLE",
            pad("ID", id_width),
            pad("STATUS", 11),
            pad("TYPE", 13),
            pad("AREA", 10),
            pad("PARENT", 12),
        )?;
        for t in &tasks {
            writeln!(
                out,
                "{} {} {} {} {} {}",
                pad(&t.id, id_width),
                pad(&truncate(&t.status, 11), 11),
                pad(&truncate(&t.kind, 13), 13),
                pad(&truncate(&t.area, 10), 10),
                pad(&truncate(t.parent.as_deref().unwrap_or("-"), 12), 12),
                t.title
            )?;
        }
        out.flush()?;
        Ok(())
    }
}
