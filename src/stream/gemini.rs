//! Gemini CLI's `--output-format stream-json`: `init` (its `session_id` is
//! the conversation), `message` (user and assistant text, the assistant's
//! in `delta` chunks), `tool_use`, `tool_result`, `error` (with a
//! severity), and `result` (a status and the run's stats). The shapes are
//! those of `packages/core/src/output/types.ts` in google-gemini/gemini-cli
//! and its docs/cli/headless.md.

use std::io::{self, Write};
use std::time::Duration;

use serde_json::Value;

use super::{Last, Renderer, TOOL_WIDTH, one_line, short_input, text};
use crate::output;

/// Gemini's `result` has a `status`; Claude Code's a `subtype`.
pub(super) fn is_result(event: &Value) -> bool {
    event.get("status").is_some() && event.get("subtype").is_none()
}

/// Gemini's `error` has a `severity`; Codex's only a `message`.
pub(super) fn is_error(event: &Value) -> bool {
    event.get("severity").is_some()
}

/// A chunk of streamed assistant text.
pub(super) fn is_delta(event: &Value) -> bool {
    text(event, "role") == Some("assistant")
        && event.get("delta").and_then(Value::as_bool) == Some(true)
}

impl Renderer {
    pub(super) fn gemini(
        &mut self,
        kind: &str,
        event: &Value,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        match kind {
            "init" => {
                self.pending.clear();
                self.gap(out, Last::Header)?;
                let mut header = format!("── session {}", text(event, "session_id").unwrap_or("?"));
                if let Some(model) = text(event, "model") {
                    header.push_str(" · ");
                    header.push_str(model);
                }
                writeln!(out, "{header}")?;
            }
            "message" => {
                let said = text(event, "content").unwrap_or_default();
                match text(event, "role") {
                    Some("user") => self.user_text(said, out)?,
                    _ if is_delta(event) => {
                        if said.is_empty() {
                            return Ok(());
                        }
                        if !self.open_text {
                            // The first chunk: no leading blank lines.
                            let said = said.trim_start_matches('\n');
                            if said.is_empty() {
                                return Ok(());
                            }
                            self.gap(out, Last::Text)?;
                            write!(out, "{said}")?;
                        } else {
                            write!(out, "{said}")?;
                        }
                        self.open_text = !said.ends_with('\n');
                    }
                    _ => {
                        let said = said.trim_matches('\n').trim_end();
                        if !said.is_empty() {
                            self.gap(out, Last::Text)?;
                            writeln!(out, "{said}")?;
                        }
                    }
                }
            }
            "tool_use" => {
                let name = text(event, "tool_name").unwrap_or("?");
                if let Some(id) = text(event, "tool_id") {
                    self.pending.insert(id.to_string(), name.to_string());
                }
                let input = event.get("parameters").unwrap_or(&Value::Null);
                let summary = [
                    "command",
                    "file_path",
                    "absolute_path",
                    "path",
                    "dir_path",
                    "pattern",
                    "query",
                    "url",
                ]
                .iter()
                .find_map(|key| text(input, key).map(|v| self.relative(v).to_string()))
                .map(|v| one_line(&v))
                .or_else(|| short_input(input))
                .filter(|s| !s.is_empty());
                self.gap(out, Last::Tool)?;
                match summary {
                    Some(summary) => {
                        writeln!(out, "→ {name}: {}", output::truncate(&summary, TOOL_WIDTH))?;
                    }
                    None => writeln!(out, "→ {name}")?,
                }
            }
            "tool_result" => {
                let name = text(event, "tool_id")
                    .and_then(|id| self.pending.remove(id))
                    .unwrap_or_else(|| "tool".to_string());
                if text(event, "status") != Some("error") {
                    return Ok(());
                }
                let message = event
                    .get("error")
                    .and_then(|e| text(e, "message"))
                    .or_else(|| text(event, "output"))
                    .unwrap_or("failed");
                self.error_line(&format!("  ✗ {name}:"), message, out)?;
            }
            "error" => {
                let mark = if text(event, "severity") == Some("warning") {
                    "!"
                } else {
                    "✗"
                };
                self.error_line(mark, text(event, "message").unwrap_or("?"), out)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// `✓ result: success, 3 tool calls, 12s, 1234 tokens (1000 in, 234 out)`.
    pub(super) fn gemini_result(&mut self, event: &Value, out: &mut dyn Write) -> io::Result<()> {
        let status = text(event, "status").unwrap_or("?");
        let mut parts = vec![status.to_string()];
        let stats = event.get("stats").unwrap_or(&Value::Null);
        let count = |key: &str| stats.get(key).and_then(Value::as_u64);
        if let Some(calls) = count("tool_calls") {
            parts.push(format!(
                "{calls} tool call{}",
                if calls == 1 { "" } else { "s" }
            ));
        }
        if let Some(ms) = count("duration_ms") {
            parts.push(output::duration(Duration::from_millis(ms)));
        }
        if let Some(total) = count("total_tokens") {
            let mut tokens = format!("{total} tokens");
            if let (Some(input), Some(output)) = (count("input_tokens"), count("output_tokens")) {
                let cached = count("cached")
                    .filter(|c| *c > 0)
                    .map(|c| format!(", {c} cached"))
                    .unwrap_or_default();
                tokens.push_str(&format!(" ({input} in{cached}, {output} out)"));
            }
            parts.push(tokens);
        }
        let failed = status != "success";
        self.gap(out, Last::Result)?;
        writeln!(
            out,
            "{} result: {}",
            if failed { '✗' } else { '✓' },
            parts.join(", ")
        )?;
        if failed && let Some(message) = event.get("error").and_then(|e| text(e, "message")) {
            for line in message.trim().lines() {
                writeln!(out, "  {line}")?;
            }
        }
        Ok(())
    }
}
