//! Finding the project, its tasks and modes, and composing prompts: `tasks`,
//! `modes` and `prompt` against the real Scopecraft data in tests/fixtures.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::process::Stdio;

use serde_json::Value;

use crate::support::{Bench, copy_dir, encode_root, fixtures, git};

fn task_ids(run: &crate::support::Run) -> Vec<String> {
    run.json()
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// The v2 fixture's tasks, as files: every `*.task.md` and `_overview.md`.
fn v2_task_files() -> BTreeSet<String> {
    fn walk(dir: &std::path::Path, found: &mut BTreeSet<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                walk(&path, found);
            } else if name.ends_with(".task.md") || name == "_overview.md" {
                found.insert(name);
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(&fixtures().join("scopecraft-v2/.tasks"), &mut found);
    found
}

#[test]
fn lists_every_task_of_the_v2_fixture_quietly() {
    let bench = Bench::with_fixture("scopecraft-v2");
    let run = bench.run(["tasks", "--json"]).ok();
    assert_eq!(
        run.stderr, "",
        "reports and templates are passed over quietly"
    );
    let tasks = run.json();
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 177);
    let listed: BTreeSet<String> = tasks
        .iter()
        .map(|t| {
            let path = std::path::Path::new(t["path"].as_str().unwrap());
            path.file_name().unwrap().to_str().unwrap().to_string()
        })
        .collect();
    // Every file name is unique but `_overview.md`; compare the sets.
    assert_eq!(listed, v2_task_files());
    for task in tasks {
        assert!(!task["title"].as_str().unwrap().is_empty(), "{task}");
        assert!(!task["status"].as_str().unwrap().is_empty(), "{task}");
        assert_eq!(task["format"], "v2");
    }

    let by_id = |id: &str| -> &Value {
        tasks
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed"))
    };
    let parent = by_id("implement-v2-structure");
    assert_eq!(parent["isParent"], true);
    assert_eq!(parent["parent"], Value::Null);
    assert_eq!(parent["location"], "current");
    let subtask = by_id("02_cli-update");
    assert_eq!(subtask["parent"], "implement-v2-structure");
    assert_eq!(subtask["type"], "chore");
    assert_eq!(subtask["status"], "done");
    assert_eq!(subtask["area"], "cli");
    assert_eq!(
        by_id("v2-integration-test-task-06A")["location"],
        "archive/2025-06"
    );
    // `status: To Do   # Clean value stored` and `type: "🐞 Bug"` normalise.
    assert!(tasks.iter().any(|t| t["type"] == "bug"));
    assert!(
        tasks
            .iter()
            .all(|t| !t["status"].as_str().unwrap().contains(' '))
    );

    // Scopecraft's order: current, then backlog, then archive.
    let ranks: Vec<u8> = tasks
        .iter()
        .map(|t| match t["location"].as_str().unwrap() {
            "current" => 0,
            "backlog" => 1,
            _ => 2,
        })
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
}

#[test]
fn every_v2_task_resolves_by_its_id() {
    let bench = Bench::with_fixture("scopecraft-v2");
    let tasks = bench.run(["tasks", "--json"]).ok().json();
    for task in tasks.as_array().unwrap() {
        let id = task["id"].as_str().unwrap();
        let composed = bench
            .run(["prompt", id, "--mode", "implement", "--json"])
            .ok()
            .json();
        assert_eq!(composed["task"]["path"], task["path"], "{id}");
        assert_eq!(composed["data"]["taskId"], id);
        assert!(
            composed["prompt"]
                .as_str()
                .unwrap()
                .contains(&format!("- ID: {id}")),
            "{id}: the prompt carries the task"
        );
    }
}

#[test]
fn filters_by_status_and_type() {
    let bench = Bench::with_fixture("scopecraft-v2");
    let all = bench.run(["tasks", "--json"]).ok().json();
    let in_progress = bench
        .run(["tasks", "--json", "--status", "In Progress"])
        .ok()
        .json();
    let expected = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "in_progress")
        .count();
    assert_eq!(in_progress.as_array().unwrap().len(), expected);
    assert_eq!(expected, 6);
    let bugs = bench
        .run(["tasks", "--json", "--type", "🐞 Bug", "--status", "todo"])
        .ok()
        .json();
    assert!(!bugs.as_array().unwrap().is_empty());
    assert!(
        bugs.as_array()
            .unwrap()
            .iter()
            .all(|t| t["type"] == "bug" && t["status"] == "todo")
    );
    let table = bench.run(["tasks", "--type", "spike"]).ok().stdout;
    assert_eq!(table.lines().count(), 1 + 11, "header and the 11 spikes");
    assert!(table.starts_with("ID "));
    // A status or type Scopecraft knows but no task has: an empty list.
    let blocked = bench
        .run(["tasks", "--json", "--status", "🔴 Blocked"])
        .ok();
    assert_eq!(blocked.json(), serde_json::json!([]));
    // One nobody knows is a mistake: say which are known.
    let run = bench
        .run(["tasks", "--status", "bogus"])
        .bad_input("unknown status `bogus`; known statuses: todo, in_progress, done, blocked");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    bench.run(["tasks", "--type", "bogus"]).bad_input(
        "unknown type `bogus`; known types: feature, bug, chore, documentation, test, spike, idea",
    );
    // The project's own values are known too.
    bench.write(
        ".tasks/current/odd-11A.task.md",
        "# Odd\n\n---\ntype: research\nstatus: parked\n---\n",
    );
    bench.run(["tasks", "--status", "parked"]).ok();
    bench
        .run(["tasks", "--type", "bogus"])
        .bad_input(", research");
}

#[test]
fn lists_mdtm_tasks_with_features_as_parents() {
    let bench = Bench::with_fixture("scopecraft-mdtm");
    let run = bench.run(["tasks", "--json"]).ok();
    assert_eq!(run.stderr, "");
    let tasks = run.json();
    let tasks = tasks.as_array().unwrap();
    let ids = task_ids(&run);
    assert_eq!(tasks.len(), 14, "{ids:?}");
    assert!(ids.contains(&"TASK-20250516T024757".to_string()));
    assert!(tasks.iter().all(|t| t["format"] == "mdtm"));
    let feature = tasks
        .iter()
        .find(|t| t["id"] == "tmux-claude-sessions")
        .unwrap();
    assert_eq!(feature["isParent"], true);
    assert_eq!(
        feature["title"],
        "Task-Aware Claude Sessions & Dispatch Modes"
    );
    let seed = tasks
        .iter()
        .find(|t| t["id"] == "TASK-20250516T024757")
        .unwrap();
    assert_eq!(seed["parent"], "tmux-claude-sessions");
    assert_eq!(seed["status"], "done");
    let sub = tasks
        .iter()
        .find(|t| t["id"] == "FEAT-ADDSUBTASK-0519-2U")
        .unwrap();
    assert_eq!(sub["area"], "ui", "from the AREA:ui tag");
    assert_eq!(sub["type"], "implementation");
    assert_eq!(sub["status"], "todo");
    // The feature folder's name resolves too.
    let composed = bench
        .run(["prompt", "FEATURE_tmux-claude-sessions", "--json"])
        .ok();
    assert!(composed.stderr.contains("built-in prompt"));
    assert_eq!(composed.json()["task"]["id"], "tmux-claude-sessions");
}

#[test]
fn finds_tasks_kept_under_scopecraft_home() {
    let bench = Bench::new();
    bench.write(".tasks/current/local-11A.task.md", &v2_task("Local", "cli"));
    let external = bench
        .scopecraft_home
        .join("projects")
        .join(encode_root(&bench.project))
        .join("tasks/backlog");
    fs::create_dir_all(&external).unwrap();
    fs::write(
        external.join("moved-11B.task.md"),
        v2_task("Moved out", "core"),
    )
    .unwrap();
    let ids = task_ids(&bench.run(["tasks", "--json"]).ok());
    assert_eq!(ids, ["local-11A", "moved-11B"]);
    let composed = bench.run(["prompt", "moved-11B", "--json"]).ok().json();
    assert_eq!(composed["task"]["title"], "Moved out");
}

#[test]
fn symlinked_folders_are_followed_once_and_loops_are_not() {
    let bench = Bench::with_tasks(&["fix-11A"]);
    bench.write(".tasks/backlog/later-11B.task.md", &v2_task("Later", "cli"));
    let tasks = bench.project.join(".tasks");
    // Two links back up: each alone listed everything 41 times (until the
    // paths grew too long); together the walk was exponential.
    std::os::unix::fs::symlink("..", tasks.join("current/loop")).unwrap();
    std::os::unix::fs::symlink("..", tasks.join("backlog/up")).unwrap();
    // A second way to the backlog: its task is listed once, where it is.
    std::os::unix::fs::symlink("../backlog", tasks.join("current/alias")).unwrap();
    std::os::unix::fs::symlink("..", tasks.join(".modes/implementation/loop")).unwrap();

    let listed = bench.run(["tasks", "--json"]).ok().json();
    let listed: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["location"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, [("fix-11A", "current"), ("later-11B", "backlog")]);
    let composed = bench
        .run(["prompt", "fix-11A", "--mode", "implementation", "--json"])
        .ok()
        .json();
    assert!(
        composed["prompt"]
            .as_str()
            .unwrap()
            .contains("Implement fix-11A.")
    );
    bench.run(["dispatch", "fix-11A", "--dry-run"]).ok();
    let modes = bench.run(["modes", "--json"]).ok().json();
    let names: Vec<&str> = modes
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["implementation"]);
}

fn v2_task(title: &str, area: &str) -> String {
    format!(
        "# {title}\n\n---\ntype: feature\nstatus: todo\narea: {area}\n---\n\n\
         ## Instruction\nDo {title}.\n\n## Tasks\n- [ ] one\n\n## Deliverable\n\n## Log\n"
    )
}

#[test]
fn from_inside_a_git_worktree_the_main_checkout_is_used() {
    let bench = Bench::new();
    bench.write(".tasks/current/first-11A.task.md", &v2_task("First", "cli"));
    git(&bench.project, &["init", "-q", "-b", "main"]);
    git(&bench.project, &["add", "-A"]);
    git(&bench.project, &["commit", "-qm", "tasks"]);
    let worktree = bench.dir.path().join("project.worktrees/first-11A");
    git(
        &bench.project,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "task/first-11A",
            worktree.to_str().unwrap(),
        ],
    );
    // A task only the main checkout has (not committed, so not in the worktree).
    bench.write(
        ".tasks/current/second-11B.task.md",
        &v2_task("Second", "cli"),
    );
    let inside = worktree.join("src/deep");
    fs::create_dir_all(&inside).unwrap();
    let run = bench
        .cmd()
        .current_dir(&inside)
        .args(["tasks", "--json"])
        .output()
        .unwrap();
    let run = crate::support::Run::from(run).ok();
    assert_eq!(task_ids(&run), ["first-11A", "second-11B"]);
    let path = run.json()[1]["path"].as_str().unwrap().to_string();
    assert!(path.starts_with(bench.project.to_str().unwrap()), "{path}");
}

#[test]
fn outside_a_project_is_a_clear_error() {
    let bench = Bench::new();
    let elsewhere = bench.dir.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    bench
        .run(["tasks", "--project", elsewhere.to_str().unwrap()])
        .bad_input("no Scopecraft project here");
}

fn modes_bench() -> Bench {
    let bench = Bench::with_fixture("scopecraft-v2");
    fs::remove_dir_all(bench.project.join(".tasks/.modes")).unwrap();
    copy_dir(
        &fixtures().join("scopecraft-modes-head/.tasks/.modes"),
        &bench.project.join(".tasks/.modes"),
    );
    bench
}

#[test]
fn lists_the_modes_a_user_can_pass() {
    let bench = modes_bench();
    let modes = bench.run(["modes", "--json"]).ok().json();
    let modes = modes.as_array().unwrap();
    let names: Vec<&str> = modes.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "auto",
            "design",
            "trd",
            "exploration",
            "implementation/autonomous",
            "implementation",
            "code_review",
            "parent",
            "meta",
            "orchestration",
            "planning",
        ]
    );
    let auto = &modes[0];
    assert!(
        auto["file"]
            .as_str()
            .unwrap()
            .ends_with("orchestration/autonomous.md")
    );
    assert_eq!(
        auto["aliases"],
        serde_json::json!(["orchestration/autonomous"])
    );
    let planning = modes.iter().find(|m| m["name"] == "planning").unwrap();
    assert_eq!(
        planning["inputs"],
        serde_json::json!([
            {"name": "feature_description", "required": true, "type": "string"},
            {"name": "area", "required": false, "type": "string"},
            {"name": "context", "required": false, "type": "string"},
        ])
    );
    // Every listed name (and alias) resolves to the listed file.
    for mode in modes {
        let mut all = vec![mode["name"].as_str().unwrap()];
        all.extend(
            mode["aliases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap()),
        );
        for name in all {
            let composed = bench
                .run([
                    "prompt",
                    "02_cli-update",
                    "--mode",
                    name,
                    "--data",
                    r#"{"feature_description": "x", "parentId": "p"}"#,
                    "--json",
                ])
                .ok()
                .json();
            assert_eq!(composed["files"][0], mode["file"], "{name}");
        }
    }
    let table = bench.run(["modes"]).ok().stdout;
    assert!(table.contains("code_review"), "{table}");
    assert!(
        table.contains("feature_description area? context?"),
        "{table}"
    );
}

#[test]
fn every_mode_file_composes_with_a_real_task() {
    for tree in ["scopecraft-v2", "scopecraft-modes-head"] {
        let bench = Bench::with_fixture("scopecraft-v2");
        if tree != "scopecraft-v2" {
            fs::remove_dir_all(bench.project.join(".tasks/.modes")).unwrap();
            copy_dir(
                &fixtures().join(tree).join(".tasks/.modes"),
                &bench.project.join(".tasks/.modes"),
            );
        }
        // Every .md below .modes, by its path, with a subtask (so parentId is set).
        let modes_dir = bench.project.join(".tasks/.modes");
        let mut files = Vec::new();
        fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else {
                    let rel = p.strip_prefix(base).unwrap().to_str().unwrap();
                    out.push(rel.trim_end_matches(".md").to_string());
                }
            }
        }
        walk(&modes_dir, &modes_dir, &mut files);
        assert!(files.len() >= 17, "{tree}: {files:?}");
        // What `modes` lists composes; every other file is refused, saying why.
        let listed: Vec<String> = bench
            .run(["modes", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["file"].as_str().unwrap().to_string())
            .collect();
        let mut refused = 0;
        for mode in files {
            let path_mode = if mode.contains('/') {
                mode.clone()
            } else {
                continue;
            };
            let file = modes_dir.join(format!("{mode}.md"));
            if !listed.contains(&file.display().to_string()) {
                bench
                    .run(["prompt", "02_cli-update", "--mode", &path_mode])
                    .bad_input(&format!("`{path_mode}` is not a mode"));
                refused += 1;
                continue;
            }
            let composed = bench
                .run([
                    "prompt",
                    "02_cli-update",
                    "--mode",
                    &path_mode,
                    "--data",
                    r#"{"feature_description": "Add a status line"}"#,
                    "--json",
                ])
                .ok()
                .json();
            let prompt = composed["prompt"].as_str().unwrap();
            assert!(
                prompt.ends_with('\n') && !prompt.ends_with("\n\n"),
                "{tree} {mode}"
            );
            assert!(
                !prompt.contains("{if:"),
                "{tree} {mode}: if blocks are rendered"
            );
            assert!(!prompt.contains("${parentId"), "{tree} {mode}");
        }
        assert!(refused >= 5, "{tree}: guides, READMEs and area guides");
    }
}

#[test]
fn resolves_modes_as_scopecraft_does() {
    let bench = modes_bench();
    let file_of = |mode: &str| -> String {
        let composed = bench
            .run(["prompt", "02_cli-update", "--mode", mode, "--json"])
            .ok()
            .json();
        let file = composed["files"][0].as_str().unwrap().to_string();
        file.rsplit_once(".modes/").unwrap().1.to_string()
    };
    assert_eq!(file_of("auto"), "orchestration/autonomous.md");
    assert_eq!(file_of("implementation"), "implementation/base.md");
    assert_eq!(
        file_of("implementation/code_review"),
        "implementation/code_review.md"
    );
    assert_eq!(file_of("code_review"), "implementation/code_review.md");
    assert_eq!(file_of("exploration"), "exploration/base.md");
    let prompt_in = |mode: &str| bench.run(["prompt", "02_cli-update", "--mode", mode]);
    // Guidance documents and READMEs have no front matter: not modes.
    prompt_in("react-patterns").bad_input(
        "`react-patterns` is not a mode: guidance/react-patterns.md has no ChannelCoder front matter",
    );
    prompt_in("README").bad_input("`README` is not a mode: planning/README.md");
    bench
        .run(["dispatch", "02_cli-update", "--mode", "planning/README"])
        .bad_input("`planning/README` is not a mode");
    let ambiguous = prompt_in("autonomous").bad_input("ambiguous");
    assert!(ambiguous.stderr.contains("implementation/autonomous"));
    assert!(ambiguous.stderr.contains("orchestration/autonomous"));
    // Area guides are not modes: their names do not resolve (nor make a
    // name ambiguous), nor does a path to one.
    prompt_in("cli").bad_input("unknown mode `cli`");
    prompt_in("core").bad_input("unknown mode `core`");
    prompt_in("implementation/area/cli").bad_input("implementation/area/cli.md is an area guide");
    bench.write(
        ".tasks/.modes/review/core.md",
        "---\n---\nReview {taskId}.\n",
    );
    assert_eq!(file_of("core"), "review/core.md");
    prompt_in("nonesuch").bad_input("unknown mode `nonesuch`: no nonesuch.md");
    for refused in ["nonesuch", "README"] {
        prompt_in(refused).bad_input("available modes: auto, design");
    }
}

#[test]
fn default_mode_comes_from_the_project_configuration() {
    let bench = modes_bench();
    let auto = bench.run(["prompt", "02_cli-update", "--json"]).ok().json();
    assert_eq!(auto["mode"], "auto");
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "default-mode = \"implementation\"\n",
    );
    let configured = bench.run(["prompt", "02_cli-update", "--json"]).ok().json();
    assert_eq!(configured["mode"], "implementation");
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        "defualt-mode = \"x\"\n",
    );
    bench
        .run(["prompt", "02_cli-update"])
        .bad_input("unknown field `defualt-mode`");
}

#[test]
fn front_matter_errors_name_the_files_line() {
    let bench = Bench::new();
    // v2: the title, a blank line and `---` come before the block.
    bench.write(
        ".tasks/current/yaml-11A.task.md",
        "# Yaml\n\n---\ntype: feature\nstatus: todo\narea: [cli\n---\n\n## Instruction\nDo.\n",
    );
    // MDTM: the `+++` line comes before the block.
    bench.write(
        ".tasks/FEATURE_x/toml-11A.md",
        "+++\nid = \"toml-11A\"\ntitle = \"Toml\"\nstatus = \n+++\n",
    );
    bench.write(
        ".tasks/.modes/broken/base.md",
        "---\ninput:\n  taskId: string\n b: [\n---\nDo {taskId}.\n",
    );
    let tasks = bench.run(["tasks"]).ok();
    assert!(
        tasks
            .stderr
            .contains("yaml-11A.task.md has front matter that is not valid YAML (unclosed bracket '[' at line 6, column 7)"),
        "{}",
        tasks.stderr
    );
    assert!(
        tasks.stderr.contains("not valid TOML (") && tasks.stderr.contains(" at line 4); skipped"),
        "{}",
        tasks.stderr
    );
    bench
        .run(["prompt", "yaml-11A", "--mode", "broken"])
        .bad_input("at line 4, column 2");
}

#[test]
fn a_missing_required_input_names_the_variable_and_the_file() {
    let bench = modes_bench();
    let run = bench
        .run(["prompt", "02_cli-update", "--mode", "planning"])
        .bad_input("feature_description");
    assert!(run.stderr.contains("planning/base.md"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    // implementation/parent.md requires parentId: a standalone task has none.
    bench
        .run([
            "prompt",
            "add-sor-and-col-con-to-tsk-06A",
            "--mode",
            "parent",
        ])
        .bad_input("`parentId`");
    // Given as data, it composes.
    bench
        .run([
            "prompt",
            "add-sor-and-col-con-to-tsk-06A",
            "--mode",
            "parent",
            "--data",
            r#"{"parentId": "implement-v2-structure"}"#,
        ])
        .ok();
}

#[test]
fn an_empty_instruction_is_named_before_the_data_hint() {
    let bench = modes_bench();
    let path = bench.write(
        ".tasks/current/empty-11A.task.md",
        "# Nothing yet\n\n---\ntype: feature\nstatus: todo\narea: cli\n---\n\n\
         ## Instruction\n\n## Tasks\n- [ ] do it\n\n## Deliverable\n\n## Log\n",
    );
    for command in ["prompt", "dispatch"] {
        let run = bench
            .run([command, "empty-11A", "-m", "exploration"])
            .bad_input(&format!(
                "task empty-11A has no instruction text ({}: its `## Instruction` section is empty), \
                 and mode `exploration`",
                path.display()
            ));
        let hint = run
            .stderr
            .find("write the instruction in the task file, or pass --data");
        assert!(hint.is_some(), "{}", run.stderr);
        assert!(
            run.stderr.contains(r#"{"taskInstruction": "…"}"#),
            "{}",
            run.stderr
        );
    }
    // Without the section at all.
    bench.write(
        ".tasks/current/empty-11A.task.md",
        "# Nothing yet\n\n---\ntype: feature\nstatus: todo\narea: cli\n---\n\n## Log\n",
    );
    bench
        .run(["prompt", "empty-11A", "-m", "exploration"])
        .bad_input("it has no `## Instruction` section), and mode `exploration`");
    // Another missing input is not blamed on the task.
    let run = bench
        .run(["prompt", "02_cli-update", "--mode", "planning"])
        .bad_input("mode `planning`");
    assert!(!run.stderr.contains("instruction text"), "{}", run.stderr);
}

#[test]
fn composition_is_deterministic_and_ordered() {
    let bench = modes_bench();
    let args = [
        "prompt",
        "02_cli-update",
        "--mode",
        "implementation",
        "--instructions",
        "Keep the diff small.",
    ];
    let first = bench.run(args).ok().stdout;
    let second = bench.run(args).ok().stdout;
    assert_eq!(first, second);
    let role = first.find("<role>").unwrap();
    let task = first.find("<task>\n# Update CLI for V2 Structure").unwrap();
    let area = first
        .find("<area_guidance area=\"cli\">\n# CLI Area Guide")
        .unwrap();
    let extra = first
        .find("<additional_instructions>\nKeep the diff small.\n</additional_instructions>")
        .unwrap();
    assert!(role < task && task < area && area < extra);
    assert!(first.contains("- Parent: implement-v2-structure\n"));
    assert!(first.contains("## Instruction\nUpdate the CLI commands"));
    assert!(
        !first.contains("## Log"),
        "the log is not part of the prompt"
    );
}

#[test]
fn a_template_that_places_the_instruction_gets_no_task_block() {
    let bench = modes_bench();
    let prompt = bench
        .run(["prompt", "02_cli-update", "--mode", "exploration"])
        .ok()
        .stdout;
    // exploration/base.md declares taskInstruction; does it use it?
    let template =
        fs::read_to_string(bench.project.join(".tasks/.modes/exploration/base.md")).unwrap();
    if template.contains("{taskInstruction}") {
        assert!(!prompt.contains("<task>"));
        assert!(prompt.contains("Update the CLI commands"));
    } else {
        assert!(prompt.contains("<task>"));
    }
    let bench = Bench::new();
    bench.write(".tasks/current/t-11A.task.md", &v2_task("T", "cli"));
    bench.write(
        ".tasks/.modes/inline/base.md",
        "---\ninput:\n  taskInstruction: string\n---\nDo exactly this: {taskInstruction}\n",
    );
    let prompt = bench
        .run(["prompt", "t-11A", "--mode", "inline"])
        .ok()
        .stdout;
    assert_eq!(prompt, "Do exactly this: Do T.\n");
}

#[test]
fn composed_prompts_snapshots() {
    let bench = modes_bench();
    insta::assert_snapshot!(
        "implementation_subtask_with_area",
        bench
            .run(["prompt", "02_cli-update", "--mode", "implementation"])
            .ok()
            .stdout
    );
    insta::assert_snapshot!(
        "auto_with_instructions",
        bench
            .run([
                "prompt",
                "05_updt-ui-to-hand-new-cont-form-05M",
                "--instructions",
                "Stop after the first subtask.",
            ])
            .ok()
            .stdout
    );
    insta::assert_snapshot!(
        "orchestration_with_concatenation",
        bench
            .run([
                "prompt",
                "implement-v2-structure",
                "--mode",
                "orchestration",
                "--data",
                r#"{"parentId": "implement-v2-structure"}"#,
                "--instructions",
                "Be careful.",
            ])
            .ok()
            .stdout
    );
    let mdtm = Bench::with_fixture("scopecraft-mdtm");
    copy_dir(
        &fixtures().join("scopecraft-modes-head/.tasks/.modes"),
        &mdtm.project.join(".tasks/.modes"),
    );
    insta::assert_snapshot!(
        "mdtm_task_code_review",
        mdtm.run([
            "prompt",
            "FEAT-BUILDDISPATCH-0519-35",
            "--mode",
            "code_review"
        ])
        .ok()
        .stdout
    );
    let bare = Bench::new();
    bare.write(".tasks/current/t-11A.task.md", &v2_task("Bare", "cli"));
    let run = bare.run(["prompt", "t-11A"]).ok();
    assert!(run.stderr.contains("built-in prompt"), "{}", run.stderr);
    insta::assert_snapshot!("builtin_prompt_without_modes", run.stdout);
}

#[test]
fn prompt_json_carries_files_data_and_tools() {
    let bench = modes_bench();
    let composed = bench
        .run([
            "prompt",
            "02_cli-update",
            "--json",
            "--data",
            r#"{"extra": [1, 2]}"#,
        ])
        .ok()
        .json();
    let files: Vec<&str> = composed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files[0].ends_with(".modes/orchestration/autonomous.md"));
    assert!(files[1].ends_with("implement-v2-structure/02_cli-update.task.md"));
    assert_eq!(composed["data"]["extra"], serde_json::json!([1, 2]));
    assert_eq!(composed["data"]["parentId"], "implement-v2-structure");
    assert_eq!(composed["data"]["mode"], "auto");
    assert_eq!(composed["allowedTools"][0], "Task");
    assert!(composed["allowedTools"].as_array().unwrap().len() > 10);
    assert_eq!(composed["disallowedTools"], serde_json::json!([]));
}

#[test]
fn bad_ids_modes_and_data_are_refused_with_exit_2() {
    let bench = modes_bench();
    let canary = bench.dir.path().join("canary");
    let canary_arg = format!("$(touch {})", canary.display());
    for id in [
        "../etc/passwd",
        "a b",
        "a;b",
        "x\ny",
        "`id`",
        "'quoted'",
        canary_arg.as_str(),
        &"a".repeat(200),
    ] {
        bench.run(["prompt", id]).bad_input("task id");
    }
    for mode in [
        "..",
        "../../etc/passwd",
        "/etc/passwd",
        "a/../b",
        "a b",
        canary_arg.as_str(),
    ] {
        bench
            .run(["prompt", "02_cli-update", "--mode", mode])
            .bad_input("mode");
    }
    bench
        .run(["prompt", "02_cli-update", "--data", "[1, 2]"])
        .bad_input("--data must be a JSON object");
    bench
        .run(["prompt", "02_cli-update", "--data", "{nope"])
        .bad_input("--data is not valid JSON");
    bench
        .run([
            "prompt",
            "02_cli-update",
            "--instructions",
            &"x".repeat(100_000),
        ])
        .bad_input("--instructions is 100000 bytes");
    bench
        .run(["prompt", "no-such-task"])
        .bad_input("no task \"no-such-task\"");
    assert!(!canary.exists());
}

#[test]
fn hostile_text_reaches_the_prompt_literally() {
    let bench = Bench::new();
    let canary = bench.dir.path().join("canary");
    let hostile = format!(
        "Quotes ' \" and $(touch {c}) and `touch {c}` ; touch {c}\nnext line {{taskId}} \\{{x}}",
        c = canary.display()
    );
    bench.write(
        ".tasks/current/t-11A.task.md",
        &format!(
            "# T\n\n---\ntype: bug\nstatus: todo\narea: cli\n---\n\n## Instruction\n{hostile}\n"
        ),
    );
    let prompt = bench
        .run(["prompt", "t-11A", "--instructions", &hostile])
        .ok()
        .stdout;
    // Once in the task block, once as additional instructions; never rendered.
    assert_eq!(prompt.matches(&hostile).count(), 2, "{prompt}");
    assert!(!canary.exists());
}

#[test]
fn help_documents_exit_codes_and_a_closed_pipe_is_quiet() {
    let bench = Bench::new();
    let help = bench.run(["--help"]).ok().stdout;
    assert!(help.contains("Exit codes:") && help.contains("2  bad usage or bad input"));
    let prompt_help = bench.run(["prompt", "--help"]).ok().stdout;
    assert!(prompt_help.contains("Exit codes:"));

    let bench = Bench::with_fixture("scopecraft-v2");
    let mut child = bench
        .cmd()
        .arg("tasks")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn this_repository_dispatches_out_of_the_box() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bench = Bench::new();
    let run = bench
        .run(["--project", repo.to_str().unwrap(), "tasks", "--json"])
        .ok();
    assert_eq!(run.stderr, "");
    let ids = task_ids(&run);
    assert!(ids.len() >= 4, "{ids:?}");
    let modes = bench
        .run(["--project", repo.to_str().unwrap(), "modes", "--json"])
        .ok()
        .json();
    let names: Vec<&str> = modes
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for wanted in ["auto", "implementation", "exploration", "code-review"] {
        assert!(names.contains(&wanted), "{names:?}");
    }
    for id in &ids {
        for mode in ["auto", "implementation", "exploration", "code-review"] {
            bench
                .run([
                    "--project",
                    repo.to_str().unwrap(),
                    "prompt",
                    id,
                    "--mode",
                    mode,
                ])
                .ok();
        }
    }
}
