//! Codex CLI's `codex exec --json`: `thread.started` (its `thread_id` is
//! the conversation), `turn.started`, `item.started` / `item.updated` /
//! `item.completed` (agent messages, reasoning, commands, file changes, MCP
//! tool calls, web searches, the to-do list, errors), `turn.completed`
//! with the token usage, `turn.failed`, and `error`. The shapes are those
//! of `codex-rs/exec/src/exec_events.rs` in the openai/codex repository.

use std::io::{self, Write};

use serde_json::Value;

use super::{ERROR_WIDTH, Last, Renderer, TOOL_WIDTH, one_line, short_input, text};
use crate::output;

/// Whether `kind` is one of Codex's event types.
pub(super) fn is_event(kind: &str) -> bool {
    kind == "error"
        || kind.starts_with("thread.")
        || kind.starts_with("turn.")
        || kind.starts_with("item.")
}

impl Renderer {
    pub(super) fn codex(
        &mut self,
        kind: &str,
        event: &Value,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let item = event.get("item").unwrap_or(&Value::Null);
        match kind {
            "thread.started" => {
                self.pending.clear();
                self.gap(out, Last::Header)?;
                writeln!(out, "── thread {}", text(event, "thread_id").unwrap_or("?"))?;
            }
            "item.started" => {
                // A call shows when it starts; its end shows only if it failed.
                if let Some(call) = codex_call(item) {
                    if let Some(id) = text(item, "id") {
                        self.pending.insert(id.to_string(), call.0.clone());
                    }
                    self.gap(out, Last::Tool)?;
                    writeln!(out, "→ {}", call.1)?;
                }
            }
            "item.completed" => self.codex_item(item, out)?,
            "turn.completed" => {
                self.gap(out, Last::Result)?;
                writeln!(out, "✓ turn completed{}", usage(event.get("usage")))?;
            }
            "turn.failed" => {
                let message = event
                    .get("error")
                    .and_then(|e| text(e, "message"))
                    .unwrap_or("no reason given");
                self.gap(out, Last::Result)?;
                writeln!(out, "✗ turn failed{}", usage(event.get("usage")))?;
                for line in message.trim().lines() {
                    writeln!(out, "  {line}")?;
                }
            }
            // Also what a run that goes on says ("Reconnecting... 2/5"):
            // a failed turn is `turn.failed`.
            "error" => {
                let message = text(event, "message").unwrap_or("?");
                self.error_line("!", message, out)?;
            }
            // turn.started, item.updated: nothing a reader needs.
            _ => {}
        }
        Ok(())
    }

    fn codex_item(&mut self, item: &Value, out: &mut dyn Write) -> io::Result<()> {
        let started = text(item, "id").and_then(|id| self.pending.remove(id));
        match text(item, "type") {
            Some("agent_message") => {
                let said = text(item, "text")
                    .unwrap_or_default()
                    .trim_matches('\n')
                    .trim_end();
                if !said.is_empty() {
                    self.gap(out, Last::Text)?;
                    writeln!(out, "{said}")?;
                }
            }
            Some("error") => {
                self.error_line("  !", text(item, "message").unwrap_or("?"), out)?;
            }
            _ => {
                let Some((name, line)) = codex_call(item) else {
                    // Reasoning: as Claude Code's thinking, not shown.
                    return Ok(());
                };
                if started.is_none() {
                    self.gap(out, Last::Tool)?;
                    writeln!(out, "→ {line}")?;
                }
                if let Some(why) = failure(item) {
                    self.gap(out, Last::Tool)?;
                    writeln!(out, "  ✗ {name}: {}", output::truncate(&why, ERROR_WIDTH))?;
                }
            }
        }
        Ok(())
    }
}

/// A tool-like item: its name, and its one-line summary.
fn codex_call(item: &Value) -> Option<(String, String)> {
    let (name, summary) = match text(item, "type")? {
        "command_execution" => ("shell".to_string(), text(item, "command").map(one_line)),
        "file_change" => {
            let changes = item.get("changes").and_then(Value::as_array)?;
            let listed: Vec<String> = changes
                .iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        text(c, "kind").unwrap_or("update"),
                        text(c, "path").unwrap_or("?")
                    )
                })
                .collect();
            ("edit".to_string(), Some(listed.join(", ")))
        }
        "mcp_tool_call" => (
            format!(
                "{}.{}",
                text(item, "server").unwrap_or("mcp"),
                text(item, "tool").unwrap_or("?")
            ),
            item.get("arguments").and_then(short_input),
        ),
        "web_search" => ("web search".to_string(), text(item, "query").map(one_line)),
        "todo_list" => {
            let items = item.get("items").and_then(Value::as_array)?;
            let done = items
                .iter()
                .filter(|i| i.get("completed").and_then(Value::as_bool) == Some(true))
                .count();
            (
                "todo".to_string(),
                Some(format!(
                    "{} item{}, {done} done",
                    items.len(),
                    if items.len() == 1 { "" } else { "s" }
                )),
            )
        }
        _ => return None,
    };
    let line = match summary.filter(|s| !s.is_empty()) {
        Some(summary) => format!("{name}: {}", output::truncate(&summary, TOOL_WIDTH)),
        None => name.clone(),
    };
    Some((name, line))
}

/// Why a completed item failed, if it did: a command's exit code and the
/// first line of its output, a failed status, an MCP error.
fn failure(item: &Value) -> Option<String> {
    if let Some(message) = item.get("error").and_then(|e| text(e, "message")) {
        return Some(one_line(message));
    }
    let code = item.get("exit_code").and_then(Value::as_i64);
    let status = text(item, "status");
    if code.is_some_and(|c| c != 0) || matches!(status, Some("failed" | "declined")) {
        let mut why = match code {
            Some(code) if code != 0 => format!("exit {code}"),
            _ => status.unwrap_or("failed").to_string(),
        };
        if let Some(first) = text(item, "aggregated_output")
            .and_then(|o| o.lines().map(str::trim).find(|l| !l.is_empty()))
        {
            why.push_str(": ");
            why.push_str(first);
        }
        return Some(why);
    }
    None
}

/// `: 1234 tokens in (1024 cached), 12 out`.
fn usage(usage: Option<&Value>) -> String {
    let Some(usage) = usage else {
        return String::new();
    };
    let count = |key: &str| usage.get(key).and_then(Value::as_u64);
    let Some(input) = count("input_tokens") else {
        return String::new();
    };
    let cached = count("cached_input_tokens")
        .filter(|c| *c > 0)
        .map(|c| format!(" ({c} cached)"))
        .unwrap_or_default();
    let output = count("output_tokens").unwrap_or(0);
    format!(": {input} tokens in{cached}, {output} out")
}
