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
        let mut tasks = task::list(&project)?;
        let mut filters = Vec::new();
        for (field, value) in [
            (task::Field::Status, &self.status),
            (task::Field::Type, &self.kind),
        ] {
            if let Some(value) = value {
                filters.push((field, task::filter_value(&tasks, field, value)?));
            }
        }
        tasks.retain(|t| filters.iter().all(|(field, value)| field.of(t) == value));
        if self.json {
            return output::json(&tasks);
        }
        let id_width = column_width(tasks.iter().map(|t| t.id.as_str()), "ID");
        let parent_width = column_width(
            tasks.iter().map(|t| t.parent.as_deref().unwrap_or("-")),
            "PARENT",
        );
        let mut out = output::stdout();
        writeln!(
            out,
            "{} {} {} {} {} TITLE",
            pad("ID", id_width),
            pad("STATUS", 11),
            pad("TYPE", 13),
            pad("AREA", 10),
            pad("PARENT", parent_width),
        )?;
        for t in &tasks {
            writeln!(
                out,
                "{} {} {} {} {} {}",
                pad(&t.id, id_width),
                pad(&truncate(&t.status, 11), 11),
                pad(&truncate(&t.kind, 13), 13),
                pad(&truncate(&t.area, 10), 10),
                pad(t.parent.as_deref().unwrap_or("-"), parent_width),
                output::printable(&t.title)
            )?;
        }
        out.flush()?;
        Ok(())
    }
}

fn column_width<'a>(values: impl Iterator<Item = &'a str>, header: &str) -> usize {
    values
        .map(|v| output::printable(v).chars().count())
        .chain([header.len()])
        .max()
        .unwrap_or(0)
}
