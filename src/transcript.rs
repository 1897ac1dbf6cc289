//! Claude Code's transcript of an interactive session, turned into the
//! stream-json a headless run writes, so that an interactive run's log reads
//! as a conversation (for Scopecraft's parser and for `logs`).
//!
//! Claude Code appends one JSON object per line to
//! `<config>/projects/<encoded cwd>/<session-id>.jsonl` (`<config>`:
//! `$CLAUDE_CONFIG_DIR`, else `~/.claude`; the cwd with every character but
//! ASCII letters and digits replaced by `-`). Lines of type `user` and
//! `assistant` carry the API message in `message` (`content` a string or
//! blocks: `text`, `thinking`, `tool_use`, and `tool_result` in user lines),
//! beside `sessionId`, `uuid`, `parentUuid`, `cwd`, `timestamp`,
//! `isSidechain` and `isMeta`; other types (`summary`,
//! `file-history-snapshot`, `system`) are bookkeeping.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How often the transcript is looked at while the run goes on.
const POLL: Duration = Duration::from_millis(500);

/// Claude Code's configuration folder.
pub fn config_dir() -> Option<PathBuf> {
    match std::env::var_os("CLAUDE_CONFIG_DIR") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".claude")),
    }
}

/// The folder name Claude Code gives a working directory.
pub fn encode_cwd(cwd: &Path) -> String {
    cwd.to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The transcript of conversation `id` started in `cwd`: in the folder of
/// `cwd`, else in any project folder (a long or unusual path may be
/// encoded otherwise; conversation ids are unique).
pub fn find(config: &Path, cwd: &Path, id: &str) -> Option<PathBuf> {
    let projects = config.join("projects");
    let file = format!("{id}.jsonl");
    let expected = projects.join(encode_cwd(cwd)).join(&file);
    if expected.is_file() {
        return Some(expected);
    }
    fs::read_dir(&projects)
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join(&file)))
        .find(|path| path.is_file())
}

/// A transcript line as the stream-json event a headless run would have
/// written, or `None` for bookkeeping, side conversations and meta lines.
pub fn to_stream_event(line: &Value) -> Option<Value> {
    let kind = line.get("type")?.as_str()?;
    if !matches!(kind, "user" | "assistant")
        || line.get("isSidechain").and_then(Value::as_bool) == Some(true)
        || line.get("isMeta").and_then(Value::as_bool) == Some(true)
    {
        return None;
    }
    Some(json!({
        "type": kind,
        "message": line.get("message")?,
        "session_id": line.get("sessionId").cloned().unwrap_or(Value::Null),
        "parent_tool_use_id": Value::Null,
        "uuid": line.get("uuid").cloned().unwrap_or(Value::Null),
        "timestamp": line.get("timestamp").cloned().unwrap_or(Value::Null),
    }))
}

/// What the follower writes into the run's log, and counts for the result.
struct Converter {
    log: File,
    session_id: String,
    cwd: PathBuf,
    started: bool,
    turns: u64,
    last_text: Option<String>,
}

impl Converter {
    fn line(&mut self, text: &[u8]) {
        let Ok(line) = serde_json::from_slice::<Value>(text) else {
            return;
        };
        let Some(event) = to_stream_event(&line) else {
            return;
        };
        if !self.started {
            self.started = true;
            let mut init = json!({
                "type": "system",
                "subtype": "init",
                "session_id": self.session_id,
                "cwd": self.cwd,
                "source": "transcript",
            });
            if let Some(model) = event.pointer("/message/model") {
                init["model"] = model.clone();
            }
            self.write(&init);
        }
        if event["type"] == "assistant" {
            self.turns += 1;
            let said: String = event
                .pointer("/message/content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|block| block["type"] == "text")
                .filter_map(|block| block["text"].as_str())
                .collect();
            if !said.trim().is_empty() {
                self.last_text = Some(said);
            }
        }
        self.write(&event);
    }

    fn write(&mut self, event: &Value) {
        let mut bytes = event.to_string().into_bytes();
        bytes.push(b'\n');
        // One write per event: a reader never sees half a line.
        let _ = self.log.write_all(&bytes);
    }

    /// The `result` a headless run ends with, from how the run ended.
    fn finish(&mut self, succeeded: bool, duration: Duration) {
        if !self.started {
            return;
        }
        let result = json!({
            "type": "result",
            "subtype": if succeeded { "success" } else { "error_during_execution" },
            "is_error": !succeeded,
            "num_turns": self.turns,
            "duration_ms": u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            "result": self.last_text.clone().unwrap_or_default(),
            "session_id": self.session_id,
            "source": "transcript",
        });
        self.write(&result);
    }
}

/// Copies an interactive run's conversation into its log while it runs.
pub struct Follower {
    stop: Arc<AtomicBool>,
    /// Set by the caller before stopping: whether the run succeeded.
    succeeded: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// Where a transcript was before the run began, so that a resumed
/// conversation's earlier turns (logged with their own runs) are skipped.
pub struct Start {
    config: PathBuf,
    cwd: PathBuf,
    session_id: String,
    offset: u64,
}

impl Start {
    /// Notes where conversation `session_id` (run in `cwd`) ends now.
    pub fn now(cwd: &Path, session_id: &str) -> Option<Start> {
        let config = config_dir()?;
        let offset = find(&config, cwd, session_id)
            .and_then(|path| fs::metadata(path).ok())
            .map_or(0, |m| m.len());
        Some(Start {
            config,
            cwd: cwd.to_path_buf(),
            session_id: session_id.to_string(),
            offset,
        })
    }
}

impl Follower {
    /// Starts copying the conversation into `log` (appended).
    pub fn start(start: Start, log: &Path) -> std::io::Result<Follower> {
        let file = crate::files::open_append(log)?;
        let stop = Arc::new(AtomicBool::new(false));
        let succeeded = Arc::new(AtomicBool::new(false));
        let (stop_flag, success) = (Arc::clone(&stop), Arc::clone(&succeeded));
        let began = Instant::now();
        let thread = std::thread::spawn(move || {
            let mut converter = Converter {
                log: file,
                session_id: start.session_id.clone(),
                cwd: start.cwd.clone(),
                started: false,
                turns: 0,
                last_text: None,
            };
            let mut position = start.offset;
            let mut path = None;
            loop {
                let stopping = stop_flag.load(Ordering::SeqCst);
                if path.is_none() {
                    path = find(&start.config, &start.cwd, &start.session_id);
                }
                if let Some(path) = &path {
                    position = pump(path, position, &mut converter);
                }
                if stopping {
                    break;
                }
                std::thread::sleep(POLL);
            }
            converter.finish(success.load(Ordering::SeqCst), began.elapsed());
        });
        Ok(Follower {
            stop,
            succeeded,
            thread,
        })
    }

    /// Copies what is left and the result, then returns.
    pub fn finish(self, succeeded: bool) {
        self.succeeded.store(succeeded, Ordering::SeqCst);
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

/// Converts the complete lines after `position`; returns where the next
/// read starts (a line still being written waits for its newline).
fn pump(path: &Path, mut position: u64, converter: &mut Converter) -> u64 {
    let Ok(mut file) = File::open(path) else {
        return position;
    };
    if file.metadata().is_ok_and(|m| m.len() < position) {
        position = 0;
    }
    if file.seek(SeekFrom::Start(position)).is_err() {
        return position;
    }
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(read) if line.ends_with(b"\n") => {
                position += read as u64;
                converter.line(&line);
            }
            Ok(_) => break,
        }
    }
    position
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_working_directory_as_claude_code_does() {
        assert_eq!(
            encode_cwd(Path::new("/home/me/my_proj.v2/app")),
            "-home-me-my-proj-v2-app"
        );
    }

    #[test]
    fn conversation_lines_become_stream_events_and_bookkeeping_does_not() {
        let user = json!({"type": "user", "sessionId": "s", "uuid": "u1",
            "message": {"role": "user", "content": "Fix it"}});
        let event = to_stream_event(&user).unwrap();
        assert_eq!(event["type"], "user");
        assert_eq!(event["session_id"], "s");
        assert_eq!(event["message"]["content"], "Fix it");
        for skipped in [
            json!({"type": "summary", "summary": "x", "leafUuid": "u1"}),
            json!({"type": "user", "isMeta": true, "message": {"content": "caveat"}}),
            json!({"type": "assistant", "isSidechain": true, "message": {"content": []}}),
            json!({"type": "file-history-snapshot", "messageId": "m"}),
        ] {
            assert!(to_stream_event(&skipped).is_none(), "{skipped}");
        }
    }

    #[test]
    fn follows_only_what_the_run_added_and_ends_with_a_result() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("claude");
        let cwd = Path::new("/work/app");
        let folder = config.join("projects").join(encode_cwd(cwd));
        fs::create_dir_all(&folder).unwrap();
        let transcript = folder.join("abc.jsonl");
        let line = |kind: &str, text: &str| {
            format!(
                "{}\n",
                json!({"type": kind, "sessionId": "abc", "message": {"role": kind,
                    "model": "claude-x", "content": [{"type": "text", "text": text}]}})
            )
        };
        fs::write(&transcript, line("assistant", "an earlier run")).unwrap();
        let start = Start {
            config,
            cwd: cwd.to_path_buf(),
            session_id: "abc".into(),
            offset: fs::metadata(&transcript).unwrap().len(),
        };
        let log = dir.path().join("run.log");
        let follower = Follower::start(start, &log).unwrap();
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&transcript)
            .unwrap();
        file.write_all(line("user", "go on").as_bytes()).unwrap();
        file.write_all(line("assistant", "Done with it.").as_bytes())
            .unwrap();
        file.write_all(b"{\"type\":\"assistant\",\"half").unwrap();
        follower.finish(true);
        let events: Vec<Value> = fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["system", "user", "assistant", "result"]);
        assert_eq!(events[0]["session_id"], "abc");
        assert_eq!(events[0]["model"], "claude-x");
        assert_eq!(events[3]["num_turns"], 1);
        assert_eq!(events[3]["result"], "Done with it.");
        assert_eq!(events[3]["is_error"], false);
    }
}
