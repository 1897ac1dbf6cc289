//! The books of task worktrees: one JSON record per task environment under
//! `$SCOPECRAFT_HOME/projects/<encoded-root>/worktrees/<env-id>.json`,
//! written when the worktree is made. It says which project made the
//! worktree (two projects in one repository share the worktrees folder),
//! the branch it left and at which commit, and whether its work was merged.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{now, write_atomic};
use crate::project::{self, Project};

/// One task environment's worktree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorktreeRecord {
    pub env_id: String,
    /// The worktree, its symlinks resolved.
    pub path: PathBuf,
    pub branch: String,
    /// The branch it was made from (the main checkout's when it was made);
    /// `None` when that checkout was detached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The commit the branch was made at, when it was made for the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork_point: Option<String>,
    /// The project that made it.
    pub project_root: PathBuf,
    pub created: String,
    /// Set by `merge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<Merged>,
    /// Fields of a later version, kept on rewrite.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How the branch was brought into its base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Merged {
    /// The base branch.
    pub into: String,
    /// `merge`, `squash` or `rebase`.
    pub method: String,
    /// The base's commit after the merge.
    pub commit: String,
    /// The branch's commit that was merged.
    pub branch_head: String,
    pub time: String,
}

/// One project's worktree records.
#[derive(Debug, Clone)]
pub struct WorktreeBooks {
    dir: PathBuf,
}

impl WorktreeBooks {
    pub fn for_project(project: &Project) -> Result<WorktreeBooks> {
        Ok(WorktreeBooks {
            dir: project.home()?.join("worktrees"),
        })
    }

    fn path(&self, env_id: &str) -> PathBuf {
        self.dir.join(format!("{env_id}.json"))
    }

    /// The record of `env_id`; `None` when there is none or it does not
    /// parse (with a warning: the next dispatch writes a good one).
    pub fn read(&self, env_id: &str) -> Result<Option<WorktreeRecord>> {
        read_file(&self.path(env_id))
    }

    pub fn write(&self, record: &WorktreeRecord) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(record)?;
        text.push(b'\n');
        write_atomic(&self.path(&record.env_id), &text)
    }

    /// Forgets `env_id`'s worktree (it was removed).
    pub fn remove(&self, env_id: &str) -> Result<()> {
        let path = self.path(env_id);
        match fs::remove_file(&path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                Err(err).with_context(|| format!("removing {}", path.display()))
            }
            _ => Ok(()),
        }
    }

    /// Whether these books hold a record of the worktree at `path`.
    pub fn claims(&self, env_id: &str, path: &Path) -> bool {
        matches!(self.read(env_id), Ok(Some(record)) if same_path(&record.path, path))
    }
}

impl WorktreeRecord {
    pub fn new(project: &Project, env_id: &str, path: &Path, branch: &str) -> WorktreeRecord {
        WorktreeRecord {
            env_id: env_id.to_string(),
            path: path.to_path_buf(),
            branch: branch.to_string(),
            project_root: project.root.clone(),
            created: now(),
            ..WorktreeRecord::default()
        }
    }
}

fn read_file(path: &Path) -> Result<Option<WorktreeRecord>> {
    match fs::read(path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(record) => Ok(Some(record)),
            Err(err) => {
                eprintln!(
                    "scopecraft-tmux: warning: ignoring {}: not a worktree record ({err})",
                    path.display()
                );
                Ok(None)
            }
        },
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

/// The roots of the projects other than `project` whose worktree books
/// hold a record of the worktree at `path` (made by them).
pub fn claimed_elsewhere(project: &Project, env_id: &str, path: &Path) -> Result<Vec<PathBuf>> {
    let projects = project::scopecraft_home()?.join("projects");
    let own = project.home()?;
    let entries = match fs::read_dir(&projects) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("reading {}", projects.display())),
    };
    let mut roots = Vec::new();
    for entry in entries {
        let home = entry?.path();
        if home == own {
            continue;
        }
        let file = home.join("worktrees").join(format!("{env_id}.json"));
        if let Ok(Some(record)) = read_file(&file)
            && same_path(&record.path, path)
        {
            roots.push(record.project_root);
        }
    }
    roots.sort();
    Ok(roots)
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b || a.canonicalize().ok().as_deref() == Some(b)
}
