//! The sessions and their states: a task's sessions, one session, every
//! session of some projects. Records are read through the books, which
//! correct a run whose process is gone.

use anyhow::Result;

use crate::books::{self, Books, Record};
use crate::error::bail_input;
use crate::names;
use crate::project::Project;

/// The sessions of a task: the one in `mode`, or all of its modes. The
/// task is named as for `prompt`: a subtask also by its id without the
/// `NN_` prefix. An id that names no task and no session is an unknown task.
pub fn find_sessions(
    project: &Project,
    books: &Books,
    task: &str,
    mode: Option<&str>,
) -> Result<Vec<Record>> {
    names::check_task_id(task)?;
    if let Some(mode) = mode {
        names::check_mode_name(mode)?;
    }
    // Sessions of a task that has since been removed are still found by
    // the id they were recorded under.
    let found = sessions_of(books, task, mode)?;
    if !found.is_empty() {
        return Ok(found);
    }
    let resolved = crate::task::resolve(project, task)?;
    let found = if resolved.id == task {
        Vec::new()
    } else {
        sessions_of(books, &resolved.id, mode)?
    };
    if !found.is_empty() {
        return Ok(found);
    }
    match mode {
        Some(mode) => bail_input!(
            "no session of task {} in mode {mode}; start one with: scopecraft-tmux dispatch {} --mode {mode}",
            resolved.id,
            resolved.id
        ),
        None => bail_input!(
            "no session of task {}; start one with: scopecraft-tmux dispatch {}",
            resolved.id,
            resolved.id
        ),
    }
}

/// The records of task `id` (in `mode`), newest first, ours first:
/// Scopecraft's own records of the task (never updated once written) only
/// stand in when we have none. Only the task's own session files are read,
/// unless Scopecraft's must be looked for (their names do not say the task).
fn sessions_of(books: &Books, id: &str, mode: Option<&str>) -> Result<Vec<Record>> {
    if let Some(mode) = mode {
        return Ok(books
            .read(&names::session_name(id, mode))?
            .filter(|record| record.task_id == id && record.mode.as_deref() == Some(mode))
            .into_iter()
            .collect());
    }
    let of_task = |records: Vec<Record>| -> Vec<Record> {
        records
            .into_iter()
            .filter(|record| record.task_id == id)
            .collect()
    };
    let mut records = of_task(books.of_task(id)?);
    if !records.iter().any(Record::is_ours) {
        records = of_task(books.list()?);
    }
    if records.iter().any(Record::is_ours) {
        records.retain(Record::is_ours);
    }
    records.sort_by(|a, b| b.start_time.cmp(&a.start_time));
    Ok(records)
}

/// One session of a task: the only one, or the only live one; several
/// need a mode.
pub fn find_session(
    project: &Project,
    books: &Books,
    task: &str,
    mode: Option<&str>,
) -> Result<Record> {
    let mut records = find_sessions(project, books, task, mode)?;
    if records.len() == 1 {
        return Ok(records.remove(0));
    }
    let live: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].status.is_live())
        .collect();
    if let [only] = live.as_slice() {
        return Ok(records.swap_remove(*only));
    }
    let modes: Vec<String> = records
        .iter()
        .map(|r| format!("{} ({})", r.mode_name(), r.status))
        .collect();
    bail_input!(
        "task {task} has sessions in several modes: {}; pass --mode",
        modes.join(", ")
    )
}

/// Every session in these books, newest first.
pub fn list(books_list: &[Books]) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    for books in books_list {
        records.extend(books.list()?);
    }
    records.sort_by(|a, b| b.start_time.cmp(&a.start_time));
    Ok(records)
}

/// The sessions of `project`, or with none, of every project; newest first.
pub fn of_project_or_all(project: Option<&Project>) -> Result<Vec<Record>> {
    match project {
        Some(project) => Books::for_project(project)?.list(),
        None => list(&books::all_projects()?),
    }
}

/// The live process of a running session, for messages: its supervisor,
/// or its agent when the supervisor is gone.
pub fn live_process(record: &Record) -> String {
    let supervised = record.supervisor_pid.filter(|&pid| {
        crate::procs::is_alive(
            pid,
            record.supervisor_start_ticks,
            record.boot_id.as_deref(),
        )
    });
    match (supervised, record.pid) {
        (Some(pid), _) => format!("pid {pid}"),
        (None, Some(pid)) if books::agent_alive(record) => {
            format!("agent pid {pid}, its supervisor gone")
        }
        _ => "pid ?".to_string(),
    }
}
