//! The task worktrees of a project as `worktree list` shows them: what each
//! holds that exists nowhere else, which live sessions use it, whether it
//! was merged, and the worktrees `worktree clean --force` saved.

use anyhow::Result;
use serde::Serialize;

use crate::books::Books;
use crate::books::worktrees::{Merged, WorktreeBooks};
use crate::config::Config;
use crate::git;
use crate::ops::clean;
use crate::ops::landing::{Machine, uses};
use crate::project::Project;
use crate::worktree::{BRANCH_PREFIX, Layout, Ours};

/// A task worktree, or one `worktree clean --force` saved (state `saved`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    pub env_id: String,
    pub path: String,
    pub branch: Option<String>,
    pub head: Option<String>,
    /// `clean`, `dirty`, or `missing` (its folder was deleted by hand).
    pub state: &'static str,
    /// Uncommitted changes, untracked files included, as `git status --short`.
    pub changes: Vec<String>,
    /// Commits ahead of `base`.
    pub ahead: Option<u64>,
    pub base: String,
    /// The reason given to `git worktree lock`, when locked.
    pub locked: Option<String>,
    pub sessions: Vec<Session>,
    /// How `merge` brought its branch into the base, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged: Option<Merged>,
    /// State `saved`: the ref `worktree clean --force` kept it under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_ref: Option<String>,
    /// State `saved`: the commands that bring it back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<String>,
}

/// A live session working in a worktree.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub session_name: String,
    pub task_id: String,
    pub mode: String,
    pub status: String,
}

/// The project's task worktrees and its base branch's name; `None`
/// outside a git repository.
pub fn list(project: &Project, config: &Config) -> Result<Option<(Vec<Listed>, String)>> {
    let Some(layout) = Layout::read(project, config)? else {
        return Ok(None);
    };
    let books = Books::for_project(project)?;
    let records = books.list()?;
    let machine = Machine::read(&books)?;
    let worktree_books = WorktreeBooks::for_project(project)?;
    let base = layout.base_name();
    let base_commit = layout.checkout.head.clone();
    let mut listed = Vec::new();
    for Ours { env_id, worktree } in layout.ours() {
        // Another project's (the projects share the worktrees folder).
        if !machine
            .owners_elsewhere(project, &env_id, &worktree.path)?
            .is_empty()
        {
            continue;
        }
        let changes = if worktree.missing {
            Vec::new()
        } else {
            git::changes(&worktree.path)?
        };
        let ahead = match (&base_commit, &worktree.head) {
            (Some(base), Some(head)) => Some(git::count_ahead(&layout.checkout.path, base, head)?),
            _ => None,
        };
        let sessions = records
            .iter()
            .filter(|r| r.status.is_live() && uses(r, &worktree.path))
            .map(|r| Session {
                session_name: r.session_name.clone(),
                task_id: r.task_id.clone(),
                mode: r.mode_name().to_string(),
                status: r.status.to_string(),
            })
            .collect();
        let merged = worktree_books.read(&env_id)?.and_then(|r| r.merged);
        listed.push(Listed {
            env_id,
            path: worktree.path.display().to_string(),
            branch: worktree.branch.clone(),
            head: worktree.head.clone(),
            state: if worktree.missing {
                "missing"
            } else if changes.is_empty() {
                "clean"
            } else {
                "dirty"
            },
            changes,
            ahead,
            base: base.clone(),
            locked: worktree.locked.clone(),
            sessions,
            merged,
            saved_ref: None,
            restore: None,
        });
    }
    for saved in clean::saved_refs(&layout.checkout.path, &layout.folder)? {
        listed.push(Listed {
            path: layout.folder.join(&saved.env_id).display().to_string(),
            branch: Some(format!("{BRANCH_PREFIX}{}", saved.env_id)),
            env_id: saved.env_id,
            head: Some(saved.commit),
            state: "saved",
            changes: Vec::new(),
            ahead: None,
            base: base.clone(),
            locked: None,
            sessions: Vec::new(),
            merged: None,
            saved_ref: Some(saved.reference),
            restore: Some(saved.restore),
        });
    }
    Ok(Some((listed, base)))
}
