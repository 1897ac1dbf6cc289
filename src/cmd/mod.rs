//! One file per subcommand; each implements [`Run`].

mod modes;
mod prompt;
mod tasks;

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, PromptInput};
use crate::compose::{self, Composed};
use crate::config::Config;
use crate::project::Project;

/// What the subcommands have in common: the global flags.
pub struct Globals {
    project_dir: Option<std::path::PathBuf>,
}

impl Globals {
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
    }
}
