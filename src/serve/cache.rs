//! `GET /sessions` without reading every record on every request: the
//! answer is kept per project until the watcher on the books (see
//! [`super::live`]) says one of its records changed. What no file change
//! tells, a live run whose supervisor died, is checked on every request
//! for the live records only, as `list` checks it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Result;
use axum::body::Bytes;

use crate::books::{self, Books, Record};
use crate::project::{self, Project};

/// How far the books have changed, as the watcher saw it: a count per
/// project, and one for everything (a lost event, a watch gone).
#[derive(Default)]
pub struct Generations {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    all: u64,
    projects: HashMap<String, u64>,
    /// The sessions folders the watcher follows: only their answers are
    /// kept.
    watched: HashSet<PathBuf>,
}

/// A project's place in the changes: equal stamps, same books.
type Stamp = (u64, u64);

impl Generations {
    /// A record of project `id` changed.
    pub fn changed(&self, id: &str) {
        *self.lock().projects.entry(id.to_string()).or_default() += 1;
    }

    /// Anything may have changed (the watcher lost events).
    pub fn changed_all(&self) {
        self.lock().all += 1;
    }

    /// The watcher follows `dir` from now on.
    pub fn watching(&self, dir: &Path) {
        self.lock().watched.insert(dir.to_path_buf());
    }

    /// The watcher no longer follows `dir` (it was removed).
    pub fn not_watching(&self, dir: &Path) {
        let mut state = self.lock();
        state.watched.retain(|watched| !watched.starts_with(dir));
        state.all += 1;
    }

    /// Where project `id` stands; `None` when its books are not watched.
    fn stamp(&self, id: &str, dir: &Path) -> Option<Stamp> {
        let state = self.lock();
        state
            .watched
            .contains(dir)
            .then(|| (state.all, state.projects.get(id).copied().unwrap_or(0)))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The `/sessions` answers kept, by project.
pub struct Sessions {
    generations: Arc<Generations>,
    kept: Mutex<HashMap<String, Arc<Kept>>>,
}

struct Kept {
    stamp: Stamp,
    /// The answer: the records as JSON.
    body: Bytes,
    /// The records that said running or waiting, checked on every use.
    live: Vec<Record>,
}

impl Sessions {
    pub fn new(generations: Arc<Generations>) -> Sessions {
        Sessions {
            generations,
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// What `list --json` gives for `project`, as JSON.
    pub fn list_json(&self, project: &Project) -> Result<Bytes> {
        let id = project::encode_root(&project.root);
        let books = Books::for_project(project)?;
        // Taken before reading: a change during the reading moves it on.
        let stamp = self.generations.stamp(&id, books.dir());
        if let Some(stamp) = stamp
            && let Some(kept) = self.kept(&id)
            && kept.stamp == stamp
            && kept.live.iter().all(books::runs_now)
        {
            return Ok(kept.body.clone());
        }
        let records = books.list()?;
        let body = Bytes::from(serde_json::to_vec(&records)?);
        if let Some(stamp) = stamp {
            let live = records
                .into_iter()
                .filter(|record| record.status.is_live())
                .collect();
            let kept = Kept {
                stamp,
                body: body.clone(),
                live,
            };
            self.lock().insert(id, Arc::new(kept));
        }
        Ok(body)
    }

    fn kept(&self, id: &str) -> Option<Arc<Kept>> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Kept>>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_moves_with_its_project_and_with_everything() {
        let generations = Generations::default();
        let dir = Path::new("/books/p/sessions");
        assert_eq!(generations.stamp("p", dir), None, "not watched");
        generations.watching(dir);
        let first = generations.stamp("p", dir).unwrap();
        generations.changed("q");
        assert_eq!(generations.stamp("p", dir), Some(first));
        generations.changed("p");
        let second = generations.stamp("p", dir).unwrap();
        assert_ne!(second, first);
        generations.changed_all();
        assert_ne!(generations.stamp("p", dir).unwrap(), second);
        generations.not_watching(Path::new("/books/p"));
        assert_eq!(generations.stamp("p", dir), None);
    }
}
