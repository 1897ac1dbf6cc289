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

    // --continue resumes the conversation here, where it ran.
    bench.agent_behaviour("here-13A", "");
    let conversation = record["agentSessionId"].as_str().unwrap().to_string();
    let child = on_a_terminal(
        &bench,
        &["work", "here-13A", "--continue", "-i", "Now the tests"],
        &typescript,
    );
    assert_eq!(exit_code(child), Some(0));
    let call = bench.wait_for_agent("here-13A", 3).remove(2);
    let resumed = call.argv.iter().position(|a| a == "--resume");
    assert_eq!(
        resumed.and_then(|i| call.argv.get(i + 1)),
        Some(&conversation),
        "{:?}",
        call.argv
    );
    assert_eq!(call.prompt, "Now the tests");
    assert_eq!(Path::new(&call.cwd), worktree);
    let record = bench.record("here-13A", "implementation");
    assert_eq!(record["status"], "completed");
    assert_eq!(record["execType"], "terminal");
    assert_eq!(record["sessionHistory"].as_array().unwrap().len(), 3);
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

/// The clients of the private server: `session window_id` each.
fn clients(bench: &Bench) -> Vec<String> {
    let run = bench.tmux(["list-clients", "-F", "#{client_session} #{window_id}"]);
    run.stdout.lines().map(str::to_string).collect()
}

#[test]
fn dispatch_attach_goes_to_the_new_run_outside_and_inside_tmux() {
    let bench = Bench::with_tasks(&["go-13A", "go-13B"]);
    bench.agent_behaviour("default", "sleep=60\n");
    // Outside tmux, on a terminal: this terminal attaches to the new window.
    let typescript = bench.dir.path().join("typescript");
    let mut outside = on_a_terminal(&bench, &["dispatch", "go-13A", "--attach"], &typescript);
    let seen = wait_for("a client on the window", Duration::from_secs(20), || {
        let clients = clients(&bench);
        (!clients.is_empty()).then_some(clients)
    });
    let record = bench.record("go-13A", "implementation");
    let window = record["tmux"]["windowId"].as_str().unwrap().to_string();
    assert_eq!(seen, [format!("scopecraft {window}")]);
    bench.tmux(["detach-client", "-a"]);
    bench.tmux(["detach-client"]);
    let _ = outside.wait();

    // Inside tmux: the user's client is switched to the new run's window.
    bench.tmux(["new-session", "-d", "-s", "work"]);
    let mut client = bench.attach_client(
        &["tmux", "attach-session", "-t", "work"],
        Path::new("/dev/null"),
    );
    wait_for("the user's client", Duration::from_secs(10), || {
        clients(&bench)
            .iter()
            .any(|c| c.starts_with("work "))
            .then_some(())
    });
    let script = bench.dir.path().join("go.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ncd '{}' && SCOPECRAFT_HOME='{}' SCOPECRAFT_AGENT='{}' '{}' dispatch go-13B --attach > '{}/go.out' 2>&1\n",
            bench.project.display(),
            bench.scopecraft_home.display(),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-agent/claude").display(),
            BIN,
            bench.dir.path().display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    bench.tmux(["new-window", "-t", "work:", script.to_str().unwrap()]);
    let record = bench.wait_for_status("go-13B", "implementation", "running");
    let window_b = wait_for("the window id", Duration::from_secs(20), || {
        bench.record("go-13B", "implementation")["tmux"]["windowId"]
            .as_str()
            .map(str::to_string)
    });
    assert_eq!(record["execType"], "tmux");
    let switched = wait_for("the client to switch", Duration::from_secs(20), || {
        let clients = clients(&bench);
        clients
            .iter()
            .any(|c| c == &format!("scopecraft {window_b}"))
            .then_some(clients)
    });
    assert_eq!(switched.len(), 1, "the same client, switched: {switched:?}");
    bench.tmux(["detach-client", "-a"]);
    bench.tmux(["detach-client"]);
    let _ = client.wait();
    bench.run(["stop", "go-13A"]).ok();
    bench.run(["stop", "go-13B"]).ok();
}

#[test]
fn dispatch_attach_follows_a_headless_run_and_needs_a_terminal_outside_tmux() {
    let bench = Bench::with_tasks(&["tail-13A", "none-13B"]);
    bench.agent_behaviour("tail-13A", "say='headless words'\nexit_code=3\n");
    // Headless: the log is followed until the run ends, with logs -f's code.
    let run = bench.run_within(
        Duration::from_secs(30),
        ["dispatch", "tail-13A", "-e", "detached", "--attach"],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("dispatched tail-13A"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("tail-13A (implementation) failed, exit 3"),
        "{}",
        run.stdout
    );
    // A tmux run, outside tmux, with no terminal: refused, nothing started.
    let refused = bench
        .run(["dispatch", "none-13B", "--attach"])
        .bad_input("--attach outside tmux attaches this terminal, and there is none");
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    assert!(bench.agent_calls("none-13B").is_empty());
    assert_eq!(bench.run(["status", "none-13B"]).code, Some(2));
    assert!(!bench.server_running());
}

#[test]
fn dispatch_attach_terminal_opens_a_gui_terminal_on_the_window() {
    let probe = Bench::new();
    let bin = probe.dir.path().join("gui-bin");
    fs::create_dir_all(&bin).unwrap();
    let wezterm = bin.join("wezterm");
    fs::write(
        &wezterm,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{0}/argv.tmp' && mv '{0}/argv.tmp' '{0}/argv'\n",
            probe.dir.path().display()
        ),
    )
    .unwrap();
    fs::set_permissions(
        &wezterm,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let bench = Bench::with_tasks(&["gui-13A"]).env("PATH", &path);
    bench.agent_behaviour("gui-13A", "sleep=60\n");
    bench.run(["dispatch", "gui-13A", "--attach=terminal"]).ok();
    let record = bench.record("gui-13A", "implementation");
    let window = record["tmux"]["windowId"].as_str().unwrap().to_string();
    let argv = wait_for("wezterm to be started", Duration::from_secs(10), || {
        fs::read_to_string(probe.dir.path().join("argv")).ok()
    });
    assert!(argv.starts_with("start\n--\ntmux\n-S\n"), "{argv}");
    assert!(
        argv.ends_with(&format!("attach-session\n-t\n{window}\n")),
        "{argv}"
    );
    bench.run(["stop", "gui-13A"]).ok();
}

#[test]
fn takeover_turns_a_running_headless_run_into_a_tmux_window_on_its_conversation() {
    let bench = Bench::with_tasks(&["over-13A", "plain-13B"]).with_git();
    bench.agent_behaviour("over-13A", "sleep=60\n");
    bench.run(["dispatch", "over-13A", "-e", "detached"]).ok();
    let headless = bench.wait_for_status("over-13A", "implementation", "running");
    assert_eq!(headless["execType"], "detached");
    let first = bench.wait_for_agent("over-13A", 1).remove(0);
    let id = headless["agentSessionId"].as_str().unwrap().to_string();
    let agent_pid = wait_for("the agent's pid", Duration::from_secs(20), || {
        bench.record("over-13A", "implementation")["pid"].as_i64()
    }) as i32;

    let taken = bench.run(["takeover", "over-13A"]).ok();
    assert!(
        taken.stdout.contains(&format!(
            "took over over-13A (implementation): the headless run is stopped; conversation {id} goes on in tmux window scopecraft:over-13A-implementation"
        )),
        "{}",
        taken.stdout
    );
    // The headless agent is gone at once; the window resumes by id, where it ran.
    // SAFETY: kill(2) with signal 0 only asks whether the process exists.
    assert_ne!(
        unsafe { libc::kill(agent_pid, 0) },
        0,
        "the headless agent still runs"
    );
    let second = bench.wait_for_agent("over-13A", 2).remove(1);
    let resume = second
        .argv
        .iter()
        .position(|a| a == "--resume")
        .expect("--resume");
    assert_eq!(second.argv[resume + 1], id);
    assert!(!second.argv.iter().any(|a| a == "-p"), "{:?}", second.argv);
    assert_eq!(second.cwd, first.cwd);
    let record = bench.wait_for_status("over-13A", "implementation", "running");
    assert_eq!(record["execType"], "tmux");
    assert_eq!(record["agentSessionId"], id.as_str());
    let runs = record["sessionHistory"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0]["execType"], "detached");
    assert_eq!(runs[0]["status"], "stopped");
    assert_eq!(runs[1]["execType"], "tmux");
    assert_eq!(runs[1]["resumedFrom"], id.as_str());
    assert_eq!(bench.windows(), ["scopecraft:over-13A-implementation"]);

    // Not headless any more: refused, nothing stopped.
    bench
        .run(["takeover", "over-13A"])
        .bad_input("is not headless: it runs in tmux already");
    assert_eq!(
        bench.record("over-13A", "implementation")["status"],
        "running"
    );
    bench.run(["stop", "over-13A"]).ok();
    // Nothing runs.
    bench
        .run(["takeover", "over-13A"])
        .bad_input("nothing runs: over-13A (implementation) is stopped");

    // No conversation id yet: an agent that names none (a profile without
    // {id}) and has reported none.
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n\n[agents.plain]\ncommand = \"claude\"\nheadless = []\nheadless-prompt = \"stdin\"\nresume-interactive = [\"--resume\", \"{id}\"]\n",
    );
    bench.agent_behaviour("plain-13B", "sleep=60\n");
    bench
        .run([
            "dispatch",
            "plain-13B",
            "-e",
            "detached",
            "--agent",
            "plain",
        ])
        .ok();
    bench.wait_for_status("plain-13B", "implementation", "running");
    bench.wait_for_agent("plain-13B", 1);
    bench
        .run(["takeover", "plain-13B"])
        .bad_input("has no conversation id yet");
    assert_eq!(
        bench.record("plain-13B", "implementation")["status"],
        "running"
    );
    assert_eq!(bench.agent_calls("plain-13B").len(), 1);
    bench.run(["stop", "plain-13B"]).ok();
}

#[test]
fn the_menu_offers_to_take_over_headless_runs_only() {
    let bench = Bench::with_tasks(&["menu-13A", "menu-13B"]);
    bench.start_server(&bench.project);
    let pane = bench
        .tmux(["display-message", "-p", "-t", "main", "#{pane_id}"])
        .stdout
        .trim()
        .to_string();
    bench.agent_behaviour("default", "sleep=60\n");
    bench.run(["dispatch", "menu-13B"]).ok();
    bench.wait_for_status("menu-13B", "implementation", "running");
    let main = bench.run(["menu", "--print", "--pane", &pane]).ok().stdout;
    assert!(!main.contains("Take over…"), "only a tmux run:\n{main}");
    bench.run(["dispatch", "menu-13A", "-e", "detached"]).ok();
    bench.wait_for_status("menu-13A", "implementation", "running");
    let main = bench.run(["menu", "--print", "--pane", &pane]).ok().stdout;
    assert!(main.contains("Take over…"), "{main}");
    let page = bench
        .run(["menu", "--print", "--pane", &pane, "takeover"])
        .ok()
        .stdout;
    assert!(
        page.contains(&format!(
            "run -- --project {} takeover menu-13A --mode implementation",
            bench.project.display()
        )),
        "{page}"
    );
    assert!(!page.contains("menu-13B"), "{page}");
    bench.run(["stop", "menu-13A"]).ok();
    bench.run(["stop", "menu-13B"]).ok();
}
