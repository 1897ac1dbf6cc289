//! Every command-line type: subcommands, their flags and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::books::ExecType;
use crate::terminal::Gui;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (a program we ran failed, a file could not be written, …)
  2  bad usage or bad input (unknown task or mode, bad id, invalid --data, …)";

#[derive(Debug, Parser)]
#[command(
    name = "scopecraft-tmux",
    version,
    about = "Run AI coding agents on the tasks of a Scopecraft project, in tmux windows, headless or in Docker",
    after_help = EXIT_CODES,
    max_term_width = 100
)]
pub struct Cli {
    /// The project directory (default: found by walking up from the current directory to the one holding .tasks/)
    #[arg(long, global = true, value_name = "DIR")]
    pub project: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the project's tasks (both Scopecraft formats, every folder)
    Tasks(TasksArgs),
    /// List the modes a task can be run in
    Modes(ModesArgs),
    /// Print the composed prompt for a task; runs nothing
    #[command(after_help = EXIT_CODES)]
    Prompt(PromptArgs),
    /// Start an agent on a task: in a tmux window (default), headless, or in Docker
    #[command(after_help = DISPATCH_HELP)]
    Dispatch(DispatchArgs),
    /// Run the agent on a task in the foreground of this terminal (no tmux needed); exits with its code
    #[command(after_help = WORK_HELP)]
    Work(WorkArgs),
    /// Turn a headless run into a tmux window on the same conversation (the headless agent is stopped)
    #[command(after_help = TAKEOVER_HELP)]
    Takeover(TakeoverArgs),
    /// List sessions: what runs, where, how it ended
    List(ListArgs),
    /// Show one task's session(s)
    Status(StatusArgs),
    /// Switch to (inside tmux) or attach to (outside) a session's window
    Attach(AttachArgs),
    /// Stop a running session: the agent is ended and the session recorded as stopped
    Stop(SessionArgs),
    /// Show a session's output: a headless run's stream rendered for people, a tmux run's text
    #[command(after_help = LOGS_HELP)]
    Logs(LogsArgs),
    /// What a task's branch changed since it left its base, and what its worktree has not committed
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Bring a task's branch into its base branch in the main checkout (a merge commit by default)
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
    /// The tasks' git worktrees: list them, remove those no session uses
    #[command(subcommand, after_help = WORKTREE_HELP)]
    Worktree(WorktreeCommand),
    /// Record what an interactive agent does, from Claude Code's hook input on stdin (not for direct use)
    #[command(name = "__hook", hide = true)]
    Hook(HookArgs),
    /// The tmux plugin's menu: dispatch, attach, stop, logs, resume (the plugin's key runs this)
    #[command(after_help = MENU_HELP)]
    Menu(MenuArgs),
    /// Switch to the run that has waited longest for you (waiting or blocked); again: the next one
    #[command(after_help = NEXT_HELP)]
    Next(NextArgs),
    /// Serve the HTTP API and the web page on 127.0.0.1 (every request needs the printed token)
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),
    /// Print the sessions by state (`● 2 ✗ 1`) from the books, for `#(…)` in a tmux status line
    #[command(name = "status-line", after_help = STATUS_LINE_HELP)]
    StatusLine(StatusLineArgs),
    /// Supervise one run (started by `dispatch`; not for direct use)
    #[command(name = "__supervise", hide = true)]
    Supervise(SuperviseArgs),
}

const SERVE_HELP: &str = "\
Listens on 127.0.0.1 only and prints the page's address with its token as the
first line (http://127.0.0.1:PORT/?token=…). The token is kept in
$SCOPECRAFT_HOME/serve.token (mode 0600); API clients send it as
`Authorization: Bearer TOKEN`, the page gets it as an HttpOnly cookie.
Requests naming another Host, and state-changing or WebSocket requests from
another Origin, are refused. One server serves every project under
$SCOPECRAFT_HOME: the current one by default, another with ?project=ID
(GET /projects lists them). The API is described at /openapi.json.
Ends on Ctrl-C or SIGTERM; runs it started keep running.

Examples:
  scopecraft-tmux serve --open           # the page in the browser
  scopecraft-tmux serve --port 0         # any free port
  curl -H \"Authorization: Bearer $(cat ~/.scopecraft/serve.token)\" \\
    http://127.0.0.1:7317/sessions";

const DISPATCH_HELP: &str = "\
Examples:
  # the default mode (auto), in the tmux window scopecraft:fix-login-05A-auto
  scopecraft-tmux dispatch fix-login-05A
  scopecraft-tmux dispatch fix-login-05A -m implementation -i 'Keep it small'
  # headless; follow it with `logs -f`
  scopecraft-tmux dispatch fix-login-05A --exec detached
  scopecraft-tmux dispatch fix-login-05A -m code-review --exec detached \\
    --save-to review.md
  # in docker.image, the working tree at /workspace
  scopecraft-tmux dispatch fix-login-05A --exec docker
  # the conversation of the task's earlier run, told what to do next
  scopecraft-tmux dispatch fix-login-05A --continue -i 'Now add tests'
  # arguments after -- go to the agent
  scopecraft-tmux dispatch fix-login-05A -- --model sonnet
  scopecraft-tmux dispatch fix-login-05A --no-worktree  # in the main checkout
  scopecraft-tmux dispatch fix-login-05A --agent codex  # Codex, not Claude Code
  scopecraft-tmux dispatch fix-login-05A --attach       # and go to its window

In a git repository the agent works in the task's worktree: branch task/<id> in
../<repo>.worktrees/<id> (a subtask uses its parent's id, so subtasks share
their parent's worktree), made on first use, reused after; `worktree clean`
removes it (see `worktree --help`).

The agent is Claude Code (`claude`) unless --agent, or `agent` for the mode or
the project in .tasks/.config/scopecraft-tmux.toml, names another: codex (Codex
CLI), gemini (Gemini CLI), or a profile described in [agents.<name>].
SCOPECRAFT_AGENT replaces the program of whichever agent runs. Headless runs
(detached, docker) ask for machine-readable output (`claude -p --output-format
stream-json --verbose`, `codex exec --json -`, `gemini --output-format
stream-json`) with the prompt on stdin and write the stream to the session's
log. --continue resumes the recorded conversation with the agent that ran
(`claude --resume <id>`, `codex resume <id>`, `gemini --resume <id>`) in any
exec type, the new instructions as its prompt.

--attach goes to the run once it has started (or to the one already running):
inside tmux the client switches to its window, outside tmux this terminal
attaches to it, and --attach=terminal opens a GUI terminal on it (as `attach
--terminal`). A headless run has no window: --attach follows its log as `logs
-f` does (and exits as that does), --attach=terminal opens `logs -f` in a GUI
terminal. Outside tmux, --attach needs a terminal; without one nothing starts.

Exit codes:
  0  success (also when the session was already running and got focused)
  1  failure (a program we ran failed, a file could not be written, …)
  2  bad usage or bad input (unknown task or mode, malformed id, invalid --data,
     no tmux or tmux older than 3.0, an unknown agent or one not installed, no
     docker or no Docker engine answering for --exec docker, nothing to
     --continue, --attach with no terminal, …)
  3  --attach on a headless run: it was stopped (4: interrupted; 1: failed)";

const LOGS_HELP: &str = "\
A headless or Docker run's log is the agent's stream (Claude Code's or Gemini's
stream-json, Codex's exec --json); logs shows the assistant's text, one line per
tool call (→ Bash: cargo test), tool errors (✗), and the result with turns,
duration and cost, or tokens. Lines that are not JSON (the agent's stderr) are
shown as they are, without escape sequences.

A tmux run of Claude Code, once ended, shows its conversation the same way
(copied from Claude Code's transcript into the run's log). While it runs, and
with --terminal (or for an agent without a transcript), it shows the window's
text as tmux renders it (capture-pane) while the window is open, else the
terminal output recorded with escape sequences removed. -f follows the
recorded terminal output; `attach` gives the live view. A continued session
shows each of its runs in turn.

Examples:
  scopecraft-tmux logs fix-login-05A -f
  scopecraft-tmux logs fix-login-05A --mode code-review --raw \\
    | jq -c 'select(.type == \"result\")'

Exit codes:
  0  success; with -f: the run completed (exit 0)
  1  failure; with -f: the run failed (non-zero exit or a signal)
  2  bad usage or bad input (no such session, malformed id, …)
  3  with -f: the run was stopped
  4  with -f: the run was interrupted (its process or window vanished)";

#[derive(Debug, Args)]
pub struct TasksArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// Only tasks with this status (todo, in_progress, done, blocked, reviewing, archived, or one
    /// the project's tasks use; emoji and case are ignored)
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// Only tasks of this type (feature, bug, chore, documentation, test, spike, idea, or one the
    /// project's tasks use)
    #[arg(long = "type", value_name = "T")]
    pub kind: Option<String>,
}

#[derive(Debug, Args)]
pub struct ModesArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// What selects and shapes a prompt; shared by `prompt` and `dispatch`.
#[derive(Debug, Args, Clone)]
pub struct PromptInput {
    /// The task id, as `scopecraft-tmux tasks` shows it
    pub task: String,
    /// The mode: `auto`, a name (`implementation`), or a path below .tasks/.modes (`implementation/code_review`)
    /// [default: the project's default-mode, else auto]
    #[arg(short, long, value_name = "M")]
    pub mode: Option<String>,
    /// Extra instructions appended to the prompt (at most 64 KiB)
    #[arg(short, long, value_name = "TEXT")]
    pub instructions: Option<String>,
    /// Template variables as a JSON object, e.g. '{"feature_description": "…"}' (at most 64 KiB)
    #[arg(long, value_name = "JSON")]
    pub data: Option<String>,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    #[command(flatten)]
    pub input: PromptInput,
    /// Print JSON: the prompt, the files used, the data, allowedTools and disallowedTools
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DispatchArgs {
    #[command(flatten)]
    pub input: PromptInput,
    /// Where the agent runs [default: tmux, or the configured exec for the project or mode]
    #[arg(short, long, value_enum, value_name = "E")]
    pub exec: Option<ExecType>,
    /// Resume the recorded agent conversation of this task: its one session, or with several the
    /// one of --mode (with --instructions as the new prompt)
    #[arg(long = "continue")]
    pub resume: bool,
    /// Print the tmux commands and the agent's argv that would run; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Headless runs: write the final result text to FILE when the run ends (successfully)
    /// [default: modes.<mode>.save-to in the configuration]
    #[arg(long, value_name = "FILE")]
    pub save_to: Option<PathBuf>,
    /// The tmux session for the window [default: scopecraft, or tmux.session in the configuration]
    #[arg(long, value_name = "NAME")]
    pub session: Option<String>,
    /// Run the agent in the main checkout instead of the task's git worktree
    #[arg(long)]
    pub no_worktree: bool,
    /// The agent: claude, codex, gemini, or a profile in [agents.<name>] of the configuration
    /// [default: the mode's agent, else the project's, else claude]
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Arguments passed to the agent as they are
    #[arg(last = true, value_name = "AGENT ARGS")]
    pub agent_args: Vec<String>,
    /// Once started (or found running), go to it: switch to its window (inside tmux), attach this
    /// terminal (outside), or with =terminal open a GUI terminal on it; a headless run is followed
    /// (`logs -f`)
    #[arg(
        long,
        value_enum,
        value_name = "WHERE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "here",
        conflicts_with = "dry_run"
    )]
    pub attach: Option<AttachTo>,
}

/// Where `--attach` shows a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AttachTo {
    /// This terminal: switch the tmux client, or attach, or follow the log
    Here,
    /// A GUI terminal, as `attach --terminal` opens (a headless run's: `logs -f` in it)
    Terminal,
}

const WORK_HELP: &str = "\
The agent gets the prompt, the worktree and the hooks a tmux dispatch gives it,
but runs here, in this terminal, until it ends; this command is its supervisor
and records the run in the books (`list` and `status` show it as exec
`terminal`, Scopecraft's reader as an interactive session). Ctrl-C reaches the
agent, not us. One run per task and mode: when that task and mode already run
(in tmux, headless or in another terminal) nothing starts.

Examples:
  scopecraft-tmux work fix-login-05A
  scopecraft-tmux work fix-login-05A -m implementation -i 'Keep the diff small'
  scopecraft-tmux work fix-login-05A --agent codex -- --model o3
  scopecraft-tmux work fix-login-05A --continue -i 'Now add the tests'

Exit codes:
  0  the agent exited 0
  1  the agent exited 1, or it could not be started, or the books could not
     be written
  2  bad usage or bad input (unknown task or mode, that task and mode already
     run, an unknown agent or one not installed, …), or the agent exited 2
  3+ the agent's exit code; 128 + N when signal N ended it";

#[derive(Debug, Args)]
pub struct WorkArgs {
    #[command(flatten)]
    pub input: PromptInput,
    /// Resume the recorded agent conversation of this task here: its one session, or with
    /// several the one of --mode (with --instructions as the new prompt)
    #[arg(long = "continue")]
    pub resume: bool,
    /// Run the agent in the main checkout instead of the task's git worktree
    #[arg(long)]
    pub no_worktree: bool,
    /// The agent: claude, codex, gemini, or a profile in [agents.<name>] of the configuration
    /// [default: the mode's agent, else the project's, else claude]
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Arguments passed to the agent as they are
    #[arg(last = true, value_name = "AGENT ARGS")]
    pub agent_args: Vec<String>,
}

const TAKEOVER_HELP: &str = "\
A run started with --exec detached goes on as an interactive tmux window: the
headless agent is stopped at once (its run stays in the session's history,
stopped), and the window resumes the conversation by its id (`claude --resume
<id>`, `codex resume <id>`, `gemini --resume <id>`), where it ran. Refused,
stopping nothing, when nothing runs, the run is not headless (tmux, `work`,
Docker), or the agent has not reported a conversation id yet.

Examples:
  scopecraft-tmux takeover fix-login-05A
  scopecraft-tmux takeover fix-login-05A -m code-review --attach

Exit codes:
  0  success
  1  failure (the run did not stop, tmux failed, …)
  2  bad usage or bad input (see above; no tmux, …)";

#[derive(Debug, Args)]
pub struct TakeoverArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Then go to the window: switch to it (inside tmux), attach (outside), or with =terminal
    /// open a GUI terminal on it
    #[arg(
        long,
        value_enum,
        value_name = "WHERE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "here"
    )]
    pub attach: Option<AttachTo>,
}

/// Which session: a task and, when it has several, the mode.
#[derive(Debug, Args, Clone)]
pub struct SessionArgs {
    /// The task id
    pub task: String,
    /// The mode (needed when the task has sessions in several modes)
    #[arg(short, long, value_name = "M")]
    pub mode: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Keep printing as the log grows until the run ends, then exit with its status (see below)
    #[arg(short, long)]
    pub follow: bool,
    /// Print the log as it was written: stream-json lines, or a tmux run's terminal output
    #[arg(long)]
    pub raw: bool,
    /// A tmux run: what its terminal showed, not its conversation
    #[arg(long)]
    pub terminal: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// Every project's sessions, not only this project's
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Print the record(s) as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Open a GUI terminal attached to the window (auto: WezTerm, iTerm2, Terminal.app,
    /// GNOME Terminal, Konsole, x-terminal-emulator, Windows Terminal, the first found)
    #[arg(long, value_enum, value_name = "T", num_args = 0..=1, default_missing_value = "auto")]
    pub terminal: Option<Gui>,
}

const DIFF_HELP: &str = "\
The base is the branch the worktree was made from (recorded then), else the main
checkout's branch; the branch's changes are shown from where it left the base,
so what the base gained since is not in them. A subtask shares its parent's
worktree and branch: its diff is the parent's.

Colours on a terminal (not with NO_COLOR), plain when piped: pipe into a pager
(`| less -R`) or use the menu's Diff entry.

Exit codes:
  0  success
  1  failure (a git command failed or gave no answer in time)
  2  bad usage or bad input (unknown task, the task has no branch, …)";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The task id (a subtask's diff is its parent's branch)
    pub task: String,
    /// Files and line counts instead of the patch
    #[arg(long)]
    pub stat: bool,
    /// Print JSON: base, fork point, commits, files and the text of each part
    #[arg(long)]
    pub json: bool,
    /// Colours: on a terminal only (auto), or always (for a pager: `| less -R`), or never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

const MERGE_HELP: &str = "\
Merges the task's branch task/<id> into its base (the branch the worktree was
made from, else the main checkout's) in the main checkout: a merge commit by
default, --squash for one commit with the branch's whole change, --rebase for
the branch's commits replayed onto the base (the branch and its worktree move
there too). Git's commit hooks do not run: the commits are made without
touching any checkout, then the base is fast-forwarded to them.

It refuses, changing nothing, when the main checkout has uncommitted changes
(or an untracked or ignored file where the branch brings one) or is on another
branch, the worktree has uncommitted work, a run of the task (or of a subtask
sharing its worktree) is live, or the merge would conflict (the files are
named; checked with git merge-tree first). The merge is recorded in
the books; `worktree clean` then removes the worktree and branch.

Exit codes:
  0  merged, or nothing to merge
  1  failure (a git command failed or gave no answer in time)
  2  refused (see above), bad usage or bad input";

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The task id (a subtask merges its parent's branch, which its siblings share)
    pub task: String,
    /// One new commit on the base with the branch's whole change
    #[arg(long, conflicts_with = "rebase")]
    pub squash: bool,
    /// Replay the branch's commits onto the base, then fast-forward the base
    #[arg(long)]
    pub rebase: bool,
    /// The message of the merge or squash commit [default: "Merge task/<id>: <title>"]
    #[arg(short, long, value_name = "TEXT", conflicts_with = "rebase")]
    pub message: Option<String>,
    /// Print what happened as JSON
    #[arg(long)]
    pub json: bool,
}

const WORKTREE_HELP: &str = "\
Each task environment (a task, or the parent of subtasks) has a worktree on the
branch task/<id>, by default in ../<repo>.worktrees/<id> beside the main
checkout; [worktree] dir = \"…\" and enabled = false in
.tasks/.config/scopecraft-tmux.toml change that.

`clean` never loses work without --force: it keeps a worktree that has
uncommitted changes (untracked files included), edits hidden by
--assume-unchanged or --skip-worktree, ignored files that are not build output
(.env, notes), or commits on no other branch, no remote and not in the base
branch, and says which. Work that landed in the base counts as there: merged,
cherry-picked, rebased or squash-merged. Build output (target/, node_modules/,
…) goes with the worktree. A worktree a live session of any project uses is
never removed, nor one another project in the same repository made.

--force first saves what would be lost under refs/scopecraft/saved/<id>/<time>;
`worktree list` shows each saved ref and the git commands that restore it.

Every git command is given SCOPECRAFT_GIT_TIMEOUT seconds (default 60).

Exit codes:
  0  success
  1  failure, or a worktree was kept because removing it would lose work
  2  bad usage or bad input (unknown task, no worktree for it, …)";

#[derive(Debug, Subcommand)]
pub enum WorktreeCommand {
    /// List the task worktrees: branch, uncommitted changes, commits ahead of the main checkout's branch, live sessions, work saved by clean --force
    List(WorktreeListArgs),
    /// Remove task worktrees (and their task/ branches) whose work has landed and that no live session uses
    Clean(WorktreeCleanArgs),
}

#[derive(Debug, Args)]
pub struct WorktreeListArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WorktreeCleanArgs {
    /// Only this task's worktree (a subtask's is its parent's) [default: every task worktree]
    pub task: Option<String>,
    /// Also remove worktrees with uncommitted changes or unmerged commits (and their task/ branch), after saving them under refs/scopecraft/saved/
    #[arg(long)]
    pub force: bool,
}

const MENU_HELP: &str = "\
The plugin's key runs `menu --client #{client_name} --pane #{pane_id}`: the
pane's directory picks the project, the menu is shown on the client, and each
item either runs a tmux command or comes back here for the next page. Nothing is
printed: messages go to the client's status line. With --print, the tmux
commands are printed (one per line, in tmux's command syntax) instead.

Examples:
  scopecraft-tmux menu --print --pane %0          # the main menu for pane %0
  scopecraft-tmux menu --print --pane %0 tasks    # the tasks to dispatch
  scopecraft-tmux menu --print --pane %0 modes fix-login-05A";

const NEXT_HELP: &str = "\
The plugin's next key (@scopecraft-next-key, prefix + N) runs
`next --client #{client_name} --window #{window_id}`. The runs that wait for
you, on this tmux server and in every project, are taken longest waiting
first; from a window that is one of them, the next one (after the last, the
first again). What it switched to, or that nothing waits, is said on the
client's status line. Reads the books and makes one tmux call.

Examples:
  scopecraft-tmux next              # inside tmux: this client, from this window
  scopecraft-tmux next --print      # the tmux commands, not run";

#[derive(Debug, Args)]
pub struct NextArgs {
    /// The tmux client to switch (the plugin passes #{client_name}); default: this one
    #[arg(long, value_name = "NAME")]
    pub client: Option<String>,
    /// The window the client shows (the plugin passes #{window_id}): the run after it is next
    #[arg(long, value_name = "ID")]
    pub window: Option<String>,
    /// Print the tmux commands instead of running them
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Args)]
pub struct MenuArgs {
    /// The tmux client to show the menu on (the plugin passes #{client_name})
    #[arg(long, value_name = "NAME")]
    pub client: Option<String>,
    /// The pane the menu is for: its directory picks the project (the plugin passes #{pane_id})
    #[arg(long, value_name = "ID")]
    pub pane: Option<String>,
    /// The plugin's folder: the version in its Cargo.toml is checked against this binary's
    #[arg(long, value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,
    /// Print the tmux commands instead of running them
    #[arg(long)]
    pub print: bool,
    #[command(subcommand)]
    pub page: Option<MenuPage>,
}

/// A page of the menu; none is the main menu.
#[derive(Debug, Clone, Subcommand)]
pub enum MenuPage {
    /// The tasks to dispatch: a filtering popup on tmux 3.2 or later when the list is long, else pages of a menu
    Tasks(PageArg),
    /// The modes to dispatch a task in
    Modes {
        /// The task id
        task: String,
        /// Which page of a long list
        #[arg(long, default_value_t = 1, value_name = "N")]
        page: usize,
    },
    /// The sessions whose windows can be switched to
    Attach(PageArg),
    /// The running sessions, to stop one
    Stop(PageArg),
    /// The sessions with a log, to follow one in a popup (a window before tmux 3.2)
    Logs(PageArg),
    /// The ended sessions with a recorded conversation, to resume one
    Resume(PageArg),
    /// The headless runs with a conversation, to take one over in a tmux window
    Takeover(PageArg),
    /// The task worktrees, to review one's changes (`diff`) in a popup with a pager
    Diff(PageArg),
    /// The filtering picker of tasks, then modes (runs inside a popup)
    Pick,
    /// Run `scopecraft-tmux ARGS` and show how it went on the client
    Run {
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct PageArg {
    /// Which page of a long list
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub page: usize,
}

const STATUS_LINE_HELP: &str = "\
Counts every project's live sessions and the sessions that ended in the last
24 hours, the ones that need you first: ◐ waiting for you, ⊘ blocked (rate
limit, authentication, interrupted), ⧗ possibly stuck, ● running, ✓ completed,
✗ failed, ■ stopped, ⚠ interrupted; zeros are hidden. Reads only the books (no
tmux call).

The tmux plugin does not need this command on every refresh: the binary
pushes the counts into tmux options when a state changes, and
#{scopecraft_status} in status-right reads them. Use it for `#()`:
  set -g status-right '#(scopecraft-tmux status-line) %H:%M'";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = 7317)]
    pub port: u16,
    /// Open the page in the browser once listening
    #[arg(long)]
    pub open: bool,
}

#[derive(Debug, Args)]
pub struct StatusLineArgs {
    /// Set the tmux options the plugin's status line reads (@scopecraft_running, …,
    /// @scopecraft_status) instead of printing: one tmux call
    #[arg(long)]
    pub push: bool,
}

#[derive(Debug, Args)]
pub struct SuperviseArgs {
    /// The session record to run
    pub record: PathBuf,
    /// The PATH the agent gets
    #[arg(long)]
    pub path: Option<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// The session record
    pub record: PathBuf,
    /// The agent's new state, from the hook commands of an earlier version;
    /// without it the state comes from the hook input on stdin
    #[arg(value_parser = ["waiting", "running"])]
    pub state: Option<String>,
    /// What Codex's notify appends: the turn's JSON, naming the thread
    pub payload: Option<String>,
}
