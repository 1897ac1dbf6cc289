//! `__supervise`: the supervisor's entry point (see `crate::supervisor`).

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::SuperviseArgs;
use crate::supervisor;

impl Run for SuperviseArgs {
    fn run(&self, _globals: &Globals) -> Result<()> {
        supervisor::run(&self.record, self.path.as_deref()).map(drop)
    }
}
