//! The plugin's menu, page by page. The key runs `menu --client C --pane P`;
//! one tmux call learns what the menu needs ([`Context`]), and each page
//! turns into tmux commands: a `display-menu` whose items run a tmux command
//! directly (switch to a window, `choose-tree`, a log popup) or come back
//! here: the next page, or `menu run -- ARGS`, which runs one of our
//! commands and shows its outcome on the client.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::Menu;
use super::context::{Context, VERSION_WARNED};
use super::items::{build_window, message};
use crate::books::{self, ExecType, Record};
use crate::menu;
use crate::names;
use crate::ops::choices::{self, ModeChoice};
use crate::ops::waiting;
use crate::output;
use crate::picker::{self, Choice, Outcome};
use crate::process;
use crate::project::Project;
use crate::task::{self, Task};
use crate::tmux::Tmux;

/// Which menu to show, and for whom.
#[derive(Debug, Clone)]
pub struct Request {
    /// The tmux client to show the menu on.
    pub client: Option<String>,
    /// The pane the menu is for: its directory picks the project.
    pub pane: Option<String>,
    /// `--project`: the project, whatever the pane's directory.
    pub project_dir: Option<PathBuf>,
    /// The plugin's folder, whose version is checked against ours.
    pub plugin_dir: Option<PathBuf>,
    /// Items that run one of our commands say what they would run instead.
    pub dry_run: bool,
    pub page: Page,
}

/// A page of the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Main,
    Tasks {
        page: usize,
    },
    Modes {
        task: String,
        page: usize,
    },
    Sessions {
        action: Action,
        page: usize,
    },
    Diff {
        page: usize,
    },
    /// The filtering picker of tasks, then modes (inside a popup).
    Pick,
    /// Runs `scopecraft-tmux ARGS`; the outcome goes to the client.
    Run {
        args: Vec<String>,
    },
}

/// The tmux commands that show `request`'s page (none when the user
/// cancels the picker), to run in one tmux call.
pub fn commands(request: &Request, tmux: &Tmux) -> Result<Vec<Vec<String>>> {
    Context::gather(request, tmux)?.page()
}

/// Keys for the first rows of a list.
const ROW_KEYS: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];
impl Context<'_> {
    fn page(&self) -> Result<Vec<Vec<String>>> {
        match &self.request.page {
            Page::Main => self.main(),
            Page::Tasks { page } => self.tasks(*page),
            Page::Modes { task, page } => self.modes(task, *page),
            Page::Sessions { action, page } => self.sessions(*action, *page),
            Page::Diff { page } => self.diffs(*page),
            Page::Pick => self.pick(),
            Page::Run { args } => self.run(args),
        }
    }

    /// The main menu: what can be done now.
    fn main(&self) -> Result<Vec<Vec<String>>> {
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
                commands.push(message(self.request.client.as_deref(), &text));
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
        let waiting: Vec<&Record> = waiting::queue(&records)
            .into_iter()
            .filter(|r| self.window_of(r).is_some())
            .collect();
        if let Some(next) = waiting::after(&waiting, self.pane_window.as_deref()) {
            let label = format!(
                "Needs you: {} ({}) {}",
                next.task_id,
                next.mode_name(),
                next.state_label()
            );
            menu.item(&label, "n", self.act(Action::Attach, next));
        }
        for action in [
            Action::Attach,
            Action::Stop,
            Action::Logs,
            Action::Resume,
            Action::Takeover,
        ] {
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
        Ok(commands)
    }

    /// The tasks to dispatch: a filtering popup, or pages of a menu.
    fn tasks(&self, page: usize) -> Result<Vec<Vec<String>>> {
        let project = self.need_project()?;
        let tasks = choices::dispatchable(project)?;
        if self.picker_for(tasks.len()) {
            let picker = menu::shell_line(&self.exe, &self.page_args(&["pick"]));
            let popup = self.popup("80%", &project.root, " Dispatch ", picker);
            return Ok(vec![popup]);
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
        Ok(vec![self.show(&menu)])
    }

    /// The modes to run a task in; the default first.
    fn modes(&self, task_id: &str, page: usize) -> Result<Vec<Vec<String>>> {
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
        Ok(vec![self.show(&menu)])
    }

    /// The sessions an action applies to.
    fn sessions(&self, action: Action, page: usize) -> Result<Vec<Vec<String>>> {
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
        Ok(vec![self.show(&menu)])
    }

    /// The task worktrees whose changes can be reviewed.
    fn diffs(&self, page: usize) -> Result<Vec<Vec<String>>> {
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
        Ok(vec![self.show(&menu)])
    }

    /// Shows a task's changes (`diff`, in colour) in `less` in a popup (a
    /// Inside the popup: pick a task, then a mode, and dispatch.
    fn pick(&self) -> Result<Vec<Vec<String>>> {
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
                    return Ok(Vec::new());
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
    fn run(&self, args: &[String]) -> Result<Vec<Vec<String>>> {
        if self.request.dry_run {
            let line = menu::shell_line(&self.exe, args);
            return Ok(vec![message(
                self.request.client.as_deref(),
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
        Ok(vec![message(self.request.client.as_deref(), &text)])
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
    fn show(&self, menu: &Menu) -> Vec<String> {
        // The border, the key column and some room.
        let mut menu = menu.clone();
        menu.fit(self.width.saturating_sub(12));
        menu.command(self.request.client.as_deref(), self.request.pane.as_deref())
    }
}

/// The lists of sessions the menu offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Attach,
    Stop,
    Logs,
    Resume,
    Takeover,
}

impl Action {
    pub(super) fn menu_name(self) -> &'static str {
        match self {
            Action::Attach => "Attach…",
            Action::Stop => "Stop…",
            Action::Logs => "Logs…",
            Action::Resume => "Resume…",
            Action::Takeover => "Take over…",
        }
    }

    pub(super) fn key(self) -> &'static str {
        match self {
            Action::Attach => "a",
            Action::Stop => "s",
            Action::Logs => "l",
            Action::Resume => "r",
            Action::Takeover => "t",
        }
    }

    pub(super) fn page(self) -> &'static str {
        match self {
            Action::Attach => "attach",
            Action::Stop => "stop",
            Action::Logs => "logs",
            Action::Resume => "resume",
            Action::Takeover => "takeover",
        }
    }

    pub(super) fn none(self) -> &'static str {
        match self {
            Action::Attach => "no session window on this server",
            Action::Stop => "nothing is running",
            Action::Logs => "no session has a log yet",
            Action::Resume => "no ended session with a conversation to resume",
            Action::Takeover => "no headless run with a conversation to take over",
        }
    }
}

/// One session per task worktree that still exists, newest first: what
/// the Diff page offers.
pub(super) fn reviewable(records: &[Record]) -> Vec<&Record> {
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
pub(super) fn mode_label(choice: &ModeChoice) -> String {
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

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_string)
}
