//! Faults and hostile input: files that are not what they seem, planted
//! links, tampered records, names that collide, debris. Each test is one
//! way the binary was once made to hang, lie, follow a link or leave
//! things behind.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

use crate::support::{Bench, WAIT, kill, process_gone, wait_for};

/// What a command that used to hang gets before the test fails.
const LIMIT: Duration = Duration::from_secs(20);

fn mkfifo(path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// Files ending in `.lock` in the session folder.
fn lock_files(bench: &Bench) -> Vec<String> {
    let Ok(entries) = fs::read_dir(bench.sessions_dir()) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".lock"))
        .collect()
}

#[test]
fn fifos_and_device_links_among_tasks_and_modes_are_passed_over() {
    let bench = Bench::with_tasks(&["real-11A"]).with_git();
    mkfifo(&bench.project.join(".tasks/current/fifo-11B.task.md"));
    symlink(
        "/dev/zero",
        bench.project.join(".tasks/current/zero-11C.task.md"),
    )
    .unwrap();
    symlink(
        "/dev/urandom",
        bench.project.join(".tasks/backlog-random.md"),
    )
    .unwrap();
    mkfifo(&bench.project.join(".tasks/.modes/review/base.md"));
    symlink(
        "/dev/zero",
        bench.project.join(".tasks/.modes/implementation/zero.md"),
    )
    .unwrap();

    let tasks = bench.run_within(LIMIT, ["tasks"]).ok();
    assert!(tasks.stdout.contains("real-11A"), "{}", tasks.stdout);
    assert!(!tasks.stdout.contains("fifo-11B"), "{}", tasks.stdout);
    for (file, kind) in [
        (
            "fifo-11B.task.md",
            "is a FIFO, not a regular file; passed over",
        ),
        (
            "zero-11C.task.md",
            "is a character device, not a regular file; passed over",
        ),
    ] {
        assert!(
            tasks
                .stderr
                .lines()
                .any(|line| line.contains(file) && line.contains(kind)),
            "{file}: {}",
            tasks.stderr
        );
    }

    let modes = bench.run_within(LIMIT, ["modes"]).ok();
    assert!(modes.stdout.contains("implementation"), "{}", modes.stdout);
    bench.run_within(LIMIT, ["prompt", "real-11A"]).ok();
    bench
        .run_within(
            LIMIT,
            ["dispatch", "real-11A", "--dry-run", "-e", "detached"],
        )
        .ok();
    // The FIFO named as a mode: refused, with the file named.
    bench
        .run_within(LIMIT, ["prompt", "real-11A", "--mode", "review"])
        .bad_input("is a FIFO, not a regular file");
    bench
        .run_within(LIMIT, ["prompt", "real-11A", "--mode", "zero"])
        .bad_input("zero.md is a character device");

    // A configuration file that is a FIFO does not hang a dispatch either.
    mkfifo(
        &bench
            .project
            .join(".tasks/.config/scopecraft-tmux.toml.new"),
    );
    fs::rename(
        bench
            .project
            .join(".tasks/.config/scopecraft-tmux.toml.new"),
        bench.project.join(".tasks/.config/scopecraft-tmux.toml"),
    )
    .unwrap();
    bench
        .run_within(LIMIT, ["dispatch", "real-11A", "--dry-run"])
        .bad_input("scopecraft-tmux.toml is a FIFO");
}

#[test]
fn a_mode_named_worktree_does_not_take_its_tasks_worktree_lock() {
    let bench = Bench::with_tasks(&["wt-11A"]);
    bench.write(
        ".tasks/.modes/worktree/base.md",
        "---\ninput:\n  taskId: string\n---\n\nWork on {taskId}.\n",
    );
    let bench = bench.with_git();
    bench
        .run_within(
            LIMIT,
            ["dispatch", "wt-11A", "--mode", "worktree", "-e", "detached"],
        )
        .ok();
    let record = bench.wait_for_status("wt-11A", "worktree", "completed");
    assert!(record["worktree"]["path"].is_string(), "{record}");
    // And the task's worktree can be cleaned: nothing holds its lock.
    bench
        .run_within(LIMIT, ["worktree", "clean", "wt-11A"])
        .ok();
}

#[test]
fn links_planted_in_the_books_are_refused_not_followed() {
    let bench = Bench::with_tasks(&["first-11A", "log-11B", "lock-11C"]);
    bench
        .run([
            "dispatch",
            "first-11A",
            "--exec",
            "detached",
            "--no-worktree",
        ])
        .ok();
    bench.wait_for_status("first-11A", "implementation", "completed");
    let sessions = bench.sessions_dir();
    let outside = bench.dir.path().join("outside.txt");
    fs::write(&outside, "precious\n").unwrap();

    // The log of the next run, a link to a file outside the books, under
    // every name the run may take in the next ten seconds: a taken name is
    // never opened, the run gets another.
    fs::create_dir_all(sessions.join("logs")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    for ms in now..now + 10_000 {
        symlink(
            &outside,
            sessions.join(format!("logs/task-log-11B-{ms}.log")),
        )
        .unwrap();
    }
    bench
        .run(["dispatch", "log-11B", "--exec", "detached", "--no-worktree"])
        .ok();
    let record = bench.wait_for_status("log-11B", "implementation", "completed");
    let log = std::path::Path::new(record["logFile"].as_str().unwrap());
    assert!(
        fs::symlink_metadata(log).unwrap().file_type().is_file(),
        "{}",
        log.display()
    );
    assert_eq!(fs::read_to_string(&outside).unwrap(), "precious\n");

    // A session's lock file, a link to where a file would be created.
    let target = bench.dir.path().join("created-through-a-link");
    symlink(&target, sessions.join(".lock-11C.implementation.lock")).unwrap();
    let run = bench.run([
        "dispatch",
        "lock-11C",
        "--exec",
        "detached",
        "--no-worktree",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("is a symlink"), "{}", run.stderr);
    assert!(!target.exists(), "nothing made through the link");
}

#[test]
fn no_lock_files_are_left_behind() {
    let ids: Vec<String> = (0..4).map(|i| format!("tidy-{i}-11A")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let bench = Bench::with_tasks(&refs).with_git();
    for id in &ids {
        bench.run(["dispatch", id, "--exec", "detached"]).ok();
    }
    for id in &ids {
        bench.wait_for_status(id, "implementation", "completed");
    }
    bench.run(["list"]).ok();
    bench.run(["worktree", "clean"]).ok();
    // The supervisors may still be releasing their last lock.
    wait_for("no lock files", WAIT, || {
        lock_files(&bench).is_empty().then_some(())
    });
}

#[test]
fn already_running_names_the_live_process() {
    let bench = Bench::with_tasks(&["orphan-11A"]);
    bench.agent_behaviour("orphan-11A", "sleep=60\n");
    let dispatch = || {
        bench
            .run([
                "dispatch",
                "orphan-11A",
                "--exec",
                "detached",
                "--no-worktree",
            ])
            .ok()
    };
    dispatch();
    let agent = wait_for("the agent's pid", WAIT, || {
        bench.record("orphan-11A", "implementation")["pid"].as_u64()
    });
    let record = bench.record("orphan-11A", "implementation");
    let supervisor = record["supervisorPid"].as_u64().unwrap();
    let again = dispatch();
    assert!(
        again
            .stdout
            .contains(&format!("running headless (pid {supervisor})")),
        "{}",
        again.stdout
    );
    // The supervisor dies; its agent lives on.
    kill(supervisor, libc::SIGKILL);
    wait_for("the supervisor gone", WAIT, || {
        process_gone(supervisor).then_some(())
    });
    let again = dispatch();
    assert!(
        again.stdout.contains(&format!(
            "running headless (agent pid {agent}, its supervisor gone)"
        )),
        "{}",
        again.stdout
    );
    bench.run(["stop", "orphan-11A"]).ok();
}

/// Rewrites the record of `session` in the books with `change`.
fn tamper(bench: &Bench, session: &str, change: impl FnOnce(&mut serde_json::Value)) {
    let path = bench.sessions_dir().join(format!("{session}.session.json"));
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut json);
    fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

#[test]
fn a_pid_without_a_start_time_is_never_taken_for_ours() {
    let bench = Bench::with_tasks(&["tamper-11A"]);
    bench
        .run(["dispatch", "tamper-11A", "-e", "detached", "--no-worktree"])
        .ok();
    bench.wait_for_status("tamper-11A", "implementation", "completed");
    // An unrelated process, alive, whose pid the record now names, without
    // the start times that would prove it ours (as an edited record, or one
    // written where start times cannot be read).
    let mut stranger = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let pid = u64::from(stranger.id());
    let unproven = |json: &mut serde_json::Value| {
        let record = json.as_object_mut().unwrap();
        record.insert("status".into(), "running".into());
        for field in [
            "endTime",
            "exitCode",
            "supervisorStartTicks",
            "agentStartTicks",
        ] {
            record.remove(field);
        }
        record.insert("supervisorPid".into(), pid.into());
        record.insert("pid".into(), pid.into());
    };
    tamper(&bench, "tamper-11A.implementation", unproven);
    let stop = bench.run(["stop", "tamper-11A"]).ok();
    assert!(stop.stdout.contains("is not running"), "{}", stop.stdout);
    assert!(
        stranger.try_wait().unwrap().is_none(),
        "the unrelated process was not signalled"
    );
    tamper(&bench, "tamper-11A.implementation", unproven);
    let listed = bench.run(["list", "--json"]).ok().json();
    assert_eq!(listed[0]["status"], "interrupted", "{listed}");
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}

#[test]
fn escape_sequences_from_files_are_shown_not_sent_to_the_terminal() {
    let bench = Bench::with_tasks(&["plain-11A"]);
    // A title that would retitle the terminal and clear the screen, and a
    // file name with an escape in it.
    bench.write(
        ".tasks/current/evil-11B.task.md",
        "# Evil \u{1b}]0;owned\u{7}\u{1b}[2J title\n\n---\ntype: bug\u{1b}[31m\nstatus: todo\narea: \u{9b}31m\n---\n\n## Instruction\nx\n",
    );
    bench.write(
        ".tasks/current/esc\u{1b}[5m-11C.task.md",
        "# Blink\n\n---\ntype: feature\nstatus: todo\n---\n",
    );
    bench.write(
        ".tasks/current/bad\u{1b}[8m.task.md",
        "# Bad\n\n---\n: : :\n---\n",
    );
    let tasks = bench.run(["tasks"]).ok();
    for (what, text) in [("stdout", &tasks.stdout), ("stderr", &tasks.stderr)] {
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{9b}']),
            "{what} holds raw control characters: {text:?}"
        );
    }
    assert!(
        tasks
            .stdout
            .contains("Evil \\u{1b}]0;owned\\u{7}\\u{1b}[2J title"),
        "{}",
        tasks.stdout
    );
    assert!(
        tasks.stdout.contains("esc\\u{1b}[5m-11C"),
        "{}",
        tasks.stdout
    );
    // JSON keeps the text as it is, escaped the JSON way.
    let json = bench.run(["tasks", "--json"]).ok();
    assert!(json.stdout.contains("\\u001b]0;owned"), "{}", json.stdout);
}

#[test]
fn stop_ends_what_left_the_process_group_and_does_not_wait_for_it() {
    let bench = Bench::with_tasks(&["setsid-11A", "job-11B", "orphan-11C"]);
    bench.agent_behaviour("setsid-11A", "escape=setsid\nsleep=60\n");
    bench.agent_behaviour("job-11B", "escape=job\nsleep=60\n");
    bench.agent_behaviour("orphan-11C", "escape=setsid\nsleep=60\n");
    // The last one's supervisor is killed first: `stop` itself ends it all.
    for (task, orphaned) in [
        ("setsid-11A", false),
        ("job-11B", false),
        ("orphan-11C", true),
    ] {
        bench
            .run(["dispatch", task, "-e", "detached", "--no-worktree"])
            .ok();
        let calls = bench.wait_for_agent(task, 1);
        let escaped: u64 = wait_for("the escaped process", WAIT, || {
            fs::read_to_string(calls[0].dir.join("escaped"))
                .ok()
                .and_then(|pid| pid.trim().parse().ok())
        });
        let running = bench.wait_for_status(task, "implementation", "running");
        if orphaned {
            wait_for("the agent's pid", WAIT, || {
                bench.record(task, "implementation")["pid"].as_u64()
            });
            let supervisor = running["supervisorPid"].as_u64().unwrap();
            kill(supervisor, libc::SIGKILL);
            wait_for("the supervisor gone", WAIT, || {
                process_gone(supervisor).then_some(())
            });
        }
        let started = std::time::Instant::now();
        let stop = bench.run(["stop", task]).ok();
        assert!(stop.stdout.contains("stopped"), "{}", stop.stdout);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{task}: the stop took {:?}",
            started.elapsed()
        );
        wait_for(
            &format!("{task}: the escaped process to be ended"),
            WAIT,
            || process_gone(escaped).then_some(()),
        );
    }
}

/// A small file system mounted over a folder (root only: tmpfs), to fill.
struct SmallDisk {
    dir: std::path::PathBuf,
}

impl SmallDisk {
    /// `None` (and a note on stderr) where mounting needs a root we are not.
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: mounting a small tmpfs to fill needs root (CI runs as root)");
            return None;
        }
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs failed, as root");
        Some(SmallDisk {
            dir: dir.to_path_buf(),
        })
    }

    /// Writes a ballast file until the disk is full. A supervisor that
    /// replaces a file meanwhile frees the old one's room: filled again
    /// until a new file finds none.
    #[track_caller]
    fn fill(&self, name: &str) {
        use std::io::Write;
        let mut file = fs::File::create(self.dir.join(name)).unwrap();
        let probe = self.dir.join("probe");
        for _ in 0..20 {
            for chunk in [64 * 1024, 4096, 1] {
                while file.write_all(&vec![0u8; chunk]).is_ok() && file.flush().is_ok() {}
            }
            if fs::write(&probe, "x").is_err() {
                return;
            }
            let _ = fs::remove_file(&probe);
        }
        panic!("the disk does not stay full");
    }

    fn empty(&self) {
        for entry in fs::read_dir(&self.dir).unwrap() {
            let name = entry.unwrap().file_name();
            if name.to_string_lossy().starts_with("ballast") {
                fs::remove_file(self.dir.join(name)).unwrap();
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
    }
}

#[test]
fn a_full_disk_loses_no_outcome_breaks_no_reading_and_leaves_no_half_dispatch() {
    let runtime = tempfile::tempdir().unwrap();
    let bench = Bench::with_tasks(&["kept-11A", "stranded-11B", "stale-11C", "new-11D"])
        .with_git()
        .env("XDG_RUNTIME_DIR", runtime.path());
    let Some(disk) = SmallDisk::mount(&bench.scopecraft_home, "4m") else {
        return;
    };
    let gates = bench.dir.path().join("gates");
    fs::create_dir_all(&gates).unwrap();
    for task in ["kept-11A", "stranded-11B"] {
        bench.agent_behaviour(
            task,
            &format!("wait_for='{}'\n", gates.join(task).display()),
        );
    }
    // A record that says running with its supervisor long gone.
    bench
        .run(["dispatch", "stale-11C", "-e", "detached", "--no-worktree"])
        .ok();
    bench.wait_for_status("stale-11C", "implementation", "completed");
    // Its supervisor still notes the end's notification: tamper after that.
    bench.wait_for_supervisor_end("stale-11C", "implementation");
    tamper(&bench, "stale-11C.implementation", |json| {
        json["status"] = "running".into();
        json["supervisorPid"] = (u32::MAX / 2).into();
        json["supervisorStartTicks"] = 1.into();
        json.as_object_mut().unwrap().remove("endTime");
    });
    for task in ["kept-11A", "stranded-11B"] {
        bench
            .run(["dispatch", task, "-e", "detached", "--no-worktree"])
            .ok();
        wait_for("the agent's pid", WAIT, || {
            bench.record(task, "implementation")["pid"].as_u64()
        });
    }
    let sessions = bench.sessions_dir();
    // The second run has no room set aside (as if the disk was full when
    // it began): its end can only go to the refuge.
    fs::remove_file(sessions.join(".stranded-11B.implementation@reserve")).unwrap();
    disk.fill("ballast-1");

    // Reading goes on; the correction is shown though it cannot be written.
    let list = bench.run(["list", "--json"]).ok();
    let listed = list.json();
    let stale = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["taskId"] == "stale-11C")
        .unwrap();
    assert_eq!(stale["status"], "interrupted", "{}", list.stderr);
    assert!(
        list.stderr.contains("could not be recorded"),
        "{}",
        list.stderr
    );
    bench.run(["status-line"]).ok();
    bench.run(["worktree", "list"]).ok();

    // A dispatch refuses before writing anything.
    let failed = bench.run(["dispatch", "new-11D", "-e", "detached", "--no-worktree"]);
    assert_eq!(failed.code, Some(1), "{failed:?}");
    assert!(failed.stderr.contains("is full"), "{}", failed.stderr);
    let debris: Vec<String> = fs::read_dir(&sessions)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("new-11D"))
        .collect();
    assert!(debris.is_empty(), "{debris:?}");

    // A run ends on the full disk: its outcome is written in the room set
    // aside for it.
    fs::write(gates.join("kept-11A"), "").unwrap();
    let kept = bench.wait_for_status("kept-11A", "implementation", "completed");
    assert_eq!(kept["exitCode"], 0);
    // Its supervisor still tidies after writing the end.
    bench.wait_for_supervisor_end("kept-11A", "implementation");
    // Full again, and no room set aside: the outcome goes to the refuge,
    // where readers find it.
    disk.fill("ballast-2");
    fs::write(gates.join("stranded-11B"), "").unwrap();
    let stranded = wait_for("the stranded outcome", Duration::from_secs(20), || {
        let record = bench.record("stranded-11B", "implementation");
        (record["status"] == "completed").then_some(record)
    });
    assert_eq!(stranded["exitCode"], 0);

    // Room again: the books take the outcome, and the refuge lets it go.
    disk.empty();
    bench.run(["list"]).ok();
    let on_disk: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(sessions.join("stranded-11B.implementation.session.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(on_disk["status"], "completed");
    let refuge = runtime.path().join("scopecraft-tmux-0/outcomes");
    let left: Vec<_> = fs::read_dir(&refuge)
        .map(|entries| entries.collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}
