//! The older MDTM format: a TOML `+++` block with `id`, `title`, `status`,
//! `type`, `phase`, `tags`, `parent_task`, `subdirectory`; `FEATURE_*` and
//! `AREA_*` folders with an `_overview.md`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::{Format, Task, normalise, v2::text, warn};
use crate::markdown::Document;

/// `None` when the file has a `+++` block without an `id`: not a task.
pub(super) fn parse(
    path: &Path,
    location: &str,
    toml_text: &str,
    doc: Document<'_>,
) -> Result<Option<Task>> {
    let fields: BTreeMap<String, Value> = match toml::from_str::<toml::Table>(toml_text) {
        Ok(table) => table
            .into_iter()
            .filter_map(|(key, value)| Some((key, serde_json::to_value(value).ok()?)))
            .collect(),
        Err(err) => {
            // The file's line: the block's lines follow the `+++` line.
            let line = err.span().map(|span| {
                doc.lines_before_front_matter
                    + toml_text
                        .get(..span.start)
                        .unwrap_or(toml_text)
                        .matches('\n')
                        .count()
                    + 1
            });
            warn(
                path,
                &format!(
                    "has a +++ block that is not valid TOML ({}{}); skipped",
                    err.message(),
                    line.map(|line| format!(" at line {line}"))
                        .unwrap_or_default()
                ),
            );
            return Ok(None);
        }
    };
    let Some(raw_id) = text(&fields, "id").filter(|id| !id.is_empty()) else {
        return Ok(None);
    };
    let folder = path
        .parent()
        .and_then(|dir| dir.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let group = group_name(folder);
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let is_parent = file_name == "_overview.md"
        || raw_id == "_overview"
        || fields.get("is_overview") == Some(&Value::Bool(true));
    let id = match (is_parent, group) {
        (true, Some(group)) => group.to_string(),
        _ => raw_id,
    };
    let parent = text(&fields, "parent_task")
        .filter(|p| !p.is_empty())
        .or_else(|| group.filter(|_| !is_parent).map(str::to_string));
    let title = text(&fields, "title")
        .filter(|t| !t.is_empty())
        .or_else(|| doc.title.map(str::to_string))
        .unwrap_or_else(|| id.clone());
    Ok(Some(Task {
        id,
        title,
        kind: normalise(&text(&fields, "type").unwrap_or_default()),
        status: normalise(&text(&fields, "status").unwrap_or_default()),
        area: text(&fields, "area")
            .filter(|a| !a.is_empty())
            .or_else(|| area_tag(&fields))
            .unwrap_or_default(),
        parent,
        location: location.to_string(),
        format: Format::Mdtm,
        is_parent,
        path: path.to_path_buf(),
        body: doc.body.to_string(),
    }))
}

/// `FEATURE_auth` → `auth`; `AREA_ui` → `ui`.
fn group_name(folder: &str) -> Option<&str> {
    folder
        .strip_prefix("FEATURE_")
        .or_else(|| folder.strip_prefix("AREA_"))
        .filter(|name| !name.is_empty())
}

/// The first `AREA:<name>` tag's name.
fn area_tag(fields: &BTreeMap<String, Value>) -> Option<String> {
    let Value::Array(tags) = fields.get("tags")? else {
        return None;
    };
    tags.iter().filter_map(Value::as_str).find_map(|tag| {
        let (prefix, name) = tag.split_once(':')?;
        (prefix.eq_ignore_ascii_case("area") && !name.is_empty()).then(|| name.to_string())
    })
}
