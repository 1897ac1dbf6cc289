//! The agent: which program runs (Claude Code by default, `SCOPECRAFT_AGENT`
//! or the project configuration otherwise) and the arguments it gets.
//!
//! Claude Code's `--allowedTools` and `--disallowedTools` are variadic, so
//! they are passed as one `--flag=a,b` argument, and the prompt comes after
//! `--` so that neither a tool list nor a leading `-` can swallow it.

use std::path::PathBuf;

use anyhow::Result;

use crate::config::Config;
use crate::error::bail_input;
use crate::process;

/// The environment variable that replaces the agent command (a command
/// line, split like a shell would, never run through one).
pub const AGENT_ENV: &str = "SCOPECRAFT_AGENT";

/// A resolved agent command: the program (an absolute path) and the
/// arguments configured before ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub program: PathBuf,
    pub base_args: Vec<String>,
}

/// How the agent is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// In a terminal (tmux): the prompt is the last argument.
    Interactive,
    /// Headless: `-p --output-format stream-json --verbose`, prompt on stdin.
    Headless,
}

/// Which conversation: a new one with this id, or resuming one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conversation {
    New(String),
    Resume(String),
}

/// What the agent gets besides the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation<'a> {
    pub style: Style,
    pub conversation: &'a Conversation,
    pub allowed_tools: &'a [String],
    pub disallowed_tools: &'a [String],
    /// `-- AGENT ARGS` from the command line.
    pub extra_args: &'a [String],
    /// Settings JSON for `--settings` (the hooks that report waiting).
    pub settings: Option<&'a str>,
}

impl Agent {
    /// `SCOPECRAFT_AGENT`, else the configuration's `agent.command`, else
    /// `claude`; the program must exist now, before anything is created.
    pub fn resolve(config: &Config) -> Result<Agent> {
        let (name, base_args, source) = command_line(config)?;
        let Some(program) = process::find_program(&name) else {
            if name == "claude" {
                bail_input!(
                    "the agent `claude` (Claude Code) is not installed: no `claude` on PATH. \
                     Install it (npm install -g @anthropic-ai/claude-code), or set {AGENT_ENV} \
                     or agent.command in .tasks/.config/scopecraft-tmux.toml"
                );
            }
            bail_input!(
                "the agent `{name}` (from {source}) was not found on PATH or is not executable"
            );
        };
        Ok(Agent { program, base_args })
    }

    /// The same command for a container: the program is looked up on the
    /// image's PATH when it runs, not on ours.
    pub fn in_container(config: &Config) -> Result<Agent> {
        let (name, base_args, _) = command_line(config)?;
        Ok(Agent {
            program: PathBuf::from(name),
            base_args,
        })
    }

    /// The full argv without the prompt; whether the prompt goes on stdin.
    pub fn argv(&self, invocation: &Invocation<'_>, has_prompt: bool) -> (Vec<String>, bool) {
        let mut argv = vec![self.program.to_string_lossy().into_owned()];
        argv.extend(self.base_args.iter().cloned());
        if invocation.style == Style::Headless {
            argv.extend(["-p", "--output-format", "stream-json", "--verbose"].map(String::from));
        }
        match invocation.conversation {
            Conversation::New(id) => argv.extend(["--session-id".to_string(), id.clone()]),
            Conversation::Resume(id) => argv.extend(["--resume".to_string(), id.clone()]),
        }
        if !invocation.allowed_tools.is_empty() {
            argv.push(format!(
                "--allowedTools={}",
                invocation.allowed_tools.join(",")
            ));
        }
        if !invocation.disallowed_tools.is_empty() {
            argv.push(format!(
                "--disallowedTools={}",
                invocation.disallowed_tools.join(",")
            ));
        }
        if let Some(settings) = invocation.settings {
            argv.extend(["--settings".to_string(), settings.to_string()]);
        }
        argv.extend(invocation.extra_args.iter().cloned());
        match invocation.style {
            Style::Headless => (argv, true),
            Style::Interactive => {
                if has_prompt {
                    argv.push("--".to_string());
                }
                (argv, false)
            }
        }
    }
}

/// Claude Code settings whose hooks tell the books when an interactive agent
/// waits for its user (it stopped answering, or asks for a permission) and
/// when it works again. Claude Code runs hook commands with a shell: the
/// command holds only our executable and the record's path, both quoted.
pub fn waiting_hooks(exe: &std::path::Path, record: &std::path::Path) -> String {
    let command = |state: &str| {
        serde_json::json!([{ "hooks": [{
            "type": "command",
            "command": format!(
                "{} __hook {} {state}",
                shell_words::quote(&exe.to_string_lossy()),
                shell_words::quote(&record.to_string_lossy())
            ),
            "timeout": 10,
        }]}])
    };
    let with_matcher = |state: &str| {
        let mut hooks = command(state);
        hooks[0]["matcher"] = serde_json::Value::String("*".into());
        hooks
    };
    serde_json::json!({
        "hooks": {
            "Stop": command("waiting"),
            "Notification": command("waiting"),
            "UserPromptSubmit": command("running"),
            "PostToolUse": with_matcher("running"),
        }
    })
    .to_string()
}

/// The configured command line: program name, its arguments (with
/// `agent.args` after them), and where it came from.
fn command_line(config: &Config) -> Result<(String, Vec<String>, String)> {
    let (line, source) = match std::env::var(AGENT_ENV) {
        Ok(line) if !line.trim().is_empty() => (line, AGENT_ENV.to_string()),
        _ => match config.agent.command.as_deref() {
            Some(line) => (line.to_string(), config.describe("agent.command")),
            None => ("claude".to_string(), "the default".to_string()),
        },
    };
    let mut words = match shell_words::split(&line) {
        Ok(words) => words,
        Err(err) => {
            bail_input!("the agent command from {source} does not parse ({err}): {line}")
        }
    };
    if words.is_empty() {
        bail_input!("the agent command from {source} is empty");
    }
    let name = words.remove(0);
    words.extend(config.agent.args.iter().cloned());
    Ok((name, words, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> Agent {
        Agent {
            program: PathBuf::from("/usr/bin/claude"),
            base_args: vec!["--model".into(), "sonnet".into()],
        }
    }

    #[test]
    fn interactive_new_conversation() {
        let conversation = Conversation::New("11111111-1111-4111-8111-111111111111".into());
        let (argv, stdin) = agent().argv(
            &Invocation {
                style: Style::Interactive,
                conversation: &conversation,
                allowed_tools: &["Read".into(), "Bash(git log:*)".into()],
                disallowed_tools: &["WebFetch".into()],
                extra_args: &["--permission-mode".into(), "plan".into()],
                settings: None,
            },
            true,
        );
        assert!(!stdin);
        assert_eq!(
            argv,
            [
                "/usr/bin/claude",
                "--model",
                "sonnet",
                "--session-id",
                "11111111-1111-4111-8111-111111111111",
                "--allowedTools=Read,Bash(git log:*)",
                "--disallowedTools=WebFetch",
                "--permission-mode",
                "plan",
                "--",
            ]
        );
    }

    #[test]
    fn headless_resume_reads_the_prompt_from_stdin() {
        let conversation = Conversation::Resume("abc".into());
        let (argv, stdin) = agent().argv(
            &Invocation {
                style: Style::Headless,
                conversation: &conversation,
                allowed_tools: &[],
                disallowed_tools: &[],
                extra_args: &[],
                settings: None,
            },
            true,
        );
        assert!(stdin);
        assert_eq!(
            argv,
            [
                "/usr/bin/claude",
                "--model",
                "sonnet",
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--resume",
                "abc",
            ]
        );
    }

    /// Every flag `argv` can produce, in every style and conversation,
    /// must be in the `--help` of a real Claude Code
    /// (tests/fixtures/claude-code, refreshed by scripts/claude-code-help.sh).
    #[test]
    fn every_flag_we_pass_exists_in_claude_codes_help() {
        let help = include_str!("../tests/fixtures/claude-code/help.txt");
        let bare = Agent {
            program: PathBuf::from("claude"),
            base_args: Vec::new(),
        };
        let tools = ["Read".to_string()];
        let mut checked = 0;
        for style in [Style::Interactive, Style::Headless] {
            for conversation in [
                Conversation::New("u".into()),
                Conversation::Resume("u".into()),
            ] {
                let (argv, _) = bare.argv(
                    &Invocation {
                        style,
                        conversation: &conversation,
                        allowed_tools: &tools,
                        disallowed_tools: &tools,
                        extra_args: &[],
                        settings: Some("{}"),
                    },
                    true,
                );
                for arg in argv.iter().filter(|a| a.starts_with('-') && *a != "--") {
                    let flag = arg.split('=').next().unwrap();
                    let listed = help
                        .lines()
                        .any(|line| line.trim_start().split([',', ' ']).any(|word| word == flag));
                    assert!(listed, "`{flag}` is not in Claude Code's --help");
                    checked += 1;
                }
            }
        }
        assert!(checked >= 16);
        assert!(
            help.contains("\"stream-json\""),
            "stream-json is a listed output format"
        );
    }
}
