//! `menu`: the plugin's menu. The key runs `menu --client C --pane P`; one
//! tmux call learns what the menu needs (the pane's directory, our windows,
//! the plugin's options, the tmux version), a second shows the menu. Items
//! run a tmux command directly (switch to a window, `choose-tree`, a log
//! popup) or come back here: the next page, or `menu run -- ARGS`, which
//! runs one of our commands and shows its outcome on the client.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::{Globals, Run};
use crate::books::{self, ExecType, Record};
use crate::cli::{MenuArgs, MenuPage};
use crate::config::Config;
use crate::menu::{self, Menu};
use crate::names;
use crate::ops::choices::{self, ModeChoice};
use crate::ops::sessions;
use crate::output;
use crate::picker::{self, Choice, Outcome};
use crate::process;
use crate::project::Project;
use crate::task::{self, Task};
use crate::tmux::{self, Commands, Tmux};

/// The plugin's options the binary reads (names and defaults are listed
/// together in tmux-plugin/options.sh).
const OPTION_SESSION: &str = "@scopecraft-session";
const OPTION_DEFAULT_MODE: &str = "@scopecraft-default-mode";
const OPTION_EXEC: &str = "@scopecraft-exec";
const OPTION_POPUP: &str = "@scopecraft-popup";
/// Which version mismatch the user was already told about.
const VERSION_WARNED: &str = "@scopecraft_version_warned";

/// Separates the answers of the commands in the context query.
const SEPARATOR: &str = "\u{1}";

/// Keys for the first rows of a list.
const ROW_KEYS: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];

impl Run for MenuArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let tmux = Tmux::from_env();
        let result = Context::gather(self, globals, &tmux).and_then(|context| context.page());
        match result {
            Err(err) if !self.print && self.client.is_some() => {
                // Run from a key: nobody reads stderr, so say it on the client.
                let mut commands = Commands::new();
                commands.add(message(self.client.as_deref(), &format!("{err:#}")));
                tmux.run(&commands).map(|_| ()).map_err(|_| err)
            }
            other => other,
        }
    }
}

/// Everything a page needs, learned in one tmux call.
struct Context<'a> {
    args: &'a MenuArgs,
    tmux: &'a Tmux,
    /// This binary: the items that come back here run it.
    exe: PathBuf,
    version: Option<(u32, u32)>,
    height: usize,
    width: usize,
    /// The server's socket, to tell our records on this server from others'.
    socket: Option<PathBuf>,
    /// The pane's current directory.
    pane_path: Option<PathBuf>,
    project: Option<Project>,
    windows: Vec<OurWindow>,
    options: PluginOptions,
    version_warned: String,
}

/// A window our supervisor labelled.
#[derive(Debug, Clone)]
struct OurWindow {
    id: String,
    task: String,
    mode: String,
}

#[derive(Debug, Clone, Default)]
struct PluginOptions {
    session: String,
    default_mode: String,
    exec: String,
    popup: String,
}

impl<'a> Context<'a> {
    fn gather(args: &'a MenuArgs, globals: &Globals, tmux: &'a Tmux) -> Result<Context<'a>> {
        let mut commands = Commands::new();
        commands.add([
            "list-windows",
            "-a",
            "-F",
            "#{window_id}\t#{@scopecraft-task}\t#{@scopecraft-mode}",
        ]);
        // Global values through show-options, not formats: in a format, a
        // window's own `@scopecraft-session` label would hide the option.
        for option in [
            OPTION_SESSION,
            OPTION_DEFAULT_MODE,
            OPTION_EXEC,
            OPTION_POPUP,
            VERSION_WARNED,
        ] {
            commands.add(["display-message", "-p", SEPARATOR]);
            commands.add(["show-options", "-gqv", option]);
        }
        commands.add(["display-message", "-p", SEPARATOR]);
        let mut display = vec!["display-message", "-p"];
        if let Some(client) = &args.client {
            display.extend(["-c", client]);
        }
        display.push("#{version}\t#{client_height}\t#{client_width}");
        commands.add(display);
        commands.add(["display-message", "-p", SEPARATOR]);
        commands.add(["display-message", "-p", "#{socket_path}"]);
        commands.add(["display-message", "-p", SEPARATOR]);
        let mut display = vec!["display-message", "-p"];
        if let Some(pane) = &args.pane {
            display.extend(["-t", pane]);
        }
        display.push("#{pane_current_path}");
        commands.add(display);
        let answer = tmux
            .run(&commands)
            .context("asking tmux for the menu's context")?;

        let parts: Vec<&str> = answer
            .split(&format!("{SEPARATOR}\n"))
            .map(|part| part.strip_suffix('\n').unwrap_or(part))
            .collect();
        let [
            windows,
            session,
            default_mode,
            exec,
            popup,
            warned,
            client,
            socket,
            path,
        ] = parts[..]
        else {
            anyhow::bail!("tmux answered the menu's query with something unexpected: {answer:?}");
        };
        let windows = windows
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let (id, task, mode) = (fields.next()?, fields.next()?, fields.next()?);
                (!task.is_empty()).then(|| OurWindow {
                    id: id.to_string(),
                    task: task.to_string(),
                    mode: mode.to_string(),
                })
            })
            .collect();
        let mut client = client.split('\t');
        let version = client.next().and_then(tmux::version_number);
        let mut size = |default| {
            client
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or(default)
        };
        let (height, width) = (size(24), size(80));
        let pane_path = (!path.is_empty()).then(|| PathBuf::from(path));
        let project = match &pane_path {
            Some(dir) => globals.project_from(dir).ok(),
            None => globals.project().ok(),
        };
        Ok(Context {
            args,
            tmux,
            exe: std::env::current_exe().context("finding this program's path")?,
            version,
            height,
            width,
            socket: (!socket.is_empty()).then(|| PathBuf::from(socket)),
            pane_path,
            project,
            windows,
            options: PluginOptions {
                session: session.trim().to_string(),
                default_mode: default_mode.trim().to_string(),
                exec: exec.trim().to_string(),
                popup: popup.trim().to_string(),
            },
            version_warned: warned.to_string(),
        })
    }

    fn page(&self) -> Result<()> {
        match &self.args.page {
            None => self.main(),
            Some(MenuPage::Tasks(page)) => self.tasks(page.page),
            Some(MenuPage::Modes { task, page }) => self.modes(task, *page),
            Some(MenuPage::Attach(page)) => self.sessions(Action::Attach, page.page),
            Some(MenuPage::Stop(page)) => self.sessions(Action::Stop, page.page),
            Some(MenuPage::Logs(page)) => self.sessions(Action::Logs, page.page),
            Some(MenuPage::Resume(page)) => self.sessions(Action::Resume, page.page),
            Some(MenuPage::Diff(page)) => self.diffs(page.page),
            Some(MenuPage::Pick) => self.pick(),
            Some(MenuPage::Run { args }) => self.run(args),
        }
    }

    // ── pages ──────────────────────────────────────────────────────────

    /// The main menu: what can be done now.
    fn main(&self) -> Result<()> {
        let records = self.records()?;
        let mut commands = Vec::new();
        let title = match &self.project {
            Some(project) => format!(" scopecraft · {} ", project_name(project)),
            None => " scopecraft ".to_string(),
        };
        let mut menu = Menu::new(&title);
        if let Some(mismatch) = self.version_mismatch() {
            let (plugin, dir) = mismatch;
            let text = format!(
                "binary {} ≠ plugin {plugin} ({}): update the binary, or build it from the menu (B)",
                env!("CARGO_PKG_VERSION"),
                self.exe.display()
            );
            menu.note(&format!(
                "binary {} ≠ plugin {plugin}",
                env!("CARGO_PKG_VERSION")
            ));
            menu.item(
                &format!("Build scopecraft-tmux {plugin} from the plugin"),
                "B",
                build_window(&dir),
            );
            menu.separator();
            let key = format!(
                "{plugin} {} {}",
                env!("CARGO_PKG_VERSION"),
                self.exe.display()
            );
            if self.version_warned != key {
                commands.push(message(self.args.client.as_deref(), &text));
                commands.push(vec![
                    "set-option".into(),
                    "-g".into(),
                    VERSION_WARNED.into(),
                    key,
                ]);
            }
        }
        match &self.project {
            Some(_) => {
                menu.item("Dispatch task…", "d", self.back_here(&["tasks"]));
            }
            None => {
                let place = self
                    .pane_path
                    .as_ref()
                    .map_or("here".to_string(), |p| p.display().to_string());
                menu.note(&format!("no Scopecraft project in {place}"));
            }
        }
        for action in [Action::Attach, Action::Stop, Action::Logs, Action::Resume] {
            if records.iter().any(|r| self.offers(action, r)) {
                menu.item(
                    action.menu_name(),
                    action.key(),
                    self.back_here(&[action.page()]),
                );
            }
        }
        if !reviewable(&records).is_empty() {
            menu.item("Diff…", "D", self.back_here(&["diff"]));
        }
        menu.separator();
        if !self.windows.is_empty() {
            menu.item(
                "Sessions",
                "w",
                vec![
                    "choose-tree".into(),
                    "-Zw".into(),
                    "-f".into(),
                    "#{@scopecraft-task}".into(),
                ],
            );
        }
        menu.item(
            "Refresh status",
            "R",
            menu::run_shell(&self.exe, &["status-line".into(), "--push".into()]),
        );
        commands.push(self.show(&menu));
        self.finish(&commands)
    }

    /// The tasks to dispatch: a filtering popup, or pages of a menu.
    fn tasks(&self, page: usize) -> Result<()> {
        let project = self.need_project()?;
        let tasks = choices::dispatchable(project)?;
        if self.picker_for(tasks.len()) {
            let picker = menu::shell_line(&self.exe, &self.page_args(&["pick"]));
            let popup = self.popup("80%", &project.root, " Dispatch ", picker);
            return self.finish(&[popup]);
        }
        let (page, pages, shown) = self.paged(tasks.len(), page);
        let title = if pages > 1 {
            format!(" Dispatch: pick a task ({page}/{pages}) ")
        } else {
            " Dispatch: pick a task ".to_string()
        };
        let mut menu = Menu::new(&title);
        if tasks.is_empty() {
            menu.note("no open tasks (done and archived ones are not listed)");
        }
        for (n, task) in tasks[shown].iter().enumerate() {
            menu.item(
                &task_label(task),
                ROW_KEYS.get(n).copied().unwrap_or(""),
                self.back_here(&["modes", &task.id]),
            );
        }
        self.page_links(&mut menu, &["tasks"], page, pages);
        self.finish(&[self.show(&menu)])
    }

    /// The modes to run a task in; the default first.
    fn modes(&self, task_id: &str, page: usize) -> Result<()> {
        let project = self.need_project()?;
        names::check_task_id(task_id)?;
        let task = task::resolve(project, task_id)?;
        let choices = self.mode_choices(project, &task)?;
        let (page, pages, shown) = self.paged(choices.len(), page);
        let mut menu = Menu::new(&format!(" Dispatch {task_id}: pick a mode "));
        let mut keys = ROW_KEYS.iter();
        for choice in &choices[shown] {
            if choice.missing.is_empty() {
                menu.item(
                    &mode_label(choice),
                    keys.next().copied().unwrap_or(""),
                    self.dispatch(project, task_id, &choice.name),
                );
            } else {
                menu.note(&mode_label(choice));
            }
        }
        self.page_links(&mut menu, &["modes", task_id], page, pages);
        self.finish(&[self.show(&menu)])
    }

    /// The sessions an action applies to.
    fn sessions(&self, action: Action, page: usize) -> Result<()> {
        let records: Vec<Record> = self
            .records()?
            .into_iter()
            .filter(|r| self.offers(action, r))
            .collect();
        let (page, pages, shown) = self.paged(records.len(), page);
        let mut menu = Menu::new(&format!(" {} ", action.menu_name().trim_end_matches('…')));
        if records.is_empty() {
            menu.note(action.none());
        }
        for (n, record) in records[shown].iter().enumerate() {
            menu.item(
                &session_label(record),
                ROW_KEYS.get(n).copied().unwrap_or(""),
                self.act(action, record),
            );
        }
        self.page_links(&mut menu, &[action.page()], page, pages);
        self.finish(&[self.show(&menu)])
    }

    /// The task worktrees whose changes can be reviewed.
    fn diffs(&self, page: usize) -> Result<()> {
        let records = self.records()?;
        let worktrees = reviewable(&records);
        let (page, pages, shown) = self.paged(worktrees.len(), page);
        let mut menu = Menu::new(" Diff ");
        if worktrees.is_empty() {
            menu.note("no session has a worktree");
        }
        for (n, record) in worktrees[shown].iter().enumerate() {
            let label = match &record.worktree {
                Some(place) => format!("{}  {}", record.task_id, place.branch),
                None => record.task_id.clone(),
            };
            menu.item(
                &label,
                ROW_KEYS.get(n).copied().unwrap_or(""),
                self.diff_view(&self.root_of(record), record),
            );
        }
        self.page_links(&mut menu, &["diff"], page, pages);
        self.finish(&[self.show(&menu)])
    }

    /// Shows a task's changes (`diff`, in colour) in `less` in a popup (a
    /// window before tmux 3.2), or without a pager until Enter.
    fn diff_view(&self, root: &Path, record: &Record) -> Vec<String> {
        let args = vec![
            "--project".to_string(),
            root.display().to_string(),
            "diff".into(),
            record.task_id.clone(),
            "--color".into(),
            "always".into(),
        ];
        let diff = menu::shell_line(&self.exe, &args);
        let line = format!(
            "if command -v less >/dev/null 2>&1; then {diff} 2>&1 | less -R; \
             else {diff}; printf \"\\n── press Enter to close\"; read -r _; fi"
        );
        let title = format!(" diff {} ", record.task_id);
        self.viewer(root, &title, format!("diff:{}", record.task_id), line)
    }

    /// Inside the popup: pick a task, then a mode, and dispatch.
    fn pick(&self) -> Result<()> {
        let project = self.need_project()?;
        let tasks = choices::dispatchable(project)?;
        let task_choices: Vec<Choice> = tasks
            .iter()
            .map(|task| Choice {
                label: task_label(task),
                enabled: true,
            })
            .collect();
        let chosen = {
            let mut terminal = picker::Terminal::open()?;
            loop {
                let Outcome::Chosen(t) = terminal.pick("Dispatch: pick a task", &task_choices)?
                else {
                    return Ok(());
                };
                let task = &tasks[t];
                let modes = self.mode_choices(project, task)?;
                let mode_choices: Vec<Choice> = modes
                    .iter()
                    .map(|choice| Choice {
                        label: mode_label(choice),
                        enabled: choice.missing.is_empty(),
                    })
                    .collect();
                let title = format!("Dispatch {}: pick a mode", task.id);
                if let Outcome::Chosen(m) = terminal.pick(&title, &mode_choices)? {
                    break (task.id.clone(), modes[m].name.clone());
                }
            }
        };
        // The terminal is restored; the popup closes when this returns.
        self.run(&self.dispatch_args(project, &chosen.0, &chosen.1))
    }

    /// Runs one of our commands and shows its outcome on the client.
    fn run(&self, args: &[String]) -> Result<()> {
        if self.args.print {
            let line = menu::shell_line(&self.exe, args);
            return self.finish(&[message(
                self.args.client.as_deref(),
                &format!("(would run) {line}"),
            )]);
        }
        let output = process::cmd(&self.exe)
            .args(args)
            .output_unchecked()
            .with_context(|| format!("running {}", menu::shell_line(&self.exe, args)))?;
        let text = if output.status.success() {
            // The first line says what happened (dispatch adds details below).
            first_line(&String::from_utf8_lossy(&output.stdout)).unwrap_or_else(|| "done".into())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr
                .lines()
                .find(|line| !line.contains("warning:"))
                .or_else(|| stderr.lines().next())
                .unwrap_or("failed")
                .trim();
            first
                .strip_prefix("scopecraft-tmux: ")
                .unwrap_or(first)
                .to_string()
        };
        self.finish(&[message(self.args.client.as_deref(), &text)])
    }

    // ── what the pages are made of ─────────────────────────────────────

    /// Whether `record` belongs in the list of `action`.
    fn offers(&self, action: Action, record: &Record) -> bool {
        if !record.is_ours() {
            return false;
        }
        match action {
            Action::Attach => self.window_of(record).is_some(),
            Action::Stop => record.status.is_live(),
            Action::Logs => record.log_file.is_file(),
            Action::Resume => {
                !record.status.is_live()
                    && record
                        .agent_session_id
                        .as_ref()
                        .or(record.real_session_id.as_ref())
                        .is_some()
            }
        }
    }

    /// The window of a tmux session on this server, still labelled as ours.
    fn window_of(&self, record: &Record) -> Option<&OurWindow> {
        let place = record.tmux.as_ref()?;
        if let (Some(recorded), Some(ours)) = (&place.socket, &self.socket)
            && recorded != ours
        {
            return None;
        }
        let id = place.window_id.as_deref()?;
        self.windows
            .iter()
            .find(|w| w.id == id && w.task == record.task_id && w.mode == record.mode_name())
    }

    /// The tmux command an item of `action`'s list runs for `record`.
    fn act(&self, action: Action, record: &Record) -> Vec<String> {
        let root = self.root_of(record);
        let mode = record.mode_name().to_string();
        match action {
            Action::Attach => {
                let window = self
                    .window_of(record)
                    .map_or(String::new(), |w| w.id.clone());
                let mut command = vec!["switch-client".to_string()];
                if let Some(client) = &self.args.client {
                    command.extend(["-c".into(), client.clone()]);
                }
                command.extend(["-t".into(), window]);
                command
            }
            Action::Stop => self.run_here(
                &root,
                &["stop".into(), record.task_id.clone(), "--mode".into(), mode],
            ),
            Action::Resume => {
                let mut args = vec![
                    "dispatch".to_string(),
                    record.task_id.clone(),
                    "--mode".into(),
                    mode,
                    "--continue".into(),
                ];
                if let Some(exec) = record.exec_type {
                    args.extend(["--exec".into(), exec.to_string()]);
                }
                self.run_here(&root, &args)
            }
            Action::Logs => self.log_view(&root, record),
        }
    }

    /// Shows a session's log: in a popup (tmux 3.2 and later), else in a
    /// new window. A live run's log is followed until the run ends; an
    /// ended run's goes to `less` (at its end) when there is one. Either
    /// way the view stays until the user is done with it.
    fn log_view(&self, root: &Path, record: &Record) -> Vec<String> {
        let mut args = vec![
            "--project".to_string(),
            root.display().to_string(),
            "logs".into(),
            record.task_id.clone(),
            "--mode".into(),
            record.mode_name().to_string(),
        ];
        let line = if record.status.is_live() {
            args.push("-f".into());
            format!(
                "{}; printf \"\\n── the run ended; press Enter to close\"; read -r _",
                menu::shell_line(&self.exe, &args)
            )
        } else {
            let logs = menu::shell_line(&self.exe, &args);
            format!(
                "if command -v less >/dev/null 2>&1; then {logs} | less -R +G; \
                 else {logs}; printf \"\\n── press Enter to close\"; read -r _; fi"
            )
        };
        let title = format!(" {} ({}) ", record.task_id, record.mode_name());
        self.viewer(root, &title, format!("log:{}", record.session_name), line)
    }

    /// Runs the shell command `line` in a popup titled `title` (tmux 3.2
    /// and later), else in a new window named `window`, in `root`.
    fn viewer(&self, root: &Path, title: &str, window: String, line: String) -> Vec<String> {
        if self.popups() {
            return self.popup("90%", root, title, line);
        }
        vec![
            "new-window".to_string(),
            "-n".into(),
            window,
            "-c".into(),
            tmux::escape_format(&root.display().to_string()),
            "--".into(),
            "sh".into(),
            "-c".into(),
            line,
        ]
    }

    /// A `display-popup` on the client, `width` wide, running the shell
    /// command `line` (which the popup runs with /bin/sh and expands
    /// nothing of) in `dir`.
    fn popup(&self, width: &str, dir: &Path, title: &str, line: String) -> Vec<String> {
        let mut popup = vec!["display-popup".to_string(), "-E".into()];
        if let Some(client) = &self.args.client {
            popup.extend(["-c".into(), client.clone()]);
        }
        popup.extend([
            "-w".into(),
            width.into(),
            "-h".into(),
            "80%".into(),
            "-d".into(),
            tmux::escape_format(&dir.display().to_string()),
            "-T".into(),
            tmux::escape_format(title),
            line,
        ]);
        popup
    }

    /// The modes offered for `task`: the default first, then the rest.
    fn mode_choices(&self, project: &Project, task: &Task) -> Result<Vec<ModeChoice>> {
        let config = Config::load(project)?;
        let default = if self.options.default_mode.is_empty() {
            config.default_mode().to_string()
        } else {
            self.options.default_mode.clone()
        };
        choices::modes(project, &config, task, &default)
    }

    /// The dispatch of `task` in `mode`, with the plugin's options.
    fn dispatch_args(&self, project: &Project, task: &str, mode: &str) -> Vec<String> {
        let mut args = vec![
            "--project".to_string(),
            project.root.display().to_string(),
            "dispatch".into(),
            task.to_string(),
            "--mode".into(),
            mode.to_string(),
        ];
        if !self.options.exec.is_empty() {
            args.extend(["--exec".into(), self.options.exec.clone()]);
        }
        if !self.options.session.is_empty() {
            args.extend(["--session".into(), self.options.session.clone()]);
        }
        args
    }

    /// `run-shell` of `menu run -- ARGS`.
    fn run_item(&self, args: &[String]) -> Vec<String> {
        let mut page = vec!["run", "--"];
        page.extend(args.iter().map(String::as_str));
        menu::run_shell(&self.exe, &self.page_args(&page))
    }

    fn dispatch(&self, project: &Project, task: &str, mode: &str) -> Vec<String> {
        self.run_item(&self.dispatch_args(project, task, mode))
    }

    /// `run-shell` of `menu run -- --project ROOT ARGS`.
    fn run_here(&self, root: &Path, args: &[String]) -> Vec<String> {
        let mut all = vec!["--project".to_string(), root.display().to_string()];
        all.extend(args.iter().cloned());
        self.run_item(&all)
    }

    /// `run-shell` of another page of this menu.
    fn back_here(&self, page: &[&str]) -> Vec<String> {
        menu::run_shell(&self.exe, &self.page_args(page))
    }

    /// `menu --client C --pane P [--project ROOT] PAGE…`.
    fn page_args(&self, page: &[&str]) -> Vec<String> {
        let mut args = vec!["menu".to_string()];
        if let Some(client) = &self.args.client {
            args.extend(["--client".into(), client.clone()]);
        }
        if let Some(pane) = &self.args.pane {
            args.extend(["--pane".into(), pane.clone()]);
        }
        if let Some(project) = &self.project {
            args.extend(["--project".into(), project.root.display().to_string()]);
        }
        args.extend(page.iter().map(|s| s.to_string()));
        args
    }

    /// Page `page` of a list of `len` rows: (the page, clamped; how many
    /// pages; the rows it shows).
    fn paged(&self, len: usize, page: usize) -> (usize, usize, std::ops::Range<usize>) {
        let per_page = self.per_page();
        let pages = len.div_ceil(per_page).max(1);
        let page = page.clamp(1, pages);
        let start = (page - 1) * per_page;
        (page, pages, start..(start + per_page).min(len))
    }

    /// Previous/next links of a paged list; `list` names its page.
    fn page_links(&self, menu: &mut Menu, list: &[&str], page: usize, pages: usize) {
        if pages <= 1 {
            return;
        }
        menu.separator();
        let link = |to: usize| {
            let to = to.to_string();
            let mut args = list.to_vec();
            args.extend(["--page", &to]);
            self.back_here(&args)
        };
        if page < pages {
            menu.item("Next page", "n", link(page + 1));
        }
        if page > 1 {
            menu.item("Previous page", "p", link(page - 1));
        }
    }

    /// The project of `record`, else the menu's.
    fn root_of(&self, record: &Record) -> PathBuf {
        record
            .project_root
            .clone()
            .or_else(|| self.project.as_ref().map(|p| p.root.clone()))
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The sessions the menu is about: the project's, or outside a project
    /// every project's. Newest first.
    fn records(&self) -> Result<Vec<Record>> {
        sessions::of_project_or_all(self.project.as_ref())
    }

    fn need_project(&self) -> Result<&Project> {
        self.project.as_ref().ok_or_else(|| {
            crate::error::bad_input(format!(
                "no Scopecraft project in {}",
                self.pane_path
                    .as_ref()
                    .map_or("this pane's directory".to_string(), |p| p
                        .display()
                        .to_string())
            ))
        })
    }

    /// `(plugin version, plugin dir)` when the plugin is not this binary's version.
    fn version_mismatch(&self) -> Option<(String, PathBuf)> {
        let dir = self.args.plugin_dir.as_ref()?;
        let plugin = plugin_version(dir)?;
        (plugin != env!("CARGO_PKG_VERSION")).then(|| (plugin, dir.clone()))
    }

    /// Popups exist from tmux 3.2; `@scopecraft-popup off` refuses them.
    fn popups(&self) -> bool {
        self.version.is_some_and(|v| v >= (3, 2)) && self.options.popup != "off"
    }

    /// Whether a list of `count` tasks goes to the filtering popup.
    fn picker_for(&self, count: usize) -> bool {
        self.popups() && (self.options.popup == "on" || count > self.per_page())
    }

    /// Rows of a list per menu page: what fits on the client with the
    /// menu's border, title and page links, and no more than 20.
    fn per_page(&self) -> usize {
        self.height.saturating_sub(7).clamp(3, 20)
    }

    fn show(&self, menu: &Menu) -> Vec<String> {
        // The border, the key column and some room.
        let mut menu = menu.clone();
        menu.fit(self.width.saturating_sub(12));
        menu.command(self.args.client.as_deref(), self.args.pane.as_deref())
    }

    /// Runs `commands` in one tmux call, or prints them (`--print`).
    fn finish(&self, commands: &[Vec<String>]) -> Result<()> {
        if self.args.print {
            let mut out = output::stdout();
            for command in commands {
                writeln!(out, "{}", menu::printable(command))?;
            }
            out.flush()?;
            return Ok(());
        }
        let mut batch = Commands::new();
        for command in commands {
            batch.add(command);
        }
        self.tmux.run(&batch)?;
        Ok(())
    }
}

/// The lists of sessions the menu offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Attach,
    Stop,
    Logs,
    Resume,
}

impl Action {
    fn menu_name(self) -> &'static str {
        match self {
            Action::Attach => "Attach…",
            Action::Stop => "Stop…",
            Action::Logs => "Logs…",
            Action::Resume => "Resume…",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Action::Attach => "a",
            Action::Stop => "s",
            Action::Logs => "l",
            Action::Resume => "r",
        }
    }

    fn page(self) -> &'static str {
        match self {
            Action::Attach => "attach",
            Action::Stop => "stop",
            Action::Logs => "logs",
            Action::Resume => "resume",
        }
    }

    fn none(self) -> &'static str {
        match self {
            Action::Attach => "no session window on this server",
            Action::Stop => "nothing is running",
            Action::Logs => "no session has a log yet",
            Action::Resume => "no ended session with a conversation to resume",
        }
    }
}

/// One session per task worktree that still exists, newest first: what
/// the Diff page offers.
fn reviewable(records: &[Record]) -> Vec<&Record> {
    let mut seen = Vec::new();
    records
        .iter()
        .filter(|r| r.is_ours())
        .filter(|r| r.worktree.as_ref().is_some_and(|w| w.path.is_dir()))
        .filter(|r| {
            let path = r.worktree.as_ref().map(|w| w.path.clone());
            let new = !seen.contains(&path);
            seen.push(path);
            new
        })
        .collect()
}

/// A mode as the menu shows it.
fn mode_label(choice: &ModeChoice) -> String {
    let mut label = choice.name.clone();
    if choice.is_default {
        label.push_str("  (default)");
    }
    if choice.builtin {
        label.push_str("  (built-in prompt)");
    }
    label.push_str(&format!("  · {}", choice.agent));
    if !choice.missing.is_empty() {
        label.push_str(&format!("  needs --data: {}", choice.missing.join(", ")));
    }
    label
}

fn task_label(task: &Task) -> String {
    format!("{}  {}", task.id, task.title)
}

fn session_label(record: &Record) -> String {
    let outcome = record.outcome();
    let when = match (&record.end_time, record.status.is_live()) {
        (Some(end), false) => books::age(end),
        _ => books::age(&record.start_time),
    }
    .map(|age| format!(" · {} ago", output::duration(age)))
    .unwrap_or_default();
    let exec = match record.exec_type {
        Some(ExecType::Tmux) | None => String::new(),
        Some(other) => format!(" [{other}]"),
    };
    format!(
        "{} ({}){exec}  {}{}{when}",
        record.task_id,
        record.mode_name(),
        record.state_label(),
        if outcome.is_empty() {
            String::new()
        } else {
            format!(", {outcome}")
        }
    )
}

fn project_name(project: &Project) -> String {
    project.root.file_name().map_or_else(
        || project.root.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `display-message` on `client` (the text escaped: it is a format).
fn message(client: Option<&str>, text: &str) -> Vec<String> {
    let mut command = vec!["display-message".to_string()];
    if let Some(client) = client {
        command.extend(["-c".into(), client.to_string()]);
    }
    command.push(tmux::escape_format(&format!(
        "scopecraft: {}",
        menu::label(text)
    )));
    command
}

/// A window running the plugin's build script.
fn build_window(plugin_dir: &Path) -> Vec<String> {
    vec![
        "new-window".into(),
        "-n".into(),
        "scopecraft-build".into(),
        "-c".into(),
        tmux::escape_format(&plugin_dir.display().to_string()),
        "--".into(),
        "bash".into(),
        plugin_dir
            .join("tmux-plugin/build.sh")
            .display()
            .to_string(),
    ]
}

/// The version in the plugin's Cargo.toml: the plugin and the binary come
/// from the same crate, so that is the plugin's version.
fn plugin_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let manifest: toml::Table = toml::from_str(&text).ok()?;
    Some(
        manifest
            .get("package")?
            .get("version")?
            .as_str()?
            .to_string(),
    )
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_plugin_version_from_its_manifest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"x\"\nversion = \"9.8.7\"\n",
        )
        .unwrap();
        assert_eq!(plugin_version(dir.path()).as_deref(), Some("9.8.7"));
        assert_eq!(plugin_version(&dir.path().join("nope")), None);
    }

    #[test]
    fn messages_are_one_escaped_line() {
        assert_eq!(
            message(Some("/dev/pts/1"), "bad #{x}\nthing"),
            [
                "display-message",
                "-c",
                "/dev/pts/1",
                "scopecraft: bad ##{x} thing"
            ]
        );
    }
}
