//! Scopecraft v2 tasks: `# Title`, a YAML `---` block, then sections; files
//! `<id>.task.md`, parent folders `<parent-id>/_overview.md` with subtasks
//! `NN_<id>.task.md`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::{Format, Task, normalise, warn};
use crate::markdown::{self, Document, FrontMatter};

pub(super) fn parse(path: &Path, location: &str, doc: Document<'_>) -> Task {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let folder = path
        .parent()
        .and_then(|dir| dir.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let is_parent = file_name == "_overview.md";
    let id = if is_parent {
        folder.to_string()
    } else {
        file_name.trim_end_matches(".task.md").to_string()
    };
    let fields = match doc.front_matter {
        Some(FrontMatter::Yaml(yaml)) => parse_yaml(path, yaml, doc.lines_before_front_matter),
        _ => {
            warn(
                path,
                "has no `---` front matter; listed without type, status or area",
            );
            BTreeMap::new()
        }
    };
    let in_parent_folder = !is_parent
        && path
            .parent()
            .is_some_and(|dir| dir.join("_overview.md").is_file());
    let parent = if in_parent_folder {
        Some(folder.to_string())
    } else {
        text(&fields, "parent").filter(|p| !p.is_empty() && !is_parent)
    };
    Task {
        title: doc.title.map_or_else(|| id.clone(), str::to_string),
        id,
        kind: normalise(&text(&fields, "type").unwrap_or_default()),
        status: normalise(&text(&fields, "status").unwrap_or_default()),
        area: text(&fields, "area").unwrap_or_default(),
        parent,
        location: location.to_string(),
        format: Format::V2,
        is_parent,
        path: path.to_path_buf(),
        body: doc.body.to_string(),
    }
}

fn parse_yaml(path: &Path, yaml: &str, lines_before: usize) -> BTreeMap<String, Value> {
    if yaml.trim().is_empty() {
        return BTreeMap::new();
    }
    match serde_saphyr::from_str::<Value>(yaml) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        Ok(_) => {
            warn(
                path,
                "has front matter that is not a mapping; listed without metadata",
            );
            BTreeMap::new()
        }
        Err(err) => {
            warn(
                path,
                &format!(
                    "has front matter that is not valid YAML ({}); listed without metadata",
                    markdown::yaml_error(&err, lines_before)
                ),
            );
            BTreeMap::new()
        }
    }
}

/// A scalar field as text (numbers and booleans too); `None` when absent or
/// not a scalar.
pub(super) fn text(fields: &BTreeMap<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
