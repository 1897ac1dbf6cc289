//! The project: where its `.tasks/` lives, its main checkout when we are
//! inside a git worktree, and where its books are kept under `SCOPECRAFT_HOME`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::bail_input;
use crate::git;

/// A Scopecraft project found on disk.
#[derive(Debug, Clone)]
pub struct Project {
    /// The main checkout's root: the directory holding `.tasks/`. Tasks,
    /// modes and books are always taken from here, also from a worktree.
    pub root: PathBuf,
}

impl Project {
    /// Walks up from `start` to the directory holding `.tasks/`. From inside
    /// a linked git worktree, the main checkout is used instead, so that
    /// modes and books are the same from every worktree.
    pub fn discover(start: &Path) -> Result<Project> {
        let start = match start.canonicalize() {
            Ok(start) => start,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                bail_input!("no such directory: {}", start.display())
            }
            Err(err) => {
                return Err(err).with_context(|| format!("reading directory {}", start.display()));
            }
        };
        for dir in start.ancestors() {
            let dot_git = dir.join(".git");
            if dot_git.is_file()
                && let Some(main) = git::main_checkout_of(dir)
                && main.join(".tasks").is_dir()
            {
                return Ok(Project { root: main });
            }
            if dir.join(".tasks").is_dir() {
                return Ok(Project {
                    root: dir.to_path_buf(),
                });
            }
        }
        bail_input!(
            "no Scopecraft project here: neither {} nor any directory above it holds a .tasks/ folder \
             (run from inside a project, or pass --project DIR)",
            start.display()
        )
    }

    pub fn tasks_dir(&self) -> PathBuf {
        self.root.join(".tasks")
    }

    pub fn modes_dir(&self) -> PathBuf {
        self.tasks_dir().join(".modes")
    }

    pub fn config_dir(&self) -> PathBuf {
        self.tasks_dir().join(".config")
    }

    /// `~/.scopecraft/projects/<encoded-root>`, or under `SCOPECRAFT_HOME`.
    pub fn home(&self) -> Result<PathBuf> {
        Ok(scopecraft_home()?
            .join("projects")
            .join(encode_root(&self.root)))
    }

    /// Where newer Scopecraft keeps this project's tasks.
    pub fn external_tasks_dir(&self) -> Result<PathBuf> {
        Ok(self.home()?.join("tasks"))
    }
}

/// `a/./b/../c` as `a/c`, without touching the disk (so through a symlink
/// `..` means the folder above in the path, not the link target's).
pub fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `SCOPECRAFT_HOME`, else `~/.scopecraft`.
pub fn scopecraft_home() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("SCOPECRAFT_HOME").filter(|v| !v.is_empty()) {
        // Made absolute: supervisors and hooks run in other directories.
        return std::path::absolute(PathBuf::from(home))
            .context("making SCOPECRAFT_HOME an absolute path");
    }
    let home = dirs::home_dir().context("cannot tell the home directory; set SCOPECRAFT_HOME")?;
    Ok(home.join(".scopecraft"))
}

/// Scopecraft's directory name for a project root: each path part with
/// `[^a-zA-Z0-9-]` replaced by `_`, parts joined with `-`, lower-cased.
/// As in Scopecraft (a JavaScript regex), the replacement is per UTF-16
/// unit: a character outside the BMP becomes two underscores.
pub fn encode_root(root: &Path) -> String {
    root.components()
        .filter_map(|part| match part {
            std::path::Component::Normal(name) => Some(name.to_string_lossy()),
            _ => None,
        })
        .map(|name| {
            let mut encoded = String::with_capacity(name.len());
            for c in name.chars() {
                if c.is_ascii_alphanumeric() || c == '-' {
                    encoded.push(c.to_ascii_lowercase());
                } else {
                    encoded.extend(std::iter::repeat_n('_', c.len_utf16()));
                }
            }
            encoded
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_each_part_and_joins_with_dashes() {
        assert_eq!(
            encode_root(Path::new("/Users/david/Projects/roo-task-cli")),
            "users-david-projects-roo-task-cli"
        );
        assert_eq!(
            encode_root(Path::new("/home/me/My Project.v2")),
            "home-me-my_project_v2"
        );
    }

    #[test]
    fn non_ascii_becomes_one_underscore_per_utf16_unit() {
        assert_eq!(encode_root(Path::new("/tmp/café")), "tmp-caf_");
        assert_eq!(encode_root(Path::new("/tmp/a🙂b")), "tmp-a__b");
    }
}
