//! The project's configuration: `.tasks/.config/scopecraft-tmux.toml`.
//! Every key is optional; an unknown key is an error so that typos show.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::bad_input;
use crate::project::Project;

pub const FILE_NAME: &str = "scopecraft-tmux.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The mode used when `--mode` is not given (default `auto`).
    pub default_mode: Option<String>,
    /// Where the file was read from, for messages.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Config {
    /// Reads the project's configuration; a missing file is the default.
    pub fn load(project: &Project) -> Result<Config> {
        let path = project.config_dir().join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(err) => {
                return Err(err).with_context(|| format!("reading {}", path.display()));
            }
        };
        let mut config: Config = toml::from_str(&text)
            .map_err(|err| bad_input(format!("{}: {}", path.display(), err.message())))?;
        config.source = Some(path);
        Ok(config)
    }

    pub fn default_mode(&self) -> &str {
        self.default_mode.as_deref().unwrap_or("auto")
    }
}
