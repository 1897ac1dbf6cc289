//! The agent where the user is: `work` (in the foreground of this
//! terminal), `dispatch --attach`, and `takeover` of a headless run.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{BIN, Bench, Run, git, wait_for};

/// `scopecraft-tmux ARGS` on a pseudo-terminal (`script`), as a user runs
/// it in a terminal, with the bench's environment; what the terminal
/// showed goes to `typescript`. `script -e` exits with our exit code.
fn on_a_terminal(bench: &Bench, args: &[&str], typescript: &Path) -> Child {
    let command = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let template = bench.cmd();
    let mut cmd = Command::new("script");
    cmd.args(["-qfec", &command])
        .arg(typescript)
        .current_dir(&bench.project)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in template.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd.spawn().unwrap()
}

/// Waits (20 s at most) for `child` to end; its exit code.
fn exit_code(mut child: Child) -> Option<i32> {
    wait_for("the command to end", Duration::from_secs(20), || {
        child.try_wait().unwrap()
    })
    .code()
}

#[test]
fn work_runs_the_agent_in_this_terminal_and_exits_with_its_code() {
    let bench = Bench::with_tasks(&["here-13A"]).with_git();
    bench.agent_behaviour("here-13A", "say='the agent speaks'\n");
    let typescript = bench.dir.path().join("typescript");
    let child = on_a_terminal(&bench, &["work", "here-13A"], &typescript);
    assert_eq!(exit_code(child), Some(0));
    let shown = fs::read_to_string(&typescript).unwrap();
    assert!(shown.contains("the agent speaks"), "{shown}");
    assert!(
        shown.contains("here-13A (implementation) completed, exit 0"),
        "{shown}"
    );
    // The dispatch's prompt, worktree and hooks; the terminal's foreground
    // is the agent's process group (Ctrl-C reaches it, not us).
    let call = bench.wait_for_agent("here-13A", 1).remove(0);
    assert_eq!(call.prompt.lines().next(), Some("Implement here-13A."));
    let worktree = bench
        .project
        .with_file_name("project.worktrees")
        .join("here-13A");
    assert_eq!(Path::new(&call.cwd), worktree);
    assert!(
        call.argv.iter().any(|a| a == "--settings"),
        "{:?}",
        call.argv
    );
    let tty = fs::read_to_string(call.dir.join("tty")).expect("the agent on a terminal");
    let groups: Vec<&str> = tty.split_whitespace().collect();
    assert_eq!(groups.len(), 2, "{tty}");
    assert_eq!(
        groups[0], groups[1],
        "the agent is the terminal's foreground"
    );
    // The books: a run like any other, its outcome, as `terminal`.
    let record = bench.record("here-13A", "implementation");
    assert_eq!(record["status"], "completed");
    assert_eq!(record["exitCode"], 0);
    assert_eq!(record["execType"], "terminal");
    assert_eq!(record["type"], "interactive");
    assert_eq!(
        git(&worktree, &["branch", "--show-current"]).trim(),
        "task/here-13A"
    );
    let list = bench.run(["list"]).ok();
    let line = list
        .stdout
        .lines()
        .find(|l| l.contains("here-13A"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains("terminal") && line.contains("completed"),
        "{}",
        list.stdout
    );

    // A failing agent: its code is ours, and the books say failed.
    bench.agent_behaviour("here-13A", "exit_code=3\n");
    let child = on_a_terminal(&bench, &["work", "here-13A", "-i", "Again"], &typescript);
    assert_eq!(exit_code(child), Some(3));
    let record = bench.record("here-13A", "implementation");
    assert_eq!(record["status"], "failed");
    assert_eq!(record["exitCode"], 3);
    assert_eq!(record["sessionHistory"].as_array().unwrap().len(), 2);
    let calls = bench.wait_for_agent("here-13A", 2);
    assert!(calls[1].prompt.contains("\nAgain\n"), "{}", calls[1].prompt);
}

#[test]
fn work_is_refused_while_that_task_and_mode_run() {
    let bench = Bench::with_tasks(&["busy-13A"]);
    let gate = bench.dir.path().join("gate");
    bench.agent_behaviour("busy-13A", &format!("wait_for='{}'\n", gate.display()));
    let typescript = bench.dir.path().join("typescript");
    let child = on_a_terminal(&bench, &["work", "busy-13A"], &typescript);
    let record = bench.wait_for_status("busy-13A", "implementation", "running");
    assert_eq!(record["execType"], "terminal");
    bench.wait_for_agent("busy-13A", 1);
    // A second `work`, and a dispatch, of the same key start nothing.
    let refused = bench
        .run(["work", "busy-13A"])
        .bad_input("busy-13A (implementation) already runs in another terminal");
    assert!(
        refused.stderr.contains("scopecraft-tmux stop busy-13A"),
        "{}",
        refused.stderr
    );
    let again = bench.run(["dispatch", "busy-13A"]).ok();
    assert!(
        again
            .stdout
            .contains("is already running in a terminal (`work`, pid "),
        "{}",
        again.stdout
    );
    bench
        .run(["attach", "busy-13A"])
        .bad_input("runs in the terminal that ran `work`");
    assert_eq!(bench.agent_calls("busy-13A").len(), 1);
    assert!(bench.windows().is_empty(), "{:?}", bench.windows());
    // `--exec terminal` is not a dispatch.
    bench
        .run(["dispatch", "busy-13A", "--exec", "terminal"])
        .code
        .filter(|c| *c == 2)
        .expect("exit 2");
    fs::write(&gate, "").unwrap();
    assert_eq!(exit_code(child), Some(0));
    assert_eq!(
        bench.record("busy-13A", "implementation")["status"],
        "completed"
    );
    // An unknown task: exit 2 and nothing in the books.
    let unknown: Run = bench.run(["work", "nothing-13A"]);
    assert_eq!(unknown.code, Some(2), "{}", unknown.stderr);
}
