//! One file per subcommand; each implements [`Run`].

mod attach;
mod diff;
mod dispatch;
mod hook;
mod list;
mod logs;
mod menu;
mod merge;
mod modes;
mod next;
mod prompt;
mod serve;
mod status;
mod status_line;
mod stop;
mod supervise;
mod takeover;
mod tasks;
mod work;
mod worktree;

use std::path::Path;

use anyhow::{Context, Result};

use crate::books::{Books, Record};
use crate::cli::{Cli, Command, PromptInput, SessionArgs};
use crate::compose::Composed;
use crate::ops;
use crate::project::Project;

/// What the subcommands have in common: the global flags.
pub struct Globals {
    project_dir: Option<std::path::PathBuf>,
}

impl Globals {
    /// `--project`, when given.
    pub fn project_dir(&self) -> Option<&Path> {
        self.project_dir.as_deref()
    }

    /// Whether `--project` was given.
    pub fn has_project_flag(&self) -> bool {
        self.project_dir.is_some()
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

/// The prompt a `prompt` asks for, composed.
pub fn compose_request(project: &Project, input: &PromptInput) -> Result<Composed> {
    ops::compose(
        project,
        &input.task,
        input.mode.as_deref(),
        input.instructions.as_deref(),
        input.data.as_deref(),
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
        Command::Work(args) => args.run(&ctx),
        Command::Takeover(args) => args.run(&ctx),
        Command::List(args) => args.run(&ctx),
        Command::Status(args) => args.run(&ctx),
        Command::Attach(args) => args.run(&ctx),
        Command::Stop(args) => args.run(&ctx),
        Command::Logs(args) => args.run(&ctx),
        Command::Diff(args) => args.run(&ctx),
        Command::Merge(args) => args.run(&ctx),
        Command::Worktree(command) => command.run(&ctx),
        Command::Hook(args) => args.run(&ctx),
        Command::Menu(args) => args.run(&ctx),
        Command::Next(args) => args.run(&ctx),
        Command::Serve(args) => args.run(&ctx),
        Command::StatusLine(args) => args.run(&ctx),
        Command::Supervise(args) => args.run(&ctx),
    }
}

/// The sessions of the task (and `--mode`) named on the command line.
pub fn find_sessions(project: &Project, books: &Books, args: &SessionArgs) -> Result<Vec<Record>> {
    ops::sessions::find_sessions(project, books, &args.task, args.mode.as_deref())
}

/// One session of the task named on the command line: the only one, or
/// the only live one; several need `--mode`.
pub fn find_session(project: &Project, books: &Books, args: &SessionArgs) -> Result<Record> {
    ops::sessions::find_session(project, books, &args.task, args.mode.as_deref())
}
