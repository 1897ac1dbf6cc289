//! The agent's state from its hooks: the fake agent fires the hook commands
//! of the `--settings` we pass with the JSON input Claude Code sends, step by
//! step, and the books, the window and the status line follow.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Bench, WAIT, wait_for};

/// A tmux run of `task` whose agent fires the hook `script` (see
/// tests/fake-agent/claude); `wait gate-N` lines wait for [`gate`].
pub fn hooked_run(bench: &Bench, task: &str, script: &str, extra: &str) {
    let gates = gates(bench);
    fs::create_dir_all(&gates).unwrap();
    let script = script.replace("gate-", &format!("{}/gate-", gates.display()));
    let path = gates.join(format!("{task}.hooks"));
    fs::write(&path, script).unwrap();
    bench.agent_behaviour(task, &format!("hooks={}\n{extra}", path.display()));
    bench.run(["dispatch", task]).ok();
}

fn gates(bench: &Bench) -> PathBuf {
    bench.dir.path().join("gates")
}

/// Lets the fake agent past `wait gate-N`.
pub fn gate(bench: &Bench, n: u32) {
    fs::write(gates(bench).join(format!("gate-{n}")), "").unwrap();
}

/// Waits until the run's state (`state_word` as `list` shows it, with
/// the reason) is `label`.
#[track_caller]
pub fn wait_for_state(bench: &Bench, task: &str, label: &str) -> Value {
    wait_for(
        &format!("{task} to be {label}"),
        Duration::from_secs(20),
        || {
            let record = bench.record(task, "implementation");
            (state_label(&record) == label).then_some(record)
        },
    )
}

/// `working` (running, and the hooks said so), `waiting (permission_prompt)`,
/// `blocked (rate_limit)`, …, else the status.
fn state_label(record: &Value) -> String {
    let status = record["status"].as_str().unwrap_or_default();
    let agent = &record["agentState"];
    match (status, agent["state"].as_str(), agent["reason"].as_str()) {
        ("running", Some("working"), _) => "working".to_string(),
        ("waiting", Some("blocked"), Some(reason)) => format!("blocked ({reason})"),
        ("waiting", _, Some(reason)) => format!("waiting ({reason})"),
        _ => status.to_string(),
    }
}

/// The hook calls the fake agent made (`Event exit-code`), and what they
/// printed on stdout.
fn hook_calls(bench: &Bench, task: &str) -> (Vec<String>, String) {
    let call = &bench.agent_calls(task)[0];
    let calls = fs::read_to_string(call.dir.join("hooks")).unwrap_or_default();
    let stdout = fs::read_to_string(call.dir.join("hook-stdout")).unwrap_or_default();
    (calls.lines().map(str::to_string).collect(), stdout)
}

/// Waits until the run's window says `state` (published after the record
/// is written).
#[track_caller]
fn wait_for_window(bench: &Bench, task: &str, state: &str) {
    wait_for(
        &format!("{task}'s window to say {state}"),
        Duration::from_secs(20),
        || (window_state(bench, task) == state).then_some(()),
    );
}

fn window_state(bench: &Bench, task: &str) -> String {
    bench
        .tmux([
            "show-options",
            "-wqv",
            "-t",
            &format!("scopecraft:{task}-implementation"),
            "@scopecraft-state",
        ])
        .stdout
        .trim()
        .to_string()
}

#[test]
fn working_and_waiting_with_the_reason_from_every_hook() {
    let bench = Bench::with_tasks(&["ask-11A"]);
    hooked_run(
        &bench,
        "ask-11A",
        "SessionStart source=startup model=sonnet\n\
         UserPromptSubmit prompt=go\n\
         PreToolUse tool_name=Bash\n\
         wait gate-1\n\
         PermissionRequest tool_name=Bash\n\
         wait gate-2\n\
         PostToolUse tool_name=Bash\n\
         wait gate-3\n\
         Notification notification_type=elicitation_dialog message=Pick\n\
         wait gate-4\n\
         PostToolUseFailure tool_name=Bash error=exit is_interrupt=false\n\
         wait gate-5\n\
         Stop stop_hook_active=false\n\
         wait gate-6\n\
         Notification notification_type=idle_prompt\n\
         wait gate-7\n",
        "",
    );
    let running = wait_for_state(&bench, "ask-11A", "working");
    assert_eq!(running["agentState"]["state"], "working");
    assert_eq!(
        running["agentState"]["event"], "UserPromptSubmit",
        "the first that said so"
    );
    gate(&bench, 1);
    let asking = wait_for_state(&bench, "ask-11A", "waiting (permission_prompt)");
    assert_eq!(asking["agentState"]["event"], "PermissionRequest");
    wait_for_window(&bench, "ask-11A", "waiting");
    assert_eq!(bench.option("@scopecraft_waiting"), "1");
    gate(&bench, 2);
    wait_for_state(&bench, "ask-11A", "working");
    wait_for_window(&bench, "ask-11A", "running");
    gate(&bench, 3);
    wait_for_state(&bench, "ask-11A", "waiting (elicitation_dialog)");
    gate(&bench, 4);
    let again = wait_for_state(&bench, "ask-11A", "working");
    assert_eq!(again["agentState"]["event"], "PostToolUseFailure");
    gate(&bench, 5);
    wait_for_state(&bench, "ask-11A", "waiting (turn_ended)");
    gate(&bench, 6);
    wait_for_state(&bench, "ask-11A", "waiting (idle_prompt)");
    let table = bench.run(["list"]).ok().stdout;
    assert!(table.contains("waiting (idle_prompt)"), "{table}");

    // Every hook call succeeded and said nothing Claude Code would read
    // (the last one is logged once its command has exited).
    let (calls, stdout) = wait_for("nine hook calls", Duration::from_secs(20), || {
        let (calls, stdout) = hook_calls(&bench, "ask-11A");
        (calls.len() >= 9).then_some((calls, stdout))
    });
    assert_eq!(calls.len(), 9, "{calls:?}");
    assert!(calls.iter().all(|c| c.ends_with(" 0")), "{calls:?}");
    assert_eq!(stdout, "");
    gate(&bench, 7);
    bench.wait_for_status("ask-11A", "implementation", "completed");
}

#[test]
fn an_api_error_or_an_interrupt_blocks_the_run_with_the_reason() {
    let bench = Bench::with_tasks(&["quota-11A"]);
    hooked_run(
        &bench,
        "quota-11A",
        "UserPromptSubmit\n\
         StopFailure error=rate_limit error_details=429\n\
         wait gate-1\n\
         UserPromptSubmit\n\
         PreToolUse tool_name=Bash\n\
         PostToolUseFailure tool_name=Bash error=Interrupted is_interrupt=true\n\
         wait gate-2\n\
         UserPromptSubmit\n\
         StopFailure error=authentication_failed\n\
         wait gate-3\n",
        "",
    );
    let blocked = wait_for_state(&bench, "quota-11A", "blocked (rate_limit)");
    assert_eq!(blocked["agentState"]["event"], "StopFailure");
    wait_for_window(&bench, "quota-11A", "blocked");
    assert_eq!(bench.option("@scopecraft_blocked"), "1");
    let table = bench.run(["list"]).ok().stdout;
    assert!(table.contains("blocked (rate_limit)"), "{table}");
    gate(&bench, 1);
    wait_for_state(&bench, "quota-11A", "blocked (interrupted)");
    gate(&bench, 2);
    wait_for_state(&bench, "quota-11A", "blocked (authentication_failed)");
    gate(&bench, 3);
    bench.wait_for_status("quota-11A", "implementation", "completed");
}

#[test]
fn session_end_says_ended_and_the_supervisor_records_the_exit_code() {
    let bench = Bench::with_tasks(&["bye-11A"]);
    hooked_run(
        &bench,
        "bye-11A",
        "UserPromptSubmit\n\
         Stop\n\
         SessionEnd reason=prompt_input_exit\n\
         wait gate-1\n",
        "exit_code=3\n",
    );
    let ending = wait_for("the agent state ended", Duration::from_secs(20), || {
        let record = bench.record("bye-11A", "implementation");
        (record["agentState"]["state"] == "ended").then_some(record)
    });
    assert_eq!(ending["agentState"]["reason"], "prompt_input_exit");
    assert_eq!(ending["status"], "waiting", "live until the agent exits");
    gate(&bench, 1);
    let ended = bench.wait_for_status("bye-11A", "implementation", "failed");
    assert_eq!(ended["exitCode"], 3);
}

#[test]
fn a_subagent_never_changes_the_leads_state() {
    let bench = Bench::with_tasks(&["lead-11A"]);
    hooked_run(
        &bench,
        "lead-11A",
        "UserPromptSubmit\n\
         PreToolUse tool_name=Agent\n\
         sub PreToolUse tool_name=Read\n\
         sub PermissionRequest tool_name=Read\n\
         sub Stop\n\
         sub StopFailure error=rate_limit\n\
         sub Notification notification_type=idle_prompt\n\
         wait gate-1\n\
         PostToolUse tool_name=Agent\n\
         Stop\n\
         wait gate-2\n",
        "",
    );
    // The supervisor records the agent's pid once: wait for it before the
    // snapshot.
    bench.wait_for_agent_started("lead-11A", "implementation");
    let working = wait_for_state(&bench, "lead-11A", "working");
    // Wait until the subagent's events have all been fired.
    wait_for("the subagent's hooks", Duration::from_secs(20), || {
        (hook_calls(&bench, "lead-11A").0.len() >= 7).then_some(())
    });
    let record = bench.record("lead-11A", "implementation");
    assert_eq!(state_label(&record), "working");
    assert_eq!(record["agentState"], working["agentState"], "unchanged");
    assert_eq!(
        record["lastUpdated"], working["lastUpdated"],
        "not rewritten"
    );
    gate(&bench, 1);
    wait_for_state(&bench, "lead-11A", "waiting (turn_ended)");
    gate(&bench, 2);
    bench.wait_for_status("lead-11A", "implementation", "completed");
}

#[test]
fn the_conversation_id_follows_clear_and_continue_resumes_the_last_one() {
    let bench = Bench::with_tasks(&["clear-11A"]);
    hooked_run(
        &bench,
        "clear-11A",
        "SessionStart source=startup\n\
         UserPromptSubmit\n\
         Stop\n\
         clear\n\
         UserPromptSubmit\n\
         Stop\n\
         wait gate-1\n",
        "",
    );
    let calls = bench.wait_for_agent("clear-11A", 1);
    let first = {
        let at = calls[0]
            .argv
            .iter()
            .position(|a| a == "--session-id")
            .unwrap();
        calls[0].argv[at + 1].clone()
    };
    let record = wait_for("a new conversation id", Duration::from_secs(20), || {
        let record = bench.record("clear-11A", "implementation");
        let id = record["agentSessionId"].as_str().unwrap_or_default();
        (id != first && state_label(&record) == "waiting (turn_ended)").then_some(record)
    });
    let now = record["agentSessionId"].as_str().unwrap().to_string();
    assert_eq!(record["realSessionId"], now.as_str());
    let run = &record["sessionHistory"][0];
    assert_eq!(run["sessionId"], now.as_str());
    assert_eq!(run["previousSessionIds"], serde_json::json!([first]));
    let shown = bench.run(["status", "clear-11A"]).ok().stdout;
    assert!(shown.contains(&format!("conversation: {now}")), "{shown}");
    gate(&bench, 1);
    bench.wait_for_status("clear-11A", "implementation", "completed");

    // --continue resumes the conversation the user saw last.
    bench.agent_behaviour("clear-11A", "");
    bench
        .run(["dispatch", "clear-11A", "--continue", "-i", "more"])
        .ok();
    // (Calls are in the order of their pids' names: find the resume.)
    let calls = bench.wait_for_agent("clear-11A", 2);
    let resumed = calls
        .iter()
        .find(|c| c.argv.iter().any(|a| a == "--resume"))
        .expect("a resumed call");
    let at = resumed.argv.iter().position(|a| a == "--resume").unwrap();
    assert_eq!(resumed.argv[at + 1], now);
    bench.wait_for_status("clear-11A", "implementation", "completed");
    let record = bench.record("clear-11A", "implementation");
    assert_eq!(
        record["sessionHistory"][0]["previousSessionIds"],
        serde_json::json!([first]),
        "the history keeps the old ids"
    );
}

#[test]
fn hook_commands_of_an_earlier_version_still_work() {
    let bench = Bench::with_tasks(&["old-11A"]);
    bench.agent_behaviour("old-11A", "sleep=60\n");
    bench.run(["dispatch", "old-11A"]).ok();
    bench.wait_for_agent("old-11A", 1);
    let record = bench.wait_for_status("old-11A", "implementation", "running");
    let path = bench.record_path(record["sessionName"].as_str().unwrap());
    let run = bench
        .cmd()
        .args(["__hook".as_ref(), path.as_os_str(), "waiting".as_ref()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    assert!(run.stdout.is_empty());
    assert_eq!(
        bench.record("old-11A", "implementation")["status"],
        "waiting"
    );
    // A hook for a record that is gone, or garbage on stdin: exit 0, silent.
    let run = bench
        .cmd()
        .args(["__hook", "/nonexistent/x.info.json"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    assert!(run.stdout.is_empty());
    bench.run(["stop", "old-11A"]).ok();
}

#[test]
fn a_working_run_with_no_sign_of_life_is_shown_as_possibly_stuck() {
    let bench = Bench::with_tasks(&["quiet-11A"]);
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\nstuck-after = \"2s\"\n",
    );
    hooked_run(
        &bench,
        "quiet-11A",
        "UserPromptSubmit\n\
         wait gate-1\n\
         PostToolUse tool_name=Bash\n\
         wait gate-2\n",
        "",
    );
    let stuck = wait_for("the run to be stuck", Duration::from_secs(20), || {
        let record = bench.record("quiet-11A", "implementation");
        record["stuckSince"].is_string().then_some(record)
    });
    assert_eq!(stuck["status"], "running");
    wait_for_window(&bench, "quiet-11A", "stuck");
    assert_eq!(bench.option("@scopecraft_stuck"), "1");
    assert_eq!(bench.option("@scopecraft_running"), "0");
    let table = bench.run(["list"]).ok().stdout;
    assert!(table.contains("stuck (quiet "), "{table}");
    let printed = bench.run(["status-line"]).ok().stdout;
    assert_eq!(printed, "⧗ 1\n");
    // A sign of life clears it, until the run is quiet again from the
    // sign on: a mark that came back is a later one (so a busy machine that
    // missed the moment it was clear still sees that it was).
    let first = stuck["stuckSince"].as_str().unwrap().to_string();
    gate(&bench, 1);
    wait_for("the run to work again", WAIT, || {
        let record = bench.record("quiet-11A", "implementation");
        let again = record["stuckSince"].as_str();
        again
            .is_none_or(|since| since > first.as_str())
            .then_some(())
    });
    // The run stays quiet: marked again, from the sign on.
    wait_for("the run to be stuck again", WAIT, || {
        let record = bench.record("quiet-11A", "implementation");
        let again = record["stuckSince"].as_str()?;
        (again > first.as_str()).then_some(())
    });
    gate(&bench, 2);
    bench.wait_for_status("quiet-11A", "implementation", "completed");
    assert!(bench.record("quiet-11A", "implementation")["stuckSince"].is_null());
}

/// A client attached to the session `main` under `script`, its terminal's
/// output in `<dir>/typescript`; waits until tmux lists it.
fn attached_client(bench: &Bench) -> (std::process::Child, PathBuf) {
    bench.start_server(&bench.project);
    let typescript = bench.dir.path().join("typescript");
    let client = bench.attach_client(
        &["tmux", "-f", "/dev/null", "attach", "-t", "main"],
        &typescript,
    );
    wait_for("the client to attach", Duration::from_secs(20), || {
        (!bench.tmux(["list-clients"]).stdout.trim().is_empty()).then_some(())
    });
    (client, typescript)
}

/// The scopecraft messages tmux showed, oldest first (tmux lists the
/// newest first).
fn messages(bench: &Bench) -> Vec<String> {
    bench
        .tmux(["show-messages"])
        .stdout
        .lines()
        .rev()
        .filter_map(|line| {
            line.split_once("message: scopecraft: ")
                .map(|(_, m)| m.to_string())
        })
        .collect()
}

/// Puts recording stand-ins for `names` (notify-send, osascript) first on
/// PATH; each appends `name args…` to `<scopecraft home>/notified`.
fn with_notifiers(bench: Bench, names: &[&str]) -> Bench {
    use std::os::unix::fs::PermissionsExt;
    let dir = bench.dir.path().join("notifiers");
    fs::create_dir_all(&dir).unwrap();
    for name in names {
        let path = dir.join(name);
        fs::write(
            &path,
            format!("#!/bin/sh\nprintf '%s\\n' \"{name} $*\" >> \"$SCOPECRAFT_HOME/notified\"\n"),
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    bench.env("PATH", path)
}

fn notified(bench: &Bench) -> String {
    fs::read_to_string(bench.scopecraft_home.join("notified")).unwrap_or_default()
}

#[test]
fn a_run_you_are_not_looking_at_tells_you_once_when_it_needs_you() {
    let bench = Bench::with_tasks(&["tell-11A"]);
    let (mut client, _) = attached_client(&bench);
    hooked_run(
        &bench,
        "tell-11A",
        "UserPromptSubmit\n\
         Stop\n\
         wait gate-1\n\
         UserPromptSubmit\n\
         Stop\n\
         wait gate-2\n\
         UserPromptSubmit\n\
         StopFailure error=rate_limit\n\
         wait gate-3\n\
         UserPromptSubmit\n\
         sub Stop\n\
         sub Notification notification_type=idle_prompt\n\
         Notification notification_type=permission_prompt\n\
         wait gate-4\n",
        "",
    );
    // Not looking (the client shows `main`): told on its status line.
    wait_for("the waiting message", Duration::from_secs(20), || {
        (messages(&bench) == ["tell-11A (implementation) waiting (turn_ended)"]).then_some(())
    });
    // The same state again within the debounce window: not again.
    gate(&bench, 1);
    wait_for("the second turn's end", Duration::from_secs(20), || {
        let record = bench.record("tell-11A", "implementation");
        (record["agentState"]["since"] != record["notified"]["at"]
            && state_label(&record) == "waiting (turn_ended)"
            && record["agentState"]["event"] == "Stop")
            .then_some(())
    });
    // Another state is told.
    gate(&bench, 2);
    wait_for("the blocked message", Duration::from_secs(20), || {
        (messages(&bench).len() == 2).then_some(())
    });
    assert_eq!(
        messages(&bench)[1],
        "tell-11A (implementation) blocked (rate_limit)"
    );
    // Looking at it: nothing, not even for a permission prompt; a
    // subagent's stop says nothing either.
    let window = bench.record("tell-11A", "implementation")["tmux"]["windowId"]
        .as_str()
        .unwrap()
        .to_string();
    bench.tmux(["switch-client", "-t", &window]).ok();
    gate(&bench, 3);
    wait_for_state(&bench, "tell-11A", "waiting (permission_prompt)");
    assert_eq!(messages(&bench).len(), 2, "{:?}", messages(&bench));
    // The end, looked at: no message either.
    gate(&bench, 4);
    bench.wait_for_status("tell-11A", "implementation", "completed");
    assert_eq!(messages(&bench).len(), 2, "{:?}", messages(&bench));
    assert_eq!(notified(&bench), "", "tmux mode: no desktop notification");
    client.kill().unwrap();
    client.wait().unwrap();
}

#[test]
fn off_says_nothing_and_desktop_uses_the_notifier_there_is() {
    // notify-send where a desktop session is.
    let bench =
        with_notifiers(Bench::with_tasks(&["desk-11A"]), &["notify-send"]).env("DISPLAY", ":9");
    let (mut client, _) = attached_client(&bench);
    bench
        .tmux(["set-option", "-g", "@scopecraft-notify", "desktop"])
        .ok();
    hooked_run(
        &bench,
        "desk-11A",
        "UserPromptSubmit\nStop\nwait gate-1\n",
        "exit_code=3\n",
    );
    wait_for("notify-send", Duration::from_secs(20), || {
        notified(&bench)
            .contains("waiting (turn_ended)")
            .then_some(())
    });
    assert!(
        notified(&bench).starts_with("notify-send --app-name scopecraft-tmux scopecraft-tmux scopecraft: desk-11A (implementation) waiting (turn_ended)\n"),
        "{}",
        notified(&bench)
    );
    gate(&bench, 1);
    wait_for("the failure told", Duration::from_secs(20), || {
        notified(&bench).contains("failed, exit 3").then_some(())
    });
    wait_for("both on the client", Duration::from_secs(20), || {
        (messages(&bench).len() == 2).then_some(())
    });

    // off, from the project configuration: nothing at all.
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n[notify]\nmode = \"off\"\n",
    );
    bench.tmux(["set-option", "-gu", "@scopecraft-notify"]).ok();
    hooked_run(&bench, "desk-11A", "UserPromptSubmit\nStop\n", "");
    bench.wait_for_status("desk-11A", "implementation", "completed");
    assert_eq!(notified(&bench).lines().count(), 2);
    assert_eq!(messages(&bench).len(), 2);
    client.kill().unwrap();
    client.wait().unwrap();
}

#[test]
fn desktop_uses_osascript_on_macos_and_an_escape_sequence_without_a_notifier() {
    let bench = with_notifiers(Bench::with_tasks(&["mac-11A", "ssh-11B"]), &["osascript"]);
    let (mut client, typescript) = attached_client(&bench);
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n[notify]\nmode = \"desktop\"\n",
    );
    hooked_run(
        &bench,
        "mac-11A",
        "UserPromptSubmit\nStop\nwait gate-1\n",
        "",
    );
    wait_for("osascript", Duration::from_secs(20), || {
        notified(&bench)
            .contains("waiting (turn_ended)")
            .then_some(())
    });
    assert!(
        notified(&bench).starts_with("osascript -e on run argv -e display notification (item 1 of argv) with title \"scopecraft-tmux\" -e end run scopecraft: mac-11A"),
        "{}",
        notified(&bench)
    );
    gate(&bench, 1);
    bench.wait_for_status("mac-11A", "implementation", "completed");
    client.kill().unwrap();
    client.wait().unwrap();

    // No notifier on this machine (over SSH): an OSC 9 to the client's terminal.
    let bench = Bench::with_tasks(&["ssh-11B"]);
    let (mut client, typescript) = {
        let _ = typescript;
        attached_client(&bench)
    };
    bench
        .tmux(["set-option", "-g", "@scopecraft-notify", "desktop"])
        .ok();
    hooked_run(
        &bench,
        "ssh-11B",
        "UserPromptSubmit\nStop\nwait gate-1\n",
        "",
    );
    wait_for("the escape sequence", Duration::from_secs(20), || {
        let sent = fs::read(&typescript).unwrap_or_default();
        String::from_utf8_lossy(&sent)
            .contains("\x1b]9;scopecraft-tmux: scopecraft: ssh-11B (implementation) waiting (turn_ended)\x07")
            .then_some(())
    });
    gate(&bench, 1);
    bench.wait_for_status("ssh-11B", "implementation", "completed");
    client.kill().unwrap();
    client.wait().unwrap();
}
