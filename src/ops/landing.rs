//! What `diff`, `merge` and `worktree clean` share: a task's environment
//! (its branch, worktree and the base it left), whether its work has
//! landed in that base, and which sessions of any project on this machine
//! use a worktree.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::books::worktrees::{self, WorktreeBooks, WorktreeRecord};
use crate::books::{self, Books, Record};
use crate::config::Config;
use crate::error::bail_input;
use crate::git;
use crate::names;
use crate::project::Project;
use crate::task;
use crate::worktree::{Layout, branch_name, canonical};

/// A task's environment: the branch and worktree its agent works on, and
/// the branch that work goes back to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    /// The task asked for.
    pub task_id: String,
    pub env_id: String,
    /// Set when the task is a subtask: its parent, whose worktree and
    /// branch it shares.
    pub subtask_of: Option<String>,
    pub branch: String,
    /// The branch's commit.
    pub head: String,
    /// The worktree, when it exists.
    pub worktree: Option<PathBuf>,
    /// The checkout holding the project (normally the main one).
    pub checkout: PathBuf,
    /// The branch it has checked out; `None` when detached.
    pub checkout_branch: Option<String>,
    /// The branch the work goes back to: the one recorded when the
    /// worktree was made, else the checkout's.
    pub base: String,
    pub base_commit: String,
    /// Where the branch left its base.
    pub fork_point: Option<String>,
    #[serde(skip)]
    pub record: Option<WorktreeRecord>,
}

impl Environment {
    /// "task 01_part-1 is a subtask of auth-11A: …" for messages.
    pub fn subtask_note(&self, what: &str) -> Option<String> {
        self.subtask_of.as_ref().map(|parent| {
            format!(
                "task {} is a subtask of {parent} and shares its worktree: {what} {parent}'s branch {}",
                self.task_id, self.branch
            )
        })
    }
}

/// Finds the environment of `task` (a subtask's is its parent's). Bad
/// input when the task is unknown or its branch does not exist.
pub fn environment(project: &Project, config: &Config, task: &str) -> Result<Environment> {
    names::check_task_id(task)?;
    let resolved = task::resolve(project, task);
    let (env_id, subtask_of) = match &resolved {
        Ok(found) => (
            found.environment_id().to_string(),
            found
                .parent
                .clone()
                .filter(|_| found.id != found.environment_id()),
        ),
        // A task deleted since is named by its environment id.
        Err(_) => (task.to_string(), None),
    };
    let Some(layout) = Layout::read(project, config)? else {
        bail_input!(
            "task {task} has no branch: {} is not in a git repository",
            project.root.display()
        );
    };
    let checkout = layout.checkout.path.clone();
    let worktree = layout
        .ours()
        .into_iter()
        .find(|ours| ours.env_id == env_id && !ours.worktree.missing)
        .map(|ours| ours.worktree);
    let branch = worktree
        .as_ref()
        .and_then(|w| w.branch.clone())
        .unwrap_or_else(|| branch_name(&env_id));
    let Some(head) = git::commit_of(&checkout, &format!("refs/heads/{branch}"))? else {
        resolved?;
        bail_input!(
            "task {task} has no branch {branch}: dispatch makes it with the task's worktree, \
             and `worktree clean` removes it once its work has landed"
        );
    };
    let record = WorktreeBooks::for_project(project)?.read(&env_id)?;
    let (base, base_commit) = base_of(&layout, record.as_ref())?;
    let fork_point = fork_point(
        &checkout,
        &base_commit,
        &head,
        record.as_ref().and_then(|r| r.fork_point.as_deref()),
    )?;
    Ok(Environment {
        task_id: task.to_string(),
        env_id,
        subtask_of,
        branch,
        head,
        worktree: worktree.map(|w| w.path),
        checkout,
        checkout_branch: layout.checkout.branch,
        base,
        base_commit,
        fork_point,
        record,
    })
}

/// The base branch and its commit: the recorded one while it exists,
/// else the checkout's branch (its commit when detached).
fn base_of(layout: &Layout, record: Option<&WorktreeRecord>) -> Result<(String, String)> {
    let checkout = &layout.checkout.path;
    if let Some(base) = record.and_then(|r| r.base.as_deref())
        && let Some(commit) = git::commit_of(checkout, &format!("refs/heads/{base}"))?
    {
        return Ok((base.to_string(), commit));
    }
    let base = layout.base_name();
    match &layout.checkout.head {
        Some(head) => Ok((base, head.clone())),
        None => bail_input!(
            "{} has no commits yet: there is no branch to compare with",
            checkout.display()
        ),
    }
}

/// Where `head` left `base`: their merge base, or the recorded fork point
/// when it is later than that (the base was rewritten since).
fn fork_point(
    dir: &Path,
    base: &str,
    head: &str,
    recorded: Option<&str>,
) -> Result<Option<String>> {
    let merge_base = git::merge_base(dir, base, head)?;
    if let Some(recorded) = recorded
        && git::commit_of(dir, recorded)?.is_some()
        && git::is_ancestor(dir, recorded, head)?
    {
        let later = match &merge_base {
            Some(merge_base) => git::is_ancestor(dir, merge_base, recorded)?,
            None => true,
        };
        if later {
            return Ok(Some(recorded.to_string()));
        }
    }
    Ok(merge_base)
}

/// How a branch's commits are in its base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "how", content = "commits")]
pub enum Landed {
    /// The base contains the branch's commit (a merge, a fast-forward).
    Ancestry,
    /// Each commit's patch is in the base (cherry-picked, rebased).
    Patches,
    /// The branch's whole change is one commit of the base (a squash).
    Squashed,
    /// Not landed: these commits (`<short sha> <subject>`) are not in it.
    No(Vec<String>),
}

impl Landed {
    pub fn is_landed(&self) -> bool {
        !matches!(self, Landed::No(_))
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Landed::Ancestry => "merged",
            Landed::Patches => "its commits were cherry-picked or rebased",
            Landed::Squashed => "squash-merged",
            Landed::No(_) => "not merged",
        }
    }
}

/// Whether `head`'s work is in `base`: by ancestry, by each commit's patch
/// (`git cherry`), or as one squashed commit (the branch's change since
/// `fork` as a single patch, compared the same way).
pub fn landed(dir: &Path, base: &str, head: &str, fork: Option<&str>) -> Result<Landed> {
    if git::is_ancestor(dir, head, base)? {
        return Ok(Landed::Ancestry);
    }
    let commits = git::cherry(dir, base, head)?;
    if commits.iter().all(|(_, in_base)| *in_base) {
        return Ok(Landed::Patches);
    }
    if let Some(fork) = fork {
        let tree = git::tree_of(dir, head)?;
        let probe = git::commit_tree(dir, &tree, &[fork], "scopecraft-tmux squash probe")?;
        if git::cherry(dir, base, &probe)?
            .iter()
            .all(|(_, in_base)| *in_base)
        {
            return Ok(Landed::Squashed);
        }
    }
    let missing: Vec<String> = commits
        .into_iter()
        .filter(|(_, in_base)| !in_base)
        .map(|(sha, _)| sha)
        .collect();
    let described = git::commits(dir, &format!("{base}..{head}"))?
        .into_iter()
        .rev()
        .filter(|c| missing.contains(&c.sha))
        .map(|c| format!("{} {}", c.sha.get(..7).unwrap_or(&c.sha), c.subject))
        .collect();
    Ok(Landed::No(described))
}

/// Whether the session works in the worktree at `path` (resolved). The
/// record's paths are resolved too: one written before its worktree
/// existed may name it through a symlink.
pub fn uses(record: &Record, path: &Path) -> bool {
    record
        .worktree
        .as_ref()
        .is_some_and(|w| w.path == path || canonical(&w.path) == path)
        || record
            .workdir
            .as_ref()
            .is_some_and(|dir| dir.starts_with(path) || canonical(dir).starts_with(path))
}

/// Every project's session records on this machine (under
/// `SCOPECRAFT_HOME`), each with whether it is this project's.
pub struct Machine {
    records: Vec<(bool, Record)>,
}

impl Machine {
    pub fn read(books: &Books) -> Result<Machine> {
        let mut records = Vec::new();
        for other in books::all_projects()? {
            if other.dir() == books.dir() {
                continue;
            }
            records.extend(other.list_raw(false)?.into_iter().map(|r| (false, r)));
        }
        records.extend(books.list_raw(false)?.into_iter().map(|r| (true, r)));
        Ok(Machine { records })
    }

    /// The sessions of any project that run now in the worktree at `path`.
    pub fn live_in(&self, path: &Path) -> Vec<&Record> {
        self.records
            .iter()
            .map(|(_, record)| record)
            .filter(|record| books::runs_now(record) && uses(record, path))
            .collect()
    }

    /// The live sessions of environment `env_id`: this project's runs of
    /// the task or its subtasks wherever they work, and any project's runs
    /// in its worktree at `path`.
    pub fn live_of(&self, env_id: &str, path: Option<&Path>) -> Vec<&Record> {
        self.records
            .iter()
            .filter(|(own, record)| {
                (*own && (record.task_id == env_id || record.parent_id.as_deref() == Some(env_id)))
                    || path.is_some_and(|path| uses(record, path))
            })
            .map(|(_, record)| record)
            .filter(|record| books::runs_now(record))
            .collect()
    }

    /// The other projects (their roots) that made or used the worktree at
    /// `path`, when `project` did neither: it is theirs, not ours. Empty
    /// when it is ours, or nobody's we know of (made by hand or by
    /// Scopecraft itself).
    pub fn owners_elsewhere(
        &self,
        project: &Project,
        env_id: &str,
        path: &Path,
    ) -> Result<Vec<PathBuf>> {
        let ours = WorktreeBooks::for_project(project)?.claims(env_id, path)
            || self
                .records
                .iter()
                .any(|(own, record)| *own && uses(record, path));
        if ours {
            return Ok(Vec::new());
        }
        let mut roots = worktrees::claimed_elsewhere(project, env_id, path)?;
        roots.extend(
            self.records
                .iter()
                .filter(|(own, record)| !own && uses(record, path))
                .filter_map(|(_, record)| record.project_root.clone()),
        );
        roots.sort();
        roots.dedup();
        Ok(roots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::books;

    fn record_in(worktree: &Path, workdir: &Path) -> Record {
        serde_json::from_value(serde_json::json!({
            "sessionName": "fix-11A-implementation",
            "taskId": "fix-11A",
            "status": "running",
            "startTime": books::now(),
            "execType": "detached",
            "worktree": { "path": worktree, "branch": "task/fix-11A" },
            "workdir": workdir,
        }))
        .unwrap()
    }

    #[test]
    fn a_record_naming_its_worktree_through_a_symlink_uses_it() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join("real/wt/fix-11A/project")).unwrap();
        std::fs::create_dir_all(top.join("real/wt/other-11A")).unwrap();
        std::os::unix::fs::symlink(top.join("real"), top.join("link")).unwrap();
        let through_link = top.join("link/wt/fix-11A");
        let record = record_in(&through_link, &through_link.join("project"));
        assert!(uses(&record, &top.join("real/wt/fix-11A")));
        assert!(!uses(&record, &top.join("real/wt/other-11A")));
        // Only the workdir names it (a record from before worktrees).
        let mut record = record;
        record.worktree = None;
        assert!(uses(&record, &top.join("real/wt/fix-11A")));
    }
}
