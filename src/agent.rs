//! The agents. An agent is a profile: its program, the arguments of an
//! interactive and of a headless run, how each takes the prompt (the last
//! argument, a `--flag=` value, or stdin), how a conversation is resumed by
//! id, the hooks that report its state, and its tool-list flags. Built in:
//! Claude Code (the default), OpenAI Codex CLI and Google Gemini CLI; the
//! configuration changes them or describes others (`[agents.<name>]`).
//!
//! Claude Code's `--allowedTools` and `--disallowedTools` are variadic, so
//! they are passed as one `--flag=a,b` argument, and the prompt comes after
//! `--` so that neither a tool list nor a leading `-` can swallow it.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::{Config, ProfileConfig};
use crate::error::bail_input;
use crate::process;

/// The environment variable that replaces the program of whichever agent
/// runs (a command line, split like a shell would, never run through one).
pub const AGENT_ENV: &str = "SCOPECRAFT_AGENT";

/// The agent when neither `--agent` nor the configuration names one.
pub const DEFAULT: &str = "claude";

/// The built-in agents, in the order `--help` lists them.
pub const BUILT_IN: [&str; 3] = ["claude", "codex", "gemini"];

/// Where a template puts the configured arguments (`agent.args`, the words
/// after the program in `command`); without it they follow the program.
const ARGS: &str = "{args}";
/// Replaced by the conversation id.
const ID: &str = "{id}";
/// Replaced by a tool list, comma-separated.
const TOOLS: &str = "{tools}";

/// How an agent takes its prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// On stdin.
    Stdin,
    /// As the last argument, after `--`.
    Argument,
    /// Joined to a flag in one argument (`--prompt-interactive=<prompt>`),
    /// so that a prompt starting with `-` cannot read as a flag.
    Joined(String),
}

impl Prompt {
    /// `stdin`, `argument`, or a flag ending with `=`.
    pub fn parse(text: &str) -> Option<Prompt> {
        match text {
            "stdin" => Some(Prompt::Stdin),
            "argument" => Some(Prompt::Argument),
            flag if flag.starts_with('-') && flag.ends_with('=') && flag.len() > 2 => {
                Some(Prompt::Joined(flag.to_string()))
            }
            _ => None,
        }
    }
}

/// Which hooks tell the books that an interactive agent waits for its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hooks {
    None,
    /// Claude Code: `--settings` with hooks ([`claude_hook_settings`]).
    ClaudeSettings,
    /// Codex CLI: its `notify` program, called after every turn with a JSON
    /// argument naming the thread (`-c notify=[…]`, [`codex_notify`]).
    CodexNotify,
}

/// One agent's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// `claude`, `codex`, `gemini`, or a configured name.
    pub name: String,
    /// For people: `Claude Code`.
    pub title: String,
    /// The command line: the program and arguments of its own.
    pub command: String,
    /// How to install the program, for the message when it is missing.
    pub install: Option<String>,
    /// Arguments always passed (where a template says `{args}`).
    pub args: Vec<String>,
    /// A new conversation, interactive and headless; `{id}` where the agent
    /// takes an id we choose.
    pub interactive: Vec<String>,
    pub headless: Vec<String>,
    /// Resuming conversation `{id}`; `None`: this agent cannot resume.
    pub resume_interactive: Option<Vec<String>>,
    pub resume_headless: Option<Vec<String>>,
    pub interactive_prompt: Prompt,
    pub headless_prompt: Prompt,
    /// `--allowedTools={tools}`; `None`: the agent takes no tool list.
    pub allowed_tools: Option<String>,
    pub disallowed_tools: Option<String>,
    pub hooks: Hooks,
    /// Exit codes with a documented meaning.
    pub exit_codes: &'static [(i32, &'static str)],
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

impl Profile {
    /// A built-in profile by name.
    pub fn built_in(name: &str) -> Option<Profile> {
        let profile = match name {
            // Today's arguments, unchanged: `claude [args] [-p --output-format
            // stream-json --verbose] --session-id <id> | --resume <id> …`.
            "claude" => Profile {
                name: name.into(),
                title: "Claude Code".into(),
                command: "claude".into(),
                install: Some("npm install -g @anthropic-ai/claude-code".into()),
                args: Vec::new(),
                interactive: words(&["--session-id", ID]),
                headless: words(&[
                    "-p",
                    "--output-format",
                    "stream-json",
                    "--verbose",
                    "--session-id",
                    ID,
                ]),
                resume_interactive: Some(words(&["--resume", ID])),
                resume_headless: Some(words(&[
                    "-p",
                    "--output-format",
                    "stream-json",
                    "--verbose",
                    "--resume",
                    ID,
                ])),
                interactive_prompt: Prompt::Argument,
                headless_prompt: Prompt::Stdin,
                allowed_tools: Some(format!("--allowedTools={TOOLS}")),
                disallowed_tools: Some(format!("--disallowedTools={TOOLS}")),
                hooks: Hooks::ClaudeSettings,
                exit_codes: &[],
            },
            // `codex [PROMPT]`, `codex resume <id> [PROMPT]`; headless
            // `codex exec --json -` (the prompt on stdin), `codex exec resume
            // --json <id> -`. Codex names the thread itself: its id comes
            // from `thread.started` (headless) or the notify call (tmux).
            "codex" => Profile {
                name: name.into(),
                title: "OpenAI Codex CLI".into(),
                command: "codex".into(),
                install: Some("npm install -g @openai/codex".into()),
                args: Vec::new(),
                interactive: Vec::new(),
                headless: words(&["exec", ARGS, "--json", "--skip-git-repo-check", "-"]),
                resume_interactive: Some(words(&["resume", ARGS, ID])),
                resume_headless: Some(words(&[
                    "exec",
                    "resume",
                    ARGS,
                    "--json",
                    "--skip-git-repo-check",
                    ID,
                    "-",
                ])),
                interactive_prompt: Prompt::Argument,
                headless_prompt: Prompt::Stdin,
                allowed_tools: None,
                disallowed_tools: None,
                hooks: Hooks::CodexNotify,
                exit_codes: &[],
            },
            // `gemini --session-id <id> --prompt-interactive=<prompt>`;
            // headless `gemini --output-format stream-json --skip-trust
            // --session-id <id>` with the prompt on stdin (a piped stdin is
            // headless; an untrusted folder would end it with exit 55, and a
            // task's fresh worktree is never on Gemini's trusted list); resume
            // with `--resume <id>`.
            "gemini" => Profile {
                name: name.into(),
                title: "Gemini CLI".into(),
                command: "gemini".into(),
                install: Some("npm install -g @google/gemini-cli".into()),
                args: Vec::new(),
                interactive: words(&["--session-id", ID]),
                headless: words(&[
                    "--output-format",
                    "stream-json",
                    "--skip-trust",
                    "--session-id",
                    ID,
                ]),
                resume_interactive: Some(words(&["--resume", ID])),
                resume_headless: Some(words(&[
                    "--output-format",
                    "stream-json",
                    "--skip-trust",
                    "--resume",
                    ID,
                ])),
                interactive_prompt: Prompt::Joined("--prompt-interactive=".into()),
                headless_prompt: Prompt::Stdin,
                allowed_tools: None,
                disallowed_tools: None,
                hooks: Hooks::None,
                // packages/core/src/utils/errors.ts and docs/cli/headless.md.
                exit_codes: &[
                    (41, "authentication error"),
                    (42, "input error: invalid prompt or arguments"),
                    (44, "sandbox error"),
                    (52, "configuration error"),
                    (53, "turn limit exceeded"),
                    (54, "tool execution error"),
                    (55, "the folder is not trusted"),
                    (130, "cancelled"),
                ],
            },
            _ => return None,
        };
        Some(profile)
    }

    /// A profile from `[agents.<name>]`: the built-in of that name (or a
    /// bare one) with the configured keys in place of its own.
    fn configured(name: &str, config: &ProfileConfig, key: &str) -> Result<Profile> {
        let mut profile = Profile::built_in(name).unwrap_or_else(|| Profile {
            name: name.into(),
            title: name.into(),
            command: String::new(),
            install: None,
            args: Vec::new(),
            interactive: Vec::new(),
            headless: Vec::new(),
            resume_interactive: None,
            resume_headless: None,
            interactive_prompt: Prompt::Argument,
            headless_prompt: Prompt::Stdin,
            allowed_tools: None,
            disallowed_tools: None,
            hooks: Hooks::None,
            exit_codes: &[],
        });
        let prompt = |value: &Option<String>, field: &str, current: &Prompt| -> Result<Prompt> {
            match value {
                None => Ok(current.clone()),
                Some(text) => match Prompt::parse(text) {
                    Some(prompt) => Ok(prompt),
                    None => bail_input!(
                        "{key}.{field} must be \"stdin\", \"argument\" or a flag ending with `=` (\"--message=\"), not {text:?}"
                    ),
                },
            }
        };
        if let Some(command) = &config.command {
            profile.command = command.clone();
        }
        if profile.command.trim().is_empty() {
            bail_input!("{key} needs a command (the agent's program)");
        }
        if let Some(install) = &config.install {
            profile.install = Some(install.clone());
        }
        profile.args.extend(config.args.iter().cloned());
        if let Some(args) = &config.interactive {
            profile.interactive = args.clone();
        }
        if let Some(args) = &config.headless {
            profile.headless = args.clone();
        }
        if let Some(args) = &config.resume_interactive {
            profile.resume_interactive = Some(args.clone());
        }
        if let Some(args) = &config.resume_headless {
            profile.resume_headless = Some(args.clone());
        }
        profile.interactive_prompt = prompt(
            &config.interactive_prompt,
            "interactive-prompt",
            &profile.interactive_prompt,
        )?;
        profile.headless_prompt = prompt(
            &config.headless_prompt,
            "headless-prompt",
            &profile.headless_prompt,
        )?;
        for (value, field, slot) in [
            (
                &config.allowed_tools,
                "allowed-tools",
                &mut profile.allowed_tools,
            ),
            (
                &config.disallowed_tools,
                "disallowed-tools",
                &mut profile.disallowed_tools,
            ),
        ] {
            if let Some(template) = value {
                if !template.contains(TOOLS) {
                    bail_input!(
                        "{key}.{field} must hold {TOOLS}, where the list goes: {template:?}"
                    );
                }
                *slot = Some(template.clone());
            }
        }
        Ok(profile)
    }

    /// The profile called `name`: configured, else built in.
    pub fn named(config: &Config, name: &str) -> Result<Profile> {
        if let Some(settings) = config.agents.get(name) {
            let key = config.describe(&format!("[agents.{name}]"));
            return Profile::configured(name, settings, &key);
        }
        match Profile::built_in(name) {
            Some(profile) => Ok(profile),
            None => {
                let mut known: Vec<&str> = BUILT_IN.to_vec();
                known.extend(config.agents.keys().map(String::as_str));
                bail_input!(
                    "no agent called {}: the agents are {} (describe others in [agents.<name>] of .tasks/.config/scopecraft-tmux.toml)",
                    crate::names::quoted(name),
                    known.join(", ")
                )
            }
        }
    }

    /// Whether a new conversation gets an id we choose (`{id}` in its
    /// arguments); otherwise the agent reports the one it made.
    pub fn names_new_conversations(&self) -> bool {
        self.interactive
            .iter()
            .chain(&self.headless)
            .any(|a| a.contains(ID))
    }

    /// Whether the agent can resume a conversation in this style.
    pub fn can_resume(&self, style: Style) -> bool {
        match style {
            Style::Interactive => self.resume_interactive.is_some(),
            Style::Headless => self.resume_headless.is_some(),
        }
    }

    /// What an exit code means for this agent, when documented.
    pub fn exit_meaning(&self, code: i32) -> Option<&'static str> {
        self.exit_codes
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, meaning)| *meaning)
    }
}

/// What an exit code of agent `name` means, when its profile says.
pub fn exit_meaning(name: &str, code: i32) -> Option<&'static str> {
    Profile::built_in(name)?.exit_meaning(code)
}

/// A resolved agent: its profile, the program (an absolute path, or for a
/// container a name looked up there) and the arguments configured for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub profile: Profile,
    pub program: PathBuf,
    pub base_args: Vec<String>,
}

/// How the agent is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// In a terminal (tmux).
    Interactive,
    /// Headless: machine-readable output on stdout.
    Headless,
}

/// Which conversation: a new one (with an id we chose, when the agent
/// takes one), or resuming one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conversation {
    New(Option<String>),
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
    /// The hooks' arguments ([`Agent::hook_args`]).
    pub hooks: &'a [String],
}

/// The agent's argv (without the prompt) and how the prompt goes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCommand {
    pub argv: Vec<String>,
    pub prompt_on_stdin: bool,
    /// The prompt is one argument with this prefix (`--prompt-interactive=`).
    pub prompt_prefix: Option<String>,
}

impl Agent {
    /// The agent called `name`; `SCOPECRAFT_AGENT` replaces its command.
    /// The program must exist now, before anything is created.
    pub fn resolve(config: &Config, name: &str) -> Result<Agent> {
        let profile = Profile::named(config, name)?;
        let (program, base_args, source) = command_line(&profile)?;
        let Some(path) = process::find_program(&program) else {
            let install = match &profile.install {
                Some(install) => format!("Install it ({install}), or set"),
                None => "Install it, or set".to_string(),
            };
            bail_input!(
                "the agent `{}` ({}) is not installed: no `{program}` on PATH (from {source}). \
                 {install} {AGENT_ENV}, or its command in [agents.{}] of .tasks/.config/scopecraft-tmux.toml",
                profile.name,
                profile.title,
                profile.name
            );
        };
        Ok(Agent {
            profile,
            program: path,
            base_args,
        })
    }

    /// The same command for a container: the program is looked up on the
    /// image's PATH when it runs, not on ours.
    pub fn in_container(config: &Config, name: &str) -> Result<Agent> {
        let profile = Profile::named(config, name)?;
        let (program, base_args, _) = command_line(&profile)?;
        Ok(Agent {
            profile,
            program: PathBuf::from(program),
            base_args,
        })
    }

    /// The arguments that install the agent's hooks, which call our
    /// executable `exe` with the session's `record`.
    pub fn hook_args(&self, exe: &Path, record: &Path) -> Vec<String> {
        match self.profile.hooks {
            Hooks::ClaudeSettings => vec!["--settings".into(), claude_hook_settings(exe, record)],
            Hooks::CodexNotify => vec!["-c".into(), codex_notify(exe, record)],
            Hooks::None => Vec::new(),
        }
    }

    /// The full argv without the prompt, and how the prompt goes.
    pub fn argv(&self, invocation: &Invocation<'_>, has_prompt: bool) -> AgentCommand {
        let profile = &self.profile;
        let (template, id) = match (invocation.style, invocation.conversation) {
            (Style::Interactive, Conversation::New(id)) => (&profile.interactive, id.as_deref()),
            (Style::Headless, Conversation::New(id)) => (&profile.headless, id.as_deref()),
            (Style::Interactive, Conversation::Resume(id)) => (
                profile
                    .resume_interactive
                    .as_ref()
                    .unwrap_or(&profile.interactive),
                Some(id.as_str()),
            ),
            (Style::Headless, Conversation::Resume(id)) => (
                profile
                    .resume_headless
                    .as_ref()
                    .unwrap_or(&profile.headless),
                Some(id.as_str()),
            ),
        };
        let mut argv = vec![self.program.to_string_lossy().into_owned()];
        if !template.iter().any(|t| t == ARGS) {
            argv.extend(self.base_args.iter().cloned());
        }
        for word in template {
            if word == ARGS {
                argv.extend(self.base_args.iter().cloned());
            } else if word.contains(ID) {
                // A template naming an id the conversation lacks loses the
                // argument (`--session-id {id}` without an id: both words).
                match id {
                    Some(id) => argv.push(word.replace(ID, id)),
                    None => {
                        if argv.last().is_some_and(|a| a.starts_with('-')) {
                            argv.pop();
                        }
                    }
                }
            } else {
                argv.push(word.clone());
            }
        }
        for (template, tools) in [
            (&profile.allowed_tools, invocation.allowed_tools),
            (&profile.disallowed_tools, invocation.disallowed_tools),
        ] {
            if let (Some(template), false) = (template, tools.is_empty()) {
                argv.push(template.replace(TOOLS, &tools.join(",")));
            }
        }
        argv.extend(invocation.hooks.iter().cloned());
        argv.extend(invocation.extra_args.iter().cloned());
        let prompt = match invocation.style {
            Style::Interactive => &profile.interactive_prompt,
            Style::Headless => &profile.headless_prompt,
        };
        let (prompt_on_stdin, prompt_prefix) = match prompt {
            Prompt::Stdin => (true, None),
            Prompt::Argument => {
                if has_prompt {
                    argv.push("--".to_string());
                }
                (false, None)
            }
            Prompt::Joined(flag) => (false, Some(flag.clone())),
        };
        AgentCommand {
            argv,
            prompt_on_stdin,
            prompt_prefix,
        }
    }

    /// Whether the agent takes the mode's tool lists.
    pub fn takes_tool_lists(&self) -> bool {
        self.profile.allowed_tools.is_some() || self.profile.disallowed_tools.is_some()
    }
}

/// The Claude Code hook events whose input tells the books what the agent
/// does (see `hook::interpret`), and whether each takes a tool matcher.
/// Not SubagentStart or SubagentStop: a subagent's end is not the lead's.
const CLAUDE_HOOK_EVENTS: [(&str, bool); 10] = [
    ("SessionStart", false),
    ("UserPromptSubmit", false),
    ("PreToolUse", true),
    ("PostToolUse", true),
    ("PostToolUseFailure", true),
    ("PermissionRequest", true),
    ("Notification", false),
    ("Stop", false),
    ("StopFailure", false),
    ("SessionEnd", false),
];

/// Claude Code settings (`--settings`) whose hooks report every state
/// change of an interactive agent to the books: one command for every
/// event, which reads the event from its stdin. Claude Code runs hook
/// commands with a shell: the command holds only our executable and the
/// record's path, both quoted.
pub fn claude_hook_settings(exe: &Path, record: &Path) -> String {
    let command = format!(
        "{} __hook {}",
        shell_words::quote(&exe.to_string_lossy()),
        shell_words::quote(&record.to_string_lossy())
    );
    let mut hooks = serde_json::Map::new();
    for (event, takes_matcher) in CLAUDE_HOOK_EVENTS {
        let mut entry = serde_json::json!({ "hooks": [{
            "type": "command",
            "command": command,
            "timeout": 10,
        }]});
        if takes_matcher {
            entry["matcher"] = serde_json::Value::String("*".into());
        }
        hooks.insert(event.to_string(), serde_json::json!([entry]));
    }
    serde_json::json!({ "hooks": hooks }).to_string()
}

/// Codex CLI's `notify` setting for `-c`: after every turn Codex runs the
/// program (no shell) with the turn's JSON appended as the last argument
/// (`{"type":"agent-turn-complete","thread-id":…}`), which our `__hook`
/// reads for the waiting state and the thread id. The value is TOML; a
/// JSON array of strings is one.
pub fn codex_notify(exe: &Path, record: &Path) -> String {
    let argv = [
        exe.to_string_lossy().into_owned(),
        "__hook".to_string(),
        record.to_string_lossy().into_owned(),
        "waiting".to_string(),
    ];
    format!("notify={}", serde_json::json!(argv))
}

/// The profile's command line, or `SCOPECRAFT_AGENT`: the program, its
/// arguments (with the profile's `args` after them), and where it came from.
fn command_line(profile: &Profile) -> Result<(String, Vec<String>, String)> {
    let (line, source) = match std::env::var(AGENT_ENV) {
        Ok(line) if !line.trim().is_empty() => (line, AGENT_ENV.to_string()),
        _ => (
            profile.command.clone(),
            format!("the {} profile", profile.name),
        ),
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
    words.extend(profile.args.iter().cloned());
    Ok((name, words, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> Agent {
        Agent {
            profile: Profile::built_in("claude").unwrap(),
            program: PathBuf::from("/usr/bin/claude"),
            base_args: vec!["--model".into(), "sonnet".into()],
        }
    }

    fn bare(name: &str) -> Agent {
        Agent {
            profile: Profile::built_in(name).unwrap(),
            program: PathBuf::from(name),
            base_args: Vec::new(),
        }
    }

    #[test]
    fn interactive_new_conversation() {
        let conversation = Conversation::New(Some("11111111-1111-4111-8111-111111111111".into()));
        let command = agent().argv(
            &Invocation {
                style: Style::Interactive,
                conversation: &conversation,
                allowed_tools: &["Read".into(), "Bash(git log:*)".into()],
                disallowed_tools: &["WebFetch".into()],
                extra_args: &["--permission-mode".into(), "plan".into()],
                hooks: &[],
            },
            true,
        );
        assert!(!command.prompt_on_stdin);
        assert_eq!(command.prompt_prefix, None);
        assert_eq!(
            command.argv,
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
        let command = agent().argv(
            &Invocation {
                style: Style::Headless,
                conversation: &conversation,
                allowed_tools: &[],
                disallowed_tools: &[],
                extra_args: &[],
                hooks: &[],
            },
            true,
        );
        assert!(command.prompt_on_stdin);
        assert_eq!(
            command.argv,
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

    fn argv(
        agent: &Agent,
        style: Style,
        conversation: &Conversation,
        hooks: &[String],
    ) -> AgentCommand {
        agent.argv(
            &Invocation {
                style,
                conversation,
                allowed_tools: &["Read".into()],
                disallowed_tools: &[],
                extra_args: &["--model".into(), "o3".into()],
                hooks,
            },
            true,
        )
    }

    #[test]
    fn codex_runs_exec_headless_and_resume_by_thread_id() {
        let mut codex = bare("codex");
        codex.base_args = vec!["-c".into(), "sandbox_mode=\"workspace-write\"".into()];
        let hooks = codex.hook_args(Path::new("/bin/sct"), Path::new("/b/x.info.json"));
        let new = argv(&codex, Style::Interactive, &Conversation::New(None), &hooks);
        assert_eq!(
            new.argv,
            [
                "codex",
                "-c",
                "sandbox_mode=\"workspace-write\"",
                "-c",
                r#"notify=["/bin/sct","__hook","/b/x.info.json","waiting"]"#,
                "--model",
                "o3",
                "--",
            ],
            "no tool list: Codex takes none"
        );
        let resume = argv(
            &codex,
            Style::Interactive,
            &Conversation::Resume("t-1".into()),
            &[],
        );
        assert_eq!(
            resume.argv,
            [
                "codex",
                "resume",
                "-c",
                "sandbox_mode=\"workspace-write\"",
                "t-1",
                "--model",
                "o3",
                "--"
            ]
        );
        let headless = argv(&codex, Style::Headless, &Conversation::New(None), &[]);
        assert!(headless.prompt_on_stdin);
        assert_eq!(
            headless.argv,
            [
                "codex",
                "exec",
                "-c",
                "sandbox_mode=\"workspace-write\"",
                "--json",
                "--skip-git-repo-check",
                "-",
                "--model",
                "o3",
            ]
        );
        let resumed = argv(
            &codex,
            Style::Headless,
            &Conversation::Resume("t-1".into()),
            &[],
        );
        assert_eq!(
            resumed.argv[..8],
            [
                "codex",
                "exec",
                "resume",
                "-c",
                "sandbox_mode=\"workspace-write\"",
                "--json",
                "--skip-git-repo-check",
                "t-1"
            ]
        );
        assert!(!codex.profile.names_new_conversations());
    }

    #[test]
    fn gemini_takes_our_session_id_and_the_prompt_joined_to_its_flag() {
        let gemini = bare("gemini");
        let new = argv(
            &gemini,
            Style::Interactive,
            &Conversation::New(Some("u-1".into())),
            &[],
        );
        assert_eq!(new.argv, ["gemini", "--session-id", "u-1", "--model", "o3"]);
        assert_eq!(new.prompt_prefix.as_deref(), Some("--prompt-interactive="));
        let headless = argv(
            &gemini,
            Style::Headless,
            &Conversation::Resume("u-1".into()),
            &[],
        );
        assert!(headless.prompt_on_stdin);
        assert_eq!(
            headless.argv,
            [
                "gemini",
                "--output-format",
                "stream-json",
                "--skip-trust",
                "--resume",
                "u-1",
                "--model",
                "o3"
            ]
        );
        assert!(gemini.profile.names_new_conversations());
        assert_eq!(gemini.profile.exit_meaning(53), Some("turn limit exceeded"));
        assert_eq!(
            exit_meaning("gemini", 42),
            Some("input error: invalid prompt or arguments")
        );
        assert_eq!(exit_meaning("claude", 42), None);
    }

    #[test]
    fn a_configured_profile_changes_a_built_in_or_describes_another() {
        let config: Config = toml::from_str(
            r#"
            agent = "aider"
            [agents.codex]
            args = ["-m", "o3"]
            [agents.aider]
            command = "aider --no-pretty"
            install = "python -m pip install aider-install && aider-install"
            headless = ["--yes-always"]
            headless-prompt = "--message="
            interactive-prompt = "--message="
            "#,
        )
        .unwrap();
        assert_eq!(config.agent_for("x").0, "aider");
        let codex = Profile::named(&config, "codex").unwrap();
        assert_eq!(codex.args, ["-m", "o3"]);
        assert_eq!(codex.hooks, Hooks::CodexNotify);
        let aider = Profile::named(&config, "aider").unwrap();
        assert_eq!(aider.headless_prompt, Prompt::Joined("--message=".into()));
        let agent = Agent {
            profile: aider,
            program: PathBuf::from("aider"),
            base_args: vec!["--no-pretty".into()],
        };
        let command = argv(&agent, Style::Headless, &Conversation::New(None), &[]);
        assert_eq!(
            command.argv,
            ["aider", "--no-pretty", "--yes-always", "--model", "o3"]
        );
        assert!(!command.prompt_on_stdin);
        let err = Profile::named(&config, "nope").unwrap_err().to_string();
        assert!(err.contains("claude, codex, gemini, aider"), "{err}");
        let bad: Config =
            toml::from_str("[agents.x]\ncommand = \"x\"\nheadless-prompt = \"file\"").unwrap();
        let err = Profile::named(&bad, "x").unwrap_err().to_string();
        assert!(err.contains("headless-prompt"), "{err}");
    }

    #[test]
    fn the_agent_table_still_sets_claudes_command() {
        let mut config: Config =
            toml::from_str("[agent]\ncommand = \"/opt/claude\"\nargs = [\"--model\", \"sonnet\"]")
                .unwrap();
        config.fold_agent_table_for_tests();
        let claude = Profile::named(&config, "claude").unwrap();
        assert_eq!(claude.command, "/opt/claude");
        assert_eq!(claude.args, ["--model", "sonnet"]);
        assert_eq!(config.agent_for("x").0, "claude");
    }

    /// Whether `flag` is listed in a `--help` text: as a word at the start
    /// of an option line (`-p, --prompt`, `--allowedTools, --allowed-tools`).
    fn listed(help: &str, flag: &str) -> bool {
        help.lines().any(|line| {
            line.trim_start().starts_with('-')
                && line
                    .trim_start()
                    .split([',', ' ', '<', '='])
                    .any(|word| word == flag)
        })
    }

    /// Every flag `argv` can produce for `agent`, in every style and
    /// conversation, with hooks and tool lists, checked against the `--help`
    /// of the real CLI that reads it (the subcommand's own when there is one).
    fn check_flags(agent: &Agent, help_for: impl Fn(&[String]) -> &'static str) -> usize {
        let tools = ["Read".to_string()];
        let hooks = agent.hook_args(Path::new("/x"), Path::new("/r"));
        let mut checked = 0;
        for style in [Style::Interactive, Style::Headless] {
            for conversation in [
                Conversation::New(Some("u".into())),
                Conversation::Resume("u".into()),
            ] {
                let hooks: &[String] = if style == Style::Interactive {
                    &hooks
                } else {
                    &[]
                };
                let command = agent.argv(
                    &Invocation {
                        style,
                        conversation: &conversation,
                        allowed_tools: &tools,
                        disallowed_tools: &tools,
                        extra_args: &[],
                        hooks,
                    },
                    true,
                );
                let help = help_for(&command.argv);
                let mut flags: Vec<String> = command.argv[1..]
                    .iter()
                    .filter(|a| a.starts_with('-') && *a != "--" && *a != "-")
                    .map(|a| a.split('=').next().unwrap().to_string())
                    .collect();
                flags.extend(
                    command
                        .prompt_prefix
                        .iter()
                        .map(|p| p.trim_end_matches('=').to_string()),
                );
                for flag in flags {
                    assert!(
                        listed(help, &flag),
                        "`{flag}` is not in {}'s --help",
                        agent.profile.name
                    );
                    checked += 1;
                }
            }
        }
        checked
    }

    /// Claude Code (tests/fixtures/claude-code, refreshed by
    /// scripts/agent-help.sh).
    #[test]
    fn every_flag_we_pass_exists_in_claude_codes_help() {
        let help = include_str!("../tests/fixtures/claude-code/help.txt");
        assert!(check_flags(&bare("claude"), |_| help) >= 16);
        assert!(
            help.contains("\"stream-json\""),
            "stream-json is a listed output format"
        );
        // The check can fail: a flag Claude Code lacks, or part of one.
        assert!(!listed(help, "--json") && !listed(help, "--allowed"));
    }

    /// Codex CLI: `codex`, `codex resume`, `codex exec`, `codex exec resume`
    /// each have their own options (tests/fixtures/codex).
    #[test]
    fn every_flag_we_pass_exists_in_codexs_help() {
        let help = |argv: &[String]| match (
            argv.get(1).map(String::as_str),
            argv.get(2).map(String::as_str),
        ) {
            (Some("exec"), Some("resume")) => {
                include_str!("../tests/fixtures/codex/exec-resume-help.txt")
            }
            (Some("exec"), _) => include_str!("../tests/fixtures/codex/exec-help.txt"),
            (Some("resume"), _) => include_str!("../tests/fixtures/codex/resume-help.txt"),
            _ => include_str!("../tests/fixtures/codex/help.txt"),
        };
        assert_eq!(check_flags(&bare("codex"), help), 6);
        let top = include_str!("../tests/fixtures/codex/help.txt");
        for command in ["exec", "resume"] {
            assert!(
                top.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{command} "))),
                "`codex {command}` is a listed command"
            );
        }
        let exec = include_str!("../tests/fixtures/codex/exec-help.txt");
        assert!(
            exec.contains("resume"),
            "`codex exec resume` is a listed command"
        );
        assert!(
            exec.contains("instructions are read from stdin"),
            "`-` reads the prompt from stdin"
        );
        let resume = include_str!("../tests/fixtures/codex/exec-resume-help.txt");
        assert!(
            resume.contains("[SESSION_ID] [PROMPT]"),
            "resume takes the id, then the prompt"
        );
    }

    /// Gemini CLI (tests/fixtures/gemini).
    #[test]
    fn every_flag_we_pass_exists_in_geminis_help() {
        let help = include_str!("../tests/fixtures/gemini/help.txt");
        assert_eq!(check_flags(&bare("gemini"), |_| help), 10);
        assert!(
            help.contains("\"stream-json\""),
            "stream-json is a listed output format"
        );
    }
}
