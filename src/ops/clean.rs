//! Removing task worktrees without losing work: a worktree goes when no
//! live session of any project uses it and nothing in it exists only
//! there. Its branch's commits count as kept when another branch or a
//! remote has them, or when they landed in the base (merged,
//! cherry-picked, rebased or squashed). `force` removes the rest, after
//! saving it under `refs/scopecraft/saved/<env-id>/<time>`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use super::landing::{Landed, Machine, landed};
use crate::books::Books;
use crate::books::worktrees::WorktreeBooks;
use crate::config::Config;
use crate::error::bail_input;
use crate::git;
use crate::names;
use crate::project::Project;
use crate::task;
use crate::worktree::{BRANCH_PREFIX, Layout, Ours};

/// Where `clean --force` keeps what it removes.
pub const SAVED_PREFIX: &str = "refs/scopecraft/saved/";

#[derive(Debug, Clone)]
pub struct Request {
    /// Only this task's worktree (a subtask's is its parent's).
    pub task: Option<String>,
    pub force: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Not in a git repository: nothing to clean.
    pub outside_git: bool,
    /// The task asked for is a subtask: this says whose worktree is cleaned.
    pub subtask_note: Option<String>,
    pub worktrees: Vec<Cleaned>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cleaned {
    pub env_id: String,
    pub path: PathBuf,
    pub outcome: Outcome,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum Outcome {
    Removed {
        branch: Branch,
        /// How its commits are in the base, when it had commits of its own.
        landed: Option<Landed>,
        /// What `force` saved before removing it.
        saved: Option<Saved>,
    },
    /// A live session (of any project) works in it.
    InUse {
        sessions: Vec<String>,
        /// `scopecraft-tmux stop …` for the first, when it is this project's.
        stop: Option<String>,
    },
    /// `git worktree lock`ed.
    Locked {
        reason: String,
    },
    /// A git command holds its index lock.
    IndexLocked {
        lock: PathBuf,
    },
    /// Removing it would lose this.
    Work(Work),
    /// Another project made or uses it (they share the worktrees folder).
    Theirs {
        projects: Vec<PathBuf>,
    },
    Failed {
        error: String,
    },
}

/// What exists only in a worktree.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Work {
    /// `git status --short` lines, untracked files included.
    pub changes: Vec<String>,
    /// Edited files that `--assume-unchanged` or `--skip-worktree` hide.
    pub hidden: Vec<String>,
    /// Files git ignores that are not build output (`.env`, notes).
    pub ignored: Vec<String>,
    /// Commits on no other branch, no remote, and not in the base.
    pub commits: Vec<String>,
}

impl Work {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
            && self.hidden.is_empty()
            && self.ignored.is_empty()
            && self.commits.is_empty()
    }

    fn uncommitted(&self) -> bool {
        !(self.changes.is_empty() && self.hidden.is_empty() && self.ignored.is_empty())
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "fate", content = "name")]
pub enum Branch {
    Deleted(String),
    /// Not a `task/` branch: kept.
    NotOurs(String),
    /// The branch and why it could not be deleted.
    DeleteFailed(String, String),
    Detached,
}

/// Work `force` saved: a ref, and the commands that bring it back.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    pub reference: String,
    pub restore: String,
}

/// Cleans the project's task worktrees (or the one of `request.task`).
pub fn clean(project: &Project, config: &Config, request: &Request) -> Result<Report> {
    let books = Books::for_project(project)?;
    let Some(layout) = Layout::read(project, config)? else {
        if let Some(task) = &request.task {
            bail_input!(
                "no worktree for {task}: {} is not in a git repository",
                project.root.display()
            );
        }
        return Ok(Report {
            outside_git: true,
            subtask_note: None,
            worktrees: Vec::new(),
        });
    };
    let mut selected = layout.ours();
    let mut subtask_note = None;
    if let Some(task) = &request.task {
        names::check_task_id(task)?;
        // A task deleted since is named by its environment id.
        let env_id = match task::resolve(project, task) {
            Ok(found) => {
                if let Some(parent) = &found.parent {
                    subtask_note = Some(format!(
                        "task {} is a subtask of {parent} and shares its worktree: cleaning {parent}'s worktree (branch task/{parent})",
                        found.id
                    ));
                }
                found.environment_id().to_string()
            }
            Err(_) => task.clone(),
        };
        selected.retain(|ours| ours.env_id == env_id);
        if selected.is_empty() {
            bail_input!(
                "no worktree for task {task} (its worktree would be {}); `scopecraft-tmux worktree list` shows them",
                layout.folder.join(&env_id).display()
            );
        }
    }
    let machine = Machine::read(&books)?;
    let mut worktrees = Vec::new();
    for ours in selected {
        let owners = machine.owners_elsewhere(project, &ours.env_id, &ours.worktree.path)?;
        if !owners.is_empty() {
            // Another project's: named, it is said; otherwise left quietly.
            if request.task.is_some() {
                worktrees.push(Cleaned {
                    env_id: ours.env_id,
                    path: ours.worktree.path,
                    outcome: Outcome::Theirs { projects: owners },
                });
            }
            continue;
        }
        let outcome =
            clean_one(project, &books, &layout, &ours, request.force).unwrap_or_else(|err| {
                Outcome::Failed {
                    error: format!("{err:#}"),
                }
            });
        worktrees.push(Cleaned {
            env_id: ours.env_id,
            path: ours.worktree.path,
            outcome,
        });
    }
    // The worktrees folder goes with its last worktree.
    let _ = std::fs::remove_dir(&layout.folder);
    Ok(Report {
        outside_git: false,
        subtask_note,
        worktrees,
    })
}

fn clean_one(
    project: &Project,
    books: &Books,
    layout: &Layout,
    ours: &Ours,
    force: bool,
) -> Result<Outcome> {
    let Ours { env_id, worktree } = ours;
    let path = &worktree.path;
    let repo = &layout.checkout.path;
    // Under the lock a dispatch holds until its record is written, of
    // every project (one of the same repository may use the worktree): a
    // session starting now is seen, or finds the worktree gone and makes
    // it again. No session lock is taken while they are held.
    let _locks = lock_everywhere(books, env_id)?;
    let machine = Machine::read(books)?;
    let live = machine.live_in(path);
    if let Some(first) = live.first() {
        let stop = (first.project_root.as_ref() == Some(&project.root)
            || first.project_root.is_none())
        .then(|| {
            format!(
                "scopecraft-tmux stop {} --mode {}",
                first.task_id,
                first.mode_name()
            )
        });
        return Ok(Outcome::InUse {
            sessions: live
                .iter()
                .map(|r| format!("{} ({})", r.session_name, r.status))
                .collect(),
            stop,
        });
    }
    if let Some(reason) = &worktree.locked {
        return Ok(Outcome::Locked {
            reason: reason.clone(),
        });
    }
    if !force && let Some(lock) = git::held_index_lock(path) {
        return Ok(Outcome::IndexLocked { lock });
    }
    let worktree_books = WorktreeBooks::for_project(project)?;
    let record = worktree_books.read(env_id)?;
    let mut work = Work::default();
    if !worktree.missing {
        work.changes = git::changes(path)?;
        work.hidden = git::hidden_edits(path)?;
        work.ignored = git::ignored(path)?
            .into_iter()
            .filter(|p| !is_build_output(p))
            .collect();
    }
    let mut how = None;
    if let Some(head) = &worktree.head {
        let unique = git::unique_commits(repo, head, worktree.branch.as_deref())?;
        if !unique.is_empty() {
            let base = record
                .as_ref()
                .and_then(|r| r.base.clone())
                .filter(|b| {
                    git::commit_of(repo, &format!("refs/heads/{b}")).is_ok_and(|c| c.is_some())
                })
                .unwrap_or_else(|| layout.base_name());
            let fork = git::merge_base(repo, &base, head)?;
            let found = landed(repo, &base, head, fork.as_deref())?;
            if !found.is_landed() {
                work.commits = unique;
            }
            how = Some(found);
        }
    }
    if !force && !work.is_empty() {
        return Ok(Outcome::Work(work));
    }
    let saved = if work.is_empty() {
        None
    } else {
        Some(save(repo, env_id, worktree, &work)?)
    };
    git::remove_worktree(repo, path, work.uncommitted())?;
    let branch = match (&worktree.branch, &worktree.head) {
        (Some(branch), Some(head)) if branch.starts_with(BRANCH_PREFIX) => {
            match git::delete_branch(repo, branch, head) {
                Ok(()) => Branch::Deleted(branch.clone()),
                Err(err) => Branch::DeleteFailed(branch.clone(), format!("{err:#}")),
            }
        }
        (Some(branch), _) => Branch::NotOurs(branch.clone()),
        (None, _) => Branch::Detached,
    };
    if record.is_some() {
        let _ = worktree_books.remove(env_id);
    }
    Ok(Outcome::Removed {
        branch,
        landed: how,
        saved,
    })
}

/// The worktree locks of `env_id` in every project's books on this
/// machine, taken in the order of their folders so that two cleans never
/// wait for each other.
fn lock_everywhere(books: &Books, env_id: &str) -> Result<Vec<crate::books::KeyLock>> {
    let mut all = crate::books::all_projects()?;
    all.push(books.clone());
    all.sort_by(|a, b| a.dir().cmp(b.dir()));
    all.dedup_by(|a, b| a.dir() == b.dir());
    all.iter()
        .map(|books| books.worktree_lock(env_id))
        .collect()
}

/// Saves what `force` is about to remove: the worktree's files (ignored
/// ones that are not build output included) as a stash-like commit on
/// its HEAD, or HEAD itself when only commits would be lost.
fn save(repo: &Path, env_id: &str, worktree: &git::Worktree, work: &Work) -> Result<Saved> {
    let path = &worktree.path;
    let branch = worktree
        .branch
        .clone()
        .unwrap_or_else(|| format!("{BRANCH_PREFIX}{env_id}"));
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(['-', ':'], "");
    let reference = format!("{SAVED_PREFIX}{env_id}/{stamp}");
    let (commit, restore) = if work.uncommitted() && !worktree.missing {
        let snapshot = git::snapshot(path, &work.ignored)?;
        let head = snapshot.head.as_str();
        let index = git::commit_tree(
            repo,
            &snapshot.index_tree,
            &[head],
            &format!("index on {branch}"),
        )?;
        let saved = git::commit_tree(
            repo,
            &snapshot.work_tree,
            &[head, &index],
            &format!(
                "{STASH_SUBJECT} {branch} in {}, saved by worktree clean --force",
                path.display()
            ),
        )?;
        (saved, restore_command(&reference, &branch, path, true))
    } else {
        let head = worktree.head.clone().unwrap_or_else(|| "HEAD".to_string());
        (head, restore_command(&reference, &branch, path, false))
    };
    git::update_ref(repo, &reference, &commit, None)?;
    Ok(Saved { reference, restore })
}

/// How a saved commit of uncommitted work starts its message.
const STASH_SUBJECT: &str = "scopecraft-tmux: uncommitted work of";

/// The commands that bring saved work back into a worktree at `path`:
/// the branch at the saved commit, and the uncommitted files on top
/// (`git stash apply` takes the stash-like commit).
pub fn restore_command(reference: &str, branch: &str, path: &Path, stash_like: bool) -> String {
    let path = shell_words::quote(&path.to_string_lossy()).into_owned();
    if stash_like {
        format!(
            "git worktree add -b {branch} {path} {reference}^1 && git -C {path} stash apply {reference}"
        )
    } else {
        format!("git worktree add -b {branch} {path} {reference}")
    }
}

/// A path (`name/` for a folder) that holds what a build or a tool makes
/// again: removing it loses no one's work.
pub fn is_build_output(path: &str) -> bool {
    const FOLDERS: &[&str] = &[
        "target",
        "node_modules",
        "dist",
        "build",
        "out",
        "obj",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".next",
        ".nuxt",
        ".svelte-kit",
        ".turbo",
        ".parcel-cache",
        ".cache",
        "coverage",
        ".gradle",
        ".tox",
        ".direnv",
        ".terraform",
    ];
    const SUFFIXES: &[&str] = &[
        ".o",
        ".a",
        ".so",
        ".dylib",
        ".dll",
        ".exe",
        ".obj",
        ".pyc",
        ".pyo",
        ".class",
        ".log",
        ".egg-info",
    ];
    const FILES: &[&str] = &[".DS_Store", "Thumbs.db"];
    let trimmed = path.trim_end_matches('/');
    trimmed.split('/').any(|part| FOLDERS.contains(&part))
        || SUFFIXES.iter().any(|suffix| trimmed.ends_with(suffix))
        || trimmed
            .rsplit('/')
            .next()
            .is_some_and(|name| FILES.contains(&name))
}

/// A ref `clean --force` saved, for `worktree list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedRef {
    pub env_id: String,
    pub reference: String,
    pub commit: String,
    pub date: String,
    pub subject: String,
    /// Restores it as the task's worktree in `folder`.
    pub restore: String,
}

/// The refs `clean --force` saved in the repository at `repo`; `folder`
/// holds the task worktrees.
pub fn saved_refs(repo: &Path, folder: &Path) -> Result<Vec<SavedRef>> {
    Ok(git::refs_under(repo, SAVED_PREFIX)?
        .into_iter()
        .map(|[reference, commit, date, subject]| {
            let env_id = reference
                .strip_prefix(SAVED_PREFIX)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default()
                .to_string();
            let restore = restore_command(
                &reference,
                &format!("{BRANCH_PREFIX}{env_id}"),
                &folder.join(&env_id),
                subject.starts_with(STASH_SUBJECT),
            );
            SavedRef {
                env_id,
                reference,
                commit,
                date,
                subject,
                restore,
            }
        })
        .collect())
}

/// How a cleaned worktree counts in the command's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    Removed,
    /// Kept because removing it would lose work (or a lock says so).
    KeptForWork,
    /// Kept for a live session or another project.
    InUse,
    Failed,
}

/// Lines of a list shown before "… and N more".
const SHOWN: usize = 20;

impl Cleaned {
    /// What happened to the worktree, in sentences for people, and how it
    /// counts.
    pub fn said(&self) -> (Vec<String>, Tally) {
        let path = self.path.display();
        let mut lines = Vec::new();
        let tally = match &self.outcome {
            Outcome::Removed {
                branch,
                landed,
                saved,
            } => {
                if let Some(saved) = saved {
                    lines.push(format!(
                        "saved what {path} held only there as {}; to restore it: {}",
                        saved.reference, saved.restore
                    ));
                }
                let how = landed
                    .as_ref()
                    .filter(|l| l.is_landed())
                    .map(|l| format!(" ({})", l.describe()))
                    .unwrap_or_default();
                lines.push(match branch {
                    Branch::Deleted(name) => format!("removed {path} and its branch {name}{how}"),
                    Branch::DeleteFailed(name, error) => {
                        format!("removed {path}, but could not delete its branch {name}: {error}")
                    }
                    Branch::NotOurs(name) => {
                        format!("removed {path} (its branch {name} is not a task branch: kept)")
                    }
                    Branch::Detached => format!("removed {path}"),
                });
                if matches!(branch, Branch::DeleteFailed(..)) {
                    Tally::Failed
                } else {
                    Tally::Removed
                }
            }
            Outcome::InUse { sessions, stop } => {
                let stop = stop
                    .as_ref()
                    .map(|stop| format!("; stop it first ({stop})"))
                    .unwrap_or_else(|| "; it ends by itself, or stop it first".to_string());
                lines.push(format!(
                    "kept {path}: in use by {}{stop}",
                    sessions.join(", ")
                ));
                Tally::InUse
            }
            Outcome::Locked { reason } => {
                let reason = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({reason})")
                };
                lines.push(format!(
                    "kept {path}: locked with git worktree lock{reason}; unlock it first (git worktree unlock {path})"
                ));
                Tally::KeptForWork
            }
            Outcome::IndexLocked { lock } => {
                lines.push(format!(
                    "kept {path}: a git command holds its index lock {}; let it finish (or, if none runs, remove the stale lock)",
                    lock.display()
                ));
                Tally::KeptForWork
            }
            Outcome::Work(work) => {
                lines.extend(work.said(&path.to_string(), &self.env_id));
                Tally::KeptForWork
            }
            Outcome::Theirs { projects } => {
                let projects: Vec<String> =
                    projects.iter().map(|p| p.display().to_string()).collect();
                lines.push(format!(
                    "kept {path}: it belongs to the project {} (the projects share the worktrees folder); clean it from there",
                    projects.join(", ")
                ));
                Tally::InUse
            }
            Outcome::Failed { error } => {
                lines.push(format!("could not remove {path}: {error}"));
                Tally::Failed
            }
        };
        (lines, tally)
    }
}

impl Work {
    /// What a kept worktree holds that exists nowhere else, and what to do.
    fn said(&self, path: &str, env_id: &str) -> Vec<String> {
        let mut lines = vec![format!("kept {path}: removing it would lose")];
        let mut part = |title: String, items: &[String]| {
            if items.is_empty() {
                return;
            }
            lines.push(format!("  {title}:"));
            lines.extend(items.iter().take(SHOWN).map(|item| format!("    {item}")));
            if items.len() > SHOWN {
                lines.push(format!("    … and {} more", items.len() - SHOWN));
            }
        };
        part(
            format!(
                "uncommitted changes ({}, untracked files included)",
                self.changes.len()
            ),
            &self.changes,
        );
        part(
            format!(
                "edits git status does not show (--assume-unchanged or --skip-worktree) ({})",
                self.hidden.len()
            ),
            &self.hidden,
        );
        part(
            format!(
                "files git ignores that are not build output ({})",
                self.ignored.len()
            ),
            &self.ignored,
        );
        part(
            format!(
                "commits on no other branch, no remote, and not in the base ({})",
                self.commits.len()
            ),
            &self.commits,
        );
        let advice = if self.commits.is_empty() {
            "keep or commit what you need"
        } else if self.changes.is_empty() && self.hidden.is_empty() {
            "merge it (scopecraft-tmux merge) or push the branch"
        } else {
            "commit the changes, then merge it (scopecraft-tmux merge) or push the branch"
        };
        lines.push(format!(
            "  {advice}, or remove it anyway, saving all of it under {SAVED_PREFIX}{env_id}/: scopecraft-tmux worktree clean {env_id} --force"
        ));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_output_is_told_from_work() {
        for path in [
            "target/",
            "web/node_modules/",
            "src/__pycache__/",
            "a/b.pyc",
            "main.o",
            ".DS_Store",
        ] {
            assert!(is_build_output(path), "{path}");
        }
        for path in [".env", "notes.local.md", "secrets/", "src/targets.rs"] {
            assert!(!is_build_output(path), "{path}");
        }
    }
}
