//! `modes`: the mode names a user can pass, with their files and inputs.

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::ModesArgs;
use crate::mode;
use crate::output::{self, pad};

impl Run for ModesArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let modes = mode::list(&project)?;
        if self.json {
            return output::json(&modes);
        }
        if modes.is_empty() {
            eprintln!(
                "scopecraft-tmux: {} holds no modes; `dispatch` and `prompt` use a short built-in prompt",
                project.modes_dir().display()
            );
            return Ok(());
        }
        let modes_dir = project.modes_dir();
        let rows: Vec<(String, String, String)> = modes
            .iter()
            .map(|entry| {
                let mut names = entry.name.clone();
                for alias in &entry.aliases {
                    names.push_str(&format!(", {alias}"));
                }
                let file = entry
                    .file
                    .strip_prefix(&modes_dir)
                    .unwrap_or(&entry.file)
                    .display()
                    .to_string();
                let inputs = entry
                    .inputs
                    .iter()
                    .map(|input| {
                        if input.required {
                            input.name.clone()
                        } else {
                            format!("{}?", input.name)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                (names, file, inputs)
            })
            .collect();
        let name_width = rows
            .iter()
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let file_width = rows
            .iter()
            .map(|r| r.1.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = output::stdout();
        writeln!(
            out,
            "{} {} INPUTS (? = optional)",
            pad("MODE", name_width),
            pad("FILE", file_width)
        )?;
        for (names, file, inputs) in rows {
            writeln!(
                out,
                "{} {} {}",
                pad(&names, name_width),
                pad(&file, file_width),
                inputs
            )?;
        }
        out.flush()?;
        Ok(())
    }
}
