//! Task worktrees against real git repositories: dispatch runs the agent in
//! the task's worktree (a subtask in its parent's, also when dispatched
//! together), reuses it and existing branches, runs in place when asked or
//! outside git, refuses what is in the way with nothing half-made left, and
//! `worktree list` / `clean` report and remove without losing work.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::support::{Bench, git, git_unchecked};

const MODE: &str = "implementation";

/// The default worktrees folder of the bench's project.
fn folder(bench: &Bench) -> PathBuf {
    bench.project.parent().unwrap().join("project.worktrees")
}

pub fn worktree(bench: &Bench, env_id: &str) -> PathBuf {
    folder(bench).join(env_id)
}

/// A worktree made by hand beside the project, on a new branch.
fn worktree_beside(bench: &Bench, branch: &str, name: &str) -> PathBuf {
    let path = bench.project.parent().unwrap().join(name);
    git(
        &bench.project,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            branch,
            path.to_str().unwrap(),
        ],
    );
    path
}

/// A bare repository beside the project, its `origin`, holding `main`.
fn bare_remote(bench: &Bench) -> PathBuf {
    let remote = bench.project.parent().unwrap().join("remote.git");
    git(
        bench.project.parent().unwrap(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    git(
        &bench.project,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    git(&bench.project, &["push", "-q", "origin", "main"]);
    remote
}

pub fn branches(bench: &Bench) -> Vec<String> {
    git(
        &bench.project,
        &["branch", "--list", "--format=%(refname:short)"],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

/// The paths `git worktree list` shows, the main checkout first.
fn worktree_paths(bench: &Bench) -> Vec<String> {
    git(&bench.project, &["worktree", "list", "--porcelain"])
        .lines()
        .filter_map(|line| line.strip_prefix("worktree "))
        .map(str::to_string)
        .collect()
}

fn path_str(path: &Path) -> String {
    path.display().to_string()
}

/// A v2 parent task with subtasks `NN_<id>`; returns the subtask ids.
fn parent_with_subtasks(bench: &Bench, parent: &str, count: usize) -> Vec<String> {
    bench.write(
        &format!(".tasks/current/{parent}/_overview.md"),
        "# The whole\n\n---\ntype: feature\nstatus: todo\narea: cli\n---\n\n## Instruction\nAll of it.\n",
    );
    (1..=count)
        .map(|n| {
            let id = format!("{n:02}_part-{n}");
            bench.write(
                &format!(".tasks/current/{parent}/{id}.task.md"),
                &format!(
                    "# Part {n}\n\n---\ntype: feature\nstatus: todo\narea: cli\n---\n\n## Instruction\nPart {n}.\n"
                ),
            );
            id
        })
        .collect()
}

/// Asserts that `text` holds `needle`, showing `text` when not.
#[track_caller]
pub fn says(text: &str, needle: impl AsRef<str>) {
    let needle = needle.as_ref();
    assert!(text.contains(needle), "no {needle:?} in:\n{text}");
}

/// Starts `dispatch <id> ARGS` for every id at the same moment, and
/// asserts that each succeeded.
fn dispatch_all_at_once(bench: &Bench, ids: &[String], args: &[&str]) {
    let children: Vec<_> = ids
        .iter()
        .map(|id| {
            bench
                .cmd()
                .arg("dispatch")
                .arg(id)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn dispatch_detached(bench: &Bench, task: &str) -> Value {
    bench.run(["dispatch", task, "--exec", "detached"]).ok();
    bench.wait_for_status(task, MODE, "completed")
}

fn no_record(bench: &Bench, task: &str) {
    bench
        .run(["status", task, "--json"])
        .bad_input("no session of task");
}

/// The session folder of the bench's (only) project.
fn sessions_dir(bench: &Bench) -> PathBuf {
    let mut projects = fs::read_dir(bench.scopecraft_home.join("projects"))
        .unwrap()
        .map(|e| e.unwrap().path());
    let project = projects.next().unwrap();
    assert!(projects.next().is_none());
    project.join("sessions")
}

#[test]
fn dispatch_runs_the_agent_in_the_tasks_worktree_and_records_it() {
    let bench = Bench::with_tasks(&["fix-11A"]).with_git();
    let path = worktree(&bench, "fix-11A");

    let run = bench.run(["dispatch", "fix-11A"]).ok();
    says(
        &run.stdout,
        format!("worktree: {} (branch task/fix-11A)", path.display()),
    );
    let record = bench.wait_for_status("fix-11A", MODE, "completed");
    assert_eq!(record["worktree"]["path"], path_str(&path));
    assert_eq!(record["worktree"]["branch"], "task/fix-11A");
    assert_eq!(record["workdir"], path_str(&path));
    let calls = bench.wait_for_agent("fix-11A", 1);
    assert_eq!(
        calls[0].cwd,
        path_str(&path),
        "the agent works in the worktree"
    );
    // The window was opened there too (`new-window -c`): the pane still
    // shows the run's summary, from the supervisor in that directory.
    let pane = record["tmux"]["paneId"].as_str().unwrap();
    let shown = bench.tmux(["display-message", "-p", "-t", pane, "#{pane_current_path}"]);
    assert_eq!(shown.stdout.trim_end(), path_str(&path));

    assert_eq!(
        worktree_paths(&bench),
        [path_str(&bench.project), path_str(&path)]
    );
    assert_eq!(branches(&bench), ["main", "task/fix-11A"]);
    // The main checkout is untouched: tasks and modes are read from it.
    assert_eq!(git(&bench.project, &["status", "--porcelain"]), "");

    // Again: the same worktree, nothing new.
    bench.run(["dispatch", "fix-11A"]).ok();
    let calls = bench.wait_for_agent("fix-11A", 2);
    assert_eq!(calls[1].cwd, path_str(&path));
    assert_eq!(worktree_paths(&bench).len(), 2);
}

#[test]
fn an_existing_branch_is_checked_out_into_the_new_worktree() {
    let bench = Bench::with_tasks(&["fix-11A"]).with_git();
    git(&bench.project, &["checkout", "-q", "-b", "task/fix-11A"]);
    fs::write(bench.project.join("earlier.txt"), "earlier work\n").unwrap();
    git(&bench.project, &["add", "earlier.txt"]);
    git(&bench.project, &["commit", "-qm", "earlier work"]);
    let earlier = git(&bench.project, &["rev-parse", "HEAD"]);
    git(&bench.project, &["checkout", "-q", "main"]);

    let dry = bench.run(["dispatch", "fix-11A", "--dry-run"]).ok();
    says(&dry.stdout, "checking out the existing branch task/fix-11A");
    let record = dispatch_detached(&bench, "fix-11A");
    let path = worktree(&bench, "fix-11A");
    assert_eq!(record["worktree"]["branch"], "task/fix-11A");
    assert_eq!(git(&path, &["rev-parse", "HEAD"]), earlier);
    assert!(path.join("earlier.txt").is_file());
    assert_eq!(branches(&bench), ["main", "task/fix-11A"]);
}

#[test]
fn a_branch_only_on_the_remote_is_tracked_by_the_new_worktree() {
    let bench = Bench::with_tasks(&["fix-11A"]).with_git();
    let remote = bare_remote(&bench);
    // Pushed from elsewhere: here only origin/task/fix-11A exists.
    git(&bench.project, &["checkout", "-q", "-b", "task/fix-11A"]);
    git(
        &bench.project,
        &["commit", "-q", "--allow-empty", "-m", "from a colleague"],
    );
    git(&bench.project, &["push", "-q", "origin", "task/fix-11A"]);
    git(&bench.project, &["checkout", "-q", "main"]);
    git(&bench.project, &["branch", "-q", "-D", "task/fix-11A"]);
    let pushed = git(&remote, &["rev-parse", "task/fix-11A"]);

    let dry = bench.run(["dispatch", "fix-11A", "--dry-run"]).ok();
    says(
        &dry.stdout,
        "on a new branch task/fix-11A tracking origin/task/fix-11A",
    );
    dispatch_detached(&bench, "fix-11A");
    let path = worktree(&bench, "fix-11A");
    assert_eq!(git(&path, &["rev-parse", "HEAD"]), pushed);
    assert_eq!(
        git(&path, &["rev-parse", "--abbrev-ref", "@{upstream}"]),
        "origin/task/fix-11A\n"
    );
}

#[test]
fn subtasks_dispatched_together_share_their_parents_worktree() {
    let bench = Bench::with_tasks(&[]);
    let subtasks = parent_with_subtasks(&bench, "auth-11A", 4);
    let bench = bench.with_git();

    // All at once: each waits for the environment's lock, the first makes
    // the worktree, the others find it.
    dispatch_all_at_once(&bench, &subtasks, &["--exec", "detached"]);
    let path = worktree(&bench, "auth-11A");
    for id in &subtasks {
        let record = bench.wait_for_status(id, MODE, "completed");
        assert_eq!(record["worktree"]["path"], path_str(&path), "{id}");
        assert_eq!(record["worktree"]["branch"], "task/auth-11A", "{id}");
        assert_eq!(record["parentId"], "auth-11A");
        assert_eq!(bench.wait_for_agent(id, 1)[0].cwd, path_str(&path));
    }
    assert_eq!(
        worktree_paths(&bench),
        [path_str(&bench.project), path_str(&path)]
    );
    assert_eq!(branches(&bench), ["main", "task/auth-11A"]);
    // Intact: git reads it and it holds exactly the committed tree.
    assert_eq!(git(&path, &["status", "--porcelain"]), "");
    git(&bench.project, &["fsck", "--no-progress"]);

    // The parent itself runs in the same environment.
    let record = dispatch_detached(&bench, "auth-11A");
    assert_eq!(record["worktree"]["path"], path_str(&path));
}

#[test]
fn dry_run_names_the_worktree_and_writes_nothing() {
    let bench = Bench::with_tasks(&["fix-11A"]).with_git();
    let path = worktree(&bench, "fix-11A");
    let run = bench.run(["dispatch", "fix-11A", "--dry-run"]).ok();
    says(
        &run.stdout,
        format!(
            "worktree: create {} on a new branch task/fix-11A from main (",
            path.display()
        ),
    );
    says(&run.stdout, format!("in:    {}\n", path.display()));
    assert!(!folder(&bench).exists());
    assert_eq!(branches(&bench), ["main"]);
    assert!(!bench.scopecraft_home.join("projects").exists());

    dispatch_detached(&bench, "fix-11A");
    let run = bench.run(["dispatch", "fix-11A", "--dry-run"]).ok();
    says(
        &run.stdout,
        format!("worktree: reuse {} (branch task/fix-11A)", path.display()),
    );
}

#[test]
fn without_git_or_with_no_worktree_the_agent_runs_in_place() {
    // Not a git repository: in place, said in one line.
    let bench = Bench::with_tasks(&["fix-11A"]);
    let run = bench
        .run(["dispatch", "fix-11A", "--exec", "detached"])
        .ok();
    assert_eq!(
        run.stderr,
        format!(
            "scopecraft-tmux: {} is not in a git repository, so the agent runs there, without a worktree\n",
            bench.project.display()
        )
    );
    let record = bench.wait_for_status("fix-11A", MODE, "completed");
    assert_eq!(record["worktree"], Value::Null);
    assert_eq!(
        bench.wait_for_agent("fix-11A", 1)[0].cwd,
        path_str(&bench.project)
    );

    // --no-worktree: the main checkout, quietly.
    let bench = Bench::with_tasks(&["fix-11A", "other-11A"]).with_git();
    let run = bench
        .run(["dispatch", "fix-11A", "--exec", "detached", "--no-worktree"])
        .ok();
    assert_eq!(run.stderr, "");
    let record = bench.wait_for_status("fix-11A", MODE, "completed");
    assert_eq!(record["worktree"], Value::Null);
    assert_eq!(record["workdir"], path_str(&bench.project));
    assert_eq!(
        bench.wait_for_agent("fix-11A", 1)[0].cwd,
        path_str(&bench.project)
    );
    assert!(!folder(&bench).exists());
    assert_eq!(branches(&bench), ["main"]);

    // Turned off in the configuration.
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n[worktree]\nenabled = false\n",
    );
    let record = dispatch_detached(&bench, "other-11A");
    assert_eq!(record["worktree"], Value::Null);
    assert!(!folder(&bench).exists());

    // A misspelt key is refused, not ignored.
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "[worktree]\nfolder = \"x\"\n",
    );
    bench
        .run(["dispatch", "other-11A", "--dry-run"])
        .bad_input("unknown field `folder`");
}

#[test]
fn the_worktrees_folder_is_configurable() {
    let bench = Bench::with_tasks(&["fix-11A"]);
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n[worktree]\ndir = \"../trees\"\n",
    );
    let bench = bench.with_git();
    let path = bench.project.parent().unwrap().join("trees/fix-11A");
    let record = dispatch_detached(&bench, "fix-11A");
    assert_eq!(record["worktree"]["path"], path_str(&path));
    assert_eq!(bench.wait_for_agent("fix-11A", 1)[0].cwd, path_str(&path));
    let listed = bench.run(["worktree", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["path"], path_str(&path));
}

#[test]
fn a_worktree_reached_through_a_symlink_is_seen_in_use_and_kept() {
    // macOS's /tmp is a symlink: the worktrees folder often is reached
    // through one. The session's record and git's list must name the same
    // worktree, or `clean` removes the one a live agent works in.
    let bench = Bench::with_tasks(&["busy-11A"]);
    let top = bench.project.parent().unwrap().to_path_buf();
    fs::create_dir(top.join("real")).unwrap();
    std::os::unix::fs::symlink(top.join("real"), top.join("link")).unwrap();
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n[worktree]\ndir = \"../link/wt\"\n",
    );
    let bench = bench.with_git();
    let release = bench.dir.path().join("release");
    bench.agent_behaviour("busy-11A", &format!("wait_for={}\n", release.display()));
    bench
        .run(["dispatch", "busy-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_agent("busy-11A", 1);
    let real = top.join("real/wt/busy-11A");
    let record = bench.record("busy-11A", MODE);
    assert_eq!(record["status"], "running");
    assert_eq!(record["worktree"]["path"], path_str(&real));

    let listed = bench.run(["worktree", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["path"], path_str(&real));
    assert_eq!(
        listed[0]["sessions"][0]["sessionName"],
        "busy-11A.implementation"
    );
    let run = bench.run(["worktree", "clean"]).ok();
    says(
        &run.stdout,
        format!(
            "kept {}: in use by busy-11A.implementation (running)",
            real.display()
        ),
    );
    assert!(real.exists());

    fs::write(&release, "").unwrap();
    bench.wait_for_status("busy-11A", MODE, "completed");
    bench.run(["worktree", "clean", "busy-11A"]).ok();
    assert!(!real.exists());
}

#[test]
fn a_project_below_the_top_of_its_repository_runs_in_the_same_folder_of_the_worktree() {
    let bench = Bench::with_tasks(&["fix-11A"]);
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n[worktree]\ndir = \"trees\"\n",
    );
    // The repository is the bench's folder; the project is its `project/`.
    let top = bench.project.parent().unwrap().to_path_buf();
    git(&top, &["init", "-q", "-b", "main"]);
    git(&top, &["add", "project"]);
    git(&top, &["commit", "-qm", "a project in a folder"]);
    let bench = bench.with_git_env();

    let record = dispatch_detached(&bench, "fix-11A");
    let path = top.join("trees/fix-11A");
    assert_eq!(record["worktree"]["path"], path_str(&path));
    assert_eq!(record["workdir"], path_str(&path.join("project")));
    assert_eq!(
        bench.wait_for_agent("fix-11A", 1)[0].cwd,
        path_str(&path.join("project"))
    );
}

#[test]
fn a_path_in_the_way_is_refused_and_nothing_is_left_behind() {
    let bench = Bench::with_tasks(&["fix-11A"]).with_git();
    let path = worktree(&bench, "fix-11A");
    fs::create_dir_all(&path).unwrap();
    fs::write(path.join("mine.txt"), "not yours\n").unwrap();

    bench
        .run(["dispatch", "fix-11A"])
        .bad_input("already exists and is not a git worktree");
    assert_eq!(
        fs::read_to_string(path.join("mine.txt")).unwrap(),
        "not yours\n"
    );
    assert_eq!(fs::read_dir(&path).unwrap().count(), 1);
    assert_eq!(branches(&bench), ["main"]);
    no_record(&bench, "fix-11A");
    assert!(!bench.server_running(), "no window was opened");
}

#[test]
fn a_branch_checked_out_elsewhere_is_refused() {
    let bench = Bench::with_tasks(&["fix-11A", "other-11A"]).with_git();
    let elsewhere = worktree_beside(&bench, "task/fix-11A", "elsewhere");
    let run = bench
        .run(["dispatch", "fix-11A", "--exec", "detached"])
        .bad_input("the branch task/fix-11A is checked out in another worktree,");
    says(&run.stderr, elsewhere.display().to_string());
    assert!(!folder(&bench).exists());
    no_record(&bench, "fix-11A");

    // The main checkout on a task's branch.
    git(&bench.project, &["checkout", "-q", "-b", "task/other-11A"]);
    bench
        .run(["dispatch", "other-11A", "--exec", "detached"])
        .bad_input("the branch task/other-11A is checked out in the main checkout");
    no_record(&bench, "other-11A");
    assert!(!folder(&bench).exists());
}

#[test]
fn a_locked_ref_fails_cleanly_and_a_locked_index_is_no_obstacle() {
    let bench = Bench::with_tasks(&["first-11A", "second-11A"]).with_git();

    // A commit in progress in the main checkout holds its index lock; a
    // new worktree has an index of its own.
    fs::write(bench.project.join(".git/index.lock"), "").unwrap();
    let record = dispatch_detached(&bench, "first-11A");
    assert_eq!(
        record["worktree"]["path"],
        path_str(&worktree(&bench, "first-11A"))
    );
    fs::remove_file(bench.project.join(".git/index.lock")).unwrap();

    // Another git process holds the branch's ref lock: git refuses.
    let ref_lock = bench.project.join(".git/refs/heads/task/second-11A.lock");
    fs::create_dir_all(ref_lock.parent().unwrap()).unwrap();
    fs::write(&ref_lock, "").unwrap();
    let run = bench.run(["dispatch", "second-11A", "--exec", "detached"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    says(
        &run.stderr,
        format!(
            "creating the worktree {} (branch task/second-11A)",
            worktree(&bench, "second-11A").display()
        ),
    );
    says(&run.stderr, "cannot lock ref");
    assert!(!worktree(&bench, "second-11A").exists());
    assert_eq!(branches(&bench), ["main", "task/first-11A"]);
    assert_eq!(worktree_paths(&bench).len(), 2);
    no_record(&bench, "second-11A");

    fs::remove_file(&ref_lock).unwrap();
    dispatch_detached(&bench, "second-11A");

    // A worktree whose own index is locked (its agent is committing) is
    // listed without waiting for it or touching it.
    let admin = bench.project.join(".git/worktrees/second-11A/index.lock");
    fs::write(&admin, "").unwrap();
    let listed = bench.run(["worktree", "list", "--json"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    // Nor is it removed under a running git command.
    let run = bench.run(["worktree", "clean", "second-11A"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    says(&run.stdout, "a git command holds its index lock");
    assert!(admin.exists());
    assert!(worktree(&bench, "second-11A").is_dir());
    fs::remove_file(&admin).unwrap();
    bench.run(["worktree", "clean", "second-11A"]).ok();
    assert!(!worktree(&bench, "second-11A").exists());
}

#[test]
fn a_dispatch_that_cannot_start_takes_its_new_worktree_back() {
    let bench = Bench::with_tasks(&["first-11A", "second-11A"]).with_git();
    dispatch_detached(&bench, "first-11A");
    // The log folder cannot be made: starting the supervisor fails after
    // the worktree and the record were written.
    let logs = sessions_dir(&bench).join("logs");
    fs::remove_dir_all(&logs).unwrap();
    fs::write(&logs, "in the way\n").unwrap();

    let run = bench.run(["dispatch", "second-11A", "--exec", "detached"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(!worktree(&bench, "second-11A").exists());
    assert_eq!(branches(&bench), ["main", "task/first-11A"]);
    assert_eq!(worktree_paths(&bench).len(), 2);
    no_record(&bench, "second-11A");
    let leftovers: Vec<_> = fs::read_dir(sessions_dir(&bench))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("second-11A"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_worktree_deleted_by_hand_is_made_again() {
    let bench = Bench::with_tasks(&["fix-11A"]).with_git();
    dispatch_detached(&bench, "fix-11A");
    let path = worktree(&bench, "fix-11A");
    fs::remove_dir_all(&path).unwrap();

    let listed = bench.run(["worktree", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["state"], "missing");
    let dry = bench.run(["dispatch", "fix-11A", "--dry-run"]).ok();
    says(
        &dry.stdout,
        "checking out the existing branch task/fix-11A (after `git worktree prune`",
    );
    dispatch_detached(&bench, "fix-11A");
    assert_eq!(bench.wait_for_agent("fix-11A", 2)[1].cwd, path_str(&path));
    assert_eq!(git(&path, &["status", "--porcelain"]), "");
}

#[test]
fn worktree_list_shows_branch_state_commits_ahead_and_live_sessions() {
    let bench = Bench::with_tasks(&["busy-11A", "idle-11A"]).with_git();
    let release = bench.dir.path().join("release");
    bench.agent_behaviour("busy-11A", &format!("wait_for={}\n", release.display()));
    bench
        .run(["dispatch", "busy-11A", "--exec", "detached"])
        .ok();
    dispatch_detached(&bench, "idle-11A");
    // Someone else's worktree, not a task's: not listed.
    let other = worktree_beside(&bench, "feature", "other");

    let busy = worktree(&bench, "busy-11A");
    fs::write(busy.join("done.txt"), "done\n").unwrap();
    git(&busy, &["add", "done.txt"]);
    git(&busy, &["commit", "-qm", "part done"]);
    fs::write(busy.join("notes.txt"), "notes\n").unwrap();

    let listed = bench.run(["worktree", "list", "--json"]).ok().json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:#?}");
    assert!(listed.iter().all(|l| l["path"] != path_str(&other)));
    let entry = |env: &str| listed.iter().find(|l| l["envId"] == env).unwrap().clone();
    let busy_entry = entry("busy-11A");
    assert_eq!(busy_entry["path"], path_str(&busy));
    assert_eq!(busy_entry["branch"], "task/busy-11A");
    assert_eq!(busy_entry["state"], "dirty");
    assert_eq!(busy_entry["changes"], serde_json::json!(["?? notes.txt"]));
    assert_eq!(busy_entry["ahead"], 1);
    assert_eq!(busy_entry["base"], "main");
    assert_eq!(
        busy_entry["sessions"][0]["sessionName"],
        "busy-11A.implementation"
    );
    assert_eq!(busy_entry["sessions"][0]["status"], "running");
    let idle_entry = entry("idle-11A");
    assert_eq!(idle_entry["state"], "clean");
    assert_eq!(idle_entry["ahead"], 0);
    assert_eq!(idle_entry["sessions"], serde_json::json!([]));

    let table = bench.run(["worktree", "list"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("TASK"), "{table}");
    assert!(lines[0].contains("AHEAD OF main"), "{table}");
    let busy_line = lines.iter().find(|l| l.starts_with("busy-11A")).unwrap();
    for cell in [
        "task/busy-11A",
        "dirty (1)",
        "busy-11A.implementation",
        &path_str(&busy),
    ] {
        assert!(busy_line.contains(cell), "{cell}: {table}");
    }

    fs::write(&release, "").unwrap();
    bench.wait_for_status("busy-11A", MODE, "completed");
}

#[test]
fn clean_removes_only_what_loses_nothing_and_says_what_it_keeps() {
    let tasks = [
        "dirty-11A",
        "unpushed-11A",
        "merged-11A",
        "pushed-11A",
        "busy-11A",
    ];
    let bench = Bench::with_tasks(&tasks).with_git();
    let remote = bare_remote(&bench);
    for task in &tasks[..4] {
        dispatch_detached(&bench, task);
    }
    let release = bench.dir.path().join("release");
    bench.agent_behaviour("busy-11A", &format!("wait_for={}\n", release.display()));
    bench
        .run(["dispatch", "busy-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_agent("busy-11A", 1);

    let dirty = worktree(&bench, "dirty-11A");
    fs::write(dirty.join("draft.txt"), "a draft\n").unwrap();
    fs::write(dirty.join(".tasks/current/dirty-11A.task.md"), "edited\n").unwrap();
    let unpushed = worktree(&bench, "unpushed-11A");
    fs::write(unpushed.join("work.txt"), "work\n").unwrap();
    git(&unpushed, &["add", "work.txt"]);
    git(&unpushed, &["commit", "-qm", "unpushed work"]);
    let pushed = worktree(&bench, "pushed-11A");
    fs::write(pushed.join("shared.txt"), "shared\n").unwrap();
    git(&pushed, &["add", "shared.txt"]);
    git(&pushed, &["commit", "-qm", "pushed work"]);
    git(&pushed, &["push", "-q", "origin", "task/pushed-11A"]);
    let merged = worktree(&bench, "merged-11A");
    let busy = worktree(&bench, "busy-11A");

    let run = bench.run(["worktree", "clean"]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    says(
        &run.stderr,
        "2 worktree(s) kept: removing them would lose work",
    );
    says(
        out,
        format!(
            "removed {} and its branch task/merged-11A",
            merged.display()
        ),
    );
    says(
        out,
        format!(
            "removed {} and its branch task/pushed-11A",
            pushed.display()
        ),
    );
    says(
        out,
        format!("kept {}: removing it would lose", dirty.display()),
    );
    says(out, "    ?? draft.txt\n");
    says(out, "    M .tasks/current/dirty-11A.task.md\n");
    says(
        out,
        format!("kept {}: removing it would lose", unpushed.display()),
    );
    says(
        out,
        "commits on no other branch, no remote, and not in the base (1):",
    );
    says(out, " unpushed work\n");
    says(
        out,
        format!(
            "kept {}: in use by busy-11A.implementation (running)",
            busy.display()
        ),
    );
    assert!(!merged.exists() && !pushed.exists());
    assert!(dirty.join("draft.txt").exists());
    assert!(unpushed.exists() && busy.exists());
    assert_eq!(
        branches(&bench),
        [
            "main",
            "task/busy-11A",
            "task/dirty-11A",
            "task/unpushed-11A"
        ]
    );
    // The remote keeps what was pushed.
    git(&remote, &["rev-parse", "--verify", "-q", "task/pushed-11A"]);

    // Merged into main: nothing is lost any more.
    git(
        &bench.project,
        &["merge", "-q", "--ff-only", "task/unpushed-11A"],
    );
    let run = bench.run(["worktree", "clean", "unpushed-11A"]).ok();
    says(
        &run.stdout,
        format!(
            "removed {} and its branch task/unpushed-11A",
            unpushed.display()
        ),
    );

    // --force drops the changes, and says so beforehand.
    bench
        .run(["worktree", "clean", "dirty-11A", "--force"])
        .ok();
    assert!(!dirty.exists());
    assert_eq!(branches(&bench), ["main", "task/busy-11A"]);

    // A worktree in use is never removed, not even with --force.
    let run = bench.run(["worktree", "clean", "busy-11A", "--force"]);
    assert_eq!(run.code, Some(1));
    assert!(busy.exists());
    fs::write(&release, "").unwrap();
    bench.wait_for_status("busy-11A", MODE, "completed");
    bench.run(["worktree", "clean", "busy-11A"]).ok();
    assert!(!busy.exists());
    assert!(
        !folder(&bench).exists(),
        "the folder goes with the last one"
    );
    assert_eq!(worktree_paths(&bench), [path_str(&bench.project)]);
    assert_eq!(branches(&bench), ["main"]);
}

#[test]
fn clean_by_task_finds_the_parents_worktree_and_refuses_unknown_ones() {
    let bench = Bench::with_tasks(&[]);
    let subtasks = parent_with_subtasks(&bench, "auth-11A", 1);
    let bench = bench.with_git();
    dispatch_detached(&bench, &subtasks[0]);
    bench
        .run(["worktree", "clean", "nothing-11A"])
        .bad_input("no worktree for task nothing-11A");
    bench.run(["worktree", "clean", &subtasks[0]]).ok();
    assert!(!worktree(&bench, "auth-11A").exists());

    // Outside git there is nothing to clean.
    let plain = Bench::with_tasks(&["fix-11A"]);
    let run = plain.run(["worktree", "clean"]).ok();
    says(&run.stdout, "is not in a git repository");
    let run = git_unchecked(&plain.project, &["status"]);
    assert_ne!(run.code, Some(0), "the bench is outside any repository");
}

#[test]
fn many_parallel_dispatches_of_one_environment_make_one_worktree() {
    // A stress run of the race the lock closes, with tmux windows.
    let bench = Bench::with_tasks(&[]);
    let subtasks = parent_with_subtasks(&bench, "big-11A", 6);
    let bench = bench.with_git();
    dispatch_all_at_once(&bench, &subtasks, &[]);
    let path = worktree(&bench, "big-11A");
    for id in &subtasks {
        bench.wait_for_status(id, MODE, "completed");
        assert_eq!(bench.wait_for_agent(id, 1)[0].cwd, path_str(&path));
    }
    assert_eq!(worktree_paths(&bench).len(), 2);
    assert_eq!(branches(&bench), ["main", "task/big-11A"]);
}
