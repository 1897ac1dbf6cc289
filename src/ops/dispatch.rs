//! A dispatch: compose the prompt, write the books, and start the
//! supervisor that runs the agent (in a tmux window, or headless). A
//! request in, an outcome out; nothing here prints.
//!
//! Everything that can be refused is checked before anything is written:
//! ids and modes, the task, the mode's required inputs, the agent program,
//! tmux, the task's worktree. A second dispatch of a live (project, task,
//! mode) focuses the existing window instead; the per-session lock makes
//! that hold when many dispatches race. The worktree is made (or found)
//! under its environment's lock, so subtasks dispatched together share one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result};

use crate::agent::{Agent, Conversation, Invocation, Profile, Style};
use crate::books::{self, Books, ExecType, Record, Status, TmuxPlace, WorktreePlace};
use crate::compose;
use crate::config::Config;
use crate::docker;
use crate::error::{bad_input, bail_input};
use crate::names;
use crate::ops::sessions;
use crate::process;
use crate::procs;
use crate::project::Project;
use crate::supervisor;
use crate::tmux::{self, Commands, Tmux};
use crate::worktree;

/// What to dispatch: the command line's flags, or an HTTP request's.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub task: String,
    /// The mode; the configured default when absent.
    pub mode: Option<String>,
    pub instructions: Option<String>,
    /// A JSON object, as text, merged over the prompt's variables.
    pub data: Option<String>,
    /// The exec type; the configured one for the mode when absent.
    pub exec: Option<ExecType>,
    /// Resume the recorded agent conversation (`--continue`).
    pub resume: bool,
    /// Plan only: nothing is started or written.
    pub dry_run: bool,
    pub save_to: Option<PathBuf>,
    /// The tmux session; the configured one when absent.
    pub session: Option<String>,
    pub no_worktree: bool,
    /// The agent; the mode's, else the project's, else Claude Code.
    pub agent: Option<String>,
    pub agent_args: Vec<String>,
    /// Select the window of a run that is already live (and switch to it
    /// when inside tmux).
    pub focus_existing: bool,
    /// `work`: the agent runs in the foreground of this terminal, its
    /// supervisor being the caller (see [`work`]); `exec` is ignored.
    pub foreground: bool,
}

/// What a dispatch did, and what the user should know about it.
#[derive(Debug)]
pub struct Dispatched {
    pub outcome: Outcome,
    /// Warnings and notes (why the agent runs in place, …).
    pub notes: Vec<String>,
    /// A headless run's supervisor, our child until it ends: a process
    /// that lives on (the server) waits for it; a command exits and
    /// leaves it to init.
    pub supervisor: Option<std::process::Child>,
}

#[derive(Debug)]
pub enum Outcome {
    /// A new run started; its record as written.
    Started(Record),
    /// The key was live already: nothing started.
    AlreadyRunning(Record),
    /// `dry_run`: what would run.
    Preview(Box<Preview>),
}

/// What a dispatch would do (`--dry-run`).
#[derive(Debug)]
pub struct Preview {
    pub session_name: String,
    pub exec: ExecType,
    pub task_id: String,
    pub mode: String,
    /// The tmux session the window goes to.
    pub tmux_session: String,
    /// tmux: the `new-window` call, and the `new-session` call used when
    /// the session does not exist yet.
    pub tmux_commands: Option<(String, String)>,
    /// Headless: the supervisor's command line.
    pub supervisor: Option<String>,
    /// The agent's command line (inside `docker run` for Docker).
    pub agent: String,
    /// The prompt's size, and how it goes (`on stdin`, `as the last argument`).
    pub prompt: Option<(usize, String)>,
    /// The worktree, described.
    pub worktree: Option<String>,
    /// Why there is no worktree.
    pub in_place: Option<String>,
    pub workdir: Option<PathBuf>,
}

/// Plans the dispatch (checking everything that can be refused), then
/// starts it, or with `dry_run` describes it.
pub fn dispatch(project: &Project, config: &Config, request: &Request) -> Result<Dispatched> {
    let mut plan = match plan(request, project, config) {
        Ok(plan) => plan,
        Err(error) => match error.downcast::<LiveInstead>() {
            Ok(live) => return live.focus(project, request.focus_existing),
            Err(error) => return Err(error),
        },
    };
    let mut notes = std::mem::take(&mut plan.notes);
    let (asked, books) = (plan.exec, plan.books.clone());
    let (outcome, supervisor) = if request.dry_run {
        (
            Outcome::Preview(Box::new(preview(plan, project, config)?)),
            None,
        )
    } else {
        execute(plan, project, config, request.focus_existing)?
    };
    match &outcome {
        Outcome::AlreadyRunning(existing) => {
            notes.extend(elsewhere_note(existing, asked, request.focus_existing));
        }
        Outcome::Started(record) => notes.extend(same_place_notes(&books, record)?),
        Outcome::Preview(_) => {}
    }
    Ok(Dispatched {
        outcome,
        notes,
        supervisor,
    })
}

/// A prerequisite of starting (the agent's program, tmux, the engine) is
/// missing, but the key seemed live: if it still is, under the lock, the
/// dispatch focuses it as it would have; otherwise `error` stands.
#[derive(Debug)]
struct LiveInstead {
    session_name: String,
    exec: ExecType,
    error: anyhow::Error,
}

impl std::fmt::Display for LiveInstead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for LiveInstead {}

impl LiveInstead {
    fn focus(self, project: &Project, focus_existing: bool) -> Result<Dispatched> {
        let books = Books::for_project(project)?;
        let live = {
            let _lock = books.lock(&self.session_name)?;
            match books.read_raw(&self.session_name)? {
                Some(record) => Some(books.reconcile_locked(record)?),
                None => None,
            }
        };
        let Some(existing) = live.filter(|r| r.status.is_live()) else {
            return Err(self.error);
        };
        if focus_existing {
            focus(&existing);
        }
        Ok(Dispatched {
            notes: elsewhere_note(&existing, self.exec, focus_existing)
                .into_iter()
                .collect(),
            outcome: Outcome::AlreadyRunning(existing),
            supervisor: None,
        })
    }
}

/// A dispatch asked for one exec type while the session runs in another:
/// nothing new started, and the user should know why.
fn elsewhere_note(existing: &Record, asked: ExecType, focused: bool) -> Option<String> {
    let runs = existing.exec_type?;
    if runs == asked {
        return None;
    }
    let place = |exec| match exec {
        ExecType::Tmux => "in tmux",
        ExecType::Detached => "headless (detached)",
        ExecType::Docker => "in Docker",
        ExecType::Terminal => "in a terminal (work)",
    };
    let instead = if runs == ExecType::Tmux && focused {
        ": its window is focused instead"
    } else {
        ""
    };
    Some(format!(
        "{task} ({mode}) already runs {}, so no {asked} run was started{instead}; \
         to run it {}, stop it first: scopecraft-tmux stop {task} --mode {mode}",
        place(runs),
        place(asked),
        task = existing.task_id,
        mode = existing.mode_name(),
    ))
}

/// The other live sessions of the task working in the same directory as
/// the one just started: two agents editing the same files.
fn same_place_notes(books: &Books, started: &Record) -> Result<Vec<String>> {
    let place = |record: &Record| {
        record
            .worktree
            .as_ref()
            .map(|w| w.path.clone())
            .or_else(|| record.workdir.clone())
    };
    let Some(here) = place(started) else {
        return Ok(Vec::new());
    };
    Ok(books
        .of_task(&started.task_id)?
        .into_iter()
        .filter(|other| {
            other.session_name != started.session_name
                && other.status.is_live()
                && place(other).as_ref() == Some(&here)
        })
        .map(|other| {
            format!(
                "warning: {} also runs in mode {} in {}: both agents edit the same files",
                other.task_id,
                other.mode_name(),
                here.display()
            )
        })
        .collect())
}

/// Everything a dispatch decided before touching anything.
struct Plan {
    books: Books,
    record: Record,
    prompt: Option<String>,
    exec: ExecType,
    session: String,
    /// The record before this dispatch, restored if starting fails.
    previous: Option<Record>,
    /// The environment whose worktree the agent runs in; found or made
    /// under the environment's lock when the dispatch executes.
    worktree_env: Option<String>,
    /// Why the agent runs in place, for --dry-run.
    in_place: Option<String>,
    /// A Docker run: the `docker` program and the agent's argv inside the
    /// container. The `docker run` line is made once the working tree (the
    /// task's worktree) is known.
    docker: Option<(PathBuf, Vec<String>)>,
    /// This program, which the supervisor and the hooks run.
    exe: PathBuf,
    notes: Vec<String>,
    /// When the run starts (Unix milliseconds), which names its record.
    run_stamp: u128,
}

impl Plan {
    /// The `docker run` line around the agent, mounting `workdir`.
    fn docker_run(
        &self,
        config: &Config,
        project: &Project,
        workdir: &Path,
    ) -> Result<Option<Vec<String>>> {
        let Some((program, agent_argv)) = &self.docker else {
            return Ok(None);
        };
        // A linked worktree's `.git` names the main repository's git folder:
        // mounted at the same path, git works inside the container too.
        let git_dir = project.root.join(".git");
        let git_dir = (workdir != project.root && git_dir.is_dir()).then_some(git_dir);
        docker::run_argv(
            program,
            config,
            &docker::Container {
                name: self.record.container.as_deref().unwrap_or_default(),
                workdir,
                project_root: &project.root,
                git_dir: git_dir.as_deref(),
                agent_argv,
            },
        )
        .map(Some)
    }
}

/// The mode of the one earlier session of `task`, for `--continue`
/// without `--mode`; several sessions are named and need a mode.
fn mode_to_continue(project: &Project, books: &Books, task: &str) -> Result<String> {
    let found = sessions::find_sessions(project, books, task, None)?;
    match found.as_slice() {
        [only] => Ok(only.mode_name().to_string()),
        _ => bail_input!(
            "task {task} has sessions in several modes: {}; pass the one to continue with --mode",
            modes_of(&found)
        ),
    }
}

/// `implementation (completed), review (failed)`.
fn modes_of(records: &[Record]) -> String {
    records
        .iter()
        .map(|r| format!("{} ({})", r.mode_name(), r.status))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plan(args: &Request, project: &Project, config: &Config) -> Result<Plan> {
    let input = args;
    let mut notes = Vec::new();
    names::check_task_id(&input.task)?;
    let books = Books::for_project(project)?;
    let mode = match &input.mode {
        Some(mode) => mode.clone(),
        // --continue works the mode out from the books, as status does.
        None if args.resume => mode_to_continue(project, &books, &input.task)?,
        None => config.default_mode().to_string(),
    };
    names::check_mode_name(&mode)?;
    let session = args
        .session
        .clone()
        .unwrap_or_else(|| config.session().to_string());
    names::check_task_id(&session).map_err(|_| {
        bad_input(format!(
            "invalid tmux session name {}: use letters, digits, `_` and `-`",
            names::quoted(&session)
        ))
    })?;
    let exec = if args.foreground {
        ExecType::Terminal
    } else {
        args.exec.unwrap_or_else(|| config.exec_for(&mode))
    };
    if exec == ExecType::Terminal && !args.foreground {
        bail_input!(
            "the exec type `terminal` is not a dispatch: run the agent in this terminal with `scopecraft-tmux work {}`",
            input.task
        );
    }
    // A new prompt is composed first: that resolves the task, whose own id
    // names the session however the task was named (a subtask also by its
    // id without the NN_ prefix): one key, one session.
    let composed = if args.resume {
        None
    } else {
        Some(super::compose(
            project,
            &input.task,
            Some(&mode),
            input.instructions.as_deref(),
            input.data.as_deref(),
        )?)
    };
    let mut session_name =
        names::session_name(composed.as_ref().map_or(&input.task, |c| &c.task.id), &mode);
    let mut previous = books.read(&session_name)?;
    // --continue names a session by the id it was recorded under, or else
    // by its task's own id.
    if previous.is_none()
        && composed.is_none()
        && let Ok(task) = crate::task::resolve(project, &input.task)
        && task.id != input.task
    {
        session_name = names::session_name(&task.id, &mode);
        previous = books.read(&session_name)?;
    }

    // The agent: --continue resumes with the one that ran; otherwise
    // --agent, the mode's or the project's, else Claude Code.
    let agent_name = match (&previous, args.resume, &args.agent) {
        (Some(earlier), true, chosen) => {
            let ran = earlier.agent_name();
            if let Some(chosen) = chosen
                && chosen != ran
            {
                bail_input!(
                    "the conversation of {} ({mode}) is {ran}'s; --continue resumes it with {ran}, not {chosen} \
                     (dispatch without --continue to start a new one with {chosen})",
                    earlier.task_id
                );
            }
            ran.to_string()
        }
        (_, _, Some(chosen)) => chosen.clone(),
        _ => config.agent_for(&mode).0,
    };
    names::check_task_id(&agent_name).map_err(|_| {
        bad_input(format!(
            "invalid agent name {}: use letters, digits, `_` and `-`",
            names::quoted(&agent_name)
        ))
    })?;
    let profile = Profile::named(config, &agent_name)?;
    let style = if exec.is_interactive() {
        Style::Interactive
    } else {
        Style::Headless
    };

    // The prompt: composed afresh, or for --continue the new instructions.
    let (prompt, task_id, parent_id, env_id, allowed, disallowed, conversation) = if args.resume {
        let Some(earlier) = &previous else {
            let others = sessions::find_sessions(project, &books, &input.task, None)
                .map(|found| modes_of(&found))
                .unwrap_or_default();
            if others.is_empty() {
                bail_input!(
                    "no earlier session of {} in mode {mode} to continue; start one with: scopecraft-tmux dispatch {} --mode {mode}",
                    input.task,
                    input.task
                );
            }
            bail_input!(
                "no earlier session of {} in mode {mode} to continue; it has sessions in: {}; pass one of those with --mode",
                input.task,
                others
            );
        };
        if !profile.can_resume(style) {
            bail_input!(
                "the agent {} cannot resume a conversation {}: its profile has no resume-{} arguments",
                profile.name,
                if style == Style::Interactive {
                    "in tmux"
                } else {
                    "headless"
                },
                if style == Style::Interactive {
                    "interactive"
                } else {
                    "headless"
                }
            );
        }
        let Some(id) = earlier
            .agent_session_id
            .clone()
            .or_else(|| earlier.real_session_id.clone())
        else {
            // Codex names its thread itself: in tmux, when its first turn ends.
            let why = if profile.names_new_conversations() {
                String::new()
            } else {
                format!(
                    " ({} reports its conversation id in its headless stream, or in tmux once its first turn has ended)",
                    profile.title
                )
            };
            bail_input!(
                "the session {} has no recorded agent conversation id, so there is nothing to resume{why}",
                earlier.session_name
            );
        };
        if input.data.is_some() {
            bail_input!("--data shapes a new prompt; with --continue only --instructions is sent");
        }
        let text = input
            .instructions
            .clone()
            .filter(|text| !text.trim().is_empty());
        if let Some(text) = &text
            && text.len() > compose::MAX_INPUT_BYTES
        {
            bail_input!(
                "--instructions is {} bytes; at most {} are accepted",
                text.len(),
                compose::MAX_INPUT_BYTES
            );
        }
        let tools = |name: &str| -> Vec<String> {
            earlier
                .extra
                .get(name)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default()
        };
        (
            text,
            earlier.task_id.clone(),
            earlier.parent_id.clone(),
            earlier
                .parent_id
                .clone()
                .unwrap_or_else(|| earlier.task_id.clone()),
            tools("allowedTools"),
            tools("disallowedTools"),
            Conversation::Resume(id),
        )
    } else {
        let composed = composed.context("a composed prompt")?;
        let env_id = composed.task.environment_id().to_string();
        (
            Some(composed.prompt),
            composed.task.id,
            composed.task.parent,
            env_id,
            composed.allowed_tools,
            composed.disallowed_tools,
            Conversation::New(
                profile
                    .names_new_conversations()
                    .then(|| uuid::Uuid::new_v4().to_string()),
            ),
        )
    };

    // Prerequisites, cheapest first; a container brings its own agent.
    let prerequisites = || -> Result<_> {
        let exe = process::own_program()?;
        let docker = match exec {
            ExecType::Docker => Some(docker::find(config)?),
            _ => None,
        };
        let agent = match exec {
            ExecType::Docker => Agent::in_container(config, &agent_name)?,
            _ => Agent::resolve(config, &agent_name)?,
        };
        if exec == ExecType::Tmux {
            tmux::check_installed(!args.dry_run)?;
        }
        Ok((exe, docker, agent))
    };
    let (exe, docker, agent) = match prerequisites() {
        Ok(found) => found,
        // What starting a run needs is not needed to find the one that
        // runs: `dispatch` checks the key under its lock before failing.
        Err(error) if !args.dry_run && previous.as_ref().is_some_and(|p| p.status.is_live()) => {
            return Err(LiveInstead {
                session_name,
                exec,
                error,
            }
            .into());
        }
        Err(error) => return Err(error),
    };
    let in_place = if args.no_worktree {
        Some("--no-worktree".to_string())
    } else if !config.worktrees_enabled() {
        Some(format!(
            "worktrees are off: {}",
            config.describe("[worktree] enabled")
        ))
    } else if args.resume && previous.as_ref().is_some_and(|p| p.worktree.is_none()) {
        // Claude Code finds a conversation by its working directory.
        Some("--continue runs where the conversation ran, in place".to_string())
    } else if let Some(note) = worktree::outside_git(project) {
        notes.push(note.clone());
        Some(note)
    } else {
        names::check_task_id(&env_id)?;
        None
    };
    let worktree_env = in_place.is_none().then_some(env_id);
    let hooks = if style == Style::Interactive {
        agent.hook_args(&exe, &books.record_path(&session_name))
    } else {
        Vec::new()
    };
    if !(agent.takes_tool_lists() || allowed.is_empty() && disallowed.is_empty()) {
        notes.push(format!(
            "the mode's allowedTools/disallowedTools are Claude Code's; {} takes no tool list, so they are not passed",
            profile.title
        ));
    }
    let command = agent.argv(
        &Invocation {
            style,
            conversation: &conversation,
            allowed_tools: &allowed,
            disallowed_tools: &disallowed,
            extra_args: &args.agent_args,
            hooks: &hooks,
        },
        prompt.is_some(),
    );
    let prompt_on_stdin = command.prompt_on_stdin;
    let prompt_prefix = command.prompt_prefix;
    let mut agent_command = command.argv;
    let mut docker_plan = None;
    let container = match &docker {
        Some(docker) => {
            let name = docker::container_name(&session_name, &project.root);
            let inner = agent_command.clone();
            // Checked now (the configuration, the names); made again with the
            // worktree once it exists.
            agent_command = docker::run_argv(
                docker,
                config,
                &docker::Container {
                    name: &name,
                    workdir: &project.root,
                    project_root: &project.root,
                    git_dir: None,
                    agent_argv: &inner,
                },
            )?;
            docker_plan = Some((docker.clone(), inner));
            // Last, being the dearest: a process, and a round trip to the engine.
            if !args.dry_run {
                docker::check_engine(docker)?;
            }
            Some(name)
        }
        None => None,
    };
    let save_to = save_to(
        args,
        config,
        project,
        previous.as_ref(),
        exec,
        &mode,
        &task_id,
    )?;
    // A headless resume still needs a message on stdin.
    let prompt = match (prompt, style, &conversation) {
        (None, Style::Headless, _) => {
            Some("Continue the task from where you left off.".to_string())
        }
        (prompt, _, _) => prompt,
    };
    if let Some(prompt) = &prompt {
        check_prompt(prompt, prompt_on_stdin)?;
    }

    let start = books::now();
    let run_stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let prompt_file = prompt.as_ref().map(|_| {
        books
            .dir()
            .join(format!("{session_name}-{run_stamp}.prompt.md"))
    });
    let (new_id, resumed_from) = match &conversation {
        Conversation::New(id) => (id.clone(), None),
        Conversation::Resume(id) => (Some(id.clone()), Some(id.clone())),
    };
    let mut history = previous
        .as_ref()
        .map(|r| r.session_history.clone())
        .unwrap_or_default();
    // The run's record and log; the name is taken for good (the log made)
    // when the dispatch executes.
    let run_name = books::run_name(&task_id, run_stamp);
    let log_file = books.log_path(&run_name);
    let mut run = books::Run {
        session_id: new_id.clone(),
        record: Some(run_name),
        log_file: Some(log_file.clone()),
        start_time: start.clone(),
        resumed_from,
        exec_type: Some(exec),
        status: Some(Status::Running),
        ..books::Run::default()
    };
    if let Some(path) = &prompt_file {
        run.extra.insert(
            "promptFile".into(),
            serde_json::Value::String(path.display().to_string()),
        );
    }
    history.push(run);

    let mut extra = serde_json::Map::new();
    extra.insert("allowedTools".into(), serde_json::to_value(&allowed)?);
    extra.insert("disallowedTools".into(), serde_json::to_value(&disallowed)?);
    let record = Record {
        session_name,
        task_id,
        parent_id,
        status: Status::Running,
        start_time: start,
        last_updated: String::new(),
        log_file,
        pid: None,
        kind: Some(exec.scopecraft_type().to_string()),
        real_session_id: new_id.clone(),
        session_history: history,
        mode: Some(mode.clone()),
        exec_type: Some(exec),
        project_root: Some(project.root.clone()),
        workdir: Some(project.root.clone()),
        tmux: (exec == ExecType::Tmux).then(|| TmuxPlace {
            session: session.clone(),
            window_name: names::window_name(&input.task, &mode),
            ..TmuxPlace::default()
        }),
        worktree: None,
        container,
        exit_code: None,
        exit_signal: None,
        end_time: None,
        agent_session_id: new_id,
        prompt_file,
        agent_command,
        prompt_on_stdin: Some(prompt_on_stdin),
        prompt_prefix,
        agent: Some(agent_name),
        save_to,
        keep_pane: (exec == ExecType::Tmux).then(|| config.keep_pane()),
        supervisor_pid: None,
        agent_start_ticks: None,
        supervisor_start_ticks: None,
        boot_id: None,
        stop_requested: None,
        agent_state: None,
        stuck_since: None,
        notified: None,
        unended: Vec::new(),
        extra,
    };
    Ok(Plan {
        books,
        record,
        prompt,
        exec,
        session,
        previous,
        worktree_env,
        in_place,
        docker: docker_plan,
        exe,
        notes,
        run_stamp,
    })
}

/// Where a headless run saves its final result: `--save-to` (relative to
/// the current directory), else the mode's configured file (relative to
/// the project root), else, when continuing, the earlier run's file.
fn save_to(
    args: &Request,
    config: &Config,
    project: &Project,
    previous: Option<&Record>,
    exec: ExecType,
    mode: &str,
    task: &str,
) -> Result<Option<PathBuf>> {
    if exec.is_interactive() {
        if args.save_to.is_some() {
            bail_input!(
                "--save-to needs a headless run (--exec detached or docker): an interactive run has no final result"
            );
        }
        return Ok(None);
    }
    if let Some(path) = &args.save_to {
        let path = supervisor::resolve_save_to(path)?;
        check_result_folder(&path, "--save-to")?;
        return Ok(Some(path));
    }
    if let Some(path) = config.save_to_for(mode, task) {
        let key = config.describe(&format!("modes.{mode}.save-to"));
        let relative = Path::new(&path);
        if path.trim().is_empty() {
            bail_input!("{key} is empty");
        }
        // The project's configuration writes inside the project only.
        if relative.is_absolute()
            || relative
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail_input!(
                "{key} must be a path inside the project (no leading `/`, no `..`): {path}"
            );
        }
        let path = project.root.join(relative);
        check_result_folder(&path, &key)?;
        return Ok(Some(path));
    }
    Ok(previous
        .filter(|_| args.resume)
        .and_then(|earlier| earlier.save_to.clone()))
}

/// A result file can be written there (its folder, or the nearest folder
/// that exists, is a writable folder), checked now so that it is not found
/// out only when the run ends and its result is lost.
fn check_result_folder(path: &Path, source: &str) -> Result<()> {
    if path.is_dir() {
        bail_input!("{source}: {} is a folder, not a file", path.display());
    }
    let Some(existing) = path.ancestors().skip(1).find(|p| p.exists()) else {
        return Ok(());
    };
    if !existing.is_dir() || !writable(existing) {
        bail_input!(
            "{source}: {} cannot be written ({} is not a folder we can write to)",
            path.display(),
            existing.display()
        );
    }
    Ok(())
}

fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access(2) on a NUL-terminated path.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
}

/// The most an argument can hold on Linux (MAX_ARG_STRLEN).
const MAX_ARGUMENT: usize = 128 * 1024;

/// A prompt the agent can receive: no NUL byte, and as an argument (an
/// interactive run) within what the system allows one argument.
fn check_prompt(prompt: &str, on_stdin: bool) -> Result<()> {
    if prompt.contains('\0') {
        bail_input!(
            "the prompt holds a NUL byte (from the task file, the mode file or --data), which no agent can receive"
        );
    }
    if !on_stdin && prompt.len() >= MAX_ARGUMENT {
        bail_input!(
            "the prompt is {} bytes; an interactive agent takes it as one argument, which the system limits to {} KiB. \
             Shorten the task, or run it headless (--exec detached), where the prompt goes on stdin",
            prompt.len(),
            MAX_ARGUMENT / 1024
        );
    }
    Ok(())
}

fn preview(mut plan: Plan, project: &Project, config: &Config) -> Result<Preview> {
    let target = match &plan.worktree_env {
        Some(env_id) => Some(worktree::plan(project, config, env_id)?),
        None => None,
    };
    // The commands shown start where the real ones would: in the worktree.
    if let Some(target) = &target {
        plan.record.workdir = Some(target.workdir.clone());
    }
    let plan = &plan;
    let record = &plan.record;
    let supervise = supervise_argv(plan, &record.session_name);
    let (tmux_commands, supervisor) = match plan.exec {
        ExecType::Tmux => (
            Some((
                Tmux::from_env().display(&new_window_commands(plan, &supervise)),
                Tmux::from_env().display(&new_session_commands(plan, &supervise)),
            )),
            None,
        ),
        _ => (None, Some(shell_words::join(&supervise))),
    };
    let planned_workdir = target
        .as_ref()
        .map(|t| t.workdir.clone())
        .or_else(|| record.workdir.clone());
    let docker_run = match &planned_workdir {
        Some(workdir) => plan.docker_run(config, project, workdir)?,
        None => None,
    };
    Ok(Preview {
        session_name: record.session_name.clone(),
        exec: plan.exec,
        task_id: record.task_id.clone(),
        mode: record.mode_name().to_string(),
        tmux_session: plan.session.clone(),
        tmux_commands,
        supervisor,
        agent: shell_words::join(docker_run.as_ref().unwrap_or(&record.agent_command)),
        prompt: plan.prompt.as_ref().map(|prompt| {
            let how = match (record.prompt_on_stdin, &record.prompt_prefix) {
                (Some(true), _) => "on stdin".to_string(),
                (_, Some(prefix)) => format!("as the argument {prefix}<prompt>"),
                _ => "as the last argument".to_string(),
            };
            (prompt.len(), how)
        }),
        worktree: target.as_ref().map(worktree::Target::describe),
        in_place: if target.is_none() {
            plan.in_place.clone()
        } else {
            None
        },
        workdir: target
            .as_ref()
            .map(|t| t.workdir.clone())
            .or_else(|| record.workdir.clone()),
    })
}

fn execute(
    mut plan: Plan,
    project: &Project,
    config: &Config,
    focus_existing: bool,
) -> Result<(Outcome, Option<std::process::Child>)> {
    let name = plan.record.session_name.clone();
    let _lock = plan.books.lock(&name)?;
    check_room(plan.books.dir())?;
    // Read again under the lock: another dispatch may have won the race.
    let existing = match plan.books.read_raw(&name)? {
        Some(record) => {
            let record = plan.books.reconcile_locked(record)?;
            Some(plan.books.upgrade_locked(record)?)
        }
        None => None,
    };
    if let Some(existing) = &existing
        && existing.status.is_live()
    {
        if focus_existing {
            focus(existing);
        }
        return Ok((Outcome::AlreadyRunning(existing.clone()), None));
    }
    // A run that ended since the plan read the books stays in the history,
    // and is what a failed start puts back.
    if let Some(run) = plan.record.session_history.last().cloned() {
        let mut history = existing
            .as_ref()
            .map(|r| r.session_history.clone())
            .unwrap_or_default();
        history.push(run);
        plan.record.session_history = history;
    }
    plan.previous = existing;
    let run = plan.books.new_run(&plan.record.task_id, plan.run_stamp)?;
    plan.record.log_file = plan.books.log_path(&run);
    if let Some(current) = plan.record.session_history.last_mut() {
        current.log_file = Some(plan.record.log_file.clone());
        current.record = Some(run.clone());
    }

    // Held until the record is written and the agent started, so `clean`
    // sees this session before it could remove the worktree.
    let mut _worktree_lock = None;
    let mut made = None;
    if let Some(env_id) = &plan.worktree_env {
        let made_now = plan
            .books
            .worktree_lock(env_id)
            .and_then(|lock| Ok((lock, worktree::make(project, config, env_id)?)));
        let (lock, (target, what)) = match made_now {
            Ok(made) => made,
            Err(err) => {
                plan.books.discard_run(&run);
                return Err(err);
            }
        };
        _worktree_lock = Some(lock);
        plan.record.worktree = Some(WorktreePlace {
            path: target.path.clone(),
            branch: target.branch.clone(),
        });
        plan.record.workdir = Some(target.workdir.clone());
        made = Some((target, what));
    }
    if let Some(workdir) = plan.record.workdir.clone()
        && let Some(argv) = plan.docker_run(config, project, &workdir)?
    {
        plan.record.agent_command = argv;
    }
    let plan = &plan;
    let mut record = plan.record.clone();
    // The record as it was, kept without needing room, so that a failed
    // start can put it back on a full disk too.
    let kept = plan.previous.is_some() && plan.books.keep_previous(&name);
    let mut started_anything = false;
    let started = (|| {
        if let (Some(path), Some(prompt)) = (&record.prompt_file, &plan.prompt) {
            books::write_atomic(path, prompt.as_bytes())?;
        }
        plan.books.write(&mut record)?;
        started_anything = true;
        let supervisor = match plan.exec {
            ExecType::Tmux => {
                start_in_tmux(plan, &mut record)?;
                None
            }
            ExecType::Detached | ExecType::Docker => Some(start_detached(plan, &mut record)?),
            ExecType::Terminal => {
                in_the_foreground(&mut record);
                None
            }
        };
        plan.books.write(&mut record)?;
        Ok(supervisor)
    })();
    let supervisor = match started {
        Ok(supervisor) => supervisor,
        Err(err) => {
            if started_anything {
                end_started(&record);
            }
            undo(plan, &record, kept);
            if let Some((target, what)) = &made {
                worktree::unmake(target, what);
            }
            return Err(err);
        }
    };
    plan.books.forget_previous(&name);
    Ok((Outcome::Started(record), supervisor))
}

/// The least free space a dispatch starts with: a record, a prompt and the
/// start of a log, many times over.
const MIN_FREE: u64 = 1024 * 1024;

/// Refuses to start on a full disk, before anything is written, rather than
/// leave half a session behind.
fn check_room(dir: &Path) -> Result<()> {
    let mut probe = Some(dir);
    while let Some(path) = probe {
        if path.exists() {
            if let Some(free) = crate::files::free_space(path)
                && free < MIN_FREE
            {
                anyhow::bail!(
                    "the disk holding {} is full ({} KiB free); free some space and dispatch again",
                    dir.display(),
                    free / 1024
                );
            }
            return Ok(());
        }
        probe = path.parent();
    }
    Ok(())
}

/// Ends what a dispatch started before it failed: the supervisor (whose
/// record could not be completed) or the window.
fn end_started(record: &Record) {
    // A `work` run's supervisor is this process.
    let me = std::process::id();
    if let Some(supervisor) = record
        .supervisor_pid
        .filter(|&pid| pid != me)
        .and_then(|pid| {
            procs::Process::find(
                pid,
                record.supervisor_start_ticks,
                record.boot_id.as_deref(),
            )
        })
    {
        supervisor.signal(libc::SIGKILL);
    }
    if let Some(place) = &record.tmux
        && let Some(pane) = &place.pane_id
    {
        let _ = Tmux::at(place.socket.as_deref()).run_one(["kill-pane", "-t", pane]);
    }
}

/// Puts back the books as they were before this dispatch.
fn undo(plan: &Plan, record: &Record, kept: bool) {
    if let Some(path) = &record.prompt_file {
        let _ = fs::remove_file(path);
    }
    if let Some(run) = record.run_name() {
        plan.books.discard_run(run);
    }
    match &plan.previous {
        Some(_) if kept && plan.books.restore_previous(&record.session_name).is_ok() => {}
        Some(previous) => {
            let _ = plan.books.write(&mut previous.clone());
        }
        None => {
            let _ = plan.books.remove(&record.session_name);
        }
    }
}

/// The supervisor's command line. The agent gets the PATH of the dispatch
/// (a tmux pane would get the tmux server's), passed here rather than kept
/// in the books, which hold no environment values.
fn supervise_argv(plan: &Plan, session_name: &str) -> Vec<String> {
    let mut argv = vec![
        plan.exe.display().to_string(),
        "__supervise".to_string(),
        plan.books.record_path(session_name).display().to_string(),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        argv.push(format!("--path={}", path.to_string_lossy()));
    }
    argv
}

const PLACE_FORMAT: &str = "#{window_id}\t#{pane_id}\t#{socket_path}";

/// The window's name, `<task>-<mode>`.
fn window_name(plan: &Plan) -> String {
    plan.record
        .tmux
        .as_ref()
        .map(|place| place.window_name.clone())
        .unwrap_or_else(|| names::window_name(&plan.record.task_id, plan.record.mode_name()))
}

/// The working directory for tmux's `-c`, which tmux expands as a format:
/// `#` escaped, or a folder named `a#{…}b` would name another folder (and
/// `#(…)` would run a shell command).
fn workdir(plan: &Plan) -> String {
    tmux::escape_format(
        &plan
            .record
            .workdir
            .as_deref()
            .unwrap_or(Path::new("."))
            .display()
            .to_string(),
    )
}

/// `new-window` in our session; with several arguments tmux runs the
/// command directly, without a shell.
fn new_window_commands(plan: &Plan, supervise: &[String]) -> Commands {
    creating_window(
        plan,
        [
            "new-window".into(),
            "-d".into(),
            "-t".into(),
            format!("={}:", plan.session),
        ],
        supervise,
    )
}

/// `new-session` with our window as its first window (starting the server
/// when none runs).
fn new_session_commands(plan: &Plan, supervise: &[String]) -> Commands {
    creating_window(
        plan,
        [
            "new-session".into(),
            "-d".into(),
            "-s".into(),
            plan.session.clone(),
        ],
        supervise,
    )
}

/// `command` (new-window or new-session) making our window: its name, its
/// folder, printing its ids, running the supervisor.
fn creating_window(plan: &Plan, command: [String; 4], supervise: &[String]) -> Commands {
    let mut argv = Vec::from(command);
    argv.extend([
        "-n".into(),
        window_name(plan),
        "-P".into(),
        "-F".into(),
        PLACE_FORMAT.into(),
    ]);
    argv.extend(running_supervisor(&workdir(plan), supervise));
    let mut commands = Commands::new();
    commands.add(argv);
    commands
}

/// The end of every command that starts a pane for us: its folder, then
/// the supervisor as an argument vector (tmux runs it without a shell).
fn running_supervisor(workdir: &str, supervise: &[String]) -> Vec<String> {
    let mut argv = vec!["-c".to_string(), workdir.to_string(), "--".into()];
    argv.extend(supervise.iter().cloned());
    argv
}

/// Creates the window: one tmux call when the session exists (the common
/// case), two when it must be created first.
fn start_in_tmux(plan: &Plan, record: &mut Record) -> Result<()> {
    let tmux = Tmux::from_env();
    let supervise = supervise_argv(plan, &record.session_name);
    // The session's earlier window: recorded, or, when the last run was
    // headless, found by its labels.
    let earlier = plan
        .previous
        .as_ref()
        .and_then(|previous| match &previous.tmux {
            Some(place) => Some(place.clone()),
            None => find_window(&tmux, previous),
        });
    let reused = earlier
        .filter(|place| place.session == plan.session)
        .and_then(|place| {
            respawn_finished_window(&place, &record.session_name, &supervise, &workdir(plan))
        });
    let printed = match reused {
        Some(printed) => printed,
        None => {
            let mut attempt = tmux.run(&new_window_commands(plan, &supervise));
            for _ in 0..3 {
                let Err(err) = &attempt else { break };
                let text = format!("{err:#}");
                // "no current target": a server another dispatch has just
                // started, before its session exists.
                if !(text.contains("can't find session")
                    || text.contains("no current target")
                    || text.contains("no server running")
                    || text.contains("error connecting to"))
                {
                    break;
                }
                attempt = tmux.run(&new_session_commands(plan, &supervise));
                // Another dispatch created the session meanwhile: add our window.
                if let Err(err) = &attempt
                    && format!("{err:#}").contains("duplicate session")
                {
                    attempt = tmux.run(&new_window_commands(plan, &supervise));
                }
            }
            attempt.context("creating the tmux window")?
        }
    };
    let mut fields = printed.trim_end().split('\t');
    let place = record.tmux.get_or_insert_with(TmuxPlace::default);
    place.window_id = fields.next().map(str::to_string);
    place.pane_id = fields.next().map(str::to_string);
    place.socket = fields.next().filter(|s| !s.is_empty()).map(PathBuf::from);
    Ok(())
}

/// The window a session's earlier tmux run left open (its summary waiting
/// for a key), by the labels the supervisor gave it: one tmux call.
fn find_window(tmux: &Tmux, previous: &Record) -> Option<TmuxPlace> {
    let project = previous.project_root.as_ref()?.display().to_string();
    let listed = tmux
        .run_one([
            "list-windows",
            "-a",
            "-F",
            "#{@scopecraft-session}\t#{@scopecraft-project}\t#{session_name}\t#{window_id}\t#{pane_id}",
        ])
        .ok()?;
    listed.lines().find_map(|line| {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            [name, root, session, window, pane]
                if *name == previous.session_name && *root == project =>
            {
                Some(TmuxPlace {
                    session: (*session).to_string(),
                    window_name: names::window_name(
                        &previous.task_id,
                        previous.mode.as_deref().unwrap_or("-"),
                    ),
                    window_id: Some((*window).to_string()),
                    pane_id: Some((*pane).to_string()),
                    socket: None,
                })
            }
            _ => None,
        }
    })
}

/// A finished run's window still shows its summary: run the new session in
/// it (same window, same name). `None` when it is gone, or when the pane id
/// now belongs to another window (a restarted server reuses ids).
fn respawn_finished_window(
    place: &TmuxPlace,
    session_name: &str,
    supervise: &[String],
    workdir: &str,
) -> Option<String> {
    let pane = place.pane_id.as_deref()?;
    let tmux = Tmux::at(place.socket.as_deref());
    let owner = tmux
        .run_one([
            "display-message",
            "-p",
            "-t",
            pane,
            "#{@scopecraft-session}",
        ])
        .ok()?;
    if owner.trim_end() != session_name {
        return None;
    }
    let mut commands = Commands::new();
    // The earlier run's pipe to its terminal log outlives a respawn, and
    // closes a moment later: the new run's supervisor would find it still
    // open (`pipe-pane -o` opens none) and the new run's output would go
    // to no log. Closed first, the new run's pipe opens.
    commands.add(["pipe-pane", "-t", pane]);
    let mut command = vec![
        "respawn-pane".to_string(),
        "-k".into(),
        "-t".into(),
        pane.to_string(),
    ];
    command.extend(running_supervisor(workdir, supervise));
    commands.add(command);
    commands.add(["display-message", "-p", "-t", pane, PLACE_FORMAT]);
    tmux.run(&commands).ok()
}

/// A `work` run: the caller is its supervisor, and runs it once the record
/// is written ([`crate::supervisor::run`]); until then the record says so,
/// and a reader sees a live run.
fn in_the_foreground(record: &mut Record) {
    // From the moment the record names us, `stop` may signal us: the
    // ending signals wait until the supervisor can catch them.
    supervisor::mask_ending(libc::SIG_BLOCK);
    let me = std::process::id();
    record.supervisor_pid = Some(me);
    record.supervisor_start_ticks = procs::start_ticks(me);
    record.boot_id = procs::boot_id();
}

/// Starts the supervisor in the background, in a session of its own so it
/// outlives this command and the terminal.
fn start_detached(plan: &Plan, record: &mut Record) -> Result<std::process::Child> {
    let supervise = supervise_argv(plan, &record.session_name);
    let log = supervisor::open_log(&record.log_file)?;
    let (program, args) = supervise.split_first().context("a supervisor command")?;
    let mut cmd = process::cmd(program).args(args);
    {
        use std::os::unix::process::CommandExt;
        let command = cmd.command_mut();
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // SAFETY: setsid and supervisor::mask_ending are async-signal-safe.
        // The ending signals wait, blocked, until the supervisor has its
        // handlers: a `stop` right after this dispatch then stops the run
        // instead of killing the supervisor.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                supervisor::mask_ending(libc::SIG_BLOCK);
                Ok(())
            });
        }
    }
    let child = cmd.spawn()?;
    let pid = child.id();
    record.supervisor_pid = Some(pid);
    record.supervisor_start_ticks = procs::start_ticks(pid);
    record.boot_id = procs::boot_id();
    Ok(child)
}

/// Selects the window of a live tmux run (and, inside tmux, switches to
/// it). Focusing is a courtesy: the answer stands without it.
fn focus(record: &Record) {
    if let (Some(ExecType::Tmux), Some(place)) = (&record.exec_type, &record.tmux) {
        let target = place.pane_id.clone().or_else(|| place.window_id.clone());
        if let Some(target) = &target {
            let tmux = Tmux::at(place.socket.as_deref());
            let mut commands = Commands::new();
            commands.add(["select-window", "-t", target]);
            if std::env::var_os("TMUX").is_some() {
                commands.add(["switch-client", "-t", target]);
            }
            let _ = tmux.run(&commands);
        }
    }
}
