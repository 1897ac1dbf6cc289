//! Reviewing and landing an agent's work against real git repositories:
//! the stand-in agent edits and commits in its worktree; `diff` shows it,
//! `merge` brings it home (or refuses, changing nothing), and `worktree
//! clean` knows work that landed by merge, squash or cherry-pick, leaves
//! other projects' worktrees and hidden work alone, and saves what
//! `--force` removes.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{Bench, git};
use crate::worktree::{branches, says, worktree};

const MODE: &str = "implementation";

/// Dispatches `task` headless with the agent committing `file` (and
/// leaving `uncommitted` uncommitted), and waits for it to complete.
fn agent_commits(bench: &Bench, task: &str, file: &str, uncommitted: Option<&str>) -> PathBuf {
    let mut conf = format!("commit_file={file}\n");
    if let Some(name) = uncommitted {
        conf.push_str(&format!("leave_file={name}\n"));
    }
    bench.agent_behaviour(task, &conf);
    bench.run(["dispatch", task, "--exec", "detached"]).ok();
    bench.wait_for_status(task, MODE, "completed");
    worktree(bench, task)
}

/// Commits `file` in the worktree at `dir` as a person would.
fn commit(dir: &Path, file: &str, text: &str) {
    fs::write(dir.join(file), text).unwrap();
    git(dir, &["add", file]);
    git(dir, &["commit", "-qm", &format!("add {file}")]);
}

#[test]
fn squash_merged_and_cherry_picked_branches_are_cleaned_without_force() {
    let bench = Bench::with_tasks(&["squashed-11A", "picked-11A", "open-11A"]).with_git();
    let squashed = agent_commits(&bench, "squashed-11A", "a.txt", None);
    commit(&squashed, "a2.txt", "more\n");
    let picked = agent_commits(&bench, "picked-11A", "b.txt", None);
    commit(&picked, "b2.txt", "more\n");
    let open = agent_commits(&bench, "open-11A", "c.txt", None);
    // Main moves on meanwhile, so nothing is a fast-forward.
    commit(&bench.project, "elsewhere.txt", "main's own work\n");

    git(
        &bench.project,
        &["merge", "-q", "--squash", "task/squashed-11A"],
    );
    git(&bench.project, &["commit", "-qm", "squashed work"]);
    let picks = git(
        &bench.project,
        &["rev-list", "--reverse", "main..task/picked-11A"],
    );
    for pick in picks.lines() {
        git(&bench.project, &["cherry-pick", pick]);
    }

    let run = bench.run(["worktree", "clean"]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    says(
        &run.stdout,
        format!(
            "removed {} and its branch task/squashed-11A (squash-merged)",
            squashed.display()
        ),
    );
    says(
        &run.stdout,
        format!(
            "removed {} and its branch task/picked-11A (its commits were cherry-picked or rebased)",
            picked.display()
        ),
    );
    says(
        &run.stdout,
        format!("kept {}: removing it would lose", open.display()),
    );
    says(&run.stdout, " open-11A: c.txt\n");
    assert!(!squashed.exists() && !picked.exists() && open.exists());
    assert_eq!(branches(&bench), ["main", "task/open-11A"]);
}

#[test]
fn a_forced_clean_saves_everything_and_the_saved_ref_restores_it() {
    let bench = Bench::with_tasks(&["dirty-11A"]);
    bench.write(".gitignore", ".env\ntarget/\n");
    let bench = bench.with_git();
    let path = agent_commits(&bench, "dirty-11A", "work.txt", Some("draft.txt"));
    let task_file = ".tasks/current/dirty-11A.task.md";
    fs::write(path.join(task_file), "edited, not committed\n").unwrap();
    fs::write(path.join(".env"), "TOKEN=mine\n").unwrap();
    fs::create_dir_all(path.join("target")).unwrap();
    fs::write(path.join("target/out.bin"), "built\n").unwrap();

    let run = bench.run(["worktree", "clean", "dirty-11A"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    says(&run.stdout, "    ?? draft.txt\n");
    says(
        &run.stdout,
        "files git ignores that are not build output (1):\n    .env\n",
    );
    says(&run.stdout, " dirty-11A: work.txt\n");

    let run = bench
        .run(["worktree", "clean", "dirty-11A", "--force"])
        .ok();
    assert!(!path.exists());
    assert_eq!(branches(&bench), ["main"]);
    let saved = git(
        &bench.project,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/scopecraft/saved/",
        ],
    );
    let reference = saved.trim();
    assert!(
        reference.starts_with("refs/scopecraft/saved/dirty-11A/"),
        "{saved}"
    );
    says(&run.stdout, format!("as {reference}; to restore it: "));

    let listed = bench.run(["worktree", "list", "--json"]).ok().json();
    let entry = &listed.as_array().unwrap()[0];
    assert_eq!(entry["state"], "saved");
    assert_eq!(entry["savedRef"], reference);
    let restore = entry["restore"].as_str().unwrap().to_string();
    let table = bench.run(["worktree", "list"]).ok().stdout;
    says(&table, &restore);

    // The documented command brings all of it back.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(&restore)
        .current_dir(&bench.project)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{restore}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        fs::read_to_string(path.join("work.txt")).unwrap(),
        "work.txt by dirty-11A\n"
    );
    assert_eq!(
        fs::read_to_string(path.join("draft.txt")).unwrap(),
        "draft.txt by dirty-11A, not committed\n"
    );
    assert_eq!(
        fs::read_to_string(path.join(task_file)).unwrap(),
        "edited, not committed\n"
    );
    assert_eq!(
        fs::read_to_string(path.join(".env")).unwrap(),
        "TOKEN=mine\n"
    );
    assert_eq!(
        git(&path, &["log", "-1", "--format=%s"]),
        "dirty-11A: work.txt\n"
    );
}

#[test]
fn edits_git_status_does_not_show_and_ignored_work_are_kept() {
    let bench = Bench::with_tasks(&["hidden-11A", "skipped-11A", "ignored-11A", "built-11A"]);
    bench.write(".gitignore", "*.local\ntarget/\n");
    let bench = bench.with_git();
    for task in ["hidden-11A", "skipped-11A", "ignored-11A", "built-11A"] {
        bench.run(["dispatch", task, "--exec", "detached"]).ok();
        bench.wait_for_status(task, MODE, "completed");
    }
    let hidden = worktree(&bench, "hidden-11A");
    let file = ".tasks/current/hidden-11A.task.md";
    git(&hidden, &["update-index", "--assume-unchanged", file]);
    fs::write(hidden.join(file), "an edit git status does not show\n").unwrap();
    assert_eq!(git(&hidden, &["status", "--porcelain"]), "");
    let skipped = worktree(&bench, "skipped-11A");
    let file = ".tasks/current/skipped-11A.task.md";
    git(&skipped, &["update-index", "--skip-worktree", file]);
    fs::write(skipped.join(file), "another hidden edit\n").unwrap();
    let ignored = worktree(&bench, "ignored-11A");
    fs::write(ignored.join("notes.local"), "my notes\n").unwrap();
    let built = worktree(&bench, "built-11A");
    fs::create_dir_all(built.join("target/debug")).unwrap();
    fs::write(built.join("target/debug/app"), "binary\n").unwrap();

    let run = bench.run(["worktree", "clean"]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    says(&run.stderr, "3 worktree(s) kept");
    says(
        &run.stdout,
        "edits git status does not show (--assume-unchanged or --skip-worktree) (1):\n    .tasks/current/hidden-11A.task.md\n",
    );
    says(&run.stdout, "    .tasks/current/skipped-11A.task.md\n");
    says(&run.stdout, "not build output (1):\n    notes.local\n");
    says(&run.stdout, format!("removed {}", built.display()));
    assert_eq!(
        fs::read_to_string(hidden.join(".tasks/current/hidden-11A.task.md")).unwrap(),
        "an edit git status does not show\n"
    );
    assert!(skipped.exists() && ignored.join("notes.local").exists());
    assert!(!built.exists());
}

/// Two projects in one repository (`project/` and `other/`), sharing the
/// worktrees folder `trees/` at its top.
fn two_projects() -> (Bench, PathBuf) {
    let bench = Bench::with_tasks(&["mine-11A", "same-11A"]);
    let config = "default-mode = \"implementation\"\n[worktree]\ndir = \"trees\"\n";
    bench.write(".tasks/.config/scopecraft-tmux.toml", config);
    let top = bench.project.parent().unwrap().to_path_buf();
    let other = top.join("other");
    crate::support::copy_dir(&bench.project.join(".tasks"), &other.join(".tasks"));
    fs::remove_file(other.join(".tasks/current/mine-11A.task.md")).unwrap();
    fs::write(
        other.join(".tasks/current/theirs-11A.task.md"),
        "# Theirs\n\n---\ntype: feature\nstatus: todo\n---\n\n## Instruction\nTheirs.\n",
    )
    .unwrap();
    git(&top, &["init", "-q", "-b", "main"]);
    git(&top, &["add", "project", "other"]);
    git(&top, &["commit", "-qm", "two projects"]);
    (bench.with_git_env(), other)
}

#[test]
fn clean_leaves_another_projects_worktrees_and_any_live_ones_alone() {
    let (bench, other) = two_projects();
    let trees = bench.project.parent().unwrap().join("trees");
    let other_arg = other.display().to_string();
    let release = bench.dir.path().join("release");
    bench.agent_behaviour("theirs-11A", &format!("wait_for={}\n", release.display()));
    bench
        .run([
            "--project",
            &other_arg,
            "dispatch",
            "theirs-11A",
            "--exec",
            "detached",
        ])
        .ok();
    bench.wait_for_agent("theirs-11A", 1);
    bench
        .run(["dispatch", "mine-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_status("mine-11A", MODE, "completed");
    // A task of the same name in both: one worktree, ours first, then the
    // other project's agent works in it.
    bench
        .run(["dispatch", "same-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_status("same-11A", MODE, "completed");
    bench.agent_behaviour("same-11A", &format!("wait_for={}\n", release.display()));
    bench
        .run([
            "--project",
            &other_arg,
            "dispatch",
            "same-11A",
            "--exec",
            "detached",
        ])
        .ok();
    bench.wait_for_agent("same-11A", 2);
    fs::write(trees.join("theirs-11A/draft.txt"), "their draft\n").unwrap();

    let listed = bench.run(["worktree", "list", "--json"]).ok().json();
    let envs: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["envId"].as_str().unwrap())
        .collect();
    assert!(!envs.contains(&"theirs-11A"), "{listed:#}");

    for args in [
        &["worktree", "clean"][..],
        &["worktree", "clean", "--force"],
    ] {
        let run = bench.run(args);
        assert!(
            trees.join("theirs-11A/draft.txt").exists(),
            "{args:?}: {}",
            run.stdout
        );
        assert!(trees.join("same-11A").exists(), "{args:?}: {}", run.stdout);
        says(
            &run.stdout,
            format!(
                "kept {}: in use by same-11A.implementation (running)",
                trees.join("same-11A").display()
            ),
        );
        assert!(!run.stdout.contains("theirs-11A"), "{}", run.stdout);
    }
    assert!(!trees.join("mine-11A").exists());

    // Named, another project's worktree is refused with its owner.
    let run = bench.run(["worktree", "clean", "theirs-11A", "--force"]);
    assert_eq!(run.code, Some(1));
    says(
        &run.stdout,
        format!("it belongs to the project {}", other.display()),
    );
    fs::write(&release, "").unwrap();
    let theirs = [
        "--project",
        &other_arg,
        "status",
        "theirs-11A",
        "--mode",
        MODE,
        "--json",
    ];
    crate::support::wait_for("their run to complete", Duration::from_secs(20), || {
        (bench.run(theirs).json()["status"] == "completed").then_some(())
    });
    assert!(trees.join("theirs-11A/draft.txt").exists());
}

#[test]
fn a_hung_git_is_given_up_on_with_a_clear_error() {
    let bench = Bench::with_tasks(&["fix-11A"]).with_git();
    // A git that never answers and leaves a child holding its output, as
    // a hung credential helper does.
    let bin = bench.dir.path().join("hung-git");
    fs::create_dir_all(&bin).unwrap();
    let pid_file = bench.dir.path().join("sleeper.pid");
    fs::write(
        bin.join("git"),
        format!(
            "#!/bin/sh\nsleep 30 &\necho $! > {}\nwait\n",
            pid_file.display()
        ),
    )
    .unwrap();
    let mut permissions = fs::metadata(bin.join("git")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    fs::set_permissions(bin.join("git"), permissions).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let bench = bench.env("PATH", path).env("SCOPECRAFT_GIT_TIMEOUT", "0.5");
    let started = Instant::now();
    let run = bench.run(["worktree", "list"]);
    let took = started.elapsed();
    if let Ok(pid) = fs::read_to_string(&pid_file) {
        crate::support::kill(pid.trim().parse().unwrap(), libc::SIGKILL);
    }
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    says(&run.stderr, "did not answer within 0.5s");
    says(&run.stderr, "SCOPECRAFT_GIT_TIMEOUT");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// A fingerprint of a checkout: HEAD, the refs, the index entries, git's
/// state files and every file's bytes outside `.git`.
fn fingerprint(dir: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    git(dir, &["rev-parse", "HEAD"]).hash(&mut hasher);
    git(dir, &["symbolic-ref", "-q", "HEAD"]).hash(&mut hasher);
    git(dir, &["for-each-ref", "--format=%(refname) %(objectname)"]).hash(&mut hasher);
    git(dir, &["ls-files", "--stage", "-v"]).hash(&mut hasher);
    for state in [
        "MERGE_HEAD",
        "CHERRY_PICK_HEAD",
        "rebase-merge",
        "rebase-apply",
        "index.lock",
    ] {
        dir.join(".git").join(state).exists().hash(&mut hasher);
    }
    fn walk(dir: &Path, hasher: &mut impl Hasher) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.file_name().unwrap() == ".git" {
                continue;
            }
            path.hash(hasher);
            if path.is_dir() {
                walk(&path, hasher);
            } else {
                fs::read(&path).unwrap().hash(hasher);
            }
        }
    }
    walk(dir, &mut hasher);
    hasher.finish()
}

#[test]
fn diff_shows_the_branchs_changes_and_what_is_not_committed() {
    let bench = Bench::with_tasks(&["fix-11A"]).with_git();
    let forked_at = git(&bench.project, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    let path = agent_commits(&bench, "fix-11A", "feature.txt", Some("draft.txt"));
    // The base moves on: that is not the task's change.
    commit(&bench.project, "elsewhere.txt", "main's own\n");

    let run = bench.run(["diff", "fix-11A"]).ok();
    let out = &run.stdout;
    says(
        out,
        format!(
            "task/fix-11A against main, since it left it at {} (1 commit(s), 1 file(s)):",
            &forked_at[..7]
        ),
    );
    says(out, "fix-11A: feature.txt\n");
    says(out, "+++ b/feature.txt\n");
    says(out, "+feature.txt by fix-11A\n");
    says(
        out,
        format!(
            "uncommitted in {} (not on the branch yet; 1 file(s)):",
            path.display()
        ),
    );
    says(out, "+draft.txt by fix-11A, not committed\n");
    assert!(!out.contains("elsewhere"), "{out}");
    assert!(!out.contains('\x1b'), "plain when piped: {out:?}");

    let stat = bench.run(["diff", "fix-11A", "--stat"]).ok().stdout;
    says(&stat, "feature.txt | 1 +");
    says(&stat, "draft.txt | 1 +");
    assert!(!stat.contains("+feature.txt by"), "{stat}");

    let json = bench.run(["diff", "fix-11A", "--json"]).ok().json();
    assert_eq!(json["base"], "main");
    assert_eq!(json["branch"], "task/fix-11A");
    assert_eq!(json["forkPoint"], forked_at.as_str());
    assert_eq!(json["committed"]["files"][0]["path"], "feature.txt");
    assert_eq!(json["committed"]["files"][0]["added"], 1);
    assert_eq!(json["uncommitted"]["files"][0]["path"], "draft.txt");
    assert_eq!(json["commits"].as_array().unwrap().len(), 1);

    // On a terminal: git's colours.
    bench.start_server(&bench.project);
    let command = format!(
        "env -u NO_COLOR {} diff fix-11A; sleep 30",
        crate::support::BIN
    );
    let dir = bench.project.display().to_string();
    bench.tmux(["new-window", "-d", "-n", "diff", "-c", &dir, &command]);
    let shown = crate::support::wait_for_or_none(Duration::from_secs(10), || {
        let text = bench
            .tmux(["capture-pane", "-p", "-e", "-t", ":diff"])
            .stdout;
        text.contains("draft.txt by").then_some(text)
    });
    let shown = shown.unwrap_or_else(|| {
        panic!(
            "the diff on a terminal: {:?}",
            bench.tmux(["capture-pane", "-p", "-t", ":diff"])
        )
    });
    assert!(shown.contains("\x1b["), "{shown:?}");

    bench.run(["diff", "nothing-11A"]).bad_input("no task");
}

#[test]
fn merge_brings_the_branch_home_in_each_mode_and_clean_then_removes_it() {
    let bench = Bench::with_tasks(&["merged-11A", "squashed-11A", "rebased-11A"]).with_git();
    let mut paths = Vec::new();
    for task in ["merged-11A", "squashed-11A", "rebased-11A"] {
        let path = agent_commits(&bench, task, &format!("{task}.txt"), None);
        commit(&path, &format!("{task}-2.txt"), "second\n");
        paths.push(path);
    }
    commit(&bench.project, "elsewhere.txt", "main's own\n");

    let run = bench.run(["merge", "merged-11A"]).ok();
    says(
        &run.stdout,
        "merged task/merged-11A (2 commit(s)) into main with a merge commit",
    );
    let parents = git(&bench.project, &["log", "-1", "--format=%P"]);
    assert_eq!(parents.split_whitespace().count(), 2, "{parents}");
    assert_eq!(
        git(&bench.project, &["log", "-1", "--format=%s"]),
        "Merge task/merged-11A: Task merged-11A\n"
    );
    assert!(bench.project.join("merged-11A-2.txt").is_file());
    assert_eq!(git(&bench.project, &["status", "--porcelain"]), "");

    bench
        .run([
            "merge",
            "squashed-11A",
            "--squash",
            "--message",
            "One commit",
        ])
        .ok();
    assert_eq!(
        git(&bench.project, &["log", "-1", "--format=%s%n%P"])
            .lines()
            .count(),
        2
    );
    assert_eq!(
        git(&bench.project, &["log", "-1", "--format=%P"])
            .split_whitespace()
            .count(),
        1
    );
    assert_eq!(
        git(&bench.project, &["log", "-1", "--format=%s"]),
        "One commit\n"
    );
    assert!(bench.project.join("squashed-11A.txt").is_file());

    let run = bench
        .run(["merge", "rebased-11A", "--rebase", "--json"])
        .ok();
    let json = run.json();
    assert_eq!(json["outcome"]["outcome"], "merged");
    assert_eq!(json["outcome"]["commits"], 2);
    let subjects = git(&bench.project, &["log", "-2", "--format=%s"]);
    assert_eq!(
        subjects,
        "add rebased-11A-2.txt\nrebased-11A: rebased-11A.txt\n"
    );
    assert_eq!(
        git(&bench.project, &["rev-parse", "main"]),
        git(&bench.project, &["rev-parse", "task/rebased-11A"])
    );
    assert_eq!(git(&paths[2], &["status", "--porcelain"]), "");
    assert!(
        paths[2].join("squashed-11A.txt").is_file(),
        "the worktree followed"
    );
    assert_eq!(git(&bench.project, &["status", "--porcelain"]), "");

    // Recorded in the books.
    let books = fs::read_dir(bench.scopecraft_home.join("projects"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("worktrees");
    for (task, method) in [
        ("merged-11A", "merge"),
        ("squashed-11A", "squash"),
        ("rebased-11A", "rebase"),
    ] {
        let record: serde_json::Value =
            serde_json::from_slice(&fs::read(books.join(format!("{task}.json"))).unwrap()).unwrap();
        assert_eq!(record["merged"]["method"], method, "{record:#}");
        assert_eq!(record["merged"]["into"], "main");
    }

    let listed = bench.run(["worktree", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["merged"]["method"], "merge", "{listed:#}");
    says(
        &bench.run(["worktree", "list"]).ok().stdout,
        "clean, merged (squash)",
    );

    // Again: nothing to do.
    let run = bench.run(["merge", "merged-11A"]).ok();
    says(
        &run.stdout,
        "nothing to merge: task/merged-11A is in main already (merged)",
    );
    let run = bench.run(["merge", "squashed-11A"]).ok();
    says(&run.stdout, "(squash-merged)");

    let run = bench.run(["worktree", "clean"]).ok();
    for path in &paths {
        assert!(!path.exists(), "{}", run.stdout);
    }
    assert_eq!(branches(&bench), ["main"]);
    // Once cleaned, the branch is gone for a reason: not "yet" to come.
    bench.run(["merge", "merged-11A"]).bad_input(
        "task merged-11A has no branch task/merged-11A: dispatch makes it with the task's worktree, \
         and `worktree clean` removes it once its work has landed",
    );
}

#[test]
fn merge_refuses_what_stands_in_the_way_and_changes_nothing() {
    let bench = Bench::with_tasks(&["fix-11A", "busy-11A"]).with_git();
    let path = agent_commits(&bench, "fix-11A", "feature.txt", None);
    let main = &bench.project;
    let branch_at = git(main, &["rev-parse", "task/fix-11A"]);

    let refused = |args: &[&str], needle: &str| {
        let before = fingerprint(main);
        let worktree_before = fingerprint(&path);
        bench.run(args).bad_input(needle);
        assert_eq!(
            fingerprint(main),
            before,
            "{args:?} changed the main checkout"
        );
        assert_eq!(
            fingerprint(&path),
            worktree_before,
            "{args:?} changed the worktree"
        );
        assert_eq!(git(main, &["rev-parse", "task/fix-11A"]), branch_at);
    };

    // The main checkout has uncommitted changes (staged, then not).
    fs::write(main.join(".tasks/current/busy-11A.task.md"), "edited\n").unwrap();
    refused(&["merge", "fix-11A"], "the main checkout");
    git(main, &["add", "-A"]);
    refused(&["merge", "fix-11A", "--squash"], "has uncommitted changes");
    git(main, &["reset", "-q", "--hard"]);

    // On another branch.
    git(main, &["switch", "-q", "-c", "elsewhere"]);
    refused(&["merge", "fix-11A"], "is on the branch elsewhere");
    git(main, &["switch", "-q", "main"]);

    // The worktree has uncommitted work.
    fs::write(path.join("draft.txt"), "not yet\n").unwrap();
    refused(
        &["merge", "fix-11A", "--rebase"],
        "has uncommitted work (?? draft.txt)",
    );
    fs::remove_file(path.join("draft.txt")).unwrap();

    // A conflict: the same file changed on both sides; named.
    commit(main, "feature.txt", "main's version\n");
    refused(
        &["merge", "fix-11A"],
        "would conflict in 1 file(s): feature.txt",
    );
    refused(&["merge", "fix-11A", "--squash"], "feature.txt");
    refused(
        &["merge", "fix-11A", "--rebase"],
        "would conflict in 1 file(s): feature.txt",
    );
    git(main, &["reset", "-q", "--hard", "HEAD~1"]);

    // A file the branch brings is in the main checkout already, untracked
    // (git would refuse it halfway) or ignored (git would overwrite it).
    fs::write(main.join("feature.txt"), "mine, not tracked\n").unwrap();
    for args in [
        &["merge", "fix-11A"][..],
        &["merge", "fix-11A", "--squash"],
        &["merge", "fix-11A", "--rebase"],
    ] {
        refused(
            args,
            "has files git does not track where the merge brings files (feature.txt)",
        );
    }
    let exclude = main.join(".git/info/exclude");
    let excluded = fs::read_to_string(&exclude).unwrap_or_default();
    fs::write(&exclude, format!("{excluded}feature.txt\n")).unwrap();
    refused(&["merge", "fix-11A"], "(feature.txt)");
    fs::write(&exclude, excluded).unwrap();
    fs::remove_file(main.join("feature.txt")).unwrap();

    // A live run in the worktree.
    let release = bench.dir.path().join("release");
    bench.agent_behaviour("fix-11A", &format!("wait_for={}\n", release.display()));
    bench
        .run(["dispatch", "fix-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_agent("fix-11A", 2);
    refused(
        &["merge", "fix-11A"],
        "a run of the task is live: fix-11A.implementation (running)",
    );
    fs::write(&release, "").unwrap();
    bench.wait_for_status("fix-11A", MODE, "completed");
    // Also one that runs in the main checkout.
    fs::remove_file(&release).unwrap();
    bench
        .run(["dispatch", "fix-11A", "--exec", "detached", "--no-worktree"])
        .ok();
    bench.wait_for_agent("fix-11A", 3);
    refused(
        &["merge", "fix-11A", "--squash"],
        "a run of the task is live",
    );
    fs::write(&release, "").unwrap();
    bench.wait_for_status("fix-11A", MODE, "completed");

    // With nothing in the way it merges.
    bench.run(["merge", "fix-11A"]).ok();
    assert!(main.join("feature.txt").is_file());
}

#[test]
fn diff_and_merge_use_the_base_the_worktree_was_made_from() {
    let bench = Bench::with_tasks(&["onto-dev-11A"]).with_git();
    let main = &bench.project;
    git(main, &["switch", "-q", "-c", "dev"]);
    commit(main, "dev.txt", "dev's own\n");
    agent_commits(&bench, "onto-dev-11A", "feature.txt", None);
    git(main, &["switch", "-q", "main"]);

    let json = bench.run(["diff", "onto-dev-11A", "--json"]).ok().json();
    assert_eq!(json["base"], "dev", "{json:#}");
    assert_eq!(json["committed"]["files"][0]["path"], "feature.txt");
    assert_eq!(json["committed"]["files"].as_array().unwrap().len(), 1);

    bench
        .run(["merge", "onto-dev-11A"])
        .bad_input("is on the branch main; switch it first");
    git(main, &["switch", "-q", "dev"]);
    let run = bench.run(["merge", "onto-dev-11A"]).ok();
    assert!(run.stdout.contains("into dev"), "{}", run.stdout);
    assert!(main.join("feature.txt").is_file());
    git(main, &["switch", "-q", "main"]);
    assert!(!main.join("feature.txt").exists(), "main is untouched");
}

#[test]
fn merging_a_subtask_merges_its_parents_branch_and_says_so() {
    let bench = Bench::with_tasks(&[]);
    bench.write(
        ".tasks/current/auth-11A/_overview.md",
        "# The whole\n\n---\ntype: feature\nstatus: todo\n---\n\n## Instruction\nAll of it.\n",
    );
    bench.write(
        ".tasks/current/auth-11A/01_part-1.task.md",
        "# Part 1\n\n---\ntype: feature\nstatus: todo\n---\n\n## Instruction\nPart 1.\n",
    );
    let bench = bench.with_git();
    bench.agent_behaviour("01_part-1", "commit_file=part1.txt\n");
    bench
        .run(["dispatch", "01_part-1", "--exec", "detached"])
        .ok();
    bench.wait_for_status("01_part-1", MODE, "completed");

    let diff = bench.run(["diff", "01_part-1"]).ok().stdout;
    says(
        &diff,
        "task 01_part-1 is a subtask of auth-11A and shares its worktree",
    );
    says(&diff, "+part1.txt by 01_part-1");
    let run = bench.run(["merge", "01_part-1", "--squash"]).ok();
    says(
        &run.stdout,
        "task 01_part-1 is a subtask of auth-11A and shares its worktree: merging auth-11A's branch task/auth-11A",
    );
    assert!(bench.project.join("part1.txt").is_file());
    let run = bench.run(["worktree", "clean", "01_part-1"]).ok();
    says(&run.stdout, "cleaning auth-11A's worktree");
    says(&run.stdout, "and its branch task/auth-11A (");
}

#[test]
fn the_menu_offers_a_tasks_diff_in_a_popup_with_a_pager() {
    let bench = Bench::with_tasks(&["fix-11A", "plain-11A"]).with_git();
    bench.start_server(&bench.project);
    let pane = bench
        .tmux(["display-message", "-p", "-t", "main", "#{pane_id}"])
        .ok()
        .stdout
        .trim()
        .to_string();
    bench
        .run([
            "dispatch",
            "plain-11A",
            "--exec",
            "detached",
            "--no-worktree",
        ])
        .ok();
    bench.wait_for_status("plain-11A", MODE, "completed");
    let main = bench.run(["menu", "--print", "--pane", &pane]).ok().stdout;
    assert!(!main.contains("Diff…"), "no worktree yet:\n{main}");

    agent_commits(&bench, "fix-11A", "feature.txt", None);
    let main = bench.run(["menu", "--print", "--pane", &pane]).ok().stdout;
    says(&main, "Diff…");
    let page = bench
        .run(["menu", "--print", "--pane", &pane, "diff"])
        .ok()
        .stdout;
    says(&page, "fix-11A  task/fix-11A");
    assert!(!page.contains("plain-11A"), "{page}");
    says(&page, "display-popup -E");
    says(&page, "diff fix-11A --color always 2>&1 | less -R");

    // What the popup runs: git's colours through the pipe.
    let coloured = bench
        .run(["diff", "fix-11A", "--color", "always"])
        .ok()
        .stdout;
    assert!(coloured.contains("\x1b["), "{coloured:?}");
    says(&coloured, "feature.txt by fix-11A");
}
