//! Every git command the program runs, each one `git -C <dir> …` process
//! started through [`crate::process`]: finding the repository, listing,
//! adding and removing worktrees, and asking what a worktree holds that
//! exists nowhere else.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::process::{self, Cmd};

/// `git -C dir`, deaf to a `GIT_DIR` or `GIT_WORK_TREE` inherited from a
/// hook or another tool, so the repository is always the one at `dir`.
/// `GIT_OPTIONAL_LOCKS=0` keeps `status` from taking the index lock of a
/// worktree an agent is working in.
fn git(dir: &Path) -> Cmd {
    process::cmd("git")
        .arg("-C")
        .arg(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_COMMON_DIR")
        .env("GIT_OPTIONAL_LOCKS", "0")
}

/// The directory holding `.git` at or above `dir`, found without starting
/// git (dispatch's hot path); `None` outside a git repository.
pub fn repository_root(dir: &Path) -> Option<&Path> {
    dir.ancestors().find(|d| d.join(".git").exists())
}

/// The main checkout of the linked worktree at `dir`, from
/// `git rev-parse --git-common-dir`. `None` when git cannot tell (not a
/// worktree, a bare repository, git missing).
pub fn main_checkout_of(dir: &Path) -> Option<PathBuf> {
    let common = git(dir)
        .args(["rev-parse", "--path-format=absolute", "--git-common-dir"])
        .output()
        .ok()?;
    let common = PathBuf::from(common.trim_end_matches(['\n', '\r']));
    if common.file_name()? != ".git" {
        return None;
    }
    common.parent()?.canonicalize().ok()
}

/// One entry of `git worktree list --porcelain`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Worktree {
    pub path: PathBuf,
    /// The checked-out commit; `None` in a repository without commits.
    pub head: Option<String>,
    /// The checked-out branch without `refs/heads/`; `None` when detached.
    pub branch: Option<String>,
    pub bare: bool,
    /// `git worktree lock`ed, with the reason given (maybe empty).
    pub locked: Option<String>,
    /// Its directory is gone (deleted by hand); git still lists it.
    pub missing: bool,
}

/// Every worktree of the repository at `dir`, the main one first.
pub fn worktrees(dir: &Path) -> Result<Vec<Worktree>> {
    let text = git(dir)
        .args(["worktree", "list", "--porcelain"])
        .output()
        .with_context(|| format!("listing the git worktrees of {}", dir.display()))?;
    Ok(parse_worktrees(&text))
}

fn parse_worktrees(text: &str) -> Vec<Worktree> {
    let mut list: Vec<Worktree> = Vec::new();
    for line in text.lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        if key == "worktree" {
            list.push(Worktree {
                path: PathBuf::from(value),
                ..Worktree::default()
            });
            continue;
        }
        let Some(entry) = list.last_mut() else {
            continue;
        };
        match key {
            "HEAD" => {
                entry.head = Some(value.to_string()).filter(|h| !h.bytes().all(|b| b == b'0'));
            }
            "branch" => {
                entry.branch = Some(
                    value
                        .strip_prefix("refs/heads/")
                        .unwrap_or(value)
                        .to_string(),
                );
            }
            "bare" => entry.bare = true,
            "locked" => entry.locked = Some(value.to_string()),
            "prunable" => entry.missing = true,
            _ => {}
        }
    }
    list
}

/// Where a branch of that name exists: locally, and on which remotes.
#[derive(Debug, Default)]
pub struct BranchRefs {
    /// The local branch's commit.
    pub local: Option<String>,
    /// `(remote/branch, commit)` for each remote-tracking branch.
    pub remote: Vec<(String, String)>,
}

/// Looks up `branch` locally and on every remote, in one call.
pub fn find_branch(dir: &Path, branch: &str) -> Result<BranchRefs> {
    let text = git(dir)
        .args(["for-each-ref", "--format=%(objectname) %(refname)"])
        .arg(format!("refs/heads/{branch}"))
        .arg(format!("refs/remotes/*/{branch}"))
        .output()
        .with_context(|| format!("looking for the branch {branch}"))?;
    let mut refs = BranchRefs::default();
    for line in text.lines() {
        let Some((sha, name)) = line.split_once(' ') else {
            continue;
        };
        if name == format!("refs/heads/{branch}") {
            refs.local = Some(sha.to_string());
        } else if let Some(remote) = name.strip_prefix("refs/remotes/")
            && remote.ends_with(&format!("/{branch}"))
        {
            refs.remote.push((remote.to_string(), sha.to_string()));
        }
    }
    Ok(refs)
}

/// What a new worktree checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkout {
    /// An existing local branch.
    Branch(String),
    /// A new branch at `start` (a commit or a remote-tracking branch,
    /// which it then tracks).
    NewBranch {
        branch: String,
        start: String,
        track: bool,
    },
}

/// `git worktree add`: one call. Git makes the directory (and its parents).
pub fn add_worktree(dir: &Path, path: &Path, checkout: &Checkout) -> Result<()> {
    let mut cmd = git(dir).args(["worktree", "add", "--quiet"]);
    cmd = match checkout {
        Checkout::Branch(branch) => cmd.arg("--").arg(path).arg(branch),
        Checkout::NewBranch {
            branch,
            start,
            track,
        } => {
            if *track {
                cmd = cmd.arg("--track");
            }
            cmd.arg("-b").arg(branch).arg("--").arg(path).arg(start)
        }
    };
    cmd.output()?;
    Ok(())
}

/// `git worktree remove`; without `force` git itself refuses a worktree
/// with changes, a second safeguard behind ours.
pub fn remove_worktree(dir: &Path, path: &Path, force: bool) -> Result<()> {
    let mut cmd = git(dir).args(["worktree", "remove"]);
    if force {
        cmd = cmd.arg("--force");
    }
    cmd.arg("--").arg(path).output()?;
    Ok(())
}

/// `git worktree prune`: forgets worktrees whose directory is gone.
pub fn prune_worktrees(dir: &Path) -> Result<()> {
    git(dir).args(["worktree", "prune"]).output()?;
    Ok(())
}

/// Deletes `refs/heads/<branch>` only while it still points at
/// `expected`: work committed after we looked is never dropped.
pub fn delete_branch(dir: &Path, branch: &str, expected: &str) -> Result<()> {
    git(dir)
        .args(["update-ref", "-d"])
        .arg(format!("refs/heads/{branch}"))
        .arg(expected)
        .output()?;
    Ok(())
}

/// The index lock of the linked worktree at `path`, when a git process
/// (a commit in progress, or one that crashed) holds it. Read from the
/// `.git` file's `gitdir:` line, without starting git.
pub fn held_index_lock(path: &Path) -> Option<PathBuf> {
    let link = crate::files::read_project_text(&path.join(".git")).ok()?;
    let admin = link.strip_prefix("gitdir:")?.trim();
    let lock = path.join(admin).join("index.lock");
    lock.exists().then_some(lock)
}

/// Uncommitted changes in the worktree at `path`, untracked files
/// included, one `XY path` line each (as `git status --short` shows them).
pub fn changes(path: &Path) -> Result<Vec<String>> {
    let text = git(path)
        .args(["status", "--porcelain=v1", "-z", "--untracked-files=all"])
        .output()
        .with_context(|| format!("reading the changes in {}", path.display()))?;
    let mut lines = Vec::new();
    let mut fields = text.split('\0').filter(|f| !f.is_empty());
    while let Some(entry) = fields.next() {
        // A rename or copy is followed by its source path.
        if entry.starts_with('R') || entry.starts_with('C') {
            let from = fields.next().unwrap_or_default();
            lines.push(format!("{entry} (from {from})"));
        } else {
            lines.push(entry.to_string());
        }
    }
    Ok(lines)
}

/// The commits reachable from `head` and from no branch (other than
/// `branch` itself) and no remote-tracking branch: what deleting that
/// branch would lose. Each as `<short sha> <subject>`, newest first.
pub fn unique_commits(dir: &Path, head: &str, branch: Option<&str>) -> Result<Vec<String>> {
    let mut cmd = git(dir).args(["rev-list", "--oneline", head, "--not"]);
    if let Some(branch) = branch {
        cmd = cmd.arg(format!("--exclude={branch}"));
    }
    let text = cmd
        .args(["--branches", "--remotes", "--"])
        .output()
        .with_context(|| format!("looking for commits of {head} on no other branch"))?;
    Ok(text.lines().map(str::to_string).collect())
}

/// How many commits `head` has that `base` has not.
pub fn count_ahead(dir: &Path, base: &str, head: &str) -> Result<u64> {
    let text = git(dir)
        .args(["rev-list", "--count"])
        .arg(format!("{base}..{head}"))
        .arg("--")
        .output()?;
    let count = text.trim();
    match count.parse() {
        Ok(n) => Ok(n),
        Err(_) => bail!("git rev-list --count printed {count:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_worktree_list_porcelain() {
        let text = "worktree /r/proj\nHEAD 1111111111111111111111111111111111111111\nbranch refs/heads/main\n\n\
                    worktree /r/proj.worktrees/a-06A\nHEAD 2222222222222222222222222222222222222222\nbranch refs/heads/task/a-06A\nlocked on a usb disk\n\n\
                    worktree /r/proj.worktrees/gone\nHEAD 3333333333333333333333333333333333333333\ndetached\nprunable gitdir file points to non-existent location\n\n";
        let list = parse_worktrees(text);
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].branch.as_deref(), Some("main"));
        assert_eq!(list[1].path, Path::new("/r/proj.worktrees/a-06A"));
        assert_eq!(list[1].branch.as_deref(), Some("task/a-06A"));
        assert_eq!(list[1].locked.as_deref(), Some("on a usb disk"));
        assert_eq!(list[2].branch, None);
        assert!(list[2].missing);
        assert!(!list[0].missing);
    }

    #[test]
    fn an_unborn_head_has_no_commit() {
        let list = parse_worktrees(
            "worktree /r\nHEAD 0000000000000000000000000000000000000000\nbranch refs/heads/main\n",
        );
        assert_eq!(list[0].head, None);
    }
}
