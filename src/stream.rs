//! The agents' headless output: one JSON event per line. Claude Code's
//! `--output-format stream-json` (`system/init`, `assistant`, `user`, and a
//! final `result`), Codex CLI's `exec --json` ([`codex`]) and Gemini CLI's
//! `--output-format stream-json` ([`gemini`]); what the supervisor reads
//! from them ([`StreamReader`]), and how `logs` renders them for people.
//! Each event says by its shape whose it is, so a log holding the runs of
//! several agents renders whole.

mod codex;
mod gemini;

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::Duration;

use serde_json::Value;

use crate::ansi;
use crate::output;

/// `text` without terminal control: escape sequences (CSI, OSC, and the
/// two-character ones) removed, and every other control character but
/// newline and tab dropped.
pub fn without_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{1b}' => match chars.next() {
                // CSI: parameters, then one final byte in @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC, DCS, SOS, PM, APC: up to BEL or ESC \.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            chars.next_if_eq(&'\\');
                            break;
                        }
                    }
                }
                _ => {}
            },
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The conversation id from a `system/init` event.
pub fn init_session_id(event: &Value) -> Option<&str> {
    if event.get("type")?.as_str()? == "system" && event.get("subtype")?.as_str()? == "init" {
        event.get("session_id")?.as_str()
    } else {
        None
    }
}

/// Whether the event is the final `result`.
pub fn is_result(event: &Value) -> bool {
    event.get("type").and_then(Value::as_str) == Some("result")
}

/// A failed run: `is_error` true means failure even when the subtype says
/// `success`; a subtype other than `success` (`error_max_turns`,
/// `error_during_execution`) too.
pub fn result_failed(event: &Value) -> bool {
    event.get("is_error").and_then(Value::as_bool) == Some(true)
        || event
            .get("subtype")
            .and_then(Value::as_str)
            .is_some_and(|subtype| subtype != "success")
}

/// The final answer from a successful `result` event.
pub fn result_text(event: &Value) -> Option<&str> {
    if is_result(event) && !result_failed(event) {
        event.get("result")?.as_str()
    } else {
        None
    }
}

/// What the supervisor learns from a headless run's stream, whichever
/// agent wrote it: the conversation id and the final answer.
#[derive(Debug, Default)]
pub struct StreamReader {
    /// The final answer of a run that succeeded.
    pub result_text: Option<String>,
    /// Codex: the last agent message, the answer once the turn completes.
    last_message: Option<String>,
    /// Gemini: the assistant's text since its last tool call.
    answer: String,
}

impl StreamReader {
    /// Reads one event; returns the conversation id when the event names it
    /// (Claude Code's `system/init`, Codex's `thread.started`, Gemini's
    /// `init`).
    pub fn note(&mut self, event: &Value) -> Option<String> {
        let kind = event.get("type").and_then(Value::as_str)?;
        match kind {
            "system" => return init_session_id(event).map(str::to_string),
            "thread.started" => return text(event, "thread_id").map(str::to_string),
            "init" => return text(event, "session_id").map(str::to_string),
            "result" if gemini::is_result(event) => {
                // A failed run's text is no result to save.
                self.result_text = (text(event, "status") == Some("success"))
                    .then(|| self.answer.trim().to_string());
            }
            "result" => self.result_text = result_text(event).map(str::to_string),
            "message" if text(event, "role") == Some("assistant") => {
                self.answer
                    .push_str(text(event, "content").unwrap_or_default());
            }
            "tool_use" => self.answer.clear(),
            "item.completed" => {
                let item = event.get("item").unwrap_or(&Value::Null);
                if text(item, "type") == Some("agent_message") {
                    self.last_message = text(item, "text").map(str::to_string);
                }
            }
            "turn.completed" => self.result_text = self.last_message.clone(),
            "turn.failed" => self.result_text = None,
            _ => {}
        }
        None
    }
}

/// Longest line rendered (8 MiB); a longer one is counted, not kept, so
/// memory stays bounded whatever the log holds.
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// Renders a log fed in chunks of any size: splits it into lines for the
/// [`Renderer`].
#[derive(Debug, Default)]
pub struct LogRenderer {
    renderer: Renderer,
    line: Vec<u8>,
    /// Bytes of the current line beyond what is kept (the line is too long).
    dropped: u64,
}

impl LogRenderer {
    pub fn feed(&mut self, chunk: &[u8], out: &mut dyn Write) -> io::Result<()> {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.take(&rest[..end]);
            self.emit(out)?;
            rest = &rest[end + 1..];
        }
        self.take(rest);
        Ok(())
    }

    /// Renders the last line when the log does not end with a newline.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.line.is_empty() || self.dropped > 0 {
            self.emit(out)?;
        }
        self.renderer.finish(out)
    }

    fn take(&mut self, part: &[u8]) {
        if self.dropped == 0 && self.line.len() + part.len() <= MAX_LINE {
            self.line.extend_from_slice(part);
        } else {
            self.dropped += (self.line.len() + part.len()) as u64;
            self.line = Vec::new();
        }
    }

    fn emit(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.dropped > 0 {
            self.renderer.too_long(self.dropped, out)?;
            self.dropped = 0;
        } else {
            self.renderer.line(&self.line, out)?;
        }
        self.line.clear();
        Ok(())
    }
}

/// How wide a tool call's summary may get (characters).
const TOOL_WIDTH: usize = 160;
/// How wide a tool error may get (characters).
const ERROR_WIDTH: usize = 200;
/// How wide one input value of an unknown or MCP tool may get.
const VALUE_WIDTH: usize = 60;

/// What was written last, for the blank lines between parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Nothing,
    Header,
    Text,
    Tool,
    Result,
    Other,
}

/// Renders a stream-json log for people, one line at a time: assistant
/// text as it is, a tool call on one line (`→ Bash: cargo test`), a tool
/// error on one line, and the result with turns, duration and cost.
/// Lines that are not JSON are written as they are, less escape sequences.
/// Its memory is the tool calls still waiting for their results.
#[derive(Debug)]
pub struct Renderer {
    /// Tool calls waiting for their results: id → tool name.
    pending: HashMap<String, String>,
    /// The agent's working directory, to shorten paths below it.
    cwd: Option<String>,
    last: Last,
    plain: ansi::Stripper,
    /// Streamed text (Gemini's deltas) whose line is not ended yet.
    open_text: bool,
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new()
    }
}

impl Renderer {
    pub fn new() -> Renderer {
        Renderer {
            pending: HashMap::new(),
            cwd: None,
            last: Last::Nothing,
            plain: ansi::Stripper::new(),
            open_text: false,
        }
    }

    /// Renders one line of the log (without its newline).
    pub fn line(&mut self, line: &[u8], out: &mut dyn Write) -> io::Result<()> {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return Ok(());
        }
        let event = match trimmed.first() {
            Some(b'{') => serde_json::from_slice::<Value>(trimmed).ok(),
            _ => None,
        };
        let Some(event) = event else {
            self.close_text(out)?;
            // The agent's stderr, or a tmux run's terminal output: the text
            // as it is, without escape sequences that would move the
            // reader's cursor or clear their screen.
            self.plain.feed(line, out)?;
            self.plain.feed(b"\n", out)?;
            self.last = Last::Other;
            return Ok(());
        };
        // Rendered first, then written without control characters: the
        // text comes from the agent (and what it read), and escape
        // sequences in it must not reach the reader's terminal.
        let mut rendered = Vec::new();
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !(kind == "message" && gemini::is_delta(&event)) {
            self.close_text(&mut rendered)?;
        }
        match kind {
            "system" => self.system(&event, &mut rendered)?,
            "assistant" => self.assistant(&event, &mut rendered)?,
            "user" => self.user(&event, &mut rendered)?,
            "result" if gemini::is_result(&event) => self.gemini_result(&event, &mut rendered)?,
            "result" => self.result(&event, &mut rendered)?,
            "init" | "message" | "tool_use" | "tool_result" => {
                self.gemini(kind, &event, &mut rendered)?;
            }
            "error" if gemini::is_error(&event) => self.gemini(kind, &event, &mut rendered)?,
            kind if codex::is_event(kind) => self.codex(kind, &event, &mut rendered)?,
            // Other events (partial messages, future kinds) say nothing a
            // reader of the log needs.
            _ => {}
        }
        out.write_all(without_controls(&String::from_utf8_lossy(&rendered)).as_bytes())
    }

    /// `✗ message` on one line: a mark, and the message shortened.
    fn error_line(&mut self, mark: &str, message: &str, out: &mut dyn Write) -> io::Result<()> {
        self.gap(out, Last::Tool)?;
        writeln!(
            out,
            "{mark} {}",
            output::truncate(&one_line(message), ERROR_WIDTH)
        )
    }

    /// Ends the line of streamed text, if one is open.
    fn close_text(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.open_text {
            self.open_text = false;
            writeln!(out)?;
        }
        Ok(())
    }

    /// Ends what is open once the log has ended.
    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.close_text(out)?;
        self.plain.finish(out)
    }

    /// A line too long to keep in memory (`bytes` long) stands for itself.
    pub fn too_long(&mut self, bytes: u64, out: &mut dyn Write) -> io::Result<()> {
        self.close_text(out)?;
        writeln!(
            out,
            "[a line of {bytes} bytes, too long to show; see --raw]"
        )?;
        self.last = Last::Other;
        Ok(())
    }

    fn gap(&mut self, out: &mut dyn Write, next: Last) -> io::Result<()> {
        let blank = match next {
            Last::Header | Last::Result | Last::Text => self.last != Last::Nothing,
            Last::Tool => matches!(self.last, Last::Result),
            Last::Nothing | Last::Other => false,
        };
        if blank {
            writeln!(out)?;
        }
        self.last = next;
        Ok(())
    }

    fn system(&mut self, event: &Value, out: &mut dyn Write) -> io::Result<()> {
        let Some(id) = init_session_id(event) else {
            return Ok(());
        };
        self.pending.clear();
        self.cwd = text(event, "cwd").map(str::to_string);
        self.gap(out, Last::Header)?;
        let mut header = format!("── session {id}");
        for key in ["model", "cwd"] {
            if let Some(value) = text(event, key) {
                header.push_str(" · ");
                header.push_str(value);
            }
        }
        writeln!(out, "{header}")
    }

    fn assistant(&mut self, event: &Value, out: &mut dyn Write) -> io::Result<()> {
        for block in content(event) {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    let Some(said) = text(block, "text") else {
                        continue;
                    };
                    let said = said.trim_matches('\n').trim_end();
                    if said.is_empty() {
                        continue;
                    }
                    self.gap(out, Last::Text)?;
                    writeln!(out, "{said}")?;
                }
                Some("tool_use") => {
                    let name = text(block, "name").unwrap_or("?");
                    let input = block.get("input").unwrap_or(&Value::Null);
                    if let Some(id) = text(block, "id") {
                        self.pending.insert(id.to_string(), display_name(name));
                    }
                    self.gap(out, Last::Tool)?;
                    writeln!(out, "→ {}", self.tool_call(name, input))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn user(&mut self, event: &Value, out: &mut dyn Write) -> io::Result<()> {
        if let Some(said) = event
            .get("message")
            .and_then(|m| m.get("content"))
            .and_then(Value::as_str)
        {
            return self.user_text(said, out);
        }
        for block in content(event) {
            match block.get("type").and_then(Value::as_str) {
                Some("tool_result") => {
                    let name = text(block, "tool_use_id")
                        .and_then(|id| self.pending.remove(id))
                        .unwrap_or_else(|| "tool".to_string());
                    if block.get("is_error").and_then(Value::as_bool) != Some(true) {
                        continue;
                    }
                    let message = tool_error(block.get("content").unwrap_or(&Value::Null));
                    self.gap(out, Last::Tool)?;
                    writeln!(
                        out,
                        "  ✗ {name}: {}",
                        output::truncate(&message, ERROR_WIDTH)
                    )?;
                }
                Some("text") => {
                    if let Some(said) = text(block, "text") {
                        self.user_text(said, out)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn user_text(&mut self, said: &str, out: &mut dyn Write) -> io::Result<()> {
        let said = said.trim();
        if said.is_empty() {
            return Ok(());
        }
        self.gap(out, Last::Text)?;
        for line in said.lines() {
            writeln!(out, "> {line}")?;
        }
        Ok(())
    }

    fn result(&mut self, event: &Value, out: &mut dyn Write) -> io::Result<()> {
        let failed = result_failed(event);
        let subtype = text(event, "subtype").unwrap_or("result");
        let outcome = match (failed, subtype) {
            (false, subtype) => subtype.to_string(),
            (true, "success") => "error".to_string(),
            (true, subtype) => subtype.to_string(),
        };
        let mut parts = vec![outcome];
        if let Some(turns) = event.get("num_turns").and_then(Value::as_u64) {
            parts.push(format!("{turns} turn{}", if turns == 1 { "" } else { "s" }));
        }
        if let Some(ms) = event.get("duration_ms").and_then(Value::as_u64) {
            parts.push(output::duration(Duration::from_millis(ms)));
        }
        // Newer Claude Code says total_cost_usd; older logs cost_usd and total_cost.
        let cost = ["total_cost_usd", "total_cost", "cost_usd"]
            .iter()
            .find_map(|key| event.get(*key).and_then(Value::as_f64));
        if let Some(cost) = cost {
            parts.push(dollars(cost));
        }
        self.gap(out, Last::Result)?;
        let mark = if failed { '✗' } else { '✓' };
        writeln!(out, "{mark} result: {}", parts.join(", "))?;
        if failed && let Some(message) = text(event, "result") {
            for line in message.trim().lines() {
                writeln!(out, "  {line}")?;
            }
        }
        Ok(())
    }

    /// `Bash: cargo test`, `Read: src/main.rs`, `scopecraft.task_get: id=x`.
    fn tool_call(&self, name: &str, input: &Value) -> String {
        let field = |key: &str| text(input, key).map(one_line);
        let path = |key: &str| text(input, key).map(|p| self.relative(p).to_string());
        let within = |main: Option<String>| {
            let main = main?;
            Some(match path("path") {
                Some(dir) if !dir.is_empty() => format!("{main} in {dir}"),
                _ => main,
            })
        };
        let summary = match name {
            "Bash" => field("command"),
            "Read" | "Write" | "Edit" | "MultiEdit" => path("file_path"),
            "NotebookRead" | "NotebookEdit" => path("notebook_path"),
            "Grep" | "Glob" => within(field("pattern")),
            "LS" => path("path"),
            "Task" => field("description"),
            "WebFetch" => field("url"),
            "WebSearch" => field("query"),
            "TodoWrite" => input.get("todos").and_then(Value::as_array).map(|todos| {
                format!(
                    "{} item{}",
                    todos.len(),
                    if todos.len() == 1 { "" } else { "s" }
                )
            }),
            _ => None,
        };
        let shown = display_name(name);
        match summary
            .or_else(|| short_input(input))
            .filter(|s| !s.is_empty())
        {
            Some(summary) => format!("{shown}: {}", output::truncate(&summary, TOOL_WIDTH)),
            None => shown,
        }
    }

    /// A path below the agent's working directory, relative to it.
    fn relative<'a>(&self, path: &'a str) -> &'a str {
        match &self.cwd {
            Some(cwd) => path
                .strip_prefix(cwd.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .filter(|rest| !rest.is_empty())
                .unwrap_or(path),
            None => path,
        }
    }
}

/// `Bash`, or `scopecraft.task_get` for the MCP tool `mcp__scopecraft__task_get`.
fn display_name(name: &str) -> String {
    match name
        .strip_prefix("mcp__")
        .and_then(|rest| rest.split_once("__"))
    {
        Some((server, tool)) => format!("{server}.{tool}"),
        None => name.to_string(),
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// The content blocks of an `assistant` or `user` message.
fn content(event: &Value) -> &[Value] {
    event
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Whitespace runs (newlines too) as single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `id=x, format=full` for a tool without a summary of its own.
fn short_input(input: &Value) -> Option<String> {
    let object = input.as_object()?;
    let pairs: Vec<String> = object
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Value::String(s) => one_line(s),
                other => other.to_string(),
            };
            format!("{key}={}", output::truncate(&value, VALUE_WIDTH))
        })
        .collect();
    Some(pairs.join(", "))
}

/// A tool result's text (a string, or text blocks), on one line, without
/// Claude Code's `<tool_use_error>` wrapper.
fn tool_error(content: &Value) -> String {
    let text = match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let text = text.trim();
    let text = text
        .strip_prefix("<tool_use_error>")
        .and_then(|t| t.strip_suffix("</tool_use_error>"))
        .unwrap_or(text);
    one_line(text)
}

/// `$6.31`, or `$0.0042` for less than a cent.
fn dollars(cost: f64) -> String {
    if cost > 0.0 && cost < 0.01 {
        format!("${cost:.4}")
    } else {
        format!("${cost:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_the_reader() {
        assert_eq!(
            without_controls(
                "a\u{1b}]52;c;ZXZpbA==\u{7}b\u{1b}[2Jc\u{1b}[31md\u{1b}[0m\re\u{0}f\u{9b}g\n\th"
            ),
            "abcdefg\n\th"
        );
        assert_eq!(without_controls("x\u{1b}]0;title\u{1b}\\y"), "xy");
    }
    use serde_json::json;

    #[test]
    fn reads_the_session_id_and_the_result() {
        let init = json!({"type": "system", "subtype": "init", "session_id": "abc"});
        assert_eq!(init_session_id(&init), Some("abc"));
        assert_eq!(result_text(&init), None);
        let result = json!({"type": "result", "subtype": "success", "result": "Done."});
        assert_eq!(result_text(&result), Some("Done."));
        assert_eq!(init_session_id(&result), None);
    }

    #[test]
    fn an_error_result_is_not_a_result_to_save() {
        let failed = json!({"type": "result", "subtype": "success", "is_error": true, "result": "Invalid API key"});
        assert!(result_failed(&failed));
        assert_eq!(result_text(&failed), None);
        let max_turns = json!({"type": "result", "subtype": "error_max_turns", "is_error": false});
        assert!(result_failed(&max_turns));
    }

    fn render(lines: &[&str]) -> String {
        let mut out = Vec::new();
        let mut renderer = LogRenderer::default();
        for line in lines {
            renderer.feed(line.as_bytes(), &mut out).unwrap();
            renderer.feed(b"\n", &mut out).unwrap();
        }
        renderer.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn tool(name: &str, input: &Value) -> String {
        json!({"type": "assistant", "message": {"content": [
            {"type": "tool_use", "id": format!("id-{name}"), "name": name, "input": input}
        ]}})
        .to_string()
    }

    #[test]
    fn one_line_per_tool_call() {
        let init = json!({"type": "system", "subtype": "init", "session_id": "s-1",
            "model": "claude-sonnet-4-5", "cwd": "/src/app"})
        .to_string();
        let lines = [
            init,
            tool(
                "Bash",
                &json!({"command": "cargo test \\\n  --all", "description": "Run tests"}),
            ),
            tool("Read", &json!({"file_path": "/src/app/src/main.rs"})),
            tool(
                "Edit",
                &json!({"file_path": "/elsewhere/x.rs", "old_string": "a", "new_string": "b"}),
            ),
            tool(
                "Grep",
                &json!({"pattern": "fn main", "path": "/src/app/src"}),
            ),
            tool("Glob", &json!({"pattern": "**/*.rs"})),
            tool(
                "Task",
                &json!({"description": "Find the tests", "prompt": "long…"}),
            ),
            tool(
                "WebFetch",
                &json!({"url": "https://example.com", "prompt": "x"}),
            ),
            tool("TodoWrite", &json!({"todos": [{}, {}, {}]})),
            tool(
                "mcp__scopecraft__task_get",
                &json!({"id": "fix-05A", "format": "full"}),
            ),
            tool(
                "mcp__github__create_issue",
                &json!({"title": "x".repeat(100), "labels": ["a"]}),
            ),
            tool("Frobnicate", &json!({})),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(
            render(&refs),
            format!(
                "── session s-1 · claude-sonnet-4-5 · /src/app\n\
                 → Bash: cargo test \\ --all\n\
                 → Read: src/main.rs\n\
                 → Edit: /elsewhere/x.rs\n\
                 → Grep: fn main in src\n\
                 → Glob: **/*.rs\n\
                 → Task: Find the tests\n\
                 → WebFetch: https://example.com\n\
                 → TodoWrite: 3 items\n\
                 → scopecraft.task_get: id=fix-05A, format=full\n\
                 → github.create_issue: title={}…, labels=[\"a\"]\n\
                 → Frobnicate\n",
                "x".repeat(59)
            )
        );
    }

    #[test]
    fn text_tool_errors_and_the_result() {
        let lines = [
            json!({"type": "assistant", "message": {"content": [
                {"type": "thinking", "thinking": "hidden"},
                {"type": "text", "text": "Let me look.\n\nTwo paragraphs."},
                {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "/x"}},
                {"type": "tool_use", "id": "t2", "name": "Bash", "input": {"command": "ls"}}
            ]}})
            .to_string(),
            json!({"type": "user", "message": {"content": [
                {"type": "tool_result", "tool_use_id": "t1", "is_error": true,
                 "content": "<tool_use_error>File does not exist.</tool_use_error>"},
                {"type": "tool_result", "tool_use_id": "t2", "content": "fine"}
            ]}})
            .to_string(),
            "Error: something on stderr".to_string(),
            json!({"type": "result", "subtype": "success", "is_error": false, "num_turns": 1,
                   "duration_ms": 436539, "total_cost_usd": 0.0042, "result": "Done."})
            .to_string(),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(
            render(&refs),
            "Let me look.\n\nTwo paragraphs.\n\
             → Read: /x\n\
             → Bash: ls\n\
             \x20 ✗ Read: File does not exist.\n\
             Error: something on stderr\n\
             \n\
             ✓ result: success, 1 turn, 7m 16s, $0.0042\n"
        );
    }

    #[test]
    fn a_failed_result_says_why_whatever_its_subtype() {
        let failed = json!({"type": "result", "subtype": "success", "is_error": true,
            "num_turns": 2, "cost_usd": 1.5, "result": "Credit balance is too low"})
        .to_string();
        assert_eq!(
            render(&[&failed]),
            "✗ result: error, 2 turns, $1.50\n  Credit balance is too low\n"
        );
        let max = json!({"type": "result", "subtype": "error_max_turns", "is_error": true,
            "num_turns": 40, "total_cost": 3.0})
        .to_string();
        assert_eq!(
            render(&[&max]),
            "✗ result: error_max_turns, 40 turns, $3.00\n"
        );
    }

    #[test]
    fn other_lines_as_they_are_less_escape_sequences() {
        assert_eq!(
            render(&["plain", "\x1b[31mred\x1b[0m\r", "{not json", "", "[1, 2]"]),
            "plain\nred\n{not json\n[1, 2]\n"
        );
        // JSON events we do not show stay quiet.
        assert_eq!(render(&[r#"{"type":"stream_event","event":{}}"#]), "");
    }

    #[test]
    fn chunks_of_any_size_and_a_missing_last_newline() {
        let text = format!(
            "{}\nplain\n{}",
            json!({"type": "system", "subtype": "init", "session_id": "s"}),
            json!({"type": "result", "subtype": "success", "num_turns": 3})
        );
        let whole = render(&[text.as_str()]);
        assert_eq!(whole, "── session s\nplain\n\n✓ result: success, 3 turns\n");
        for size in [1, 2, 7, 64] {
            let mut out = Vec::new();
            let mut renderer = LogRenderer::default();
            for chunk in text.as_bytes().chunks(size) {
                renderer.feed(chunk, &mut out).unwrap();
            }
            renderer.finish(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), whole, "chunks of {size}");
        }
    }

    #[test]
    fn a_line_too_long_to_keep_is_counted_not_kept() {
        let mut out = Vec::new();
        let mut renderer = LogRenderer::default();
        let block = vec![b'x'; 1024 * 1024];
        for _ in 0..9 {
            renderer.feed(&block, &mut out).unwrap();
        }
        assert!(renderer.line.capacity() <= MAX_LINE, "memory stays bounded");
        renderer.feed(b"\nafter\n", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[a line of 9437184 bytes, too long to show; see --raw]\nafter\n"
        );
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/agent-streams/{name}.jsonl",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// What the supervisor learns from a whole stream.
    fn read(stream: &str) -> (Vec<String>, Option<String>) {
        let mut reader = StreamReader::default();
        let ids = stream
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|e| reader.note(&e))
            .collect();
        (ids, reader.result_text)
    }

    #[test]
    fn reads_each_agents_conversation_id_and_final_answer() {
        assert_eq!(
            read(&fixture("codex")),
            (
                vec!["0199a213-81c0-7800-8aa1-bbab2a035a53".to_string()],
                Some(
                    "Fixed: `token` is now read from the session, and the login tests pass.".into()
                )
            )
        );
        assert_eq!(
            read(&fixture("gemini")),
            (
                vec!["5b1f0e3e-8d1c-4a7e-9a39-1f1b0c3f2a10".to_string()],
                Some(
                    "Fixed: `token` is now read from the session, and the login tests pass.".into()
                )
            ),
            "the text after the last tool call, its chunks joined"
        );
        // The real CLIs, offline: the id first, no answer.
        assert_eq!(
            read(&fixture("gemini-real-offline")),
            (
                vec!["bf7ff815-2973-4425-b7f1-83b5488a50c9".to_string()],
                None
            )
        );
        let (ids, answer) = read(&fixture("codex-real-offline"));
        assert_eq!((ids.len(), answer), (1, None));
        // A failed run has no answer to save.
        assert_eq!(read(&fixture("codex-failed")).1, None);
        assert_eq!(read(&fixture("gemini-failed")).1, None);
        let claude = format!(
            "{}\n{}",
            json!({"type": "system", "subtype": "init", "session_id": "c-1"}),
            json!({"type": "result", "subtype": "success", "result": "Done."})
        );
        assert_eq!(
            read(&claude),
            (vec!["c-1".to_string()], Some("Done.".into()))
        );
    }

    /// Codex's and Gemini's streams for people: text, one line per tool
    /// call, failures, the result with its usage.
    #[test]
    fn renders_codex_and_gemini_streams() {
        for name in [
            "codex",
            "codex-failed",
            "codex-real-offline",
            "gemini",
            "gemini-failed",
            "gemini-real-offline",
        ] {
            let stream = fixture(name);
            let lines: Vec<&str> = stream.lines().collect();
            let text = render(&lines);
            // Fed in odd chunks, the same.
            let mut out = Vec::new();
            let mut renderer = LogRenderer::default();
            for chunk in stream.as_bytes().chunks(5) {
                renderer.feed(chunk, &mut out).unwrap();
            }
            renderer.finish(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), text, "{name} in chunks");
            insta::assert_snapshot!(format!("agent-stream-{name}"), text);
        }
    }

    #[test]
    fn streamed_text_ends_its_line_before_anything_else() {
        let chunk = |text: &str| {
            json!({"type": "message", "role": "assistant", "content": text, "delta": true})
                .to_string()
        };
        assert_eq!(
            render(&[
                &chunk("Hel"),
                &chunk("lo"),
                "stderr line",
                &chunk("\nAgain")
            ]),
            "Hello\nstderr line\n\nAgain\n"
        );
    }

    /// The real logs of Scopecraft's autonomous runs (tests/fixtures).
    #[test]
    fn renders_the_real_logs() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/scopecraft-sessions/.tasks/.autonomous-sessions/logs"
        );
        for name in [
            "task-test-feedback-flow-05B-1748658020078",
            "task-test-feedback-flow-05B-1748658194681",
        ] {
            let log = std::fs::read(format!("{dir}/{name}.log")).unwrap();
            let mut out = Vec::new();
            let mut renderer = LogRenderer::default();
            renderer.feed(&log, &mut out).unwrap();
            renderer.finish(&mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            // Every tool call is one line; the errors and the result are there.
            let calls = log
                .split(|b| *b == b'\n')
                .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
                .flat_map(|e| content(&e).to_vec())
                .filter(|b| b["type"] == "tool_use")
                .count();
            assert_eq!(text.lines().filter(|l| l.starts_with("→ ")).count(), calls);
            assert!(text.contains("✓ result: success"), "{name}");
            insta::assert_snapshot!(name, text);
        }
    }
}
