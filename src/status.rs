//! The summary behind the status line: sessions counted by state over every
//! project's books, rendered with glyphs, and pushed into tmux options when
//! a state changes so that a status refresh starts no process.

use std::time::Duration;

use anyhow::Result;

use crate::books::{self, Record, Status};
use crate::tmux::{self, Commands};

/// Ended runs count in the summary for this long after they end.
pub const RECENT: Duration = Duration::from_secs(24 * 60 * 60);

/// Sessions by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub running: usize,
    pub waiting: usize,
    pub completed: usize,
    pub failed: usize,
    pub stopped: usize,
    pub interrupted: usize,
}

/// (state, glyph, tmux option) in display order.
pub const GLYPHS: [(Status, &str, &str); 6] = [
    (Status::Running, "●", "@scopecraft_running"),
    (Status::Waiting, "◐", "@scopecraft_waiting"),
    (Status::Completed, "✓", "@scopecraft_done"),
    (Status::Failed, "✗", "@scopecraft_failed"),
    (Status::Stopped, "■", "@scopecraft_stopped"),
    (Status::Interrupted, "⚠", "@scopecraft_interrupted"),
];

impl Counts {
    /// Live sessions, and sessions that ended within [`RECENT`].
    pub fn of<'a>(records: impl IntoIterator<Item = &'a Record>) -> Counts {
        let mut counts = Counts::default();
        // Scopecraft's own records say running forever: only ours count.
        for record in records.into_iter().filter(|r| r.is_ours()) {
            let counted = record.status.is_live()
                || record
                    .end_time
                    .as_deref()
                    .or(Some(record.last_updated.as_str()))
                    .and_then(books::age)
                    .is_some_and(|age| age <= RECENT);
            if counted {
                *counts.slot(record.status) += 1;
            }
        }
        counts
    }

    /// Over every project under `SCOPECRAFT_HOME`; records that say running
    /// are checked (and corrected) first.
    pub fn all() -> Result<Counts> {
        let mut records = Vec::new();
        for books in books::all_projects()? {
            for record in books.list_raw(false)? {
                records.push(if record.status.is_live() {
                    books.reconcile(record)?
                } else {
                    record
                });
            }
        }
        Ok(Counts::of(&records))
    }

    fn slot(&mut self, status: Status) -> &mut usize {
        match status {
            Status::Running => &mut self.running,
            Status::Waiting => &mut self.waiting,
            Status::Completed => &mut self.completed,
            Status::Failed => &mut self.failed,
            Status::Stopped => &mut self.stopped,
            Status::Interrupted => &mut self.interrupted,
        }
    }

    pub fn get(&self, status: Status) -> usize {
        match status {
            Status::Running => self.running,
            Status::Waiting => self.waiting,
            Status::Completed => self.completed,
            Status::Failed => self.failed,
            Status::Stopped => self.stopped,
            Status::Interrupted => self.interrupted,
        }
    }

    /// `● 2 ✗ 1`: a glyph and a count per state, zeros hidden.
    pub fn render(&self) -> String {
        GLYPHS
            .iter()
            .filter(|(status, _, _)| self.get(*status) > 0)
            .map(|(status, glyph, _)| format!("{glyph} {}", self.get(*status)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Appends the commands that publish these counts: one option per state
    /// and `@scopecraft_status`, the user's `@scopecraft-status-format`
    /// expanded over them when set, else the rendered default.
    pub fn push(&self, commands: &mut Commands) {
        for (status, _, option) in GLYPHS {
            commands.add(["set-option", "-g", option, &self.get(status).to_string()]);
        }
        let fallback = tmux::escape_format(&self.render()).replace([',', '}'], " ");
        commands.add([
            "set-option",
            "-gF",
            "@scopecraft_status",
            &format!("#{{?@scopecraft-status-format,#{{E:@scopecraft-status-format}},{fallback}}}"),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: Status, ended_hours_ago: Option<u64>) -> Record {
        let mut record: Record = serde_json::from_value(serde_json::json!({
            "sessionName": "s", "taskId": "t", "status": status,
            "startTime": books::now(), "execType": "tmux",
        }))
        .unwrap();
        record.last_updated = books::now();
        if let Some(hours) = ended_hours_ago {
            let then = std::time::SystemTime::now() - Duration::from_secs(hours * 3600);
            record.end_time = Some(humantime::format_rfc3339_millis(then).to_string());
        }
        record
    }

    #[test]
    fn counts_live_and_recent_runs_and_hides_zeros() {
        let records = [
            record(Status::Running, None),
            record(Status::Running, None),
            record(Status::Failed, Some(1)),
            record(Status::Completed, Some(48)),
        ];
        let counts = Counts::of(&records);
        assert_eq!(counts.running, 2);
        assert_eq!(counts.failed, 1);
        assert_eq!(counts.completed, 0, "ended two days ago");
        assert_eq!(counts.render(), "● 2 ✗ 1");
        assert_eq!(Counts::default().render(), "");
    }

    #[test]
    fn push_sets_every_count_then_the_status() {
        let counts = Counts {
            running: 1,
            ..Counts::default()
        };
        let mut commands = Commands::new();
        counts.push(&mut commands);
        let argv = commands.argv().join(" ");
        assert!(argv.starts_with(
            "set-option -g @scopecraft_running 1 ; set-option -g @scopecraft_waiting 0"
        ));
        assert!(argv.ends_with(
            "set-option -gF @scopecraft_status #{?@scopecraft-status-format,#{E:@scopecraft-status-format},● 1}"
        ));
    }
}
