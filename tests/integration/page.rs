//! The page in a real browser: headless Chromium against a real server on
//! a free port, a private tmux server and the fake agent. Run, watch the
//! badges move without a reload, read the log, stop a run; and how long a
//! record's change takes to reach a badge.

use std::fs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::headless::{LOG_A, replay};
use crate::hooks::{self, hooked_run};
use crate::support::browser::{self, Browser, modified_ms};
use crate::support::served::Served;
use crate::support::{Bench, WAIT, wait_for};

const LONG: Duration = Duration::from_secs(30);

/// Finds `badge`, the badge of task `arguments[0]` in mode `arguments[1]`
/// (null while there is none); a script goes on from there.
const BADGE: &str = "
    const badge = document.querySelector(
        `#tasks tr[data-task='${arguments[0]}'] .badge[data-mode='${arguments[1]}']`);";

/// Waits until the badge of `task` in `mode` shows `state`; gives its
/// text and when the page last changed it (`Date.now()`).
#[track_caller]
fn wait_for_badge(page: &Browser, task: &str, mode: &str, state: &str) -> Value {
    page.wait(
        &format!("the {mode} badge of {task} to be {state}"),
        LONG,
        &format!("{BADGE}\nreturn badge && badge.dataset.state === arguments[2] && {{ state: badge.dataset.state, text: badge.textContent, changedAt: Number(badge.dataset.changedAt) }};"),
        &[json!(task), json!(mode), json!(state)],
    )
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[test]
fn the_page_runs_follows_and_stops_tasks_in_a_real_browser() {
    let Some(installed) = browser::installed("the_page_runs_follows_and_stops_tasks") else {
        return;
    };
    let bench = Bench::with_tasks(&["page-12A", "page-12B", "page-12C"]);
    bench.write(
        ".tasks/.modes/review/base.md",
        "---\ninput:\n  taskId: string\n---\n\nReview {taskId}.\n",
    );
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n\n[modes.review]\nexec = \"detached\"\n",
    );
    let gate = bench.dir.path().join("gate");
    bench.agent_behaviour(
        "page-12A",
        &format!("{}wait_for='{}'\n", replay(LOG_A), gate.display()),
    );
    bench.agent_behaviour("page-12B", "say='hello from the fake agent'\nsleep=120\n");
    let served = Served::start(&bench);
    let page = Browser::start(&installed);

    // The token address: the page, live, with both tasks.
    page.go(&served.url);
    page.wait(
        "the page to follow the books",
        LONG,
        "return document.querySelector('#live').textContent === 'live' \
         && document.querySelectorAll('#tasks tbody tr').length === 3;",
        &[],
    );
    assert_eq!(
        page.eval("return location.href;", &[]),
        format!("{}/", served.origin()),
        "the token leaves the address"
    );
    // A mark that a reload would lose.
    page.eval("window.notReloaded = true;", &[]);

    // Run in the mode picked: a headless review, running, then completed.
    let row_a = "#tasks tr[data-task='page-12A']";
    page.click(&format!("{row_a} select.mode option[value='review']"));
    page.click(&format!("{row_a} button.run"));
    wait_for_badge(&page, "page-12A", "review", "running");
    bench.wait_for_agent("page-12A", 1);
    assert_eq!(
        bench.record("page-12A", "review")["execType"],
        "detached",
        "the mode's exec type"
    );
    fs::write(&gate, "").unwrap();
    let done = wait_for_badge(&page, "page-12A", "review", "completed");
    assert_eq!(done["text"], "review · completed · exit 0");
    let record = bench.record_path("page-12A.review");
    let written = modified_ms(&record);
    let end_latency = done["changedAt"].as_f64().unwrap() - written;

    // View Log: the rendered run, as `logs` prints it, ended.
    page.click(&format!("{row_a} button.log"));
    let ended = page.wait(
        "the log viewer to show the ended run",
        LONG,
        "return document.querySelector('#log').dataset.ended || null;",
        &[],
    );
    assert_eq!(ended, "completed, exit 0");
    let logs = bench
        .run(["logs", "page-12A", "--mode", "review"])
        .ok()
        .stdout;
    let body = logs.rsplit_once("\n── ").map_or(logs.as_str(), |(b, _)| b);
    let shown = page.eval("return document.querySelector('#log').textContent;", &[]);
    assert_eq!(shown.as_str().unwrap().trim_end(), body.trim_end());
    assert!(!body.trim().is_empty());
    page.click("#log-close");

    // Run in the default mode (tmux), follow its pane, Stop it.
    let row_b = "#tasks tr[data-task='page-12B']";
    page.click(&format!("{row_b} button.run"));
    wait_for_badge(&page, "page-12B", "implementation", "running");
    // The record says running before its window is made.
    wait_for("the run's window", WAIT, || {
        (bench.windows() == ["scopecraft:page-12B-implementation"]).then_some(())
    });
    page.click(&format!("{row_b} button.log"));
    page.wait(
        "the pane's text in the log viewer",
        LONG,
        "return document.querySelector('#log').textContent.includes('hello from the fake agent');",
        &[],
    );
    page.click(&format!("{row_b} button.stop"));
    let stopped = wait_for_badge(&page, "page-12B", "implementation", "stopped");
    assert!(
        stopped["text"]
            .as_str()
            .unwrap()
            .starts_with("implementation · stopped"),
        "{stopped}"
    );
    assert_eq!(
        bench.record("page-12B", "implementation")["status"],
        "stopped"
    );
    page.wait(
        "the log viewer to end with the run",
        LONG,
        "return document.querySelector('#log').dataset.ended || null;",
        &[],
    );
    assert_eq!(page.eval("return window.notReloaded === true;", &[]), true);

    // A run blocked by an API error: the badge says so, and why, as
    // `list` does (its status stays `waiting`).
    hooked_run(
        &bench,
        "page-12C",
        "UserPromptSubmit\nStopFailure error=rate_limit\nwait gate-1\n",
        "",
    );
    let blocked = page.wait(
        "the badge to say blocked",
        LONG,
        &format!("{BADGE}\nreturn badge && badge.dataset.label === 'blocked (rate_limit)' && {{ state: badge.dataset.state, text: badge.textContent, class: badge.className }};"),
        &[json!("page-12C"), json!("implementation")],
    );
    assert_eq!(blocked["state"], "waiting");
    assert_eq!(blocked["text"], "implementation · blocked (rate_limit)");
    assert!(blocked["class"].as_str().unwrap().contains("blocked"));
    hooks::gate(&bench, 1);
    wait_for_badge(&page, "page-12C", "implementation", "completed");

    // Badge latency: a record rewritten on disk (as a supervisor writes
    // it: a temporary file renamed over it) until its badge shows it.
    let original = fs::read_to_string(&record).unwrap();
    let mut latencies = Vec::new();
    for code in 1..=15 {
        let changed = original.replace("\"exitCode\": 0", &format!("\"exitCode\": {code}"));
        assert_ne!(changed, original, "the record names its exit code");
        let temporary = record.with_extension("tmp-bench");
        fs::write(&temporary, &changed).unwrap();
        // Before the rename: the badge may move as soon as it lands.
        let at = now_ms();
        fs::rename(&temporary, &record).unwrap();
        let badge = page.wait(
            "the badge to follow the record",
            LONG,
            &format!("{BADGE}\nreturn badge && badge.textContent.endsWith(' exit ' + arguments[2]) && Number(badge.dataset.changedAt);"),
            &[json!("page-12A"), json!("review"), json!(code.to_string())],
        );
        latencies.push(badge.as_f64().unwrap() - at);
    }
    let worst = latencies.iter().copied().fold(f64::MIN, f64::max);
    println!(
        "badge latency (record written → badge changed in the page): \
         the run's end {end_latency:.0} ms; {} rewrites: median {:.0} ms, max {worst:.0} ms",
        latencies.len(),
        median(latencies.clone()),
    );
    assert!(latencies.iter().all(|l| *l >= -1.0), "{latencies:?}");
}
