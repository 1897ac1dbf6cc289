//! What a task's branch changed since it left its base, and what its
//! worktree holds that is not committed yet, for a person to review.

use anyhow::Result;
use serde::Serialize;

use super::landing::{self, Environment};
use crate::config::Config;
use crate::git;
use crate::project::Project;

#[derive(Debug, Clone)]
pub struct Request {
    pub task: String,
    /// Per-file counts instead of the patch.
    pub stat: bool,
    /// Colours in the text (git's, as on a terminal).
    pub color: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    #[serde(flatten)]
    pub environment: Environment,
    /// The branch's commits since the fork point, oldest first
    /// (`<short sha> <subject>`).
    pub commits: Vec<String>,
    /// Committed on the branch since the fork point.
    pub committed: Part,
    /// In the worktree and not committed (edits hidden by
    /// `--assume-unchanged` or `--skip-worktree` and untracked files
    /// included); `None` without a worktree.
    pub uncommitted: Option<Part>,
}

/// One side of the change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    pub files: Vec<FileChange>,
    /// `git diff` (or `--stat`) text; colours when asked.
    pub text: String,
}

impl Part {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChange {
    pub path: String,
    /// Lines added and deleted; `None` for a binary file.
    pub added: Option<u64>,
    pub deleted: Option<u64>,
}

/// The task's changes: committed since the fork point, and uncommitted in
/// its worktree.
pub fn diff(project: &Project, config: &Config, request: &Request) -> Result<Diff> {
    let environment = landing::environment(project, config, &request.task)?;
    let dir = environment
        .worktree
        .clone()
        .unwrap_or_else(|| environment.checkout.clone());
    let from = environment
        .fork_point
        .clone()
        .unwrap_or_else(|| environment.base_commit.clone());
    let commits = git::commits(&dir, &format!("{from}..{}", environment.head))?
        .into_iter()
        .map(|c| format!("{} {}", c.sha.get(..7).unwrap_or(&c.sha), c.subject))
        .collect();
    let committed = part(&dir, &from, &environment.head, request)?;
    let uncommitted = match &environment.worktree {
        Some(path) => {
            let snapshot = git::snapshot(path, &[])?;
            Some(part(path, &snapshot.head, &snapshot.work_tree, request)?)
        }
        None => None,
    };
    Ok(Diff {
        environment,
        commits,
        committed,
        uncommitted,
    })
}

fn part(dir: &std::path::Path, from: &str, to: &str, request: &Request) -> Result<Part> {
    let numstat = git::diff(dir, &["--numstat", "-z", from, to])?;
    let files = parse_numstat(&numstat);
    let color = if request.color {
        "--color=always"
    } else {
        "--no-color"
    };
    let text = if files.is_empty() {
        String::new()
    } else if request.stat {
        git::diff(dir, &["--stat", color, from, to])?
    } else {
        git::diff(dir, &[color, from, to])?
    };
    Ok(Part { files, text })
}

/// `git diff --numstat -z`: `added\tdeleted\tpath\0`, a rename as
/// `added\tdeleted\t\0from\0to\0`.
fn parse_numstat(text: &str) -> Vec<FileChange> {
    let mut files = Vec::new();
    let mut fields = text.split('\0');
    while let Some(entry) = fields.next() {
        let mut parts = entry.splitn(3, '\t');
        let (Some(added), Some(deleted), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = if path.is_empty() {
            let from = fields.next().unwrap_or_default();
            let to = fields.next().unwrap_or_default();
            format!("{to} (from {from})")
        } else {
            path.to_string()
        };
        files.push(FileChange {
            path,
            added: added.parse().ok(),
            deleted: deleted.parse().ok(),
        });
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numstat_with_renames_and_binaries() {
        let files = parse_numstat(concat!(
            "3\t1\ta.txt\0",
            "-\t-\timg.png\0",
            "1\t0\t\0old.rs\0new.rs\0"
        ));
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.txt", "img.png", "new.rs (from old.rs)"]);
        assert_eq!(files[0].added, Some(3));
        assert_eq!(files[1].added, None);
    }
}
