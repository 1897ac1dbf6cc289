//! Every git command the program runs, each one `git -C <dir> …` process
//! started through [`crate::process`]: finding the repository, listing,
//! adding and removing worktrees, and asking what a worktree holds that
//! exists nowhere else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process::{self, Cmd};

/// How long one git command may take, unless `SCOPECRAFT_GIT_TIMEOUT`
/// (seconds) says otherwise: a hook, a credential helper or a GPG prompt
/// that never answers must not hang us (and the locks we hold).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Commands that write many files (making a worktree, a merge) get this
/// many times the limit.
const LONG: u32 = 10;

/// The limit of one git command, from `SCOPECRAFT_GIT_TIMEOUT`.
pub fn timeout() -> Duration {
    std::env::var("SCOPECRAFT_GIT_TIMEOUT")
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs > 0.0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
}

/// `git -C dir`, deaf to a `GIT_DIR` or `GIT_WORK_TREE` inherited from a
/// hook or another tool, so the repository is always the one at `dir`.
/// `GIT_OPTIONAL_LOCKS=0` keeps `status` from taking the index lock of a
/// worktree an agent is working in.
fn git(dir: &Path) -> Cmd {
    git_within(dir, timeout())
}

/// [`git`] for a command that may take long: it writes many files.
fn git_long(dir: &Path) -> Cmd {
    git_within(dir, timeout() * LONG)
}

/// `GIT_TERMINAL_PROMPT=0`: git never waits for a password on a terminal.
fn git_within(dir: &Path, limit: Duration) -> Cmd {
    process::cmd("git")
        .timeout(limit)
        .timeout_hint(
            "a git hook, credential helper or lock may be holding it \
             (SCOPECRAFT_GIT_TIMEOUT=<seconds> sets the limit)",
        )
        .arg("-C")
        .arg(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_COMMON_DIR")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
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
    let mut cmd = git_long(dir).args(["worktree", "add", "--quiet"]);
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
    let mut cmd = git_long(dir).args(["worktree", "remove"]);
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

/// The commit `rev` names, or `None` when it names none.
pub fn commit_of(dir: &Path, rev: &str) -> Result<Option<String>> {
    let output = git(dir)
        .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
        .arg(format!("{rev}^{{commit}}"))
        .output_unchecked()?;
    Ok(output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string()))
}

/// The best common ancestor of `a` and `b`; `None` when they share none.
pub fn merge_base(dir: &Path, a: &str, b: &str) -> Result<Option<String>> {
    let output = git(dir)
        .args(["merge-base", "--end-of-options", a, b])
        .output_unchecked()?;
    match output.status.code() {
        Some(0) => Ok(Some(
            String::from_utf8_lossy(&output.stdout).trim().to_string(),
        )),
        Some(1) => Ok(None),
        _ => bail!(
            "git merge-base {a} {b}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    }
}

/// Whether `ancestor` is `commit` or one of its ancestors.
pub fn is_ancestor(dir: &Path, ancestor: &str, commit: &str) -> Result<bool> {
    let output = git(dir)
        .args([
            "merge-base",
            "--is-ancestor",
            "--end-of-options",
            ancestor,
            commit,
        ])
        .output_unchecked()?;
    match output.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => bail!(
            "git merge-base --is-ancestor {ancestor} {commit}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    }
}

/// The commits of `head` not in `upstream` by ancestry, oldest first, each
/// with whether a commit with the same patch is in `upstream` (`git cherry`:
/// cherry-picked, rebased).
pub fn cherry(dir: &Path, upstream: &str, head: &str) -> Result<Vec<(String, bool)>> {
    let text = git(dir)
        .args(["cherry", "--end-of-options", upstream, head])
        .output()
        .with_context(|| format!("comparing the patches of {head} with {upstream}"))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let (sign, sha) = line.split_once(' ')?;
            Some((sha.to_string(), sign == "-"))
        })
        .collect())
}

/// `git commit-tree`: a commit of `tree` with `parents`, made from the
/// environment's identity (or git's fallback for one).
pub fn commit_tree(dir: &Path, tree: &str, parents: &[&str], message: &str) -> Result<String> {
    let mut cmd = git(dir).arg("commit-tree").arg(tree);
    for parent in parents {
        cmd = cmd.arg("-p").arg(parent);
    }
    let text = cmd
        .arg("-m")
        .arg(message)
        .output()
        .context("making a commit object")?;
    Ok(text.trim().to_string())
}

/// Points `name` at `new`, only while it still points at `old` (`None`:
/// only while it does not exist).
pub fn update_ref(dir: &Path, name: &str, new: &str, old: Option<&str>) -> Result<()> {
    git(dir)
        .args(["update-ref", "-m", "scopecraft-tmux", name, new])
        .arg(old.unwrap_or(""))
        .output()
        .with_context(|| format!("setting {name}"))?;
    Ok(())
}

/// `(name, commit, creation date, subject)` of every ref under `prefix`.
pub fn refs_under(dir: &Path, prefix: &str) -> Result<Vec<[String; 4]>> {
    let text = git(dir)
        .args([
            "for-each-ref",
            "--format=%(refname)%00%(objectname)%00%(creatordate:iso-strict)%00%(subject)",
        ])
        .arg(prefix)
        .output()
        .with_context(|| format!("listing {prefix}"))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\0').map(str::to_string);
            Some([
                fields.next()?,
                fields.next()?,
                fields.next()?,
                fields.next()?,
            ])
        })
        .collect())
}

/// Tracked files whose edits `git status` does not show: marked
/// `--assume-unchanged` or `--skip-worktree` and different on disk from
/// the index (or deleted, when assumed unchanged). Paths, sorted.
pub fn hidden_edits(path: &Path) -> Result<Vec<String>> {
    let text = git(path)
        .args(["ls-files", "-v", "-s", "-z"])
        .output()
        .with_context(|| format!("reading the index of {}", path.display()))?;
    let mut flagged = Vec::new();
    for entry in text.split('\0').filter(|e| !e.is_empty()) {
        let Some((info, file)) = entry.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = info.split(' ').collect();
        let (Some(tag), Some(blob)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        let assumed = tag.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if assumed || *tag == "S" {
            flagged.push((file.to_string(), blob.to_string(), assumed));
        }
    }
    let mut edits = Vec::new();
    let mut on_disk = Vec::new();
    for (file, blob, assumed) in flagged {
        if path.join(&file).symlink_metadata().is_ok() {
            on_disk.push((file, blob));
        } else if assumed {
            // A sparse checkout leaves skip-worktree files out on purpose.
            edits.push(file);
        }
    }
    if !on_disk.is_empty() {
        let hashes = git(path)
            .arg("hash-object")
            .arg("--")
            .args(on_disk.iter().map(|(file, _)| file))
            .output()
            .with_context(|| format!("hashing files in {}", path.display()))?;
        for ((file, blob), hash) in on_disk.into_iter().zip(hashes.lines()) {
            if hash != blob {
                edits.push(file);
            }
        }
    }
    edits.sort();
    Ok(edits)
}

/// The files and folders (`name/`) in the worktree at `path` that git
/// ignores.
pub fn ignored(path: &Path) -> Result<Vec<String>> {
    let text = git(path)
        .args([
            "ls-files",
            "-z",
            "--others",
            "--ignored",
            "--exclude-standard",
            "--directory",
        ])
        .output()
        .with_context(|| format!("listing the ignored files of {}", path.display()))?;
    Ok(text
        .split('\0')
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect())
}

/// What a worktree holds, as trees: its index, and everything on disk
/// that is not ignored (edits hidden by `--assume-unchanged` or
/// `--skip-worktree` included) plus the ignored paths in `extra`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub head: String,
    pub index_tree: String,
    pub work_tree: String,
}

/// Writes a [`Snapshot`] of the worktree at `path` without touching its
/// index: git works on a copy of it. Objects are written, refs are not.
pub fn snapshot(path: &Path, extra: &[String]) -> Result<Snapshot> {
    let head = commit_of(path, "HEAD")?
        .with_context(|| format!("{} has no commit checked out", path.display()))?;
    let index = git(path)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "index"])
        .output()?;
    let index = PathBuf::from(index.trim_end_matches(['\n', '\r']));
    let copy = TempIndex::new()?;
    match std::fs::copy(&index, &copy.0) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            git(path)
                .env("GIT_INDEX_FILE", &copy.0)
                .args(["read-tree", "HEAD"])
                .output()?;
        }
        Err(err) => {
            return Err(err).with_context(|| format!("copying the index {}", index.display()));
        }
    }
    let with_copy = || git(path).env("GIT_INDEX_FILE", &copy.0);
    // Reading every file of a large worktree may take long.
    let adding = || git_long(path).env("GIT_INDEX_FILE", &copy.0);
    let index_tree = with_copy()
        .arg("write-tree")
        .output()
        .with_context(|| format!("reading the index of {}", path.display()))?
        .trim()
        .to_string();
    let flagged: Vec<String> = with_copy()
        .args(["ls-files", "-v", "-z"])
        .output()?
        .split('\0')
        .filter_map(|e| e.split_once(' '))
        .filter(|(tag, _)| tag.chars().any(|c| c.is_ascii_lowercase()) || *tag == "S")
        .map(|(_, file)| file.to_string())
        .filter(|file| path.join(file).symlink_metadata().is_ok())
        .collect();
    if !flagged.is_empty() {
        with_copy()
            .args([
                "update-index",
                "--no-assume-unchanged",
                "--no-skip-worktree",
                "--",
            ])
            .args(&flagged)
            .output()?;
    }
    adding()
        .args(["add", "--all", "--", "."])
        .output()
        .with_context(|| format!("reading the files of {}", path.display()))?;
    if !extra.is_empty() {
        adding()
            .args(["add", "--force", "--"])
            .args(extra)
            .output()
            .with_context(|| format!("reading the ignored files of {}", path.display()))?;
    }
    let work_tree = with_copy().arg("write-tree").output()?.trim().to_string();
    Ok(Snapshot {
        head,
        index_tree,
        work_tree,
    })
}

/// A temporary index file, removed on drop.
struct TempIndex(PathBuf);

impl TempIndex {
    fn new() -> Result<TempIndex> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "scopecraft-tmux-index.{}.{nanos}",
            std::process::id()
        ));
        Ok(TempIndex(path))
    }
}

impl Drop for TempIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_file(self.0.with_extension("lock"));
    }
}

/// The tree of a commit.
pub fn tree_of(dir: &Path, commit: &str) -> Result<String> {
    Ok(git(dir)
        .args(["rev-parse", "--verify", "--end-of-options"])
        .arg(format!("{commit}^{{tree}}"))
        .output()?
        .trim()
        .to_string())
}

/// `git diff` with `args` (revisions and options), as text.
pub fn diff(dir: &Path, args: &[&str]) -> Result<String> {
    git(dir)
        .args(["-c", "core.quotePath=false", "diff", "--no-ext-diff"])
        .args(args)
        .output()
        .with_context(|| format!("comparing {} in {}", args.join(" "), dir.display()))
}

/// The result of merging two commits without touching any checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeTree {
    Clean { tree: String },
    Conflicts { files: Vec<String> },
}

/// `git merge-tree --write-tree`: merges `theirs` into `ours` in memory
/// (`merge_base` given: as a cherry-pick of it onto `ours`).
pub fn merge_tree(
    dir: &Path,
    ours: &str,
    theirs: &str,
    merge_base: Option<&str>,
) -> Result<MergeTree> {
    let mut cmd = git(dir).args([
        "merge-tree",
        "--write-tree",
        "--name-only",
        "--no-messages",
        "-z",
    ]);
    if let Some(base) = merge_base {
        cmd = cmd.arg(format!("--merge-base={base}"));
    }
    let output = cmd
        .arg("--end-of-options")
        .arg(ours)
        .arg(theirs)
        .output_unchecked()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split('\0').filter(|f| !f.is_empty());
    match output.status.code() {
        Some(0) => Ok(MergeTree::Clean {
            tree: fields.next().unwrap_or_default().trim().to_string(),
        }),
        Some(1) => {
            let mut files: Vec<String> = fields.skip(1).map(str::to_string).collect();
            files.dedup();
            Ok(MergeTree::Conflicts { files })
        }
        // --write-tree came in git 2.38, --merge-base in 2.40.
        _ => bail!(
            "git merge-tree {ours} {theirs} (git {} or later is needed): {}",
            if merge_base.is_some() { "2.40" } else { "2.38" },
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    }
}

/// Fast-forwards the branch checked out at `dir` to `commit`, updating its
/// files; git refuses, changing nothing, what is not a fast-forward or
/// would overwrite a file.
pub fn fast_forward(dir: &Path, commit: &str) -> Result<()> {
    git_long(dir)
        .args([
            "merge",
            "--ff-only",
            "--quiet",
            "--no-edit",
            "--end-of-options",
            commit,
        ])
        .output()
        .with_context(|| format!("fast-forwarding {} to {commit}", dir.display()))?;
    Ok(())
}

/// `git reset --keep commit` in the worktree at `dir`: its branch moves to
/// `commit`, its files follow, local changes are kept (or nothing is done).
pub fn reset_keep(dir: &Path, commit: &str) -> Result<()> {
    git_long(dir)
        .args(["reset", "--quiet", "--keep", commit])
        .output()
        .with_context(|| format!("moving {} to {commit}", dir.display()))?;
    Ok(())
}

/// One commit's message and author, for rewriting it elsewhere.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub sha: String,
    pub parents: Vec<String>,
    pub author_name: String,
    pub author_email: String,
    pub author_date: String,
    pub subject: String,
    pub message: String,
}

/// The commits of `range` (`a..b`), oldest first.
pub fn commits(dir: &Path, range: &str) -> Result<Vec<CommitInfo>> {
    let text = git(dir)
        .args([
            "log",
            "--reverse",
            "-z",
            "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%s%x1f%B",
            "--end-of-options",
            range,
            "--",
        ])
        .output()
        .with_context(|| format!("listing the commits {range}"))?;
    Ok(text
        .split('\0')
        .filter(|e| !e.trim().is_empty())
        .filter_map(|entry| {
            let mut f = entry.split('\x1f');
            Some(CommitInfo {
                sha: f.next()?.trim().to_string(),
                parents: f.next()?.split_whitespace().map(str::to_string).collect(),
                author_name: f.next()?.to_string(),
                author_email: f.next()?.to_string(),
                author_date: f.next()?.to_string(),
                subject: f.next()?.to_string(),
                message: f.next()?.to_string(),
            })
        })
        .collect())
}

/// [`commit_tree`] keeping `like`'s author and message.
pub fn commit_like(dir: &Path, tree: &str, parent: &str, like: &CommitInfo) -> Result<String> {
    let text = git(dir)
        .env("GIT_AUTHOR_NAME", &like.author_name)
        .env("GIT_AUTHOR_EMAIL", &like.author_email)
        .env("GIT_AUTHOR_DATE", &like.author_date)
        .args(["commit-tree", tree, "-p", parent, "-m"])
        .arg(&like.message)
        .output()
        .with_context(|| format!("rewriting the commit {}", like.sha))?;
    Ok(text.trim().to_string())
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
