//! Headless and Docker runs, `logs`, and `--continue`: a fake agent replays
//! the stream-json of real Claude Code runs (tests/fixtures/scopecraft-
//! sessions) under the real supervisor, and exits or dies as told.

use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Bench, WAIT, fixtures, kill, process_gone, wait_for};

/// 111 lines, 86 turns, $6.31, two tool errors.
pub const LOG_A: &str = "task-test-feedback-flow-05B-1748658020078";
/// 84 lines, 76 turns, $5.34, one tool error.
const LOG_B: &str = "task-test-feedback-flow-05B-1748658194681";

fn fixture_log(name: &str) -> PathBuf {
    fixtures().join(format!(
        "scopecraft-sessions/.tasks/.autonomous-sessions/logs/{name}.log"
    ))
}

/// The conversation id in a log's `system/init` line.
fn init_id(log: &str) -> String {
    let first: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    first["session_id"].as_str().unwrap().to_string()
}

/// The fixture as the fake agent replays it: its conversation id ours.
fn replayed(name: &str, id: &str) -> String {
    let text = fs::read_to_string(fixture_log(name)).unwrap();
    text.replace(&init_id(&text), id)
}

/// The `result` text of a fixture log.
fn result_text(name: &str) -> String {
    let text = fs::read_to_string(fixture_log(name)).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    last["result"].as_str().unwrap().to_string()
}

pub fn replay(name: &str) -> String {
    format!("replay='{}'\n", fixture_log(name).display())
}

fn log_of(record: &Value) -> String {
    fs::read_to_string(record["logFile"].as_str().unwrap()).unwrap_or_default()
}

/// `logs … -f` started in the background, its stdout collected.
struct Following {
    child: Child,
    output: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Following {
    fn start(bench: &Bench, task: &str) -> Following {
        let mut child = bench
            .cmd()
            .args(["logs", task, "-f"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&output);
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Following {
            child,
            output,
            reader,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits for `logs -f` to end; its exit code and everything it printed.
    fn end(mut self) -> (i32, String) {
        let status = wait_for("logs -f to end", Duration::from_secs(20), || {
            self.child.try_wait().unwrap()
        });
        // The reader thread has the rest once the pipe is closed.
        self.reader.join().unwrap();
        let output = self.output.lock().unwrap().clone();
        (status.code().unwrap(), output)
    }
}

#[test]
fn a_headless_run_shows_running_then_its_end_with_the_exit_code() {
    let bench = Bench::with_tasks(&["review-11A"]);
    let gate = bench.dir.path().join("gate");
    bench.agent_behaviour(
        "review-11A",
        &format!("{}wait_for='{}'\n", replay(LOG_A), gate.display()),
    );
    let prompt = bench.run(["prompt", "review-11A"]).ok().stdout;
    let run = bench
        .run([
            "dispatch",
            "review-11A",
            "--exec",
            "detached",
            "--save-to",
            "review.md",
        ])
        .ok();
    assert!(run.stdout.contains("headless"), "{}", run.stdout);

    // The seeds' acceptance: running in `status`, then the end with its code.
    let running = bench.wait_for_status("review-11A", "implementation", "running");
    let status = bench.run(["status", "review-11A"]).ok().stdout;
    assert!(
        status.starts_with("review-11A (implementation): running"),
        "{status}"
    );
    let id = running["agentSessionId"].as_str().unwrap().to_string();
    let pid = wait_for("the agent's pid", WAIT, || {
        bench.record("review-11A", "implementation")["pid"].as_u64()
    });
    assert!(!process_gone(pid), "the recorded pid is the live agent");
    fs::write(&gate, "").unwrap();
    let ended = bench.wait_for_status("review-11A", "implementation", "completed");
    let status = bench.run(["status", "review-11A"]).ok().stdout;
    assert!(
        status.starts_with("review-11A (implementation): completed (exit 0)"),
        "{status}"
    );
    assert_eq!(ended["exitCode"], 0);
    assert_eq!(ended["type"], "autonomous-task");
    assert!(ended["endTime"].is_string());

    // Claude Code's headless flags, the prompt on stdin, the stream in the log.
    let calls = bench.wait_for_agent("review-11A", 1);
    assert_eq!(
        calls[0].argv[..6],
        [
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--session-id",
            &id
        ]
    );
    assert_eq!(calls[0].stdin.as_deref(), Some(prompt.as_str()));
    assert_eq!(log_of(&ended), replayed(LOG_A, &id));
    assert_eq!(ended["agentSessionId"], id.as_str());
    // --save-to, relative to where dispatch ran.
    let saved = fs::read_to_string(bench.project.join("review.md")).unwrap();
    assert_eq!(saved, result_text(LOG_A));
}

#[test]
fn exit_codes_signals_and_failed_results_of_headless_runs() {
    let bench = Bench::with_tasks(&["one-11A", "sig-11B", "err-11C"]);
    bench.agent_behaviour("one-11A", &format!("{}exit_code=1\n", replay(LOG_B)));
    bench.agent_behaviour(
        "sig-11B",
        &format!("{}replay_lines=5\nsignal=KILL\n", replay(LOG_B)),
    );
    // A run whose result says it failed, though its subtype says success.
    let failing = bench.dir.path().join("failing.log");
    let init = fs::read_to_string(fixture_log(LOG_B))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    fs::write(
        &failing,
        format!(
            "{init}\n{}\n",
            r#"{"type":"result","subtype":"success","is_error":true,"num_turns":1,"duration_ms":900,"total_cost_usd":0.0123,"result":"Credit balance is too low"}"#
        ),
    )
    .unwrap();
    bench.agent_behaviour(
        "err-11C",
        &format!("replay='{}'\nexit_code=1\n", failing.display()),
    );
    for task in ["one-11A", "sig-11B"] {
        bench.run(["dispatch", task, "--exec", "detached"]).ok();
    }
    bench
        .run([
            "dispatch",
            "err-11C",
            "--exec",
            "detached",
            "--save-to",
            "err.md",
        ])
        .ok();

    let one = bench.wait_for_status("one-11A", "implementation", "failed");
    assert_eq!(one["exitCode"], 1);
    assert_eq!(one["exitSignal"], Value::Null);
    let sig = bench.wait_for_status("sig-11B", "implementation", "failed");
    assert_eq!(sig["exitSignal"], "SIGKILL");
    assert_eq!(log_of(&sig).lines().count(), 5);
    let err = bench.wait_for_status("err-11C", "implementation", "failed");
    assert_eq!(err["exitCode"], 1);
    assert!(
        !bench.project.join("err.md").exists(),
        "an error message is not a result to save"
    );
    let logs = bench.run(["logs", "err-11C"]).ok().stdout;
    assert!(
        logs.contains("✗ result: error, 1 turn, 0s, $0.01\n  Credit balance is too low\n"),
        "{logs}"
    );
    assert!(
        logs.ends_with("── err-11C (implementation) failed, exit 1\n"),
        "{logs}"
    );
    let logs = bench.run(["logs", "sig-11B"]).ok().stdout;
    assert!(
        logs.ends_with("── sig-11B (implementation) failed, SIGKILL\n"),
        "{logs}"
    );
}

#[test]
fn stop_ends_the_whole_process_group_and_records_stopped() {
    let bench = Bench::with_tasks(&["halt-11A"]);
    bench.agent_behaviour(
        "halt-11A",
        &format!("{}replay_lines=12\nchild=1\nsleep=60\n", replay(LOG_A)),
    );
    bench
        .run(["dispatch", "halt-11A", "--exec", "detached"])
        .ok();
    let calls = bench.wait_for_agent("halt-11A", 1);
    let child: u64 = wait_for("the agent's child", WAIT, || {
        fs::read_to_string(calls[0].dir.join("child"))
            .ok()
            .and_then(|pid| pid.trim().parse().ok())
    });
    let running = bench.wait_for_status("halt-11A", "implementation", "running");
    wait_for("12 lines in the log", WAIT, || {
        (log_of(&running).lines().count() == 12).then_some(())
    });

    let started = Instant::now();
    let stop = bench.run(["stop", "halt-11A"]).ok();
    assert!(
        stop.stdout
            .contains("halt-11A (implementation) stopped (SIGTERM)"),
        "{}",
        stop.stdout
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no grace needed"
    );
    let record = bench.record("halt-11A", "implementation");
    assert_eq!(record["status"], "stopped");
    assert_eq!(record["exitSignal"], "SIGTERM");
    assert!(process_gone(record["pid"].as_u64().unwrap()));
    wait_for("the agent's child to be gone with its group", WAIT, || {
        process_gone(child).then_some(())
    });
    let logs = bench.run(["logs", "halt-11A"]).ok().stdout;
    assert!(logs.starts_with("── session "), "{logs}");
    assert!(
        logs.ends_with("\n── halt-11A (implementation) stopped, SIGTERM\n"),
        "{logs}"
    );
    assert!(!logs.contains("result:"), "cut short: {logs}");
}

#[test]
fn stop_kills_an_agent_that_ignores_sigterm_after_the_grace_period() {
    let bench = Bench::with_tasks(&["stubborn-11A"]);
    bench.agent_behaviour("stubborn-11A", "ignore_term=1\nchild=1\nsleep=60\n");
    bench
        .run(["dispatch", "stubborn-11A", "--exec", "detached"])
        .ok();
    let calls = bench.wait_for_agent("stubborn-11A", 1);
    bench.wait_for_status("stubborn-11A", "implementation", "running");
    let child: u64 = fs::read_to_string(calls[0].dir.join("child"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let started = Instant::now();
    let stop = bench.run(["stop", "stubborn-11A"]).ok();
    let took = started.elapsed();
    assert!(stop.stdout.contains("stopped (SIGKILL)"), "{}", stop.stdout);
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(15),
        "SIGKILL after the 10 s grace period, took {took:?}"
    );
    wait_for("the child to be killed too", WAIT, || {
        process_gone(child).then_some(())
    });
}

#[test]
fn continue_resumes_the_conversation_after_each_kind_of_end_across_exec_types() {
    let bench = Bench::with_tasks(&["cont-11A"]);
    let task = "cont-11A";
    let wait_runs = |n: usize, status: &str| {
        wait_for(&format!("run {n} to be {status}"), WAIT, || {
            let record = bench.record(task, "implementation");
            (record["sessionHistory"].as_array().unwrap().len() == n && record["status"] == status)
                .then_some(record)
        })
    };

    let continue_headless = |instructions: &str| {
        bench
            .run([
                "dispatch",
                task,
                "--continue",
                "--exec",
                "detached",
                "-i",
                instructions,
            ])
            .ok();
    };

    // 1. tmux, fails.
    bench.agent_behaviour(task, "exit_code=3\n");
    bench.run(["dispatch", task]).ok();
    let first = wait_runs(1, "failed");
    let id = first["agentSessionId"].as_str().unwrap().to_string();

    // 2. after a failure, headless, with new instructions: completes.
    bench.agent_behaviour(task, &replay(LOG_B));
    continue_headless("Now the tests.");
    let second = wait_runs(2, "completed");
    // One log per session: the first run's terminal output, then this stream.
    assert!(log_of(&second).ends_with(&replayed(LOG_B, &id)));

    // 3. after a completion, back in tmux: stopped.
    bench.agent_behaviour(task, "sleep=60\n");
    bench.run(["dispatch", task, "--continue"]).ok();
    wait_runs(3, "running");
    bench.wait_for_agent(task, 3);
    bench.run(["stop", task]).ok();
    wait_runs(3, "stopped");

    // 4. after a stop, headless: its supervisor and agent vanish.
    bench
        .run(["dispatch", task, "--continue", "--exec", "detached"])
        .ok();
    bench.wait_for_agent(task, 4);
    let fourth = wait_for("run 4's agent pid", WAIT, || {
        let record = bench.record(task, "implementation");
        (record["sessionHistory"].as_array().unwrap().len() == 4 && record["pid"].is_u64())
            .then_some(record)
    });
    kill(fourth["supervisorPid"].as_u64().unwrap(), 9);
    kill(fourth["pid"].as_u64().unwrap(), -9);
    wait_runs(4, "interrupted");

    // 5. after an interruption, headless again: completes.
    bench.agent_behaviour(task, "");
    continue_headless("Pick up where you were cut off.");
    let last = wait_runs(5, "completed");

    // One conversation throughout: a new id once, then resumed. (The fake
    // agent, like Claude Code, refuses to resume an id it does not know.)
    let calls = bench.wait_for_agent(task, 5);
    assert_eq!(calls.len(), 5);
    assert_eq!(calls[0].argv[..2], ["--session-id", &id]);
    for call in &calls[1..] {
        let at = call.argv.iter().position(|a| a == "--resume").unwrap();
        assert_eq!(call.argv[at + 1], id, "{:?}", call.argv);
    }
    assert_eq!(calls[1].stdin.as_deref(), Some("Now the tests."));
    assert_eq!(
        calls[4].stdin.as_deref(),
        Some("Pick up where you were cut off.")
    );
    let history = last["sessionHistory"].as_array().unwrap();
    let column = |key: &str| -> Vec<String> {
        history
            .iter()
            .map(|run| run[key].as_str().unwrap_or("-").to_string())
            .collect()
    };
    assert_eq!(
        column("execType"),
        ["tmux", "detached", "tmux", "detached", "detached"]
    );
    assert_eq!(
        column("status"),
        ["failed", "completed", "stopped", "interrupted", "completed"]
    );
    assert_eq!(column("resumedFrom")[0], "-");
    assert!(column("resumedFrom")[1..].iter().all(|r| *r == id));
    assert!(column("sessionId").iter().all(|r| *r == id));
    // The same window for both tmux runs.
    assert_eq!(bench.windows(), ["scopecraft:cont-11A-implementation"]);
}

#[test]
fn continue_works_out_the_mode_from_the_books_like_status() {
    let bench = Bench::with_tasks(&["one-11A", "two-11B"]);
    bench.write(
        ".tasks/.modes/review/base.md",
        "---\ninput:\n  taskId: string\n---\n\nReview {taskId}.\n",
    );
    // The one earlier session, in a mode other than the default: continued.
    bench
        .run(["dispatch", "one-11A", "-m", "review", "--exec", "detached"])
        .ok();
    let first = bench.wait_for_status("one-11A", "review", "completed");
    bench
        .run([
            "dispatch",
            "one-11A",
            "--continue",
            "--exec",
            "detached",
            "-i",
            "Now add tests",
        ])
        .ok();
    let calls = bench.wait_for_agent("one-11A", 2);
    let at = calls[1].argv.iter().position(|a| a == "--resume").unwrap();
    assert_eq!(
        calls[1].argv[at + 1],
        first["agentSessionId"].as_str().unwrap()
    );
    assert_eq!(calls[1].stdin.as_deref(), Some("Now add tests"));
    wait_for("the continued run", Duration::from_secs(20), || {
        let record = bench.record("one-11A", "review");
        (record["status"] == "completed" && record["sessionHistory"].as_array()?.len() == 2)
            .then_some(())
    });

    // Another mode that never ran: the advice names the ones that did.
    bench
        .run(["dispatch", "one-11A", "-m", "implementation", "--continue"])
        .bad_input("it has sessions in: review (completed); pass one of those with --mode");

    // Sessions in two modes: both named, a mode asked for, nothing started.
    bench
        .run(["dispatch", "one-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_status("one-11A", "implementation", "completed");
    let both = bench
        .run(["dispatch", "one-11A", "--continue", "--exec", "detached"])
        .bad_input("task one-11A has sessions in several modes: ");
    assert!(
        both.stderr.contains("implementation (completed)")
            && both.stderr.contains("review (completed)")
            && both.stderr.contains("--mode"),
        "{}",
        both.stderr
    );
    assert_eq!(bench.agent_calls("one-11A").len(), 3);

    // No session at all: start one, the right way.
    bench
        .run(["dispatch", "two-11B", "--continue"])
        .bad_input("no session of task two-11B; start one with: scopecraft-tmux dispatch two-11B");
}

#[test]
fn continue_needs_a_recorded_conversation() {
    let bench = Bench::with_tasks(&["none-11A", "lost-11B"]);
    bench.run(["dispatch", "none-11A", "--continue"]).bad_input(
        "no session of task none-11A; start one with: scopecraft-tmux dispatch none-11A",
    );

    bench
        .run(["dispatch", "lost-11B", "--exec", "detached"])
        .ok();
    let record = bench.wait_for_status("lost-11B", "implementation", "completed");
    // Its supervisor still notes the end's notification: edit after that.
    bench.wait_for_supervisor_end("lost-11B", "implementation");
    // A record from before ids were kept (or Scopecraft's own) has none.
    let path = bench.record_path("lost-11B.implementation");
    let mut json: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("agentSessionId");
    json.as_object_mut().unwrap().remove("realSessionId");
    fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    bench
        .run(["dispatch", "lost-11B", "--continue", "--exec", "detached"])
        .bad_input("no recorded agent conversation id");
    let after = bench.record("lost-11B", "implementation");
    assert_eq!(after["status"], "completed");
    assert_eq!(after["sessionHistory"], record["sessionHistory"]);
    assert_eq!(bench.agent_calls("lost-11B").len(), 1);
}

#[test]
fn several_headless_runs_of_different_tasks_at_once() {
    let ids: Vec<String> = (0..6).map(|i| format!("many-{i}-11A")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let bench = Bench::with_tasks(&refs);
    for (i, task) in ids.iter().enumerate() {
        bench.agent_behaviour(task, &replay(if i % 2 == 0 { LOG_A } else { LOG_B }));
    }
    std::thread::scope(|scope| {
        for task in &ids {
            let bench = &bench;
            scope.spawn(move || {
                bench.run(["dispatch", task, "--exec", "detached"]).ok();
            });
        }
    });
    let mut conversations = std::collections::BTreeSet::new();
    for (i, task) in ids.iter().enumerate() {
        let record = bench.wait_for_status(task, "implementation", "completed");
        let id = record["agentSessionId"].as_str().unwrap();
        // Each log holds its own run, whole and not interleaved.
        let expected = replayed(if i % 2 == 0 { LOG_A } else { LOG_B }, id);
        assert_eq!(log_of(&record), expected, "{task}");
        conversations.insert(id.to_string());
    }
    assert_eq!(conversations.len(), 6);
    let list = bench.run(["list"]).ok().stdout;
    assert_eq!(list.matches("completed").count(), 6, "{list}");
}

#[test]
fn logs_renders_a_replayed_run_for_people() {
    let bench = Bench::with_tasks(&["show-11A"]);
    bench.agent_behaviour("show-11A", &replay(LOG_A));
    bench
        .run(["dispatch", "show-11A", "--exec", "detached"])
        .ok();
    let record = bench.wait_for_status("show-11A", "implementation", "completed");
    let id = record["agentSessionId"].as_str().unwrap();

    let raw = bench.run(["logs", "show-11A", "--raw"]).ok().stdout;
    assert_eq!(raw, replayed(LOG_A, id), "--raw prints the log as written");
    let shown = bench.run(["logs", "show-11A"]).ok().stdout;
    insta::assert_snapshot!(shown.replace(id, "<conversation id>"));
}

#[test]
fn logs_follow_exits_with_the_runs_status() {
    let bench = Bench::with_tasks(&["ok-11A", "bad-11B", "halt-11C", "gone-11D"]);
    let gate = bench.dir.path().join("gate");
    bench.agent_behaviour(
        "ok-11A",
        &format!("{}wait_for='{}'\n", replay(LOG_B), gate.display()),
    );
    bench.agent_behaviour("bad-11B", "exit_code=1\n");
    bench.agent_behaviour("halt-11C", "sleep=60\n");
    bench.agent_behaviour("gone-11D", "sleep=60\n");
    for task in ["ok-11A", "bad-11B", "halt-11C", "gone-11D"] {
        bench.run(["dispatch", task, "--exec", "detached"]).ok();
    }

    // Follows the stream while the run lasts, then ends with it: 0.
    let following = Following::start(&bench, "ok-11A");
    wait_for("the whole stream, followed", WAIT, || {
        following
            .output()
            .contains("✓ result: success")
            .then_some(())
    });
    assert_eq!(
        bench.record("ok-11A", "implementation")["status"],
        "running"
    );
    fs::write(&gate, "").unwrap();
    let (code, output) = following.end();
    assert_eq!(code, 0, "{output}");
    assert!(output.starts_with("── session "), "{output}");
    assert!(
        output.ends_with("✓ result: success, 76 turns, 7m 40s, $5.34\n\n── ok-11A (implementation) completed, exit 0\n"),
        "{output}"
    );

    // Already failed: 1 at once.
    bench.wait_for_status("bad-11B", "implementation", "failed");
    let (code, output) = Following::start(&bench, "bad-11B").end();
    assert_eq!(code, 1);
    assert!(output.ends_with("failed, exit 1\n"), "{output}");

    // Stopped while followed: 3.
    bench.wait_for_status("halt-11C", "implementation", "running");
    let following = Following::start(&bench, "halt-11C");
    bench.run(["stop", "halt-11C"]).ok();
    let (code, output) = following.end();
    assert_eq!(code, 3, "{output}");

    // Interrupted (supervisor and agent killed) while followed: 4.
    let record = wait_for("gone-11D's agent", WAIT, || {
        let record = bench.record("gone-11D", "implementation");
        record["pid"].is_u64().then_some(record)
    });
    let following = Following::start(&bench, "gone-11D");
    kill(record["supervisorPid"].as_u64().unwrap(), 9);
    kill(record["pid"].as_u64().unwrap(), -9);
    let (code, output) = following.end();
    assert_eq!(code, 4, "{output}");
    assert!(output.ends_with("interrupted\n"), "{output}");

    let help = bench.run(["logs", "--help"]).ok().stdout;
    for line in [
        "0  success; with -f: the run completed",
        "1  failure; with -f: the run failed",
        "3  with -f: the run was stopped",
        "4  with -f: the run was interrupted",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

/// The docker CLI here is tests/fake-docker/docker, a recording stand-in:
/// no Docker engine runs on our machines. It runs the agent's command on
/// this machine, so the whole session goes through the supervisor.
#[test]
fn docker_runs_the_agent_with_the_working_tree_at_workspace() {
    let bench = Bench::with_tasks(&["box-11A", "boxstop-11B"]).with_docker_stand_in();
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n\n[docker]\nimage = \"ghcr.io/acme/claude-code:1\"\n\
         mounts = [\"./cache:/cache:ro\", \"npm-cache:/root/.npm\"]\nenv = [\"ANTHROPIC_API_KEY\", \"CI=1\"]\n",
    );
    bench.agent_behaviour("box-11A", &replay(LOG_A));
    let prompt = bench.run(["prompt", "box-11A"]).ok().stdout;
    bench.run(["dispatch", "box-11A", "--exec", "docker"]).ok();
    let record = bench.wait_for_status("box-11A", "implementation", "completed");
    let id = record["agentSessionId"].as_str().unwrap();
    assert_eq!(record["execType"], "docker");
    // The session's name and a hash of the project: container names are
    // global to the engine.
    let container = record["container"].as_str().unwrap().to_string();
    let (session, hash) = container.rsplit_once('-').unwrap();
    assert_eq!(session, "box-11A.implementation");
    assert!(
        hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{container}"
    );
    assert_eq!(record["type"], "autonomous-task");

    let calls = bench.docker_calls();
    assert_eq!(calls[0], ["version", "--format", "{{.Server.Version}}"]);
    let agent = fixtures()
        .parent()
        .unwrap()
        .join("fake-agent/claude")
        .display()
        .to_string();
    let project = bench.project.display().to_string();
    assert_eq!(
        calls[1],
        [
            "run",
            "--rm",
            "-i",
            "--name",
            &container,
            "-v",
            &format!("{project}:/workspace"),
            "-w",
            "/workspace",
            "-e",
            "TASK_ID",
            "-e",
            "WORK_MODE",
            "-v",
            &format!("{project}/cache:/cache:ro"),
            "-v",
            "npm-cache:/root/.npm",
            "-e",
            "ANTHROPIC_API_KEY",
            "-e",
            "CI=1",
            "ghcr.io/acme/claude-code:1",
            &agent,
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--session-id",
            id,
        ]
    );
    // The prompt went in through `docker run -i`; the stream came back out.
    let agent_calls = bench.wait_for_agent("box-11A", 1);
    assert_eq!(agent_calls[0].stdin.as_deref(), Some(prompt.as_str()));
    assert_eq!(agent_calls[0].cwd, project);
    assert_eq!(log_of(&record), replayed(LOG_A, id));
    let list = bench.run(["list"]).ok().stdout;
    assert!(list.contains(&format!("container {container}")), "{list}");

    // stop ends the container through the engine.
    bench.agent_behaviour("boxstop-11B", "sleep=60\n");
    bench
        .run(["dispatch", "boxstop-11B", "--exec", "docker"])
        .ok();
    bench.wait_for_agent("boxstop-11B", 1);
    let running = bench.wait_for_status("boxstop-11B", "implementation", "running");
    let stop_container = running["container"].as_str().unwrap().to_string();
    bench.run(["stop", "boxstop-11B"]).ok();
    let stopped = bench.record("boxstop-11B", "implementation");
    assert_eq!(stopped["status"], "stopped");
    wait_for("docker stop", WAIT, || {
        bench
            .docker_calls()
            .contains(&vec![
                "stop".to_string(),
                "-t".to_string(),
                "8".to_string(),
                stop_container.clone(),
            ])
            .then_some(())
    });
}

#[test]
fn docker_without_docker_or_an_engine_fails_before_anything_is_written() {
    let config =
        "default-mode = \"implementation\"\n\n[docker]\nimage = \"ghcr.io/acme/claude-code:1\"\n";

    // No docker on PATH at all.
    let empty = tempfile::tempdir().unwrap();
    let bench = Bench::with_tasks(&["nod-11A"]).env("PATH", empty.path());
    bench.write(".tasks/.config/scopecraft-tmux.toml", config);
    bench
        .run(["dispatch", "nod-11A", "--exec", "docker"])
        .bad_input("no `docker` on PATH");
    assert!(!bench.scopecraft_home.join("projects").exists());

    // A docker CLI, but no engine answering (the stand-in told to fail).
    let bench = Bench::with_tasks(&["noe-11A"]).with_docker_stand_in();
    bench.write(".tasks/.config/scopecraft-tmux.toml", config);
    fs::create_dir_all(bench.scopecraft_home.join("fake-docker")).unwrap();
    fs::write(bench.scopecraft_home.join("fake-docker/no-engine"), "").unwrap();
    let run = bench
        .run(["dispatch", "noe-11A", "--exec", "docker"])
        .bad_input("needs a Docker engine, and none answers");
    assert!(run.stderr.contains("Cannot connect to the Docker daemon"));
    assert!(!bench.scopecraft_home.join("projects").exists());
    assert!(bench.run(["list"]).ok().stdout.contains("no sessions yet"));
    assert!(
        bench.docker_calls().iter().all(|call| call[0] == "version"),
        "nothing was run"
    );

    // An engine, but no image configured.
    let bench = Bench::with_tasks(&["noi-11A"]).with_docker_stand_in();
    bench
        .run(["dispatch", "noi-11A", "--exec", "docker"])
        .bad_input("set docker.image");
    assert!(!bench.scopecraft_home.join("projects").exists());
}

#[test]
fn a_mode_can_be_headless_by_default_and_save_its_result() {
    let bench = Bench::with_tasks(&["cr-11A"]);
    bench.write(
        ".tasks/.modes/code-review/base.md",
        "---\ninput:\n  taskId: string\n---\n\nReview {taskId}.\n",
    );
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n\n[modes.code-review]\nexec = \"detached\"\nsave-to = \"reviews/{task}.md\"\n",
    );
    bench.agent_behaviour("cr-11A", &replay(LOG_B));
    let run = bench
        .run(["dispatch", "cr-11A", "--mode", "code-review"])
        .ok();
    assert!(run.stdout.contains("headless"), "{}", run.stdout);
    let record = bench.wait_for_status("cr-11A", "code-review", "completed");
    assert_eq!(record["execType"], "detached");
    let saved = bench.project.join("reviews/cr-11A.md");
    assert_eq!(record["saveTo"], saved.display().to_string());
    assert_eq!(fs::read_to_string(&saved).unwrap(), result_text(LOG_B));
    // In a window there is no final result to save: explicit --save-to is refused.
    bench
        .run([
            "dispatch",
            "cr-11A",
            "--mode",
            "code-review",
            "--exec",
            "tmux",
            "--save-to",
            "x.md",
        ])
        .bad_input("--save-to needs a headless run");
}

#[test]
fn logs_of_a_tmux_run_show_the_windows_text() {
    let bench = Bench::with_tasks(&["pane-11A"]);
    // No transcript (as an agent other than Claude Code): the terminal's
    // text is all there is to show.
    bench.agent_behaviour(
        "pane-11A",
        "say=$'\\e[1;31mred\\e[0m and plain'\ntranscript=0\n",
    );
    bench.run(["dispatch", "pane-11A"]).ok();
    let record = bench.wait_for_status("pane-11A", "implementation", "completed");
    // The window is open with its summary: its text as tmux renders it.
    let shown = wait_for("the summary in the pane", WAIT, || {
        let shown = bench.run(["logs", "pane-11A"]).ok().stdout;
        shown.contains("Press any key").then_some(shown)
    });
    assert!(shown.contains("red and plain\n"), "{shown}");
    assert!(!shown.contains('\x1b'), "{shown:?}");
    assert!(
        shown.ends_with("── pane-11A (implementation) completed, exit 0\n"),
        "{shown}"
    );
    // The recorded terminal output keeps the escape sequences…
    wait_for("the pane's output in its log", WAIT, || {
        let raw = bench.run(["logs", "pane-11A", "--raw"]).ok().stdout;
        raw.contains("\x1b[1;31mred").then_some(())
    });
    // …and once the window is closed it is what logs shows, without them.
    bench.tmux([
        "send-keys",
        "-t",
        record["tmux"]["paneId"].as_str().unwrap(),
        "x",
    ]);
    wait_for("the window to close", WAIT, || {
        bench.windows().is_empty().then_some(())
    });
    let shown = bench.run(["logs", "pane-11A"]).ok().stdout;
    assert!(shown.contains("red and plain\n"), "{shown}");
    assert!(!shown.contains('\x1b'), "{shown:?}");
}

/// In a git project the container gets the task's worktree at /workspace
/// (not the main checkout), and the main repository's git folder at its own
/// path, which the worktree's `.git` file names.
#[test]
fn docker_mounts_the_tasks_worktree() {
    let bench = Bench::with_tasks(&["wtbox-11A"]).with_docker_stand_in();
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n\n[docker]\nimage = \"img:1\"\n",
    );
    let bench = bench.with_git();
    let dry = bench
        .run(["dispatch", "wtbox-11A", "--exec", "docker", "--dry-run"])
        .ok();
    let worktree = bench
        .dir
        .path()
        .join("project.worktrees/wtbox-11A")
        .display()
        .to_string();
    assert!(
        dry.stdout.contains(&format!("-v {worktree}:/workspace")),
        "{}",
        dry.stdout
    );
    bench
        .run(["dispatch", "wtbox-11A", "--exec", "docker"])
        .ok();
    let record = bench.wait_for_status("wtbox-11A", "implementation", "completed");
    assert_eq!(record["workdir"], worktree);
    let run = bench
        .docker_calls()
        .into_iter()
        .find(|call| call.first().is_some_and(|c| c == "run"))
        .unwrap();
    let git_dir = bench.project.join(".git").display().to_string();
    let mounts: Vec<&String> = run
        .iter()
        .zip(run.iter().skip(1))
        .filter(|(flag, _)| *flag == "-v")
        .map(|(_, value)| value)
        .collect();
    assert_eq!(
        mounts,
        [
            &format!("{worktree}:/workspace"),
            &format!("{git_dir}:{git_dir}")
        ]
    );
    let calls = bench.wait_for_agent("wtbox-11A", 1);
    assert_eq!(
        calls[0].cwd, worktree,
        "the stand-in runs the agent where /workspace is"
    );
}
