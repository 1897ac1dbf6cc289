//! Entry points for the fuzz targets in `fuzz/`: each takes any bytes and
//! runs them through what reads files and streams we do not control, the
//! way the commands do. A panic, an endless loop or unbounded memory here
//! is a bug; errors and warnings are the expected answer to bad input.

use std::path::Path;

use serde_json::{Map, Value};

use crate::{books, markdown, mode, stream, task, template};

/// A mode file, then (after a NUL byte, optional) the data as a JSON
/// object: the front matter read as a mode's, the body rendered with the
/// data and the declared inputs, as `prompt` does.
pub fn template(bytes: &[u8]) {
    let (file, data) = match bytes.iter().position(|&b| b == 0) {
        Some(nul) => (&bytes[..nul], &bytes[nul + 1..]),
        None => (bytes, &[][..]),
    };
    let Ok(file) = std::str::from_utf8(file) else {
        return;
    };
    let data: Map<String, Value> = match serde_json::from_slice(data) {
        Ok(Value::Object(map)) => map,
        _ => [
            ("taskId", "fuzz-01A"),
            ("taskInstruction", "Do {taskId} and ${x}."),
            ("mode", "implementation"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect(),
    };
    let doc = markdown::split(file);
    let spec = match doc.front_matter {
        Some(markdown::FrontMatter::Yaml(yaml)) => {
            mode::parse_spec(yaml, doc.lines_before_front_matter).unwrap_or_default()
        }
        _ => mode::ModeSpec::default(),
    };
    let body = if doc.front_matter.is_some() {
        doc.body
    } else {
        file
    };
    let known = spec.inputs.iter().map(|input| input.name.as_str());
    let rendered = template::render(body, &data, known);
    // Rendering never makes a known variable up.
    for name in &rendered.used {
        assert!(
            data.contains_key(name) || spec.inputs.iter().any(|i| &i.name == name),
            "{name} was used but is not known"
        );
    }
}

/// A task file, both formats: the `+++` TOML block of MDTM and the `---`
/// YAML block of Scopecraft v2, as `tasks` reads it, then what `prompt`
/// takes from it.
pub fn front_matter(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    // A folder that does not exist: nothing next to the file is found.
    let root = Path::new("/nonexistent-fuzz/.tasks");
    for path in [
        root.join("current/fuzz-01A.task.md"),
        root.join("FEATURE_Fuzz/TASK-001.md"),
    ] {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let is_v2_name = name.ends_with(".task.md");
        if let Ok(Some(task)) = task::from_text(root, &path, is_v2_name, text) {
            let _ = task.instruction();
            let _ = task.section("Deliverable");
            let _ = task.environment_id();
            let _ = serde_json::to_string(&task);
        }
    }
}

/// An agent's stream-json log (Claude Code's, Codex's or Gemini's; the
/// renderer tells them apart by shape): read as the supervisor reads it
/// for the conversation id and the result, and rendered as `logs` renders
/// it, in chunks of the size the first byte says.
pub fn stream_json(bytes: &[u8]) {
    let Some((&size, log)) = bytes.split_first() else {
        return;
    };
    let mut reader = stream::StreamReader::default();
    for line in log.split(|&b| b == b'\n') {
        if line.first() == Some(&b'{')
            && let Ok(event) = serde_json::from_slice::<Value>(line)
        {
            let _ = reader.note(&event);
        }
    }
    let mut renderer = stream::LogRenderer::default();
    let mut out = Vec::new();
    for chunk in log.chunks(usize::from(size).max(1)) {
        renderer.feed(chunk, &mut out).expect("writing to memory");
    }
    renderer.finish(&mut out).expect("writing to memory");
    // What reaches the reader's terminal has no escape sequences.
    assert!(
        !out.contains(&0x1b),
        "an escape character reached the output"
    );
}

/// A session record file, as the books read it; what reads well is written
/// back and must read again the same.
pub fn record(bytes: &[u8]) {
    let _ = books::parse(Path::new("/nonexistent-fuzz/fuzz.session.json"), bytes);
    let Ok(record) = serde_json::from_slice::<books::Record>(bytes) else {
        return;
    };
    let _ = record.state_label();
    let _ = record.outcome();
    let _ = record.run_logs();
    let _ = record.agent_name();
    let _ = record.mode_name();
    if let Some(run) = record.run_record(None) {
        serde_json::to_vec(&run).expect("a run record is JSON");
    }
    let written = serde_json::to_vec(&record).expect("a record is JSON");
    let again: books::Record = match serde_json::from_slice(&written) {
        Ok(again) => again,
        Err(err) => panic!("a record we wrote does not read again: {err}"),
    };
    let rewritten = serde_json::to_vec(&again).expect("a record is JSON");
    assert_eq!(
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(&rewritten),
        "a record changes when written twice"
    );
}
