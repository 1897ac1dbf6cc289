//! `prompt`: print the composed prompt; nothing runs.

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::PromptArgs;
use crate::output;

impl Run for PromptArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let composed = super::compose_request(&project, &self.input)?;
        if self.json {
            return output::json(&composed);
        }
        let mut out = output::stdout();
        out.write_all(composed.prompt.as_bytes())?;
        out.flush()?;
        Ok(())
    }
}
