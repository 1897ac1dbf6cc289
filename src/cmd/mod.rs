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

/// The sessions of a task: the one in `--mode`, or all of its modes.
pub fn find_sessions(books: &Books, args: &SessionArgs) -> Result<Vec<Record>> {
    names::check_task_id(&args.task)?;
    if let Some(mode) = &args.mode {
        names::check_mode_name(mode)?;
        return match books.read(&names::session_name(&args.task, mode))? {
            Some(record) if record.task_id == args.task && record.mode.as_deref() == Some(mode) => {
                Ok(vec![record])
            }
            _ => bail_input!(
                "no session of task {} in mode {mode}; start one with: scopecraft-tmux dispatch {} --mode {mode}",
                args.task,
                args.task
            ),
        };
    }
    let mut records: Vec<Record> = books
        .list()?
        .into_iter()
        .filter(|record| record.task_id == args.task)
        .collect();
    // Scopecraft's own records of the task (never updated once written)
    // only stand in when we have none.
    if records.iter().any(Record::is_ours) {
        records.retain(Record::is_ours);
    }
    if records.is_empty() {
        bail_input!(
            "no session of task {}; start one with: scopecraft-tmux dispatch {}",
            args.task,
            args.task
        );
    }
    Ok(records)
}

/// One session of a task: the only one, or the only live one; several
/// need `--mode`.
pub fn find_session(books: &Books, args: &SessionArgs) -> Result<Record> {
    let mut records = find_sessions(books, args)?;
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
