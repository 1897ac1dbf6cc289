//! One file per subcommand; each implements [`Run`].

mod attach;
mod dispatch;
mod hook;
mod list;
mod logs;
mod menu;
mod modes;
mod prompt;
mod status;
mod status_line;
mod stop;
mod supervise;
mod tasks;
mod worktree;

use std::path::Path;

use anyhow::{Context, Result};

use crate::books::{Books, Record};
use crate::cli::{Cli, Command, PromptInput, SessionArgs};
use crate::compose::{self, Composed};
use crate::config::Config;
use crate::error::bail_input;
use crate::names;
use crate::project::Project;

/// What the subcommands have in common: the global flags.
pub struct Globals {
    project_dir: Option<std::path::PathBuf>,
}

impl Globals {
    /// Whether `--project` was given.
    pub fn has_project_flag(&self) -> bool {
        self.project_dir.is_some()
    }

    /// The project: `--project`, else the one holding `dir`.
    pub fn project_from(&self, dir: &Path) -> Result<Project> {
        Project::discover(self.project_dir.as_deref().unwrap_or(dir))
    }

    /// The project, found from `--project` or the current directory.
    pub fn project(&self) -> Result<Project> {
        match &self.project_dir {
            Some(dir) => Project::discover(dir),
            None => {
                let cwd = std::env::current_dir().context("reading the current directory")?;
                Project::discover(Path::new(&cwd))
            }
        }
    }
}

/// The prompt a `prompt` or `dispatch` asks for, composed.
pub fn compose_request(project: &Project, input: &PromptInput) -> Result<Composed> {
    let config = Config::load(project)?;
    let data = match &input.data {
        Some(text) => compose::parse_data(text)?,
        None => Default::default(),
    };
    compose::compose(
        project,
        &compose::Request {
            task_id: input.task.clone(),
            mode: input
                .mode
                .clone()
                .unwrap_or_else(|| config.default_mode().to_string()),
            instructions: input.instructions.clone(),
            data,
        },
    )
}

pub trait Run {
    fn run(&self, ctx: &Globals) -> Result<()>;
}

pub fn run(cli: Cli) -> Result<()> {
    let ctx = Globals {
        project_dir: cli.project,
    };
    match &cli.command {
        Command::Tasks(args) => args.run(&ctx),
        Command::Modes(args) => args.run(&ctx),
        Command::Prompt(args) => args.run(&ctx),
        Command::Dispatch(args) => args.run(&ctx),
        Command::List(args) => args.run(&ctx),
        Command::Status(args) => args.run(&ctx),
        Command::Attach(args) => args.run(&ctx),
        Command::Stop(args) => args.run(&ctx),
        Command::Logs(args) => args.run(&ctx),
        Command::Worktree(command) => command.run(&ctx),
        Command::Hook(args) => args.run(&ctx),
        Command::Menu(args) => args.run(&ctx),
        Command::StatusLine(args) => args.run(&ctx),
        Command::Supervise(args) => args.run(&ctx),
    }
}

/// The sessions of a task: the one in `--mode`, or all of its modes. The
/// task is named as for `prompt`: a subtask also by its id without the
/// `NN_` prefix. An id that names no task and no session is an unknown task.
pub fn find_sessions(project: &Project, books: &Books, args: &SessionArgs) -> Result<Vec<Record>> {
    names::check_task_id(&args.task)?;
    if let Some(mode) = &args.mode {
        names::check_mode_name(mode)?;
    }
    // Sessions of a task that has since been removed are still found by
    // the id they were recorded under.
    let found = sessions_of(books, &args.task, args.mode.as_deref())?;
    if !found.is_empty() {
        return Ok(found);
    }
    let task = crate::task::resolve(project, &args.task)?;
    let found = if task.id == args.task {
        Vec::new()
    } else {
        sessions_of(books, &task.id, args.mode.as_deref())?
    };
    if !found.is_empty() {
        return Ok(found);
    }
    match &args.mode {
        Some(mode) => bail_input!(
            "no session of task {} in mode {mode}; start one with: scopecraft-tmux dispatch {} --mode {mode}",
            task.id,
            task.id
        ),
        None => bail_input!(
            "no session of task {}; start one with: scopecraft-tmux dispatch {}",
            task.id,
            task.id
        ),
    }
}

/// The records of task `id` (in `mode`), ours first: Scopecraft's own
/// records of the task (never updated once written) only stand in when we
/// have none.
fn sessions_of(books: &Books, id: &str, mode: Option<&str>) -> Result<Vec<Record>> {
    if let Some(mode) = mode {
        return Ok(books
            .read(&names::session_name(id, mode))?
            .filter(|record| record.task_id == id && record.mode.as_deref() == Some(mode))
            .into_iter()
            .collect());
    }
    let mut records: Vec<Record> = books
        .list()?
        .into_iter()
        .filter(|record| record.task_id == id)
        .collect();
    if records.iter().any(Record::is_ours) {
        records.retain(Record::is_ours);
    }
    Ok(records)
}

/// One session of a task: the only one, or the only live one; several
/// need `--mode`.
pub fn find_session(project: &Project, books: &Books, args: &SessionArgs) -> Result<Record> {
    let mut records = find_sessions(project, books, args)?;
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
        "task {} has sessions in several modes: {}; pass --mode",
        args.task,
        modes.join(", ")
    )
}
