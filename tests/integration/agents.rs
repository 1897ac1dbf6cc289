//! Codex CLI and Gemini CLI beside Claude Code: each agent's fake
//! (tests/fake-agent/codex, gemini) takes the real CLI's arguments, prints
//! the documented headless stream, and records what it got; the agent is
//! chosen by `--agent`, per mode or per project, and `--continue` resumes
//! by the id each agent reported.

use std::fs;
use std::time::Duration;

use serde_json::Value;

use crate::support::{AgentCall, Bench, wait_for};

const MODE: &str = "implementation";

fn fake(agent: &str) -> String {
    format!("{}/tests/fake-agent/{agent}", env!("CARGO_MANIFEST_DIR"))
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The argv of a call with the hook arguments' paths (ours) left out.
fn argv_without_hooks(call: &AgentCall) -> Vec<String> {
    let mut argv = call.argv.clone();
    if let Some(at) = argv.iter().position(|a| a.starts_with("notify=")) {
        argv.drain(at - 1..=at);
    }
    argv
}

/// The project's configuration: the default mode, and `toml`.
fn configure(bench: &Bench, toml: &str) {
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        &format!("default-mode = \"implementation\"\n{toml}"),
    );
}

/// Waits until the session has had `runs` runs and is `status`.
fn wait_runs(bench: &Bench, task: &str, runs: usize, status: &str) -> Value {
    wait_for(
        &format!("{task}: run {runs} {status}"),
        Duration::from_secs(20),
        || {
            let record = bench.record(task, MODE);
            (record["sessionHistory"].as_array().unwrap().len() == runs
                && record["status"] == status)
                .then_some(record)
        },
    )
}

#[test]
fn codex_headless_reports_its_thread_and_continue_resumes_it() {
    let bench = Bench::with_tasks(&["cx-14A"]).with_fake("codex");
    bench
        .run([
            "dispatch", "cx-14A", "--agent", "codex", "--exec", "detached",
        ])
        .ok();
    let first = wait_runs(&bench, "cx-14A", 1, "completed");
    let calls = bench.wait_for_agent("cx-14A", 1);
    assert_eq!(
        calls[0].argv,
        strings(&["exec", "--json", "--skip-git-repo-check", "-"])
    );
    assert!(
        calls[0]
            .stdin
            .as_deref()
            .unwrap()
            .contains("Implement cx-14A."),
        "the prompt on stdin"
    );
    // The thread Codex made (thread.started) is the conversation.
    let thread = first["agentSessionId"].as_str().unwrap().to_string();
    assert!(
        bench
            .scopecraft_home
            .join("fake-agent/sessions")
            .join(&thread)
            .exists()
    );
    assert_eq!(first["agent"], "codex");
    assert_eq!(first["realSessionId"], thread.as_str());
    assert_eq!(first["sessionHistory"][0]["sessionId"], thread.as_str());

    bench
        .run([
            "dispatch",
            "cx-14A",
            "--continue",
            "--exec",
            "detached",
            "-i",
            "Now the tests.",
        ])
        .ok();
    wait_runs(&bench, "cx-14A", 2, "completed");
    let calls = bench.wait_for_agent("cx-14A", 2);
    assert_eq!(
        calls[1].argv,
        strings(&[
            "exec",
            "resume",
            "--json",
            "--skip-git-repo-check",
            &thread,
            "-"
        ])
    );
    assert_eq!(calls[1].stdin.as_deref(), Some("Now the tests."));

    let shown = bench.run(["logs", "cx-14A"]).ok().stdout;
    insta::assert_snapshot!(shown.replace(&thread, "<thread id>"));
}

#[test]
fn codex_in_tmux_tells_its_thread_through_notify() {
    let bench = Bench::with_tasks(&["cxt-14A"]).with_fake("codex");
    configure(&bench, "agent = \"codex\"\n");
    bench.run(["dispatch", "cxt-14A"]).ok();
    let record = wait_runs(&bench, "cxt-14A", 1, "completed");
    let calls = bench.wait_for_agent("cxt-14A", 1);
    // `codex -c notify=[us, __hook, record, waiting] -- <prompt>`.
    let notify = calls[0]
        .argv
        .iter()
        .find(|a| a.starts_with("notify="))
        .unwrap();
    assert!(
        notify.contains("\"__hook\"") && notify.ends_with("\"waiting\"]"),
        "{notify}"
    );
    assert_eq!(
        argv_without_hooks(&calls[0]).first().map(String::as_str),
        Some("--")
    );
    assert!(calls[0].prompt.contains("Implement cxt-14A."));
    let thread = record["agentSessionId"]
        .as_str()
        .expect("the thread id from notify")
        .to_string();
    assert!(
        bench
            .scopecraft_home
            .join("fake-agent/sessions")
            .join(&thread)
            .exists()
    );

    bench
        .run(["dispatch", "cxt-14A", "--continue", "-i", "More."])
        .ok();
    wait_runs(&bench, "cxt-14A", 2, "completed");
    let calls = bench.wait_for_agent("cxt-14A", 2);
    assert_eq!(
        argv_without_hooks(&calls[1]),
        strings(&["resume", &thread, "--", "More."])
    );
}

#[test]
fn gemini_gets_our_session_id_in_tmux_and_headless() {
    let bench = Bench::with_tasks(&["gm-14A"]).with_fake("gemini");
    configure(&bench, "[modes.implementation]\nagent = \"gemini\"\n");
    bench.run(["dispatch", "gm-14A"]).ok();
    let first = wait_runs(&bench, "gm-14A", 1, "completed");
    let id = first["agentSessionId"].as_str().unwrap().to_string();
    let calls = bench.wait_for_agent("gm-14A", 1);
    assert_eq!(calls[0].argv[..2], strings(&["--session-id", &id]));
    assert_eq!(calls[0].argv.len(), 3);
    assert!(
        calls[0].argv[2].starts_with("--prompt-interactive=# Task")
            || calls[0].argv[2].starts_with("--prompt-interactive=")
    );
    assert!(calls[0].prompt.contains("Implement gm-14A."));

    bench
        .run([
            "dispatch",
            "gm-14A",
            "--continue",
            "-e",
            "detached",
            "-i",
            "And the docs.",
        ])
        .ok();
    let second = wait_runs(&bench, "gm-14A", 2, "completed");
    let calls = bench.wait_for_agent("gm-14A", 2);
    assert_eq!(
        calls[1].argv,
        strings(&[
            "--output-format",
            "stream-json",
            "--skip-trust",
            "--resume",
            &id
        ])
    );
    assert_eq!(calls[1].stdin.as_deref(), Some("And the docs."));
    assert_eq!(
        second["agentSessionId"],
        id.as_str(),
        "the stream's init names the same session"
    );
}

#[test]
fn gemini_exit_codes_are_shown_with_their_meaning() {
    let bench = Bench::with_tasks(&["gx-14A"]).with_fake("gemini");
    let failed = format!(
        "{}/tests/fixtures/agent-streams/gemini-failed.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    bench.agent_behaviour("gx-14A", &format!("replay='{failed}'\nexit_code=53\n"));
    bench
        .run([
            "dispatch",
            "gx-14A",
            "--agent",
            "gemini",
            "-e",
            "detached",
            "--save-to",
            "out.md",
        ])
        .ok();
    let record = wait_runs(&bench, "gx-14A", 1, "failed");
    assert_eq!(record["exitCode"], 53);
    let status = bench.run(["status", "gx-14A"]).ok().stdout;
    assert!(status.contains("exit 53 (turn limit exceeded)"), "{status}");
    assert!(status.contains("  agent:        gemini\n"), "{status}");
    let id = record["agentSessionId"].as_str().unwrap();
    let shown = bench.run(["logs", "gx-14A"]).ok().stdout;
    insta::assert_snapshot!(shown.replace(id, "<session id>"));
    assert!(
        !bench.project.join("out.md").exists(),
        "a failed run saves no result"
    );

    // The other code the issue names: 42, an input error.
    bench.agent_behaviour("gx-14A", &format!("replay='{failed}'\nexit_code=42\n"));
    bench
        .run(["dispatch", "gx-14A", "--agent", "gemini", "-e", "detached"])
        .ok();
    let record = wait_runs(&bench, "gx-14A", 2, "failed");
    assert_eq!(record["exitCode"], 42);
    let status = bench.run(["status", "gx-14A"]).ok().stdout;
    assert!(
        status.contains("exit 42 (input error: invalid prompt or arguments)"),
        "{status}"
    );
}

#[test]
fn gemini_saves_its_final_answer() {
    let bench = Bench::with_tasks(&["gs-14A"]).with_fake("gemini");
    bench
        .run([
            "dispatch",
            "gs-14A",
            "--agent",
            "gemini",
            "-e",
            "detached",
            "--save-to",
            "answer.md",
        ])
        .ok();
    wait_runs(&bench, "gs-14A", 1, "completed");
    assert_eq!(
        fs::read_to_string(bench.project.join("answer.md")).unwrap(),
        "Fixed: `token` is now read from the session, and the login tests pass."
    );
}

#[test]
fn a_missing_or_unknown_agent_is_refused_before_anything_is_made() {
    let bench = Bench::with_tasks(&["none-14A"]);
    let empty = bench.scopecraft_home.join("empty-bin");
    fs::create_dir_all(&empty).unwrap();
    let bench = bench
        .env("PATH", format!("{}:/usr/bin:/bin", empty.display()))
        .env("SCOPECRAFT_AGENT", "");
    let run = bench
        .run(["dispatch", "none-14A", "--agent", "codex", "-e", "detached"])
        .bad_input("npm install -g @openai/codex");
    assert!(
        run.stderr
            .contains("`codex` (OpenAI Codex CLI) is not installed"),
        "{}",
        run.stderr
    );
    bench
        .run([
            "dispatch", "none-14A", "--agent", "gemini", "-e", "detached",
        ])
        .bad_input("npm install -g @google/gemini-cli");
    bench
        .run(["dispatch", "none-14A", "--agent", "aider"])
        .bad_input("no agent called \"aider\": the agents are claude, codex, gemini");
    bench
        .run(["dispatch", "none-14A", "--agent", "a b"])
        .bad_input("invalid agent name");
    assert!(
        bench.run(["status", "none-14A"]).code == Some(2),
        "no record was written"
    );
}

#[test]
fn continue_keeps_the_agent_that_ran() {
    let bench = Bench::with_tasks(&["keep-14A"]).with_fake("codex");
    bench
        .run(["dispatch", "keep-14A", "--agent", "codex", "-e", "detached"])
        .ok();
    wait_runs(&bench, "keep-14A", 1, "completed");
    bench
        .run([
            "dispatch",
            "keep-14A",
            "--continue",
            "--agent",
            "gemini",
            "-e",
            "detached",
        ])
        .bad_input("is codex's; --continue resumes it with codex, not gemini");
}

#[test]
fn a_configured_profile_runs_another_agent() {
    let bench = Bench::with_tasks(&["cfg-14A"]);
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        &format!(
            "default-mode = \"implementation\"\nagent = \"helper\"\n\
             [agents.helper]\ncommand = \"{}\"\ninstall = \"pipx install helper\"\n\
             interactive = [\"--session-id\", \"{{id}}\"]\nheadless = [\"--output-format\", \"stream-json\", \"--session-id\", \"{{id}}\"]\n\
             resume-headless = [\"--output-format\", \"stream-json\", \"--resume\", \"{{id}}\"]\n\
             interactive-prompt = \"--prompt-interactive=\"\n",
            fake("gemini")
        ),
    );
    bench.run(["dispatch", "cfg-14A", "-e", "detached"]).ok();
    let record = wait_runs(&bench, "cfg-14A", 1, "completed");
    assert_eq!(record["agent"], "helper");
    let id = record["agentSessionId"].as_str().unwrap();
    let calls = bench.wait_for_agent("cfg-14A", 1);
    assert_eq!(
        calls[0].argv,
        strings(&["--output-format", "stream-json", "--session-id", id])
    );
    // No resume-interactive: --continue in tmux is refused, headless works.
    bench
        .run(["dispatch", "cfg-14A", "--continue"])
        .bad_input("helper cannot resume a conversation in tmux");
    bench
        .run(["dispatch", "cfg-14A", "--continue", "-e", "detached"])
        .ok();
    wait_runs(&bench, "cfg-14A", 2, "completed");
}

#[test]
fn dry_run_shows_each_agents_command() {
    let bench = Bench::with_tasks(&["dry-14A"]).with_fake("codex");
    let shown = bench
        .run([
            "dispatch",
            "dry-14A",
            "--agent",
            "codex",
            "-e",
            "detached",
            "--dry-run",
            "--no-worktree",
        ])
        .ok()
        .stdout;
    assert!(
        shown.contains("exec --json --skip-git-repo-check -  # prompt on stdin"),
        "{shown}"
    );
    let bench = bench.with_fake("gemini");
    let shown = bench
        .run([
            "dispatch",
            "dry-14A",
            "--agent",
            "gemini",
            "--dry-run",
            "--no-worktree",
        ])
        .ok()
        .stdout;
    assert!(
        shown.contains("# prompt as the argument --prompt-interactive=<prompt>"),
        "{shown}"
    );
}

#[test]
fn codex_runs_in_docker_as_headless() {
    let bench = Bench::with_tasks(&["dock-14A"])
        .with_fake("codex")
        .with_docker_stand_in();
    configure(&bench, "[docker]\nimage = \"ghcr.io/acme/codex:1\"\n");
    bench
        .run(["dispatch", "dock-14A", "--agent", "codex", "-e", "docker"])
        .ok();
    let record = wait_runs(&bench, "dock-14A", 1, "completed");
    let run = bench
        .docker_calls()
        .into_iter()
        .find(|c| c[0] == "run")
        .unwrap();
    let image = run
        .iter()
        .position(|a| a == "ghcr.io/acme/codex:1")
        .unwrap();
    assert_eq!(
        run[image + 1..],
        [
            fake("codex"),
            "exec".into(),
            "--json".into(),
            "--skip-git-repo-check".into(),
            "-".into()
        ]
    );
    let thread = record["agentSessionId"].as_str().unwrap();
    assert!(
        bench
            .scopecraft_home
            .join("fake-agent/sessions")
            .join(thread)
            .exists()
    );
}

#[test]
fn continue_before_codex_named_its_thread_says_why() {
    let bench = Bench::with_tasks(&["early-14A"]).with_fake("codex");
    // A tmux run that ends before its first turn: no notify, no thread.
    bench.agent_behaviour("early-14A", "exit_code=1\nno_turn=1\n");
    bench
        .run(["dispatch", "early-14A", "--agent", "codex"])
        .ok();
    wait_runs(&bench, "early-14A", 1, "failed");
    bench
        .run(["dispatch", "early-14A", "--continue"])
        .bad_input("OpenAI Codex CLI reports its conversation id in its headless stream");
}
