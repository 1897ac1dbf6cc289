//! What attaching to a session needs: its tmux window, checked to be open,
//! and the `tmux attach` command line a terminal runs.

use anyhow::Result;

use crate::books::{ExecType, Record, TmuxPlace};
use crate::error::bail_input;
use crate::tmux::{self, Tmux};

/// A session's open window.
#[derive(Debug, Clone)]
pub struct Window {
    pub place: TmuxPlace,
    /// The window's id (`@3`).
    pub id: String,
    /// `tmux [-S socket] attach-session -t @3`.
    pub attach: Vec<String>,
}

/// The open window of `record`'s session; a headless run, a gone server
/// or a closed window is bad input, said so with what to do instead.
pub fn window(record: &Record) -> Result<Window> {
    let (Some(ExecType::Tmux), Some(place)) = (record.exec_type, &record.tmux) else {
        if record.exec_type == Some(ExecType::Terminal) {
            bail_input!(
                "{} ({}) {} in the terminal that ran `work`; there is no window to attach to",
                record.task_id,
                record.mode_name(),
                if record.status.is_live() {
                    "runs"
                } else {
                    "ran"
                }
            );
        }
        if record.status.is_live() {
            bail_input!(
                "{} ({}) runs headless; there is no window to attach to. Follow it with: scopecraft-tmux logs {} --mode {} -f",
                record.task_id,
                record.mode_name(),
                record.task_id,
                record.mode_name()
            );
        }
        bail_input!(
            "{} ({}) ran headless and has ended: {}; there is no window to attach to. See what it did with: scopecraft-tmux logs {} --mode {}",
            record.task_id,
            record.mode_name(),
            how_it_ended(record),
            record.task_id,
            record.mode_name()
        );
    };
    let Some(window) = place.window_id.clone() else {
        bail_input!("{} has no tmux window recorded", record.session_name);
    };
    // Without tmux no server answers, whatever runs.
    tmux::check_installed(true)?;
    let tmux = Tmux::at(place.socket.as_deref());
    if !tmux.server_running() {
        bail_input!(
            "the tmux server of {} is gone ({}); the session was {}",
            record.session_name,
            place
                .socket
                .as_ref()
                .map_or("default socket".into(), |s| s.display().to_string()),
            record.status
        );
    }
    // Closed once its run ended (a key pressed, or the window killed).
    if tmux
        // list-panes fails on a missing target; display-message does not.
        .run_one(["list-panes", "-t", &window, "-F", "#{window_id}"])
        .is_err()
    {
        bail_input!(
            "the window of {} ({}) is closed: the session {}; see what it did with: scopecraft-tmux logs {} --mode {}",
            record.task_id,
            record.mode_name(),
            how_it_ended(record),
            record.task_id,
            record.mode_name()
        );
    }
    let mut attach = vec!["tmux".to_string()];
    if let Some(socket) = &place.socket {
        attach.extend(["-S".to_string(), socket.display().to_string()]);
    }
    attach.extend([
        "attach-session".to_string(),
        "-t".to_string(),
        window.clone(),
    ]);
    Ok(Window {
        place: place.clone(),
        id: window,
        attach,
    })
}

/// `completed (exit 0)`, `failed (SIGKILL)`, `stopped`.
fn how_it_ended(record: &Record) -> String {
    match record.outcome() {
        outcome if outcome.is_empty() => record.status.to_string(),
        outcome => format!("{} ({outcome})", record.status),
    }
}
