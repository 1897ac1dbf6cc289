//! The README and `--help` say what the binary does: every command and
//! flag is in the README's table, the configuration keys the help names are
//! the ones the configuration takes, and examples stay whole on an
//! 80-column terminal.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::support::Bench;

fn readme() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// `--help` of `command` as an 80-column terminal shows it.
fn help(bench: &Bench, command: &[&str]) -> String {
    help_with(bench, command, "--help")
}

/// `-h` (short help: one line an option) or `--help`.
fn help_with(bench: &Bench, command: &[&str], flag: &str) -> String {
    let mut cmd = bench.cmd();
    cmd.args(command).arg(flag).env("COLUMNS", "80");
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{command:?} --help");
    String::from_utf8(output.stdout).unwrap()
}

/// The names in a help's `Commands:` block, but `help`.
fn subcommands(help: &str) -> Vec<String> {
    block(help, "Commands:")
        .iter()
        .filter(|line| !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// The lines of the block under `heading`, up to the next blank line.
fn block<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|line| *line != heading)
        .skip(1)
        .take_while(|line| !line.is_empty())
        .collect()
}

/// Each option of a short help as (short, long), but `--help`,
/// `--version` and the global `--project`.
fn options(help: &str) -> Vec<(Option<String>, String)> {
    block(help, "Options:")
        .into_iter()
        .filter(|line| line.starts_with("  -") || line.starts_with("      --"))
        .filter_map(|line| {
            let line = line.trim_start();
            let (short, rest) = match line.strip_prefix('-') {
                Some(rest) if !rest.starts_with('-') => {
                    let (short, rest) = rest.split_once(", ")?;
                    (Some(format!("-{short}")), rest)
                }
                _ => (None, line),
            };
            // `--attach[=<WHERE>]`: an optional value after `=`.
            let long = rest
                .strip_prefix("--")?
                .split([' ', '\t', '[', '='])
                .next()?;
            Some((short, format!("--{long}")))
        })
        .filter(|(_, long)| !["--help", "--version", "--project"].contains(&long.as_str()))
        .collect()
}

/// The words of a README row: flags, values, page names.
fn tokens(row: &str) -> BTreeSet<&str> {
    row.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn the_readme_table_lists_every_command_and_flag() {
    let bench = Bench::new();
    let readme = readme();
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|line| *line != "## Commands")
        .skip_while(|line| !line.starts_with("| `"))
        .take_while(|line| line.starts_with('|'))
        .collect();
    let row = |name: &str| -> &str {
        table
            .iter()
            .find(|row| {
                let cell = row.trim_start_matches("| `");
                cell.split([' ', '`']).next() == Some(name)
            })
            .unwrap_or_else(|| panic!("no row for `{name}` in the README's Commands table"))
    };
    let mut missing = Vec::new();
    let commands = subcommands(&help(&bench, &[]));
    assert!(commands.len() >= 10, "{commands:?}");
    for command in &commands {
        let line = row(command);
        let words = tokens(line);
        let top = help_with(&bench, &[command], "-h");
        let mut helps = vec![top.clone()];
        for page in subcommands(&top) {
            if !words.contains(page.as_str()) {
                missing.push(format!("{command} {page}"));
            }
            if command == "worktree" {
                helps.push(help_with(&bench, &[command, &page], "-h"));
            }
        }
        for text in &helps {
            for (short, long) in options(text) {
                let named = words.contains(long.as_str())
                    || short.as_deref().is_some_and(|s| words.contains(s));
                if !named {
                    missing.push(format!("{command} {long}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "not in the README's table: {missing:?}");
}

#[test]
fn examples_and_exit_codes_stay_whole_on_80_columns() {
    let bench = Bench::new();
    let mut commands: Vec<Vec<String>> = vec![Vec::new()];
    for command in subcommands(&help(&bench, &[])) {
        commands.push(vec![command]);
    }
    commands.push(vec!["worktree".into(), "clean".into()]);
    let mut broken = Vec::new();
    for command in &commands {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let text = help(&bench, &args);
        // A command line, a comment, or the continuation of a line ending in `\`.
        let mut previous = "";
        for line in block(&text, "Examples:") {
            let whole = ["  scopecraft-tmux ", "  # ", "  curl ", "  set -g "]
                .iter()
                .any(|start| line.starts_with(start))
                || previous.ends_with('\\') && line.starts_with("    ");
            if !whole {
                broken.push(format!("{args:?}: {line}"));
            }
            previous = line;
        }
        for line in block(&text, "Exit codes:") {
            let digit = line.strip_prefix("  ").and_then(|l| l.chars().next());
            if !(digit.is_some_and(|c| c.is_ascii_digit()) || line.starts_with("     ")) {
                broken.push(format!("{args:?}: {line}"));
            }
        }
    }
    assert!(broken.is_empty(), "lines broken on 80 columns: {broken:#?}");
}

#[test]
fn the_default_mode_key_the_help_names_is_the_one_the_configuration_takes() {
    let bench = Bench::with_tasks(&["key-11A"]);
    let text = help(&bench, &["dispatch"]).replace('\n', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let key = text
        .split("[default: the project's ")
        .nth(1)
        .and_then(|rest| rest.split([',', ' ']).next())
        .unwrap();
    assert!(
        readme().contains(&format!("{key} = ")),
        "{key} in the README"
    );
    bench.write(
        ".tasks/.modes/review/base.md",
        "---\ninput:\n  taskId: string\n---\n\nReview {taskId}.\n",
    );
    bench.write(
        ".tasks/.config/scopecraft-tmux.toml",
        &format!("{key} = \"review\"\n"),
    );
    let prompt = bench.run(["prompt", "key-11A"]).ok().stdout;
    assert!(prompt.starts_with("Review key-11A."), "{prompt}");
}

#[test]
fn the_instructions_limit_is_the_one_stated() {
    let bench = Bench::with_tasks(&["long-11A"]);
    let text = help(&bench, &["prompt"]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let stated = text
        .split("--instructions <TEXT> ")
        .nth(1)
        .and_then(|rest| rest.split("(at most ").nth(1))
        .and_then(|rest| rest.split(" KiB)").next())
        .unwrap_or_else(|| panic!("no limit in: {text}"));
    assert!(
        readme().contains(&format!("at most {stated} KiB")),
        "the README states it"
    );
    let limit: usize = stated.parse::<usize>().unwrap() * 1024;
    let at = "x".repeat(limit);
    bench.run(["prompt", "long-11A", "-i", &at]).ok();
    let over = "x".repeat(limit + 1);
    bench
        .run(["prompt", "long-11A", "-i", &over])
        .bad_input(&format!("at most {limit} are accepted"));
}

#[test]
fn the_quick_start_names_the_worktree_and_branch_a_dispatch_makes() {
    let task = "measure-status-refresh-cost-11G";
    let readme = readme();
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for claim in [
        format!("`../scopecraft-tmux.worktrees/{task}`"),
        "(the folder is named after your checkout, lower-cased)".to_string(),
        format!("`task/{task}`"),
        format!("scopecraft-tmux worktree clean {task}"),
    ] {
        assert!(quick.contains(&claim), "the quick start says {claim}");
    }

    // What it says is what a dispatch makes, and what clean removes.
    let bench = Bench::with_tasks(&[task]).with_git();
    bench.run(["dispatch", task, "--exec", "detached"]).ok();
    bench.wait_for_status(task, "implementation", "completed");
    let checkout = bench.project.file_name().unwrap().to_str().unwrap();
    let worktree = bench
        .project
        .with_file_name(format!("{}.worktrees", checkout.to_lowercase()))
        .join(task);
    assert!(worktree.is_dir(), "{}", worktree.display());
    let branch = || {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&bench.project)
            .args(["branch", "--list", &format!("task/{task}")])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(branch().contains(&format!("task/{task}")), "{}", branch());
    bench.run(["worktree", "clean", task]).ok();
    assert!(!worktree.exists());
    assert_eq!(branch(), "");
}
