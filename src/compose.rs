//! Prompt composition (SPEC §3): the rendered mode prompt, then the task,
//! then the mode's area guidance, then the additional instructions.
//! The same inputs always give the same bytes.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::bail_input;
use crate::mode::{self, Mode};
use crate::project::Project;
use crate::task::{self, Task};
use crate::template;

/// What to compose.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub task_id: String,
    pub mode: String,
    pub instructions: Option<String>,
    /// `--data`: a JSON object merged over the built-in variables.
    pub data: Map<String, Value>,
}

/// A composed prompt and everything that went into it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Composed {
    pub prompt: String,
    pub task: Task,
    /// The mode name as requested.
    pub mode: String,
    /// The files read: mode file, task file, area guidance, in that order.
    pub files: Vec<PathBuf>,
    pub data: Map<String, Value>,
    pub allowed_tools: Vec<String>,
    pub disallowed_tools: Vec<String>,
}

/// Largest `--instructions` or `--data` accepted: far above any real use,
/// well below what an argument list can carry.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// Parses `--data`, which must be a JSON object.
pub fn parse_data(text: &str) -> Result<Map<String, Value>> {
    if text.len() > MAX_INPUT_BYTES {
        bail_input!(
            "--data is {} bytes; at most {MAX_INPUT_BYTES} are accepted",
            text.len()
        );
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => bail_input!(
            "--data must be a JSON object such as '{{\"key\": \"value\"}}', not {}",
            json_kind(&other)
        ),
        Err(err) => bail_input!("--data is not valid JSON: {err}"),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Resolves task and mode, checks the mode's required inputs, renders and
/// composes.
pub fn compose(project: &Project, request: &Request) -> Result<Composed> {
    if let Some(text) = &request.instructions
        && text.len() > MAX_INPUT_BYTES
    {
        bail_input!(
            "--instructions is {} bytes; at most {MAX_INPUT_BYTES} are accepted",
            text.len()
        );
    }
    let task = task::resolve(project, &request.task_id)?;
    let mode = mode::resolve(project, &request.mode)?;
    let data = variables(
        &task,
        &request.mode,
        request.instructions.as_deref(),
        &request.data,
    );
    if let Some(mode) = &mode {
        check_required_inputs(mode, &task, &data)?;
    }

    let mut files = Vec::new();
    let mut parts = Vec::new();
    let mut template_placed_instruction = false;
    let mut template_placed_instructions = false;
    match &mode {
        Some(mode) => {
            files.push(mode.file.clone());
            let known = mode.spec.inputs.iter().map(|input| input.name.as_str());
            let rendered = template::render(&mode.body, &data, known);
            template_placed_instruction = rendered.used.contains("taskInstruction");
            template_placed_instructions = rendered.used.contains("additionalInstructions");
            parts.push(rendered.text);
        }
        None => {
            eprintln!(
                "scopecraft-tmux: warning: {} does not exist; using a short built-in prompt",
                project.modes_dir().display()
            );
            parts.push(builtin_prompt(&task));
        }
    }
    files.push(task.path.clone());
    if !template_placed_instruction {
        parts.push(task_block(&task));
    }
    if let Some(mode) = &mode
        && let Some(guidance) = area_guidance(project, mode, &task)?
    {
        files.push(guidance.0);
        parts.push(guidance.1);
    }
    if let Some(text) = request.instructions.as_deref().map(str::trim)
        && !text.is_empty()
        && !template_placed_instructions
    {
        parts.push(format!(
            "<additional_instructions>\n{text}\n</additional_instructions>"
        ));
    }

    let (allowed_tools, disallowed_tools) = mode
        .as_ref()
        .map(|mode| {
            (
                mode.spec.allowed_tools.clone(),
                mode.spec.disallowed_tools.clone(),
            )
        })
        .unwrap_or_default();
    Ok(Composed {
        prompt: join_parts(&parts),
        task,
        mode: request.mode.clone(),
        files,
        data,
        allowed_tools,
        disallowed_tools,
    })
}

/// The built-in variables, then `--data` over them.
fn variables(
    task: &Task,
    mode: &str,
    instructions: Option<&str>,
    extra: &Map<String, Value>,
) -> Map<String, Value> {
    let mut data = Map::new();
    let mut set = |key: &str, value: &str| {
        data.insert(key.to_string(), Value::String(value.to_string()));
    };
    set("taskId", &task.id);
    set("parentId", task.parent.as_deref().unwrap_or(""));
    set("taskInstruction", &task.instruction());
    set("mode", mode);
    set("additionalInstructions", instructions.unwrap_or("").trim());
    set("area", &task.area);
    set("task_title", &task.title);
    for (key, value) in extra {
        data.insert(key.clone(), value.clone());
    }
    data
}

/// The required inputs of a mode that running `task` in it without
/// `--data` or instructions would leave without a value (the menu greys
/// such modes out).
pub fn missing_inputs(task: &Task, mode: &str, inputs: &[mode::Input]) -> Vec<String> {
    let data = variables(task, mode, None, &Map::new());
    missing_in(inputs, &data)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// A required input (`input:` key without `?`) must have a value: absent,
/// `null` and `""` all count as missing.
fn missing_in<'a>(inputs: &'a [mode::Input], data: &Map<String, Value>) -> Vec<&'a str> {
    inputs
        .iter()
        .filter(|input| input.required)
        .filter(|input| {
            matches!(data.get(&input.name), None | Some(Value::Null))
                || data.get(&input.name) == Some(&Value::String(String::new()))
        })
        .map(|input| input.name.as_str())
        .collect()
}

/// Refuses a mode whose required inputs have no value. When the missing
/// value is the task's instruction, the task file is the cause and is
/// named first.
fn check_required_inputs(mode: &Mode, task: &Task, data: &Map<String, Value>) -> Result<()> {
    let missing = missing_in(&mode.spec.inputs, data);
    if missing.is_empty() {
        return Ok(());
    }
    let cause = if missing.contains(&"taskInstruction") {
        let what = match (task.format, task.section("Instruction")) {
            (_, Some(_)) => "its `## Instruction` section is empty",
            (task::Format::V2, None) => "it has no `## Instruction` section",
            (task::Format::Mdtm, None) => "it has no text besides its `## Log`",
        };
        format!(
            "task {} has no instruction text ({}: {what}), and ",
            task.id,
            task.path.display()
        )
    } else {
        String::new()
    };
    let remedy = if cause.is_empty() {
        ""
    } else {
        "write the instruction in the task file, or "
    };
    let example: Vec<String> = missing
        .iter()
        .map(|name| format!("\"{name}\": \"…\""))
        .collect();
    bail_input!(
        "{cause}mode `{}` ({}) requires the input{} {} and no value was given; {remedy}pass --data '{{{}}}'",
        mode.name,
        mode.file.display(),
        if missing.len() == 1 { "" } else { "s" },
        missing
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", "),
        example.join(", ")
    )
}

/// The task as the agent reads it: metadata, then Instruction, Tasks and
/// Deliverable as written in the task file (never rendered as a template).
fn task_block(task: &Task) -> String {
    let mut block = format!("<task>\n# {}\n\n", task.title);
    let mut field = |name: &str, value: &str| {
        if !value.is_empty() {
            block.push_str(&format!("- {name}: {value}\n"));
        }
    };
    field("ID", &task.id);
    field("Type", &task.kind);
    field("Status", &task.status);
    field("Area", &task.area);
    field("Parent", task.parent.as_deref().unwrap_or(""));
    let instruction = task.instruction();
    let sections = [
        ("Instruction", Some(instruction)),
        ("Tasks", task.section("Tasks")),
        ("Deliverable", task.section("Deliverable")),
    ];
    for (name, text) in sections {
        if let Some(text) = text.filter(|text| !text.is_empty()) {
            block.push_str(&format!("\n## {name}\n{text}\n"));
        }
    }
    block.push_str("</task>");
    block
}

/// `.modes/<mode-dir>/area/<area>.md`, when the task has an area and the
/// file exists.
fn area_guidance(project: &Project, mode: &Mode, task: &Task) -> Result<Option<(PathBuf, String)>> {
    let Some(dir) = mode.dir() else {
        return Ok(None);
    };
    // An area is a plain name; anything else cannot name a guidance file.
    if task.area.is_empty() || crate::names::check_task_id(&task.area).is_err() {
        return Ok(None);
    }
    let path = project
        .modes_dir()
        .join(dir)
        .join("area")
        .join(format!("{}.md", task.area));
    if !path.is_file() {
        return Ok(None);
    }
    let text = crate::files::read_project_text(&path)
        .with_context(|| format!("reading area guidance {}", path.display()))?;
    Ok(Some((
        path,
        format!(
            "<area_guidance area=\"{}\">\n{}\n</area_guidance>",
            task.area,
            text.trim()
        ),
    )))
}

fn builtin_prompt(task: &Task) -> String {
    format!(
        "You are working on the task {} of this project. Read the task below, do the work it \
         describes in this repository, and note what you did in the task's Log section.",
        task.id
    )
}

/// Parts trimmed and separated by one blank line, ending with a newline.
fn join_parts(parts: &[String]) -> String {
    let mut prompt = parts
        .iter()
        .map(|part| part.trim_start_matches(['\n', '\r']).trim_end())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    prompt.push('\n');
    prompt
}
