//! The tmux plugin: loading it (the keys, options, status placeholders, and a
//! second load changing nothing), the status line following the books, the
//! menu the binary builds (for a fixture project, with hostile task
//! titles), and the whole path through a real tmux client: the key, the
//! menu, the popup picker, a dispatch, the offer to build a missing binary,
//! the next key to the agent that waits.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::hooks::{gate, hooked_run, wait_for_state};
use crate::support::{BIN, Bench, Run, WAIT, copy_dir, wait_for};

fn plugin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Loads the plugin at `dir` as a configuration line does:
/// `run-shell '<dir>/scopecraft.tmux'` (quoted for sh, `#` doubled).
fn load(bench: &Bench, dir: &Path) {
    let path = dir.join("scopecraft.tmux").display().to_string();
    let quoted = format!("'{}'", path.replace('\'', "'\\''")).replace('#', "##");
    bench.tmux(["run-shell", &quoted]).ok();
}

/// The bench with its tmux server running (a pane in the project) and the
/// binary under test as `@scopecraft-bin`.
fn serve(bench: Bench) -> Bench {
    bench.start_server(&bench.project);
    bench
        .tmux(["set-option", "-g", "@scopecraft-bin", BIN])
        .ok();
    bench
}

/// Waits until the counts pushed in the background at load have arrived.
fn wait_for_counts(bench: &Bench) {
    wait_for("the counts pushed at load", WAIT, || {
        (!bench.option("@scopecraft_running").is_empty()).then_some(())
    });
}

/// A copy of the plugin (its shell files and manifest, no build) at `dir`.
fn plugin_copy(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    fs::copy(
        plugin_dir().join("scopecraft.tmux"),
        dir.join("scopecraft.tmux"),
    )
    .unwrap();
    fs::copy(plugin_dir().join("Cargo.toml"), dir.join("Cargo.toml")).unwrap();
    copy_dir(&plugin_dir().join("tmux-plugin"), &dir.join("tmux-plugin"));
    dir.to_path_buf()
}

/// `#{…}` expanded by the bench's server (in the context of `target`).
fn expand(bench: &Bench, target: Option<&str>, format: &str) -> String {
    let mut args = vec!["display-message", "-p"];
    if let Some(target) = target {
        args.extend(["-t", target]);
    }
    args.push(format);
    let run = bench.tmux(args).ok();
    run.stdout.trim_end_matches('\n').to_string()
}

fn first_pane(bench: &Bench) -> String {
    expand(bench, Some("main"), "#{pane_id}")
}

/// What a load of the plugin can change: options, bindings, hooks.
fn server_state(bench: &Bench) -> String {
    [
        vec!["show-options", "-g"],
        vec!["show-options", "-gw"],
        vec!["show-options", "-s"],
        vec!["list-keys"],
        vec!["show-hooks", "-g"],
    ]
    .into_iter()
    .map(|args| {
        let run = bench.tmux(&args).ok();
        format!("== {}\n{}", args.join(" "), run.stdout)
    })
    .collect()
}

/// The menu output with the bench's paths replaced, for snapshots.
fn redact(bench: &Bench, text: &str) -> String {
    text.replace(BIN, "<bin>")
        .replace(&bench.project.display().to_string(), "<project>")
}

#[test]
fn loading_binds_one_key_fills_the_placeholders_and_a_second_load_changes_nothing() {
    let bench = serve(Bench::with_tasks(&["fix-11A"]));
    bench
        .run(["dispatch", "fix-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_status("fix-11A", "implementation", "completed");
    for (option, value) in [
        ("status-right", "#{scopecraft_status} | %H:%M"),
        ("status-left", "[#{scopecraft_status}] "),
        ("@scopecraft-window-status", "on"),
    ] {
        bench.tmux(["set-option", "-g", option, value]).ok();
    }
    let root_keys = bench.tmux(["list-keys", "-T", "root"]).ok().stdout;
    let prefix_keys = bench.tmux(["list-keys", "-T", "prefix"]).ok().stdout;
    for key in ["A", "N"] {
        assert!(
            bench.tmux(["list-keys", "-T", "prefix", key]).code != Some(0),
            "tmux binds nothing to prefix {key} by default"
        );
    }

    load(&bench, &plugin_dir());
    wait_for_counts(&bench);

    let binding = bench.tmux(["list-keys", "-T", "prefix", "A"]).ok().stdout;
    assert!(
        binding.contains("run-shell -b")
            && binding.contains("tmux-plugin/menu.sh '#{client_name}' '#{pane_id}'"),
        "{binding}"
    );
    let prefix_after = bench.tmux(["list-keys", "-T", "prefix"]).ok().stdout;
    let added: Vec<&str> = prefix_after
        .lines()
        .filter(|line| !prefix_keys.lines().any(|before| before == *line))
        .collect();
    assert_eq!(added.len(), 2, "the menu's key and the next key: {added:?}");
    assert!(
        added
            .iter()
            .any(|line| line.contains("-T prefix N ") && line.contains(" next --client ")),
        "{added:?}"
    );
    assert_eq!(
        bench.tmux(["list-keys", "-T", "root"]).ok().stdout,
        root_keys,
        "nothing added to the root table"
    );

    assert_eq!(
        bench.option("status-right"),
        "#{E:@scopecraft_status} | %H:%M"
    );
    assert_eq!(bench.option("status-left"), "[#{E:@scopecraft_status}] ");
    assert_eq!(
        expand(&bench, None, "#{E:status-right}")
            .split(" | ")
            .next(),
        Some("✓ 1"),
        "status-right after interpolation shows the counts"
    );
    assert_eq!(expand(&bench, None, "#{E:status-left}"), "[✓ 1] ");
    let window_format = bench
        .tmux(["show-options", "-gwv", "window-status-format"])
        .ok()
        .stdout;
    assert!(
        window_format
            .trim_end()
            .ends_with("#{E:@scopecraft_window_state}")
    );
    let hooks = bench.tmux(["show-hooks", "-g"]).ok().stdout;
    assert!(
        hooks.contains("client-attached[4747] run-shell -b") && hooks.contains("refresh.sh"),
        "{hooks}"
    );

    let once = server_state(&bench);
    load(&bench, &plugin_dir());
    // The second load's background refresh pushes the same counts.
    std::thread::sleep(Duration::from_millis(300));
    let twice = server_state(&bench);
    assert_eq!(once, twice, "a second load changes nothing");
    assert_eq!(window_format.matches("@scopecraft_window_state").count(), 1);
}

#[test]
fn a_new_key_replaces_the_one_bound_before() {
    let bench = serve(Bench::new());
    load(&bench, &plugin_dir());
    bench
        .tmux(["set-option", "-g", "@scopecraft-key", "M-a"])
        .ok();
    load(&bench, &plugin_dir());
    assert_ne!(bench.tmux(["list-keys", "-T", "prefix", "A"]).code, Some(0));
    let binding = bench.tmux(["list-keys", "-T", "prefix", "M-a"]).ok().stdout;
    assert!(binding.contains("menu.sh"), "{binding}");

    bench
        .tmux(["set-option", "-g", "@scopecraft-next-key", "M-n"])
        .ok();
    load(&bench, &plugin_dir());
    assert_ne!(bench.tmux(["list-keys", "-T", "prefix", "N"]).code, Some(0));
    let binding = bench.tmux(["list-keys", "-T", "prefix", "M-n"]).ok().stdout;
    assert!(binding.contains(" next --client "), "{binding}");
    bench
        .tmux(["set-option", "-g", "@scopecraft-next-key", "off"])
        .ok();
    load(&bench, &plugin_dir());
    assert_ne!(
        bench.tmux(["list-keys", "-T", "prefix", "M-n"]).code,
        Some(0)
    );
}

#[test]
fn the_status_shows_counts_by_state_with_glyphs_and_follows_the_users_format() {
    let bench = serve(Bench::with_tasks(&["ok-11A", "ok-11B", "bad-11C"]));
    bench.agent_behaviour("bad-11C", "exit_code=3\n");
    for task in ["ok-11A", "ok-11B", "bad-11C"] {
        bench.run(["dispatch", task, "--exec", "detached"]).ok();
    }
    bench.wait_for_status("ok-11A", "implementation", "completed");
    bench.wait_for_status("ok-11B", "implementation", "completed");
    bench.wait_for_status("bad-11C", "implementation", "failed");

    load(&bench, &plugin_dir());
    wait_for_counts(&bench);
    let printed = bench.run(["status-line"]).ok().stdout;
    assert_eq!(printed, "✓ 2 ✗ 1\n", "zeros hidden, one space between");
    assert_eq!(
        expand(&bench, None, "#{E:@scopecraft_status}"),
        printed.trim_end(),
        "the plugin's default format gives the binary's glyphs"
    );
    assert_eq!(bench.option("@scopecraft_done"), "2");
    assert_eq!(bench.option("@scopecraft_failed"), "1");
    assert_eq!(bench.option("@scopecraft_running"), "0");

    bench
        .tmux([
            "set-option",
            "-g",
            "@scopecraft-status-format",
            "#{@scopecraft_done} done, #{@scopecraft_failed} failed",
        ])
        .ok();
    bench.run(["status-line", "--push"]).ok();
    assert_eq!(
        expand(&bench, None, "#{E:@scopecraft_status}"),
        "2 done, 1 failed"
    );
    load(&bench, &plugin_dir());
    assert_eq!(
        bench.option("@scopecraft-status-format"),
        "#{@scopecraft_done} done, #{@scopecraft_failed} failed",
        "a user's format survives a reload"
    );
}

#[test]
fn the_status_and_the_window_state_change_when_an_agent_ends() {
    let bench = serve(Bench::with_tasks(&["wait-11A"]));
    let release = bench.dir.path().join("release");
    bench.agent_behaviour("wait-11A", &format!("wait_for={}\n", release.display()));
    bench
        .tmux(["set-option", "-g", "@scopecraft-window-status", "on"])
        .ok();
    load(&bench, &plugin_dir());
    wait_for_counts(&bench);
    assert_eq!(expand(&bench, None, "#{E:@scopecraft_status}"), "");

    bench.run(["dispatch", "wait-11A"]).ok();
    bench.wait_for_status("wait-11A", "implementation", "running");
    let window = "scopecraft:wait-11A-implementation";
    wait_for("the running count", WAIT, || {
        (expand(&bench, None, "#{E:@scopecraft_status}") == "● 1").then_some(())
    });
    assert_eq!(
        expand(&bench, Some(window), "#{E:@scopecraft_window_state}"),
        " ●"
    );
    assert!(expand(&bench, Some(window), "#{E:window-status-format}").ends_with(" ●"));
    assert_eq!(
        expand(&bench, Some("main"), "#{E:@scopecraft_window_state}"),
        "",
        "other windows show nothing"
    );

    fs::write(&release, "").unwrap();
    bench.wait_for_status("wait-11A", "implementation", "completed");
    wait_for("the completed count", WAIT, || {
        (expand(&bench, None, "#{E:@scopecraft_status}") == "✓ 1").then_some(())
    });
    assert_eq!(
        expand(&bench, Some(window), "#{E:@scopecraft_window_state}"),
        " ✓"
    );
}

#[test]
fn the_menu_for_a_fixture_project() {
    let bench = serve(Bench::with_fixture("scopecraft-v2"));
    let pane = first_pane(&bench);
    let main = bench.run(["menu", "--print", "--pane", &pane]).ok().stdout;
    insta::assert_snapshot!("menu_main", redact(&bench, &main));
    for absent in ["Stop…", "Attach…", "Resume…", "Logs…", "Sessions"] {
        assert!(!main.contains(absent), "nothing ran yet: no {absent}");
    }

    // 63 open tasks: more than a menu page, so a filtering popup (tmux 3.3).
    let tasks = bench
        .run(["menu", "--print", "--pane", &pane, "tasks"])
        .ok()
        .stdout;
    assert!(tasks.starts_with("display-popup -E"), "{tasks}");
    assert!(
        tasks.contains(" menu --pane ") && tasks.trim_end().ends_with(" pick'"),
        "{tasks}"
    );

    // Without popups: pages of a menu.
    bench
        .tmux(["set-option", "-g", "@scopecraft-popup", "off"])
        .ok();
    let page = bench
        .run(["menu", "--print", "--pane", &pane, "tasks"])
        .ok()
        .stdout;
    insta::assert_snapshot!("menu_tasks_page_1", redact(&bench, &page));
    let last = bench
        .run(["menu", "--print", "--pane", &pane, "tasks", "--page", "9"])
        .ok()
        .stdout;
    assert!(
        last.contains("(4/4)") && last.contains("Previous page") && !last.contains("Next page")
    );

    // The mode step says which agent each mode runs.
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "[modes.exploration]\nagent = \"gemini\"\n[modes.trd]\nagent = \"codex\"\n",
    );
    let modes = bench
        .run([
            "menu",
            "--print",
            "--pane",
            &pane,
            "modes",
            "01_core-refactor",
        ])
        .ok()
        .stdout;
    insta::assert_snapshot!("menu_modes", redact(&bench, &modes));

    bench
        .run(["menu", "--print", "--pane", &pane, "modes", "no-such-task"])
        .bad_input("no-such-task");
}

#[test]
fn the_menu_follows_the_state_of_the_sessions() {
    let bench = serve(Bench::with_tasks(&["run-11A", "done-11B"]));
    let release = bench.dir.path().join("release");
    bench.agent_behaviour("run-11A", &format!("wait_for={}\n", release.display()));
    bench.run(["dispatch", "done-11B"]).ok();
    bench.wait_for_status("done-11B", "implementation", "completed");
    let pane = first_pane(&bench);
    let main = bench.run(["menu", "--print", "--pane", &pane]).ok().stdout;
    for present in [
        "Attach…",
        "Logs…",
        "Resume…",
        "Sessions",
        "choose-tree -Zw -f",
        "##{@scopecraft-task}",
    ] {
        assert!(main.contains(present), "{present}:\n{main}");
    }
    assert!(!main.contains("Stop…"), "nothing runs:\n{main}");

    bench.run(["dispatch", "run-11A"]).ok();
    // Its window labelled as ours and its log open.
    bench.wait_for_agent_started("run-11A", "implementation");
    let main = bench.run(["menu", "--print", "--pane", &pane]).ok().stdout;
    assert!(main.contains("Stop…"), "{main}");
    let stop = bench
        .run(["menu", "--print", "--pane", &pane, "stop"])
        .ok()
        .stdout;
    assert!(stop.contains("run-11A (implementation)  running"), "{stop}");
    assert!(
        stop.contains(&format!(
            "menu --pane {pane} --project {} run -- --project {} stop run-11A --mode implementation",
            bench.project.display(),
            bench.project.display()
        )),
        "{stop}"
    );
    assert!(!stop.contains("done-11B"), "{stop}");

    let attach = bench
        .run(["menu", "--print", "--pane", &pane, "attach"])
        .ok()
        .stdout;
    let window = bench.record("run-11A", "implementation")["tmux"]["windowId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        attach.contains(&format!("'switch-client -t {window}'")),
        "{attach}"
    );

    let resume = bench
        .run(["menu", "--print", "--pane", &pane, "resume"])
        .ok()
        .stdout;
    assert!(
        resume.contains("dispatch done-11B --mode implementation --continue --exec tmux"),
        "{resume}"
    );
    assert!(
        !resume.contains("run-11A"),
        "a running session is not resumed"
    );

    let logs = bench
        .run(["menu", "--print", "--pane", &pane, "logs"])
        .ok()
        .stdout;
    assert!(logs.contains("display-popup -E"), "{logs}");
    assert!(
        logs.contains("logs done-11B --mode implementation | less -R +G"),
        "an ended run's log in a pager:\n{logs}"
    );
    assert!(
        logs.contains("logs run-11A --mode implementation -f; printf"),
        "a live run's log followed:\n{logs}"
    );
    bench
        .tmux(["set-option", "-g", "@scopecraft-popup", "off"])
        .ok();
    let logs = bench
        .run(["menu", "--print", "--pane", &pane, "logs"])
        .ok()
        .stdout;
    assert!(
        logs.contains("new-window -n"),
        "without popups, a window:\n{logs}"
    );

    fs::write(&release, "").unwrap();
    bench.wait_for_status("run-11A", "implementation", "completed");
}

#[test]
fn outside_a_project_the_menu_says_so() {
    let bench = Bench::new();
    bench.start_server(&bench.home);
    let pane = first_pane(&bench);
    let main = bench.run(["menu", "--print", "--pane", &pane]).ok().stdout;
    assert!(main.contains("-no Scopecraft project in"), "{main}");
    assert!(!main.contains("Dispatch task…"), "{main}");
    bench
        .run(["menu", "--print", "--pane", &pane, "tasks"])
        .bad_input("no Scopecraft project");
}

/// Titles that would run commands, show as formats or break the menu if
/// they reached tmux or a shell unescaped.
fn hostile_bench() -> (Bench, PathBuf) {
    let bench = Bench::with_tasks(&[]);
    let canary = bench.dir.path().join("canary");
    let c = canary.display();
    bench.write(
        ".tasks/current/evil-11A.task.md",
        &format!(
            "# Evil 'q' \"dq\" #{{pane_id}} #(touch {c}) ; run-shell 'touch {c}' $(touch {c}) `touch {c}`\n\n\
             ---\ntype: bug\nstatus: todo\n---\n\n## Instruction\nBe evil.\n"
        ),
    );
    bench.write(
        ".tasks/current/dash-11B.task.md",
        "# - starts with a dash\n\n---\ntype: bug\nstatus: todo\n---\n\n## Instruction\nx\n",
    );
    bench.write(
        ".tasks/current/MDTM-EVIL-01.md",
        &format!(
            "+++\nid = \"MDTM-EVIL-01\"\ntitle = \"two\\nlines \\u001b]0;owned\\u0007 #{{session_name}} $(touch {c})\"\n\
             type = \"bug\"\nstatus = \"🟡 To Do\"\n+++\n\nDo it.\n"
        ),
    );
    (serve(bench), canary)
}

#[test]
fn hostile_task_titles_are_escaped_in_the_menu() {
    let (bench, canary) = hostile_bench();
    let pane = first_pane(&bench);
    let tasks = bench
        .run(["menu", "--print", "--pane", &pane, "tasks"])
        .ok()
        .stdout;
    assert!(
        tasks.contains("##{pane_id} ##(touch"),
        "formats escaped:\n{tasks}"
    );
    assert!(
        tasks.contains("'dash-11B  - starts with a dash'"),
        "{tasks}"
    );
    assert!(
        tasks.contains("two lines  ]0;owned  ##{session_name}"),
        "one line, no escapes:\n{tasks}"
    );
    // What tmux reads back: the printed commands parse.
    let file = bench.dir.path().join("menu.conf");
    fs::write(&file, &tasks).unwrap();
    bench
        .tmux(["source-file", "-n", &file.display().to_string()])
        .ok();
    assert!(!canary.exists());
}

/// A tmux client attached to the bench's server, running in a pane of a
/// second (outer) server so that keys can be typed into it and what it
/// shows, menus and popups included, can be read.
struct Client<'a> {
    bench: &'a Bench,
}

impl<'a> Client<'a> {
    fn attach(bench: &'a Bench) -> Client<'a> {
        let client = Client { bench };
        client
            .outer([
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "40",
                "env -u TMUX tmux -f /dev/null attach -t main",
            ])
            .ok();
        wait_for("the client to attach", WAIT, || {
            let run = bench.tmux(["list-clients"]);
            (!run.stdout.trim().is_empty()).then_some(())
        });
        client
    }

    fn outer<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", "outer", "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .env("TMUX_TMPDIR", &self.bench.tmux_tmpdir)
            .env("HOME", &self.bench.home);
        Run::from(cmd.output().unwrap())
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend(keys);
        self.outer(args).ok();
    }

    fn text(&self, text: &str) {
        self.outer(["send-keys", "-l", text]).ok();
    }

    fn screen(&self) -> String {
        self.outer(["capture-pane", "-p"]).ok().stdout
    }

    #[track_caller]
    fn wait_for_screen(&self, needle: &str) -> String {
        let mut last = String::new();
        let found = crate::support::wait_for_or_none(WAIT, || {
            last = self.screen();
            last.contains(needle).then(|| last.clone())
        });
        found.unwrap_or_else(|| panic!("the client never showed {needle:?}:\n{last}"))
    }

    /// The plugin's key: prefix, then A.
    fn press_key(&self) {
        self.keys(&["C-b", "A"]);
    }
}

/// The key shown at the end of the menu row holding `text`: `(3)` → `3`.
fn row_key(screen: &str, text: &str) -> String {
    let line = screen
        .lines()
        .find(|line| line.contains(text))
        .unwrap_or_else(|| panic!("no row with {text:?}:\n{screen}"));
    let open = line.rfind('(').unwrap();
    line[open + 1..open + 2].to_string()
}

impl Drop for Client<'_> {
    fn drop(&mut self) {
        let _ = self.outer(["kill-server"]);
    }
}

#[test]
fn through_a_client_the_key_opens_the_menu_and_a_task_gets_dispatched() {
    let (bench, canary) = hostile_bench();
    load(&bench, &plugin_dir());
    let client = Client::attach(&bench);

    client.press_key();
    client.wait_for_screen("Dispatch task…");
    client.keys(&["d"]);
    let screen = client.wait_for_screen("Dispatch: pick a task");
    assert!(
        screen.contains("evil-11A  Evil 'q' \"dq\" #{pane_id} #(touch"),
        "titles shown literally:\n{screen}"
    );
    assert!(
        screen.contains("dash-11B  - starts with a dash"),
        "{screen}"
    );
    client.keys(&[&row_key(&screen, "evil-11A")]);
    client.wait_for_screen("Dispatch evil-11A: pick a mode");
    client.wait_for_screen("implementation  (default)");
    client.keys(&["1"]);
    bench.wait_for_status("evil-11A", "implementation", "completed");
    // Shown for display-time only, and a later message replaces it: the
    // message log keeps it.
    wait_for_message(&bench, "scopecraft: evil-11A (implementation) completed");
    assert!(!canary.exists(), "no shell or format ever ran the title");
    let messages = bench.tmux(["show-messages"]).ok().stdout;
    assert!(
        messages.contains("message: scopecraft: dispatched evil-11A (implementation)"),
        "the menu said what it did:\n{messages}"
    );

    // A command that fails from the menu says why on the client, exit 0.
    let name = bench
        .tmux(["list-clients", "-F", "#{client_name}"])
        .ok()
        .stdout;
    bench
        .run([
            "menu",
            "--client",
            name.trim(),
            "run",
            "--",
            "dispatch",
            "no-such-11Z",
        ])
        .ok();
    let messages = bench.tmux(["show-messages"]).ok().stdout;
    assert!(
        messages
            .lines()
            .any(|line| line.contains("message: scopecraft:") && line.contains("no-such-11Z")),
        "{messages}"
    );
}

#[test]
fn through_a_client_a_long_list_gets_the_filtering_popup() {
    let ids: Vec<String> = (0..40).map(|i| format!("task-{i:02}A")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let bench = serve(Bench::with_tasks(&refs));
    bench.task("needle-99Z", "The one to find.");
    load(&bench, &plugin_dir());
    let client = Client::attach(&bench);

    client.press_key();
    client.wait_for_screen("Dispatch task…");
    client.keys(&["d"]);
    client.wait_for_screen("41/41 · type to filter");
    client.text("NEEDLE");
    client.wait_for_screen("1/41 · type to filter");
    client.keys(&["Enter"]);
    client.wait_for_screen("Dispatch needle-99Z: pick a mode");
    client.keys(&["Escape"]);
    client.wait_for_screen("41/41 · type to filter");
    client.text("needle");
    client.keys(&["Enter"]);
    client.wait_for_screen("Dispatch needle-99Z: pick a mode");
    client.keys(&["Enter"]);
    bench.wait_for_status("needle-99Z", "implementation", "completed");

    // Keys typed ahead are not lost: two Esc at once go back, then close.
    client.press_key();
    client.wait_for_screen("Dispatch task…");
    client.keys(&["d"]);
    client.wait_for_screen("41/41 · type to filter");
    client.keys(&["Enter"]);
    client.wait_for_screen("pick a mode");
    client.keys(&["Escape", "Escape"]);
    wait_for("the popup to close", WAIT, || {
        (!client.screen().contains("type to filter")).then_some(())
    });
}

#[test]
fn through_a_client_a_missing_binary_is_offered_a_build_and_nothing_builds_at_load() {
    let bench = Bench::new();
    // A plugin folder whose name tmux and sh would misread unescaped.
    let plugin = plugin_copy(
        &bench
            .dir
            .path()
            .join("it's #{host} #1 $(touch canary) plugin"),
    );
    // A cargo that records its arguments and "builds" by copying the binary.
    let fake_bin = bench.dir.path().join("fake-bin");
    fs::create_dir_all(&fake_bin).unwrap();
    let calls = bench.dir.path().join("cargo-calls");
    let cargo = fake_bin.join("cargo");
    fs::write(
        &cargo,
        format!(
            "#!/bin/sh\necho \"$PWD: $*\" >> '{}'\necho '   Compiling scopecraft-tmux'\nmkdir -p target/release && cp '{BIN}' target/release/scopecraft-tmux\n",
            calls.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&cargo, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", fake_bin.display());
    let bench = bench.env("PATH", &path);
    bench.start_server(&bench.project);

    load(&bench, &plugin);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !calls.exists(),
        "nothing builds while tmux loads the plugin"
    );
    assert!(!plugin.join("target").exists());

    let client = Client::attach(&bench);
    // The next key looks for the binary when pressed.
    client.keys(&["C-b", "N"]);
    wait_for_message(
        &bench,
        "scopecraft: scopecraft-tmux is not installed (prefix + A offers to build it)",
    );
    client.press_key();
    client.wait_for_screen("Build it: cargo build --release --locked");
    client.keys(&["b"]);
    client.wait_for_screen("Compiling scopecraft-tmux");
    client.wait_for_screen("Press any key to close this window.");
    let called = fs::read_to_string(&calls).unwrap();
    assert_eq!(
        called.trim(),
        format!("{}: build --release --locked", plugin.display())
    );
    client.keys(&["q"]);
    // A menu opened while its window closes would close with it.
    wait_for("the build window to close", WAIT, || {
        (!bench
            .windows()
            .iter()
            .any(|w| w.ends_with(":scopecraft-build")))
        .then_some(())
    });
    client.press_key();
    client.wait_for_screen("Dispatch task…");
    client.keys(&["q"]);
    client.keys(&["C-b", "N"]);
    wait_for_message(&bench, "scopecraft: nothing waits for you");
    for dir in [bench.dir.path(), &bench.project, &bench.home, &plugin] {
        assert!(
            !dir.join("canary").exists(),
            "no shell read the folder's name"
        );
    }
}

#[test]
fn through_a_client_a_binary_without_a_menu_is_offered_a_build() {
    let bench = Bench::new();
    let old = bench.dir.path().join("old-scopecraft-tmux");
    fs::write(
        &old,
        "#!/bin/sh\necho \"error: unrecognized subcommand '$1'\" >&2\nexit 2\n",
    )
    .unwrap();
    fs::set_permissions(&old, fs::Permissions::from_mode(0o755)).unwrap();
    bench.start_server(&bench.project);
    bench
        .tmux([
            "set-option",
            "-g",
            "@scopecraft-bin",
            &old.display().to_string(),
        ])
        .ok();
    load(&bench, &plugin_dir());
    let client = Client::attach(&bench);
    client.press_key();
    client.wait_for_screen("the scopecraft-tmux found is older than the plugin");
    client.wait_for_screen("Build it: cargo build --release --locked");
}

#[test]
fn through_a_client_a_version_mismatch_warns_once() {
    let bench = Bench::with_tasks(&["fix-11A"]);
    let plugin = plugin_copy(&bench.dir.path().join("plugin"));
    let manifest = fs::read_to_string(plugin.join("Cargo.toml")).unwrap();
    let version = format!("version = \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(manifest.contains(&version));
    fs::write(
        plugin.join("Cargo.toml"),
        manifest.replacen(&version, "version = \"99.0.0\"", 1),
    )
    .unwrap();
    let bench = serve(bench);
    load(&bench, &plugin);
    let client = Client::attach(&bench);
    for _ in 0..3 {
        client.press_key();
        client.wait_for_screen(&format!(
            "binary {} ≠ plugin 99.0.0",
            env!("CARGO_PKG_VERSION")
        ));
        client.wait_for_screen("Build scopecraft-tmux 99.0.0 from the plugin");
        client.keys(&["q"]);
        wait_for("the menu to close", WAIT, || {
            (!client.screen().contains("≠ plugin")).then_some(())
        });
    }
    let messages = bench.tmux(["show-messages"]).ok().stdout;
    let warnings = messages
        .lines()
        .filter(|line| {
            line.contains(" message: scopecraft: binary") && line.contains("≠ plugin 99.0.0")
        })
        .count();
    assert_eq!(warnings, 1, "one warning:\n{messages}");
}

#[test]
fn the_status_line_follows_the_books_and_its_cache() {
    let bench = Bench::with_tasks(&["a-11A", "b-11B", "c-11C"]);
    bench.agent_behaviour("c-11C", "exit_code=1\n");
    assert_eq!(bench.run(["status-line"]).ok().stdout, "\n");
    for task in ["a-11A", "b-11B"] {
        bench.run(["dispatch", task, "--exec", "detached"]).ok();
        bench.wait_for_status(task, "implementation", "completed");
        // It still tidies the folder after writing the end.
        bench.wait_for_supervisor_end(task, "implementation");
    }
    assert_eq!(bench.run(["status-line"]).ok().stdout, "✓ 2\n");
    // Make the folder look settled, so that the next call writes the cache.
    let sessions = fs::read_dir(bench.scopecraft_home.join("projects"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("sessions");
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    fs::File::open(&sessions)
        .unwrap()
        .set_modified(past)
        .unwrap();
    assert_eq!(bench.run(["status-line"]).ok().stdout, "✓ 2\n");
    let cache = bench.scopecraft_home.join("cache/status-line");
    assert!(
        fs::read_to_string(&cache)
            .unwrap()
            .contains("counts 0 0 0 0 2 0 0 0")
    );
    assert_eq!(
        bench.run(["status-line"]).ok().stdout,
        "✓ 2\n",
        "from the cache"
    );

    bench.run(["dispatch", "c-11C", "--exec", "detached"]).ok();
    bench.wait_for_status("c-11C", "implementation", "failed");
    assert_eq!(
        bench.run(["status-line"]).ok().stdout,
        "✓ 2 ✗ 1\n",
        "a change in the books shows at once"
    );
}

#[test]
fn through_a_client_logs_open_in_a_popup_and_sessions_in_choose_tree() {
    let bench = serve(Bench::with_tasks(&["log-11A", "win-11B"]));
    bench.agent_behaviour("win-11B", "say='hello from the agent'\n");
    bench
        .run(["dispatch", "log-11A", "--exec", "detached"])
        .ok();
    bench.wait_for_status("log-11A", "implementation", "completed");
    bench.run(["dispatch", "win-11B"]).ok();
    bench.wait_for_status("win-11B", "implementation", "completed");
    load(&bench, &plugin_dir());
    let client = Client::attach(&bench);

    client.press_key();
    client.wait_for_screen("Logs…");
    client.keys(&["l"]);
    let screen = client.wait_for_screen("log-11A (implementation) [detached]  completed");
    client.keys(&[&row_key(&screen, "log-11A")]);
    client.wait_for_screen("─ log-11A (implementation) ");
    client.wait_for_screen("(END)");
    client.keys(&["q"]);
    // Its frame, not only the pager's text: keys go to an open popup.
    wait_for("the popup to close", WAIT, || {
        (!client.screen().contains("─ log-11A (implementation) ")).then_some(())
    });

    client.press_key();
    client.wait_for_screen("Sessions");
    client.keys(&["w"]);
    let tree = client.wait_for_screen("win-11B-implementation");
    assert!(!tree.contains("main:"), "only our windows:\n{tree}");
    client.keys(&["Enter"]);
    client.wait_for_screen("hello from the agent");
}

/// The window the bench's one client shows.
fn client_window(bench: &Bench) -> String {
    bench
        .tmux(["list-clients", "-F", "#{window_id}"])
        .ok()
        .stdout
        .trim()
        .to_string()
}

#[track_caller]
fn wait_for_message(bench: &Bench, text: &str) {
    let mut last = String::new();
    let found = crate::support::wait_for_or_none(WAIT, || {
        last = bench.tmux(["show-messages"]).stdout;
        last.contains(text).then_some(())
    });
    found.unwrap_or_else(|| panic!("no message {text:?}:\n{last}"));
}

#[track_caller]
fn wait_for_client_window(bench: &Bench, window: &str) {
    wait_for(&format!("the client to show {window}"), WAIT, || {
        (client_window(bench) == window).then_some(())
    });
}

#[test]
fn through_a_client_the_next_key_goes_to_the_agent_waiting_longest_then_the_next() {
    let bench = serve(Bench::with_tasks(&["old-11A", "new-11B", "busy-11C"]));
    load(&bench, &plugin_dir());
    let binding = bench.tmux(["list-keys", "-T", "prefix", "N"]).ok().stdout;
    assert!(
        binding.contains(&format!(
            "run-shell -b \"{BIN} next --client '#{{client_name}}' --window '#{{window_id}}'\""
        )),
        "the key runs the binary itself: {binding}"
    );
    // Outside tmux there is no client to switch.
    bench.run(["next"]).bad_input("not inside tmux");
    let client = Client::attach(&bench);
    let home = client_window(&bench);
    client.keys(&["C-b", "N"]);
    wait_for_message(&bench, "scopecraft: nothing waits for you");
    assert_eq!(client_window(&bench), home);

    hooked_run(
        &bench,
        "old-11A",
        "UserPromptSubmit prompt=go\n\
         Notification notification_type=permission_prompt message=May\n\
         wait gate-1\n\
         UserPromptSubmit prompt=yes\n\
         wait gate-9\n",
        "",
    );
    let old = wait_for_state(&bench, "old-11A", "waiting (permission_prompt)");
    hooked_run(
        &bench,
        "new-11B",
        "UserPromptSubmit prompt=go\nStopFailure error=rate_limit\nwait gate-9\n",
        "",
    );
    let new = wait_for_state(&bench, "new-11B", "blocked (rate_limit)");
    hooked_run(
        &bench,
        "busy-11C",
        "UserPromptSubmit prompt=go\nwait gate-9\n",
        "",
    );
    wait_for_state(&bench, "busy-11C", "working");
    // The runs that need you come first in the status summary.
    assert_eq!(bench.run(["status-line"]).ok().stdout, "◐ 1 ⊘ 1 ● 1\n");
    wait_for("the pushed status", WAIT, || {
        (expand(&bench, None, "#{E:@scopecraft_status}") == "◐ 1 ⊘ 1 ● 1").then_some(())
    });
    let window =
        |record: &serde_json::Value| record["tmux"]["windowId"].as_str().unwrap().to_string();
    let old_pane = old["tmux"]["paneId"].as_str().unwrap().to_string();
    let (old, new) = (window(&old), window(&new));

    // The menu's entry goes to the one waiting longest.
    client.press_key();
    client.wait_for_screen("Needs you: old-11A (implementation) waiting (permission_prompt)");
    client.keys(&["n"]);
    wait_for_client_window(&bench, &old);

    // From there the key goes to the next, then round to the first.
    client.keys(&["C-b", "N"]);
    wait_for_client_window(&bench, &new);
    wait_for_message(
        &bench,
        "scopecraft: 2/2 new-11B (implementation) blocked (rate_limit) for ",
    );
    client.keys(&["C-b", "N"]);
    wait_for_client_window(&bench, &old);
    wait_for_message(
        &bench,
        "scopecraft: 1/2 old-11A (implementation) waiting (permission_prompt) for ",
    );

    // From a shell in old-11A's pane, `next` goes on from its window.
    let socket = expand(&bench, None, "#{socket_path}");
    let output = bench
        .cmd()
        .env("TMUX", format!("{socket},1,0"))
        .env("TMUX_PANE", &old_pane)
        .args(["next", "--print"])
        .output()
        .unwrap();
    let printed = Run::from(output).ok().stdout;
    assert!(
        printed.starts_with(&format!("switch-client -t {new}\n")),
        "{printed}"
    );

    // Answered, old-11A works again: the key goes to what still waits.
    gate(&bench, 1);
    wait_for_state(&bench, "old-11A", "working");
    client.keys(&["C-b", "N"]);
    wait_for_client_window(&bench, &new);
    wait_for_message(
        &bench,
        "scopecraft: 1/1 new-11B (implementation) blocked (rate_limit)",
    );
    gate(&bench, 9);
}

/// The entries (label, key) of a `display-menu` as `menu --print` prints it.
fn printed_entries(printed: &str) -> Vec<(String, String)> {
    printed
        .lines()
        .filter_map(|line| {
            let entry = line.strip_prefix("  ")?;
            let (label, rest) = match entry.strip_prefix('\'') {
                Some(quoted) => quoted.split_once('\'')?,
                None => entry.split_once(' ')?,
            };
            let key = rest.split_whitespace().next()?;
            (!label.is_empty()).then(|| (label.to_string(), key.to_string()))
        })
        .collect()
}

#[test]
fn the_readme_pictures_the_menu_as_it_is() {
    // The README's picture: "while one run waits for you in its tmux window
    // and another has ended", in a git repository.
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let picture = readme
        .split("### The menu")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .unwrap();
    let pictured: Vec<(String, String)> = picture
        .lines()
        .filter_map(|line| {
            let inner = line.trim().strip_prefix('│')?.strip_suffix('│')?.trim();
            let (label, key) = inner.rsplit_once(" (")?;
            Some((label.trim().to_string(), key.strip_suffix(')')?.to_string()))
        })
        .collect();
    assert!(pictured.len() >= 5, "{picture}");

    let bench = serve(Bench::with_tasks(&["fix-11A", "done-11B"]).with_git());
    bench.run(["dispatch", "done-11B"]).ok();
    bench.wait_for_status("done-11B", "implementation", "completed");
    hooked_run(
        &bench,
        "fix-11A",
        "UserPromptSubmit prompt=go\n\
         Notification notification_type=idle_prompt message=Done\n\
         wait gate-1\n",
        "",
    );
    wait_for_state(&bench, "fix-11A", "waiting (idle_prompt)");
    let pane = first_pane(&bench);
    let printed = bench.run(["menu", "--print", "--pane", &pane]).ok().stdout;
    let entries = printed_entries(&printed);
    let keys = |list: &[(String, String)]| list.iter().map(|(_, k)| k.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&pictured), keys(&entries), "{printed}");
    for ((shown, _), (real, _)) in pictured.iter().zip(&entries) {
        let shown = shown.trim_end_matches('…');
        assert!(
            real.starts_with(shown),
            "pictured {shown:?}, printed {real:?}"
        );
    }
    gate(&bench, 1);
}
