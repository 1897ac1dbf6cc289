//! The summary behind the status line: sessions counted by state over every
//! project's books, rendered with glyphs, and pushed into tmux options when
//! a state changes so that a status refresh starts no process.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;

use crate::books::{self, Books};
use crate::notify;
use crate::procs;
use crate::project;
use crate::tmux::{self, Commands, Tmux};

/// Ended runs count in the summary for this long after they end.
pub const RECENT: Duration = Duration::from_secs(24 * 60 * 60);

/// Sessions by state, in the order of [`GLYPHS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts([usize; GLYPHS.len()]);

/// (state as `Record::state_word` says it, glyph, tmux option) in display
/// order: the runs that need their user first.
pub const GLYPHS: [(&str, &str, &str); 8] = [
    ("waiting", "◐", "@scopecraft_waiting"),
    ("blocked", "⊘", "@scopecraft_blocked"),
    ("stuck", "⧗", "@scopecraft_stuck"),
    ("running", "●", "@scopecraft_running"),
    ("completed", "✓", "@scopecraft_done"),
    ("failed", "✗", "@scopecraft_failed"),
    ("stopped", "■", "@scopecraft_stopped"),
    ("interrupted", "⚠", "@scopecraft_interrupted"),
];

impl Counts {
    /// Live sessions, and sessions that ended within [`RECENT`].
    #[cfg(test)]
    pub fn of<'a>(records: impl IntoIterator<Item = &'a books::Record>) -> Counts {
        let mut tally = Tally::default();
        for record in records.into_iter().filter(|r| r.is_ours()) {
            tally.add(
                record.state_word(),
                &record.last_updated,
                record.end_time.as_deref(),
            );
        }
        tally.counts
    }

    /// Over every project under `SCOPECRAFT_HOME`; records that say running
    /// are checked (and corrected) first. Unreadable files are passed over.
    pub fn all() -> Result<Counts> {
        Ok(Tally::of(&books::all_projects()?)?.counts)
    }

    /// [`Counts::all`] through a small cache (`cache/status-line` under
    /// `SCOPECRAFT_HOME`), for `status-line` run by a status bar every few
    /// seconds. The cache holds while no session folder changed (every
    /// record write is a rename, which changes the folder), every live
    /// session's supervisor still runs, and no counted run has aged out.
    pub fn cached() -> Result<Counts> {
        let books = books::all_projects()?;
        let folders: Vec<Folder> = books.iter().map(|b| Folder::of(b.dir())).collect();
        let path = project::scopecraft_home()?
            .join("cache")
            .join("status-line");
        if let Some(cache) = fs::read_to_string(&path)
            .ok()
            .and_then(|text| Cache::parse(&text))
            && cache.holds(&folders)
        {
            return Ok(cache.tally.counts);
        }
        let tally = Tally::of(&books)?;
        // A folder changed within the file system's timestamp granularity
        // may change again without its time changing: do not trust it yet.
        let settled = folders.iter().all(|folder| {
            folder
                .modified
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_some_and(|age| age > RACY)
        });
        if settled {
            // A cache we cannot write only costs the next call a recount.
            let _ = books::write_atomic(&path, Cache::render(&folders, &tally).as_bytes());
        }
        Ok(tally.counts)
    }

    fn slot(&mut self, state: &str) -> Option<&mut usize> {
        let at = GLYPHS.iter().position(|(word, _, _)| *word == state)?;
        Some(&mut self.0[at])
    }

    /// The count of runs in `state` (as `Record::state_word` says it).
    #[cfg(test)]
    pub fn get(&self, state: &str) -> usize {
        GLYPHS
            .iter()
            .position(|(word, _, _)| *word == state)
            .map_or(0, |at| self.0[at])
    }

    /// `● 2 ✗ 1`: a glyph and a count per state, zeros hidden.
    pub fn render(&self) -> String {
        GLYPHS
            .iter()
            .zip(self.0)
            .filter(|(_, count)| *count > 0)
            .map(|((_, glyph, _), count)| format!("{glyph} {count}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Appends the commands that publish these counts: one option per state
    /// and `@scopecraft_status`, the user's `@scopecraft-status-format`
    /// expanded over them when set, else the rendered default.
    pub fn push(&self, commands: &mut Commands) {
        for ((_, _, option), count) in GLYPHS.iter().zip(self.0) {
            commands.add(["set-option", "-g", option, &count.to_string()]);
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

/// A session folder and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Folder {
    path: PathBuf,
    modified: Option<SystemTime>,
}

impl Folder {
    fn of(path: &Path) -> Folder {
        Folder {
            path: path.to_path_buf(),
            modified: fs::metadata(path).and_then(|m| m.modified()).ok(),
        }
    }

    fn stamp(&self) -> u128 {
        self.modified
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    }
}

/// A supervisor recorded for a live session.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Supervisor {
    pid: u32,
    ticks: Option<u64>,
    boot: Option<String>,
}

/// The counts, and what would make them stale.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tally {
    counts: Counts,
    /// The supervisors of the live sessions that have one.
    live: Vec<Supervisor>,
    /// When the first counted ended run leaves the summary (Unix seconds).
    expires: Option<u64>,
}

impl Tally {
    fn of(all_books: &[Books]) -> Result<Tally> {
        let mut tally = Tally::default();
        for books in all_books {
            for path in books.record_files()? {
                let Some(glance) = books::glance(&path) else {
                    continue;
                };
                if glance.status.is_live() {
                    // Rare: read in full, and corrected when its supervisor is gone.
                    if let Some(record) = books.read(&glance.session_name)? {
                        tally.add(
                            record.state_word(),
                            &record.last_updated,
                            record.end_time.as_deref(),
                        );
                        if record.status.is_live()
                            && let Some(pid) = record.supervisor_pid
                        {
                            tally.live.push(Supervisor {
                                pid,
                                ticks: record.supervisor_start_ticks,
                                boot: record.boot_id,
                            });
                        }
                    }
                } else {
                    tally.add(
                        glance.status.as_str(),
                        &glance.last_updated,
                        glance.end_time.as_deref(),
                    );
                }
            }
        }
        Ok(tally)
    }

    /// Counts a run in `state`: live ones always, ended ones for [`RECENT`].
    fn add(&mut self, state: &str, last_updated: &str, end_time: Option<&str>) {
        let Some(slot) = self.counts.slot(state) else {
            return;
        };
        if matches!(state, "running" | "waiting" | "blocked" | "stuck") {
            *slot += 1;
            return;
        }
        let ended = end_time.unwrap_or(last_updated);
        let Ok(ended) = humantime::parse_rfc3339(ended) else {
            return;
        };
        let leaves = ended + RECENT;
        if leaves > SystemTime::now() {
            *slot += 1;
            let leaves = leaves.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            self.expires = Some(self.expires.map_or(leaves, |e| e.min(leaves)));
        }
    }
}

/// The cached summary: the counts and the state they were taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cache {
    folders: Vec<(u128, PathBuf)>,
    tally: Tally,
}

const CACHE_HEADER: &str = "scopecraft-tmux status-line cache 2";

/// Folder times closer to now than this are not trusted for the cache.
const RACY: Duration = Duration::from_secs(2);

impl Cache {
    fn render(folders: &[Folder], tally: &Tally) -> String {
        let counts: Vec<String> = tally.counts.0.iter().map(usize::to_string).collect();
        let mut text = format!(
            "{CACHE_HEADER}\ncounts {}\nexpires {}\n",
            counts.join(" "),
            tally.expires.map_or("-".to_string(), |e| e.to_string())
        );
        for supervisor in &tally.live {
            text.push_str(&format!(
                "live {} {} {}\n",
                supervisor.pid,
                supervisor.ticks.map_or("-".to_string(), |t| t.to_string()),
                supervisor.boot.as_deref().unwrap_or("-")
            ));
        }
        for folder in folders {
            text.push_str(&format!(
                "folder {} {}\n",
                folder.stamp(),
                folder.path.display()
            ));
        }
        text
    }

    fn parse(text: &str) -> Option<Cache> {
        let mut lines = text.lines();
        if lines.next()? != CACHE_HEADER {
            return None;
        }
        let mut cache = Cache {
            folders: Vec::new(),
            tally: Tally::default(),
        };
        for line in lines {
            let (kind, rest) = line.split_once(' ')?;
            match kind {
                "counts" => {
                    let n: Vec<usize> = rest
                        .split(' ')
                        .map(str::parse)
                        .collect::<Result<_, _>>()
                        .ok()?;
                    cache.tally.counts = Counts(n.try_into().ok()?);
                }
                "expires" => {
                    cache.tally.expires = match rest {
                        "-" => None,
                        secs => Some(secs.parse().ok()?),
                    };
                }
                "live" => {
                    let mut fields = rest.split(' ');
                    let pid = fields.next()?.parse().ok()?;
                    let ticks = fields.next()?;
                    let boot = fields.next()?;
                    cache.tally.live.push(Supervisor {
                        pid,
                        ticks: (ticks != "-").then(|| ticks.parse()).transpose().ok()?,
                        boot: (boot != "-").then(|| boot.to_string()),
                    });
                }
                "folder" => {
                    let (stamp, path) = rest.split_once(' ')?;
                    cache
                        .folders
                        .push((stamp.parse().ok()?, PathBuf::from(path)));
                }
                _ => return None,
            }
        }
        Some(cache)
    }

    /// Whether the counts still describe the books.
    fn holds(&self, folders: &[Folder]) -> bool {
        let same_folders = self.folders.len() == folders.len()
            && self
                .folders
                .iter()
                .zip(folders)
                .all(|((stamp, path), folder)| *path == folder.path && *stamp == folder.stamp());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        same_folders
            && self.tally.expires.is_none_or(|expires| now < expires)
            && self.tally.live.iter().all(|supervisor| {
                procs::is_alive(supervisor.pid, supervisor.ticks, supervisor.boot.as_deref())
            })
    }
}

/// Tells tmux a session's state changed: the window's `@scopecraft-state`
/// (when the window is still there), the counts, and the notification's
/// messages when there is one. One tmux call.
pub fn publish(
    tmux: &Tmux,
    pane: Option<&str>,
    state: &str,
    alert: Option<&notify::Alert>,
) -> Result<()> {
    let mut commands = Commands::new();
    if let Some(pane) = pane {
        commands.add(["set-option", "-w", "-t", pane, "@scopecraft-state", state]);
    }
    Counts::all()?.push(&mut commands);
    if let Some(alert) = alert {
        notify::messages(alert, &mut commands);
    }
    tmux.run(&commands).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::books::{Record, Status};

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
        assert_eq!(counts.get("running"), 2);
        assert_eq!(counts.get("failed"), 1);
        assert_eq!(counts.get("completed"), 0, "ended two days ago");
        assert_eq!(counts.render(), "● 2 ✗ 1");
        assert_eq!(Counts::default().render(), "");
    }

    #[test]
    fn push_sets_every_count_then_the_status() {
        let mut counts = Counts::default();
        *counts.slot("running").unwrap() += 1;
        let mut commands = Commands::new();
        counts.push(&mut commands);
        let argv = commands.argv().join(" ");
        assert!(argv.starts_with(
            "set-option -g @scopecraft_waiting 0 ; set-option -g @scopecraft_blocked 0"
        ));
        assert!(argv.contains("set-option -g @scopecraft_running 1 ;"));
        assert!(argv.ends_with(
            "set-option -gF @scopecraft_status #{?@scopecraft-status-format,#{E:@scopecraft-status-format},● 1}"
        ));
    }

    fn cache_with(live: Vec<Supervisor>, expires: Option<u64>) -> (Vec<Folder>, Cache) {
        let dir = std::env::temp_dir();
        let folders = vec![Folder::of(&dir)];
        let mut counts = Counts::default();
        *counts.slot("running").unwrap() = live.len();
        *counts.slot("failed").unwrap() = 2;
        let tally = Tally {
            counts,
            live,
            expires,
        };
        let cache = Cache::parse(&Cache::render(&folders, &tally)).unwrap();
        assert_eq!(cache.tally, tally, "read back as written");
        (folders, cache)
    }

    fn in_an_hour() -> Option<u64> {
        Some(
            (SystemTime::now() + Duration::from_secs(3600))
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
    }

    #[test]
    fn the_cache_holds_while_nothing_changed() {
        let me = std::process::id();
        let alive = Supervisor {
            pid: me,
            ticks: procs::start_ticks(me),
            boot: procs::boot_id(),
        };
        let (folders, cache) = cache_with(vec![alive], in_an_hour());
        assert!(cache.holds(&folders));
    }

    #[test]
    fn the_cache_fails_when_a_folder_changes_a_supervisor_dies_or_a_run_ages_out() {
        let (folders, cache) = cache_with(Vec::new(), in_an_hour());
        let mut touched = folders.clone();
        touched[0].modified = touched[0].modified.map(|m| m + Duration::from_nanos(1));
        assert!(!cache.holds(&touched), "a folder changed");
        let mut more = folders;
        more.push(Folder::of(Path::new("/")));
        assert!(!cache.holds(&more), "a project appeared");

        let dead = Supervisor {
            pid: u32::MAX - 1,
            ticks: None,
            boot: None,
        };
        let (folders, cache) = cache_with(vec![dead], in_an_hour());
        assert!(!cache.holds(&folders), "a supervisor is gone");

        let (folders, cache) = cache_with(Vec::new(), Some(1));
        assert!(!cache.holds(&folders), "a counted run aged out");
    }

    #[test]
    fn a_foreign_or_torn_cache_is_not_read() {
        assert!(Cache::parse("").is_none());
        assert!(Cache::parse("something else\ncounts 1 2 3 4 5 6 7 8\n").is_none());
        assert!(Cache::parse(&format!("{CACHE_HEADER}\ncounts 1 2\n")).is_none());
    }
}
