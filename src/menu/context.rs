//! What a menu page needs to know, learned in one tmux call: the pane's
//! directory (so the project), our windows, the plugin's options, the
//! client's size and the tmux version.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::books::Record;
use crate::ops::sessions;
use crate::project::Project;
use crate::tmux::{self, Commands, Tmux};

use super::Request;

/// The plugin's options the binary reads (names and defaults are listed
/// together in tmux-plugin/options.sh).
const OPTION_SESSION: &str = "@scopecraft-session";
const OPTION_DEFAULT_MODE: &str = "@scopecraft-default-mode";
const OPTION_EXEC: &str = "@scopecraft-exec";
const OPTION_POPUP: &str = "@scopecraft-popup";
/// Which version mismatch the user was already told about.
pub(super) const VERSION_WARNED: &str = "@scopecraft_version_warned";

/// Separates the answers of the commands in the context query.
const SEPARATOR: &str = "\u{1}";

/// Everything a page needs, learned in one tmux call.
pub(super) struct Context<'a> {
    pub(super) request: &'a Request,
    /// This binary: the items that come back here run it.
    pub(super) exe: PathBuf,
    pub(super) version: Option<(u32, u32)>,
    pub(super) height: usize,
    pub(super) width: usize,
    /// The server's socket, to tell our records on this server from others'.
    pub(super) socket: Option<PathBuf>,
    /// The pane's current directory.
    pub(super) pane_path: Option<PathBuf>,
    /// The pane's window.
    pub(super) pane_window: Option<String>,
    pub(super) project: Option<Project>,
    pub(super) windows: Vec<OurWindow>,
    pub(super) options: PluginOptions,
    pub(super) version_warned: String,
}

/// A window our supervisor labelled.
#[derive(Debug, Clone)]
pub(super) struct OurWindow {
    pub(super) id: String,
    pub(super) task: String,
    pub(super) mode: String,
}

#[derive(Debug, Clone, Default)]
pub(super) struct PluginOptions {
    pub(super) session: String,
    pub(super) default_mode: String,
    pub(super) exec: String,
    pub(super) popup: String,
}

impl<'a> Context<'a> {
    pub(super) fn gather(request: &'a Request, tmux: &Tmux) -> Result<Context<'a>> {
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
        if let Some(client) = &request.client {
            display.extend(["-c", client]);
        }
        display.push("#{version}\t#{client_height}\t#{client_width}");
        commands.add(display);
        commands.add(["display-message", "-p", SEPARATOR]);
        commands.add(["display-message", "-p", "#{socket_path}"]);
        commands.add(["display-message", "-p", SEPARATOR]);
        let mut display = vec!["display-message", "-p"];
        if let Some(pane) = &request.pane {
            display.extend(["-t", pane]);
        }
        display.push("#{window_id}\t#{pane_current_path}");
        commands.add(display);
        let answer = tmux.run(&commands).map_err(|err| {
            // Checked only when it failed: the menu is a key press away.
            match crate::tmux::check_installed(false) {
                Err(missing) => missing,
                Ok(()) => err.context("asking tmux for the menu's context"),
            }
        })?;

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
        let (window, path) = path.split_once('\t').unwrap_or(("", path));
        let pane_window = (!window.is_empty()).then(|| window.to_string());
        let pane_path = (!path.is_empty()).then(|| PathBuf::from(path));
        let project = match (&request.project_dir, &pane_path) {
            (Some(dir), _) | (None, Some(dir)) => Project::discover(dir).ok(),
            (None, None) => std::env::current_dir()
                .ok()
                .and_then(|cwd| Project::discover(&cwd).ok()),
        };
        Ok(Context {
            request,
            exe: crate::process::own_program()?,
            version,
            height,
            width,
            socket: (!socket.is_empty()).then(|| PathBuf::from(socket)),
            pane_path,
            pane_window,
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

    /// The window of a tmux session on this server, still labelled as ours.
    pub(super) fn window_of(&self, record: &Record) -> Option<&OurWindow> {
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

    /// The project of `record`, else the menu's.
    pub(super) fn root_of(&self, record: &Record) -> PathBuf {
        record
            .project_root
            .clone()
            .or_else(|| self.project.as_ref().map(|p| p.root.clone()))
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The sessions the menu is about: the project's, or outside a project
    /// every project's. Newest first.
    pub(super) fn records(&self) -> Result<Vec<Record>> {
        sessions::of_project_or_all(self.project.as_ref())
    }

    pub(super) fn need_project(&self) -> Result<&Project> {
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
    pub(super) fn version_mismatch(&self) -> Option<(String, PathBuf)> {
        let dir = self.request.plugin_dir.as_ref()?;
        let plugin = plugin_version(dir)?;
        (plugin != env!("CARGO_PKG_VERSION")).then(|| (plugin, dir.clone()))
    }

    /// Popups exist from tmux 3.2; `@scopecraft-popup off` refuses them.
    pub(super) fn popups(&self) -> bool {
        self.version.is_some_and(|v| v >= (3, 2)) && self.options.popup != "off"
    }

    /// Whether a list of `count` tasks goes to the filtering popup.
    pub(super) fn picker_for(&self, count: usize) -> bool {
        self.popups() && (self.options.popup == "on" || count > self.per_page())
    }

    /// Rows of a list per menu page: what fits on the client with the
    /// menu's border, title and page links, and no more than 20.
    pub(super) fn per_page(&self) -> usize {
        self.height.saturating_sub(7).clamp(3, 20)
    }
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
}
