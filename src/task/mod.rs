//! The tasks of a project: found on disk in both formats (Scopecraft v2 and
//! MDTM), listed in Scopecraft's order, and resolved by id.

mod mdtm;
mod v2;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::error::bail_input;
use crate::files;
use crate::markdown;
use crate::names;
use crate::project::Project;
use crate::walk;

/// One task, as listed and as composed into a prompt.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub title: String,
    /// Normalised type (`feature`, `bug`, …); emoji and decoration removed.
    #[serde(rename = "type")]
    pub kind: String,
    /// Normalised status (`todo`, `in_progress`, `done`, …).
    pub status: String,
    pub area: String,
    pub parent: Option<String>,
    /// Workflow folder: `current`, `backlog`, `archive/2025-06`, or an MDTM phase.
    pub location: String,
    pub format: Format,
    /// A parent task (`_overview.md` of a folder with subtasks).
    pub is_parent: bool,
    pub path: PathBuf,
    /// The markdown after the front matter.
    #[serde(skip)]
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    V2,
    Mdtm,
}

impl Task {
    /// The `## Instruction` section, or for a task without sections (MDTM)
    /// the whole body but its `## Log`.
    pub fn instruction(&self) -> String {
        let sections = markdown::sections(&self.body);
        if let Some(text) = markdown::section(&sections, "Instruction") {
            return text.to_string();
        }
        body_without_log(&self.body, &sections)
    }

    /// The named section's text, trimmed.
    pub fn section(&self, name: &str) -> Option<String> {
        let sections = markdown::sections(&self.body);
        markdown::section(&sections, name).map(str::to_string)
    }

    /// The worktree environment this task runs in: its parent's for a
    /// subtask, its own otherwise.
    pub fn environment_id(&self) -> &str {
        self.parent.as_deref().unwrap_or(&self.id)
    }
}

fn body_without_log(body: &str, sections: &[markdown::Section<'_>]) -> String {
    let text = match sections
        .iter()
        .find(|section| section.heading.eq_ignore_ascii_case("Log"))
    {
        Some(log) => format!("{}{}", &body[..log.span.0], &body[log.span.1..]),
        None => body.to_string(),
    };
    text.trim().to_string()
}

/// Every task of the project, in Scopecraft's order (current, backlog,
/// archive; a parent before its subtasks). Files that are not tasks are
/// passed over; a task whose front matter does not parse is listed with a
/// warning on stderr.
pub fn list(project: &Project) -> Result<Vec<Task>> {
    let mut tasks = Vec::new();
    let mut roots = vec![project.tasks_dir()];
    if let Ok(external) = project.external_tasks_dir()
        && external.is_dir()
    {
        roots.push(external);
    }
    for root in &roots {
        let mut found = Vec::new();
        walk(root, &mut found)?;
        found.sort_by_key(order_key);
        tasks.extend(found);
    }
    Ok(tasks)
}

/// Sort key: workflow folder rank, then path with `_overview.md` first in
/// its folder.
fn order_key(task: &Task) -> (u8, String) {
    let rank = match task.location.split('/').next().unwrap_or("") {
        "current" => 0,
        "backlog" => 1,
        "archive" => 2,
        _ => 3,
    };
    let path = task
        .path
        .to_string_lossy()
        .replace("/_overview.md", "/\u{1}");
    (rank, path)
}

/// The tasks below `root`. Folders starting with `.` (.modes, .templates,
/// .config, .autonomous-sessions) hold no tasks.
fn walk(root: &Path, tasks: &mut Vec<Task>) -> Result<()> {
    for path in walk::markdown_files(root, "task")? {
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        if let Some(task) = read_task(root, &path, name)? {
            tasks.push(task);
        }
    }
    Ok(())
}

/// Reads `path` as a task when it is one; `None` for other markdown.
fn read_task(root: &Path, path: &Path, name: &str) -> Result<Option<Task>> {
    let is_v2_name = name.ends_with(".task.md") || name == "_overview.md";
    let text = match files::read_project_text(path) {
        Ok(text) => text,
        // Not UTF-8: markdown of another kind unless named as a task.
        Err(files::Unreadable::NotText) if !is_v2_name => return Ok(None),
        Err(err) if err.is_refusal() => {
            warn(path, &format!("{err}; passed over"));
            return Ok(None);
        }
        Err(err) => {
            return Err(err).with_context(|| format!("reading task file {}", path.display()));
        }
    };
    from_text(root, path, is_v2_name, &text)
}

/// `text`, read from `path` below `root`, as a task when it is one; `None`
/// for other markdown. `is_v2_name`: the file is named as a v2 task.
pub(crate) fn from_text(
    root: &Path,
    path: &Path,
    is_v2_name: bool,
    text: &str,
) -> Result<Option<Task>> {
    let doc = markdown::split(text);
    let location = location_of(root, path);
    match doc.front_matter {
        Some(markdown::FrontMatter::Toml(front)) => mdtm::parse(path, &location, front, doc),
        _ if is_v2_name => Ok(Some(v2::parse(path, &location, doc))),
        _ => Ok(None),
    }
}

/// The workflow folder of `path` relative to the tasks root: `current`,
/// `archive/2025-06`; for MDTM the phase folder.
fn location_of(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mut parts = relative
        .parent()
        .into_iter()
        .flat_map(|parent| parent.components())
        .filter_map(|part| part.as_os_str().to_str());
    match parts.next() {
        Some("archive") => match parts.next() {
            Some(month) if is_month_folder(month) => format!("archive/{month}"),
            _ => "archive".to_string(),
        },
        Some(first) => first.to_string(),
        None => String::new(),
    }
}

fn is_month_folder(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[5..].iter().all(u8::is_ascii_digit)
}

pub(crate) fn warn(path: &Path, message: &str) {
    let text = format!("{} {message}", path.display());
    eprintln!(
        "scopecraft-tmux: warning: {}",
        crate::output::printable(&text)
    );
}

/// Finds the task `id` (checked first). A v2 subtask is also found by its
/// id without the `NN_` sequence prefix when that is unambiguous, and an
/// MDTM feature or area by its folder name.
pub fn resolve(project: &Project, id: &str) -> Result<Task> {
    names::check_task_id(id)?;
    let tasks = list(project)?;
    resolve_in(&tasks, id).cloned()
}

pub fn resolve_in<'a>(tasks: &'a [Task], id: &str) -> Result<&'a Task> {
    let exact: Vec<&Task> = tasks.iter().filter(|task| task.id == id).collect();
    let matches = if exact.is_empty() {
        tasks
            .iter()
            .filter(|task| {
                strip_sequence(&task.id) == id
                    || folder_alias(task).is_some_and(|alias| alias == id)
            })
            .collect()
    } else {
        exact
    };
    match matches.as_slice() {
        [task] => Ok(task),
        [] => {
            let near: Vec<&str> = tasks
                .iter()
                .map(|task| task.id.as_str())
                .filter(|other| is_near(other, id))
                .take(5)
                .collect();
            let hint = if near.is_empty() {
                "run `scopecraft-tmux tasks` to see every task id".to_string()
            } else {
                format!("did you mean {}?", near.join(", "))
            };
            bail_input!("no task {} in this project; {hint}", names::quoted(id))
        }
        several => {
            let paths: Vec<String> = several
                .iter()
                .map(|task| format!("  {} ({})", task.id, task.path.display()))
                .collect();
            bail_input!(
                "task id {} matches {} tasks:\n{}",
                names::quoted(id),
                several.len(),
                paths.join("\n")
            )
        }
    }
}

/// `02_cli-update` → `cli-update`.
fn strip_sequence(id: &str) -> &str {
    let bytes = id.as_bytes();
    if bytes.len() > 3 && bytes[..2].iter().all(u8::is_ascii_digit) && bytes[2] == b'_' {
        &id[3..]
    } else {
        id
    }
}

/// `FEATURE_tmux-claude-sessions` for the MDTM feature `tmux-claude-sessions`.
fn folder_alias(task: &Task) -> Option<&str> {
    if task.format != Format::Mdtm || !task.is_parent {
        return None;
    }
    task.path.parent()?.file_name()?.to_str()
}

fn is_near(candidate: &str, wanted: &str) -> bool {
    let candidate = candidate.to_ascii_lowercase();
    let wanted = wanted.to_ascii_lowercase();
    candidate.contains(&wanted)
        || (wanted.len() >= 6 && wanted.contains(&candidate))
        || edit_distance(strip_sequence(&candidate), strip_sequence(&wanted)) <= 2
}

/// Levenshtein distance, for "did you mean" (ids are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(current)
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// A field `tasks` filters on.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    Status,
    Type,
}

impl Field {
    /// The task's (normalised) value of this field.
    pub fn of(self, task: &Task) -> &str {
        match self {
            Field::Status => &task.status,
            Field::Type => &task.kind,
        }
    }

    /// Scopecraft's own values (its default metadata schema).
    fn scopecraft_values(self) -> &'static [&'static str] {
        match self {
            Field::Status => &[
                "todo",
                "in_progress",
                "done",
                "blocked",
                "reviewing",
                "archived",
            ],
            Field::Type => &[
                "feature",
                "bug",
                "chore",
                "documentation",
                "test",
                "spike",
                "idea",
            ],
        }
    }

    fn names(self) -> (&'static str, &'static str) {
        match self {
            Field::Status => ("status", "statuses"),
            Field::Type => ("type", "types"),
        }
    }
}

/// `value` normalised, when Scopecraft knows it or a task of the project
/// has it; otherwise an error that lists the known values (a typo would
/// only show an empty list).
pub fn filter_value(tasks: &[Task], field: Field, value: &str) -> Result<String> {
    let wanted = normalise(value);
    let mut known: Vec<&str> = field.scopecraft_values().to_vec();
    for task in tasks {
        let has = field.of(task);
        if !has.is_empty() && !known.contains(&has) {
            known.push(has);
        }
    }
    if !wanted.is_empty() && known.contains(&wanted.as_str()) {
        return Ok(wanted);
    }
    let (one, many) = field.names();
    bail_input!(
        "unknown {one} `{value}`; known {many}: {}",
        known.join(", ")
    )
}

/// `🟡 To Do` → `todo`, `In Progress` → `in_progress`, `🐞 Bug` → `bug`.
pub fn normalise(value: &str) -> String {
    let words: Vec<String> = value
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    let joined = words.join("_");
    match joined.as_str() {
        "to_do" | "pending" | "open" => "todo".to_string(),
        "completed" | "complete" | "finished" => "done".to_string(),
        "in_review" => "review".to_string(),
        other => other.strip_prefix("mdtm_").unwrap_or(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_decorated_values() {
        assert_eq!(normalise("🟡 To Do"), "todo");
        assert_eq!(normalise("To Do"), "todo");
        assert_eq!(normalise("🔵 In Progress"), "in_progress");
        assert_eq!(normalise("in_progress"), "in_progress");
        assert_eq!(normalise("🟢 Done"), "done");
        assert_eq!(normalise("🐞 Bug"), "bug");
        assert_eq!(normalise("🌟 Feature"), "feature");
        assert_eq!(normalise("mdtm_feature"), "feature");
        assert_eq!(normalise(""), "");
    }

    #[test]
    fn strips_only_a_two_digit_sequence() {
        assert_eq!(strip_sequence("02_cli-update"), "cli-update");
        assert_eq!(strip_sequence("cli-update"), "cli-update");
        assert_eq!(strip_sequence("2_x"), "2_x");
    }

    #[test]
    fn typos_are_near() {
        assert!(is_near("01_child-11B", "chld-11B"));
        assert!(is_near("refresh-11A", "refesh-11A"));
        assert!(!is_near("refresh-11A", "totally-else"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn month_folders() {
        assert!(is_month_folder("2025-06"));
        assert!(!is_month_folder("2025-6"));
        assert!(!is_month_folder("old"));
    }

    #[test]
    fn instruction_falls_back_to_body_without_log() {
        let task = Task {
            id: "t".into(),
            title: "T".into(),
            kind: String::new(),
            status: String::new(),
            area: String::new(),
            parent: None,
            location: String::new(),
            format: Format::Mdtm,
            is_parent: false,
            path: PathBuf::new(),
            body: "\nBuild it.\n\n## Notes\nCareful.\n\n## Log\n- 2025: did\n".into(),
        };
        assert_eq!(task.instruction(), "Build it.\n\n## Notes\nCareful.");
    }
}
