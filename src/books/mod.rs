//! The books, under `$SCOPECRAFT_HOME/projects/<encoded-root>/sessions/`:
//! per session key (task, mode) one record `<task>.<mode>.session.json`,
//! written atomically, locked per key, and corrected when it says running
//! while its supervisor is gone; per run one record for Scopecraft's reader,
//! `task-<taskId>-<epochMs>.info.json` with its log
//! `logs/task-<taskId>-<epochMs>.log`, written from the session's record
//! each time that is. Session records of the earlier layout
//! (`<task>.<mode>.info.json`) are read, and moved to the new one at their
//! first write once their run has ended.

mod record;
pub mod worktrees;

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

pub use record::{
    Activity, AgentState, ExecType, Notified, Record, Run, Status, TmuxPlace, WorktreePlace,
};

use crate::files;
use crate::procs;
use crate::project::{self, Project};

/// The few fields of a record a summary needs. Reading only these keeps
/// `status-line` and `next` fast over thousands of records: the full record
/// (with its catch-all for unknown fields) costs several times more to parse.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Glance {
    pub session_name: String,
    pub status: Status,
    #[serde(default)]
    pub last_updated: String,
    #[serde(default)]
    pub end_time: Option<String>,
    /// Present in ours only: Scopecraft's own records say running forever.
    #[serde(default)]
    exec_type: Option<serde::de::IgnoredAny>,
}

/// A glance at the record at `path`: ours only; `None` when unreadable.
pub fn glance(path: &Path) -> Option<Glance> {
    let bytes = files::read_capped(path, files::MAX_RECORD).ok()?;
    serde_json::from_slice::<Glance>(&bytes)
        .ok()
        .filter(|glance| glance.exec_type.is_some())
}

/// A session's record (ours only: Scopecraft's reader passes it over).
const SESSION_SUFFIX: &str = ".session.json";
/// Scopecraft's record suffix: a run's record, Scopecraft's own records,
/// and session records of the earlier layout (whose names hold a `.`).
const RECORD_SUFFIX: &str = ".info.json";

/// A record with no supervisor yet is given this long to get one before
/// it counts as interrupted (the dispatch that wrote it died half-way).
const STARTUP_GRACE: Duration = Duration::from_secs(30);

/// One project's session folder.
#[derive(Debug, Clone)]
pub struct Books {
    dir: PathBuf,
}

impl Books {
    pub fn for_project(project: &Project) -> Result<Books> {
        Ok(Books {
            dir: project.home()?.join("sessions"),
        })
    }

    pub fn at(dir: PathBuf) -> Books {
        Books { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The session record of `session_name` (`<task>.<mode>`).
    pub fn record_path(&self, session_name: &str) -> PathBuf {
        self.dir.join(format!("{session_name}{SESSION_SUFFIX}"))
    }

    /// Where the earlier layout kept the session record.
    fn legacy_path(&self, session_name: &str) -> PathBuf {
        self.dir.join(format!("{session_name}{RECORD_SUFFIX}"))
    }

    /// The log named after a record: a run's (`task-<taskId>-<epochMs>`),
    /// or, in the earlier layout, a whole session's.
    pub fn log_path(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.log"))
    }

    /// A run's record for Scopecraft.
    pub fn run_record_path(&self, run: &str) -> PathBuf {
        self.dir.join(format!("{run}{RECORD_SUFFIX}"))
    }

    /// A tmux run's terminal output, for people; outside `logs/`, where
    /// Scopecraft's reader takes every file for a stream-json log.
    pub fn terminal_log_path(&self, run: &str) -> PathBuf {
        self.dir.join("terminal").join(format!("{run}.log"))
    }

    /// Where a tmux run's terminal output goes: beside the run's record,
    /// or, for a session of the earlier layout, its one log.
    pub fn terminal_log(&self, record: &Record) -> PathBuf {
        match record.run_name() {
            Some(run) => self.terminal_log_path(run),
            None => record.log_file.clone(),
        }
    }

    /// Names a new run of `task_id` started at `epoch_ms` and creates its
    /// (empty) log, so that no other run takes the name: a run of the same
    /// task in another mode started in the same millisecond gets the next.
    pub fn new_run(&self, task_id: &str, epoch_ms: u128) -> Result<String> {
        let logs = self.dir.join("logs");
        fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        let mut ms = epoch_ms;
        loop {
            let name = run_name(task_id, ms);
            let path = self.log_path(&name);
            match files::create_new(&path) {
                Ok(_) => return Ok(name),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => ms += 1,
                Err(err) => {
                    return Err(err).with_context(|| format!("creating {}", path.display()));
                }
            }
        }
    }

    /// Removes a run that never started: its record and its log.
    pub fn discard_run(&self, run: &str) {
        let _ = fs::remove_file(self.run_record_path(run));
        let _ = fs::remove_file(self.log_path(run));
    }

    /// A session's lock file. Lock files live beside the records under
    /// names no record, log or prompt can have (a leading `.`), and the two
    /// kinds of lock cannot share a name either: see [`Books::worktree_lock`].
    fn lock_path(&self, session_name: &str) -> PathBuf {
        self.dir.join(format!(".{session_name}.lock"))
    }

    fn worktree_lock_path(&self, env_id: &str) -> PathBuf {
        // `@` is in no session name (a task id and mode segments joined by
        // `.`), so a mode named `worktree` does not make this a session's
        // lock, which its own dispatch would then take twice.
        self.dir.join(format!(".{env_id}@worktree.lock"))
    }

    /// Holds the session's lock until dropped; every read-modify-write of a
    /// record happens under it.
    pub fn lock(&self, session_name: &str) -> Result<KeyLock> {
        self.lock_file(&self.lock_path(session_name))
    }

    /// Holds the lock of a task environment's worktree until dropped: it is
    /// made, reused by a dispatch (until its record is written) and removed
    /// under this lock, so parallel subtasks share one worktree and `clean`
    /// never removes one a dispatch is about to use. Taken after a session
    /// lock, never before one.
    pub fn worktree_lock(&self, env_id: &str) -> Result<KeyLock> {
        self.lock_file(&self.worktree_lock_path(env_id))
    }

    /// Locks `path`, a file that exists only while someone holds or waits
    /// for it: the holder removes it on release (so no lock files pile up),
    /// and a waiter that then gets the lock of a removed file finds that the
    /// path names another file, or none, and starts over. So the lock held
    /// is always the one of the file at `path`, and only its holder removes
    /// it.
    fn lock_file(&self, path: &Path) -> Result<KeyLock> {
        self.take_lock(path, true)?
            .context("a lock waited for is held")
    }

    /// The session's lock when nobody holds it (this process included),
    /// without waiting: for a reader's tidying, which can wait for the next
    /// reader.
    fn lock_now(&self, session_name: &str) -> Option<KeyLock> {
        self.take_lock(&self.lock_path(session_name), false)
            .ok()
            .flatten()
    }

    /// [`Books::lock_file`], or with `wait` false, `None` when it is held.
    fn take_lock(&self, path: &Path, wait: bool) -> Result<Option<KeyLock>> {
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating the books folder {}", self.dir.display()))?;
        loop {
            let file = files::open_lock(path)
                .with_context(|| format!("opening lock file {}", path.display()))?;
            if wait {
                file.lock()
                    .with_context(|| format!("locking {}", path.display()))?;
            } else {
                match file.try_lock() {
                    Ok(()) => {}
                    Err(fs::TryLockError::WouldBlock) => return Ok(None),
                    Err(fs::TryLockError::Error(err)) => {
                        return Err(err).with_context(|| format!("locking {}", path.display()));
                    }
                }
            }
            let held = file.metadata()?;
            match fs::symlink_metadata(path) {
                Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                    return Ok(Some(KeyLock {
                        file,
                        path: path.to_path_buf(),
                    }));
                }
                // Removed (and perhaps made again) by the holder before us.
                Ok(_) => continue,
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => {
                    return Err(err).with_context(|| format!("checking {}", path.display()));
                }
            }
        }
    }

    /// The record as on disk, not reconciled. `None` when there is none,
    /// or when the file is torn or not a record (with a warning: a new
    /// dispatch of the session then replaces it).
    pub fn read_raw(&self, session_name: &str) -> Result<Option<Record>> {
        for path in [
            self.record_path(session_name),
            self.legacy_path(session_name),
        ] {
            match files::read_capped(&path, files::MAX_RECORD) {
                Ok(bytes) => {
                    return match parse(&path, &bytes) {
                        Ok(record) => {
                            self.scrub_environment(&path, &bytes, &record);
                            Ok(Some(record))
                        }
                        Err(err) => {
                            warn_unreadable(&path, &err);
                            Ok(None)
                        }
                    };
                }
                Err(err) if err.is_not_found() => {}
                Err(err) if err.is_refusal() => {
                    warn_unreadable(&path, &anyhow::anyhow!("it {err}"));
                    return Ok(None);
                }
                Err(err) => {
                    return Err(err).with_context(|| format!("reading {}", path.display()));
                }
            }
        }
        Ok(None)
    }

    /// The record, corrected when it says running while nothing runs.
    pub fn read(&self, session_name: &str) -> Result<Option<Record>> {
        match self.read_raw(session_name)? {
            Some(record) => self.reconcile(record).map(Some),
            None => Ok(None),
        }
    }

    /// Writes `record` atomically (a temporary file renamed over it).
    /// Then the current run's record for Scopecraft, from it.
    pub fn write(&self, record: &mut Record) -> Result<()> {
        record.last_updated = now();
        let legacy = self.legacy_path(&record.session_name);
        let in_legacy = record.run_name().is_none() && legacy.exists();
        // A live session of the earlier layout stays where its supervisor
        // (of the earlier version) and its hooks look for it.
        if in_legacy && record.status.is_live() {
            return write_json(&legacy, record);
        }
        write_json(&self.record_path(&record.session_name), record)?;
        if in_legacy {
            self.migrate(record, &legacy)?;
        }
        self.write_run_record(record)
    }

    /// A session record of the earlier layout whose run has ended, moved
    /// to the new layout now (for a caller holding the session's lock, about
    /// to start another run of it); any other record as it is.
    pub fn upgrade_locked(&self, mut record: Record) -> Result<Record> {
        if record.run_name().is_none()
            && !record.status.is_live()
            && self.legacy_path(&record.session_name).exists()
        {
            self.write(&mut record)?;
        }
        Ok(record)
    }

    /// The current run's record for Scopecraft, when the run has one.
    fn write_run_record(&self, record: &Record) -> Result<()> {
        let Some(run) = record.run_name() else {
            return Ok(());
        };
        let terminal = self.terminal_log_path(run);
        match record.run_record(Some(&terminal)) {
            Some(view) => write_json(&self.run_record_path(run), &view),
            None => Ok(()),
        }
    }

    /// A session record of the earlier layout, now written in the new one:
    /// its last run gets a record of its own (its log, which holds every
    /// earlier run's output, moved to the run's name), and the old file,
    /// which Scopecraft's reader would list beside it, goes.
    fn migrate(&self, record: &mut Record, legacy: &Path) -> Result<()> {
        let started = humantime::parse_rfc3339(&record.start_time)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis());
        let run = self.new_run(&record.task_id, started)?;
        let log = self.log_path(&run);
        let old_log = record.log_file.clone();
        if old_log.is_file() {
            fs::rename(&old_log, &log)
                .with_context(|| format!("moving {} to {}", old_log.display(), log.display()))?;
        }
        record.log_file = log.clone();
        if record.session_history.is_empty() {
            record.session_history.push(Run {
                session_id: record.agent_session_id.clone(),
                start_time: record.start_time.clone(),
                exec_type: record.exec_type,
                ..Run::default()
            });
        }
        for earlier in &mut record.session_history {
            earlier.log_file = Some(log.clone());
        }
        if let Some(last) = record.session_history.last_mut() {
            last.record = Some(run);
        }
        write_json(&self.record_path(&record.session_name), record)?;
        fs::remove_file(legacy).with_context(|| format!("removing {}", legacy.display()))
    }

    /// Removes a session record (used to undo a dispatch that could not
    /// start).
    pub fn remove(&self, session_name: &str) -> Result<()> {
        let path = self.record_path(session_name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err).with_context(|| format!("removing {}", path.display())),
        }
    }

    /// Every session in the folder, reconciled, newest first: ours, and
    /// Scopecraft's own records (not our runs' records). A file that does
    /// not parse is skipped with a warning on stderr.
    pub fn list(&self) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        for record in self.list_raw(true)? {
            records.push(self.reconcile(record)?);
        }
        records.sort_by(|a, b| b.start_time.cmp(&a.start_time));
        Ok(records)
    }

    /// The sessions of task `task_id` (every mode), reconciled; only their
    /// files are read (`<task>.<mode>…`: a task id holds no `.`).
    pub fn of_task(&self, task_id: &str) -> Result<Vec<Record>> {
        let prefix = format!("{task_id}.");
        let mut records = Vec::new();
        for path in self.files()?.sessions {
            let ours = path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(&prefix));
            if ours && let Some(record) = self.read_listed(&path, false) {
                records.push(self.reconcile(record)?);
            }
        }
        Ok(records)
    }

    /// Every session as on disk; `warn` reports unreadable files on stderr.
    pub fn list_raw(&self, warn: bool) -> Result<Vec<Record>> {
        let files = self.files()?;
        let mut records = Vec::new();
        let mut runs = std::collections::HashSet::new();
        for path in &files.sessions {
            if let Some(record) = self.read_listed(path, warn) {
                runs.extend(
                    record
                        .session_history
                        .iter()
                        .filter_map(|run| run.record.clone()),
                );
                records.push(record);
            }
        }
        // Scopecraft's own records, read only when no session of ours
        // names them as a run (so 1000 runs cost no reading here).
        for (name, path) in &files.others {
            if runs.contains(name) {
                continue;
            }
            if let Some(record) = self.read_listed(path, warn)
                && !record.extra.contains_key("sessionKey")
            {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// A record file read for a listing, or `None` (with a warning when
    /// `warn`).
    fn read_listed(&self, path: &Path, warn: bool) -> Option<Record> {
        let read = files::read_capped(path, files::MAX_RECORD)
            .map_err(|err| anyhow::anyhow!("it {err}"))
            .and_then(|bytes| parse(path, &bytes).map(|record| (bytes, record)));
        match read {
            Ok((bytes, record)) => {
                self.scrub_environment(path, &bytes, &record);
                Some(record)
            }
            Err(err) => {
                if warn {
                    warn_unreadable(path, &err);
                }
                None
            }
        }
    }

    /// A record of the earlier layout that still holds the agent's
    /// environment (`agentEnv`: its PATH, perhaps secrets) loses that field
    /// on disk too, where Scopecraft's reader and backups would see it.
    /// Only that field, atomically, under the session's lock when it is free,
    /// and only once its run has ended (a live one is its earlier-version
    /// supervisor's to write). Reading drops the field in any case
    /// ([`Record`]); a reader that cannot write here leaves the file as it is.
    fn scrub_environment(&self, path: &Path, bytes: &[u8], record: &Record) {
        let needle = format!("\"{}\"", record::ENVIRONMENT_FIELD);
        if record.status.is_live()
            || !is_legacy_name(path)
            || !bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            return;
        }
        // Never waits, nor deadlocks on a lock this process holds.
        let Some(_lock) = self.lock_now(&record.session_name) else {
            return;
        };
        // Read again under the lock: a writer may have been first.
        let Ok(bytes) = files::read_capped(path, files::MAX_RECORD) else {
            return;
        };
        let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_slice(&bytes) else {
            return;
        };
        let live = fields
            .get("status")
            .and_then(|status| serde_json::from_value::<Status>(status.clone()).ok())
            .is_none_or(Status::is_live);
        if live || fields.remove(record::ENVIRONMENT_FIELD).is_none() {
            return;
        }
        let _ = write_json(path, &fields);
    }

    /// The paths of the session records in the folder (ours, either
    /// layout), in no particular order.
    pub fn record_files(&self) -> Result<Vec<PathBuf>> {
        Ok(self.files()?.sessions)
    }

    /// The folder's records: our sessions' (a session in both layouts,
    /// moved half-way, counts once, in the new one), and the other
    /// `*.info.json` (runs, Scopecraft's own) by name.
    fn files(&self) -> Result<Files> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Files::default()),
            Err(err) => {
                return Err(err).with_context(|| format!("reading {}", self.dir.display()));
            }
        };
        let mut files = Files::default();
        let mut legacy = Vec::new();
        let mut sessions = std::collections::HashSet::new();
        for entry in entries {
            let entry = entry?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str() else {
                continue;
            };
            if let Some(stem) = name.strip_suffix(SESSION_SUFFIX) {
                sessions.insert(stem.to_string());
                files.sessions.push(entry.path());
            } else if let Some(stem) = name.strip_suffix(RECORD_SUFFIX) {
                // Session names hold a `.` (`<task>.<mode>`); run names and
                // Scopecraft's (`task-<id>-<ms>`) never do.
                if stem.contains('.') {
                    legacy.push((stem.to_string(), entry.path()));
                } else {
                    files.others.push((stem.to_string(), entry.path()));
                }
            }
        }
        files.sessions.extend(
            legacy
                .into_iter()
                .filter(|(stem, _)| !sessions.contains(stem))
                .map(|(_, path)| path),
        );
        Ok(files)
    }

    /// A record that says running while its supervisor is gone (killed,
    /// machine rebooted, tmux server killed before it could write) becomes
    /// `interrupted`. Checked again under the lock before writing.
    pub fn reconcile(&self, record: Record) -> Result<Record> {
        if !needs_interrupting(&record) {
            return Ok(record);
        }
        // Reading never fails for want of a lock it would only write under.
        let _lock = match self.lock(&record.session_name) {
            Ok(lock) => lock,
            Err(err) => {
                let corrected = self.corrected(record);
                warn_unwritten(&corrected, &err);
                return Ok(corrected);
            }
        };
        match self.read_raw(&record.session_name)? {
            Some(current) => self.reconcile_locked(current),
            None => Ok(record),
        }
    }

    /// [`Books::reconcile`] for a caller that holds the session's lock. A
    /// correction that cannot be written (a full disk) is still returned:
    /// reading goes on, and the next reader tries again.
    pub fn reconcile_locked(&self, record: Record) -> Result<Record> {
        if !needs_interrupting(&record) {
            return Ok(record);
        }
        let mut corrected = self.corrected(record);
        match self.write(&mut corrected) {
            Ok(()) => {
                if let Some(path) = self.refuge_path(&corrected.session_name, false) {
                    let _ = fs::remove_file(path);
                }
            }
            Err(err) => warn_unwritten(&corrected, &err),
        }
        Ok(corrected)
    }

    /// How a run whose supervisor is gone ended: as its supervisor left it
    /// in the refuge when the books could not take it, else stopped (it was
    /// asked to) or interrupted.
    fn corrected(&self, mut record: Record) -> Record {
        if let Some(outcome) = self.stranded(&record) {
            return outcome;
        }
        record.status = if record.stop_requested == Some(true) {
            Status::Stopped
        } else {
            Status::Interrupted
        };
        record.end_time = Some(now());
        record.close_current_run();
        record
    }

    /// Where a supervisor keeps a run's outcome that the books could not
    /// take (a full disk): a private folder elsewhere, one file per session
    /// of these books.
    fn refuge_path(&self, session_name: &str, make: bool) -> Option<PathBuf> {
        let dir = files::refuge(make).ok()?.join("outcomes");
        if make {
            fs::create_dir_all(&dir).ok()?;
        }
        // FNV-1a of the books folder: stable across versions and machines.
        let key = self
            .dir
            .as_os_str()
            .as_encoded_bytes()
            .iter()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        Some(dir.join(format!("{key:016x}-{session_name}{RECORD_SUFFIX}")))
    }

    /// Keeps `record` in the refuge; returns where.
    pub fn strand(&self, record: &Record) -> Result<PathBuf> {
        let path = self
            .refuge_path(&record.session_name, true)
            .context("no folder outside the books can be written")?;
        let mut text = serde_json::to_vec_pretty(record)?;
        text.push(b'\n');
        write_atomic(&path, &text)?;
        Ok(path)
    }

    /// The outcome the refuge holds for the current run of `record`.
    fn stranded(&self, record: &Record) -> Option<Record> {
        let path = self.refuge_path(&record.session_name, false)?;
        let bytes = files::read_capped(&path, files::MAX_RECORD).ok()?;
        let outcome: Record = serde_json::from_slice(&bytes).ok()?;
        let run = |r: &Record| r.session_history.last().map(|run| run.start_time.clone());
        (outcome.session_name == record.session_name
            && outcome.start_time == record.start_time
            && run(&outcome) == run(record)
            && !outcome.status.is_live())
        .then_some(outcome)
    }

    fn reserve_path(&self, session_name: &str) -> PathBuf {
        self.dir.join(format!(".{session_name}@reserve"))
    }

    /// Sets aside room for the end of a run (a file of zeros, given back
    /// when the record cannot be written for want of space).
    pub fn reserve(&self, session_name: &str) {
        let path = self.reserve_path(session_name);
        let _ = fs::remove_file(&path);
        if let Ok(mut file) = files::create_new(&path)
            && file.write_all(&[0; RESERVE]).is_err()
        {
            let _ = fs::remove_file(&path);
        }
    }

    /// Gives back the room [`Books::reserve`] set aside; false when there
    /// was none.
    pub fn release_reserve(&self, session_name: &str) -> bool {
        fs::remove_file(self.reserve_path(session_name)).is_ok()
    }

    fn previous_path(&self, session_name: &str) -> PathBuf {
        self.dir.join(format!(".{session_name}@previous"))
    }

    /// Keeps the record as it is now under a second name (a hard link: no
    /// room needed), for [`Books::restore_previous`] to put back.
    pub fn keep_previous(&self, session_name: &str) -> bool {
        let kept = self.previous_path(session_name);
        let _ = fs::remove_file(&kept);
        fs::hard_link(self.record_path(session_name), kept).is_ok()
    }

    /// Puts back the record [`Books::keep_previous`] kept (a rename: no room
    /// needed, so it works on a full disk).
    pub fn restore_previous(&self, session_name: &str) -> Result<()> {
        let kept = self.previous_path(session_name);
        fs::rename(&kept, self.record_path(session_name))
            .with_context(|| format!("putting back {}", kept.display()))
    }

    /// Drops what [`Books::keep_previous`] kept.
    pub fn forget_previous(&self, session_name: &str) {
        let _ = fs::remove_file(self.previous_path(session_name));
    }
}

/// How much room a run's end gets set aside: its record many times over.
const RESERVE: usize = 256 * 1024;

/// Says that a correction read from the books could not be written back.
fn warn_unwritten(record: &Record, err: &anyhow::Error) {
    let text = format!(
        "{} is {} but that could not be recorded ({err:#}); it is corrected again next time",
        record.session_name, record.status
    );
    eprintln!(
        "scopecraft-tmux: warning: {}",
        crate::output::printable(&text)
    );
}

/// Whether the session runs now: its record says so and, for ours, its
/// supervisor is alive. Reads only; for a caller that must not take session
/// locks (one holding a worktree lock).
pub fn runs_now(record: &Record) -> bool {
    record.status.is_live() && !needs_interrupting(record)
}

/// Whether a live-looking record of ours has lost its supervisor and its
/// agent. An agent that outlived its supervisor (killed with SIGKILL) still
/// runs: the record stays live, so that `stop` can end it and a second
/// dispatch does not start another agent beside it.
fn needs_interrupting(record: &Record) -> bool {
    if !record.is_ours() || !record.status.is_live() {
        return false;
    }
    match record.supervisor_pid {
        Some(pid) => {
            !procs::is_alive(
                pid,
                record.supervisor_start_ticks,
                record.boot_id.as_deref(),
            ) && !agent_alive(record)
        }
        None => age(&record.last_updated).is_some_and(|age| age > STARTUP_GRACE),
    }
}

/// Whether the record's agent process is still the one we started.
pub fn agent_alive(record: &Record) -> bool {
    record.pid.is_some_and(|pid| {
        record.agent_start_ticks.is_some()
            && procs::is_alive(pid, record.agent_start_ticks, record.boot_id.as_deref())
    })
}

/// "warning: skipping P: not a session record (…)", the path said once.
fn warn_unreadable(path: &Path, err: &anyhow::Error) {
    let text = format!("skipping {}: {err:#}", path.display());
    eprintln!(
        "scopecraft-tmux: warning: {}",
        crate::output::printable(&text)
    );
}

/// A record file's contents; its `sessionName` must be its file's name, or
/// a lock or a rewrite could land elsewhere. Errors leave the path to the
/// caller.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Record> {
    let record: Record = serde_json::from_slice(bytes).context("not a session record")?;
    let stem = path.file_name().and_then(|n| n.to_str()).and_then(stem);
    if stem != Some(record.session_name.as_str()) {
        anyhow::bail!(
            "it names another session ({})",
            crate::names::quoted(&record.session_name)
        );
    }
    Ok(record)
}

/// A session record of the earlier layout: `<task>.<mode>.info.json`.
fn is_legacy_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix(RECORD_SUFFIX))
        .is_some_and(|stem| stem.contains('.'))
}

/// A record file's name without its suffix.
fn stem(file_name: &str) -> Option<&str> {
    file_name
        .strip_suffix(SESSION_SUFFIX)
        .or_else(|| file_name.strip_suffix(RECORD_SUFFIX))
}

/// What a session folder holds, by kind.
#[derive(Debug, Default)]
struct Files {
    sessions: Vec<PathBuf>,
    /// (name, path) of the other records.
    others: Vec<(String, PathBuf)>,
}

/// A run's name: `task-<taskId>-<epochMs>`, as Scopecraft names its own, so
/// its reader finds the record and the log by the task id.
pub fn run_name(task_id: &str, epoch_ms: u128) -> String {
    format!("task-{task_id}-{epoch_ms}")
}

/// `value` as pretty JSON with a final newline, written atomically.
fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    write_atomic(path, &text)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// a rename, so readers see the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("a file path has a folder")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("a file path has a name")?;
    let temporary = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ));
    let result = (|| {
        let mut file = files::create_new(&temporary)?;
        file.write_all(bytes)?;
        file.flush()?;
        fs::rename(&temporary, path)
    })();
    if let Err(err) = result {
        let _ = fs::remove_file(&temporary);
        return Err(err).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}

/// An exclusive lock on one session key, released on drop, when its file
/// is removed (still under the lock) and then closed.
pub struct KeyLock {
    file: File,
    path: PathBuf,
}

impl Drop for KeyLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Now as RFC 3339 UTC with milliseconds, like JavaScript's `toISOString`.
pub fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// How long ago an RFC 3339 time was.
pub fn age(time: &str) -> Option<Duration> {
    let then = humantime::parse_rfc3339(time).ok()?;
    SystemTime::now().duration_since(then).ok()
}

/// The session record at `path` and its books: (books, session name).
pub fn locate(path: &Path) -> Result<(Books, String)> {
    let dir = path.parent().context("a record path has a folder")?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(stem)
        .with_context(|| format!("{} is not a session record path", path.display()))?;
    Ok((Books::at(dir.to_path_buf()), name.to_string()))
}

/// Makes `SCOPECRAFT_HOME` the home the record at `path` lives in
/// (`<home>/projects/<root>/sessions/<name>.session.json`), for processes tmux
/// or an agent started with an environment of their own. Call it before
/// starting threads.
pub fn adopt_home_of(path: &Path) {
    if let Some(home) = path.ancestors().nth(4) {
        // SAFETY: called at start-up, before any thread exists.
        unsafe { std::env::set_var("SCOPECRAFT_HOME", home) };
    }
}

/// Whether `path` names a session's or a run's record file (not a lock, a
/// log or a temporary file of an atomic write).
pub fn is_record_path(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        (n.ends_with(SESSION_SUFFIX) || n.ends_with(RECORD_SUFFIX)) && !n.starts_with('.')
    })
}

/// The session folders of every project under `SCOPECRAFT_HOME`.
pub fn all_projects() -> Result<Vec<Books>> {
    let projects = project::scopecraft_home()?.join("projects");
    let entries = match fs::read_dir(&projects) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("reading {}", projects.display())),
    };
    let mut books = Vec::new();
    for entry in entries {
        let sessions = entry?.path().join("sessions");
        if sessions.is_dir() {
            books.push(Books::at(sessions));
        }
    }
    books.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(books)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, status: Status) -> Record {
        let mut record: Record = serde_json::from_value(serde_json::json!({
            "sessionName": name,
            "taskId": "t-11A",
            "status": status,
            "startTime": now(),
            "execType": "detached",
        }))
        .unwrap();
        record.last_updated = now();
        record
    }

    #[test]
    fn writes_atomically_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let books = Books::at(dir.path().join("sessions"));
        let mut rec = record("t-11A-auto", Status::Completed);
        books.write(&mut rec).unwrap();
        let back = books.read("t-11A-auto").unwrap().unwrap();
        assert_eq!(back.status, Status::Completed);
        let leftovers: Vec<_> = fs::read_dir(books.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn locks_exclude_each_other_and_leave_no_files() {
        let dir = tempfile::tempdir().unwrap();
        let books = Books::at(dir.path().join("sessions"));
        let counter = dir.path().join("counter");
        fs::write(&counter, "0").unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (books, counter) = (books.clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let _lock = books.lock("key.mode").unwrap();
                        // A read-modify-write that loses counts unless
                        // every holder is alone.
                        let n: u32 = fs::read_to_string(&counter).unwrap().parse().unwrap();
                        std::thread::yield_now();
                        fs::write(&counter, (n + 1).to_string()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(fs::read_to_string(&counter).unwrap(), "400");
        let left: Vec<_> = fs::read_dir(books.dir()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn session_and_worktree_locks_never_share_a_file() {
        let books = Books::at(PathBuf::from("/b"));
        let session = crate::names::session_name("t-11A", "worktree");
        assert_ne!(books.lock_path(&session), books.worktree_lock_path("t-11A"));
    }

    #[test]
    fn a_running_record_without_its_supervisor_becomes_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let books = Books::at(dir.path().join("sessions"));
        let mut rec = record("gone", Status::Running);
        rec.supervisor_pid = Some(u32::MAX - 1);
        rec.session_history.push(Run {
            start_time: now(),
            ..Run::default()
        });
        books.write(&mut rec).unwrap();
        let back = books.read("gone").unwrap().unwrap();
        assert_eq!(back.status, Status::Interrupted);
        assert!(back.end_time.is_some());
        assert_eq!(back.session_history[0].status, Some(Status::Interrupted));
        // Written back, not only reported.
        assert_eq!(
            books.read_raw("gone").unwrap().unwrap().status,
            Status::Interrupted
        );
    }

    #[test]
    fn a_running_record_with_a_live_supervisor_stays() {
        let dir = tempfile::tempdir().unwrap();
        let books = Books::at(dir.path().join("sessions"));
        let mut rec = record("alive", Status::Running);
        let me = std::process::id();
        rec.supervisor_pid = Some(me);
        rec.supervisor_start_ticks = procs::start_ticks(me);
        rec.boot_id = procs::boot_id();
        books.write(&mut rec).unwrap();
        assert_eq!(
            books.read("alive").unwrap().unwrap().status,
            Status::Running
        );
    }

    #[test]
    fn an_earlier_records_environment_goes_only_when_its_lock_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let books = Books::at(dir.path().join("sessions"));
        fs::create_dir_all(books.dir()).unwrap();
        let path = books.legacy_path("t-11A.m");
        let mut fields = serde_json::to_value(record("t-11A.m", Status::Completed)).unwrap();
        fields["agentEnv"] = serde_json::json!({"PATH": "/secret"});
        fs::write(&path, serde_json::to_vec_pretty(&fields).unwrap()).unwrap();
        let holds = || fs::read_to_string(&path).unwrap().contains("/secret");
        // Under the key's lock (a dispatch reading it): read, not written,
        // and no wait for the lock this process holds.
        let lock = books.lock("t-11A.m").unwrap();
        let read = books.read_raw("t-11A.m").unwrap().unwrap();
        assert!(!read.extra.contains_key("agentEnv"));
        assert!(holds());
        drop(lock);
        assert_eq!(books.list().unwrap().len(), 1);
        assert!(!holds());
        fields.as_object_mut().unwrap().remove("agentEnv");
        let on_disk: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(on_disk, fields);
    }

    #[test]
    fn torn_and_foreign_files_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let books = Books::at(dir.path().join("sessions"));
        let mut rec = record("good", Status::Completed);
        books.write(&mut rec).unwrap();
        fs::write(
            books.dir().join("torn.info.json"),
            b"{\"sessionName\": \"to",
        )
        .unwrap();
        fs::write(books.dir().join("foreign.info.json"), b"[1, 2, 3]").unwrap();
        let listed = books.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].session_name, "good");
    }

    #[test]
    fn foreign_records_are_never_reconciled() {
        let dir = tempfile::tempdir().unwrap();
        let books = Books::at(dir.path().join("sessions"));
        let mut rec = record("scopecraft", Status::Running);
        rec.exec_type = None;
        rec.pid = Some(u32::MAX - 1);
        books.write(&mut rec).unwrap();
        assert_eq!(
            books.read("scopecraft").unwrap().unwrap().status,
            Status::Running
        );
    }
}
