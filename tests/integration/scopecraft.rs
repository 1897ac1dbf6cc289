//! Our books as Scopecraft's own monitoring UI reads them. `Reader` follows
//! the rules of its reader (`listAutonomousSessions`, `getSessionDetails`,
//! `getSessionLogs`, `createSessionMonitor` in scopecraft/command's
//! `src/integrations/channelcoder/monitoring.ts`, and ChannelCoder's
//! `parseLogFile`), and reads Scopecraft's real records (tests/fixtures)
//! and ours with the same code.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::{Bench, copy_dir, fixtures, wait_for};

/// The columns of Scopecraft's monitor page, by `status`.
fn column(status: &str) -> Option<&'static str> {
    match status {
        "running" => Some("Running"),
        "waiting_feedback" => Some("Waiting Feedback"),
        "completed" | "error" => Some("Completed"),
        _ => None,
    }
}

/// The statuses Scopecraft's code knows: its record type
/// (`running | completed | failed`) and its page (`waiting_feedback`).
const KNOWN_STATUSES: [&str; 4] = ["running", "waiting_feedback", "completed", "failed"];

/// What ChannelCoder's `parseLogFile` and Scopecraft's `parseSessionStats`
/// make of a log.
#[derive(Debug, Default, PartialEq)]
struct Stats {
    /// `assistant` events.
    messages: usize,
    model: Option<String>,
    /// The last `result` event's `total_cost`, rounded to cents.
    total_cost: Option<f64>,
    /// Assistant text longer than 10 characters (`lastLogLines`).
    outputs: Vec<String>,
    session_id: Option<String>,
}

/// A sessions folder as Scopecraft's reader sees it; `root` resolves
/// relative `logFile`s (its `process.cwd()`).
struct Reader {
    dir: PathBuf,
    root: PathBuf,
}

impl Reader {
    fn new(dir: &Path, root: &Path) -> Reader {
        Reader {
            dir: dir.to_path_buf(),
            root: root.to_path_buf(),
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// `listAutonomousSessions`: every `*.info.json` that parses, newest first.
    fn list(&self) -> Vec<Value> {
        let mut sessions: Vec<Value> = Self::names(&self.dir)
            .into_iter()
            .filter(|f| f.ends_with(".info.json"))
            .filter_map(|f| serde_json::from_slice(&fs::read(self.dir.join(f)).ok()?).ok())
            .collect();
        sessions.sort_by(|a, b| {
            b["startTime"]
                .as_str()
                .unwrap_or("")
                .cmp(a["startTime"].as_str().unwrap_or(""))
        });
        sessions
    }

    /// `getSessionDetails(taskId)`: the `*.info.json` whose name includes
    /// `task-<taskId>`, the last by name.
    fn details(&self, task: &str) -> Option<Value> {
        let needle = format!("task-{task}");
        let file = Self::names(&self.dir)
            .into_iter()
            .filter(|f| f.contains(&needle) && f.ends_with(".info.json"))
            .max()?;
        serde_json::from_slice(&fs::read(self.dir.join(file)).ok()?).ok()
    }

    /// `createSessionMonitor(taskId)`: the logs whose name includes
    /// `task-<taskId>` (it takes the first the folder lists).
    fn monitored_logs(&self, task: &str) -> Vec<PathBuf> {
        let needle = format!("task-{task}");
        let logs = self.dir.join("logs");
        Self::names(&logs)
            .into_iter()
            .filter(|f| f.contains(&needle))
            .map(|f| logs.join(f))
            .collect()
    }

    /// `getSessionLogs`: each log file and the task its lines are tagged
    /// with (`/task-([^-]+)/`, else `unknown`).
    fn feed_tags(&self) -> Vec<(String, String)> {
        Self::names(&self.dir.join("logs"))
            .into_iter()
            .map(|f| {
                let tag = feed_tag(&f);
                (f, tag)
            })
            .collect()
    }

    /// A record's `logFile`, resolved as Scopecraft does.
    fn log_of(&self, record: &Value) -> PathBuf {
        let log = Path::new(record["logFile"].as_str().unwrap());
        if log.is_absolute() {
            log.to_path_buf()
        } else {
            self.root.join(log)
        }
    }

    /// `parseSessionStats` over a record's log.
    fn stats(&self, record: &Value) -> Stats {
        parse_log(&fs::read_to_string(self.log_of(record)).unwrap_or_default())
    }
}

/// `/task-([^-]+)/` on a log's name.
fn feed_tag(file: &str) -> String {
    file.find("task-")
        .map(|at| {
            file[at + 5..]
                .split('-')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|tag| !tag.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// ChannelCoder's `parseLogFile`: one JSON event with a string `type` per
/// line, other lines passed over; then Scopecraft's statistics.
fn parse_log(text: &str) -> Stats {
    let mut stats = Stats::default();
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(kind) = event["type"].as_str() else {
            continue;
        };
        if stats.session_id.is_none() {
            stats.session_id = event["session_id"].as_str().map(str::to_string);
        }
        match kind {
            "assistant" => {
                stats.messages += 1;
                if stats.model.is_none() {
                    stats.model = event["message"]["model"].as_str().map(str::to_string);
                }
                let text: String = event["message"]["content"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c["type"] == "text")
                    .filter_map(|c| c["text"].as_str())
                    .collect();
                if text.trim().chars().count() > 10 {
                    stats.outputs.push(text.trim().to_string());
                }
            }
            // In dollars and cents, to compare.
            "result" => {
                stats.total_cost = event["total_cost"]
                    .as_f64()
                    .map(|c| (c * 100.0).round() / 100.0);
            }
            _ => {}
        }
    }
    stats
}

/// The (only) project's sessions folder.
fn sessions_dir(bench: &Bench) -> PathBuf {
    let project = fs::read_dir(bench.scopecraft_home.join("projects"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    project.join("sessions")
}

fn fixture_log(name: &str) -> PathBuf {
    fixtures().join(format!(
        "scopecraft-sessions/.tasks/.autonomous-sessions/logs/{name}.log"
    ))
}

/// 111 lines, 73 assistant events, total_cost 6.31.
const LOG_A: &str = "task-test-feedback-flow-05B-1748658020078";
/// 84 lines, 55 assistant events, total_cost 5.34.
const LOG_B: &str = "task-test-feedback-flow-05B-1748658194681";

fn replay(name: &str) -> String {
    format!("replay='{}'\n", fixture_log(name).display())
}

fn ours(sessions: &[Value]) -> Vec<&Value> {
    sessions
        .iter()
        .filter(|s| s.get("sessionKey").is_some())
        .collect()
}

#[test]
fn scopecraft_reads_its_own_records_with_these_rules() {
    let root = fixtures().join("scopecraft-sessions");
    let reader = Reader::new(&root.join(".tasks/.autonomous-sessions"), &root);
    let listed = reader.list();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["sessionName"], LOG_B, "newest first");
    let details = reader.details("test-feedback-flow-05B").unwrap();
    assert_eq!(details["sessionName"], LOG_B);
    assert_eq!(reader.monitored_logs("test-feedback-flow-05B").len(), 2);
    let stats = reader.stats(&listed[1]);
    assert_eq!(stats.messages, 73);
    assert_eq!(stats.total_cost, Some(6.31));
    assert!(stats.model.is_some());
    assert!(
        reader.feed_tags().iter().all(|(_, tag)| tag == "test"),
        "{:?}",
        reader.feed_tags()
    );
}

#[test]
fn each_run_has_a_record_scopecraft_reads_as_its_own() {
    let bench = Bench::with_tasks(&["mine-11A"]);
    bench.agent_behaviour("mine-11A", &replay(LOG_A));
    bench
        .run(["dispatch", "mine-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_status("mine-11A", "implementation", "completed");
    bench.agent_behaviour("mine-11A", &replay(LOG_B));
    bench
        .run([
            "dispatch",
            "mine-11A",
            "--continue",
            "--exec",
            "detached",
            "-i",
            "go on",
        ])
        .ok();
    let session = wait_for("the second run to end", Duration::from_secs(20), || {
        let record = bench.record("mine-11A", "implementation");
        (record["sessionHistory"].as_array().unwrap().len() == 2 && record["status"] == "completed")
            .then_some(record)
    });
    // Scopecraft's own records in the same folder, as its newer versions
    // keep them.
    let dir = sessions_dir(&bench);
    copy_dir(
        &fixtures().join("scopecraft-sessions/.tasks/.autonomous-sessions"),
        &dir,
    );
    let reader = Reader::new(&dir, &fixtures().join("scopecraft-sessions"));
    let listed = reader.list();
    let names: Vec<&str> = listed
        .iter()
        .map(|s| s["sessionName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.iter().collect::<BTreeSet<_>>().len(),
        names.len(),
        "no run listed twice: {names:?}"
    );
    let runs = ours(&listed);
    assert_eq!(runs.len(), 2, "one record per run: {names:?}");
    assert_eq!(listed.len(), 4, "ours and Scopecraft's: {names:?}");
    let history = session["sessionHistory"].as_array().unwrap();
    for (run, entry) in runs.iter().rev().zip(history) {
        let name = run["sessionName"].as_str().unwrap();
        assert_eq!(Some(name), entry["record"].as_str());
        assert!(name.starts_with("task-mine-11A-"), "{name}");
        let ms: u128 = name["task-mine-11A-".len()..].parse().unwrap();
        assert!(ms > 1_700_000_000_000, "{name}");
        assert_eq!(run["taskId"], "mine-11A");
        assert_eq!(run["status"], "completed");
        assert_eq!(run["type"], "autonomous-task");
        assert_eq!(
            reader.log_of(run),
            dir.join(format!("logs/{name}.log")),
            "its own log"
        );
        assert_eq!(run["sessionHistory"][0]["sessionId"], run["realSessionId"]);
    }
    // The details view: the task's newest run.
    let details = reader.details("mine-11A").unwrap();
    assert_eq!(details["sessionName"], runs[0]["sessionName"]);
    // The live monitor finds the task's logs; the feed tags them with the
    // task as Scopecraft tags its own.
    let logs = reader.monitored_logs("mine-11A");
    assert_eq!(logs.len(), 2, "{logs:?}");
    for (file, tag) in reader.feed_tags() {
        assert_ne!(tag, "unknown", "{file}");
    }
    // Statistics per run: each run's messages and cost, not the sum.
    let first = reader.stats(runs[1]);
    let second = reader.stats(runs[0]);
    assert_eq!((first.messages, first.total_cost), (73, Some(6.31)));
    assert_eq!((second.messages, second.total_cost), (55, Some(5.34)));
    assert_eq!(
        second.session_id.as_deref(),
        runs[0]["realSessionId"].as_str()
    );
    // Our own commands still see one session, with its two runs' output.
    let list = bench.run(["list", "--json"]).ok().json();
    let mine: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["taskId"] == "mine-11A")
        .collect();
    assert_eq!(mine.len(), 1, "{list}");
    let logs = bench.run(["logs", "mine-11A"]).ok();
    assert_eq!(logs.stdout.matches("✓ result: success").count(), 2);
}

#[test]
fn status_is_a_value_scopecraft_knows_and_ours_says_more() {
    let bench = Bench::with_tasks(&["good-11A", "bad-11B", "halt-11C", "ask-11D"]);
    bench.agent_behaviour("bad-11B", "exit_code=3\n");
    bench.agent_behaviour("halt-11C", "sleep=30\n");
    bench.agent_behaviour("ask-11D", "sleep=30\n");
    for task in ["good-11A", "bad-11B", "halt-11C"] {
        bench.run(["dispatch", task, "--exec", "detached"]).ok();
    }
    bench.run(["dispatch", "ask-11D"]).ok();
    bench.wait_for_status("good-11A", "implementation", "completed");
    bench.wait_for_status("bad-11B", "implementation", "failed");
    bench.wait_for_agent_started("halt-11C", "implementation");
    bench.run(["stop", "halt-11C"]).ok();
    bench.wait_for_status("halt-11C", "implementation", "stopped");
    // The interactive run waits for its user: Claude Code's Stop hook.
    // A hook counts once the supervisor has begun (it says running then).
    let ask = bench.wait_for_agent_started("ask-11D", "implementation");
    let key = sessions_dir(&bench).join("ask-11D.implementation.session.json");
    bench.run(["__hook", key.to_str().unwrap(), "waiting"]).ok();
    bench.wait_for_status("ask-11D", "implementation", "waiting");

    let reader = Reader::new(&sessions_dir(&bench), &bench.project);
    let by_task = |task: &str| reader.details(task).unwrap();
    let expect = [
        ("good-11A", "completed", "completed", Some("Completed")),
        ("bad-11B", "failed", "failed", None),
        ("halt-11C", "failed", "stopped", None),
        (
            "ask-11D",
            "waiting_feedback",
            "waiting",
            Some("Waiting Feedback"),
        ),
    ];
    for (task, status, state, shown_in) in expect {
        let run = by_task(task);
        assert_eq!(run["status"], status, "{task}");
        assert_eq!(run["state"], state, "{task}");
        assert_eq!(column(status), shown_in, "{task}");
    }
    assert_eq!(by_task("bad-11B")["exitCode"], 3);
    for run in reader.list() {
        let status = run["status"].as_str().unwrap();
        assert!(KNOWN_STATUSES.contains(&status), "{run}");
    }
    // Our commands read our state.
    let list = bench.run(["list"]).ok().stdout;
    assert!(list.contains("stopped"), "{list}");
    assert!(list.contains("waiting"), "{list}");
    assert_eq!(ask["execType"], "tmux");
    bench.run(["stop", "ask-11D"]).ok();
}

#[test]
fn scopecraft_records_waiting_for_feedback_or_in_error_are_listed_in_our_words() {
    let bench = Bench::with_tasks(&["mine-11A"]);
    let dir = bench.sessions_dir();
    fs::create_dir_all(&dir).unwrap();
    // As Scopecraft writes its own, with the statuses its monitor groups.
    for (task, stamp, status) in [
        (
            "22_implmnt-cli-par-lis-and-get-06K",
            "1748658999999",
            "waiting_feedback",
        ),
        ("23_fix-the-par-06L", "1748659999999", "error"),
    ] {
        let name = format!("task-{task}-{stamp}");
        let record = serde_json::json!({
            "sessionName": name,
            "taskId": task,
            "logFile": format!(".tasks/.autonomous-sessions/logs/{name}.log"),
            "startTime": "2025-05-31T02:20:20.078Z",
            "status": status,
            "pid": 99783,
            "type": "autonomous-task",
        });
        fs::write(
            dir.join(format!("{name}.info.json")),
            serde_json::to_string_pretty(&record).unwrap(),
        )
        .unwrap();
    }
    let list = bench.run(["list"]).ok();
    assert!(!list.stderr.contains("warning"), "{}", list.stderr);
    assert!(
        list.stdout.contains("22_implmnt-cli-par-lis-and-get-06K"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains("23_fix-the-par-06L"),
        "{}",
        list.stdout
    );
    let listed = bench.run(["list", "--json"]).ok();
    assert!(listed.stderr.is_empty(), "{}", listed.stderr);
    let status_of = |task: &str| {
        listed
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["taskId"] == task)
            .map(|r| r["status"].clone())
    };
    assert_eq!(
        status_of("22_implmnt-cli-par-lis-and-get-06K"),
        Some("waiting".into())
    );
    assert_eq!(status_of("23_fix-the-par-06L"), Some("failed".into()));
    let status = bench.run(["status", "23_fix-the-par-06L"]).ok();
    assert!(status.stdout.contains("failed"), "{}", status.stdout);
    assert!(status.stderr.is_empty(), "{}", status.stderr);
    // Read, never written: Scopecraft's words stay in its files.
    let text = fs::read_to_string(
        dir.join("task-22_implmnt-cli-par-lis-and-get-06K-1748658999999.info.json"),
    )
    .unwrap();
    assert!(text.contains("waiting_feedback"), "{text}");
}

#[test]
fn records_carry_no_environment_values() {
    let bench = Bench::with_tasks(&["env-11A", "pane-11B"]);
    let marker = bench.dir.path().join("secret-path-entry");
    fs::create_dir_all(&marker).unwrap();
    let path = format!(
        "{}:{}",
        marker.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let bench = bench.env("PATH", &path);
    bench
        .run(["dispatch", "env-11A", "--exec", "detached"])
        .ok();
    bench.run(["dispatch", "pane-11B"]).ok();
    bench.wait_for_status("env-11A", "implementation", "completed");
    bench.wait_for_status("pane-11B", "implementation", "completed");
    // The agents got the dispatch's PATH, tmux or not ...
    for task in ["env-11A", "pane-11B"] {
        let calls = bench.wait_for_agent(task, 1);
        let env = fs::read_to_string(calls[0].dir.join("env")).unwrap();
        assert!(env.contains(&format!("PATH={path}")), "{task}: {env}");
    }
    // ... and no record holds it.
    let dir = sessions_dir(&bench);
    for name in Reader::names(&dir) {
        if name.ends_with(".json") {
            let text = fs::read_to_string(dir.join(&name)).unwrap();
            assert!(!text.contains("secret-path-entry"), "{name}: {text}");
            assert!(!text.contains("agentEnv"), "{name}");
        }
    }
    let listed = bench.run(["list", "--json"]).ok().stdout;
    assert!(!listed.contains("secret-path-entry"));
}

/// A session record as the earlier version wrote it (`<task>.<mode>.info.json`,
/// one log for all runs, the agent's PATH in it), ended.
fn write_earlier_layout(bench: &Bench, task: &str, id: &str) -> PathBuf {
    let dir = sessions_dir(bench);
    let log = dir.join(format!("logs/{task}.implementation.log"));
    fs::create_dir_all(log.parent().unwrap()).unwrap();
    let text = fs::read_to_string(fixture_log(LOG_A))
        .unwrap()
        .replace("ad1ce284-090b-419e-bab1-fc29ebd80d28", id);
    fs::write(&log, text).unwrap();
    let record = serde_json::json!({
        "sessionName": format!("{task}.implementation"),
        "taskId": task,
        "status": "completed",
        "startTime": "2026-01-05T10:00:00.000Z",
        "lastUpdated": "2026-01-05T10:07:00.000Z",
        "logFile": log,
        "type": "autonomous-task",
        "realSessionId": id,
        "sessionHistory": [{"sessionId": id, "startTime": "2026-01-05T10:00:00.000Z",
                            "execType": "detached", "status": "completed",
                            "endTime": "2026-01-05T10:07:00.000Z", "exitCode": 0}],
        "mode": "implementation",
        "execType": "detached",
        "projectRoot": bench.project,
        "workdir": bench.project,
        "exitCode": 0,
        "endTime": "2026-01-05T10:07:00.000Z",
        "agentSessionId": id,
        "agentCommand": ["claude", "-p", "--output-format", "stream-json", "--verbose", "--session-id", id],
        "promptOnStdin": true,
        "agentEnv": [["PATH", "/usr/bin:/bin"]],
        "allowedTools": [],
        "disallowedTools": [],
    });
    let path = dir.join(format!("{task}.implementation.info.json"));
    fs::write(&path, serde_json::to_string_pretty(&record).unwrap()).unwrap();
    path
}

#[test]
fn books_of_the_earlier_layout_are_read_listed_and_continued() {
    let bench = Bench::with_tasks(&["old-11A", "new-11B"]);
    // A session of this version makes the project's folder.
    bench
        .run(["dispatch", "new-11B", "--exec", "detached"])
        .ok();
    bench.wait_for_status("new-11B", "implementation", "completed");
    let id = "6f1c2a9e-0d7b-4c1e-9a51-3b2f7c8d9e01";
    let old = write_earlier_layout(&bench, "old-11A", id);
    fs::create_dir_all(bench.scopecraft_home.join("fake-agent/sessions")).unwrap();
    fs::write(
        bench.scopecraft_home.join("fake-agent/sessions").join(id),
        "",
    )
    .unwrap();

    // Read and listed as it is.
    let list = bench.run(["list"]).ok().stdout;
    assert!(list.contains("old-11A"), "{list}");
    let status = bench.record("old-11A", "implementation");
    assert_eq!(status["status"], "completed");
    let logs = bench.run(["logs", "old-11A"]).ok().stdout;
    assert!(logs.contains("✓ result: success"), "{logs}");
    assert!(old.exists(), "reading moves nothing");

    // Continued: the same conversation; the earlier session moves to the
    // new layout, its run a record of its own.
    bench.agent_behaviour("old-11A", &replay(LOG_B));
    bench
        .run(["dispatch", "old-11A", "--continue", "--exec", "detached"])
        .ok();
    let calls = bench.wait_for_agent("old-11A", 1);
    let resume = calls[0].argv.iter().position(|a| a == "--resume").unwrap();
    assert_eq!(calls[0].argv[resume + 1], id);
    let session = wait_for("the continued run to end", Duration::from_secs(20), || {
        let record = bench.record("old-11A", "implementation");
        (record["status"] == "completed" && record["sessionHistory"].as_array()?.len() == 2)
            .then_some(record)
    });
    assert!(!old.exists(), "moved to the new layout");
    assert!(session.get("agentEnv").is_none());
    let reader = Reader::new(&sessions_dir(&bench), &bench.project);
    let runs: Vec<Value> = reader
        .list()
        .into_iter()
        .filter(|r| r["taskId"] == "old-11A")
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[1]["startTime"], "2026-01-05T10:00:00.000Z");
    assert_eq!(
        reader.stats(&runs[1]).messages,
        73,
        "the earlier log, moved"
    );
    assert_eq!(reader.stats(&runs[0]).messages, 55);
    // Our logs still show both runs.
    let logs = bench.run(["logs", "old-11A"]).ok().stdout;
    assert_eq!(logs.matches("✓ result: success").count(), 2, "{logs}");
}

#[test]
fn an_earlier_records_environment_is_never_shown_and_leaves_its_file() {
    let bench = Bench::with_tasks(&["old-11A", "live-11B"]);
    bench
        .run(["dispatch", "live-11B", "--exec", "detached"])
        .ok();
    bench.wait_for_status("live-11B", "implementation", "completed");
    let secret = serde_json::json!({"PATH": "/secret/user/path:/usr/bin", "TOKEN": "s3cr3t"});
    let with_environment = |path: &Path, change: &dyn Fn(&mut Value)| {
        let mut record: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        record["agentEnv"] = secret.clone();
        change(&mut record);
        fs::write(path, serde_json::to_string_pretty(&record).unwrap()).unwrap();
        record
    };
    let ended = write_earlier_layout(&bench, "old-11A", "6f1c2a9e-0d7b-4c1e-9a51-3b2f7c8d9e01");
    let before = with_environment(&ended, &|_| {});
    // A live one of the earlier version: its supervisor (a stand-in) writes it.
    let live = sessions_dir(&bench).join("live-11B.implementation.info.json");
    fs::copy(&ended, &live).unwrap();
    let mut supervisor = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let me = supervisor.id();
    let ticks = crate::support::start_ticks(me);
    with_environment(&live, &|record| {
        record["sessionName"] = "live-11B.implementation".into();
        record["taskId"] = "live-11B".into();
        record["status"] = "running".into();
        record["supervisorPid"] = me.into();
        record["supervisorStartTicks"] = ticks.into();
        record.as_object_mut().unwrap().remove("endTime");
    });
    fs::remove_file(sessions_dir(&bench).join("live-11B.implementation.session.json")).unwrap();

    let served = crate::support::served::Served::start(&bench);
    let outputs = [
        bench.run(["list", "--json"]).ok().stdout,
        bench.run(["status", "old-11A", "--json"]).ok().stdout,
        bench
            .run(["status", "old-11A", "--mode", "implementation", "--json"])
            .ok()
            .stdout,
        bench.run(["status", "live-11B", "--json"]).ok().stdout,
        served.get("/sessions").expect(200).body,
        served.get("/tasks/old-11A").expect(200).body,
        served
            .get("/status/implementation/old-11A")
            .expect(200)
            .body,
    ];
    for output in &outputs {
        assert!(
            output.contains("old-11A") || output.contains("live-11B"),
            "{output}"
        );
        assert!(!output.contains("agentEnv"), "{output}");
        assert!(!output.contains("s3cr3t"), "{output}");
    }
    // The ended record lost that field, and only that, in place.
    let mut expected = before;
    expected.as_object_mut().unwrap().remove("agentEnv");
    let after: Value = serde_json::from_str(&fs::read_to_string(&ended).unwrap()).unwrap();
    assert_eq!(after, expected);
    // The live one is its supervisor's to write.
    assert!(fs::read_to_string(&live).unwrap().contains("s3cr3t"));
    supervisor.kill().unwrap();
    supervisor.wait().unwrap();
}

#[test]
fn continue_resumes_the_conversation_the_last_run_ended_in() {
    let bench = Bench::with_tasks(&["fork-11A"]);
    bench.agent_behaviour("fork-11A", &format!("{}fork=1\n", replay(LOG_A)));
    bench
        .run(["dispatch", "fork-11A", "--exec", "detached"])
        .ok();
    let first = bench.wait_for_status("fork-11A", "implementation", "completed");
    let mut ids = vec![first["agentSessionId"].as_str().unwrap().to_string()];
    for round in 2..=3 {
        bench
            .run(["dispatch", "fork-11A", "--continue", "--exec", "detached"])
            .ok();
        let record = wait_for("the continued run to end", Duration::from_secs(20), || {
            let record = bench.record("fork-11A", "implementation");
            (record["status"] == "completed" && record["sessionHistory"].as_array()?.len() == round)
                .then_some(record)
        });
        let calls = bench.wait_for_agent("fork-11A", round);
        let resumed: Vec<&String> = calls
            .iter()
            .filter_map(|c| {
                let at = c.argv.iter().position(|a| a == "--resume")?;
                c.argv.get(at + 1)
            })
            .collect();
        assert_eq!(resumed.len(), round - 1);
        assert!(
            resumed.contains(&ids.last().unwrap()),
            "the conversation the last run ended in: {resumed:?} {ids:?}"
        );
        let now = record["agentSessionId"].as_str().unwrap().to_string();
        assert!(!ids.contains(&now), "Claude Code went on under a new id");
        ids.push(now);
    }
    // Each run's record names the conversation it ran in.
    let reader = Reader::new(&sessions_dir(&bench), &bench.project);
    let mut seen: Vec<String> = reader
        .list()
        .iter()
        .map(|r| r["realSessionId"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);
}

/// The events of a log, parsed.
fn events(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn an_interactive_runs_log_is_its_conversation() {
    let bench = Bench::with_tasks(&["talk-11A"]);
    bench.agent_behaviour("talk-11A", "say='all good'\n");
    bench.run(["dispatch", "talk-11A"]).ok();
    let session = bench.wait_for_status("talk-11A", "implementation", "completed");
    let reader = Reader::new(&sessions_dir(&bench), &bench.project);
    let run = reader.details("talk-11A").unwrap();
    assert_eq!(run["type"], "interactive");
    // Scopecraft's parser sees the turns, the model and the conversation.
    let stats = reader.stats(&run);
    assert_eq!(stats.messages, 3, "{stats:?}");
    assert_eq!(stats.model.as_deref(), Some("claude-fake-1"));
    assert_eq!(
        stats.session_id.as_deref(),
        session["agentSessionId"].as_str()
    );
    assert_eq!(
        stats.outputs.last().map(String::as_str),
        Some("The work is done: all good.")
    );
    // The tool call, its result, and the run's end, as a headless run has them.
    let log = events(&reader.log_of(&run));
    let blocks: Vec<&Value> = log
        .iter()
        .flat_map(|e| e["message"]["content"].as_array().into_iter().flatten())
        .collect();
    assert!(
        blocks
            .iter()
            .any(|b| b["type"] == "tool_use" && b["name"] == "Bash")
    );
    assert!(
        blocks
            .iter()
            .any(|b| b["type"] == "tool_result" && b["tool_use_id"] == "toolu_fake_1")
    );
    let last = log.last().unwrap();
    assert_eq!(last["type"], "result");
    assert_eq!(last["is_error"], false);
    // Our logs render the conversation; the pane's text stays for people.
    let logs = bench.run(["logs", "talk-11A"]).ok().stdout;
    for expected in [
        "> Implement talk-11A.",
        "→ Bash: ls",
        "The work is done: all good.",
        "✓ result: success",
    ] {
        assert!(logs.contains(expected), "{expected}: {logs}");
    }
    let terminal = bench.run(["logs", "talk-11A", "--terminal"]).ok().stdout;
    assert!(terminal.contains("all good"), "{terminal}");
    assert!(!terminal.contains("→ Bash"), "{terminal}");

    // A continued run's log holds its own turns only.
    bench
        .run(["dispatch", "talk-11A", "--continue", "-i", "Now the tests."])
        .ok();
    wait_for("the second run to end", Duration::from_secs(20), || {
        let record = bench.record("talk-11A", "implementation");
        (record["status"] == "completed" && record["sessionHistory"].as_array()?.len() == 2)
            .then_some(record)
    });
    let second = reader.details("talk-11A").unwrap();
    assert_ne!(second["sessionName"], run["sessionName"]);
    let stats = reader.stats(&second);
    assert_eq!(stats.messages, 3, "{stats:?}");
    let log = events(&reader.log_of(&second));
    assert_eq!(log[1]["message"]["content"], "Now the tests.");
}
