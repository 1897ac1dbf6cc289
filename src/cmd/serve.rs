//! `serve`: the HTTP API and the web page (the server is [`crate::serve`]).

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::ServeArgs;

impl Run for ServeArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        // Outside a project the server still serves every project it knows.
        let project = match globals.project() {
            Ok(project) => Some(project),
            Err(err) if globals.has_project_flag() => return Err(err),
            Err(_) => None,
        };
        #[cfg(feature = "serve")]
        return crate::serve::run(project, self.port, self.open);
        #[cfg(not(feature = "serve"))]
        {
            let _ = (project, self.port, self.open);
            anyhow::bail!("this scopecraft-tmux was built without the `serve` feature")
        }
    }
}
