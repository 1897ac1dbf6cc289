//! Every command-line type: subcommands, their flags and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (a program we ran failed, a file could not be written, …)
  2  bad usage or bad input (unknown task or mode, malformed id, invalid --data, …)";

#[derive(Debug, Parser)]
#[command(
    name = "scopecraft-tmux",
    version,
    about = "Run AI coding agents on the tasks of a Scopecraft project, in tmux windows, headless or in Docker",
    after_help = EXIT_CODES,
    max_term_width = 100
)]
pub struct Cli {
    /// The project directory (default: found by walking up from the current directory to the one holding .tasks/)
    #[arg(long, global = true, value_name = "DIR")]
    pub project: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the project's tasks (both Scopecraft formats, every folder)
    Tasks(TasksArgs),
    /// List the modes a task can be run in
    Modes(ModesArgs),
    /// Print the composed prompt for a task; runs nothing
    #[command(after_help = EXIT_CODES)]
    Prompt(PromptArgs),
}

#[derive(Debug, Args)]
pub struct TasksArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// Only tasks with this status (todo, in_progress, done, …; emoji and case are ignored)
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// Only tasks of this type (feature, bug, chore, …)
    #[arg(long = "type", value_name = "T")]
    pub kind: Option<String>,
}

#[derive(Debug, Args)]
pub struct ModesArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// What selects and shapes a prompt; shared by `prompt` and `dispatch`.
#[derive(Debug, Args, Clone)]
pub struct PromptInput {
    /// The task id, as `scopecraft-tmux tasks` shows it
    pub task: String,
    /// The mode: `auto`, a name (`implementation`), or a path below .tasks/.modes (`implementation/code_review`)
    /// [default: the project's default_mode, else auto]
    #[arg(short, long, value_name = "M")]
    pub mode: Option<String>,
    /// Extra instructions appended to the prompt
    #[arg(short, long, value_name = "TEXT")]
    pub instructions: Option<String>,
    /// Template variables as a JSON object, e.g. '{"feature_description": "…"}'
    #[arg(long, value_name = "JSON")]
    pub data: Option<String>,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    #[command(flatten)]
    pub input: PromptInput,
    /// Print JSON: the prompt, the files used, the data, allowedTools and disallowedTools
    #[arg(long)]
    pub json: bool,
}
