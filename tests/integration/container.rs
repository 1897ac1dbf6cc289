//! `--exec docker` on a real container engine: Podman (with `runc`) as the
//! engine (`engine = "podman"` under `[docker]`), an image made here from
//! busybox and bash, the fake agent and the books mounted at their paths.
//! The agent runs in the container and sees the task's worktree at
//! /workspace; its stream reaches the log, its exit code the books; `stop`
//! ends the container.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::headless::{LOG_A, replay};
use crate::support::podman::{IMAGE, Podman};
use crate::support::{Bench, wait_for};

/// A project with `tasks` in git (so each runs in a worktree), configured
/// for `podman`; `None` when this machine has no engine (and none is
/// required).
fn bench_with_podman(tasks: &[&str]) -> Option<(Bench, Podman)> {
    let bench = Bench::with_tasks(tasks);
    let podman = Podman::start(bench.dir.path())?;
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        &format!(
            "default-mode = \"implementation\"\n\n[docker]\nengine = \"podman\"\nimage = \"{IMAGE}\"\n\
             mounts = [\"{tests}:{tests}:ro\", \"{home}:{home}\"]\nenv = [\"SCOPECRAFT_HOME\"]\n",
            tests = tests.display(),
            home = bench.scopecraft_home.display(),
        ),
    );
    let bench = bench
        .with_git()
        .env("CONTAINERS_CONF", &podman.conf)
        .env("CONTAINERS_STORAGE_CONF", &podman.storage_conf);
    Some((bench, podman))
}

#[test]
fn podman_runs_the_agent_in_a_container_on_the_tasks_worktree() {
    let Some((bench, podman)) = bench_with_podman(&["pod-11A"]) else {
        return;
    };
    bench.agent_behaviour(
        "pod-11A",
        &format!(
            "{}exit_code=3\ntouch=made-in-the-container\n",
            replay(LOG_A)
        ),
    );
    let prompt = bench.run(["prompt", "pod-11A"]).ok().stdout;
    bench.run(["dispatch", "pod-11A", "--exec", "docker"]).ok();
    let record = bench.wait_for_status("pod-11A", "implementation", "failed");

    // The exit code came out of the container into the books.
    assert_eq!(record["exitCode"], 3, "{record}");
    assert_eq!(record["execType"], "docker");
    let engine = record["agentCommand"][0].as_str().unwrap();
    assert!(engine.ends_with("/podman"), "{engine}");

    // The agent ran in the container, in /workspace (which this machine
    // does not have), on its prompt, and what it made there is in the
    // task's worktree.
    let calls = bench.wait_for_agent("pod-11A", 1);
    assert_eq!(calls[0].cwd, "/workspace");
    assert!(!Path::new("/workspace").exists());
    assert_eq!(calls[0].stdin.as_deref(), Some(prompt.as_str()));
    let worktree = record["workdir"].as_str().unwrap();
    assert!(
        worktree.ends_with("project.worktrees/pod-11A"),
        "{worktree}"
    );
    assert!(Path::new(worktree).join("made-in-the-container").is_file());

    // Its stream reached the log; `logs` reads it.
    let id = record["agentSessionId"].as_str().unwrap();
    let log = fs::read_to_string(record["logFile"].as_str().unwrap()).unwrap();
    assert!(
        log.starts_with(&format!(
            "{{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"{id}\""
        )),
        "{}",
        &log[..log.len().min(300)]
    );
    assert_eq!(log.lines().count(), 111, "every line of the replayed run");
    let logs = bench.run(["logs", "pod-11A"]).ok().stdout;
    assert!(logs.contains("86 turns"), "{logs}");

    // `--rm`: the container is gone with the run.
    let container = record["container"].as_str().unwrap().to_string();
    assert!(!podman.containers().contains(&container));
}

#[test]
fn podman_stop_ends_the_container() {
    let Some((bench, podman)) = bench_with_podman(&["podstop-11B"]) else {
        return;
    };
    bench.agent_behaviour("podstop-11B", "sleep=120\n");
    bench
        .run(["dispatch", "podstop-11B", "--exec", "docker"])
        .ok();
    bench.wait_for_agent("podstop-11B", 1);
    let running = bench.wait_for_status("podstop-11B", "implementation", "running");
    let container = running["container"].as_str().unwrap().to_string();
    assert!(
        podman.containers().contains(&container),
        "{:?}",
        podman.containers()
    );

    bench.run(["stop", "podstop-11B"]).ok();
    let stopped = bench.record("podstop-11B", "implementation");
    assert_eq!(stopped["status"], "stopped", "{stopped}");
    wait_for("the container to be gone", Duration::from_secs(10), || {
        (!podman.containers().contains(&container)).then_some(())
    });
}

/// From tmux: the plugin's menu, told `@scopecraft-exec docker`, offers the
/// dispatch with `--exec docker`, and that item, run by the tmux server as
/// the menu runs it, starts the agent in a container.
#[test]
fn podman_runs_a_dispatch_from_the_tmux_menu() {
    let Some((bench, _podman)) = bench_with_podman(&["podtmux-11C"]) else {
        return;
    };
    bench.agent_behaviour("podtmux-11C", &replay(LOG_A));
    bench.start_server(&bench.project);
    bench
        .tmux(["set-option", "-g", "@scopecraft-exec", "docker"])
        .ok();
    let pane = bench.main_pane();
    let modes = bench
        .run(["menu", "--print", "--pane", &pane, "modes", "podtmux-11C"])
        .ok()
        .stdout;
    // The item's command: `run-shell -b '<the dispatch>'`, quoted once
    // more for the menu (the bench's paths need no quoting of their own).
    let item = modes
        .lines()
        .find(|line| line.contains("--mode implementation"))
        .unwrap_or_else(|| panic!("no implementation item in {modes}"));
    let command = item
        .split_once("'run-shell -b '\\''")
        .and_then(|(_, rest)| rest.split_once("'\\'''"))
        .map(|(command, _)| command)
        .unwrap_or_else(|| panic!("no run-shell in {item}"));
    assert!(
        command.ends_with("dispatch podtmux-11C --mode implementation --exec docker"),
        "{command}"
    );
    bench.tmux(["run-shell", command]).ok();

    let record = bench.wait_for_status("podtmux-11C", "implementation", "completed");
    assert_eq!(record["execType"], "docker");
    assert_eq!(record["exitCode"], 0);
    let calls = bench.wait_for_agent("podtmux-11C", 1);
    assert_eq!(calls[0].cwd, "/workspace");
    let log = fs::read_to_string(record["logFile"].as_str().unwrap()).unwrap();
    assert_eq!(log.lines().count(), 111, "every line of the replayed run");
}
