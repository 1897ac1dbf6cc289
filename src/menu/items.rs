//! What the menu's items run: a switch to a window, a popup or window
//! showing a log or a diff, or one of our commands coming back through
//! `menu run`.

use std::path::Path;

use anyhow::Result;

use super::context::Context;
use super::pages::Action;
use crate::books::{ExecType, Record};
use crate::config::Config;
use crate::menu;
use crate::ops::choices::{self, ModeChoice};
use crate::project::Project;
use crate::task::Task;
use crate::tmux;

impl Context<'_> {
    /// Whether `record` belongs in the list of `action`.
    pub(super) fn offers(&self, action: Action, record: &Record) -> bool {
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
            Action::Takeover => {
                record.status.is_live()
                    && record.exec_type == Some(ExecType::Detached)
                    && record
                        .agent_session_id
                        .as_ref()
                        .or(record.real_session_id.as_ref())
                        .is_some()
            }
        }
    }
    pub(super) fn act(&self, action: Action, record: &Record) -> Vec<String> {
        let root = self.root_of(record);
        let mode = record.mode_name().to_string();
        match action {
            Action::Attach => {
                let window = self
                    .window_of(record)
                    .map_or(String::new(), |w| w.id.clone());
                let mut command = vec!["switch-client".to_string()];
                if let Some(client) = &self.request.client {
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
                // A `work` run resumes in tmux: the menu has no terminal.
                if let Some(exec) = record.exec_type.filter(|e| *e != ExecType::Terminal) {
                    args.extend(["--exec".into(), exec.to_string()]);
                }
                self.run_here(&root, &args)
            }
            Action::Logs => self.log_view(&root, record),
            Action::Takeover => self.run_here(
                &root,
                &[
                    "takeover".into(),
                    record.task_id.clone(),
                    "--mode".into(),
                    mode,
                ],
            ),
        }
    }

    /// Shows a session's log: in a popup (tmux 3.2 and later), else in a
    /// new window. A live run's log is followed until the run ends; an
    /// ended run's goes to `less` (at its end) when there is one. Either
    /// way the view stays until the user is done with it.
    pub(super) fn log_view(&self, root: &Path, record: &Record) -> Vec<String> {
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
    pub(super) fn viewer(
        &self,
        root: &Path,
        title: &str,
        window: String,
        line: String,
    ) -> Vec<String> {
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
    pub(super) fn popup(&self, width: &str, dir: &Path, title: &str, line: String) -> Vec<String> {
        let mut popup = vec!["display-popup".to_string(), "-E".into()];
        if let Some(client) = &self.request.client {
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
    pub(super) fn mode_choices(&self, project: &Project, task: &Task) -> Result<Vec<ModeChoice>> {
        let config = Config::load(project)?;
        let default = if self.options.default_mode.is_empty() {
            config.default_mode().to_string()
        } else {
            self.options.default_mode.clone()
        };
        choices::modes(project, &config, task, &default)
    }

    /// The dispatch of `task` in `mode`, with the plugin's options.
    pub(super) fn dispatch_args(&self, project: &Project, task: &str, mode: &str) -> Vec<String> {
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
    pub(super) fn run_item(&self, args: &[String]) -> Vec<String> {
        let mut page = vec!["run", "--"];
        page.extend(args.iter().map(String::as_str));
        menu::run_shell(&self.exe, &self.page_args(&page))
    }

    pub(super) fn dispatch(&self, project: &Project, task: &str, mode: &str) -> Vec<String> {
        self.run_item(&self.dispatch_args(project, task, mode))
    }

    /// `run-shell` of `menu run -- --project ROOT ARGS`.
    pub(super) fn run_here(&self, root: &Path, args: &[String]) -> Vec<String> {
        let mut all = vec!["--project".to_string(), root.display().to_string()];
        all.extend(args.iter().cloned());
        self.run_item(&all)
    }

    /// `run-shell` of another page of this menu.
    pub(super) fn back_here(&self, page: &[&str]) -> Vec<String> {
        menu::run_shell(&self.exe, &self.page_args(page))
    }

    /// `menu --client C --pane P [--project ROOT] PAGE…`.
    pub(super) fn page_args(&self, page: &[&str]) -> Vec<String> {
        let mut args = vec!["menu".to_string()];
        if let Some(client) = &self.request.client {
            args.extend(["--client".into(), client.clone()]);
        }
        if let Some(pane) = &self.request.pane {
            args.extend(["--pane".into(), pane.clone()]);
        }
        if let Some(project) = &self.project {
            args.extend(["--project".into(), project.root.display().to_string()]);
        }
        args.extend(page.iter().map(|s| s.to_string()));
        args
    }

    /// Shows a task's changes (`diff`, in colour) in `less` in a popup (a
    /// window before tmux 3.2), or without a pager until Enter.
    pub(super) fn diff_view(&self, root: &Path, record: &Record) -> Vec<String> {
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
}
/// `display-message` on `client` (the text escaped: it is a format).
pub fn message(client: Option<&str>, text: &str) -> Vec<String> {
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
pub(super) fn build_window(plugin_dir: &Path) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
