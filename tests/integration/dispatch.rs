//! Dispatch into tmux windows and headless: the window, the prompt the agent
//! receives, exit codes and signals in the books, races, a killed server,
//! stop, hostile text, and the GUI terminal launcher.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Bench, WAIT, wait_for};

#[test]
fn dispatch_makes_one_window_and_the_agent_gets_the_prompt_byte_for_byte() {
    let bench = Bench::with_tasks(&["fix-11A"]);
    bench.agent_behaviour("fix-11A", "say='working'\n");
    let expected = bench.run(["prompt", "fix-11A"]).ok().stdout;

    let run = bench.run(["dispatch", "fix-11A"]).ok();
    assert!(
        run.stdout.contains(
            "dispatched fix-11A (implementation) to tmux window scopecraft:fix-11A-implementation"
        ),
        "{}",
        run.stdout
    );
    let record = bench.wait_for_status("fix-11A", "implementation", "completed");
    assert_eq!(record["exitCode"], 0);
    assert_eq!(record["execType"], "tmux");
    assert_eq!(record["type"], "interactive");
    assert!(record["endTime"].is_string());

    assert_eq!(bench.windows(), ["scopecraft:fix-11A-implementation"]);
    // The supervisor sets the window's state just after writing the record.
    let window = wait_for("the window's final state", WAIT, || {
        let window = bench.tmux([
            "show-options",
            "-w",
            "-t",
            "scopecraft:fix-11A-implementation",
        ]);
        window
            .stdout
            .contains("@scopecraft-state completed")
            .then_some(window)
    });
    for option in [
        "@scopecraft-task fix-11A",
        "@scopecraft-mode implementation",
        "@scopecraft-session fix-11A.implementation",
        "@scopecraft-state completed",
        "automatic-rename off",
        "allow-rename off",
    ] {
        assert!(
            window.stdout.contains(option),
            "{option}:\n{}",
            window.stdout
        );
    }
    assert!(
        window
            .stdout
            .contains(&format!("@scopecraft-project {}", bench.project.display()))
    );
    // Targets are ids, and the record keeps them.
    assert!(
        record["tmux"]["windowId"]
            .as_str()
            .unwrap()
            .starts_with('@')
    );
    assert!(record["tmux"]["paneId"].as_str().unwrap().starts_with('%'));

    let calls = bench.wait_for_agent("fix-11A", 1);
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].prompt, expected,
        "the composed prompt, byte for byte"
    );
    assert_eq!(calls[0].cwd, bench.project.display().to_string());
    let argv = &calls[0].argv;
    assert_eq!(argv[0], "--session-id");
    assert_eq!(argv[1], record["agentSessionId"].as_str().unwrap());
    assert_eq!(argv[argv.len() - 2], "--");
    // The saved prompt is the one the agent got.
    let saved = fs::read_to_string(record["promptFile"].as_str().unwrap()).unwrap();
    assert_eq!(saved, expected);
    // The pane's output is kept beside the run's record, outside the
    // folder Scopecraft reads stream-json logs from.
    let run = record["sessionHistory"][0]["record"].as_str().unwrap();
    let log = Path::new(record["logFile"].as_str().unwrap())
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(format!("terminal/{run}.log"));
    wait_for("the pane output in the log", WAIT, || {
        fs::read_to_string(&log)
            .ok()
            .filter(|text| text.contains("working"))
    });
}

#[test]
fn exit_codes_and_signals_are_recorded() {
    let bench = Bench::with_tasks(&["three-11A", "killed-11B", "segv-11C"]);
    bench.agent_behaviour("three-11A", "exit_code=3\n");
    bench.agent_behaviour("killed-11B", "signal=KILL\n");
    bench.agent_behaviour("segv-11C", "signal=SEGV\n");
    for task in ["three-11A", "killed-11B", "segv-11C"] {
        bench.run(["dispatch", task]).ok();
    }
    let three = bench.wait_for_status("three-11A", "implementation", "failed");
    assert_eq!(three["exitCode"], 3);
    assert_eq!(three["exitSignal"], Value::Null);
    let killed = bench.wait_for_status("killed-11B", "implementation", "failed");
    assert_eq!(killed["exitSignal"], "SIGKILL");
    assert_eq!(killed["exitCode"], Value::Null);
    let segv = bench.wait_for_status("segv-11C", "implementation", "failed");
    assert_eq!(segv["exitSignal"], "SIGSEGV");
    let history = three["sessionHistory"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["exitCode"], 3);
    assert_eq!(history[0]["status"], "failed");
    let list = bench.run(["list"]).ok().stdout;
    assert!(
        list.contains("exit 3") && list.contains("SIGKILL"),
        "{list}"
    );
}

#[test]
fn twenty_agents_ending_at_once_all_have_their_exit_codes() {
    let ids: Vec<String> = (0..20).map(|i| format!("quick-{i:02}-11A")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let bench = Bench::with_tasks(&refs);
    let release = bench.dir.path().join("release");
    for (i, id) in ids.iter().enumerate() {
        bench.agent_behaviour(
            id,
            &format!("wait_for={}\nexit_code={i}\n", release.display()),
        );
    }
    for id in &ids {
        bench.run(["dispatch", id]).ok();
    }
    for id in &ids {
        bench.wait_for_agent(id, 1);
    }
    // All twenty end within a few milliseconds of each other.
    fs::write(&release, "").unwrap();
    for (i, id) in ids.iter().enumerate() {
        let status = if i == 0 { "completed" } else { "failed" };
        let record = bench.wait_for_status(id, "implementation", status);
        assert_eq!(record["exitCode"], i, "{id}");
    }
}

#[test]
fn twenty_racing_dispatches_of_one_key_start_one_agent() {
    let bench = Bench::with_tasks(&["race-11A"]);
    let release = bench.dir.path().join("release");
    bench.agent_behaviour("race-11A", &format!("wait_for={}\n", release.display()));
    let outputs: Vec<_> = (0..20)
        .map(|_| {
            let mut cmd = bench.cmd();
            cmd.args(["dispatch", "race-11A"]);
            thread::spawn(move || cmd.output().unwrap())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    for output in &outputs {
        assert_eq!(output.status.code(), Some(0), "{output:?}");
    }
    let started = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).starts_with("dispatched"))
        .count();
    let focused = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).contains("already running"))
        .count();
    assert_eq!((started, focused), (1, 19));
    bench.wait_for_agent("race-11A", 1);
    thread::sleep(Duration::from_millis(300));
    assert_eq!(bench.agent_calls("race-11A").len(), 1, "exactly one agent");
    assert_eq!(bench.windows(), ["scopecraft:race-11A-implementation"]);
    let records = bench.run(["list", "--json"]).ok().json();
    assert_eq!(records.as_array().unwrap().len(), 1);
    assert_eq!(records[0]["status"], "running");
    fs::write(&release, "").unwrap();
    bench.wait_for_status("race-11A", "implementation", "completed");
}

#[test]
fn twenty_racing_dispatches_of_different_tasks_start_twenty() {
    let ids: Vec<String> = (0..20).map(|i| format!("many-{i:02}-11A")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let bench = Bench::with_tasks(&refs);
    let release = bench.dir.path().join("release");
    bench.agent_behaviour("default", &format!("wait_for={}\n", release.display()));
    let outputs: Vec<_> = ids
        .iter()
        .map(|id| {
            let mut cmd = bench.cmd();
            cmd.args(["dispatch", id]);
            thread::spawn(move || cmd.output().unwrap())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    for output in &outputs {
        assert_eq!(output.status.code(), Some(0), "{output:?}");
    }
    for id in &ids {
        assert_eq!(bench.wait_for_agent(id, 1).len(), 1, "{id}");
    }
    let windows: BTreeSet<String> = bench.windows().into_iter().collect();
    let expected: BTreeSet<String> = ids
        .iter()
        .map(|id| format!("scopecraft:{id}-implementation"))
        .collect();
    assert_eq!(windows, expected);
    let records = bench.run(["list", "--json"]).ok().json();
    assert_eq!(records.as_array().unwrap().len(), 20);
    assert!(
        records
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "running")
    );
    fs::write(&release, "").unwrap();
    for id in &ids {
        bench.wait_for_status(id, "implementation", "completed");
    }
}

#[test]
fn killing_the_tmux_server_leaves_the_session_interrupted() {
    let bench = Bench::with_tasks(&["long-11A"]);
    running(&bench, "long-11A", "tmux");
    bench.tmux(["kill-server"]);
    let record = bench.wait_for_status("long-11A", "implementation", "interrupted");
    assert!(record["endTime"].is_string());
    let list = bench.run(["list"]).ok().stdout;
    assert!(list.contains("interrupted"), "{list}");
}

/// Dispatches `task` (in `exec`) with an agent that sleeps a minute, and
/// returns its record once the agent runs: the record says running from
/// the dispatch on, and names the agent a moment after it starts.
fn running(bench: &Bench, task: &str, exec: &str) -> Value {
    bench.agent_behaviour(task, "sleep=60\n");
    bench.run(["dispatch", task, "--exec", exec]).ok();
    bench.wait_for_agent(task, 1);
    bench.wait_for_agent_started(task, "implementation")
}

#[test]
fn a_supervisor_that_vanished_is_interrupted_when_the_books_are_read() {
    let bench = Bench::with_tasks(&["vanish-11A"]);
    let record = running(&bench, "vanish-11A", "detached");
    // SIGKILL: the supervisor cannot write anything.
    let supervisor = record["supervisorPid"].as_u64().unwrap();
    let agent = record["pid"].as_u64().unwrap();
    crate::support::kill(supervisor, 9);
    // The agent's whole group (it leads one), or its `sleep` lives on.
    crate::support::kill(agent, -9);
    let record = bench.wait_for_status("vanish-11A", "implementation", "interrupted");
    assert_eq!(record["sessionHistory"][0]["status"], "interrupted");
}

#[test]
fn closing_the_window_or_stop_records_stopped() {
    let bench = Bench::with_tasks(&["closed-11A", "asked-11B"]);
    bench.agent_behaviour("default", "sleep=60\n");
    bench.run(["dispatch", "closed-11A"]).ok();
    bench.run(["dispatch", "asked-11B"]).ok();
    bench.wait_for_agent("closed-11A", 1);
    bench.wait_for_agent("asked-11B", 1);
    bench.wait_for_status("closed-11A", "implementation", "running");
    bench.tmux(["kill-window", "-t", "scopecraft:closed-11A-implementation"]);
    let closed = bench.wait_for_status("closed-11A", "implementation", "stopped");
    assert_eq!(closed["exitSignal"], "SIGHUP");

    bench.wait_for_status("asked-11B", "implementation", "running");
    let stop = bench.run(["stop", "asked-11B"]).ok();
    assert!(
        stop.stdout.contains("asked-11B (implementation) stopped"),
        "{}",
        stop.stdout
    );
    let asked = bench.record("asked-11B", "implementation");
    assert_eq!(asked["status"], "stopped");
    assert_eq!(asked["exitSignal"], "SIGTERM");
    let again = bench.run(["stop", "asked-11B"]).ok();
    assert!(again.stdout.contains("not running"), "{}", again.stdout);
    // The window shows the summary (written just after the record) until a
    // key is pressed.
    wait_for("the summary in the window", WAIT, || {
        let pane = bench.tmux([
            "capture-pane",
            "-p",
            "-t",
            "scopecraft:asked-11B-implementation",
        ]);
        pane.stdout.contains("stopped").then_some(())
    });
    bench.tmux([
        "send-keys",
        "-t",
        "scopecraft:asked-11B-implementation",
        "x",
    ]);
    wait_for("the window to close after a key", WAIT, || {
        (!bench
            .windows()
            .contains(&"scopecraft:asked-11B-implementation".to_string()))
        .then_some(())
    });
}

#[test]
fn a_run_elsewhere_or_a_second_mode_in_the_same_worktree_is_said() {
    let bench = Bench::with_tasks(&["both-11A"]).with_git();
    bench.write(
        ".tasks/.modes/review/base.md",
        "---\ninput:\n  taskId: string\n---\n\nReview {taskId}.\n",
    );
    let first = running(&bench, "both-11A", "tmux");

    // Asked for headless while it runs in tmux: focused, and said why.
    let again = bench
        .run(["dispatch", "both-11A", "--exec", "detached"])
        .ok();
    assert!(
        again.stderr.contains(
            "both-11A (implementation) already runs in tmux, so no detached run was started: \
             its window is focused instead; to run it headless (detached), stop it first: \
             scopecraft-tmux stop both-11A --mode implementation"
        ),
        "{}",
        again.stderr
    );
    // The same exec says nothing more than that it was running.
    let same = bench.run(["dispatch", "both-11A"]).ok();
    assert_eq!(same.stderr, "");
    assert_eq!(bench.agent_calls("both-11A").len(), 1);

    // A second mode of the task: the same worktree, a warning.
    let second = bench
        .run(["dispatch", "both-11A", "-m", "review", "--exec", "detached"])
        .ok();
    let worktree = first["worktree"]["path"].as_str().unwrap();
    assert!(
        second.stderr.contains(&format!(
            "warning: both-11A also runs in mode implementation in {worktree}: both agents edit the same files"
        )),
        "{}",
        second.stderr
    );
    bench.wait_for_agent("both-11A", 2);
    bench.run(["stop", "both-11A", "-m", "review"]).ok();
    bench.run(["stop", "both-11A", "-m", "implementation"]).ok();
    // Once the other has ended, no warning.
    let third = bench
        .run(["dispatch", "both-11A", "-m", "review", "--exec", "detached"])
        .ok();
    assert!(!third.stderr.contains("warning"), "{}", third.stderr);
    bench.wait_for_agent("both-11A", 3);
    bench.run(["stop", "both-11A", "-m", "review"]).ok();
}

#[test]
fn dispatching_a_finished_session_again_reuses_its_window() {
    let bench = Bench::with_tasks(&["again-11A"]);
    bench.run(["dispatch", "again-11A"]).ok();
    let first = bench.wait_for_status("again-11A", "implementation", "completed");
    bench.run(["dispatch", "again-11A"]).ok();
    wait_for("the second run", WAIT, || {
        let record = bench.record("again-11A", "implementation");
        (record["sessionHistory"].as_array().unwrap().len() == 2 && record["status"] == "completed")
            .then_some(())
    });
    let second = bench.record("again-11A", "implementation");
    assert_eq!(second["tmux"]["windowId"], first["tmux"]["windowId"]);
    assert_ne!(second["agentSessionId"], first["agentSessionId"]);
    assert_eq!(bench.windows(), ["scopecraft:again-11A-implementation"]);
    assert_eq!(bench.agent_calls("again-11A").len(), 2);
}

#[test]
fn hostile_text_reaches_the_agent_literally() {
    let bench = Bench::with_tasks(&[]);
    let canary = bench.dir.path().join("canary");
    let hostile = format!(
        "it's \"quoted\" $(touch {c}) `touch {c}` ; touch {c} && echo $HOME\nsecond line\\n {{taskId}}",
        c = canary.display()
    );
    bench.task("evil-11A", &hostile);
    let expected = bench
        .run(["prompt", "evil-11A", "--instructions", &hostile])
        .ok()
        .stdout;
    assert_eq!(expected.matches(&hostile).count(), 2);
    bench
        .run(["dispatch", "evil-11A", "--instructions", &hostile])
        .ok();
    bench.wait_for_status("evil-11A", "implementation", "completed");
    let calls = bench.wait_for_agent("evil-11A", 1);
    assert_eq!(calls[0].prompt, expected);
    bench
        .run([
            "dispatch",
            "evil-11A",
            "--exec",
            "detached",
            "--instructions",
            &hostile,
        ])
        .ok();
    let calls = bench.wait_for_agent("evil-11A", 2);
    assert_eq!(calls[1].stdin.as_deref(), Some(expected.as_str()));
    thread::sleep(Duration::from_millis(200));
    assert!(!canary.exists(), "no shell ever saw the text");
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let bench = Bench::with_tasks(&["plan-11A"]);
    let run = bench
        .run([
            "dispatch",
            "plan-11A",
            "--dry-run",
            "--",
            "--model",
            "sonnet",
        ])
        .ok();
    assert!(
        run.stdout
            .contains("tmux new-window -d -t '=scopecraft:' -n plan-11A-implementation"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("__supervise"), "{}", run.stdout);
    assert!(run.stdout.contains("--session-id"), "{}", run.stdout);
    assert!(run.stdout.contains("--model sonnet --"), "{}", run.stdout);
    assert!(!bench.server_running());
    let written: Vec<_> = fs::read_dir(&bench.scopecraft_home)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "fake-agent")
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

#[test]
fn window_names_are_sanitised() {
    let bench = Bench::with_tasks(&["path-11A"]);
    bench.write(
        ".tasks/.modes/implementation/code_review.md",
        "---\ninput:\n  taskId: string\n---\nReview {taskId}.\n",
    );
    bench
        .run([
            "dispatch",
            "path-11A",
            "--mode",
            "implementation/code_review",
        ])
        .ok();
    bench.wait_for_status("path-11A", "implementation/code_review", "completed");
    assert_eq!(
        bench.windows(),
        ["scopecraft:path-11A-implementation_code_review"]
    );
}

#[test]
fn missing_prerequisites_fail_before_anything_exists() {
    let missing_agent =
        Bench::with_tasks(&["pre-11A"]).env("SCOPECRAFT_AGENT", "no-such-agent-xyz");
    missing_agent
        .run(["dispatch", "pre-11A"])
        .bad_input("`no-such-agent-xyz`");
    assert!(!missing_agent.server_running());
    assert!(!missing_agent.scopecraft_home.join("projects").exists());

    let bin = bin_without_tmux(&missing_agent);
    let no_tmux = Bench::with_tasks(&["pre-11A"]).env("PATH", &bin);
    no_tmux
        .run(["dispatch", "pre-11A"])
        .bad_input("tmux is not installed");

    // A tmux older than 3.0.
    let old = missing_agent.dir.path().join("bin-old-tmux");
    fs::create_dir_all(&old).unwrap();
    let fake = old.join("tmux");
    fs::write(&fake, "#!/bin/sh\necho 'tmux 2.9'\n").unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", old.display(), std::env::var("PATH").unwrap());
    let old_tmux = Bench::with_tasks(&["pre-11A"]).env("PATH", &path);
    let run = old_tmux.run(["dispatch", "pre-11A"]).bad_input("tmux 2.9");
    assert!(run.stderr.contains("3.0 or later"), "{}", run.stderr);
    assert!(!old_tmux.scopecraft_home.join("projects").exists());
}

/// A PATH without tmux (but with the shell tools the agent needs).
fn bin_without_tmux(bench: &Bench) -> std::path::PathBuf {
    let bin = bench.dir.path().join("bin-without-tmux");
    fs::create_dir_all(&bin).unwrap();
    for tool in ["bash", "env", "grep", "sort", "cat", "mkdir"] {
        let found = which(tool);
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    bin
}

fn which(tool: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(tool))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{tool} on PATH"))
}

#[test]
fn dispatch_from_inside_tmux_reaches_the_same_server() {
    let bench = Bench::with_tasks(&["inside-11A"]);
    bench.tmux(["new-session", "-d", "-s", "work", "-x", "120", "-y", "30"]);
    let agent = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-agent/claude");
    // A pane of the user's own session runs dispatch, as a user would.
    let script = bench.dir.path().join("dispatch.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ncd '{}' && SCOPECRAFT_HOME='{}' SCOPECRAFT_AGENT='{}' '{}' dispatch inside-11A > '{}/out' 2>&1\n",
            bench.project.display(),
            bench.scopecraft_home.display(),
            agent.display(),
            crate::support::BIN,
            bench.dir.path().display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    bench.tmux(["new-window", "-t", "work:", script.to_str().unwrap()]);
    bench.wait_for_status("inside-11A", "implementation", "completed");
    let windows: BTreeSet<String> = bench.windows().into_iter().collect();
    assert!(
        windows.contains("scopecraft:inside-11A-implementation"),
        "{windows:?}"
    );
    // dispatch prints once it has let go of the key; the run may end first.
    wait_for("the dispatch's report", WAIT, || {
        fs::read_to_string(bench.dir.path().join("out"))
            .ok()
            .filter(|out| out.contains("dispatched inside-11A"))
    });
}

/// Stand-ins for GUI terminals that record how they were started.
fn terminal_stand_ins(bench: &Bench, names: &[&str]) -> std::path::PathBuf {
    let bin = bench.dir.path().join("gui-bin");
    fs::create_dir_all(&bin).unwrap();
    for name in names {
        let path = bin.join(name);
        fs::write(
            &path,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > '{dir}/{name}.argv.tmp' && mv '{dir}/{name}.argv.tmp' '{dir}/{name}.argv'\n",
                dir = bench.dir.path().display()
            ),
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

#[test]
fn attach_opens_the_chosen_gui_terminal_with_the_right_argv() {
    let probe = Bench::new();
    let names = [
        "wezterm",
        "gnome-terminal",
        "konsole",
        "x-terminal-emulator",
        "wt.exe",
        "osascript",
    ];
    let bin = terminal_stand_ins(&probe, &names);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let bench = Bench::with_tasks(&["gui-11A"]).env("PATH", &path);
    bench.agent_behaviour("gui-11A", "sleep=60\n");
    bench.run(["dispatch", "gui-11A"]).ok();
    let record = bench.wait_for_status("gui-11A", "implementation", "running");
    let window = record["tmux"]["windowId"].as_str().unwrap().to_string();
    let socket = record["tmux"]["socket"].as_str().unwrap().to_string();
    let attach = format!("tmux\n-S\n{socket}\nattach-session\n-t\n{window}\n");
    let read = |name: &str| -> String {
        let file = probe.dir.path().join(format!("{name}.argv"));
        wait_for(&format!("{name} to be started"), WAIT, || {
            fs::read_to_string(&file).ok()
        })
    };
    let cases = [
        ("wezterm", "wezterm", "start\n--\n"),
        ("gnome-terminal", "gnome-terminal", "--\n"),
        ("konsole", "konsole", "-e\n"),
        ("x-terminal-emulator", "x-terminal-emulator", "-e\n"),
    ];
    for (terminal, program, before) in cases {
        bench
            .run(["attach", "gui-11A", "--terminal", terminal])
            .ok();
        let argv = read(program);
        assert_eq!(
            argv,
            format!("{}/{program}\n{before}{attach}", bin.display()),
            "{terminal}"
        );
        fs::remove_file(probe.dir.path().join(format!("{program}.argv"))).unwrap();
    }
    bench
        .run(["attach", "gui-11A", "--terminal", "iterm2"])
        .ok();
    let argv = read("osascript");
    assert!(
        argv.contains(&format!(
            "create window with default profile command \"tmux -S {socket} attach-session -t {window}\""
        )),
        "{argv}"
    );
    bench.run(["attach", "gui-11A", "--terminal", "wt"]).ok();
    assert!(read("wt.exe").contains("wsl.exe\n"));
    // auto: WezTerm comes first when present…
    bench.run(["attach", "gui-11A", "--terminal"]).ok();
    assert!(read("wezterm").contains("start\n--\ntmux"));
    // …and GNOME Terminal when it is the first one present.
    let gnome_only = terminal_stand_ins(&probe, &[]).with_file_name("gnome-only");
    fs::create_dir_all(&gnome_only).unwrap();
    std::os::unix::fs::symlink(
        bin.join("gnome-terminal"),
        gnome_only.join("gnome-terminal"),
    )
    .unwrap();
    let output = bench
        .cmd()
        .env(
            "PATH",
            format!(
                "{}:{}",
                gnome_only.display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .args(["attach", "gui-11A", "--terminal", "auto"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(read("gnome-terminal").contains("--\ntmux"));
    // None at all: a clear error.
    let output = bench
        .cmd()
        .env("PATH", std::env::var("PATH").unwrap())
        .args(["attach", "gui-11A", "--terminal"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no GUI terminal found"));
    bench.run(["stop", "gui-11A"]).ok();
}

#[test]
fn attach_explains_what_cannot_be_attached() {
    let bench = Bench::with_tasks(&["head-11A"]);
    bench.agent_behaviour("head-11A", "sleep=60\n");
    bench
        .run(["dispatch", "head-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_agent_started("head-11A", "implementation");
    bench.run(["attach", "head-11A"]).bad_input("runs headless");
    bench.run(["stop", "head-11A"]).ok();
    // Once it has ended: say how, and offer its log (nothing to follow).
    let ended = bench
        .run(["attach", "head-11A"])
        .bad_input("head-11A (implementation) ran headless and has ended: stopped");
    assert!(
        ended
            .stderr
            .trim_end()
            .ends_with("scopecraft-tmux logs head-11A --mode implementation"),
        "{}",
        ended.stderr
    );
    bench
        .run(["attach", "nothing-11A"])
        .bad_input("no task \"nothing-11A\"");
    // A run whose window was closed: say so, and where its output is.
    bench.agent_behaviour("head-11A", "");
    bench.run(["dispatch", "head-11A"]).ok();
    bench.wait_for_status("head-11A", "implementation", "completed");
    // The user's own session keeps the server up when our window goes.
    bench.tmux(["new-session", "-d", "-s", "work"]);
    bench.tmux(["kill-window", "-t", "scopecraft:head-11A-implementation"]);
    bench
        .run(["attach", "head-11A", "--mode", "implementation"])
        .bad_input("is closed: the session completed (exit 0); see what it did with: scopecraft-tmux logs head-11A");
    // Without tmux on PATH: say that, not that the server is gone.
    let no_tmux = bench
        .cmd()
        .env("PATH", bin_without_tmux(&bench))
        .args(["attach", "head-11A"])
        .output()
        .unwrap();
    let no_tmux = crate::support::Run::from(no_tmux).bad_input("tmux is not installed");
    assert!(!no_tmux.stderr.contains("gone"), "{}", no_tmux.stderr);
    // So does the menu, rather than the tmux command it could not run.
    let menu = bench
        .cmd()
        .env("PATH", bench.dir.path().join("bin-without-tmux"))
        .arg("menu")
        .output()
        .unwrap();
    let menu = crate::support::Run::from(menu).bad_input("tmux is not installed");
    assert!(!menu.stderr.contains("list-windows"), "{}", menu.stderr);
    // A task that exists but never ran: say how to start it.
    bench.task("never-11A", "Not yet.");
    bench
        .run(["attach", "never-11A"])
        .bad_input("no session of task never-11A; start one with");
}

/// A terminal client attached through `script` (a pseudo-terminal), as a
/// user's terminal would be.
fn attach_client(bench: &Bench, args: &[&str]) -> std::process::Child {
    bench.attach_client(args, std::path::Path::new("/dev/null"))
}

/// The clients of the private server: `session window_id` each.
fn clients(bench: &Bench) -> Vec<String> {
    let run = bench.tmux(["list-clients", "-F", "#{client_session} #{window_id}"]);
    run.stdout.lines().map(str::to_string).collect()
}

#[test]
fn attach_from_a_shell_attaches_and_from_inside_tmux_switches() {
    let bench = Bench::with_tasks(&["look-11A", "other-11B"]);
    bench.agent_behaviour("default", "sleep=60\n");
    bench.run(["dispatch", "look-11A"]).ok();
    bench.run(["dispatch", "other-11B"]).ok();
    let record = bench.wait_for_status("look-11A", "implementation", "running");
    let window = record["tmux"]["windowId"].as_str().unwrap().to_string();

    // Outside tmux: this terminal attaches to the session's window.
    let mut outside = attach_client(&bench, &[crate::support::BIN, "attach", "look-11A"]);
    let seen = wait_for("a client on the window", WAIT, || {
        let clients = clients(&bench);
        (!clients.is_empty()).then_some(clients)
    });
    assert_eq!(seen, [format!("scopecraft {window}")]);
    bench.tmux(["detach-client", "-a"]);
    bench.tmux(["detach-client"]);
    let _ = outside.wait();

    // Inside tmux: a client on the user's own session is switched to it.
    bench.tmux(["new-session", "-d", "-s", "work"]);
    let mut client = attach_client(&bench, &["tmux", "attach-session", "-t", "work"]);
    wait_for("the user's client", WAIT, || {
        clients(&bench)
            .iter()
            .any(|c| c.starts_with("work "))
            .then_some(())
    });
    let script = bench.dir.path().join("attach.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ncd '{}' && SCOPECRAFT_HOME='{}' '{}' attach look-11A > '{}/attach.out' 2>&1\n",
            bench.project.display(),
            bench.scopecraft_home.display(),
            crate::support::BIN,
            bench.dir.path().display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    // run-shell has no client; a window of the user's session does.
    bench.tmux(["new-window", "-t", "work:", script.to_str().unwrap()]);
    let switched = wait_for("the client to switch", WAIT, || {
        let clients = clients(&bench);
        clients
            .iter()
            .any(|c| c == &format!("scopecraft {window}"))
            .then_some(clients)
    });
    assert_eq!(switched.len(), 1, "the same client, switched: {switched:?}");
    bench.tmux(["detach-client", "-a"]);
    bench.tmux(["detach-client"]);
    let _ = client.wait();
    bench.run(["stop", "look-11A"]).ok();
    bench.run(["stop", "other-11B"]).ok();
}

#[test]
fn closing_the_last_run_window_sends_the_client_back_where_it_came_from() {
    let bench = Bench::with_tasks(&["back-11A", "shell-11B"]);
    let press_when_ended = |window: &str| {
        wait_for("the summary in the window", WAIT, || {
            let pane = bench.tmux(["capture-pane", "-pJ", "-t", window]);
            pane.stdout.contains("Press any key").then_some(())
        });
        bench.tmux(["send-keys", "-t", window, "x"]);
    };

    // From the user's own session (the menu's Attach switches the client).
    bench.tmux(["new-session", "-d", "-s", "work"]);
    let mut client = attach_client(&bench, &["tmux", "attach-session", "-t", "work"]);
    let name = wait_for("the user's client", WAIT, || {
        let run = bench.tmux(["list-clients", "-F", "#{client_name}"]);
        run.stdout.lines().next().map(str::to_string)
    });
    bench.run(["dispatch", "back-11A"]).ok();
    let record = bench.wait_for_status("back-11A", "implementation", "completed");
    let window = record["tmux"]["windowId"].as_str().unwrap().to_string();
    bench.tmux(["switch-client", "-c", &name, "-t", &window]);
    assert_eq!(clients(&bench), [format!("scopecraft {window}")]);
    assert_eq!(
        bench
            .tmux(["list-windows", "-t", "scopecraft", "-F", "#{window_id}"])
            .stdout,
        format!("{window}\n"),
        "the run's window is the session's last"
    );
    press_when_ended(&window);
    wait_for("the scopecraft session to go", WAIT, || {
        (bench.tmux(["has-session", "-t", "=scopecraft"]).code != Some(0)).then_some(())
    });
    let work = bench.tmux(["display-message", "-p", "-t", "work", "#{window_id}"]);
    assert_eq!(
        clients(&bench),
        [format!("work {}", work.stdout.trim())],
        "back in the user's session, not detached"
    );
    assert!(client.try_wait().unwrap().is_none(), "the client lives on");
    bench.tmux(["detach-client", "-a"]);
    bench.tmux(["detach-client"]);
    let _ = client.wait();

    // From a shell (`attach` outside tmux): detached, back to that shell.
    bench.agent_behaviour("shell-11B", "sleep=2\n");
    bench.run(["dispatch", "shell-11B"]).ok();
    let record = bench.wait_for_status("shell-11B", "implementation", "running");
    let window = record["tmux"]["windowId"].as_str().unwrap().to_string();
    let mut outside = attach_client(&bench, &[crate::support::BIN, "attach", "shell-11B"]);
    wait_for("a client on the window", WAIT, || {
        (clients(&bench) == [format!("scopecraft {window}")]).then_some(())
    });
    bench.wait_for_status("shell-11B", "implementation", "completed");
    press_when_ended(&window);
    wait_for("the client to end", WAIT, || outside.try_wait().unwrap());
    assert!(clients(&bench).is_empty());
}

#[test]
fn a_corrupt_record_is_reported_and_replaced_by_a_new_dispatch() {
    let bench = Bench::with_tasks(&["torn-11A", "fine-11B"]);
    bench.run(["dispatch", "fine-11B"]).ok();
    let fine = bench.wait_for_status("fine-11B", "implementation", "completed");
    let sessions = std::path::Path::new(fine["logFile"].as_str().unwrap())
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    fs::write(
        sessions.join("torn-11A.implementation.info.json"),
        "{\"sessionName\": \"torn-11A-impl",
    )
    .unwrap();
    fs::write(sessions.join("junk.info.json"), [0xff, 0xfe, 0x00]).unwrap();
    let list = bench.run(["list"]).ok();
    assert!(list.stdout.contains("fine-11B"), "{}", list.stdout);
    // One line per file, its path said once, then why.
    let torn = sessions.join("torn-11A.implementation.info.json");
    let warning = format!(
        "scopecraft-tmux: warning: skipping {}: not a session record",
        torn.display()
    );
    for line in list.stderr.lines() {
        assert_eq!(line.matches(".info.json").count(), 1, "{}", list.stderr);
    }
    assert!(list.stderr.contains(&warning), "{}", list.stderr);
    assert!(list.stderr.contains("junk.info.json"), "{}", list.stderr);
    let status = bench.run(["status", "torn-11A", "--mode", "implementation"]);
    assert_eq!(status.code, Some(2));
    assert!(status.stderr.contains(&warning), "{}", status.stderr);
    assert!(!status.stderr.contains("is not a"), "{}", status.stderr);
    bench.run(["dispatch", "torn-11A"]).ok();
    bench.wait_for_status("torn-11A", "implementation", "completed");
}

#[test]
fn status_of_a_task_reads_only_that_tasks_records() {
    let bench = Bench::with_tasks(&["mine-11A", "other-11B"]);
    for mode in ["implementation", "review"] {
        bench.write(
            &format!(".tasks/.modes/{mode}/base.md"),
            "---\ninput:\n  taskId: string\n---\n\nDo {taskId}.\n",
        );
        bench
            .run(["dispatch", "mine-11A", "--mode", mode, "--exec", "detached"])
            .ok();
        bench.wait_for_status("mine-11A", mode, "completed");
    }
    let before = bench.run(["status", "mine-11A", "--json"]).ok().json();
    // Another task's record that cannot be read: `list` reads it, and
    // says so; the status of this task does not open it.
    fs::write(
        bench
            .sessions_dir()
            .join("other-11B.implementation.session.json"),
        "{\"sessionName\": \"other-11B.impl",
    )
    .unwrap();
    assert!(bench.run(["list"]).ok().stderr.contains("other-11B"));
    let status = bench.run(["status", "mine-11A", "--json"]).ok();
    assert!(status.stderr.is_empty(), "{}", status.stderr);
    assert_eq!(status.json(), before);
    let modes: Vec<&str> = before
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["review", "implementation"], "newest first");
    let shown = bench.run(["status", "mine-11A"]).ok();
    assert!(shown.stderr.is_empty(), "{}", shown.stderr);
    assert!(shown.stdout.contains("review"), "{}", shown.stdout);
}

#[test]
fn an_agent_that_outlives_its_supervisor_stays_running_until_stop_ends_it() {
    let bench = Bench::with_tasks(&["orphan-11A"]);
    let record = running(&bench, "orphan-11A", "detached");
    let agent = record["pid"].as_u64().unwrap();
    crate::support::kill(record["supervisorPid"].as_u64().unwrap(), 9);
    // The agent still runs: the session is live, and no second agent starts.
    thread::sleep(Duration::from_millis(200));
    assert_eq!(
        bench.record("orphan-11A", "implementation")["status"],
        "running"
    );
    let again = bench
        .run(["dispatch", "orphan-11A", "--exec", "detached"])
        .ok();
    assert!(again.stdout.contains("already running"), "{}", again.stdout);
    assert_eq!(bench.agent_calls("orphan-11A").len(), 1);
    // stop ends the orphaned agent itself.
    let stop = bench.run(["stop", "orphan-11A"]).ok();
    assert!(stop.stdout.contains("stopped"), "{}", stop.stdout);
    wait_for("the agent to end", Duration::from_secs(15), || {
        crate::support::process_gone(agent).then_some(())
    });
}

#[test]
fn stop_right_after_dispatch_stops_the_session() {
    let bench = Bench::with_tasks(&["hasty-11A", "hasty-11B"]);
    bench.agent_behaviour("default", "sleep=60\n");
    for (task, exec) in [("hasty-11A", "detached"), ("hasty-11B", "tmux")] {
        bench.run(["dispatch", task, "--exec", exec]).ok();
        let stop = bench.run(["stop", task]).ok();
        assert!(stop.stdout.contains("stopped"), "{exec}: {}", stop.stdout);
        assert_eq!(
            bench.record(task, "implementation")["status"],
            "stopped",
            "{exec}"
        );
    }
}

#[test]
fn a_detached_supervisor_signalled_before_it_has_begun_stops_the_run() {
    // The record names a detached supervisor as soon as it is spawned, and
    // `stop` (or anyone) may signal it from then on: before its handlers are
    // in place too. Signalled that early, the run is stopped, not lost.
    let tasks = [
        "early-11A",
        "early-11B",
        "early-11C",
        "early-11D",
        "early-11E",
    ];
    let bench = Bench::with_tasks(&tasks);
    bench.agent_behaviour("default", "sleep=60\n");
    let projects = bench.scopecraft_home.join("projects");
    for task in tasks {
        let mut dispatch = bench
            .cmd()
            .args(["dispatch", task, "--exec", "detached"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let record = format!("{task}.implementation.session.json");
        let supervisor_on_record = || {
            let project = projects.read_dir().ok()?.next()?.ok()?.path();
            let text = fs::read_to_string(project.join("sessions").join(&record)).ok()?;
            serde_json::from_str::<Value>(&text).ok()?["supervisorPid"].as_u64()
        };
        // Polled without a pause: the moment it is written is the point.
        let deadline = std::time::Instant::now() + WAIT;
        let supervisor = loop {
            if let Some(pid) = supervisor_on_record() {
                break pid;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no supervisor on record"
            );
        };
        crate::support::kill(supervisor, 15);
        assert!(dispatch.wait().unwrap().success(), "{task}");
        let ended = wait_for("the run to end", WAIT, || {
            let record = bench.record(task, "implementation");
            (record["status"] != "running").then_some(record)
        });
        assert_eq!(ended["status"], "stopped", "{task}: {ended}");
    }
}

#[test]
fn ctrl_z_in_the_pane_does_not_freeze_the_session() {
    let bench = Bench::with_tasks(&["pause-11A"]);
    bench.agent_behaviour("pause-11A", "suspend=1\nsay=resumed\n");
    bench.run(["dispatch", "pause-11A"]).ok();
    let record = bench.wait_for_status("pause-11A", "implementation", "completed");
    assert_eq!(record["exitCode"], 0);
}

#[test]
fn prompts_an_agent_cannot_receive_are_refused_before_anything_starts() {
    let bench = Bench::with_tasks(&[]);
    bench.task("huge-11A", &"word ".repeat(40_000));
    bench
        .run(["dispatch", "huge-11A"])
        .bad_input("limits to 128 KiB");
    assert!(!bench.server_running());
    // Headless, the prompt goes on stdin: no limit.
    bench
        .run(["dispatch", "huge-11A", "--exec", "detached"])
        .ok();
    let calls = bench.wait_for_agent("huge-11A", 1);
    assert!(calls[0].stdin.as_ref().unwrap().len() > 200_000);
    bench.task("nul-11A", "before\0after");
    bench.run(["dispatch", "nul-11A"]).bad_input("NUL byte");
    // A result file below a file can never be written.
    let below_a_file = bench
        .project
        .join(".tasks/current/huge-11A.task.md/result.md");
    bench
        .run([
            "dispatch",
            "huge-11A",
            "--exec",
            "detached",
            "--save-to",
            below_a_file.to_str().unwrap(),
        ])
        .bad_input("cannot be written");
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n[modes.implementation]\nsave-to = \"../outside.md\"\n",
    );
    bench
        .run(["dispatch", "huge-11A", "--exec", "detached"])
        .bad_input("inside the project");
}

#[test]
fn relative_agent_and_home_paths_work_from_the_agents_directory() {
    let bench = Bench::with_tasks(&["rel-11A"]);
    let agent = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-agent/claude");
    fs::copy(&agent, bench.project.join("agent.sh")).unwrap();
    let run = bench
        .cmd()
        .env("SCOPECRAFT_AGENT", "./agent.sh")
        .env("SCOPECRAFT_HOME", "../scopecraft-home")
        .args(["dispatch", "rel-11A"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    bench.wait_for_status("rel-11A", "implementation", "completed");
}

#[test]
fn a_project_folder_with_tmux_format_characters_is_taken_literally() {
    let bench = Bench::with_tasks(&[]);
    let odd = bench.project.join("odd#{session_name}#(touch pwned)dir");
    fs::create_dir_all(odd.join(".tasks/current")).unwrap();
    fs::create_dir_all(odd.join(".tasks/.modes/implementation")).unwrap();
    fs::write(
        odd.join(".tasks/current/odd-11A.task.md"),
        "# Odd\n\n---\ntype: bug\nstatus: todo\narea: cli\n---\n\n## Instruction\nx\n",
    )
    .unwrap();
    fs::write(
        odd.join(".tasks/.modes/implementation/base.md"),
        "Implement {taskId}.\n",
    )
    .unwrap();
    let run = bench
        .cmd()
        .current_dir(&odd)
        .args(["dispatch", "odd-11A", "--mode", "implementation"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let calls = bench.wait_for_agent("odd-11A", 1);
    assert_eq!(
        calls[0].cwd,
        odd.canonicalize().unwrap().display().to_string()
    );
    thread::sleep(Duration::from_millis(300));
    assert!(!bench.home.join("pwned").exists() && !odd.join("pwned").exists());
}

#[test]
fn records_that_are_not_ours_or_not_whole_never_break_the_books() {
    let bench = Bench::with_tasks(&["mine-11A"]);
    bench
        .run(["dispatch", "mine-11A", "--exec", "detached"])
        .ok();
    let record = bench.wait_for_status("mine-11A", "implementation", "completed");
    let sessions = Path::new(record["logFile"].as_str().unwrap())
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    // Scopecraft's own record of the same task: says running, for ever.
    let foreign = crate::support::fixtures().join(
        "scopecraft-sessions/.tasks/.autonomous-sessions/task-test-feedback-flow-05B-1748658020078.info.json",
    );
    let text = fs::read_to_string(foreign)
        .unwrap()
        .replace("test-feedback-flow-05B\"", "mine-11A\"");
    fs::write(
        sessions.join("task-test-feedback-flow-05B-1748658020078.info.json"),
        text,
    )
    .unwrap();
    // A record naming another session than its file.
    fs::write(
        sessions.join("evil.info.json"),
        r#"{"sessionName":"x/y","taskId":"mine-11A","status":"running","startTime":"2025-01-01T00:00:00.000Z","execType":"detached","supervisorPid":999999}"#,
    )
    .unwrap();
    let list = bench.run(["list"]).ok();
    assert!(
        list.stderr.contains("names another session"),
        "{}",
        list.stderr
    );
    // Ours is the session of the task; Scopecraft's is not stopped or counted.
    let stop = bench.run(["stop", "mine-11A"]).ok();
    assert!(
        stop.stdout.contains("not running (completed)"),
        "{}",
        stop.stdout
    );
    let status = bench.run(["status", "mine-11A", "--json"]).ok().json();
    assert_eq!(status.as_array().unwrap().len(), 1);
    fs::remove_file(sessions.join("mine-11A.implementation.session.json")).unwrap();
    bench
        .run(["stop", "mine-11A"])
        .bad_input("not started by scopecraft-tmux");
}

#[test]
fn list_with_a_project_that_does_not_exist_is_an_error() {
    let bench = Bench::new();
    bench
        .run(["list", "--project", "/nonexistent/project"])
        .bad_input("/nonexistent/project");
}

#[test]
fn after_the_run_the_pane_closes_on_kill_like_any_program() {
    let bench = Bench::with_tasks(&["done-11A"]);
    bench.run(["dispatch", "done-11A"]).ok();
    let record = bench.wait_for_status("done-11A", "implementation", "completed");
    let supervisor = record["supervisorPid"].as_u64().unwrap();
    crate::support::kill(supervisor, 15);
    wait_for("the pane to close", WAIT, || {
        bench.windows().is_empty().then_some(())
    });
}

#[test]
fn a_running_session_is_found_even_without_the_agent_program() {
    // The agent's program is needed to start a run, not to find the one
    // that runs: from a shell (or a tmux server) whose PATH lacks it, a
    // second dispatch still focuses the running window.
    let bench = Bench::with_tasks(&["live-11A"]);
    running(&bench, "live-11A", "tmux");
    let missing = bench.scopecraft_home.join("no-such-agent");
    let without_agent = || {
        let output = bench
            .cmd()
            .env("SCOPECRAFT_AGENT", &missing)
            .args(["dispatch", "live-11A"])
            .output()
            .unwrap();
        crate::support::Run::from(output)
    };
    let again = without_agent().ok();
    assert!(again.stdout.contains("already running"), "{}", again.stdout);
    assert_eq!(bench.windows().len(), 1);
    assert_eq!(bench.agent_calls("live-11A").len(), 1);
    // Once it has ended, a dispatch needs the program again.
    bench.run(["stop", "live-11A"]).ok();
    without_agent().bad_input("is not installed");
    assert_eq!(
        bench.record("live-11A", "implementation")["status"],
        "stopped"
    );
}

#[test]
fn a_subtask_named_without_its_prefix_is_the_same_session() {
    let bench = Bench::with_tasks(&[]);
    bench.write(
        ".tasks/current/parent-11A/_overview.md",
        "# Parent\n\n---\ntype: feature\nstatus: todo\narea: cli\n---\n\n## Instruction\nAll of it.\n",
    );
    bench.write(
        ".tasks/current/parent-11A/01_child-11B.task.md",
        "# Child\n\n---\ntype: feature\nstatus: todo\narea: cli\n---\n\n## Instruction\nA part.\n",
    );
    bench.agent_behaviour("01_child-11B", "sleep=60\n");
    bench.run(["dispatch", "01_child-11B"]).ok();
    bench.wait_for_status("01_child-11B", "implementation", "running");
    let again = bench.run(["dispatch", "child-11B"]).ok();
    assert!(again.stdout.contains("already running"), "{}", again.stdout);
    assert_eq!(bench.windows().len(), 1);
    let status = bench.run(["status", "child-11B", "--json"]).ok().json();
    assert_eq!(status[0]["taskId"], "01_child-11B");
    bench.run(["stop", "child-11B"]).ok();
    assert_eq!(
        bench.record("01_child-11B", "implementation")["status"],
        "stopped"
    );
    // A task that does not exist is said so, with a suggestion.
    bench
        .run(["status", "chld-11B"])
        .bad_input("did you mean 01_child-11B?");
}
