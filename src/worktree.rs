//! Task worktrees, laid out as Scopecraft lays them out: each task
//! environment (a subtask shares its parent's) gets a git worktree at
//! `<parent of the main checkout>/<repo name>.worktrees/<env-id>` on the
//! branch `task/<env-id>`. Where a dispatch runs its agent, making or
//! reusing that worktree (and taking it back when the dispatch fails), and
//! finding our worktrees for `worktree list` and `worktree clean`. Git is
//! reached only through [`crate::git`].

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::books::worktrees::{WorktreeBooks, WorktreeRecord};
use crate::config::{self, Config};
use crate::error::bail_input;
use crate::git::{self, Checkout};
use crate::names;
use crate::project::Project;

pub const BRANCH_PREFIX: &str = "task/";

pub fn branch_name(env_id: &str) -> String {
    format!("{BRANCH_PREFIX}{env_id}")
}

/// The worktree a dispatch uses, and what it takes to have it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The checkout git runs in.
    pub repo: PathBuf,
    pub path: PathBuf,
    /// The branch checked out there (`HEAD` when detached).
    pub branch: String,
    /// The agent's working directory: the worktree, or the project's folder
    /// inside it when `.tasks/` is not at the top of the repository.
    pub workdir: PathBuf,
    pub action: Action,
    /// The branch of the checkout new task branches start from; `None`
    /// when it is detached.
    pub base: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The worktree exists.
    Reuse,
    /// `git worktree add`.
    Create {
        checkout: Checkout,
        /// Where a new branch starts, for messages (`main (1a2b3c4)`).
        from: String,
        /// The commit a new branch starts at: what it is deleted against
        /// when the dispatch fails.
        new_branch_at: Option<String>,
        /// Git still lists a deleted worktree there (or holding the
        /// branch): `git worktree prune` first.
        prune_first: bool,
    },
}

impl Target {
    /// What happens to the worktree, for `--dry-run` and messages.
    pub fn describe(&self) -> String {
        let path = self.path.display();
        let branch = &self.branch;
        match &self.action {
            Action::Reuse => format!("reuse {path} (branch {branch})"),
            Action::Create {
                checkout,
                from,
                prune_first,
                ..
            } => {
                let mut text = match checkout {
                    Checkout::Branch(_) => {
                        format!("create {path}, checking out the existing branch {branch}")
                    }
                    Checkout::NewBranch { track: true, .. } => {
                        format!("create {path} on a new branch {branch} tracking {from}")
                    }
                    Checkout::NewBranch { .. } => {
                        format!("create {path} on a new branch {branch} from {from}")
                    }
                };
                if *prune_first {
                    text.push_str(
                        " (after `git worktree prune`: git still lists a deleted worktree)",
                    );
                }
                text
            }
        }
    }
}

/// Why a dispatch in `project` cannot have a worktree, when it is not in a
/// git repository. Found without starting git.
pub fn outside_git(project: &Project) -> Option<String> {
    git::repository_root(&project.root).is_none().then(|| {
        format!(
            "{} is not in a git repository, so the agent runs there, without a worktree",
            project.root.display()
        )
    })
}

/// The worktree of environment `env_id`, and what having it takes; reads
/// only. One git process when the worktree exists (`worktree list`), two
/// when it must be made (and `for-each-ref`).
pub fn plan(project: &Project, config: &Config, env_id: &str) -> Result<Target> {
    names::check_task_id(env_id)?;
    match Layout::read(project, config)? {
        Some(layout) => layout.target(env_id),
        None => bail!("{} is not in a git repository", project.root.display()),
    }
}

/// What [`make`] created, so that a dispatch failing afterwards takes it back.
#[derive(Debug, Default)]
pub struct Made {
    worktree: bool,
    /// A new branch and the commit it was made at.
    branch: Option<(String, String)>,
    /// The worktrees folder, when this dispatch made it.
    folder: Option<PathBuf>,
}

/// Finds or makes the worktree of environment `env_id`: [`plan`], then one
/// more git process (`worktree add`) when it must be made. The caller
/// holds the environment's worktree lock, so what is planned still holds
/// when it is made. On failure nothing is left behind: git removes its
/// half-made directory, and a branch made for it is deleted.
pub fn make(project: &Project, config: &Config, env_id: &str) -> Result<(Target, Made)> {
    let mut target = plan(project, config, env_id)?;
    let mut made = Made::default();
    if let Action::Create {
        checkout,
        new_branch_at,
        prune_first,
        ..
    } = &target.action
    {
        if *prune_first {
            git::prune_worktrees(&target.repo)?;
        }
        made.folder = target
            .path
            .parent()
            .filter(|folder| !exists(folder))
            .map(Path::to_path_buf);
        if let Err(err) = git::add_worktree(&target.repo, &target.path, checkout) {
            if let (Checkout::NewBranch { branch, .. }, Some(at)) = (checkout, new_branch_at) {
                // `worktree add -b` makes the branch before it fails on
                // the directory; it is ours only if still where we made it.
                let _ = git::delete_branch(&target.repo, branch, at);
            }
            let _ = fs::remove_dir(&target.path);
            if let Some(folder) = &made.folder {
                let _ = fs::remove_dir(folder);
            }
            return Err(err.context(format!(
                "creating the worktree {} (branch {})",
                target.path.display(),
                target.branch
            )));
        }
        made.worktree = true;
        if let (Checkout::NewBranch { branch, .. }, Some(at)) = (checkout, new_branch_at) {
            made.branch = Some((branch.clone(), at.clone()));
        }
        // Planned before its folder existed, the path may still run through
        // a symlink (macOS's /tmp is one); git's list, which `worktree
        // clean` checks the records against, holds the resolved path.
        target.path = canonical(&target.path);
        target.workdir = canonical(&target.workdir);
    }
    if !target.workdir.is_dir() {
        let problem = format!(
            "the worktree {} has no folder {}: the project's folder is not on the branch {}",
            target.path.display(),
            target.workdir.display(),
            target.branch
        );
        unmake(&target, &made);
        bail_input!("{problem}; commit it, or dispatch with --no-worktree");
    }
    record(
        project,
        env_id,
        &target,
        made.branch.as_ref().map(|(_, at)| at),
    );
    Ok((target, made))
}

/// Writes the worktree's record when it has none: the project that made
/// (or first used) it, and the branch and commit it left.
fn record(project: &Project, env_id: &str, target: &Target, fork_point: Option<&String>) {
    let written = (|| {
        let books = WorktreeBooks::for_project(project)?;
        if books.claims(env_id, &target.path) {
            return Ok(());
        }
        let mut record = WorktreeRecord::new(project, env_id, &target.path, &target.branch);
        record.base = target.base.clone();
        record.fork_point = fork_point.cloned();
        books.write(&record)
    })();
    if let Err(err) = written {
        eprintln!(
            "scopecraft-tmux: warning: could not record the worktree {}: {err:#}",
            target.path.display()
        );
    }
}

/// Takes back what [`make`] created for a dispatch that then failed to
/// start. Git refuses to remove a worktree that has changed meanwhile, and
/// a branch that has moved is kept.
pub fn unmake(target: &Target, made: &Made) {
    if made.worktree
        && let Err(err) = git::remove_worktree(&target.repo, &target.path, false)
    {
        eprintln!(
            "scopecraft-tmux: warning: could not remove the worktree {} made for this dispatch: {err:#}",
            target.path.display()
        );
        return;
    }
    if let Some((branch, at)) = &made.branch
        && let Err(err) = git::delete_branch(&target.repo, branch, at)
    {
        eprintln!(
            "scopecraft-tmux: warning: could not delete the branch {branch} made for this dispatch: {err:#}"
        );
    }
    if let Some(folder) = &made.folder {
        let _ = fs::remove_dir(folder);
    }
}

/// One of our worktrees, as `worktree list` and `clean` see it.
#[derive(Debug, Clone)]
pub struct Ours {
    pub env_id: String,
    pub worktree: git::Worktree,
}

/// The repository around a project: its worktrees and where ours go.
#[derive(Debug)]
pub struct Layout {
    /// The checkout holding the project (normally the main one).
    pub checkout: git::Worktree,
    /// Every worktree git lists, paths resolved.
    pub worktrees: Vec<git::Worktree>,
    /// The folder task worktrees go in.
    pub folder: PathBuf,
    /// The project's folder inside a checkout (empty at the top).
    pub subdir: PathBuf,
}

impl Layout {
    /// The layout of the project's repository: one git process. `None`
    /// outside a git repository (found without starting git).
    pub fn read(project: &Project, config: &Config) -> Result<Option<Layout>> {
        if git::repository_root(&project.root).is_none() {
            return Ok(None);
        }
        let mut worktrees = git::worktrees(&project.root)?;
        for worktree in &mut worktrees {
            worktree.path = canonical(&worktree.path);
        }
        let checkout = worktrees
            .iter()
            .filter(|w| !w.bare && project.root.starts_with(&w.path))
            .max_by_key(|w| w.path.components().count())
            .cloned()
            .with_context(|| format!("git lists no checkout holding {}", project.root.display()))?;
        let subdir = project
            .root
            .strip_prefix(&checkout.path)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let folder = folder_for(&checkout.path, config)?;
        Ok(Some(Layout {
            checkout,
            worktrees,
            folder,
            subdir,
        }))
    }

    /// The worktree for `env_id`: the one there, or what making it takes.
    /// Refuses a path that exists but is not a worktree, and a branch
    /// checked out in another worktree.
    pub fn target(&self, env_id: &str) -> Result<Target> {
        let path = self.folder.join(env_id);
        let branch = branch_name(env_id);
        let workdir = if self.subdir.as_os_str().is_empty() {
            path.clone()
        } else {
            path.join(&self.subdir)
        };
        let at_path = self.worktrees.iter().find(|w| w.path == path);
        if let Some(existing) = at_path
            && !existing.missing
        {
            return Ok(Target {
                repo: self.checkout.path.clone(),
                branch: existing.branch.clone().unwrap_or_else(|| "HEAD".into()),
                path,
                workdir,
                action: Action::Reuse,
                base: self.checkout.branch.clone(),
            });
        }
        if exists(&path) {
            bail_input!(
                "{} already exists and is not a git worktree of {}; move it away, or set \
                 [worktree] dir in .tasks/.config/{} to keep task worktrees elsewhere \
                 (or dispatch with --no-worktree)",
                path.display(),
                self.checkout.path.display(),
                config::FILE_NAME
            );
        }
        let holder = self
            .worktrees
            .iter()
            .find(|w| w.branch.as_deref() == Some(branch.as_str()) && w.path != path);
        if let Some(holder) = holder
            && !holder.missing
        {
            let which = if holder.path == self.checkout.path {
                "the main checkout"
            } else {
                "another worktree,"
            };
            bail_input!(
                "the branch {branch} is checked out in {which} {}, and git checks a branch out in one \
                 place only; switch that checkout to another branch (git -C {} switch -) and \
                 dispatch again, or dispatch with --no-worktree",
                holder.path.display(),
                holder.path.display()
            );
        }
        let prune_first = at_path.is_some() || holder.is_some();
        let refs = git::find_branch(&self.checkout.path, &branch)?;
        let (checkout, from, new_branch_at) = if refs.local.is_some() {
            (Checkout::Branch(branch.clone()), branch.clone(), None)
        } else if let Some((remote, at)) = refs
            .remote
            .iter()
            .find(|(remote, _)| remote.starts_with("origin/"))
            .or(refs.remote.first())
        {
            (
                Checkout::NewBranch {
                    branch: branch.clone(),
                    start: remote.clone(),
                    track: true,
                },
                remote.clone(),
                Some(at.clone()),
            )
        } else {
            let Some(head) = &self.checkout.head else {
                bail_input!(
                    "the repository {} has no commits yet, so there is nothing to start the branch \
                     {branch} from; commit once, or dispatch with --no-worktree",
                    self.checkout.path.display()
                );
            };
            let short = head.get(..7).unwrap_or(head);
            (
                Checkout::NewBranch {
                    branch: branch.clone(),
                    start: head.clone(),
                    track: false,
                },
                format!("{} ({short})", self.base_name()),
                Some(head.clone()),
            )
        };
        Ok(Target {
            repo: self.checkout.path.clone(),
            path,
            branch,
            workdir,
            action: Action::Create {
                checkout,
                from,
                new_branch_at,
                prune_first,
            },
            base: self.checkout.branch.clone(),
        })
    }

    /// The branch task branches start from and are compared with: the
    /// checkout's (`HEAD` when it is detached).
    pub fn base_name(&self) -> String {
        self.checkout
            .branch
            .clone()
            .unwrap_or_else(|| "HEAD".to_string())
    }

    /// Our worktrees: those in the worktrees folder (named after their
    /// folder) and those on a `task/…` branch elsewhere, never a main
    /// checkout.
    pub fn ours(&self) -> Vec<Ours> {
        let main = self.worktrees.first().map(|w| w.path.clone());
        self.worktrees
            .iter()
            .filter(|w| !w.bare && w.path != self.checkout.path && Some(&w.path) != main.as_ref())
            .filter_map(|w| {
                let env_id = if w.path.parent() == Some(self.folder.as_path()) {
                    w.path.file_name()?.to_string_lossy().into_owned()
                } else {
                    w.branch
                        .as_deref()?
                        .strip_prefix(BRANCH_PREFIX)?
                        .to_string()
                };
                Some(Ours {
                    env_id,
                    worktree: w.clone(),
                })
            })
            .collect()
    }
}

/// `[worktree] dir`, resolved: relative to the checkout, `~/` the home
/// directory; by default `<parent>/<lowercased name>.worktrees` as in
/// Scopecraft.
fn folder_for(checkout: &Path, config: &Config) -> Result<PathBuf> {
    let folder = match &config.worktree.dir {
        Some(dir) => match dir.strip_prefix("~") {
            Ok(rest) => dirs::home_dir()
                .context("cannot tell the home directory for `~` in [worktree] dir")?
                .join(rest),
            Err(_) => checkout.join(dir),
        },
        None => {
            let name = checkout
                .file_name()
                .map(|name| name.to_string_lossy().to_lowercase())
                .unwrap_or_else(|| "repository".to_string());
            checkout
                .parent()
                .unwrap_or(checkout)
                .join(format!("{name}.worktrees"))
        }
    };
    let folder = crate::project::normalise(&folder);
    Ok(canonical(&folder))
}

/// `path` with its symlinks resolved, or as it is when it does not exist.
pub fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Whether anything (a file, a folder, a dangling link) is at `path`.
fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Config {
        toml::from_str(toml).unwrap()
    }

    #[test]
    fn the_default_folder_is_beside_the_checkout_lowercased() {
        let folder = folder_for(Path::new("/nowhere/Home/Scopecraft"), &Config::default()).unwrap();
        assert_eq!(folder, Path::new("/nowhere/Home/scopecraft.worktrees"));
    }

    #[test]
    fn a_configured_folder_is_relative_to_the_checkout() {
        let folder = folder_for(
            Path::new("/nowhere/proj"),
            &config("[worktree]\ndir = \"../trees/./x\"\n"),
        )
        .unwrap();
        assert_eq!(folder, Path::new("/nowhere/trees/x"));
        let folder = folder_for(
            Path::new("/nowhere/proj"),
            &config("[worktree]\ndir = \"/abs/wt\"\n"),
        )
        .unwrap();
        assert_eq!(folder, Path::new("/abs/wt"));
    }

    #[test]
    fn unknown_worktree_keys_are_refused() {
        assert!(toml::from_str::<Config>("[worktree]\npath = \"x\"\n").is_err());
        let parsed = config("[worktree]\nenabled = false\n");
        assert!(!parsed.worktrees_enabled());
    }
}
