//! `serve`: the HTTP API against a real server on a free loopback port, a
//! private tmux server and the fake agent; the WebSocket log and the live
//! events; what the server refuses.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::Value;

use crate::headless::{LOG_A, replay};
use crate::hooks::{gate, hooked_run, wait_for_state};
use crate::support::served::{Served, Socket, declared_body, wait_for_json};
use crate::support::{BIN, Bench, wait_for};

#[test]
fn dispatch_status_and_stop_over_http_do_what_the_command_line_does() {
    let bench = Bench::with_tasks(&["web-11A", "head-11B"]);
    let gate = bench.dir.path().join("gate");
    bench.agent_behaviour("web-11A", "sleep=60\n");
    bench.agent_behaviour(
        "head-11B",
        &format!("wait_for='{}'\nexit_code=3\n", gate.display()),
    );
    let served = Served::start(&bench);
    assert_eq!(
        served.url,
        format!("http://127.0.0.1:{}/?token={}", served.port, served.token)
    );
    served.get("/healthz").expect(200);

    // A tmux run: its window is made, as `dispatch` makes it.
    let answer = served
        .call("POST", "/dispatch/implementation/web-11A", "")
        .expect(201)
        .json();
    assert_eq!(answer["session"], "web-11A.implementation");
    assert_eq!(answer["started"], true);
    assert_eq!(answer["status"]["state"], "running");
    assert_eq!(answer["status"]["headless"], false);
    assert_eq!(bench.windows(), ["scopecraft:web-11A-implementation"]);
    bench.wait_for_agent("web-11A", 1);

    // A second POST for the same key starts nothing.
    let again = served
        .call("POST", "/dispatch/implementation/web-11A", "{}")
        .expect(200)
        .json();
    assert_eq!(again["started"], false);
    assert_eq!(bench.windows().len(), 1);
    assert_eq!(bench.agent_calls("web-11A").len(), 1);

    let status = served
        .get("/status/implementation/web-11A")
        .expect(200)
        .json();
    assert_eq!(status["running"], true);
    assert_eq!(status["state"], "running");
    assert!(status["startedAt"].is_string());
    assert!(status.get("exitCode").is_none());

    // Stop (the seed's GET form) ends it, and the books say so.
    let stopped = served
        .get("/stop/implementation/web-11A")
        .expect(200)
        .json();
    assert_eq!(stopped["stopped"], true);
    assert_eq!(stopped["status"]["state"], "stopped");
    assert_eq!(
        bench.record("web-11A", "implementation")["status"],
        "stopped"
    );
    let again = served
        .call("POST", "/stop/implementation/web-11A", "")
        .expect(200)
        .json();
    assert_eq!(again["stopped"], false);

    // A headless run from the body: running, then finished with its code.
    let answer = served
        .call(
            "POST",
            "/dispatch/implementation/head-11B",
            r#"{"exec": "detached", "instructions": "Keep it short", "data": {"extra": "x"}}"#,
        )
        .expect(201)
        .json();
    assert_eq!(answer["status"]["headless"], true);
    let call = &bench.wait_for_agent("head-11B", 1)[0];
    assert!(call.prompt.contains("Keep it short"), "{}", call.prompt);
    let status = served
        .get("/status/implementation/head-11B")
        .expect(200)
        .json();
    assert_eq!(status["running"], true);
    assert_eq!(status["execType"], "detached");
    fs::write(&gate, "").unwrap();
    let status = wait_for_json(
        &served,
        "/status/implementation/head-11B",
        "the headless run to end",
        |s| s["running"] == false,
    );
    assert_eq!(status["state"], "failed");
    assert_eq!(status["exitCode"], 3);
    assert!(status["endedAt"].is_string());

    // The lists are what the command line gives.
    // (A supervisor may still touch `lastUpdated` between the two reads.)
    let key = |records: &Value| -> Vec<(Value, Value, Value, Value)> {
        records
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["sessionName"].clone(),
                    r["status"].clone(),
                    r["exitCode"].clone(),
                    r["startTime"].clone(),
                )
            })
            .collect()
    };
    let sessions = served.get("/sessions").expect(200).json();
    let listed = bench.run(["list", "--json"]).ok().json();
    assert_eq!(key(&sessions), key(&listed));
    assert_eq!(sessions.as_array().unwrap().len(), 2);
    let tasks = served.get("/tasks").expect(200).json();
    assert_eq!(tasks, bench.run(["tasks", "--json"]).ok().json());
    let detail = served.get("/tasks/head-11B").expect(200).json();
    assert_eq!(
        detail["sessions"][0]["sessionName"],
        "head-11B.implementation"
    );
    assert_eq!(detail["modes"][0]["name"], "implementation");
    let prompt = served
        .get("/prompt/implementation/head-11B")
        .expect(200)
        .json();
    assert_eq!(prompt["source"], "recorded");
    assert_eq!(
        prompt["prompt"],
        call.prompt.trim_end_matches('\n').to_string() + "\n"
    );
}

#[test]
fn the_log_websocket_carries_the_run_and_closes_when_it_ends() {
    let bench = Bench::with_tasks(&["log-11A"]);
    let gate = bench.dir.path().join("gate");
    bench.agent_behaviour(
        "log-11A",
        &format!("{}wait_for='{}'\n", replay(LOG_A), gate.display()),
    );
    let served = Served::start(&bench);
    served
        .call(
            "POST",
            "/dispatch/implementation/log-11A",
            r#"{"exec":"detached"}"#,
        )
        .expect(201);
    let rendered = served.websocket("/logs/implementation/log-11A");
    let raw = served.websocket("/logs/implementation/log-11A?raw=1");
    bench.wait_for_agent("log-11A", 1);
    fs::write(&gate, "").unwrap();

    let rendered = rendered.until_closed();
    assert_eq!(rendered.closed.as_deref(), Some("completed, exit 0"));
    // What `logs` prints, without its closing line.
    let logs = bench.run(["logs", "log-11A"]).ok().stdout;
    let body = logs.rsplit_once("\n── ").map_or(logs.as_str(), |(b, _)| b);
    assert_eq!(rendered.texts.concat().trim_end(), body.trim_end());
    assert!(!rendered.texts.is_empty());

    let raw = raw.until_closed();
    let record = bench.record("log-11A", "implementation");
    let log = fs::read_to_string(record["logFile"].as_str().unwrap()).unwrap();
    assert_eq!(raw.texts.concat(), log);

    // An ended run: what there is, then closed at once.
    let again = served
        .websocket("/logs/implementation/log-11A?raw=1")
        .until_closed();
    assert_eq!(again.texts.concat(), log);
    assert_eq!(again.closed.as_deref(), Some("completed, exit 0"));
}

#[test]
fn the_log_websocket_follows_a_tmux_run_as_its_pane_prints() {
    let bench = Bench::with_tasks(&["pane-11A"]);
    let served = Served::start(&bench);
    // The first run in a new window, the next in the same window, which
    // still shows the first one's summary.
    for run in 1..=2 {
        follow_a_run_that_prints(&bench, &served, run);
        assert_eq!(bench.windows(), ["scopecraft:pane-11A-implementation"]);
    }
}

/// Run `run` of pane-11A: its agent prints while it works and writes no
/// transcript meanwhile, so what it prints reaches only the pane (and the
/// terminal log). Both log streams show each line while the run goes on.
fn follow_a_run_that_prints(bench: &Bench, served: &Served, run: u32) {
    let line = |n: u32| format!("run {run} line {n}");
    let gates = 3 * (run - 1);
    hooked_run(
        bench,
        "pane-11A",
        &format!(
            "say {}\nwait gate-{}\nsay {}\nwait gate-{}\nsay {}\nwait gate-{}\n",
            line(1),
            gates + 1,
            line(2),
            gates + 2,
            line(3),
            gates + 3
        ),
        "",
    );
    bench.wait_for_agent("pane-11A", run as usize);
    bench.wait_for_agent_started("pane-11A", "implementation");
    let mut screen = served.websocket("/logs/implementation/pane-11A?screen=1");
    let mut text = served.websocket("/logs/implementation/pane-11A");
    let mut seen_text = String::new();
    next_with(&mut screen, &line(1), |t| t.contains(&line(1)));
    next_with(&mut text, &line(1), |t| {
        seen_text.push_str(t);
        seen_text.contains(&line(1))
    });
    for n in [2, 3] {
        gate(bench, gates + n - 1);
        let shown = next_with(&mut screen, &line(n), |t| t.contains(&line(n)));
        assert!(shown.contains(&line(1)), "a whole screen: {shown}");
        next_with(&mut text, &line(n), |t| {
            seen_text.push_str(t);
            seen_text.contains(&line(n))
        });
        assert_eq!(
            bench.record("pane-11A", "implementation")["status"],
            "running"
        );
    }
    // As `logs -f` gives them: each line once.
    assert_eq!(seen_text.matches(&line(2)).count(), 1, "{seen_text}");

    gate(bench, gates + 3);
    let screen = screen.until_closed();
    assert_eq!(screen.closed.as_deref(), Some("completed, exit 0"));
    let text = text.until_closed();
    assert_eq!(text.closed.as_deref(), Some("completed, exit 0"));
}

/// The next message `check` accepts (an earlier one may be a screen not yet
/// showing it); fails when the socket closes or nothing comes for 30 s.
#[track_caller]
fn next_with(socket: &mut Socket, what: &str, mut check: impl FnMut(&str) -> bool) -> String {
    let mut before = Vec::new();
    loop {
        match socket.next_text() {
            Some(text) if check(&text) => return text,
            Some(text) => before.push(text),
            None => panic!("the WebSocket closed or went quiet before {what}; it sent {before:?}"),
        }
    }
}

#[test]
fn status_says_blocked_and_why_as_list_does() {
    let bench = Bench::with_tasks(&["quota-11C"]);
    hooked_run(
        &bench,
        "quota-11C",
        "UserPromptSubmit\nStopFailure error=rate_limit\nwait gate-1\n",
        "",
    );
    wait_for_state(&bench, "quota-11C", "blocked (rate_limit)");
    let served = Served::start(&bench);
    let status = served
        .get("/status/implementation/quota-11C")
        .expect(200)
        .json();
    assert_eq!(status["stateLabel"], "blocked (rate_limit)");
    // The fields Scopecraft reads are as they were.
    assert_eq!(status["state"], "waiting");
    assert_eq!(status["running"], true);
    // The list carries what the label is made of.
    let sessions = served.get("/sessions").expect(200).json();
    assert_eq!(sessions[0]["agentState"]["state"], "blocked");
    assert_eq!(sessions[0]["agentState"]["reason"], "rate_limit");
    gate(&bench, 1);
    let ended = wait_for_json(
        &served,
        "/status/implementation/quota-11C",
        "the run to end",
        |s| s["running"] == false,
    );
    assert_eq!(ended["stateLabel"], "completed");
}

#[test]
fn events_push_record_changes_without_being_asked() {
    let bench = Bench::with_tasks(&["ev-11A"]);
    bench.agent_behaviour("ev-11A", "exit_code=2\n");
    let served = Served::start(&bench);
    let mut events = served.websocket("/events");
    let first: Value = serde_json::from_str(&events.next_text().unwrap()).unwrap();
    assert_eq!(first["type"], "sessions");
    assert_eq!(first["sessions"], Value::Array(Vec::new()));

    // A dispatch from the command line: the server sees the books change.
    bench.run(["dispatch", "ev-11A", "--exec", "detached"]).ok();
    let mut states = Vec::new();
    while states.last().map(String::as_str) != Some("failed") {
        let message: Value = serde_json::from_str(&events.next_text().unwrap()).unwrap();
        assert_eq!(message["type"], "changes");
        for record in message["sessions"].as_array().unwrap() {
            assert_eq!(record["sessionName"], "ev-11A.implementation");
            states.push(record["status"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(states.last().unwrap(), "failed");
}

#[test]
fn the_server_refuses_strangers_and_bad_input() {
    let bench = Bench::with_tasks(&["safe-11A"]);
    bench.agent_behaviour("safe-11A", "sleep=60\n");
    let served = Served::start(&bench);
    let host = served.host();
    let token_file = bench.scopecraft_home.join("serve.token");
    assert_eq!(
        fs::read_to_string(&token_file).unwrap().trim(),
        served.token
    );
    assert_eq!(
        fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // No token, a wrong one: 401, on every route.
    for path in ["/healthz", "/sessions", "/", "/openapi.json"] {
        served.request("GET", path, &host, &[], b"").expect(401);
    }
    served
        .request("POST", "/dispatch/implementation/safe-11A", &host, &[], b"")
        .expect(401);
    served
        .request(
            "GET",
            "/sessions",
            &host,
            &[("Authorization", "Bearer 0123456789abcdef0123456789abcdef")],
            b"",
        )
        .expect(401);
    served
        .request("GET", "/?token=wrong", &host, &[], b"")
        .expect(401);

    // The page's address: the token becomes a strict, HttpOnly cookie.
    let page = served
        .request("GET", &format!("/?token={}", served.token), &host, &[], b"")
        .expect(303);
    let cookie = page.header("set-cookie").unwrap().to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert_eq!(page.header("location"), Some("/"));
    let pair = cookie.split(';').next().unwrap();
    let shown = served
        .request("GET", "/", &host, &[("Cookie", pair)], b"")
        .expect(200);
    assert!(shown.body.contains("<script src=\"/app.js\""));

    // Another Host (DNS rebinding): refused, token or not.
    let auth = format!("Bearer {}", served.token);
    let bearer = [("Authorization", auth.as_str())];
    for foreign in [
        format!("evil.example:{}", served.port),
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{}", served.port + 1),
    ] {
        served
            .request("GET", "/healthz", &foreign, &bearer, b"")
            .expect(403);
    }
    served
        .request(
            "GET",
            "/healthz",
            &format!("localhost:{}", served.port),
            &bearer,
            b"",
        )
        .expect(200);

    // Another Origin: refused for what changes state, and for WebSockets.
    let evil = [
        ("Authorization", auth.as_str()),
        ("Origin", "http://evil.example"),
    ];
    served
        .request(
            "POST",
            "/dispatch/implementation/safe-11A",
            &host,
            &evil,
            b"",
        )
        .expect(403);
    served
        .request("GET", "/stop/implementation/safe-11A", &host, &evil, b"")
        .expect(403);
    assert!(bench.agent_calls("safe-11A").is_empty());
    assert_eq!(
        served
            .websocket_from("/events", "http://evil.example")
            .err(),
        Some(403)
    );
    // A page of ours may.
    let origin = served.origin();
    let ours = [
        ("Authorization", auth.as_str()),
        ("Origin", origin.as_str()),
    ];
    served
        .request("GET", "/status/implementation/safe-11A", &host, &ours, b"")
        .expect(404);

    // Bad ids and modes: 400, as on the command line.
    for path in [
        "/status/implementation/bad.id",
        "/status/implementation/a%20b",
        "/status/..%2Fx/safe-11A",
        "/status/implementation/%2E%2E",
        "/stop/a%2F..%2Fb/safe-11A",
        "/tasks/x%24y",
        "/status/implementation/%FF",
        "/sessions?project=a&project=b",
        // A WebSocket route asked without its upgrade.
        "/events",
        "/logs/implementation/safe-11A",
    ] {
        let answer = served.get(path);
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        assert!(answer.json()["error"].is_string());
    }
    served
        .call("POST", "/dispatch/implementation/bad.id", "")
        .expect(400);
    // The exec types a refusal lists are the ones a dispatch takes.
    for exec in ["ssh", "terminal"] {
        let refused = served
            .call(
                "POST",
                "/dispatch/implementation/safe-11A",
                &format!(r#"{{"exec": "{exec}"}}"#),
            )
            .expect(400)
            .json();
        let error = refused["error"].as_str().unwrap();
        let (_, listed) = error.split_once("expected one of").unwrap();
        assert!(listed.contains("`tmux`, `detached`, `docker`"), "{error}");
        assert!(!listed.contains("terminal"), "{error}");
    }
    // A log's flags are 1 or 0, as documented.
    let origin = served.origin();
    for path in [
        "/logs/implementation/safe-11A?raw=yes",
        "/logs/implementation/safe-11A?raw=2",
        "/logs/implementation/safe-11A?screen=2",
    ] {
        assert_eq!(
            served.websocket_from(path, &origin).err(),
            Some(400),
            "{path}"
        );
    }
    assert_eq!(
        served
            .websocket_from("/logs/implementation/safe-11A?raw=1&screen=0", &origin)
            .err(),
        Some(404)
    );
    // A method a route does not take: 405, said as every error is.
    for (method, path, allowed) in [
        ("DELETE", "/dispatch/implementation/safe-11A", "POST"),
        ("GET", "/dispatch/implementation/safe-11A", "POST"),
        ("PUT", "/status/implementation/safe-11A", "GET,HEAD"),
    ] {
        let refused = served.call(method, path, "").expect(405);
        assert_eq!(refused.header("content-type"), Some("application/json"));
        assert!(refused.json()["error"].is_string());
        assert_eq!(refused.header("allow"), Some(allowed), "{method} {path}");
    }
    served
        .call(
            "POST",
            "/dispatch/implementation/safe-11A",
            r#"{"shell": "rm"}"#,
        )
        .expect(400);
    served
        .call("POST", "/dispatch/implementation/nope-11Z", "")
        .expect(400);
    served.get("/status/implementation/nope-11Z").expect(404);
    served.get("/sessions?project=no-such-project").expect(404);
    served.get("/no/such/route").expect(404);

    // A huge body: 413, nothing started.
    let huge = format!(r#"{{"instructions": "{}"}}"#, "x".repeat(1024 * 1024));
    served
        .call("POST", "/dispatch/implementation/safe-11A", &huge)
        .expect(413);
    // Declared, not sent: 413 at once, not a wait for the body.
    for path in [
        "/dispatch/implementation/safe-11A",
        "/stop/implementation/safe-11A",
        "/attach/implementation/safe-11A",
    ] {
        let refused = declared_body(&served, "POST", path, 10_000_000_000).expect(413);
        assert!(refused.json()["error"].is_string());
    }
    assert!(bench.agent_calls("safe-11A").is_empty());
    assert!(bench.windows().is_empty());
}

#[test]
fn one_server_serves_every_project_and_ends_on_sigterm() {
    let bench = Bench::with_tasks(&["one-11A"]);
    bench.agent_behaviour("default", "exit_code=0\n");
    // Another project with a session in the same SCOPECRAFT_HOME.
    let other = bench.dir.path().join("other");
    fs::create_dir_all(other.join(".tasks/current")).unwrap();
    fs::write(
        other.join(".tasks/current/two-11B.task.md"),
        "# Two\n\n---\ntype: feature\nstatus: todo\n---\n\n## Instruction\nDo two.\n",
    )
    .unwrap();
    let run = bench
        .cmd()
        .current_dir(&other)
        .args([
            "dispatch", "two-11B", "--exec", "detached", "--mode", "other",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");

    let mut served = Served::start(&bench);
    let projects = served.get("/projects").expect(200).json();
    let projects = projects.as_array().unwrap();
    assert_eq!(projects.len(), 2, "{projects:?}");
    assert_eq!(projects[0]["current"], true);
    assert_eq!(projects[0]["root"], bench.project.display().to_string());
    assert_eq!(projects[1]["root"], other.display().to_string());
    let id = projects[1]["id"].as_str().unwrap();

    // The seed's routes work for the current project unchanged, and for
    // another with ?project=.
    served.get("/status/other/two-11B").expect(404);
    let status = wait_for_json(
        &served,
        &format!("/status/other/two-11B?project={id}"),
        "the other project's run",
        |s| s["state"] == "completed",
    );
    assert_eq!(status["exitCode"], 0);
    let tasks = served
        .get(&format!("/tasks?project={id}"))
        .expect(200)
        .json();
    assert_eq!(tasks[0]["id"], "two-11B");

    // SIGTERM: it ends, promptly and cleanly.
    crate::support::kill(u64::from(served.child.id()), libc::SIGTERM);
    let status = wait_for("serve to end", Duration::from_secs(10), || {
        served.child.try_wait().unwrap()
    });
    assert_eq!(status.code(), Some(0));
}

#[test]
fn the_kept_session_list_follows_the_books() {
    let bench = Bench::with_tasks(&["keep-12A", "keep-12B"]);
    bench.agent_behaviour("default", "exit_code=0\n");
    let served = Served::start(&bench);
    assert_eq!(
        served.get("/sessions").expect(200).json(),
        Value::Array(vec![])
    );

    // A run from the command line shows up, and stays while asked again.
    bench
        .run(["dispatch", "keep-12A", "--exec", "detached"])
        .ok();
    wait_for_json(&served, "/sessions", "the ended run in the list", |s| {
        s[0]["status"] == "completed"
    });
    // Its supervisor may still note a notification in the record after the
    // end: compare once the list holds the record's last write.
    bench.wait_for_supervisor_end("keep-12A", "implementation");
    let last_write = bench.record("keep-12A", "implementation")["lastUpdated"].clone();
    wait_for_json(&served, "/sessions", "the record's last write", |s| {
        s[0]["lastUpdated"] == last_write
    });
    let kept = served.get("/sessions").expect(200);
    assert_eq!(kept.header("content-type"), Some("application/json"));
    assert_eq!(served.get("/sessions").expect(200).body, kept.body);

    // A record rewritten on disk, as a supervisor writes it: the list
    // follows. (Once its own supervisor, which may still note a
    // notification in it, has ended.)
    bench.wait_for_supervisor_end("keep-12A", "implementation");
    let path = bench.record_path("keep-12A.implementation");
    let original = fs::read_to_string(&path).unwrap();
    let changed = original.replace("\"exitCode\": 0", "\"exitCode\": 5");
    assert_ne!(changed, original);
    fs::write(path.with_extension("tmp-test"), &changed).unwrap();
    fs::rename(path.with_extension("tmp-test"), &path).unwrap();
    wait_for_json(&served, "/sessions", "the rewritten record", |s| {
        s[0]["exitCode"] == 5
    });

    // A run whose supervisor dies without a word changes no file: the
    // next answer says interrupted all the same.
    let mut supervisor = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let pid = supervisor.id();
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ticks = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap();
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let record: Value = serde_json::from_str(&original).unwrap();
    let live = serde_json::json!({
        "sessionName": "keep-12B.implementation", "taskId": "keep-12B",
        "status": "running", "execType": "detached", "mode": "implementation",
        "supervisorPid": pid, "supervisorStartTicks": ticks.parse::<u64>().unwrap(),
        "bootId": boot.trim(), "startTime": "2099-01-01T00:00:00.000Z",
        "lastUpdated": "2099-01-01T00:00:00.000Z",
        "logFile": record["logFile"].as_str().unwrap().replace("keep-12A", "keep-12B"),
        "projectRoot": record["projectRoot"], "workdir": record["workdir"],
        "sessionHistory": [{"sessionId": "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10",
                            "startTime": "2099-01-01T00:00:00.000Z"}],
    });
    let live_path = bench.record_path("keep-12B.implementation");
    fs::write(live_path.with_extension("tmp-test"), live.to_string()).unwrap();
    fs::rename(live_path.with_extension("tmp-test"), &live_path).unwrap();
    wait_for_json(&served, "/sessions", "the live record", |s| {
        s[0]["sessionName"] == "keep-12B.implementation" && s[0]["status"] == "running"
    });
    assert_eq!(
        served.get("/sessions").expect(200).json()[0]["status"],
        "running"
    );
    supervisor.kill().unwrap();
    supervisor.wait().unwrap();
    let answer = served.get("/sessions").expect(200).json();
    assert_eq!(answer[0]["sessionName"], "keep-12B.implementation");
    assert_eq!(answer[0]["status"], "interrupted");
    assert_eq!(
        bench.record("keep-12B", "implementation")["status"],
        "interrupted"
    );
}

/// A copy of the binary in a folder of its own, as an installer leaves it.
fn installed_copy(bench: &Bench) -> std::path::PathBuf {
    let dir = bench.dir.path().join("bin");
    fs::create_dir_all(&dir).unwrap();
    let program = dir.join("scopecraft-tmux");
    copy_program(&program);
    program
}

/// Copies the binary to `to` in a `cp` of its own: a file this process
/// held open for writing would be inherited by what another test forks
/// meanwhile, and running it would fail with "Text file busy".
fn copy_program(to: &std::path::Path) {
    let copied = std::process::Command::new("cp")
        .arg(BIN)
        .arg(to)
        .status()
        .unwrap();
    assert!(copied.success(), "copying the binary to {}", to.display());
}

#[test]
fn a_server_whose_binary_was_replaced_starts_runs_with_the_new_one() {
    let bench = Bench::with_tasks(&["swap-13A", "swap-13B"]);
    let program = installed_copy(&bench);
    let served = Served::start_program(&bench, &program);
    // As `cargo install` and scripts/install.sh do: a new file renamed over
    // the one the server runs.
    let new = program.with_extension("new");
    copy_program(&new);
    fs::rename(&new, &program).unwrap();
    let link = fs::read_link(format!("/proc/{}/exe", served.child.id())).unwrap();
    assert!(
        link.to_string_lossy().ends_with(" (deleted)"),
        "{}",
        link.display()
    );

    served
        .call("POST", "/dispatch/implementation/swap-13A", "")
        .expect(201);
    bench.wait_for_agent("swap-13A", 1);
    bench.wait_for_status("swap-13A", "implementation", "completed");
    served
        .call(
            "POST",
            "/dispatch/implementation/swap-13B",
            r#"{"exec":"detached"}"#,
        )
        .expect(201);
    bench.wait_for_agent("swap-13B", 1);
    let record = bench.wait_for_status("swap-13B", "implementation", "completed");
    assert_eq!(record["exitCode"], 0);
}

#[test]
fn a_server_whose_binary_was_removed_says_so_and_starts_nothing() {
    let bench = Bench::with_tasks(&["gone-13A"]).with_git();
    let program = installed_copy(&bench);
    let served = Served::start_program(&bench, &program);
    fs::remove_file(&program).unwrap();

    for body in ["", r#"{"exec":"detached"}"#] {
        let answer = served.call("POST", "/dispatch/implementation/gone-13A", body);
        assert_eq!(answer.status, 500, "{}", answer.body);
        let error = answer.json()["error"].as_str().unwrap().to_string();
        assert!(
            error.contains(&format!(
                "the scopecraft-tmux binary at {} was removed",
                program.display()
            )),
            "{error}"
        );
    }
    served.get("/status/implementation/gone-13A").expect(404);
    assert!(bench.agent_calls("gone-13A").is_empty());
    assert!(bench.windows().is_empty(), "{:?}", bench.windows());
    let worktrees = crate::support::git(&bench.project, &["worktree", "list"]);
    assert_eq!(worktrees.lines().count(), 1, "{worktrees}");
    let left: Vec<String> = fs::read_dir(bench.sessions_dir())
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| !name.ends_with(".lock"))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}
