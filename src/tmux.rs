//! Talking to tmux: one client call per command sequence (commands joined
//! with `;`), the server reached the way the `tmux` command reaches it
//! (`$TMUX`, else the default socket under `$TMUX_TMPDIR`) or through a
//! recorded socket, and the version check (tmux 3.0 or later).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};

use crate::error::bail_input;
use crate::process::{self, Cmd};
use crate::project;

/// A tmux client call that takes longer than this is a wedged server.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The oldest tmux we support: `new-window -e` and argv commands.
const MIN_VERSION: (u32, u32) = (3, 0);

/// A tmux server.
#[derive(Debug, Clone, Default)]
pub struct Tmux {
    socket: Option<PathBuf>,
}

/// A sequence of tmux commands sent in one client call.
#[derive(Debug, Clone, Default)]
pub struct Commands {
    argv: Vec<String>,
}

impl Commands {
    pub fn new() -> Commands {
        Commands::default()
    }

    /// Appends one command (`name` and its arguments).
    pub fn add<I, S>(&mut self, command: I) -> &mut Commands
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if !self.argv.is_empty() {
            self.argv.push(";".to_string());
        }
        self.argv.extend(
            command
                .into_iter()
                .map(|arg| escape_separator(arg.as_ref())),
        );
        self
    }

    pub fn argv(&self) -> &[String] {
        &self.argv
    }
}

/// An argument ending in `;` would end the command; `\;` keeps it literal.
fn escape_separator(arg: &str) -> String {
    match arg.strip_suffix(';') {
        Some(head) => format!("{head}\\;"),
        None => arg.to_string(),
    }
}

impl Tmux {
    /// The server the `tmux` command would reach from here.
    pub fn from_env() -> Tmux {
        Tmux { socket: None }
    }

    /// The server listening on `socket`; the environment's when `None`.
    pub fn at(socket: Option<&Path>) -> Tmux {
        Tmux {
            socket: socket.map(Path::to_path_buf),
        }
    }

    fn command(&self) -> Cmd {
        let cmd = process::cmd(program()).timeout(CALL_TIMEOUT);
        match &self.socket {
            Some(socket) => cmd.arg("-S").arg(socket),
            None => cmd,
        }
    }

    /// Runs `commands` in one client call and returns what they printed.
    pub fn run(&self, commands: &Commands) -> Result<String> {
        self.command().args(commands.argv()).output()
    }

    /// Runs one command given as arguments.
    pub fn run_one<I, S>(&self, command: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut commands = Commands::new();
        commands.add(command);
        self.run(&commands)
    }

    /// The command line that `run` would execute, for `--dry-run`.
    pub fn display(&self, commands: &Commands) -> String {
        self.command().args(commands.argv()).to_string()
    }

    /// Whether a server answers on this socket.
    pub fn server_running(&self) -> bool {
        self.command()
            .arg("list-sessions")
            .arg("-F")
            .arg("#{session_id}")
            .output_unchecked()
            .is_ok_and(|out| out.status.success())
    }

    /// A `tmux attach` (or `switch-client`) that hands over the terminal.
    pub fn interactive(&self, commands: &Commands) -> Cmd {
        self.command().args(commands.argv())
    }
}

/// tmux's full path, looked up once: spawning by name would make the OS try
/// every `PATH` entry on every call.
fn program() -> &'static Path {
    static PROGRAM: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PROGRAM.get_or_init(|| process::find_program("tmux").unwrap_or_else(|| PathBuf::from("tmux")))
}

/// Checks that tmux is installed and at least 3.0. The version is cached
/// under `SCOPECRAFT_HOME` per tmux binary (path, size, mtime), so the check
/// costs a few `stat` calls, not a process; `cache` false writes nothing.
pub fn check_installed(cache: bool) -> Result<()> {
    let Some(path) = process::find_program("tmux") else {
        bail_input!("tmux is not installed (no `tmux` on PATH); install tmux 3.0 or later");
    };
    let version = cached_version(&path, cache)?;
    let Some(parsed) = parse_version(&version) else {
        // An unusual build (`tmux next-3.4`, `tmux master`): trust it.
        return Ok(());
    };
    if parsed < MIN_VERSION {
        bail_input!(
            "{} is {version}; scopecraft-tmux needs tmux {}.{} or later",
            path.display(),
            MIN_VERSION.0,
            MIN_VERSION.1
        );
    }
    Ok(())
}

fn cached_version(tmux: &Path, write_cache: bool) -> Result<String> {
    let meta = fs::metadata(tmux).with_context(|| format!("reading {}", tmux.display()))?;
    let stamp = format!(
        "{}\t{}\t{}",
        tmux.display(),
        meta.len(),
        meta.modified()
            .ok()
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    );
    // One cache file per tmux binary: two tmuxes on PATH do not evict each other.
    let key = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        tmux.hash(&mut hasher);
        hasher.finish()
    };
    let cache = project::scopecraft_home()?
        .join("cache")
        .join(format!("tmux-version-{key:016x}"));
    if let Ok(text) = fs::read_to_string(&cache)
        && let Some((cached_stamp, version)) = text.trim_end().rsplit_once('\t')
        && cached_stamp == stamp
    {
        return Ok(version.to_string());
    }
    let version = process::cmd(tmux).arg("-V").output()?.trim().to_string();
    if write_cache {
        // A cache we cannot write only costs the next call a process.
        let _ = crate::books::write_atomic(&cache, format!("{stamp}\t{version}\n").as_bytes());
    }
    Ok(version)
}

/// `tmux 3.3a` → (3, 3); `tmux 2.9` → (2, 9).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    version_number(text.split_whitespace().nth(1)?)
}

/// `3.3a` (as `#{version}` gives it) → (3, 3); `next-3.4` → (3, 4).
pub fn version_number(number: &str) -> Option<(u32, u32)> {
    let number = number.trim();
    let number = number.strip_prefix("next-").unwrap_or(number);
    let mut parts = number.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()
        .unwrap_or("0")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// Quotes `value` for tmux's command parser (for command strings that
/// tmux parses itself: menu items, `run-shell`, `if-shell`). Single quotes
/// keep everything literal but `'`, which is closed, escaped and reopened.
pub fn quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('\'');
    for c in value.chars() {
        if c == '\'' {
            quoted.push_str("'\\''");
        } else {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    quoted
}

/// Makes `value` safe inside a tmux format (`#` starts a format).
pub fn escape_format(value: &str) -> String {
    value.replace('#', "##")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(parse_version("tmux 3.3a"), Some((3, 3)));
        assert_eq!(parse_version("tmux 2.9"), Some((2, 9)));
        assert_eq!(parse_version("tmux 3.0"), Some((3, 0)));
        assert_eq!(parse_version("tmux next-3.4"), Some((3, 4)));
        assert_eq!(parse_version("tmux master"), None);
    }

    #[test]
    fn joins_commands_and_escapes_trailing_semicolons() {
        let mut commands = Commands::new();
        commands
            .add(["set", "-g", "@x", "a;"])
            .add(["show", "-gv", "@x"]);
        assert_eq!(
            commands.argv(),
            ["set", "-g", "@x", "a\\;", ";", "show", "-gv", "@x"]
        );
    }

    #[test]
    fn quotes_for_the_command_parser() {
        assert_eq!(quote("plain"), "'plain'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(x) ; `y` #{z}"), "'$(x) ; `y` #{z}'");
    }
}
