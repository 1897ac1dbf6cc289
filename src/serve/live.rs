//! Live badges without polling: an inotify-style watcher on the books
//! (`<home>/projects/*/sessions/`, each folder watched on its own so that
//! log writes below them wake nothing) tells which project's records
//! changed; `WS /events` sends each page the records that changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::ws::{Message, WebSocket};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::Server;
use super::cache::Generations;
use crate::books::{self, Books, Record};

/// Changes that arrive this close together are sent as one.
const SETTLE: Duration = Duration::from_millis(15);

/// Keeps the watch going; dropped, it ends.
pub struct LiveWatcher {
    _watcher: Arc<Mutex<RecommendedWatcher>>,
}

/// Watches the books under `home`; each change of a record sends its
/// project's id on `changes` and moves its generation on.
pub fn watch_books(
    home: &Path,
    changes: broadcast::Sender<String>,
    generations: Arc<Generations>,
) -> Result<LiveWatcher> {
    let projects = home.join("projects");
    std::fs::create_dir_all(&projects)
        .with_context(|| format!("creating {}", projects.display()))?;
    let (events, received) = std::sync::mpsc::channel();
    let watcher = notify::recommended_watcher(move |event| {
        let _ = events.send(event);
    })
    .context("starting the file watcher")?;
    let watcher = Arc::new(Mutex::new(watcher));
    add_watch(&watcher, &projects, &generations);
    for project in folders(&projects) {
        add_watch(&watcher, &project, &generations);
        let sessions = project.join("sessions");
        if sessions.is_dir() {
            add_watch(&watcher, &sessions, &generations);
        }
    }
    let shared = Arc::downgrade(&watcher);
    std::thread::spawn(move || {
        // Ends when the watcher, and with it the sender, is dropped.
        for event in received {
            let Ok(event): notify::Result<notify::Event> = event else {
                // Events may be lost: nothing kept can be trusted.
                generations.changed_all();
                continue;
            };
            if event.need_rescan() {
                generations.changed_all();
            }
            if matches!(event.kind, EventKind::Access(_)) {
                continue;
            }
            let mut changed: Vec<String> = Vec::new();
            for path in &event.paths {
                let Ok(relative) = path.strip_prefix(&projects) else {
                    continue;
                };
                let parts: Vec<&str> = relative.iter().filter_map(|p| p.to_str()).collect();
                match parts.as_slice() {
                    // A new project folder, or its sessions folder.
                    [id] | [id, "sessions"] if path.is_dir() => {
                        if let Some(watcher) = shared.upgrade() {
                            add_watch(&watcher, path, &generations);
                            let sessions = path.join("sessions");
                            if parts.len() == 1 && sessions.is_dir() {
                                add_watch(&watcher, &sessions, &generations);
                            }
                        }
                        changed.push((*id).to_string());
                    }
                    // One removed (or moved away): its watch went with it.
                    [id] | [id, "sessions"] => {
                        generations.not_watching(path);
                        changed.push((*id).to_string());
                    }
                    [id, "sessions", _] if books::is_record_path(path) => {
                        changed.push((*id).to_string());
                    }
                    _ => {}
                }
            }
            changed.dedup();
            for id in changed {
                generations.changed(&id);
                let _ = changes.send(id);
            }
        }
    });
    Ok(LiveWatcher { _watcher: watcher })
}

fn add_watch(watcher: &Mutex<RecommendedWatcher>, dir: &Path, generations: &Generations) {
    let mut watcher = watcher.lock().unwrap_or_else(|p| p.into_inner());
    match watcher.watch(dir, RecursiveMode::NonRecursive) {
        Ok(()) => generations.watching(dir),
        Err(err) => eprintln!(
            "scopecraft-tmux: warning: not watching {}: {err}",
            dir.display()
        ),
    }
}

fn folders(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// `WS /events`: the project's records at once, then whenever the books
/// change, the records that changed and the names of those removed.
pub async fn events(mut socket: WebSocket, server: Arc<Server>, project: crate::project::Project) {
    let id = crate::project::encode_root(&project.root);
    let mut changes = server.changes.subscribe();
    let books = match Books::for_project(&project) {
        Ok(books) => books,
        Err(_) => return,
    };
    let mut known: HashMap<String, Value> = HashMap::new();
    let mut first = true;
    loop {
        let listed = {
            let books = books.clone();
            tokio::task::spawn_blocking(move || books.list()).await
        };
        let Ok(Ok(records)) = listed else { break };
        let message = diff(&mut known, records, first);
        first = false;
        if let Some(message) = message
            && socket
                .send(Message::Text(message.to_string().into()))
                .await
                .is_err()
        {
            break;
        }
        // Wait for a change of this project's books (or the end).
        let woke = loop {
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(changed) if changed == id => break true,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => break true,
                    Err(broadcast::error::RecvError::Closed) => break false,
                },
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break false,
                    Some(Ok(_)) => {}
                },
                _ = server.ending() => break false,
            }
        };
        if !woke {
            break;
        }
        // A write is a create, a rename and more: let the burst settle.
        tokio::time::sleep(SETTLE).await;
        while changes.try_recv().is_ok() {}
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// The records that differ from `known` (all of them the first time), as
/// the message to send; `None` when nothing changed.
fn diff(known: &mut HashMap<String, Value>, records: Vec<Record>, first: bool) -> Option<Value> {
    let mut changed = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for record in records {
        let name = record.session_name.clone();
        let value = serde_json::to_value(&record).unwrap_or(Value::Null);
        seen.insert(name.clone());
        if known.get(&name) != Some(&value) {
            changed.push(value.clone());
            known.insert(name, value);
        }
    }
    let removed: Vec<String> = known
        .keys()
        .filter(|name| !seen.contains(*name))
        .cloned()
        .collect();
    for name in &removed {
        known.remove(name);
    }
    if !first && changed.is_empty() && removed.is_empty() {
        return None;
    }
    Some(json!({
        "type": if first { "sessions" } else { "changes" },
        "sessions": changed,
        "removed": removed,
    }))
}
