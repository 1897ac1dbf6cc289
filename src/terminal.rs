//! Opening a GUI terminal attached to a session's window, for `attach
//! --terminal`: WezTerm, iTerm2, Terminal.app, GNOME Terminal, Konsole,
//! x-terminal-emulator, Windows Terminal (from WSL).

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result};

use crate::error::bail_input;
use crate::process;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Gui {
    /// The first available, in the order below
    Auto,
    Wezterm,
    Iterm2,
    /// macOS Terminal.app
    Terminal,
    GnomeTerminal,
    Konsole,
    XTerminalEmulator,
    /// Windows Terminal, from WSL
    Wt,
}

/// `auto` tries these in order (the seeds' order, GNOME and Konsole before
/// the Debian alternative).
const AUTO_ORDER: [Gui; 7] = [
    Gui::Wezterm,
    Gui::Iterm2,
    Gui::Terminal,
    Gui::GnomeTerminal,
    Gui::Konsole,
    Gui::XTerminalEmulator,
    Gui::Wt,
];

impl Gui {
    pub fn name(self) -> &'static str {
        match self {
            Gui::Auto => "auto",
            Gui::Wezterm => "wezterm",
            Gui::Iterm2 => "iterm2",
            Gui::Terminal => "terminal",
            Gui::GnomeTerminal => "gnome-terminal",
            Gui::Konsole => "konsole",
            Gui::XTerminalEmulator => "x-terminal-emulator",
            Gui::Wt => "wt",
        }
    }

    /// Whether this terminal can be started here.
    fn available(self) -> bool {
        let macos_app = |app: &str| {
            std::env::consts::OS == "macos"
                && process::find_program("osascript").is_some()
                && Path::new(app).exists()
        };
        match self {
            Gui::Auto => false,
            Gui::Wezterm => process::find_program("wezterm").is_some(),
            Gui::Iterm2 => macos_app("/Applications/iTerm.app"),
            Gui::Terminal => macos_app("/System/Applications/Utilities/Terminal.app"),
            Gui::GnomeTerminal => process::find_program("gnome-terminal").is_some(),
            Gui::Konsole => process::find_program("konsole").is_some(),
            Gui::XTerminalEmulator => process::find_program("x-terminal-emulator").is_some(),
            Gui::Wt => process::find_program("wt.exe").is_some(),
        }
    }

    /// The program and arguments that open this terminal running `attach`
    /// (a tmux argv). iTerm2 and Terminal.app take AppleScript, so there the
    /// command is a shell-quoted string inside an escaped AppleScript string.
    pub fn argv(self, attach: &[String]) -> Vec<String> {
        let mut argv: Vec<String> = match self {
            Gui::Auto => Vec::new(),
            Gui::Wezterm => vec!["wezterm".into(), "start".into(), "--".into()],
            Gui::Iterm2 => {
                return vec![
                    "osascript".into(),
                    "-e".into(),
                    format!(
                        "tell application \"iTerm2\" to create window with default profile command \"{}\"",
                        applescript_escape(&shell_words::join(attach))
                    ),
                ];
            }
            Gui::Terminal => {
                return vec![
                    "osascript".into(),
                    "-e".into(),
                    format!(
                        "tell application \"Terminal\" to do script \"{}\"",
                        applescript_escape(&format!("exec {}", shell_words::join(attach)))
                    ),
                    "-e".into(),
                    "tell application \"Terminal\" to activate".into(),
                ];
            }
            Gui::GnomeTerminal => vec!["gnome-terminal".into(), "--".into()],
            Gui::Konsole => vec!["konsole".into(), "-e".into()],
            Gui::XTerminalEmulator => vec!["x-terminal-emulator".into(), "-e".into()],
            Gui::Wt => {
                let mut argv = vec!["wt.exe".into(), "wsl.exe".into()];
                if let Ok(distro) = std::env::var("WSL_DISTRO_NAME") {
                    argv.extend(["-d".into(), distro]);
                }
                argv.push("-e".into());
                argv
            }
        };
        argv.extend(attach.iter().cloned());
        argv
    }
}

fn applescript_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Resolves `auto` to the first available terminal.
pub fn pick(requested: Gui) -> Result<Gui> {
    if requested != Gui::Auto {
        return Ok(requested);
    }
    match AUTO_ORDER.into_iter().find(|t| t.available()) {
        Some(found) => Ok(found),
        None => bail_input!(
            "no GUI terminal found (tried {}); pass --terminal NAME, or attach from a shell",
            AUTO_ORDER.map(Gui::name).join(", ")
        ),
    }
}

/// Starts `terminal` running `attach`, without waiting for it to close;
/// the child is returned for a caller that lives on to wait for.
pub fn open(terminal: Gui, attach: &[String]) -> Result<std::process::Child> {
    let argv = terminal.argv(attach);
    let (program, args) = argv.split_first().context("a terminal command")?;
    let mut cmd = process::cmd(program).args(args);
    cmd.command_mut()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    {
        use std::os::unix::process::CommandExt;
        cmd.command_mut().process_group(0);
    }
    cmd.spawn()
        .with_context(|| format!("opening {}", terminal.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attach() -> Vec<String> {
        ["tmux", "-S", "/tmp/my sock", "attach-session", "-t", "@3"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn argv_per_terminal() {
        assert_eq!(
            Gui::Wezterm.argv(&attach()),
            [
                "wezterm",
                "start",
                "--",
                "tmux",
                "-S",
                "/tmp/my sock",
                "attach-session",
                "-t",
                "@3"
            ]
        );
        assert_eq!(Gui::Konsole.argv(&attach())[..2], ["konsole", "-e"]);
        assert_eq!(
            Gui::GnomeTerminal.argv(&attach())[..2],
            ["gnome-terminal", "--"]
        );
        assert_eq!(
            Gui::XTerminalEmulator.argv(&attach())[..2],
            ["x-terminal-emulator", "-e"]
        );
        let iterm = Gui::Iterm2.argv(&attach());
        assert_eq!(iterm[0], "osascript");
        assert_eq!(
            iterm[2],
            "tell application \"iTerm2\" to create window with default profile command \
             \"tmux -S '/tmp/my sock' attach-session -t @3\""
        );
    }
}
