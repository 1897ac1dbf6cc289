//! Mode files under `.tasks/.modes/`: resolving a mode name as Scopecraft
//! does, listing the names a user can pass, and reading a mode's ChannelCoder
//! front matter (`input:`, `allowedTools:`, `disallowedTools:`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use crate::error::{bad_input, bail_input};
use crate::files;
use crate::markdown::{self, FrontMatter};
use crate::names;
use crate::project::Project;
use crate::walk;

/// The file `auto` stands for.
pub const AUTO_FILE: &str = "orchestration/autonomous.md";

/// A resolved mode file, read and with its front matter parsed.
#[derive(Debug, Clone)]
pub struct Mode {
    /// The name as the user gave it (`auto`, `implementation`, `a/b`).
    pub name: String,
    pub file: PathBuf,
    /// The file below `.modes`, with `/` separators: `implementation/base.md`.
    pub relative: String,
    pub spec: ModeSpec,
    /// The template text after the front matter.
    pub body: String,
}

impl Mode {
    /// The folder whose `area/<area>.md` guides this mode: the mode file's
    /// folder below `.modes` (`implementation` for `implementation/base.md`).
    pub fn dir(&self) -> Option<&str> {
        self.relative.rsplit_once('/').map(|(dir, _)| dir)
    }
}

/// What a mode's front matter declares.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModeSpec {
    pub inputs: Vec<Input>,
    pub allowed_tools: Vec<String>,
    pub disallowed_tools: Vec<String>,
}

/// One `input:` entry; `name?` marks an optional one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Input {
    pub name: String,
    pub required: bool,
    /// The declared type (`string`, …) as written.
    #[serde(rename = "type")]
    pub kind: String,
}

/// Resolves `name` (checked first). `Ok(None)` when the project has no
/// `.modes` folder at all: the caller falls back to a built-in prompt.
pub fn resolve(project: &Project, name: &str) -> Result<Option<Mode>> {
    names::check_mode_name(name)?;
    let modes_dir = project.modes_dir();
    if !modes_dir.is_dir() {
        return Ok(None);
    }
    let relative = locate(&modes_dir, name)?;
    load(&modes_dir, name, &relative).map(Some)
}

/// The path below `.modes` that `name` stands for, as SPEC §2 says: `auto`
/// → `orchestration/autonomous.md`; a name with `/` is a path; otherwise a
/// unique `<name>.md` anywhere below `.modes`, else `<name>/base.md`. Only
/// mode files count (what `modes` lists): a name or path that reaches an
/// area guide, a README or a guidance document is refused with the reason.
fn locate(modes_dir: &Path, name: &str) -> Result<String> {
    if name == "auto" {
        if modes_dir.join(AUTO_FILE).is_file() {
            return Ok(AUTO_FILE.to_string());
        }
        bail_input!(
            "mode `auto` runs {}, which does not exist in this project; pick a mode with --mode (see `scopecraft-tmux modes`)",
            modes_dir.join(AUTO_FILE).display()
        );
    }
    if name.contains('/') {
        for candidate in [format!("{name}.md"), format!("{name}/base.md")] {
            if is_present(&modes_dir.join(&candidate)) {
                return match why_not_a_mode(modes_dir, &candidate) {
                    None => Ok(candidate),
                    Some(why) => Err(not_a_mode(modes_dir, name, &candidate, &why)),
                };
            }
        }
        return Err(unknown_mode(modes_dir, name));
    }
    let files = mode_files(modes_dir)?;
    let wanted = format!("{name}.md");
    let (matches, others): (Vec<&String>, Vec<&String>) = files
        .iter()
        .filter(|relative| relative.rsplit('/').next() == Some(wanted.as_str()))
        .partition(|relative| why_not_a_mode(modes_dir, relative).is_none());
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let base = format!("{name}/base.md");
            if is_present(&modes_dir.join(&base)) {
                match why_not_a_mode(modes_dir, &base) {
                    None => return Ok(base),
                    Some(why) => return Err(not_a_mode(modes_dir, name, &base, &why)),
                }
            }
            // Area guides share their names with modes (`core`, `cli`):
            // a name that reaches only those is merely unknown.
            match others
                .iter()
                .filter(|other| !in_area(other))
                .find_map(|other| Some((*other, why_not_a_mode(modes_dir, other)?)))
            {
                Some((other, why)) => Err(not_a_mode(modes_dir, name, other, &why)),
                None => Err(unknown_mode(modes_dir, name)),
            }
        }
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|relative| format!("  {}", relative.trim_end_matches(".md")))
                .collect();
            bail_input!(
                "mode `{name}` is ambiguous: {} files are called {wanted} below {}:\n{}\npass one of these paths as the mode",
                several.len(),
                modes_dir.display(),
                names.join("\n")
            )
        }
    }
}

/// Whether a mode file is there: anything but a folder, so that a FIFO or a
/// device in its place is named when it is refused, not taken for absent.
fn is_present(path: &Path) -> bool {
    path.metadata().is_ok_and(|meta| !meta.is_dir())
}

/// Why the `.md` file `relative` below `.modes` is not a mode, or `None`
/// when it is one: a FIFO, a device or a huge file is not read at all;
/// area guides are added to the prompts of the modes beside them; READMEs
/// and guidance documents have no ChannelCoder front matter. Every
/// `base.md` is a mode.
fn why_not_a_mode(modes_dir: &Path, relative: &str) -> Option<String> {
    let path = modes_dir.join(relative);
    if let Err(err) = files::open_regular(&path, files::MAX_PROJECT_FILE)
        && err.is_refusal()
    {
        return Some(err.to_string());
    }
    if in_area(relative) {
        return Some(
            "is an area guide, added to the prompt of the modes in the folder above it".into(),
        );
    }
    let is_base = relative == "base.md" || relative.ends_with("/base.md");
    if !is_base && !has_front_matter(&path) {
        return Some(
            "has no ChannelCoder front matter (a `---` block): a document to read (a README, a guide), not a prompt".into(),
        );
    }
    None
}

/// `relative` is below `.modes`, as `modes` shows it.
fn not_a_mode(modes_dir: &Path, name: &str, relative: &str, why: &str) -> anyhow::Error {
    bad_input(format!(
        "`{name}` is not a mode: {relative} {why}; available modes: {}",
        available(modes_dir)
    ))
}

/// The names `modes` lists, comma-separated.
fn available(modes_dir: &Path) -> String {
    list_in(modes_dir)
        .map(|entries| {
            entries
                .iter()
                .map(|entry| entry.name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn unknown_mode(modes_dir: &Path, name: &str) -> anyhow::Error {
    bad_input(format!(
        "unknown mode `{name}`: no {name}.md below {dir} and no {dir}/{name}/base.md; available modes: {}",
        available(modes_dir),
        dir = modes_dir.display()
    ))
}

fn load(modes_dir: &Path, name: &str, relative: &str) -> Result<Mode> {
    let file = modes_dir.join(relative);
    let text = files::read_project_text(&file).map_err(|err| {
        let message = format!("mode file {} {err}", file.display());
        if err.is_refusal() {
            bad_input(message)
        } else {
            anyhow::Error::new(err).context(format!("reading mode file {}", file.display()))
        }
    })?;
    let doc = markdown::split(&text);
    let spec = match doc.front_matter {
        Some(FrontMatter::Yaml(yaml)) => parse_spec(yaml, doc.lines_before_front_matter)
            .with_context(|| format!("reading the front matter of mode file {}", file.display()))?,
        _ => ModeSpec::default(),
    };
    let body = match doc.front_matter {
        Some(_) => doc.body.to_string(),
        None => text.clone(),
    };
    Ok(Mode {
        name: name.to_string(),
        file,
        relative: relative.to_string(),
        spec,
        body,
    })
}

pub(crate) fn parse_spec(yaml: &str, lines_before: usize) -> Result<ModeSpec> {
    if yaml.trim().is_empty() {
        return Ok(ModeSpec::default());
    }
    let value: Value = serde_saphyr::from_str(yaml).map_err(|err| {
        bad_input(format!(
            "front matter is not valid YAML: {}",
            markdown::yaml_error(&err, lines_before)
        ))
    })?;
    let inputs = match value.get("input") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(key, kind)| {
                let (name, required) = match key.strip_suffix('?') {
                    Some(name) => (name, false),
                    None => (key.as_str(), true),
                };
                Input {
                    name: name.to_string(),
                    required,
                    kind: match kind {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                }
            })
            .collect(),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .map(|key| Input {
                name: key.trim_end_matches('?').to_string(),
                required: !key.ends_with('?'),
                kind: "string".to_string(),
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(ModeSpec {
        inputs,
        allowed_tools: tool_list(value.get("allowedTools")),
        disallowed_tools: tool_list(value.get("disallowedTools")),
    })
}

/// A tool list written as a YAML list or as one comma-separated string.
fn tool_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|tool| !tool.is_empty())
            .map(str::to_string)
            .collect(),
        Some(Value::String(text)) => text
            .split([',', ' '])
            .map(str::trim)
            .filter(|tool| !tool.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Every `.md` file below `.modes`, relative, `/`-separated, sorted.
fn mode_files(modes_dir: &Path) -> Result<Vec<String>> {
    let mut files: Vec<String> = walk::markdown_files(modes_dir, "mode")?
        .iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(modes_dir).ok()?;
            let parts: Option<Vec<&str>> = relative
                .components()
                .map(|part| part.as_os_str().to_str())
                .collect();
            Some(parts?.join("/"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// A mode a user can pass, for `modes`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModeEntry {
    /// The shortest name that resolves to this file.
    pub name: String,
    /// Other names resolving to the same file (its path form).
    pub aliases: Vec<String>,
    pub file: PathBuf,
    pub inputs: Vec<Input>,
    pub allowed_tools: Vec<String>,
    pub disallowed_tools: Vec<String>,
}

/// The project's modes; empty when it has no `.modes` folder.
pub fn list(project: &Project) -> Result<Vec<ModeEntry>> {
    let modes_dir = project.modes_dir();
    if !modes_dir.is_dir() {
        return Ok(Vec::new());
    }
    let entries = list_in(&modes_dir)?;
    // Said here, once, not by every lookup that lists the modes.
    for relative in mode_files(&modes_dir)? {
        let path = modes_dir.join(&relative);
        if let Err(err) = files::open_regular(&path, files::MAX_PROJECT_FILE)
            && err.is_refusal()
        {
            crate::task::warn(&path, &format!("{err}; passed over"));
        }
    }
    Ok(entries)
}

/// Mode files are the `.md` files with ChannelCoder front matter, and every
/// `base.md`; area guides (`*/area/*.md`), READMEs and guidance documents
/// without front matter are not modes ([`why_not_a_mode`]). Each is listed
/// under the names that resolve to it, checked by resolving them.
fn list_in(modes_dir: &Path) -> Result<Vec<ModeEntry>> {
    let mut entries = Vec::new();
    if modes_dir.join(AUTO_FILE).is_file() {
        entries.push(entry(modes_dir, AUTO_FILE, vec!["auto".to_string()])?);
    }
    for relative in mode_files(modes_dir)? {
        if why_not_a_mode(modes_dir, &relative).is_some() {
            continue;
        }
        let stem = relative.trim_end_matches(".md");
        let mut candidates = Vec::new();
        if let Some(dir) = stem.strip_suffix("/base") {
            candidates.push(dir.to_string());
        } else if let Some(short) = stem.rsplit('/').next() {
            candidates.push(short.to_string());
        }
        candidates.push(stem.to_string());
        let mut names: Vec<String> = candidates
            .into_iter()
            .filter(|candidate| {
                names::check_mode_name(candidate).is_ok()
                    && locate(modes_dir, candidate).is_ok_and(|found| found == relative)
            })
            .collect();
        names.dedup();
        if relative == AUTO_FILE
            && let Some(auto) = entries.first_mut()
        {
            auto.aliases.extend(names);
            continue;
        }
        if !names.is_empty() {
            entries.push(entry(modes_dir, &relative, names)?);
        }
    }
    Ok(entries)
}

fn entry(modes_dir: &Path, relative: &str, mut names: Vec<String>) -> Result<ModeEntry> {
    let mode = load(modes_dir, &names[0], relative)?;
    let name = names.remove(0);
    Ok(ModeEntry {
        name,
        aliases: names,
        file: mode.file,
        inputs: mode.spec.inputs,
        allowed_tools: mode.spec.allowed_tools,
        disallowed_tools: mode.spec.disallowed_tools,
    })
}

/// Whether the mode file `relative` is in an `area/` folder: an area guide,
/// added to the prompt of the modes beside it, not a mode.
fn in_area(relative: &str) -> bool {
    relative.split('/').rev().skip(1).any(|part| part == "area")
}

fn has_front_matter(path: &Path) -> bool {
    files::read_start(path, 3).starts_with(b"---")
}
