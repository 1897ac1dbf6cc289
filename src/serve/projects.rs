//! The projects one server serves: the one it was started in, and every
//! project under `SCOPECRAFT_HOME` whose books name its root. A project is
//! named by its folder there (the encoded root), `?project=ID`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Result;
use serde::Serialize;

use crate::books::Books;
use crate::error::bail_input;
use crate::project::{self, Project};

pub struct Projects {
    home: PathBuf,
    current: Option<Project>,
    /// Roots found in the books, by id.
    known: Mutex<BTreeMap<String, PathBuf>>,
}

/// A project as `GET /projects` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: String,
    pub name: String,
    pub root: PathBuf,
    pub current: bool,
}

impl Projects {
    pub fn new(home: PathBuf, current: Option<Project>) -> Projects {
        Projects {
            home,
            current,
            known: Mutex::new(BTreeMap::new()),
        }
    }

    /// The project `id`, or without one the current project (else the
    /// only one there is).
    pub fn get(&self, id: Option<&str>) -> Result<Project> {
        let Some(id) = id.filter(|id| !id.is_empty()) else {
            if let Some(current) = &self.current {
                return Ok(current.clone());
            }
            let all = self.list()?;
            return match all.as_slice() {
                [only] => Project::discover(&only.root),
                [] => bail_input!("no projects yet: start the server inside a project"),
                _ => bail_input!(
                    "the server was started outside a project: pass ?project=ID (GET /projects lists them)"
                ),
            };
        };
        if id.len() > 512
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            bail_input!("invalid project id {}", crate::names::quoted(id));
        }
        if let Some(current) = &self.current
            && project::encode_root(&current.root) == id
        {
            return Ok(current.clone());
        }
        let known = self.lock().get(id).cloned();
        let root = known.or_else(|| self.find_root(id));
        match root.and_then(|root| Project::discover(&root).ok()) {
            Some(project) if project::encode_root(&project.root) == id => Ok(project),
            _ => Err(not_found(format!(
                "no project {id} under {}",
                self.home.display()
            ))),
        }
    }

    /// Every project: the current one first, then the others by root.
    pub fn list(&self) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        let current_id = self.current.as_ref().map(|p| project::encode_root(&p.root));
        if let Some(current) = &self.current {
            entries.push(entry(current, true));
        }
        let dir = self.home.join("projects");
        let Ok(folders) = std::fs::read_dir(&dir) else {
            return Ok(entries);
        };
        let mut others = Vec::new();
        for folder in folders.flatten() {
            let Some(id) = folder.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if Some(&id) == current_id.as_ref() {
                continue;
            }
            if let Ok(project) = self.get(Some(&id)) {
                others.push(entry(&project, false));
            }
        }
        others.sort_by(|a, b| a.root.cmp(&b.root));
        entries.extend(others);
        Ok(entries)
    }

    /// The root a project's records name, remembered.
    fn find_root(&self, id: &str) -> Option<PathBuf> {
        let books = Books::at(self.home.join("projects").join(id).join("sessions"));
        let root = books
            .list_raw(false)
            .ok()?
            .into_iter()
            .find_map(|record| record.project_root)?;
        self.lock().insert(id.to_string(), root.clone());
        Some(root)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, PathBuf>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn entry(project: &Project, current: bool) -> Entry {
    Entry {
        id: project::encode_root(&project.root),
        name: project.root.file_name().map_or_else(
            || project.root.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        root: project.root.clone(),
        current,
    }
}

/// Something asked for that does not exist: 404 over HTTP.
#[derive(Debug)]
pub struct NotFound(pub String);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotFound {}

pub fn not_found(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(NotFound(message.into()))
}
