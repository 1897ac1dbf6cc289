//! The operations below the commands: a dispatch, a stop, the sessions and
//! their states, a log stream, what can be dispatched, what waits for its
//! user. Each takes a request and returns what happened; nothing here
//! prints, so the command line, the tmux menu and the HTTP server call the
//! same code.

pub mod attach;
pub mod choices;
pub mod clean;
pub mod diff;
pub mod dispatch;
pub mod landing;
pub mod logs;
pub mod merge;
pub mod sessions;
pub mod stop;
pub mod takeover;
pub mod waiting;
pub mod work;
pub mod worktrees;

use anyhow::Result;

use crate::compose::{self, Composed};
use crate::config::Config;
use crate::project::Project;

/// The prompt for `task` in `mode` (the configured default when absent),
/// with extra instructions and `data` (a JSON object, as text).
pub fn compose(
    project: &Project,
    task: &str,
    mode: Option<&str>,
    instructions: Option<&str>,
    data: Option<&str>,
) -> Result<Composed> {
    let config = Config::load(project)?;
    let data = match data {
        Some(text) => compose::parse_data(text)?,
        None => Default::default(),
    };
    compose::compose(
        project,
        &compose::Request {
            task_id: task.to_string(),
            mode: mode.map_or_else(|| config.default_mode().to_string(), str::to_string),
            instructions: instructions.map(str::to_string),
            data,
        },
    )
}
