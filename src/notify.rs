//! Telling the user that a run needs them (waiting, blocked) or ended
//! (completed, failed) when they are not looking at it: its window is not
//! the current window of any attached tmux client. A message on every
//! attached client and, in `desktop` mode, a desktop notification
//! (`osascript` on macOS, `notify-send` where a desktop session is, else
//! an OSC 777/9 escape written to the clients' terminals, which reaches a
//! terminal over SSH). One per run and state, not repeated within the
//! debounce window. Subagents never get here: their hook events change
//! nothing.

use std::io::Write;

use anyhow::Result;

use crate::books::{self, Books, Notified, Record};
use crate::config::{Config, NotifyMode};
use crate::process;
use crate::tmux::{Commands, Tmux};

/// The tmux option that says how to notify (`tmux`, `desktop`, `off`).
pub const OPTION: &str = "@scopecraft-notify";

/// An attached tmux client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub name: String,
    pub tty: String,
    pub window_id: String,
    pub termname: String,
}

/// Who could be told, and how the tmux option says to tell them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    pub clients: Vec<Client>,
    pub mode: Option<NotifyMode>,
}

/// A notification to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub text: String,
    /// The clients that show the message.
    pub clients: Vec<Client>,
    pub desktop: bool,
}

const CLIENT_FORMAT: &str = "#{client_name}\t#{client_tty}\t#{window_id}\t#{client_termname}";

/// The attached clients and the option, in one tmux call; nobody when
/// there is no tmux server.
pub fn audience(tmux: Option<&Tmux>) -> Audience {
    let Some(tmux) = tmux else {
        return Audience::default();
    };
    let mut commands = Commands::new();
    commands.add(["show-options", "-gq", OPTION]);
    commands.add(["list-clients", "-F", CLIENT_FORMAT]);
    tmux.run(&commands)
        .map(|out| parse_audience(&out))
        .unwrap_or_default()
}

fn parse_audience(out: &str) -> Audience {
    let mut audience = Audience::default();
    for line in out.lines() {
        if let Some(value) = line.strip_prefix(OPTION).and_then(|v| v.strip_prefix(' ')) {
            audience.mode = NotifyMode::parse(value.trim_matches('"'));
            continue;
        }
        if let [name, tty, window_id, termname] = line.split('\t').collect::<Vec<_>>()[..] {
            audience.clients.push(Client {
                name: name.to_string(),
                tty: tty.to_string(),
                window_id: window_id.to_string(),
                termname: termname.to_string(),
            });
        }
    }
    audience
}

/// Whether a run's new state deserves a notification.
pub fn notable(state: &str) -> bool {
    matches!(state, "waiting" | "blocked" | "failed" | "completed")
}

/// The notification of `record`'s state, if one is due: a notable state,
/// notifications not off, nobody looking at its window, and not the same
/// state notified within the debounce window.
pub fn decide(
    record: &Record,
    audience: &Audience,
    config: &Config,
    text: String,
) -> Option<Alert> {
    let state = record.state_word();
    if !notable(state) {
        return None;
    }
    let mode = audience
        .mode
        .or(config.notify.mode)
        .unwrap_or(NotifyMode::Tmux);
    if mode == NotifyMode::Off {
        return None;
    }
    let window = record.tmux.as_ref().and_then(|p| p.window_id.as_deref());
    if let Some(window) = window
        && audience.clients.iter().any(|c| c.window_id == window)
    {
        return None;
    }
    if let Some(last) = &record.notified
        && last.state == state
        && books::age(&last.at).is_some_and(|age| age < config.notify_debounce())
    {
        return None;
    }
    Some(Alert {
        text,
        clients: audience.clients.clone(),
        desktop: mode == NotifyMode::Desktop,
    })
}

/// Adds the tmux messages of `alert` to `commands`: one per client.
pub fn messages(alert: &Alert, commands: &mut Commands) {
    let text = crate::tmux::escape_format(&alert.text);
    for client in &alert.clients {
        commands.add(["display-message", "-c", &client.name, &text]);
    }
}

/// Gives the desktop notification, without waiting for it.
pub fn desktop(alert: &Alert) {
    if !alert.desktop {
        return;
    }
    const TITLE: &str = "scopecraft-tmux";
    let started = if let Some(osascript) = process::find_program("osascript") {
        // The text is an argument of the script, never part of it.
        process::cmd(osascript)
            .args([
                "-e",
                "on run argv",
                "-e",
                "display notification (item 1 of argv) with title \"scopecraft-tmux\"",
                "-e",
                "end run",
                &alert.text,
            ])
            .spawn()
            .is_ok()
    } else if let Some(notify_send) = process::find_program("notify-send")
        && ["DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"]
            .iter()
            .any(|name| std::env::var_os(name).is_some())
    {
        process::cmd(notify_send)
            .args(["--app-name", TITLE, TITLE, &alert.text])
            .spawn()
            .is_ok()
    } else {
        false
    };
    if started {
        return;
    }
    // No notifier here (a machine reached over SSH): ask the terminals.
    let text: String = alert
        .text
        .chars()
        .filter(|c| !c.is_control() && *c != ';')
        .collect();
    for client in &alert.clients {
        let escape = if client.termname.contains("rxvt") || client.termname.starts_with("foot") {
            format!("\x1b]777;notify;{TITLE};{text}\x07")
        } else {
            format!("\x1b]9;{TITLE}: {text}\x07")
        };
        if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open(&client.tty) {
            let _ = tty.write_all(escape.as_bytes());
        }
    }
}

/// Records that `state` was notified now (the debounce's memory).
pub fn stamp(books: &Books, name: &str, state: &str) -> Result<()> {
    let _lock = books.lock(name)?;
    let Some(mut record) = books.read_raw(name)? else {
        return Ok(());
    };
    record.notified = Some(Notified {
        state: state.to_string(),
        at: books::now(),
    });
    books.write(&mut record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: &str, window: &str) -> Record {
        serde_json::from_value(serde_json::json!({
            "sessionName": "t-11A.auto", "taskId": "t-11A", "status": status,
            "startTime": "2026-01-01T00:00:00.000Z", "execType": "tmux",
            "tmux": {"session": "scopecraft", "windowName": "t-11A-auto", "windowId": window},
        }))
        .unwrap()
    }

    fn client(window: &str) -> Client {
        Client {
            name: "/dev/pts/1".into(),
            tty: "/dev/pts/1".into(),
            window_id: window.into(),
            termname: "xterm-256color".into(),
        }
    }

    #[test]
    fn reads_the_option_and_the_clients() {
        let audience =
            parse_audience("@scopecraft-notify desktop\n/dev/pts/1\t/dev/pts/1\t@3\txterm\n");
        assert_eq!(audience.mode, Some(NotifyMode::Desktop));
        assert_eq!(audience.clients.len(), 1);
        assert_eq!(audience.clients[0].window_id, "@3");
        assert_eq!(parse_audience("").mode, None);
    }

    #[test]
    fn only_when_it_matters_and_nobody_looks() {
        let config = Config::default();
        let away = Audience {
            clients: vec![client("@1")],
            mode: None,
        };
        let waiting = record("waiting", "@7");
        let alert = decide(&waiting, &away, &config, "t".into()).expect("not looking");
        assert!(!alert.desktop);
        let looking = Audience {
            clients: vec![client("@1"), client("@7")],
            mode: None,
        };
        assert!(decide(&waiting, &looking, &config, "t".into()).is_none());
        assert!(decide(&record("running", "@7"), &away, &config, "t".into()).is_none());
        assert!(decide(&record("stopped", "@7"), &away, &config, "t".into()).is_none());
        let off = Audience {
            mode: Some(NotifyMode::Off),
            ..away.clone()
        };
        assert!(decide(&waiting, &off, &config, "t".into()).is_none());
        let desktop = Audience {
            mode: Some(NotifyMode::Desktop),
            ..away.clone()
        };
        assert!(
            decide(&waiting, &desktop, &config, "t".into())
                .unwrap()
                .desktop
        );

        // Debounced: the same state again soon is not repeated; another is.
        let mut again = waiting;
        again.notified = Some(Notified {
            state: "waiting".into(),
            at: books::now(),
        });
        assert!(decide(&again, &away, &config, "t".into()).is_none());
        let mut failed = record("failed", "@7");
        failed.notified = again.notified;
        assert!(decide(&failed, &away, &config, "t".into()).is_some());
    }
}
