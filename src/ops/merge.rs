//! Bringing a task's branch into its base in the main checkout: a merge
//! commit, one squashed commit, or the commits rebased onto the base. The
//! result is computed first without touching any checkout (`git
//! merge-tree`, `git commit-tree`); only then is the base fast-forwarded to
//! it, which git does completely or not at all. Whatever stands in the way
//! is refused before anything changes.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::landing::{self, Environment, Landed, Machine};
use crate::books::Books;
use crate::books::worktrees::{self, WorktreeBooks, WorktreeRecord};
use crate::config::Config;
use crate::error::bail_input;
use crate::git::{self, MergeTree};
use crate::project::Project;
use crate::task;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Merge,
    Squash,
    Rebase,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Merge => "merge",
            Method::Squash => "squash",
            Method::Rebase => "rebase",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub task: String,
    pub method: Method,
    /// The merge or squash commit's message.
    pub message: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Merge {
    #[serde(flatten)]
    pub environment: Environment,
    pub method: Method,
    pub outcome: Outcome,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum Outcome {
    /// The base now holds the branch's work.
    Merged {
        /// The base's new commit.
        commit: String,
        /// How many of the branch's commits it brought.
        commits: usize,
    },
    /// The work was in the base already.
    AlreadyIn { landed: Landed },
}

/// Merges the task's branch into its base, or refuses (bad input) changing
/// nothing.
pub fn merge(project: &Project, config: &Config, request: &Request) -> Result<Merge> {
    let env = landing::environment(project, config, &request.task)?;
    let refuse = |why: String| -> Result<Merge> {
        bail_input!(
            "not merging {} into {}: {why}; nothing was changed",
            env.branch,
            env.base
        )
    };
    let checkout = env.checkout.display().to_string();
    if env.checkout_branch.as_deref() != Some(env.base.as_str()) {
        let on = env
            .checkout_branch
            .as_deref()
            .map_or("a detached HEAD".to_string(), |b| format!("the branch {b}"));
        return refuse(format!(
            "the main checkout {checkout} is on {on}; switch it first (git -C {checkout} switch {})",
            env.base
        ));
    }
    let landed = landing::landed(
        &env.checkout,
        &env.base_commit,
        &env.head,
        env.fork_point.as_deref(),
    )?;
    if landed.is_landed() {
        return Ok(Merge {
            environment: env,
            method: request.method,
            outcome: Outcome::AlreadyIn { landed },
        });
    }
    let mut dirty: Vec<String> = git::changes(&env.checkout)?
        .into_iter()
        .filter(|line| !line.starts_with("??"))
        .collect();
    dirty.extend(git::hidden_edits(&env.checkout)?);
    if !dirty.is_empty() {
        return refuse(format!(
            "the main checkout {checkout} has uncommitted changes ({}); commit or stash them first",
            some(&dirty)
        ));
    }
    // A dispatch holds this lock until its record is written: one
    // starting now is seen below, or starts after the merge.
    let books = Books::for_project(project)?;
    let _lock = books.worktree_lock(&env.env_id)?;
    let machine = Machine::read(&books)?;
    let live = machine.live_of(&env.env_id, env.worktree.as_deref());
    if !live.is_empty() {
        let names: Vec<String> = live
            .iter()
            .map(|r| format!("{} ({})", r.session_name, r.status))
            .collect();
        return refuse(format!(
            "a run of the task is live: {}; let it end or stop it first (scopecraft-tmux stop {} --mode {})",
            names.join(", "),
            live[0].task_id,
            live[0].mode_name()
        ));
    }
    if let Some(path) = &env.worktree {
        let mut uncommitted = git::changes(path)?;
        uncommitted.extend(git::hidden_edits(path)?);
        if !uncommitted.is_empty() {
            return refuse(format!(
                "its worktree {} has uncommitted work ({}); commit it there (or `scopecraft-tmux diff {}` to see it)",
                path.display(),
                some(&uncommitted),
                env.task_id
            ));
        }
    }
    let title = task::resolve(project, &env.env_id)
        .map(|t| t.title)
        .unwrap_or_default();
    let (commit, branch_moves_to, commits) = match request.method {
        Method::Merge | Method::Squash => {
            let tree = match git::merge_tree(&env.checkout, &env.base_commit, &env.head, None)? {
                MergeTree::Clean { tree } => tree,
                MergeTree::Conflicts { files } => {
                    return refuse(conflicts(&files, &env.base));
                }
            };
            let from = env.fork_point.as_deref().unwrap_or(&env.base_commit);
            let brought = git::commits(&env.checkout, &format!("{from}..{}", env.head))?;
            let commit = if request.method == Method::Merge {
                let message = request
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("Merge {}{}", env.branch, titled(&title)));
                git::commit_tree(
                    &env.checkout,
                    &tree,
                    &[&env.base_commit, &env.head],
                    &message,
                )?
            } else {
                let message = request.message.clone().unwrap_or_else(|| {
                    let mut text = format!("{} (squashed {})", or(&title, &env.env_id), env.branch);
                    text.push_str("\n\n");
                    for commit in &brought {
                        text.push_str(&format!("* {}\n", commit.subject));
                    }
                    text
                });
                git::commit_tree(&env.checkout, &tree, &[&env.base_commit], &message)?
            };
            (commit, None, brought.len())
        }
        Method::Rebase => {
            let (head, count) = rebased(&env, &refuse)?;
            (head.clone(), Some(head), count)
        }
    };
    let in_the_way = untracked_in_the_way(&env.checkout, &env.base_commit, &commit)?;
    if !in_the_way.is_empty() {
        return refuse(format!(
            "the main checkout {checkout} has files git does not track where the merge brings files ({}); move them away first",
            some(&in_the_way)
        ));
    }
    git::fast_forward(&env.checkout, &commit)?;
    if let Some(new_head) = &branch_moves_to {
        // The branch follows its rebased commits; its worktree is clean.
        match &env.worktree {
            Some(path) => git::reset_keep(path, new_head),
            None => git::update_ref(
                &env.checkout,
                &format!("refs/heads/{}", env.branch),
                new_head,
                Some(&env.head),
            ),
        }
        .with_context(|| {
            format!(
                "{} now holds the rebased commits, but {} could not be moved to them",
                env.base, env.branch
            )
        })?;
    }
    record(
        project,
        &env,
        request.method,
        &commit,
        branch_moves_to.as_deref(),
    );
    Ok(Merge {
        environment: env,
        method: request.method,
        outcome: Outcome::Merged { commit, commits },
    })
}

/// The branch's commits replayed onto the base in memory, as `git rebase`
/// would (merge commits left out, commits whose change the base has
/// dropped): the new head and how many commits it has.
fn rebased(env: &Environment, refuse: &dyn Fn(String) -> Result<Merge>) -> Result<(String, usize)> {
    let from = env.fork_point.as_deref().unwrap_or(&env.base_commit);
    let mut head = env.base_commit.clone();
    let mut count = 0;
    for commit in git::commits(&env.checkout, &format!("{from}..{}", env.head))? {
        let [parent] = commit.parents.as_slice() else {
            continue;
        };
        match git::merge_tree(&env.checkout, &head, &commit.sha, Some(parent))? {
            MergeTree::Clean { tree } => {
                if tree == git::tree_of(&env.checkout, &head)? {
                    continue;
                }
                head = git::commit_like(&env.checkout, &tree, &head, &commit)?;
                count += 1;
            }
            MergeTree::Conflicts { files } => {
                refuse(format!(
                    "{} ({}) {}",
                    commit.sha.get(..7).unwrap_or(&commit.sha),
                    commit.subject,
                    conflicts(&files, &env.base)
                ))?;
            }
        }
    }
    Ok((head, count))
}

/// Records the merge in the worktree's books; a failure is a warning (the
/// merge itself is done).
fn record(
    project: &Project,
    env: &Environment,
    method: Method,
    commit: &str,
    branch_head: Option<&str>,
) {
    let written = (|| {
        let books = WorktreeBooks::for_project(project)?;
        let mut record = env.record.clone().unwrap_or_else(|| {
            let path = env.worktree.clone().unwrap_or_default();
            let mut record = WorktreeRecord::new(project, &env.env_id, &path, &env.branch);
            record.base = Some(env.base.clone());
            record
        });
        record.merged = Some(worktrees::Merged {
            into: env.base.clone(),
            method: method.as_str().to_string(),
            commit: commit.to_string(),
            branch_head: branch_head.unwrap_or(&env.head).to_string(),
            time: crate::books::now(),
        });
        books.write(&record)
    })();
    if let Err(err) = written {
        eprintln!("scopecraft-tmux: warning: could not record the merge in the books: {err:#}");
    }
}

/// The files `commit` adds to `base` that the checkout at `dir` already
/// has untracked or ignored (or a path that is a file where the commit
/// needs a folder): git would refuse to overwrite the first and silently
/// overwrite the second, and either holds something of the user's.
fn untracked_in_the_way(dir: &Path, base: &str, commit: &str) -> Result<Vec<String>> {
    let added = git::diff(
        dir,
        &[
            "--name-only",
            "--no-renames",
            "--diff-filter=A",
            "-z",
            base,
            commit,
            "--",
        ],
    )?;
    let mut in_the_way = Vec::new();
    for path in added.split('\0').filter(|p| !p.is_empty()) {
        let relative = Path::new(path);
        let blocked = relative.ancestors().skip(1).find(|folder| {
            !folder.as_os_str().is_empty()
                && dir
                    .join(folder)
                    .symlink_metadata()
                    .is_ok_and(|meta| !meta.is_dir())
        });
        if let Some(folder) = blocked {
            in_the_way.push(folder.display().to_string());
        } else if dir.join(relative).symlink_metadata().is_ok() {
            in_the_way.push(path.to_string());
        }
    }
    in_the_way.dedup();
    Ok(in_the_way)
}

fn conflicts(files: &[String], base: &str) -> String {
    format!(
        "would conflict in {} file(s): {}; merge {base} into the branch in its worktree, resolve them there, then merge again",
        files.len(),
        files.join(", ")
    )
}

/// The first few lines of a list, for a one-line message.
fn some(lines: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = lines
        .iter()
        .take(SHOWN)
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(", ");
    if lines.len() > SHOWN {
        text.push_str(&format!(", … {} more", lines.len() - SHOWN));
    }
    text
}

fn titled(title: &str) -> String {
    if title.is_empty() {
        String::new()
    } else {
        format!(": {title}")
    }
}

fn or<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.is_empty() { fallback } else { text }
}
