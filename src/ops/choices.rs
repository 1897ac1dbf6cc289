//! What can be dispatched: the open tasks, and the modes a task can run in
//! (the default first, each with the required inputs nobody can give
//! without data).

use anyhow::Result;

use crate::compose;
use crate::config::Config;
use crate::mode;
use crate::project::Project;
use crate::task::{self, Task};

/// A mode as offered for a task.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModeChoice {
    pub name: String,
    /// The agent the mode runs (its own, the project's, or Claude Code).
    pub agent: String,
    pub is_default: bool,
    /// Required inputs the task does not give (the mode needs data).
    pub missing: Vec<String>,
    /// The project has no modes: dispatch uses a short built-in prompt.
    pub builtin: bool,
}

/// The tasks worth dispatching: not done, not archived.
pub fn dispatchable(project: &Project) -> Result<Vec<Task>> {
    Ok(task::list(project)?
        .into_iter()
        .filter(|t| !t.location.starts_with("archive") && t.status != "done")
        .collect())
}

/// The modes offered for `task`: `default` first, then the rest.
pub fn modes(
    project: &Project,
    config: &Config,
    task: &Task,
    default: &str,
) -> Result<Vec<ModeChoice>> {
    let default = default.to_string();
    let entries = mode::list(project)?;
    let mut choices = Vec::new();
    let default_entry = entries
        .iter()
        .position(|e| e.name == default || e.aliases.contains(&default));
    let mut ordered: Vec<&mode::ModeEntry> = Vec::new();
    if let Some(i) = default_entry {
        ordered.push(&entries[i]);
    } else {
        // Not a listed mode (`auto` in a project without its file, or no
        // .modes at all): offered as it is; dispatch says what it finds.
        choices.push(ModeChoice {
            agent: config.agent_for(&default).0,
            name: default.clone(),
            is_default: true,
            missing: Vec::new(),
            builtin: entries.is_empty(),
        });
    }
    ordered.extend(
        entries
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != default_entry)
            .map(|(_, e)| e),
    );
    for entry in ordered {
        let name = if entry.aliases.contains(&default) {
            default.clone()
        } else {
            entry.name.clone()
        };
        choices.push(ModeChoice {
            agent: config.agent_for(&name).0,
            missing: compose::missing_inputs(task, &name, &entry.inputs),
            is_default: entry.name == default || entry.aliases.contains(&default),
            name,
            builtin: false,
        });
    }
    Ok(choices)
}
