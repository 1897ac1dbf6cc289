//! The runs that wait for their user (waiting or blocked), longest waiting
//! first: what the plugin's next key and the menu's entry go through, one
//! press after another.

use std::path::Path;

use anyhow::Result;

use crate::books::{self, Record, Status};

/// The runs that say they wait in every project's books: a glance at each
/// record, and only those that wait read in full (and corrected when their
/// supervisor is gone). A record that cannot be read is passed over.
pub fn everywhere() -> Result<Vec<Record>> {
    let mut records = Vec::new();
    for books in books::all_projects()? {
        for path in books.record_files()? {
            let Some(glance) = books::glance(&path).filter(|g| g.status == Status::Waiting) else {
                continue;
            };
            if let Ok(Some(record)) = books.read(&glance.session_name) {
                records.push(record);
            }
        }
    }
    Ok(records)
}

/// The live tmux runs of `records` that wait for their user, the one
/// waiting longest first.
pub fn queue(records: &[Record]) -> Vec<&Record> {
    let mut queue: Vec<&Record> = records
        .iter()
        .filter(|r| r.is_ours() && r.status == Status::Waiting)
        .filter(|r| window(r).is_some())
        .collect();
    queue.sort_by(|a, b| since(a).cmp(since(b)));
    queue
}

/// The run after the one in `current` (a window id) in `queue`, back to
/// the first after the last; the first when `current` is none of them.
pub fn after<'a>(queue: &[&'a Record], current: Option<&str>) -> Option<&'a Record> {
    let at = queue
        .iter()
        .position(|r| current.is_some() && window(r) == current);
    let next = at.map_or(0, |at| (at + 1) % queue.len());
    queue.get(next).copied()
}

/// The window of `record`'s run.
pub fn window(record: &Record) -> Option<&str> {
    record.tmux.as_ref()?.window_id.as_deref()
}

/// Whether `record`'s run is on the tmux server listening on `socket`
/// (a record that does not say is taken to be).
pub fn on_server(record: &Record, socket: &Path) -> bool {
    record
        .tmux
        .as_ref()
        .and_then(|place| place.socket.as_deref())
        .is_none_or(|recorded| recorded == socket)
}

/// When the run started to wait (RFC 3339, so it sorts as text).
pub fn since(record: &Record) -> &str {
    record
        .agent_state
        .as_ref()
        .map_or(record.last_updated.as_str(), |state| state.since.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::books::TmuxPlace;

    fn run(task: &str, status: Status, window: &str, since: &str) -> Record {
        let mut record: Record = serde_json::from_value(serde_json::json!({
            "sessionName": format!("{task}.implementation"),
            "taskId": task,
            "status": "running",
            "startTime": "2026-01-01T00:00:00.000Z",
            "lastUpdated": since,
            "logFile": "/nowhere",
            "type": "interactive",
            "execType": "tmux",
            "mode": "implementation",
        }))
        .unwrap();
        record.status = status;
        record.tmux = Some(TmuxPlace {
            session: "scopecraft".into(),
            window_name: format!("{task}-implementation"),
            window_id: Some(window.into()),
            pane_id: None,
            socket: None,
        });
        record
    }

    #[test]
    fn the_longest_waiting_first_then_round_from_the_current_one() {
        let records = [
            run("new", Status::Waiting, "@3", "2026-01-01T10:05:00.000Z"),
            run("busy", Status::Running, "@4", "2026-01-01T09:00:00.000Z"),
            run("old", Status::Waiting, "@1", "2026-01-01T10:00:00.000Z"),
            run("done", Status::Completed, "@5", "2026-01-01T08:00:00.000Z"),
        ];
        let queue = queue(&records);
        let tasks: Vec<&str> = queue.iter().map(|r| r.task_id.as_str()).collect();
        assert_eq!(tasks, ["old", "new"]);
        let next = |current| after(&queue, current).map(|r| r.task_id.as_str());
        assert_eq!(next(None), Some("old"));
        assert_eq!(
            next(Some("@4")),
            Some("old"),
            "from a window that waits not"
        );
        assert_eq!(next(Some("@1")), Some("new"));
        assert_eq!(next(Some("@3")), Some("old"), "round again");
        assert_eq!(after(&[], Some("@1")).map(|r| r.task_id.clone()), None);
    }

    #[test]
    fn only_runs_on_this_server() {
        let mut record = run("x", Status::Waiting, "@1", "2026-01-01T10:00:00.000Z");
        assert!(on_server(&record, Path::new("/tmp/a")));
        record.tmux.as_mut().unwrap().socket = Some("/tmp/b".into());
        assert!(!on_server(&record, Path::new("/tmp/a")));
        assert!(on_server(&record, Path::new("/tmp/b")));
    }
}
